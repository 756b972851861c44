//! The processes under test (sandbox, `koppeling serve`, PostgreSQL) and what `/proc` says about them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `target/` (or `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// Builds the two release binaries (`cargo build --release -p koppeling -p snelstart-sandbox`)
/// unless `skip`; returns their paths.
pub fn release_binaries(skip: bool) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = target_dir().join("release");
    let koppeling = dir.join("koppeling");
    let sandbox = dir.join("snelstart-sandbox");
    if !skip {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        eprintln!("building: cargo build --release -p koppeling -p snelstart-sandbox");
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "--release",
                "-p",
                "koppeling",
                "-p",
                "snelstart-sandbox",
            ])
            .current_dir(workspace_root())
            .status()
            .context("running cargo build")?;
        if !status.success() {
            if koppeling.exists() && sandbox.exists() {
                eprintln!("warning: cargo build failed; using the existing release binaries");
            } else {
                bail!("cargo build --release -p koppeling -p snelstart-sandbox failed");
            }
        }
    }
    for bin in [&koppeling, &sandbox] {
        if !bin.exists() {
            bail!(
                "{} is missing: run cargo build --release -p koppeling -p snelstart-sandbox",
                bin.display()
            );
        }
    }
    Ok((koppeling, sandbox))
}

/// A child process that is killed when dropped.
pub struct Proc {
    pub child: Child,
    pub pid: u32,
}

impl Proc {
    /// Asks the process to stop (SIGTERM: `koppeling serve` finishes its work and releases
    /// its administraties' leases, so the next process takes them over at once); kills it
    /// after 30 s.
    pub async fn terminate(mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .is_err()
        {
            eprintln!(
                "pid {} did not stop within 30 s of SIGTERM; killing it",
                self.pid
            );
            self.stop().await;
        }
    }

    /// Stops the process (SIGKILL) and reaps it.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// Starts `snelstart-sandbox --listen 127.0.0.1:0` and returns it with its base URL.
pub async fn start_sandbox(bin: &Path, log: &Path) -> anyhow::Result<(Proc, String)> {
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log)?)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let pid = child.id().context("sandbox pid")?;
    let stdout = child.stdout.take().context("sandbox stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .context("the sandbox did not print its address within 20 s")??
        .context("the sandbox exited before printing its address")?;
    let base = first
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line from the sandbox: {first}"))?
        .trim()
        .to_owned();
    // Keep draining stdout so the sandbox never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((Proc { child, pid }, base))
}

/// A free TCP port on 127.0.0.1 (bound and released; `koppeling serve` binds it next).
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// How `koppeling serve` is started.
pub struct ServeConfig<'a> {
    pub bin: &'a Path,
    pub dir: &'a Path,
    pub log: &'a Path,
    pub database_url: &'a str,
    pub port: u16,
    pub token: &'a str,
    pub sandbox_base: &'a str,
    pub master_key: &'a str,
    pub workers: Option<u32>,
    pub rust_log: &'a str,
    /// Further configuration (`KOPPELING_…` variables), e.g. the read-back's settings.
    pub extra_env: &'a [(String, String)],
}

/// Starts `koppeling serve` and waits for `/healthz`.
pub async fn start_koppeling(
    cfg: &ServeConfig<'_>,
    http: &reqwest::Client,
) -> anyhow::Result<Proc> {
    let mut cmd = Command::new(cfg.bin);
    // Appended to, so a restarted process adds to the same log.
    let append = |p: &Path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
    };
    cmd.arg("serve")
        .current_dir(cfg.dir)
        .stdin(Stdio::null())
        .stdout(append(&cfg.log.with_extension("out"))?)
        .stderr(append(cfg.log)?)
        .kill_on_drop(true);
    // Only our configuration: nothing inherited from the caller's environment.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("KOPPELING_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("KOPPELING_DATABASE__URL", cfg.database_url)
        .env("KOPPELING_HTTP__LISTEN", format!("127.0.0.1:{}", cfg.port))
        .env("KOPPELING_API__TOKEN", cfg.token)
        .env(
            "KOPPELING_SNELSTART__API_URL",
            format!("{}/v2", cfg.sandbox_base),
        )
        .env(
            "KOPPELING_SNELSTART__AUTH_URL",
            format!("{}/b2b/token", cfg.sandbox_base),
        )
        .env(
            "KOPPELING_SNELSTART__SUBSCRIPTION_KEY",
            "sandbox-subscription-key",
        )
        .env("KOPPELING_SECRETS__MASTER_KEY", cfg.master_key)
        .env("RUST_LOG", cfg.rust_log)
        // JSON lines: the read-back phase reads its passes back from the log.
        .env("LOG_FORMAT", "json")
        .env("NO_COLOR", "1");
    for (k, v) in cfg.extra_env {
        cmd.env(k, v);
    }
    if let Some(w) = cfg.workers {
        cmd.env("KOPPELING_SYNC__WORKERS", w.to_string());
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {} serve", cfg.bin.display()))?;
    let pid = child.id().context("koppeling pid")?;
    let url = format!("http://127.0.0.1:{}/healthz", cfg.port);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(cfg.log).unwrap_or_default();
            bail!("koppeling serve exited with {status}:\n{log}");
        }
        if let Ok(r) = http.get(&url).send().await
            && r.status().is_success()
        {
            return Ok(Proc { child, pid });
        }
        if Instant::now() > deadline {
            bail!("koppeling serve did not answer {url} within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `VmHWM` and `VmRSS` of a process, in KiB.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Clock ticks per second of `/proc/*/stat` (`USER_HZ`, 100 on Linux).
const TICKS: f64 = 100.0;

/// User + system CPU seconds of a process.
pub fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name: state is field 3; utime 14, stime 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (get(11) + get(12)) / TICKS
}

/// (busy, total) jiffies of the whole machine from `/proc/stat`.
pub fn machine_jiffies() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().next() else {
        return (0.0, 0.0);
    };
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: f64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    (total - idle, total)
}

