//! Issue 15, black box: the subscription key's start-up probe, with `koppeling serve` as the
//! operator runs it (the built binary), the sandbox and a real SMTP sink.
//!
//! A refused subscription key is the operator's problem: every koppeling pauses with that
//! reason, the log says so and when the next probe runs, and no Beheerder is mailed. After
//! the operator fixes the key and restarts, the probe at start-up resumes at once (not after
//! the 5-minute interval), and no "werkt weer" mail goes to a Beheerder who was never told.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use snelstart_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use tokio::process::{Child, Command};

use crate::faults::Api;
use crate::helpers::free_port;
use crate::helpers::{TOKEN, koppelsleutel};
use crate::notify::Sink;

const GOOD: &str = "sandbox-subscription-key";
const REFUSED: &str = "a-subscription-key-snelstart-refuses";

struct Setup {
    dir: tempfile::TempDir,
    db_url: String,
    master_key: String,
    sandbox: SandboxHandle,
    smtp_port: u16,
}

struct Serve {
    child: Child,
    api: Api,
    log: PathBuf,
}

fn binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/koppeling");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p koppeling` first (`just test` does)",
        path.display()
    );
    path
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

impl Serve {
    async fn start(setup: &Setup, subscription_key: &str, name: &str) -> Self {
        let port = free_port();
        let log = setup.dir.path().join(format!("{name}.log"));
        let child = Command::new(binary())
            .arg("serve")
            .current_dir(setup.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("KOPPELING_DATABASE__URL", &setup.db_url)
            .env("KOPPELING_HTTP__LISTEN", format!("127.0.0.1:{port}"))
            .env("KOPPELING_API__TOKEN", TOKEN)
            .env("KOPPELING_SNELSTART__API_URL", setup.sandbox.api_url())
            .env("KOPPELING_SNELSTART__AUTH_URL", setup.sandbox.auth_url())
            .env("KOPPELING_SNELSTART__SUBSCRIPTION_KEY", subscription_key)
            .env("KOPPELING_SECRETS__MASTER_KEY", &setup.master_key)
            .env(
                "KOPPELING_SMTP__URL",
                format!("smtp://127.0.0.1:{}", setup.smtp_port),
            )
            .env("KOPPELING_SYNC__SWEEP_SECS", "1")
            .env("KOPPELING_SYNC__LEASE_SECS", "2")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("start koppeling serve");
        let mut serve = Self {
            child,
            api: Api::new(format!("http://127.0.0.1:{port}")),
            log,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = serve.child.try_wait() {
                panic!(
                    "koppeling serve exited with {status}:\n{}",
                    read(&serve.log)
                );
            }
            if let Ok(res) = client
                .get(format!("{}/healthz", serve.api.base))
                .send()
                .await
                && res.status().is_success()
            {
                return serve;
            }
            assert!(
                Instant::now() < deadline,
                "koppeling serve did not answer within 60 s:\n{}",
                read(&serve.log)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(mut self) {
        self.child.start_kill().unwrap();
        let _ = self.child.wait().await;
    }

    /// SIGTERM and wait: a graceful stop sends what notifications are still pending.
    async fn terminate(mut self) {
        let pid = self.child.id().expect("running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("koppeling serve stops within 30 s of SIGTERM")
            .unwrap();
        assert!(status.success(), "{status}:\n{}", read(&self.log));
    }

    async fn koppeling(&self) -> Value {
        let (status, body) = self
            .api
            .get("/administraties/kantoor/integrations/snelstart")
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits until the koppeling's `state` is `want`; returns it and how long that took.
    async fn wait_state(&self, want: &str, secs: u64) -> (Value, Duration) {
        let started = Instant::now();
        loop {
            let k = self.koppeling().await;
            if k["state"] == want {
                return (k, started.elapsed());
            }
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "the koppeling is {} after {secs} s, not {want}: {k}\n{}",
                k["state"],
                read(&self.log)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the log holds `text`.
    async fn wait_log(&self, text: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let log = read(&self.log);
            if log.contains(text) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "no {text:?} in the log after {secs} s:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn invoice(api: &Api, id: &str, number: &str) {
    let (status, body) = api
        .put(
            &format!("/administraties/kantoor/invoices/{id}"),
            &json!({"number": number, "relation_id": "r1", "date": "2026-11-02", "payment_term_days": 14, "status": "final",
                    "lines": [{"description": "Advies", "quantity": "1", "unit_price": "100.00", "vat": "high"}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn status_of(api: &Api, id: &str) -> String {
    let (_, body) = api
        .get(&format!("/administraties/kantoor/invoices/{id}"))
        .await;
    body["sync"]["status"].as_str().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_subscription_key_pauses_for_the_operator_and_the_start_up_probe_resumes() {
    let smtp_port = free_port();
    let Some(sink) = Sink::start(smtp_port) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = Sandbox::start(listener, SandboxConfig::default())
        .await
        .unwrap();
    let key = koppelsleutel("probe");
    sandbox.add_key(&key);
    let setup = Setup {
        db_url: format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("koppeling.db").display()
        ),
        dir,
        master_key: base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
        sandbox,
        smtp_port,
    };

    // A working koppeling: an administratie, its Beheerder (who gets notifications), the
    // key, activated, one ticked relation with a booked invoice.
    let serve = Serve::start(&setup, GOOD, "1-good").await;
    let api = &serve.api;
    for (path, body) in [
        ("/administraties/kantoor", json!({"name": "Kantoor"})),
        (
            "/administraties/kantoor/admins/bea",
            json!({"name": "Bea", "email": "bea@kantoor.nl"}),
        ),
        (
            "/administraties/kantoor/integrations/snelstart",
            json!({"vat_codes": {"high": 12, "low": 11, "zero": 10}, "sales_journal_code": 1300, "key": key, "notify_admin_id": "bea"}),
        ),
    ] {
        let (status, answer) = api.put(path, &body).await;
        assert!(status == 200 || status == 201, "{path}: {status} {answer}");
    }
    let (status, body) = api
        .post("/administraties/kantoor/integrations/snelstart/activate")
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api
        .put(
            "/administraties/kantoor/relations/r1",
            &json!({"code": "1001", "kind": "company", "name": "Bakkerij",
                    "address": {"street": "Dorpsstraat", "house_number": "1", "postcode": "1234 AB", "city": "Alkmaar", "country": "NL"},
                    "email": "info@bakkerij.nl"}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let (status, body) = api
        .put(
            "/administraties/kantoor/relations/r1/snelstart",
            &json!({"enabled": true}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    invoice(api, "f1", "2026-001").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while status_of(api, "f1").await != "synced" {
        assert!(
            Instant::now() < deadline,
            "f1 not synced:\n{}",
            read(&serve.log)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    serve.stop().await;

    // The operator deploys a subscription key SnelStart refuses. The next invoice meets the
    // refusal: every koppeling pauses, for the operator's reason.
    let serve = Serve::start(&setup, REFUSED, "2-refused").await;
    invoice(&serve.api, "f2", "2026-002").await;
    let (k, _) = serve.wait_state("paused_auth", 30).await;
    let problem = k["problem"].as_str().unwrap_or_default().to_owned();
    assert!(
        problem.contains("subscription key of this installation (operator)"),
        "the pause names the operator's subscription key: {k}"
    );
    assert!(
        !problem.contains("koppelsleutel"),
        "not the Beheerder's koppelsleutel: {problem}"
    );
    serve
        .wait_log("SnelStart refuses the SUBSCRIPTION KEY", 10)
        .await;
    serve.stop().await;

    // Restarted with the refused key: the probe at start-up still meets the refusal and the
    // log says when the next probe runs.
    let serve = Serve::start(&setup, REFUSED, "3-still-refused").await;
    let log = serve
        .wait_log("SnelStart still refuses the subscription key", 30)
        .await;
    assert!(
        log.contains("next probe in 300s"),
        "the log names the next probe: {log}"
    );
    let (k, _) = serve.wait_state("paused_auth", 5).await;
    assert_eq!(k["problem"], problem.as_str());
    assert_ne!(status_of(&serve.api, "f2").await, "synced");
    serve.stop().await;

    // Fixed and restarted: the probe at start-up resumes at once, not after 5 minutes, and
    // the waiting invoice goes.
    let started = Instant::now();
    let serve = Serve::start(&setup, GOOD, "4-fixed").await;
    let (k, _) = serve.wait_state("active", 60).await;
    let resumed_after = started.elapsed();
    assert!(
        resumed_after < Duration::from_secs(60),
        "resumed {resumed_after:?} after the start"
    );
    assert!(k["problem"].is_null(), "{k}");
    serve
        .wait_log("SnelStart accepts the subscription key again", 10)
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while status_of(&serve.api, "f2").await != "synced" {
        assert!(
            Instant::now() < deadline,
            "f2 not synced:\n{}",
            read(&serve.log)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Bea was never told about the pause, so she gets no "werkt weer" either: no mail at
    // all (after a graceful stop, which sends whatever is pending), and no notification
    // recorded for her.
    let (status, notifications) = serve.api.get("/administraties/kantoor/notifications").await;
    assert_eq!(status, 200, "{notifications}");
    assert_eq!(
        notifications.as_array().map_or(0, Vec::len),
        0,
        "no notification about the operator's key: {notifications}"
    );
    serve.terminate().await;
    assert!(sink.received().is_empty(), "no mail: {:?}", sink.received());
    eprintln!("resumed {resumed_after:?} after the restart (the probe interval is 300 s)");
}
