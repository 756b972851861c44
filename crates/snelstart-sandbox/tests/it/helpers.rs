//! Shared test helpers: start a sandbox, mint tokens, call the API.

use base64::Engine;
use serde_json::Value;
use snelstart_sandbox::{DEFAULT_SUBSCRIPTION_KEY, Sandbox, SandboxConfig, SandboxHandle};

pub fn key_for(user: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:geheim-wachtwoord"))
}

pub async fn start(config: SandboxConfig) -> SandboxHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    Sandbox::start(listener, config).await.expect("start")
}

pub fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An administration opened by `key`, with a client that authenticates.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub key: String,
    pub token: String,
}

pub async fn token_response(sb: &SandboxHandle, body: String) -> reqwest::Response {
    reqwest::Client::new()
        .post(sb.auth_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token request")
}

pub async fn token(sb: &SandboxHandle, key: &str) -> String {
    let resp = token_response(
        sb,
        format!("grant_type=clientkey&clientkey={}", form_encode(key)),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.expect("json");
    v["access_token"].as_str().expect("token").to_owned()
}

impl Api {
    pub async fn open(sb: &SandboxHandle, user: &str) -> Api {
        let key = key_for(user);
        let token = token(sb, &key).await;
        Api {
            http: reqwest::Client::new(),
            base: sb.api_url(),
            key,
            token,
        }
    }

    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("Ocp-Apim-Subscription-Key", DEFAULT_SUBSCRIPTION_KEY)
            .bearer_auth(&self.token)
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = rb.send().await.expect("send");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, v)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.req(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.req(reqwest::Method::POST, path).json(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.req(reqwest::Method::PUT, path).json(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.req(reqwest::Method::DELETE, path)).await
    }

    /// `GET path?$filter=…` with the filter percent-encoded.
    pub async fn filter(&self, path: &str, filter: &str) -> (u16, Value) {
        self.get(&format!("{path}?$filter={}", form_encode(filter)))
            .await
    }

    /// The id of grootboek `nummer`.
    pub async fn ledger(&self, nummer: i32) -> String {
        let (s, v) = self
            .filter("/grootboeken", &format!("Nummer eq {nummer}"))
            .await;
        assert_eq!(s, 200, "{v}");
        v[0]["id"].as_str().expect("ledger id").to_owned()
    }

    /// Creates a Klant and returns its id.
    pub async fn klant(&self, code: i32) -> String {
        let (s, v) = self
            .post(
                "/relaties",
                &serde_json::json!({ "relatiesoort": ["Klant"], "relatiecode": code, "naam": format!("Klant {code}") }),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().expect("id").to_owned()
    }
}

/// The error codes of a 400 array body.
pub fn codes(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["errorCode"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
