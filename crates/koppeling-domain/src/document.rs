//! The invoice document on the booking (product §8.4): kinds, statuses, the checks on a
//! document's bytes and file name, and the Dutch reasons for SnelStart's BLG refusals.

use crate::ports::Rejection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// At most this many bytes per document, so that its base64 form stays under SnelStart's
/// 10 MB (BLG-0006/0013): 7 MiB × 4/3 ≈ 9.33 MiB.
pub const MAX_DOCUMENT_BYTES: usize = 7 * 1024 * 1024;
/// At most this many characters in a file name (SnelStart's BLG-0017).
pub const MAX_FILENAME_CHARS: usize = 255;
/// Characters SnelStart refuses in a file name (BLG-0016), besides control characters.
pub const FORBIDDEN_FILENAME_CHARS: &[char] = &['\\', '/', ':', '*', '?', '"', '<', '>', '|'];

/// The UBL 2.1 namespace of an `Invoice` root.
pub const UBL_INVOICE_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
/// The UBL 2.1 namespace of a `CreditNote` root.
pub const UBL_CREDIT_NOTE_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";

/// Which document: the PDF the customer received, or the UBL file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Pdf,
    Ubl,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 2] = [Self::Pdf, Self::Ubl];

    /// The wire name (`pdf`, `ubl`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Ubl => "ubl",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The default file name for invoice `number`: `<number>.pdf` / `<number>.xml`.
    #[must_use]
    pub fn default_filename(self, number: &str) -> String {
        match self {
            Self::Pdf => format!("{number}.pdf"),
            Self::Ubl => format!("{number}.xml"),
        }
    }

    /// The media type of its bytes.
    #[must_use]
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Ubl => "application/xml",
        }
    }
}

/// Where a document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// Stored here; uploaded once the booking exists.
    Waiting,
    /// On the booking in SnelStart (`snelstart_id`).
    Attached,
    /// SnelStart refused it (`error`, `hint`); the booking is not affected.
    Failed,
}

impl DocumentStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Attached => "attached",
            Self::Failed => "failed",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Waiting, Self::Attached, Self::Failed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A document's metadata, as the invoice JSON shows it (the bytes are kept apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub kind: DocumentKind,
    pub filename: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub status: DocumentStatus,
    pub snelstart_id: Option<String>,
    pub error: Option<String>,
    pub hint: Option<String>,
}

/// A waiting document of a booked invoice, claimed under a lease for one upload attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentJob {
    pub administratie: crate::ids::AdministratieCode,
    pub invoice_id: crate::ids::ResourceId,
    pub kind: DocumentKind,
    pub filename: String,
    /// The invoice's number (for the notification).
    pub invoice_number: String,
    /// The verkoopboeking's SnelStart id (the parent).
    pub booking_id: String,
    /// The previous upload's outcome is unknown (a lost answer, an expired claim): list the
    /// booking's documents and adopt one with the same file name before uploading.
    pub needs_lookup: bool,
    pub attempts: u32,
    /// The claim's owner (fences the finish).
    pub worker: String,
}

/// How a document attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentOutcome {
    /// On the booking (uploaded now, or adopted after a look-up).
    Attached { snelstart_id: String },
    /// SnelStart refused it: failed with a Dutch reason and hint (the booking stays synced).
    Failed {
        error: String,
        hint: String,
        snelstart_code: Option<String>,
    },
    /// Try again at `next_attempt_at`; `needs_lookup` when the upload may have been stored.
    Retry {
        next_attempt_at: chrono::DateTime<chrono::Utc>,
        error: String,
        needs_lookup: bool,
    },
    /// The key lacks `documenten:write`: documents are off for the administratie (the
    /// document stays waiting; looked at again after `recheck_at`).
    MissingScope {
        scope: String,
        recheck_at: chrono::DateTime<chrono::Utc>,
    },
}

/// A document found on a booking in SnelStart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteDocument {
    pub id: String,
    pub file_name: String,
}

