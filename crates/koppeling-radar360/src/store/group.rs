//! SQLite's group commit of attempt outcomes (written with the other writes of the hot path
//! in one transaction: [`super::writes`]).
//!
//! An outcome alone takes six statements under the writer lock (begin, the fenced `UPDATE`,
//! its log row, the event id, the event, commit). Here the outcomes finished while another
//! batch was being written are written together: the bookings (the bulk) in one fenced
//! multi-row `UPDATE … FROM (VALUES …)`, any other outcome in its own fenced `UPDATE`, and
//! one multi-row statement each for the log rows, `last_sync_at`, the notices, the event ids
//! and the events.
//!
//! Invariants (beyond those of [`super::batch`]):
//! * **Each outcome is fenced on its own**: an outcome whose lease was lost matches no row
//!   and writes nothing (`false`); one whose `snelstart_id` another invoice holds fails its
//!   own `UPDATE`, which SQLite rolls back alone (the statement aborts, the transaction goes
//!   on), and gets that error; the others in the batch are not affected.
//! * Event ids stay gapless in commit order per administratie: one upsert advances each
//!   administratie's counter by its number of events in the batch, inside the transaction.

use chrono::{DateTime, SubsecRound, Utc};
use koppeling_domain::notification::NotificationItem;
use koppeling_domain::ports::{Claim, Outcome};
use koppeling_domain::readback::EventType;

use super::SeaOrmStore;
use super::db::{self, Params, R, b, col, i, s, so};
use super::queue::{LAST_SYNC_GRANULARITY_SECS, finish_set, log_fields, outcome_event};
use super::readback::{EventRow, insert_events};
use super::writes::{Answer, Write};

/// One outcome to record.
pub(super) struct Job {
    claim: Claim,
    now: DateTime<Utc>,
    outcome: Outcome,
    log_message: String,
    notice: Option<NotificationItem>,
}

/// Records `outcome` of `claim`'s attempt in the next batch; the same contract as a single
/// fenced write: `false` when the lease was lost, the unique-index error when another
/// invoice holds the booking.
pub(super) async fn finish(
    st: &SeaOrmStore,
    claim: &Claim,
    now: DateTime<Utc>,
    outcome: &Outcome,
    log_message: &str,
    notice: Option<&NotificationItem>,
) -> R<bool> {
    let job = Job {
        claim: claim.clone(),
        now: now.trunc_subsecs(6),
        outcome: outcome.clone(),
        log_message: log_message.to_owned(),
        notice: notice.cloned(),
    };
    match super::writes::submit(st, Write::Finish(job)).await? {
        Answer::Finish(recorded) => Ok(recorded),
        _ => Err(super::writes::mismatch()),
    }
}

/// The outcomes of a batch, in the batch's transaction `tx`: each job's answer, or an error
/// for the whole batch.
pub(super) async fn write_in(st: &SeaOrmStore, tx: &db::WriteTx, batch: &[Job]) -> R<Vec<R<bool>>> {
    // Per job: its answer, and the attempt number when its fenced UPDATE matched.
    let mut results: Vec<Option<R<bool>>> = batch.iter().map(|_| None).collect();
    let mut attempts: Vec<Option<i64>> = vec![None; batch.len()];
    let booked: Vec<usize> = (0..batch.len())
        .filter(|k| matches!(batch[*k].outcome, Outcome::Synced { .. }))
        .collect();
    if booked.len() > 1 {
        match update_booked(st, tx, batch, &booked).await {
            Ok(Some(matched)) => {
                for (k, matched) in booked.iter().zip(matched) {
                    attempts[*k] = matched;
                    results[*k] = Some(Ok(matched.is_some()));
                }
            }
            // The statement was rolled back alone: each booking on its own below, where
            // only the one whose id is taken fails.
            Ok(None) => {}
            Err(error) => return Err(error),
        }
    }
    for (k, job) in batch.iter().enumerate() {
        if results[k].is_some() {
            continue;
        }
        let mut q = Params(Vec::new());
        let set = finish_set(st, &mut q, &job.outcome, job.now);
        let guard = format!(
            "adm = {} AND id = {} AND lease_owner = {} AND sync_status = 'in_progress'",
            q.p(s(job.claim.administratie.as_str())),
            q.p(s(job.claim.invoice_id.as_str())),
            q.p(s(job.claim.worker.as_str())),
        );
        let update = format!("UPDATE invoices SET {set} WHERE {guard} RETURNING attempts");
        results[k] = Some(
            match db::one(&**tx, st.db.st(&update, q.0), "recording the outcome").await {
                Ok(Some(row)) => {
                    attempts[k] = Some(col(&row, "attempts")?);
                    Ok(true)
                }
                Ok(None) => Ok(false),
                // SQLite rolled this statement back alone; the batch goes on.
                Err(error) if db::is_unique_error(&error) => Err(error),
                Err(error) => return Err(error),
            },
        );
    }
    let written: Vec<(&Job, i64)> = batch
        .iter()
        .zip(&attempts)
        .filter_map(|(job, attempts)| attempts.map(|a| (job, a)))
        .collect();
    log_rows(st, tx, &written).await?;
    last_sync(st, tx, &written).await?;
    notices(st, tx, &written).await?;
    events(st, tx, &written).await?;
    Ok(results.into_iter().flatten().collect())
}

