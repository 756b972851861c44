//! The invoice document on the booking (product §8.4): one row of metadata per (invoice,
//! kind) with its upload state and claim, the bytes in a table of their own (so no invoice
//! or document listing ever reads them), and per administratie whether documents are off
//! because the key lacks `documenten:write`.

use sea_orm_migration::prelude::*;

use super::run_script;

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_f00001_documents"
    }
}

const UP: &str = r"
CREATE TABLE documents (
    adm             TEXT NOT NULL,
    invoice_id      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    filename        TEXT NOT NULL,
    size            BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    status          TEXT NOT NULL,
    snelstart_id    TEXT NULL,
    error           TEXT NULL,
    hint            TEXT NULL,
    snelstart_code  TEXT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    needs_lookup    BOOLEAN NOT NULL DEFAULT FALSE,
    next_attempt_at {TS} NOT NULL,
    lease_owner     TEXT NULL,
    lease_until     {TS} NULL,
    updated_at      {TS} NOT NULL,
    PRIMARY KEY (adm, invoice_id, kind),
    FOREIGN KEY (adm, invoice_id) REFERENCES invoices (adm, id)
);
CREATE INDEX documents_waiting ON documents (status, next_attempt_at);
CREATE TABLE document_contents (
    adm         TEXT NOT NULL,
    invoice_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    content     {BLOB} NOT NULL,
    PRIMARY KEY (adm, invoice_id, kind),
    FOREIGN KEY (adm, invoice_id, kind) REFERENCES documents (adm, invoice_id, kind)
);
CREATE TABLE document_features (
    adm            TEXT NOT NULL PRIMARY KEY,
    missing_scope  TEXT NOT NULL,
    recheck_at     {TS} NOT NULL
)
";

const DOWN: &str = r"
DROP TABLE document_features;
DROP TABLE document_contents;
DROP TABLE documents
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, DOWN).await
    }
}
