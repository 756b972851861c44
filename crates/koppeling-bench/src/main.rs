//! `koppeling-bench`: measures `koppeling serve` against a separately running sandbox and prints product.md §7's figures per database.

mod api;
mod dbcap;
mod phases;
mod procs;
mod readback;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use clap::{Parser, ValueEnum};
use sea_orm::{ConnectionTrait, Database};

use crate::api::{Api, adm_user, koppelsleutel, sandbox_counts, sandbox_totals};
use crate::phases::{Latency, Raw, quantile};
use crate::procs::{CpuSnap, CpuUse, Launcher};

/// Throughput, SnelStart calls per invoice, latency and peak RSS of `koppeling serve`
/// against the SnelStart sandbox, with SnelStart's production limits on.
///
/// Builds the release binaries first (`cargo build --release -p koppeling -p
/// snelstart-sandbox`) unless `--no-build`. PostgreSQL comes from `TEST_DATABASE_URL`
/// (a fresh database per run, dropped afterwards).
#[derive(Debug, Parser)]
#[command(name = "koppeling-bench")]
struct Args {
    /// Invoices in the throughput phase.
    #[arg(long, default_value_t = 10_000)]
    invoices: usize,
    /// Administraties (each with its own koppelsleutel and SnelStart administration).
    #[arg(long, default_value_t = 50)]
    administraties: usize,
    /// Which database(s).
    #[arg(long, value_enum, default_value_t = DbChoice::Both)]
    db: DbChoice,
    /// Offered invoices per second in the latency phase.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Length of the latency phase in seconds.
    #[arg(long, default_value_t = 20.0)]
    latency_secs: f64,
    /// Ticked relations per administratie.
    #[arg(long, default_value_t = 5)]
    relations: usize,
    /// Concurrent PUTs in the throughput phase.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// `sync.workers` of the koppeling process (`KOPPELING_SYNC__WORKERS`; 0 = koppeling's
    /// own default, 4). Against a local sandbox each attempt takes milliseconds, most of it
    /// waiting for its claim's and its outcome's group commit; 128 slots keep the database,
    /// not the slot count, the limit (with 64, bookings lagged behind the PUTs once the
    /// writes were grouped).
    #[arg(long, default_value_t = 128)]
    workers: u32,
    /// Tasks of the tight client measuring the sandbox's raw capacity.
    #[arg(long, default_value_t = 32)]
    raw_tasks: usize,
    /// Seconds of the raw capacity measurement.
    #[arg(long, default_value_t = 10.0)]
    raw_secs: f64,
    /// `RUST_LOG` of the koppeling process.
    #[arg(long, default_value = "info")]
    rust_log: String,
    /// Use the existing release binaries without running cargo build.
    #[arg(long)]
    no_build: bool,
    /// PostgreSQL only, when the server runs with `autovacuum = off` (as the test server
    /// does): run `VACUUM (ANALYZE)` on the benchmark's database every this many seconds,
    /// as autovacuum would in production (0 = never).
    #[arg(long, default_value_t = 30)]
    vacuum_secs: u64,
    /// Keep the PostgreSQL database and the SQLite file afterwards.
    #[arg(long)]
    keep: bool,
    /// `snelstart.calls_per_hour` of the koppeling process (production: 5000). Topping up
    /// to `--readback-invoices 5000` needs more than one hour's budget: raise it (the
    /// read-back's own figures are counted calls, whatever the budget).
    #[arg(long, default_value_t = 5000)]
    calls_per_hour: u32,
    /// Read-back phase (product §8.2): how many administraties are read back, paid and
    /// edited (0 = skip the phase).
    #[arg(long, default_value_t = 4)]
    readback_adms: usize,
    /// Synced invoices per read-back administratie (topped up first; the target is stated
    /// at 5,000, which needs `--calls-per-hour 20000`).
    #[arg(long, default_value_t = 1000)]
    readback_invoices: usize,
    /// Payments per administratie per (compressed) hour.
    #[arg(long, default_value_t = 200)]
    payments_per_hour: u32,
    /// Accountant edits per administratie per (compressed) hour.
    #[arg(long, default_value_t = 2)]
    edits_per_hour: u32,
    /// `readback.interval_secs` in the read-back phase; 4 intervals make a compressed hour
    /// (production: 900 s, 4 passes an hour).
    #[arg(long, default_value_t = 5)]
    readback_interval: u64,
    /// Compressed hours measured.
    #[arg(long, default_value_t = 3.0)]
    readback_hours: f64,
    /// Invoices of each booking run with the read-back on and off (4 runs, alternated).
    #[arg(long, default_value_t = 2000)]
    ab_invoices: usize,
    /// Seconds of each of those runs' latency part (at `--rate`).
    #[arg(long, default_value_t = 10.0)]
    ab_latency_secs: f64,
    /// Seconds of the database capacity measurement.
    #[arg(long, default_value_t = 10.0)]
    db_secs: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DbChoice {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    fn name(self) -> &'static str {
        match self {
            DbKind::Sqlite => "SQLite",
            DbKind::Postgres => "PostgreSQL",
        }
    }
}

