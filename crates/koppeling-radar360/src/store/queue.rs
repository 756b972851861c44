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

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::notification::NotificationItem;
use koppeling_domain::ports::{Claim, ClaimRequest, Outcome, RelatieLink, StoreError, SyncJob};
use sea_orm::{ConnectionTrait, QueryResult};

use super::db::Params;
use super::db::{self, R, RowRef, b, col, col_adm, col_bool, col_id, col_u32, i, s, so};
use super::{SeaOrmStore, invoice, koppeling, lease, lock, relation};

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
pub(super) fn rotation_key<'a>(adm: &'a str, pivot: &str) -> (bool, &'a str) {
    (adm <= pivot, adm)
}

pub(super) async fn claim_due(st: &SeaOrmStore, req: &ClaimRequest) -> R<Vec<Claim>> {
    if st.db.is_postgres() {
        claim_on(st, &st.db.conn, req).await
    } else {
        // SQLite: the leases and the claim in one write transaction, with the other writes
        // queued meanwhile (see `writes`).
        let claims =
            match super::writes::submit(st, super::writes::Write::Claim(req.clone())).await? {
                super::writes::Answer::Claim(claims) => claims,
                _ => return Err(super::writes::mismatch()),
            };
        Ok(claims)
    }
}

pub(super) async fn claim_on(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    req: &ClaimRequest,
) -> R<Vec<Claim>> {
    let (worker, now, lease_until, limit) =
        (req.worker.as_str(), req.now, req.lease_until, req.limit);
    let adm = &req.administratie;
    let (serve, released) = lease::settle_or_reuse(
        st,
        c,
        worker,
        now,
        lease_until,
        adm.as_ref().map(AdministratieCode::as_str),
    )
    .await?;
    if released {
        // Another process may take the released administraties over now.
        st.wake();
    }
    if serve.is_empty() {
        return Ok(Vec::new());
    }
    let pivot = st.pivot();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX).min(10_000);
    let mut claims: Vec<Claim> = Vec::new();
    // One administratie: no rotation needed, take the batch in one pass.
    let mut cap = if serve.len() == 1 { limit } else { 1 };
    for pass in 0..3 {
        let remaining = limit - claims.len();
        if remaining == 0 {
            break;
        }
        let got = claim_pass(st, c, req, remaining, cap, &serve, &pivot).await?;
        if got.is_empty() || serve.len() == 1 {
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
            *lock(&st.pivot) = last.to_owned();
        }
    }
    Ok(claims)
}

/// One pass of a claim for `req` over the administraties `serve` (whose leases this worker
/// holds): at most `limit` invoices, at most `cap` per administratie.
async fn claim_pass(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    req: &ClaimRequest,
    limit: usize,
    cap: usize,
    serve: &[String],
    pivot: &str,
) -> R<Vec<Claim>> {
    let (worker, now, lease_until) = (req.worker.as_str(), req.now, req.lease_until);
    let mut values = vec![
        s(worker),
        st.db.ts(lease_until),
        st.db.ts(now),
        s(pivot),
        i(i64::try_from(cap).unwrap_or(i64::MAX)),
        i(i64::try_from(limit).unwrap_or(i64::MAX)),
    ];
    values.extend(serve.iter().map(|a| s(a.as_str())));
    let serve_list = db::placeholders(7, serve.len());
    let sql = if st.db.is_postgres() {
        // The administraties come in rotation order; the nested loop keeps that order and
        // stops at the outer LIMIT, so later administraties' rows are not even locked.
        format!(
            "UPDATE invoices AS i SET sync_status = 'in_progress', \
             needs_lookup = (i.needs_lookup OR i.sync_status = 'in_progress'), \
             lease_owner = $1, lease_until = $2, due_at = $2, sync_updated_at = $3 \
             FROM ( \
               SELECT c.adm, c.id \
               FROM (SELECT k.adm FROM koppelingen k WHERE k.active AND NOT k.paused \
                     AND k.adm IN ({serve_list}) \
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
        )
    } else {
        // One statement: per administratie (in rotation order) a correlated pick of at
        // most `cap` due invoices from the partial index `invoices_due`, the batch cut at
        // `limit`. `LIMIT -1` keeps the rotation subquery from being flattened (which
        // would lose its order) and `CROSS JOIN` fixes the join order, so only the
        // administraties visited are probed. It runs inside a write transaction, so no
        // other writer interleaves.
        format!(
            "UPDATE invoices SET sync_status = 'in_progress', \
             needs_lookup = (needs_lookup OR sync_status = 'in_progress'), \
             lease_owner = $1, lease_until = $2, due_at = $2, sync_updated_at = $3 \
             WHERE (adm, id) IN ( \
               SELECT k.adm, p.id \
               FROM (SELECT adm FROM koppelingen WHERE active AND NOT paused \
                     AND adm IN ({serve_list}) \
                     ORDER BY (adm <= $4), adm LIMIT -1) AS k \
               CROSS JOIN invoices AS p ON p.adm = k.adm \
               WHERE p.id IN ( \
                 SELECT c.id FROM invoices c WHERE c.adm = k.adm AND {due} \
                 ORDER BY c.due_at LIMIT $5) \
               LIMIT $6) \
             RETURNING adm, id, attempts, needs_lookup, failing_since",
            due = due_condition("$3"),
        )
    };
    let rows = db::all(c, st.db.st(&sql, values), "claiming invoices").await?;
    rows.iter().map(|row| claim_from(row, worker)).collect()
}

