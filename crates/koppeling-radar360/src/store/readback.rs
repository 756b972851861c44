//! The read-back's persistence (product §8.2): payment and drift per invoice, the state of
//! each administratie's read-back, and the events outbox.
//!
//! Event ids are gapless and increasing per administratie in commit order: a transaction that
//! records events first locks the administratie's `readback_state` row (`FOR UPDATE` on
//! PostgreSQL; SQLite has one writer), takes `event_seq`, and writes it back before it
//! commits, so a reader polling with `after` never sees id n+1 before n.

use std::collections::BTreeMap;

use anyhow::anyhow;
use chrono::{DateTime, NaiveDateTime, Utc};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::notification::NotificationItem;
use koppeling_domain::ports::{Missing, StoreError, SyncState};
use koppeling_domain::readback::{
    BookedInvoice, Cursor, Drift, Event, EventType, NewEvent, Payment, PushState, ReadbackState,
    ReadbackUpdate,
};

use super::SeaOrmStore;
use super::db::{self, Params, R, WriteTx, col, i, other, s, so};
use super::invoice::{COLUMNS, invoice_from};

const STAMP: &str = "%Y-%m-%dT%H:%M:%S%.f";

fn stamp_text(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn parse_stamp(text: &str) -> R<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, STAMP)
        .map_err(|e| other(anyhow!("stored read-back stamp {text:?}: {e}")))
}

pub(super) async fn readback_state(st: &SeaOrmStore, adm: &AdministratieCode) -> R<ReadbackState> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT cursor, payments_since, payments_missing_scope, last_full_scan_at, \
             last_run_at, hour_start, hour_calls FROM readback_state WHERE adm = $1",
            vec![s(adm.as_str())],
        ),
        "reading the read-back state",
    )
    .await?;
    let Some(row) = row else {
        return Ok(ReadbackState::default());
    };
    let cursor: Cursor = db::col_json(&row, "cursor")?;
    let since: Option<String> = col(&row, "payments_since")?;
    let calls: i64 = col(&row, "hour_calls")?;
    Ok(ReadbackState {
        cursor,
        payments_since: since.as_deref().map(parse_stamp).transpose()?,
        payments_missing_scope: col(&row, "payments_missing_scope")?,
        last_full_scan_at: col(&row, "last_full_scan_at")?,
        last_run_at: col(&row, "last_run_at")?,
        hour_start: col(&row, "hour_start")?,
        hour_calls: u32::try_from(calls).unwrap_or(u32::MAX),
    })
}

fn booked_from(row: &sea_orm::QueryResult) -> R<Option<BookedInvoice>> {
    let (invoice, sync, _) = invoice_from(row)?;
    let Some(snelstart_id) = sync.snelstart_id else {
        return Ok(None);
    };
    let payment: Option<String> = col(row, "payment")?;
    let drift: Option<String> = col(row, "drift")?;
    let parse =
        |what: &str, text: &str| other(anyhow!("stored {what} of invoice {}: {text}", invoice.id));
    Ok(Some(BookedInvoice {
        payment: payment
            .map(|p| {
                serde_json::from_str::<Payment>(&p).map_err(|e| parse("payment", &e.to_string()))
            })
            .transpose()?,
        drift: drift
            .map(|d| serde_json::from_str::<Drift>(&d).map_err(|e| parse("drift", &e.to_string())))
            .transpose()?,
        klant_id: col(row, "klant_id")?,
        snelstart_id,
        invoice,
    }))
}

