//! Low-level helpers: statements with `$n` placeholders on both engines, timestamps in one
//! portable form, write transactions, row decoding and error mapping.

use std::ops::Deref;
use std::sync::Arc;

use anyhow::anyhow;
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::ports::StoreError;
use sea_orm::sqlx;
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    QueryResult, RuntimeErr, SqlErr, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait, TryGetable, Value,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The store's result type.
pub(crate) type R<T> = Result<T, StoreError>;

/// Wraps any error as [`StoreError::Other`].
pub(crate) fn other(err: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Other(err.into())
}

/// Adds what we were doing to a driver error.
pub(crate) trait Ctx<T> {
    /// Maps the error to [`StoreError::Other`] with `what` as context.
    fn ctx(self, what: &str) -> R<T>;
}

impl<T> Ctx<T> for Result<T, DbErr> {
    fn ctx(self, what: &str) -> R<T> {
        self.map_err(|e| store_error(e, what))
    }
}

/// A driver error as a [`StoreError`]: [`StoreError::Busy`] when the database is busy (see
/// [`is_busy`]), [`StoreError::Other`] with `what` as context otherwise.
pub(crate) fn store_error(err: DbErr, what: &str) -> StoreError {
    if is_busy(&err) {
        StoreError::Busy(format!("{what}: {err}"))
    } else {
        StoreError::Other(anyhow::Error::new(err).context(what.to_owned()))
    }
}

/// Whether `err` means the database is busy, so that the same request may well succeed
/// in a moment: no pooled connection within the acquire timeout; on SQLite `SQLITE_BUSY`
/// or `SQLITE_LOCKED` (any extended code, e.g. after the 5 s `busy_timeout`); on
/// PostgreSQL `40001` serialization_failure, `40P01` deadlock_detected or `55P03`
/// lock_not_available (after the 5 s `lock_timeout`).
pub(crate) fn is_busy(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => match &**e {
            sqlx::Error::PoolTimedOut => true,
            sqlx::Error::Database(e) => {
                let code = e.code().unwrap_or_default();
                if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    sqlite_code_is_busy(&code)
                } else if e
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some()
                {
                    pg_code_is_busy(&code)
                } else {
                    false
                }
            }
            _ => false,
        },
        _ => false,
    }
}

/// An SQLite (extended) result code as sqlx reports it: the primary code is the low byte,
/// 5 `SQLITE_BUSY` (also `_RECOVERY` 261, `_SNAPSHOT` 517, `_TIMEOUT` 773) or 6
/// `SQLITE_LOCKED` (also `_SHAREDCACHE` 262, `_VTAB` 518).
fn sqlite_code_is_busy(code: &str) -> bool {
    code.parse::<i32>()
        .is_ok_and(|code| matches!(code & 0xff, 5 | 6))
}

/// A PostgreSQL SQLSTATE that a retry may cure.
fn pg_code_is_busy(code: &str) -> bool {
    matches!(code, "40001" | "40P01" | "55P03")
}

/// Whether `err` is a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether `err` (as the store reports it) is a unique-constraint violation.
pub(crate) fn is_unique_error(err: &StoreError) -> bool {
    match err {
        StoreError::Other(e) => e.downcast_ref::<DbErr>().is_some_and(is_unique_violation),
        _ => false,
    }
}

/// Whether `err` is a foreign-key violation.
pub(crate) fn is_fk_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// The connection, its engine, and (SQLite only) the in-process writer lock.
#[derive(Clone)]
pub(crate) struct Db {
    pub(crate) conn: DatabaseConnection,
    pub(crate) backend: DbBackend,
    /// SQLite allows one writer at a time; queueing writers of this process on a mutex is
    /// cheaper than letting them poll SQLite's busy handler. Other processes still wait on
    /// `busy_timeout`.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// SQLite file: the one connection write transactions run on (see
    /// [`Db::with_writer`]); otherwise they take one from the pool.
    write_conn: Option<DatabaseConnection>,
}

