//! `after_webhook`: the activation checks after the webhook's answer (product §8.1).

use super::{adm, ready, with_clock};
use crate::connect::{WebhookApplied, WebhookEffect};
use crate::koppeling::{ConnectionKey, Koppeling, KoppelingSettings};
use crate::notification::NoticeKind;
use crate::ports::{Administratie, MockAccounting, MockNotifier, MockStore};
use crate::problem::Problem;
use crate::sync::{Service, SyncConfig};

type Sut = super::Sut;

fn koppeling(active: bool, paused: bool) -> Koppeling {
    Koppeling {
        administratie: adm(),
        settings: KoppelingSettings::default(),
        key: Some(ConnectionKey::new("bmV3OmtleQ==".into()).unwrap()),
        key_unusable: false,
        active,
        paused,
        problem: Some(crate::pause::PauseReason::ChecksRunning),
        last_sync_at: None,
    }
}

/// A store holding `koppeling`, and SnelStart answering the checks with `problems`.
fn ports(koppeling: Koppeling, problems: Vec<Problem>) -> (MockStore, MockAccounting) {
    let mut store = MockStore::new();
    store.expect_get_administratie().returning(|_| {
        ready(Ok(Some(Administratie {
            code: adm(),
            name: "Kantoor".into(),
        })))
    });
    store
        .expect_get_koppeling()
        .returning(move |_| ready(Ok(Some(koppeling.clone()))));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_check_activation()
        .times(1)
        .returning(move |_, _| ready(Ok(problems.clone())));
    (store, accounting)
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

fn applied(effect: WebhookEffect) -> WebhookApplied {
    WebhookApplied {
        effect,
        administratie: Some(adm()),
    }
}

#[test]
fn a_created_key_that_passes_the_checks_activates_the_koppeling() {
    // Arrange
    let (mut store, accounting) = ports(koppeling(false, false), vec![]);
    store
        .expect_set_koppeling_active()
        .withf(|_, active| *active)
        .times(1)
        .returning(|_, _| ready(Ok(())));
    // Act
    let sut = sut(store, accounting);
    futures::executor::block_on(sut.after_webhook(&applied(WebhookEffect::Connect))).unwrap();
    // Assert: the mocks' `times` (no problem set, no notice).
}

#[test]
fn a_created_key_that_fails_the_checks_keeps_the_state_and_notifies_once() {
    // Arrange
    let refused = Problem::new(
        "sales_journal_code",
        crate::problem::Rule::JournalMissing { number: 1300 },
    );
    let (mut store, accounting) = ports(koppeling(false, false), vec![refused]);
    store
        .expect_set_koppeling_problem()
        .times(1)
        .returning(|_, problem, notice, _| {
            let crate::pause::PauseReason::ChecksFailed { detail } = problem else {
                panic!("{problem:?}")
            };
            assert!(
                detail.contains("verkoopdagboek in, meestal 1300"),
                "{detail}"
            );
            assert!(
                notice.reason.contains("controles slagen niet"),
                "{notice:?}"
            );
            assert_eq!(notice.kind, NoticeKind::LinkFailed);
            ready(Ok(()))
        });
    // Act
    let sut = sut(store, accounting);
    futures::executor::block_on(sut.after_webhook(&applied(WebhookEffect::Connect))).unwrap();
    // Assert: no set_koppeling_active, no other notice (the mocks refuse them).
}

#[test]
fn a_regenerated_key_resumes_a_paused_koppeling() {
    // Arrange
    let (mut store, accounting) = ports(koppeling(true, true), vec![]);
    store
        .expect_set_koppeling_paused()
        .withf(|_, problem| problem.is_none())
        .times(1)
        .returning(|_, _| ready(Ok(true)));
    store
        .expect_queue_notice()
        .withf(|_, item, _| item.kind == NoticeKind::Resumed)
        .times(1)
        .returning(|_, _, _| ready(Ok(())));
    // Act
    let sut = sut(store, accounting);
    futures::executor::block_on(sut.after_webhook(&applied(WebhookEffect::Replace))).unwrap();
}

#[test]
fn a_regenerated_key_does_not_switch_on_an_inactive_koppeling() {
    // Arrange: the checks pass, but the Beheerder had switched it off.
    let (store, accounting) = ports(koppeling(false, false), vec![]);
    // Act
    let sut = sut(store, accounting);
    futures::executor::block_on(sut.after_webhook(&applied(WebhookEffect::Replace))).unwrap();
    // Assert: no set_koppeling_active (the mock refuses it).
}

#[test]
fn withdrawn_replayed_and_unknown_messages_run_no_checks() {
    for effect in [
        WebhookEffect::Withdraw,
        WebhookEffect::Replay,
        WebhookEffect::Used,
        WebhookEffect::Unknown,
    ] {
        // No expectations: any store or SnelStart call fails the test.
        let sut = sut(MockStore::new(), MockAccounting::new());
        futures::executor::block_on(sut.after_webhook(&applied(effect))).unwrap();
    }
}
