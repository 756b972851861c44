//! The read-back (product §8.2): each invoice's payment and drift as last seen in SnelStart,
//! where the read-back of each administratie stands, and the events for Radar360 (an outbox
//! written in the same transaction as the change it reports; ids gapless per administratie,
//! handed out under a lock on `event_seq`).

use super::Script;

pub(super) const MIGRATION: Script = Script {
    name: "m20261205_e00001_readback",
    up: UP,
    down: DOWN,
};

const UP: &str = r"
ALTER TABLE invoices ADD COLUMN payment TEXT NULL;
ALTER TABLE invoices ADD COLUMN payment_status TEXT NULL;
ALTER TABLE invoices ADD COLUMN drift TEXT NULL;
ALTER TABLE invoices ADD COLUMN drift_kind TEXT NULL;
CREATE INDEX invoices_payment ON invoices (adm, payment_status) WHERE payment_status IS NOT NULL;
CREATE INDEX invoices_drift ON invoices (adm, drift_kind) WHERE drift_kind IS NOT NULL;
CREATE TABLE readback_state (
    adm                     TEXT NOT NULL PRIMARY KEY,
    cursor                  TEXT NOT NULL,
    payments_since          TEXT NULL,
    payments_missing_scope  TEXT NULL,
    last_full_scan_at       {TS} NULL,
    last_run_at             {TS} NULL,
    hour_start              {TS} NULL,
    hour_calls              BIGINT NOT NULL DEFAULT 0,
    event_seq               BIGINT NOT NULL DEFAULT 0,
    pushed_up_to            BIGINT NOT NULL DEFAULT 0,
    push_failing_since      {TS} NULL,
    push_last_error         TEXT NULL,
    push_next_at            {TS} NULL,
    push_event_failing_since {TS} NULL
);
CREATE TABLE events (
    adm         TEXT NOT NULL,
    id          BIGINT NOT NULL,
    type        TEXT NOT NULL,
    at          {TS} NOT NULL,
    invoice_id  TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (adm, id)
)
";

const DOWN: &str = r"
DROP TABLE events;
DROP TABLE readback_state;
DROP INDEX invoices_drift;
DROP INDEX invoices_payment;
ALTER TABLE invoices DROP COLUMN drift_kind;
ALTER TABLE invoices DROP COLUMN drift;
ALTER TABLE invoices DROP COLUMN payment_status;
ALTER TABLE invoices DROP COLUMN payment
";
