//! Orchestration tests of the sync use case with mocked ports (Arrange / Act / Assert).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal_macros::dec;

use super::*;
use crate::ids::ResourceId;
use crate::koppeling::{ConnectionKey, Koppeling, KoppelingSettings};
use crate::money::VatClass;
use crate::ports::{
    MockAccounting, MockClock, MockNotifier, MockStore, RemoteBooking, RemoteRelatie,
};
use crate::relation::Relation;
use crate::testkit::{self, invoice, line};

mod admin;
mod documents;
mod link;
mod notify;

type Sut = Service<MockStore, MockAccounting, MockNotifier, MockClock>;
type Fut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

fn ready<T: Send + 'static>(value: T) -> Fut<T> {
    Box::pin(std::future::ready(value))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

fn adm() -> AdministratieCode {
    AdministratieCode::parse("kantoor").unwrap()
}

fn claim(attempts: u32, needs_lookup: bool) -> Claim {
    Claim {
        administratie: adm(),
        invoice_id: ResourceId::parse("inv-1").unwrap(),
        attempts,
        needs_lookup,
        failing_since: None,
        worker: "w1".into(),
    }
}

/// [`testkit::relation`] with an e-mail address, ticked for SnelStart.
fn relation(code: &str) -> Relation {
    Relation {
        email: Some("facturen@voorbeeld.nl".into()),
        snelstart_enabled: true,
        ..testkit::relation(code)
    }
}

fn job(code: &str, link: Option<RelatieLink>) -> SyncJob {
    SyncJob {
        invoice: invoice(vec![line(dec!(100), VatClass::High)]),
        relation: relation(code),
        relatie: link,
        koppeling: Koppeling {
            administratie: adm(),
            settings: KoppelingSettings::default(),
            key: Some(ConnectionKey::new("dXNlcjpwYXNz".into()).unwrap()),
            key_unusable: false,
            active: true,
            paused: false,
            problem: None,
            last_sync_at: None,
        },
    }
}

fn current_link() -> RelatieLink {
    let data = crate::relation::plan_relatie(&relation("1001")).unwrap();
    RelatieLink {
        snelstart_id: "rel-guid".into(),
        fingerprint: data.fingerprint(),
    }
}

/// What `finish` recorded.
#[derive(Default)]
struct Recorded {
    outcomes: Vec<Outcome>,
    notices: Vec<NotificationItem>,
}

fn with_store(job: SyncJob) -> (MockStore, Arc<Mutex<Recorded>>) {
    let recorded = Arc::new(Mutex::new(Recorded::default()));
    let mut store = MockStore::new();
    store
        .expect_load_job()
        .returning(move |_| ready(Ok(Some(job.clone()))));
    let rec = recorded.clone();
    store
        .expect_finish()
        .returning(move |_, _, outcome, _, notice| {
            let mut r = rec.lock().unwrap();
            r.outcomes.push(outcome.clone());
            if let Some(n) = notice {
                r.notices.push(n.clone());
            }
            ready(Ok(true))
        });
    (store, recorded)
}

fn with_clock() -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    clock
}

fn sut(store: MockStore, accounting: MockAccounting) -> Sut {
    Service::new(
        store,
        accounting,
        MockNotifier::new(),
        with_clock(),
        SyncConfig::default(),
    )
}

fn run(sut: &Sut, claim: &Claim) -> AttemptReport {
    futures::executor::block_on(sut.process(claim)).unwrap()
}

#[test]
fn a_new_relation_is_created_then_the_invoice_booked() {
    // Arrange
    let (mut store, recorded) = with_store(job("1001", None));
    store
        .expect_save_relatie_link()
        .times(1)
        .returning(|_, _, link| {
            assert_eq!(link.snelstart_id, "rel-guid");
            ready(Ok(()))
        });
    let mut accounting = MockAccounting::new();
    accounting
        .expect_create_relatie()
        .times(1)
        .returning(|_, data| {
            assert_eq!(data.code.get(), 1001);
            ready(Ok("rel-guid".into()))
        });
    accounting
        .expect_book_sale()
        .times(1)
        .returning(|_, booking, klant| {
            assert_eq!(klant, "rel-guid");
            assert_eq!(booking.total, dec!(121.00));
            ready(Ok("boeking-1".into()))
        });
    // Act
    let report = run(&sut(store, accounting), &claim(0, false));
    // Assert
    assert_eq!(
        report.outcome,
        Outcome::Synced {
            snelstart_id: "boeking-1".into()
        }
    );
    assert!(recorded.lock().unwrap().notices.is_empty());
}

