//! [`SeaOrmStore`]: connecting, migrating, wake-ups, and the `Store` implementation, which
//! delegates to one module per aggregate.

mod admin;
mod auth;
mod batch;
mod db;
mod document;
mod group;
mod invoice;
mod koppeling;
mod lease;
mod notify;
mod queue;
mod readback;
mod relation;
mod writes;
// issue 13 (secrets)
mod rotate;
pub use rotate::RotateReport;

mod connect;
pub use connect::StoredReference;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use koppeling_domain::document::{Document, DocumentJob, DocumentKind, DocumentOutcome};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::invoice::Invoice;
use koppeling_domain::koppeling::{ConnectionKey, Koppeling, KoppelingSettings};
use koppeling_domain::notification::{NotificationItem, NotificationRecord, StoredNotification};
use koppeling_domain::ports::{
    Admin, AdminStore, Administratie, AdministratieStore, AttemptLog, Claim, ClaimRequest,
    ConnectStore, DocumentStore, InvoiceStore, NotificationStore, Outcome, PendingNotice, Put,
    QueueStore, ReadbackStore, Recipient, RelatieLink, RelationStore, SendFailure, StatusCounts,
    StoreError, SyncJob, SyncState, UnsentNotification,
};
use koppeling_domain::relation::{RelatieCode, Relation};
use koppeling_domain::text::redact_url;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use tokio::sync::{Notify, mpsc};

use crate::cipher::KeyCipher;
use crate::migration::Migrator;
use db::Db;

/// The PostgreSQL `LISTEN`/`NOTIFY` channel on which queued work is announced.
pub const WORK_CHANNEL: &str = "koppeling_work";

/// How long a PostgreSQL statement waits for a lock before failing with 55P03.
const LOCK_TIMEOUT: &str = "5s";

/// The PostgreSQL advisory lock key under which one process at a time migrates.
const MIGRATION_LOCK: i64 = 0x6b6f_7070_656c;

/// The sea-orm store (SQLite or PostgreSQL). Cheap to clone: clones share the pool, the
/// cipher and the wake-up signal.
#[derive(Clone)]
pub struct SeaOrmStore {
    db: Db,
    cipher: KeyCipher,
    notify: Arc<Notify>,
    /// PostgreSQL only: the queue of the task that `NOTIFY`s other processes (see
    /// [`SeaOrmStore::wake`]); started on first use, ends when every clone is dropped.
    announcer: Arc<std::sync::Mutex<Option<mpsc::Sender<()>>>>,
    /// Dropped with the last clone; background tasks hold a `Weak` to notice.
    alive: Arc<()>,
    /// The administratie served last by `claim_due`; the next claim starts after it.
    pivot: Arc<std::sync::Mutex<String>>,
    /// The administratie leases settled last, per worker (see `lease::Settled`).
    leases: Arc<std::sync::Mutex<lease::Settled>>,
    /// SQLite only: the writes waiting for the next batch (see `writes`).
    writes: Arc<writes::Writes>,
}

impl std::fmt::Debug for SeaOrmStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaOrmStore")
            .field("backend", &self.db.backend)
            .finish_non_exhaustive()
    }
}

