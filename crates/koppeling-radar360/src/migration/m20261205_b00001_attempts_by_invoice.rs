//! The attempt log of one invoice is read in SQL (issue 13): an index on
//! (`adm`, `invoice_id`, `id`) so the read touches only that invoice's rows, newest first.

use sea_orm_migration::prelude::*;

use super::run_script;

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_b00001_attempts_by_invoice"
    }
}

const UP: &str = r"
CREATE INDEX sync_attempts_adm_invoice ON sync_attempts (adm, invoice_id, id);
";

const DOWN: &str = r"
DROP INDEX sync_attempts_adm_invoice;
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