pub(super) async fn booked_invoices(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    booking_ids: &[String],
) -> R<Vec<BookedInvoice>> {
    let mut out = Vec::new();
    for chunk in booking_ids.chunks(400) {
        let marks: Vec<String> = (0..chunk.len()).map(|n| format!("${}", n + 2)).collect();
        let sql = format!(
            "SELECT {COLUMNS}, payment, drift, \
             (SELECT rl.snelstart_id FROM relatie_links rl WHERE rl.adm = invoices.adm \
              AND rl.relation_id = invoices.relation_id) AS klant_id \
             FROM invoices WHERE adm = $1 AND sync_status = 'synced' AND snelstart_id IN ({})",
            marks.join(", ")
        );
        let mut values = vec![s(adm.as_str())];
        values.extend(chunk.iter().map(|id| s(id.as_str())));
        let rows = db::all(
            &st.db.conn,
            st.db.st(&sql, values),
            "reading booked invoices",
        )
        .await?;
        for row in &rows {
            if let Some(b) = booked_from(row)? {
                out.push(b);
            }
        }
    }
    Ok(out)
}

pub(super) async fn booked_ids(st: &SeaOrmStore, adm: &AdministratieCode) -> R<Vec<String>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT snelstart_id FROM invoices WHERE adm = $1 AND sync_status = 'synced' \
             AND snelstart_id IS NOT NULL AND (drift_kind IS NULL OR drift_kind <> 'deleted')",
            vec![s(adm.as_str())],
        ),
        "reading the booked ids",
    )
    .await?;
    rows.iter().map(|r| col(r, "snelstart_id")).collect()
}

/// Locks the administratie's read-back row (creating it), returning the last event id.
async fn lock_state(st: &SeaOrmStore, tx: &WriteTx, adm: &AdministratieCode) -> R<u64> {
    db::exec(
        &**tx,
        st.db.st(
            "INSERT INTO readback_state (adm, cursor, hour_calls, event_seq) \
             VALUES ($1, $2, 0, 0) ON CONFLICT (adm) DO NOTHING",
            vec![s(adm.as_str()), s(db::json(&Cursor::default())?)],
        ),
        "creating the read-back state",
    )
    .await?;
    let row = db::one(
        &**tx,
        st.db.st(
            &format!(
                "SELECT event_seq FROM readback_state WHERE adm = $1{}",
                st.db.for_update()
            ),
            vec![s(adm.as_str())],
        ),
        "locking the read-back state",
    )
    .await?
    .ok_or_else(|| other(anyhow!("the read-back state of {adm} vanished")))?;
    let seq: i64 = col(&row, "event_seq")?;
    Ok(u64::try_from(seq).unwrap_or(0))
}

/// Rows per multi-row `INSERT INTO events` (6 parameters each: far below SQLite's 32,766).
const EVENTS_PER_INSERT: usize = 200;

/// One event to record: the administratie it belongs to, when, and what.
pub(super) struct EventRow<'a> {
    pub(super) adm: &'a str,
    pub(super) at: DateTime<Utc>,
    pub(super) kind: EventType,
    pub(super) invoice_id: &'a str,
    pub(super) data: &'a str,
}

