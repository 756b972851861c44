//! The work queue: concurrent claimers, leases, finishing, pauses, fairness and outcomes.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::invoice::InvoiceStatus;
use koppeling_domain::notification::{NoticeKind, NotificationItem};
use koppeling_domain::ports::roles::*;
use koppeling_domain::ports::{Claim, ClaimRequest, ErrorClass, Outcome, RelatieLink, SyncStatus};
use koppeling_radar360::SeaOrmStore;

use crate::helpers::{Harness, adm, administratie, connect, invoice, now, relation_r1, rid, secs};

/// An administratie with `n` queued invoices (`<code>-<k>`), its koppeling switched as
/// asked (`None`: no koppeling at all).
async fn with_invoices(
    s: &SeaOrmStore,
    code: &str,
    n: usize,
    active: Option<bool>,
) -> AdministratieCode {
    let a = administratie(s, code).await;
    if let Some(active) = active {
        connect(s, &a, active).await;
    }
    relation_r1(s, &a, true).await;
    for k in 0..n {
        s.put_invoice(
            &a,
            &invoice(&format!("{code}-{k}"), "r1", InvoiceStatus::Final),
        )
        .await
        .unwrap();
    }
    a
}

/// Finishes `c` as synced at `at`; whether the lease still held.
async fn synced(store: &SeaOrmStore, c: &Claim, at: chrono::DateTime<chrono::Utc>) -> bool {
    store
        .finish(
            c,
            at,
            &Outcome::Synced {
                snelstart_id: format!("id-{}", c.invoice_id),
            },
            "ok",
            None,
        )
        .await
        .unwrap()
}

fn key_of(c: &Claim) -> (String, String) {
    (c.administratie.to_string(), c.invoice_id.to_string())
}

