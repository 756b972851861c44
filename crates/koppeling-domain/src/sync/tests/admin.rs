//! The management use cases' own rules, moved here from the web crate's handler tests when
//! those started to script the inbound port (`MockApp`) instead of this service (issue 14):
//! what is refused, and that nothing is written then.

use super::{adm, ready, sut};
use crate::document::{DocumentKind, DocumentRule};
use crate::koppeling::{ConnectionKey, Koppeling, KoppelingSettings, VatCodes};
use crate::ports::{Administratie, MockAccounting, MockStore, StatusCounts, StoreError};
use crate::problem::{Problem, Rule};
use crate::sync::ServiceError;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

/// A store that knows administratie `kantoor`.
fn store() -> MockStore {
    let mut store = MockStore::new();
    store.expect_get_administratie().returning(|code| {
        ready(Ok(Some(Administratie {
            code: code.clone(),
            name: "Kantoor B.V.".into(),
        })))
    });
    store
}

fn koppeling(active: bool, settings: KoppelingSettings) -> Koppeling {
    Koppeling {
        administratie: adm(),
        settings,
        key: Some(ConnectionKey::new("Z2VoZWltOnNsZXV0ZWw=".into()).unwrap()),
        key_unusable: false,
        active,
        paused: false,
        problem: None,
        last_sync_at: None,
    }
}

/// The reads of the overview, with the koppeling as `stored` answers it.
fn with_overview(store: &mut MockStore, stored: impl FnMut() -> Koppeling + Send + 'static) {
    let stored = std::sync::Mutex::new(stored);
    store
        .expect_get_koppeling()
        .returning(move |_| ready(Ok(Some((stored.lock().unwrap())()))));
    store
        .expect_status_counts()
        .returning(|_| ready(Ok(StatusCounts::default())));
    store
        .expect_readback_state()
        .returning(|_| ready(Ok(crate::readback::ReadbackState::default())));
    store
        .expect_push_state()
        .returning(|_| ready(Ok(crate::readback::PushState::default())));
    store
        .expect_documents_missing_scope()
        .returning(|_| ready(Ok(None)));
    store
        .expect_link_connected()
        .returning(|_| ready(Ok(false)));
}

fn codes(err: &ServiceError) -> Vec<(String, &'static str)> {
    let (ServiceError::Invalid(problems) | ServiceError::ActivationFailed(problems)) = err else {
        panic!("{err:?}")
    };
    problems
        .iter()
        .map(|p| (p.field.clone(), p.rule.code()))
        .collect()
}

#[test]
fn an_amount_with_five_decimals_is_refused_naming_the_field_and_nothing_is_written() {
    // Arrange
    let mut store = store();
    store.expect_put_invoice().never();
    let mut invoice = crate::testkit::invoice(vec![crate::testkit::line(
        rust_decimal::Decimal::new(1_234_567, 5),
        crate::money::VatClass::High,
    )]);
    invoice.status = crate::invoice::InvoiceStatus::Final;
    // Act
    let err =
        block_on(sut(store, MockAccounting::new()).put_invoice(&adm(), &invoice)).unwrap_err();
    // Assert
    assert_eq!(
        codes(&err),
        [("lines[0].unit_price".to_owned(), "too_many_decimals")]
    );
}

#[test]
fn a_busy_store_is_a_busy_answer_and_a_locked_invoice_a_conflict() {
    for (stored, want) in [
        (StoreError::Busy("database is locked".into()), "busy"),
        (
            StoreError::Conflict {
                code: "invoice_locked".into(),
                message: "invoice inv-1 is synced".into(),
                field: None,
            },
            "invoice_locked",
        ),
    ] {
        let mut store = store();
        let answer = std::sync::Mutex::new(Some(stored));
        store
            .expect_put_invoice()
            .times(1)
            .returning(move |_, _| ready(Err(answer.lock().unwrap().take().unwrap())));
        let invoice = crate::testkit::invoice(vec![]);
        let err =
            block_on(sut(store, MockAccounting::new()).put_invoice(&adm(), &invoice)).unwrap_err();
        match (&err, want) {
            (ServiceError::Busy(_), "busy") => {}
            (ServiceError::Conflict { code, .. }, c) if code == c => {}
            _ => panic!("{want}: {err:?}"),
        }
    }
}

