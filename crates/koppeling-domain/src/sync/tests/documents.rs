//! The document attempt (product §8.4) with mocked ports: one call in steady state, a look-up
//! before any new upload after an unknown outcome, a refusal fails only the document with a
//! Dutch reason and one notice, a missing scope switches documents off.

use std::sync::{Arc, Mutex};

use super::*;
use crate::document::{DocumentJob, DocumentKind, DocumentOutcome, RemoteDocument};
use crate::notification::NoticeKind;
use crate::ports::Scoped;

fn doc_job(needs_lookup: bool) -> DocumentJob {
    DocumentJob {
        administratie: adm(),
        invoice_id: ResourceId::parse("inv-1").unwrap(),
        kind: DocumentKind::Pdf,
        filename: "2026-001.pdf".into(),
        invoice_number: "2026-001".into(),
        booking_id: "b-guid".into(),
        needs_lookup,
        attempts: 1,
        worker: "w1".into(),
    }
}

type Finished = Arc<Mutex<Vec<(DocumentOutcome, Option<NotificationItem>)>>>;

fn doc_store(job: DocumentJob) -> (MockStore, Finished) {
    let finished: Finished = Arc::default();
    let mut store = MockStore::new();
    store
        .expect_claim_documents()
        .times(1)
        .returning(move |_, _, _, _| ready(Ok(vec![job.clone()])));
    store
        .expect_get_koppeling()
        .returning(|_| ready(Ok(Some(super::job("1001", None).koppeling))));
    store
        .expect_document_content()
        .returning(|_, _, _| ready(Ok(Some((dummy_document(), b"%PDF-1.7".to_vec())))));
    let f = finished.clone();
    store
        .expect_finish_document()
        .times(1)
        .returning(move |_, outcome, notice, _| {
            f.lock().unwrap().push((outcome.clone(), notice));
            ready(Ok(()))
        });
    (store, finished)
}

fn dummy_document() -> crate::document::Document {
    crate::document::Document {
        kind: DocumentKind::Pdf,
        filename: "2026-001.pdf".into(),
        size: 8,
        sha256: String::new(),
        status: crate::document::DocumentStatus::Waiting,
        snelstart_id: None,
        error: None,
        hint: None,
    }
}

fn attach(sut: &Sut) -> usize {
    futures::executor::block_on(sut.attach_documents(8)).unwrap()
}

#[test]
fn steady_state_uploads_once_without_a_lookup() {
    let (store, finished) = doc_store(doc_job(false));
    let mut accounting = MockAccounting::new();
    accounting.expect_booking_documents().never();
    accounting
        .expect_upload_document()
        .withf(|_, booking, name, content| {
            booking == "b-guid" && name == "2026-001.pdf" && content.starts_with(b"%PDF-")
        })
        .times(1)
        .returning(|_, _, _, _| ready(Ok(Scoped::Granted("d-1".into()))));
    assert_eq!(attach(&sut(store, accounting)), 1);
    let finished = finished.lock().unwrap();
    assert_eq!(
        finished[0],
        (
            DocumentOutcome::Attached {
                snelstart_id: "d-1".into()
            },
            None
        )
    );
}

#[test]
fn a_lost_answer_is_retried_with_a_lookup_flag() {
    let (store, finished) = doc_store(doc_job(false));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_upload_document()
        .times(1)
        .returning(|_, _, _, _| {
            ready(Err(AccountingError::UnknownOutcome {
                message: "connection closed".into(),
            }))
        });
    attach(&sut(store, accounting));
    let finished = finished.lock().unwrap();
    assert!(
        matches!(
            finished[0].0,
            DocumentOutcome::Retry {
                needs_lookup: true,
                ..
            }
        ),
        "{:?}",
        finished[0]
    );
}

#[test]
fn after_an_unknown_outcome_the_copy_with_the_same_name_is_adopted_without_uploading() {
    let (store, finished) = doc_store(doc_job(true));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_booking_documents()
        .times(1)
        .returning(|_, _| {
            ready(Ok(Scoped::Granted(vec![
                RemoteDocument {
                    id: "other".into(),
                    file_name: "2026-001.xml".into(),
                },
                RemoteDocument {
                    id: "d-7".into(),
                    file_name: "2026-001.pdf".into(),
                },
            ])))
        });
    accounting.expect_upload_document().never();
    attach(&sut(store, accounting));
    assert_eq!(
        finished.lock().unwrap()[0].0,
        DocumentOutcome::Attached {
            snelstart_id: "d-7".into()
        }
    );
}

