//! The exactly-once invariants the store holds (docs/architecture.md, "Invariants"):
//! I2 no change while the outcome is unknown, I3 an un-tick keeps such an invoice queued,
//! I4 a final invoice's number is unique, I6 a SnelStart id belongs to one invoice.

use koppeling_domain::invoice::InvoiceStatus;
use koppeling_domain::ports::roles::*;
use koppeling_domain::ports::{Claim, ClaimRequest, Missing, Outcome, Put, StoreError, SyncStatus};
use koppeling_radar360::SeaOrmStore;

use crate::helpers::{Harness, adm, invoice, now, ready, rid, secs};

fn conflict_code(error: StoreError) -> (String, Option<String>, String) {
    match error {
        StoreError::Conflict {
            code,
            field,
            message,
        } => (code, field, message),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn claim_one(s: &SeaOrmStore, t: chrono::DateTime<chrono::Utc>) -> Claim {
    let mut claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 1))
        .await
        .unwrap();
    assert_eq!(claims.len(), 1, "one invoice due");
    claims.remove(0)
}

pub async fn a_final_invoice_number_is_unique(h: Harness) {
    let s = &h.store;
    let a = ready(s, "a").await;
    let mut first = invoice("f1", "r1", InvoiceStatus::Final);
    first.number = "2026-1".into();
    s.put_invoice(&a, &first).await.unwrap();

    let mut second = invoice("f2", "r1", InvoiceStatus::Final);
    second.number = "2026-1".into();
    let (code, field, message) = conflict_code(s.put_invoice(&a, &second).await.unwrap_err());
    assert_eq!(code, "number_taken");
    assert_eq!(field.as_deref(), Some("number"));
    assert!(message.contains("f1"), "names the holder: {message}");
    assert!(
        s.get_invoice(&a, &rid("f2")).await.unwrap().is_none(),
        "nothing written"
    );

    // Drafts may share it; another administratie may use it.
    second.status = InvoiceStatus::Draft;
    s.put_invoice(&a, &second).await.unwrap();
    let b = ready(s, "b").await;
    let mut elsewhere = invoice("f1", "r1", InvoiceStatus::Final);
    elsewhere.number = "2026-1".into();
    s.put_invoice(&b, &elsewhere).await.unwrap();
    // The draft cannot become final with it; it stays the draft.
    second.status = InvoiceStatus::Final;
    let (code, _, _) = conflict_code(s.put_invoice(&a, &second).await.unwrap_err());
    assert_eq!(code, "number_taken");
    let (stored, _) = s.get_invoice(&a, &rid("f2")).await.unwrap().unwrap();
    assert_eq!(stored.status, InvoiceStatus::Draft);
    // Renumbered, it is fine.
    second.number = "2026-2".into();
    s.put_invoice(&a, &second).await.unwrap();
}

pub async fn an_invoice_whose_outcome_is_unknown_cannot_change(h: Harness) {
    let s = &h.store;
    let a = ready(s, "a").await;
    let inv = invoice("f1", "r1", InvoiceStatus::Final);
    s.put_invoice(&a, &inv).await.unwrap();
    let t = now();
    let c = claim_one(s, t).await;
    // The booking's answer was lost.
    assert!(
        s.finish(
            &c,
            t,
            &Outcome::Retry {
                next_attempt_at: t + secs(2),
                error: "connection dropped".into(),
                snelstart_code: None,
                needs_lookup: true,
                failing_since: t,
            },
            "lost",
            None,
        )
        .await
        .unwrap()
    );
    let mut renumbered = inv.clone();
    renumbered.number = "F-other".into();
    let (code, _, _) = conflict_code(s.put_invoice(&a, &renumbered).await.unwrap_err());
    assert_eq!(code, "outcome_unknown");
    let mut draft = inv.clone();
    draft.status = InvoiceStatus::Draft;
    let (code, _, _) = conflict_code(s.put_invoice(&a, &draft).await.unwrap_err());
    assert_eq!(code, "outcome_unknown");
    s.put_invoice(&a, &inv).await.expect("the same PUT again");

    // Un-ticking keeps it queued: the look-up must still settle it.
    s.set_relation_snelstart(&a, &rid("r1"), None)
        .await
        .unwrap();
    let (_, state) = s.get_invoice(&a, &rid("f1")).await.unwrap().unwrap();
    assert_eq!(state.unwrap().status, SyncStatus::Queued);

    // Settled as "not in SnelStart" for an un-ticked relation: out of the queue, free to
    // change again.
    let c = claim_one(s, t + secs(3)).await;
    assert!(c.needs_lookup);
    assert!(
        s.finish(&c, t + secs(3), &Outcome::Unqueued, "not ticked", None)
            .await
            .unwrap()
    );
    let (_, state) = s.get_invoice(&a, &rid("f1")).await.unwrap().unwrap();
    assert!(state.is_none(), "no sync state, as an un-tick leaves it");
    s.put_invoice(&a, &renumbered)
        .await
        .expect("settled: may change");
}