#[test]
fn steady_state_costs_one_call_when_the_relation_is_unchanged() {
    let (store, _) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_book_sale()
        .times(1)
        .returning(|_, _, _| ready(Ok("b".into())));
    // No other expectation: any find/create/update call would panic.
    let report = run(&sut(store, accounting), &claim(0, false));
    assert!(matches!(report.outcome, Outcome::Synced { .. }));
}

#[test]
fn a_changed_relation_is_updated_before_booking() {
    let stale = RelatieLink {
        snelstart_id: "rel-guid".into(),
        fingerprint: "old".into(),
    };
    let (mut store, _) = with_store(job("1001", Some(stale)));
    store
        .expect_save_relatie_link()
        .times(1)
        .returning(|_, _, link| {
            assert_ne!(link.fingerprint, "old");
            ready(Ok(()))
        });
    let mut accounting = MockAccounting::new();
    accounting
        .expect_update_relatie()
        .times(1)
        .returning(|_, id, _| {
            assert_eq!(id, "rel-guid");
            ready(Ok(()))
        });
    accounting
        .expect_book_sale()
        .times(1)
        .returning(|_, _, _| ready(Ok("b".into())));
    let report = run(&sut(store, accounting), &claim(0, false));
    assert!(matches!(report.outcome, Outcome::Synced { .. }));
}

#[test]
fn a_lost_response_is_retried_with_a_lookup_and_never_posted_blindly() {
    let (store, recorded) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    accounting.expect_book_sale().times(1).returning(|_, _, _| {
        ready(Err(AccountingError::UnknownOutcome {
            message: "connection reset".into(),
        }))
    });
    let report = run(&sut(store, accounting), &claim(0, false));
    match report.outcome {
        Outcome::Retry {
            needs_lookup,
            next_attempt_at,
            ..
        } => {
            assert!(needs_lookup);
            assert!(next_attempt_at > now());
        }
        other => panic!("expected a retry, got {other:?}"),
    }
    assert!(
        recorded.lock().unwrap().notices.is_empty(),
        "a transient failure is not notified at once"
    );
}

#[test]
fn after_an_unknown_outcome_a_booking_found_by_number_is_adopted_without_posting() {
    let (store, _) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_find_booking()
        .times(1)
        .returning(|_, number| {
            assert_eq!(number, "2026-001");
            ready(Ok(Some(RemoteBooking {
                id: "boeking-1".into(),
                number: Some("2026-001".into()),
                klant_id: Some("rel-guid".into()),
                total: Some(dec!(121.0)),
            })))
        });
    accounting.expect_book_sale().never();
    let report = run(&sut(store, accounting), &claim(1, true));
    assert_eq!(
        report.outcome,
        Outcome::Synced {
            snelstart_id: "boeking-1".into()
        }
    );
}

#[test]
fn after_an_unknown_outcome_a_missing_booking_is_posted_once() {
    let (store, _) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_find_booking()
        .times(1)
        .returning(|_, _| ready(Ok(None)));
    accounting
        .expect_book_sale()
        .times(1)
        .returning(|_, _, _| ready(Ok("b".into())));
    let report = run(&sut(store, accounting), &claim(1, true));
    assert!(matches!(report.outcome, Outcome::Synced { .. }));
}

#[test]
fn boe_0021_with_a_matching_booking_is_adopted() {
    let (store, _) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    accounting.expect_book_sale().times(1).returning(|_, _, _| {
        ready(Err(AccountingError::Rejected {
            rejection: Rejection::DuplicateInvoiceNumber,
            message: "Het factuurnummer bestaat al".into(),
        }))
    });
    accounting.expect_find_booking().times(1).returning(|_, _| {
        ready(Ok(Some(RemoteBooking {
            id: "existing".into(),
            number: Some("2026-001".into()),
            klant_id: Some("REL-GUID".into()),
            total: Some(dec!(121)),
        })))
    });
    let report = run(&sut(store, accounting), &claim(0, false));
    assert_eq!(
        report.outcome,
        Outcome::Synced {
            snelstart_id: "existing".into()
        }
    );
}