/// Records `rows` inside `tx` (the caller's transaction), with the next ids of each row's
/// administratie, in the order given.
///
/// One upsert reserves the ids (each administratie's read-back row is its event counter: it
/// is created when missing and advanced by that administratie's number of rows, and its
/// `RETURNING` gives the last id reserved; the row stays locked until `tx` commits, so ids
/// are gapless in commit order), then one multi-row `INSERT` per [`EVENTS_PER_INSERT`]
/// rows: two statements under the writer, however many events and administraties.
pub(super) async fn insert_events(st: &SeaOrmStore, tx: &WriteTx, rows: &[EventRow<'_>]) -> R<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for row in rows {
        *counts.entry(row.adm).or_default() += 1;
    }
    let cursor = db::json(&Cursor::default())?;
    let mut q = Params(Vec::new());
    let values: Vec<String> = counts
        .iter()
        .map(|(adm, n)| {
            format!(
                "({}, {}, 0, {})",
                q.p(s(*adm)),
                q.p(s(cursor.as_str())),
                q.p(i(*n))
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO readback_state (adm, cursor, hour_calls, event_seq) VALUES {} \
         ON CONFLICT (adm) DO UPDATE SET event_seq = readback_state.event_seq + excluded.event_seq \
         RETURNING adm, event_seq",
        values.join(", ")
    );
    // The next id per administratie: the last one reserved, minus its count, plus one.
    let mut next: BTreeMap<String, i64> = BTreeMap::new();
    for reserved in db::all(&**tx, st.db.st(&sql, q.0), "reserving the event ids").await? {
        let adm: String = col(&reserved, "adm")?;
        let last: i64 = col(&reserved, "event_seq")?;
        let n = counts.get(adm.as_str()).copied().unwrap_or(0);
        next.insert(adm, last - n + 1);
    }
    for chunk in rows.chunks(EVENTS_PER_INSERT) {
        let mut q = Params(Vec::with_capacity(chunk.len() * 6));
        let mut values = Vec::with_capacity(chunk.len());
        for row in chunk {
            let id = next
                .get_mut(row.adm)
                .ok_or_else(|| other(anyhow!("no event id was reserved for {}", row.adm)))?;
            values.push(format!(
                "({}, {}, {}, {}, {}, {})",
                q.p(s(row.adm)),
                q.p(i(*id)),
                q.p(s(row.kind.as_str())),
                q.p(st.db.ts(row.at)),
                q.p(s(row.invoice_id)),
                q.p(s(row.data)),
            ));
            *id += 1;
        }
        let sql = format!(
            "INSERT INTO events (adm, id, type, at, invoice_id, data) VALUES {}",
            values.join(", ")
        );
        db::exec(&**tx, st.db.st(&sql, q.0), "recording the events").await?;
    }
    Ok(())
}

/// Payments recorded per statement at most (4 values each).
const PAYMENTS_PER_STATEMENT: usize = 500;

/// The payment states of `updates` (a pass after many bookings reads back a payment state
/// for each), a few hundred per `UPDATE … FROM (VALUES …)`.
async fn record_payments(
    st: &SeaOrmStore,
    tx: &db::WriteTx,
    adm: &AdministratieCode,
    updates: &[ReadbackUpdate],
) -> R<()> {
    let payments: Vec<(&ReadbackUpdate, &_)> = updates
        .iter()
        .filter_map(|u| u.payment.as_ref().map(|p| (u, p)))
        .collect();
    for chunk in payments.chunks(PAYMENTS_PER_STATEMENT) {
        let mut q = Params(Vec::new());
        let adm_p = q.p(s(adm.as_str()));
        let mut rows = Vec::with_capacity(chunk.len());
        for (u, payment) in chunk {
            rows.push(format!(
                "({}, {}, {})",
                q.p(s(u.invoice_id.as_str())),
                q.p(s(db::json(payment)?)),
                q.p(s(payment.status.as_str())),
            ));
        }
        let sql = format!(
            "WITH v (v_id, v_payment, v_status) AS (VALUES {}) \
             UPDATE invoices SET payment = v.v_payment, payment_status = v.v_status \
             FROM v WHERE invoices.adm = {adm_p} AND invoices.id = v.v_id",
            rows.join(", ")
        );
        db::exec(&**tx, st.db.st(&sql, q.0), "recording the payments").await?;
    }
    Ok(())
}

pub(super) async fn save_readback(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    state: &ReadbackState,
    updates: &[ReadbackUpdate],
    events: &[NewEvent],
    notices: &[NotificationItem],
    now: DateTime<Utc>,
) -> R<()> {
    let tx = st.db.begin().await?;
    lock_state(st, &tx, adm).await?;
    record_payments(st, &tx, adm, updates).await?;
    for u in updates {
        if let Some(drift) = &u.drift {
            let kind = drift.as_ref().map(|d| match d.kind {
                koppeling_domain::readback::DriftKind::Changed => "changed",
                koppeling_domain::readback::DriftKind::Deleted => "deleted",
            });
            db::exec(
                &*tx,
                st.db.st(
                    "UPDATE invoices SET drift = $3, drift_kind = $4 WHERE adm = $1 AND id = $2",
                    vec![
                        s(adm.as_str()),
                        s(u.invoice_id.as_str()),
                        so(drift.as_ref().map(db::json).transpose()?),
                        so(kind),
                    ],
                ),
                "recording the drift",
            )
            .await?;
        }
    }
    let rows: Vec<EventRow<'_>> = events
        .iter()
        .map(|e| EventRow {
            adm: adm.as_str(),
            at: now,
            kind: e.kind,
            invoice_id: e.invoice_id.as_str(),
            data: &e.data,
        })
        .collect();
    insert_events(st, &tx, &rows).await?;
    for notice in notices {
        super::notify::insert_notice(st, &tx, adm, notice, now).await?;
    }
    db::exec(
        &*tx,
        st.db.st(
            "UPDATE readback_state SET cursor = $2, payments_since = $3, \
             payments_missing_scope = $4, last_full_scan_at = $5, last_run_at = $6, \
             hour_start = $7, hour_calls = $8 WHERE adm = $1",
            vec![
                s(adm.as_str()),
                s(db::json(&state.cursor)?),
                so(state.payments_since.map(stamp_text)),
                so(state.payments_missing_scope.clone()),
                st.db.ts_opt(state.last_full_scan_at),
                st.db.ts_opt(state.last_run_at),
                st.db.ts_opt(state.hour_start),
                i(i64::from(state.hour_calls)),
            ],
        ),
        "saving the read-back state",
    )
    .await?;
    tx.commit().await
}

pub(super) async fn events(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    after: u64,
    limit: u32,
) -> R<Vec<Event>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT id, type, at, invoice_id, data FROM events WHERE adm = $1 AND id > $2 \
             ORDER BY id LIMIT $3",
            vec![
                s(adm.as_str()),
                i(i64::try_from(after).unwrap_or(i64::MAX)),
                i(i64::from(limit)),
            ],
        ),
        "reading the events",
    )
    .await?;
    rows.iter()
        .map(|r| {
            let id: i64 = col(r, "id")?;
            let kind: String = col(r, "type")?;
            Ok(Event {
                id: u64::try_from(id).map_err(other)?,
                kind: EventType::parse(&kind)
                    .ok_or_else(|| other(anyhow!("unknown event type {kind:?}")))?,
                at: col(r, "at")?,
                invoice_id: col(r, "invoice_id")?,
                data: col(r, "data")?,
            })
        })
        .collect()
}

