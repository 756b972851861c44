//! Log-in state shared by every process (issue 13): the UI sessions (only the SHA-256 of
//! a session id is stored), the failed log-ins per account and per client address, and
//! the log-in form tokens already used (so that a replay is refused).

use super::Script;

pub(super) const MIGRATION: Script = Script {
    name: "m20261205_a00001_sessions",
    up: UP,
    down: DOWN,
};

const UP: &str = r"
CREATE TABLE ui_sessions (
    id_hash TEXT PRIMARY KEY,
    adm TEXT NOT NULL,
    admin_id TEXT NOT NULL,
    created_at {TS} NOT NULL,
    last_seen {TS} NOT NULL
);
CREATE INDEX ui_sessions_admin ON ui_sessions (adm, admin_id);
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start {TS} NOT NULL,
    locked_until {TS},
    lockouts BIGINT NOT NULL,
    last_failure {TS} NOT NULL
);
CREATE TABLE login_tokens_used (
    token_hash TEXT PRIMARY KEY,
    expires_at {TS} NOT NULL
);
CREATE INDEX login_tokens_used_expires ON login_tokens_used (expires_at);
";

const DOWN: &str = r"
DROP TABLE login_tokens_used;
DROP TABLE login_throttle;
DROP TABLE ui_sessions;
";