#[test]
fn boe_0021_with_another_total_fails_with_a_clear_reason() {
    let (store, recorded) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    accounting.expect_book_sale().returning(|_, _, _| {
        ready(Err(AccountingError::Rejected {
            rejection: Rejection::DuplicateInvoiceNumber,
            message: "Het factuurnummer bestaat al".into(),
        }))
    });
    accounting.expect_find_booking().returning(|_, _| {
        ready(Ok(Some(RemoteBooking {
            id: "other".into(),
            number: Some("2026-001".into()),
            klant_id: Some("rel-guid".into()),
            total: Some(dec!(50)),
        })))
    });
    let report = run(&sut(store, accounting), &claim(0, false));
    match report.outcome {
        Outcome::Failed {
            error,
            snelstart_code,
            class,
            hint,
        } => {
            assert!(
                error.contains("2026-001") && error.contains("totaal 50"),
                "{error}"
            );
            assert_eq!(snelstart_code.as_deref(), Some("BOE-0021"));
            assert_eq!(class, ErrorClass::Data);
            assert!(hint.is_some());
        }
        other => panic!("expected failed, got {other:?}"),
    }
    assert_eq!(recorded.lock().unwrap().notices.len(), 1);
}

#[test]
fn a_429_waits_out_retry_after_without_notifying() {
    let (store, recorded) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    accounting.expect_book_sale().returning(|_, _, _| {
        ready(Err(AccountingError::Transient {
            retry_after: Some(Duration::from_secs(30)),
            message: "429".into(),
        }))
    });
    let report = run(&sut(store, accounting), &claim(0, false));
    match report.outcome {
        Outcome::Retry {
            next_attempt_at,
            needs_lookup,
            ..
        } => {
            assert_eq!(next_attempt_at, now() + chrono::Duration::seconds(30));
            assert!(!needs_lookup);
        }
        other => panic!("{other:?}"),
    }
    assert!(recorded.lock().unwrap().notices.is_empty());
}

#[test]
fn a_transient_failure_that_lasts_over_an_hour_is_notified() {
    let (store, recorded) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    accounting.expect_book_sale().returning(|_, _, _| {
        ready(Err(AccountingError::Transient {
            retry_after: None,
            message: "503".into(),
        }))
    });
    let mut c = claim(12, false);
    c.failing_since = Some(now() - chrono::Duration::minutes(61));
    run(&sut(store, accounting), &c);
    let notices = &recorded.lock().unwrap().notices;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].kind, NoticeKind::StillFailing);
}

#[test]
fn a_refused_key_pauses_the_koppeling_and_notifies_once() {
    let (mut store, recorded) = with_store(job("1001", Some(current_link())));
    let changed = Arc::new(Mutex::new(vec![true, false]));
    store
        .expect_set_koppeling_paused()
        .times(2)
        .returning(move |_, problem| {
            assert!(problem.is_some());
            ready(Ok(changed.lock().unwrap().remove(0)))
        });
    store
        .expect_queue_notice()
        .times(1)
        .returning(|_, item, _| {
            assert_eq!(item.kind, NoticeKind::Paused);
            ready(Ok(()))
        });
    let mut accounting = MockAccounting::new();
    accounting.expect_book_sale().times(2).returning(|_, _, _| {
        ready(Err(AccountingError::Auth {
            credential: Credential::ConnectionKey,
            message: "invalid_grant".into(),
        }))
    });
    let sut = sut(store, accounting);
    let first = run(&sut, &claim(0, false));
    let second = run(&sut, &claim(0, false));
    assert_eq!(
        first.outcome,
        Outcome::Release {
            needs_lookup: false
        }
    );
    assert_eq!(
        second.outcome,
        Outcome::Release {
            needs_lookup: false
        }
    );
    assert!(recorded.lock().unwrap().notices.is_empty());
}

#[test]
fn a_refused_subscription_key_pauses_every_koppeling() {
    let (mut store, _) = with_store(job("1001", Some(current_link())));
    store.expect_set_all_paused().times(1).returning(|problem| {
        assert_eq!(
            problem,
            Some(crate::pause::PauseReason::SubscriptionKeyRefused)
        );
        ready(Ok(vec![adm()]))
    });
    let mut accounting = MockAccounting::new();
    accounting.expect_book_sale().returning(|_, _, _| {
        ready(Err(AccountingError::Auth {
            credential: Credential::SubscriptionKey,
            message: "401".into(),
        }))
    });
    let report = run(&sut(store, accounting), &claim(0, false));
    assert!(matches!(report.outcome, Outcome::Release { .. }));
}

