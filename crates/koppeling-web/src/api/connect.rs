//! The activation link (product §8.1): `POST …/integrations/snelstart/connect`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use koppeling_domain::app::App;

use super::{PathParams, ok, path_adm};
use crate::AppState;
use crate::error::ApiError;

/// `POST /administraties/{adm}/integrations/snelstart/connect`: 200
/// `{"activation_url","reference_expires_at"}`, or 422 `connect_unavailable`.
#[utoipa::path(
    post,
    path = "/administraties/{adm}/integrations/snelstart/connect",
    params(super::AdmPath),
    tag = "integrations",
    responses(
        (status = 200, description = "An activation link (product §8.1): a fresh reference (256 random bits, stored hashed, valid 24 h)", body = crate::openapi::schemas::ConnectLink),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
        (status = 422, description = "The activation link is off: `snelstart.app_short_name` is not set (`connect_unavailable`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn connect<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    match state.service.connect(&adm).await? {
        Some(link) => Ok(ok(&link)),
        None => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "connect_unavailable",
            "the activation link is off: snelstart.app_short_name is not set",
        )),
    }
}
