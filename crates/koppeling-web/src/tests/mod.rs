//! Router tests with mocked ports: requests go through `tower::ServiceExt::oneshot`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{DateTime, TimeZone, Utc};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use koppeling_domain::koppeling::{ConnectionKey, Koppeling, KoppelingSettings};
use koppeling_domain::money::VatClass;
use koppeling_domain::ports::{
    Administratie, MockAccounting, MockClock, MockNotifier, MockStore, StatusCounts,
};
use koppeling_domain::sync::{Service, SyncConfig};
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

pub(crate) type Sut = Service<MockStore, MockAccounting, MockNotifier, MockClock>;

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

pub(crate) fn adm() -> AdministratieCode {
    AdministratieCode::parse("kantoor").unwrap()
}

pub(crate) fn service(store: MockStore, accounting: MockAccounting) -> Sut {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    Service::new(
        store,
        accounting,
        MockNotifier::new(),
        clock,
        SyncConfig::default(),
    )
}

pub(crate) fn app(store: MockStore, accounting: MockAccounting) -> Router {
    router(
        Arc::new(service(store, accounting)),
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

/// The administratie `kantoor` exists.
pub(crate) fn with_administratie(store: &mut MockStore) {
    store.expect_get_administratie().returning(|code| {
        ready(Ok(Some(Administratie {
            code: code.clone(),
            name: "Kantoor B.V.".into(),
        })))
    });
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

/// The store answers the overview: the koppeling as given, no invoices counted.
pub(crate) fn with_overview(store: &mut MockStore, stored: Option<Koppeling>) {
    store
        .expect_status_counts()
        .returning(|_| ready(Ok(StatusCounts::default())));
    store
        .expect_get_koppeling()
        .returning(move |_| ready(Ok(stored.clone())));
    with_overview_reads(store);
}

/// The overview's other reads: no read-back or event push yet, no activation link.
pub(crate) fn with_overview_reads(store: &mut MockStore) {
    store
        .expect_readback_state()
        .returning(|_| ready(Ok(koppeling_domain::readback::ReadbackState::default())));
    store
        .expect_link_connected()
        .returning(|_| ready(Ok(false)));
    store
        .expect_documents_missing_scope()
        .returning(|_| ready(Ok(None)));
    store
        .expect_push_state()
        .returning(|_| ready(Ok(koppeling_domain::readback::PushState::default())));
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