/// Everything measured in one run on one database.
#[derive(Debug, Default)]
struct Report {
    engine: &'static str,
    seed_secs: f64,
    warmup_invoices: u64,
    warmup_calls: u64,
    seed_calls: u64,
    invoices: u64,
    put_secs: f64,
    put_errors: u64,
    e2e_secs: f64,
    steady_calls: u64,
    all_calls: u64,
    all_invoices: u64,
    tokens: u64,
    latency: Latency,
    latency_calls: u64,
    rss_hwm_kib: u64,
    rss_end_kib: u64,
    rss_after_throughput_kib: u64,
    raw: Raw,
    cpu_throughput: CpuUse,
    counts: [u64; 5],
    boekingen: u64,
    call_breakdown: Vec<(String, u64)>,
    /// PUT round trips in the throughput phase (ms): p50, p99.
    put_ms: (f64, f64),
    /// PostgreSQL commits during the throughput phase.
    pg_commits: Option<u64>,
    log_dir: PathBuf,
    /// Emulated autovacuum runs (`None`: not emulated).
    vacuums: Option<u64>,
    /// `/proc/loadavg` when the run started.
    load: String,
    /// The read-back phase (`None`: skipped).
    readback: Option<Result<readback::Figures, String>>,
    /// The database's capacity for the minimal durable work per invoice.
    dbcap: Option<Result<dbcap::Capacity, String>>,
}

impl Report {
    fn throughput(&self) -> f64 {
        ratio(self.invoices, self.e2e_secs)
    }
}

#[allow(clippy::cast_precision_loss)]
pub(crate) fn ratio(n: u64, d: f64) -> f64 {
    if d > 0.0 { n as f64 / d } else { f64::NAN }
}

#[allow(clippy::cast_precision_loss)]
pub(crate) fn per(n: u64, d: u64) -> f64 {
    if d > 0 { n as f64 / d as f64 } else { f64::NAN }
}

#[allow(clippy::cast_precision_loss)]
fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

/// A fresh PostgreSQL database on the server of `TEST_DATABASE_URL`: (its URL, its name,
/// the admin URL).
async fn fresh_postgres() -> anyhow::Result<(String, String, String)> {
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .context("TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)")?;
    let name = format!("koppeling_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .context("connecting to TEST_DATABASE_URL")?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .context("CREATE DATABASE")?;
    admin.close().await.ok();
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b)
        .to_owned();
    Ok((format!("{base}/{name}"), name, admin_url))
}

/// Committed transactions of database `name` so far (`pg_stat_database`).
async fn pg_commits(pg: Option<&(String, String)>) -> Option<u64> {
    let (admin_url, name) = pg?;
    let admin = Database::connect(admin_url).await.ok()?;
    let row = admin
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT xact_commit FROM pg_stat_database WHERE datname = $1",
            [name.as_str().into()],
        ))
        .await
        .ok()??;
    admin.close().await.ok();
    row.try_get::<i64>("", "xact_commit")
        .ok()
        .and_then(|v| u64::try_from(v).ok())
}

/// The PIDs of the server processes connected to database `name`.
async fn pg_backends(pg: Option<&(String, String)>) -> Vec<u32> {
    let Some((admin_url, name)) = pg else {
        return Vec::new();
    };
    let Ok(admin) = Database::connect(admin_url).await else {
        return Vec::new();
    };
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pid FROM pg_stat_activity WHERE datname = $1",
            [name.as_str().into()],
        ))
        .await
        .unwrap_or_default();
    admin.close().await.ok();
    rows.iter()
        .filter_map(|r| r.try_get::<i32>("", "pid").ok())
        .filter_map(|p| u32::try_from(p).ok())
        .collect()
}

