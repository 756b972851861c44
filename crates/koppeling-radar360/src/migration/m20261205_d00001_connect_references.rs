//! The activation link (product.md §8.1): reference keys, stored only as their SHA-256,
//! each bound to one administratie. `status` is `pending` (until `expires_at`), `connected`
//! (the administratie's link connection) or `void` (replaced, or ended by a pasted key).

use sea_orm_migration::prelude::*;

use super::run_script;

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_d00001_connect_references"
    }
}

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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, DOWN).await
    }
}