#[test]
fn a_business_rejection_fails_that_invoice_with_code_hint_and_notice() {
    let (store, recorded) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    accounting.expect_book_sale().returning(|_, _, _| {
        ready(Err(AccountingError::Rejected {
            rejection: Rejection::PeriodClosed {
                code: "BOE-0042".into(),
            },
            message: "Periode geblokkeerd".into(),
        }))
    });
    let report = run(&sut(store, accounting), &claim(0, false));
    match report.outcome {
        Outcome::Failed {
            snelstart_code,
            hint,
            ..
        } => {
            assert_eq!(snelstart_code.as_deref(), Some("BOE-0042"));
            assert!(hint.unwrap().contains("geblokkeerd"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        recorded.lock().unwrap().notices[0]
            .snelstart_code
            .as_deref(),
        Some("BOE-0042")
    );
}

#[test]
fn a_relatiecode_in_use_by_a_klant_is_adopted_and_updated() {
    let (mut store, _) = with_store(job("1001", None));
    store
        .expect_save_relatie_link()
        .times(1)
        .returning(|_, _, link| {
            assert_eq!(link.snelstart_id, "existing-rel");
            ready(Ok(()))
        });
    let mut accounting = MockAccounting::new();
    accounting.expect_create_relatie().returning(|_, _| {
        ready(Err(AccountingError::Rejected {
            rejection: Rejection::RelatiecodeTaken,
            message: "Relatiecode reeds in gebruik".into(),
        }))
    });
    accounting.expect_find_relatie().times(1).returning(|_, _| {
        ready(Ok(Some(RemoteRelatie {
            id: "existing-rel".into(),
            is_klant: true,
            inactive: false,
        })))
    });
    accounting
        .expect_update_relatie()
        .times(1)
        .returning(|_, _, _| ready(Ok(())));
    accounting
        .expect_book_sale()
        .times(1)
        .returning(|_, _, klant| {
            assert_eq!(klant, "existing-rel");
            ready(Ok("b".into()))
        });
    let report = run(&sut(store, accounting), &claim(0, false));
    assert!(matches!(report.outcome, Outcome::Synced { .. }));
}

#[test]
fn a_relatiecode_used_by_a_supplier_fails_the_invoice() {
    let (store, _) = with_store(job("1001", None));
    let mut accounting = MockAccounting::new();
    accounting.expect_create_relatie().returning(|_, _| {
        ready(Err(AccountingError::Rejected {
            rejection: Rejection::RelatiecodeTaken,
            message: "in gebruik".into(),
        }))
    });
    accounting.expect_find_relatie().returning(|_, _| {
        ready(Ok(Some(RemoteRelatie {
            id: "lev".into(),
            is_klant: false,
            inactive: false,
        })))
    });
    accounting.expect_book_sale().never();
    let report = run(&sut(store, accounting), &claim(0, false));
    assert!(
        matches!(report.outcome, Outcome::Failed { ref error, .. } if error.contains("geen klant"))
    );
}

#[test]
fn a_non_numeric_code_never_reaches_snelstart() {
    let (store, recorded) = with_store(job("A-12", None));
    let accounting = MockAccounting::new(); // any call panics
    let report = run(&sut(store, accounting), &claim(0, false));
    match report.outcome {
        Outcome::Failed { error, hint, .. } => {
            assert!(error.contains("Relatiecode \"A-12\""), "{error}");
            assert!(hint.unwrap().contains("numeriek"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(recorded.lock().unwrap().notices[0].subject_type, "relation");
}

#[test]
fn an_all_zero_invoice_is_skipped_without_a_call() {
    let mut j = job("1001", Some(current_link()));
    j.invoice.lines = vec![
        line(dec!(0), VatClass::High),
        line(dec!(0.004), VatClass::Low),
    ];
    let (store, _) = with_store(j);
    let report = run(&sut(store, MockAccounting::new()), &claim(0, false));
    assert!(
        matches!(report.outcome, Outcome::Skipped { ref reason } if reason.contains("geen regel met een bedrag"))
    );
}

#[test]
fn an_invoice_before_the_start_date_is_skipped() {
    let mut j = job("1001", Some(current_link()));
    j.koppeling.settings.start_date = NaiveDate::from_ymd_opt(2026, 12, 1);
    let (store, _) = with_store(j);
    let report = run(&sut(store, MockAccounting::new()), &claim(0, false));
    assert!(
        matches!(report.outcome, Outcome::Skipped { ref reason } if reason.contains("startdatum"))
    );
}

#[test]
fn a_paused_koppeling_releases_the_claim_without_calls() {
    let mut j = job("1001", Some(current_link()));
    j.koppeling.paused = true;
    let (store, _) = with_store(j);
    let report = run(&sut(store, MockAccounting::new()), &claim(0, true));
    assert_eq!(report.outcome, Outcome::Release { needs_lookup: true });
}

#[test]
fn one_failing_invoice_does_not_block_the_next() {
    let (store, recorded) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    let calls = Arc::new(Mutex::new(0));
    accounting
        .expect_book_sale()
        .times(2)
        .returning(move |_, _, _| {
            let mut n = calls.lock().unwrap();
            *n += 1;
            if *n == 1 {
                ready(Err(AccountingError::Rejected {
                    rejection: Rejection::Unbalanced,
                    message: "niet in balans".into(),
                }))
            } else {
                ready(Ok("b2".into()))
            }
        });
    let sut = sut(store, accounting);
    let first = run(&sut, &claim(0, false));
    let second = run(&sut, &claim(0, false));
    assert!(matches!(first.outcome, Outcome::Failed { .. }));
    assert!(matches!(second.outcome, Outcome::Synced { .. }));
    assert_eq!(recorded.lock().unwrap().outcomes.len(), 2);
}

#[test]
fn backoff_grows_and_is_capped() {
    let max = Duration::from_secs(900);
    assert_eq!(backoff(0, max), Duration::from_secs(1));
    assert_eq!(backoff(3, max), Duration::from_secs(8));
    assert_eq!(backoff(30, max), max);
}

#[test]
fn a_refused_subscription_key_is_probed_and_every_koppeling_resumes_when_it_works_again() {
    let mut paused = job("1001", None).koppeling;
    paused.paused = true;
    paused.problem = Some(crate::pause::PauseReason::SubscriptionKeyRefused);
    let mut store = MockStore::new();
    store.expect_list_administraties().returning(|| {
        ready(Ok(vec![crate::ports::Administratie {
            code: adm(),
            name: "K".into(),
        }]))
    });
    store
        .expect_get_koppeling()
        .returning(move |_| ready(Ok(Some(paused.clone()))));
    store.expect_set_all_paused().times(1).returning(|problem| {
        assert!(problem.is_none());
        ready(Ok(vec![adm()]))
    });
    // The Beheerders were not told about this pause: no "werkt weer" either.
    store.expect_queue_notice().never();
    let mut accounting = MockAccounting::new();
    let answers = Arc::new(Mutex::new(vec![
        Err(AccountingError::Auth {
            credential: Credential::SubscriptionKey,
            message: "401".into(),
        }),
        Ok(None),
    ]));
    accounting
        .expect_find_booking()
        .times(2)
        .returning(move |_, _| ready(answers.lock().unwrap().remove(0)));
    let sut = sut(store, accounting);
    assert_eq!(
        futures::executor::block_on(sut.probe_subscription()).unwrap(),
        Some(false),
        "still refused: stays paused"
    );
    assert_eq!(
        futures::executor::block_on(sut.probe_subscription()).unwrap(),
        Some(true),
        "accepted: resumed"
    );
}

// ---- The exactly-once invariants (docs/architecture.md, "Invariants") ----

fn found(number: &str, klant: Option<&str>, total: Option<rust_decimal::Decimal>) -> RemoteBooking {
    RemoteBooking {
        id: "found-guid".into(),
        number: Some(number.into()),
        klant_id: klant.map(Into::into),
        total,
    }
}

fn expect_failed_boe_0021(outcome: &Outcome) {
    match outcome {
        Outcome::Failed {
            snelstart_code,
            class,
            ..
        } => {
            assert_eq!(snelstart_code.as_deref(), Some("BOE-0021"));
            assert_eq!(*class, ErrorClass::Data);
        }
        other => panic!("expected failed with BOE-0021, got {other:?}"),
    }
}

#[test]
fn adoption_requires_number_klant_and_total_all_known_and_equal() {
    // (found booking, adopted?) — our invoice: 2026-001, klant rel-guid, total 121.00.
    let table: Vec<(RemoteBooking, bool)> = vec![
        (found("2026-001", Some("rel-guid"), Some(dec!(121))), true),
        (
            found("2026-001", Some("REL-GUID"), Some(dec!(121.0000))),
            true,
        ),
        (found("2026-001", None, Some(dec!(121))), false),
        (found("2026-001", Some("rel-guid"), None), false),
        (
            found("2026-001", Some("other-guid"), Some(dec!(121))),
            false,
        ),
        (
            found("2026-001", Some("rel-guid"), Some(dec!(121.01))),
            false,
        ),
        (found("2026-00l", Some("rel-guid"), Some(dec!(121))), false),
    ];
    for (booking, adopted) in table {
        let (store, _) = with_store(job("1001", Some(current_link())));
        let mut accounting = MockAccounting::new();
        let answer = booking.clone();
        accounting
            .expect_find_booking()
            .times(1)
            .returning(move |_, _| ready(Ok(Some(answer.clone()))));
        accounting.expect_book_sale().never();
        let report = run(&sut(store, accounting), &claim(1, true));
        if adopted {
            assert_eq!(
                report.outcome,
                Outcome::Synced {
                    snelstart_id: "found-guid".into()
                },
                "{booking:?}"
            );
        } else {
            expect_failed_boe_0021(&report.outcome);
        }
    }
}

#[test]
fn without_a_relatie_link_a_found_booking_is_someone_elses() {
    // No link: this invoice was never posted (the relatie comes first), so a booking with
    // its number is another's, however well the total matches.
    let (store, _) = with_store(job("1001", None));
    let mut accounting = MockAccounting::new();
    accounting.expect_find_booking().returning(|_, _| {
        ready(Ok(Some(found(
            "2026-001",
            Some("rel-guid"),
            Some(dec!(121)),
        ))))
    });
    accounting.expect_book_sale().never();
    accounting.expect_create_relatie().never();
    let report = run(&sut(store, accounting), &claim(1, true));
    expect_failed_boe_0021(&report.outcome);
}

#[test]
fn the_outcome_is_settled_first_even_when_the_relation_was_unticked() {
    let mut unticked = job("1001", Some(current_link()));
    unticked.relation.snelstart_enabled = false;
    // Found: adopted (it is in SnelStart, so it shows as synced).
    let (store, _) = with_store(unticked.clone());
    let mut accounting = MockAccounting::new();
    accounting.expect_find_booking().times(1).returning(|_, _| {
        ready(Ok(Some(found(
            "2026-001",
            Some("rel-guid"),
            Some(dec!(121)),
        ))))
    });
    let report = run(&sut(store, accounting), &claim(1, true));
    assert!(matches!(report.outcome, Outcome::Synced { .. }));
    // Not found: out of the queue, nothing posted.
    let (store, _) = with_store(unticked);
    let mut accounting = MockAccounting::new();
    accounting
        .expect_find_booking()
        .times(1)
        .returning(|_, _| ready(Ok(None)));
    accounting.expect_book_sale().never();
    let report = run(&sut(store, accounting), &claim(1, true));
    assert_eq!(report.outcome, Outcome::Unqueued);
}

#[test]
fn a_refused_look_up_keeps_the_outcome_unknown_instead_of_failing() {
    let (store, recorded) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    accounting.expect_find_booking().returning(|_, _| {
        ready(Err(AccountingError::Rejected {
            rejection: Rejection::Other { code: None },
            message: "bad request".into(),
        }))
    });
    accounting.expect_book_sale().never();
    let report = run(&sut(store, accounting), &claim(2, true));
    match report.outcome {
        Outcome::Retry { needs_lookup, .. } => assert!(needs_lookup),
        other => panic!("expected a retry with a look-up, got {other:?}"),
    }
    assert!(recorded.lock().unwrap().notices.is_empty());
}

#[test]
fn a_panicking_attempt_releases_its_claim_for_a_look_up() {
    let (store, recorded) = with_store(job("1001", Some(current_link())));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_book_sale()
        .returning(|_, _, _| panic!("an answer nobody foresaw"));
    let report = run(&sut(store, accounting), &claim(0, false));
    match &report.outcome {
        Outcome::Retry {
            needs_lookup,
            next_attempt_at,
            error,
            ..
        } => {
            assert!(needs_lookup, "the panic may have come after the POST");
            assert!(*next_attempt_at > now());
            assert!(error.contains("interne fout"), "{error}");
        }
        other => panic!("expected a retry, got {other:?}"),
    }
    assert_eq!(recorded.lock().unwrap().outcomes.len(), 1, "recorded once");
}

#[test]
fn an_absurd_retry_after_is_clamped_to_an_hour() {
    for retry_after in [
        Duration::MAX,
        Duration::from_secs(u64::MAX / 2),
        Duration::from_secs(7200),
    ] {
        let (store, _) = with_store(job("1001", Some(current_link())));
        let mut accounting = MockAccounting::new();
        accounting.expect_book_sale().returning(move |_, _, _| {
            ready(Err(AccountingError::Transient {
                retry_after: Some(retry_after),
                message: "429".into(),
            }))
        });
        let report = run(&sut(store, accounting), &claim(0, false));
        match report.outcome {
            Outcome::Retry {
                next_attempt_at, ..
            } => assert_eq!(next_attempt_at, now() + chrono::Duration::hours(1)),
            other => panic!("expected a retry, got {other:?}"),
        }
    }
}

#[test]
fn a_booking_id_another_invoice_holds_fails_this_one_instead() {
    let recorded = Arc::new(Mutex::new(Recorded::default()));
    let mut store = MockStore::new();
    let the_job = job("1001", Some(current_link()));
    store
        .expect_load_job()
        .returning(move |_| ready(Ok(Some(the_job.clone()))));
    let rec = recorded.clone();
    store
        .expect_finish()
        .times(2)
        .returning(move |_, _, outcome, _, notice| {
            let mut r = rec.lock().unwrap();
            r.outcomes.push(outcome.clone());
            if let Some(n) = notice {
                r.notices.push(n.clone());
            }
            if matches!(outcome, Outcome::Synced { .. }) {
                ready(Err(StoreError::Conflict {
                    code: SNELSTART_ID_TAKEN.into(),
                    message: "SnelStart booking found-guid belongs to invoice inv-0".into(),
                    field: None,
                }))
            } else {
                ready(Ok(true))
            }
        });
    let mut accounting = MockAccounting::new();
    accounting.expect_find_booking().returning(|_, _| {
        ready(Ok(Some(found(
            "2026-001",
            Some("rel-guid"),
            Some(dec!(121)),
        ))))
    });
    let report = run(&sut(store, accounting), &claim(1, true));
    expect_failed_boe_0021(&report.outcome);
    let r = recorded.lock().unwrap();
    assert!(matches!(r.outcomes[0], Outcome::Synced { .. }));
    expect_failed_boe_0021(&r.outcomes[1]);
    assert_eq!(r.notices.len(), 1, "the Beheerder is told once");
}

// issue 13 (secrets)
#[test]
fn an_unusable_key_pauses_once_without_calling_snelstart() {
    let mut j = job("1001", Some(current_link()));
    j.koppeling.key = None;
    j.koppeling.key_unusable = true;
    let (mut store, _) = with_store(j);
    let changed = Arc::new(Mutex::new(vec![true, false]));
    store
        .expect_set_koppeling_paused()
        .times(2)
        .returning(move |_, problem| {
            assert_eq!(
                problem.as_ref(),
                Some(&crate::pause::PauseReason::KeyUnusable)
            );
            ready(Ok(changed.lock().unwrap().remove(0)))
        });
    store
        .expect_queue_notice()
        .times(1)
        .returning(|_, item, _| {
            assert_eq!(item.kind, NoticeKind::Paused);
            assert!(item.reason.starts_with("sleutel onbruikbaar"));
            ready(Ok(()))
        });
    // No expectation on the accounting mock: any SnelStart call fails the test.
    let sut = sut(store, MockAccounting::new());
    for _ in 0..2 {
        let report = run(&sut, &claim(0, false));
        assert_eq!(
            report.outcome,
            Outcome::Release {
                needs_lookup: false
            }
        );
    }
}