/// A background task that is aborted when this is dropped (also on an early error return).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Emulates autovacuum on a server that has it off: `VACUUM (ANALYZE)` of the database
/// every `every`; returns the task and its count of runs. `None` when the server's
/// autovacuum is on (nothing to do).
async fn vacuum_emulation(
    database_url: &str,
    every: Duration,
) -> anyhow::Result<Option<(AbortOnDrop, Arc<std::sync::atomic::AtomicU64>)>> {
    let conn = Database::connect(database_url).await?;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SHOW autovacuum",
        ))
        .await?
        .context("SHOW autovacuum")?;
    let on: String = row.try_get("", "autovacuum")?;
    if on == "on" || every.is_zero() {
        return Ok(None);
    }
    let runs = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = runs.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = conn.execute_unprepared("VACUUM (ANALYZE)").await {
                eprintln!("VACUUM (ANALYZE): {e}");
            }
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    Ok(Some((AbortOnDrop(task), runs)))
}

async fn drop_postgres(admin_url: &str, name: &str) {
    if let Ok(admin) = Database::connect(admin_url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        admin.close().await.ok();
    }
}

#[allow(clippy::too_many_lines)]
async fn run(args: &Args, engine: DbKind, bins: &(PathBuf, PathBuf)) -> anyhow::Result<Report> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let log_dir = procs::target_dir()
        .join("koppeling-bench")
        .join(format!("{stamp}-{}", engine.name().to_lowercase()));
    std::fs::create_dir_all(&log_dir)?;
    let data_dir = tempfile::tempdir()?;
    let (database_url, pg) = match engine {
        DbKind::Sqlite => (
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.path().join("koppeling.db").display()
            ),
            None,
        ),
        DbKind::Postgres => {
            let (url, name, admin) = fresh_postgres().await?;
            (url, Some((name, admin)))
        }
    };
    let pg_stats = pg
        .as_ref()
        .map(|(name, admin)| (admin.clone(), name.clone()));
    let result = run_on(
        args,
        engine,
        bins,
        &log_dir,
        data_dir.path(),
        &database_url,
        pg_stats,
    )
    .await;
    if let Some((name, admin)) = pg {
        if args.keep {
            eprintln!("kept PostgreSQL database {name}");
        } else {
            drop_postgres(&admin, &name).await;
        }
    }
    if args.keep {
        let kept = data_dir.keep();
        eprintln!("kept {}", kept.display());
    }
    result
}

