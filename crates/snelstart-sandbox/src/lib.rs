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
mod boekingen;
mod control;
mod errors;
mod input;
mod json;
mod odata;
mod relaties;
mod seed;
mod server;
mod state;
mod token;

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
    /// Fraction (0..1) of successful POST/PUT writes (relaties, verkoopboekingen) that are
    /// committed but whose response is never delivered: the connection is dropped.
    pub lost_response_rate: f64,
    /// Delay added to every `/v2` request.
    pub latency_ms: u64,
    /// Seed for the random draws behind the rates (deterministic when set).
    pub seed: Option<u64>,
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

    /// Statistics as served by `GET /_sandbox/stats`.
    #[must_use]
    pub fn stats(&self) -> Value {
        self.shared.stats()
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
