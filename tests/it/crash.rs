//! Crashes of the real binaries: `koppeling serve` killed with SIGKILL mid-run and restarted on SQLite, and three processes on one PostgreSQL database with one killed.
//!
//! Both run `target/debug/koppeling` and `target/debug/snelstart-sandbox` (built by
//! `just test`; built here when missing) and check what a firm relies on after a crash:
//! every invoice is booked in SnelStart exactly once, none is lost, none stays in progress.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::faults::{Api, assert_booked_exactly_once, heavy, invoice_body, wait_counts};
use crate::helpers::{TOKEN, free_port, fresh_postgres, koppelsleutel, target_dir};

// ---------------------------------------------------------------------------------------
// The binaries

struct Binaries {
    koppeling: PathBuf,
    sandbox: PathBuf,
}

/// The debug binaries, built once (`cargo build -p koppeling -p snelstart-sandbox`) when
/// missing.
fn binaries() -> &'static Binaries {
    static BINARIES: OnceLock<Binaries> = OnceLock::new();
    BINARIES.get_or_init(|| {
        let target = target_dir();
        let bins = Binaries {
            koppeling: target.join("debug/koppeling"),
            sandbox: target.join("debug/snelstart-sandbox"),
        };
        if !bins.koppeling.exists() || !bins.sandbox.exists() {
            eprintln!("building the koppeling and snelstart-sandbox binaries for the crash tests…");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = std::process::Command::new(cargo)
                .args(["build", "-p", "koppeling", "-p", "snelstart-sandbox"])
                .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
                .status();
            assert!(
                status.is_ok_and(|s| s.success()) && bins.koppeling.exists() && bins.sandbox.exists(),
                "{} or {} is missing and could not be built: run `cargo build -p koppeling -p snelstart-sandbox` (`just test` does)",
                bins.koppeling.display(),
                bins.sandbox.display()
            );
        }
        bins
    })
}

/// The last lines of a log file, for failure messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

// ---------------------------------------------------------------------------------------
// The sandbox process

struct SandboxProc {
    _child: Child,
    base: String,
    http: reqwest::Client,
}

