//! The work queue: claiming due invoices under a lease, loading a job, and recording the
//! outcome of an attempt.
//!
//! Claiming is the one engine-specific query. PostgreSQL runs one `UPDATE … FROM (SELECT …
//! FOR UPDATE SKIP LOCKED) … RETURNING`, so concurrent claimers (in any process) skip each
//! other's rows. SQLite has one writer at a time: the claim is a single `BEGIN IMMEDIATE`
//! transaction that selects and updates.
//!
//! Fairness: without an administratie filter, a claim takes at most one invoice per
//! administratie per pass, visiting administraties round-robin from the one after the
//! administratie served last (per process); further passes fill the batch evenly when few
//! administraties have work. One administratie with a long queue therefore never starves
//! the others.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::notification::NotificationItem;
use koppeling_domain::ports::{Claim, Outcome, SyncJob, SyncStatus};
use sea_orm::QueryResult;

use super::SeaOrmStore;
use super::db::{self, R, b, col, col_adm, col_bool, col_id, col_u32, i, s, so};
use super::invoice::{SyncCols, read_invoice};
use super::koppeling::read_koppeling;
use super::relation::{read_relatie_link, read_relation};

/// The condition for a claimable invoice row `c` (`$now` is the given parameter).
fn due_condition(now: &str) -> String {
    format!(
        "c.sync_status IN ('queued', 'in_progress') \
         AND ((c.sync_status = 'queued' AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= {now})) \
         OR (c.sync_status = 'in_progress' AND c.lease_until < {now}))"
    )
}

fn claim_from(row: &QueryResult, worker: &str) -> R<Claim> {
    Ok(Claim {
        administratie: col_adm(row, "adm")?,
        invoice_id: col_id(row, "id")?,
        attempts: col_u32(row, "attempts")?,
        needs_lookup: col_bool(row, "needs_lookup")?,
        failing_since: col(row, "failing_since")?,
        worker: worker.to_owned(),
    })
}

/// Where an administratie comes in the rotation that starts after `pivot`.
fn rotation_key<'a>(adm: &'a str, pivot: &str) -> (bool, &'a str) {
    (adm <= pivot, adm)
}

pub(super) async fn claim_due(
    st: &SeaOrmStore,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
    adm: Option<AdministratieCode>,
) -> R<Vec<Claim>> {
    let pivot = st
        .pivot
        .lock()
        .map(|p| p.clone())
        .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
    let limit = usize::try_from(limit).unwrap_or(usize::MAX).min(10_000);
    let mut claims: Vec<Claim> = Vec::new();
    // One administratie: no rotation needed, take the batch in one pass.
    let mut cap = if adm.is_some() { limit } else { 1 };
    for pass in 0..3 {
        let remaining = limit - claims.len();
        if remaining == 0 {
            break;
        }
        let got = if st.db.is_postgres() {
            claim_pass_pg(
                st,
                worker,
                now,
                lease_until,
                remaining,
                cap,
                adm.as_ref(),
                &pivot,
            )
            .await?
        } else {
            claim_pass_sqlite(
                st,
                worker,
                now,
                lease_until,
                remaining,
                cap,
                adm.as_ref(),
                &pivot,
            )
            .await?
        };
        if got.is_empty() || adm.is_some() {
            claims.extend(got);
            break;
        }
        let served: BTreeSet<&str> = got.iter().map(|c| c.administratie.as_str()).collect();
        let exhausted_list = got.len() < remaining;
        cap = if pass == 0 {
            // Every administratie with work got one; share the rest evenly among them.
            (remaining - got.len()).div_ceil(served.len().max(1))
        } else {
            // Some ran dry: let the others fill the batch.
            remaining
        };
        claims.extend(got);
        if !exhausted_list {
            break;
        }
    }
    if adm.is_none() {
        let last = claims
            .iter()
            .map(|c| c.administratie.as_str())
            .max_by(|a, b| rotation_key(a, &pivot).cmp(&rotation_key(b, &pivot)));
        if let Some(last) = last {
            let last = last.to_owned();
            match st.pivot.lock() {
                Ok(mut p) => *p = last,
                Err(poisoned) => *poisoned.into_inner() = last,
            }
        }
    }
    Ok(claims)
}