/// Locks a mutex of the store; a poisoned one is used as it is (every value it guards is
/// whole after any write).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SeaOrmStore {
    /// The administratie the last claim served (the rotation starts after it).
    fn pivot(&self) -> String {
        lock(&self.pivot).clone()
    }

    /// Passes `result` on after a koppeling write: which administraties run may have
    /// changed, so the leases are settled afresh at the next claim.
    fn koppelingen_changed<T>(&self, result: T) -> T {
        lease::forget_settled(self);
        result
    }

    /// Connects to `url` (`sqlite://…` or `postgres://…`). SQLite runs in WAL mode with
    /// `synchronous = NORMAL` (durable across a process crash), a 5 s busy timeout and
    /// foreign keys on, and creates the file when missing. PostgreSQL connections get a
    /// 5 s `lock_timeout`. A lock wait that times out is [`StoreError::Busy`].
    ///
    /// # Errors
    /// When the database cannot be reached or opened.
    pub async fn connect(url: &str, master_key: [u8; 32]) -> anyhow::Result<Self> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        if url.starts_with("sqlite:") {
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            if memory {
                // Every connection to `:memory:` is its own database: keep exactly one.
                opts.max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            } else {
                opts.max_connections(8);
            }
            // A connection to a local file cannot go stale: no ping on each acquire (sqlx's
            // default), which on SQLite is one more round trip to the connection's thread,
            // and for a write transaction one taken under the writer lock.
            opts.test_before_acquire(false);
            opts.map_sqlx_sqlite_opts(move |o| {
                let o = o
                    .busy_timeout(Duration::from_millis(5000))
                    .foreign_keys(true)
                    .create_if_missing(true);
                if memory {
                    o
                } else {
                    // Checkpoints run in the background (`checkpoint_in_background`).
                    o.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .pragma("wal_autocheckpoint", "0")
                }
            });
            // Every write transaction runs on one connection of its own (they are
            // serialised by the writer lock anyway): its page cache stays warm, where a
            // write on any pooled connection found its cache made stale by the previous
            // write on another one and read its pages again.
            let mut writer_opts = opts.clone();
            writer_opts
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
            let conn = Database::connect(opts)
                .await
                .with_context(|| format!("connecting to the database {}", redact_url(url)))?;
            let mut store = Self::from_connection(conn, master_key);
            if !memory {
                let writer = Database::connect(writer_opts)
                    .await
                    .with_context(|| format!("connecting to the database {}", redact_url(url)))?;
                store.db = store.db.with_writer(writer);
                store.checkpoint_in_background();
            }
            return Ok(store);
        }
        // The API, the worker's slots and the claims share the pool, and each commit holds
        // its connection through the WAL flush: 10 connections capped the benchmark's
        // throughput. Several processes share the server's `max_connections` (100 by
        // default), so not more.
        opts.max_connections(20);
        // A pooled connection is pinged only after it sat idle for a while (a server
        // restart, a proxy or firewall dropping it), not on every acquire: on a busy pool
        // the ping was one extra round trip per transaction and per read.
        opts.test_before_acquire_if_idle_for(Duration::from_secs(30));
        // A lock wait ends after 5 s (as SQLite's `busy_timeout`) with 55P03, which the store
        // reports as `StoreError::Busy`, instead of hanging for as long as the holder likes.
        // Sent as a start-up parameter, so every pooled connection has it from the start.
        opts.map_sqlx_postgres_opts(|o| o.options([("lock_timeout", LOCK_TIMEOUT)]));
        let conn = Database::connect(opts)
            .await
            .with_context(|| format!("connecting to the database {}", redact_url(url)))?;
        Ok(Self::from_connection(conn, master_key))
    }

    /// SQLite (a file): copies the WAL into the database every second from a background
    /// task (`PRAGMA wal_checkpoint(PASSIVE)`, which blocks no reader and no writer),
    /// instead of SQLite's automatic checkpoint, which runs inside the commit that crosses
    /// 1000 WAL pages: that commit holds the in-process writer lock through the
    /// checkpoint's fsyncs, so on a busy disk every writer waited for them (seconds in the
    /// benchmark). Durability is unchanged (`synchronous = NORMAL` in WAL mode). The task
    /// ends within a second after the last clone of the store is dropped.
    fn checkpoint_in_background(&self) {
        let alive = Arc::downgrade(&self.alive);
        let conn = self.db.conn.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if alive.upgrade().is_none() {
                    break;
                }
                if let Err(error) = conn
                    .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                    .await
                {
                    tracing::warn!(error = %error, "checkpointing the SQLite WAL failed");
                }
            }
        });
    }

    /// The same store, also decrypting koppelsleutels sealed under `previous` master keys
    /// (`secrets.previous_master_keys`; new writes still use the current key).
    #[must_use]
    pub fn with_previous_keys(mut self, previous: impl IntoIterator<Item = [u8; 32]>) -> Self {
        self.cipher = self.cipher.with_previous(previous);
        self
    }

    /// Wraps an open connection.
    #[must_use]
    pub fn from_connection(conn: DatabaseConnection, master_key: [u8; 32]) -> Self {
        Self {
            db: Db::new(conn),
            cipher: KeyCipher::new(master_key),
            notify: Arc::new(Notify::new()),
            announcer: Arc::new(std::sync::Mutex::new(None)),
            alive: Arc::new(()),
            pivot: Arc::new(std::sync::Mutex::new(String::new())),
            leases: Arc::default(),
            writes: Arc::default(),
        }
    }

    /// Applies the pending migrations.
    ///
    /// On PostgreSQL several processes may start at once on a fresh database; they migrate
    /// one after the other under a transaction-scoped advisory lock (DDL is transactional
    /// there), so the later ones find the schema in place instead of failing on it.
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        if !self.db.is_postgres() {
            return Migrator::up(&self.db.conn, None)
                .await
                .context("migrating the database");
        }
        let tx = self
            .db
            .conn
            .begin()
            .await
            .context("migrating the database")?;
        // Another process's migration may take longer than the service's `lock_timeout`.
        tx.execute_unprepared("SET LOCAL lock_timeout = 0")
            .await
            .context("migrating the database")?;
        tx.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .await
            .context("waiting for another process's migration")?;
        Migrator::up(&tx, None)
            .await
            .context("migrating the database")?;
        tx.commit().await.context("migrating the database")
    }

    /// Checks the connection.
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn ping(&self) -> anyhow::Result<()> {
        self.db.conn.ping().await.context("pinging the database")
    }

    /// The underlying connection (for tests and tools).
    #[must_use]
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db.conn
    }

    /// Signalled (`notify_waiters` + `notify_one`) whenever this process queues work: a
    /// final invoice written, a relation ticked, a retry, a koppeling activated or resumed.
    /// With [`SeaOrmStore::listen_pg`] running, also when another process does so.
    #[must_use]
    pub fn work_notify(&self) -> Arc<Notify> {
        self.notify.clone()
    }

    /// On PostgreSQL, listens on [`WORK_CHANNEL`] and signals [`SeaOrmStore::work_notify`]
    /// for work queued by any process; returns the listening task, which holds one pooled
    /// connection and ends when the pool closes (or when aborted). `None` on SQLite, where
    /// one process owns the file.
    ///
    /// # Errors
    /// When the listening connection cannot be set up.
    pub async fn listen_pg(&self) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
        if !self.db.is_postgres() {
            return Ok(None);
        }
        let pool = self.db.conn.get_postgres_connection_pool().clone();
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&pool)
            .await
            .context("connecting the LISTEN connection")?;
        listener
            .listen(WORK_CHANNEL)
            .await
            .context("LISTEN koppeling_work")?;
        let notify = self.notify.clone();
        Ok(Some(tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(_) => {
                        notify.notify_waiters();
                        notify.notify_one();
                    }
                    // The pool is closing: give the connection back so the close can end.
                    Err(sea_orm::sqlx::Error::PoolClosed) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "LISTEN koppeling_work failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        })))
    }

    /// After a commit that queued work: wakes this process's worker and, on PostgreSQL,
    /// `NOTIFY`s the other processes.
    ///
    /// The `NOTIFY` is sent after the commit by one background task, coalesced (a request
    /// made while one is pending rides along with it), not inside the writing transaction:
    /// PostgreSQL serialises the commits of all transactions that `NOTIFY` on one global
    /// lock held through the WAL flush, which capped concurrent invoice PUTs at about one
    /// per fsync. Sent after the commit, it can never wake a process before the work is
    /// visible. A lost `NOTIFY` only delays the other processes until their sweep.
    fn wake(&self) {
        self.notify.notify_waiters();
        self.notify.notify_one();
        if !self.db.is_postgres() {
            return;
        }
        let mut slot = lock(&self.announcer);
        if let Some(queue) = slot.as_ref() {
            match queue.try_send(()) {
                Ok(()) | Err(mpsc::error::TrySendError::Full(())) => return,
                // The task ended with its runtime: start another below.
                Err(mpsc::error::TrySendError::Closed(())) => {}
            }
        }
        let (queue, mut requests) = mpsc::channel::<()>(1);
        let _ = queue.try_send(());
        let conn = self.db.clone();
        tokio::spawn(async move {
            while requests.recv().await.is_some() {
                let notify = conn.st("SELECT pg_notify($1, '')", vec![db::s(WORK_CHANNEL)]);
                if let Err(error) = db::exec(&conn.conn, notify, "NOTIFY koppeling_work").await {
                    tracing::warn!(error = %error, "NOTIFY koppeling_work failed; other processes rely on their sweep");
                }
            }
        });
        *slot = Some(queue);
    }
}

