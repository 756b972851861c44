//! The read-back's persistence (product §8.2): events written with the outcome they report,
//! gapless per administratie; payment and drift stored with the pass; a deleted invoice
//! queued again only on purpose.

use koppeling_domain::invoice::InvoiceStatus;
use koppeling_domain::koppeling::{ConnectionKey, KoppelingSettings};
use koppeling_domain::ports::roles::*;
use koppeling_domain::ports::{ClaimRequest, Outcome, StoreError, SyncStatus};
use koppeling_domain::readback::{
    Change, Cursor, Drift, DriftKind, EventType, NewEvent, Payment, PaymentStatus, ReadbackState,
    ReadbackUpdate,
};
use koppeling_domain::relation::RelatieCode;
use rust_decimal::Decimal;

use crate::helpers::{Harness, administratie, invoice, now, ready, relation, rid, secs};

pub async fn events_are_gapless_and_written_with_their_outcome(h: Harness) {
    let s = &h.store;
    let a = administratie(s, "a").await;
    let b = administratie(s, "b").await;
    for adm in [&a, &b] {
        s.put_koppeling(
            adm,
            &KoppelingSettings::default(),
            Some(ConnectionKey::new("k".into()).unwrap()),
        )
        .await
        .unwrap();
        s.set_koppeling_active(adm, true).await.unwrap();
        s.put_relation(adm, &relation("r1", "1")).await.unwrap();
        s.set_relation_snelstart(adm, &rid("r1"), RelatieCode::from_i32(1))
            .await
            .unwrap();
        for k in 0..6 {
            s.put_invoice(adm, &invoice(&format!("f{k}"), "r1", InvoiceStatus::Final))
                .await
                .unwrap();
        }
    }
    let t = now();
    // Two workers finish concurrently: every outcome but a retry is one event.
    let claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 12))
        .await
        .unwrap();
    assert_eq!(claims.len(), 12);
    let mut tasks = Vec::new();
    for (n, c) in claims.into_iter().enumerate() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let outcome = match n % 4 {
                0 | 1 => Outcome::Synced {
                    snelstart_id: format!("00000000-0000-0000-0000-{n:012}"),
                },
                2 => Outcome::Skipped {
                    reason: "nul".into(),
                },
                _ => Outcome::Retry {
                    next_attempt_at: t + secs(5),
                    error: "429".into(),
                    snelstart_code: None,
                    needs_lookup: false,
                    failing_since: t,
                },
            };
            s.finish(&c, t, &outcome, "", None).await.unwrap()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap());
    }
    let mut total = 0;
    for adm in [&a, &b] {
        let events = s.events(adm, 0, 100).await.unwrap();
        let ids: Vec<u64> = events.iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            (1..=ids.len() as u64).collect::<Vec<_>>(),
            "gapless from 1"
        );
        assert!(
            events
                .iter()
                .all(|e| matches!(e.kind, EventType::Synced | EventType::Skipped))
        );
        total += events.len();
        // Paging with `after`.
        let rest = s.events(adm, 2, 100).await.unwrap();
        assert_eq!(rest.first().map(|e| e.id), ids.get(2).copied());
    }
    assert_eq!(total, 9, "12 outcomes, 3 retries");
}

