//! Administratie leases: each administratie is served by one worker process at a time.
//!
//! SnelStart's limits (calls per minute and hour, concurrent calls) and an announced
//! `Retry-After` hold per administratie. A process keeps them client-side, so they only
//! hold across processes when one process at a time sends an administratie's calls. Every
//! claim therefore first settles which administraties the claiming worker serves:
//!
//! * a worker announces itself in `sync_workers` (`seen_at`) at every claim; the workers
//!   seen within one lease period are *live*;
//! * every active, unpaused koppeling is a *candidate*; each live worker's fair share is
//!   ⌈candidates ÷ live⌉. The share counts administraties with and without work alike, so
//!   the split is stable: it changes when a worker comes or goes or a koppeling is switched,
//!   not whenever a queue runs empty (an idle administratie stays with its worker, which is
//!   woken when work for it arrives);
//! * a worker keeps (renews) its own candidates up to its share, and takes free ones
//!   (no owner, or the owner's lease expired) in rotation order until it has its share;
//! * an administratie it holds beyond its share, or that is no longer a candidate, is given
//!   up, but only when none of its invoices is in flight under this worker and none waits
//!   out a back-off or `Retry-After` (then the next owner can not send inside that window);
//!   until then it is kept, and beyond the share it is drained (no new claims) — except one
//!   that waits out a back-off, which stays claimable so that its waiting invoice is not
//!   stranded;
//! * the lease is taken with a conditional `UPDATE` (`owner` is me, none, or expired), so of
//!   two workers racing for one administratie exactly one gets it, on both engines.
//!
//! A crashed worker's leases expire after one lease period, like its invoice claims, and
//! are then taken over (its in-flight invoices with a lookup first).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::db::{self, R, col, col_bool, s};
use super::queue::rotation_key;
use super::{SeaOrmStore, lock};

/// One koppeling as the lease decision sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AdmState {
    /// The administratie.
    pub adm: String,
    /// The worker holding the lease, if any.
    pub owner: Option<String>,
    /// Until when (an expired lease is free).
    pub until: Option<DateTime<Utc>>,
    /// Active and not paused.
    pub candidate: bool,
    /// An invoice of it is in flight under the deciding worker.
    pub busy: bool,
    /// A queued invoice of it waits out a back-off or `Retry-After`.
    pub waiting: bool,
}

/// What a worker does with the leases this claim.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LeasePlan {
    /// Administraties it claims invoices from (renewed or newly taken).
    pub serve: Vec<String>,
    /// Administraties it keeps but does not claim from (draining, or not a candidate).
    pub renew: Vec<String>,
    /// Administraties it gives up.
    pub release: Vec<String>,
}

/// Decides the leases of `me` (pure; see the module docs). `live` counts the live workers
/// (at least `me`), `pivot` is the administratie served last (rotation).
pub(crate) fn plan(
    me: &str,
    now: DateTime<Utc>,
    states: &[AdmState],
    live: usize,
    pivot: &str,
) -> LeasePlan {
    let candidates = states.iter().filter(|a| a.candidate).count();
    let share = candidates.div_ceil(live.max(1));
    let mut mine: Vec<&AdmState> = states
        .iter()
        .filter(|a| a.owner.as_deref() == Some(me))
        .collect();
    // Kept first: those that can not be given up now, then in code order.
    mine.sort_by_key(|a| (!(a.busy || a.waiting), a.adm.as_str()));
    let mut out = LeasePlan::default();
    for a in mine {
        if a.candidate && out.serve.len() < share {
            out.serve.push(a.adm.clone());
        } else if a.candidate && a.waiting {
            // Beyond the share but waiting out a back-off: keep serving it.
            out.serve.push(a.adm.clone());
        } else if a.busy || a.waiting {
            out.renew.push(a.adm.clone());
        } else {
            out.release.push(a.adm.clone());
        }
    }
    let wanted = share.saturating_sub(out.serve.len());
    let mut free: Vec<&AdmState> = states
        .iter()
        .filter(|a| {
            a.candidate
                && a.owner.as_deref() != Some(me)
                && (a.owner.is_none() || a.until.is_none_or(|until| until < now))
        })
        .collect();
    free.sort_by_key(|a| rotation_key(&a.adm, pivot));
    out.serve
        .extend(free.into_iter().take(wanted).map(|a| a.adm.clone()));
    out
}

/// The leases settled last, per worker and `only` filter: `(settled at, serve list)`.
///
/// Settling costs a few statements (on SQLite inside the claim's write transaction), so a
/// claim within [`reuse_window`] of the last settle reuses its answer: the leases it took
/// run a whole lease period, so no other worker can hold those administraties meanwhile.
/// Koppeling changes made through this store forget it (an activation is served at once);
/// other processes' changes are seen within the window.
pub(crate) type Settled = HashMap<(String, Option<String>), (DateTime<Utc>, Vec<String>)>;

