//! Notices, notifications, dedupe keys and mail delivery bookkeeping.

use koppeling_domain::koppeling::KoppelingSettings;
use koppeling_domain::notification::{NoticeKind, NotificationItem, StoredNotification};
use koppeling_domain::ports::{Admin, Store};

use crate::helpers::{Harness, administratie, now, rid, secs};

fn item(subject_id: &str, reason: &str) -> NotificationItem {
    NotificationItem {
        kind: NoticeKind::StillFailing,
        subject_type: "invoice".into(),
        subject_id: subject_id.into(),
        label: format!("F-{subject_id}"),
        reason: reason.into(),
        snelstart_code: None,
        hint: None,
    }
}

fn mail(at: chrono::DateTime<chrono::Utc>, items: Vec<NotificationItem>) -> StoredNotification {
    StoredNotification {
        at,
        to: "bea@x.nl".into(),
        subject: format!("{} problemen", items.len()),
        body: "Beste Bea".into(),
        items,
    }
}

pub async fn notices_become_notifications_and_dedupe(h: Harness) {
    let s = &h.store;
    let a = administratie(s, "a").await;
    let bea = Admin {
        id: rid("bea"),
        name: "Bea".into(),
        email: "Bea@X.nl".into(),
    };
    s.put_admin(&a, &bea, None).await.unwrap();
    let settings = KoppelingSettings {
        notify_admin_id: Some(rid("bea")),
        ..KoppelingSettings::default()
    };
    s.put_koppeling(&a, &settings, None).await.unwrap();
    let recipient = s.recipient(&a).await.unwrap();
    assert_eq!(recipient.administratie_name, "Kantoor a");
    assert_eq!(recipient.admin, Some(bea));

    let t = now();
    let one = item("i1", "SnelStart antwoordt niet");
    let two = item("i2", r#"50% "korting"_x"#);
    s.queue_notice(&a, &one, t).await.unwrap();
    s.queue_notice(&a, &two, t + secs(1)).await.unwrap();
    s.queue_notice(&a, &one, t + secs(2)).await.unwrap();
    let pending = s.pending_notices(10).await.unwrap();
    assert_eq!(pending.len(), 3);
    assert_eq!(
        pending
            .iter()
            .map(|p| p.item.subject_id.as_str())
            .collect::<Vec<_>>(),
        ["i1", "i2", "i1"]
    );
    assert!(
        pending.windows(2).all(|w| w[0].id < w[1].id),
        "oldest first"
    );
    assert_eq!(s.pending_notices(1).await.unwrap().len(), 1);
    assert!(
        !s.notified_since(&a, &one.dedupe_key(), t - secs(3600))
            .await
            .unwrap()
    );

    // One notification of both, the duplicate suppressed: all three stop being pending.
    let ids: Vec<i64> = pending.iter().map(|p| p.id).collect();
    let keys = vec![one.dedupe_key(), two.dedupe_key()];
    let id = s
        .save_notification(
            &a,
            &ids,
            Some((mail(t + secs(3), vec![one.clone(), two.clone()]), keys)),
        )
        .await
        .unwrap();
    assert!(id.is_some());
    assert!(s.pending_notices(10).await.unwrap().is_empty());
    let since = t - secs(24 * 3600);
    assert!(
        s.notified_since(&a, &one.dedupe_key(), since)
            .await
            .unwrap()
    );
    assert!(
        s.notified_since(&a, &two.dedupe_key(), since)
            .await
            .unwrap()
    );
    assert!(
        !s.notified_since(&a, &one.dedupe_key(), t + secs(4))
            .await
            .unwrap(),
        "outside the window"
    );
    assert!(
        !s.notified_since(&a, &item("i3", "x").dedupe_key(), since)
            .await
            .unwrap()
    );
    // LIKE wildcards in a key match only themselves.
    let lookalike = item("i2", r#"50X "korting"Yx"#).dedupe_key();
    assert!(!s.notified_since(&a, &lookalike, since).await.unwrap());
    assert!(
        !s.notified_since(&a, "invoice", since).await.unwrap(),
        "whole keys only"
    );

    // Consuming without a notification.
    s.queue_notice(&a, &one, t + secs(5)).await.unwrap();
    let pending = s.pending_notices(10).await.unwrap();
    assert_eq!(
        s.save_notification(&a, &[pending[0].id], None)
            .await
            .unwrap(),
        None
    );
    assert!(s.pending_notices(10).await.unwrap().is_empty());

    // Newest first; the recipient's name is kept for the mail.
    s.save_notification(
        &a,
        &[],
        Some((
            mail(t + secs(10), vec![two.clone()]),
            vec![two.dedupe_key()],
        )),
    )
    .await
    .unwrap();
    let listed = s.notifications(&a, 10).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].at, t + secs(10));
    assert_eq!(listed[1].items, vec![one, two]);
    assert_eq!(s.notifications(&a, 1).await.unwrap().len(), 1);
    let unsent = s.unsent_notifications(10).await.unwrap();
    assert_eq!(unsent.len(), 2);
    assert!(
        unsent
            .iter()
            .all(|u| u.to_name == "Bea" && u.administratie == a)
    );
}

pub async fn mail_delivery_bookkeeping(h: Harness) {
    let s = &h.store;
    let a = administratie(s, "a").await;
    let t = now();
    let first = s
        .save_notification(
            &a,
            &[],
            Some((mail(t, vec![item("i1", "x")]), vec!["k1".into()])),
        )
        .await
        .unwrap()
        .unwrap();
    let second = s
        .save_notification(
            &a,
            &[],
            Some((mail(t, vec![item("i2", "y")]), vec!["k2".into()])),
        )
        .await
        .unwrap()
        .unwrap();
    let unsent = s.unsent_notifications(10).await.unwrap();
    assert_eq!(
        unsent.iter().map(|u| u.id).collect::<Vec<_>>(),
        [first, second]
    );
    assert_eq!(
        unsent[0].to_name, "bea@x.nl",
        "no Beheerder with that address: the address"
    );

    // A failed send waits for its back-off; a sent one is done.
    s.mark_notification(first, now(), Some("smtp: connection refused".into()))
        .await
        .unwrap();
    s.mark_notification(second, now(), None).await.unwrap();
    assert!(s.unsent_notifications(10).await.unwrap().is_empty());
    // Back-off passed (the failure was long ago): offered again, until the tenth failure.
    let long_ago = now() - secs(7200);
    s.mark_notification(first, long_ago, Some("again".into()))
        .await
        .unwrap();
    assert_eq!(s.unsent_notifications(10).await.unwrap().len(), 1);
    for _ in 0..8 {
        s.mark_notification(first, long_ago, Some("again".into()))
            .await
            .unwrap();
    }
    assert!(
        s.unsent_notifications(10).await.unwrap().is_empty(),
        "given up after ten"
    );
    assert_eq!(
        s.notifications(&a, 10).await.unwrap().len(),
        2,
        "still listed"
    );
}
