//! Invoices with their sync state (on the invoice row), the sync log and the counts.
//!
//! The queueing rules of `put_invoice` are decided in Rust ([`next_sync`]) from the row
//! read under lock, and written back in the same transaction.

use anyhow::anyhow;
use chrono::{DateTime, NaiveDate, Utc};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use koppeling_domain::ports::Missing;
use koppeling_domain::ports::{
    AttemptLog, ErrorClass, InvoiceFilter, Put, StatusCounts, StoreError, SyncState, SyncStatus,
};
use sea_orm::{ConnectionTrait, QueryResult};

use super::SeaOrmStore;
use super::db::{self, R, b, col, col_bool, col_id, col_json, col_u32, i, other, s, so};
use super::writes::{Answer, Write};

/// The invoice columns read everywhere.
pub(super) const COLUMNS: &str = "id, number, relation_id, date, payment_term_days, status, \
    description, lines, sync_status, snelstart_id, sync_error, sync_hint, error_class, \
    snelstart_code, attempts, next_attempt_at, needs_lookup, failing_since, lease_owner, \
    lease_until, due_at, sync_updated_at, updated_at, payment, drift";

/// The sync columns of an invoice row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyncCols {
    pub(super) status: Option<SyncStatus>,
    pub(super) snelstart_id: Option<String>,
    pub(super) error: Option<String>,
    pub(super) hint: Option<String>,
    pub(super) error_class: Option<String>,
    pub(super) snelstart_code: Option<String>,
    pub(super) attempts: i64,
    pub(super) next_attempt_at: Option<DateTime<Utc>>,
    pub(super) needs_lookup: bool,
    pub(super) failing_since: Option<DateTime<Utc>>,
    pub(super) lease_owner: Option<String>,
    pub(super) lease_until: Option<DateTime<Utc>>,
    pub(super) due_at: Option<DateTime<Utc>>,
    pub(super) updated_at: Option<DateTime<Utc>>,
    /// The read-back's payment (JSON), read only.
    pub(super) payment: Option<String>,
    /// The read-back's drift (JSON), read only.
    pub(super) drift: Option<String>,
}

impl SyncCols {
    fn empty() -> Self {
        Self {
            status: None,
            snelstart_id: None,
            error: None,
            hint: None,
            error_class: None,
            snelstart_code: None,
            attempts: 0,
            next_attempt_at: None,
            needs_lookup: false,
            failing_since: None,
            lease_owner: None,
            lease_until: None,
            due_at: None,
            updated_at: None,
            payment: None,
            drift: None,
        }
    }

    /// Queued again now, without a back-off; attempts and the lookup flag are kept.
    fn requeued(&self, now: DateTime<Utc>) -> Self {
        Self {
            status: Some(SyncStatus::Queued),
            error: None,
            hint: None,
            error_class: None,
            snelstart_code: None,
            next_attempt_at: None,
            failing_since: None,
            lease_owner: None,
            lease_until: None,
            due_at: Some(now),
            updated_at: Some(now),
            ..self.clone()
        }
    }

    /// No sync state (a draft, or the relation not ticked); attempts are kept.
    fn cleared(&self, now: DateTime<Utc>) -> Self {
        Self {
            status: None,
            error: None,
            hint: None,
            error_class: None,
            snelstart_code: None,
            next_attempt_at: None,
            failing_since: None,
            lease_owner: None,
            lease_until: None,
            due_at: None,
            updated_at: Some(now),
            ..self.clone()
        }
    }

    /// The API's view, `None` when not queued.
    pub(super) fn state(&self, row_updated_at: DateTime<Utc>) -> R<Option<SyncState>> {
        let Some(status) = self.status else {
            return Ok(None);
        };
        Ok(Some(SyncState {
            status,
            snelstart_id: self.snelstart_id.clone(),
            error: self.error.clone(),
            hint: self.hint.clone(),
            attempts: u32::try_from(self.attempts)
                .map_err(|_| other(anyhow!("attempts out of range")))?,
            next_attempt_at: self.next_attempt_at,
            updated_at: self.updated_at.unwrap_or(row_updated_at),
            payment: self
                .payment
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| other(anyhow!("stored payment: {e}")))?,
            drift: self
                .drift
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| other(anyhow!("stored drift: {e}")))?,
        }))
    }
}

