//! The SnelStart koppeling: settings (the key write-only), activation and the overview.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use koppeling_domain::app::App;
use serde::Serialize;

use super::{PathParams, body, ok, path_adm, put_answer};
use crate::AppState;
use crate::dto::{IntegrationResponse, PutSettingsBody};
use crate::error::{ApiError, ProblemJson};

/// `GET /administraties/{adm}/integrations`: the overview of all koppelingen.
pub(crate) async fn list<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let overview = state.service.overview(&adm).await?;
    Ok(ok(&[IntegrationResponse::from(overview)]))
}

/// `GET /administraties/{adm}/integrations/snelstart`.
pub(crate) async fn get<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let overview = state.service.overview(&adm).await?;
    Ok(ok(&IntegrationResponse::from(overview)))
}

/// `PUT /administraties/{adm}/integrations/snelstart`: answers with `key_set`, never the key.
pub(crate) async fn put_settings<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let (settings, key) = body::<PutSettingsBody>(&bytes)?.into_domain()?;
    let put = state.service.put_koppeling(&adm, &settings, key).await?;
    let overview = state.service.overview(&adm).await?;
    Ok(put_answer(put, &IntegrationResponse::from(overview)))
}

/// `POST …/integrations/snelstart/activate`: 200 with the overview entry, or 422
/// `activation_failed` with the problems.
pub(crate) async fn activate<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let overview = state.service.activate(&adm).await?;
    Ok(ok(&IntegrationResponse::from(overview)))
}

/// `POST …/integrations/snelstart/deactivate`.
pub(crate) async fn deactivate<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let overview = state.service.deactivate(&adm).await?;
    Ok(ok(&IntegrationResponse::from(overview)))
}

#[derive(Serialize)]
struct CheckResponse {
    ok: bool,
    problems: Vec<ProblemJson>,
}

/// `POST …/integrations/snelstart/check`: the activation checks without activating.
pub(crate) async fn check<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let problems = state.service.check(&adm).await?;
    Ok(ok(&CheckResponse {
        ok: problems.is_empty(),
        problems: problems.iter().map(ProblemJson::from).collect(),
    }))
}