#[allow(clippy::too_many_arguments)]
async fn claim_pass_pg(
    st: &SeaOrmStore,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: usize,
    cap: usize,
    adm: Option<&AdministratieCode>,
    pivot: &str,
) -> R<Vec<Claim>> {
    let mut values = vec![
        s(worker),
        st.db.ts(lease_until),
        st.db.ts(now),
        s(pivot),
        i(i64::try_from(cap).unwrap_or(i64::MAX)),
        i(i64::try_from(limit).unwrap_or(i64::MAX)),
    ];
    let adm_filter = match adm {
        Some(adm) => {
            values.push(s(adm.as_str()));
            " AND k.adm = $7"
        }
        None => "",
    };
    // The administraties come in rotation order; the nested loop keeps that order and stops
    // at the outer LIMIT, so later administraties' rows are not even locked.
    let sql = format!(
        "UPDATE invoices AS i SET sync_status = 'in_progress', \
         needs_lookup = (i.needs_lookup OR i.sync_status = 'in_progress'), \
         lease_owner = $1, lease_until = $2, due_at = $2, sync_updated_at = $3 \
         FROM ( \
           SELECT c.adm, c.id \
           FROM (SELECT k.adm FROM koppelingen k WHERE k.active AND NOT k.paused{adm_filter} \
                 ORDER BY (k.adm <= $4), k.adm) AS k \
           CROSS JOIN LATERAL ( \
             SELECT c.adm, c.id FROM invoices c \
             WHERE c.adm = k.adm AND {due} \
             ORDER BY c.due_at LIMIT $5 \
             FOR UPDATE OF c SKIP LOCKED \
           ) AS c \
           LIMIT $6 \
         ) AS p \
         WHERE i.adm = p.adm AND i.id = p.id \
         RETURNING i.adm, i.id, i.attempts, i.needs_lookup, i.failing_since",
        due = due_condition("$3"),
    );
    let rows = db::all(&st.db.conn, st.db.st(&sql, values), "claiming invoices").await?;
    rows.iter().map(|row| claim_from(row, worker)).collect()
}

#[allow(clippy::too_many_arguments)]
async fn claim_pass_sqlite(
    st: &SeaOrmStore,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: usize,
    cap: usize,
    adm: Option<&AdministratieCode>,
    pivot: &str,
) -> R<Vec<Claim>> {
    let mut values = vec![
        s(worker),
        st.db.ts(lease_until),
        st.db.ts(now),
        s(pivot),
        i(i64::try_from(cap).unwrap_or(i64::MAX)),
        i(i64::try_from(limit).unwrap_or(i64::MAX)),
    ];
    let adm_filter = match adm {
        Some(adm) => {
            values.push(s(adm.as_str()));
            " AND adm = $7"
        }
        None => "",
    };
    // One statement: per administratie (in rotation order) a correlated pick of at most
    // `cap` due invoices from the partial index `invoices_due`, the batch cut at `limit`.
    // `LIMIT -1` keeps the rotation subquery from being flattened (which would lose its
    // order) and `CROSS JOIN` fixes the join order, so only the administraties visited
    // are probed. It runs inside a write transaction, so no other writer interleaves.
    let sql = format!(
        "UPDATE invoices SET sync_status = 'in_progress', \
         needs_lookup = (needs_lookup OR sync_status = 'in_progress'), \
         lease_owner = $1, lease_until = $2, due_at = $2, sync_updated_at = $3 \
         WHERE (adm, id) IN ( \
           SELECT k.adm, p.id \
           FROM (SELECT adm FROM koppelingen WHERE active AND NOT paused{adm_filter} \
                 ORDER BY (adm <= $4), adm LIMIT -1) AS k \
           CROSS JOIN invoices AS p ON p.adm = k.adm \
           WHERE p.id IN ( \
             SELECT c.id FROM invoices c WHERE c.adm = k.adm AND {due} \
             ORDER BY c.due_at LIMIT $5) \
           LIMIT $6) \
         RETURNING adm, id, attempts, needs_lookup, failing_since",
        due = due_condition("$3"),
    );
    let tx = st.db.begin().await?;
    let rows = db::all(&*tx, st.db.st(&sql, values), "claiming invoices").await?;
    let claims = rows
        .iter()
        .map(|row| claim_from(row, worker))
        .collect::<R<Vec<_>>>()?;
    tx.commit().await?;
    Ok(claims)
}

