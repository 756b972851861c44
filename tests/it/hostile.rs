//! Hostile answers from SnelStart (issue 12, "never twice, never lost"): an absurd
//! `Retry-After`, an absurd token lifetime, an oversized answer to a booking, a booking
//! answered with an id that is not a GUID, and a redirect. None may panic, lose an invoice
//! or book it twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use snelstart_sandbox::{Aim, BadIdFault, Faults, OversizedFault, RedirectFault, RetryAfterFault};

use crate::helpers::{Db, TestApp, koppelsleutel, spawn_app};

const BOOKING_POST: &str = "POST /v2/verkoopboekingen";

fn lines() -> Value {
    json!([{"description": "Jaarrekening", "quantity": "1", "unit_price": "100.00", "vat": "high"}])
}

/// Administratie `adm` with koppelsleutel `key`, one ticked relation `r1` (code 1001), activated.
async fn active_administratie(app: &TestApp, adm: &str, key: &str) {
    for (path, body) in [
        (format!("/administraties/{adm}"), json!({"name": "Kantoor"})),
        (
            format!("/administraties/{adm}/admins/bea"),
            json!({"name": "Bea", "email": format!("bea-{adm}@kantoor.nl")}),
        ),
        (
            format!("/administraties/{adm}/integrations/snelstart"),
            json!({"vat_codes": {"high": 12, "low": 11, "zero": 10}, "sales_journal_code": 1300,
                   "key": key, "notify_admin_id": "bea"}),
        ),
    ] {
        let (status, body) = app.put(&path, body).await;
        assert!(status == 200 || status == 201, "{path}: {status} {body}");
    }
    let (status, body) = app.add_relation(adm, "r1", "1001", true).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .post(&format!(
            "/administraties/{adm}/integrations/snelstart/activate"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "active", "{body}");
}

async fn put_final(app: &TestApp, adm: &str, id: &str, number: &str) {
    let (status, body) = app
        .put_invoice(adm, id, number, "r1", "final", lines())
        .await;
    assert_eq!(status, 201, "{body}");
}

/// How many calls the sandbox counted for `key` under `"METHOD /v2/template STATUS"`.
fn count(app: &TestApp, key: &str, call: &str) -> u64 {
    app.sandbox
        .state(key)
        .and_then(|s| s.counts.get(call).copied())
        .unwrap_or(0)
}

/// The one verkoopboeking of `number`, and that it is the invoice's snelstart_id.
fn assert_booked_once(app: &TestApp, invoice: &Value, number: &str) {
    let booked: Vec<Value> = app
        .boekingen()
        .into_iter()
        .filter(|b| b["factuurnummer"] == number)
        .collect();
    assert_eq!(booked.len(), 1, "booked exactly once: {booked:?}");
    let id = booked[0]["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert_eq!(invoice["sync"]["snelstart_id"], id, "{invoice}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absurd_retry_after_queues_the_invoice_for_at_most_an_hour_and_the_other_administratie_carries_on()
 {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let key_b = koppelsleutel(&format!("kantoor-b-{}", uuid::Uuid::new_v4().simple()));
    app.sandbox.add_key(&key_b);
    active_administratie(&app, "kantoor-a", &app.key).await;
    active_administratie(&app, "kantoor-b", &key_b).await;
    // Every call of A is answered 429 with a Retry-After that fits no clock.
    app.sandbox.set_faults(Faults {
        retry_after: Some(RetryAfterFault {
            value: "18446744073709551615".into(),
            aim: Aim {
                calls: u32::MAX,
                ..Aim::default()
            }
            .for_key(&app.key),
        }),
        ..Faults::default()
    });
    put_final(&app, "kantoor-a", "fa", "A-001").await;
    put_final(&app, "kantoor-b", "fb", "B-001").await;

    // A is throttled: queued (not stuck in_progress) with its next attempt at most an hour on.
    let deadline = Instant::now() + Duration::from_secs(20);
    let invoice = loop {
        let (_, invoice) = app.get("/administraties/kantoor-a/invoices/fa").await;
        let sync = &invoice["sync"];
        if sync["status"] == "queued" && sync["next_attempt_at"].is_string() {
            break invoice;
        }
        assert!(
            Instant::now() < deadline,
            "A's invoice is not queued with a next attempt: {invoice}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let next: chrono::DateTime<chrono::Utc> = invoice["sync"]["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let ahead = next - chrono::Utc::now();
    assert!(
        ahead <= chrono::Duration::seconds(3600),
        "next attempt {ahead} ahead: {invoice}"
    );
    assert!(
        ahead >= chrono::Duration::seconds(3000),
        "the Retry-After (clamped to an hour) is honoured: {invoice}"
    );
    let throttled: u64 = app
        .sandbox
        .state(&app.key)
        .unwrap()
        .counts
        .iter()
        .filter(|(call, _)| call.ends_with(" 429"))
        .map(|(_, n)| n)
        .sum();
    assert!(throttled >= 1, "the fault was hit");
    assert!(app.boekingen().is_empty());

    // B keeps syncing.
    let invoice = app
        .wait_for_status("kantoor-b", "fb", &["synced"], 20)
        .await;
    let booked = app.sandbox.state(&key_b).unwrap().verkoopboekingen;
    assert_eq!(booked.len(), 1, "{booked:?}");
    assert_eq!(invoice["sync"]["snelstart_id"], booked[0]["id"]);
    // A stays queued (no panic left it in_progress).
    let (_, invoice) = app.get("/administraties/kantoor-a/invoices/fa").await;
    assert_eq!(invoice["sync"]["status"], "queued", "{invoice}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absurd_token_lifetime_does_not_stop_bookings() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    // From the first token on, SnelStart announces a lifetime that fits no clock.
    app.sandbox.set_faults(Faults {
        expires_in: Some(json!(u64::MAX)),
        ..Faults::default()
    });
    active_administratie(&app, "kantoor", &app.key).await;
    put_final(&app, "kantoor", "f1", "2026-001").await;
    let invoice = app.wait_for_status("kantoor", "f1", &["synced"], 20).await;
    assert_booked_once(&app, &invoice, "2026-001");

    // The token really lives an hour: when it dies early the client renews it (it trusted it
    // for at most a day, and a token older than a few seconds is renewed on a 401).
    tokio::time::sleep(Duration::from_secs(6)).await;
    app.sandbox.expire_tokens(&app.key);
    let tokens = app.sandbox.token_requests();
    put_final(&app, "kantoor", "f2", "2026-002").await;
    let invoice = app.wait_for_status("kantoor", "f2", &["synced"], 20).await;
    assert_booked_once(&app, &invoice, "2026-002");
    assert!(app.sandbox.token_requests() > tokens);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_answer_to_the_booking_is_looked_up_not_posted_again() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    active_administratie(&app, "kantoor", &app.key).await;
    // The booking is committed, but its answer is 2 MiB of (valid, padded) JSON.
    app.sandbox.set_faults(Faults {
        oversized: Some(OversizedFault {
            bytes: 2 * 1024 * 1024,
            aim: Aim::route(1, BOOKING_POST),
        }),
        ..Faults::default()
    });
    put_final(&app, "kantoor", "f1", "2026-001").await;
    let invoice = app.wait_for_status("kantoor", "f1", &["synced"], 30).await;
    assert_booked_once(&app, &invoice, "2026-001");
    assert_eq!(app.sandbox.faults().oversized, None, "the fault was hit");
    assert_eq!(count(&app, &app.key, &format!("{BOOKING_POST} 201")), 1);
    assert!(
        count(&app, &app.key, "GET /v2/verkoopfacturen 200") >= 1,
        "the outcome was unknown, so the invoice was looked up"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_answered_with_a_non_guid_id_is_synced_with_the_real_guid() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    active_administratie(&app, "kantoor", &app.key).await;
    app.sandbox.set_faults(Faults {
        bad_id: Some(BadIdFault {
            id: json!("not-a-guid"),
            aim: Aim::route(1, BOOKING_POST),
        }),
        ..Faults::default()
    });
    put_final(&app, "kantoor", "f1", "2026-001").await;
    let invoice = app.wait_for_status("kantoor", "f1", &["synced"], 30).await;
    assert_booked_once(&app, &invoice, "2026-001");
    assert_eq!(app.sandbox.faults().bad_id, None, "the fault was hit");
    assert_eq!(count(&app, &app.key, &format!("{BOOKING_POST} 201")), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed_and_the_invoice_is_not_lost() {
    // Where the redirect points: it counts every connection it gets.
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target_addr = target.local_addr().unwrap();
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = reached.clone();
    let accept = tokio::spawn(async move {
        while let Ok((stream, _)) = target.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });

    let app = spawn_app(Db::Sqlite).await.unwrap();
    active_administratie(&app, "kantoor", &app.key).await;
    // 307 keeps the method: a client that follows it would POST the booking elsewhere.
    app.sandbox.set_faults(Faults {
        redirect: Some(RedirectFault {
            location: format!("http://{target_addr}/v2/verkoopboekingen"),
            status: 307,
            aim: Aim::route(1, BOOKING_POST),
        }),
        ..Faults::default()
    });
    put_final(&app, "kantoor", "f1", "2026-001").await;
    let invoice = app.wait_for_status("kantoor", "f1", &["synced"], 30).await;
    assert_booked_once(&app, &invoice, "2026-001");
    assert_eq!(app.sandbox.faults().redirect, None, "the fault was hit");
    assert_eq!(count(&app, &app.key, &format!("{BOOKING_POST} 307")), 1);
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the redirect target got a request"
    );
    accept.abort();
    app.stop().await;
}