pub(super) async fn rebook(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    id: &ResourceId,
    now: DateTime<Utc>,
) -> R<SyncState> {
    let tx = st.db.begin().await?;
    let row = db::one(
        &*tx,
        st.db.st(
            &format!(
                "SELECT drift_kind FROM invoices WHERE adm = $1 AND id = $2{}",
                st.db.for_update()
            ),
            vec![s(adm.as_str()), s(id.as_str())],
        ),
        "reading the invoice",
    )
    .await?
    .ok_or_else(|| StoreError::NotFound(Missing::Invoice(id.to_string())))?;
    let kind: Option<String> = col(&row, "drift_kind")?;
    if kind.as_deref() != Some("deleted") {
        return Err(StoreError::Conflict {
            code: "not_deleted".into(),
            message: format!(
                "invoice {id} is not deleted in SnelStart; only a deleted invoice can be booked again"
            ),
            field: None,
        });
    }
    // Booked again under the exactly-once rules: a look-up by number first (the accountant
    // may have entered it by hand meanwhile), then a booking.
    // The answer is the state written (`RETURNING`), not a later read: the woken worker
    // may claim the invoice before the caller answers.
    let row = db::one(
        &*tx,
        st.db.st(
            &format!(
                "UPDATE invoices SET sync_status = 'queued', snelstart_id = NULL, sync_error = NULL, \
                 sync_hint = NULL, error_class = NULL, snelstart_code = NULL, attempts = 0, \
                 next_attempt_at = NULL, needs_lookup = TRUE, failing_since = NULL, \
                 lease_owner = NULL, lease_until = NULL, due_at = $3, sync_updated_at = $3, \
                 payment = NULL, payment_status = NULL, drift = NULL, drift_kind = NULL \
                 WHERE adm = $1 AND id = $2 RETURNING {COLUMNS}"
            ),
            vec![s(adm.as_str()), s(id.as_str()), st.db.ts(now)],
        ),
        "queueing the invoice again",
    )
    .await?
    .ok_or_else(|| other(anyhow!("the invoice to book again vanished")))?;
    let (_, sync, updated_at) = invoice_from(&row)?;
    tx.commit().await?;
    st.wake();
    sync.state(updated_at)?
        .ok_or_else(|| other(anyhow!("a re-queued invoice has a sync state")))
}