impl AdministratieStore for SeaOrmStore {
    async fn put_administratie(&self, adm: &Administratie) -> Result<Put, StoreError> {
        admin::put_administratie(self, adm).await
    }

    async fn get_administratie(
        &self,
        adm: &AdministratieCode,
    ) -> Result<Option<Administratie>, StoreError> {
        admin::get_administratie(self, adm).await
    }

    async fn list_administraties(&self) -> Result<Vec<Administratie>, StoreError> {
        admin::list_administraties(self).await
    }

    async fn put_koppeling(
        &self,
        adm: &AdministratieCode,
        settings: &KoppelingSettings,
        key: Option<ConnectionKey>,
    ) -> Result<Put, StoreError> {
        self.koppelingen_changed(koppeling::put_koppeling(self, adm, settings, key.as_ref()).await)
    }

    async fn get_koppeling(
        &self,
        adm: &AdministratieCode,
    ) -> Result<Option<Koppeling>, StoreError> {
        koppeling::get_koppeling(self, adm).await
    }

    async fn set_koppeling_active(
        &self,
        adm: &AdministratieCode,
        active: bool,
    ) -> Result<(), StoreError> {
        self.koppelingen_changed(koppeling::set_koppeling_active(self, adm, active).await)
    }

    async fn set_koppeling_paused(
        &self,
        adm: &AdministratieCode,
        problem: Option<koppeling_domain::pause::PauseReason>,
    ) -> Result<bool, StoreError> {
        self.koppelingen_changed(koppeling::set_koppeling_paused(self, adm, problem).await)
    }

