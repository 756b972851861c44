//! The database's own capacity for the minimal durable work per invoice (product §7): one
//! commit to store it, one to record its outcome, at the benchmark's concurrency, on the
//! same database with the same connection settings as `koppeling serve`
//! ([`koppeling_radar360::SeaOrmStore::connect`]: pool size, WAL and `synchronous =
//! NORMAL` on SQLite, `lock_timeout` on PostgreSQL).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// What the measurement found.
#[derive(Debug, Clone, Copy, Default)]
pub struct Capacity {
    /// Invoices (both commits done) per second.
    pub per_sec: f64,
    pub invoices: u64,
    pub failed: u64,
    pub tasks: usize,
    pub secs: f64,
}

/// A body about as large as the invoice koppeling stores (its JSON lines and totals).
const BODY: &str = r#"{"number":"T1","relation_id":"r0","date":"2026-12-05","payment_term_days":14,"status":"final","description":"Benchmark","lines":[{"description":"Advieswerk","quantity":"1","unit_price":"100.00","vat":"high"}],"totals":{"net":"100.00","vat":"21.00","gross":"121.00"}}"#;

/// Runs `tasks` loops for `secs` seconds against `database_url` (koppeling stopped, its
/// data in place): each loop stores an invoice (`INSERT`, one commit) and records its
/// outcome (`UPDATE`, one commit). The table is created for the measurement and dropped
/// afterwards.
pub async fn measure(database_url: &str, tasks: usize, secs: f64) -> anyhow::Result<Capacity> {
    let store = koppeling_radar360::SeaOrmStore::connect(database_url, [7u8; 32])
        .await
        .context("connecting as koppeling does")?;
    let conn = store.connection().clone();
    let backend = conn.get_database_backend();
    conn.execute_unprepared("DROP TABLE IF EXISTS bench_capacity")
        .await?;
    conn.execute_unprepared(
        "CREATE TABLE bench_capacity (adm TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, \
         status TEXT NOT NULL, snelstart_id TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (adm, id))",
    )
    .await?;
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs);
    let mut set = tokio::task::JoinSet::new();
    for t in 0..tasks.max(1) {
        let conn = conn.clone();
        let done = done.clone();
        let failed = failed.clone();
        set.spawn(async move {
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let adm = format!("bench-{:04}", t % 50);
                let id = format!("c{t}-{i}");
                let now = chrono::Utc::now().to_rfc3339();
                let insert = Statement::from_sql_and_values(
                    backend,
                    ph(
                        backend,
                        "INSERT INTO bench_capacity (adm, id, body, status, updated_at) VALUES (?, ?, ?, 'queued', ?)",
                    ),
                    [
                        adm.clone().into(),
                        id.clone().into(),
                        BODY.into(),
                        now.clone().into(),
                    ],
                );
                let update = Statement::from_sql_and_values(
                    backend,
                    ph(
                        backend,
                        "UPDATE bench_capacity SET status = 'synced', snelstart_id = ?, updated_at = ? WHERE adm = ? AND id = ?",
                    ),
                    [
                        uuid::Uuid::new_v4().to_string().into(),
                        now.into(),
                        adm.into(),
                        id.into(),
                    ],
                );
                let ok = conn.execute_raw(insert).await.is_ok()
                    && conn.execute_raw(update).await.is_ok();
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while set.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    conn.execute_unprepared("DROP TABLE bench_capacity").await?;
    let n = done.load(Ordering::Relaxed);
    #[allow(clippy::cast_precision_loss)]
    Ok(Capacity {
        per_sec: n as f64 / elapsed,
        invoices: n,
        failed: failed.load(Ordering::Relaxed),
        tasks,
        secs: elapsed,
    })
}

/// `?` placeholders as the backend wants them (`$1`, `$2`, … on PostgreSQL).
fn ph(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}
