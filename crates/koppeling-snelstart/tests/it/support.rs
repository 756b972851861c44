//! Shared set-up: a sandbox on 127.0.0.1:0, an adapter pointed at it, and domain fixtures.

use std::time::Duration;

use base64::Engine as _;
use koppeling_domain::booking::SalesBooking;
use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::koppeling::{Connection, ConnectionKey};
use koppeling_domain::ports::Accounting;
use koppeling_domain::relation::{RelatieCode, RelatieData};
use koppeling_snelstart::{SnelStartAccounting, SnelStartConfig};
use snelstart_sandbox::{DEFAULT_SUBSCRIPTION_KEY, Sandbox, SandboxConfig, SandboxHandle};

/// A running sandbox and an adapter for one administratie.
pub struct Env {
    pub sandbox: SandboxHandle,
    pub accounting: SnelStartAccounting,
    pub conn: Connection,
    pub key: String,
}

impl Env {
    /// Creates klant `code` (see [`relatie_data`]) through the adapter; its SnelStart id.
    pub async fn klant(&self, code: i32) -> String {
        self.accounting
            .create_relatie(&self.conn, &relatie_data(code))
            .await
            .unwrap()
    }

    /// Books `booking` for `klant` through the adapter; the verkoopboeking's id.
    pub async fn book(&self, booking: &SalesBooking, klant: &str) -> String {
        self.accounting
            .book_sale(&self.conn, booking, klant)
            .await
            .unwrap()
    }

    /// Creates klant 1001 and books invoice `WARM-1`, so that the token and the ledgers are
    /// cached; the klant's id.
    pub async fn warm_up(&self) -> String {
        let klant = self.klant(1001).await;
        self.book(&booking("WARM-1", 1001), &klant).await;
        klant
    }
}

/// Adapter settings for tests.
pub struct Options {
    pub subscription_key: String,
    pub calls_per_minute: u32,
    pub calls_per_hour: u32,
    pub concurrency: u32,
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            subscription_key: DEFAULT_SUBSCRIPTION_KEY.into(),
            calls_per_minute: 500,
            calls_per_hour: 5000,
            concurrency: 50,
            timeout: Duration::from_secs(10),
        }
    }
}

/// base64("user:password"): any such key opens its own seeded administration.
pub fn koppelsleutel(user: &str) -> String {
    // A password with characters that become `+`, `/` and `=` in base64.
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:p>w?d~~"))
}

pub async fn env() -> Env {
    env_with(Options::default()).await
}

pub async fn env_with(options: Options) -> Env {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = Sandbox::start(listener, SandboxConfig::default())
        .await
        .unwrap();
    let accounting = adapter(&sandbox, &options);
    let key = koppelsleutel("kantoor");
    let conn = connection("kantoor-1", &key);
    Env {
        sandbox,
        accounting,
        conn,
        key,
    }
}

pub fn adapter(sandbox: &SandboxHandle, options: &Options) -> SnelStartAccounting {
    SnelStartAccounting::new(SnelStartConfig {
        api_url: sandbox.api_url(),
        auth_url: sandbox.auth_url(),
        subscription_key: options.subscription_key.clone().into(),
        timeout: options.timeout,
        calls_per_minute: options.calls_per_minute,
        calls_per_hour: options.calls_per_hour,
        concurrency: options.concurrency,
    })
    .unwrap()
}

pub fn connection(administratie: &str, key: &str) -> Connection {
    Connection {
        administratie: AdministratieCode::parse(administratie).unwrap(),
        key: ConnectionKey::new(key.to_owned()).unwrap(),
    }
}

pub fn relatie_data(code: i32) -> RelatieData {
    RelatieData {
        code: RelatieCode::from_i32(code).unwrap(),
        name: "Voorbeeld B.V.".into(),
        street: Some("Dorpsstraat 1".into()),
        postcode: Some("1234 AB".into()),
        city: Some("Alkmaar".into()),
        country: "NL".into(),
        phone: Some("0721234567".into()),
        email: Some("facturen@voorbeeld.nl".into()),
        vat_number: None,
        coc_number: Some("12345678".into()),
        iban: Some("NL91ABNA0417164300".into()),
    }
}

/// 100.00 high + 50.00 low: 21.00 + 4.50 VAT, 175.50 in total.
pub fn booking(number: &str, code: i32) -> SalesBooking {
    koppeling_domain::testkit::sales_booking(number, code)
}