/// Parses a stored error class.
pub(super) fn parse_class(raw: Option<String>) -> R<Option<ErrorClass>> {
    match raw.as_deref() {
        None => Ok(None),
        Some("transient") => Ok(Some(ErrorClass::Transient)),
        Some("data") => Ok(Some(ErrorClass::Data)),
        Some("auth") => Ok(Some(ErrorClass::Auth)),
        Some(x) => Err(other(anyhow!("unknown error class {x:?}"))),
    }
}

/// Decodes an invoice row: the invoice, its sync columns, and the row's `updated_at`.
pub(super) fn invoice_from(row: &QueryResult) -> R<(Invoice, SyncCols, DateTime<Utc>)> {
    let status = match col::<String>(row, "status")?.as_str() {
        "draft" => InvoiceStatus::Draft,
        "final" => InvoiceStatus::Final,
        x => return Err(other(anyhow!("unknown invoice status {x:?}"))),
    };
    let sync_status: Option<String> = col(row, "sync_status")?;
    let sync_status = sync_status
        .map(|raw| {
            SyncStatus::parse(&raw).ok_or_else(|| other(anyhow!("unknown sync status {raw:?}")))
        })
        .transpose()?;
    let date: NaiveDate = col(row, "date")?;
    let lines: Vec<InvoiceLine> = col_json(row, "lines")?;
    let invoice = Invoice {
        id: col_id(row, "id")?,
        number: col(row, "number")?,
        relation_id: col_id(row, "relation_id")?,
        date,
        payment_term_days: col(row, "payment_term_days")?,
        status,
        description: col(row, "description")?,
        lines,
    };
    let sync = SyncCols {
        status: sync_status,
        snelstart_id: col(row, "snelstart_id")?,
        error: col(row, "sync_error")?,
        hint: col(row, "sync_hint")?,
        error_class: col(row, "error_class")?,
        snelstart_code: col(row, "snelstart_code")?,
        attempts: col(row, "attempts")?,
        next_attempt_at: col(row, "next_attempt_at")?,
        needs_lookup: col_bool(row, "needs_lookup")?,
        failing_since: col(row, "failing_since")?,
        lease_owner: col(row, "lease_owner")?,
        lease_until: col(row, "lease_until")?,
        due_at: col(row, "due_at")?,
        updated_at: col(row, "sync_updated_at")?,
        payment: col(row, "payment")?,
        drift: col(row, "drift")?,
    };
    Ok((invoice, sync, col(row, "updated_at")?))
}

/// Reads an invoice row with `c`, locking it on PostgreSQL when `lock`.
pub(super) async fn read_invoice(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    adm: &AdministratieCode,
    id: &ResourceId,
    lock: bool,
) -> R<Option<(Invoice, SyncCols, DateTime<Utc>)>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invoices WHERE adm = $1 AND id = $2{}",
        if lock { st.db.for_update() } else { "" }
    );
    let row = db::one(
        c,
        st.db.st(&sql, vec![s(adm.as_str()), s(id.as_str())]),
        "reading the invoice",
    )
    .await?;
    row.as_ref().map(invoice_from).transpose()
}