/// How long a settle is reused: a second, or a quarter of the lease period when shorter.
fn reuse_window(now: DateTime<Utc>, lease_until: DateTime<Utc>) -> chrono::Duration {
    ((lease_until - now) / 4).min(chrono::Duration::seconds(1))
}

/// Forgets every settled answer (the koppelingen changed).
pub(crate) fn forget_settled(st: &SeaOrmStore) {
    lock(&st.leases).clear();
}

/// [`settle`], or its answer of less than [`reuse_window`] ago.
pub(crate) async fn settle_or_reuse(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    only: Option<&str>,
) -> R<(Vec<String>, bool)> {
    let key = (worker.to_owned(), only.map(str::to_owned));
    if let Some((at, serve)) = lock(&st.leases).get(&key)
        && *at <= now
        && now < *at + reuse_window(now, lease_until)
    {
        return Ok((serve.clone(), false));
    }
    let (serve, released) = settle(st, c, worker, now, lease_until, only).await?;
    lock(&st.leases).insert(key, (now, serve.clone()));
    Ok((serve, released))
}

/// Settles the leases of `worker` for a claim at `now` (see the module docs) and returns
/// the administraties it may claim invoices from. `only` limits it to one administratie
/// (`sync --once --administratie`). Runs on `c`: the claim's write transaction on SQLite,
/// the pool (one statement at a time) on PostgreSQL.
async fn settle(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    only: Option<&str>,
) -> R<(Vec<String>, bool)> {
    let period = (lease_until - now).max(chrono::Duration::seconds(1));
    db::exec(
        c,
        st.db.st(
            "INSERT INTO sync_workers (worker, seen_at) VALUES ($1, $2) \
             ON CONFLICT (worker) DO UPDATE SET seen_at = excluded.seen_at",
            vec![s(worker), st.db.ts(now)],
        ),
        "announcing the worker",
    )
    .await?;
    db::exec(
        c,
        st.db.st(
            "DELETE FROM sync_workers WHERE seen_at < $1",
            vec![st.db.ts(now - period * 10)],
        ),
        "forgetting workers gone long ago",
    )
    .await?;
    let live = db::one(
        c,
        st.db.st(
            "SELECT COUNT(*) AS n FROM sync_workers WHERE seen_at >= $1",
            vec![st.db.ts(now - period)],
        ),
        "counting live workers",
    )
    .await?
    .map(|row| col::<i64>(&row, "n"))
    .transpose()?
    .unwrap_or(1);
    let mut values = vec![s(worker), st.db.ts(now)];
    let only_filter = match only {
        Some(adm) => {
            values.push(s(adm));
            " AND k.adm = $3"
        }
        None => "",
    };
    // Both probes use the partial index `invoices_due (adm, due_at)`: in-flight claims and
    // back-offs are the pending rows due in the future.
    let pending = "c.adm = k.adm AND c.sync_status IN ('queued', 'in_progress')";
    let sql = format!(
        "SELECT k.adm, k.worker_owner, k.worker_until, (k.active AND NOT k.paused) AS candidate, \
         EXISTS (SELECT 1 FROM invoices c WHERE {pending} AND c.due_at > $2 \
           AND c.sync_status = 'in_progress' AND c.lease_owner = $1) AS busy, \
         EXISTS (SELECT 1 FROM invoices c WHERE {pending} AND c.due_at > $2 \
           AND c.sync_status = 'queued') AS waiting \
         FROM koppelingen k \
         WHERE (k.worker_owner = $1 OR (k.active AND NOT k.paused)){only_filter}"
    );
    let rows = db::all(
        c,
        st.db.st(&sql, values),
        "reading the administratie leases",
    )
    .await?;
    let states = rows
        .iter()
        .map(|row| {
            Ok(AdmState {
                adm: col(row, "adm")?,
                owner: col(row, "worker_owner")?,
                until: col(row, "worker_until")?,
                candidate: col_bool(row, "candidate")?,
                busy: col_bool(row, "busy")?,
                waiting: col_bool(row, "waiting")?,
            })
        })
        .collect::<R<Vec<_>>>()?;
    let pivot = st.pivot();
    let live = usize::try_from(live).unwrap_or(1).max(1);
    let plan = if only.is_some() {
        // One administratie on request: it is this worker's whole share.
        plan(worker, now, &states, 1, &pivot)
    } else {
        plan(worker, now, &states, live, &pivot)
    };

    let mut released = false;
    if !plan.release.is_empty() {
        let mut values = vec![s(worker)];
        values.extend(plan.release.iter().map(|a| s(a.as_str())));
        let sql = format!(
            "UPDATE koppelingen SET worker_owner = NULL, worker_until = NULL \
             WHERE worker_owner = $1 AND adm IN ({})",
            db::placeholders(2, plan.release.len())
        );
        released = db::exec(c, st.db.st(&sql, values), "releasing administratie leases").await? > 0;
    }
    let mut serve = Vec::new();
    let take: Vec<&String> = plan.serve.iter().chain(plan.renew.iter()).collect();
    if !take.is_empty() {
        let mut values = vec![s(worker), st.db.ts(lease_until), st.db.ts(now)];
        values.extend(take.iter().map(|a| s(a.as_str())));
        let sql = format!(
            "UPDATE koppelingen SET worker_owner = $1, worker_until = $2 \
             WHERE adm IN ({}) AND (worker_owner = $1 OR worker_owner IS NULL \
             OR worker_until IS NULL OR worker_until < $3) RETURNING adm",
            db::placeholders(4, take.len())
        );
        let rows = db::all(c, st.db.st(&sql, values), "taking administratie leases").await?;
        let held: BTreeSet<String> = rows
            .iter()
            .map(|row| col::<String>(row, "adm"))
            .collect::<R<_>>()?;
        serve = plan
            .serve
            .into_iter()
            .filter(|a| held.contains(a))
            .collect();
    }
    Ok((serve, released))
}