/// A write transaction: `BEGIN IMMEDIATE` on SQLite (a deferred transaction that reads
/// and then writes fails with `SQLITE_BUSY` under concurrency), `BEGIN` on PostgreSQL.
/// Dropped without [`WriteTx::commit`] it rolls back.
pub(crate) struct WriteTx {
    tx: DatabaseTransaction,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl Deref for WriteTx {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl WriteTx {
    /// Commits.
    pub(crate) async fn commit(self) -> R<()> {
        let WriteTx { tx, _writer } = self;
        tx.commit().await.ctx("committing")
    }

    /// Commits when `result` is `Ok`, otherwise rolls back now and returns the error.
    ///
    /// A transaction merely dropped is rolled back later, when its connection is next used
    /// or returned to the pool; until then it keeps the rows it locked (`FOR UPDATE`), and a
    /// concurrent claim (`SKIP LOCKED`) passes them over. A refusal (a conflict read under
    /// lock) therefore ends its transaction here.
    pub(crate) async fn end<T>(self, result: R<T>) -> R<T> {
        match result {
            Ok(value) => {
                self.commit().await?;
                Ok(value)
            }
            Err(error) => {
                let WriteTx { tx, _writer } = self;
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "rolling back a refused write failed; the pool discards the connection");
                }
                Err(error)
            }
        }
    }
}

impl Db {
    pub(crate) fn new(conn: DatabaseConnection) -> Self {
        let backend = conn.get_database_backend();
        let sqlite_writer = (backend == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Self {
            conn,
            backend,
            sqlite_writer,
            write_conn: None,
        }
    }

    /// The same, with write transactions on `writer` (SQLite: a pool of one connection,
    /// whose page cache then stays warm from one write transaction to the next).
    pub(crate) fn with_writer(self, writer: DatabaseConnection) -> Self {
        Self {
            write_conn: Some(writer),
            ..self
        }
    }

    pub(crate) fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }

    /// `" FOR UPDATE"` on PostgreSQL (a read-modify-write must lock the row it read);
    /// nothing on SQLite, whose write transactions are serialised anyway.
    pub(crate) fn for_update(&self) -> &'static str {
        if self.is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        }
    }

    /// `" FOR SHARE"` on PostgreSQL: a write that depends on a row it does not change (an
    /// invoice on its relation's tick) must not interleave with a change of that row.
    pub(crate) fn for_share(&self) -> &'static str {
        if self.is_postgres() { " FOR SHARE" } else { "" }
    }

    /// A statement; `sql` uses `$1`, `$2`, … on both engines (sqlx-sqlite binds `$n`).
    pub(crate) fn st(&self, sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, values)
    }

    /// Starts a write transaction.
    pub(crate) async fn begin(&self) -> R<WriteTx> {
        let writer = match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let tx = if self.backend == DbBackend::Sqlite {
            self.write_conn
                .as_ref()
                .unwrap_or(&self.conn)
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                })
                .await
        } else {
            self.conn.begin().await
        }
        .ctx("starting a transaction")?;
        Ok(WriteTx {
            tx,
            _writer: writer,
        })
    }

    /// A timestamp as bound on this engine: `TIMESTAMPTZ` on PostgreSQL; on SQLite a
    /// fixed-width RFC 3339 text (`2026-05-01T12:00:00.000000+00:00`) so that comparing
    /// and sorting the text compares the times. Truncated to microseconds on both.
    pub(crate) fn ts(&self, t: DateTime<Utc>) -> Value {
        let t = t.trunc_subsecs(6);
        if self.is_postgres() {
            Value::ChronoDateTimeUtc(Some(t))
        } else {
            Value::String(Some(t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()))
        }
    }

    /// An optional timestamp, typed `NULL` included.
    pub(crate) fn ts_opt(&self, t: Option<DateTime<Utc>>) -> Value {
        match t {
            Some(t) => self.ts(t),
            None if self.is_postgres() => Value::ChronoDateTimeUtc(None),
            None => Value::String(None),
        }
    }
}