/// The sync state after a PUT of `new` over `old` (`None` when new), or the lock conflict.
///
/// * synced or in progress: locked; an identical PUT changes nothing;
/// * no sync state: queued when final and the relation is ticked;
/// * failed or skipped: queued again when final and the relation is ticked (also by an
///   identical PUT: the cause may have been fixed elsewhere, e.g. in the relation);
///   a draft loses the state;
/// * the outcome of a booking unknown (`needs_lookup`, in any state): a changed PUT is
///   refused with `outcome_unknown` until the look-up has settled it;
/// * queued: an identical PUT changes nothing (its back-off stays, so repeated PUTs cannot
///   defeat SnelStart's `Retry-After`); a changed one is queued afresh when final and
///   ticked, and loses the state otherwise (a draft, or moved to an un-ticked relation).
fn next_sync(
    old: Option<(&Invoice, &SyncCols)>,
    new: &Invoice,
    ticked: bool,
    now: DateTime<Utc>,
) -> Result<SyncCols, StoreError> {
    let Some((old_invoice, sync)) = old else {
        return Ok(if new.status == InvoiceStatus::Final && ticked {
            SyncCols::empty().requeued(now)
        } else {
            SyncCols::empty()
        });
    };
    let same = old_invoice == new;
    // Invariant: an invoice cannot change while the outcome of its booking is unknown: the
    // look-up goes by the number that may have been posted, and a changed invoice would be
    // booked next to it (product.md §4).
    if sync.needs_lookup && !same {
        return Err(StoreError::Conflict {
            code: "outcome_unknown".into(),
            message: format!(
                "invoice {} may already be in SnelStart (the answer to an earlier attempt was \
                 lost) and cannot be changed until the koppeling has looked it up; try again in \
                 a few seconds",
                new.id
            ),
            field: None,
        });
    }
    match sync.status {
        Some(SyncStatus::Synced | SyncStatus::InProgress) => {
            if same {
                Ok(sync.clone())
            } else {
                let what = if sync.status == Some(SyncStatus::Synced) {
                    "is already booked in SnelStart"
                } else {
                    "is being sent to SnelStart right now"
                };
                Err(StoreError::Conflict {
                    code: "invoice_locked".into(),
                    message: format!(
                        "invoice {} {what} and can no longer be changed; correct it with a credit note",
                        new.id
                    ),
                    field: None,
                })
            }
        }
        None => Ok(if new.status == InvoiceStatus::Final && ticked {
            sync.requeued(now)
        } else {
            sync.clone()
        }),
        Some(SyncStatus::Queued) => Ok(if same {
            sync.clone()
        } else if new.status == InvoiceStatus::Final && ticked {
            sync.requeued(now)
        } else {
            sync.cleared(now)
        }),
        Some(SyncStatus::Failed | SyncStatus::Skipped) => {
            Ok(if new.status == InvoiceStatus::Draft {
                sync.cleared(now)
            } else if ticked {
                sync.requeued(now)
            } else {
                sync.clone()
            })
        }
    }
}

/// A PUT waiting for its batch (SQLite).
pub(super) struct PutJob {
    adm: AdministratieCode,
    invoice: Invoice,
    now: DateTime<Utc>,
}

/// What a PUT wrote: its answer, and whether it queued the invoice.
pub(super) struct Written {
    put: Put,
    state: Option<SyncState>,
    newly_queued: bool,
}

/// Creates or replaces `invoice` and decides its sync state ([`next_sync`]); wakes the
/// worker when it queued the invoice. On SQLite the PUTs that arrive while another batch is
/// written share one transaction (group commit); on PostgreSQL each has its own.
pub(super) async fn put_invoice(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    invoice: &Invoice,
) -> R<(Put, Option<SyncState>)> {
    let written = if st.db.is_postgres() {
        put_alone(st, adm, invoice).await?
    } else {
        let job = PutJob {
            adm: adm.clone(),
            invoice: invoice.clone(),
            now: db::now(),
        };
        match super::writes::submit(st, Write::Put(job)).await? {
            Answer::Put(written) => written,
            _ => return Err(super::writes::mismatch()),
        }
    };
    if written.newly_queued {
        st.wake();
    }
    Ok((written.put, written.state))
}

/// PostgreSQL: a PUT in a transaction of its own (a failed statement aborts the whole
/// transaction there, so PUTs cannot share one without a savepoint each).
///
/// A unique index refusing the write is either the number (I4) or a concurrent PUT that
/// created the same invoice first (its primary key): the PUT is decided once more on what
/// is stored now, which turns the second case into a replace; refused again, the number is
/// taken.
async fn put_alone(st: &SeaOrmStore, adm: &AdministratieCode, invoice: &Invoice) -> R<Written> {
    match put_once(st, adm, invoice).await {
        Err(error) if db::is_unique_error(&error) => {}
        other => return other,
    }
    match put_once(st, adm, invoice).await {
        // Invariant I4: the unique index decides (no extra read on the happy path).
        Err(error) if db::is_unique_error(&error) => {
            Err(number_taken(&st.db.conn, adm, invoice).await)
        }
        other => other,
    }
}

/// One PUT in a transaction of its own (rolled back when refused).
async fn put_once(st: &SeaOrmStore, adm: &AdministratieCode, invoice: &Invoice) -> R<Written> {
    let tx = st.db.begin().await?;
    let written = put_on(st, &*tx, adm, invoice, db::now()).await;
    tx.end(written).await
}