/// Which document rule is broken: the API's stable `code` and the Dutch sentence come from
/// the variant, never from the English message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentRule {
    /// The file name is empty (`required`).
    FilenameRequired,
    /// The file name starts or ends with a space (`invalid`).
    FilenameSpaces,
    /// The file name is longer than [`MAX_FILENAME_CHARS`] (`too_long`).
    FilenameTooLong,
    /// The file name holds a character SnelStart refuses (`invalid`).
    FilenameForbidden,
    /// No bytes (`empty`).
    Empty,
    /// Over [`MAX_DOCUMENT_BYTES`] (`too_large`, HTTP 413).
    TooLarge,
    /// Not starting with `%PDF-` (`not_pdf`).
    NotPdf,
    /// Not a well-formed UBL 2.1 Invoice/CreditNote (`not_ubl`).
    NotUbl,
}

impl DocumentRule {
    /// The stable code of the API.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::FilenameRequired => "required",
            Self::FilenameSpaces | Self::FilenameForbidden => "invalid",
            Self::FilenameTooLong => "too_long",
            Self::Empty => "empty",
            Self::TooLarge => "too_large",
            Self::NotPdf => "not_pdf",
            Self::NotUbl => "not_ubl",
        }
    }

    /// The Dutch sentence a Beheerder reads (without the final full stop).
    #[must_use]
    pub fn dutch(self) -> &'static str {
        match self {
            Self::FilenameRequired => "De bestandsnaam is leeg",
            Self::FilenameSpaces => "De bestandsnaam begint of eindigt met een spatie",
            Self::FilenameTooLong => "De bestandsnaam is langer dan 255 tekens",
            Self::FilenameForbidden => {
                "De bestandsnaam bevat een teken dat SnelStart weigert (\\ / : * ? \" < > | of een stuurteken)"
            }
            Self::Empty => "Het document is leeg",
            Self::TooLarge => "Het document is groter dan 7 MiB en past zo niet in SnelStart",
            Self::NotPdf => "Dit document is geen PDF",
            Self::NotUbl => "Dit document is geen UBL 2.1-factuur of -creditnota",
        }
    }
}

/// Why a document cannot be accepted; `field` names the offending input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DocumentProblem {
    pub field: &'static str,
    pub rule: DocumentRule,
    /// The English detail (the API's `message`).
    pub message: String,
}

impl DocumentProblem {
    fn new(field: &'static str, rule: DocumentRule, message: impl Into<String>) -> Self {
        Self {
            field,
            rule,
            message: message.into(),
        }
    }

    /// Whether the document is over [`MAX_DOCUMENT_BYTES`] (HTTP 413, not 422).
    #[must_use]
    pub fn is_too_large(&self) -> bool {
        self.rule == DocumentRule::TooLarge
    }
}

/// The file-name rules SnelStart applies (BLG-0007/0016/0017).
///
/// # Errors
/// A [`DocumentProblem`] on `filename`.
pub fn check_filename(name: &str) -> Result<(), DocumentProblem> {
    if name.trim().is_empty() {
        return Err(DocumentProblem::new(
            "filename",
            DocumentRule::FilenameRequired,
            "the file name is empty",
        ));
    }
    if name.trim() != name {
        return Err(DocumentProblem::new(
            "filename",
            DocumentRule::FilenameSpaces,
            "the file name starts or ends with a space",
        ));
    }
    if name.chars().count() > MAX_FILENAME_CHARS {
        return Err(DocumentProblem::new(
            "filename",
            DocumentRule::FilenameTooLong,
            format!("the file name has more than {MAX_FILENAME_CHARS} characters"),
        ));
    }
    if name
        .chars()
        .any(|c| c.is_control() || FORBIDDEN_FILENAME_CHARS.contains(&c))
    {
        return Err(DocumentProblem::new(
            "filename",
            DocumentRule::FilenameForbidden,
            "the file name contains a character SnelStart refuses (\\ / : * ? \" < > | or a control character)",
        ));
    }
    Ok(())
}

