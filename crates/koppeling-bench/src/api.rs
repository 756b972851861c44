//! Thin HTTP clients: the koppeling JSON API and the sandbox's `/_sandbox/stats`.

use std::collections::HashSet;

use anyhow::{Context, bail};
use base64::Engine;
use serde_json::{Value, json};

/// The koppeling JSON API.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// PUT, returning (status, body).
    pub async fn put(&self, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let r = self
            .http
            .put(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .with_context(|| format!("PUT {path}"))?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// PUT that must answer 200 or 201.
    pub async fn put_ok(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let (status, body) = self.put(path, body).await?;
        if status != 200 && status != 201 {
            bail!("PUT {path}: {status} {body}");
        }
        Ok(body)
    }

    /// POST without a body, returning (status, body).
    pub async fn post(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// GET, returning the body of a 200.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status != 200 {
            bail!("GET {path}: {status} {body}");
        }
        Ok(body)
    }
}

/// The administratie code of bench administratie `i`.
pub fn adm_code(i: usize) -> String {
    format!("bench-{i:04}")
}

/// Its koppelsleutel, as SnelStart makes them: base64("user:password").
pub fn koppelsleutel(user: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:pw"))
}

/// The user part of administratie `i`'s koppelsleutel.
pub fn adm_user(i: usize) -> String {
    format!("user{i}")
}

/// An invoice body: one line of 100.00 at the high rate (gross 121.00), final.
pub fn invoice_body(number: &str, relation: usize, date: &str) -> Value {
    json!({
        "number": number,
        "relation_id": format!("r{relation}"),
        "date": date,
        "payment_term_days": 14,
        "status": "final",
        "description": "Benchmark",
        "lines": [{"description": "Advieswerk", "quantity": "1", "unit_price": "100.00", "vat": "high"}]
    })
}

/// What the sandbox holds for a set of koppelsleutels.
#[derive(Debug, Clone, Copy, Default)]
pub struct SandboxTotals {
    /// `/v2` calls (token requests are not among them).
    pub calls: u64,
    pub boekingen: u64,
    pub relaties: u64,
    /// Token requests over all keys.
    pub token_requests: u64,
}

/// Sums `/_sandbox/stats` over the administrations whose key is in `keys`.
pub async fn sandbox_totals(
    http: &reqwest::Client,
    base: &str,
    keys: &HashSet<String>,
) -> anyhow::Result<SandboxTotals> {
    let stats: Value = http
        .get(format!("{base}/_sandbox/stats"))
        .send()
        .await?
        .json()
        .await?;
    let mut t = SandboxTotals {
        token_requests: stats["token_requests"].as_u64().unwrap_or(0),
        ..SandboxTotals::default()
    };
    for a in stats["administrations"].as_array().into_iter().flatten() {
        if a["key"].as_str().is_some_and(|k| keys.contains(k)) {
            t.calls += a["calls"].as_u64().unwrap_or(0);
            t.boekingen += a["verkoopboekingen"].as_u64().unwrap_or(0);
            t.relaties += a["relaties"].as_u64().unwrap_or(0);
        }
    }
    Ok(t)
}

/// Call counts by `"METHOD /v2/template STATUS"` summed over `keys`.
pub async fn sandbox_counts(
    http: &reqwest::Client,
    base: &str,
    keys: &HashSet<String>,
) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
    let stats: Value = http
        .get(format!("{base}/_sandbox/stats"))
        .send()
        .await?
        .json()
        .await?;
    let mut out = std::collections::BTreeMap::new();
    for a in stats["administrations"].as_array().into_iter().flatten() {
        if !a["key"].as_str().is_some_and(|k| keys.contains(k)) {
            continue;
        }
        for (k, v) in a["counts"].as_object().into_iter().flatten() {
            *out.entry(k.clone()).or_insert(0) += v.as_u64().unwrap_or(0);
        }
    }
    Ok(out)
}
