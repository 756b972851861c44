//! Router tests against the one inbound port (issue 14): the router is driven with `MockApp`
//! and requests go through `tower::ServiceExt::oneshot`. The use case's own rules are
//! tested in the domain (`koppeling_domain::sync` tests).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{DateTime, TimeZone, Utc};
use koppeling_domain::app::MockApp;
use koppeling_domain::auth::SessionRecord;
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use koppeling_domain::koppeling::{ConnectionKey, Koppeling, KoppelingSettings};
use koppeling_domain::money::VatClass;
use koppeling_domain::ports::{Admin, Administratie, StatusCounts, SyncState, SyncStatus};
use koppeling_domain::problem::{Problem, Rule};
use koppeling_domain::sync::{KoppelingOverview, ServiceError};
pub(crate) use koppeling_domain::testkit::{self, relation};
use rust_decimal::Decimal;
use serde_json::Value;
use tower::ServiceExt;

use crate::{WebConfig, router};

mod api;
mod import;
mod port;
mod ui;

pub(crate) const TOKEN: &str = "test-api-token-of-32-characters!";

type Fut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A ready future, as the mocks' `impl Future` returns need.
pub(crate) fn ready<T: Send + 'static>(value: T) -> Fut<T> {
    Box::pin(std::future::ready(value))
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

pub(crate) fn adm() -> AdministratieCode {
    AdministratieCode::parse("kantoor").unwrap()
}

/// The router over the one inbound port: each test scripts what the use case answers
/// (issue 14). A method without an expectation panics when called, so an unscripted
/// call fails the test.
pub(crate) fn app(mock: MockApp) -> Router {
    router(
        Arc::new(mock),
        WebConfig {
            api_token: TOKEN.to_owned().into(),
            previous_api_tokens: Vec::new(),
            secure_cookies: false,
            public_url: "http://127.0.0.1".to_owned(),
            trusted_proxies: Vec::new(),
        },
        Arc::new(|| "# TYPE koppeling_up gauge\nkoppeling_up 1\n".to_owned()),
    )
}

/// The administratie `kantoor` (any code asked for) exists.
pub(crate) fn known_administratie(mock: &mut MockApp) {
    mock.expect_get_administratie().returning(|code| {
        ready(Ok(Administratie {
            code: code.clone(),
            name: "Kantoor B.V.".into(),
        }))
    });
}

/// The use case's answer when the database is busy (nothing was written).
pub(crate) fn busy(what: &str) -> ServiceError {
    ServiceError::Busy(what.to_owned())
}

/// The use case refuses the input: `rule` broken on `field` (422).
pub(crate) fn refused(field: &str, rule: Rule) -> ServiceError {
    ServiceError::Invalid(vec![Problem::new(field, rule)])
}

/// Relation code "A12" has letters: the use case's refusal to tick it (the rule itself is
/// tested in the domain).
pub(crate) fn code_not_numeric() -> Problem {
    Problem::new("code", Rule::CodeNotNumeric { code: "A12".into() })
}

/// The use case refuses, once, to tick relation `rel-1`: [`code_not_numeric`].
pub(crate) fn refuses_to_tick(mock: &mut MockApp) {
    mock.expect_set_relation_snelstart()
        .withf(|_, id, enabled| id.as_str() == "rel-1" && *enabled)
        .times(1)
        .returning(|_, _, _| ready(Err(ServiceError::Invalid(vec![code_not_numeric()]))));
}

/// A sync state with `status` after one attempt, updated [`now`].
pub(crate) fn sync_state(status: SyncStatus) -> SyncState {
    SyncState {
        status,
        snelstart_id: None,
        error: None,
        hint: None,
        attempts: 1,
        next_attempt_at: None,
        updated_at: now(),
        payment: None,
        drift: None,
    }
}

/// [`testkit::invoice`] with two "Advies" at 50.00, high VAT.
pub(crate) fn invoice() -> Invoice {
    testkit::invoice(vec![InvoiceLine {
        quantity: Decimal::new(2, 0),
        ..testkit::line(Decimal::new(5000, 2), VatClass::High)
    }])
}

pub(crate) fn koppeling(active: bool, key: Option<&str>) -> Koppeling {
    Koppeling {
        administratie: adm(),
        settings: KoppelingSettings::default(),
        key: key.map(|k| ConnectionKey::new(k.to_owned()).unwrap()),
        key_unusable: false,
        active,
        paused: false,
        problem: None,
        last_sync_at: None,
    }
}

/// The overview entry the use case gives for `stored` (no koppeling saved when `None`),
/// with no invoices counted and the optional parts running.
pub(crate) fn overview_of(stored: Option<&Koppeling>) -> KoppelingOverview {
    let features = [("payments", "ok"), ("documents", "ok")]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
    let key_set = stored.is_some_and(|k| k.key.is_some());
    KoppelingOverview {
        name: "snelstart".to_owned(),
        active: stored.is_some_and(|k| k.active),
        state: stored.map_or(
            koppeling_domain::koppeling::KoppelingState::Inactive,
            Koppeling::state,
        ),
        problem: stored.and_then(|k| k.problem.clone()),
        last_sync_at: None,
        counts: StatusCounts::default(),
        key_set,
        key_unusable: false,
        settings: stored.map(|k| k.settings.clone()),
        features,
        connection: key_set.then_some(koppeling_domain::connect::ConnectionKind::Pasted),
        events_failing_since: None,
        events_last_error: None,
    }
}