#[test]
fn wrong_vat_codes_are_refused_per_field_and_nothing_is_written() {
    let mut store = store();
    store.expect_put_koppeling().never();
    let settings = KoppelingSettings {
        vat_codes: VatCodes {
            high: 11,
            low: 12,
            zero: 10,
        },
        ..KoppelingSettings::default()
    };
    let err = block_on(sut(store, MockAccounting::new()).put_koppeling(&adm(), &settings, None))
        .unwrap_err();
    assert_eq!(
        codes(&err),
        [
            ("vat_codes.high".to_owned(), "invalid_vat_code"),
            ("vat_codes.low".to_owned(), "invalid_vat_code"),
        ]
    );
}

#[test]
fn a_failed_check_does_not_switch_the_koppeling_on() {
    // Arrange: SnelStart has no dagboek 1300.
    let mut store = store();
    with_overview(&mut store, || {
        koppeling(false, KoppelingSettings::default())
    });
    store.expect_set_koppeling_active().never();
    let mut accounting = MockAccounting::new();
    accounting.expect_check_activation().returning(|_, _| {
        ready(Ok(vec![Problem::new(
            "sales_journal_code",
            Rule::JournalMissing { number: 1300 },
        )]))
    });
    // Act
    let err = block_on(sut(store, accounting).activate(&adm())).unwrap_err();
    // Assert
    assert_eq!(
        codes(&err),
        [("sales_journal_code".to_owned(), "journal_missing")]
    );
}

#[test]
fn a_wrong_vat_code_in_the_saved_settings_fails_the_activation_in_dutch() {
    let mut settings = KoppelingSettings::default();
    settings.vat_codes.high = 21;
    let mut store = store();
    with_overview(&mut store, move || koppeling(false, settings.clone()));
    store.expect_set_koppeling_active().never();
    let mut accounting = MockAccounting::new();
    accounting
        .expect_check_activation()
        .returning(|_, _| ready(Ok(Vec::new())));
    let err = block_on(sut(store, accounting).activate(&adm())).unwrap_err();
    let ServiceError::ActivationFailed(problems) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(problems[0].field, "vat_codes.high");
    assert!(
        problems[0].dutch().contains("omzet hoog moet 12 zijn"),
        "{}",
        problems[0].dutch()
    );
}

#[test]
fn a_passing_check_switches_the_koppeling_on_once_and_answers_the_overview() {
    let mut store = store();
    let mut reads = 0;
    // Inactive while checking, active once switched on.
    with_overview(&mut store, move || {
        reads += 1;
        koppeling(reads > 2, KoppelingSettings::default())
    });
    store
        .expect_set_koppeling_active()
        .withf(|_, active| *active)
        .times(1)
        .returning(|_, _| ready(Ok(())));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_check_activation()
        .returning(|_, _| ready(Ok(Vec::new())));
    let overview = block_on(sut(store, accounting).activate(&adm())).unwrap();
    assert!(overview.active);
    assert_eq!(overview.state, crate::koppeling::KoppelingState::Active);
}

#[test]
fn a_relation_code_with_letters_cannot_be_ticked_and_nothing_is_written() {
    let mut store = store();
    store
        .expect_get_relation()
        .returning(|_, _| ready(Ok(Some(crate::testkit::relation("A12")))));
    store.expect_set_relation_snelstart().never();
    let id = crate::ids::ResourceId::parse("rel-1").unwrap();
    let err = block_on(sut(store, MockAccounting::new()).set_relation_snelstart(&adm(), &id, true))
        .unwrap_err();
    assert_eq!(codes(&err), [("code".to_owned(), "code_not_numeric")]);
}

#[test]
fn a_document_that_is_not_a_pdf_is_refused_on_content_and_nothing_is_written() {
    let mut store = store();
    store
        .expect_get_invoice()
        .returning(|_, _| ready(Ok(Some((crate::testkit::invoice(vec![]), None)))));
    store.expect_put_document().never();
    let id = crate::ids::ResourceId::parse("f1").unwrap();
    let err = block_on(sut(store, MockAccounting::new()).put_document(
        &adm(),
        &id,
        DocumentKind::Pdf,
        None,
        b"<html/>".to_vec(),
    ))
    .unwrap_err();
    let ServiceError::Invalid(problems) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(problems[0].field, "content");
    assert!(
        matches!(
            problems[0].rule,
            Rule::DocumentRefused {
                rule: DocumentRule::NotPdf,
                ..
            }
        ),
        "{problems:?}"
    );
}

#[test]
fn an_unknown_administratie_has_no_overview() {
    let mut store = MockStore::new();
    store
        .expect_get_administratie()
        .returning(|_| ready(Ok(None)));
    store.expect_get_koppeling().never();
    let err = block_on(sut(store, MockAccounting::new()).overview(&adm())).unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
}
