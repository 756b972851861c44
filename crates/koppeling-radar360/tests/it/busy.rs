//! A busy database: a lock held by another connection ends in `StoreError::Busy` after the
//! engine's lock wait (SQLite `busy_timeout`, PostgreSQL `lock_timeout`, both 5 s) instead
//! of an opaque error or a hang, and the failing transaction rolls back as a whole.

use std::time::{Duration, Instant};

use koppeling_domain::invoice::InvoiceStatus;
use koppeling_domain::ports::roles::*;
use koppeling_domain::ports::{Administratie, Put, StoreError, SyncStatus};
use koppeling_domain::relation::RelatieCode;
use koppeling_radar360::SeaOrmStore;
use sea_orm::sqlx::{self, Connection, Executor};
use sea_orm::{ConnectOptions, Database, TransactionTrait};

use crate::helpers::{Engine, Harness, MASTER_KEY, adm, administratie, invoice, relation, rid};

/// Another connection (as another process would have) holding the write lock: on SQLite
/// `BEGIN IMMEDIATE`, on PostgreSQL `LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE`, both in
/// an open transaction.
enum Holder {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Holder {
    async fn take(h: &Harness) -> Self {
        match h.engine {
            Engine::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&h.url).await.unwrap();
                conn.execute("BEGIN IMMEDIATE").await.unwrap();
                Self::Sqlite(conn)
            }
            Engine::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&h.url).await.unwrap();
                conn.execute("BEGIN").await.unwrap();
                conn.execute("LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE")
                    .await
                    .unwrap();
                Self::Postgres(conn)
            }
        }
    }

    async fn release(self) {
        match self {
            Self::Sqlite(mut conn) => {
                conn.execute("ROLLBACK").await.unwrap();
                conn.close().await.unwrap();
            }
            Self::Postgres(mut conn) => {
                conn.execute("ROLLBACK").await.unwrap();
                conn.close().await.unwrap();
            }
        }
    }
}

/// Awaits `call`, which must fail with `Busy` after waiting for the lock (not at once, and
/// not for ever); returns the message.
async fn expect_busy<T: std::fmt::Debug>(
    call: impl Future<Output = Result<T, StoreError>>,
) -> String {
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .expect("the lock wait must end (busy_timeout / lock_timeout), not hang");
    let waited = started.elapsed();
    match outcome {
        Err(StoreError::Busy(message)) => {
            assert!(
                waited >= Duration::from_secs(3),
                "busy after {waited:?}: the store must wait for the lock first ({message})"
            );
            message
        }
        other => panic!("expected StoreError::Busy, got {other:?}"),
    }
}

/// An administratie with relation `r1` (code 1), ticked or not.
async fn setup(s: &SeaOrmStore, ticked: bool) -> koppeling_domain::ids::AdministratieCode {
    let a = administratie(s, "a").await;
    s.put_relation(&a, &relation("r1", "1")).await.unwrap();
    if ticked {
        s.set_relation_snelstart(&a, &rid("r1"), RelatieCode::from_i32(1))
            .await
            .unwrap();
    }
    a
}

pub async fn a_held_write_lock_is_busy_and_nothing_is_written(h: Harness) {
    let s = &h.store;
    let a = setup(s, true).await;
    let holder = Holder::take(&h).await;

    let message = expect_busy(s.put_invoice(&a, &invoice("i1", "r1", InvoiceStatus::Final))).await;
    assert!(message.contains("lock"), "{message}");

    holder.release().await;
    assert!(s.get_invoice(&a, &rid("i1")).await.unwrap().is_none());
    let (put, state) = s
        .put_invoice(&a, &invoice("i1", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    assert_eq!(put, Put::Created);
    assert_eq!(state.map(|st| st.status), Some(SyncStatus::Queued));
}

/// The tick writes the relation, then queues its invoices: on PostgreSQL the relation's
/// row is written before the wait for `invoices` times out, and must not survive it.
pub async fn a_busy_tick_rolls_back_as_a_whole(h: Harness) {
    let s = &h.store;
    let a = setup(s, false).await;
    s.put_invoice(&a, &invoice("i1", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    let holder = Holder::take(&h).await;

    expect_busy(s.set_relation_snelstart(&a, &rid("r1"), RelatieCode::from_i32(1))).await;

    holder.release().await;
    let r1 = s.get_relation(&a, &rid("r1")).await.unwrap().unwrap();
    assert!(
        !r1.snelstart_enabled,
        "the tick survived its failed transaction"
    );
    let (_, state) = s.get_invoice(&a, &rid("i1")).await.unwrap().unwrap();
    assert_eq!(state, None);
    // The same call now goes through, whole.
    let r1 = s
        .set_relation_snelstart(&a, &rid("r1"), RelatieCode::from_i32(1))
        .await
        .unwrap();
    assert!(r1.snelstart_enabled);
    let (_, state) = s.get_invoice(&a, &rid("i1")).await.unwrap().unwrap();
    assert_eq!(state.map(|st| st.status), Some(SyncStatus::Queued));
}

/// No pooled connection free within the acquire timeout is busy too.
pub async fn an_exhausted_pool_is_busy(h: Harness) {
    administratie(&h.store, "a").await;
    let mut opts = ConnectOptions::new(h.url.clone());
    opts.sqlx_logging(false)
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(Duration::from_millis(300));
    let conn = Database::connect(opts).await.unwrap();
    let store = SeaOrmStore::from_connection(conn.clone(), MASTER_KEY);
    let tx = conn.begin().await.unwrap();

    match store.get_administratie(&adm("a")).await {
        Err(StoreError::Busy(message)) => assert!(message.contains("pool"), "{message}"),
        other => panic!("expected StoreError::Busy, got {other:?}"),
    }

    drop(tx);
    let found = store.get_administratie(&adm("a")).await.unwrap();
    assert_eq!(found.map(|x| x.name), Some("Kantoor a".to_owned()));
}

/// PostgreSQL: serialization failures, deadlocks and lock timeouts are busy, other errors
/// are not. The SQLSTATEs are raised by a trigger, so they arrive exactly as the server
/// sends them; the lock timeout is also provoked for real above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_busy_sqlstates_are_busy() {
    crate::helpers::run(Engine::Postgres, |h| {
        Box::pin(async move {
            let mut conn = sqlx::PgConnection::connect(&h.url).await.unwrap();
            conn.execute(
                "CREATE FUNCTION fail_as() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'provoked %', NEW.name USING ERRCODE = NEW.name; END $$",
            )
            .await
            .unwrap();
            conn.execute(
                "CREATE TRIGGER fail_as BEFORE INSERT ON administraties \
                 FOR EACH ROW EXECUTE FUNCTION fail_as()",
            )
            .await
            .unwrap();
            conn.close().await.unwrap();
            let put = |sqlstate: &str| Administratie {
                code: adm("a"),
                name: sqlstate.to_owned(),
            };
            for sqlstate in ["40001", "40P01", "55P03"] {
                match h.store.put_administratie(&put(sqlstate)).await {
                    Err(StoreError::Busy(message)) => {
                        assert!(message.contains("provoked"), "{message}");
                    }
                    other => panic!("{sqlstate}: expected StoreError::Busy, got {other:?}"),
                }
            }
            for sqlstate in ["P0001", "23514", "57014"] {
                match h.store.put_administratie(&put(sqlstate)).await {
                    Err(StoreError::Other(_)) => {}
                    other => panic!("{sqlstate}: expected StoreError::Other, got {other:?}"),
                }
            }
        })
    })
    .await;
}
