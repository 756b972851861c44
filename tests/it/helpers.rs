//! `spawn_app`: the sandbox on port 0, a fresh database (SQLite file or PostgreSQL), the
//! application on port 0, and a reqwest client for the JSON API.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use koppeling::settings::Settings;
use koppeling::startup::Application;
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use serde_json::{Value, json};
use snelstart_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

pub const TOKEN: &str = "test-api-token-of-32-characters!";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub sandbox: SandboxHandle,
    pub key: String,
    database_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// A koppelsleutel as SnelStart makes them: base64("user:password").
pub fn koppelsleutel(user: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:geheim-wachtwoord"))
}

/// A fresh PostgreSQL database, or a loud skip (a failure under CI) when none is configured.
pub async fn fresh_postgres() -> Option<String> {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI"
        );
        eprintln!(
            "\n*** SKIPPING PostgreSQL variant: set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test ***\n"
        );
        return None;
    };
    let name = format!("koppeling_it_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b)
        .to_owned();
    Some(format!("{base}/{name}"))
}

pub async fn spawn_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, |_| {}).await
}

/// The cargo target directory (`CARGO_TARGET_DIR`, or `target` of the workspace).
pub fn target_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// The `koppeling` debug binary; the test fails with how to build it when it is missing.
pub fn koppeling_binary() -> PathBuf {
    let bin = target_dir().join("debug/koppeling");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p koppeling -p snelstart-sandbox` first (`just test` does)",
        bin.display()
    );
    bin
}

/// A port that nothing listens on (bound to port 0, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A sandbox with the default configuration on a free port of 127.0.0.1.
pub async fn start_sandbox() -> SandboxHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Sandbox::start(listener, SandboxConfig::default())
        .await
        .unwrap()
}

/// [`spawn_app`] with `adjust` applied to the settings last (e.g. `smtp.url`, the notify
/// back-off).
pub async fn spawn_app_with(db: Db, adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    let key = koppelsleutel(&format!("kantoor-{}", uuid::Uuid::new_v4().simple()));
    let sandbox = start_sandbox().await;
    sandbox.add_key(&key);
    let dir = tempfile::tempdir().unwrap();
    let database_url = match db {
        Db::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("koppeling.db").display()
        ),
        Db::Postgres => fresh_postgres().await?,
    };
    let mut settings = Settings::default();
    settings.database.url = database_url.clone();
    settings.http.listen = "127.0.0.1:0".to_owned();
    settings.api.token = Some(SecretString::from(TOKEN.to_owned()));
    settings.snelstart.api_url = sandbox.api_url();
    settings.snelstart.auth_url = sandbox.auth_url();
    settings.snelstart.subscription_key =
        Some(SecretString::from("sandbox-subscription-key".to_owned()));
    settings.snelstart.timeout_secs = 5;
    settings.secrets.master_key = Some(SecretString::from(
        base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
    ));
    settings.sync.sweep_secs = 1;
    adjust(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("build the application");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    Some(TestApp {
        base,
        client: reqwest::Client::new(),
        sandbox,
        key,
        database_url,
        stop: Some(stop),
        server: Some(server),
        _dir: dir,
    })
}

impl TestApp {
    /// The application's database (`sqlite://…` or `postgres://…`), to open another
    /// connection to it as another process would.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// Sends `request` with the API token; the status and the JSON answer (`null` when none).
    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let res = request.bearer_auth(TOKEN).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.put(self.url(path)).json(&body)).await
    }

    pub async fn put_raw(&self, path: &str, body: &str) -> (u16, Value) {
        self.send(
            self.client
                .put(self.url(path))
                .header("content-type", "application/json")
                .body(body.to_owned()),
        )
        .await
    }

    pub async fn post(&self, path: &str) -> (u16, Value) {
        self.send(self.client.post(self.url(path))).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.client.get(self.url(path))).await
    }

    /// An administratie with a Beheerder and saved settings (not yet active).
    pub async fn setup_administratie(&self, adm: &str) {
        assert_eq!(
            self.put(
                &format!("/administraties/{adm}"),
                json!({"name": "Kantoor Test"})
            )
            .await
            .0,
            201
        );
        let (status, _) = self
            .put(
                &format!("/administraties/{adm}/admins/bea"),
                json!({"name": "Bea", "email": format!("bea-{adm}@kantoor.nl")}),
            )
            .await;
        assert_eq!(status, 201);
        let (status, body) = self
            .put(
                &format!("/administraties/{adm}/integrations/snelstart"),
                json!({"vat_codes": {"high": 12, "low": 11, "zero": 10}, "sales_journal_code": 1300, "key": self.key, "notify_admin_id": "bea"}),
            )
            .await;
        assert!(status == 200 || status == 201, "{status} {body}");
    }

    pub async fn add_relation(&self, adm: &str, id: &str, code: &str, tick: bool) -> (u16, Value) {
        let (status, body) = self
            .put(
                &format!("/administraties/{adm}/relations/{id}"),
                json!({"code": code, "kind": "company", "name": format!("Relatie {code}"),
                       "address": {"street": "Dorpsstraat", "house_number": "1", "postcode": "1234 AB", "city": "Alkmaar", "country": "NL"},
                       "email": "info@relatie.nl"}),
            )
            .await;
        assert!(status == 201 || status == 200, "{status} {body}");
        if tick {
            self.put(
                &format!("/administraties/{adm}/relations/{id}/snelstart"),
                json!({"enabled": true}),
            )
            .await
        } else {
            (status, body)
        }
    }

    pub async fn put_invoice(
        &self,
        adm: &str,
        id: &str,
        number: &str,
        relation: &str,
        status: &str,
        lines: Value,
    ) -> (u16, Value) {
        self.put(
            &format!("/administraties/{adm}/invoices/{id}"),
            json!({"number": number, "relation_id": relation, "date": "2026-11-02", "payment_term_days": 14, "status": status, "lines": lines}),
        )
        .await
    }

    /// Waits until the invoice's sync status is one of `want`, or panics after `secs`.
    pub async fn wait_for_status(&self, adm: &str, id: &str, want: &[&str], secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let (_, body) = self
                .get(&format!("/administraties/{adm}/invoices/{id}"))
                .await;
            let status = body["sync"]["status"].as_str().unwrap_or("").to_owned();
            if want.contains(&status.as_str()) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "invoice {id} still {status:?} after {secs}s: {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The verkoopboekingen the sandbox holds for our key.
    pub fn boekingen(&self) -> Vec<Value> {
        let state = self
            .sandbox
            .state(&self.key)
            .map(|s| serde_json::to_value(s).unwrap())
            .unwrap_or(Value::Null);
        state["verkoopboekingen"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn relaties(&self) -> Vec<Value> {
        let state = self
            .sandbox
            .state(&self.key)
            .map(|s| serde_json::to_value(s).unwrap())
            .unwrap_or(Value::Null);
        state["relaties"].as_array().cloned().unwrap_or_default()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}

/// A bearer token of the sandbox for our key (as the accountant's own software would get).
pub async fn sandbox_token(app: &TestApp) -> String {
    let token: Value = reqwest::Client::new()
        .post(app.sandbox.auth_url())
        .form(&[("grant_type", "clientkey"), ("clientkey", app.key.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

/// A call to the sandbox's API outside the koppeling: `(status, body)`.
pub async fn sandbox_call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let token = sandbox_token(app).await;
    let mut req = reqwest::Client::new()
        .request(method, format!("{}/{path}", app.sandbox.api_url()))
        .header(
            "Ocp-Apim-Subscription-Key",
            snelstart_sandbox::DEFAULT_SUBSCRIPTION_KEY,
        )
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}