pub(super) async fn load_job(st: &SeaOrmStore, claim: &Claim) -> R<Option<SyncJob>> {
    let conn = &st.db.conn;
    let adm = &claim.administratie;
    let Some((invoice, _, _)) = read_invoice(st, conn, adm, &claim.invoice_id, false).await? else {
        return Ok(None);
    };
    let Some(relation) = read_relation(st, conn, adm, &invoice.relation_id, false).await? else {
        return Ok(None);
    };
    let relatie = read_relatie_link(st, conn, adm, &invoice.relation_id).await?;
    let Some(koppeling) = read_koppeling(st, conn, adm).await? else {
        return Ok(None);
    };
    Ok(Some(SyncJob {
        invoice,
        relation,
        relatie,
        koppeling,
    }))
}

/// The attempt log row of an outcome: (outcome, error class, SnelStart code).
fn log_fields(outcome: &Outcome) -> Option<(&'static str, Option<&'static str>, Option<String>)> {
    match outcome {
        Outcome::Synced { .. } => Some(("synced", None, None)),
        Outcome::Failed {
            snelstart_code,
            class,
            ..
        } => Some(("failed", Some(class.as_str()), snelstart_code.clone())),
        Outcome::Skipped { .. } => Some(("skipped", None, None)),
        Outcome::Retry { snelstart_code, .. } => {
            Some(("retry", Some("transient"), snelstart_code.clone()))
        }
        Outcome::Release { .. } => None,
    }
}

/// The sync columns after `outcome`.
fn after(sync: &SyncCols, outcome: &Outcome, now: DateTime<Utc>) -> SyncCols {
    let base = SyncCols {
        lease_owner: None,
        lease_until: None,
        updated_at: Some(now),
        attempts: sync.attempts + 1,
        ..sync.clone()
    };
    match outcome {
        Outcome::Synced { snelstart_id } => SyncCols {
            status: Some(SyncStatus::Synced),
            snelstart_id: Some(snelstart_id.clone()),
            error: None,
            hint: None,
            error_class: None,
            snelstart_code: None,
            next_attempt_at: None,
            needs_lookup: false,
            failing_since: None,
            due_at: None,
            ..base
        },
        Outcome::Failed {
            error,
            hint,
            snelstart_code,
            class,
        } => SyncCols {
            status: Some(SyncStatus::Failed),
            error: Some(error.clone()),
            hint: hint.clone(),
            error_class: Some(class.as_str().to_owned()),
            snelstart_code: snelstart_code.clone(),
            next_attempt_at: None,
            failing_since: None,
            due_at: None,
            ..base
        },
        Outcome::Skipped { reason } => SyncCols {
            status: Some(SyncStatus::Skipped),
            error: Some(reason.clone()),
            hint: None,
            error_class: None,
            snelstart_code: None,
            next_attempt_at: None,
            failing_since: None,
            due_at: None,
            ..base
        },
        Outcome::Retry {
            next_attempt_at,
            error,
            snelstart_code,
            needs_lookup,
            failing_since,
        } => SyncCols {
            status: Some(SyncStatus::Queued),
            error: Some(error.clone()),
            hint: None,
            error_class: Some("transient".to_owned()),
            snelstart_code: snelstart_code.clone(),
            next_attempt_at: Some(*next_attempt_at),
            needs_lookup: *needs_lookup,
            failing_since: Some(*failing_since),
            due_at: Some(*next_attempt_at),
            ..base
        },
        Outcome::Release { needs_lookup } => SyncCols {
            status: Some(SyncStatus::Queued),
            attempts: sync.attempts,
            next_attempt_at: None,
            needs_lookup: *needs_lookup,
            due_at: Some(now),
            ..base
        },
    }
}

