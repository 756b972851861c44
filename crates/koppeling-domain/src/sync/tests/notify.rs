//! `dispatch_notifications`: grouping, dedupe, and mail delivery that is retried with a
//! capped back-off until it succeeds (never given up).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{adm, now, ready, with_clock};
use crate::ids::ResourceId;
use crate::notification::{DispatchReport, NoticeKind, NotificationItem, StoredNotification};
use crate::ports::{
    Admin, MockAccounting, MockNotifier, MockStore, NotifyError, PendingNotice, Recipient,
    SendFailure, UnsentNotification,
};
use crate::sync::{Service, SyncConfig};

type Sut = super::Sut;

fn notice(id: i64, invoice: &str, code: &str) -> PendingNotice {
    PendingNotice {
        id,
        administratie: adm(),
        item: NotificationItem {
            kind: NoticeKind::InvoiceFailed,
            subject_type: "invoice".into(),
            subject_id: invoice.into(),
            label: invoice.into(),
            reason: "refused".into(),
            snelstart_code: Some(code.into()),
            hint: Some("fix it".into()),
        },
        at: now(),
    }
}

fn recipient() -> Recipient {
    Recipient {
        administratie_name: "Kantoor".into(),
        admin: Some(Admin {
            id: ResourceId::parse("bea").unwrap(),
            name: "Bea".into(),
            email: "bea@kantoor.nl".into(),
        }),
    }
}

fn unsent(id: i64, to: &str, send_attempts: u32) -> UnsentNotification {
    UnsentNotification {
        id,
        administratie: adm(),
        to_name: "Bea".into(),
        notification: StoredNotification {
            at: now(),
            to: to.into(),
            subject: "s".into(),
            body: "b".into(),
            items: vec![],
        },
        send_attempts,
    }
}

/// A store with no pending notices whose due mails are `due` (claimed for five minutes).
fn with_due(due: Vec<UnsentNotification>) -> MockStore {
    let mut store = MockStore::new();
    store
        .expect_pending_notices()
        .returning(|_| ready(Ok(vec![])));
    store
        .expect_unsent_notifications()
        .times(1)
        .returning(move |at, hold_until, _| {
            assert_eq!(at, now(), "due is decided by the service's clock");
            assert_eq!(hold_until, now() + chrono::Duration::minutes(5));
            ready(Ok(due.clone()))
        });
    store
}

/// The `mark_notification` calls: the id and the failure, if any.
type Marks = Arc<Mutex<Vec<(i64, Option<SendFailure>)>>>;

/// Records every `mark_notification` call.
fn record_marks(store: &mut MockStore) -> Marks {
    let marks = Arc::new(Mutex::new(Vec::new()));
    let in_mock = marks.clone();
    store
        .expect_mark_notification()
        .returning(move |id, at, failure| {
            assert_eq!(at, now());
            in_mock.lock().unwrap().push((id, failure));
            ready(Ok(()))
        });
    marks
}

fn refusing_smtp() -> MockNotifier {
    let mut notifier = MockNotifier::new();
    notifier.expect_send().returning(|mail| {
        ready(Err(NotifyError(format!(
            "connection refused while mailing {}",
            mail.to_email
        ))))
    });
    notifier
}

fn sut_with(store: MockStore, notifier: MockNotifier, config: SyncConfig) -> Sut {
    Service::new(store, MockAccounting::new(), notifier, with_clock(), config)
}

fn dispatch(sut: &Sut) -> DispatchReport {
    futures::executor::block_on(sut.dispatch_notifications()).unwrap()
}