/// SQLite: the PUTs queued meanwhile in one transaction, in arrival order, each deciding on
/// the rows as the ones before it left them. A refused PUT (unknown relation, locked, number
/// taken) writes nothing and leaves the others alone: the only statement of it that can fail
/// is its write, on the unique index, and SQLite rolls that statement back alone. Any other
/// error ends the batch: nothing of it is written and every PUT in it gets the error (SQLite
/// may have rolled the whole transaction back, and must not go on outside it).
pub(super) async fn put_in(
    st: &SeaOrmStore,
    tx: &db::WriteTx,
    batch: &[PutJob],
) -> R<Vec<R<Written>>> {
    if batch.len() > 1
        && let Some(results) = put_together(st, tx, batch).await?
    {
        return Ok(results);
    }
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        results.push(
            match put_on(st, &**tx, &job.adm, &job.invoice, job.now).await {
                Ok(written) => Ok(written),
                Err(error) if db::is_unique_error(&error) => {
                    Err(number_taken(&**tx, &job.adm, &job.invoice).await)
                }
                Err(error @ (StoreError::NotFound(_) | StoreError::Conflict { .. })) => Err(error),
                Err(error) => return Err(error),
            },
        );
    }
    Ok(results)
}

/// The relation's tick and the invoice as stored (if any), read for a PUT inside its write
/// transaction: on PostgreSQL the relation `FOR SHARE` and the invoice `FOR UPDATE`; on
/// SQLite (whose write transactions are serialised) in one statement.
async fn read_for_put(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    adm: &AdministratieCode,
    invoice: &Invoice,
) -> R<(bool, Option<Stored>)> {
    let missing = || StoreError::NotFound(Missing::Relation(invoice.relation_id.to_string()));
    if st.db.is_postgres() {
        let relation = db::one(
            c,
            st.db.st(
                "SELECT snelstart_enabled FROM relations WHERE adm = $1 AND id = $2 FOR SHARE",
                vec![s(adm.as_str()), s(invoice.relation_id.as_str())],
            ),
            "reading the invoice's relation",
        )
        .await?
        .ok_or_else(missing)?;
        let ticked = col_bool(&relation, "snelstart_enabled")?;
        return Ok((ticked, read_invoice(st, c, adm, &invoice.id, true).await?));
    }
    let mut found = read_puts(st, c, &[(adm, invoice)]).await?;
    found.pop().flatten().ok_or_else(missing)
}

/// An invoice as stored: the invoice, its sync columns and the row's `updated_at`.
type Stored = (Invoice, SyncCols, DateTime<Utc>);

/// SQLite: for each PUT of `puts`, in one statement, its relation's tick and the invoice as
/// stored (`None` where the relation does not exist).
async fn read_puts(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    puts: &[(&AdministratieCode, &Invoice)],
) -> R<Vec<Option<(bool, Option<Stored>)>>> {
    let mut values = Vec::with_capacity(puts.len() * 4);
    let mut tuples = Vec::with_capacity(puts.len());
    for (k, (adm, invoice)) in puts.iter().enumerate() {
        let at = values.len();
        tuples.push(format!(
            "(${}, ${}, ${}, ${})",
            at + 1,
            at + 2,
            at + 3,
            at + 4
        ));
        values.extend([
            i(i64::try_from(k).unwrap_or(i64::MAX)),
            s(adm.as_str()),
            s(invoice.relation_id.as_str()),
            s(invoice.id.as_str()),
        ]);
    }
    let sql = format!(
        "WITH v (v_k, v_adm, v_relation, v_invoice) AS (VALUES {}) \
         SELECT v.v_k AS put, r.snelstart_enabled AS relation_ticked, {} FROM v \
         JOIN relations r ON r.adm = v.v_adm AND r.id = v.v_relation \
         LEFT JOIN invoices i ON i.adm = v.v_adm AND i.id = v.v_invoice",
        tuples.join(", "),
        db::aliased("i", "", COLUMNS)
    );
    let rows = db::all(
        c,
        st.db.st(&sql, values),
        "reading the invoices and their relations",
    )
    .await?;
    let mut found: Vec<Option<(bool, Option<Stored>)>> = puts.iter().map(|_| None).collect();
    for row in &rows {
        let k = usize::try_from(col::<i64>(row, "put")?).map_err(other)?;
        let ticked = col_bool(row, "relation_ticked")?;
        let stored = col::<Option<String>>(row, "id")?
            .is_some()
            .then(|| invoice_from(row))
            .transpose()?;
        if let Some(slot) = found.get_mut(k) {
            *slot = Some((ticked, stored));
        }
    }
    Ok(found)
}

/// What a PUT does, decided from what is stored: nothing (an identical PUT), or a write.
enum Decision {
    Unchanged(Written),
    Write {
        written: Written,
        /// `$1` … `$24` of [`insert_sql`] / [`UPDATE_SQL`].
        values: Vec<sea_orm::Value>,
        insert: bool,
    },
}

