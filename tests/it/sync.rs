//! The seed end to end through the API: settings, activation, ticks, sync exactly once,
//! failure with reason and hint, fix and retry — on SQLite and on PostgreSQL.

use serde_json::json;

use crate::helpers::{Db, TestApp, spawn_app};

async fn seed_walkthrough(app: &TestApp) {
    let adm = "kantoor";
    app.setup_administratie(adm).await;

    // The key is write-only.
    let (_, overview) = app
        .get(&format!("/administraties/{adm}/integrations"))
        .await;
    assert!(
        !overview.to_string().contains(&app.key),
        "the koppelsleutel must never be returned"
    );
    assert_eq!(overview[0]["state"], "inactive");

    // A relation with letters in its code cannot be ticked, and never reaches SnelStart.
    let (status, body) = app.add_relation(adm, "letters", "AB12", true).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "code", "{body}");

    // Ticked numeric relation; a final invoice queued while inactive waits.
    let (status, body) = app.add_relation(adm, "r1", "1001", true).await;
    assert_eq!(status, 200, "{body}");
    let lines = json!([{"description": "Jaarrekening", "quantity": "1", "unit_price": "100.00", "vat": "high"},
                       {"description": "Boek", "quantity": 2, "unit_price": "12.50", "vat": "low"}]);
    let (status, body) = app
        .put_invoice(adm, "f1", "2026-001", "r1", "final", lines.clone())
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["totals"]["gross"], "148.25", "{body}");
    assert_eq!(body["sync"]["status"], "queued");
    let (status, body) = app
        .put_invoice(adm, "f1", "2026-001", "r1", "final", lines.clone())
        .await;
    assert_eq!(status, 200, "repeating a PUT changes nothing: {body}");

    // A draft and an invoice of an un-ticked relation are never sent.
    app.put_invoice(adm, "draft", "2026-002", "r1", "draft", lines.clone())
        .await;
    app.add_relation(adm, "r2", "1002", false).await;
    app.put_invoice(adm, "unticked", "2026-003", "r2", "final", lines.clone())
        .await;

    // Activation: accepted with the sandbox's seeded ledgers and journal.
    let (status, body) = app
        .post(&format!(
            "/administraties/{adm}/integrations/snelstart/activate"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "active");

    let body = app.wait_for_status(adm, "f1", &["synced"], 10).await;
    let snelstart_id = body["sync"]["snelstart_id"].as_str().unwrap().to_owned();
    let boekingen = app.boekingen();
    assert_eq!(boekingen.len(), 1, "booked exactly once: {boekingen:?}");
    assert_eq!(boekingen[0]["id"], snelstart_id.as_str());
    assert_eq!(boekingen[0]["factuurnummer"], "2026-001");
    assert_eq!(
        boekingen[0]["factuurbedrag"]
            .to_string()
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        "148.25".parse().unwrap()
    );
    let (_, draft) = app
        .get(&format!("/administraties/{adm}/invoices/draft"))
        .await;
    assert!(draft["sync"].is_null(), "{draft}");
    let (_, unticked) = app
        .get(&format!("/administraties/{adm}/invoices/unticked"))
        .await;
    assert!(unticked["sync"].is_null(), "{unticked}");
    let codes: Vec<i64> = app
        .relaties()
        .iter()
        .filter_map(|r| r["relatiecode"].as_i64())
        .filter(|c| *c > 0)
        .collect();
    assert_eq!(
        codes,
        [1001],
        "only the ticked numeric relation is in SnelStart"
    );

    // A synced invoice cannot be changed.
    let changed =
        json!([{"description": "Anders", "quantity": "1", "unit_price": "1", "vat": "high"}]);
    let (status, body) = app
        .put_invoice(adm, "f1", "2026-001", "r1", "final", changed)
        .await;
    assert_eq!(status, 409, "{body}");

    // A failure SnelStart reports (the high ledger was made inactive): reason and hint, then
    // fixed and offered again.
    app.sandbox.set_ledger_active(&app.key, 8000, false);
    app.put_invoice(adm, "f2", "2026-004", "r1", "final", lines.clone())
        .await;
    let body = app.wait_for_status(adm, "f2", &["failed"], 10).await;
    assert!(body["sync"]["error"].as_str().unwrap().len() > 10, "{body}");
    assert!(body["sync"]["hint"].as_str().is_some(), "{body}");
    let (_, log) = app
        .get(&format!("/administraties/{adm}/sync-log?status=failed"))
        .await;
    assert_eq!(log[0]["invoice_id"], "f2", "{log}");
    app.sandbox.set_ledger_active(&app.key, 8000, true);
    let (status, body) = app
        .post(&format!("/administraties/{adm}/invoices/f2/retry"))
        .await;
    assert_eq!(status, 200, "{body}");
    app.wait_for_status(adm, "f2", &["synced"], 10).await;
    assert_eq!(app.boekingen().len(), 2);

    // A local refusal (invoice number too long for SnelStart) names the field; a corrected
    // PUT queues it again.
    app.put_invoice(
        adm,
        "f3",
        "2026-0005-VEEL-TE-LANG-NUMMER",
        "r1",
        "final",
        lines.clone(),
    )
    .await;
    let body = app.wait_for_status(adm, "f3", &["failed"], 10).await;
    assert!(
        body["sync"]["error"]
            .as_str()
            .unwrap()
            .contains("Het factuurnummer is te lang"),
        "{body}"
    );
    let (status, _) = app
        .put_invoice(adm, "f3", "2026-005", "r1", "final", lines)
        .await;
    assert_eq!(status, 200);
    app.wait_for_status(adm, "f3", &["synced"], 10).await;
    assert_eq!(app.boekingen().len(), 3);

    // The Beheerder was told about the failures.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, notes) = app
            .get(&format!("/administraties/{adm}/notifications"))
            .await;
        if notes.as_array().is_some_and(|n| !n.is_empty()) {
            assert_eq!(notes[0]["to"], format!("bea-{adm}@kantoor.nl"));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no notification stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_end_to_end_on_sqlite() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    seed_walkthrough(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_end_to_end_on_postgres() {
    let Some(app) = spawn_app(Db::Postgres).await else {
        return;
    };
    seed_walkthrough(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_is_refused_with_problems_for_a_bad_key_or_a_missing_ledger() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let adm = "kantoor";
    app.setup_administratie(adm).await;
    app.sandbox.remove_ledger(&app.key, 8010);
    let (status, body) = app
        .post(&format!(
            "/administraties/{adm}/integrations/snelstart/activate"
        ))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "activation_failed");
    assert!(body["problems"].to_string().contains("11"), "{body}");

    app.sandbox.revoke_key(&app.key);
    let (status, body) = app
        .post(&format!(
            "/administraties/{adm}/integrations/snelstart/activate"
        ))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "key_refused"),
        "{body}"
    );
    let (_, overview) = app
        .get(&format!("/administraties/{adm}/integrations"))
        .await;
    assert_eq!(overview[0]["active"], false);
    app.stop().await;
}
