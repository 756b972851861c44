//! The admin UI: log-in with CSRF, sessions, the green bar and inline refusals.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use koppeling_domain::ports::{Admin, MockAccounting, MockStore};

use super::*;

const PASSWORD: &str = "correct horse battery";

fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a csrf field") + marker.len();
    let len = html[start..].find('"').unwrap();
    html[start..start + len].to_owned()
}

/// The store's log-in tables, kept in memory for the mock.
fn with_session_tables(store: &mut MockStore) {
    use std::collections::{HashMap, HashSet};
    use std::sync::Mutex;
    let sessions: Arc<Mutex<HashMap<String, koppeling_domain::auth::SessionRecord>>> =
        Arc::default();
    let throttle: Arc<Mutex<HashMap<String, koppeling_domain::auth::Throttle>>> = Arc::default();
    let used: Arc<Mutex<HashSet<String>>> = Arc::default();
    let s = Arc::clone(&sessions);
    store.expect_create_session().returning(move |r| {
        s.lock().unwrap().insert(r.id_hash.clone(), r.clone());
        ready(Ok(()))
    });
    let s = Arc::clone(&sessions);
    store.expect_get_session().returning(move |h| {
        let found = s.lock().unwrap().get(h).cloned();
        ready(Ok(found.map(|r| (r, "Anna <Beheerder>".to_owned()))))
    });
    store.expect_touch_session().returning(|_, _| ready(Ok(())));
    let s = Arc::clone(&sessions);
    store.expect_delete_session().returning(move |h| {
        s.lock().unwrap().remove(h);
        ready(Ok(()))
    });
    let t = Arc::clone(&throttle);
    store
        .expect_throttle_attempt()
        .returning(move |k, now, policy| {
            let mut map = t.lock().unwrap();
            match koppeling_domain::auth::attempt(map.get(k), now, &policy) {
                Ok(after) => {
                    map.insert(k.to_owned(), after);
                    ready(Ok(None))
                }
                Err(wait) => ready(Ok(Some(wait))),
            }
        });
    let t = Arc::clone(&throttle);
    store.expect_throttle_forgive().returning(move |k| {
        if let Some(v) = t.lock().unwrap().get_mut(k) {
            v.failures = v.failures.saturating_sub(1);
        }
        ready(Ok(()))
    });
    let t = Arc::clone(&throttle);
    store.expect_clear_throttle().returning(move |k| {
        t.lock().unwrap().remove(k);
        ready(Ok(()))
    });
    store
        .expect_use_login_token()
        .returning(move |h, _, _| ready(Ok(used.lock().unwrap().insert(h.to_owned()))));
}

/// A log-in form token and the cookie that goes with it.
async fn login_token(app: &Router) -> (String, String) {
    let page = send(app, get("/login", None)).await;
    let set_cookie = page.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    (csrf_of(&page.text), cookie)
}

fn session_cookie_set(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("koppeling_session="))
}

fn with_login(store: &mut MockStore) {
    with_session_tables(store);
    let hash = crate::hash_password(PASSWORD).unwrap();
    store.expect_find_admin_by_email().returning(move |email| {
        let found = (email == "anna@example.nl").then(|| {
            (
                adm(),
                Admin {
                    id: ResourceId::parse("anna").unwrap(),
                    name: "Anna <Beheerder>".into(),
                    email: email.to_owned(),
                },
                Some(hash.clone()),
            )
        });
        ready(Ok(found))
    });
}

fn form(path: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).unwrap()
}