/// The invoice columns a PUT writes, as bound in `values` (`$10` twice: created and updated).
const INSERT_COLUMNS: &str = "adm, id, number, relation_id, date, payment_term_days, status, \
    description, lines, created_at, updated_at, sync_status, snelstart_id, sync_error, \
    sync_hint, error_class, snelstart_code, attempts, next_attempt_at, needs_lookup, \
    failing_since, lease_owner, lease_until, due_at, sync_updated_at";

/// Which of the 24 values goes to each of [`INSERT_COLUMNS`] (1-based).
const INSERT_VALUES: [usize; 25] = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
];

const UPDATE_SQL: &str = "UPDATE invoices SET number = $3, relation_id = $4, date = $5, \
    payment_term_days = $6, status = $7, description = $8, lines = $9, updated_at = $10, \
    sync_status = $11, snelstart_id = $12, sync_error = $13, sync_hint = $14, \
    error_class = $15, snelstart_code = $16, attempts = $17, next_attempt_at = $18, \
    needs_lookup = $19, failing_since = $20, lease_owner = $21, lease_until = $22, \
    due_at = $23, sync_updated_at = $24 WHERE adm = $1 AND id = $2";

/// Decides a PUT of `invoice` over what is stored (`existing`), its relation `ticked`.
fn decide(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    invoice: &Invoice,
    now: DateTime<Utc>,
    ticked: bool,
    existing: Option<&Stored>,
) -> R<Decision> {
    let old = existing.map(|(inv, sync, _)| (inv, sync));
    let sync = next_sync(old, invoice, ticked, now)?;
    let old_sync = existing.map(|(_, sync, _)| sync);
    if let Some((old_invoice, old_sync, updated_at)) = existing
        && old_invoice == invoice
        && *old_sync == sync
    {
        return Ok(Decision::Unchanged(Written {
            put: Put::Replaced,
            state: old_sync.state(*updated_at)?,
            newly_queued: false,
        }));
    }
    let newly_queued =
        sync.status == Some(SyncStatus::Queued) && old_sync.is_none_or(|o| *o != sync);
    let mut values = vec![
        s(adm.as_str()),
        s(invoice.id.as_str()),
        s(invoice.number.as_str()),
        s(invoice.relation_id.as_str()),
        db::date(Some(invoice.date)),
        i(invoice.payment_term_days),
        s(invoice.status.as_str()),
        so(invoice.description.clone()),
        s(db::json(&invoice.lines)?),
        st.db.ts(now),
    ];
    values.extend(sync_values(st, &sync));
    let insert = existing.is_none();
    Ok(Decision::Write {
        written: Written {
            put: if insert { Put::Created } else { Put::Replaced },
            state: sync.state(now)?,
            newly_queued,
        },
        values,
        insert,
    })
}

/// One PUT on `c` (inside a write transaction): reads, decides, writes. A write refused by
/// the unique index is returned as that error (the caller names the number's holder).
async fn put_on(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    adm: &AdministratieCode,
    invoice: &Invoice,
    now: DateTime<Utc>,
) -> R<Written> {
    let (ticked, existing) = read_for_put(st, c, adm, invoice).await?;
    match decide(st, adm, invoice, now, ticked, existing.as_ref())? {
        Decision::Unchanged(written) => Ok(written),
        Decision::Write {
            written,
            values,
            insert,
        } => {
            let sql = if insert {
                insert_sql(1)
            } else {
                UPDATE_SQL.to_owned()
            };
            db::exec(c, st.db.st(&sql, values), "writing the invoice").await?;
            Ok(written)
        }
    }
}

/// `INSERT` of `rows` invoices, each bound as 24 values in a row (see [`INSERT_VALUES`]).
fn insert_sql(rows: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let cells: Vec<String> = INSERT_VALUES
                .iter()
                .map(|v| format!("${}", r * 24 + v))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO invoices ({INSERT_COLUMNS}) VALUES {}",
        tuples.join(", ")
    )
}

/// At most this many PUTs are read and inserted together (SQLite binds at most 32,766
/// values per statement; a PUT binds 24).
const TOGETHER_MAX: usize = 500;

