//! Issue 18 end to end (product §8.3): the reconciliation of a quarter with matched invoices,
//! one missing in SnelStart, one booked in SnelStart by hand, one changed and one deleted
//! there — the differences, the class totals to the cent, the CSV and the SnelStart calls it
//! costs — on SQLite and PostgreSQL; the 503 when the call budget cannot serve it; and the
//! preview before ticking, which sends nothing and writes nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Db, TOKEN, TestApp, sandbox_call, spawn_app_with};

fn state(app: &TestApp) -> Value {
    serde_json::to_value(app.sandbox.state(&app.key).unwrap()).unwrap()
}

/// The sandbox's call counters for our key ("METHOD /v2/template STATUS" → n).
fn counts(app: &TestApp) -> BTreeMap<String, u64> {
    app.sandbox.state(&app.key).unwrap().counts
}

fn delta(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter_map(|(k, n)| {
            let d = n - before.get(k).copied().unwrap_or(0);
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}

fn ledger_id(app: &TestApp, nummer: i64) -> String {
    state(app)["grootboeken"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["nummer"] == nummer)
        .and_then(|g| g["id"].as_str())
        .unwrap()
        .to_owned()
}

fn relatie_id(app: &TestApp, code: i64) -> String {
    app.relaties()
        .iter()
        .find(|r| r["relatiecode"] == code)
        .and_then(|r| r["id"].as_str())
        .unwrap()
        .to_owned()
}

async fn invoice(
    app: &TestApp,
    adm: &str,
    id: &str,
    number: &str,
    date: &str,
    term: i64,
    lines: Value,
) {
    let (status, body) = app
        .put(
            &format!("/administraties/{adm}/invoices/{id}"),
            json!({"number": number, "relation_id": "r1", "date": date, "payment_term_days": term, "status": "final", "lines": lines}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

fn line(price: &str, vat: &str) -> Value {
    json!({"description": "Advies", "quantity": "1", "unit_price": price, "vat": vat})
}

/// Builds the quarter: f1, f2, f6 matched; f3 changed and f4 deleted by the accountant; f5
/// missing (SnelStart cannot hold its payment term, so it failed); HAND-1 booked by hand.
async fn quarter(app: &TestApp, adm: &str) {
    app.setup_administratie(adm).await;
    app.add_relation(adm, "r1", "1001", true).await;
    invoice(
        app,
        adm,
        "f1",
        "2026-001",
        "2026-01-15",
        14,
        json!([line("100.00", "high"), line("50.00", "low")]),
    )
    .await;
    invoice(
        app,
        adm,
        "f2",
        "2026-002",
        "2026-02-10",
        14,
        json!([line("200.00", "zero")]),
    )
    .await;
    invoice(
        app,
        adm,
        "f3",
        "2026-003",
        "2026-02-20",
        14,
        json!([line("80.00", "high")]),
    )
    .await;
    invoice(
        app,
        adm,
        "f4",
        "2026-004",
        "2026-03-01",
        14,
        json!([line("40.00", "high")]),
    )
    .await;
    invoice(
        app,
        adm,
        "f5",
        "2026-005",
        "2026-03-10",
        1500,
        json!([line("10.00", "high")]),
    )
    .await;
    invoice(
        app,
        adm,
        "f6",
        "2026-006",
        "2026-03-20",
        14,
        json!([line("50.00", "reverse_charge")]),
    )
    .await;
    // Outside the period: not counted.
    invoice(
        app,
        adm,
        "f7",
        "2026-007",
        "2026-04-01",
        14,
        json!([line("999.00", "high")]),
    )
    .await;
    let (status, body) = app
        .post(&format!(
            "/administraties/{adm}/integrations/snelstart/activate"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut booking = BTreeMap::new();
    for id in ["f1", "f2", "f3", "f4", "f6", "f7"] {
        let body = app.wait_for_status(adm, id, &["synced"], 20).await;
        booking.insert(
            id,
            body["sync"]["snelstart_id"].as_str().unwrap().to_owned(),
        );
    }
    app.wait_for_status(adm, "f5", &["failed"], 20).await;
    // The first read-back pass (a full scan) is done before SnelStart changes, so the
    // reconciliation itself finds the deletion.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = app.get(&format!("/administraties/{adm}/invoices/f1")).await;
        if body["payment"]["status"] == "open" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first read-back never ran: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The accountant raises f3 to 89.00 + 16.80 btw, and deletes f4.
    app.sandbox
        .accountant_edit(
            &app.key,
            &booking["f3"],
            &json!({"factuurbedrag": 105.80,
                    "boekingsregels": [{"grootboek": {"id": ledger_id(app, 8000)}, "bedrag": 89.00, "btwSoort": "Hoog"}],
                    "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": 16.80}]}),
        )
        .unwrap();
    let (status, body) = sandbox_call(
        app,
        reqwest::Method::DELETE,
        &format!("verkoopboekingen/{}", booking["f4"]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // A sale booked in SnelStart by hand: 1,000.00 + 210.00 btw.
    let (status, body) = sandbox_call(
        app,
        reqwest::Method::POST,
        "verkoopboekingen",
        Some(json!({"factuurnummer": "HAND-1", "factuurdatum": "2026-03-15", "klant": {"id": relatie_id(app, 1001)},
                    "factuurbedrag": 1210.00,
                    "boekingsregels": [{"grootboek": {"id": ledger_id(app, 8000)}, "bedrag": 1000.00, "btwSoort": "Hoog"}],
                    "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": 210.00}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

async fn reconcile_quarter(app: &TestApp) {
    let adm = "kantoor";
    quarter(app, adm).await;
    let path = format!("/administraties/{adm}/reconciliation?from=2026-01-01&to=2026-03-31");
    let before = counts(app);
    let (status, r) = app.get(&path).await;
    assert_eq!(status, 200, "{r}");
    let calls = delta(&before, &counts(app));

    assert_eq!(
        r["period"],
        json!({"from": "2026-01-01", "to": "2026-03-31"})
    );
    assert!(
        r["checked_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("20")),
        "{r}"
    );
    assert_eq!(
        r["radar360"],
        json!({"count": 6, "net": "530.00", "vat": "52.80", "gross": "582.80", "by_class": {
            "high": {"base": "230.00", "vat": "48.30"},
            "low": {"base": "50.00", "vat": "4.50"},
            "zero": {"base": "250.00", "vat": "0.00"}}})
    );
    assert_eq!(
        r["snelstart"],
        json!({"count": 5, "gross": "1741.30", "by_class": {
            "high": {"base": "1189.00", "vat": "247.80"},
            "low": {"base": "50.00", "vat": "4.50"},
            "zero": {"base": "250.00", "vat": "0.00"}}})
    );
    assert_eq!(r["matched"], 3, "f1, f2 and f6: {r}");
    assert_eq!(
        r["differences"],
        json!([
            {"kind": "amount_differs", "invoice_id": "f3", "number": "2026-003", "radar360": "96.80", "snelstart": "105.80"},
            {"kind": "deleted_in_snelstart", "invoice_id": "f4", "number": "2026-004", "radar360": "48.40", "snelstart": null},
            {"kind": "missing_in_snelstart", "invoice_id": "f5", "number": "2026-005", "radar360": "12.10", "snelstart": null},
            {"kind": "unknown_in_radar360", "invoice_id": null, "number": "HAND-1", "radar360": null, "snelstart": "1210.00"}
        ])
    );
    // What it cost: one page of verkoopfacturen, one of mutations, one read of the booking the
    // listing lacks (404: deleted); the ledgers come from the booking's cache. No write.
    assert_eq!(
        calls.get("GET /v2/verkoopfacturen 200"),
        Some(&1),
        "{calls:?}"
    );
    assert_eq!(
        calls.get("GET /v2/grootboekmutaties 200"),
        Some(&1),
        "{calls:?}"
    );
    assert_eq!(
        calls.get("GET /v2/verkoopboekingen/{id} 404"),
        Some(&1),
        "{calls:?}"
    );
    let other: u64 = calls
        .iter()
        .filter(|(k, _)| {
            !k.contains("verkoopfacturen")
                && !k.contains("grootboekmutaties")
                && !k.contains("verkoopboekingen/{id}")
        })
        .map(|(k, n)| {
            assert!(k.starts_with("GET /v2/grootboeken "), "unexpected call {k}");
            *n
        })
        .sum();
    assert!(other <= 1, "{calls:?}");

    // The CSV: `;`, a header row, decimal comma.
    let res = app
        .client
        .get(app.url(&format!("{path}&format=csv")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let text = res.text().await.unwrap();
    assert_eq!(
        text,
        "kind;invoice_id;number;radar360;snelstart\r\n\
         amount_differs;f3;2026-003;96,80;105,80\r\n\
         deleted_in_snelstart;f4;2026-004;48,40;\r\n\
         missing_in_snelstart;f5;2026-005;12,10;\r\n\
         unknown_in_radar360;;HAND-1;;1210,00\r\n"
    );

    // A period is checked before SnelStart is asked anything.
    let before = app.sandbox.call_count(&app.key);
    let (status, body) = app
        .get(&format!(
            "/administraties/{adm}/reconciliation?from=2026-01-01&to=2027-01-02"
        ))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "from");
    let (status, body) = app
        .get(&format!(
            "/administraties/{adm}/reconciliation?from=2026-03-01&to=2026-02-01"
        ))
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("to")),
        "{body}"
    );
    let (status, body) = app
        .get(&format!(
            "/administraties/{adm}/reconciliation?from=1-1-2026&to=2026-02-01"
        ))
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("from")),
        "{body}"
    );
    let (status, _) = app
        .get("/administraties/onbekend/reconciliation?from=2026-01-01&to=2026-01-31")
        .await;
    assert_eq!(status, 404);
    assert_eq!(app.sandbox.call_count(&app.key), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_on_sqlite() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await.unwrap();
    reconcile_quarter(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_on_postgres() {
    let Some(app) = spawn_app_with(Db::Postgres, |_| {}).await else {
        return;
    };
    reconcile_quarter(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconciliation_the_call_budget_cannot_serve_now_is_503_with_retry_after() {
    let app = spawn_app_with(Db::Sqlite, |s| s.snelstart.calls_per_minute = 2)
        .await
        .unwrap();
    let adm = "krap";
    app.setup_administratie(adm).await;
    let res = app
        .client
        .get(app.url(&format!(
            "/administraties/{adm}/reconciliation?from=2026-01-01&to=2026-12-31"
        )))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "snelstart_budget", "{body}");
    assert_eq!(app.sandbox.call_count(&app.key), 2, "the budget held");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_shows_what_ticking_would_do_and_sends_and_writes_nothing() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await.unwrap();
    let adm = "voorbeeld";
    app.setup_administratie(adm).await;
    let (status, body) = app
        .post(&format!(
            "/administraties/{adm}/integrations/snelstart/activate"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    app.add_relation(adm, "r1", "1009", false).await;
    invoice(
        &app,
        adm,
        "p1",
        "P-001",
        "2026-05-01",
        14,
        json!([line("100.00", "high")]),
    )
    .await;
    invoice(
        &app,
        adm,
        "p2",
        "P-002",
        "2026-05-02",
        14,
        json!([line("0.00", "high")]),
    )
    .await;
    invoice(
        &app,
        adm,
        "p3",
        "P-this-number-is-far-too-long",
        "2026-05-03",
        14,
        json!([line("10.00", "low")]),
    )
    .await;
    invoice(
        &app,
        adm,
        "p4",
        "P-004",
        "2026-05-04",
        14,
        json!([line("20.00", "zero")]),
    )
    .await;
    let (status, _) = app
        .put(
            &format!("/administraties/{adm}/invoices/p5"),
            json!({"number": "P-005", "relation_id": "r1", "date": "2026-05-05", "payment_term_days": 14, "status": "draft", "lines": [line("5.00", "high")]}),
        )
        .await;
    assert_eq!(status, 201);
    // P-004 is already in SnelStart: the relatie and its sale were booked there by hand.
    let (status, klant) = sandbox_call(
        &app,
        reqwest::Method::POST,
        "relaties",
        Some(json!({"relatiesoort": ["Klant"], "relatiecode": 1009, "naam": "Relatie 1009"})),
    )
    .await;
    assert_eq!(status, 201, "{klant}");
    let (status, body) = sandbox_call(
        &app,
        reqwest::Method::POST,
        "verkoopboekingen",
        Some(json!({"factuurnummer": "P-004", "factuurdatum": "2026-05-04", "klant": {"id": klant["id"]},
                    "factuurbedrag": 20.00,
                    "boekingsregels": [{"grootboek": {"id": ledger_id(&app, 8020)}, "bedrag": 20.00, "btwSoort": "Geen"}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let before_calls = counts(&app);
    let sandbox_before = state(&app);
    let (status, p) = app
        .get(&format!(
            "/administraties/{adm}/relations/r1/snelstart/preview"
        ))
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["relation"], json!({"ok": true, "problems": []}));
    let would: Vec<(&str, &str)> = p["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["invoice_id"].as_str().unwrap(),
                i["would"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        would,
        vec![
            ("p1", "send"),
            ("p2", "skip"),
            ("p3", "fail"),
            ("p4", "already_in_snelstart")
        ]
    );
    assert_eq!(p["invoices"][0]["gross"], "121.00");
    assert_eq!(p["invoices"][0]["date"], "2026-05-01");
    assert_eq!(p["invoices"][2]["problems"][0]["field"], "number");
    assert_eq!(p["totals"], json!({"count": 1, "gross": "121.00"}));

    // Nothing was sent: only reads, and nothing changed in SnelStart …
    let calls = delta(&before_calls, &counts(&app));
    assert!(calls.keys().all(|k| k.starts_with("GET ")), "{calls:?}");
    assert_eq!(calls.get("GET /v2/relaties 200"), Some(&1), "{calls:?}");
    assert_eq!(
        calls.get("GET /v2/verkoopfacturen 200"),
        Some(&1),
        "{calls:?}"
    );
    let after = state(&app);
    for table in ["relaties", "verkoopboekingen", "verkoopfacturen"] {
        assert_eq!(after[table], sandbox_before[table], "{table}");
    }
    // … and nothing was written here: the relation is not ticked, no invoice is queued.
    let (_, relation) = app
        .get(&format!("/administraties/{adm}/relations/r1"))
        .await;
    assert_eq!(relation["snelstart_enabled"], false, "{relation}");
    for id in ["p1", "p2", "p3", "p4"] {
        let (_, inv) = app
            .get(&format!("/administraties/{adm}/invoices/{id}"))
            .await;
        assert!(inv["sync"].is_null(), "{inv}");
    }

    // A non-numeric code: the relation cannot be sent, so neither can its invoices.
    app.add_relation(adm, "r2", "A-12", false).await;
    let (status, body) = app
        .put(
            &format!("/administraties/{adm}/invoices/q1"),
            json!({"number": "Q-001", "relation_id": "r2", "date": "2026-05-01", "payment_term_days": 14, "status": "final", "lines": [line("10.00", "high")]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, p) = app
        .get(&format!(
            "/administraties/{adm}/relations/r2/snelstart/preview"
        ))
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["relation"]["ok"], false);
    assert_eq!(p["relation"]["problems"][0]["code"], "code_not_numeric");
    assert_eq!(p["invoices"][0]["would"], "fail");
    assert_eq!(p["totals"], json!({"count": 0, "gross": "0.00"}));
    let (status, _) = app
        .get(&format!(
            "/administraties/{adm}/relations/onbekend/snelstart/preview"
        ))
        .await;
    assert_eq!(status, 404);
    app.stop().await;
}

/// The browser: log in, open *Aansluiting* for Q1 2026, check the totals and the chart,
/// download the CSV. Screenshots in `target/screenshots/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aansluiting_in_a_real_browser() {
    if !crate::ui::browser_installed() {
        return;
    }
    let app = spawn_app_with(Db::Sqlite, |_| {}).await.unwrap();
    let adm = "kantoor";
    quarter(&app, adm).await;
    let (status, body) = app
        .put(
            &format!("/administraties/{adm}/admins/bea"),
            json!({"name": "Bea", "email": "bea-kantoor@kantoor.nl", "password": "correct horse battery staple"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let driver = crate::ui::Chromedriver::start().await.unwrap();
    let client = driver.session().await.unwrap();
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let ui = crate::ui::Ui {
        c: &client,
        app: &app,
        shots,
    };
    let walked = aansluiting_walk(&ui).await;
    if walked.is_err() {
        let _ = ui.shot("aansluiting-failure").await;
    }
    let _ = client.close().await;
    drop(driver);
    walked.unwrap();
    app.stop().await;
}

async fn aansluiting_walk(ui: &crate::ui::Ui<'_>) -> anyhow::Result<()> {
    ui.goto("/login").await?;
    ui.wait_on("/login", "form[action='/login']").await?;
    ui.fill("email", "bea-kantoor@kantoor.nl").await?;
    ui.fill("password", "correct horse battery staple").await?;
    ui.click_text("form[action='/login']", "Inloggen").await?;
    ui.wait_on("/koppelingen", "#snelstart").await?;
    ui.click_text("header", "Aansluiting").await?;
    ui.wait_on("/aansluiting", "form.filter").await?;
    ui.goto("/aansluiting?soort=kwartaal&jaar=2026&nr=1")
        .await?;
    let totals = ui.wait_on("/aansluiting", "#totalen").await?.text().await?;
    for want in [
        "€ 230,00",
        "€ 1.189,00",
        "€ 48,30",
        "€ 247,80",
        "€ 250,00",
        "€ 582,80",
        "€ 1.741,30",
    ] {
        anyhow::ensure!(totals.contains(want), "{want} missing in {totals:?}");
    }
    let high = ui.css("#totalen tr[data-class=high]").await?.text().await?;
    anyhow::ensure!(
        high.contains("€ 230,00") && high.contains("€ 1.189,00"),
        "{high}"
    );
    // The chart: a Radar360 and a SnelStart bar for each month, with their values.
    let bars =
        ui.c.find_all(fantoccini::Locator::Css("#grafiek rect.bar"))
            .await?;
    anyhow::ensure!(bars.len() == 6, "{} bars", bars.len());
    let mar_snel = ui
        .css("#grafiek rect.snelstart[data-month='2026-03']")
        .await?;
    anyhow::ensure!(mar_snel.attr("data-value").await?.as_deref() == Some("1260.00"));
    let mar_radar = ui
        .css("#grafiek rect.radar360[data-month='2026-03']")
        .await?;
    anyhow::ensure!(mar_radar.attr("data-value").await?.as_deref() == Some("110.50"));
    let jan = ui
        .css("#grafiek rect.radar360[data-month='2026-01']")
        .await?;
    anyhow::ensure!(jan.attr("data-value").await?.as_deref() == Some("175.50"));
    let tall: u32 = mar_snel.attr("height").await?.unwrap_or_default().parse()?;
    let short: u32 = mar_radar
        .attr("height")
        .await?
        .unwrap_or_default()
        .parse()?;
    anyhow::ensure!(tall == 160 && short < tall, "{tall} {short}");
    let diffs = ui.css("#verschillen").await?.text().await?;
    for want in [
        "bedrag wijkt af",
        "verwijderd in SnelStart",
        "ontbreekt in SnelStart",
        "onbekend in Radar360",
        "HAND-1",
    ] {
        anyhow::ensure!(diffs.contains(want), "{want} missing in {diffs:?}");
    }
    ui.css("#verschillen a[href='/facturen/f3']").await?;
    ui.shot("aansluiting").await?;
    // The CSV download, with the browser's session.
    let href = ui
        .css("#csv")
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    // (The page's CSP forbids a script's fetch; the link is followed with the browser's own
    // session cookie instead, as the download does.)
    let cookies: Vec<String> =
        ui.c.get_all_cookies()
            .await?
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect();
    let res = reqwest::Client::new()
        .get(format!("{}{href}", ui.app.base))
        .header("cookie", cookies.join("; "))
        .send()
        .await?;
    anyhow::ensure!(res.status().as_u16() == 200, "{}", res.status());
    anyhow::ensure!(
        res.headers()["content-disposition"]
            .to_str()?
            .contains("aansluiting-kantoor-2026-01-01-2026-03-31.csv")
    );
    let csv = serde_json::Value::String(res.text().await?);
    let csv = csv.as_str().unwrap_or_default();
    anyhow::ensure!(
        csv.starts_with("kind;invoice_id;number;radar360;snelstart\r\n")
            && csv.contains("amount_differs;f3;2026-003;96,80;105,80"),
        "{csv:?}"
    );
    ui.css("#verschillen a[href='/facturen/f3']")
        .await?
        .click()
        .await?;
    ui.wait_on("/facturen/f3", "main").await?;
    ui.shot("aansluiting-factuur").await?;
    Ok(())
}