/// The bookings of the batch (`booked`, indexes of `Synced` outcomes) in one fenced `UPDATE`
/// (the same columns as [`finish_set`] writes for a booking, each row guarded by its own
/// lease): per booking its attempt number, `None` where the lease was lost. `Ok(None)`
/// when a booking's id is taken (the unique index refused the statement, which SQLite
/// rolled back alone) or one invoice is in the batch twice: then nothing was written and
/// the caller writes them one by one.
async fn update_booked(
    st: &SeaOrmStore,
    tx: &db::WriteTx,
    batch: &[Job],
    booked: &[usize],
) -> R<Option<Vec<Option<i64>>>> {
    let key = |k: &usize| {
        let claim = &batch[*k].claim;
        (claim.administratie.as_str(), claim.invoice_id.as_str())
    };
    let keys: std::collections::HashSet<(&str, &str)> = booked.iter().map(key).collect();
    if keys.len() < booked.len() {
        return Ok(None);
    }
    let mut q = Params(Vec::new());
    let mut rows = Vec::with_capacity(booked.len());
    for k in booked {
        let job = &batch[*k];
        let Outcome::Synced { snelstart_id } = &job.outcome else {
            return Ok(None);
        };
        rows.push(format!(
            "({}, {}, {}, {}, {})",
            q.p(s(job.claim.administratie.as_str())),
            q.p(s(job.claim.invoice_id.as_str())),
            q.p(s(job.claim.worker.as_str())),
            q.p(s(snelstart_id.as_str())),
            q.p(st.db.ts(job.now)),
        ));
    }
    let no = q.p(b(false));
    let sql = format!(
        "WITH v (v_adm, v_id, v_worker, v_snelstart_id, v_at) AS (VALUES {}) \
         UPDATE invoices SET sync_status = 'synced', attempts = attempts + 1, \
         snelstart_id = v.v_snelstart_id, sync_error = NULL, sync_hint = NULL, \
         error_class = NULL, snelstart_code = NULL, next_attempt_at = NULL, \
         needs_lookup = {no}, failing_since = NULL, due_at = NULL, lease_owner = NULL, \
         lease_until = NULL, sync_updated_at = v.v_at \
         FROM v WHERE adm = v.v_adm AND id = v.v_id AND lease_owner = v.v_worker \
         AND sync_status = 'in_progress' \
         RETURNING adm, id, attempts",
        rows.join(", ")
    );
    let returned = match db::all(&**tx, st.db.st(&sql, q.0), "recording the bookings").await {
        Ok(returned) => returned,
        Err(error) if db::is_unique_error(&error) => return Ok(None),
        Err(error) => return Err(error),
    };
    let mut matched = std::collections::HashMap::with_capacity(returned.len());
    for row in &returned {
        let adm: String = col(row, "adm")?;
        let id: String = col(row, "id")?;
        matched.insert((adm, id), col::<i64>(row, "attempts")?);
    }
    Ok(Some(
        booked
            .iter()
            .map(|k| {
                let (adm, id) = key(k);
                matched.get(&(adm.to_owned(), id.to_owned())).copied()
            })
            .collect(),
    ))
}