/// SQLite, a batch of PUTs of distinct invoices: one statement reads every relation and
/// invoice, each PUT is decided in Rust, the new invoices are written with one multi-row
/// `INSERT` and the replaced ones one by one. `None` (nothing written) when the batch does
/// not fit this path: the same invoice twice, too many, or the `INSERT` refused by a unique
/// index (two new invoices of one number: SQLite rolled the statement back alone); the
/// caller then runs the PUTs one by one in the same transaction.
async fn put_together(
    st: &SeaOrmStore,
    tx: &db::WriteTx,
    batch: &[PutJob],
) -> R<Option<Vec<R<Written>>>> {
    let keys: std::collections::HashSet<(&str, &str)> = batch
        .iter()
        .map(|job| (job.adm.as_str(), job.invoice.id.as_str()))
        .collect();
    if keys.len() < batch.len() || batch.len() > TOGETHER_MAX {
        return Ok(None);
    }
    let puts: Vec<(&AdministratieCode, &Invoice)> =
        batch.iter().map(|job| (&job.adm, &job.invoice)).collect();
    let found = read_puts(st, &**tx, &puts).await?;
    let mut results = Vec::with_capacity(batch.len());
    let mut inserts: Vec<sea_orm::Value> = Vec::new();
    let mut updates = Vec::new();
    for (job, found) in batch.iter().zip(found) {
        let Some((ticked, existing)) = found else {
            results.push(Err(StoreError::NotFound(Missing::Relation(
                job.invoice.relation_id.to_string(),
            ))));
            continue;
        };
        match decide(
            st,
            &job.adm,
            &job.invoice,
            job.now,
            ticked,
            existing.as_ref(),
        ) {
            Ok(Decision::Unchanged(written)) => results.push(Ok(written)),
            Ok(Decision::Write {
                written,
                values,
                insert,
            }) => {
                if insert {
                    inserts.extend(values);
                } else {
                    updates.push((results.len(), values));
                }
                results.push(Ok(written));
            }
            Err(error @ StoreError::Conflict { .. }) => results.push(Err(error)),
            Err(error) => return Err(error),
        }
    }
    if !inserts.is_empty() {
        let sql = insert_sql(inserts.len() / 24);
        match db::exec(&**tx, st.db.st(&sql, inserts), "writing the invoices").await {
            Ok(_) => {}
            Err(error) if db::is_unique_error(&error) => return Ok(None),
            Err(error) => return Err(error),
        }
    }
    for (k, values) in updates {
        let job = &batch[k];
        match db::exec(&**tx, st.db.st(UPDATE_SQL, values), "writing the invoice").await {
            Ok(_) => {}
            Err(error) if db::is_unique_error(&error) => {
                results[k] = Err(number_taken(&**tx, &job.adm, &job.invoice).await);
            }
            Err(error) => return Err(error),
        }
    }
    Ok(Some(results))
}

/// Invariant I4 (docs/architecture.md): the number of a final invoice is unique within its
/// administratie (drafts may share one; a failed or skipped final invoice keeps its number).
/// The unique index `invoices_final_number` holds it under concurrency; this names the field
/// and, when it can, the invoice that holds the number.
async fn number_taken(
    c: &impl ConnectionTrait,
    adm: &AdministratieCode,
    invoice: &Invoice,
) -> StoreError {
    let holder = db::one(
        c,
        sea_orm::Statement::from_sql_and_values(
            c.get_database_backend(),
            "SELECT id FROM invoices WHERE adm = $1 AND number = $2 AND status = 'final' AND id <> $3",
            vec![
                s(adm.as_str()),
                s(invoice.number.as_str()),
                s(invoice.id.as_str()),
            ],
        ),
        "reading the invoice that holds the number",
    )
    .await
    .ok()
    .flatten()
    .and_then(|row| col::<String>(&row, "id").ok());
    let by = holder
        .map(|id| format!(" by invoice {id}"))
        .unwrap_or_default();
    StoreError::Conflict {
        code: "number_taken".into(),
        message: format!(
            "number {:?} is already used{by}, a final invoice of this administratie; SnelStart \
             holds each factuurnummer once",
            invoice.number
        ),
        field: Some("number".into()),
    }
}

