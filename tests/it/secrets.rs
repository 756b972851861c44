//! Secrets at rest (issue 13) against the real `koppeling` binary: koppelsleutels written
//! under master key A stay readable with B and `previous_master_keys = [A]`, `secrets rotate`
//! moves them all to B (idempotent), B alone then reads everything, and a koppelsleutel no
//! configured key decrypts is "sleutel onbruikbaar" (API `key_status: "unusable"`, the
//! Koppelingen page, the Instellingen form replaces it) without a 500 anywhere, while the
//! sync pauses that koppeling once with one notification. On a real SQLite file and on
//! PostgreSQL (`TEST_DATABASE_URL`, required).

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use snelstart_sandbox::SandboxHandle;
use tokio::process::{Child, Command};

use crate::faults::{Api, invoice_body};
use crate::helpers::{TOKEN, koppeling_binary, koppelsleutel, start_sandbox};

const PASSWORD: &str = "wachtwoord-van-bea-2026";

fn b64(key: [u8; 32]) -> String {
    base64::engine::general_purpose::STANDARD.encode(key)
}

const KEY_A: [u8; 32] = [0xA1; 32];
const KEY_B: [u8; 32] = [0xB2; 32];
const KEY_C: [u8; 32] = [0xC3; 32];

struct Env {
    dir: tempfile::TempDir,
    db_url: String,
    sandbox: SandboxHandle,
    keys: Vec<String>,
}

impl Env {
    async fn new(postgres: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db_url = if postgres {
            let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
                panic!(
                    "TEST_DATABASE_URL is not set: the PostgreSQL secrets test needs it (e.g. postgres://postgres@127.0.0.1:5432/test)"
                );
            };
            assert!(!admin_url.trim().is_empty(), "TEST_DATABASE_URL is empty");
            crate::helpers::fresh_postgres()
                .await
                .expect("TEST_DATABASE_URL is set")
        } else {
            format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display())
        };
        let sandbox = start_sandbox().await;
        let keys: Vec<String> = ["s1", "s2"]
            .iter()
            .map(|u| koppelsleutel(&format!("{u}-{}", uuid::Uuid::new_v4().simple())))
            .collect();
        for key in &keys {
            sandbox.add_key(key);
        }
        Self {
            dir,
            db_url,
            sandbox,
            keys,
        }
    }

    fn command(&self, master: [u8; 32], previous: &[[u8; 32]]) -> Command {
        let mut cmd = Command::new(koppeling_binary());
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("KOPPELING_DATABASE__URL", &self.db_url)
            .env("KOPPELING_SECRETS__MASTER_KEY", b64(master))
            .env("KOPPELING_API__TOKEN", TOKEN)
            .env("KOPPELING_SNELSTART__API_URL", self.sandbox.api_url())
            .env("KOPPELING_SNELSTART__AUTH_URL", self.sandbox.auth_url())
            .env(
                "KOPPELING_SNELSTART__SUBSCRIPTION_KEY",
                "sandbox-subscription-key",
            )
            .env("KOPPELING_SNELSTART__TIMEOUT_SECS", "5")
            .env("KOPPELING_SYNC__SWEEP_SECS", "1")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if !previous.is_empty() {
            let list: Vec<String> = previous.iter().map(|k| b64(*k)).collect();
            cmd.env("KOPPELING_SECRETS__PREVIOUS_MASTER_KEYS", list.join(","));
        }
        cmd
    }

    /// `koppeling ARGS` to completion.
    async fn run(&self, master: [u8; 32], previous: &[[u8; 32]], args: &[&str]) -> Output {
        let out = self
            .command(master, previous)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .await
            .unwrap();
        println!(
            "$ koppeling {} → {:?}\n{}{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `koppeling serve` on a free port, ready (`/healthz`).
    async fn serve(&self, master: [u8; 32], previous: &[[u8; 32]]) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = self.dir.path().join(format!("serve-{port}.log"));
        let child = self
            .command(master, previous)
            .arg("serve")
            .env("KOPPELING_HTTP__LISTEN", format!("127.0.0.1:{port}"))
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(
                std::fs::File::create(self.dir.path().join(format!("serve-{port}.err"))).unwrap(),
            )
            .spawn()
            .expect("start koppeling serve");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = http.get(format!("{base}/healthz")).send().await
                && res.status().is_success()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "koppeling serve did not become ready: {}",
                std::fs::read_to_string(self.dir.path().join(format!("serve-{port}.err")))
                    .unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Serve {
            child,
            api: Api::new(base.clone()),
            base,
            log: self.dir.path().join(format!("serve-{port}.err")),
        }
    }
}

