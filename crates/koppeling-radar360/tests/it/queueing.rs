//! Queueing by `put_invoice` and the tick, the relatiecode guard, drafts, the lock on synced
//! invoices, retries and the invoice list.

use std::time::Duration as StdDuration;

use chrono::NaiveDate;
use koppeling_domain::invoice::InvoiceStatus;
use koppeling_domain::ports::roles::*;
use koppeling_domain::ports::{ClaimRequest, ErrorClass, Outcome, Put, StoreError, SyncStatus};
use koppeling_domain::relation::RelatieCode;
use koppeling_radar360::SeaOrmStore;

use crate::helpers::{
    Harness, adm, administratie, connect, invoice, now, relation, relation_r1, rid, secs,
};

/// An administratie with an active koppeling and relation `r1` (code 1), ticked or not.
async fn setup(
    s: &SeaOrmStore,
    code: &str,
    ticked: bool,
) -> koppeling_domain::ids::AdministratieCode {
    let a = administratie(s, code).await;
    connect(s, &a, true).await;
    relation_r1(s, &a, ticked).await;
    a
}

async fn status(
    s: &SeaOrmStore,
    a: &koppeling_domain::ids::AdministratieCode,
    id: &str,
) -> Option<SyncStatus> {
    s.get_invoice(a, &rid(id))
        .await
        .unwrap()
        .unwrap()
        .1
        .map(|state| state.status)
}

