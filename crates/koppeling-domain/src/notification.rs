//! Notifications to the Beheerder: what is queued when something fails, and the Dutch text.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::AdministratieCode;

/// What kind of event a notice reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// An invoice (or its relation) was refused: a data error.
    InvoiceFailed,
    /// A transient failure persisted for more than an hour.
    StillFailing,
    /// The koppeling paused because SnelStart refuses the credentials.
    Paused,
    /// A paused koppeling works again.
    Resumed,
    /// A booked invoice was changed or deleted in SnelStart (the read-back, product §8.2).
    Drift,
    /// A key arrived through the activation link but the checks failed (product §8.1).
    LinkFailed,
    /// SnelStart refused an invoice's document (product §8.4); the booking is not affected.
    DocumentFailed,
    /// The key lacks `documenten:write`: documents are off for the administratie (§8).
    DocumentsOff,
}

/// The reason of a [`NoticeKind::StillFailing`] notice.
pub const STILL_FAILING_REASON: &str =
    "SnelStart is al meer dan een uur niet bereikbaar voor deze factuur";
/// What to do about a [`NoticeKind::StillFailing`] notice.
pub const STILL_FAILING_HINT: &str = "er is niets voor u te doen; de koppeling blijft het proberen. Blijft dit zo, neem dan contact op met de beheerder van de koppeling";
/// The reason of a [`NoticeKind::Resumed`] notice.
pub const RESUMED_REASON: &str = "de koppelsleutel werkt weer";

impl NoticeKind {
    /// Every kind.
    pub const ALL: [Self; 8] = [
        Self::InvoiceFailed,
        Self::StillFailing,
        Self::Paused,
        Self::Resumed,
        Self::Drift,
        Self::LinkFailed,
        Self::DocumentFailed,
        Self::DocumentsOff,
    ];

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvoiceFailed => "invoice_failed",
            Self::StillFailing => "still_failing",
            Self::Paused => "paused",
            Self::Resumed => "resumed",
            Self::Drift => "drift",
            Self::LinkFailed => "link_failed",
            Self::DocumentFailed => "document_failed",
            Self::DocumentsOff => "documents_off",
        }
    }
}

/// One item of a notification: which invoice/relation, why, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationItem {
    /// The kind of event.
    pub kind: NoticeKind,
    /// `invoice`, `relation` or `koppeling`.
    pub subject_type: String,
    /// The id of the invoice or relation (empty for the koppeling).
    pub subject_id: String,
    /// A human label, e.g. the invoice number.
    pub label: String,
    /// The reason in plain words.
    pub reason: String,
    /// SnelStart's error code, when SnelStart refused.
    pub snelstart_code: Option<String>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl NotificationItem {
    /// The dedupe key: the same problem is not mailed twice within the window.
    #[must_use]
    pub fn dedupe_key(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.kind.as_str(),
            self.subject_type,
            self.subject_id,
            self.snelstart_code.as_deref().unwrap_or(&self.reason)
        )
    }
}

/// A notification as rendered and stored (and mailed when SMTP is configured).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredNotification {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The recipient's e-mail address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The items it reports.
    pub items: Vec<NotificationItem>,
}

/// A stored notification with its delivery state, as the API and the UI list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// The notification.
    #[serde(flatten)]
    pub notification: StoredNotification,
    /// When the mail was handed to the SMTP server; `None` while it waits to be sent. A
    /// notification without a chosen Beheerder (`to` empty) is only stored, and has the
    /// time it was stored.
    pub sent_at: Option<DateTime<Utc>>,
    /// Why the last send failed; `None` once sent.
    pub last_error: Option<String>,
    /// How many times sending was tried (the successful one included).
    pub send_attempts: u32,
}

/// What one round of [`dispatch_notifications`](crate::sync::Service::dispatch_notifications)
/// did with the mails that were due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Mails handed to the notifier successfully.
    pub sent: usize,
    /// Mails whose send failed (each is retried after its back-off).
    pub failed: usize,
}

/// The wait after the `failures`-th failed send of a mail in a row: `base`, doubling, at
/// most `max`. A mail is never given up.
#[must_use]
pub fn send_backoff(failures: u32, base: Duration, max: Duration) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    base.saturating_mul(1u32 << doublings).min(max)
}

/// A mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Recipient name.
    pub to_name: String,
    /// Recipient address.
    pub to_email: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The service's own base URL (`http.public_url` / `ui.base_url`): only URLs under it
    /// are made clickable in the HTML part; any other URL-looking text (from data, such as
    /// a relation named `http://evil.example`) stays plain escaped text. Empty: no links.
    pub link_base: String,
}

