//! The invoice's documents (product §8.4): `PUT`/`GET`/`DELETE
//! /administraties/{adm}/invoices/{id}/documents/{kind}` with `kind` = `pdf` | `ubl`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use koppeling_domain::app::App;
use koppeling_domain::document::{self, Document, DocumentKind, MAX_DOCUMENT_BYTES};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::problem::Problem;
use serde::Serialize;

use super::{PathParams, QueryParams, path_ids, put_answer, query};
use crate::AppState;
use crate::error::ApiError;

/// The largest body the document route reads (the rules allow 7 MiB; bigger bodies up to
/// this size are answered 413 naming `content`).
pub(crate) const MAX_DOCUMENT_BODY: usize = 16 * 1024 * 1024;

/// The answer of a `PUT`: `{"kind","filename","size","sha256","status"}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PutDocumentResponse)]
pub(crate) struct PutDocumentResponse {
    /// `pdf` or `ubl`.
    #[schema(value_type = String, pattern = "^(pdf|ubl)$")]
    kind: DocumentKind,
    filename: String,
    size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    sha256: String,
    /// `waiting`, `attached` or `failed`.
    #[schema(value_type = String, pattern = "^(waiting|attached|failed)$")]
    status: document::DocumentStatus,
}

/// The path of one document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct DocPath {
    /// The administratie's code.
    #[param(pattern = "^[a-z0-9-]{1,40}$")]
    adm: String,
    /// The invoice's id.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    id: String,
    /// `pdf` or `ubl`.
    #[param(pattern = "^(pdf|ubl)$")]
    kind: String,
}

/// `?filename=`: at most 255 characters, none of `\ / : * ? " < > |` or a control character.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct FilenameQuery {
    /// The file name in SnelStart (default `<number>.pdf` / `<number>.xml`).
    #[param(max_length = 255, pattern = "^[^\\\\/:*?\"<>|\\x00-\\x1f\\x7f]*$")]
    filename: Option<String>,
}

/// A document in the invoice JSON.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DocumentResponse {
    kind: DocumentKind,
    filename: String,
    size: u64,
    sha256: String,
    status: document::DocumentStatus,
    snelstart_id: Option<String>,
    error: Option<String>,
    hint: Option<String>,
}

impl From<&Document> for DocumentResponse {
    fn from(d: &Document) -> Self {
        Self {
            kind: d.kind,
            filename: d.filename.clone(),
            size: d.size,
            sha256: d.sha256.clone(),
            status: d.status,
            snelstart_id: d.snelstart_id.clone(),
            error: d.error.clone(),
            hint: d.hint.clone(),
        }
    }
}

fn path(params: PathParams) -> Result<(AdministratieCode, ResourceId, DocumentKind), ApiError> {
    let kind_raw = params
        .as_ref()
        .ok()
        .and_then(|p| p.get("kind").cloned())
        .unwrap_or_default();
    let (adm, id) = match path_ids(params)? {
        (adm, Some(id)) => (adm, id),
        (_, None) => {
            return Err(ApiError::bad_request(
                "invalid_path",
                "The path needs an id.",
            ));
        }
    };
    let kind = DocumentKind::parse(&kind_raw).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_path",
            format!("{kind_raw:?} is not a document kind; use pdf or ubl."),
        )
        .with_field("kind")
    })?;
    Ok((adm, id, kind))
}

fn too_large(size: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "The document has {size} bytes; at most {MAX_DOCUMENT_BYTES} (7 MiB) are accepted, so that its base64 form stays under SnelStart's 10 MB. Nothing was written."
        ),
    )
    .with_field("content")
}

/// `PUT …/invoices/{id}/documents/{kind}?filename=`: the raw bytes (`application/pdf`
/// starting with `%PDF-`, or UBL 2.1 `application/xml`); 201 when new, 200 when a document not
/// yet attached was replaced, 409 `document_attached` once attached, 413 over 7 MiB, 422
/// naming `filename` or `content`.
#[utoipa::path(
    put,
    path = "/administraties/{adm}/invoices/{id}/documents/{kind}",
    params(DocPath, FilenameQuery),
    tag = "invoices",
    request_body(content = Vec<u8>, description = "The raw PDF (`%PDF-`) or UBL 2.1 Invoice/CreditNote XML", content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Replaced a document not yet attached", body = PutDocumentResponse),
        (status = 201, description = "Stored; uploaded once the booking exists", body = PutDocumentResponse),
        (status = 404, description = "No such administratie or invoice (`not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "Already attached in SnelStart (`document_attached`) or possibly already in SnelStart: being uploaded, or its last upload's outcome not known yet (`document_uploading`)", body = crate::error::ErrorBody),
        (status = 413, description = "More than 7 MiB (`too_large`)", body = crate::error::ErrorBody),
        (status = 422, description = "A file name or content SnelStart would refuse, naming `filename` or `content`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn put_document<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    q: QueryParams,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let (adm, id, kind) = path(params)?;
    let q: HashMap<String, String> = query(q)?;
    let filename = q.get("filename").cloned();
    if let Some(name) = &filename {
        document::check_filename(name).map_err(|p| {
            ApiError::invalid(&[Problem::new(
                p.field,
                koppeling_domain::problem::Rule::DocumentRefused {
                    rule: p.rule,
                    detail: p.message,
                },
            )])
        })?;
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(too_large(bytes.len()));
    }
    let (put, doc) = state
        .service
        .put_document(&adm, &id, kind, filename, bytes.to_vec())
        .await?;
    Ok(put_answer(
        put,
        &PutDocumentResponse {
            kind: doc.kind,
            filename: doc.filename,
            size: doc.size,
            sha256: doc.sha256,
            status: doc.status,
        },
    ))
}

/// `GET …/invoices/{id}/documents/{kind}`: the bytes, with their media type and file name.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/invoices/{id}/documents/{kind}",
    params(DocPath),
    tag = "invoices",
    responses(
        (status = 200, description = "The document's bytes", content(
            (Vec<u8> = "application/pdf"),
            (Vec<u8> = "application/xml"),
        )),
        (status = 404, description = "No such administratie, invoice or document (`not_found`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn get_document<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let (adm, id, kind) = path(params)?;
    let (doc, content) = state.service.document(&adm, &id, kind).await?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        doc.filename.replace(['"', '\\'], "_")
    );
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, kind.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        content,
    )
        .into_response())
}

/// `DELETE …/invoices/{id}/documents/{kind}`: 204; 409 `document_attached` once attached.
#[utoipa::path(
    delete,
    path = "/administraties/{adm}/invoices/{id}/documents/{kind}",
    params(DocPath),
    tag = "invoices",
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such administratie, invoice or document (`not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "Already attached in SnelStart (`document_attached`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn delete_document<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let (adm, id, kind) = path(params)?;
    state.service.delete_document(&adm, &id, kind).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
