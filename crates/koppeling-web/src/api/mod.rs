//! The JSON API under `/api/v1`: routes, path and query checks, and shared helpers.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use koppeling_domain::app::App;
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::ports::Put;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::{ApiToken, require_bearer};
use crate::dto::from_json;
use crate::error::ApiError;

pub(crate) mod admin;
pub(crate) mod documents;
pub(crate) mod integrations;
pub(crate) mod invoices;
pub(crate) mod readback;
pub(crate) mod reconciliation;
pub(crate) mod relations;

pub(crate) mod connect;

/// The `/api/v1` routes; everything but `openapi.json` needs the bearer token.
pub(crate) fn router<P>(state: AppState<P>, token: Arc<ApiToken>) -> Router
where
    P: App,
{
    Router::new()
        .route("/administraties", get(admin::list_administraties::<P>))
        .route(
            "/administraties/{adm}",
            put(admin::put_administratie::<P>).get(admin::get_administratie::<P>),
        )
        .route("/administraties/{adm}/admins", get(admin::list_admins::<P>))
        .route(
            "/administraties/{adm}/admins/{id}",
            put(admin::put_admin::<P>).get(admin::get_admin::<P>),
        )
        .route(
            "/administraties/{adm}/relations",
            get(relations::list_relations::<P>),
        )
        .route(
            "/administraties/{adm}/relations/{id}",
            put(relations::put_relation::<P>).get(relations::get_relation::<P>),
        )
        .route(
            "/administraties/{adm}/relations/{id}/snelstart",
            put(relations::put_snelstart::<P>),
        )
        .route(
            "/administraties/{adm}/relations/{id}/snelstart/preview",
            get(reconciliation::preview::<P>),
        )
        .route(
            "/administraties/{adm}/reconciliation",
            get(reconciliation::reconciliation::<P>),
        )
        .route(
            "/administraties/{adm}/invoices",
            get(invoices::list_invoices::<P>),
        )
        .route(
            "/administraties/{adm}/invoices/{id}",
            put(invoices::put_invoice::<P>).get(invoices::get_invoice::<P>),
        )
        .route(
            "/administraties/{adm}/invoices/{id}/documents/{kind}",
            put(documents::put_document::<P>)
                .get(documents::get_document::<P>)
                .delete(documents::delete_document::<P>)
                .layer(axum::extract::DefaultBodyLimit::max(
                    documents::MAX_DOCUMENT_BODY,
                )),
        )
        .route(
            "/administraties/{adm}/invoices/{id}/retry",
            post(invoices::retry_invoice::<P>),
        )
        .route(
            "/administraties/{adm}/invoices/{id}/rebook",
            post(readback::rebook::<P>),
        )
        .route("/administraties/{adm}/events", get(readback::events::<P>))
        .route(
            "/administraties/{adm}/sync-log",
            get(invoices::sync_log::<P>),
        )
        .route(
            "/administraties/{adm}/notifications",
            get(invoices::notifications::<P>),
        )
        .route(
            "/administraties/{adm}/integrations",
            get(integrations::list::<P>),
        )
        .route(
            "/administraties/{adm}/integrations/snelstart",
            put(integrations::put_settings::<P>).get(integrations::get::<P>),
        )
        .route(
            "/administraties/{adm}/integrations/snelstart/activate",
            post(integrations::activate::<P>),
        )
        .route(
            "/administraties/{adm}/integrations/snelstart/deactivate",
            post(integrations::deactivate::<P>),
        )
        .route(
            "/administraties/{adm}/integrations/snelstart/check",
            post(integrations::check::<P>),
        )
        .route(
            "/administraties/{adm}/integrations/snelstart/connect",
            post(connect::connect::<P>),
        )
        .route_layer(from_fn_with_state(token, require_bearer))
        .route("/openapi.json", get(crate::openapi::serve))
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::map_response(too_large_as_problem))
}

/// A body over [`crate::MAX_BODY_BYTES`] is refused by axum with a plain-text 413; the API
/// answers it in its own problem format.
async fn too_large_as_problem(response: Response) -> Response {
    let already_problem = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !already_problem {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "The request body is larger than {} bytes (2 MB); nothing was written.",
                crate::MAX_BODY_BYTES
            ),
        )
        .into_response()
    } else {
        response
    }
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no such API route; see /api/v1/openapi.json.",
    )
}