/// Runs `work` (an SQLite write transaction) on the writer thread and waits for it.
///
/// On SQLite the writer lock is held from `BEGIN` to `COMMIT`, and between two statements
/// the holder waits for its connection's thread and then for a turn on the runtime. On the
/// service's runtime that turn comes after whatever else is queued there (HTTP requests,
/// attempts), so a busy runtime stretched every write transaction and, through the lock,
/// every other writer. The writer thread runs nothing but write transactions: its turn
/// comes as soon as the connection answers. `work` runs to its end even when the caller
/// goes away.
pub(crate) async fn on_writer_thread<T: Send + 'static>(
    work: impl std::future::Future<Output = R<T>> + Send + 'static,
) -> R<T> {
    match writer_runtime() {
        Some(handle) => handle
            .spawn(work)
            .await
            .map_err(|e| other(anyhow!("the write transaction did not finish: {e}")))?,
        None => work.await,
    }
}

/// The writer thread: one current-thread runtime for the whole process (all stores share
/// it), started on first use; `None` if it could not be started (then writes run where
/// they are called).
fn writer_runtime() -> Option<&'static tokio::runtime::Handle> {
    static WRITER: std::sync::OnceLock<Option<tokio::runtime::Handle>> = std::sync::OnceLock::new();
    WRITER
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            let handle = runtime.handle().clone();
            std::thread::Builder::new()
                .name("sqlite-writer".into())
                .spawn(move || runtime.block_on(std::future::pending::<()>()))
                .ok()?;
            Some(handle)
        })
        .as_ref()
}

/// `Utc::now()` at the stored precision.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A text value.
pub(crate) fn s(v: impl Into<String>) -> Value {
    Value::String(Some(v.into()))
}

/// An optional text value.
pub(crate) fn so(v: Option<impl Into<String>>) -> Value {
    Value::String(v.map(Into::into))
}

/// A `BIGINT` value.
pub(crate) fn i(v: i64) -> Value {
    Value::BigInt(Some(v))
}

/// An optional `BIGINT` value.
pub(crate) fn io(v: Option<i64>) -> Value {
    Value::BigInt(v)
}

/// A boolean value.
pub(crate) fn b(v: bool) -> Value {
    Value::Bool(Some(v))
}

/// An optional date value.
pub(crate) fn date(v: Option<NaiveDate>) -> Value {
    Value::ChronoDate(v)
}

/// Runs a statement, returning the number of rows it touched.
pub(crate) async fn exec(c: &impl ConnectionTrait, st: Statement, what: &str) -> R<u64> {
    Ok(c.execute_raw(st).await.ctx(what)?.rows_affected())
}

/// Runs a query, returning every row.
pub(crate) async fn all(
    c: &impl ConnectionTrait,
    st: Statement,
    what: &str,
) -> R<Vec<QueryResult>> {
    c.query_all_raw(st).await.ctx(what)
}

/// Runs a query, returning the first row.
pub(crate) async fn one(
    c: &impl ConnectionTrait,
    st: Statement,
    what: &str,
) -> R<Option<QueryResult>> {
    c.query_one_raw(st).await.ctx(what)
}

/// A row, with the prefix its columns carry in a joined query (`r_name` for `name`).
#[derive(Clone, Copy)]
pub(crate) struct RowRef<'a> {
    row: &'a QueryResult,
    pre: &'a str,
}

impl<'a> RowRef<'a> {
    /// The columns of `row` named `pre` + name.
    pub(crate) fn prefixed(row: &'a QueryResult, pre: &'a str) -> Self {
        Self { row, pre }
    }
}

impl<'a> From<&'a QueryResult> for RowRef<'a> {
    fn from(row: &'a QueryResult) -> Self {
        Self { row, pre: "" }
    }
}