#[allow(clippy::too_many_lines)]
async fn run_on(
    args: &Args,
    engine: DbKind,
    bins: &(PathBuf, PathBuf),
    log_dir: &std::path::Path,
    data_dir: &std::path::Path,
    database_url: &str,
    pg_stats: Option<(String, String)>,
) -> anyhow::Result<Report> {
    let mut report = Report {
        load: loadavg(),
        engine: engine.name(),
        log_dir: log_dir.to_path_buf(),
        ..Report::default()
    };
    let (koppeling_bin, sandbox_bin) = bins;
    eprintln!("== {} ==", engine.name());
    let (sandbox, sandbox_base) =
        procs::start_sandbox(sandbox_bin, &log_dir.join("sandbox.log")).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(64))
        .timeout(Duration::from_secs(120))
        .build()?;
    let token = uuid::Uuid::new_v4().simple().to_string();
    let master_key = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
    let port = procs::free_port()?;
    let launcher = Launcher {
        bin: koppeling_bin.clone(),
        dir: data_dir.to_path_buf(),
        log: log_dir.join("koppeling.log"),
        database_url: database_url.to_owned(),
        port,
        token: token.clone(),
        sandbox_base: sandbox_base.clone(),
        master_key: master_key.clone(),
        workers: (args.workers > 0).then_some(args.workers),
        // The read-back passes are read back from the log.
        rust_log: format!("{},koppeling::worker=debug", args.rust_log),
        env: vec![(
            "KOPPELING_SNELSTART__CALLS_PER_HOUR".to_owned(),
            args.calls_per_hour.to_string(),
        )],
    };
    let koppeling = launcher.start(&[], &http).await?;
    eprintln!(
        "sandbox pid {} at {sandbox_base}; koppeling pid {} on port {port}; logs in {}",
        sandbox.pid,
        koppeling.pid,
        log_dir.display()
    );
    let vacuum = if engine == DbKind::Postgres {
        vacuum_emulation(database_url, Duration::from_secs(args.vacuum_secs)).await?
    } else {
        None
    };
    let api = Api {
        http: http.clone(),
        base: format!("http://127.0.0.1:{port}"),
        token,
    };
    let adms = args.administraties.max(1);
    let rels = args.relations.max(1);
    let keys: HashSet<String> = (0..adms).map(|i| koppelsleutel(&adm_user(i))).collect();
    let date = chrono::Utc::now().date_naive().to_string();

    // Seeding: administraties, Beheerders, ticked relations, settings, activation.
    let t = Instant::now();
    phases::seed(&api, adms, rels).await?;
    report.seed_secs = t.elapsed().as_secs_f64();
    let seeded = sandbox_totals(&http, &sandbox_base, &keys).await?;
    report.seed_calls = seeded.calls;
    eprintln!(
        "seeded {adms} administraties × {rels} relations in {:.1} s ({} SnelStart calls for activation)",
        report.seed_secs, seeded.calls
    );

    // Warm-up: the first invoice of every relation creates its relatie in SnelStart.
    let warm = phases::jobs("W", adms * rels, adms, rels);
    report.warmup_invoices = warm.len() as u64;
    phases::push(&api, Arc::new(warm), args.concurrency, &date).await;
    let (_, warmed) = phases::wait_booked(
        &http,
        &sandbox_base,
        &keys,
        report.warmup_invoices,
        Duration::from_secs(120),
        "warm-up",
    )
    .await?;
    report.warmup_calls = warmed.calls - seeded.calls;
    eprintln!(
        "warm-up: {} invoices, {} SnelStart calls",
        report.warmup_invoices, report.warmup_calls
    );

    // Throughput: M invoices made final as fast as the API takes them.
    let jobs = phases::jobs("T", args.invoices, adms, rels);
    report.invoices = jobs.len() as u64;
    let target = warmed.boekingen + report.invoices;
    let commits0 = pg_commits(pg_stats.as_ref()).await;
    let pg_cpu0: std::collections::HashMap<u32, f64> = pg_backends(pg_stats.as_ref())
        .await
        .into_iter()
        .map(|p| (p, procs::cpu_secs(&p.to_string())))
        .collect();
    let cpu0 = CpuSnap::take(koppeling.pid, sandbox.pid);
    let started = Instant::now();
    let pusher = {
        let api = api.clone();
        let jobs = Arc::new(jobs);
        let concurrency = args.concurrency;
        let date = date.clone();
        tokio::spawn(async move { phases::push(&api, jobs, concurrency, &date).await })
    };
    let stall = Duration::from_secs(120);
    let (done_at, after) =
        phases::wait_booked(&http, &sandbox_base, &keys, target, stall, "throughput").await?;
    let pushed = pusher.await?;
    let cpu1 = CpuSnap::take(koppeling.pid, sandbox.pid);
    // Only this database's backends (the server also serves other users).
    let pg_cpu: f64 = pg_backends(pg_stats.as_ref())
        .await
        .into_iter()
        .map(|p| procs::cpu_secs(&p.to_string()) - pg_cpu0.get(&p).copied().unwrap_or(0.0))
        .sum();
    // pg_stat_database lags by up to a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    report.pg_commits = match (commits0, pg_commits(pg_stats.as_ref()).await) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    report.e2e_secs = (done_at - started).as_secs_f64();
    report.put_secs = pushed.put_secs;
    report.put_errors = pushed.errors;
    report.put_ms = pushed.put_ms;
    report.steady_calls = after.calls - warmed.calls;
    report.cpu_throughput = cpu0.until(&cpu1);
    report.cpu_throughput.postgres = pg_cpu;
    report.rss_after_throughput_kib = procs::memory_kib(koppeling.pid).0;
    eprintln!(
        "throughput: {} invoices in {:.1} s = {:.0}/s (PUTs done after {:.1} s); {}",
        report.invoices,
        report.e2e_secs,
        report.throughput(),
        report.put_secs,
        report
            .cpu_throughput
            .describe(report.e2e_secs, engine == DbKind::Postgres)
    );

    // Latency at a fixed offered rate.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let n = (args.rate * args.latency_secs).round().max(1.0) as usize;
    let lat_jobs = phases::jobs("L", n, adms, rels);
    report.latency = phases::latency(
        &api,
        &http,
        &sandbox_base,
        &keys,
        after.boekingen,
        lat_jobs,
        args.rate,
        &date,
    )
    .await?;
    let end = sandbox_totals(&http, &sandbox_base, &keys).await?;
    report.latency_calls = end.calls - after.calls;
    report.all_calls = end.calls;
    report.all_invoices = report.warmup_invoices + report.invoices + n as u64;
    report.tokens = end.token_requests;
    report.boekingen = end.boekingen;
    report.counts = phases::koppeling_counts(&api, adms).await?;
    report.call_breakdown = sandbox_counts(&http, &sandbox_base, &keys)
        .await?
        .into_iter()
        .collect();
    (report.rss_hwm_kib, report.rss_end_kib) = procs::memory_kib(koppeling.pid);
    eprintln!(
        "latency: {} invoices at {}/s: p50 {:.0} ms, p99 {:.0} ms",
        n,
        args.rate,
        quantile(&report.latency.sync_ms, 0.5),
        quantile(&report.latency.sync_ms, 0.99)
    );

    // The sandbox's raw capacity for the same POSTs, koppeling idle.
    report.raw = phases::raw_capacity(
        &sandbox_base,
        args.raw_tasks,
        args.raw_tasks,
        args.raw_secs,
        &date,
    )
    .await?;
    eprintln!(
        "raw sandbox capacity: {} POSTs in {:.1} s = {:.0}/s ({} failed)",
        report.raw.ok, report.raw.secs, report.raw.per_sec, report.raw.failed
    );

    // The read-back (product §8.2): calls, payment delay, booking with it on and off.
    let mut koppeling = Some(koppeling);
    if args.readback_adms > 0
        && let Some(running) = koppeling.take()
    {
        let ctx = readback::Ctx {
            api: &api,
            http: &http,
            sandbox: &sandbox_base,
            keys: &keys,
            launcher: &launcher,
            date: &date,
        };
        let params = readback::Params {
            adms: args.readback_adms,
            invoices: args.readback_invoices,
            payments_per_hour: args.payments_per_hour,
            edits_per_hour: args.edits_per_hour,
            interval_secs: args.readback_interval.max(1),
            hours: args.readback_hours,
            ab_invoices: args.ab_invoices,
            ab_latency_secs: args.ab_latency_secs,
            rate: args.rate,
            concurrency: args.concurrency,
            all_adms: adms,
            relations: rels,
        };
        let (figures, running) = readback::phase(&ctx, &params, running).await;
        if let Err(e) = &figures {
            eprintln!("read-back phase failed: {e:#}");
        }
        report.readback = Some(figures.map_err(|e| format!("{e:#}")));
        koppeling = running;
    }

    if let Some((task, runs)) = vacuum {
        drop(task);
        report.vacuums = Some(runs.load(std::sync::atomic::Ordering::Relaxed));
    }
    // The database's own capacity, koppeling stopped, on its database.
    if let Some(k) = koppeling {
        k.terminate().await;
    }
    let cap = dbcap::measure(database_url, args.concurrency, args.db_secs).await;
    match &cap {
        Ok(c) => eprintln!(
            "database capacity: {} invoices (2 commits each) in {:.1} s = {:.0}/s with {} tasks ({} failed)",
            c.invoices, c.secs, c.per_sec, c.tasks, c.failed
        ),
        Err(e) => eprintln!("database capacity: failed: {e:#}"),
    }
    report.dbcap = Some(cap.map_err(|e| format!("{e:#}")));
    sandbox.stop().await;
    Ok(report)
}

