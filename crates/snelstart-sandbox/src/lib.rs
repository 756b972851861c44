//! A faithful local stand-in for the SnelStart B2B API v2: token endpoint, `/v2` resources, OData, business rules and fault injection.
//!
//! Start it on any listener and point a client at [`SandboxHandle::api_url`] and
//! [`SandboxHandle::auth_url`]:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use snelstart_sandbox::{Sandbox, SandboxConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let sandbox = Sandbox::start(listener, SandboxConfig::default()).await?;
//! println!("token: {}  api: {}", sandbox.auth_url(), sandbox.api_url());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The behaviour follows `shared/snelstart/README.md` §14; the control endpoints under
//! `/_sandbox/` are described in the crate's `README.md`.

#![recursion_limit = "256"]

mod admin;
mod api;
mod betalingen;
pub use betalingen::Kind as PaymentKind;
mod boekingen;
mod control;
mod documenten;
mod errors;
mod input;
mod json;
mod mutaties;
mod odata;
mod relaties;
mod seed;
mod server;
mod state;
mod token;

mod couplings;
pub use couplings::Delivery;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How the sandbox is set up when it starts.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Accepted `Ocp-Apim-Subscription-Key` values.
    pub subscription_keys: Vec<String>,
    /// Koppelsleutels that each open their own seeded administration. Empty means: any key of
    /// the form base64(`user:password`) opens its own administration on first use.
    pub keys: Vec<String>,
    /// Faults active from the start.
    pub faults: Faults,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            subscription_keys: vec![DEFAULT_SUBSCRIPTION_KEY.to_owned()],
            keys: Vec::new(),
            faults: Faults::default(),
        }
    }
}

/// The subscription key accepted when none is configured.
pub const DEFAULT_SUBSCRIPTION_KEY: &str = "sandbox-subscription-key";

/// Injected faults. Every field defaults to "off"; JSON input may omit fields.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Faults {
    /// Per administration: calls beyond N in the current 60-second window get 429 with
    /// `Retry-After` (seconds until the window ends) and the APIM body.
    pub rate_limit_per_minute: Option<u32>,
    /// Fraction (0..1) of `/v2` requests answered 503 before anything is done.
    pub error_rate: f64,
    /// Fraction (0..1) of successful POST/PUT writes (relaties, verkoopboekingen, documents)
    /// that are committed but whose response is never delivered: the connection is dropped.
    pub lost_response_rate: f64,
    /// When set, `lost_response_rate` applies only to writes of this route template, e.g.
    /// `"POST /v2/documenten/{documenttype}"`.
    pub lost_response_route: Option<String>,
    /// Delay added to every `/v2` request.
    pub latency_ms: u64,
    /// Seed for the random draws behind the rates (deterministic when set).
    pub seed: Option<u64>,
    /// Hostile: the next aimed `/v2` calls are answered 429 with this raw `Retry-After` value.
    pub retry_after: Option<RetryAfterFault>,
    /// Hostile: token answers carry this `expires_in` (any JSON value, sent as is) instead of
    /// 3599, while set. The tokens still live 3599 s.
    pub expires_in: Option<Value>,
    /// Hostile: the next aimed 2xx answers get `bytes` of whitespace after their JSON (a
    /// write is committed first).
    pub oversized: Option<OversizedFault>,
    /// Hostile: the next aimed committed POST/PUT writes are answered with `id` replaced.
    pub bad_id: Option<BadIdFault>,
    /// Hostile: the next aimed `/v2` calls are answered with a redirect and nothing is done.
    pub redirect: Option<RedirectFault>,
}

/// Which calls a counted fault hits, and how many more times.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Aim {
    /// How many more calls get the fault; each hit counts down and the fault is cleared when
    /// this reaches 0. Default 1.
    #[serde(default = "one")]
    pub calls: u32,
    /// Only calls to this route, written as in the counters: `"POST /v2/verkoopboekingen"`
    /// (case-insensitive). Default: every route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Only calls for the administration of this koppelsleutel. Default: every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

fn one() -> u32 {
    1
}

