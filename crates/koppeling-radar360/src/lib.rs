//! The `Store` adapter: Radar360's data and the sync queue on sea-orm (SQLite or PostgreSQL).
//!
//! [`SeaOrmStore`] implements [`koppeling_domain::ports::Store`]. Every row is keyed by
//! (administratie, id) and no query crosses administraties; koppelsleutels are encrypted at
//! rest with AES-256-GCM ([`cipher`]); the schema lives in [`migration`] and is the same on
//! both engines. The one engine-specific query is the claim (`store/queue.rs`):
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL, one `BEGIN IMMEDIATE` transaction on SQLite.

pub mod cipher;
pub mod migration;
mod store;

pub use migration::Migrator;
pub use store::StoredReference;
pub use store::{SeaOrmStore, WORK_CHANNEL};
// issue 13 (secrets)
pub use store::RotateReport;
