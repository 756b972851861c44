//! Documents on verkoopboekingen: upload, listing per booking, `documents[]`, the BLG rules,
//! the `documenten:write` scope and the lost-response fault on uploads.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use snelstart_sandbox::{Faults, SandboxConfig};

use crate::helpers::{Api, codes, start};

const UPLOAD: &str = "POST /v2/documenten/{documenttype}";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Books one invoice and returns the verkoopboeking's id.
async fn booking(api: &Api, nummer: &str) -> String {
    let klant = api.klant(1).await;
    let grootboek = api.ledger(8000).await;
    let body = json!({
        "factuurnummer": nummer, "factuurdatum": "2026-05-13", "klant": { "id": klant },
        "factuurbedrag": 121,
        "boekingsregels": [{ "grootboek": { "id": grootboek }, "bedrag": 100, "btwSoort": "Hoog" }],
        "btw": [{ "btwSoort": "VerkopenHoog", "btwBedrag": 21 }]
    });
    let (s, v) = api.post("/verkoopboekingen", &body).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().expect("id").to_owned()
}

fn doc(parent: &str, name: &str, content: &[u8]) -> Value {
    json!({ "content": b64(content), "fileName": name, "parentIdentifier": parent })
}

#[tokio::test]
async fn a_document_is_stored_listed_on_its_booking_read_back_and_deleted() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "documenten").await;
    let boeking = booking(&api, "DOC-1").await;
    let pdf = b"%PDF-1.7\nfactuur";
    let (s, v) = api
        .post(
            "/documenten/Verkoopboekingen",
            &doc(&boeking, "DOC-1.pdf", pdf),
        )
        .await;
    assert_eq!(s, 200, "the spec answers 200 {{id, uri}}: {v}");
    let id = v["id"].as_str().expect("id").to_owned();
    assert_eq!(v, json!({ "id": id, "uri": format!("/documenten/{id}") }));

    // The same file name twice is accepted (SnelStart does not deduplicate).
    let (s, v2) = api
        .post(
            "/documenten/verkoopboekingen",
            &doc(&boeking, "DOC-1.pdf", pdf),
        )
        .await;
    assert_eq!(s, 200, "{v2}");
    let second = v2["id"].as_str().expect("id").to_owned();

    let (s, list) = api
        .get(&format!("/documenten/Verkoopboekingen/{boeking}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        list,
        json!([
            { "verkoopBoekingId": boeking, "fileName": "DOC-1.pdf", "readOnly": false, "id": id, "uri": format!("/documenten/{id}") },
            { "verkoopBoekingId": boeking, "fileName": "DOC-1.pdf", "readOnly": false, "id": second, "uri": format!("/documenten/{second}") },
        ])
    );
    let (_, b) = api.get(&format!("/verkoopboekingen/{boeking}")).await;
    assert_eq!(b["documents"].as_array().map(Vec::len), Some(2), "{b}");
    assert_eq!(b["documents"][0]["fileName"], "DOC-1.pdf");
    assert_eq!(b["documents"][0]["parentIdentifier"], boeking.as_str());

    let (s, got) = api.get(&format!("/documenten/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(got["content"], b64(pdf));
    assert_eq!(got["fileName"], "DOC-1.pdf");
    assert_eq!(got["parentIdentifier"], boeking.as_str());

    assert_eq!(
        api.delete(&format!("/documenten/{second}")).await,
        (200, json!({}))
    );
    assert_eq!(api.get(&format!("/documenten/{second}")).await.0, 404);
    assert_eq!(api.delete(&format!("/documenten/{second}")).await.0, 404);
    let snap = sb.state(&api.key).expect("state");
    assert_eq!(snap.documenten.len(), 1);
    assert_eq!(snap.documenten[0]["size"], pdf.len());
    assert_eq!(
        snap.verkoopboekingen[0]["documents"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // Deleting the booking takes its documents along.
    assert_eq!(
        api.delete(&format!("/verkoopboekingen/{boeking}")).await.0,
        200
    );
    assert_eq!(api.get(&format!("/documenten/{id}")).await.0, 404);
    assert_eq!(
        api.get(&format!("/documenten/Verkoopboekingen/{boeking}"))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn the_blg_rules_refuse_bad_names_empty_and_oversized_content_and_unknown_parents() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "blg").await;
    let boeking = booking(&api, "BLG-1").await;
    let post = |body: Value| {
        let api = &api;
        async move { api.post("/documenten/Verkoopboekingen", &body).await }
    };
    for bad in [
        "a/b.pdf",
        "a\\b.pdf",
        "a:b",
        "wat?.pdf",
        "x*y",
        "\"q\"",
        "<a>",
        "a|b",
        "tab\there",
    ] {
        let (s, v) = post(doc(&boeking, bad, b"%PDF-")).await;
        assert_eq!((s, codes(&v)), (400, vec!["BLG-0016".to_owned()]), "{bad}");
    }
    let (s, v) = post(doc(&boeking, &"a".repeat(256), b"%PDF-")).await;
    assert_eq!((s, codes(&v)), (400, vec!["BLG-0017".to_owned()]));
    assert_eq!(v[0]["message"], "Bestandsnaam is te lang.");
    let (s, _) = post(doc(&boeking, &format!("{}.pdf", "a".repeat(251)), b"%PDF-")).await;
    assert_eq!(s, 200, "255 characters is allowed");
    let (s, v) = post(doc(&boeking, "  ", b"%PDF-")).await;
    assert_eq!((s, codes(&v)), (400, vec!["BLG-0007".to_owned()]));
    let (s, v) = post(doc(&boeking, "leeg.pdf", b"")).await;
    assert_eq!((s, codes(&v)), (400, vec!["BLG-0011".to_owned()]));
    assert_eq!(v[0]["message"], "Content is leeg.");
    // A misspelled field is dropped, as by the real server: no content.
    let (s, v) = post(
        json!({ "contents": b64(b"%PDF-"), "fileName": "x.pdf", "parentIdentifier": boeking }),
    )
    .await;
    assert_eq!((s, codes(&v)), (400, vec!["BLG-0011".to_owned()]));
    let (s, v) =
        post(json!({ "content": "not base64!", "fileName": "x.pdf", "parentIdentifier": boeking }))
            .await;
    assert_eq!(s, 400);
    assert!(v["modelState"]["document.content"].is_array(), "{v}");
    let over = vec![b'x'; 10 * 1024 * 1024 + 1];
    let (s, v) = post(doc(&boeking, "groot.pdf", &over)).await;
    assert_eq!((s, codes(&v)), (400, vec!["BLG-0013".to_owned()]));
    let exactly = vec![b'x'; 10 * 1024 * 1024];
    let (s, _) = post(doc(&boeking, "precies.pdf", &exactly)).await;
    assert_eq!(s, 200, "10 MB exactly is allowed");
    let (s, v) = api.post("/documenten/Verkoopboekingen", &Value::Null).await;
    assert_eq!((s, codes(&v)), (400, vec!["BLG-0009".to_owned()]));
    let unknown = "7d4d8a53-25a6-4c33-9b1b-0f6c5e2b1a11";
    let (s, _) = post(doc(unknown, "x.pdf", b"%PDF-")).await;
    assert_eq!(s, 404);
    let (s, _) = post(json!({ "content": b64(b"%PDF-"), "fileName": "x.pdf" })).await;
    assert_eq!(s, 404, "no parent");
    let (s, _) = api
        .post("/documenten/Facturen", &doc(&boeking, "x.pdf", b"%PDF-"))
        .await;
    assert_eq!(s, 404, "unknown document type");
    // Only the two accepted uploads are stored.
    assert_eq!(sb.state(&api.key).map(|s| s.documenten.len()), Some(2));
}

#[tokio::test]
async fn a_key_without_documenten_write_gets_403_on_upload_only() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "zonder-documenten").await;
    let boeking = booking(&api, "SC-1").await;
    sb.set_scopes(
        &api.key,
        Some(&[
            "relaties:read",
            "relaties:write",
            "boekhouden:read",
            "boekhouden:write",
            "orders:read",
            "settings:read",
            "documenten:read",
        ]),
    );
    let (s, _) = api
        .post(
            "/documenten/Verkoopboekingen",
            &doc(&boeking, "x.pdf", b"%PDF-"),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = api
        .get(&format!("/documenten/Verkoopboekingen/{boeking}"))
        .await;
    assert_eq!(s, 200, "reading stays allowed");
    let (s, _) = api.get(&format!("/verkoopboekingen/{boeking}")).await;
    assert_eq!(s, 200, "booking is not affected");
    sb.set_scopes(&api.key, None);
    let (s, _) = api
        .post(
            "/documenten/Verkoopboekingen",
            &doc(&boeking, "x.pdf", b"%PDF-"),
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_lost_upload_answer_is_committed_and_can_be_aimed_at_uploads_only() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "upload-verloren").await;
    sb.set_faults(Faults {
        lost_response_rate: 1.0,
        lost_response_route: Some(UPLOAD.into()),
        ..Faults::default()
    });
    // The booking itself is answered: the fault is aimed at uploads.
    let boeking = booking(&api, "LOST-DOC").await;
    let result = api
        .req(reqwest::Method::POST, "/documenten/Verkoopboekingen")
        .json(&doc(&boeking, "LOST-DOC.pdf", b"%PDF-1.4"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let err = result.expect_err("the answer must be lost");
    assert!(!err.is_timeout(), "{err}");
    let (s, list) = api
        .get(&format!("/documenten/Verkoopboekingen/{boeking}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "committed: {list}");
    assert_eq!(list[0]["fileName"], "LOST-DOC.pdf");
    // A refused upload is answered normally.
    let (s, _) = api
        .post(
            "/documenten/Verkoopboekingen",
            &doc(&boeking, "a/b", b"%PDF-"),
        )
        .await;
    assert_eq!(s, 400);
}
