//! Invoices with their sync state, the retry, the sync log and the notifications.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use koppeling_domain::app::App;
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::ports::{InvoiceFilter, SyncState, SyncStatus};
use koppeling_domain::readback::PaymentStatus;

use super::{PathParams, QueryParams, body, ok, page, path_adm, path_adm_id, put_answer, query};
use crate::AppState;
use crate::dto::{InvoiceResponse, PutInvoiceBody};
use crate::error::ApiError;

/// `PUT /administraties/{adm}/invoices/{id}`: 409 `invoice_locked` when it is synced or in
/// progress and the content changes, `outcome_unknown` while the outcome of its booking is
/// being looked up, `number_taken` (field `number`) when another final invoice has the
/// number.
#[utoipa::path(
    put,
    path = "/administraties/{adm}/invoices/{id}",
    params(super::AdmIdPath),
    request_body = crate::dto::PutInvoiceBody,
    tag = "invoices",
    responses(
        (status = 200, description = "Replaced", body = crate::dto::InvoiceResponse),
        (status = 201, description = "Created", body = crate::dto::InvoiceResponse),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "`invoice_locked` (synced or in progress and the content changes), `outcome_unknown` (the outcome of its booking is being looked up), `number_taken` (another final invoice has the number)", body = crate::error::ErrorBody),
        (status = 422, description = "A rule is broken (`required`, `id_mismatch`, an unknown `relation_id`, …); `problems` lists every one", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn put_invoice<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let (adm, id) = path_adm_id(params)?;
    let invoice = body::<PutInvoiceBody>(&bytes)?.into_domain(id.clone())?;
    // The answer is built from what was written: no read-back.
    let (put, sync) = state.service.put_invoice(&adm, &invoice).await?;
    // A new invoice has no documents yet; a replaced one shows those it has.
    let documents = match put {
        koppeling_domain::ports::Put::Created => Vec::new(),
        koppeling_domain::ports::Put::Replaced => state.service.documents(&adm, &id).await?,
    };
    Ok(put_answer(
        put,
        &with_documents(&InvoiceResponse::new(&invoice, sync.as_ref()), &documents),
    ))
}

/// `GET /administraties/{adm}/invoices/{id}`.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/invoices/{id}",
    params(super::AdmIdPath),
    tag = "invoices",
    responses(
        (status = 200, description = "The invoice with totals, sync state, payment and drift", body = crate::dto::InvoiceResponse),
        (status = 404, description = "No such administratie or invoice (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn get_invoice<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let (adm, id) = path_adm_id(params)?;
    invoice_answer(&state, &adm, &id).await
}

/// 200 with the invoice as stored now (its totals, sync state, payment and drift).
pub(crate) async fn invoice_answer<P: App>(
    state: &AppState<P>,
    adm: &AdministratieCode,
    id: &ResourceId,
) -> Result<Response, ApiError> {
    let (invoice, sync) = state
        .service
        .invoice(adm, id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("invoice {id}")))?;
    let documents = state.service.documents(adm, id).await?;
    Ok(ok(&with_documents(
        &InvoiceResponse::new(&invoice, sync.as_ref()),
        &documents,
    )))
}

/// The invoice JSON with its `documents[]` (product §8.4); only the answers about one
/// invoice carry them, so a listing never reads the documents table.
pub(crate) fn with_documents(
    invoice: &InvoiceResponse,
    documents: &[koppeling_domain::document::Document],
) -> serde_json::Value {
    let mut json = serde_json::to_value(invoice).unwrap_or_default();
    if let serde_json::Value::Object(m) = &mut json {
        let docs: Vec<super::documents::DocumentResponse> =
            documents.iter().map(Into::into).collect();
        m.insert(
            "documents".into(),
            serde_json::to_value(docs).unwrap_or_default(),
        );
    }
    json
}

/// The query of the invoice list.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct InvoiceListQuery {
    /// Only invoices with this sync status; empty is no filter.
    #[param(value_type = Option<crate::openapi::schemas::SyncStatusFilter>)]
    status: Option<String>,
    /// Only invoices with this payment status; empty is no filter.
    #[param(value_type = Option<crate::openapi::schemas::PaymentFilter>)]
    payment: Option<String>,
    /// Only invoices with drift (`true`); `false` or empty is no filter.
    #[param(value_type = Option<crate::openapi::schemas::BoolFilter>)]
    drift: Option<String>,
    /// The page, from 1.
    #[param(minimum = 1, maximum = 4294967295_u64, default = 1)]
    page: Option<u32>,
}

/// The query of the sync log.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct SyncLogQuery {
    /// `failed` for the failed attempts only; empty is no filter.
    #[param(value_type = Option<crate::openapi::schemas::FailedFilter>)]
    status: Option<String>,
    /// Only the attempts of this invoice.
    invoice_id: Option<String>,
    /// At most this many (500 when absent).
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<u32>,
}

/// The query of the notifications.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct NotificationsQuery {
    /// At most this many (100 when absent).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Reads `?status=` as a sync status.
pub(crate) fn status_filter(q: &HashMap<String, String>) -> Result<Option<SyncStatus>, ApiError> {
    match q.get("status").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(raw) => SyncStatus::parse(raw).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!(
                    "status {raw:?} is not a sync status; use queued, in_progress, synced, failed or skipped."
                ),
            )
            .with_field("status")
        }),
    }
}

