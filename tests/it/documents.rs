//! Issue 19 end to end (product §8.4): the invoice's PDF and UBL on the booking in the
//! sandbox exactly once — also under lost upload answers —, a document added after the
//! invoice synced, every refusal of the API, and a key without `documenten:write` that
//! leaves booking working. On SQLite and PostgreSQL.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use snelstart_sandbox::Faults;

use crate::helpers::{Db, TOKEN, TestApp, spawn_app};

const ADM: &str = "kantoor";
const UPLOAD: &str = "POST /v2/documenten/{documenttype}";

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

fn ubl(number: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>
  <cbc:ID>{number}</cbc:ID>
</Invoice>"#
    )
}

/// `PUT …/documents/{kind}[?filename=]` with raw bytes.
async fn put_doc(
    app: &TestApp,
    invoice: &str,
    kind: &str,
    query: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let media = if kind == "ubl" {
        "application/xml"
    } else {
        "application/pdf"
    };
    let res = app
        .client
        .put(app.url(&format!(
            "/administraties/{ADM}/invoices/{invoice}/documents/{kind}{query}"
        )))
        .bearer_auth(TOKEN)
        .header("content-type", media)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn setup(app: &TestApp) {
    app.setup_administratie(ADM).await;
    app.add_relation(ADM, "r1", "1001", true).await;
}

async fn invoice(app: &TestApp, id: &str, number: &str) {
    let lines =
        json!([{"description": "Advies", "quantity": "1", "unit_price": "100.00", "vat": "high"}]);
    let (status, body) = app.put_invoice(ADM, id, number, "r1", "final", lines).await;
    assert_eq!(status, 201, "{body}");
}

async fn activate(app: &TestApp) {
    let (status, body) = app
        .post(&format!(
            "/administraties/{ADM}/integrations/snelstart/activate"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Waits until every document of invoice `id` has status `want`; returns the invoice JSON.
async fn wait_documents(app: &TestApp, id: &str, want: &str, count: usize, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (_, body) = app
            .get(&format!("/administraties/{ADM}/invoices/{id}"))
            .await;
        let docs = body["documents"].as_array().cloned().unwrap_or_default();
        if docs.len() == count && docs.iter().all(|d| d["status"] == want) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "the documents of {id} are not all {want} after {secs}s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The documents the sandbox holds: (booking id, file name, size).
fn sandbox_documents(app: &TestApp) -> Vec<(String, String, u64)> {
    app.sandbox
        .state(&app.key)
        .map(|s| s.documenten)
        .unwrap_or_default()
        .iter()
        .map(|d| {
            (
                d["parentIdentifier"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                d["fileName"].as_str().unwrap_or_default().to_owned(),
                d["size"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn count(app: &TestApp, key: &str) -> u64 {
    app.sandbox
        .state(&app.key)
        .and_then(|s| s.counts.get(key).copied())
        .unwrap_or(0)
}

async fn pdf_and_ubl_attached_once_each(app: &TestApp) {
    setup(app).await;
    invoice(app, "f1", "2026-001").await;
    let (status, body) = put_doc(app, "f1", "pdf", "", PDF.to_vec()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["kind"], "pdf");
    assert_eq!(body["filename"], "2026-001.pdf", "default file name");
    assert_eq!(body["size"], PDF.len());
    assert_eq!(body["status"], "waiting");
    assert_eq!(body["sha256"].as_str().map(str::len), Some(64));
    let xml = ubl("2026-001");
    let (status, body) = put_doc(
        app,
        "f1",
        "ubl",
        "?filename=factuur%202026-001.xml",
        xml.clone().into_bytes(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // Replacing a document that is still waiting answers 200.
    let (status, body) = put_doc(
        app,
        "f1",
        "ubl",
        "?filename=factuur%202026-001.xml",
        xml.clone().into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Waiting: the invoice is not booked yet (the koppeling is off).
    let (_, inv) = app.get(&format!("/administraties/{ADM}/invoices/f1")).await;
    assert_eq!(inv["documents"][0]["status"], "waiting", "{inv}");

    activate(app).await;
    let booked = app.wait_for_status(ADM, "f1", &["synced"], 20).await;
    let booking = booked["sync"]["snelstart_id"].as_str().unwrap().to_owned();
    let inv = wait_documents(app, "f1", "attached", 2, 20).await;
    assert_eq!(inv["sync"]["status"], "synced");
    let docs = inv["documents"].as_array().unwrap();
    assert_eq!(docs[0]["kind"], "pdf");
    assert_eq!(docs[1]["kind"], "ubl");
    assert_eq!(docs[1]["filename"], "factuur 2026-001.xml");
    for d in docs {
        assert!(
            d["snelstart_id"].as_str().is_some_and(|s| s.len() == 36),
            "{d}"
        );
        assert_eq!(d["error"], Value::Null);
    }
    let mut held = sandbox_documents(app);
    held.sort();
    assert_eq!(
        held,
        vec![
            (booking.clone(), "2026-001.pdf".to_owned(), PDF.len() as u64),
            (
                booking.clone(),
                "factuur 2026-001.xml".to_owned(),
                xml.len() as u64
            ),
        ]
    );
    // The booking in SnelStart lists them.
    let boeking = app
        .boekingen()
        .into_iter()
        .find(|b| b["id"] == booking.as_str())
        .unwrap();
    assert_eq!(
        boeking["documents"].as_array().map(Vec::len),
        Some(2),
        "{boeking}"
    );

    // Steady state: one SnelStart call per document, no look-up.
    let uploads = count(app, &format!("{UPLOAD} 200"));
    let lookups = count(app, "GET /v2/documenten/{documenttype}/{pid} 200");
    let per_document = (uploads + lookups) as f64 / 2.0;
    println!(
        "SnelStart calls per document in steady state: {per_document:.2} ({uploads} uploads, {lookups} look-ups for 2 documents)"
    );
    assert_eq!((uploads, lookups), (2, 0));

    // The bytes come back as stored.
    let res = app
        .client
        .get(app.url(&format!("/administraties/{ADM}/invoices/f1/documents/pdf")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);

    // Once attached: neither replaced nor removed.
    let (status, body) = put_doc(app, "f1", "pdf", "", PDF.to_vec()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("document_attached")),
        "{body}"
    );
    let res = app
        .client
        .delete(app.url(&format!("/administraties/{ADM}/invoices/f1/documents/ubl")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 409);
    assert_eq!(sandbox_documents(app).len(), 2);
}

#[tokio::test]
async fn pdf_and_ubl_are_attached_once_each_on_sqlite() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    pdf_and_ubl_attached_once_each(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn pdf_and_ubl_are_attached_once_each_on_postgres() {
    let Some(app) = spawn_app(Db::Postgres).await else {
        return;
    };
    pdf_and_ubl_attached_once_each(&app).await;
    app.stop().await;
}

async fn lost_upload_answers(app: &TestApp) {
    setup(app).await;
    let n = 8;
    for k in 1..=n {
        let (id, number) = (format!("f{k}"), format!("2026-{k:03}"));
        invoice(app, &id, &number).await;
        assert_eq!(put_doc(app, &id, "pdf", "", PDF.to_vec()).await.0, 201);
        assert_eq!(
            put_doc(app, &id, "ubl", "", ubl(&number).into_bytes())
                .await
                .0,
            201
        );
    }
    app.sandbox.set_faults(Faults {
        lost_response_rate: 0.3,
        lost_response_route: Some(UPLOAD.into()),
        seed: Some(19),
        ..Faults::default()
    });
    activate(app).await;
    for k in 1..=n {
        wait_documents(app, &format!("f{k}"), "attached", 2, 90).await;
    }
    let held = sandbox_documents(app);
    let distinct: BTreeSet<(String, String)> = held
        .iter()
        .map(|(b, f, _)| (b.clone(), f.clone()))
        .collect();
    assert_eq!(held.len(), 2 * n, "exactly one copy each: {held:?}");
    assert_eq!(distinct.len(), 2 * n);
    // Some answers were really lost and settled by a look-up.
    let lookups = count(app, "GET /v2/documenten/{documenttype}/{pid} 200");
    assert!(lookups > 0, "the fault never fired");
    println!(
        "lost upload answers: {lookups} look-ups for {} documents",
        2 * n
    );
}

#[tokio::test]
async fn lost_upload_answers_still_leave_one_copy_each_on_sqlite() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    lost_upload_answers(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn lost_upload_answers_still_leave_one_copy_each_on_postgres() {
    let Some(app) = spawn_app(Db::Postgres).await else {
        return;
    };
    lost_upload_answers(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_document_added_after_the_invoice_synced_is_attached_then() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    setup(&app).await;
    invoice(&app, "f1", "2026-101").await;
    activate(&app).await;
    let booked = app.wait_for_status(ADM, "f1", &["synced"], 20).await;
    assert_eq!(booked["documents"], json!([]));
    assert!(sandbox_documents(&app).is_empty());
    let (status, body) = put_doc(&app, "f1", "pdf", "", PDF.to_vec()).await;
    assert_eq!(status, 201, "{body}");
    let inv = wait_documents(&app, "f1", "attached", 1, 20).await;
    assert_eq!(inv["sync"]["status"], "synced");
    let held = sandbox_documents(&app);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].0, booked["sync"]["snelstart_id"].as_str().unwrap());
    assert_eq!(held[0].1, "2026-101.pdf");
    app.stop().await;
}

#[tokio::test]
async fn every_refusal_is_answered_as_specified_and_nothing_is_stored() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    setup(&app).await;
    invoice(&app, "f1", "2026-201").await;
    for (query, why) in [
        ("?filename=a%2Fb.pdf", "a slash"),
        ("?filename=wat%3F.pdf", "a question mark"),
        ("?filename=a%3Ab.pdf", "a colon"),
        ("?filename=tab%09.pdf", "a control character"),
        ("?filename=", "empty"),
    ] {
        let (status, body) = put_doc(&app, "f1", "pdf", query, PDF.to_vec()).await;
        assert_eq!(status, 422, "{why}: {body}");
        assert_eq!(body["field"], "filename", "{why}: {body}");
    }
    let long = format!("?filename={}.pdf", "a".repeat(252));
    let (status, body) = put_doc(&app, "f1", "pdf", &long, PDF.to_vec()).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("filename")),
        "{body}"
    );
    let fits = format!("?filename={}.pdf", "a".repeat(251));
    assert_eq!(
        put_doc(&app, "f1", "pdf", &fits, PDF.to_vec()).await.0,
        201,
        "255 characters fit"
    );
    assert_eq!(
        app.client
            .delete(app.url(&format!("/administraties/{ADM}/invoices/f1/documents/pdf")))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        204,
        "a waiting document can be removed"
    );

    let (status, body) = put_doc(&app, "f1", "pdf", "", Vec::new()).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("content")),
        "empty: {body}"
    );
    let (status, body) = put_doc(&app, "f1", "pdf", "", b"<html>no pdf</html>".to_vec()).await;
    assert_eq!(
        (status, body["field"].as_str(), body["error"].as_str()),
        (422, Some("content"), Some("not_pdf")),
        "{body}"
    );
    for not_ubl in [
        "<Invoice/>".to_owned(),
        r#"<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>"#.to_owned(),
        "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"><a></Invoice>"
            .to_owned(),
        String::from_utf8(PDF.to_vec()).unwrap(),
    ] {
        let (status, body) = put_doc(&app, "f1", "ubl", "", not_ubl.clone().into_bytes()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (422, Some("not_ubl")),
            "{not_ubl}: {body}"
        );
        assert_eq!(body["field"], "content");
    }
    let credit =
        r#"<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"/>"#;
    assert_eq!(
        put_doc(&app, "f1", "ubl", "", credit.as_bytes().to_vec())
            .await
            .0,
        201,
        "a credit note is UBL"
    );

    let mut big = PDF.to_vec();
    big.resize(7 * 1024 * 1024 + 1, b' ');
    let (status, body) = put_doc(&app, "f1", "pdf", "", big).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (413, Some("content")),
        "{body}"
    );
    let mut huge = PDF.to_vec();
    huge.resize(11 * 1024 * 1024, b' ');
    let (status, _) = put_doc(&app, "f1", "pdf", "", huge).await;
    assert_eq!(status, 413, "over 10 MB");
    let (status, _) = put_doc(&app, "nope", "pdf", "", PDF.to_vec()).await;
    assert_eq!(status, 404, "unknown invoice");
    let (status, body) = put_doc(&app, "f1", "docx", "", PDF.to_vec()).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("kind")));

    let (_, inv) = app.get(&format!("/administraties/{ADM}/invoices/f1")).await;
    let kinds: Vec<&str> = inv["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["ubl"],
        "only the accepted credit note is stored: {inv}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_key_without_documenten_write_leaves_booking_working() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    app.sandbox.set_scopes(
        &app.key,
        Some(&[
            "relaties:read",
            "relaties:write",
            "boekhouden:read",
            "boekhouden:write",
            "orders:read",
            "settings:read",
            "documenten:read",
            "bankieren:read",
            "kas:read",
        ]),
    );
    setup(&app).await;
    invoice(&app, "f1", "2026-301").await;
    assert_eq!(put_doc(&app, "f1", "pdf", "", PDF.to_vec()).await.0, 201);
    activate(&app).await;
    app.wait_for_status(ADM, "f1", &["synced"], 20).await;
    // Documents go off, visibly; booking goes on.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, overview) = app
            .get(&format!("/administraties/{ADM}/integrations"))
            .await;
        if overview[0]["features"]["documents"] == "missing_scope" {
            assert_eq!(overview[0]["state"], "active", "{overview}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "documents never switched off: {overview}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    invoice(&app, "f2", "2026-302").await;
    app.wait_for_status(ADM, "f2", &["synced"], 20).await;
    let (_, inv) = app.get(&format!("/administraties/{ADM}/invoices/f1")).await;
    assert_eq!(inv["documents"][0]["status"], "waiting", "{inv}");
    assert!(sandbox_documents(&app).is_empty());
    assert_eq!(
        count(&app, &format!("{UPLOAD} 403")),
        1,
        "one refused upload, then off"
    );
    app.stop().await;
}