pub async fn final_invoice_is_queued_with_its_write(h: Harness) {
    let s = &h.store;
    let a = setup(s, "a", true).await;
    let wake = s.work_notify();
    let (put, written) = s
        .put_invoice(&a, &invoice("i1", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    assert_eq!(put, Put::Created);
    tokio::time::timeout(StdDuration::from_secs(1), wake.notified())
        .await
        .expect("queueing work wakes the worker");
    let (_, state) = s.get_invoice(&a, &rid("i1")).await.unwrap().unwrap();
    assert_eq!(written, state, "the PUT returns the state as stored");
    let state = state.unwrap();
    assert_eq!(state.status, SyncStatus::Queued);
    assert_eq!((state.attempts, state.next_attempt_at), (0, None));
    assert!(s.next_due_at("w", now()).await.unwrap().unwrap() <= now());

    // Another process never sees a final invoice of a ticked relation without its queue
    // state: both are one row written in one transaction.
    let reader = h.another_store().await;
    let writer = s.clone();
    let wa = a.clone();
    let write = tokio::spawn(async move {
        for n in 0..40 {
            writer
                .put_invoice(&wa, &invoice(&format!("c{n}"), "r1", InvoiceStatus::Final))
                .await
                .unwrap();
        }
    });
    let mut seen = 0;
    while !write.is_finished() {
        for (inv, state) in reader.list_invoices(&a, &None.into(), 1).await.unwrap() {
            assert_eq!(
                state.map(|st| st.status),
                Some(SyncStatus::Queued),
                "{} visible without its queue state",
                inv.id
            );
            seen += 1;
        }
    }
    write.await.unwrap();
    assert!(seen > 0);
    assert_eq!(s.status_counts(&a).await.unwrap().queued, 41);
}

pub async fn tick_queues_existing_final_invoices(h: Harness) {
    let s = &h.store;
    let a = setup(s, "a", false).await;
    for (id, st) in [
        ("f1", InvoiceStatus::Final),
        ("f2", InvoiceStatus::Final),
        ("d1", InvoiceStatus::Draft),
    ] {
        s.put_invoice(&a, &invoice(id, "r1", st)).await.unwrap();
        assert_eq!(status(s, &a, id).await, None, "not ticked: not queued");
    }
    let wake = s.work_notify();
    let r = s
        .set_relation_snelstart(&a, &rid("r1"), RelatieCode::from_i32(1))
        .await
        .unwrap();
    assert!(r.snelstart_enabled);
    tokio::time::timeout(StdDuration::from_secs(1), wake.notified())
        .await
        .expect("ticking wakes the worker");
    assert_eq!(status(s, &a, "f1").await, Some(SyncStatus::Queued));
    assert_eq!(status(s, &a, "f2").await, Some(SyncStatus::Queued));
    assert_eq!(status(s, &a, "d1").await, None);

    // Un-ticking un-queues; what is in progress stays.
    let r = s
        .set_relation_snelstart(&a, &rid("r1"), None)
        .await
        .unwrap();
    assert!(!r.snelstart_enabled);
    assert_eq!(status(s, &a, "f1").await, None);
    s.set_relation_snelstart(&a, &rid("r1"), RelatieCode::from_i32(1))
        .await
        .unwrap();
    let t = now();
    let claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 1))
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
    s.set_relation_snelstart(&a, &rid("r1"), None)
        .await
        .unwrap();
    let claimed = claims[0].invoice_id.as_str();
    let unclaimed = if claimed == "f1" { "f2" } else { "f1" };
    assert_eq!(status(s, &a, claimed).await, Some(SyncStatus::InProgress));
    assert_eq!(status(s, &a, unclaimed).await, None);
    assert!(matches!(
        s.set_relation_snelstart(&a, &rid("ghost"), RelatieCode::from_i32(2))
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn code_collision_007_and_7_is_refused(h: Harness) {
    let s = &h.store;
    let a = administratie(s, "a").await;
    s.put_relation(&a, &relation("r007", "007")).await.unwrap();
    s.put_relation(&a, &relation("r7", "7")).await.unwrap();
    let c007 = RelatieCode::parse("007").unwrap();
    let c7 = RelatieCode::parse("7").unwrap();
    s.set_relation_snelstart(&a, &rid("r007"), Some(c007))
        .await
        .unwrap();
    match s.set_relation_snelstart(&a, &rid("r7"), Some(c7)).await {
        Err(StoreError::Conflict {
            code,
            field,
            message,
        }) => {
            assert_eq!(code, "code_taken");
            assert_eq!(field.as_deref(), Some("code"));
            assert!(message.contains("r007"), "{message}");
        }
        other => panic!("expected code_taken, got {other:?}"),
    }
    assert!(
        !s.get_relation(&a, &rid("r7"))
            .await
            .unwrap()
            .unwrap()
            .snelstart_enabled
    );
    // Ticking the same relation again is fine; after un-ticking, the code is free.
    s.set_relation_snelstart(&a, &rid("r007"), Some(c007))
        .await
        .unwrap();
    s.set_relation_snelstart(&a, &rid("r007"), None)
        .await
        .unwrap();
    s.set_relation_snelstart(&a, &rid("r7"), Some(c7))
        .await
        .unwrap();
    assert!(matches!(
        s.set_relation_snelstart(&a, &rid("r007"), Some(c007)).await,
        Err(StoreError::Conflict { code, .. }) if code == "code_taken"
    ));
}

pub async fn draft_is_never_queued(h: Harness) {
    let s = &h.store;
    let a = setup(s, "a", true).await;
    s.put_invoice(&a, &invoice("i1", "r1", InvoiceStatus::Draft))
        .await
        .unwrap();
    assert_eq!(status(s, &a, "i1").await, None);
    let t = now();
    assert!(
        s.claim_due(ClaimRequest::new("w", t, t + secs(60), 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.next_due_at("w", now()).await.unwrap(), None);
    s.put_invoice(&a, &invoice("i1", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    assert_eq!(status(s, &a, "i1").await, Some(SyncStatus::Queued));
    s.put_invoice(&a, &invoice("i1", "r1", InvoiceStatus::Draft))
        .await
        .unwrap();
    assert_eq!(
        status(s, &a, "i1").await,
        None,
        "back to draft: no longer queued"
    );
    assert!(
        s.claim_due(ClaimRequest::new("w", t, t + secs(60), 10))
            .await
            .unwrap()
            .is_empty()
    );
    // Re-ticking the relation does not queue a draft either.
    s.set_relation_snelstart(&a, &rid("r1"), RelatieCode::from_i32(1))
        .await
        .unwrap();
    assert_eq!(status(s, &a, "i1").await, None);
}

pub async fn synced_invoice_is_locked_but_identical_put_is_ok(h: Harness) {
    let s = &h.store;
    let a = setup(s, "a", true).await;
    let inv = invoice("i1", "r1", InvoiceStatus::Final);
    s.put_invoice(&a, &inv).await.unwrap();
    let t = now();
    let claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 10))
        .await
        .unwrap();
    let mut changed = inv.clone();
    changed.lines[0].quantity += rust_decimal::Decimal::ONE;
    // In progress: locked too.
    assert!(matches!(
        s.put_invoice(&a, &changed).await,
        Err(StoreError::Conflict { code, .. }) if code == "invoice_locked"
    ));
    assert!(
        s.finish(
            &claims[0],
            t,
            &Outcome::Synced {
                snelstart_id: "boeking-1".into()
            },
            "geboekt",
            None,
        )
        .await
        .unwrap()
    );
    let before = s.get_invoice(&a, &inv.id).await.unwrap().unwrap();
    for attempt in [
        changed.clone(),
        invoice("i1", "r1", InvoiceStatus::Draft),
        {
            let mut other_number = inv.clone();
            other_number.number = "F-anders".into();
            other_number
        },
    ] {
        match s.put_invoice(&a, &attempt).await {
            Err(StoreError::Conflict { code, message, .. }) => {
                assert_eq!(code, "invoice_locked");
                assert!(message.contains("credit"), "{message}");
            }
            other => panic!("expected invoice_locked, got {other:?}"),
        }
    }
    let (put, written) = s.put_invoice(&a, &inv).await.unwrap();
    assert_eq!(put, Put::Replaced);
    let after = s.get_invoice(&a, &inv.id).await.unwrap().unwrap();
    assert_eq!(before, after, "an identical PUT changes nothing");
    assert_eq!(written, after.1, "and answers with the stored state");
    let state = after.1.unwrap();
    assert_eq!(state.status, SyncStatus::Synced);
    assert_eq!(state.snelstart_id.as_deref(), Some("boeking-1"));
    assert_eq!(state.attempts, 1);
    let k = s.get_koppeling(&a).await.unwrap().unwrap();
    assert_eq!(k.last_sync_at, Some(t));
}

pub async fn retry_requeues_a_failed_invoice(h: Harness) {
    let s = &h.store;
    let a = setup(s, "a", true).await;
    s.put_invoice(&a, &invoice("i1", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    let t = now();
    let claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 10))
        .await
        .unwrap();
    s.finish(
        &claims[0],
        t,
        &Outcome::Failed {
            error: "btw-nummer ongeldig".into(),
            hint: Some("controleer het btw-nummer".into()),
            snelstart_code: Some("REL-0001".into()),
            class: ErrorClass::Data,
        },
        "btw-nummer ongeldig",
        None,
    )
    .await
    .unwrap();
    let failed = s
        .get_invoice(&a, &rid("i1"))
        .await
        .unwrap()
        .unwrap()
        .1
        .unwrap();
    assert_eq!(failed.status, SyncStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("btw-nummer ongeldig"));
    assert_eq!(failed.hint.as_deref(), Some("controleer het btw-nummer"));
    assert_eq!(
        s.list_invoices(&a, &Some(SyncStatus::Failed).into(), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    let wake = s.work_notify();
    let state = s.retry_invoice(&a, &rid("i1")).await.unwrap();
    tokio::time::timeout(StdDuration::from_secs(10), wake.notified())
        .await
        .expect("a retry wakes the worker");
    assert_eq!(state.status, SyncStatus::Queued);
    assert_eq!(state.attempts, 1, "the attempt counter is kept");
    assert_eq!((state.next_attempt_at, state.error), (None, None));
    assert!(matches!(
        s.retry_invoice(&a, &rid("i1")).await,
        Err(StoreError::Conflict { code, .. }) if code == "not_failed"
    ));
    assert!(matches!(
        s.retry_invoice(&a, &rid("ghost")).await,
        Err(StoreError::NotFound(_))
    ));

    // A failed invoice is queued again by a PUT of the final invoice (the cause may have
    // been fixed in the relation).
    let claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 10))
        .await
        .unwrap();
    s.finish(
        &claims[0],
        t,
        &Outcome::Skipped {
            reason: "alle regels zijn 0".into(),
        },
        "overgeslagen",
        None,
    )
    .await
    .unwrap();
    assert_eq!(status(s, &a, "i1").await, Some(SyncStatus::Skipped));
    s.put_invoice(&a, &invoice("i1", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    let state = s
        .get_invoice(&a, &rid("i1"))
        .await
        .unwrap()
        .unwrap()
        .1
        .unwrap();
    assert_eq!((state.status, state.attempts), (SyncStatus::Queued, 2));
}

pub async fn list_is_newest_first_100_a_page(h: Harness) {
    let s = &h.store;
    let a = setup(s, "a", true).await;
    s.put_relation(&a, &relation("r2", "2")).await.unwrap();
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    for n in 0..150_i64 {
        let mut inv = invoice(
            &format!("i{n:03}"),
            if n % 2 == 0 { "r1" } else { "r2" },
            InvoiceStatus::Final,
        );
        inv.date = start + chrono::Duration::days(n % 75);
        s.put_invoice(&a, &inv).await.unwrap();
    }
    let page1 = s.list_invoices(&a, &None.into(), 1).await.unwrap();
    let page2 = s.list_invoices(&a, &None.into(), 2).await.unwrap();
    assert_eq!((page1.len(), page2.len()), (100, 50));
    assert!(
        s.list_invoices(&a, &None.into(), 3)
            .await
            .unwrap()
            .is_empty()
    );
    let all: Vec<_> = page1
        .iter()
        .chain(&page2)
        .map(|(i, _)| (i.date, i.id.clone()))
        .collect();
    let mut sorted = all.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(all, sorted, "newest first, then by id");
    assert_eq!(
        s.list_invoices(&a, &None.into(), 0).await.unwrap().len(),
        100,
        "page 0 reads as 1"
    );
    let queued = s
        .list_invoices(&a, &Some(SyncStatus::Queued).into(), 1)
        .await
        .unwrap();
    assert_eq!(queued.len(), 75, "only r1 is ticked");
    assert!(queued.iter().all(|(i, _)| i.relation_id.as_str() == "r1"));
    assert!(
        s.list_invoices(&adm("zz"), &None.into(), 1)
            .await
            .unwrap()
            .is_empty()
    );
}