/// Reads `?payment=` (product §8.2).
fn payment_filter(q: &HashMap<String, String>) -> Result<Option<PaymentStatus>, ApiError> {
    match q.get("payment").map(String::as_str) {
        None | Some("") => Ok(None),
        Some("open") => Ok(Some(PaymentStatus::Open)),
        Some("partially_paid") => Ok(Some(PaymentStatus::PartiallyPaid)),
        Some("paid") => Ok(Some(PaymentStatus::Paid)),
        Some(raw) => Err(ApiError::bad_request(
            "invalid_query",
            format!("payment {raw:?} is not a payment status; use open, partially_paid or paid."),
        )
        .with_field("payment")),
    }
}

/// Reads `?drift=true|false`.
fn drift_filter(q: &HashMap<String, String>) -> Result<bool, ApiError> {
    match q.get("drift").map(String::as_str) {
        None | Some("" | "false") => Ok(false),
        Some("true") => Ok(true),
        Some(raw) => Err(ApiError::bad_request(
            "invalid_query",
            format!("drift {raw:?} must be true or false."),
        )
        .with_field("drift")),
    }
}

/// `GET /administraties/{adm}/invoices?status=&payment=&drift=&page=`: newest first, 100 a
/// page.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/invoices",
    params(super::AdmPath, InvoiceListQuery),
    tag = "invoices",
    responses(
        (status = 200, description = "Invoices, newest first, 100 a page", body = Vec<crate::dto::InvoiceResponse>),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn list_invoices<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let q = query(q)?;
    let filter = InvoiceFilter {
        status: status_filter(&q)?,
        payment: payment_filter(&q)?,
        drift: drift_filter(&q)?,
        ..InvoiceFilter::default()
    };
    let page = page(&q)?;
    state.service.get_administratie(&adm).await?;
    let invoices = state.service.invoices(&adm, &filter, page).await?;
    let list: Vec<InvoiceResponse> = invoices
        .iter()
        .map(|(invoice, sync)| InvoiceResponse::new(invoice, sync.as_ref()))
        .collect();
    Ok(ok(&list))
}

/// `POST /administraties/{adm}/invoices/{id}/retry`: re-queues a failed invoice and answers
/// with the invoice; 409 `not_failed` otherwise.
#[utoipa::path(
    post,
    path = "/administraties/{adm}/invoices/{id}/retry",
    params(super::AdmIdPath),
    tag = "invoices",
    responses(
        (status = 200, description = "Re-queued", body = crate::dto::InvoiceResponse),
        (status = 404, description = "No such administratie or invoice (`not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "The invoice has not failed (`not_failed`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn retry_invoice<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let (adm, id) = path_adm_id(params)?;
    // The answer shows what this request wrote (queued), not what the worker, woken by
    // it, may already have made of it.
    let sync = state.service.retry_invoice(&adm, &id).await?;
    invoice_answer_with(&state, &adm, &id, sync).await
}

/// 200 with the invoice as stored now, and `sync`: the state the request itself wrote.
pub(crate) async fn invoice_answer_with<P: App>(
    state: &AppState<P>,
    adm: &AdministratieCode,
    id: &ResourceId,
    sync: SyncState,
) -> Result<Response, ApiError> {
    let (invoice, _) = state
        .service
        .invoice(adm, id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("invoice {id}")))?;
    let documents = state.service.documents(adm, id).await?;
    Ok(ok(&with_documents(
        &InvoiceResponse::new(&invoice, Some(&sync)),
        &documents,
    )))
}

fn limit(q: &HashMap<String, String>, default: u32, max: u32) -> Result<u32, ApiError> {
    match q.get("limit").map(String::as_str) {
        None | Some("") => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("limit must be a whole number from 1 to {max}."),
                )
                .with_field("limit")
            }),
    }
}

/// `GET /administraties/{adm}/sync-log?status=failed&invoice_id=&limit=`: attempts, newest
/// first.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/sync-log",
    params(super::AdmPath, SyncLogQuery),
    tag = "invoices",
    responses(
        (status = 200, description = "Sync attempts, newest first", body = Vec<crate::openapi::schemas::SyncLogEntry>),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn sync_log<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let q = query(q)?;
    let only_failed = match q.get("status").map(String::as_str) {
        None | Some("") => false,
        Some("failed") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("status {other:?} cannot filter the sync log; use status=failed."),
            )
            .with_field("status"));
        }
    };
    let limit = limit(&q, 500, 5000)?;
    let invoice_id = q.get("invoice_id").filter(|s| !s.is_empty()).cloned();
    state.service.get_administratie(&adm).await?;
    let store = &state.service;
    let rows = match invoice_id {
        Some(invoice_id) => {
            store
                .invoice_sync_log(&adm, &invoice_id, only_failed, limit)
                .await?
        }
        None => store.sync_log(&adm, only_failed, limit).await?,
    };
    Ok(ok(&rows))
}

/// `GET /administraties/{adm}/notifications`: what was sent to the Beheerder, newest first.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/notifications",
    params(super::AdmPath, NotificationsQuery),
    tag = "invoices",
    responses(
        (status = 200, description = "Notifications to the Beheerder with their delivery state, newest first", body = Vec<crate::openapi::schemas::Notification>),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn notifications<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let q = query(q)?;
    let limit = limit(&q, 100, 1000)?;
    state.service.get_administratie(&adm).await?;
    let rows = state.service.notifications(&adm, limit).await?;
    Ok(ok(&rows))
}
