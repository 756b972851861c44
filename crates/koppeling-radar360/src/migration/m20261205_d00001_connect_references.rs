//! The activation link (product.md §8.1): reference keys, stored only as their SHA-256,
//! each bound to one administratie. `status` is `pending` (until `expires_at`), `connected`
//! (the administratie's link connection) or `void` (replaced, or ended by a pasted key).

use super::Script;

pub(super) const MIGRATION: Script = Script {
    name: "m20261205_d00001_connect_references",
    up: UP,
    down: DOWN,
};

const UP: &str = r"
CREATE TABLE connect_references (
    ref_hash TEXT PRIMARY KEY,
    adm TEXT NOT NULL REFERENCES administraties (code) ON DELETE CASCADE,
    status TEXT NOT NULL,
    expires_at {TS} NOT NULL,
    created_at {TS} NOT NULL,
    updated_at {TS} NOT NULL
);
CREATE INDEX connect_references_adm ON connect_references (adm, status);
";

const DOWN: &str = r"
DROP TABLE connect_references;
";
