//! Notification delivery: a mail is retried until it is sent (no longer given up after ten
//! failed sends), and the dedupe counts mails by the time they were sent.
//!
//! The columns (`sent_at`, `send_attempts`, `last_error`, `next_send_at`) exist since the
//! initial schema; this migration adds the index the dedupe reads by (`adm`, `sent_at`),
//! and makes the mails that the old limit gave up due again, so that none is lost.

use sea_orm_migration::prelude::*;

use super::run_script;

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000002_notification_delivery"
    }
}

const UP: &str = r"
CREATE INDEX notifications_adm_sent ON notifications (adm, sent_at);
UPDATE notifications SET next_send_at = NULL
    WHERE sent_at IS NULL AND to_email <> '' AND send_attempts >= 10;
";

// The mails made due again stay due: there is nothing to undo but the index.
const DOWN: &str = r"
DROP INDEX notifications_adm_sent;
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