/// Reads column `name`.
pub(crate) fn col<'a, T: TryGetable>(row: impl Into<RowRef<'a>>, name: &str) -> R<T> {
    let r = row.into();
    r.row.try_get::<T>(r.pre, name).map_err(|e| {
        other(anyhow::Error::new(e).context(format!("reading column {}{name}", r.pre)))
    })
}

/// Reads a boolean column (an integer on SQLite when computed).
pub(crate) fn col_bool<'a>(row: impl Into<RowRef<'a>>, name: &str) -> R<bool> {
    let r = row.into();
    match r.row.try_get::<bool>(r.pre, name) {
        Ok(v) => Ok(v),
        Err(_) => col::<i64>(r, name).map(|v| v != 0),
    }
}

/// Reads a non-negative count column.
pub(crate) fn col_u32<'a>(row: impl Into<RowRef<'a>>, name: &str) -> R<u32> {
    let v: i64 = col(row, name)?;
    u32::try_from(v).map_err(|_| other(anyhow!("column {name} holds {v}, not a u32")))
}

/// Reads an administratie code column.
pub(crate) fn col_adm<'a>(row: impl Into<RowRef<'a>>, name: &str) -> R<AdministratieCode> {
    let raw: String = col(row, name)?;
    AdministratieCode::parse(&raw).map_err(other)
}

/// Reads a resource id column.
pub(crate) fn col_id<'a>(row: impl Into<RowRef<'a>>, name: &str) -> R<ResourceId> {
    let raw: String = col(row, name)?;
    ResourceId::parse(&raw).map_err(other)
}

/// Parses a JSON text column.
pub(crate) fn col_json<'a, T: serde::de::DeserializeOwned>(
    row: impl Into<RowRef<'a>>,
    name: &str,
) -> R<T> {
    let raw: String = col(row, name)?;
    serde_json::from_str(&raw)
        .map_err(|e| other(anyhow::Error::new(e).context(format!("parsing column {name}"))))
}

/// `columns` (a comma-separated list) of table alias `table`, each renamed `pre` + name.
pub(crate) fn aliased(table: &str, pre: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| format!("{table}.{c} AS {pre}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Serialises to JSON text.
pub(crate) fn json<T: serde::Serialize>(value: &T) -> R<String> {
    serde_json::to_string(value).map_err(other)
}

/// `$from, $from+1, …` for `n` values (an `IN (…)` list).
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|k| format!("${k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Bound values of a statement assembled from parts; `p` returns the placeholder.
pub(crate) struct Params(pub(crate) Vec<sea_orm::Value>);

impl Params {
    pub(crate) fn p(&mut self, value: sea_orm::Value) -> String {
        self.0.push(value);
        format!("${}", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_codes_of_sqlite_include_the_extended_ones() {
        for code in ["5", "261", "517", "773", "6", "262", "518"] {
            assert!(sqlite_code_is_busy(code), "{code}");
        }
        for code in ["1", "19", "1555", "2067", "787", "14", "", "x"] {
            assert!(!sqlite_code_is_busy(code), "{code}");
        }
    }

    #[test]
    fn busy_codes_of_postgres() {
        for code in ["40001", "40P01", "55P03"] {
            assert!(pg_code_is_busy(code), "{code}");
        }
        for code in ["23505", "23503", "57014", "40000", "55000", ""] {
            assert!(!pg_code_is_busy(code), "{code}");
        }
    }

    #[test]
    fn a_pool_timeout_is_busy_and_a_closed_pool_is_not() {
        let timeout = DbErr::ConnectionAcquire(ConnAcquireErr::Timeout);
        assert!(matches!(
            store_error(timeout, "reading"),
            StoreError::Busy(m) if m.starts_with("reading: ")
        ));
        let closed = DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed);
        assert!(matches!(
            store_error(closed, "reading"),
            StoreError::Other(_)
        ));
        let raw = DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::PoolTimedOut)));
        assert!(is_busy(&raw));
    }
}