/// The job query: the invoice, its relation, the relatie link (if any) and the koppeling;
/// `filter` selects the invoices.
fn job_sql(filter: &str) -> String {
    format!(
        "SELECT {}, {}, l.snelstart_id AS l_snelstart_id, l.fingerprint AS l_fingerprint, {} \
         FROM invoices i \
         JOIN relations r ON r.adm = i.adm AND r.id = i.relation_id \
         JOIN koppelingen k ON k.adm = i.adm \
         LEFT JOIN relatie_links l ON l.adm = i.adm AND l.relation_id = i.relation_id \
         WHERE {filter}",
        db::aliased("i", "", invoice::COLUMNS),
        db::aliased("r", "r_", relation::COLUMNS),
        db::aliased("k", "k_", koppeling::COLUMNS),
    )
}

fn job_from(st: &SeaOrmStore, row: &QueryResult) -> R<SyncJob> {
    let (invoice, _, _) = invoice::invoice_from(row)?;
    let relation = relation::relation_from(RowRef::prefixed(row, "r_"))?;
    let koppeling = koppeling::koppeling_from(st, RowRef::prefixed(row, "k_"))?;
    let link = RowRef::prefixed(row, "l_");
    let snelstart_id: Option<String> = col(link, "snelstart_id")?;
    let fingerprint: Option<String> = col(link, "fingerprint")?;
    let relatie = match (snelstart_id, fingerprint) {
        (Some(snelstart_id), Some(fingerprint)) => Some(RelatieLink {
            snelstart_id,
            fingerprint,
        }),
        _ => None,
    };
    Ok(SyncJob {
        invoice,
        relation,
        relatie,
        koppeling,
    })
}

pub(super) async fn load_job(st: &SeaOrmStore, claim: &Claim) -> R<Option<SyncJob>> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            &job_sql("i.adm = $1 AND i.id = $2"),
            vec![
                s(claim.administratie.as_str()),
                s(claim.invoice_id.as_str()),
            ],
        ),
        "loading the job",
    )
    .await?;
    row.map(|row| job_from(st, &row)).transpose()
}

/// How many claims one job query loads: the statement always has this many `(adm, id)`
/// pairs (a short batch repeats its last pair), so one statement text is prepared and
/// cached per connection, whatever the batch size.
const JOBS_PER_QUERY: usize = 16;