impl Default for Aim {
    /// The next call, whatever it is.
    fn default() -> Self {
        Self {
            calls: 1,
            route: None,
            key: None,
        }
    }
}

impl Aim {
    /// The next `calls` calls to `route` (a counter template such as `"POST /v2/relaties"`).
    #[must_use]
    pub fn route(calls: u32, route: &str) -> Self {
        Self {
            calls,
            route: Some(route.to_owned()),
            key: None,
        }
    }

    /// Only for the administration of `key`.
    #[must_use]
    pub fn for_key(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }

    fn hits(&self, route: &str, key: &str) -> bool {
        self.calls > 0
            && self
                .route
                .as_deref()
                .is_none_or(|r| r.eq_ignore_ascii_case(route))
            && self.key.as_deref().is_none_or(|k| k == key)
    }
}

/// `Faults::retry_after`: a 429 whose `Retry-After` is `value`, verbatim (also in the APIM
/// body's "Try again in … seconds.").
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RetryAfterFault {
    /// The raw header value, e.g. `"18446744073709551615"`, `"-5"` or an HTTP-date.
    pub value: String,
    /// Which calls.
    #[serde(flatten)]
    pub aim: Aim,
}

/// `Faults::oversized`: a 2xx answer made `bytes` longer with trailing whitespace (still
/// valid JSON).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OversizedFault {
    /// Padding, at most [`MAX_PADDING`].
    pub bytes: u64,
    /// Which calls.
    #[serde(flatten)]
    pub aim: Aim,
}

/// The most padding [`OversizedFault`] adds (64 MiB), so a typo cannot exhaust memory.
pub const MAX_PADDING: u64 = 64 * 1024 * 1024;

/// `Faults::bad_id`: a committed write answered with `"id": id`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BadIdFault {
    /// The id sent instead of the real one (any JSON value, e.g. `"not-a-guid"`).
    pub id: Value,
    /// Which calls.
    #[serde(flatten)]
    pub aim: Aim,
}

/// `Faults::redirect`: an answer `status` with `Location: location` and an empty body.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RedirectFault {
    /// Where to; sent verbatim.
    pub location: String,
    /// 301, 302, 303, 307 or 308; default 302.
    #[serde(default = "found")]
    pub status: u16,
    /// Which calls.
    #[serde(flatten)]
    pub aim: Aim,
}

fn found() -> u16 {
    302
}

/// A fault that is counted down per call (see [`Aim`]).
pub(crate) trait Aimed: Clone {
    fn aim(&mut self) -> &mut Aim;
}

macro_rules! aimed {
    ($($t:ty),*) => { $( impl Aimed for $t { fn aim(&mut self) -> &mut Aim { &mut self.aim } } )* };
}
aimed!(RetryAfterFault, OversizedFault, BadIdFault, RedirectFault);

impl Faults {
    /// Spends one call of the counted fault in `slot` if it hits `route` of `key`'s
    /// administration; the copy returned is what to do.
    pub(crate) fn fire<T: Aimed>(
        &mut self,
        slot: fn(&mut Self) -> &mut Option<T>,
        route: &str,
        key: &str,
    ) -> Option<T> {
        let slot = slot(self);
        let fault = slot.as_mut()?;
        if !fault.aim().hits(route, key) {
            return None;
        }
        let fired = fault.clone();
        fault.aim().calls -= 1;
        if fault.aim().calls == 0 {
            *slot = None;
        }
        Some(fired)
    }
}