#[test]
fn failures_of_one_pass_become_one_mail_and_repeats_within_the_window_are_dropped() {
    // Arrange: f1 and f2 fail; f1's problem appears twice; f3's was mailed within the window.
    let mut store = MockStore::new();
    store.expect_pending_notices().returning(|_| {
        ready(Ok(vec![
            notice(1, "f1", "BOE-0039"),
            notice(2, "f2", "BOE-0042"),
            notice(3, "f1", "BOE-0039"),
            notice(4, "f3", "BOE-0028"),
        ]))
    });
    store.expect_notified_since().returning(|_, key, since| {
        assert_eq!(since, now() - chrono::Duration::hours(24));
        ready(Ok(key.contains("f3")))
    });
    store
        .expect_recipient()
        .returning(|_| ready(Ok(recipient())));
    let saved = Arc::new(Mutex::new(Vec::new()));
    let saved_in = saved.clone();
    store
        .expect_save_notification()
        .times(1)
        .returning(move |_, ids, notification| {
            saved_in.lock().unwrap().push((ids.to_vec(), notification));
            ready(Ok(Some(77)))
        });
    store
        .expect_unsent_notifications()
        .returning(|_, _, _| ready(Ok(vec![unsent(77, "bea@kantoor.nl", 0)])));
    let marks = record_marks(&mut store);
    let mut notifier = MockNotifier::new();
    notifier.expect_send().times(1).returning(|mail| {
        assert_eq!(mail.to_email, "bea@kantoor.nl");
        ready(Ok(()))
    });
    let sut = sut_with(store, notifier, SyncConfig::default());
    // Act
    let report = dispatch(&sut);
    // Assert
    assert_eq!(report, DispatchReport { sent: 1, failed: 0 });
    assert_eq!(*marks.lock().unwrap(), [(77, None)]);
    let saved = saved.lock().unwrap();
    let (ids, notification) = &saved[0];
    assert_eq!(
        ids,
        &[1, 2, 3, 4],
        "every pending notice is consumed, also the dropped ones"
    );
    let (notification, keys) = notification.clone().unwrap();
    let items: Vec<&str> = notification
        .items
        .iter()
        .map(|i| i.subject_id.as_str())
        .collect();
    assert_eq!(items, ["f1", "f2"]);
    assert_eq!(keys.len(), 2);
    assert!(
        notification.subject.contains("2 problemen"),
        "{}",
        notification.subject
    );
    assert_eq!(notification.to, "bea@kantoor.nl");
}

#[test]
fn a_failed_send_is_recorded_with_its_error_and_due_again_after_the_base_back_off() {
    // Arrange
    let mut store = with_due(vec![unsent(5, "bea@kantoor.nl", 0)]);
    let marks = record_marks(&mut store);
    let sut = sut_with(store, refusing_smtp(), SyncConfig::default());
    // Act
    let report = dispatch(&sut);
    // Assert
    assert_eq!(report, DispatchReport { sent: 0, failed: 1 });
    let marks = marks.lock().unwrap();
    let (id, failure) = &marks[0];
    let failure = failure.clone().expect("recorded as a failure");
    assert_eq!(*id, 5);
    assert_eq!(
        failure.error, "connection refused while mailing bea@kantoor.nl",
        "the notifier's own message, without the error type's prefix"
    );
    assert_eq!(failure.retry_at, now() + chrono::Duration::seconds(30));
}

#[test]
fn the_wait_doubles_per_failure_up_to_the_cap_and_a_mail_is_never_given_up() {
    // Arrange: mails that failed 1, 3, 10 and 500 times before.
    let mut store = with_due(vec![
        unsent(1, "bea@kantoor.nl", 1),
        unsent(2, "bea@kantoor.nl", 3),
        unsent(3, "bea@kantoor.nl", 10),
        unsent(4, "bea@kantoor.nl", 500),
    ]);
    let marks = record_marks(&mut store);
    let sut = sut_with(store, refusing_smtp(), SyncConfig::default());
    // Act
    let report = dispatch(&sut);
    // Assert
    assert_eq!(report.failed, 4, "each is tried, however often it failed");
    let waits: Vec<i64> = marks
        .lock()
        .unwrap()
        .iter()
        .map(|(_, f)| (f.as_ref().unwrap().retry_at - now()).num_seconds())
        .collect();
    assert_eq!(waits, [60, 240, 3600, 3600]);
}

