//! Administraties and their Beheerders.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use koppeling_domain::app::App;
use secrecy::ExposeSecret;

use super::{PathParams, body, ok, path_adm, path_adm_id, put_answer};
use crate::AppState;
use crate::dto::{AdminResponse, AdministratieResponse, PutAdminBody, PutAdministratieBody};
use crate::error::ApiError;

/// `PUT /administraties/{adm}`.
#[utoipa::path(
    put,
    path = "/administraties/{adm}",
    params(super::AdmPath),
    request_body = crate::dto::PutAdministratieBody,
    tag = "administraties",
    responses(
        (status = 200, description = "Replaced", body = crate::dto::AdministratieResponse),
        (status = 201, description = "Created", body = crate::dto::AdministratieResponse),
        (status = 422, description = "A rule is broken (`required`: a blank name); `problems` lists every one", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn put_administratie<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let administratie = body::<PutAdministratieBody>(&bytes)?.into_domain(adm.clone());
    let put = state.service.put_administratie(&administratie).await?;
    let stored = state.service.get_administratie(&adm).await?;
    Ok(put_answer(put, &AdministratieResponse::from(&stored)))
}

/// `GET /administraties`: every administratie, by code.
#[utoipa::path(
    get,
    path = "/administraties",
    tag = "administraties",
    responses(
        (status = 200, description = "The administraties, by code", body = Vec<crate::dto::AdministratieResponse>),
    )
)]
pub(crate) async fn list_administraties<P: App>(
    State(state): State<AppState<P>>,
) -> Result<Response, ApiError> {
    let all = state.service.list_administraties().await?;
    let list: Vec<AdministratieResponse> = all.iter().map(AdministratieResponse::from).collect();
    Ok(ok(&list))
}

/// `GET /administraties/{adm}`.
#[utoipa::path(
    get,
    path = "/administraties/{adm}",
    params(super::AdmPath),
    tag = "administraties",
    responses(
        (status = 200, description = "The administratie", body = crate::dto::AdministratieResponse),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn get_administratie<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let stored = state.service.get_administratie(&adm).await?;
    Ok(ok(&AdministratieResponse::from(&stored)))
}

/// `PUT /administraties/{adm}/admins/{id}`: the password is hashed here and never shown.
#[utoipa::path(
    put,
    path = "/administraties/{adm}/admins/{id}",
    params(super::AdmIdPath),
    request_body = crate::dto::PutAdminBody,
    tag = "administraties",
    responses(
        (status = 200, description = "Replaced", body = crate::dto::AdminResponse),
        (status = 201, description = "Created", body = crate::dto::AdminResponse),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "Another Beheerder has this e-mail address (`email_taken`)", body = crate::error::ErrorBody),
        (status = 422, description = "A rule is broken (`invalid_password`, a blank name or e-mail); `problems` lists every one", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn put_admin<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let (adm, id) = path_adm_id(params)?;
    let (admin, password) = body::<PutAdminBody>(&bytes)?.into_domain(id.clone())?;
    let hash = match password {
        None => None,
        Some(password) => Some(hash_blocking(password.expose_secret().to_owned()).await?),
    };
    let put = state.service.put_admin(&adm, &admin, hash).await?;
    let stored = state.service.admin(&adm, &id).await?.unwrap_or(admin);
    Ok(put_answer(put, &AdminResponse::from(&stored)))
}

/// Hashes off the async runtime: Argon2 takes tens of milliseconds on purpose.
pub(crate) async fn hash_blocking(plain: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || crate::auth::hash_password(&plain))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| {
            let error: &(dyn std::error::Error + 'static) = e.as_ref();
            ApiError::internal(error)
        })
}

/// `GET /administraties/{adm}/admins/{id}`.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/admins/{id}",
    params(super::AdmIdPath),
    tag = "administraties",
    responses(
        (status = 200, description = "The Beheerder", body = crate::dto::AdminResponse),
        (status = 404, description = "No such administratie or Beheerder (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn get_admin<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let (adm, id) = path_adm_id(params)?;
    state.service.get_administratie(&adm).await?;
    let admin = state
        .service
        .admin(&adm, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("Beheerder {id}")))?;
    Ok(ok(&AdminResponse::from(&admin)))
}

/// `GET /administraties/{adm}/admins`.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/admins",
    params(super::AdmPath),
    tag = "administraties",
    responses(
        (status = 200, description = "The Beheerders", body = Vec<crate::dto::AdminResponse>),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn list_admins<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    state.service.get_administratie(&adm).await?;
    let admins = state.service.admins(&adm).await?;
    let list: Vec<AdminResponse> = admins.iter().map(AdminResponse::from).collect();
    Ok(ok(&list))
}