impl SandboxProc {
    /// `snelstart-sandbox --listen 127.0.0.1:0`; any base64(`user:password`) key opens its
    /// own administration.
    async fn start(dir: &Path) -> Self {
        let log = dir.join("sandbox.log");
        let mut child = Command::new(&binaries().sandbox)
            .args(["--listen", "127.0.0.1:0"])
            .env_clear()
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("start snelstart-sandbox");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the sandbox prints its address within 30 s")
            .unwrap()
            .unwrap_or_else(|| panic!("the sandbox exited: {}", tail(&log)));
        let base = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .trim()
            .to_owned();
        // Keep draining stdout so the sandbox never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            _child: child,
            base,
            http: reqwest::Client::new(),
        }
    }

    async fn get(&self, path: &str) -> Value {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "GET {path}");
        res.json().await.unwrap()
    }

    /// Verkoopboekingen over all administrations.
    async fn booked(&self) -> u64 {
        let stats = self.get("/_sandbox/stats").await;
        stats["administrations"].as_array().map_or(0, |a| {
            a.iter()
                .filter_map(|x| x["verkoopboekingen"].as_u64())
                .sum()
        })
    }

    /// The verkoopboekingen of the administration `key` opens.
    async fn boekingen(&self, key: &str) -> Vec<Value> {
        let key: String = key
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let state = self.get(&format!("/_sandbox/state?key={key}")).await;
        state["verkoopboekingen"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------
// `koppeling serve` processes

/// What every `koppeling serve` of one test shares.
struct ServeConfig {
    dir: PathBuf,
    db_url: String,
    master_key: String,
    sandbox: String,
}

struct Serve {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Serve {
    /// Starts `koppeling serve` on `port` (lease 2 s, sweep 1 s) and waits until it answers.
    async fn start(cfg: &ServeConfig, port: u16, name: &str) -> Self {
        let log = cfg.dir.join(format!("{name}.log"));
        let child = Command::new(&binaries().koppeling)
            .arg("serve")
            .current_dir(&cfg.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("KOPPELING_DATABASE__URL", &cfg.db_url)
            .env("KOPPELING_HTTP__LISTEN", format!("127.0.0.1:{port}"))
            .env("KOPPELING_API__TOKEN", TOKEN)
            .env(
                "KOPPELING_SNELSTART__API_URL",
                format!("{}/v2", cfg.sandbox),
            )
            .env(
                "KOPPELING_SNELSTART__AUTH_URL",
                format!("{}/b2b/token", cfg.sandbox),
            )
            .env(
                "KOPPELING_SNELSTART__SUBSCRIPTION_KEY",
                "sandbox-subscription-key",
            )
            .env("KOPPELING_SNELSTART__TIMEOUT_SECS", "5")
            .env("KOPPELING_SECRETS__MASTER_KEY", &cfg.master_key)
            .env("KOPPELING_SYNC__LEASE_SECS", "2")
            .env("KOPPELING_SYNC__SWEEP_SECS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("start koppeling serve");
        let mut serve = Self { child, port, log };
        serve.wait_ready().await;
        serve
    }

    async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{}/healthz", self.port);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("koppeling serve exited with {status}:\n{}", tail(&self.log));
            }
            if let Ok(res) = client.get(&url).send().await
                && res.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "koppeling serve did not answer within 60 s:\n{}",
                tail(&self.log)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn api(&self) -> Api {
        Api::new(format!("http://127.0.0.1:{}", self.port))
    }

    /// `kill -9`: no shutdown, no finishing of in-flight work.
    async fn kill9(&mut self) {
        self.child.start_kill().unwrap();
        let status = self.child.wait().await.unwrap();
        assert!(!status.success(), "killed, not exited: {status}");
    }
}

/// PUTs every invoice `(adm, i, relation)` with `parallel` requests at once, through `apis`
/// in turn; a request that meets a dead process is repeated (through the next API) until it
/// is answered, as Radar360 would. The PUT is idempotent.
async fn load(apis: Vec<Api>, invoices: Vec<(String, usize, String)>, parallel: usize) {
    let mut set = tokio::task::JoinSet::new();
    for (n, (adm, i, relation)) in invoices.into_iter().enumerate() {
        if set.len() >= parallel {
            set.join_next().await.unwrap().unwrap();
        }
        let apis = apis.clone();
        set.spawn(async move {
            let path = format!("/administraties/{adm}/invoices/f{i}");
            let body = invoice_body(i, &relation);
            let deadline = Instant::now() + Duration::from_secs(120);
            for attempt in 0.. {
                let api = &apis[(n + attempt) % apis.len()];
                match api.try_send(reqwest::Method::PUT, &path, Some(&body)).await {
                    Ok((200 | 201, _)) => return,
                    Ok((status, answer)) => panic!("PUT {path}: {status} {answer}"),
                    Err(error) => {
                        assert!(Instant::now() < deadline, "PUT {path}: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
}

/// Waits until the sandbox holds at least `at_least` bookings.
async fn wait_booked(sandbox: &SandboxProc, at_least: u64, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let booked = sandbox.booked().await;
        if booked >= at_least {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {booked} of {at_least} bookings after {secs}s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `adms` administraties `{prefix}-{a}`, each with its own koppelsleutel and `relations`
/// ticked relations, set up through `api`.
async fn setup_all(
    api: &Api,
    prefix: &str,
    adms: usize,
    relations: usize,
) -> Vec<(String, String, Vec<String>)> {
    let mut all = Vec::new();
    for a in 0..adms {
        let adm = format!("{prefix}-{a}");
        let key = koppelsleutel(&format!("{adm}-{}", uuid::Uuid::new_v4().simple()));
        let rels = api.setup(&adm, &key, relations, 100 + a * 10).await;
        all.push((adm, key, rels));
    }
    all
}

/// Invoices `0..per_adm` of every administratie, interleaved (as they would arrive).
fn interleaved(
    adms: &[(String, String, Vec<String>)],
    per_adm: usize,
) -> Vec<(String, usize, String)> {
    (0..per_adm)
        .flat_map(|i| {
            adms.iter()
                .map(move |(adm, _, rels)| (adm.clone(), i, rels[i % rels.len()].clone()))
        })
        .collect()
}

/// Every invoice of every administratie synced, none in progress or failed, and each in
/// the sandbox exactly once with the recorded id and amount.
async fn assert_all_synced_once(
    api: &Api,
    sandbox: &SandboxProc,
    adms: &[(String, String, Vec<String>)],
    per_adm: usize,
    secs: u64,
) {
    let total = u64::try_from(per_adm).unwrap();
    for (adm, key, _) in adms {
        let counts = wait_counts(api, adm, secs, "all synced", |c| {
            assert_eq!(c.failed + c.skipped, 0, "{adm}: {c:?}");
            c.synced == total
        })
        .await;
        assert_eq!(counts.in_progress + counts.queued, 0, "{adm}: {counts:?}");
        let ours = api.invoices(adm).await;
        assert_eq!(ours.len(), per_adm, "{adm}");
        assert_booked_exactly_once(adm, &ours, &sandbox.boekingen(key).await);
    }
}

fn master_key() -> String {
    base64::engine::general_purpose::STANDARD.encode([5u8; 32])
}

// ---------------------------------------------------------------------------------------
// kill -9 three times on SQLite

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_three_times_mid_run_on_sqlite_books_every_invoice_exactly_once() {
    let started = Instant::now();
    let (adms, per_adm) = if heavy() { (4, 1250) } else { (4, 250) };
    let n = adms * per_adm;
    let dir = tempfile::tempdir().unwrap();
    let sandbox = SandboxProc::start(dir.path()).await;
    let cfg = ServeConfig {
        dir: dir.path().to_owned(),
        db_url: format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("koppeling.db").display()
        ),
        master_key: master_key(),
        sandbox: sandbox.base.clone(),
    };
    let port = free_port();
    let mut serve = Serve::start(&cfg, port, "serve-0").await;
    let api = serve.api();
    let all = setup_all(&api, "crash", adms, 5).await;
    let loader = tokio::spawn(load(vec![api.clone()], interleaved(&all, per_adm), 6));

    // Kill it while invoices are being loaded and booked, then start it again on the same
    // database; three times.
    for (k, percent) in [20, 45, 70].into_iter().enumerate() {
        wait_booked(&sandbox, u64::try_from(n * percent / 100).unwrap(), 120).await;
        serve.kill9().await;
        serve = Serve::start(&cfg, port, &format!("serve-{}", k + 1)).await;
    }
    loader.await.unwrap();

    // The leases of the killed processes (2 s) expire, the invoices are taken over with a
    // look-up, and nothing stays in progress.
    assert_all_synced_once(&api, &sandbox, &all, per_adm, 120).await;
    let stats = sandbox.get("/_sandbox/stats").await;
    let lookups: u64 = stats["administrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["counts"]["GET /v2/verkoopfacturen 200"].as_u64())
        .sum();
    eprintln!(
        "crash: {n} invoices over {adms} administraties, killed 3 times, {lookups} look-ups, in {:?}",
        started.elapsed()
    );
    drop(serve);
}

// ---------------------------------------------------------------------------------------
// Three processes on one PostgreSQL database, one killed

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_on_one_postgres_share_the_work_and_survive_a_kill_9() {
    let started = Instant::now();
    let Some(db_url) = fresh_postgres().await else {
        return;
    };
    let (adms, per_adm) = if heavy() { (20, 500) } else { (20, 100) };
    let n = adms * per_adm;
    let dir = tempfile::tempdir().unwrap();
    let sandbox = SandboxProc::start(dir.path()).await;
    let cfg = ServeConfig {
        dir: dir.path().to_owned(),
        db_url,
        master_key: master_key(),
        sandbox: sandbox.base.clone(),
    };
    // All three start at once on the fresh database, as a deployment would start them.
    let (a, b, c) = tokio::join!(
        Serve::start(&cfg, free_port(), "serve-a"),
        Serve::start(&cfg, free_port(), "serve-b"),
        Serve::start(&cfg, free_port(), "serve-c"),
    );
    let mut serves = [a, b, c];
    let apis: Vec<Api> = serves.iter().map(Serve::api).collect();
    let all = setup_all(&apis[0], "multi", adms, 3).await;
    let loader = tokio::spawn(load(apis.clone(), interleaved(&all, per_adm), 6));

    wait_booked(&sandbox, u64::try_from(n / 2).unwrap(), 180).await;
    serves[1].kill9().await;
    loader.await.unwrap();

    assert_all_synced_once(&apis[0], &sandbox, &all, per_adm, 180).await;
    // One process at a time per administratie (product §7: SnelStart's per-administratie
    // limits and Retry-After then hold across processes). Each process has its own token,
    // so the sandbox sees a change of client only when an administratie changes hands:
    // after its activation (done by the API process), when a process joins or dies, or
    // when a stalled process's lease runs out — a handful, where sharing per invoice
    // would switch on most of the ~per_adm calls.
    let stats = sandbox.get("/_sandbox/stats").await;
    let switches: Vec<u64> = stats["administrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["token_switches"].as_u64().unwrap())
        .collect();
    assert_eq!(switches.len(), adms);
    let most = switches.iter().copied().max().unwrap_or(0);
    assert!(
        most <= 10,
        "an administratie changed client {most} times (per administratie: {switches:?})"
    );
    // Every process did part of the work.
    for serve in [&serves[0], &serves[2]] {
        let log = std::fs::read_to_string(&serve.log).unwrap_or_default();
        assert!(
            log.contains("invoice synced"),
            "process on port {} synced nothing:\n{}",
            serve.port,
            tail(&serve.log)
        );
    }
    eprintln!(
        "multi-process: {n} invoices over {adms} administraties, 3 processes, one killed, in {:?}; changes of client per administratie: {switches:?}",
        started.elapsed()
    );
}
