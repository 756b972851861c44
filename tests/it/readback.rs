//! Issue 17 end to end: payments, the accountant's changes and deletions read back from the
//! sandbox into the invoice JSON, the events feed and a rebook — on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, sandbox_call, spawn_app_with};

async fn wait_for(app: &TestApp, path: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = app.get(path).await;
        if ok(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "{what} never happened: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `DELETE /v2/{path}` at the sandbox as the accountant's own software would.
async fn sandbox_delete(app: &TestApp, path: &str) {
    let (status, _) = sandbox_call(app, reqwest::Method::DELETE, path, None).await;
    assert_eq!(status, 200);
}

async fn readback_walkthrough(app: &TestApp) {
    let adm = "kantoor";
    app.setup_administratie(adm).await;
    app.add_relation(adm, "r1", "1001", true).await;
    let lines =
        json!([{"description": "Advies", "quantity": "1", "unit_price": "100.00", "vat": "high"}]);
    for (id, number) in [("f1", "2026-001"), ("f2", "2026-002"), ("f3", "2026-003")] {
        let (status, body) = app
            .put_invoice(adm, id, number, "r1", "final", lines.clone())
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = app
        .post(&format!(
            "/administraties/{adm}/integrations/snelstart/activate"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut booking = std::collections::BTreeMap::new();
    for id in ["f1", "f2", "f3"] {
        let body = app.wait_for_status(adm, id, &["synced"], 15).await;
        booking.insert(
            id,
            body["sync"]["snelstart_id"].as_str().unwrap().to_owned(),
        );
    }
    // The first read-back sees them open.
    let body = wait_for(
        app,
        &format!("/administraties/{adm}/invoices/f1"),
        "the first read-back",
        |b| b["payment"]["status"] == "open",
    )
    .await;
    assert_eq!(body["payment"]["outstanding"], "121.00");
    assert!(body["payment"]["paid_at"].is_null());
    assert!(body["drift"].is_null());

    // f1 is paid in full by bank on 20 November; f2 partly.
    let (status, paid) = app
        .sandbox
        .pay(&app.key, &booking["f1"], "121.00", "2026-11-20")
        .unwrap();
    assert_eq!(status, 201, "{paid}");
    app.sandbox
        .pay(&app.key, &booking["f2"], "21.00", "2026-11-21")
        .unwrap();
    let body = wait_for(
        app,
        &format!("/administraties/{adm}/invoices/f1"),
        "the payment",
        |b| b["payment"]["status"] == "paid",
    )
    .await;
    assert_eq!(body["payment"]["outstanding"], "0.00");
    assert_eq!(
        body["payment"]["paid_at"], "2026-11-20",
        "the day it was paid: {body}"
    );
    let body = wait_for(
        app,
        &format!("/administraties/{adm}/invoices/f2"),
        "the partial payment",
        |b| b["payment"]["status"] == "partially_paid",
    )
    .await;
    assert_eq!(body["payment"]["outstanding"], "100.00");
    assert!(body["drift"].is_null(), "a payment is not drift: {body}");

    // The accountant changes f3's amount in SnelStart.
    app.sandbox
        .accountant_edit(&app.key, &booking["f3"], &json!({"factuurbedrag": 242.00, "boekingsregels": [{"grootboek": null, "bedrag": 200.00, "btwSoort": "Hoog"}], "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": 42.00}]}))
        .unwrap();
    let body = wait_for(
        app,
        &format!("/administraties/{adm}/invoices/f3"),
        "the drift",
        |b| b["drift"]["kind"] == "changed",
    )
    .await;
    assert_eq!(body["drift"]["by_accountant"], true);
    let fields: Vec<&str> = body["drift"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"gross") && fields.contains(&"lines[0].amount"),
        "{body}"
    );
    assert_eq!(
        body["sync"]["status"], "synced",
        "drift never books anything by itself"
    );

    // The list filters and the overview's counts.
    let (_, paid) = app
        .get(&format!("/administraties/{adm}/invoices?payment=paid"))
        .await;
    let ids: Vec<&str> = paid
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids, ["f1"]);
    let (_, drifted) = app
        .get(&format!("/administraties/{adm}/invoices?drift=true"))
        .await;
    let ids: Vec<&str> = drifted
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids, ["f3"]);
    let (status, _) = app
        .get(&format!("/administraties/{adm}/invoices?payment=betaald"))
        .await;
    assert_eq!(status, 400);
    let (_, overview) = app
        .get(&format!("/administraties/{adm}/integrations"))
        .await;
    assert_eq!(overview[0]["counts"]["paid"], 1, "{overview}");
    assert_eq!(overview[0]["counts"]["drift"], 1, "{overview}");
    assert_eq!(overview[0]["features"]["payments"], "ok", "{overview}");

    // f1 cannot be booked again: it is not deleted.
    let (status, body) = app
        .post(&format!("/administraties/{adm}/invoices/f1/rebook"))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "not_deleted");

    // The events feed: synced ×3, then paid, payment_changed and drift, gapless.
    let (status, events) = app.get(&format!("/administraties/{adm}/events")).await;
    assert_eq!(status, 200, "{events}");
    let events = events.as_array().unwrap().clone();
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "gapless");
    let kind = |t: &str, invoice: &str| {
        events
            .iter()
            .filter(|e| e["type"] == t && e["invoice_id"] == invoice)
            .count()
    };
    for id in ["f1", "f2", "f3"] {
        assert_eq!(kind("invoice.synced", id), 1, "{events:?}");
    }
    assert_eq!(kind("invoice.paid", "f1"), 1, "{events:?}");
    assert_eq!(kind("invoice.payment_changed", "f2"), 1, "{events:?}");
    assert_eq!(kind("invoice.drift", "f3"), 1, "{events:?}");
    let (_, after) = app
        .get(&format!(
            "/administraties/{adm}/events?after={}&limit=1",
            ids[1]
        ))
        .await;
    assert_eq!(after[0]["id"], ids[2]);
    let (status, _) = app
        .get(&format!("/administraties/{adm}/events?limit=1001"))
        .await;
    assert_eq!(status, 400);

    // The accountant deletes f2's booking after the refund... (payments block it: remove
    // the payment first, as SnelStart requires), then the full scan finds it gone.
    let state = serde_json::to_value(app.sandbox.state(&app.key).unwrap()).unwrap();
    let bank = state["bankboekingen"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["verkoopboekingBoekingsRegels"][0]["boekingId"]["id"] == booking["f2"].as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox_delete(app, &format!("bankboekingen/{bank}")).await;
    sandbox_delete(app, &format!("verkoopboekingen/{}", booking["f2"])).await;
    let body = wait_for(
        app,
        &format!("/administraties/{adm}/invoices/f2"),
        "the deletion",
        |b| b["drift"]["kind"] == "deleted",
    )
    .await;
    assert_eq!(
        body["sync"]["status"], "synced",
        "never booked again by itself: {body}"
    );
    let boekingen_before = app.boekingen().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        app.boekingen().len(),
        boekingen_before,
        "still not booked again"
    );

    // Booked again on purpose: once, with a new id, drift and payment cleared.
    let (status, body) = app
        .post(&format!("/administraties/{adm}/invoices/f2/rebook"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sync"]["status"], "queued");
    assert!(body["drift"].is_null());
    let body = app.wait_for_status(adm, "f2", &["synced"], 15).await;
    let new_id = body["sync"]["snelstart_id"].as_str().unwrap();
    assert_ne!(new_id, booking["f2"]);
    let numbers: Vec<String> = app
        .boekingen()
        .iter()
        .filter_map(|b| b["factuurnummer"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        numbers.iter().filter(|n| *n == "2026-002").count(),
        1,
        "{numbers:?}"
    );
}

fn fast_readback(s: &mut koppeling::settings::Settings) {
    s.readback.interval_secs = 1;
    // A full scan (deletions) every 2 seconds.
    s.readback.full_scan_hours = rust_decimal::Decimal::new(6, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readback_on_sqlite() {
    let app = spawn_app_with(Db::Sqlite, fast_readback).await.unwrap();
    readback_walkthrough(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readback_on_postgres() {
    let Some(app) = spawn_app_with(Db::Postgres, fast_readback).await else {
        return;
    };
    readback_walkthrough(&app).await;
    app.stop().await;
}

/// Issue 17: events pushed to `events.url`, signed, in order, at least once; a failing
/// endpoint shows in the overview and gets the events once it works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_pushed_signed_and_in_order() {
    use std::sync::{Arc, Mutex};

    use axum::http::{HeaderMap, StatusCode};

    #[derive(Default)]
    struct Receiver {
        failing: bool,
        got: Vec<(String, String, String)>,
    }
    let receiver = Arc::new(Mutex::new(Receiver::default()));
    let state = receiver.clone();
    let app_router = axum::Router::new().route(
        "/events",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                let mut r = state.lock().unwrap();
                if r.failing {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                r.got
                    .push((h("x-koppeling-event-id"), h("x-koppeling-signature"), body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app_router).await });
    const SECRET: &str = "an-events-secret-for-the-test";
    let app = spawn_app_with(Db::Sqlite, |s| {
        s.events.url = Some(url.clone());
        s.events.secret = Some(secrecy::SecretString::from(SECRET.to_owned()));
    })
    .await
    .unwrap();
    let adm = "kantoor";
    app.setup_administratie(adm).await;
    app.add_relation(adm, "r1", "1001", true).await;
    let lines =
        json!([{"description": "Advies", "quantity": "1", "unit_price": "100.00", "vat": "high"}]);
    let (status, _) = app
        .post(&format!(
            "/administraties/{adm}/integrations/snelstart/activate"
        ))
        .await;
    assert_eq!(status, 200);
    for (id, number) in [("f1", "2026-001"), ("f2", "2026-002")] {
        app.put_invoice(adm, id, number, "r1", "final", lines.clone())
            .await;
        app.wait_for_status(adm, id, &["synced"], 15).await;
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while receiver.lock().unwrap().got.len() < 2 {
        assert!(Instant::now() < deadline, "events not pushed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    {
        let r = receiver.lock().unwrap();
        for (n, (id, signature, body)) in r.got.iter().enumerate() {
            assert_eq!(id, &(n + 1).to_string(), "in id order");
            assert_eq!(signature, &koppeling::events::signature(SECRET, body));
            let event: Value = serde_json::from_str(body).unwrap();
            assert_eq!(event["type"], "invoice.synced");
            assert_eq!(event["administratie"], adm);
        }
        r.got
            .iter()
            .for_each(|(_, _, b)| assert!(!b.contains(SECRET)));
    }

    // The endpoint fails: the overview says so; the event waits and arrives afterwards.
    receiver.lock().unwrap().failing = true;
    app.put_invoice(adm, "f3", "2026-003", "r1", "final", lines.clone())
        .await;
    app.wait_for_status(adm, "f3", &["synced"], 15).await;
    let overview = wait_for(
        app_ref(&app),
        &format!("/administraties/{adm}/integrations"),
        "the failing endpoint shown",
        |o| !o[0]["events"]["failing_since"].is_null(),
    )
    .await;
    assert!(
        overview[0]["events"]["last_error"]
            .as_str()
            .unwrap()
            .contains("503"),
        "{overview}"
    );
    receiver.lock().unwrap().failing = false;
    let deadline = Instant::now() + Duration::from_secs(15);
    while receiver.lock().unwrap().got.len() < 3 {
        assert!(
            Instant::now() < deadline,
            "the waiting event was not pushed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(receiver.lock().unwrap().got[2].0, "3");
    wait_for(
        app_ref(&app),
        &format!("/administraties/{adm}/integrations"),
        "healthy again",
        |o| o[0]["events"]["failing_since"].is_null(),
    )
    .await;
    app.stop().await;
}

fn app_ref(app: &TestApp) -> &TestApp {
    app
}
