//! Issue 12, defects 1 and 2, through the API against the sandbox: an invoice whose outcome
//! is unknown cannot change (409 `outcome_unknown`), and a final invoice's number is unique
//! within its administratie (409 `number_taken`). Both on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use snelstart_sandbox::Faults;

use crate::helpers::{Db, TestApp, spawn_app};

const ADM: &str = "kantoor";

fn lines(amount: &str) -> Value {
    json!([{"description": "Advies", "quantity": "1", "unit_price": amount, "vat": "high"}])
}

async fn active(app: &TestApp) {
    app.setup_administratie(ADM).await;
    let (status, body) = app.add_relation(ADM, "r1", "1001", true).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .post(&format!(
            "/administraties/{ADM}/integrations/snelstart/activate"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
}

fn bookings_numbered(app: &TestApp, number: &str) -> usize {
    app.boekingen()
        .iter()
        .filter(|b| b["factuurnummer"] == number)
        .count()
}

async fn changing_an_invoice_whose_outcome_is_unknown(app: &TestApp) {
    active(app).await;
    // A first invoice makes the relatie, so that later only the booking POST is at stake.
    app.put_invoice(ADM, "f0", "2026-100", "r1", "final", lines("10"))
        .await;
    app.wait_for_status(ADM, "f0", &["synced"], 15).await;

    // The booking POST is committed by SnelStart, but its answer is lost.
    app.sandbox.set_faults(Faults {
        lost_response_rate: 1.0,
        ..Faults::default()
    });
    let (status, body) = app
        .put_invoice(ADM, "f1", "2026-101", "r1", "final", lines("100"))
        .await;
    assert_eq!(status, 201, "{body}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, body) = app.get(&format!("/administraties/{ADM}/invoices/f1")).await;
        if body["sync"]["attempts"].as_u64().unwrap_or(0) >= 1 && body["sync"]["status"] == "queued"
        {
            break;
        }
        assert!(Instant::now() < deadline, "no lost answer seen: {body}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Keep the outcome unknown for a while: every call is now answered 503, so the
    // look-up cannot settle it.
    app.sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(bookings_numbered(app, "2026-101"), 1, "SnelStart has it");

    let (_, before) = app.get(&format!("/administraties/{ADM}/invoices/f1")).await;
    for (number, status, amount) in [
        ("2026-101-B", "final", "100"),
        ("2026-101", "final", "90"),
        ("2026-101", "draft", "100"),
    ] {
        let (code, body) = app
            .put_invoice(ADM, "f1", number, "r1", status, lines(amount))
            .await;
        assert_eq!(code, 409, "changed while the outcome is unknown: {body}");
        assert_eq!(body["error"], "outcome_unknown", "{body}");
    }
    let (code, body) = app
        .put_invoice(ADM, "f1", "2026-101", "r1", "final", lines("100"))
        .await;
    assert!(code == 200, "the same PUT again is fine: {code} {body}");
    let (_, after) = app.get(&format!("/administraties/{ADM}/invoices/f1")).await;
    assert_eq!(before["number"], after["number"], "nothing was written");
    assert_eq!(before["totals"], after["totals"], "nothing was written");

    // SnelStart answers again: the look-up finds the booking and adopts it.
    app.sandbox.set_faults(Faults::default());
    let body = app.wait_for_status(ADM, "f1", &["synced"], 30).await;
    let id = body["sync"]["snelstart_id"].as_str().unwrap();
    let booked: Vec<Value> = app
        .boekingen()
        .into_iter()
        .filter(|b| b["factuurnummer"] == "2026-101")
        .collect();
    assert_eq!(booked.len(), 1, "booked exactly once");
    assert_eq!(booked[0]["id"], id, "the invoice shows SnelStart's booking");
    assert_eq!(
        bookings_numbered(app, "2026-101-B"),
        0,
        "never under a new number"
    );
    assert_eq!(app.boekingen().len(), 2);

    // Settled: the invoice is synced, so a change is now refused as booked.
    let (code, body) = app
        .put_invoice(ADM, "f1", "2026-101-B", "r1", "final", lines("100"))
        .await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["error"], "invoice_locked", "{body}");
}

async fn two_final_invoices_with_one_number(app: &TestApp) {
    active(app).await;
    let (status, body) = app
        .put_invoice(ADM, "f1", "2026-200", "r1", "final", lines("100"))
        .await;
    assert_eq!(status, 201, "{body}");
    let first = app.wait_for_status(ADM, "f1", &["synced"], 15).await;

    // Another final invoice with that number: refused, naming the field; nothing written.
    let (status, body) = app
        .put_invoice(ADM, "f2", "2026-200", "r1", "final", lines("100"))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "number_taken", "{body}");
    assert_eq!(body["field"], "number", "{body}");
    let (status, _) = app.get(&format!("/administraties/{ADM}/invoices/f2")).await;
    assert_eq!(status, 404, "nothing half-written");

    // Drafts may share the number; making one final is refused the same way.
    let (status, body) = app
        .put_invoice(ADM, "f2", "2026-200", "r1", "draft", lines("100"))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .put_invoice(ADM, "f2", "2026-200", "r1", "final", lines("100"))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "number_taken", "{body}");
    let (_, body) = app.get(&format!("/administraties/{ADM}/invoices/f2")).await;
    assert_eq!(body["status"], "draft", "still the draft: {body}");

    // With its own number it is booked, as its own booking.
    let (status, body) = app
        .put_invoice(ADM, "f2", "2026-201", "r1", "final", lines("100"))
        .await;
    assert_eq!(status, 200, "{body}");
    let second = app.wait_for_status(ADM, "f2", &["synced"], 15).await;
    assert_ne!(
        first["sync"]["snelstart_id"], second["sync"]["snelstart_id"],
        "a SnelStart id belongs to one invoice"
    );
    assert_eq!(app.boekingen().len(), 2);

    // A failed final invoice keeps its number.
    let (status, body) = app
        .put_invoice(
            ADM,
            "f3",
            "2026-202-MET-EEN-VEEL-TE-LANG-NUMMER",
            "r1",
            "final",
            lines("5"),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    app.wait_for_status(ADM, "f3", &["failed"], 15).await;
    let (status, body) = app
        .put_invoice(
            ADM,
            "f4",
            "2026-202-MET-EEN-VEEL-TE-LANG-NUMMER",
            "r1",
            "final",
            lines("5"),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "number_taken", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_cannot_change_while_its_outcome_is_unknown_sqlite() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    changing_an_invoice_whose_outcome_is_unknown(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_cannot_change_while_its_outcome_is_unknown_postgres() {
    let Some(app) = spawn_app(Db::Postgres).await else {
        return;
    };
    changing_an_invoice_whose_outcome_is_unknown(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_invoice_number_is_unique_sqlite() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    two_final_invoices_with_one_number(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_invoice_number_is_unique_postgres() {
    let Some(app) = spawn_app(Db::Postgres).await else {
        return;
    };
    two_final_invoices_with_one_number(&app).await;
    app.stop().await;
}
