//! The activation link (product §8.1, issue 16) against the sandbox over HTTP: `connect`
//! makes the activation URL, the sandbox's consent page delivers the key to
//! `POST /webhooks/snelstart` once, and `Regenerate` / `Delete` follow; forged, replayed,
//! oversized and cross-administratie messages change nothing; neither the key nor the
//! reference is stored in clear. The browser walk clicks *Koppelen met SnelStart* through
//! the consent page and back.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, free_port, koppelsleutel, spawn_app, spawn_app_with};
use crate::notify::{Sink, notifications, wait_for};

/// The app's short name at SnelStart (the sandbox's `--app`).
const APP: &str = "radar360";

#[tokio::test]
async fn connect_is_unavailable_without_an_app_short_name() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    app.setup_administratie("kantoor").await;
    let (status, body) = app
        .post("/administraties/kantoor/integrations/snelstart/connect")
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "connect_unavailable", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn connect_sends_the_browser_through_the_consent_page_and_back() {
    // Arrange
    let app = spawn_app_with(Db::Sqlite, |s| {
        s.snelstart.app_short_name = Some("radar360".to_owned());
        s.snelstart.activation_url = s.snelstart.api_url.replace("/v2", "/couplings/activate");
    })
    .await
    .unwrap();
    app.sandbox
        .register_app("radar360", &format!("{}/webhooks/snelstart", app.base));
    app.setup_administratie("kantoor").await;
    // Act
    let (status, body) = app
        .post("/administraties/kantoor/integrations/snelstart/connect")
        .await;
    // Assert: the URL carries a fresh 256-bit reference and the way back.
    assert_eq!(status, 200, "{body}");
    let url = body["activation_url"].as_str().unwrap().to_owned();
    let prefix = format!(
        "{}/couplings/activate/radar360?referenceKey=",
        app.sandbox.base_url()
    );
    assert!(url.starts_with(&prefix), "{url}");
    let (reference, success) = url[prefix.len()..].split_once("&successUrl=").unwrap();
    assert_eq!(reference.len(), 64);
    assert!(
        success.ends_with("%2Fkoppelingen%3Fgekoppeld%3Dsnelstart"),
        "{success}"
    );
    let expires: chrono::DateTime<chrono::Utc> = body["reference_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let hours = (expires - chrono::Utc::now()).num_minutes();
    println!("reference expires in {hours} minutes");
    assert!((23 * 60..=24 * 60).contains(&hours), "{hours}");
    let (_, again) = app
        .post("/administraties/kantoor/integrations/snelstart/connect")
        .await;
    assert_ne!(again["activation_url"], body["activation_url"]);

    // The consent page and its form, as a browser would.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let success_url = decode(success);
    let approve = browser
        .post(format!(
            "{}/couplings/activate/radar360",
            app.sandbox.base_url()
        ))
        .form(&[
            ("referenceKey", reference),
            ("successUrl", success_url.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(approve.status(), 303);
    assert_eq!(approve.headers()["location"], success_url.as_str());
    let deliveries = app.sandbox.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].body["ActionType"], "Create");
    assert_eq!(deliveries[0].body["ReferenceKey"], reference);
    app.stop().await;
}

#[tokio::test]
async fn connect_for_an_unknown_administratie_is_404() {
    let app = spawn_app_with(Db::Sqlite, |s| {
        s.snelstart.app_short_name = Some("radar360".to_owned());
    })
    .await
    .unwrap();
    let (status, body) = app
        .post("/administraties/nergens/integrations/snelstart/connect")
        .await;
    assert_eq!(status, 404, "{body}");
    app.stop().await;
}

/// Percent-decoding of what `connect` encodes.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The app with the link flow on and the sandbox's app `radar360` pointing at its webhook;
/// it listens on a known port so that `http.public_url` is its real address. With
/// `smtp_port`, notifications are mailed there.
async fn link_app(db: Db, smtp_port: Option<u16>) -> Option<TestApp> {
    let port = free_port();
    let app = spawn_app_with(db, |s| {
        s.http.listen = format!("127.0.0.1:{port}");
        s.http.public_url = Some(format!("http://127.0.0.1:{port}"));
        s.snelstart.app_short_name = Some(APP.to_owned());
        s.snelstart.activation_url = s.snelstart.api_url.replace("/v2", "/couplings/activate");
        if let Some(smtp) = smtp_port {
            s.smtp.url = Some(format!("smtp://127.0.0.1:{smtp}"));
            s.notify.retry_base_ms = 20;
            s.notify.retry_max_ms = 150;
        }
    })
    .await?;
    app.sandbox
        .register_app(APP, &format!("{}/webhooks/snelstart", app.base));
    Some(app)
}

/// A fresh activation link of `adm`: (the activation URL, its reference, its successUrl).
async fn activation_link(app: &TestApp, adm: &str) -> (String, String, String) {
    let (status, body) = app
        .post(&format!(
            "/administraties/{adm}/integrations/snelstart/connect"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let url = body["activation_url"].as_str().unwrap().to_owned();
    let query: HashMap<String, String> = reqwest::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    (
        url,
        query["referenceKey"].clone(),
        query["successUrl"].clone(),
    )
}

/// Connect → the consent page → *Toestaan*, as a browser does; checks that SnelStart's
/// `Create` was answered 200 and returns (the reference, the key SnelStart made).
async fn approve(app: &TestApp, adm: &str) -> (String, String) {
    let (url, reference, success) = activation_link(app, adm).await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Toestaan"));
    let before = app.sandbox.deliveries().len();
    let approved = browser
        .post(format!(
            "{}/couplings/activate/{APP}",
            app.sandbox.base_url()
        ))
        .form(&[
            ("referenceKey", reference.as_str()),
            ("successUrl", success.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 303);
    assert_eq!(approved.headers()["location"], success.as_str());
    let deliveries = app.sandbox.deliveries();
    assert_eq!(deliveries.len(), before + 1, "one Create, no retry");
    let create = deliveries.last().unwrap();
    assert_eq!(create.body["ActionType"], "Create");
    assert_eq!(create.body["ReferenceKey"], reference.as_str());
    assert_eq!(create.status, Some(200), "{create:?}");
    let key = create.body["KoppelSleutel"].as_str().unwrap().to_owned();
    (reference, key)
}

/// POSTs a raw body to the webhook: (status, answer).
async fn post_webhook(app: &TestApp, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/webhooks/snelstart", app.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The sandbox's coupling control (`regenerate` or `delete`) over HTTP.
async fn sandbox_control(app: &TestApp, what: &str, key: &str) -> Value {
    let res = app
        .client
        .post(format!(
            "{}/_sandbox/couplings/{what}",
            app.sandbox.base_url()
        ))
        .json(&json!({ "key": key }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn koppeling(app: &TestApp, adm: &str) -> Value {
    let (status, body) = app
        .get(&format!("/administraties/{adm}/integrations/snelstart"))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls the koppeling until `done` holds (at most 20 s).
async fn wait_koppeling(app: &TestApp, adm: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let k = koppeling(app, adm).await;
        if done(&k) {
            return k;
        }
        assert!(Instant::now() < deadline, "koppeling of {adm} stuck at {k}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn active(k: &Value) -> bool {
    k["state"] == "active" && k["problem"].is_null()
}

/// An administratie with a Beheerder and settings, without a key (the link brings it).
async fn setup_without_key(app: &TestApp, adm: &str) {
    let (status, _) = app
        .put(
            &format!("/administraties/{adm}"),
            json!({"name": "Kantoor Link"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .put(
            &format!("/administraties/{adm}/admins/bea"),
            json!({"name": "Bea", "email": format!("bea-{adm}@kantoor.nl")}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = app
        .put(
            &format!("/administraties/{adm}/integrations/snelstart"),
            json!({"vat_codes": {"high": 12, "low": 11, "zero": 10}, "sales_journal_code": 1300, "notify_admin_id": "bea"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

fn lines() -> Value {
    json!([{"description": "Advies", "quantity": "1", "unit_price": "100.00", "vat": "high"}])
}

fn boekingen_of(app: &TestApp, key: &str) -> usize {
    app.sandbox
        .state(key)
        .map(|s| serde_json::to_value(s).unwrap())
        .and_then(|s| s["verkoopboekingen"].as_array().map(Vec::len))
        .unwrap_or(0)
}

/// Every row of every table of the app's database as text (PostgreSQL), or the database
/// file and its write-ahead log as bytes (SQLite): nothing of `secrets` may be in there.
async fn assert_not_stored_in_clear(app: &TestApp, secrets: &[&str]) {
    let url = app.database_url();
    let mut haystacks: Vec<Vec<u8>> = Vec::new();
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap();
        for suffix in ["", "-wal"] {
            if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                haystacks.push(bytes);
            }
        }
        assert!(!haystacks.is_empty(), "no database file at {path}");
    } else {
        let db = Database::connect(url).await.unwrap();
        let backend = db.get_database_backend();
        let tables = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
            ))
            .await
            .unwrap();
        for table in tables {
            let name: String = table.try_get("", "table_name").unwrap();
            let rows = db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT t::text AS row FROM \"{name}\" t"),
                ))
                .await
                .unwrap();
            for row in rows {
                let text: String = row.try_get("", "row").unwrap();
                haystacks.push(text.into_bytes());
            }
        }
    }
    for secret in secrets {
        let needle = secret.as_bytes();
        assert!(
            !haystacks
                .iter()
                .any(|h| h.windows(needle.len()).any(|w| w == needle)),
            "a secret ({}…) is stored in clear",
            &secret[..6]
        );
    }
}

async fn the_whole_link_flow(db: Db) {
    // Arrange: SMTP up, an administratie with a pasted key (the seed's way) and an invoice
    // waiting for a ticked relation.
    let smtp = free_port();
    let Some(sink) = Sink::start(smtp) else {
        return;
    };
    let Some(app) = link_app(db, Some(smtp)).await else {
        return;
    };
    let adm = "kantoor";
    app.setup_administratie(adm).await;
    assert_eq!(koppeling(&app, adm).await["connection"], "pasted");
    app.add_relation(adm, "r1", "1001", true).await;

    // Act: connect → consent → Create.
    let (reference, key) = approve(&app, adm).await;

    // Assert: the key is stored before the answer and the checks make it active.
    let k = wait_koppeling(&app, adm, active).await;
    assert_eq!(k["connection"], "snelstart_link", "{k}");
    assert_eq!(k["key_set"], true);
    let text = k.to_string();
    assert!(!text.contains(&key) && !text.contains(&reference), "{text}");

    // An invoice is booked with the new key, not the pasted one.
    app.put_invoice(adm, "f1", "2026-0001", "r1", "final", lines())
        .await;
    app.wait_for_status(adm, "f1", &["synced"], 20).await;
    assert_eq!(boekingen_of(&app, &key), 1);
    assert_eq!(boekingen_of(&app, &app.key), 0);

    // Act: SnelStart regenerates the key.
    let regenerated = sandbox_control(&app, "regenerate", &key).await;
    let new_key = regenerated["key"].as_str().unwrap().to_owned();
    let delivery = app.sandbox.deliveries().last().cloned().unwrap();
    assert_eq!(delivery.body["ActionType"], "Regenerate");
    assert_eq!(delivery.status, Some(200), "{delivery:?}");
    let old_calls = app.sandbox.call_count(&key);

    // Assert: only the new key is used afterwards.
    wait_koppeling(&app, adm, active).await;
    app.put_invoice(adm, "f2", "2026-0002", "r1", "final", lines())
        .await;
    app.wait_for_status(adm, "f2", &["synced"], 20).await;
    // The same administration (as in SnelStart): f1 moved along, f2 was booked with the
    // new key.
    assert_eq!(boekingen_of(&app, &new_key), 2);
    assert_eq!(
        app.sandbox.call_count(&key),
        old_calls,
        "the old key was used"
    );

    // Act: the koppeling is deleted in SnelStart.
    sandbox_control(&app, "delete", &new_key).await;
    let delivery = app.sandbox.deliveries().last().cloned().unwrap();
    assert_eq!(delivery.body["ActionType"], "Delete");
    assert_eq!(delivery.status, Some(200), "{delivery:?}");

    // Assert: paused at once (stored before the answer), the key gone, no SnelStart call.
    let k = koppeling(&app, adm).await;
    assert_eq!(k["state"], "paused_auth", "{k}");
    assert_eq!(k["problem"], "the koppelsleutel was withdrawn in SnelStart");
    assert_eq!(k["key_set"], false);
    assert!(k["connection"].is_null(), "{k}");
    let (calls, tokens) = (
        app.sandbox.call_count(&new_key),
        app.sandbox.token_requests(),
    );
    app.put_invoice(adm, "f3", "2026-0003", "r1", "final", lines())
        .await;
    let mail = wait_for(20, "the mail about the withdrawn key", || async {
        match sink.received().as_slice() {
            [one] => Ok(one.clone()),
            other => Err(format!("{} mails", other.len())),
        }
    })
    .await;
    assert!(
        mail.contains(&format!("RCPT TO: <bea-{adm}@kantoor.nl>")),
        "{mail}"
    );
    assert!(mail.contains("ingetrokken"), "{mail}");

    // The same Delete again (a replay): 200, nothing more.
    let (status, body) = post_webhook(&app, delivery.body.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "unchanged");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.received().len(), 1, "exactly one e-mail");
    assert_eq!(notifications(&app, adm).await.len(), 1);
    assert_eq!(
        app.sandbox.call_count(&new_key),
        calls,
        "a call after Delete"
    );
    assert_eq!(app.sandbox.token_requests(), tokens, "a token after Delete");
    let (_, f3) = app.get(&format!("/administraties/{adm}/invoices/f3")).await;
    assert_eq!(f3["sync"]["status"], "queued", "{f3}");

    assert_not_stored_in_clear(&app, &[&key, &new_key, &reference]).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_connects_books_with_the_new_key_regenerates_and_deletes_on_sqlite() {
    the_whole_link_flow(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_connects_books_with_the_new_key_regenerates_and_deletes_on_postgres() {
    the_whole_link_flow(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_malformed_expired_and_oversized_messages_change_nothing() {
    // Arrange: a pasted key, and a pending reference of our own.
    let app = link_app(Db::Sqlite, None).await.unwrap();
    let adm = "kantoor";
    app.setup_administratie(adm).await;
    let before = koppeling(&app, adm).await;
    assert_eq!(before["connection"], "pasted");
    let forged_key = koppelsleutel("forged");
    app.sandbox.add_key(&forged_key);

    // A forged Create with a reference nobody made: 404.
    let forged = json!({"KoppelSleutel": forged_key, "ActionType": "Create", "ReferenceKey": "a".repeat(64)});
    let (status, body) = post_webhook(&app, forged.to_string()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "unknown_reference");
    // Regenerate or Delete for a pending reference (not the connection): 404.
    let (_, reference, _) = activation_link(&app, adm).await;
    for action in ["Regenerate", "Delete"] {
        let msg =
            json!({"KoppelSleutel": forged_key, "ActionType": action, "ReferenceKey": reference});
        let (status, body) = post_webhook(&app, msg.to_string()).await;
        assert_eq!(status, 404, "{action}: {body}");
    }
    // An expired pending reference: 404.
    let db = Database::connect(app.database_url()).await.unwrap();
    db.execute_unprepared(
        "UPDATE connect_references SET expires_at = '2000-01-01T00:00:00.000000+00:00'",
    )
    .await
    .unwrap();
    let expired =
        json!({"KoppelSleutel": forged_key, "ActionType": "Create", "ReferenceKey": reference});
    let (status, body) = post_webhook(&app, expired.to_string()).await;
    assert_eq!(status, 404, "{body}");

    // Malformed: 400 naming the property; not an object, not JSON.
    let (status, body) = post_webhook(
        &app,
        json!({"ActionType": "Upsert", "ReferenceKey": "r"}).to_string(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "ActionType", "{body}");
    let (status, body) = post_webhook(
        &app,
        json!({"actiontype": "create", "referencekey": "r"}).to_string(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "KoppelSleutel", "{body}");
    for raw in ["[1, 2]", "not json", ""] {
        let (status, body) = post_webhook(&app, raw.to_owned()).await;
        assert_eq!(status, 400, "{raw:?}: {body}");
    }

    // Oversized (64 KB + 1): 413, as JSON.
    let mut big = json!({"KoppelSleutel": forged_key, "ActionType": "Create", "ReferenceKey": reference, "Pad": ""}).to_string();
    let pad = 64 * 1024 + 1 - big.len();
    big = big.replace("\"Pad\":\"\"", &format!("\"Pad\":\"{}\"", "x".repeat(pad)));
    assert_eq!(big.len(), 64 * 1024 + 1);
    let (status, body) = post_webhook(&app, big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "too_large", "{body}");

    // Assert: nothing changed, and the forged key was never used.
    let after = koppeling(&app, adm).await;
    assert_eq!(after, before);
    assert_eq!(app.sandbox.call_count(&forged_key), 0);
    assert!(notifications(&app, adm).await.is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_create_notifies_no_one_again_and_a_pasted_key_ends_the_link() {
    // Arrange: settings whose journal does not exist in SnelStart, so the checks fail.
    let app = link_app(Db::Sqlite, None).await.unwrap();
    let adm = "kantoor";
    setup_without_key(&app, adm).await;
    let (status, body) = app
        .put(
            &format!("/administraties/{adm}/integrations/snelstart"),
            json!({"vat_codes": {"high": 12, "low": 11, "zero": 10}, "sales_journal_code": 9999, "notify_admin_id": "bea"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(koppeling(&app, adm).await["connection"].is_null());

    // Act: the link delivers the key.
    let (reference, key) = approve(&app, adm).await;

    // Assert: the key is kept, the koppeling stays inactive with the problem, one notice.
    let k = wait_koppeling(&app, adm, |k| {
        k["problem"]
            .as_str()
            .is_some_and(|p| p.contains("activation checks fail"))
    })
    .await;
    assert_eq!(k["state"], "inactive", "{k}");
    assert_eq!(k["connection"], "snelstart_link");
    let notes = wait_for(10, "the notification", || async {
        let notes = notifications(&app, adm).await;
        if notes.is_empty() {
            Err("none".to_owned())
        } else {
            Ok(notes)
        }
    })
    .await;
    assert_eq!(notes.len(), 1, "{notes:?}");

    // Act: the same Create again, and a Create with another key for that reference.
    let create = app.sandbox.deliveries().last().unwrap().body.clone();
    let (status, body) = post_webhook(&app, create.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "unchanged");
    let other = json!({"KoppelSleutel": koppelsleutel("ander"), "ActionType": "create", "referencekey": reference});
    let (status, body) = post_webhook(&app, other.to_string()).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "reference_used");

    // Assert: no one is notified again, nothing changed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(notifications(&app, adm).await.len(), 1);
    assert_eq!(koppeling(&app, adm).await, k);

    // Act: the Beheerder fixes the journal and pastes a key: the link ends.
    let (status, body) = app
        .put(
            &format!("/administraties/{adm}/integrations/snelstart"),
            json!({"vat_codes": {"high": 12, "low": 11, "zero": 10}, "sales_journal_code": 1300, "notify_admin_id": "bea", "key": app.key}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(koppeling(&app, adm).await["connection"], "pasted");
    let delete = json!({"KoppelSleutel": key, "ActionType": "Delete", "ReferenceKey": reference});
    let (status, body) = post_webhook(&app, delete.to_string()).await;
    assert_eq!(status, 404, "a message for an ended link: {body}");
    let k = koppeling(&app, adm).await;
    assert_eq!(k["key_set"], true, "{k}");
    assert_eq!(k["connection"], "pasted");
    assert_not_stored_in_clear(&app, &[&key, &reference]).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_of_one_administratie_never_touches_another() {
    // Arrange: two administraties with pasted keys; B is active.
    let app = link_app(Db::Sqlite, None).await.unwrap();
    app.setup_administratie("a").await;
    app.setup_administratie("b").await;
    let (status, body) = app
        .post("/administraties/b/integrations/snelstart/activate")
        .await;
    assert_eq!(status, 200, "{body}");
    let b_before = koppeling(&app, "b").await;
    // B's own pending link, which A's messages must not use or void.
    let (_, b_reference, _) = activation_link(&app, "b").await;

    // Act: A connects through the link, then SnelStart deletes A's koppeling.
    let (a_reference, a_key) = approve(&app, "a").await;
    let a = wait_koppeling(&app, "a", active).await;
    assert_eq!(a["connection"], "snelstart_link");
    sandbox_control(&app, "delete", &a_key).await;
    assert_eq!(app.sandbox.deliveries().last().unwrap().status, Some(200));

    // Assert: A paused, B exactly as before, and B's pending link still works for B.
    assert_eq!(koppeling(&app, "a").await["state"], "paused_auth");
    assert_eq!(koppeling(&app, "b").await, b_before);
    let b_key = koppelsleutel("b-link");
    app.sandbox.add_key(&b_key);
    let create_b =
        json!({"KoppelSleutel": b_key, "ActionType": "Create", "ReferenceKey": b_reference});
    let (status, body) = post_webhook(&app, create_b.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(koppeling(&app, "b").await["connection"], "snelstart_link");
    let a_after = koppeling(&app, "a").await;
    assert_eq!(a_after["state"], "paused_auth", "{a_after}");
    assert!(a_after["connection"].is_null(), "{a_after}");
    assert_ne!(a_reference, b_reference);
    app.stop().await;
}

const EMAIL: &str = "bea@kantoor.nl";
const PASSWORD: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn koppelen_met_snelstart_in_a_real_browser() {
    use crate::ui::{Chromedriver, Ui, browser_installed, screenshot_dir};
    if !browser_installed() {
        return;
    }
    // Arrange: an administratie and a Beheerder who can log in; no settings, no key.
    let app = link_app(Db::Sqlite, None).await.unwrap();
    let (status, _) = app
        .put(
            "/administraties/kantoor",
            json!({"name": "Kantoor de Vries"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = app
        .put(
            "/administraties/kantoor/admins/bea",
            json!({"name": "Bea de Vries", "email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let driver = Chromedriver::start().await.unwrap();
    let client = driver.session().await.unwrap();
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).unwrap();
    let ui = Ui {
        c: &client,
        app: &app,
        shots,
    };
    // Act and assert.
    let walked = link_walk(&ui).await;
    if walked.is_err() {
        let _ = ui.shot("link-failure").await;
    }
    let _ = client.close().await;
    drop(driver);
    walked.unwrap();
    let k = koppeling(&app, "kantoor").await;
    assert_eq!(k["connection"], "snelstart_link", "{k}");
    assert_eq!(k["state"], "active", "{k}");
    app.stop().await;
}

async fn link_walk(ui: &crate::ui::Ui<'_>) -> anyhow::Result<()> {
    use anyhow::ensure;
    // Log in.
    ui.goto("/koppelingen").await?;
    ui.wait_on("/login", "form[action='/login']").await?;
    ui.fill("email", EMAIL).await?;
    ui.fill("password", PASSWORD).await?;
    ui.click_text("form[action='/login']", "Inloggen").await?;
    ui.wait_on("/koppelingen", "#snelstart").await?;

    // Back from SnelStart without a key: the page says so, in Dutch.
    ui.goto("/koppelingen?gekoppeld=snelstart").await?;
    let error = ui.css("p.problems").await?.text().await?;
    ensure!(
        error.contains("Er is geen koppelsleutel van SnelStart ontvangen"),
        "{error}"
    );

    // Instellingen > Koppelen met SnelStart.
    ui.goto("/koppelingen/snelstart/instellingen").await?;
    ui.wait_on("/koppelingen/snelstart/instellingen", "#koppelen")
        .await?;
    ui.shot("link-01-instellingen").await?;
    ui.click_text("main", "Koppelen met SnelStart").await?;

    // SnelStart's consent page (the sandbox): Toestaan.
    let path = format!("/couplings/activate/{APP}");
    ui.wait_on(&path, "#toestaan").await?;
    let heading = ui.css("h1").await?.text().await?;
    ensure!(heading == "Koppeling toestaan", "{heading}");
    ui.shot("link-02-toestemming").await?;
    ui.css("#toestaan").await?.click().await?;

    // Back on Koppelingen: the key arrived and the checks passed.
    ui.wait_on("/koppelingen", "#snelstart").await?;
    let here = ui.c.current_url().await?;
    ensure!(
        here.query() == Some("gekoppeld=snelstart"),
        "back at {here}"
    );
    let notice = ui
        .reload_until(
            "/koppelingen?gekoppeld=snelstart",
            "p.notice",
            &["via SnelStart ontvangen", "nu actief"],
        )
        .await?;
    ensure!(notice.starts_with("De koppelsleutel"), "{notice}");
    let bar = ui.css("#snelstart .status-bar").await?;
    ensure!(
        bar.attr("class").await?.as_deref() == Some("status-bar active"),
        "the koppeling is active"
    );
    let how = ui.css("#verbinding").await?.text().await?;
    ensure!(how.contains("Koppelen met SnelStart"), "{how}");
    ui.shot("link-03-gekoppeld").await?;
    Ok(())
}
