//! Administratie leases: which worker process serves an administratie (`koppelingen`
//! `worker_owner` until `worker_until`), and the workers seen recently (`sync_workers`),
//! from which each worker's fair share of the administraties follows.

use super::Script;

pub(super) const MIGRATION: Script = Script {
    name: "m20261202_000001_administratie_leases",
    up: UP,
    down: DOWN,
};

const UP: &str = r"
ALTER TABLE koppelingen ADD COLUMN worker_owner TEXT NULL;
ALTER TABLE koppelingen ADD COLUMN worker_until {TS} NULL;
CREATE TABLE sync_workers (
    worker   TEXT NOT NULL PRIMARY KEY,
    seen_at  {TS} NOT NULL
);
";

const DOWN: &str = r"
DROP TABLE sync_workers;
ALTER TABLE koppelingen DROP COLUMN worker_until;
ALTER TABLE koppelingen DROP COLUMN worker_owner;
";