/// The 14 sync columns as values, in `COLUMNS` order (`sync_status` … `sync_updated_at`).
fn sync_values(st: &SeaOrmStore, sync: &SyncCols) -> Vec<sea_orm::Value> {
    vec![
        so(sync.status.map(SyncStatus::as_str)),
        so(sync.snelstart_id.clone()),
        so(sync.error.clone()),
        so(sync.hint.clone()),
        so(sync.error_class.clone()),
        so(sync.snelstart_code.clone()),
        i(sync.attempts),
        st.db.ts_opt(sync.next_attempt_at),
        b(sync.needs_lookup),
        st.db.ts_opt(sync.failing_since),
        so(sync.lease_owner.clone()),
        st.db.ts_opt(sync.lease_until),
        st.db.ts_opt(sync.due_at),
        st.db.ts_opt(sync.updated_at),
    ]
}

pub(super) async fn get_invoice(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    id: &ResourceId,
) -> R<Option<(Invoice, Option<SyncState>)>> {
    match read_invoice(st, &st.db.conn, adm, id, false).await? {
        None => Ok(None),
        Some((invoice, sync, updated_at)) => Ok(Some((invoice, sync.state(updated_at)?))),
    }
}

/// Invoices a page holds.
pub(super) const PAGE_SIZE: u32 = 100;

pub(super) async fn list_invoices(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    filter: &InvoiceFilter,
    page: u32,
) -> R<Vec<(Invoice, Option<SyncState>)>> {
    let offset = i64::from(page.max(1) - 1) * i64::from(PAGE_SIZE);
    let mut values = vec![s(adm.as_str())];
    let mut where_ = String::new();
    if let Some(status) = filter.status {
        values.push(s(status.as_str()));
        where_.push_str(&format!(" AND sync_status = ${}", values.len()));
    }
    if let Some(payment) = filter.payment {
        values.push(s(payment.as_str()));
        where_.push_str(&format!(" AND payment_status = ${}", values.len()));
    }
    if filter.drift {
        where_.push_str(" AND drift_kind IS NOT NULL");
    }
    if let Some(from) = filter.from {
        values.push(db::date(Some(from)));
        where_.push_str(&format!(" AND date >= ${}", values.len()));
    }
    if let Some(to) = filter.to {
        values.push(db::date(Some(to)));
        where_.push_str(&format!(" AND date <= ${}", values.len()));
    }
    if filter.final_only {
        where_.push_str(" AND status = 'final'");
    }
    if let Some(relation) = &filter.relation_id {
        values.push(s(relation.as_str()));
        where_.push_str(&format!(" AND relation_id = ${}", values.len()));
    }
    let filter = where_;
    let n = values.len();
    values.push(i(i64::from(PAGE_SIZE)));
    values.push(i(offset));
    let sql = format!(
        "SELECT {COLUMNS} FROM invoices WHERE adm = $1{filter} \
         ORDER BY date DESC, id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let rows = db::all(&st.db.conn, st.db.st(&sql, values), "listing invoices").await?;
    rows.iter()
        .map(|row| {
            let (invoice, sync, updated_at) = invoice_from(row)?;
            Ok((invoice, sync.state(updated_at)?))
        })
        .collect()
}

pub(super) async fn retry_invoice(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    id: &ResourceId,
) -> R<SyncState> {
    let tx = st.db.begin().await?;
    let state = retry_on(st, &tx, adm, id).await;
    let state = tx.end(state).await?;
    st.wake();
    Ok(state)
}

/// [`retry_invoice`] inside its transaction `tx`.
async fn retry_on(
    st: &SeaOrmStore,
    tx: &db::WriteTx,
    adm: &AdministratieCode,
    id: &ResourceId,
) -> R<SyncState> {
    let now = db::now();
    let Some((invoice, sync, updated_at)) = read_invoice(st, &**tx, adm, id, true).await? else {
        return Err(StoreError::NotFound(Missing::Invoice(id.to_string())));
    };
    if sync.status != Some(SyncStatus::Failed) {
        let status = sync.status.map_or("not queued", SyncStatus::as_str);
        return Err(StoreError::Conflict {
            code: "not_failed".into(),
            message: format!(
                "invoice {id} is {status}; only a failed invoice can be offered again"
            ),
            field: None,
        });
    }
    let ticked = db::one(
        &**tx,
        st.db.st(
            &format!(
                "SELECT snelstart_enabled FROM relations WHERE adm = $1 AND id = $2{}",
                st.db.for_share()
            ),
            vec![s(adm.as_str()), s(invoice.relation_id.as_str())],
        ),
        "reading the invoice's relation",
    )
    .await?
    .map(|row| col_bool(&row, "snelstart_enabled"))
    .transpose()?
    .unwrap_or(false);
    if !ticked {
        return Err(StoreError::Conflict {
            code: "relation_not_enabled".into(),
            message: format!(
                "relation {} is not ticked for SnelStart; tick it to send its invoices",
                invoice.relation_id
            ),
            field: None,
        });
    }
    let sync = sync.requeued(now);
    let mut values = vec![s(adm.as_str()), s(id.as_str())];
    values.extend(sync_values(st, &sync));
    db::exec(
        &**tx,
        st.db.st(
            "UPDATE invoices SET sync_status = $3, snelstart_id = $4, sync_error = $5, \
             sync_hint = $6, error_class = $7, snelstart_code = $8, attempts = $9, \
             next_attempt_at = $10, needs_lookup = $11, failing_since = $12, lease_owner = $13, \
             lease_until = $14, due_at = $15, sync_updated_at = $16 WHERE adm = $1 AND id = $2",
            values,
        ),
        "re-queueing the invoice",
    )
    .await?;
    sync.state(updated_at)?
        .ok_or_else(|| other(anyhow!("a re-queued invoice has a sync state")))
}

pub(super) async fn sync_log(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    only_failed: bool,
    limit: u32,
) -> R<Vec<AttemptLog>> {
    sync_log_of(st, adm, None, only_failed, limit).await
}

/// The sync log, optionally of one invoice (filtered in SQL, index
/// `sync_attempts_adm_invoice`).
pub(super) async fn sync_log_of(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    invoice_id: Option<&str>,
    only_failed: bool,
    limit: u32,
) -> R<Vec<AttemptLog>> {
    let mut filter = if only_failed {
        " AND outcome IN ('failed', 'retry')".to_owned()
    } else {
        String::new()
    };
    let mut values = vec![s(adm.as_str()), i(i64::from(limit))];
    if let Some(invoice_id) = invoice_id {
        filter.push_str(" AND invoice_id = $3");
        values.push(s(invoice_id));
    }
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            &format!(
                "SELECT invoice_id, attempt, at, outcome, error_class, snelstart_code, message, \
                 (SELECT i.number FROM invoices i WHERE i.adm = sync_attempts.adm \
                  AND i.id = sync_attempts.invoice_id) AS invoice_number \
                 FROM sync_attempts WHERE adm = $1{filter} ORDER BY id DESC LIMIT $2"
            ),
            values,
        ),
        "reading the sync log",
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AttemptLog {
                invoice_id: col(row, "invoice_id")?,
                invoice_number: col(row, "invoice_number")?,
                attempt: col_u32(row, "attempt")?,
                at: col(row, "at")?,
                outcome: col(row, "outcome")?,
                error_class: parse_class(col(row, "error_class")?)?,
                snelstart_code: col(row, "snelstart_code")?,
                message: col(row, "message")?,
            })
        })
        .collect()
}

