//! The `/_sandbox/` control endpoints and the binary's command line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use snelstart_sandbox::{AdminSnapshot, Faults, SandboxConfig};

use crate::helpers::{Api, form_encode, key_for, start, token_response};

#[tokio::test]
async fn control_over_http() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "controle").await;
    let http = reqwest::Client::new();
    let base = sb.base_url();

    let f: Faults = http
        .put(format!("{base}/_sandbox/faults"))
        .json(&json!({ "rate_limit_per_minute": 500, "latency_ms": 1 }))
        .send()
        .await
        .expect("put")
        .json()
        .await
        .expect("json");
    assert_eq!(f.rate_limit_per_minute, Some(500));
    assert_eq!(sb.faults().latency_ms, 1);
    let f: Value = http
        .get(format!("{base}/_sandbox/faults"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(f["rate_limit_per_minute"], 500);

    api.klant(12).await;
    let snap: AdminSnapshot = http
        .get(format!(
            "{base}/_sandbox/state?key={}",
            form_encode(&api.key)
        ))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    assert_eq!(snap.relaties.len(), 4);
    assert!(snap.grootboeken.iter().any(|g| g["nummer"] == 8000));
    assert!(snap.dagboeken.iter().any(|d| d["nummer"] == 1300));
    assert_eq!(snap.counts.get("POST /v2/relaties 201"), Some(&1));
    assert_eq!(
        http.get(format!("{base}/_sandbox/state?key=onbekend"))
            .send()
            .await
            .expect("state")
            .status(),
        404
    );

    let stats: Value = http
        .get(format!("{base}/_sandbox/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["token_requests"], 1);
    assert_eq!(
        stats["administrations"][0]["counts"]["POST /v2/relaties 201"],
        1
    );

    let r = http
        .post(format!("{base}/_sandbox/ledgers"))
        .json(&json!({ "key": api.key, "nummer": 8000, "active": false }))
        .send()
        .await
        .expect("ledger");
    assert_eq!(r.status(), 200);
    let (_, g) = api.filter("/grootboeken", "Nummer eq 8000").await;
    assert_eq!(g[0]["nonactief"], true);

    let r = http
        .post(format!("{base}/_sandbox/keys/revoke"))
        .json(&json!({ "key": api.key }))
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), 200);
    assert_eq!(api.get("/companyInfo").await.0, 401);
    http.post(format!("{base}/_sandbox/keys/restore"))
        .json(&json!({ "key": api.key }))
        .send()
        .await
        .expect("restore");
    let resp = token_response(
        &sb,
        format!("grant_type=clientkey&clientkey={}", form_encode(&api.key)),
    )
    .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn binary_prints_its_address_and_serves() {
    let key = key_for("binair");
    let mut child = Command::new(env!("CARGO_BIN_EXE_snelstart-sandbox"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--subscription-key",
            "abc",
            "--key",
            &key,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("join")
    .expect("read");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("first line")
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"));
    let http = reqwest::Client::new();
    let token = |k: String| {
        http.post(format!("{base}/b2b/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=clientkey&clientkey={}",
                form_encode(&k)
            ))
            .send()
    };
    let r = token(key.clone()).await.expect("token");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    let r = token(key_for("ander")).await.expect("token");
    assert_eq!(r.status(), 400);
    let r = http
        .get(format!("{base}/v2/companyInfo"))
        .header("Ocp-Apim-Subscription-Key", "abc")
        .bearer_auth(v["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("companyInfo");
    assert_eq!(r.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
}

/// `token_switches` in `/_sandbox/stats` counts changes of client (bearer token) between
/// consecutive calls of one administration: what the koppeling's tests use to check that
/// one process at a time serves an administratie.
#[tokio::test]
async fn token_switches_count_changes_of_client() {
    let sb = start(SandboxConfig::default()).await;
    let first = Api::open(&sb, "wissel").await;
    let second = Api::open(&sb, "wissel").await;
    assert_ne!(first.token, second.token, "each client has its own token");
    let switches = || async {
        let stats: Value = reqwest::get(format!("{}/_sandbox/stats", sb.base_url()))
            .await
            .expect("stats")
            .json()
            .await
            .expect("json");
        assert_eq!(stats["administrations"].as_array().map(Vec::len), Some(1));
        stats["administrations"][0]["token_switches"].clone()
    };
    for _ in 0..3 {
        assert_eq!(first.get("/landen").await.0, 200);
    }
    assert_eq!(switches().await, 0, "one client");
    for api in [&second, &second, &first, &second] {
        assert_eq!(api.get("/landen").await.0, 200);
    }
    assert_eq!(switches().await, 3, "first → second → first → second");
}
