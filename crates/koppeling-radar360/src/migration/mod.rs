//! The schema: sea-orm-migration's [`Migrator`], recorded in the `seaql_migrations` table.
//!
//! Each migration is one SQL text that serves both engines; only the column types that
//! truly differ are spelled per engine (see [`sql_for`]).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

mod m20260501_000001_initial;
mod m20261202_000001_administratie_leases;
mod m20261204_000001_exactly_once;
mod m20261204_000002_notification_delivery;
// issue 13 (helper b)
mod m20261205_b00001_attempts_by_invoice;
mod m20261205_e00001_readback;

mod m20261205_a00001_sessions;

mod m20261205_d00001_connect_references;
// issue 14: typed pause reasons
mod m20261205_f00001_pause_reasons;
// issue 19: documents
mod m20261205_f00001_documents;
// issue 17: write cost
mod m20261206_000001_unused_invoice_indexes;

/// Runs the migrations in order (`koppeling migrate`, and `serve` at start-up).
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260501_000001_initial::MIGRATION),
            Box::new(m20261202_000001_administratie_leases::MIGRATION),
            Box::new(m20261204_000001_exactly_once::MIGRATION),
            Box::new(m20261204_000002_notification_delivery::MIGRATION),
            // issue 13: log-in and sessions
            Box::new(m20261205_a00001_sessions::MIGRATION),
            // issue 13 (helper b)
            Box::new(m20261205_b00001_attempts_by_invoice::MIGRATION),
            Box::new(m20261205_e00001_readback::MIGRATION),
            Box::new(m20261205_d00001_connect_references::MIGRATION),
            Box::new(m20261205_f00001_pause_reasons::Migration),
            Box::new(m20261205_f00001_documents::Migration),
            Box::new(m20261206_000001_unused_invoice_indexes::MIGRATION),
        ]
    }
}

/// Replaces the type tokens of a schema text for `backend`:
/// `{TS}` a UTC timestamp, `{DATE}` a calendar date, `{SERIAL}` an auto-increment
/// `BIGINT` primary key, `{BLOB}` bytes. Booleans are `BOOLEAN` and integers `BIGINT` on both engines.
fn sql_for(backend: DbBackend, text: &str) -> String {
    let (ts, date, serial, blob) = match backend {
        DbBackend::Postgres => ("TIMESTAMPTZ", "DATE", "BIGSERIAL PRIMARY KEY", "BYTEA"),
        // TEXT in a fixed-width RFC 3339 form (see `store::db`), so that text order is
        // time order; INTEGER PRIMARY KEY is SQLite's rowid alias.
        _ => ("TEXT", "TEXT", "INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB"),
    };
    text.replace("{TS}", ts)
        .replace("{DATE}", date)
        .replace("{SERIAL}", serial)
        .replace("{BLOB}", blob)
}

/// One migration: its name (as recorded in `seaql_migrations`: never change it) and its
/// two SQL scripts, run by [`run_script`]. Every migration of this crate is one of these.
pub(super) struct Script {
    name: &'static str,
    up: &'static str,
    down: &'static str,
}

impl MigrationName for Script {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Script {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, self.up).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, self.down).await
    }
}

/// Runs every `;`-separated statement of `text` (after [`sql_for`]).
async fn run_script(manager: &SchemaManager<'_>, text: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let sql = sql_for(db.get_database_backend(), text);
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}