#[allow(clippy::too_many_lines)]
fn table(r: &Report, args: &Args) -> String {
    let mut s = String::new();
    let tp = r.throughput();
    let ratio_v = tp / r.raw.per_sec;
    let steady = per(r.steady_calls, r.invoices);
    let all_in = per(r.all_calls, r.all_invoices);
    let p50 = quantile(&r.latency.sync_ms, 0.5);
    let p99 = quantile(&r.latency.sync_ms, 0.99);
    let rss = mib(r.rss_hwm_kib);
    let synced_all = r.counts[2] == r.all_invoices
        && r.boekingen == r.all_invoices
        && r.counts[3] == 0
        && r.counts[0] == 0
        && r.counts[1] == 0;
    let _ = writeln!(
        s,
        "\n### {} — {} invoices over {} administraties ({} ticked relations each), sync.workers={}\n",
        r.engine,
        r.invoices,
        args.administraties,
        args.relations,
        if args.workers > 0 {
            args.workers.to_string()
        } else {
            "4 (default)".to_owned()
        }
    );
    let _ = writeln!(s, "| metric | value | target | met |");
    let _ = writeln!(s, "|---|---|---|---|");
    let _ = writeln!(
        s,
        "| throughput, final → booked (invoices/s) | {tp:.0} ({} in {:.1} s) | ≥ 500 | {} |",
        r.invoices,
        r.e2e_secs,
        yes(tp >= 500.0)
    );
    let _ = writeln!(
        s,
        "| raw sandbox capacity, tight client (POST/s) | {:.0} ({} tasks, {} administrations, {:.0} s) | | |",
        r.raw.per_sec, r.raw.tasks, r.raw.admins, r.raw.secs
    );
    let _ = writeln!(
        s,
        "| ratio koppeling / raw sandbox (information: the sandbox is not the limit) | {ratio_v:.2} | | |"
    );
    match &r.dbcap {
        Some(Ok(c)) => {
            let db_ratio = tp / c.per_sec;
            let _ = writeln!(
                s,
                "| database capacity, minimal durable work (2 commits per invoice, invoices/s) | {:.0} ({} in {:.1} s, {} tasks, {} failed) | | |",
                c.per_sec, c.invoices, c.secs, c.tasks, c.failed
            );
            let _ = writeln!(
                s,
                "| ratio koppeling / database capacity | {db_ratio:.2} | ≥ 0.5 | {} |",
                yes(db_ratio >= 0.5)
            );
        }
        Some(Err(e)) => {
            let _ = writeln!(s, "| database capacity | failed: {e} | | NO |");
        }
        None => {}
    }
    let _ = writeln!(
        s,
        "| SnelStart calls per invoice, steady state | {steady:.3} ({} / {}) | 1.00 | {} |",
        r.steady_calls,
        r.invoices,
        yes((steady - 1.0).abs() < 0.005)
    );
    let _ = writeln!(
        s,
        "| SnelStart calls per invoice, all-in | {all_in:.3} ({} / {}) | | |",
        r.all_calls, r.all_invoices
    );
    let _ = writeln!(
        s,
        "| latency final → booked at {:.0}/s offered, p50 / p99 (ms) | {p50:.0} / {p99:.0} | p99 ≤ 2000 | {} |",
        r.latency.offered_per_sec,
        yes(p99 <= 2000.0)
    );
    let _ = writeln!(
        s,
        "| peak RSS of koppeling (VmHWM, MB) | {rss:.1} | ≤ 100 | {} |",
        yes(rss <= 100.0)
    );
    let _ = writeln!(
        s,
        "| exactly once: synced = booked = invoices, none failed | {} / {} / {} | | {} |",
        r.counts[2],
        r.boekingen,
        r.all_invoices,
        yes(synced_all)
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "* seeding: {:.1} s, {} SnelStart calls for {} activations; warm-up: {} invoices (first per relation), {} calls; {} token requests in all",
        r.seed_secs, r.seed_calls, args.administraties, r.warmup_invoices, r.warmup_calls, r.tokens
    );
    let _ = writeln!(
        s,
        "* throughput phase: all PUTs answered after {:.1} s ({:.0}/s ingest, {} errors, {} concurrent, round trip p50 {:.0} ms / p99 {:.0} ms); CPU: {}",
        r.put_secs,
        ratio(r.invoices, r.put_secs),
        r.put_errors,
        args.concurrency,
        r.put_ms.0,
        r.put_ms.1,
        r.cpu_throughput
            .describe(r.e2e_secs, r.engine == DbKind::Postgres.name())
    );
    let _ = writeln!(
        s,
        "* latency phase: {} invoices, achieved {:.1}/s, {} errors; PUT round trip p50 {:.1} ms / p99 {:.1} ms; sync p90 {:.0} ms, max {:.0} ms; {} SnelStart calls",
        r.latency.invoices,
        r.latency.achieved_per_sec,
        r.latency.errors,
        quantile(&r.latency.put_ms, 0.5),
        quantile(&r.latency.put_ms, 0.99),
        quantile(&r.latency.sync_ms, 0.9),
        quantile(&r.latency.sync_ms, 1.0),
        r.latency_calls
    );
    if let Some(n) = r.vacuums {
        let _ = writeln!(
            s,
            "* the PostgreSQL server runs with autovacuum = off; the bench ran VACUUM (ANALYZE) on this database every {} s as autovacuum would ({n} runs)",
            args.vacuum_secs
        );
    }
    if let Some(commits) = r.pg_commits {
        let _ = writeln!(
            s,
            "* PostgreSQL: {commits} transactions committed in the throughput phase = {:.2} per invoice (`xact_commit`: reads and writes of the API and the worker)",
            per(commits, r.invoices)
        );
    }
    let _ = writeln!(
        s,
        "* RSS: {:.1} MB peak after the throughput phase, {:.1} MB at the end",
        mib(r.rss_after_throughput_kib),
        mib(r.rss_end_kib)
    );
    let breakdown: Vec<String> = r
        .call_breakdown
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let _ = writeln!(s, "* SnelStart calls by kind: {}", breakdown.join(", "));
    let _ = writeln!(
        s,
        "* koppeling status counts: queued {}, in_progress {}, synced {}, failed {}, skipped {}",
        r.counts[0], r.counts[1], r.counts[2], r.counts[3], r.counts[4]
    );
    let _ = writeln!(
        s,
        "* load average when this run started: {}; logs: {}",
        r.load,
        r.log_dir.display()
    );
    match &r.readback {
        Some(Ok(f)) => s.push_str(&readback_table(f, args)),
        Some(Err(e)) => {
            let _ = writeln!(s, "\n#### Read-back (product §8.2): the phase failed: {e}");
        }
        None => {}
    }
    s
}

