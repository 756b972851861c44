//! The `koppeling` binary's subcommands as an operator runs them: exit codes and output.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use base64::Engine;
use koppeling::settings::Settings;
use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::koppeling::{ConnectionKey, KoppelingSettings};
use koppeling_domain::ports::Administratie;
use secrecy::SecretString;
use snelstart_sandbox::SandboxHandle;

use crate::helpers::{koppeling_binary, koppelsleutel, start_sandbox};

struct Env {
    _dir: tempfile::TempDir,
    db_url: String,
    master_key: String,
    sandbox: SandboxHandle,
    key: String,
}

impl Env {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display());
        let sandbox = start_sandbox().await;
        let key = koppelsleutel("cli");
        sandbox.add_key(&key);
        Self {
            _dir: dir,
            db_url,
            master_key: base64::engine::general_purpose::STANDARD.encode([3u8; 32]),
            sandbox,
            key,
        }
    }

    fn settings(&self) -> Settings {
        let mut s = Settings::default();
        s.database.url = self.db_url.clone();
        s.secrets.master_key = Some(SecretString::from(self.master_key.clone()));
        s.snelstart.api_url = self.sandbox.api_url();
        s.snelstart.auth_url = self.sandbox.auth_url();
        s.snelstart.subscription_key =
            Some(SecretString::from("sandbox-subscription-key".to_owned()));
        s
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(koppeling_binary());
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("KOPPELING_DATABASE__URL", &self.db_url)
            .env("KOPPELING_SECRETS__MASTER_KEY", &self.master_key)
            .env("KOPPELING_SNELSTART__API_URL", self.sandbox.api_url())
            .env("KOPPELING_SNELSTART__AUTH_URL", self.sandbox.auth_url())
            .env(
                "KOPPELING_SNELSTART__SUBSCRIPTION_KEY",
                "sandbox-subscription-key",
            )
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    /// Saves default settings (notifications to `bea`) with the sandbox's key.
    async fn save_settings(
        &self,
        service: &koppeling::startup::LiveService,
        adm: &AdministratieCode,
    ) {
        let settings = KoppelingSettings {
            notify_admin_id: Some(koppeling_domain::ids::ResourceId::parse("bea").unwrap()),
            ..KoppelingSettings::default()
        };
        service
            .put_koppeling(
                adm,
                &settings,
                Some(ConnectionKey::new(self.key.clone()).unwrap()),
            )
            .await
            .unwrap();
    }

    async fn service(&self) -> std::sync::Arc<koppeling::startup::LiveService> {
        let settings = self.settings();
        let store = koppeling::startup::connect_store(&settings).await.unwrap();
        koppeling::startup::build_service(
            &settings,
            store,
            settings.subscription_key().unwrap(),
            "test".into(),
        )
        .unwrap()
    }
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["sync", "--help"],
        vec!["check", "--help"],
        vec!["migrate", "--help"],
        vec!["import", "--help"],
        vec!["admin", "set-password", "--help"],
        vec!["demo", "--help"],
    ] {
        let out = Command::new(koppeling_binary())
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Usage"), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_malformed_setting_stops_with_one_line_naming_the_key() {
    let env = Env::new().await;
    let out = Command::new(koppeling_binary())
        .arg("migrate")
        .env_clear()
        .env("KOPPELING_DATABASE__URL", &env.db_url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("secrets.master_key"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let out = Command::new(koppeling_binary())
        .arg("migrate")
        .env_clear()
        .env("KOPPELING_SYNC__WORKERS", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("sync.workers"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_check_sync_and_set_password_from_the_command_line() {
    let env = Env::new().await;
    assert!(env.run(&["migrate"], None).status.success());

    // import needs an existing administratie.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.jsonl");
    std::fs::write(
        &file,
        [
            r#"{"type":"admin","id":"bea","name":"Bea","email":"bea@kantoor.nl"}"#,
            r#"{"type":"relation","id":"r1","code":"1001","kind":"company","name":"Bakkerij"}"#,
            r#"{"type":"relation","id":"r2","code":"AB1","kind":"person","name":"Letters"}"#,
            r#"{"type":"relation_snelstart","id":"r1","enabled":true}"#,
            r#"{"type":"relation_snelstart","id":"r2","enabled":true}"#,
            r#"{"type":"invoice","id":"f1","number":"2026-1","relation_id":"r1","date":"2026-11-02","payment_term_days":14,"status":"final","lines":[{"description":"Advies","quantity":"1","unit_price":"100","vat":"high"}]}"#,
            r#"{"type":"invoice","id":"f2","number":"2026-2","relation_id":"r1","date":"2026-11-02","payment_term_days":14,"status":"final","lines":[{"description":"Advies","quantity":"1","unit_price":"1.23456","vat":"high"}]}"#,
            r#"{"type":"invoice","id":"f3","number":"2026-3-MET-EEN-VEEL-TE-LANG-NUMMER","relation_id":"r1","date":"2026-11-02","payment_term_days":14,"status":"final","lines":[{"description":"Advies","quantity":"1","unit_price":"50","vat":"low"}]}"#,
            "not json",
        ]
        .join("\n"),
    )
    .unwrap();
    let out = env.run(
        &[
            "import",
            "--administratie",
            "kantoor",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "unknown administratie: {}",
        text(&out.stderr)
    );

    let service = env.service().await;
    let adm = AdministratieCode::parse("kantoor").unwrap();
    service
        .put_administratie(&Administratie {
            code: adm.clone(),
            name: "Kantoor".into(),
        })
        .await
        .unwrap();

    let out = env.run(
        &[
            "import",
            "--administratie",
            "kantoor",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "a refused line gives exit 1");
    let err = text(&out.stderr);
    assert!(err.contains("line 5: code:"), "{err}");
    assert!(err.contains("line 7: lines[0].unit_price:"), "{err}");
    assert!(err.contains("line 9:"), "{err}");
    assert_eq!(
        service.relations(&adm).await.unwrap().len(),
        2,
        "valid lines are imported"
    );

    // check: no settings yet → exit 1; with settings → ok lines and exit 0.
    let out = env.run(&["check", "--administratie", "kantoor"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    env.save_settings(&service, &adm).await;
    let out = env.run(&["check", "--administratie", "kantoor"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).lines().all(|l| l.starts_with("ok")),
        "{}",
        text(&out.stdout)
    );
    service.activate(&adm).await.unwrap();

    // sync --once: f1 booked, f3 fails locally (number too long) → exit 1.
    let out = env.run(&["sync", "--once", "--administratie", "kantoor"], None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("f1: synced"), "{stdout}");
    assert!(stdout.contains("f3: failed"), "{stdout}");
    let state = serde_json::to_value(env.sandbox.state(&env.key).unwrap()).unwrap();
    let numbers: Vec<&str> = state["verkoopboekingen"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["factuurnummer"].as_str())
        .collect();
    assert_eq!(numbers, ["2026-1"]);
    // Nothing due any more: a second pass books nothing and fails nothing.
    let out = env.run(&["sync", "--once"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // admin set-password reads standard input.
    let out = env.run(
        &[
            "admin",
            "set-password",
            "--administratie",
            "kantoor",
            "--email",
            "bea@kantoor.nl",
        ],
        Some("een-goed-wachtwoord\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (_, _, hash) = service
        .find_admin_for_login("bea@kantoor.nl")
        .await
        .unwrap()
        .unwrap();
    let hash = hash.unwrap();
    assert!(hash.starts_with("$argon2"), "stored as an argon2 hash");
    assert!(!hash.contains("een-goed-wachtwoord"));
}

/// Issue 15: `check` says `skipped (…)` for what it could not check, and `sync --once` on a
/// paused koppeling names the invoices that wait and exits 2 (product §5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_skips_what_it_could_not_check_and_sync_names_a_paused_koppelings_invoices() {
    let env = Env::new().await;
    assert!(env.run(&["migrate"], None).status.success());
    let service = env.service().await;
    let adm = AdministratieCode::parse("kantoor").unwrap();
    service
        .put_administratie(&Administratie {
            code: adm.clone(),
            name: "Kantoor".into(),
        })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.jsonl");
    std::fs::write(
        &file,
        [
            r#"{"type":"admin","id":"bea","name":"Bea","email":"bea@kantoor.nl"}"#,
            r#"{"type":"relation","id":"r1","code":"1001","kind":"company","name":"Bakkerij"}"#,
            r#"{"type":"relation_snelstart","id":"r1","enabled":true}"#,
            r#"{"type":"invoice","id":"f1","number":"2026-1","relation_id":"r1","date":"2026-11-02","payment_term_days":14,"status":"final","lines":[{"description":"Advies","quantity":"1","unit_price":"100","vat":"high"}]}"#,
            r#"{"type":"invoice","id":"f2","number":"2026-2","relation_id":"r1","date":"2026-11-02","payment_term_days":14,"status":"final","lines":[{"description":"Advies","quantity":"2","unit_price":"50","vat":"high"}]}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let import = [
        "import",
        "--administratie",
        "kantoor",
        file.to_str().unwrap(),
    ];
    let out = env.run(&import, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    env.save_settings(&service, &adm).await;
    service.activate(&adm).await.unwrap();

    // A refused subscription key: the operator's problem, and nothing read from SnelStart.
    let mut cmd = Command::new(koppeling_binary());
    let out = cmd
        .args(["check", "--administratie", "kantoor"])
        .env_clear()
        .env("KOPPELING_DATABASE__URL", &env.db_url)
        .env("KOPPELING_SECRETS__MASTER_KEY", &env.master_key)
        .env("KOPPELING_SNELSTART__API_URL", env.sandbox.api_url())
        .env("KOPPELING_SNELSTART__AUTH_URL", env.sandbox.auth_url())
        .env(
            "KOPPELING_SNELSTART__SUBSCRIPTION_KEY",
            "not-our-subscription",
        )
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("skipped omzetgrootboeken") && stdout.contains("skipped verkoopboek"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("ok      omzetgrootboeken") && !stdout.contains("ok      verkoopboek"),
        "{stdout}"
    );
    assert!(
        stdout.contains("PROBLEM subscription_key") && stdout.contains("niet uw koppelsleutel"),
        "the Beheerder is not sent to replace a key that is fine: {stdout}"
    );

    // A revoked koppelsleutel: the key check fails, the rest is skipped.
    env.sandbox.revoke_key(&env.key);
    let out = env.run(&["check", "--administratie", "kantoor"], None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("PROBLEM koppelsleutel"), "{stdout}");
    assert!(stdout.contains("skipped verkoopboek"), "{stdout}");

    // sync --once pauses the koppeling on the refused key; both invoices wait: exit 2,
    // saying how many.
    let out = env.run(&["sync", "--once", "--administratie", "kantoor"], None);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("left queued 2"), "{stdout}");
    assert!(
        stderr.contains("kantoor is paused while 2 invoices wait"),
        "{stderr}"
    );
    // A second pass claims nothing but still reports them.
    let out = env.run(&["sync", "--once"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("2 invoices wait"));
    // Back to work: the key restored and the koppeling activated again.
    env.sandbox.restore_key(&env.key);
    // (A fresh process: this one's client holds a token minted just before the revocation.)
    env.service().await.activate(&adm).await.unwrap();
    let out = env.run(&["sync", "--once"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("synced 2"),
        "{}",
        text(&out.stdout)
    );
}

/// Issue 15: every missing required key is named at once, one line per key, and a mistyped
/// variable is warned about with the closest key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_missing_key_at_once_and_a_warning_for_a_mistyped_variable() {
    let env = Env::new().await;
    let out = Command::new(koppeling_binary())
        .args(["sync", "--once"])
        .env_clear()
        .env("KOPPELING_DATABASE__URL", &env.db_url)
        .env("KOPPELING_SYNC_WORKERS", "3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("snelstart.subscription_key") && err.contains("secrets.master_key"),
        "{err}"
    );
    assert!(
        err.contains("KOPPELING_SYNC_WORKERS") && err.contains("KOPPELING_SYNC__WORKERS"),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "no colour codes when not on a terminal: {err:?}"
    );
}

/// Issue 15: after the demo's pass, `/metrics` counts the attempts it made (the counters
/// agree with the invoice gauges), and the demo names its administratie.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_names_its_administratie_and_its_metrics_count_its_pass() {
    use std::io::{BufRead, BufReader};
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(koppeling_binary())
        .arg("demo")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KOPPELING_HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("Press Ctrl-C");
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    })
    .await
    .unwrap();
    let text = lines.join("\n");
    assert!(text.contains("administratie `demo`"), "{text}");
    let synced: u64 = lines
        .iter()
        .find_map(|l| l.strip_prefix("Attempts in this pass: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no attempts line in {text}"));
    assert!(synced > 0, "{text}");
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        metrics.contains(&format!(
            "koppeling_attempts_total{{outcome=\"synced\"}} {synced}"
        )),
        "{metrics}"
    );
    // The SnelStart adapter's call counters reach /metrics through the composition root:
    // every booking of the pass is one POST answered 201.
    let posts: u64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "koppeling_snelstart_calls_total{method=\"POST\",endpoint=\"/verkoopboekingen\",outcome=\"201\"} ",
            )
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no SnelStart booking calls in {metrics}"));
    assert_eq!(posts, synced, "{metrics}");
}

/// Issue 15: `import` of a large file tells how far it is. With its output to a pipe (a
/// log, not a terminal) that is plain lines, no escape codes: one at each further 10 % of
/// the file's bytes, and the summary at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_of_a_large_file_prints_plain_progress_lines_to_a_pipe() {
    let env = Env::new().await;
    assert!(env.run(&["migrate"], None).status.success());
    let service = env.service().await;
    service
        .put_administratie(&Administratie {
            code: AdministratieCode::parse("kantoor").unwrap(),
            name: "Kantoor".into(),
        })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("groot.jsonl");
    let lines: Vec<String> = (0..2500)
        .map(|i| {
            format!(
                r#"{{"type":"relation","id":"r{i}","code":"{code}","kind":"company","name":"Bakkerij en banketbakkerij De Vries nummer {i}"}}"#,
                code = 10_000 + i
            )
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(
        size > 4 * 64 * 1024,
        "a file of several read buffers: {size}"
    );
    let out = env.run(
        &[
            "import",
            "--administratie",
            "kantoor",
            file.to_str().unwrap(),
        ],
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        text(&out.stdout).contains("imported 2500 lines, refused 0"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "no escape codes in a pipe: {stderr:?}"
    );
    let progress: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(&format!("/{size} bytes of groot.jsonl (")))
        .collect();
    assert!(
        progress.len() >= 3,
        "plain progress lines while importing: {stderr}"
    );
    assert!(
        progress
            .last()
            .unwrap()
            .starts_with(&format!("{size}/{size} ")),
        "the last line says the whole file was read: {progress:?}"
    );
    let shares: Vec<u64> = progress
        .iter()
        .filter_map(|l| l.rsplit_once('(')?.1.strip_suffix("%)")?.parse().ok())
        .collect();
    assert!(
        shares.windows(2).all(|w| w[0] <= w[1]) && shares.last() == Some(&100),
        "rising to 100 %: {progress:?}"
    );
}
