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
#[utoipa::path(
    get,
    path = "/administraties/{adm}/integrations",
    params(super::AdmPath),
    tag = "integrations",
    responses(
        (status = 200, description = "The koppelingen overview", body = Vec<crate::dto::IntegrationResponse>),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn list<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let overview = state.service.overview(&adm).await?;
    Ok(ok(&[IntegrationResponse::from(overview)]))
}

/// `GET /administraties/{adm}/integrations/snelstart`.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/integrations/snelstart",
    params(super::AdmPath),
    tag = "integrations",
    responses(
        (status = 200, description = "The SnelStart koppeling and its settings (never the key)", body = crate::dto::IntegrationResponse),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn get<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let overview = state.service.overview(&adm).await?;
    Ok(ok(&IntegrationResponse::from(overview)))
}

/// `PUT /administraties/{adm}/integrations/snelstart`: answers with `key_set`, never the key.
#[utoipa::path(
    put,
    path = "/administraties/{adm}/integrations/snelstart",
    params(super::AdmPath),
    request_body = crate::dto::PutSettingsBody,
    tag = "integrations",
    responses(
        (status = 200, description = "Replaced", body = crate::dto::IntegrationResponse),
        (status = 201, description = "Created", body = crate::dto::IntegrationResponse),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
        (status = 422, description = "A rule is broken (an unknown `notify_admin_id`, …); `problems` lists every one", body = crate::error::ErrorBody),
    )
)]
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
#[utoipa::path(
    post,
    path = "/administraties/{adm}/integrations/snelstart/activate",
    params(super::AdmPath),
    tag = "integrations",
    responses(
        (status = 200, description = "Activated", body = crate::dto::IntegrationResponse),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
        (status = 422, description = "The activation checks failed (`activation_failed`, with `problems`)", body = crate::error::ErrorBody),
        (status = 503, description = "SnelStart could not be reached (`unavailable`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn activate<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let overview = state.service.activate(&adm).await?;
    Ok(ok(&IntegrationResponse::from(overview)))
}

/// `POST …/integrations/snelstart/deactivate`.
#[utoipa::path(
    post,
    path = "/administraties/{adm}/integrations/snelstart/deactivate",
    params(super::AdmPath),
    tag = "integrations",
    responses(
        (status = 200, description = "Deactivated (queued invoices wait)", body = crate::dto::IntegrationResponse),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn deactivate<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let overview = state.service.deactivate(&adm).await?;
    Ok(ok(&IntegrationResponse::from(overview)))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Check)]
pub(crate) struct CheckResponse {
    ok: bool,
    problems: Vec<ProblemJson>,
}

/// `POST …/integrations/snelstart/check`: the activation checks without activating.
#[utoipa::path(
    post,
    path = "/administraties/{adm}/integrations/snelstart/check",
    params(super::AdmPath),
    tag = "integrations",
    responses(
        (status = 200, description = "The activation checks, run without activating", body = CheckResponse),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
        (status = 503, description = "SnelStart could not be reached (`unavailable`)", body = crate::error::ErrorBody),
    )
)]
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
