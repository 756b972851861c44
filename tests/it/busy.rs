//! A busy database (another process holds the write lock) answers 503 `busy` with
//! `Retry-After`, writes nothing, and the same request succeeds once the lock is released.

use std::time::{Duration, Instant};

use sea_orm::sqlx::{self, Connection, Executor};
use serde_json::json;

use crate::helpers::{Db, TestApp, spawn_app};

/// Another connection to the application's database holding the write lock in an open
/// transaction: `BEGIN IMMEDIATE` on SQLite, `LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE`
/// on PostgreSQL.
enum Holder {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Holder {
    async fn take(app: &TestApp, db: Db) -> Self {
        match db {
            Db::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(app.database_url())
                    .await
                    .unwrap();
                conn.execute("BEGIN IMMEDIATE").await.unwrap();
                Self::Sqlite(conn)
            }
            Db::Postgres => {
                let mut conn = sqlx::PgConnection::connect(app.database_url())
                    .await
                    .unwrap();
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

async fn a_locked_database_answers_503_and_writes_nothing(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let adm = "kantoor";
    app.setup_administratie(adm).await;
    app.add_relation(adm, "r1", "1001", true).await;
    let path = format!("/administraties/{adm}/invoices/f1");
    let body = json!({"number": "2026-001", "relation_id": "r1", "date": "2026-11-02",
                      "payment_term_days": 14, "status": "final",
                      "lines": [{"description": "Advies", "quantity": "1", "unit_price": "100.00", "vat": "high"}]});

    let holder = Holder::take(&app, db).await;
    let started = Instant::now();
    let res = tokio::time::timeout(
        Duration::from_secs(30),
        app.client
            .put(app.url(&path))
            .bearer_auth(crate::helpers::TOKEN)
            .json(&body)
            .send(),
    )
    .await
    .expect("a busy database must answer, not hang")
    .unwrap();
    let waited = started.elapsed();
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let answer: serde_json::Value = res.json().await.unwrap_or_default();
    holder.release().await;

    assert_eq!(status, 503, "{answer} after {waited:?}");
    let retry_after: u64 = retry_after
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(answer["error"], "busy", "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("nothing was written"),
        "{answer}"
    );

    // Nothing was written, and the same PUT now goes through.
    let (status, answer) = app.get(&path).await;
    assert_eq!(status, 404, "{answer}");
    let (status, answer) = app.put(&path, body).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["number"], "2026-001");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_locked_database_answers_503_and_writes_nothing() {
    a_locked_database_answers_503_and_writes_nothing(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_locked_database_answers_503_and_writes_nothing() {
    a_locked_database_answers_503_and_writes_nothing(Db::Postgres).await;
}