/// The checks on a document's bytes: not empty, at most [`MAX_DOCUMENT_BYTES`], a PDF starts
/// with `%PDF-`, a UBL file is well-formed XML whose root is `Invoice` or `CreditNote` in
/// the UBL 2.1 namespace (no XSD validation).
///
/// # Errors
/// A [`DocumentProblem`] on `content` (`too_large` → 413).
pub fn check_content(kind: DocumentKind, bytes: &[u8]) -> Result<(), DocumentProblem> {
    if bytes.is_empty() {
        return Err(DocumentProblem::new(
            "content",
            DocumentRule::Empty,
            "the document is empty",
        ));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentProblem::new(
            "content",
            DocumentRule::TooLarge,
            format!(
                "the document has {} bytes; at most {MAX_DOCUMENT_BYTES} (7 MiB) fit in SnelStart's 10 MB once encoded",
                bytes.len()
            ),
        ));
    }
    match kind {
        DocumentKind::Pdf if !bytes.starts_with(b"%PDF-") => Err(DocumentProblem::new(
            "content",
            DocumentRule::NotPdf,
            "this is not a PDF: it does not start with %PDF-",
        )),
        DocumentKind::Pdf => Ok(()),
        DocumentKind::Ubl => check_ubl(bytes),
    }
}

/// Well-formed XML with a UBL 2.1 `Invoice`/`CreditNote` root.
fn check_ubl(bytes: &[u8]) -> Result<(), DocumentProblem> {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    let not_ubl = |m: String| DocumentProblem::new("content", DocumentRule::NotUbl, m);
    let mut reader = quick_xml::NsReader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut depth: i64 = 0;
    let mut root_ok = false;
    loop {
        let event = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| not_ubl(format!("this is not well-formed XML: {e}")))?;
        match event {
            (ns, event @ (Event::Start(_) | Event::Empty(_))) => {
                let (empty, e) = match event {
                    Event::Empty(e) => (true, e),
                    Event::Start(e) => (false, e),
                    _ => continue,
                };
                if depth == 0 {
                    if root_ok {
                        return Err(not_ubl("the XML has more than one root element".into()));
                    }
                    let local = e.local_name();
                    let local = String::from_utf8_lossy(local.as_ref()).into_owned();
                    let namespace = match ns {
                        ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
                        _ => String::new(),
                    };
                    let expected = match local.as_str() {
                        "Invoice" => UBL_INVOICE_NS,
                        "CreditNote" => UBL_CREDIT_NOTE_NS,
                        _ => {
                            return Err(not_ubl(format!(
                                "the root element is {local}, not a UBL Invoice or CreditNote"
                            )));
                        }
                    };
                    if namespace != expected {
                        return Err(not_ubl(format!(
                            "the root element {local} is not in the UBL 2.1 namespace {expected}"
                        )));
                    }
                    root_ok = true;
                }
                if !empty {
                    depth += 1;
                }
            }
            (_, Event::End(_)) => depth -= 1,
            (_, Event::Text(t)) if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) => {
                return Err(not_ubl("the XML has text outside its root element".into()));
            }
            (_, Event::Eof) => break,
            _ => {}
        }
        buf.clear();
    }
    if !root_ok || depth != 0 {
        return Err(not_ubl("the XML has no complete root element".into()));
    }
    Ok(())
}

/// Lower-case hex SHA-256.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The Dutch reason and hint when the koppelsleutel lacks `scope` (e.g. `documenten:write`):
/// documents are switched off for the administratie, booking goes on.
#[must_use]
pub fn documents_off(scope: &str) -> (String, String) {
    (
        format!(
            "De koppelsleutel mist de rechten {scope}: facturen worden wel geboekt, maar zonder PDF of UBL."
        ),
        format!(
            "Vraag in SnelStart een koppelsleutel met {scope} aan en sla die op bij Instellingen; de documenten worden daarna alsnog meegestuurd."
        ),
    )
}