    async fn set_all_paused(
        &self,
        problem: Option<koppeling_domain::pause::PauseReason>,
    ) -> Result<Vec<AdministratieCode>, StoreError> {
        self.koppelingen_changed(koppeling::set_all_paused(self, problem).await)
    }
}

impl AdminStore for SeaOrmStore {
    async fn put_admin(
        &self,
        adm: &AdministratieCode,
        admin: &Admin,
        password_hash: Option<String>,
    ) -> Result<Put, StoreError> {
        admin::put_admin(self, adm, admin, password_hash).await
    }

    async fn get_admin(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<Option<Admin>, StoreError> {
        admin::get_admin(self, adm, id).await
    }

    async fn list_admins(&self, adm: &AdministratieCode) -> Result<Vec<Admin>, StoreError> {
        admin::list_admins(self, adm).await
    }

    async fn find_admin_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(AdministratieCode, Admin, Option<String>)>, StoreError> {
        admin::find_admin_by_email(self, email).await
    }

    async fn set_admin_password(
        &self,
        adm: &AdministratieCode,
        email: &str,
        password_hash: String,
    ) -> Result<(), StoreError> {
        admin::set_admin_password(self, adm, email, password_hash).await
    }

    async fn create_session(
        &self,
        session: &koppeling_domain::auth::SessionRecord,
    ) -> Result<(), StoreError> {
        auth::create_session(self, session).await
    }

    async fn get_session(
        &self,
        id_hash: &str,
    ) -> Result<Option<(koppeling_domain::auth::SessionRecord, String)>, StoreError> {
        auth::get_session(self, id_hash).await
    }

    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        auth::touch_session(self, id_hash, at).await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        auth::delete_session(self, id_hash).await
    }

