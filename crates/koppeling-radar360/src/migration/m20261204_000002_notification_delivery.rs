//! Notification delivery: a mail is retried until it is sent (no longer given up after ten
//! failed sends), and the dedupe counts mails by the time they were sent.
//!
//! The columns (`sent_at`, `send_attempts`, `last_error`, `next_send_at`) exist since the
//! initial schema; this migration adds the index the dedupe reads by (`adm`, `sent_at`),
//! and makes the mails that the old limit gave up due again, so that none is lost.

use super::Script;

pub(super) const MIGRATION: Script = Script {
    name: "m20261204_000002_notification_delivery",
    up: UP,
    down: DOWN,
};

const UP: &str = r"
CREATE INDEX notifications_adm_sent ON notifications (adm, sent_at);
UPDATE notifications SET next_send_at = NULL
    WHERE sent_at IS NULL AND to_email <> '' AND send_attempts >= 10;
";

const DOWN: &str = r"
DROP INDEX notifications_adm_sent;
";
