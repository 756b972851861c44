//! The attempt log of one invoice is read in SQL (issue 13): an index on
//! (`adm`, `invoice_id`, `id`) so the read touches only that invoice's rows, newest first.

use super::Script;

pub(super) const MIGRATION: Script = Script {
    name: "m20261205_b00001_attempts_by_invoice",
    up: UP,
    down: DOWN,
};

const UP: &str = r"
CREATE INDEX sync_attempts_adm_invoice ON sync_attempts (adm, invoice_id, id);
";

const DOWN: &str = r"
DROP INDEX sync_attempts_adm_invoice;
";