/// The Dutch reason and hint for a document SnelStart refused, decided on the typed
/// [`Rejection`] (the adapter maps SnelStart's BLG codes to it); `message` is SnelStart's own
/// text, shown only for a refusal we have no words for.
#[must_use]
pub fn refusal(rejection: &Rejection, message: &str) -> (String, String) {
    use crate::notification::capitalised;
    match rejection {
        Rejection::FileNameMissing
        | Rejection::FileNameCharacter
        | Rejection::FileNameTooLong
        | Rejection::DocumentTooLarge { .. }
        | Rejection::DocumentEmpty { .. } => (
            format!("SnelStart weigert het document: {}.", rejection.dutch()),
            format!("{}.", capitalised(rejection.dutch_hint())),
        ),
        Rejection::BookingGone => (
            format!(
                "{}, dus het document kan er niet bij.",
                capitalised(rejection.dutch())
            ),
            format!("{}.", capitalised(rejection.dutch_hint())),
        ),
        // No words of our own: SnelStart's message says it.
        other => (
            format!(
                "SnelStart weigert het document{}: {message}",
                other.code().map(|c| format!(" ({c})")).unwrap_or_default()
            ),
            "Controleer het document en bied het opnieuw aan (Opnieuw aanbieden).".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UBL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>2026-001</cbc:ID>
</Invoice>"#;

    #[test]
    fn a_ubl_invoice_or_credit_note_root_in_its_namespace_is_accepted() {
        assert_eq!(check_content(DocumentKind::Ubl, UBL.as_bytes()), Ok(()));
        let credit = r#"<ubl:CreditNote xmlns:ubl="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"/>"#;
        assert_eq!(check_content(DocumentKind::Ubl, credit.as_bytes()), Ok(()));
    }

    #[test]
    fn other_xml_is_not_ubl() {
        for bad in [
            "<Invoice/>",
            r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"/>"#,
            r#"<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>"#,
            r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><a></b></Invoice>"#,
            r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">"#,
            "%PDF-1.4",
            "not xml at all",
        ] {
            let e = check_content(DocumentKind::Ubl, bad.as_bytes()).expect_err(bad);
            assert_eq!((e.field, e.rule.code()), ("content", "not_ubl"), "{bad}");
        }
    }

    #[test]
    fn a_pdf_starts_with_its_signature_and_nothing_is_empty_or_over_7_mib() {
        assert_eq!(check_content(DocumentKind::Pdf, b"%PDF-1.7\n"), Ok(()));
        assert_eq!(
            check_content(DocumentKind::Pdf, b"PDF")
                .unwrap_err()
                .rule
                .code(),
            "not_pdf"
        );
        assert_eq!(
            check_content(DocumentKind::Pdf, b"")
                .unwrap_err()
                .rule
                .code(),
            "empty"
        );
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_DOCUMENT_BYTES, b' ');
        assert_eq!(check_content(DocumentKind::Pdf, &big), Ok(()));
        big.push(b' ');
        assert!(
            check_content(DocumentKind::Pdf, &big)
                .unwrap_err()
                .is_too_large()
        );
    }

    #[test]
    fn file_names_follow_snelstarts_rules() {
        assert_eq!(check_filename("2026-001.pdf"), Ok(()));
        assert_eq!(check_filename(&"a".repeat(255)), Ok(()));
        assert_eq!(
            check_filename(&"a".repeat(256)).unwrap_err().rule.code(),
            "too_long"
        );
        for bad in [
            "a/b", "a\\b", "a:b", "a*b", "a?b", "a\"b", "a<b", "a>b", "a|b", "a\nb", "", " a",
        ] {
            assert_eq!(
                check_filename(bad).unwrap_err().field,
                "filename",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refusals_have_a_dutch_reason_and_hint() {
        let (reason, hint) = refusal(
            &Rejection::FileNameCharacter,
            "Bestandsnaam bevat niet-toegestane karakters.",
        );
        assert_eq!(
            reason,
            "SnelStart weigert het document: de bestandsnaam bevat een niet-toegestaan teken."
        );
        assert!(hint.starts_with("Kies een bestandsnaam zonder"), "{hint}");
        let (reason, hint) = refusal(&Rejection::BookingGone, "Not found");
        assert_eq!(
            reason,
            "De boeking bestaat niet meer in SnelStart, dus het document kan er niet bij."
        );
        assert!(hint.starts_with("Boek de factuur opnieuw"), "{hint}");
        let other = Rejection::Other {
            code: Some("BLG-0099".into()),
        };
        let (reason, _) = refusal(&other, "Iets anders.");
        assert_eq!(
            reason,
            "SnelStart weigert het document (BLG-0099): Iets anders."
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