/// The path parameters of a route: `{adm}` and maybe `{id}`.
pub(crate) type PathParams = Result<Path<HashMap<String, String>>, PathRejection>;

/// Checks `{adm}` (`[a-z0-9-]{1,40}`) and, when present, `{id}` (`[A-Za-z0-9._-]{1,64}`).
pub(crate) fn path_ids(
    params: PathParams,
) -> Result<(AdministratieCode, Option<ResourceId>), ApiError> {
    let Path(params) = params.map_err(|e| {
        ApiError::bad_request("invalid_path", format!("The path cannot be read: {e}."))
    })?;
    let adm_raw = params.get("adm").map(String::as_str).unwrap_or_default();
    let adm = AdministratieCode::parse(adm_raw).map_err(|p| {
        ApiError::bad_request("invalid_path", crate::error::sentence(&p.message()))
            .with_field("administratie")
    })?;
    let id = match params.get("id") {
        None => None,
        Some(raw) => Some(ResourceId::parse(raw).map_err(|p| {
            ApiError::bad_request("invalid_path", crate::error::sentence(&p.message()))
                .with_field("id")
        })?),
    };
    Ok((adm, id))
}

/// As [`path_ids`] for routes that have an `{id}`.
pub(crate) fn path_adm_id(params: PathParams) -> Result<(AdministratieCode, ResourceId), ApiError> {
    match path_ids(params)? {
        (adm, Some(id)) => Ok((adm, id)),
        (_, None) => Err(ApiError::bad_request(
            "invalid_path",
            "The path needs an id.",
        )),
    }
}

/// As [`path_ids`] for routes without an `{id}`.
pub(crate) fn path_adm(params: PathParams) -> Result<AdministratieCode, ApiError> {
    path_ids(params).map(|(adm, _)| adm)
}

/// The query parameters (an unreadable query is a 400).
pub(crate) type QueryParams = Result<Query<HashMap<String, String>>, QueryRejection>;

pub(crate) fn query(params: QueryParams) -> Result<HashMap<String, String>, ApiError> {
    params.map(|Query(q)| q).map_err(|e| {
        ApiError::bad_request(
            "invalid_query",
            format!("The query string cannot be read: {e}."),
        )
    })
}

/// A positive page number (1 when absent).
pub(crate) fn page(q: &HashMap<String, String>) -> Result<u32, ApiError> {
    match q.get("page").map(String::as_str) {
        None | Some("") => Ok(1),
        Some(raw) => raw.parse::<u32>().ok().filter(|p| *p >= 1).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "page must be a whole number from 1 on.")
                .with_field("page")
        }),
    }
}

/// Reads a JSON body, answering 400 with the field on failure.
pub(crate) fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    from_json(bytes).map_err(|e| {
        let mut error = ApiError::bad_request(e.code, e.message);
        if e.code == "too_long" {
            error.status = StatusCode::UNPROCESSABLE_ENTITY;
        }
        if e.field.is_empty() {
            error
        } else {
            error.with_field(e.field)
        }
    })
}

/// 201 on create, 200 on replace, with the resource.
pub(crate) fn put_answer<T: Serialize>(put: Put, resource: &T) -> Response {
    let status = match put {
        Put::Created => StatusCode::CREATED,
        Put::Replaced => StatusCode::OK,
    };
    (status, axum::Json(resource)).into_response()
}

/// 200 with `resource`.
pub(crate) fn ok<T: Serialize>(resource: &T) -> Response {
    (StatusCode::OK, axum::Json(resource)).into_response()
}

// ---------------------------------------------------------------------------------------
// The path and query parameters as the OpenAPI document states them (issue 14). The
// handlers read them from maps (`path_ids`, `query`, `page`, …) so that a bad one is named
// in the API's own 400; these types state the same rules.

/// `{adm}`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct AdmPath {
    /// The administratie's code.
    #[param(pattern = "^[a-z0-9-]{1,40}$")]
    adm: String,
}

/// `{adm}` and `{id}`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct AdmIdPath {
    /// The administratie's code.
    #[param(pattern = "^[a-z0-9-]{1,40}$")]
    adm: String,
    /// The caller-chosen id.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    id: String,
}

/// `?page=N`: 100 a page; an empty value is page 1.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct PageQuery {
    /// The page, from 1 (1 when absent).
    #[param(minimum = 1, maximum = 4294967295_u64, default = 1)]
    page: Option<u32>,
}
