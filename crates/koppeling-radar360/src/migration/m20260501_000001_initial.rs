//! The initial schema: administraties, Beheerders, relations, invoices with their sync
//! state, the sync log, relatie links, koppelingen, notices and notifications.

use super::Script;

pub(super) const MIGRATION: Script = Script {
    name: "m20260501_000001_initial",
    up: UP,
    down: DOWN,
};

const UP: &str = r"
CREATE TABLE administraties (
    code        TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  {TS} NOT NULL,
    updated_at  {TS} NOT NULL
);

CREATE TABLE admins (
    adm            TEXT NOT NULL REFERENCES administraties (code),
    id             TEXT NOT NULL,
    name           TEXT NOT NULL,
    email          TEXT NOT NULL,
    email_lower    TEXT NOT NULL,
    password_hash  TEXT NULL,
    created_at     {TS} NOT NULL,
    updated_at     {TS} NOT NULL,
    PRIMARY KEY (adm, id)
);
CREATE UNIQUE INDEX admins_email_lower ON admins (email_lower);

CREATE TABLE relations (
    adm                TEXT NOT NULL REFERENCES administraties (code),
    id                 TEXT NOT NULL,
    code               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    name               TEXT NOT NULL,
    address            TEXT NULL,
    email              TEXT NULL,
    phone              TEXT NULL,
    vat_number         TEXT NULL,
    coc_number         TEXT NULL,
    iban               TEXT NULL,
    snelstart_enabled  BOOLEAN NOT NULL DEFAULT FALSE,
    relatiecode        BIGINT NULL,
    created_at         {TS} NOT NULL,
    updated_at         {TS} NOT NULL,
    PRIMARY KEY (adm, id)
);
CREATE UNIQUE INDEX relations_relatiecode ON relations (adm, relatiecode);
CREATE INDEX relations_code ON relations (adm, code);

CREATE TABLE invoices (
    adm                TEXT NOT NULL,
    id                 TEXT NOT NULL,
    number             TEXT NOT NULL,
    relation_id        TEXT NOT NULL,
    date               {DATE} NOT NULL,
    payment_term_days  BIGINT NOT NULL,
    status             TEXT NOT NULL,
    description        TEXT NULL,
    lines              TEXT NOT NULL,
    created_at         {TS} NOT NULL,
    updated_at         {TS} NOT NULL,
    sync_status        TEXT NULL,
    snelstart_id       TEXT NULL,
    sync_error         TEXT NULL,
    sync_hint          TEXT NULL,
    error_class        TEXT NULL,
    snelstart_code     TEXT NULL,
    attempts           BIGINT NOT NULL DEFAULT 0,
    next_attempt_at    {TS} NULL,
    needs_lookup       BOOLEAN NOT NULL DEFAULT FALSE,
    failing_since      {TS} NULL,
    lease_owner        TEXT NULL,
    lease_until        {TS} NULL,
    due_at             {TS} NULL,
    sync_updated_at    {TS} NULL,
    PRIMARY KEY (adm, id),
    FOREIGN KEY (adm, relation_id) REFERENCES relations (adm, id)
);
CREATE INDEX invoices_adm_status ON invoices (adm, sync_status);
CREATE INDEX invoices_status_next ON invoices (sync_status, next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX invoices_lease_until ON invoices (lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX invoices_list ON invoices (adm, date, id);
CREATE INDEX invoices_relation ON invoices (adm, relation_id);
CREATE INDEX invoices_due ON invoices (adm, due_at) WHERE sync_status IN ('queued', 'in_progress');

CREATE TABLE sync_attempts (
    id              {SERIAL},
    adm             TEXT NOT NULL,
    invoice_id      TEXT NOT NULL,
    attempt         BIGINT NOT NULL,
    at              {TS} NOT NULL,
    outcome         TEXT NOT NULL,
    error_class     TEXT NULL,
    snelstart_code  TEXT NULL,
    message         TEXT NOT NULL
);
CREATE INDEX sync_attempts_adm ON sync_attempts (adm, id);

CREATE TABLE relatie_links (
    adm           TEXT NOT NULL,
    relation_id   TEXT NOT NULL,
    snelstart_id  TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    updated_at    {TS} NOT NULL,
    PRIMARY KEY (adm, relation_id),
    FOREIGN KEY (adm, relation_id) REFERENCES relations (adm, id)
);

CREATE TABLE koppelingen (
    adm                      TEXT NOT NULL PRIMARY KEY REFERENCES administraties (code),
    vat_high                 BIGINT NOT NULL,
    vat_low                  BIGINT NOT NULL,
    vat_zero                 BIGINT NOT NULL,
    sales_journal_code       BIGINT NOT NULL,
    notify_admin_id          TEXT NULL,
    start_date               {DATE} NULL,
    ledger_high              BIGINT NULL,
    ledger_low               BIGINT NULL,
    ledger_zero              BIGINT NULL,
    key_enc                  TEXT NULL,
    active                   BOOLEAN NOT NULL DEFAULT FALSE,
    paused                   BOOLEAN NOT NULL DEFAULT FALSE,
    problem                  TEXT NULL,
    paused_for_subscription  BOOLEAN NOT NULL DEFAULT FALSE,
    last_sync_at             {TS} NULL,
    created_at               {TS} NOT NULL,
    updated_at               {TS} NOT NULL
);

CREATE TABLE notices (
    id          {SERIAL},
    adm         TEXT NOT NULL,
    item        TEXT NOT NULL,
    dedupe_key  TEXT NOT NULL,
    at          {TS} NOT NULL,
    consumed    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX notices_pending ON notices (consumed, id);

CREATE TABLE notifications (
    id             {SERIAL},
    adm            TEXT NOT NULL,
    at             {TS} NOT NULL,
    to_email       TEXT NOT NULL,
    to_name        TEXT NOT NULL,
    subject        TEXT NOT NULL,
    body           TEXT NOT NULL,
    items          TEXT NOT NULL,
    dedupe_keys    TEXT NOT NULL,
    sent_at        {TS} NULL,
    send_attempts  BIGINT NOT NULL DEFAULT 0,
    last_error     TEXT NULL,
    next_send_at   {TS} NULL
);
CREATE INDEX notifications_adm_at ON notifications (adm, at);
CREATE INDEX notifications_unsent ON notifications (sent_at, id);
";

const DOWN: &str = r"
DROP TABLE notifications;
DROP TABLE notices;
DROP TABLE koppelingen;
DROP TABLE relatie_links;
DROP TABLE sync_attempts;
DROP TABLE invoices;
DROP TABLE relations;
DROP TABLE admins;
DROP TABLE administraties;
";
