//! Notices, notifications, dedupe keys and mail delivery bookkeeping.

use koppeling_domain::koppeling::KoppelingSettings;
use koppeling_domain::notification::{NoticeKind, NotificationItem, StoredNotification};
use koppeling_domain::ports::roles::*;
use koppeling_domain::ports::{Admin, SendFailure};
use koppeling_radar360::Migrator;
use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;

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
        s.notified_since(&a, &one.dedupe_key(), t + secs(4))
            .await
            .unwrap(),
        "not sent yet: it waits, whatever the window"
    );
    s.mark_notification(id.unwrap(), t + secs(3), None)
        .await
        .unwrap();
    assert!(
        !s.notified_since(&a, &one.dedupe_key(), t + secs(4))
            .await
            .unwrap(),
        "sent before the window"
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
    assert_eq!(listed[0].notification.at, t + secs(10));
    assert_eq!(listed[1].notification.items, vec![one, two]);
    assert_eq!(s.notifications(&a, 1).await.unwrap().len(), 1);
    let unsent = s
        .unsent_notifications(now(), now() + secs(300), 10)
        .await
        .unwrap();
    assert_eq!(unsent.len(), 1, "the first one was sent");
    assert!(
        unsent
            .iter()
            .all(|u| u.to_name == "Bea" && u.administratie == a)
    );
}