    async fn throttle_attempt(
        &self,
        key: &str,
        now: DateTime<Utc>,
        policy: koppeling_domain::auth::ThrottlePolicy,
    ) -> Result<Option<Duration>, StoreError> {
        auth::throttle_attempt(self, key, now, policy).await
    }

    async fn throttle_forgive(&self, key: &str) -> Result<(), StoreError> {
        auth::throttle_forgive(self, key).await
    }

    async fn clear_throttle(&self, key: &str) -> Result<(), StoreError> {
        auth::clear_throttle(self, key).await
    }

    async fn use_login_token(
        &self,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        auth::use_login_token(self, token_hash, expires_at, now).await
    }
}

impl RelationStore for SeaOrmStore {
    async fn put_relation(
        &self,
        adm: &AdministratieCode,
        relation: &Relation,
    ) -> Result<Put, StoreError> {
        relation::put_relation(self, adm, relation).await
    }

    async fn get_relation(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<Option<Relation>, StoreError> {
        relation::get_relation(self, adm, id).await
    }

    async fn list_relations(&self, adm: &AdministratieCode) -> Result<Vec<Relation>, StoreError> {
        relation::list_relations(self, adm).await
    }

    async fn set_relation_snelstart(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        enabled: Option<RelatieCode>,
    ) -> Result<Relation, StoreError> {
        relation::set_relation_snelstart(self, adm, id, enabled).await
    }

    async fn get_relatie_link(
        &self,
        adm: &AdministratieCode,
        relation_id: &ResourceId,
    ) -> Result<Option<RelatieLink>, StoreError> {
        relation::get_relatie_link(self, adm, relation_id).await
    }

    async fn save_relatie_link(
        &self,
        adm: &AdministratieCode,
        relation_id: &ResourceId,
        link: &RelatieLink,
    ) -> Result<(), StoreError> {
        relation::save_relatie_link(self, adm, relation_id, link).await
    }

    // issue 13 (the HTTP edge and input limits)
    async fn list_relations_page(
        &self,
        adm: &AdministratieCode,
        search: &str,
        page: u32,
        per_page: u32,
    ) -> Result<(Vec<Relation>, u64), StoreError> {
        relation::list_relations_page(self, adm, search, page, per_page).await
    }
}

impl InvoiceStore for SeaOrmStore {
    async fn put_invoice(
        &self,
        adm: &AdministratieCode,
        invoice: &Invoice,
    ) -> Result<(Put, Option<SyncState>), StoreError> {
        invoice::put_invoice(self, adm, invoice).await
    }