/// The `some … total=` stall time (µs) of `/proc/pressure/{what}` (0 without PSI).
fn pressure_us(what: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/pressure/{what}"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("some"))
        .and_then(|l| l.rsplit_once("total="))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// CPU use of the parts during one phase.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnap {
    pub koppeling: f64,
    pub sandbox: f64,
    pub bench: f64,
    pub postgres: f64,
    pub busy: f64,
    pub total: f64,
    pub io_stall_us: f64,
    pub cpu_stall_us: f64,
    pub at: std::time::Instant,
}

impl CpuSnap {
    pub fn take(koppeling: u32, sandbox: u32) -> Self {
        let (busy, total) = machine_jiffies();
        Self {
            koppeling: cpu_secs(&koppeling.to_string()),
            sandbox: cpu_secs(&sandbox.to_string()),
            bench: cpu_secs("self"),
            // Filled in by the caller from the database's own backends.
            postgres: 0.0,
            busy,
            total,
            io_stall_us: pressure_us("io"),
            cpu_stall_us: pressure_us("cpu"),
            at: Instant::now(),
        }
    }

    /// CPU seconds spent between `self` and `later`, and the machine's busy share.
    pub fn until(&self, later: &Self) -> CpuUse {
        let total = later.total - self.total;
        CpuUse {
            koppeling: later.koppeling - self.koppeling,
            sandbox: later.sandbox - self.sandbox,
            bench: later.bench - self.bench,
            postgres: later.postgres - self.postgres,
            machine_busy: if total > 0.0 {
                (later.busy - self.busy) / total
            } else {
                0.0
            },
            io_pressure: stall_share(later.io_stall_us - self.io_stall_us, later.at - self.at),
            cpu_pressure: stall_share(later.cpu_stall_us - self.cpu_stall_us, later.at - self.at),
        }
    }
}

/// CPU seconds per part over a phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    pub koppeling: f64,
    pub sandbox: f64,
    pub bench: f64,
    pub postgres: f64,
    /// Share of all cores busy (any process, including other users of the machine).
    pub machine_busy: f64,
    /// Share of the time some task waited for I/O (PSI `some`).
    pub io_pressure: f64,
    /// Share of the time some runnable task waited for a CPU (PSI `some`).
    pub cpu_pressure: f64,
}

fn stall_share(stalled_us: f64, over: Duration) -> f64 {
    let secs = over.as_secs_f64();
    if secs > 0.0 {
        stalled_us / 1e6 / secs
    } else {
        0.0
    }
}

impl CpuUse {
    /// One line: cores used per part over `secs`.
    pub fn describe(&self, secs: f64, postgres: bool) -> String {
        let c = |v: f64| if secs > 0.0 { v / secs } else { 0.0 };
        let pg = if postgres {
            format!(
                ", PostgreSQL {:.2} (this database's backends)",
                c(self.postgres).max(0.0)
            )
        } else {
            String::new()
        };
        format!(
            "koppeling {:.2}, sandbox {:.2}, bench client {:.2}{pg} cores; machine {:.0}% busy (all cores = 100%); pressure stall: I/O {:.0}%, CPU {:.0}% of the time",
            c(self.koppeling),
            c(self.sandbox),
            c(self.bench),
            self.machine_busy * 100.0,
            self.io_pressure * 100.0,
            self.cpu_pressure * 100.0
        )
    }
}

/// Everything needed to (re)start `koppeling serve` on the same data with other settings.
pub struct Launcher {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub log: PathBuf,
    pub database_url: String,
    pub port: u16,
    pub token: String,
    pub sandbox_base: String,
    pub master_key: String,
    pub workers: Option<u32>,
    pub rust_log: String,
    /// Configuration every start gets (e.g. `snelstart.calls_per_hour`).
    pub env: Vec<(String, String)>,
}

impl Launcher {
    /// Starts `koppeling serve` with `extra` configuration on top of [`Launcher::env`].
    pub async fn start(
        &self,
        extra: &[(String, String)],
        http: &reqwest::Client,
    ) -> anyhow::Result<Proc> {
        let mut env = self.env.clone();
        env.extend(extra.iter().cloned());
        start_koppeling(
            &ServeConfig {
                bin: &self.bin,
                dir: &self.dir,
                log: &self.log,
                database_url: &self.database_url,
                port: self.port,
                token: &self.token,
                sandbox_base: &self.sandbox_base,
                master_key: &self.master_key,
                workers: self.workers,
                rust_log: &self.rust_log,
                extra_env: &env,
            },
            http,
        )
        .await
    }
}