fn failed(error: &str, retry_at: chrono::DateTime<chrono::Utc>) -> Option<SendFailure> {
    Some(SendFailure {
        error: error.into(),
        retry_at,
    })
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
    assert_eq!(s.count_unsent_notifications().await.unwrap(), 2);
    let unsent = s.unsent_notifications(t, t + secs(300), 10).await.unwrap();
    assert_eq!(
        unsent.iter().map(|u| u.id).collect::<Vec<_>>(),
        [first, second]
    );
    assert_eq!(
        unsent[0].to_name, "bea@x.nl",
        "no Beheerder with that address: the address"
    );
    assert!(unsent.iter().all(|u| u.send_attempts == 0));

    // Claimed: held from this and any other process until the hold ends.
    assert!(
        s.unsent_notifications(t, t + secs(300), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let other = h.another_store().await;
    assert!(
        other
            .unsent_notifications(t + secs(299), t + secs(600), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        other
            .unsent_notifications(t + secs(300), t + secs(600), 10)
            .await
            .unwrap()
            .len(),
        2,
        "a holder that never came back: due again"
    );

    // A failed send waits for its back-off, with its error; a sent one is done.
    s.mark_notification(first, t, failed("smtp: connection refused", t + secs(30)))
        .await
        .unwrap();
    s.mark_notification(second, t + secs(1), None)
        .await
        .unwrap();
    let listed = s.notifications(&a, 10).await.unwrap();
    let (l_second, l_first) = (&listed[0], &listed[1]);
    assert_eq!(l_first.sent_at, None);
    assert_eq!(
        l_first.last_error.as_deref(),
        Some("smtp: connection refused")
    );
    assert_eq!(l_first.send_attempts, 1);
    assert_eq!(l_second.sent_at, Some(t + secs(1)));
    assert_eq!(l_second.last_error, None);
    assert_eq!(l_second.send_attempts, 1);
    assert_eq!(s.count_unsent_notifications().await.unwrap(), 1);
    assert!(
        s.unsent_notifications(t + secs(29), t + secs(400), 10)
            .await
            .unwrap()
            .is_empty(),
        "within its back-off"
    );

    // Never given up: after fifteen more failures it is still due once its wait is over.
    let mut at = t + secs(30);
    for n in 0..15 {
        let due = s
            .unsent_notifications(at, at + secs(300), 10)
            .await
            .unwrap();
        assert_eq!(due.len(), 1, "due again after failure {}", n + 1);
        assert_eq!(due[0].id, first);
        assert_eq!(due[0].send_attempts, n + 1);
        s.mark_notification(first, at, failed(&format!("refused {n}"), at + secs(3600)))
            .await
            .unwrap();
        at += secs(3600);
    }
    let listed = s.notifications(&a, 10).await.unwrap();
    assert_eq!(listed[1].send_attempts, 16);
    assert_eq!(listed[1].last_error.as_deref(), Some("refused 14"));
    assert_eq!(listed[1].sent_at, None);
    assert_eq!(
        s.unsent_notifications(at, at + secs(300), 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // Sent at last; a late report of a failure does not make it unsent again.
    s.mark_notification(first, at, None).await.unwrap();
    s.mark_notification(first, at, failed("late", at + secs(30)))
        .await
        .unwrap();
    let listed = s.notifications(&a, 10).await.unwrap();
    assert_eq!(listed[1].sent_at, Some(at));
    assert_eq!(listed[1].last_error, None);
    assert_eq!(listed[1].send_attempts, 17);
    assert_eq!(s.count_unsent_notifications().await.unwrap(), 0);
    assert!(
        s.unsent_notifications(at + secs(7200), at + secs(7500), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn dedupe_counts_mails_sent_in_the_window_and_mails_still_waiting(h: Harness) {
    let s = &h.store;
    let a = administratie(s, "a").await;
    let t = now();
    let window = t - secs(24 * 3600);
    let save = |at, key: &str, to: &str| {
        let mut m = mail(at, vec![item(key, "x")]);
        m.to = to.into();
        let keys = vec![key.to_owned()];
        let a = a.clone();
        async move {
            s.save_notification(&a, &[], Some((m, keys)))
                .await
                .unwrap()
                .unwrap()
        }
    };

    // Made two days ago and never sent: it waits, so its items count.
    let waiting = save(t - secs(48 * 3600), "k-waiting", "bea@x.nl").await;
    assert!(s.notified_since(&a, "k-waiting", window).await.unwrap());
    // Sent 30 hours ago: outside the window.
    s.mark_notification(waiting, t - secs(30 * 3600), None)
        .await
        .unwrap();
    assert!(!s.notified_since(&a, "k-waiting", window).await.unwrap());

    // Made two days ago, sent an hour ago (SMTP was down): the window runs from the send.
    let late = save(t - secs(48 * 3600), "k-late", "bea@x.nl").await;
    s.mark_notification(late, t - secs(3600), None)
        .await
        .unwrap();
    assert!(s.notified_since(&a, "k-late", window).await.unwrap());
    assert!(!s.notified_since(&a, "k-late", t - secs(60)).await.unwrap());

    // A failed send keeps it waiting.
    let failing = save(t - secs(72 * 3600), "k-failing", "bea@x.nl").await;
    s.mark_notification(failing, t, failed("refused", t + secs(30)))
        .await
        .unwrap();
    assert!(s.notified_since(&a, "k-failing", window).await.unwrap());

    // Stored only (no Beheerder chosen): counted from when it was stored, as before, and
    // not a mail that waits.
    let stored = save(t, "k-stored", "").await;
    s.mark_notification(stored, t, None).await.unwrap();
    assert!(s.notified_since(&a, "k-stored", window).await.unwrap());
    assert!(!s.notified_since(&a, "k-stored", t + secs(1)).await.unwrap());
    let listed = s.notifications(&a, 10).await.unwrap();
    let stored = listed
        .iter()
        .find(|n| n.notification.to.is_empty())
        .unwrap();
    assert_eq!((stored.sent_at, stored.send_attempts), (Some(t), 0));
    assert_eq!(
        s.count_unsent_notifications().await.unwrap(),
        1,
        "only the failing mail"
    );
}

/// A database from before the change: a mail given up after ten failed sends is due
/// again after the migration (and is no longer given up); others are untouched.
pub async fn given_up_mails_are_due_again_after_the_migration(h: Harness) {
    let s = &h.store;
    let conn = s.connection();
    // Back to just before that migration (later ones are undone with it).
    let after = Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m20261204_000002_notification_delivery")
        .expect("the migration exists");
    Migrator::down(conn, Some(u32::try_from(after + 1).unwrap()))
        .await
        .unwrap();
    let a = administratie(s, "a").await;
    let t = now();
    let given_up = s
        .save_notification(
            &a,
            &[],
            Some((mail(t, vec![item("i1", "x")]), vec!["k1".into()])),
        )
        .await
        .unwrap()
        .unwrap();
    let sent = s
        .save_notification(
            &a,
            &[],
            Some((mail(t, vec![item("i2", "x")]), vec!["k2".into()])),
        )
        .await
        .unwrap()
        .unwrap();
    s.mark_notification(given_up, t, failed("refused", t + secs(3600)))
        .await
        .unwrap();
    s.mark_notification(sent, t, None).await.unwrap();
    conn.execute_unprepared(&format!(
        "UPDATE notifications SET send_attempts = 10 WHERE id = {given_up}"
    ))
    .await
    .unwrap();
    assert!(
        s.unsent_notifications(t + secs(1), t + secs(300), 10)
            .await
            .unwrap()
            .is_empty()
    );

    Migrator::up(conn, None).await.unwrap();
    let due = s
        .unsent_notifications(t + secs(1), t + secs(300), 10)
        .await
        .unwrap();
    assert_eq!(due.iter().map(|u| u.id).collect::<Vec<_>>(), [given_up]);
    assert_eq!(due[0].send_attempts, 10);
    let listed = s.notifications(&a, 10).await.unwrap();
    assert!(
        listed.iter().any(|n| n.sent_at == Some(t)),
        "the sent one stays sent"
    );
    // Down and up again work on this engine.
    Migrator::down(conn, Some(1)).await.unwrap();
    Migrator::up(conn, None).await.unwrap();
}
