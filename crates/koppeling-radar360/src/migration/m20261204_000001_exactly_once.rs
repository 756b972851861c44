//! The exactly-once invariants the schema can hold on its own (docs/architecture.md,
//! "Invariants"): a final invoice's number is unique within its administratie, and a
//! SnelStart booking id belongs to at most one invoice of an administratie.
//!
//! A database that already breaks either (two final invoices sharing a number, written
//! before this rule) stops the migration with the index's name; resolve the duplicates (make
//! one a draft or renumber it) and migrate again. Nothing is changed silently.

use super::Script;

pub(super) const MIGRATION: Script = Script {
    name: "m20261204_000001_exactly_once",
    up: UP,
    down: DOWN,
};

const UP: &str = r"
CREATE UNIQUE INDEX invoices_final_number ON invoices (adm, number) WHERE status = 'final';
CREATE UNIQUE INDEX invoices_snelstart_id ON invoices (adm, snelstart_id) WHERE snelstart_id IS NOT NULL;
";

const DOWN: &str = r"
DROP INDEX invoices_snelstart_id;
DROP INDEX invoices_final_number;
";
