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
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PutDocumentResponse {
    kind: DocumentKind,
    filename: String,
    size: u64,
    sha256: String,
    status: document::DocumentStatus,
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
        document::check_filename(name)
            .map_err(|p| ApiError::invalid(&[Problem::new(p.field, p.code, p.message)]))?;
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
pub(crate) async fn delete_document<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let (adm, id, kind) = path(params)?;
    state.service.delete_document(&adm, &id, kind).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