async fn log_rows(st: &SeaOrmStore, tx: &db::WriteTx, written: &[(&Job, i64)]) -> R<()> {
    let mut q = Params(Vec::new());
    let mut rows = Vec::new();
    for (job, attempts) in written {
        let Some((name, class, code)) = log_fields(&job.outcome) else {
            continue;
        };
        rows.push(format!(
            "({}, {}, {}, {}, {}, {}, {}, {})",
            q.p(s(job.claim.administratie.as_str())),
            q.p(s(job.claim.invoice_id.as_str())),
            q.p(i(*attempts)),
            q.p(st.db.ts(job.now)),
            q.p(s(name)),
            q.p(so(class)),
            q.p(so(code)),
            q.p(s(&job.log_message)),
        ));
    }
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO sync_attempts (adm, invoice_id, attempt, at, outcome, error_class, \
         snelstart_code, message) VALUES {}",
        rows.join(", ")
    );
    db::exec(&**tx, st.db.st(&sql, q.0), "logging the attempts").await?;
    Ok(())
}

/// `last_sync_at` of every administratie with a booking in the batch, kept to the second.
async fn last_sync(st: &SeaOrmStore, tx: &db::WriteTx, written: &[(&Job, i64)]) -> R<()> {
    let synced: Vec<&Job> = written
        .iter()
        .filter(|(job, _)| matches!(job.outcome, Outcome::Synced { .. }))
        .map(|(job, _)| *job)
        .collect();
    let Some(now) = synced.iter().map(|job| job.now).max() else {
        return Ok(());
    };
    let mut q = Params(Vec::new());
    let now_p = q.p(st.db.ts(now));
    let stale_p = q.p(st
        .db
        .ts(now - chrono::Duration::seconds(LAST_SYNC_GRANULARITY_SECS)));
    let mut adms: Vec<&str> = synced
        .iter()
        .map(|job| job.claim.administratie.as_str())
        .collect();
    adms.sort_unstable();
    adms.dedup();
    let list: Vec<String> = adms.iter().map(|adm| q.p(s(*adm))).collect();
    let sql = format!(
        "UPDATE koppelingen SET last_sync_at = {now_p} WHERE adm IN ({}) \
         AND (last_sync_at IS NULL OR last_sync_at < {stale_p})",
        list.join(", ")
    );
    db::exec(&**tx, st.db.st(&sql, q.0), "recording the last sync").await?;
    Ok(())
}

async fn notices(st: &SeaOrmStore, tx: &db::WriteTx, written: &[(&Job, i64)]) -> R<()> {
    let mut q = Params(Vec::new());
    let mut rows = Vec::new();
    for (job, _) in written {
        let Some(item) = &job.notice else { continue };
        rows.push(format!(
            "({}, {}, {}, {}, FALSE)",
            q.p(s(job.claim.administratie.as_str())),
            q.p(s(db::json(item)?)),
            q.p(s(item.dedupe_key())),
            q.p(st.db.ts(job.now)),
        ));
    }
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO notices (adm, item, dedupe_key, at, consumed) VALUES {}",
        rows.join(", ")
    );
    db::exec(&**tx, st.db.st(&sql, q.0), "queueing the notices").await?;
    Ok(())
}

/// The events for Radar360 (product §8.2) in the same transaction as the outcomes, in
/// batch order (see [`super::readback::insert_events`]).
async fn events(st: &SeaOrmStore, tx: &db::WriteTx, written: &[(&Job, i64)]) -> R<()> {
    let events: Vec<(&Job, (EventType, String))> = written
        .iter()
        .filter_map(|(job, _)| outcome_event(&job.outcome).map(|event| (*job, event)))
        .collect();
    let rows: Vec<EventRow<'_>> = events
        .iter()
        .map(|(job, (kind, data))| EventRow {
            adm: job.claim.administratie.as_str(),
            at: job.now,
            kind: *kind,
            invoice_id: job.claim.invoice_id.as_str(),
            data,
        })
        .collect();
    insert_events(st, tx, &rows).await
}