pub(super) async fn finish(
    st: &SeaOrmStore,
    claim: &Claim,
    now: DateTime<Utc>,
    outcome: &Outcome,
    log_message: &str,
    notice: Option<&NotificationItem>,
) -> R<bool> {
    use chrono::SubsecRound;
    let now = now.trunc_subsecs(6);
    let adm = &claim.administratie;
    let tx = st.db.begin().await?;
    let Some((_, sync, _)) = read_invoice(st, &*tx, adm, &claim.invoice_id, true).await? else {
        return Ok(false);
    };
    if sync.status != Some(SyncStatus::InProgress)
        || sync.lease_owner.as_deref() != Some(claim.worker.as_str())
    {
        return Ok(false);
    }
    let next = after(&sync, outcome, now);
    let values = vec![
        s(adm.as_str()),
        s(claim.invoice_id.as_str()),
        s(claim.worker.as_str()),
        so(next.status.map(SyncStatus::as_str)),
        so(next.snelstart_id.clone()),
        so(next.error.clone()),
        so(next.hint.clone()),
        so(next.error_class.clone()),
        so(next.snelstart_code.clone()),
        i(next.attempts),
        st.db.ts_opt(next.next_attempt_at),
        b(next.needs_lookup),
        st.db.ts_opt(next.failing_since),
        st.db.ts_opt(next.due_at),
        st.db.ts_opt(next.updated_at),
    ];
    let n = db::exec(
        &*tx,
        st.db.st(
            "UPDATE invoices SET sync_status = $4, snelstart_id = $5, sync_error = $6, \
             sync_hint = $7, error_class = $8, snelstart_code = $9, attempts = $10, \
             next_attempt_at = $11, needs_lookup = $12, failing_since = $13, lease_owner = NULL, \
             lease_until = NULL, due_at = $14, sync_updated_at = $15 \
             WHERE adm = $1 AND id = $2 AND lease_owner = $3 AND sync_status = 'in_progress'",
            values,
        ),
        "recording the outcome",
    )
    .await?;
    if n == 0 {
        return Ok(false);
    }
    if let Some((name, class, code)) = log_fields(outcome) {
        db::exec(
            &*tx,
            st.db.st(
                "INSERT INTO sync_attempts (adm, invoice_id, attempt, at, outcome, error_class, \
                 snelstart_code, message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    s(adm.as_str()),
                    s(claim.invoice_id.as_str()),
                    i(next.attempts),
                    st.db.ts(now),
                    s(name),
                    so(class),
                    so(code),
                    s(log_message),
                ],
            ),
            "logging the attempt",
        )
        .await?;
    }
    if matches!(outcome, Outcome::Synced { .. }) {
        db::exec(
            &*tx,
            st.db.st(
                "UPDATE koppelingen SET last_sync_at = $1 WHERE adm = $2",
                vec![st.db.ts(now), s(adm.as_str())],
            ),
            "recording the last sync",
        )
        .await?;
    }
    if let Some(item) = notice {
        super::notify::insert_notice(st, &tx, adm, item, now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn next_due_at(st: &SeaOrmStore) -> R<Option<DateTime<Utc>>> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT MIN((SELECT c.due_at FROM invoices c WHERE c.adm = k.adm \
             AND c.sync_status IN ('queued', 'in_progress') ORDER BY c.due_at LIMIT 1)) AS due_at \
             FROM koppelingen k WHERE k.active AND NOT k.paused",
            vec![],
        ),
        "finding the next due invoice",
    )
    .await?;
    // One probe of the partial index `invoices_due` per running koppeling.
    match row {
        None => Ok(None),
        Some(row) => col(&row, "due_at"),
    }
}