struct Serve {
    child: Child,
    api: Api,
    base: String,
    log: PathBuf,
}

impl Serve {
    /// SIGTERM (a graceful stop that releases the administratie leases), then waits.
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        if tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await.unwrap();
        }
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls the overview of `adm` until `done`, or panics after 30 s.
async fn wait_koppeling(serve: &Serve, adm: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let k = serve.api.koppeling(adm).await;
        if done(&k) {
            return k;
        }
        assert!(
            Instant::now() < deadline,
            "koppeling of {adm} stuck at {k}; log:\n{}",
            std::fs::read_to_string(&serve.log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn rotate_scenario(postgres: bool) {
    let env = Env::new(postgres).await;

    // Arrange: two administraties with koppelsleutels saved (and activated) under key A.
    let serve = env.serve(KEY_A, &[]).await;
    for (adm, key) in ["a1", "a2"].iter().zip(&env.keys) {
        serve.api.setup(adm, key, 1, 100).await;
    }
    serve.stop().await;

    // Key B with A as a previous key: everything readable (the activation checks pass).
    let out = env
        .run(KEY_B, &[KEY_A], &["check", "--administratie", "a1"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let serve = env.serve(KEY_B, &[KEY_A]).await;
    for adm in ["a1", "a2"] {
        let k = serve.api.koppeling(adm).await;
        assert_eq!(k["key_status"], "ok", "{k}");
    }
    serve.stop().await;

    // Act: rotate, twice.
    let first = env.run(KEY_B, &[KEY_A], &["secrets", "rotate"]).await;
    let second = env.run(KEY_B, &[KEY_A], &["secrets", "rotate"]).await;

    // Assert
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(
        stdout(&first),
        "re-encrypted: 2\nalready current: 0\nundecryptable: 0\n"
    );
    assert_eq!(second.status.code(), Some(0));
    assert_eq!(
        stdout(&second),
        "re-encrypted: 0\nalready current: 2\nundecryptable: 0\n"
    );
    // B alone reads everything.
    for adm in ["a1", "a2"] {
        let out = env
            .run(KEY_B, &[], &["check", "--administratie", adm])
            .await;
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    }

    // A master key that opens none of them: rotate names them and fails.
    let lost = env.run(KEY_C, &[], &["secrets", "rotate"]).await;
    assert_eq!(lost.status.code(), Some(1));
    assert_eq!(
        stdout(&lost),
        "re-encrypted: 0\nalready current: 0\nundecryptable: 2 (a1, a2)\n"
    );
    assert!(String::from_utf8_lossy(&lost.stderr).contains("previous_master_keys"));

    // `serve` with it: no 500; the overview says unusable; the sync pauses a1 once.
    let serve = env.serve(KEY_C, &[]).await;
    for adm in ["a1", "a2"] {
        let k = serve.api.koppeling(adm).await;
        assert_eq!(k["key_status"], "unusable", "{k}");
        assert_eq!(k["key_set"], true, "{k}");
    }
    let (status, body) = serve
        .api
        .put("/administraties/a1/invoices/f1", &invoice_body(1, "r0"))
        .await;
    assert!(status == 201 || status == 200, "{status} {body}");
    let k = wait_koppeling(&serve, "a1", |k| k["state"] == "paused_auth").await;
    assert!(
        k["problem"]
            .as_str()
            .is_some_and(|p| p.starts_with("the stored koppelsleutel cannot be decrypted")),
        "{k}"
    );
    let (status, body) = serve
        .api
        .post("/administraties/a1/integrations/snelstart/activate")
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("key_unusable"), "{body}");
    // More work and time: still one pause notice, the process still answers.
    let (status, _) = serve
        .api
        .put("/administraties/a1/invoices/f2", &invoice_body(2, "r0"))
        .await;
    assert!(status == 201 || status == 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let notices = serve.api.notifications("a1").await;
    let paused: Vec<&Value> = notices
        .iter()
        .filter(|n| n.to_string().contains("sleutel onbruikbaar"))
        .collect();
    assert_eq!(paused.len(), 1, "{notices:?}");
    let (status, body) = serve.api.get("/administraties/a1/invoices").await;
    assert_eq!(status, 200, "{body}");

    // The UI: the Koppelingen page and the Instellingen form, which replaces the key.
    ui_replaces_an_unusable_key(&serve, "a1", &env.keys[0]).await;
    let k = wait_koppeling(&serve, "a1", |k| k["state"] == "active").await;
    assert_eq!(k["key_status"], "ok", "{k}");
    let k = serve.api.koppeling("a2").await;
    assert_eq!(k["key_status"], "unusable", "{k}");
    assert!(
        !std::fs::read_to_string(&serve.log)
            .unwrap_or_default()
            .contains(&env.keys[0]),
        "a koppelsleutel in the log"
    );
    serve.stop().await;
}

/// Logs in over HTTP as the Beheerder of `adm` and returns the session cookie.
async fn log_in(http: &reqwest::Client, base: &str, email: &str) -> String {
    let page = http.get(format!("{base}/login")).send().await.unwrap();
    let mut cookies: Vec<String> = set_cookies(&page);
    let html = page.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    let res = http
        .post(format!("{base}/login"))
        .header("cookie", cookies.join("; "))
        .form(&[("email", email), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "log-in: {}", res.status());
    cookies.extend(set_cookies(&res));
    cookies.join("; ")
}

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter(|v| !v.ends_with('='))
        .map(str::to_owned)
        .collect()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// The UI part, kept small: "Sleutel onbruikbaar" on Koppelingen and Instellingen (200,
/// not 500), and the form saves a new koppelsleutel.
async fn ui_replaces_an_unusable_key(serve: &Serve, adm: &str, key: &str) {
    let email = format!("bea-{adm}@kantoor.nl");
    let (status, body) = serve
        .api
        .put(
            &format!("/administraties/{adm}/admins/bea"),
            &json!({"name": "Bea", "email": email, "password": PASSWORD}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = log_in(&http, &serve.base, &email).await;
    let get = |path: &'static str| {
        let http = http.clone();
        let url = format!("{}{path}", serve.base);
        let cookie = cookie.clone();
        async move {
            let res = http.get(url).header("cookie", cookie).send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let (status, page) = get("/koppelingen").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Sleutel onbruikbaar"), "{page}");
    let (status, form) = get("/koppelingen/snelstart/instellingen").await;
    assert_eq!(status, 200, "{form}");
    assert!(form.contains("Sleutel onbruikbaar"), "{form}");
    let csrf = hidden(&form, "csrf");
    let res = http
        .post(format!("{}/koppelingen/snelstart/instellingen", serve.base))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("vat_high", "12"),
            ("vat_low", "11"),
            ("vat_zero", "10"),
            ("sales_journal_code", "1300"),
            ("key", key),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_redirection() || res.status().is_success(),
        "saving the form: {}",
        res.status()
    );
    let (status, page) = get("/koppelingen").await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("Sleutel onbruikbaar"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_and_an_unusable_key_is_shown_and_replaced_on_sqlite() {
    rotate_scenario(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_and_an_unusable_key_is_shown_and_replaced_on_postgres() {
    rotate_scenario(true).await;
}
