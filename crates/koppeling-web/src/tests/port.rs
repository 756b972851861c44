//! Handler tests against the one inbound port: the router is driven with `MockApp`, so each
//! test scripts what the use case answers, never the store calls it makes inside (issue 14).

use axum::http::{Method, StatusCode};
use koppeling_domain::app::MockApp;
use koppeling_domain::ports::{AttemptLog, SyncState, SyncStatus};
use koppeling_domain::sync::ServiceError;

use super::{
    adm, app, get_kantoor, invoice, known_administratie, now, post_kantoor, ready, send, sync_state,
};

fn attempt(invoice_id: &str) -> AttemptLog {
    AttemptLog {
        invoice_id: invoice_id.to_owned(),
        invoice_number: Some("2026-001".to_owned()),
        attempt: 1,
        at: now(),
        outcome: "synced".to_owned(),
        error_class: None,
        snelstart_code: None,
        message: String::new(),
    }
}

#[tokio::test]
async fn the_sync_log_for_one_invoice_asks_the_use_case_for_that_invoice_with_the_given_limit() {
    let mut mock = MockApp::new();
    known_administratie(&mut mock);
    mock.expect_invoice_sync_log()
        .withf(|a, id, only_failed, limit| {
            *a == adm() && id == "inv-1" && *only_failed && *limit == 7
        })
        .times(1)
        .returning(|_, id, _, _| ready(Ok(vec![attempt(id)])));
    mock.expect_sync_log().never();
    let app = app(mock);
    let answer = get_kantoor(&app, "/sync-log?invoice_id=inv-1&status=failed&limit=7").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let rows = answer.json();
    assert_eq!(rows.as_array().map(Vec::len), Some(1));
    assert_eq!(rows[0]["invoice_id"], "inv-1");
    assert_eq!(rows[0]["invoice_number"], "2026-001");
}

#[tokio::test]
async fn an_invoice_the_use_case_does_not_know_is_404_naming_it() {
    let mut mock = MockApp::new();
    mock.expect_invoice().returning(|_, _| ready(Ok(None)));
    let app = app(mock);
    let answer = get_kantoor(&app, "/invoices/inv-9").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text);
    assert!(answer.json()["message"].as_str().unwrap().contains("inv-9"));
}

#[tokio::test]
async fn a_retry_the_use_case_refuses_is_409_with_its_code_and_nothing_else_is_asked() {
    let mut mock = MockApp::new();
    mock.expect_retry_invoice().times(1).returning(|_, _| {
        ready(Err(ServiceError::Conflict {
            code: "not_failed".to_owned(),
            message: "invoice inv-1 is not failed".to_owned(),
            field: None,
        }))
    });
    mock.expect_invoice().never();
    let app = app(mock);
    let answer = post_kantoor(&app, "/invoices/inv-1/retry").await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text);
    assert_eq!(answer.json()["error"], "not_failed");
}

#[tokio::test]
async fn a_retried_invoice_is_answered_with_the_sync_state_the_use_case_returned() {
    let mut mock = MockApp::new();
    mock.expect_retry_invoice().times(1).returning(|_, _| {
        ready(Ok(SyncState {
            attempts: 0,
            ..sync_state(SyncStatus::Queued)
        }))
    });
    // The stored row has no sync state yet: the answer shows the one retry returned.
    mock.expect_invoice()
        .returning(|_, _| ready(Ok(Some((invoice(), None)))));
    mock.expect_documents().returning(|_, _| ready(Ok(vec![])));
    let app = app(mock);
    let answer = post_kantoor(&app, "/invoices/inv-1/retry").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["sync"]["status"], "queued");
    assert_eq!(answer.json()["documents"], serde_json::json!([]));
}