pub async fn a_snelstart_id_belongs_to_one_invoice(h: Harness) {
    let s = &h.store;
    let a = ready(s, "a").await;
    s.put_invoice(&a, &invoice("f1", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    s.put_invoice(&a, &invoice("f2", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    let t = now();
    let claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 2))
        .await
        .unwrap();
    assert_eq!(claims.len(), 2);
    let synced = |id: &str| Outcome::Synced {
        snelstart_id: id.to_owned(),
    };
    assert!(
        s.finish(&claims[0], t, &synced("guid-1"), "ok", None)
            .await
            .unwrap()
    );
    let (code, _, message) = conflict_code(
        s.finish(&claims[1], t, &synced("guid-1"), "ok", None)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "snelstart_id_taken");
    assert!(message.contains(claims[0].invoice_id.as_str()), "{message}");
    let (_, state) = s
        .get_invoice(&a, &claims[1].invoice_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        state.unwrap().status,
        SyncStatus::InProgress,
        "nothing written; the claim is still held"
    );
    // The same id in another administratie is another booking.
    let b = ready(s, "b").await;
    s.put_invoice(&b, &invoice("f1", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    let c = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 5).of(Some(adm("b"))))
        .await
        .unwrap()
        .remove(0);
    assert!(
        s.finish(&c, t, &synced("guid-1"), "ok", None)
            .await
            .unwrap()
    );
}

/// Outcomes finished at the same moment (on SQLite they are written as one batch, see
/// `store/group.rs`) are each fenced on their own: a booking id another invoice took, or a
/// lease another worker holds, fails only that outcome; every other outcome is written with
/// its log row and its event, and event ids stay gapless.
pub async fn outcomes_finished_together_are_fenced_one_by_one(h: Harness) {
    let s = &h.store;
    let a = ready(s, "a").await;
    for k in 0..24 {
        s.put_invoice(
            &a,
            &invoice(&format!("f{k:02}"), "r1", InvoiceStatus::Final),
        )
        .await
        .unwrap();
    }
    let t = now();
    let mut claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 24))
        .await
        .unwrap();
    assert_eq!(claims.len(), 24);
    claims.sort_by(|x, y| x.invoice_id.as_str().cmp(y.invoice_id.as_str()));
    // Invoice 5 claims invoice 4's booking; invoice 9 is finished by a worker that does not
    // hold its lease; every other one is booked under its own id.
    let mut tasks = Vec::new();
    for (k, claim) in claims.iter().cloned().enumerate() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut claim = claim;
            if k == 9 {
                claim.worker = "someone-else".into();
            }
            let id = if k == 5 { 4 } else { k };
            let outcome = Outcome::Synced {
                snelstart_id: format!("00000000-0000-0000-0000-{id:012}"),
            };
            s.finish(&claim, t, &outcome, "ok", None).await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    // Invoices 4 and 5 raced for one id: exactly one of them won it.
    let (won, lost) = match (&results[4], &results[5]) {
        (Ok(true), Err(_)) => (4, 5),
        (Err(_), Ok(true)) => (5, 4),
        other => panic!("exactly one of 4 and 5 books the id: {other:?}"),
    };
    let loss = std::mem::replace(&mut results[lost], Ok(false));
    let (code, _, _) = conflict_code(loss.unwrap_err());
    assert_eq!(code, "snelstart_id_taken");
    assert!(
        !results[9].as_ref().unwrap(),
        "a stale lease writes nothing"
    );
    for (k, result) in results.iter().enumerate() {
        if k != 9 && k != lost {
            assert!(result.as_ref().unwrap(), "outcome {k} written");
        }
    }
    for (k, claim) in claims.iter().enumerate() {
        let (_, state) = s.get_invoice(&a, &claim.invoice_id).await.unwrap().unwrap();
        let state = state.unwrap();
        if k == 9 || k == lost {
            assert_eq!(
                state.status,
                SyncStatus::InProgress,
                "invoice {k}: untouched"
            );
        } else {
            assert_eq!(state.status, SyncStatus::Synced, "invoice {k}");
            let expected = if k == won { 4 } else { k };
            assert_eq!(
                state.snelstart_id.as_deref(),
                Some(format!("00000000-0000-0000-0000-{expected:012}").as_str())
            );
        }
    }
    let events = s.events(&a, 0, 100).await.unwrap();
    assert_eq!(events.len(), 22, "one event per written outcome");
    let ids: Vec<u64> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=22).collect::<Vec<u64>>(), "gapless");
    let log = s
        .invoice_sync_log(&a, claims[0].invoice_id.as_str(), false, 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 1, "one log row for the written outcome");

    // A second round without a taken id: on SQLite the bookings of a batch go in one
    // multi-row UPDATE, still fenced row by row (invoice 3's lease is someone else's).
    for k in 0..24 {
        s.put_invoice(
            &a,
            &invoice(&format!("g{k:02}"), "r1", InvoiceStatus::Final),
        )
        .await
        .unwrap();
    }
    let mut claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 24))
        .await
        .unwrap();
    assert_eq!(claims.len(), 24);
    claims.sort_by(|x, y| x.invoice_id.as_str().cmp(y.invoice_id.as_str()));
    let mut tasks = Vec::new();
    for (k, claim) in claims.iter().cloned().enumerate() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut claim = claim;
            if k == 3 {
                claim.worker = "someone-else".into();
            }
            let outcome = Outcome::Synced {
                snelstart_id: format!("00000000-0000-0000-0001-{k:012}"),
            };
            s.finish(&claim, t, &outcome, "ok", None).await
        }));
    }
    for (k, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap().unwrap(), k != 3, "outcome {k}");
    }
    for (k, claim) in claims.iter().enumerate() {
        let (_, state) = s.get_invoice(&a, &claim.invoice_id).await.unwrap().unwrap();
        let state = state.unwrap();
        if k == 3 {
            assert_eq!(
                state.status,
                SyncStatus::InProgress,
                "invoice {k}: untouched"
            );
            assert_eq!(state.snelstart_id, None);
        } else {
            assert_eq!(state.status, SyncStatus::Synced, "invoice {k}");
            assert_eq!(
                state.snelstart_id.as_deref(),
                Some(format!("00000000-0000-0000-0001-{k:012}").as_str())
            );
        }
        let log = s
            .invoice_sync_log(&a, claim.invoice_id.as_str(), false, 10)
            .await
            .unwrap();
        assert_eq!(log.len(), usize::from(k != 3), "invoice {k}: its log row");
    }
    let events = s.events(&a, 0, 100).await.unwrap();
    let ids: Vec<u64> = events.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        (1..=45).collect::<Vec<u64>>(),
        "gapless across batches"
    );
}