/// Logs Anna in; returns the cookie and the session's CSRF token.
async fn log_in(app: &Router) -> (String, String) {
    let (token, login_cookie) = login_token(app).await;
    let answer = send(
        app,
        form(
            "/login",
            &format!(
                "email=anna%40example.nl&password={}&csrf={token}",
                PASSWORD.replace(' ', "+")
            ),
            Some(&login_cookie),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(answer.headers[header::LOCATION], "/koppelingen");
    let set_cookie = answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("koppeling_session="))
        .unwrap();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let page = send(
        app,
        get("/koppelingen/snelstart/notificatie", Some(&cookie)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    (cookie, csrf_of(&page.text))
}

fn with_notify_page(store: &mut MockStore) {
    store.expect_list_admins().returning(|_| {
        ready(Ok(vec![Admin {
            id: ResourceId::parse("anna").unwrap(),
            name: "Anna".into(),
            email: "anna@example.nl".into(),
        }]))
    });
}

#[tokio::test]
async fn the_login_form_has_email_password_and_csrf_fields() {
    let app = app(MockStore::new(), MockAccounting::new());
    let page = send(&app, get("/login", None)).await;
    assert_eq!(page.status, StatusCode::OK);
    for needle in [
        r#"name="email""#,
        r#"name="password""#,
        r#"type="hidden" name="csrf""#,
        r#"<html lang="nl">"#,
        r#"<label for="email">"#,
    ] {
        assert!(page.text.contains(needle), "{needle}");
    }
    assert_eq!(csrf_of(&page.text).len(), 64);
}

#[tokio::test]
async fn pages_need_a_session() {
    let app = app(MockStore::new(), MockAccounting::new());
    for path in [
        "/",
        "/koppelingen",
        "/relaties",
        "/facturen",
        "/notificaties",
        "/synclog",
    ] {
        let answer = send(&app, get(path, None)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.headers[header::LOCATION], "/login", "{path}");
    }
    let forged = send(
        &app,
        get("/koppelingen", Some("koppeling_session=0123abcd")),
    )
    .await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_login_without_the_form_token_is_refused() {
    let mut store = MockStore::new();
    store.expect_find_admin_by_email().never();
    let app = app(store, MockAccounting::new());
    let answer = send(
        &app,
        form("/login", "email=anna%40example.nl&password=x", None),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(!session_cookie_set(&answer.headers));
}

#[tokio::test]
async fn a_wrong_password_is_refused() {
    let mut store = MockStore::new();
    with_login(&mut store);
    let app = app(store, MockAccounting::new());
    for email in ["anna%40example.nl", "bob%40example.nl"] {
        let (token, cookie) = login_token(&app).await;
        let body = format!("email={email}&password=wrong&csrf={token}");
        let answer = send(&app, form("/login", &body, Some(&cookie))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(answer.text.contains("Onjuist e-mailadres of wachtwoord"));
        assert!(!session_cookie_set(&answer.headers));
        // The same token again is a replay.
        let again = send(&app, form("/login", &body, Some(&cookie))).await;
        assert_eq!(again.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn an_active_koppeling_shows_the_green_bar() {
    let mut store = MockStore::new();
    with_login(&mut store);
    with_administratie(&mut store);
    with_notify_page(&mut store);
    with_overview(&mut store, Some(koppeling(true, Some("sleutel"))));
    let app = app(store, MockAccounting::new());
    let (cookie, _) = log_in(&app).await;
    let page = send(&app, get("/koppelingen", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(r#"class="status-bar active""#));
    assert!(page.text.contains("Deactiveren"));
    assert!(page.text.contains("Synchronisatie"));
    assert!(
        page.text
            .contains(r#"href="/koppelingen/snelstart/instellingen""#)
    );
    assert!(
        page.text
            .contains(r#"href="/koppelingen/snelstart/notificatie""#)
    );
    // The Beheerder's name is escaped.
    assert!(page.text.contains("Anna &lt;Beheerder&gt;"));
    assert!(!page.text.contains("sleutel\""));
}

#[tokio::test]
async fn posts_without_the_session_token_are_refused() {
    let mut store = MockStore::new();
    with_login(&mut store);
    with_administratie(&mut store);
    with_notify_page(&mut store);
    with_overview(&mut store, Some(koppeling(false, Some("sleutel"))));
    store.expect_set_koppeling_active().never();
    let app = app(store, MockAccounting::new());
    let (cookie, _) = log_in(&app).await;
    let answer = send(
        &app,
        form(
            "/koppelingen/snelstart/deactiveren",
            "csrf=wrong",
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn activation_problems_are_listed_in_dutch() {
    let mut store = MockStore::new();
    with_login(&mut store);
    with_administratie(&mut store);
    with_notify_page(&mut store);
    let mut settings = KoppelingSettings::default();
    settings.vat_codes.high = 21;
    let mut stored = koppeling(false, Some("sleutel"));
    stored.settings = settings;
    with_overview(&mut store, Some(stored));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_check_activation()
        .returning(|_, _| ready(Ok(Vec::new())));
    let app = app(store, accounting);
    let (cookie, csrf) = log_in(&app).await;
    let answer = send(
        &app,
        form(
            "/koppelingen/snelstart/activeren",
            &format!("csrf={csrf}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text.contains("De koppeling is niet geactiveerd"));
    assert!(
        answer.text.contains("omzet hoog moet 12 zijn"),
        "{}",
        answer.text
    );
    assert!(answer.text.contains(r#"class="status-bar inactive""#));
}

#[tokio::test]
async fn a_non_numeric_code_is_refused_inline_with_the_reason() {
    let mut store = MockStore::new();
    with_login(&mut store);
    with_administratie(&mut store);
    with_notify_page(&mut store);
    with_overview(&mut store, None);
    store
        .expect_get_relation()
        .returning(|_, _| ready(Ok(Some(relation("A12")))));
    store
        .expect_list_relations_page()
        .returning(|_, _, _, _| ready(Ok((vec![relation("A12")], 1))));
    // The preview before ticking looks for final invoices: none, so one step.
    store
        .expect_list_invoices()
        .returning(|_, _, _| ready(Ok(vec![])));
    store.expect_set_relation_snelstart().never();
    let app = app(store, MockAccounting::new());
    let (cookie, csrf) = log_in(&app).await;
    let answer = send(
        &app,
        form(
            "/relaties/rel-1/snelstart",
            &format!("csrf={csrf}&snelstart=1&q="),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer
            .text
            .contains("relatiecodes met letters worden niet geaccepteerd door SnelStart"),
        "{}",
        answer.text
    );
    assert!(answer.text.contains(r#"id="relatie-rel-1-fout""#));
}

#[tokio::test]
async fn the_settings_never_show_the_key_and_errors_sit_next_to_the_field() {
    let mut store = MockStore::new();
    with_login(&mut store);
    with_administratie(&mut store);
    with_notify_page(&mut store);
    with_overview(&mut store, Some(koppeling(false, Some("geheime-sleutel"))));
    store.expect_put_koppeling().never();
    let app = app(store, MockAccounting::new());
    let (cookie, csrf) = log_in(&app).await;
    let page = send(
        &app,
        get("/koppelingen/snelstart/instellingen", Some(&cookie)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Er is een sleutel ingesteld"));
    assert!(!page.text.contains("geheime-sleutel"));
    assert!(page.text.contains(r#"value="12""#));
    assert!(page.text.contains("Verkoopboek code"));
    let answer = send(
        &app,
        form(
            "/koppelingen/snelstart/instellingen",
            &format!("csrf={csrf}&vat_high=12&vat_low=11&vat_zero=10&sales_journal_code=abc&key="),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text.contains(r#"id="sales_journal_code-fout""#));
}

#[tokio::test]
async fn the_settings_form_reports_every_fields_problem_in_one_answer() {
    let mut store = MockStore::new();
    with_login(&mut store);
    with_administratie(&mut store);
    with_notify_page(&mut store);
    with_overview(&mut store, Some(koppeling(false, Some("geheime-sleutel"))));
    store.expect_put_koppeling().never();
    let app = app(store, MockAccounting::new());
    let (cookie, csrf) = log_in(&app).await;
    // One unreadable number, two wrong BTW codes, a wrong dagboek, an unreadable date and
    // a ledger that is not positive: all six, next to their fields, in one submit.
    let answer = send(
        &app,
        form(
            "/koppelingen/snelstart/instellingen",
            &format!(
                "csrf={csrf}&vat_high=abc&vat_low=13&vat_zero=9&sales_journal_code=0&start_date=gisteren&ledger_high=-1&key="
            ),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in [
        "vat_high",
        "vat_low",
        "vat_zero",
        "sales_journal_code",
        "start_date",
        "ledger_high",
    ] {
        assert!(
            answer.text.contains(&format!(r#"id="{field}-fout""#)),
            "{field} has no error in {}",
            answer.text
        );
    }
    assert!(!answer.text.contains(r#"id="ledger_low-fout""#));
}

#[tokio::test]
async fn logging_out_ends_the_session() {
    let mut store = MockStore::new();
    with_login(&mut store);
    with_administratie(&mut store);
    with_notify_page(&mut store);
    with_overview(&mut store, None);
    let app = app(store, MockAccounting::new());
    let (cookie, csrf) = log_in(&app).await;
    let answer = send(
        &app,
        form("/logout", &format!("csrf={csrf}"), Some(&cookie)),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(
        answer.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = send(&app, get("/koppelingen", Some(&cookie))).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_notificaties_screen_shows_an_unsent_mail_with_its_error_and_a_sent_one_with_its_time()
{
    use koppeling_domain::notification::{NotificationRecord, StoredNotification};
    let record = |subject: &str, to: &str, sent_at, last_error: Option<&str>| NotificationRecord {
        notification: StoredNotification {
            at: now(),
            to: to.into(),
            subject: subject.into(),
            body: "Beste Anna".into(),
            items: vec![],
        },
        sent_at,
        last_error: last_error.map(str::to_owned),
        send_attempts: 3,
    };
    let list = vec![
        record(
            "wacht",
            "anna@example.nl",
            None,
            Some("connection refused <smtp>"),
        ),
        record("verstuurd", "anna@example.nl", Some(now()), None),
        record("bewaard", "", Some(now()), None),
    ];
    let mut store = MockStore::new();
    with_login(&mut store);
    with_administratie(&mut store);
    with_notify_page(&mut store);
    with_overview(&mut store, Some(koppeling(true, Some("sleutel"))));
    store
        .expect_notifications()
        .returning(move |_, _| ready(Ok(list.clone())));
    let app = app(store, MockAccounting::new());
    let (cookie, _) = log_in(&app).await;
    let page = send(&app, get("/notificaties", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text
            .contains("nog niet verzonden: connection refused &lt;smtp&gt;"),
        "{}",
        page.text
    );
    // 12:00 UTC on 27 November is 13:00 on the office clock (CET).
    assert_eq!(now().format("%H:%M").to_string(), "12:00");
    assert!(
        page.text.contains("verzonden 27-11-2026 13:00 CET"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("niet gemaild: er is geen Beheerder gekozen"),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn a_busy_database_shows_a_dutch_503_page_with_retry_after() {
    let mut store = MockStore::new();
    with_login(&mut store);
    with_administratie(&mut store);
    with_notify_page(&mut store);
    // The log-in's page reads the overview once; the next read finds the database busy.
    with_overview_reads(&mut store);
    let mut reads = 0;
    store.expect_status_counts().returning(move |_| {
        reads += 1;
        ready(if reads == 1 {
            Ok(StatusCounts::default())
        } else {
            Err(koppeling_domain::ports::StoreError::Busy(
                "reading the counts: database is locked".into(),
            ))
        })
    });
    store
        .expect_get_koppeling()
        .returning(|_| ready(Ok(Some(koppeling(true, Some("sleutel"))))));
    let app = app(store, MockAccounting::new());
    let (cookie, _) = log_in(&app).await;
    let page = send(&app, get("/koppelingen", Some(&cookie))).await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.text
    );
    assert_eq!(page.headers[header::RETRY_AFTER], "2");
    assert!(
        page.text.contains("De database is op dit moment bezet"),
        "{}",
        page.text
    );
    assert!(page.text.contains("niets opgeslagen"));
    assert!(!page.text.contains("locked"));
}

#[tokio::test]
async fn a_busy_database_at_login_is_503_with_the_form() {
    let mut store = MockStore::new();
    with_session_tables(&mut store);
    store.expect_find_admin_by_email().returning(|_| {
        ready(Err(koppeling_domain::ports::StoreError::Busy(
            "reading the Beheerder: database is locked".into(),
        )))
    });
    let app = app(store, MockAccounting::new());
    let (token, cookie) = login_token(&app).await;
    let answer = send(
        &app,
        form(
            "/login",
            &format!("email=anna%40example.nl&password=x&csrf={token}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers[header::RETRY_AFTER], "2");
    assert!(answer.text.contains("bezet"));
    assert!(answer.text.contains(r#"name="csrf""#));
}

/// Issue 14: the screens drawn by templates escape whatever they show. A hostile value in a
/// typed e-mail address, a stored problem, a Beheerder's name, a typed setting, an invoice
/// number (ours and SnelStart's), a relation's name, a failure reason, an attempt's message
/// and a notification reaches every screen as text, never as markup.
#[tokio::test]
async fn hostile_values_are_shown_escaped_on_every_screen() {
    const HOSTILE: &str = "<script>alert(1)</script>";
    const SHOWN: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";
    let mut store = MockStore::new();
    with_login(&mut store);
    with_administratie(&mut store);
    store.expect_list_admins().returning(|_| {
        ready(Ok(vec![Admin {
            id: ResourceId::parse("anna").unwrap(),
            name: HOSTILE.into(),
            email: "anna@example.nl".into(),
        }]))
    });
    let mut stored = koppeling(true, Some("sleutel"));
    stored.paused = true;
    stored.problem = Some(koppeling_domain::pause::PauseReason::Recorded(
        HOSTILE.to_owned(),
    ));
    with_overview(&mut store, Some(stored));
    store.expect_put_koppeling().never();
    store
        .expect_list_relations()
        .returning(|_| ready(Ok(Vec::new())));
    let mut hostile_relation = relation("A12");
    hostile_relation.name = HOSTILE.into();
    let mut hostile_invoice = invoice();
    hostile_invoice.number = HOSTILE.into();
    let failed = koppeling_domain::ports::SyncState {
        status: koppeling_domain::ports::SyncStatus::Failed,
        snelstart_id: None,
        error: Some(HOSTILE.into()),
        hint: None,
        attempts: 1,
        next_attempt_at: None,
        updated_at: now(),
        payment: None,
        drift: None,
    };
    let attempt = koppeling_domain::ports::AttemptLog {
        invoice_id: "inv-1".into(),
        invoice_number: Some(HOSTILE.into()),
        attempt: 1,
        at: now(),
        outcome: "failed".into(),
        error_class: None,
        snelstart_code: None,
        message: HOSTILE.into(),
    };
    let found = hostile_relation.clone();
    store
        .expect_list_relations_page()
        .returning(move |_, _, _, _| ready(Ok((vec![found.clone()], 1))));
    store
        .expect_get_relation()
        .returning(move |_, _| ready(Ok(Some(hostile_relation.clone()))));
    // Not ticked: the reconciliation below leaves it out.
    let listed = vec![(hostile_invoice.clone(), Some(failed.clone()))];
    store
        .expect_list_invoices()
        .returning(move |_, _, _| ready(Ok(listed.clone())));
    store
        .expect_get_invoice()
        .returning(move |_, _| ready(Ok(Some((hostile_invoice.clone(), Some(failed.clone()))))));
    let log = vec![attempt];
    let rows = log.clone();
    store
        .expect_sync_log()
        .returning(move |_, _, _| ready(Ok(rows.clone())));
    store
        .expect_invoice_sync_log()
        .returning(move |_, _, _, _| ready(Ok(log.clone())));
    // A PDF SnelStart refused, its file name and the refusal hostile too.
    store.expect_invoice_documents().returning(|_, _| {
        use koppeling_domain::document::{Document, DocumentKind, DocumentStatus};
        ready(Ok(vec![Document {
            kind: DocumentKind::Pdf,
            filename: format!("{HOSTILE}.pdf"),
            size: 2048,
            sha256: "0".repeat(64),
            status: DocumentStatus::Failed,
            snelstart_id: None,
            error: Some(format!("{HOSTILE} geweigerd")),
            hint: Some(format!("{HOSTILE} vervangen")),
        }]))
    });
    store.expect_notifications().returning(|_, _| {
        use koppeling_domain::notification::{NotificationRecord, StoredNotification};
        ready(Ok(vec![NotificationRecord {
            notification: StoredNotification {
                at: now(),
                to: "anna@example.nl".into(),
                subject: HOSTILE.into(),
                body: HOSTILE.into(),
                items: vec![],
            },
            sent_at: None,
            last_error: Some(HOSTILE.into()),
            send_attempts: 1,
        }]))
    });
    let mut accounting = MockAccounting::new();
    accounting.expect_invoices_in_period().returning(|_, _| {
        ready(Ok(vec![koppeling_domain::reconciliation::Listed {
            booking_id: Some("boeking-1".into()),
            number: HOSTILE.into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
            gross: Decimal::new(121, 0),
            relatie_id: None,
        }]))
    });
    accounting
        .expect_reconciliation_ledgers()
        .returning(|_, _| ready(Ok(std::collections::HashMap::new())));
    accounting
        .expect_ledger_mutations()
        .returning(|_, _, _| ready(Ok(Vec::new())));
    let app = app(store, accounting);
    let escaped = |page: &Answer, what: &str| {
        assert!(
            !page.text.contains("<script>"),
            "{what}: markup shown: {}",
            page.text
        );
        assert!(page.text.contains(SHOWN), "{what}: {}", page.text);
    };

    // Log-in: the typed e-mail address comes back in the form.
    let (token, login_cookie) = login_token(&app).await;
    let page = send(
        &app,
        form(
            "/login",
            &format!("email=%3Cscript%3Ealert(1)%3C%2Fscript%3E&password=x&csrf={token}"),
            Some(&login_cookie),
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    escaped(&page, "log-in");

    let (cookie, csrf) = log_in(&app).await;
    // Koppelingen: the stored pause reason in the status bar; the header's name too.
    let page = send(&app, get("/koppelingen", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    escaped(&page, "Koppelingen");
    assert!(page.text.contains("Anna &lt;Beheerder&gt;"));
    // Notificatie: a Beheerder's name in the choice.
    let page = send(
        &app,
        get("/koppelingen/snelstart/notificatie", Some(&cookie)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    escaped(&page, "Notificatie");
    // Instellingen: a typed value is shown back next to its error.
    let page = send(
        &app,
        form(
            "/koppelingen/snelstart/instellingen",
            &format!(
                "csrf={csrf}&vat_high=%3Cscript%3Ealert(1)%3C%2Fscript%3E&vat_low=11&vat_zero=10&sales_journal_code=1300&key="
            ),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    escaped(&page, "Instellingen");
    assert!(page.text.contains(r#"id="vat_high-fout""#));
    // Aansluiting: an invoice number only SnelStart knows, in the differences.
    let page = send(
        &app,
        get("/aansluiting?soort=jaar&jaar=2026", Some(&cookie)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    escaped(&page, "Aansluiting");
    assert!(
        page.text
            .contains(r#"<tr data-kind="unknown_in_radar360">"#)
    );
    // The lists: a relation's name, an invoice number, a stored reason, an attempt's
    // message and a notification's subject and error.
    for (path, what) in [
        ("/relaties", "Relaties"),
        ("/facturen", "Facturen"),
        ("/facturen/inv-1", "Factuur"),
        ("/synclog", "Synclog"),
        ("/notificaties", "Notificaties"),
    ] {
        let page = send(&app, get(path, Some(&cookie))).await;
        assert_eq!(page.status, StatusCode::OK, "{what}: {}", page.text);
        escaped(&page, what);
    }
    // The invoice page: the document's file name and SnelStart's refusal of it, and the
    // failure reason, each as text.
    let page = send(&app, get("/facturen/inv-1", Some(&cookie))).await;
    assert!(
        page.text.contains(&format!("<td>{SHOWN}.pdf</td>")),
        "{}",
        page.text
    );
    assert!(
        page.text.contains(&format!(
            "{SHOWN} geweigerd<br>Wat te doen: {SHOWN} vervangen"
        )),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains(&format!("<dt>Reden</dt><dd>{SHOWN}</dd>")),
        "{}",
        page.text
    );
}

/// Issue 14 for the preview before ticking: the relation's name, the typed search, an
/// invoice number and SnelStart's problem when it cannot be asked are shown as text.
#[tokio::test]
async fn the_preview_before_ticking_shows_hostile_values_escaped() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const HOSTILE: &str = "<script>alert(1)</script>";
    const SHOWN: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";
    let mut store = MockStore::new();
    with_login(&mut store);
    with_administratie(&mut store);
    with_notify_page(&mut store);
    with_overview(&mut store, Some(koppeling(false, Some("sleutel"))));
    let mut hostile_relation = relation("12");
    hostile_relation.name = HOSTILE.into();
    store
        .expect_get_relation()
        .returning(move |_, _| ready(Ok(Some(hostile_relation.clone()))));
    let mut hostile_invoice = invoice();
    hostile_invoice.number = HOSTILE.into();
    store
        .expect_list_invoices()
        .returning(move |_, _, _| ready(Ok(vec![(hostile_invoice.clone(), None)])));
    store
        .expect_get_relatie_link()
        .returning(|_, _| ready(Ok(None)));
    store.expect_set_relation_snelstart().never();
    // SnelStart answers the first preview; for the second it is not reachable.
    let asked = Arc::new(AtomicUsize::new(0));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_invoice_numbers_of_relatie()
        .returning(move |_, _, _| {
            if asked.fetch_add(1, Ordering::SeqCst) == 0 {
                ready(Ok(Vec::new()))
            } else {
                ready(Err(koppeling_domain::ports::AccountingError::Transient {
                    retry_after: None,
                    message: HOSTILE.into(),
                }))
            }
        });
    let app = app(store, accounting);
    let (cookie, csrf) = log_in(&app).await;
    let tick = || {
        form(
            "/relaties/rel-1/snelstart",
            &format!("csrf={csrf}&snelstart=1&q=%3Cscript%3Ealert(1)%3C%2Fscript%3E&pagina=2"),
            Some(&cookie),
        )
    };
    for (id, what, shown) in [
        (
            "voorvertoning-totaal",
            "preview",
            format!(r#"<a href="/facturen/inv-1">{SHOWN}</a>"#),
        ),
        (
            "voorvertoning-onbekend",
            "SnelStart not reachable",
            format!("(SnelStart is temporarily unavailable: {SHOWN})"),
        ),
    ] {
        let page = send(&app, tick()).await;
        assert_eq!(page.status, StatusCode::OK, "{what}: {}", page.text);
        assert!(
            page.text.contains(&format!(r#"id="{id}""#)),
            "{what}: {}",
            page.text
        );
        assert!(!page.text.contains("<script>"), "{what}: {}", page.text);
        assert!(page.text.contains(&shown), "{what}: {}", page.text);
        assert!(
            page.text
                .contains(&format!("<h1>SnelStart aanvinken voor {SHOWN} (12)</h1>")),
            "{what}: {}",
            page.text
        );
        assert!(
            page.text.contains(&format!(
                r#"<input type="hidden" name="q" value="{SHOWN}">"#
            )),
            "{what}: {}",
            page.text
        );
        assert!(
            page.text.contains(
                r#"href="/relaties?q=%3Cscript%3Ealert%281%29%3C%2Fscript%3E&amp;pagina=2#relatie-rel-1""#
            ),
            "{what}: {}",
            page.text
        );
    }
}