pub async fn a_pass_stores_payment_drift_state_and_events_at_once(h: Harness) {
    let s = &h.store;
    let a = ready(s, "a").await;
    for k in 0..2 {
        s.put_invoice(&a, &invoice(&format!("f{k}"), "r1", InvoiceStatus::Final))
            .await
            .unwrap();
    }
    let t = now();
    let booking = |k: usize| format!("00000000-0000-0000-0000-00000000000{k}");
    for c in s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 2))
        .await
        .unwrap()
    {
        let k: usize = c.invoice_id.as_str()[1..].parse().unwrap();
        s.finish(
            &c,
            t,
            &Outcome::Synced {
                snelstart_id: booking(k),
            },
            "",
            None,
        )
        .await
        .unwrap();
    }
    assert_eq!(
        s.readback_state(&a).await.unwrap().cursor,
        Cursor::default()
    );
    let mut booked = s
        .booked_invoices(&a, &[booking(0), booking(1)])
        .await
        .unwrap();
    booked.sort_by(|x, y| x.snelstart_id.cmp(&y.snelstart_id));
    assert_eq!(booked.len(), 2);
    assert_eq!(booked[0].invoice.id, rid("f0"));
    assert!(booked[0].payment.is_none() && booked[0].drift.is_none());

    let payment = Payment {
        status: PaymentStatus::Paid,
        outstanding: Decimal::ZERO,
        paid_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 20),
        checked_at: t,
    };
    let deleted = Drift {
        kind: DriftKind::Deleted,
        by_accountant: false,
        detected_at: t,
        changes: vec![],
    };
    let mut cursor = Cursor::default();
    cursor.take(
        vec![(
            chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap(),
            "x",
        )],
        |r| (r.0, r.1.to_owned()),
    );
    let state = ReadbackState {
        cursor: cursor.clone(),
        last_run_at: Some(t),
        hour_start: Some(t),
        hour_calls: 3,
        payments_missing_scope: Some("kas:read".into()),
        ..ReadbackState::default()
    };
    s.save_readback(
        &a,
        &state,
        &[
            ReadbackUpdate {
                invoice_id: rid("f0"),
                payment: Some(payment.clone()),
                drift: None,
            },
            ReadbackUpdate {
                invoice_id: rid("f1"),
                payment: None,
                drift: Some(Some(deleted.clone())),
            },
        ],
        &[
            NewEvent {
                kind: EventType::Paid,
                invoice_id: rid("f0"),
                data: "{}".into(),
            },
            NewEvent {
                kind: EventType::Drift,
                invoice_id: rid("f1"),
                data: serde_json::to_string(&Change {
                    field: "x".into(),
                    radar360: "1".into(),
                    snelstart: "2".into(),
                })
                .unwrap(),
            },
        ],
        &[],
        t,
    )
    .await
    .unwrap();
    let stored = s.readback_state(&a).await.unwrap();
    assert_eq!(stored.cursor, cursor);
    assert_eq!(stored.hour_calls, 3);
    assert_eq!(stored.payments_missing_scope.as_deref(), Some("kas:read"));
    let booked = s
        .booked_invoices(&a, &[booking(0), booking(1)])
        .await
        .unwrap();
    let f0 = booked.iter().find(|b| b.invoice.id == rid("f0")).unwrap();
    assert_eq!(f0.payment.as_ref(), Some(&payment));
    let f1 = booked.iter().find(|b| b.invoice.id == rid("f1")).unwrap();
    assert_eq!(f1.drift.as_ref(), Some(&deleted));
    // The two synced events came first; the pass's follow, gapless.
    let kinds: Vec<EventType> = s
        .events(&a, 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            EventType::Synced,
            EventType::Synced,
            EventType::Paid,
            EventType::Drift
        ]
    );
    // A deleted one is not in the full scan's list, and only it can be booked again.
    assert_eq!(s.booked_ids(&a).await.unwrap(), vec![booking(0)]);
    match s.rebook(&a, &rid("f0"), t).await {
        Err(StoreError::Conflict { code, .. }) => assert_eq!(code, "not_deleted"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.rebook(&a, &rid("nope"), t).await,
        Err(StoreError::NotFound(_))
    ));
    let written = s.rebook(&a, &rid("f1"), t + secs(1)).await.unwrap();
    let (_, sync) = s.get_invoice(&a, &rid("f1")).await.unwrap().unwrap();
    let sync = sync.unwrap();
    assert_eq!(sync.status, SyncStatus::Queued);
    assert!(sync.snelstart_id.is_none());
    assert_eq!(written, sync, "the rebook answers the state it wrote");
    let claims = s
        .claim_due(ClaimRequest::new("w", t + secs(2), t + secs(60), 5))
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
    assert!(
        claims[0].needs_lookup,
        "booked again under the exactly-once rules"
    );
}
