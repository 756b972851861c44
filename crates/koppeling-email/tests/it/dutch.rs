//! Every notification kind's e-mail reads in Dutch: subject, body, reason and *Wat te doen*,
//! with the reasons and hints the domain's Dutch renderers produce.

use koppeling_domain::english::english_words;
use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::notification::{
    NoticeKind, NotificationItem, RESUMED_REASON, STILL_FAILING_HINT, STILL_FAILING_REASON, render,
};
use koppeling_domain::pause::PauseReason;
use koppeling_domain::ports::{AccountingError, Rejection};
use koppeling_domain::problem::{Problem, Rule};

fn item(
    kind: NoticeKind,
    subject_type: &str,
    reason: String,
    hint: Option<String>,
) -> NotificationItem {
    NotificationItem {
        kind,
        subject_type: subject_type.into(),
        subject_id: "f1".into(),
        label: "2026-0042".into(),
        reason,
        snelstart_code: None,
        hint,
    }
}

/// The items of one kind, as the use case makes them.
fn items_of(kind: NoticeKind) -> Vec<NotificationItem> {
    match kind {
        NoticeKind::InvoiceFailed => {
            let too_long = Problem::new(
                "number",
                Rule::TooLong {
                    max: 25,
                    actual: 31,
                    snelstart: "factuurnummer",
                },
            );
            let refused = AccountingError::Rejected {
                rejection: Rejection::Unbalanced,
                message: "BOE-0039".into(),
            };
            vec![
                item(kind, "invoice", too_long.dutch(), too_long.dutch_hint()),
                item(
                    kind,
                    "invoice",
                    refused.dutch(),
                    Some(Rejection::Unbalanced.dutch_hint().into()),
                ),
            ]
        }
        NoticeKind::StillFailing => vec![item(
            kind,
            "invoice",
            STILL_FAILING_REASON.into(),
            Some(STILL_FAILING_HINT.into()),
        )],
        NoticeKind::Paused => [
            PauseReason::KeyRefused,
            PauseReason::KeyUnusable,
            PauseReason::KeyWithdrawn,
        ]
        .into_iter()
        .map(|r| item(kind, "koppeling", r.dutch(), Some(r.dutch_hint().into())))
        .collect(),
        NoticeKind::Resumed => vec![item(kind, "koppeling", RESUMED_REASON.into(), None)],
        NoticeKind::Drift => vec![item(
            kind,
            "invoice",
            "de boeking is in SnelStart verwijderd".into(),
            Some("boek de factuur opnieuw via Opnieuw boeken als dat de bedoeling is; de koppeling doet dat niet vanzelf".into()),
        )],
        NoticeKind::LinkFailed => {
            let journal = Problem::new("sales_journal_code", Rule::JournalMissing { number: 1300 });
            let reason = PauseReason::ChecksFailed {
                detail: journal.dutch_hint().unwrap_or_else(|| journal.dutch()),
            };
            vec![item(
                kind,
                "koppeling",
                reason.dutch(),
                Some(reason.dutch_hint().into()),
            )]
        }
        NoticeKind::DocumentFailed => [
            koppeling_domain::ports::Rejection::FileNameCharacter,
            koppeling_domain::ports::Rejection::FileNameTooLong,
            koppeling_domain::ports::Rejection::BookingGone,
        ]
        .into_iter()
            .map(|rejection| {
                let (reason, hint) =
                    koppeling_domain::document::refusal(&rejection, "refused by SnelStart");
                item(kind, "invoice", reason, Some(hint))
            })
            .collect(),
        // The text the use case queues when the key lacks documenten:write.
        NoticeKind::DocumentsOff => {
            let (reason, hint) = koppeling_domain::document::documents_off("documenten:write");
            vec![item(kind, "koppeling", reason, Some(hint))]
        }
    }
}

#[test]
fn every_notification_kind_is_mailed_in_dutch() {
    let adm = AdministratieCode::parse("bakkerij").expect("valid code");
    for kind in NoticeKind::ALL {
        let items = items_of(kind);
        for one in [&items[..1], &items[..]] {
            let (subject, body) = render(&adm, "Bakkerij", "Bea", one, "http://ui.example/");
            // Links hold path words (`facturen`, `koppelingen`): only the prose counts.
            let prose: String = body
                .lines()
                .filter(|l| !l.trim_start().starts_with("Bekijk:"))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(english_words(&subject).is_empty(), "{kind:?}: {subject}");
            assert!(
                english_words(&prose).is_empty(),
                "{kind:?}: English {:?} in\n{prose}",
                english_words(&prose)
            );
            assert!(prose.contains("Met vriendelijke groet"), "{body}");
            if kind != NoticeKind::Resumed {
                assert!(prose.contains("Reden: "), "{body}");
            }
            if one.iter().any(|i| i.hint.is_some()) {
                assert!(prose.contains("Wat te doen: "), "{body}");
            }
            assert!(
                !prose.contains(" je ") && !prose.contains(" jouw "),
                "u, not je: {prose}"
            );
        }
    }
}