/// PUTs arriving at the same moment (on SQLite they are written as one batch, see
/// `store/invoice.rs` and `store/batch.rs`) are each decided on their own: a number another
/// final invoice took (I4) or an unknown relation refuses only that PUT, with its own
/// error; every other PUT is written, answered with what it wrote, and queued; two PUTs of
/// one invoice both succeed and the stored content is one of them, whole.
pub async fn puts_arriving_together_are_decided_one_by_one(h: Harness) {
    let s = &h.store;
    let a = ready(s, "a").await;
    // First round, distinct invoices (on SQLite one read, one multi-row INSERT): a change
    // of an invoice being booked (locked) and an unknown relation are refused alone.
    s.put_invoice(&a, &invoice("busy", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    let t = now();
    let busy = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 1))
        .await
        .unwrap();
    assert_eq!(busy.len(), 1);
    let mut tasks = Vec::new();
    for k in 0..24usize {
        let s = s.clone();
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            let mut inv = invoice(&format!("e{k:02}"), "r1", InvoiceStatus::Final);
            match k {
                0 => {
                    inv = invoice("busy", "r1", InvoiceStatus::Final);
                    inv.description = Some("gewijzigd".into());
                }
                9 => inv.relation_id = rid("nobody"),
                _ => {}
            }
            s.put_invoice(&a, &inv).await
        }));
    }
    for (k, task) in tasks.into_iter().enumerate() {
        let result = task.await.unwrap();
        match k {
            0 => assert_eq!(conflict_code(result.unwrap_err()).0, "invoice_locked"),
            9 => assert!(
                matches!(&result, Err(StoreError::NotFound(Missing::Relation(r))) if r == "nobody"),
                "{result:?}"
            ),
            _ => {
                let (put, state) = result.unwrap();
                assert_eq!(put, Put::Created, "invoice {k}");
                assert_eq!(state.unwrap().status, SyncStatus::Queued, "invoice {k}");
            }
        }
    }
    let (busy_now, _) = s.get_invoice(&a, &rid("busy")).await.unwrap().unwrap();
    assert_eq!(
        busy_now.description.as_deref(),
        Some("Advieswerk"),
        "unchanged"
    );
    assert!(s.get_invoice(&a, &rid("e09")).await.unwrap().is_none());
    let claimed = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 100))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 22, "every created invoice is queued");

    // Second round: one invoice twice and a number taken (on SQLite the batch is then
    // decided one PUT at a time, in the same transaction).
    let mut tasks = Vec::new();
    for k in 0..24usize {
        let s = s.clone();
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            let mut inv = invoice(&format!("f{k:02}"), "r1", InvoiceStatus::Final);
            match k {
                // Invoice 5 takes invoice 4's number.
                5 => inv.number = "F-f04".into(),
                // Invoice 9 names a relation that does not exist.
                9 => inv.relation_id = rid("nobody"),
                // Invoices 12 and 13 are two versions of one draft, f12.
                12 | 13 => {
                    inv.id = rid("f12");
                    inv.status = InvoiceStatus::Draft;
                    inv.description = Some(format!("versie {k}"));
                }
                _ => {}
            }
            s.put_invoice(&a, &inv).await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let (won, lost) = match (&results[4], &results[5]) {
        (Ok(_), Err(_)) => (4, 5),
        (Err(_), Ok(_)) => (5, 4),
        other => panic!("exactly one of 4 and 5 holds the number: {other:?}"),
    };
    let (code, field, message) =
        conflict_code(std::mem::replace(&mut results[lost], Ok((Put::Created, None))).unwrap_err());
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("number_taken", Some("number"))
    );
    assert!(
        message.contains(&format!("f{won:02}")),
        "names the holder: {message}"
    );
    assert!(
        matches!(&results[9], Err(StoreError::NotFound(Missing::Relation(r))) if r == "nobody"),
        "{:?}",
        results[9]
    );
    let creates = results[12..=13]
        .iter()
        .filter(|r| matches!(r, Ok((Put::Created, None))))
        .count();
    assert_eq!(
        creates, 1,
        "one of the two drafts created f12, the other replaced it"
    );
    assert!(matches!(results[12..=13], [Ok(_), Ok(_)]));
    for (k, result) in results.iter().enumerate() {
        if [9, 12, 13, lost].contains(&k) {
            continue;
        }
        let (put, state) = result.as_ref().unwrap();
        assert_eq!(*put, Put::Created, "invoice {k}");
        assert_eq!(
            state.as_ref().unwrap().status,
            SyncStatus::Queued,
            "invoice {k}"
        );
    }
    let (draft, state) = s.get_invoice(&a, &rid("f12")).await.unwrap().unwrap();
    assert!(state.is_none(), "a draft is not queued");
    assert!(
        matches!(
            draft.description.as_deref(),
            Some("versie 12" | "versie 13")
        ),
        "{:?}",
        draft.description
    );
    for k in [9, lost] {
        assert!(
            s.get_invoice(&a, &rid(&format!("f{k:02}")))
                .await
                .unwrap()
                .is_none(),
            "refused PUT {k} wrote nothing"
        );
    }
    let claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 100))
        .await
        .unwrap();
    assert_eq!(claims.len(), 20, "every written final invoice is queued");
}