/// A copy of one administration's data and counters.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdminSnapshot {
    /// The koppelsleutel that opens this administration.
    pub key: String,
    /// `companyInfo.administratieIdentifier`.
    pub administratie_identifier: uuid::Uuid,
    /// `companyInfo.administratieNaam`.
    pub administratie_naam: String,
    /// Whether the key is currently revoked.
    pub revoked: bool,
    /// Rows as `GET /v2/relaties` returns them (including the system relations).
    pub relaties: Vec<Value>,
    /// Rows as `GET /v2/verkoopboekingen/{id}` returns them.
    pub verkoopboekingen: Vec<Value>,
    /// Rows as `GET /v2/verkoopfacturen` returns them.
    pub verkoopfacturen: Vec<Value>,
    /// Rows as `GET /v2/grootboeken` returns them.
    pub grootboeken: Vec<Value>,
    /// Rows as `GET /v2/dagboeken` returns them.
    pub dagboeken: Vec<Value>,
    /// Rows as `GET /v2/bankboekingen` returns them.
    pub bankboekingen: Vec<Value>,
    /// Rows as `GET /v2/kasboekingen` returns them.
    pub kasboekingen: Vec<Value>,
    /// Documents as `GET /v2/documenten/{id}` returns them, without `content` but with its
    /// decoded `size` in bytes, in upload order.
    #[serde(default)]
    pub documenten: Vec<Value>,
    /// `/v2` requests that reached this administration (after authentication).
    pub calls: u64,
    /// Calls per `"METHOD /v2/path-template STATUS"`.
    pub counts: BTreeMap<String, u64>,
}

/// Entry point: [`Sandbox::start`].
pub struct Sandbox;