#[tokio::test]
async fn a_rebook_is_answered_queued_even_when_the_worker_already_claimed_it() {
    let mut mock = MockApp::new();
    mock.expect_rebook().times(1).returning(|_, _| {
        ready(Ok(SyncState {
            attempts: 0,
            ..sync_state(SyncStatus::Queued)
        }))
    });
    // The woken worker already claimed the invoice when the handler reads it back: the
    // answer still shows what the rebook wrote (product.md: "200 with the invoice, queued").
    mock.expect_invoice().returning(|_, _| {
        ready(Ok(Some((
            invoice(),
            Some(sync_state(SyncStatus::InProgress)),
        ))))
    });
    mock.expect_documents().returning(|_, _| ready(Ok(vec![])));
    let app = app(mock);
    let answer = post_kantoor(&app, "/invoices/inv-1/rebook").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["sync"]["status"], "queued");
}

#[tokio::test]
async fn the_ui_without_a_session_cookie_redirects_to_login_without_asking_the_use_case() {
    let mut mock = MockApp::new();
    mock.expect_session().never();
    mock.expect_invoices().never();
    let app = app(mock);
    let request = axum::http::Request::builder()
        .uri("/facturen")
        .body(axum::body::Body::empty())
        .unwrap();
    let answer = send(&app, request).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers["location"], "/login");
}

/// Sends raw bytes with a bearer token.
async fn put_raw(app: &axum::Router, uri: &str, body: Vec<u8>) -> super::Answer {
    let request = axum::http::Request::builder()
        .method(Method::PUT)
        .uri(uri)
        .header("authorization", format!("Bearer {}", super::TOKEN))
        .header("content-type", "application/pdf")
        .body(axum::body::Body::from(body))
        .unwrap();
    send(app, request).await
}

#[tokio::test]
async fn a_document_is_handed_to_the_use_case_with_its_filename_and_answered_with_its_digest() {
    use koppeling_domain::document::{Document, DocumentKind, DocumentStatus};
    let mut mock = MockApp::new();
    mock.expect_put_document()
        .withf(|_, id, kind, filename, content| {
            id.as_str() == "inv-1"
                && *kind == DocumentKind::Pdf
                && filename.as_deref() == Some("factuur 1.pdf")
                && content.starts_with(b"%PDF-")
        })
        .times(1)
        .returning(|_, _, kind, filename, content| {
            ready(Ok((
                koppeling_domain::ports::Put::Created,
                Document {
                    kind,
                    filename: filename.unwrap_or_default(),
                    size: content.len() as u64,
                    sha256: koppeling_domain::document::sha256_hex(&content),
                    status: DocumentStatus::Waiting,
                    snelstart_id: None,
                    error: None,
                    hint: None,
                },
            )))
        });
    let app = app(mock);
    let answer = put_raw(
        &app,
        "/api/v1/administraties/kantoor/invoices/inv-1/documents/pdf?filename=factuur%201.pdf",
        b"%PDF-1.7".to_vec(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let json = answer.json();
    assert_eq!(json["kind"], "pdf");
    assert_eq!(json["filename"], "factuur 1.pdf");
    assert_eq!(json["size"], 8);
    assert_eq!(json["status"], "waiting");
    assert_eq!(
        json["sha256"],
        koppeling_domain::document::sha256_hex(b"%PDF-1.7")
    );
}

#[tokio::test]
async fn a_bad_filename_is_422_and_an_oversized_document_413_without_asking_the_use_case() {
    // Refused at the edge: nothing reaches the use case.
    let app = app(MockApp::new());
    let answer = put_raw(
        &app,
        "/api/v1/administraties/kantoor/invoices/inv-1/documents/pdf?filename=a%2Fb.pdf",
        b"%PDF-1.7".to_vec(),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert_eq!(answer.json()["field"], "filename");
    let mut big = b"%PDF-".to_vec();
    big.resize(koppeling_domain::document::MAX_DOCUMENT_BYTES + 1, b' ');
    let answer = put_raw(
        &app,
        "/api/v1/administraties/kantoor/invoices/inv-1/documents/pdf",
        big,
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.text
    );
    assert_eq!(answer.json()["field"], "content");
    let answer = put_raw(
        &app,
        "/api/v1/administraties/kantoor/invoices/inv-1/documents/word",
        b"x".to_vec(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["field"], "kind");
}