/// The jobs of a batch of claims, in the order of `claims`, [`JOBS_PER_QUERY`] per query.
///
/// The filter is an `OR` of `(adm, id)` pairs, which both engines answer with one primary-key
/// probe per pair (SQLite scans the table for a row-value `IN` list).
pub(super) async fn load_jobs(st: &SeaOrmStore, claims: &[Claim]) -> R<Vec<Option<SyncJob>>> {
    let mut found: HashMap<(String, String), SyncJob> = HashMap::with_capacity(claims.len());
    for chunk in claims.chunks(JOBS_PER_QUERY) {
        let mut values = Vec::with_capacity(JOBS_PER_QUERY * 2);
        let pairs = (0..JOBS_PER_QUERY)
            .map(|k| {
                let c = &chunk[k.min(chunk.len() - 1)];
                values.push(s(c.administratie.as_str()));
                values.push(s(c.invoice_id.as_str()));
                format!(
                    "(i.adm = ${} AND i.id = ${})",
                    values.len() - 1,
                    values.len()
                )
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = job_sql(&format!("({pairs})"));
        let rows = db::all(&st.db.conn, st.db.st(&sql, values), "loading the jobs").await?;
        for row in &rows {
            let job = job_from(st, row)?;
            found.insert(
                (
                    job.koppeling.administratie.to_string(),
                    job.invoice.id.to_string(),
                ),
                job,
            );
        }
    }
    Ok(claims
        .iter()
        .map(|c| found.remove(&(c.administratie.to_string(), c.invoice_id.to_string())))
        .collect())
}

/// The attempt log row of an outcome: (outcome, error class, SnelStart code).
pub(super) fn log_fields(
    outcome: &Outcome,
) -> Option<(&'static str, Option<&'static str>, Option<String>)> {
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
        Outcome::Release { .. } | Outcome::Unqueued => None,
    }
}

/// The `SET` list of `finish` for `outcome` (the lease is cleared in every case).
///
/// * synced: `snelstart_id` set; error, hint, class, code, back-off, lookup and the failure
///   run cleared;
/// * failed: error, hint, code and class set; the lookup flag is cleared (the domain fails
///   an invoice only once the outcome of its earlier writes is settled: the invariant
///   "outcome unknown ⇔ `needs_lookup`" holds);
/// * skipped: the reason as error; the lookup flag cleared likewise;
/// * unqueued: no sync state (as un-ticking leaves a queued invoice), lookup flag cleared,
///   no attempt counted;
/// * retry: queued with its back-off, class transient, the lookup flag and failure run as
///   given;
/// * release: queued again now, no attempt counted, the lookup flag as given, the rest kept.
pub(super) fn finish_set(
    st: &SeaOrmStore,
    q: &mut Params,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> String {
    let now_p = q.p(st.db.ts(now));
    let common = format!("lease_owner = NULL, lease_until = NULL, sync_updated_at = {now_p}");
    let none_ts = || st.db.ts_opt(None);
    let (status, snelstart_id, error, hint, class, code, next, lookup, failing, due) = match outcome
    {
        Outcome::Unqueued => {
            return format!(
                "sync_status = NULL, next_attempt_at = NULL, needs_lookup = {}, due_at = NULL, \
                 sync_error = NULL, sync_hint = NULL, error_class = NULL, snelstart_code = NULL, \
                 failing_since = NULL, {common}",
                q.p(b(false)),
            );
        }
        Outcome::Release { needs_lookup } => {
            return format!(
                "sync_status = 'queued', next_attempt_at = {}, needs_lookup = {}, due_at = {now_p}, \
                 {common}",
                q.p(none_ts()),
                q.p(b(*needs_lookup)),
            );
        }
        Outcome::Synced { snelstart_id } => (
            "synced",
            Some(snelstart_id.clone()),
            None,
            None,
            None,
            None,
            None,
            Some(false),
            None,
            None,
        ),
        Outcome::Failed {
            error,
            hint,
            snelstart_code,
            class,
        } => (
            "failed",
            None,
            Some(error.clone()),
            hint.clone(),
            Some(class.as_str()),
            snelstart_code.clone(),
            None,
            Some(false),
            None,
            None,
        ),
        Outcome::Skipped { reason } => (
            "skipped",
            None,
            Some(reason.clone()),
            None,
            None,
            None,
            None,
            Some(false),
            None,
            None,
        ),
        Outcome::Retry {
            next_attempt_at,
            error,
            snelstart_code,
            needs_lookup,
            failing_since,
        } => (
            "queued",
            None,
            Some(error.clone()),
            None,
            Some("transient"),
            snelstart_code.clone(),
            Some(*next_attempt_at),
            Some(*needs_lookup),
            Some(*failing_since),
            Some(*next_attempt_at),
        ),
    };
    let snelstart_id = match snelstart_id {
        Some(id) => q.p(s(id)),
        None => "snelstart_id".to_owned(),
    };
    let lookup = match lookup {
        Some(v) => q.p(b(v)),
        None => "needs_lookup".to_owned(),
    };
    format!(
        "sync_status = {}, attempts = attempts + 1, snelstart_id = {snelstart_id}, \
         sync_error = {}, sync_hint = {}, error_class = {}, snelstart_code = {}, \
         next_attempt_at = {}, needs_lookup = {lookup}, failing_since = {}, due_at = {}, {common}",
        q.p(s(status)),
        q.p(so(error)),
        q.p(so(hint)),
        q.p(so(class)),
        q.p(so(code)),
        q.p(st.db.ts_opt(next)),
        q.p(st.db.ts_opt(failing)),
        q.p(st.db.ts_opt(due)),
    )
}

/// `last_sync_at` is kept to the second: a busy administratie does not rewrite (and, on
/// PostgreSQL, lock) its koppeling row for every booking.
pub(super) const LAST_SYNC_GRANULARITY_SECS: i64 = 1;

/// Records the outcome of `claim`'s attempt, fenced by its lease; `false` when the lease
/// was lost. A `Synced` outcome whose id another invoice of the administratie holds is
/// refused with `Conflict { code: "snelstart_id_taken" }` and writes nothing (the unique
/// index `invoices_snelstart_id` decides, so concurrent finishes cannot both win).
pub(super) async fn finish(
    st: &SeaOrmStore,
    claim: &Claim,
    now: DateTime<Utc>,
    outcome: &Outcome,
    log_message: &str,
    notice: Option<&NotificationItem>,
) -> R<bool> {
    let result = if st.db.is_postgres() {
        finish_postgres(st, claim, now, outcome, log_message, notice).await
    } else {
        // Written together with the outcomes finished meanwhile (see `group`).
        super::group::finish(st, claim, now, outcome, log_message, notice).await
    };
    match (result, outcome) {
        (Err(error), Outcome::Synced { snelstart_id }) if db::is_unique_error(&error) => {
            let holder = db::one(
                &st.db.conn,
                st.db.st(
                    "SELECT id FROM invoices WHERE adm = $1 AND snelstart_id = $2",
                    vec![s(claim.administratie.as_str()), s(snelstart_id.as_str())],
                ),
                "reading the invoice that holds the booking",
            )
            .await?;
            let holder: Option<String> = holder.map(|row| col(&row, "id")).transpose()?;
            Err(StoreError::Conflict {
                code: "snelstart_id_taken".into(),
                message: format!(
                    "SnelStart booking {snelstart_id} belongs to invoice {}",
                    holder.as_deref().unwrap_or("(another invoice)")
                ),
                field: None,
            })
        }
        (result, _) => result,
    }
}

/// PostgreSQL: the outcome in one statement (see below).
async fn finish_postgres(
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
    let mut q = Params(Vec::new());
    let set = finish_set(st, &mut q, outcome, now);
    let guard = format!(
        "adm = {} AND id = {} AND lease_owner = {} AND sync_status = 'in_progress'",
        q.p(s(adm.as_str())),
        q.p(s(claim.invoice_id.as_str())),
        q.p(s(claim.worker.as_str())),
    );
    let update = format!("UPDATE invoices SET {set} WHERE {guard} RETURNING attempts");
    let synced = matches!(outcome, Outcome::Synced { .. });
    let stale_before = now - chrono::Duration::seconds(LAST_SYNC_GRANULARITY_SECS);
    let log = log_fields(outcome);
    let notice = notice
        .map(|item| Ok::<_, StoreError>((db::json(item)?, item.dedupe_key())))
        .transpose()?;
    // The event for Radar360 (product §8.2), in the same transaction as the state change.
    let event = outcome_event(outcome);

    // One statement, so one round trip and no explicit transaction: the parts only
    // write when the guarded UPDATE matched.
    let mut sql = format!("WITH u AS ({update})");
    if let Some((name, class, code)) = log {
        sql.push_str(&format!(
            ", l AS (INSERT INTO sync_attempts (adm, invoice_id, attempt, at, outcome, \
             error_class, snelstart_code, message) SELECT {}, {}, u.attempts, {}, {}, {}, {}, {} \
             FROM u)",
            q.p(s(adm.as_str())),
            q.p(s(claim.invoice_id.as_str())),
            q.p(st.db.ts(now)),
            q.p(s(name)),
            q.p(so(class)),
            q.p(so(code)),
            q.p(s(log_message)),
        ));
    }
    if synced {
        let now_p = q.p(st.db.ts(now));
        sql.push_str(&format!(
            ", k AS (UPDATE koppelingen SET last_sync_at = {now_p} WHERE adm = {} \
             AND EXISTS (SELECT 1 FROM u) AND (last_sync_at IS NULL OR last_sync_at < {}))",
            q.p(s(adm.as_str())),
            q.p(st.db.ts(stale_before)),
        ));
    }
    if let Some((item, key)) = &notice {
        sql.push_str(&format!(
            ", n AS (INSERT INTO notices (adm, item, dedupe_key, at, consumed) \
             SELECT {}, {}, {}, {}, FALSE FROM u)",
            q.p(s(adm.as_str())),
            q.p(s(item.as_str())),
            q.p(s(key.as_str())),
            q.p(st.db.ts(now)),
        ));
    }
    if let Some((kind, data)) = &event {
        // The administratie's read-back row is the event counter: the upsert locks it
        // until this statement commits, so ids are gapless in commit order.
        sql.push_str(&format!(
            ", e AS (INSERT INTO readback_state (adm, cursor, hour_calls, event_seq)                  SELECT {adm_p}, {cursor_p}, 0, 1 FROM u                  ON CONFLICT (adm) DO UPDATE SET event_seq = readback_state.event_seq + 1                  RETURNING event_seq),                  v AS (INSERT INTO events (adm, id, type, at, invoice_id, data)                  SELECT {adm_p}, e.event_seq, {}, {}, {}, {} FROM e)",
            q.p(s(kind.as_str())),
            q.p(st.db.ts(now)),
            q.p(s(claim.invoice_id.as_str())),
            q.p(s(data.as_str())),
            adm_p = q.p(s(adm.as_str())),
            cursor_p = q.p(s(db::json(&koppeling_domain::readback::Cursor::default())?)),
        ));
    }
    sql.push_str(" SELECT attempts FROM u");
    let row = db::one(&st.db.conn, st.db.st(&sql, q.0), "recording the outcome").await?;
    Ok(row.is_some())
}

/// The event an outcome gives Radar360: synced, failed or skipped (each a change into that
/// state); a retry, a release or an un-queueing is none.
pub(super) fn outcome_event(
    outcome: &Outcome,
) -> Option<(koppeling_domain::readback::EventType, String)> {
    use koppeling_domain::readback::EventType;
    let (kind, data) = match outcome {
        Outcome::Synced { snelstart_id } => (
            EventType::Synced,
            serde_json::json!({ "snelstart_id": snelstart_id }),
        ),
        Outcome::Failed { error, hint, .. } => (
            EventType::Failed,
            serde_json::json!({ "error": error, "hint": hint }),
        ),
        Outcome::Skipped { reason } => {
            (EventType::Skipped, serde_json::json!({ "reason": reason }))
        }
        _ => return None,
    };
    Some((kind, data.to_string()))
}

pub(super) async fn next_due_at(
    st: &SeaOrmStore,
    worker: &str,
    now: DateTime<Utc>,
) -> R<Option<DateTime<Utc>>> {
    // One probe of the partial index `invoices_due` per running koppeling. Work of an
    // administratie another worker holds is due for this one no sooner than that lease
    // ends (the holder may give it up earlier; it then wakes the others).
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT MIN(CASE WHEN k.worker_owner IS NULL OR k.worker_owner = $1 \
             OR k.worker_until IS NULL OR k.worker_until < $2 OR k.worker_until < k.due_at \
             THEN k.due_at ELSE k.worker_until END) AS due_at \
             FROM (SELECT k.worker_owner, k.worker_until, \
               (SELECT c.due_at FROM invoices c WHERE c.adm = k.adm \
                AND c.sync_status IN ('queued', 'in_progress') ORDER BY c.due_at LIMIT 1) AS due_at \
               FROM koppelingen k WHERE k.active AND NOT k.paused) AS k \
             WHERE k.due_at IS NOT NULL",
            vec![s(worker), st.db.ts(now)],
        ),
        "finding the next due invoice",
    )
    .await?;
    match row {
        None => Ok(None),
        Some(row) => col(&row, "due_at"),
    }
}