/// Gives up every lease of `worker` and forgets it (a clean shutdown), so that another
/// process takes its administraties over at once instead of after the lease period.
pub(crate) async fn release_worker(st: &SeaOrmStore, worker: &str) -> R<()> {
    lock(&st.leases).retain(|(w, _), _| w != worker);
    let tx = st.db.begin().await?;
    db::exec(
        &*tx,
        st.db.st(
            "UPDATE koppelingen SET worker_owner = NULL, worker_until = NULL \
             WHERE worker_owner = $1",
            vec![s(worker)],
        ),
        "releasing administratie leases",
    )
    .await?;
    db::exec(
        &*tx,
        st.db.st(
            "DELETE FROM sync_workers WHERE worker = $1",
            vec![s(worker)],
        ),
        "forgetting the worker",
    )
    .await?;
    tx.commit().await?;
    st.wake();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn adm(code: &str, owner: Option<&str>, until: i64) -> AdmState {
        AdmState {
            adm: code.to_owned(),
            owner: owner.map(str::to_owned),
            until: owner.map(|_| t(until)),
            candidate: true,
            busy: false,
            waiting: false,
        }
    }

    #[test]
    fn a_lone_worker_takes_every_candidate() {
        let states = [
            adm("a", None, 0),
            adm("b", None, 0),
            adm("c", Some("x"), -1),
        ];
        let p = plan("me", t(0), &states, 1, "");
        assert_eq!(p.serve, ["a", "b", "c"], "c's lease expired");
        assert!(p.release.is_empty());
    }

    #[test]
    fn an_unexpired_lease_of_another_worker_is_never_taken() {
        let states = [adm("a", Some("x"), 10), adm("b", None, 0)];
        let p = plan("me", t(0), &states, 1, "");
        assert_eq!(p.serve, ["b"]);
    }

    #[test]
    fn the_fair_share_is_candidates_over_live_workers() {
        let states: Vec<AdmState> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|c| adm(c, None, 0))
            .collect();
        assert_eq!(plan("me", t(0), &states, 2, "").serve, ["a", "b", "c"]);
        assert_eq!(plan("me", t(0), &states, 2, "b").serve, ["c", "d", "e"]);
        assert_eq!(plan("me", t(0), &states, 5, "").serve.len(), 1);
    }

    #[test]
    fn beyond_the_share_idle_ones_go_busy_ones_drain_waiting_ones_stay() {
        let mut busy = adm("b", Some("me"), 10);
        busy.busy = true;
        let mut waiting = adm("w", Some("me"), 10);
        waiting.waiting = true;
        let states = [
            adm("a", Some("me"), 10),
            busy,
            adm("c", Some("me"), 10),
            waiting,
        ];
        // Four candidates, four live workers: a share of one.
        let p = plan("me", t(0), &states, 4, "");
        assert_eq!(p.serve, ["b", "w"], "kept first: the ones in use");
        assert!(p.renew.is_empty());
        assert_eq!(p.release, ["a", "c"]);
        // Share two: b is kept and served, w waits out its back-off and is served too.
        let p = plan("me", t(0), &states, 2, "");
        assert_eq!(p.serve, ["b", "w"]);
        assert_eq!(p.release, ["a", "c"]);
    }

    #[test]
    fn a_switched_off_koppeling_is_released_unless_in_flight() {
        let mut done = adm("a", Some("me"), 10);
        done.candidate = false;
        let mut paused_in_flight = adm("b", Some("me"), 10);
        paused_in_flight.candidate = false;
        paused_in_flight.busy = true;
        let p = plan("me", t(0), &[done, paused_in_flight], 1, "");
        assert!(p.serve.is_empty());
        assert_eq!(p.renew, ["b"]);
        assert_eq!(p.release, ["a"]);
    }
}