pub(super) async fn readback_due(
    st: &SeaOrmStore,
    worker: &str,
    now: DateTime<Utc>,
    not_since: DateTime<Utc>,
) -> R<Vec<AdministratieCode>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT k.adm FROM koppelingen k LEFT JOIN readback_state r ON r.adm = k.adm \
             WHERE k.active AND NOT k.paused AND k.worker_owner = $1 AND k.worker_until > $2 \
             AND NOT EXISTS (SELECT 1 FROM invoices c WHERE c.adm = k.adm \
               AND c.sync_status IN ('queued', 'in_progress') AND c.due_at <= $2) \
             AND (r.last_run_at IS NULL OR r.last_run_at <= $3) ORDER BY k.adm",
            vec![s(worker), st.db.ts(now), st.db.ts(not_since)],
        ),
        "finding the read-back's work",
    )
    .await?;
    rows.iter().map(|r| db::col_adm(r, "adm")).collect()
}

fn push_from(row: &sea_orm::QueryResult) -> R<PushState> {
    let up_to: i64 = col(row, "pushed_up_to")?;
    Ok(PushState {
        pushed_up_to: u64::try_from(up_to).map_err(other)?,
        failing_since: col(row, "push_failing_since")?,
        last_error: col(row, "push_last_error")?,
        next_at: col(row, "push_next_at")?,
        event_failing_since: col(row, "push_event_failing_since")?,
    })
}

pub(super) async fn push_state(st: &SeaOrmStore, adm: &AdministratieCode) -> R<PushState> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT pushed_up_to, push_failing_since, push_last_error, push_next_at, \
             push_event_failing_since FROM readback_state WHERE adm = $1",
            vec![s(adm.as_str())],
        ),
        "reading the push state",
    )
    .await?;
    row.as_ref()
        .map(push_from)
        .transpose()
        .map(Option::unwrap_or_default)
}

pub(super) async fn events_to_push(
    st: &SeaOrmStore,
    now: DateTime<Utc>,
    limit: u32,
) -> R<Vec<(AdministratieCode, PushState, Vec<Event>)>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT adm, pushed_up_to, push_failing_since, push_last_error, push_next_at, \
             push_event_failing_since FROM readback_state \
             WHERE event_seq > pushed_up_to AND (push_next_at IS NULL OR push_next_at <= $1) \
             ORDER BY adm",
            vec![st.db.ts(now)],
        ),
        "finding events to push",
    )
    .await?;
    let mut out = Vec::new();
    for row in &rows {
        let adm = db::col_adm(row, "adm")?;
        let state = push_from(row)?;
        let list = events(st, &adm, state.pushed_up_to, limit).await?;
        out.push((adm, state, list));
    }
    Ok(out)
}

pub(super) async fn save_push(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    state: &PushState,
) -> R<()> {
    db::exec(
        &st.db.conn,
        st.db.st(
            "UPDATE readback_state SET pushed_up_to = $2, push_failing_since = $3, \
             push_last_error = $4, push_next_at = $5, push_event_failing_since = $6 WHERE adm = $1",
            vec![
                s(adm.as_str()),
                i(i64::try_from(state.pushed_up_to).map_err(other)?),
                st.db.ts_opt(state.failing_since),
                so(state.last_error.clone()),
                st.db.ts_opt(state.next_at),
                st.db.ts_opt(state.event_failing_since),
            ],
        ),
        "saving the push state",
    )
    .await?;
    Ok(())
}
