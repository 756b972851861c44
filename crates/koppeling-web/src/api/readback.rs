//! The read-back's API (product §8.2): booking a deleted invoice again, and the events feed
//! for Radar360.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use koppeling_domain::app::App;
use serde::Serialize;

use super::{PathParams, QueryParams, ok, path_adm, path_adm_id, query};
use crate::AppState;
use crate::error::ApiError;

/// `POST /administraties/{adm}/invoices/{id}/rebook`: books an invoice deleted in SnelStart
/// again, on purpose (exactly-once rules apply); 409 `not_deleted` otherwise.
#[utoipa::path(
    post,
    path = "/administraties/{adm}/invoices/{id}/rebook",
    params(super::AdmIdPath),
    tag = "invoices",
    responses(
        (status = 200, description = "Booked again", body = crate::dto::InvoiceResponse),
        (status = 404, description = "No such administratie or invoice (`not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "The invoice is not deleted in SnelStart (`not_deleted`), or another rule of exactly-once booking", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn rebook<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let (adm, id) = path_adm_id(params)?;
    // The answer shows what this request wrote (queued), not what the worker, woken by
    // it, may already have made of it.
    let sync = state.service.rebook(&adm, &id).await?;
    super::invoices::invoice_answer_with(&state, &adm, &id, sync).await
}

/// One event of the feed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Event)]
pub(crate) struct EventResponse {
    id: u64,
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::schemas::EventKind)]
    kind: &'static str,
    at: DateTime<Utc>,
    invoice_id: String,
    #[schema(value_type = Object)]
    data: serde_json::Value,
}

/// The query of the events feed.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct EventsQuery {
    /// Events after this id (0 when absent).
    #[param(minimum = 0, maximum = 18446744073709551615_u64)]
    after: Option<u64>,
    /// At most this many (100 when absent).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// `GET /administraties/{adm}/events?after=ID&limit=N`: ascending ids, gapless per
/// administratie; `after` defaults to 0, `limit` to 100, over 1000 is 400.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/events",
    params(super::AdmPath, EventsQuery),
    tag = "invoices",
    responses(
        (status = 200, description = "Events for Radar360, ascending gapless ids", body = Vec<EventResponse>),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn events<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let q = query(q)?;
    let after = match q.get("after").map(String::as_str) {
        None | Some("") => 0,
        Some(raw) => raw.parse::<u64>().map_err(|_| {
            ApiError::bad_request(
                "invalid_query",
                "after must be a whole number (an event id).",
            )
            .with_field("after")
        })?,
    };
    let limit = match q.get("limit").map(String::as_str) {
        None | Some("") => 100,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_query",
                    "limit must be a whole number from 1 to 1000.",
                )
                .with_field("limit")
            })?,
    };
    let events = state.service.events(&adm, after, limit).await?;
    let list: Vec<EventResponse> = events
        .into_iter()
        .map(|e| EventResponse {
            id: e.id,
            kind: e.kind.as_str(),
            at: e.at,
            invoice_id: e.invoice_id,
            data: serde_json::from_str(&e.data).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(ok(&list))
}
