//! The admin UI: log-in with CSRF, sessions, the green bar and inline refusals.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use koppeling_domain::app::MockApp;
use koppeling_domain::sync::ServiceError;

use super::*;

fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a csrf field") + marker.len();
    let len = html[start..].find('"').unwrap();
    html[start..start + len].to_owned()
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

/// Fetches the log-in form and posts `fields` with its token and cookie.
async fn submit_login(app: &Router, fields: &str) -> Answer {
    let (token, cookie) = login_token(app).await;
    let body = format!("{fields}&csrf={token}");
    send(app, form("/login", &body, Some(&cookie))).await
}

/// Logs Anna in; returns the cookie and the session's CSRF token.
async fn log_in(app: &Router) -> (String, String) {
    let password = PASSWORD.replace(' ', "+");
    let answer = submit_login(app, &format!("email=anna%40example.nl&password={password}")).await;
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

/// Anna's browser after logging in: her session cookie and the session's CSRF token.
struct Browser {
    app: Router,
    cookie: String,
    csrf: String,
}

impl Browser {
    async fn log_in(app: &Router) -> Self {
        let (cookie, csrf) = log_in(app).await;
        Self {
            app: app.clone(),
            cookie,
            csrf,
        }
    }

    /// `GET path` with the session cookie.
    async fn open(&self, path: &str) -> Answer {
        send(&self.app, get(path, Some(&self.cookie))).await
    }

    /// Posts the form `fields` with the session's CSRF token.
    async fn submit(&self, path: &str, fields: &str) -> Answer {
        let body = if fields.is_empty() {
            format!("csrf={}", self.csrf)
        } else {
            format!("csrf={}&{fields}", self.csrf)
        };
        self.post(path, &body).await
    }

    /// Posts `body` as it is, with the session cookie.
    async fn post(&self, path: &str, body: &str) -> Answer {
        send(&self.app, form(path, body, Some(&self.cookie))).await
    }
}

#[tokio::test]
async fn the_login_form_has_email_password_and_csrf_fields() {
    let app = app(MockApp::new());
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
    // No cookie, or one that cannot be a session id: the use case is never asked.
    let app = app(MockApp::new());
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
async fn an_unknown_session_id_redirects_to_login() {
    let mut mock = MockApp::new();
    with_sessions(&mut mock);
    let browser = Browser {
        app: app(mock),
        cookie: format!("koppeling_session={}", "ab".repeat(32)),
        csrf: String::new(),
    };
    let answer = browser.open("/koppelingen").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers[header::LOCATION], "/login");
}

#[tokio::test]
async fn a_login_without_the_form_token_is_refused() {
    // Refused before any Beheerder is looked up: nothing reaches the use case.
    let app = app(MockApp::new());
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
    let mut mock = MockApp::new();
    with_login(&mut mock);
    mock.expect_start_session().never();
    let app = app(mock);
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
    let app = app(signed_in(Some(koppeling(true, Some("sleutel")))));
    let browser = Browser::log_in(&app).await;
    let page = browser.open("/koppelingen").await;
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
async fn something_the_use_case_does_not_find_is_named_in_dutch_on_a_404_page() {
    let mut mock = signed_in(Some(koppeling(true, Some("sleutel"))));
    mock.expect_invoice().returning(|_, _| {
        ready(Err(ServiceError::NotFound(
            koppeling_domain::ports::Missing::Invoice("inv-9".into()),
        )))
    });
    let app = app(mock);
    let browser = Browser::log_in(&app).await;
    let page = browser.open("/facturen/inv-9").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.text);
    assert!(
        page.text
            .contains("Factuur inv-9 bestaat niet in deze administratie."),
        "{}",
        page.text
    );
    assert!(!page.text.contains("invoice inv-9"), "{}", page.text);
}

#[tokio::test]
async fn posts_without_the_session_token_are_refused() {
    let mut mock = signed_in(Some(koppeling(false, Some("sleutel"))));
    mock.expect_deactivate().never();
    let app = app(mock);
    let browser = Browser::log_in(&app).await;
    let answer = browser
        .post("/koppelingen/snelstart/deactiveren", "csrf=wrong")
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn activation_problems_are_listed_in_dutch() {
    // The use case refuses: BTW code 21 for omzet hoog (its check is tested in the domain).
    let mut stored = koppeling(false, Some("sleutel"));
    stored.settings.vat_codes.high = 21;
    let mut mock = signed_in(Some(stored));
    mock.expect_activate().times(1).returning(|_| {
        let problems = koppeling_domain::koppeling::VatCodes {
            high: 21,
            low: 11,
            zero: 10,
        }
        .validate()
        .unwrap_err();
        ready(Err(ServiceError::ActivationFailed(problems)))
    });
    let app = app(mock);
    let browser = Browser::log_in(&app).await;
    let answer = browser.submit("/koppelingen/snelstart/activeren", "").await;
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
    let mut mock = signed_in(None);
    mock.expect_relation()
        .returning(|_, _| ready(Ok(Some(relation("A12")))));
    mock.expect_relations_page()
        .returning(|_, _, _, _| ready(Ok((vec![relation("A12")], 1))));
    // The preview before ticking: the relation cannot be sent, so one step.
    mock.expect_preview_relation().returning(move |_, _| {
        ready(Ok(koppeling_domain::reconciliation::Preview {
            relation_ok: false,
            relation_problems: vec![code_not_numeric()],
            invoices: vec![],
            count: 0,
            gross: Decimal::ZERO,
        }))
    });
    refuses_to_tick(&mut mock);
    let app = app(mock);
    let browser = Browser::log_in(&app).await;
    let answer = browser
        .submit("/relaties/rel-1/snelstart", "snelstart=1&q=")
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
    let mut mock = signed_in(Some(koppeling(false, Some("geheime-sleutel"))));
    mock.expect_put_koppeling().never();
    let app = app(mock);
    let browser = Browser::log_in(&app).await;
    let page = browser.open("/koppelingen/snelstart/instellingen").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Er is een sleutel ingesteld"));
    assert!(!page.text.contains("geheime-sleutel"));
    assert!(page.text.contains(r#"value="12""#));
    assert!(page.text.contains("Verkoopboek code"));
    let answer = browser
        .submit(
            "/koppelingen/snelstart/instellingen",
            "vat_high=12&vat_low=11&vat_zero=10&sales_journal_code=abc&key=",
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text.contains(r#"id="sales_journal_code-fout""#));
}

#[tokio::test]
async fn the_settings_form_reports_every_fields_problem_in_one_answer() {
    let mut mock = signed_in(Some(koppeling(false, Some("geheime-sleutel"))));
    mock.expect_put_koppeling().never();
    let app = app(mock);
    let browser = Browser::log_in(&app).await;
    // One unreadable number, two wrong BTW codes, a wrong dagboek, an unreadable date and
    // a ledger that is not positive: all six, next to their fields, in one submit.
    let answer = browser.submit("/koppelingen/snelstart/instellingen", "vat_high=abc&vat_low=13&vat_zero=9&sales_journal_code=0&start_date=gisteren&ledger_high=-1&key=").await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = "vat_high vat_low vat_zero sales_journal_code start_date ledger_high";
    for field in fields.split(' ') {
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
    let app = app(signed_in(None));
    let browser = Browser::log_in(&app).await;
    let answer = browser.submit("/logout", "").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(
        answer.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = browser.open("/koppelingen").await;
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
    let mut mock = signed_in(Some(koppeling(true, Some("sleutel"))));
    mock.expect_notifications()
        .returning(move |_, _| ready(Ok(list.clone())));
    let app = app(mock);
    let browser = Browser::log_in(&app).await;
    let page = browser.open("/notificaties").await;
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
    let mut mock = MockApp::new();
    with_login(&mut mock);
    mock.expect_admins()
        .returning(|_| ready(Ok(vec![anna("Anna")])));
    // The log-in's page reads the overview once; the next read finds the database busy.
    let overview = overview_of(Some(&koppeling(true, Some("sleutel"))));
    let mut reads = 0;
    mock.expect_overview().returning(move |_| {
        reads += 1;
        ready(if reads == 1 {
            Ok(overview.clone())
        } else {
            Err(busy("reading the counts: database is locked"))
        })
    });
    let app = app(mock);
    let browser = Browser::log_in(&app).await;
    let page = browser.open("/koppelingen").await;
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
    let mut mock = MockApp::new();
    with_sessions(&mut mock);
    mock.expect_find_admin_for_login()
        .returning(|_| ready(Err(busy("reading the Beheerder: database is locked"))));
    let app = app(mock);
    let answer = submit_login(&app, "email=anna%40example.nl&password=x").await;
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
    let mut stored = koppeling(true, Some("sleutel"));
    stored.paused = true;
    stored.problem = Some(koppeling_domain::pause::PauseReason::Recorded(
        HOSTILE.to_owned(),
    ));
    let mut mock = signed_in_listing(anna(HOSTILE), Some(stored));
    mock.expect_put_koppeling().never();
    let mut hostile_relation = relation("A12");
    hostile_relation.name = HOSTILE.into();
    let mut hostile_invoice = invoice();
    hostile_invoice.number = HOSTILE.into();
    let failed = koppeling_domain::ports::SyncState {
        error: Some(HOSTILE.into()),
        ..sync_state(koppeling_domain::ports::SyncStatus::Failed)
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
    mock.expect_relations_page()
        .returning(move |_, _, _, _| ready(Ok((vec![found.clone()], 1))));
    mock.expect_relation()
        .returning(move |_, _| ready(Ok(Some(hostile_relation.clone()))));
    let listed = vec![(hostile_invoice.clone(), Some(failed.clone()))];
    mock.expect_invoices()
        .returning(move |_, _, _| ready(Ok(listed.clone())));
    mock.expect_invoice()
        .returning(move |_, _| ready(Ok(Some((hostile_invoice.clone(), Some(failed.clone()))))));
    let log = vec![attempt];
    let rows = log.clone();
    mock.expect_sync_log()
        .returning(move |_, _, _| ready(Ok(rows.clone())));
    mock.expect_invoice_sync_log()
        .returning(move |_, _, _, _| ready(Ok(log.clone())));
    // A PDF SnelStart refused, its file name and the refusal hostile too.
    mock.expect_documents().returning(|_, _| {
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
    mock.expect_notifications().returning(|_, _| {
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
    // The reconciliation: no ticked relation in Radar360, one booking only SnelStart knows.
    mock.expect_relations().returning(|_| ready(Ok(Vec::new())));
    mock.expect_reconciliation().returning(|_, period| {
        use koppeling_domain::reconciliation::{Input, Listed, reconcile};
        let input = Input {
            expected: vec![],
            listed: vec![Listed {
                booking_id: Some("boeking-1".into()),
                number: HOSTILE.into(),
                date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
                gross: Decimal::new(121, 0),
                relatie_id: None,
            }],
            mutations: vec![],
            ledgers: std::collections::HashMap::new(),
            confirmed: std::collections::HashMap::new(),
        };
        ready(Ok(reconcile(period, &input, now())))
    });
    let app = app(mock);
    let escaped = |page: &Answer, what: &str| {
        assert!(
            !page.text.contains("<script>"),
            "{what}: markup shown: {}",
            page.text
        );
        assert!(page.text.contains(SHOWN), "{what}: {}", page.text);
    };

    // Log-in: the typed e-mail address comes back in the form.
    let page = submit_login(&app, "email=%3Cscript%3Ealert(1)%3C%2Fscript%3E&password=x").await;
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
    let mut mock = signed_in(Some(koppeling(false, Some("sleutel"))));
    let mut hostile_relation = relation("12");
    hostile_relation.name = HOSTILE.into();
    let mut hostile_invoice = invoice();
    hostile_invoice.number = HOSTILE.into();
    // What ticking would do, as the domain's `preview` works it out.
    let preview = koppeling_domain::reconciliation::preview(
        &hostile_relation,
        &[(hostile_invoice, None)],
        Some(&KoppelingSettings::default()),
        &std::collections::BTreeSet::new(),
    );
    mock.expect_relation()
        .returning(move |_, _| ready(Ok(Some(hostile_relation.clone()))));
    mock.expect_set_relation_snelstart().never();
    // SnelStart answers the first preview; for the second it is not reachable.
    let asked = Arc::new(AtomicUsize::new(0));
    mock.expect_preview_relation().returning(move |_, _| {
        if asked.fetch_add(1, Ordering::SeqCst) == 0 {
            ready(Ok(preview.clone()))
        } else {
            let refused = koppeling_domain::ports::AccountingError::Transient {
                retry_after: None,
                message: HOSTILE.into(),
            };
            ready(Err(ServiceError::Unavailable(refused.to_string())))
        }
    });
    let app = app(mock);
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