    async fn get_invoice(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<Option<(Invoice, Option<SyncState>)>, StoreError> {
        invoice::get_invoice(self, adm, id).await
    }

    async fn list_invoices(
        &self,
        adm: &AdministratieCode,
        filter: &koppeling_domain::ports::InvoiceFilter,
        page: u32,
    ) -> Result<Vec<(Invoice, Option<SyncState>)>, StoreError> {
        invoice::list_invoices(self, adm, filter, page).await
    }

    async fn retry_invoice(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<SyncState, StoreError> {
        invoice::retry_invoice(self, adm, id).await
    }

    async fn sync_log(
        &self,
        adm: &AdministratieCode,
        only_failed: bool,
        limit: u32,
    ) -> Result<Vec<AttemptLog>, StoreError> {
        invoice::sync_log(self, adm, only_failed, limit).await
    }

    async fn status_counts(&self, adm: &AdministratieCode) -> Result<StatusCounts, StoreError> {
        invoice::status_counts(self, adm).await
    }

    async fn invoice_sync_log(
        &self,
        adm: &AdministratieCode,
        invoice_id: &str,
        only_failed: bool,
        limit: u32,
    ) -> Result<Vec<AttemptLog>, StoreError> {
        invoice::sync_log_of(self, adm, Some(invoice_id), only_failed, limit).await
    }
}

impl QueueStore for SeaOrmStore {
    async fn claim_due(&self, request: ClaimRequest) -> Result<Vec<Claim>, StoreError> {
        queue::claim_due(self, &request).await
    }

    async fn load_job(&self, claim: &Claim) -> Result<Option<SyncJob>, StoreError> {
        queue::load_job(self, claim).await
    }

    async fn load_jobs(&self, claims: &[Claim]) -> Result<Vec<Option<SyncJob>>, StoreError> {
        queue::load_jobs(self, claims).await
    }

    async fn finish(
        &self,
        claim: &Claim,
        now: DateTime<Utc>,
        outcome: &Outcome,
        log_message: &str,
        notice: Option<NotificationItem>,
    ) -> Result<bool, StoreError> {
        queue::finish(self, claim, now, outcome, log_message, notice.as_ref()).await
    }

    async fn next_due_at(
        &self,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        queue::next_due_at(self, worker, now).await
    }

    async fn release_worker(&self, worker: &str) -> Result<(), StoreError> {
        lease::release_worker(self, worker).await
    }
}

impl NotificationStore for SeaOrmStore {
    async fn queue_notice(
        &self,
        adm: &AdministratieCode,
        item: &NotificationItem,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        notify::queue_notice(self, adm, item, now).await
    }

    async fn pending_notices(&self, limit: u32) -> Result<Vec<PendingNotice>, StoreError> {
        notify::pending_notices(self, limit).await
    }

    async fn notified_since(
        &self,
        adm: &AdministratieCode,
        dedupe_key: &str,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        notify::notified_since(self, adm, dedupe_key, since).await
    }

    async fn recipient(&self, adm: &AdministratieCode) -> Result<Recipient, StoreError> {
        notify::recipient(self, adm).await
    }

    async fn save_notification(
        &self,
        adm: &AdministratieCode,
        notice_ids: &[i64],
        notification: Option<(StoredNotification, Vec<String>)>,
    ) -> Result<Option<i64>, StoreError> {
        let notification = notification.as_ref().map(|(n, keys)| (n, keys.as_slice()));
        notify::save_notification(self, adm, notice_ids, notification).await
    }

    async fn unsent_notifications(
        &self,
        now: DateTime<Utc>,
        hold_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UnsentNotification>, StoreError> {
        notify::unsent_notifications(self, now, hold_until, limit).await
    }

    async fn mark_notification(
        &self,
        id: i64,
        at: DateTime<Utc>,
        failure: Option<SendFailure>,
    ) -> Result<(), StoreError> {
        notify::mark_notification(self, id, at, failure).await
    }

    async fn count_unsent_notifications(&self) -> Result<u64, StoreError> {
        notify::count_unsent_notifications(self).await
    }

    async fn notifications(
        &self,
        adm: &AdministratieCode,
        limit: u32,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        notify::notifications(self, adm, limit).await
    }
}

impl ReadbackStore for SeaOrmStore {
    async fn readback_state(
        &self,
        adm: &AdministratieCode,
    ) -> Result<koppeling_domain::readback::ReadbackState, StoreError> {
        readback::readback_state(self, adm).await
    }

    async fn booked_invoices(
        &self,
        adm: &AdministratieCode,
        booking_ids: &[String],
    ) -> Result<Vec<koppeling_domain::readback::BookedInvoice>, StoreError> {
        readback::booked_invoices(self, adm, booking_ids).await
    }

    async fn booked_ids(&self, adm: &AdministratieCode) -> Result<Vec<String>, StoreError> {
        readback::booked_ids(self, adm).await
    }

    async fn save_readback(
        &self,
        adm: &AdministratieCode,
        state: &koppeling_domain::readback::ReadbackState,
        updates: &[koppeling_domain::readback::ReadbackUpdate],
        events: &[koppeling_domain::readback::NewEvent],
        notices: &[NotificationItem],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        readback::save_readback(self, adm, state, updates, events, notices, now).await
    }

    async fn events(
        &self,
        adm: &AdministratieCode,
        after: u64,
        limit: u32,
    ) -> Result<Vec<koppeling_domain::readback::Event>, StoreError> {
        readback::events(self, adm, after, limit).await
    }

    async fn readback_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        not_since: DateTime<Utc>,
    ) -> Result<Vec<AdministratieCode>, StoreError> {
        readback::readback_due(self, worker, now, not_since).await
    }

    async fn events_to_push(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<
        Vec<(
            AdministratieCode,
            koppeling_domain::readback::PushState,
            Vec<koppeling_domain::readback::Event>,
        )>,
        StoreError,
    > {
        readback::events_to_push(self, now, limit).await
    }

    async fn save_push(
        &self,
        adm: &AdministratieCode,
        state: &koppeling_domain::readback::PushState,
    ) -> Result<(), StoreError> {
        readback::save_push(self, adm, state).await
    }

    async fn push_state(
        &self,
        adm: &AdministratieCode,
    ) -> Result<koppeling_domain::readback::PushState, StoreError> {
        readback::push_state(self, adm).await
    }

    async fn rebook(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        now: DateTime<Utc>,
    ) -> Result<SyncState, StoreError> {
        readback::rebook(self, adm, id, now).await
    }
}

impl ConnectStore for SeaOrmStore {
    async fn add_connect_reference(
        &self,
        adm: &AdministratieCode,
        ref_hash: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.add_reference(adm, ref_hash, expires_at).await
    }

    async fn apply_webhook(
        &self,
        ref_hash: &str,
        action: koppeling_domain::connect::ActionType,
        key: Option<ConnectionKey>,
        now: DateTime<Utc>,
    ) -> Result<koppeling_domain::connect::WebhookApplied, StoreError> {
        self.apply_webhook_tx(ref_hash, action, key.as_ref(), now)
            .await
    }

    async fn set_koppeling_problem(
        &self,
        adm: &AdministratieCode,
        problem: &koppeling_domain::pause::PauseReason,
        notice: &NotificationItem,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.set_problem_with_notice(adm, problem, notice, now)
            .await
    }

    async fn link_connected(&self, adm: &AdministratieCode) -> Result<bool, StoreError> {
        self.has_link(adm).await
    }
}

impl DocumentStore for SeaOrmStore {
    async fn put_document(
        &self,
        adm: &AdministratieCode,
        invoice_id: &ResourceId,
        kind: DocumentKind,
        filename: &str,
        content: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<(Put, Document), StoreError> {
        let put =
            document::put_document(self, adm, invoice_id, kind, filename, content, now).await?;
        self.wake();
        Ok(put)
    }

    async fn invoice_documents(
        &self,
        adm: &AdministratieCode,
        invoice_id: &ResourceId,
    ) -> Result<Vec<Document>, StoreError> {
        document::invoice_documents(self, adm, invoice_id).await
    }

    async fn document_content(
        &self,
        adm: &AdministratieCode,
        invoice_id: &ResourceId,
        kind: DocumentKind,
    ) -> Result<Option<(Document, Vec<u8>)>, StoreError> {
        document::document_content(self, adm, invoice_id, kind).await
    }

    async fn delete_document(
        &self,
        adm: &AdministratieCode,
        invoice_id: &ResourceId,
        kind: DocumentKind,
    ) -> Result<(), StoreError> {
        document::delete_document(self, adm, invoice_id, kind).await
    }

    async fn claim_documents(
        &self,
        worker: &str,
        limit: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<DocumentJob>, StoreError> {
        document::claim_documents(self, worker, limit, now, lease_until).await
    }

    async fn finish_document(
        &self,
        job: &DocumentJob,
        outcome: &DocumentOutcome,
        notice: Option<NotificationItem>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        document::finish_document(self, job, outcome, notice, now).await
    }

    async fn retry_documents(
        &self,
        adm: &AdministratieCode,
        invoice_id: &ResourceId,
    ) -> Result<u64, StoreError> {
        let n = document::retry_documents(self, adm, invoice_id, db::now()).await?;
        if n > 0 {
            self.wake();
        }
        Ok(n)
    }

    async fn documents_missing_scope(
        &self,
        adm: &AdministratieCode,
    ) -> Result<Option<String>, StoreError> {
        document::documents_missing_scope(self, adm).await
    }
}