/// `text` as one line of mail text: every control character (CR, LF, tab, …) and the
/// Unicode line and paragraph separators become a space (a run of them one space), so data
/// can neither end a header nor forge a line of the body.
#[must_use]
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}') {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

/// Renders the Dutch subject and body for `items` of administratie `adm`.
#[must_use]
pub fn render(
    adm: &AdministratieCode,
    adm_name: &str,
    recipient_name: &str,
    items: &[NotificationItem],
    ui_base_url: &str,
) -> (String, String) {
    let base = ui_base_url.trim_end_matches('/');
    // Data (names, numbers, SnelStart's messages) is one line each: no forged lines.
    let adm_name = one_line(adm_name);
    let recipient_name = one_line(recipient_name);
    let items: Vec<NotificationItem> = items
        .iter()
        .map(|i| NotificationItem {
            kind: i.kind,
            subject_type: i.subject_type.clone(),
            subject_id: one_line(&i.subject_id),
            label: one_line(&i.label),
            reason: one_line(&i.reason),
            snelstart_code: i.snelstart_code.as_deref().map(one_line),
            hint: i.hint.as_deref().map(one_line),
        })
        .collect();
    let items = items.as_slice();
    let subject = match items {
        [one] => match one.kind {
            NoticeKind::InvoiceFailed => format!(
                "SnelStart koppeling {adm_name}: {} {} is niet gesynchroniseerd",
                noun(one),
                one.label
            ),
            NoticeKind::StillFailing => format!(
                "SnelStart koppeling {adm_name}: {} {} wacht al meer dan een uur",
                noun(one),
                one.label
            ),
            NoticeKind::Paused => format!(
                "SnelStart koppeling {adm_name} is gepauzeerd: de koppelsleutel werkt niet meer"
            ),
            NoticeKind::Resumed => format!("SnelStart koppeling {adm_name} werkt weer (opgelost)"),
            NoticeKind::Drift => format!(
                "SnelStart koppeling {adm_name}: factuur {} is in SnelStart gewijzigd of verwijderd",
                one.label
            ),
            NoticeKind::LinkFailed => format!(
                "SnelStart koppeling {adm_name}: de koppelsleutel is ontvangen, maar de koppeling is niet geactiveerd"
            ),
            NoticeKind::DocumentFailed => format!(
                "SnelStart koppeling {adm_name}: het document van factuur {} staat niet bij de boeking",
                one.label
            ),
            NoticeKind::DocumentsOff => format!(
                "SnelStart koppeling {adm_name}: documenten worden niet meegestuurd (de koppelsleutel mist documenten:write)"
            ),
        },
        many => format!(
            "SnelStart koppeling {adm_name}: {} problemen bij het synchroniseren",
            many.len()
        ),
    };
    let mut body = format!("Beste {recipient_name},\n\n");
    if items.iter().all(|i| i.kind == NoticeKind::Resumed) {
        body.push_str(&format!(
            "De SnelStart koppeling van administratie {adm_name} ({adm}) werkt weer. Facturen die in de wachtrij stonden worden nu verstuurd.\n"
        ));
    } else {
        body.push_str(&format!(
            "Bij het synchroniseren van administratie {adm_name} ({adm}) naar SnelStart is het volgende misgegaan:\n"
        ));
        for item in items {
            body.push('\n');
            let what = match item.subject_type.as_str() {
                "koppeling" => "De koppeling".to_owned(),
                _ => format!("{} {}", capitalised(noun(item)), item.label),
            };
            body.push_str(&format!("* {what}\n  Reden: {}\n", item.reason));
            if let Some(code) = &item.snelstart_code {
                body.push_str(&format!("  SnelStart-foutcode: {code}\n"));
            }
            if let Some(hint) = &item.hint {
                body.push_str(&format!("  Wat te doen: {hint}\n"));
            }
            let link = match item.subject_type.as_str() {
                "invoice" => format!("{base}/facturen/{}", item.subject_id),
                "relation" => format!("{base}/relaties"),
                _ => format!("{base}/koppelingen"),
            };
            body.push_str(&format!("  Bekijk: {link}\n"));
        }
        body.push_str(
            "\nNa het oplossen kunt u een mislukte factuur in het overzicht opnieuw aanbieden.\n",
        );
    }
    body.push_str("\nMet vriendelijke groet,\nkoppeling (Radar360 → SnelStart)\n");
    (subject, body)
}

fn noun(item: &NotificationItem) -> &'static str {
    match item.subject_type.as_str() {
        "invoice" => "factuur",
        "relation" => "relatie",
        _ => "koppeling",
    }
}

