//! SQLite's group commit of attempt outcomes.
//!
//! On SQLite every write transaction holds the process's one writer lock ([`db::WriteTx`]),
//! and every statement inside it is a round trip to a connection thread, so what limits
//! booking throughput is the number of statements under that lock, not the commits. An
//! outcome alone takes six (begin, the fenced `UPDATE`, its log row, the event id, the
//! event, commit). Here the outcomes finished while another batch was being written are
//! written together: one transaction, one fenced `UPDATE` per outcome, and one multi-row
//! statement each for the log rows, `last_sync_at`, the notices, the event ids and the
//! events.
//!
//! Invariants:
//! * **Each outcome is fenced on its own**: an outcome whose lease was lost matches no row
//!   and writes nothing (`false`); one whose `snelstart_id` another invoice holds fails its
//!   own `UPDATE`, which SQLite rolls back alone (the statement aborts, the transaction goes
//!   on), and gets that error; the others in the batch are not affected.
//! * **An answer only after the commit**: every caller waits for its own result, sent once
//!   the batch committed (or failed as a whole: then every caller gets the error and nothing
//!   of the batch was written). A crash before the commit is the same case as a crash
//!   before a single outcome's commit: the lease expires and the look-up settles it.
//! * **No task of its own**: the first caller that takes the leader lock writes everything
//!   queued at that moment, its own outcome included; a caller that finds its answer already
//!   sent when it gets the lock returns it. The leader answers before it lets go of the lock,
//!   so a queued outcome is always either answered or still queued.
//! * Event ids stay gapless in commit order per administratie: one upsert advances each
//!   administratie's counter by its number of events in the batch, inside the transaction.

use anyhow::anyhow;
use chrono::{DateTime, SubsecRound, Utc};
use koppeling_domain::notification::NotificationItem;
use koppeling_domain::ports::{Claim, Outcome, StoreError};
use koppeling_domain::readback::EventType;
use tokio::sync::oneshot;

use super::db::{self, Params, R, col, i, other, s, so};
use super::queue::{LAST_SYNC_GRANULARITY_SECS, finish_set, log_fields, outcome_event};
use super::readback::{EventRow, insert_events};
use super::{SeaOrmStore, lock};

/// The outcomes waiting for the next batch, and the lock of the caller writing one.
#[derive(Default)]
pub(super) struct Group {
    queued: std::sync::Mutex<Vec<Job>>,
    leader: tokio::sync::Mutex<()>,
}

/// One outcome to record, and where its answer goes.
struct Job {
    claim: Claim,
    now: DateTime<Utc>,
    outcome: Outcome,
    log_message: String,
    notice: Option<NotificationItem>,
    answer: oneshot::Sender<R<bool>>,
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
    let (answer, mut answered) = oneshot::channel();
    lock(&st.group.queued).push(Job {
        claim: claim.clone(),
        now: now.trunc_subsecs(6),
        outcome: outcome.clone(),
        log_message: log_message.to_owned(),
        notice: notice.cloned(),
        answer,
    });
    let leader = st.group.leader.lock().await;
    if let Ok(result) = answered.try_recv() {
        return result;
    }
    let batch = std::mem::take(&mut *lock(&st.group.queued));
    write(st, batch).await;
    drop(leader);
    answered
        .try_recv()
        .unwrap_or_else(|_| Err(other(anyhow!("the batch with this outcome was abandoned"))))
}

/// Writes `batch` and answers every job in it.
async fn write(st: &SeaOrmStore, batch: Vec<Job>) {
    if batch.is_empty() {
        return;
    }
    let results = match write_batch(st, &batch).await {
        Ok(results) => results,
        Err(error) => {
            let text = format!("{error:#}");
            batch
                .iter()
                .map(|_| {
                    Err(match &error {
                        StoreError::Busy(m) => StoreError::Busy(m.clone()),
                        _ => other(anyhow!("{text}")),
                    })
                })
                .collect()
        }
    };
    for (job, result) in batch.into_iter().zip(results) {
        let _ = job.answer.send(result);
    }
}

/// One transaction for `batch`: each job's answer, or an error for the whole batch.
async fn write_batch(st: &SeaOrmStore, batch: &[Job]) -> R<Vec<R<bool>>> {
    let tx = st.db.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    // The jobs whose fenced UPDATE matched, with their attempt number.
    let mut written: Vec<(&Job, i64)> = Vec::with_capacity(batch.len());
    for job in batch {
        let mut q = Params(Vec::new());
        let set = finish_set(st, &mut q, &job.outcome, job.now);
        let guard = format!(
            "adm = {} AND id = {} AND lease_owner = {} AND sync_status = 'in_progress'",
            q.p(s(job.claim.administratie.as_str())),
            q.p(s(job.claim.invoice_id.as_str())),
            q.p(s(job.claim.worker.as_str())),
        );
        let update = format!("UPDATE invoices SET {set} WHERE {guard} RETURNING attempts");
        match db::one(&*tx, st.db.st(&update, q.0), "recording the outcome").await {
            Ok(Some(row)) => {
                written.push((job, col(&row, "attempts")?));
                results.push(Ok(true));
            }
            Ok(None) => results.push(Ok(false)),
            // SQLite rolled this statement back alone; the batch goes on.
            Err(error) if db::is_unique_error(&error) => results.push(Err(error)),
            Err(error) => return Err(error),
        }
    }
    log_rows(st, &tx, &written).await?;
    last_sync(st, &tx, &written).await?;
    notices(st, &tx, &written).await?;
    events(st, &tx, &written).await?;
    tx.commit().await?;
    Ok(results)
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
