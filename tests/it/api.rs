//! The JSON API's contract: authentication, validation errors naming the field, isolation.

use serde_json::json;

use crate::helpers::{Db, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_needs_the_bearer_token() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let res = app
        .client
        .get(app.url("/administraties/x/integrations"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let res = app
        .client
        .get(app.url("/administraties/x/integrations"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let res = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let res = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("koppeling_attempts_total")
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_answered_with_the_field_named_and_nothing_written() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let adm = "kantoor";
    app.setup_administratie(adm).await;
    app.add_relation(adm, "r1", "1001", true).await;

    let (status, body) = app
        .put_raw(&format!("/administraties/{adm}/invoices/f1"), "{not json")
        .await;
    assert_eq!(status, 400, "{body}");

    let (status, body) = app
        .put(
            &format!("/administraties/{adm}/relations/r9"),
            json!({"code": "9", "kind": "company", "name": "X", "colour": "red"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["field"].as_str().unwrap_or("").contains("colour")
            || body["message"].as_str().unwrap_or("").contains("colour"),
        "{body}"
    );

    let lines =
        json!([{"description": "x", "quantity": "1", "unit_price": "1.23456", "vat": "high"}]);
    let (status, body) = app
        .put_invoice(adm, "f1", "2026-001", "r1", "final", lines)
        .await;
    assert!(status == 400 || status == 422, "{status} {body}");
    assert_eq!(body["field"], "lines[0].unit_price", "{body}");

    let lines = json!([{"description": "x", "quantity": "1", "unit_price": "1", "vat": "super"}]);
    let (status, body) = app
        .put_invoice(adm, "f1", "2026-001", "r1", "final", lines)
        .await;
    assert!(status == 400 || status == 422, "{status} {body}");
    assert!(
        body["field"].as_str().unwrap_or("").starts_with("lines[0]"),
        "{body}"
    );

    let (status, body) = app
        .put(
            &format!("/administraties/{adm}/integrations/snelstart"),
            json!({"vat_codes": {"high": 11, "low": 12, "zero": 10}, "sales_journal_code": 1300}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["field"].as_str().unwrap().starts_with("vat_codes."),
        "{body}"
    );

    let (status, _) = app.get(&format!("/administraties/{adm}/invoices/f1")).await;
    assert_eq!(status, 404, "nothing was half-written");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administraties_do_not_see_each_other() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    app.setup_administratie("een").await;
    assert_eq!(
        app.put("/administraties/twee", json!({"name": "Twee"}))
            .await
            .0,
        201
    );
    app.add_relation("een", "r1", "1001", false).await;
    let (status, _) = app.get("/administraties/twee/invoices/f1").await;
    assert_eq!(status, 404);
    let lines = json!([{"description": "x", "quantity": "1", "unit_price": "1", "vat": "high"}]);
    let (status, body) = app
        .put_invoice("twee", "f1", "1", "r1", "final", lines)
        .await;
    assert_eq!(
        status, 422,
        "a relation of another administratie is unknown here: {body}"
    );
    assert_eq!(body["field"], "relation_id");
    app.stop().await;
}

/// Issue 15: an integrator (or a new operator) can list the administraties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administraties_are_listed_by_code() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let (status, body) = app.get("/administraties").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!([]));
    for (code, name) in [("zuid", "Kantoor Zuid"), ("noord", "Kantoor Noord")] {
        let (status, _) = app
            .put(&format!("/administraties/{code}"), json!({"name": name}))
            .await;
        assert_eq!(status, 201);
    }
    let (status, body) = app.get("/administraties").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!([{"code": "noord", "name": "Kantoor Noord"}, {"code": "zuid", "name": "Kantoor Zuid"}])
    );
    app.stop().await;
}

/// Issue 15: an invoice fetched with GET can be PUT back as it is (its read-only parts are
/// accepted and ignored); `id` must be the path's; any other unknown field is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetched_invoice_can_be_put_back() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let adm = "kantoor";
    app.setup_administratie(adm).await;
    app.add_relation(adm, "r1", "1001", false).await;
    let lines =
        json!([{"description": "Advies", "quantity": "1", "unit_price": "100.00", "vat": "high"}]);
    let (status, _) = app
        .put_invoice(adm, "f1", "2026-001", "r1", "draft", lines)
        .await;
    assert_eq!(status, 201);
    let (_, fetched) = app.get(&format!("/administraties/{adm}/invoices/f1")).await;
    assert!(fetched["totals"].is_object() && fetched["lines"][0]["amount"].is_string());
    let (status, body) = app
        .put(
            &format!("/administraties/{adm}/invoices/f1"),
            fetched.clone(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, fetched, "nothing changed");

    let mut other = fetched.clone();
    other["id"] = json!("f2");
    let (status, body) = app
        .put(&format!("/administraties/{adm}/invoices/f1"), other)
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "id", "{body}");

    let mut unknown = fetched;
    unknown["colour"] = json!("blue");
    let (status, body) = app
        .put(&format!("/administraties/{adm}/invoices/f1"), unknown)
        .await;
    assert!(status == 400 || status == 422, "{status} {body}");
    assert_eq!(body["field"], "colour", "{body}");
    app.stop().await;
}
