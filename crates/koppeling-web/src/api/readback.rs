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
pub(crate) async fn rebook<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let (adm, id) = path_adm_id(params)?;
    state.service.rebook(&adm, &id).await?;
    super::invoices::invoice_answer(&state, &adm, &id).await
}

/// One event of the feed.
#[derive(Debug, Serialize)]
struct EventResponse {
    id: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    at: DateTime<Utc>,
    invoice_id: String,
    data: serde_json::Value,
}

/// `GET /administraties/{adm}/events?after=ID&limit=N`: ascending ids, gapless per
/// administratie; `after` defaults to 0, `limit` to 100, over 1000 is 400.
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