/// The use case answers the overview with `stored`, as often as asked.
pub(crate) fn with_overview(mock: &mut MockApp, stored: Option<Koppeling>) {
    let overview = overview_of(stored.as_ref());
    mock.expect_overview()
        .returning(move |_| ready(Ok(overview.clone())));
}

/// One answer, read whole.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

pub(crate) async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// `/api/v1/administraties/kantoor{path}`.
pub(crate) fn kantoor(path: &str) -> String {
    format!("/api/v1/administraties/kantoor{path}")
}

/// `GET /api/v1/administraties/kantoor{path}` with the bearer token.
pub(crate) async fn get_kantoor(app: &Router, path: &str) -> Answer {
    call(app, Method::GET, &kantoor(path), None).await
}

/// `POST /api/v1/administraties/kantoor{path}` without a body.
pub(crate) async fn post_kantoor(app: &Router, path: &str) -> Answer {
    call(app, Method::POST, &kantoor(path), None).await
}

/// `PUT /api/v1/administraties/kantoor{path}` with the JSON `body`.
pub(crate) async fn put_kantoor(app: &Router, path: &str, body: &str) -> Answer {
    call(app, Method::PUT, &kantoor(path), Some(body)).await
}

/// An API call with the bearer token.
pub(crate) async fn call(app: &Router, method: Method, path: &str, body: Option<&str>) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Body::from(body.unwrap_or_default().to_owned()))
        .unwrap();
    send(app, request).await
}

/// Anna's password in the UI tests.
pub(crate) const PASSWORD: &str = "correct horse battery";

/// Anna, a Beheerder of `kantoor` whose name needs escaping.
pub(crate) fn anna(name: &str) -> Admin {
    Admin {
        id: ResourceId::parse("anna").unwrap(),
        name: name.into(),
        email: "anna@example.nl".into(),
    }
}

/// The use case's log-in bookkeeping, kept in memory: each log-in form token is used once,
/// no address is locked out, and sessions are started, found and ended.
pub(crate) fn with_sessions(mock: &mut MockApp) {
    use std::collections::{HashMap, HashSet};
    use std::sync::Mutex;
    let used: Arc<Mutex<HashSet<String>>> = Arc::default();
    mock.expect_use_login_token()
        .returning(move |h| ready(Ok(used.lock().unwrap().insert(h.to_owned()))));
    mock.expect_login_attempt()
        .returning(|_, _| ready(Ok(None)));
    mock.expect_login_succeeded()
        .returning(|_, _| ready(Ok(())));
    let sessions: Arc<Mutex<HashMap<String, SessionRecord>>> = Arc::default();
    let s = Arc::clone(&sessions);
    mock.expect_start_session()
        .returning(move |id_hash, adm, admin_id| {
            let record = SessionRecord {
                id_hash: id_hash.clone(),
                adm,
                admin_id,
                created_at: now(),
                last_seen: now(),
            };
            s.lock().unwrap().insert(id_hash, record);
            ready(Ok(()))
        });
    let s = Arc::clone(&sessions);
    mock.expect_session().returning(move |h| {
        let found = s.lock().unwrap().get(h).cloned();
        ready(Ok(found.map(|r| (r, "Anna <Beheerder>".to_owned()))))
    });
    mock.expect_end_session().returning(move |h| {
        sessions.lock().unwrap().remove(h);
        ready(Ok(()))
    });
}

/// [`with_sessions`], and `anna@example.nl` logs in with [`PASSWORD`].
pub(crate) fn with_login(mock: &mut MockApp) {
    with_sessions(mock);
    let hash = crate::hash_password(PASSWORD).unwrap();
    mock.expect_find_admin_for_login().returning(move |email| {
        let found = (email == "anna@example.nl")
            .then(|| (adm(), anna("Anna <Beheerder>"), Some(hash.clone())));
        ready(Ok(found))
    });
}

/// A use case Anna can log in to, whose *Notificatie* screen (where the UI tests pick up
/// the session's CSRF token) lists her, with the overview of `stored` and the activation
/// link off.
pub(crate) fn signed_in(stored: Option<Koppeling>) -> MockApp {
    signed_in_listing(anna("Anna"), stored)
}

/// [`signed_in`], with `listed` as the Beheerder the *Notificatie* screen lists.
pub(crate) fn signed_in_listing(listed: Admin, stored: Option<Koppeling>) -> MockApp {
    let mut mock = MockApp::new();
    with_login(&mut mock);
    mock.expect_link_enabled().return_const(false);
    mock.expect_activation_origin().return_const(None);
    mock.expect_admins()
        .returning(move |_| ready(Ok(vec![listed.clone()])));
    with_overview(&mut mock, stored);
    mock
}