impl Sandbox {
    /// Serves the sandbox on `listener` until [`SandboxHandle::shutdown`] is called or the
    /// handle is dropped.
    ///
    /// # Errors
    /// Fails when the listener's local address cannot be read.
    pub async fn start(
        listener: tokio::net::TcpListener,
        config: SandboxConfig,
    ) -> anyhow::Result<SandboxHandle> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(state::Shared::new(&config));
        let (tx, rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(server::serve(listener, shared.clone(), rx));
        Ok(SandboxHandle {
            addr,
            shared,
            shutdown: tx,
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server, like [`SandboxHandle::shutdown`] without
/// waiting.
pub struct SandboxHandle {
    addr: SocketAddr,
    shared: Arc<state::Shared>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SandboxHandle {
    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://ADDR/v2`.
    #[must_use]
    pub fn api_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    /// `http://ADDR/b2b/token`.
    #[must_use]
    pub fn auth_url(&self) -> String {
        format!("http://{}/b2b/token", self.addr)
    }

    /// Replaces the active faults.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Changes the active faults in place (keeps the others and the counters of the rest).
    pub fn update_faults(&self, change: impl FnOnce(&mut Faults)) {
        self.shared.update_faults(change);
    }

    /// The active faults.
    #[must_use]
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Refuses `koppelsleutel` at the token endpoint and invalidates its tokens.
    pub fn revoke_key(&self, koppelsleutel: &str) {
        self.shared.revoke_key(koppelsleutel);
    }

    /// Undoes [`SandboxHandle::revoke_key`]; the administration keeps its data.
    pub fn restore_key(&self, koppelsleutel: &str) {
        self.shared.restore_key(koppelsleutel);
    }

    /// Opens a seeded administration for `koppelsleutel` (also when `keys` was configured).
    pub fn add_key(&self, koppelsleutel: &str) {
        self.shared.add_key(koppelsleutel);
    }

    /// Makes every token minted for `koppelsleutel` expire now (tests of token renewal).
    pub fn expire_tokens(&self, koppelsleutel: &str) {
        self.shared.expire_tokens(koppelsleutel);
    }

    /// A copy of the administration opened by `koppelsleutel`, if it exists.
    #[must_use]
    pub fn state(&self, koppelsleutel: &str) -> Option<AdminSnapshot> {
        self.shared.snapshot(koppelsleutel)
    }

    /// `/v2` requests that reached the administration of `koppelsleutel`.
    #[must_use]
    pub fn call_count(&self, koppelsleutel: &str) -> u64 {
        self.shared.call_count(koppelsleutel)
    }

    /// Requests to `POST /b2b/token` so far (successful or not).
    #[must_use]
    pub fn token_requests(&self) -> u64 {
        self.shared.token_requests()
    }

    /// Sets `nonactief` of grootboek `nummer` (false = active).
    pub fn set_ledger_active(&self, koppelsleutel: &str, nummer: i32, active: bool) {
        self.shared.set_ledger_active(koppelsleutel, nummer, active);
    }

    /// Removes grootboek `nummer` from the administration.
    pub fn remove_ledger(&self, koppelsleutel: &str, nummer: i32) {
        self.shared.remove_ledger(koppelsleutel, nummer);
    }

    /// Limits the scopes `koppelsleutel`'s tokens carry (e.g. without `bankieren:read` and
    /// `kas:read`); `None` restores every scope. Calls needing a missing scope get 403.
    pub fn set_scopes(&self, koppelsleutel: &str, scopes: Option<&[&str]>) {
        self.shared.set_scopes(
            koppelsleutel,
            scopes.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
        );
    }

    /// The accountant changes verkoopboeking `id` in SnelStart (`gewijzigdDoorAccountant`
    /// becomes true, `modifiedOn` moves, the verkoopfactuur follows). `changes` is an object of
    /// the booking's top-level fields. Returns the changed booking, `None` for an unknown id.
    pub fn accountant_edit(&self, koppelsleutel: &str, id: &str, changes: &Value) -> Option<Value> {
        let id = uuid::Uuid::parse_str(id).ok()?;
        let changes = changes.as_object()?;
        self.shared.accountant_edit(koppelsleutel, id, changes)
    }

    /// The accountant deletes verkoopboeking `id` in SnelStart: its bank and cash bookings
    /// first (as SnelStart requires), then the booking and its verkoopfactuur. `false` when
    /// the administration or the booking is unknown.
    #[must_use]
    pub fn accountant_delete(&self, koppelsleutel: &str, id: &str) -> bool {
        uuid::Uuid::parse_str(id).is_ok_and(|id| self.shared.accountant_delete(koppelsleutel, id))
    }

    /// Books a bank or cash booking (the body of `POST /bankboekingen`) as if the customer's
    /// bookkeeper entered it; returns the status and body the API would answer.
    pub fn book_payment(
        &self,
        koppelsleutel: &str,
        kind: PaymentKind,
        body: &Value,
    ) -> Option<(u16, Value)> {
        self.shared.book_payment(koppelsleutel, kind, body)
    }

    /// A bank payment of `amount` received on `datum` (`YYYY-MM-DD`) settling verkoopboeking
    /// `boeking`: the simplest way to mark an invoice (partly) paid. Returns the status and body.
    pub fn pay(
        &self,
        koppelsleutel: &str,
        boeking: &str,
        amount: &str,
        datum: &str,
    ) -> Option<(u16, Value)> {
        let dagboek = self.dagboek_id(koppelsleutel, "Bank")?;
        self.book_payment(
            koppelsleutel,
            PaymentKind::Bank,
            &serde_json::json!({
                "datum": datum,
                "dagboek": {"id": dagboek},
                "bedragOntvangen": amount,
                "bedragUitgegeven": "0",
                "omschrijving": "Betaling",
                "verkoopboekingBoekingsRegels": [
                    {"boekingId": {"id": boeking}, "omschrijving": "Betaling", "credit": amount, "debet": "0"}
                ]
            }),
        )
    }

    /// The id of the administration's dagboek of `soort` (`Bank`, `Kas`, …).
    #[must_use]
    pub fn dagboek_id(&self, koppelsleutel: &str, soort: &str) -> Option<String> {
        let state = self.shared.snapshot(koppelsleutel)?;
        let json = serde_json::to_value(state).ok()?;
        json.get("dagboeken")?
            .as_array()?
            .iter()
            .find(|d| d.get("soort").and_then(Value::as_str) == Some(soort))
            .and_then(|d| d.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Statistics as served by `GET /_sandbox/stats`.
    #[must_use]
    pub fn stats(&self) -> Value {
        self.shared.stats()
    }

    /// Registers the activation app `name` with its webhook URL (`--app NAME=URL`).
    pub fn register_app(&self, name: &str, webhook_url: &str) {
        self.shared.couplings.register(name, webhook_url);
    }

    /// Every webhook delivery so far, as `GET /_sandbox/couplings/deliveries` lists them.
    #[must_use]
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.couplings.deliveries()
    }

    /// Stops accepting, lets in-flight requests finish (at most ~2 s) and waits for the server.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
