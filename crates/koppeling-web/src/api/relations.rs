//! Relations (debtors) and their SnelStart tick.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use koppeling_domain::app::App;

use super::{PathParams, QueryParams, body, ok, page, path_adm, path_adm_id, put_answer, query};
use crate::AppState;
use crate::dto::{PutRelationBody, PutSnelstartBody, RelationResponse};
use crate::error::ApiError;

/// `PUT /administraties/{adm}/relations/{id}`.
#[utoipa::path(
    put,
    path = "/administraties/{adm}/relations/{id}",
    params(super::AdmIdPath),
    request_body = crate::dto::PutRelationBody,
    tag = "relations",
    responses(
        (status = 200, description = "Replaced", body = crate::dto::RelationResponse),
        (status = 201, description = "Created", body = crate::dto::RelationResponse),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "Conflicts with the sync state (the relation is being sent to SnelStart)", body = crate::error::ErrorBody),
        (status = 422, description = "A rule is broken (`required`, `invalid_country`, `invalid_iban`: the IBAN checksum, `invalid_vat_number`); `problems` lists every one", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn put_relation<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let (adm, id) = path_adm_id(params)?;
    let relation = body::<PutRelationBody>(&bytes)?.into_domain(id.clone());
    let put = state.service.put_relation(&adm, &relation).await?;
    let stored = state.service.relation(&adm, &id).await?.unwrap_or(relation);
    Ok(put_answer(put, &RelationResponse::from(&stored)))
}

/// `GET /administraties/{adm}/relations/{id}`.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/relations/{id}",
    params(super::AdmIdPath),
    tag = "relations",
    responses(
        (status = 200, description = "The relation", body = crate::dto::RelationResponse),
        (status = 404, description = "No such administratie or relation (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn get_relation<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let (adm, id) = path_adm_id(params)?;
    state.service.get_administratie(&adm).await?;
    let relation = state
        .service
        .relation(&adm, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("relation {id}")))?;
    Ok(ok(&RelationResponse::from(&relation)))
}

/// `GET /administraties/{adm}/relations?page=N`, ordered by code, 100 a page.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/relations",
    params(super::AdmPath, super::PageQuery),
    tag = "relations",
    responses(
        (status = 200, description = "The relations by code, 100 a page", body = Vec<crate::dto::RelationResponse>),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn list_relations<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    // Paged as the invoice list is (issue 13): `?page=N`, 100 a page, ordered by code.
    let page = page(&query(q)?)?;
    state.service.get_administratie(&adm).await?;
    let (relations, _total) = state.service.relations_page(&adm, "", page, 100).await?;
    let list: Vec<RelationResponse> = relations.iter().map(RelationResponse::from).collect();
    Ok(ok(&list))
}

/// `PUT /administraties/{adm}/relations/{id}/snelstart`: 422 with the reason when the code
/// is not numeric, 409 when another ticked relation has the same relatiecode.
#[utoipa::path(
    put,
    path = "/administraties/{adm}/relations/{id}/snelstart",
    params(super::AdmIdPath),
    request_body = crate::dto::PutSnelstartBody,
    tag = "relations",
    responses(
        (status = 200, description = "Ticked or un-ticked", body = crate::dto::RelationResponse),
        (status = 404, description = "No such administratie or relation (`not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "Another ticked relation has the same relatiecode (`code_taken`)", body = crate::error::ErrorBody),
        (status = 422, description = "The stored relation cannot be sent to SnelStart (e.g. its code is not numeric); `problems` lists every reason", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn put_snelstart<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let (adm, id) = path_adm_id(params)?;
    let wanted = body::<PutSnelstartBody>(&bytes)?;
    let relation = state
        .service
        .set_relation_snelstart(&adm, &id, wanted.enabled)
        .await?;
    Ok(ok(&RelationResponse::from(&relation)))
}
