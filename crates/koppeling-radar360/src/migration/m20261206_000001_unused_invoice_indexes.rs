//! Drops two invoice indexes no query uses any more (issue 17, write cost): every claim
//! and due-time probe goes by the partial index `invoices_due (adm, due_at)` since the
//! second performance round, so `invoices_status_next` and `invoices_lease_until` were
//! only maintained, by every claim (which sets `lease_until`) and every outcome (which
//! clears it, or sets `next_attempt_at`).

use super::Script;

pub(super) const MIGRATION: Script = Script {
    name: "m20261206_000001_unused_invoice_indexes",
    up: UP,
    down: DOWN,
};

const UP: &str = r"
DROP INDEX IF EXISTS invoices_status_next;
DROP INDEX IF EXISTS invoices_lease_until
";

const DOWN: &str = r"
CREATE INDEX invoices_status_next ON invoices (sync_status, next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX invoices_lease_until ON invoices (lease_until) WHERE lease_until IS NOT NULL
";