#[test]
fn after_an_unknown_outcome_with_no_copy_it_is_uploaded_once() {
    let (store, finished) = doc_store(doc_job(true));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_booking_documents()
        .times(1)
        .returning(|_, _| ready(Ok(Scoped::Granted(vec![]))));
    accounting
        .expect_upload_document()
        .times(1)
        .returning(|_, _, _, _| ready(Ok(Scoped::Granted("d-2".into()))));
    attach(&sut(store, accounting));
    assert_eq!(
        finished.lock().unwrap()[0].0,
        DocumentOutcome::Attached {
            snelstart_id: "d-2".into()
        }
    );
}

#[test]
fn a_refused_document_fails_with_a_dutch_reason_hint_and_one_notice() {
    let (store, finished) = doc_store(doc_job(false));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_upload_document()
        .times(1)
        .returning(|_, _, _, _| {
            ready(Err(AccountingError::Rejected {
                rejection: crate::ports::Rejection::FileNameCharacter,
                message: "Bestandsnaam bevat niet-toegestane karakters.".into(),
            }))
        });
    attach(&sut(store, accounting));
    let finished = finished.lock().unwrap();
    let (outcome, notice) = &finished[0];
    let DocumentOutcome::Failed {
        error,
        hint,
        snelstart_code,
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert!(error.contains("bestandsnaam"), "{error}");
    assert!(hint.contains("opnieuw aan"), "{hint}");
    assert_eq!(snelstart_code.as_deref(), Some("BLG-0016"));
    let notice = notice.as_ref().expect("one notice");
    assert_eq!(notice.kind, NoticeKind::DocumentFailed);
    assert_eq!(notice.subject_id, "inv-1");
    assert_eq!(notice.label, "2026-001");
}

#[test]
fn a_missing_scope_switches_documents_off_and_keeps_the_document_waiting() {
    let (store, finished) = doc_store(doc_job(false));
    let mut accounting = MockAccounting::new();
    accounting
        .expect_upload_document()
        .times(1)
        .returning(|_, _, _, _| ready(Ok(Scoped::MissingScope("documenten:write".into()))));
    attach(&sut(store, accounting));
    let finished = finished.lock().unwrap();
    let (outcome, notice) = &finished[0];
    assert!(
        matches!(outcome, DocumentOutcome::MissingScope { scope, .. } if scope == "documenten:write"),
        "{outcome:?}"
    );
    assert_eq!(
        notice.as_ref().map(|n| n.kind),
        Some(NoticeKind::DocumentsOff)
    );
}

#[test]
fn retrying_a_synced_invoice_with_a_failed_document_offers_only_the_document() {
    let mut store = MockStore::new();
    store.expect_get_administratie().returning(|_| {
        ready(Ok(Some(crate::ports::Administratie {
            code: adm(),
            name: "Kantoor".into(),
        })))
    });
    store.expect_get_invoice().returning(|_, _| {
        ready(Ok(Some((
            invoice(vec![line(dec!(100), VatClass::High)]),
            Some(crate::ports::SyncState {
                status: crate::ports::SyncStatus::Synced,
                snelstart_id: Some("b-guid".into()),
                error: None,
                hint: None,
                attempts: 1,
                next_attempt_at: None,
                updated_at: now(),
                payment: None,
                drift: None,
            }),
        ))))
    });
    store
        .expect_retry_documents()
        .times(1)
        .returning(|_, _| ready(Ok(1)));
    store.expect_retry_invoice().never();
    let sut = sut(store, MockAccounting::new());
    let state = futures::executor::block_on(
        sut.retry_invoice(&adm(), &ResourceId::parse("inv-1").unwrap()),
    )
    .unwrap();
    assert_eq!(state.status, crate::ports::SyncStatus::Synced);
}