#[allow(clippy::too_many_lines, clippy::cast_precision_loss)]
fn readback_table(f: &readback::Figures, args: &Args) -> String {
    let mut s = String::new();
    let interval = args.readback_interval.max(1);
    let adms = args.readback_adms.min(args.administraties).max(1);
    let _ = writeln!(
        s,
        "\n#### Read-back (product §8.2): {adms} administraties × ≥ {} synced invoices, {} payments and {} accountant edits per administratie per hour, readback.interval_secs = {interval} (a compressed hour = 4 intervals = {} s)\n",
        f.invoices_min,
        args.payments_per_hour,
        args.edits_per_hour,
        4 * interval
    );
    let _ = writeln!(s, "| metric | value | target | met |");
    let _ = writeln!(s, "|---|---|---|---|");
    let est = f.production_per_hour();
    let _ = writeln!(
        s,
        "| read-back SnelStart calls per administratie per hour, production (900 s, 24 h full scan, 5,000 invoices, {} payments/h) | {est:.1} = 4 × {:.2} + {:.1} / 24 | ≤ 500 (10 % of 5,000) | {} |",
        args.payments_per_hour,
        f.incr_mean(),
        f.full_at(5000),
        yes(est <= 500.0)
    );
    let budget = f64::from(args.calls_per_hour) / 10.0;
    let _ = writeln!(
        s,
        "| the same, measured per compressed hour (full scans every {:.0} s instead of 24 h) | {:.1} ({} calls / {adms} administraties / {:.2} hours) | ≤ {budget:.0} (budget_share of {}) | {} |",
        f.full_scan_hours * 3600.0,
        per_hour_measured(f, adms),
        f.calls_sandbox,
        f.hours(),
        args.calls_per_hour,
        yes(per_hour_measured(f, adms) <= budget)
    );
    let p50 = quantile(&f.pay_delay, 0.5);
    let p99 = quantile(&f.pay_delay, 0.99);
    let max = quantile(&f.pay_delay, 1.0);
    let limit = 2.0 * interval as f64;
    let _ = writeln!(
        s,
        "| payment → payment.status (s), p50 / p99 / max | {p50:.1} / {p99:.1} / {max:.1} ({} payments, {} not seen) | ≤ 2 × interval = {limit:.0} | {} |",
        f.pay_delay.len(),
        f.pay_missing,
        yes(max <= limit && f.pay_missing == 0)
    );
    let on: Vec<&readback::AbRun> = f.ab.iter().filter(|a| a.readback_on).collect();
    let off: Vec<&readback::AbRun> = f.ab.iter().filter(|a| !a.readback_on).collect();
    let mean = |v: &[&readback::AbRun], g: fn(&readback::AbRun) -> f64| {
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().map(|a| g(a)).sum::<f64>() / v.len() as f64
        }
    };
    let list = |v: &[&readback::AbRun], g: fn(&readback::AbRun) -> f64| {
        v.iter()
            .map(|a| format!("{:.0}", g(a)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (tp_on, tp_off) = (
        mean(&on, readback::AbRun::throughput),
        mean(&off, readback::AbRun::throughput),
    );
    let (p99_on, p99_off) = (mean(&on, |a| a.p99_ms), mean(&off, |a| a.p99_ms));
    let _ = writeln!(
        s,
        "| booking throughput, read-back off → on (invoices/s; runs {}) | {tp_off:.0} → {tp_on:.0} ({:+.0} %; off: {}; on: {}) | unchanged (within 10 %) | {} |",
        args.ab_invoices,
        (tp_on / tp_off - 1.0) * 100.0,
        list(&off, readback::AbRun::throughput),
        list(&on, readback::AbRun::throughput),
        yes(tp_on >= 0.9 * tp_off)
    );
    let _ = writeln!(
        s,
        "| latency final → booked p99 at {:.0}/s, read-back off → on (ms) | {p99_off:.0} → {p99_on:.0} (off: {}; on: {}) | unchanged (within 10 % or 50 ms) | {} |",
        args.rate,
        list(&off, |a| a.p99_ms),
        list(&on, |a| a.p99_ms),
        yes(p99_on <= (1.1 * p99_off).max(p99_off + 50.0))
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "* how the hour is extrapolated: production runs a pass every 900 s (4 an hour); a pass costs the same whatever the interval, so the mean of the {} incremental passes measured here ({:.2} calls: `/verkoopfacturen` since the cursor, bank and cash bookings when a payment moved, `GET /verkoopboekingen/{{id}}` per changed booking) counts 4 times; the full scan (measured {} times at ≥ {} invoices: {:.1} calls, of which {} pages of `/verkoopfacturen`) is counted with {} pages for 5,000 invoices, once per 24 h",
        f.incr_passes,
        f.incr_mean(),
        f.full_passes,
        f.invoices_min,
        f.full_mean(),
        readback::scan_pages(f.invoices_min),
        readback::scan_pages(5000)
    );
    let _ = writeln!(
        s,
        "* measured: {} payments ({} errors, {} administraties ran out of invoices to pay), {} edits in {:.0} s; read-back calls counted by the sandbox {} / logged by koppeling's passes {}; passes out of budget: {}; top-up {} invoices in {:.1} s",
        f.payments,
        f.payment_errors,
        f.exhausted,
        f.edits,
        f.window_secs,
        f.calls_sandbox,
        f.calls_logged,
        f.out_of_budget,
        f.topup_invoices,
        f.topup_secs
    );
    let _ = writeln!(
        s,
        "* accountant edit → drift (s), p50 / max: {:.1} / {:.1} ({} edits, {} not seen)",
        quantile(&f.drift_delay, 0.5),
        quantile(&f.drift_delay, 1.0),
        f.drift_delay.len(),
        f.drift_missing
    );
    for (k, a) in f.ab.iter().enumerate() {
        let _ = writeln!(
            s,
            "* booking run {} (read-back {}): {} invoices in {:.1} s = {:.0}/s; {} at {:.0}/s: p50 {:.0} ms, p99 {:.0} ms; meanwhile {} partial payments, {} read-back passes, {} read-back calls",
            k + 1,
            if a.readback_on { "on" } else { "off" },
            a.invoices,
            a.secs,
            a.throughput(),
            a.latency_invoices,
            args.rate,
            a.p50_ms,
            a.p99_ms,
            a.payments,
            a.passes,
            a.readback_calls
        );
    }
    s
}

/// Read-back calls per administratie per compressed hour, as measured.
fn per_hour_measured(f: &readback::Figures, adms: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let calls = f.calls_sandbox as f64;
    #[allow(clippy::cast_precision_loss)]
    let n = adms as f64;
    calls / n / f.hours()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!(
        "{cores} cores ({cpu}); load average at start: {}",
        loadavg()
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bins = procs::release_binaries(args.no_build)?;
    let engines: &[DbKind] = match args.db {
        DbChoice::Sqlite => &[DbKind::Sqlite],
        DbChoice::Postgres => &[DbKind::Postgres],
        DbChoice::Both => &[DbKind::Sqlite, DbKind::Postgres],
    };
    let per_adm = args.invoices.div_ceil(args.administraties.max(1));
    eprintln!(
        "{}; {} invoices over {} administraties = {per_adm} each (SnelStart allows 500 calls/min per administratie: ≤ {:.0} invoices/s in all)",
        machine(),
        args.invoices,
        args.administraties,
        ratio(args.administraties as u64 * 500, 60.0)
    );
    let mut out = format!(
        "## koppeling-bench: {}\n\n`koppeling-bench {}` (in effect: `--invoices {} --administraties {} --rate {} --latency-secs {} --workers {} --concurrency {} --calls-per-hour {} --readback-adms {} --readback-invoices {} --payments-per-hour {} --edits-per-hour {} --readback-interval {} --readback-hours {} --ab-invoices {} --ab-latency-secs {} --db-secs {}`)\n",
        machine(),
        std::env::args().skip(1).collect::<Vec<_>>().join(" "),
        args.invoices,
        args.administraties,
        args.rate,
        args.latency_secs,
        args.workers,
        args.concurrency,
        args.calls_per_hour,
        args.readback_adms,
        args.readback_invoices,
        args.payments_per_hour,
        args.edits_per_hour,
        args.readback_interval,
        args.readback_hours,
        args.ab_invoices,
        args.ab_latency_secs,
        args.db_secs
    );
    let mut failed = false;
    for &engine in engines {
        match run(&args, engine, &bins).await {
            Ok(report) => {
                let t = table(&report, &args);
                println!("{t}");
                out.push_str(&t);
            }
            Err(e) => {
                failed = true;
                let line = format!("\n### {}: the run failed: {e:#}\n", engine.name());
                eprintln!("{line}");
                out.push_str(&line);
            }
        }
    }
    if engines.len() > 1 {
        println!("\n==== all results ====\n{out}");
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}