/// `word` with its first letter upper-case (the domain's one helper).
pub(crate) fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_send_back_off_doubles_from_the_base_up_to_the_cap_and_never_ends() {
        let base = Duration::from_secs(30);
        let max = Duration::from_secs(3600);
        let waits: Vec<u64> = [1, 2, 3, 4, 7, 8, 9, 11, 50, u32::MAX]
            .iter()
            .map(|n| send_backoff(*n, base, max).as_secs())
            .collect();
        assert_eq!(
            waits,
            [30, 60, 120, 240, 1920, 3600, 3600, 3600, 3600, 3600]
        );
        assert_eq!(send_backoff(0, base, max), base, "no failure yet: the base");
        assert_eq!(
            send_backoff(3, Duration::from_millis(10), Duration::from_millis(25)),
            Duration::from_millis(25)
        );
    }

    #[test]
    fn a_record_lists_the_notification_fields_next_to_its_delivery_state() {
        let record = NotificationRecord {
            notification: StoredNotification {
                at: DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
                    .unwrap()
                    .with_timezone(&Utc),
                to: "bea@kantoor.nl".into(),
                subject: "s".into(),
                body: "b".into(),
                items: vec![],
            },
            sent_at: None,
            last_error: Some("connection refused".into()),
            send_attempts: 11,
        };
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["to"], "bea@kantoor.nl");
        assert_eq!(json["subject"], "s");
        assert!(json["sent_at"].is_null());
        assert_eq!(json["last_error"], "connection refused");
        assert_eq!(json["send_attempts"], 11);
    }

    fn item(kind: NoticeKind) -> NotificationItem {
        NotificationItem {
            kind,
            subject_type: "invoice".into(),
            subject_id: "inv-1".into(),
            label: "2026-001".into(),
            reason: "SnelStart weigert de boeking".into(),
            snelstart_code: Some("BOE-0039".into()),
            hint: Some("controleer de bedragen".into()),
        }
    }

    #[test]
    fn one_failure_names_invoice_reason_code_hint_and_link() {
        let adm = AdministratieCode::parse("kantoor").unwrap();
        let (subject, body) = render(
            &adm,
            "Kantoor B.V.",
            "Bea",
            &[item(NoticeKind::InvoiceFailed)],
            "http://ui/",
        );
        assert_eq!(
            subject,
            "SnelStart koppeling Kantoor B.V.: factuur 2026-001 is niet gesynchroniseerd"
        );
        for want in [
            "Beste Bea",
            "Factuur 2026-001",
            "Reden: SnelStart weigert de boeking",
            "BOE-0039",
            "Wat te doen: controleer de bedragen",
            "http://ui/facturen/inv-1",
        ] {
            assert!(body.contains(want), "{want} missing in {body}");
        }
    }

    #[test]
    fn several_failures_are_one_mail() {
        let adm = AdministratieCode::parse("kantoor").unwrap();
        let (subject, body) = render(
            &adm,
            "K",
            "B",
            &[
                item(NoticeKind::InvoiceFailed),
                item(NoticeKind::InvoiceFailed),
            ],
            "http://ui",
        );
        assert!(subject.contains("2 problemen"));
        assert_eq!(body.matches("Reden:").count(), 2);
    }

    // issue 13 (e-mail)
    #[test]
    fn data_cannot_forge_lines_of_a_mail() {
        assert_eq!(one_line("a\r\nb\tc\u{2028}d\u{0}e"), "a b c d e");
        let item = NotificationItem {
            kind: NoticeKind::InvoiceFailed,
            subject_type: "relation".into(),
            subject_id: "r1".into(),
            label: "Smit\r\n* Factuur nep".into(),
            reason: "fout\nBekijk: http://evil.example".into(),
            snelstart_code: Some("X\r\nY".into()),
            hint: None,
        };
        let adm = AdministratieCode::parse("a").unwrap();
        let (subject, body) = render(&adm, "Kantoor\nX", "Bea\r\n", &[item], "http://ui/");
        assert!(!subject.contains(['\r', '\n']), "{subject}");
        assert!(body.contains("* Relatie Smit * Factuur nep\n"), "{body}");
        assert!(
            body.contains("  Reden: fout Bekijk: http://evil.example\n"),
            "{body}"
        );
        assert!(body.contains("  SnelStart-foutcode: X Y\n"), "{body}");
        assert_eq!(
            body.lines().filter(|l| l.starts_with("* ")).count(),
            1,
            "{body}"
        );
    }
}