pub(super) async fn status_counts(st: &SeaOrmStore, adm: &AdministratieCode) -> R<StatusCounts> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT sync_status, COUNT(*) AS n FROM invoices \
             WHERE adm = $1 AND sync_status IS NOT NULL GROUP BY sync_status",
            vec![s(adm.as_str())],
        ),
        "counting invoices",
    )
    .await?;
    let mut counts = StatusCounts::default();
    for row in &rows {
        let status: String = col(row, "sync_status")?;
        let n: i64 = col(row, "n")?;
        let n = u64::try_from(n).map_err(other)?;
        match SyncStatus::parse(&status) {
            Some(SyncStatus::Queued) => counts.queued = n,
            Some(SyncStatus::InProgress) => counts.in_progress = n,
            Some(SyncStatus::Synced) => counts.synced = n,
            Some(SyncStatus::Failed) => counts.failed = n,
            Some(SyncStatus::Skipped) => counts.skipped = n,
            None => return Err(other(anyhow!("unknown sync status {status:?}"))),
        }
    }
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT \
             (SELECT COUNT(*) FROM invoices WHERE adm = $1 AND payment_status = 'paid') AS paid, \
             (SELECT COUNT(*) FROM invoices WHERE adm = $1 AND drift_kind IS NOT NULL) AS drift",
            vec![s(adm.as_str())],
        ),
        "counting paid invoices and drift",
    )
    .await?;
    if let Some(row) = row {
        let paid: i64 = col(&row, "paid")?;
        let drift: i64 = col(&row, "drift")?;
        counts.paid = u64::try_from(paid).map_err(other)?;
        counts.drift = u64::try_from(drift).map_err(other)?;
    }
    Ok(counts)
}