#[test]
fn the_base_and_the_cap_of_the_back_off_come_from_the_config() {
    // Arrange
    let mut store = with_due(vec![
        unsent(1, "bea@kantoor.nl", 0),
        unsent(2, "bea@kantoor.nl", 2),
    ]);
    let marks = record_marks(&mut store);
    let config = SyncConfig {
        notify_retry: Duration::from_millis(10),
        notify_retry_max: Duration::from_millis(25),
        ..SyncConfig::default()
    };
    let sut = sut_with(store, refusing_smtp(), config);
    // Act
    dispatch(&sut);
    // Assert
    let waits: Vec<i64> = marks
        .lock()
        .unwrap()
        .iter()
        .map(|(_, f)| (f.as_ref().unwrap().retry_at - now()).num_milliseconds())
        .collect();
    assert_eq!(waits, [10, 25]);
}

#[test]
fn a_mail_that_failed_many_times_is_sent_once_smtp_works_again() {
    // Arrange
    let mut store = with_due(vec![unsent(9, "bea@kantoor.nl", 12)]);
    let marks = record_marks(&mut store);
    let mut notifier = MockNotifier::new();
    notifier.expect_send().times(1).returning(|_| ready(Ok(())));
    let sut = sut_with(store, notifier, SyncConfig::default());
    // Act
    let report = dispatch(&sut);
    // Assert
    assert_eq!(report, DispatchReport { sent: 1, failed: 0 });
    assert_eq!(*marks.lock().unwrap(), [(9, None)]);
}

#[test]
fn items_of_a_notification_that_still_waits_are_not_made_into_a_second_one() {
    // Arrange: the store says the item is in a sent-or-waiting notification.
    let mut store = MockStore::new();
    store
        .expect_pending_notices()
        .returning(|_| ready(Ok(vec![notice(8, "f1", "BOE-0039")])));
    store
        .expect_notified_since()
        .returning(|_, _, _| ready(Ok(true)));
    store
        .expect_save_notification()
        .times(1)
        .returning(|_, ids, notification| {
            assert_eq!(ids, [8]);
            assert!(notification.is_none(), "only consumed");
            ready(Ok(None))
        });
    store.expect_recipient().never();
    store
        .expect_unsent_notifications()
        .returning(|_, _, _| ready(Ok(vec![])));
    let mut notifier = MockNotifier::new();
    notifier.expect_send().never();
    let sut = sut_with(store, notifier, SyncConfig::default());
    // Act
    let report = dispatch(&sut);
    // Assert
    assert_eq!(report, DispatchReport::default());
}

#[test]
fn without_a_chosen_beheerder_the_notification_is_stored_and_marked_not_mailed() {
    // Arrange
    let mut store = MockStore::new();
    store
        .expect_pending_notices()
        .returning(|_| ready(Ok(vec![notice(1, "f1", "BOE-0039")])));
    store
        .expect_notified_since()
        .returning(|_, _, _| ready(Ok(false)));
    store.expect_recipient().returning(|_| {
        ready(Ok(Recipient {
            administratie_name: "Kantoor".into(),
            admin: None,
        }))
    });
    store
        .expect_save_notification()
        .returning(|_, _, notification| {
            assert_eq!(notification.unwrap().0.to, "");
            ready(Ok(Some(3)))
        });
    // A stored-only one left unmarked (a crash in between) is marked, not mailed.
    store
        .expect_unsent_notifications()
        .returning(|_, _, _| ready(Ok(vec![unsent(2, "", 0)])));
    let marks = record_marks(&mut store);
    let mut notifier = MockNotifier::new();
    notifier.expect_send().never();
    let sut = sut_with(store, notifier, SyncConfig::default());
    // Act
    let report = dispatch(&sut);
    // Assert
    assert_eq!(report, DispatchReport::default());
    assert_eq!(*marks.lock().unwrap(), [(3, None), (2, None)]);
}