pub async fn concurrent_claimers_never_share_an_invoice(h: Harness) {
    for code in ["a", "b", "c", "d"] {
        with_invoices(&h.store, code, 50, Some(true)).await;
    }
    let total = 200;
    let claimed = Arc::new(AtomicUsize::new(0));
    // Which worker has claims of an administratie in flight, and how many.
    let in_flight: Arc<Mutex<BTreeMap<String, (String, usize)>>> = Arc::default();
    let second = h.another_store().await;
    let mut tasks = Vec::new();
    for (n, store) in [h.store.clone(), h.store.clone(), second.clone(), second]
        .into_iter()
        .enumerate()
    {
        let claimed = claimed.clone();
        let in_flight = in_flight.clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("worker-{n}");
            let mut mine = Vec::new();
            let mut idle = 0;
            while claimed.load(Ordering::SeqCst) < total && idle < 2000 {
                let t = now();
                let got = store
                    .claim_due(ClaimRequest::new(&worker, t, t + secs(300), 7))
                    .await
                    .unwrap();
                if got.is_empty() {
                    idle += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    continue;
                }
                claimed.fetch_add(got.len(), Ordering::SeqCst);
                assert!(got.iter().all(|c| c.worker == worker && !c.needs_lookup));
                {
                    let mut map = in_flight.lock().unwrap();
                    for c in &got {
                        let entry = map
                            .entry(c.administratie.to_string())
                            .or_insert_with(|| (worker.clone(), 0));
                        assert!(
                            entry.1 == 0 || entry.0 == worker,
                            "administratie {} served by {} and {worker} at once",
                            c.administratie,
                            entry.0
                        );
                        *entry = (worker.clone(), entry.1 + 1);
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                for c in &got {
                    // Leave the in-flight map first: the finish ends the claim.
                    in_flight
                        .lock()
                        .unwrap()
                        .get_mut(c.administratie.as_str())
                        .unwrap()
                        .1 -= 1;
                    assert!(
                        synced(&store, c, now()).await,
                        "the lease holder's finish counts"
                    );
                }
                mine.extend(got);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    let mut per_worker = Vec::new();
    for task in tasks {
        let mine = task.await.unwrap();
        per_worker.push(mine.len());
        all.extend(mine);
    }
    let unique: HashSet<_> = all.iter().map(key_of).collect();
    assert_eq!(unique.len(), all.len(), "an invoice was claimed twice");
    assert_eq!(
        all.len(),
        total,
        "every invoice claimed once: {per_worker:?}"
    );
    let t = now();
    assert!(
        h.store
            .claim_due(ClaimRequest::new("late", t, t + secs(300), 100))
            .await
            .unwrap()
            .is_empty()
    );
    eprintln!("claims per worker ({:?}): {per_worker:?}", h.engine);
}

/// Administratie leases: a lone worker serves everything; a second one gets a fair share
/// once the first has nothing of it in flight; a back-off keeps its administratie with
/// the worker that saw it; a clean stop hands everything over at once.
pub async fn administraties_are_served_by_one_worker_at_a_time(h: Harness) {
    let s = &h.store;
    for code in ["a", "b", "c", "d"] {
        with_invoices(s, code, 3, Some(true)).await;
    }
    let other = h.another_store().await;
    let t = now();
    let lease = |at| at + secs(60);
    let adms = |claims: &[Claim]| -> BTreeSet<String> {
        claims.iter().map(|c| c.administratie.to_string()).collect()
    };
    // A alone: every administratie, one invoice each (fair rotation).
    let a1 = s
        .claim_due(ClaimRequest::new("A", t, lease(t), 4))
        .await
        .unwrap();
    assert_eq!(adms(&a1).len(), 4, "{a1:?}");
    // B arrives: A holds everything with claims in flight, so B gets nothing yet.
    let b1 = other
        .claim_due(ClaimRequest::new("B", t, lease(t), 4))
        .await
        .unwrap();
    assert!(b1.is_empty(), "B took {b1:?} while A had it in flight");
    assert_eq!(
        other.next_due_at("B", t).await.unwrap(),
        Some(lease(t)),
        "B waits for A's leases"
    );
    // A finishes; its next claim keeps its share of two and gives the others up.
    for c in &a1 {
        let outcome = if c.administratie.as_str() == "d" {
            // d waits out a Retry-After: it stays with A.
            Outcome::Retry {
                next_attempt_at: t + secs(30),
                error: "429".into(),
                snelstart_code: None,
                needs_lookup: false,
                failing_since: t,
            }
        } else {
            Outcome::Synced {
                snelstart_id: "x".into(),
            }
        };
        assert!(s.finish(c, t, &outcome, "", None).await.unwrap());
    }
    // (A claim reuses the leases it settled less than a second ago: a moment later.)
    let t2 = t + secs(2);
    let a2 = s
        .claim_due(ClaimRequest::new("A", t2, lease(t2), 10))
        .await
        .unwrap();
    let b2 = other
        .claim_due(ClaimRequest::new("B", t2, lease(t2), 10))
        .await
        .unwrap();
    let set = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    // Two live workers, four administraties with work: two each. A keeps d (it waits out
    // a Retry-After there) and a; B takes the two A gave up.
    assert_eq!(adms(&a2), set(&["a", "d"]));
    assert_eq!(adms(&b2), set(&["b", "c"]));
    // A stops cleanly: B takes the rest at once.
    for c in a2.iter().chain(&b2) {
        let store = if c.worker == "A" { s } else { &other };
        assert!(synced(store, c, t).await);
    }
    s.release_worker("A").await.unwrap();
    let later = t + secs(31);
    let mut b_all: Vec<Claim> = Vec::new();
    loop {
        let got = other
            .claim_due(ClaimRequest::new("B", later, lease(later), 10))
            .await
            .unwrap();
        if got.is_empty() {
            break;
        }
        for c in &got {
            assert!(synced(&other, c, later).await);
        }
        b_all.extend(got);
    }
    assert!(adms(&b_all).contains("d"), "B serves d after A stopped");
    for code in ["a", "b", "c", "d"] {
        let counts = s.status_counts(&adm(code)).await.unwrap();
        assert_eq!(
            (counts.queued, counts.in_progress),
            (0, 0),
            "{code} is done"
        );
    }
}

pub async fn expired_lease_is_reclaimed_with_lookup(h: Harness) {
    let s = &h.store;
    let a = with_invoices(s, "a", 1, Some(true)).await;
    let t = now();
    let first = s
        .claim_due(ClaimRequest::new("A", t, t + secs(60), 10))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(!first[0].needs_lookup);
    assert_eq!(first[0].attempts, 0);
    assert!(
        s.claim_due(ClaimRequest::new("B", t + secs(30), t + secs(90), 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.next_due_at("B", t + secs(30)).await.unwrap(),
        Some(t + secs(60)),
        "lease expiry is due"
    );
    let second = s
        .claim_due(ClaimRequest::new("B", t + secs(61), t + secs(121), 10).of(Some(a.clone())))
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert!(
        second[0].needs_lookup,
        "an expired lease needs a lookup first"
    );
    assert_eq!(second[0].worker, "B");
    assert_eq!(second[0].invoice_id, first[0].invoice_id);

    // A's late finish is refused; B's counts.
    assert!(
        !s.finish(
            &first[0],
            t + secs(62),
            &Outcome::Synced {
                snelstart_id: "x".into()
            },
            "laat",
            None
        )
        .await
        .unwrap()
    );
    let state = s
        .get_invoice(&a, &first[0].invoice_id)
        .await
        .unwrap()
        .unwrap()
        .1
        .unwrap();
    assert_eq!(state.status, SyncStatus::InProgress);
    let retry_at = t + secs(200);
    assert!(
        s.finish(
            &second[0],
            t + secs(63),
            &Outcome::Retry {
                next_attempt_at: retry_at,
                error: "SnelStart is tijdelijk onbereikbaar".into(),
                snelstart_code: None,
                needs_lookup: true,
                failing_since: t,
            },
            "503",
            None,
        )
        .await
        .unwrap()
    );
    let state = s
        .get_invoice(&a, &first[0].invoice_id)
        .await
        .unwrap()
        .unwrap()
        .1
        .unwrap();
    assert_eq!(state.status, SyncStatus::Queued);
    assert_eq!(state.next_attempt_at, Some(retry_at));
    assert_eq!(state.attempts, 1);
    assert!(
        s.claim_due(ClaimRequest::new("C", t + secs(100), t + secs(160), 10))
            .await
            .unwrap()
            .is_empty(),
        "waits out its back-off"
    );
    assert_eq!(
        s.next_due_at("C", t + secs(100)).await.unwrap(),
        Some(retry_at),
        "B's lease ends before the back-off does"
    );
    let third = s
        .claim_due(ClaimRequest::new("C", retry_at, retry_at + secs(60), 10))
        .await
        .unwrap();
    assert_eq!(third.len(), 1);
    assert!(third[0].needs_lookup);
    assert_eq!(third[0].attempts, 1);
    assert_eq!(third[0].failing_since, Some(t));
}

pub async fn finish_with_a_stale_lease_writes_nothing(h: Harness) {
    let s = &h.store;
    let a = with_invoices(s, "a", 1, Some(true)).await;
    let t = now();
    let claim = s
        .claim_due(ClaimRequest::new("A", t, t + secs(60), 1))
        .await
        .unwrap()
        .remove(0);
    let impostor = Claim {
        worker: "B".into(),
        ..claim.clone()
    };
    let notice = NotificationItem {
        kind: NoticeKind::InvoiceFailed,
        subject_type: "invoice".into(),
        subject_id: claim.invoice_id.to_string(),
        label: "F-1".into(),
        reason: "x".into(),
        snelstart_code: None,
        hint: None,
    };
    assert!(
        !s.finish(
            &impostor,
            t,
            &Outcome::Skipped { reason: "x".into() },
            "x",
            Some(notice.clone())
        )
        .await
        .unwrap()
    );
    assert!(
        s.finish(
            &claim,
            t,
            &Outcome::Synced {
                snelstart_id: "b1".into()
            },
            "ok",
            None
        )
        .await
        .unwrap()
    );
    assert!(
        !s.finish(
            &claim,
            t,
            &Outcome::Skipped { reason: "x".into() },
            "x",
            Some(notice)
        )
        .await
        .unwrap(),
        "a finished claim cannot be finished twice"
    );
    assert_eq!(s.sync_log(&a, false, 10).await.unwrap().len(), 1);
    assert!(
        s.pending_notices(10).await.unwrap().is_empty(),
        "nothing written"
    );
    let state = s
        .get_invoice(&a, &claim.invoice_id)
        .await
        .unwrap()
        .unwrap()
        .1
        .unwrap();
    assert_eq!(state.status, SyncStatus::Synced);
}

pub async fn paused_or_inactive_koppeling_is_not_claimed(h: Harness) {
    let s = &h.store;
    let ok = with_invoices(s, "ok", 1, Some(true)).await;
    let paused = with_invoices(s, "paused", 1, Some(true)).await;
    s.set_koppeling_paused(
        &paused,
        Some(koppeling_domain::pause::PauseReason::KeyRefused),
    )
    .await
    .unwrap();
    let inactive = with_invoices(s, "inactive", 1, Some(false)).await;
    let none = with_invoices(s, "none", 1, None).await;
    let t = now();
    let lease = t + secs(60);
    let claims = s
        .claim_due(ClaimRequest::new("w", t, lease, 10))
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].administratie, ok);
    for adm in [&paused, &inactive, &none] {
        assert!(
            s.claim_due(ClaimRequest::new("w", t, lease, 10).of(Some(adm.clone())))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            s.status_counts(adm).await.unwrap().queued,
            1,
            "queued while waiting"
        );
    }
    // next_due_at only counts what can run: ok's claim expires at `lease`.
    assert_eq!(s.next_due_at("w", t).await.unwrap(), Some(lease));
    s.set_koppeling_paused(&paused, None).await.unwrap();
    let claims = s
        .claim_due(ClaimRequest::new("w", t, lease, 10))
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].administratie, paused);
    s.set_koppeling_active(&inactive, true).await.unwrap();
    let claims = s
        .claim_due(ClaimRequest::new("w", t, lease, 10))
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].administratie, inactive);
    // Pausing everything (the subscription key) stops all claims.
    s.put_invoice(&ok, &invoice("extra", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    s.set_all_paused(Some(
        koppeling_domain::pause::PauseReason::SubscriptionKeyRefused,
    ))
    .await
    .unwrap();
    assert!(
        s.claim_due(ClaimRequest::new("w", t, lease, 10))
            .await
            .unwrap()
            .is_empty()
    );
    s.set_all_paused(None).await.unwrap();
    assert_eq!(
        s.claim_due(ClaimRequest::new("w", t, lease, 10))
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn one_administratie_does_not_starve_the_others(h: Harness) {
    let s = &h.store;
    with_invoices(s, "big", 60, Some(true)).await;
    with_invoices(s, "small1", 2, Some(true)).await;
    with_invoices(s, "small2", 2, Some(true)).await;
    let t = now();
    let lease = t + secs(60);
    let count = |claims: &[Claim]| {
        let mut per: BTreeMap<String, usize> = BTreeMap::new();
        for c in claims {
            *per.entry(c.administratie.to_string()).or_default() += 1;
        }
        per
    };
    let first = s
        .claim_due(ClaimRequest::new("w", t, lease, 6))
        .await
        .unwrap();
    assert_eq!(first.len(), 6, "the batch is filled");
    let per = count(&first);
    assert_eq!(per.len(), 3, "every administratie gets a share: {per:?}");
    assert_eq!(per["small1"], 2);
    assert_eq!(per["small2"], 2);
    // One at a time, the administraties take turns.
    let other = h.another_store().await;
    with_invoices(&other, "small3", 3, Some(true)).await;
    // Another process's activation is seen once the worker's leases are settled afresh
    // (within a second).
    let t = t + secs(2);
    let mut turns = Vec::new();
    for _ in 0..4 {
        let got = s
            .claim_due(ClaimRequest::new("w", t, lease, 1))
            .await
            .unwrap();
        turns.push(got[0].administratie.to_string());
    }
    let distinct: HashSet<_> = turns.iter().collect();
    assert_eq!(distinct.len(), 2, "big and small3 alternate: {turns:?}");
    // Everything is claimed in the end.
    let mut rest = 0;
    loop {
        let got = s
            .claim_due(ClaimRequest::new("w", t, lease, 16))
            .await
            .unwrap();
        if got.is_empty() {
            break;
        }
        rest += got.len();
    }
    assert_eq!(6 + 4 + rest, 67);
}

pub async fn outcomes_update_state_and_log(h: Harness) {
    let s = &h.store;
    let a = with_invoices(s, "a", 1, Some(true)).await;
    let t = now();
    let claim = |t| async move {
        s.claim_due(ClaimRequest::new("w", t, t + secs(60), 1))
            .await
            .unwrap()
            .remove(0)
    };

    // Release: back to the queue, no attempt counted, no log row.
    let c = claim(t).await;
    let job = s.load_job(&c).await.unwrap().unwrap();
    assert_eq!(job.invoice.id, c.invoice_id);
    assert!(job.relatie.is_none(), "no relatie linked yet");
    assert!(job.koppeling.active);
    assert!(
        s.finish(
            &c,
            t,
            &Outcome::Release { needs_lookup: true },
            "gepauzeerd",
            None
        )
        .await
        .unwrap()
    );
    let state = s
        .get_invoice(&a, &c.invoice_id)
        .await
        .unwrap()
        .unwrap()
        .1
        .unwrap();
    assert_eq!((state.status, state.attempts), (SyncStatus::Queued, 0));
    assert!(s.sync_log(&a, false, 10).await.unwrap().is_empty());

    // Retry: counted, logged as transient, keeps the lookup flag it is given.
    let c = claim(t).await;
    assert!(c.needs_lookup, "Release kept the lookup flag");
    s.finish(
        &c,
        t + secs(1),
        &Outcome::Retry {
            next_attempt_at: t + secs(5),
            error: "429".into(),
            snelstart_code: None,
            needs_lookup: false,
            failing_since: t,
        },
        "te veel verzoeken",
        None,
    )
    .await
    .unwrap();

    // Failed (auth) with a notice.
    let c = claim(t + secs(5)).await;
    assert!(!c.needs_lookup);
    let item = NotificationItem {
        kind: NoticeKind::InvoiceFailed,
        subject_type: "invoice".into(),
        subject_id: c.invoice_id.to_string(),
        label: "F-a-0".into(),
        reason: "sleutel geweigerd".into(),
        snelstart_code: None,
        hint: Some("sla de koppelsleutel opnieuw op".into()),
    };
    s.finish(
        &c,
        t + secs(6),
        &Outcome::Failed {
            error: "sleutel geweigerd".into(),
            hint: None,
            snelstart_code: None,
            class: ErrorClass::Auth,
        },
        "401",
        Some(item.clone()),
    )
    .await
    .unwrap();
    let log = s.sync_log(&a, false, 10).await.unwrap();
    // issue 13: one invoice's attempts, filtered by the database.
    let of_invoice = s
        .invoice_sync_log(&a, c.invoice_id.as_str(), false, 10)
        .await
        .unwrap();
    let want: Vec<_> = log
        .iter()
        .filter(|l| l.invoice_id == c.invoice_id.as_str())
        .cloned()
        .collect();
    assert!(!want.is_empty());
    assert_eq!(of_invoice, want);
    assert!(
        s.invoice_sync_log(&a, "no-such-invoice", false, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let summary: Vec<_> = log
        .iter()
        .map(|l| {
            (
                l.attempt,
                l.outcome.as_str(),
                l.error_class,
                l.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (2, "failed", Some(ErrorClass::Auth), "401"),
            (1, "retry", Some(ErrorClass::Transient), "te veel verzoeken"),
        ]
    );
    assert_eq!(log[0].at, t + secs(6));
    assert_eq!(s.sync_log(&a, true, 1).await.unwrap().len(), 1);
    let pending = s.pending_notices(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].item, item);
    assert_eq!(pending[0].at, t + secs(6));
    let counts = s.status_counts(&a).await.unwrap();
    assert_eq!((counts.failed, counts.queued), (1, 0));

    // Synced after a retry; skipped is logged without class.
    s.retry_invoice(&a, &c.invoice_id).await.unwrap();
    let c = claim(t + secs(7)).await;
    s.finish(
        &c,
        t + secs(8),
        &Outcome::Skipped {
            reason: "nul".into(),
        },
        "nul",
        None,
    )
    .await
    .unwrap();
    let state = s
        .get_invoice(&a, &c.invoice_id)
        .await
        .unwrap()
        .unwrap()
        .1
        .unwrap();
    assert_eq!(state.status, SyncStatus::Skipped);
    assert_eq!(state.error.as_deref(), Some("nul"));
    assert_eq!(state.attempts, 3);
    assert_eq!(state.updated_at, t + secs(8));
    let log = s.sync_log(&a, false, 10).await.unwrap();
    assert_eq!(
        (log[0].outcome.as_str(), log[0].error_class),
        ("skipped", None)
    );
}

/// The worker loads a claimed batch in one query: the same jobs as one by one, in the
/// order of the claims, `None` for an invoice that is gone.
pub async fn a_batch_of_jobs_loads_like_single_jobs(h: Harness) {
    let s = &h.store;
    // 22 claims and a missing one: two queries, the second padded.
    let a = with_invoices(s, "a", 20, Some(true)).await;
    with_invoices(s, "b", 2, Some(true)).await;
    s.save_relatie_link(
        &a,
        &rid("r1"),
        &RelatieLink {
            snelstart_id: "relatie-a".into(),
            fingerprint: "fp".into(),
        },
    )
    .await
    .unwrap();
    let t = now();
    let mut claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 30))
        .await
        .unwrap();
    assert_eq!(claims.len(), 22);
    let mut gone = claims[0].clone();
    gone.invoice_id = rid("bestaat-niet");
    claims.insert(2, gone);
    let batch = s.load_jobs(&claims).await.unwrap();
    assert_eq!(batch.len(), claims.len());
    for (claim, job) in claims.iter().zip(&batch) {
        let single = s.load_job(claim).await.unwrap();
        match (job, single) {
            (None, None) => assert_eq!(claim.invoice_id.as_str(), "bestaat-niet"),
            (Some(job), Some(single)) => {
                assert_eq!(job.invoice, single.invoice);
                assert_eq!(job.invoice.id, claim.invoice_id);
                assert_eq!(job.relation, single.relation);
                assert_eq!(job.relatie, single.relatie);
                assert_eq!(job.koppeling.administratie, claim.administratie);
                assert_eq!(job.koppeling.settings, single.koppeling.settings);
                assert_eq!(
                    job.relatie.as_ref().map(|l| l.snelstart_id.as_str()),
                    (claim.administratie == a).then_some("relatie-a")
                );
            }
            (job, single) => panic!("batch {job:?} but single {single:?}"),
        }
    }
}
