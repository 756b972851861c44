//! Ports: the traits the adapters implement (store, SnelStart, notifier, clock).

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::booking::SalesBooking;
use crate::document::{Document, DocumentJob, DocumentKind, DocumentOutcome, RemoteDocument};
use crate::ids::{AdministratieCode, ResourceId};
use crate::invoice::Invoice;
use crate::koppeling::{Connection, ConnectionKey, Koppeling, KoppelingSettings};
use crate::notification::{NotificationItem, NotificationRecord, OutgoingMail, StoredNotification};
use crate::problem::Problem;
use crate::readback::{
    BookedInvoice, Event, NewEvent, PushState, ReadbackState, ReadbackUpdate, RemoteBookingDetail,
    RemoteInvoice, RemotePayment,
};
use crate::reconciliation::{LedgerRole, Listed, Mutation, Period};
use crate::relation::{RelatieCode, RelatieData, Relation};

// ---------------------------------------------------------------------------------------
// Clock

/// The current time; a port so that tests control it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

// ---------------------------------------------------------------------------------------
// Accounting (SnelStart)

/// Which credential SnelStart refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Credential {
    /// The firm's koppelsleutel (no token, or a fresh token refused).
    ConnectionKey,
    /// The integrator's subscription key: the operator's problem.
    SubscriptionKey,
}

/// Why SnelStart refused data, sorted by the adapter from SnelStart's error code (README
/// §8.3). Decisions branch on the variant; [`Rejection::dutch`] and
/// [`Rejection::dutch_hint`] say it to a Beheerder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// BOE-0021: the factuurnummer exists already.
    DuplicateInvoiceNumber,
    /// REL-0008: the relatiecode is in use.
    RelatiecodeTaken,
    /// BOE-0039: the booking does not balance.
    Unbalanced,
    /// BOE-0042 / BOE-0051: the period of the invoice date is closed.
    PeriodClosed {
        /// SnelStart's code.
        code: String,
    },
    /// BOE-0033: the date lies more than 5 years before the current boekjaar.
    DateTooOld,
    /// BOE-0008 / 0037 / 0061 / 0082: a revenue ledger or its VAT code is unusable.
    LedgerUnusable {
        /// SnelStart's code.
        code: String,
    },
    /// BOE-0054: the relatie is inactive.
    RelatieInactive,
    /// BOE-0060: the relatie is no Klant.
    RelatieNotKlant,
    /// REL-0087 / REL-0088: the VAT number is refused.
    VatNumberRefused {
        /// SnelStart's code.
        code: String,
    },
    /// Another REL- code: the relatie's data is refused.
    RelatieRefused {
        /// SnelStart's code.
        code: String,
    },
    /// The request could not be built (nothing was sent).
    RequestNotBuilt,
    /// The relation's country is not among SnelStart's landen (nothing was sent).
    CountryUnknown {
        /// The ISO code given.
        country: String,
    },
    /// No usable revenue ledger for a line's VAT class (nothing was sent).
    LedgerUnresolved,
    /// BLG-0007: a document without a file name.
    FileNameMissing,
    /// BLG-0016: a character SnelStart does not allow in a file name.
    FileNameCharacter,
    /// BLG-0017: the file name is too long.
    FileNameTooLong,
    /// BLG-0006 / BLG-0013: the document is larger than SnelStart takes (10 MB).
    DocumentTooLarge {
        /// SnelStart's code.
        code: String,
    },
    /// BLG-0008 / BLG-0011: the document has no content.
    DocumentEmpty {
        /// SnelStart's code.
        code: String,
    },
    /// 404 for the parent of a document: the booking no longer exists in SnelStart.
    BookingGone,
    /// Any other code (or none).
    Other {
        /// SnelStart's code, when it sent one.
        code: Option<String>,
    },
}

impl Rejection {
    /// SnelStart's error code, when there is one (shown as "SnelStart-foutcode").
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::DuplicateInvoiceNumber => Some("BOE-0021"),
            Self::RelatiecodeTaken => Some("REL-0008"),
            Self::Unbalanced => Some("BOE-0039"),
            Self::DateTooOld => Some("BOE-0033"),
            Self::RelatieInactive => Some("BOE-0054"),
            Self::RelatieNotKlant => Some("BOE-0060"),
            Self::FileNameMissing => Some("BLG-0007"),
            Self::FileNameCharacter => Some("BLG-0016"),
            Self::FileNameTooLong => Some("BLG-0017"),
            Self::PeriodClosed { code }
            | Self::LedgerUnusable { code }
            | Self::VatNumberRefused { code }
            | Self::RelatieRefused { code }
            | Self::DocumentTooLarge { code }
            | Self::DocumentEmpty { code } => Some(code),
            Self::RequestNotBuilt
            | Self::CountryUnknown { .. }
            | Self::LedgerUnresolved
            | Self::BookingGone => None,
            Self::Other { code } => code.as_deref(),
        }
    }

    /// What SnelStart refused, in Dutch.
    #[must_use]
    pub fn dutch(&self) -> &'static str {
        match self {
            Self::DuplicateInvoiceNumber => "het factuurnummer bestaat al in SnelStart",
            Self::RelatiecodeTaken => "de relatiecode is in SnelStart al in gebruik",
            Self::Unbalanced => "de boeking is niet in balans",
            Self::PeriodClosed { .. } => "de periode van de factuurdatum is geblokkeerd",
            Self::DateTooOld => "de factuurdatum ligt te ver in het verleden",
            Self::LedgerUnusable { .. } => "een omzetgrootboek of btw-code is niet bruikbaar",
            Self::RelatieInactive => "de relatie staat op non-actief",
            Self::RelatieNotKlant => "de relatie is geen klant",
            Self::VatNumberRefused { .. } => "het btw-nummer van de relatie wordt afgewezen",
            Self::RelatieRefused { .. } => "de relatiegegevens worden geweigerd",
            Self::RequestNotBuilt => "de aanvraag voor SnelStart kon niet worden opgebouwd",
            Self::CountryUnknown { .. } => "het land van de relatie is in SnelStart onbekend",
            Self::LedgerUnresolved => {
                "voor een btw-tarief van de factuur is in SnelStart geen actief omzetgrootboek"
            }
            Self::FileNameMissing => "het document heeft geen bestandsnaam",
            Self::FileNameCharacter => "de bestandsnaam bevat een niet-toegestaan teken",
            Self::FileNameTooLong => "de bestandsnaam is te lang",
            Self::DocumentTooLarge { .. } => "het document is groter dan 10 MB",
            Self::DocumentEmpty { .. } => "het document is leeg",
            Self::BookingGone => "de boeking bestaat niet meer in SnelStart",
            Self::Other { .. } => "de gegevens worden geweigerd",
        }
    }

    /// What to do, in Dutch ("Wat te doen").
    #[must_use]
    pub fn dutch_hint(&self) -> &'static str {
        match self {
            Self::Unbalanced => {
                "de boeking is niet in balans; controleer de bedragen en btw van de factuur"
            }
            Self::PeriodClosed { .. } => {
                "de periode van de factuurdatum is geblokkeerd in SnelStart; open de periode in SnelStart of corrigeer met een creditnota in een open periode, en bied de factuur opnieuw aan"
            }
            Self::DateTooOld => {
                "de factuurdatum ligt meer dan 5 jaar voor het huidige boekjaar in SnelStart"
            }
            Self::LedgerUnusable { .. } | Self::LedgerUnresolved => {
                "controleer de omzetgrootboeken (BTW codes 12/11/10) in SnelStart en in Instellingen, en bied de factuur daarna opnieuw aan"
            }
            Self::RelatieInactive => {
                "de relatie staat op non-actief in SnelStart; zet haar weer actief en bied de factuur opnieuw aan"
            }
            Self::RelatieNotKlant => {
                "de relatie in SnelStart is geen klant; maak haar klant in SnelStart of gebruik een andere relatiecode"
            }
            Self::RelatiecodeTaken => {
                "gebruik in Radar360 een relatiecode die in SnelStart vrij is of bij een klant hoort"
            }
            Self::DuplicateInvoiceNumber => {
                "het factuurnummer bestaat al in SnelStart met een ander bedrag of een andere klant; controleer de factuur in SnelStart"
            }
            Self::VatNumberRefused { .. } => {
                "het btw-nummer van de relatie wordt door SnelStart afgewezen; corrigeer het btw-nummer bij de relatie en bied de factuur opnieuw aan"
            }
            Self::RelatieRefused { .. } => {
                "SnelStart weigert de relatiegegevens; corrigeer de relatie in Radar360 en bied de factuur opnieuw aan"
            }
            Self::CountryUnknown { .. } => {
                "gebruik bij de relatie een ISO-landcode van twee letters die SnelStart kent (zoals NL, BE, DE) en bied de factuur opnieuw aan"
            }
            Self::FileNameMissing => "geef het document een bestandsnaam en bied het opnieuw aan",
            Self::FileNameCharacter => {
                "kies een bestandsnaam zonder \\ / : * ? \" < > | en bied het document opnieuw aan"
            }
            Self::FileNameTooLong => {
                "kies een bestandsnaam van hoogstens 255 tekens en bied het document opnieuw aan"
            }
            Self::DocumentTooLarge { .. } => {
                "maak het bestand kleiner (hoogstens 7 MiB) en bied het opnieuw aan"
            }
            Self::DocumentEmpty { .. } => "lever het document opnieuw aan met inhoud",
            Self::BookingGone => {
                "boek de factuur opnieuw (Opnieuw boeken) en bied het document daarna opnieuw aan"
            }
            Self::RequestNotBuilt | Self::Other { .. } => {
                "los de oorzaak op en bied de factuur daarna opnieuw aan"
            }
        }
    }
}

impl AccountingError {
    /// What happened, in Dutch, for a Beheerder (the English detail stays in the log).
    #[must_use]
    pub fn dutch(&self) -> String {
        match self {
            Self::Transient { .. } => {
                "SnelStart is tijdelijk niet bereikbaar; de koppeling probeert het later opnieuw"
                    .to_owned()
            }
            Self::UnknownOutcome { .. } => "de uitkomst van de boeking in SnelStart is onbekend; de koppeling zoekt haar eerst op en probeert het dan opnieuw".to_owned(),
            Self::Rejected { rejection, .. } => {
                format!("SnelStart weigert de factuur: {}", rejection.dutch())
            }
            Self::Auth { .. } => "SnelStart weigert de toegang".to_owned(),
        }
    }
}

/// A failure of a SnelStart call, already sorted into the product's error classes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountingError {
    /// 429, a read's 5xx, a refused connection: nothing was written; retry later.
    #[error("SnelStart is temporarily unavailable: {message}")]
    Transient {
        /// SnelStart's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        /// What happened.
        message: String,
    },
    /// A write timed out, got a 5xx or lost its connection: it may have been committed.
    #[error("the outcome of the SnelStart write is unknown: {message}")]
    UnknownOutcome {
        /// What happened.
        message: String,
    },
    /// SnelStart refused the data (a 400 business rule): a data error.
    #[error("SnelStart refused: {message}")]
    Rejected {
        /// Which rule, as the adapter sorted SnelStart's error code.
        rejection: Rejection,
        /// SnelStart's message (data only: no decision reads it).
        message: String,
    },
    /// SnelStart refused the credentials.
    #[error("SnelStart refused the credentials: {message}")]
    Auth {
        /// Which credential.
        credential: Credential,
        /// What happened.
        message: String,
    },
}

/// A relatie as found in SnelStart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRelatie {
    /// SnelStart id (GUID).
    pub id: String,
    /// Whether its relatiesoort contains `Klant`.
    pub is_klant: bool,
    /// Whether it is nonactief.
    pub inactive: bool,
}

/// A verkoopboeking as found in SnelStart through its verkoopfactuur.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteBooking {
    /// The verkoopboeking id.
    pub id: String,
    /// The factuurnummer as SnelStart holds it, when known.
    pub number: Option<String>,
    /// The klant's relatie id, when known.
    pub klant_id: Option<String>,
    /// factuurBedrag, when known.
    pub total: Option<Decimal>,
}

/// The accounting package (SnelStart B2B API v2).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Accounting: Send + Sync + 'static {
    /// Runs the activation checks: the key yields a token, ledgers with functions 12/11/10
    /// (or the configured revenue ledgers) exist and are active, the sales journal exists
    /// with soort `Verkoop`.
    ///
    /// # Errors
    /// `Ok(problems)` lists what is wrong (empty when all pass); `Err` only when the checks
    /// could not be run at all (SnelStart unreachable). A refused key is a problem with code
    /// `key_refused`, not an `Err`.
    fn check_activation(
        &self,
        conn: &Connection,
        settings: &KoppelingSettings,
    ) -> impl Future<Output = Result<Vec<Problem>, AccountingError>> + Send;

    /// Looks a relatie up by relatiecode.
    ///
    /// # Errors
    /// Any [`AccountingError`].
    fn find_relatie(
        &self,
        conn: &Connection,
        code: RelatieCode,
    ) -> impl Future<Output = Result<Option<RemoteRelatie>, AccountingError>> + Send;

    /// Creates a relatie (soort Klant) and returns its id.
    ///
    /// # Errors
    /// `Rejected` with code `REL-0008` when the relatiecode is in use; `UnknownOutcome` when
    /// the write may have been committed.
    fn create_relatie(
        &self,
        conn: &Connection,
        data: &RelatieData,
    ) -> impl Future<Output = Result<String, AccountingError>> + Send;

    /// Updates relatie `id` with `data` (read-modify-write: fields we do not manage are kept).
    ///
    /// # Errors
    /// Any [`AccountingError`].
    fn update_relatie(
        &self,
        conn: &Connection,
        id: &str,
        data: &RelatieData,
    ) -> impl Future<Output = Result<(), AccountingError>> + Send;

    /// Books `booking` as a verkoopboeking for klant `klant_id`; returns the booking id.
    ///
    /// # Errors
    /// MUST return [`AccountingError::UnknownOutcome`], never `Transient`, when the request
    /// may have been committed (timeout, 5xx, dropped connection). `Rejected` with code
    /// `BOE-0021` when the factuurnummer exists.
    fn book_sale(
        &self,
        conn: &Connection,
        booking: &SalesBooking,
        klant_id: &str,
    ) -> impl Future<Output = Result<String, AccountingError>> + Send;

    /// Finds the verkoopboeking of `invoice_number` through `/verkoopfacturen`.
    ///
    /// # Errors
    /// Any [`AccountingError`].
    fn find_booking(
        &self,
        conn: &Connection,
        invoice_number: &str,
    ) -> impl Future<Output = Result<Option<RemoteBooking>, AccountingError>> + Send;

    /// Read-back (product §8.2): one page of verkoopfacturen with `ModifiedOn ge since`
    /// (all when `None`), ordered by `ModifiedOn`, after the first `skip` rows of that query.
    /// A short page is the last.
    ///
    /// # Errors
    /// Any [`AccountingError`].
    fn invoices_since(
        &self,
        conn: &Connection,
        since: Option<NaiveDateTime>,
        skip: usize,
    ) -> impl Future<Output = Result<Vec<RemoteInvoice>, AccountingError>> + Send;

    /// Read-back: the bank and cash bookings with `ModifiedOn ge since` that settle
    /// verkoopboekingen. A key without `bankieren:read` or `kas:read` gives
    /// [`Scoped::MissingScope`]: the payment part is off, booking is not affected.
    ///
    /// # Errors
    /// Any [`AccountingError`].
    fn payments_since(
        &self,
        conn: &Connection,
        since: Option<NaiveDateTime>,
    ) -> impl Future<Output = Result<Scoped<Vec<RemotePayment>>, AccountingError>> + Send;

    /// Read-back: verkoopboeking `booking_id` in full; `None` when SnelStart answers 404 (it
    /// was deleted).
    ///
    /// # Errors
    /// Any [`AccountingError`].
    fn booking_detail(
        &self,
        conn: &Connection,
        booking_id: &str,
    ) -> impl Future<Output = Result<Option<RemoteBookingDetail>, AccountingError>> + Send;

    /// Reconciliation (product §8.3): every verkoopfactuur dated in `period`
    /// (`FactuurDatum ge … and FactuurDatum le …`), paged: at most ⌊rows ÷ 500⌋ + 1 calls.
    ///
    /// # Errors
    /// Any [`AccountingError`]; `Transient` with `retry_after` when the administratie's call
    /// budget cannot serve it now.
    fn invoices_in_period(
        &self,
        conn: &Connection,
        period: Period,
    ) -> impl Future<Output = Result<Vec<Listed>, AccountingError>> + Send;

    /// Reconciliation: the koppeling's revenue ledgers (as bookings resolve them from
    /// `settings`) and the VAT ledgers, by ledger id, with the class each holds.
    ///
    /// # Errors
    /// Any [`AccountingError`].
    fn reconciliation_ledgers(
        &self,
        conn: &Connection,
        settings: &KoppelingSettings,
    ) -> impl Future<Output = Result<HashMap<String, LedgerRole>, AccountingError>> + Send;

    /// Reconciliation: every grootboekmutatie dated in `period` on one of `ledger_ids`,
    /// paged: at most ⌊rows ÷ 500⌋ + 1 calls.
    ///
    /// # Errors
    /// Any [`AccountingError`].
    fn ledger_mutations(
        &self,
        conn: &Connection,
        period: Period,
        ledger_ids: &[String],
    ) -> impl Future<Output = Result<Vec<Mutation>, AccountingError>> + Send;

    /// Preview (product §8.3): the factuurnummers SnelStart holds for the relatie with
    /// `code`, or with SnelStart id `relatie_id` when we know it. Reads only.
    ///
    /// # Errors
    /// Any [`AccountingError`].
    fn invoice_numbers_of_relatie(
        &self,
        conn: &Connection,
        relatie_id: Option<String>,
        code: RelatieCode,
    ) -> impl Future<Output = Result<Vec<String>, AccountingError>> + Send;

    /// Documents (product §8.4): uploads `content` as `file_name` onto verkoopboeking
    /// `booking_id` (`POST /documenten/Verkoopboekingen`); returns the document's id. A key
    /// without `documenten:write` gives [`Scoped::MissingScope`].
    ///
    /// # Errors
    /// MUST return [`AccountingError::UnknownOutcome`] when the upload may have been stored;
    /// `Rejected` with the BLG code when refused (a 404 for the booking: code `not_found`).
    fn upload_document(
        &self,
        conn: &Connection,
        booking_id: &str,
        file_name: &str,
        content: &[u8],
    ) -> impl Future<Output = Result<Scoped<String>, AccountingError>> + Send;

    /// Documents: the documents on verkoopboeking `booking_id`
    /// (`GET /documenten/Verkoopboekingen/{id}`).
    ///
    /// # Errors
    /// Any [`AccountingError`]; `Rejected` with code `not_found` when the booking is gone.
    fn booking_documents(
        &self,
        conn: &Connection,
        booking_id: &str,
    ) -> impl Future<Output = Result<Scoped<Vec<RemoteDocument>>, AccountingError>> + Send;
}

/// Delivers events to Radar360's endpoint (`events.url`).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait EventSink: Send + Sync + 'static {
    /// POSTs one event (its JSON `body`) with its id and signature.
    ///
    /// # Errors
    /// A sentence saying what failed (a non-2xx status, no connection).
    fn deliver(&self, event_id: u64, body: &str)
    -> impl Future<Output = Result<(), String>> + Send;
}

/// The answer of a call that needs an optional scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scoped<T> {
    /// The key has the scope.
    Granted(T),
    /// SnelStart answered 403: the key lacks this scope (named).
    MissingScope(String),
}

// ---------------------------------------------------------------------------------------
// Notifier

/// A failed send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sending the notification failed: {0}")]
pub struct NotifyError(pub String);

/// Delivers notifications (e-mail, or a log line when SMTP is not configured).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Notifier: Send + Sync + 'static {
    /// Sends one mail.
    ///
    /// # Errors
    /// [`NotifyError`] when delivery failed; the caller retries later.
    fn send(&self, mail: &OutgoingMail) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

// ---------------------------------------------------------------------------------------
// Store

/// What was not found: the kind is typed, so a caller decides on it (which field to blame,
/// which page to show) without reading the words; [`Missing::dutch`] names it for a
/// Beheerder, `Display` for the API's English `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Missing {
    /// An administratie (by its code).
    Administratie(String),
    /// The koppeling of an administratie (by the administratie's code).
    Koppeling(String),
    /// An invoice (by its Radar360 id).
    Invoice(String),
    /// A relation (by its Radar360 id).
    Relation(String),
    /// A document of an invoice.
    Document {
        /// `pdf` or `ubl`.
        kind: String,
        /// The invoice's Radar360 id.
        invoice: String,
    },
    /// A Beheerder (by e-mail address or id).
    Beheerder(String),
}

impl Missing {
    /// The Dutch name, for the UI and e-mail: "factuur 2026-001".
    #[must_use]
    pub fn dutch(&self) -> String {
        match self {
            Self::Administratie(code) => format!("administratie {code}"),
            Self::Koppeling(adm) => format!("de koppeling van administratie {adm}"),
            Self::Invoice(id) => format!("factuur {id}"),
            Self::Relation(id) => format!("relatie {id}"),
            Self::Document { kind, invoice } => {
                format!("het {}-document van factuur {invoice}", kind.to_uppercase())
            }
            Self::Beheerder(who) => format!("Beheerder {who}"),
        }
    }
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Administratie(code) => write!(f, "administratie {code}"),
            Self::Koppeling(adm) => write!(f, "koppeling of administratie {adm}"),
            Self::Invoice(id) => write!(f, "invoice {id}"),
            Self::Relation(id) => write!(f, "relation {id}"),
            Self::Document { kind, invoice } => write!(f, "{kind} document of invoice {invoice}"),
            Self::Beheerder(who) => write!(f, "Beheerder {who}"),
        }
    }
}

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The thing does not exist (in this administratie).
    #[error("{0} not found")]
    NotFound(Missing),
    /// The write conflicts with existing data or the sync state.
    #[error("{message}")]
    Conflict {
        /// snake_case code, e.g. `email_taken`, `invoice_locked`, `code_taken`.
        code: String,
        /// A sentence.
        message: String,
        /// The field, when one is to blame.
        field: Option<String>,
    },
    /// The database is busy (a lock wait timed out, a serialization failure or deadlock,
    /// no pooled connection free in time): the transaction rolled back; retry shortly.
    #[error("the database is busy: {0}")]
    Busy(String),
    /// Anything else (connection lost, constraint, …).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Whether a PUT created or replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// 201.
    Created,
    /// 200.
    Replaced,
}

/// The sync status of an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Waiting (maybe for a back-off).
    Queued,
    /// Claimed by a worker.
    InProgress,
    /// Booked in SnelStart.
    Synced,
    /// Refused; waits for a fix and a retry.
    Failed,
    /// Not sent, with a reason.
    Skipped,
}

impl SyncStatus {
    /// All statuses.
    pub const ALL: [SyncStatus; 5] = [
        Self::Queued,
        Self::InProgress,
        Self::Synced,
        Self::Failed,
        Self::Skipped,
    ];

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::InProgress => "in_progress",
            Self::Synced => "synced",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    /// Parses a wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The product's three error classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// 429, 5xx, timeouts, network.
    Transient,
    /// Our validation or a SnelStart business rule.
    Data,
    /// Credentials refused.
    Auth,
}

impl ErrorClass {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::Data => "data",
            Self::Auth => "auth",
        }
    }
}

/// The sync state of an invoice as shown by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// Status.
    pub status: SyncStatus,
    /// The verkoopboeking id once synced.
    pub snelstart_id: Option<String>,
    /// The reason for failed and skipped (and the last transient error while queued).
    pub error: Option<String>,
    /// What to do.
    pub hint: Option<String>,
    /// Attempts so far.
    pub attempts: u32,
    /// When a back-off ends.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The payment as the read-back last saw it (product §8.2); `None` until it has.
    pub payment: Option<crate::readback::Payment>,
    /// Drift found by the read-back, if any.
    pub drift: Option<crate::readback::Drift>,
}

/// Which invoices a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceFilter {
    /// Only this sync status.
    pub status: Option<SyncStatus>,
    /// Only this payment status (product §8.2).
    pub payment: Option<crate::readback::PaymentStatus>,
    /// Only invoices with drift.
    pub drift: bool,
    /// Only invoices dated on or after this day (reconciliation, product §8.3).
    pub from: Option<chrono::NaiveDate>,
    /// Only invoices dated on or before this day.
    pub to: Option<chrono::NaiveDate>,
    /// Only final invoices.
    pub final_only: bool,
    /// Only the invoices of this relation (the preview, product §8.3).
    pub relation_id: Option<ResourceId>,
}

impl From<Option<SyncStatus>> for InvoiceFilter {
    fn from(status: Option<SyncStatus>) -> Self {
        Self {
            status,
            ..Self::default()
        }
    }
}

/// Counts per status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusCounts {
    /// queued.
    pub queued: u64,
    /// in_progress.
    pub in_progress: u64,
    /// synced.
    pub synced: u64,
    /// failed.
    pub failed: u64,
    /// skipped.
    pub skipped: u64,
    /// Paid in full, as read back from SnelStart (product §8.2).
    pub paid: u64,
    /// With drift (changed or deleted in SnelStart).
    pub drift: u64,
}

/// One row of the sync log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptLog {
    /// The invoice.
    pub invoice_id: String,
    /// The invoice's number, for people (absent when the invoice is gone).
    #[serde(default)]
    pub invoice_number: Option<String>,
    /// 1-based attempt number.
    pub attempt: u32,
    /// When.
    pub at: DateTime<Utc>,
    /// `synced`, `failed`, `skipped`, `retry`.
    pub outcome: String,
    /// The error class, when it failed.
    pub error_class: Option<ErrorClass>,
    /// SnelStart's code, when SnelStart refused.
    pub snelstart_code: Option<String>,
    /// A sentence.
    pub message: String,
}

/// A Beheerder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admin {
    /// Caller-chosen id.
    pub id: ResourceId,
    /// Name.
    pub name: String,
    /// E-mail (the log-in; unique across the service).
    pub email: String,
}

/// An administratie (tenant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Administratie {
    /// Code.
    pub code: AdministratieCode,
    /// Name.
    pub name: String,
}

/// A unit of sync work claimed under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The administratie.
    pub administratie: AdministratieCode,
    /// The invoice.
    pub invoice_id: ResourceId,
    /// Attempts made before this one.
    pub attempts: u32,
    /// The last write's outcome is unknown (or a previous lease expired mid-attempt):
    /// look the invoice up before posting anything.
    pub needs_lookup: bool,
    /// When the current run of transient failures began.
    pub failing_since: Option<DateTime<Utc>>,
    /// The lease holder.
    pub worker: String,
}

/// What a worker asks of [`QueueStore::claim_due`]: up to `limit` due invoices under a lease for
/// `worker` until `lease_until`, optionally of one administratie only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    /// The claiming worker (the lease holder).
    pub worker: String,
    /// The claim's moment: what is due at `now` is claimed.
    pub now: DateTime<Utc>,
    /// Until when the leases taken run.
    pub lease_until: DateTime<Utc>,
    /// At most this many claims.
    pub limit: u32,
    /// One administratie only, or all the worker may serve.
    pub administratie: Option<AdministratieCode>,
}

impl ClaimRequest {
    /// A claim of up to `limit` invoices of any administratie.
    #[must_use]
    pub fn new(
        worker: impl Into<String>,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Self {
        Self {
            worker: worker.into(),
            now,
            lease_until,
            limit,
            administratie: None,
        }
    }

    /// The same claim, limited to one administratie when `adm` is `Some`.
    #[must_use]
    pub fn of(mut self, adm: Option<AdministratieCode>) -> Self {
        self.administratie = adm;
        self
    }
}

/// The link between a relation and its SnelStart relatie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatieLink {
    /// SnelStart relatie id.
    pub snelstart_id: String,
    /// Fingerprint of the data last pushed.
    pub fingerprint: String,
}

/// Everything the sync needs for one claimed invoice.
#[derive(Debug, Clone)]
pub struct SyncJob {
    /// The invoice.
    pub invoice: Invoice,
    /// Its relation.
    pub relation: Relation,
    /// The relation's SnelStart relatie, once known.
    pub relatie: Option<RelatieLink>,
    /// The koppeling (settings, decrypted key, state).
    pub koppeling: Koppeling,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Booked (or adopted).
    Synced {
        /// The verkoopboeking id.
        snelstart_id: String,
    },
    /// A data error.
    Failed {
        /// The reason.
        error: String,
        /// What to do.
        hint: Option<String>,
        /// SnelStart's code.
        snelstart_code: Option<String>,
        /// Data or auth.
        class: ErrorClass,
    },
    /// Not sent.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Try again at `next_attempt_at`.
    Retry {
        /// When.
        next_attempt_at: DateTime<Utc>,
        /// The reason.
        error: String,
        /// SnelStart's code.
        snelstart_code: Option<String>,
        /// Look the invoice up first next time.
        needs_lookup: bool,
        /// When this run of failures began.
        failing_since: DateTime<Utc>,
    },
    /// Back to the queue without counting an attempt (the koppeling paused meanwhile).
    Release {
        /// Keep the lookup flag.
        needs_lookup: bool,
    },
    /// Out of the queue without counting an attempt: the relation is no longer ticked and
    /// nothing of this invoice is in SnelStart (looked up when the outcome was unknown).
    /// The invoice has no sync state again, as un-ticking leaves a queued invoice.
    Unqueued,
}

/// A notice waiting to be grouped into a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingNotice {
    /// Store id of the notice.
    pub id: i64,
    /// The administratie.
    pub administratie: AdministratieCode,
    /// The item.
    pub item: NotificationItem,
    /// When it was queued.
    pub at: DateTime<Utc>,
}

/// Who gets the notification of an administratie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// Administratie name.
    pub administratie_name: String,
    /// The Beheerder (None when no Beheerder is chosen or it was removed).
    pub admin: Option<Admin>,
}

/// A notification stored but maybe not yet mailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsentNotification {
    /// Store id.
    pub id: i64,
    /// Administratie.
    pub administratie: AdministratieCode,
    /// Recipient name.
    pub to_name: String,
    /// The notification.
    pub notification: StoredNotification,
    /// How many sends failed so far (for the back-off).
    pub send_attempts: u32,
}

/// A failed send of a notification, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// Why it failed (the notifier's message).
    pub error: String,
    /// Not tried again before this time.
    pub retry_at: DateTime<Utc>,
}

/// Every store role trait, for callers of a concrete store (`SeaOrmStore`), whose methods
/// are in scope only with their role: `use koppeling_domain::ports::roles::*;`.
pub mod roles {
    pub use super::{
        AdminStore, AdministratieStore, ConnectStore, DocumentStore, InvoiceStore,
        NotificationStore, QueueStore, ReadbackStore, RelationStore, Store,
    };
}

/// Radar360's data and the sync state (sea-orm on SQLite or PostgreSQL): every role below.
///
/// Every method is scoped to one administratie: no call reads or writes another's rows.
/// Composition code binds `S: Store`; use-case code that needs one role binds only that
/// role (e.g. [`AdminStore`] for the log-in, [`DocumentStore`] for documents).
pub trait Store:
    AdministratieStore
    + AdminStore
    + RelationStore
    + InvoiceStore
    + QueueStore
    + NotificationStore
    + ReadbackStore
    + ConnectStore
    + DocumentStore
{
}

impl<T> Store for T where
    T: AdministratieStore
        + AdminStore
        + RelationStore
        + InvoiceStore
        + QueueStore
        + NotificationStore
        + ReadbackStore
        + ConnectStore
        + DocumentStore
{
}

/// The store's role: administraties and their koppeling (settings, active, paused).
///
/// Every method is scoped to one administratie.
pub trait AdministratieStore: Send + Sync + 'static {
    /// Creates or renames an administratie.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn put_administratie(
        &self,
        adm: &Administratie,
    ) -> impl Future<Output = Result<Put, StoreError>> + Send;
    /// Reads an administratie.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn get_administratie(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Option<Administratie>, StoreError>> + Send;
    /// All administraties.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn list_administraties(
        &self,
    ) -> impl Future<Output = Result<Vec<Administratie>, StoreError>> + Send;
    /// Saves the settings; `key` `None` keeps the stored key (encrypted at rest).
    ///
    /// # Errors
    /// `NotFound` when the administratie does not exist.
    fn put_koppeling(
        &self,
        adm: &AdministratieCode,
        settings: &KoppelingSettings,
        key: Option<ConnectionKey>,
    ) -> impl Future<Output = Result<Put, StoreError>> + Send;
    /// Reads the koppeling with its decrypted key.
    ///
    /// # Errors
    /// [`StoreError::Other`], also when the key cannot be decrypted.
    fn get_koppeling(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Option<Koppeling>, StoreError>> + Send;
    /// Switches the koppeling on (clearing a pause) or off.
    ///
    /// # Errors
    /// `NotFound`.
    fn set_koppeling_active(
        &self,
        adm: &AdministratieCode,
        active: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Pauses (problem `Some`) or resumes (`None`) the koppeling. Returns true when the
    /// state changed (so the caller notifies once).
    ///
    /// # Errors
    /// `NotFound`.
    fn set_koppeling_paused(
        &self,
        adm: &AdministratieCode,
        problem: Option<crate::pause::PauseReason>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Pauses every active koppeling (subscription key refused) or resumes those paused for
    /// that reason; returns the administraties whose state changed.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn set_all_paused(
        &self,
        problem: Option<crate::pause::PauseReason>,
    ) -> impl Future<Output = Result<Vec<AdministratieCode>, StoreError>> + Send;
}

/// The store's role: beheerders and their log-in: sessions, the throttle, used log-in form tokens (issue 13).
///
/// Every method is scoped to one administratie.
pub trait AdminStore: Send + Sync + 'static {
    /// Creates or replaces a Beheerder; `password_hash` `None` keeps the stored one. A new
    /// password hash ends the Beheerder's sessions.
    ///
    /// # Errors
    /// `Conflict { code: "email_taken" }` when another Beheerder has the e-mail.
    fn put_admin(
        &self,
        adm: &AdministratieCode,
        admin: &Admin,
        password_hash: Option<String>,
    ) -> impl Future<Output = Result<Put, StoreError>> + Send;
    /// Reads a Beheerder.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn get_admin(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Option<Admin>, StoreError>> + Send;
    /// The Beheerders of an administratie.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn list_admins(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Vec<Admin>, StoreError>> + Send;
    /// Finds a Beheerder by e-mail (the log-in) with the password hash.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn find_admin_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<(AdministratieCode, Admin, Option<String>)>, StoreError>>
    + Send;
    /// Sets the password hash of the Beheerder with `email` in `adm` and ends their
    /// sessions.
    ///
    /// # Errors
    /// `NotFound` when there is no such Beheerder.
    fn set_admin_password(
        &self,
        adm: &AdministratieCode,
        email: &str,
        password_hash: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Stores a new session.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn create_session(
        &self,
        session: &crate::auth::SessionRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The session with this id hash and its Beheerder's name (`None` when unknown or
    /// the Beheerder is gone).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn get_session(
        &self,
        id_hash: &str,
    ) -> impl Future<Output = Result<Option<(crate::auth::SessionRecord, String)>, StoreError>> + Send;
    /// Writes the session's `last_seen`.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn touch_session(
        &self,
        id_hash: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Deletes a session (log-out or expiry).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn delete_session(&self, id_hash: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Counts a log-in attempt under `key` as a failure, atomically across processes
    /// (read, [`crate::auth::attempt`], write in one transaction): `Some(wait)` when the key
    /// is locked (nothing counted).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn throttle_attempt(
        &self,
        key: &str,
        now: DateTime<Utc>,
        policy: crate::auth::ThrottlePolicy,
    ) -> impl Future<Output = Result<Option<Duration>, StoreError>> + Send;
    /// Takes back one counted failure under `key` (the attempt succeeded).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn throttle_forgive(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Forgets the failed log-ins under `key` (after a successful log-in).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn clear_throttle(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Marks a log-in form token (its hash) used; `false` when it was used before.
    /// Prunes the marks that expired before `now`.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn use_login_token(
        &self,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The store's role: relations and their links to SnelStart relaties.
///
/// Every method is scoped to one administratie.
pub trait RelationStore: Send + Sync + 'static {
    /// Creates or replaces a relation; the SnelStart tick is kept as stored.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn put_relation(
        &self,
        adm: &AdministratieCode,
        relation: &Relation,
    ) -> impl Future<Output = Result<Put, StoreError>> + Send;
    /// Reads a relation.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn get_relation(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Option<Relation>, StoreError>> + Send;
    /// The relations, ordered by code.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn list_relations(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Vec<Relation>, StoreError>> + Send;
    /// Ticks or un-ticks SnelStart on a relation. Ticking records `code` as the relation's
    /// relatiecode and, in the same transaction, queues every final invoice of the relation
    /// that has no sync state yet.
    ///
    /// # Errors
    /// `NotFound`; `Conflict { code: "code_taken" }` when another ticked relation has the
    /// same relatiecode (e.g. "007" and "7").
    fn set_relation_snelstart(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        enabled: Option<RelatieCode>,
    ) -> impl Future<Output = Result<Relation, StoreError>> + Send;
    /// The SnelStart relatie linked to a relation.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn get_relatie_link(
        &self,
        adm: &AdministratieCode,
        relation_id: &ResourceId,
    ) -> impl Future<Output = Result<Option<RelatieLink>, StoreError>> + Send;
    /// Records the relatie linked to a relation.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn save_relatie_link(
        &self,
        adm: &AdministratieCode,
        relation_id: &ResourceId,
        link: &RelatieLink,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    // issue 13 (the HTTP edge and input limits)
    /// One page of the relations ordered by code (`page` from 1, `per_page` a page) whose
    /// code or name contains `search` (any case; all when empty), and how many match in
    /// all; the filtering and paging are done by the database.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn list_relations_page(
        &self,
        adm: &AdministratieCode,
        search: &str,
        page: u32,
        per_page: u32,
    ) -> impl Future<Output = Result<(Vec<Relation>, u64), StoreError>> + Send;
}

/// The store's role: invoices, their sync state and sync log.
///
/// Every method is scoped to one administratie.
pub trait InvoiceStore: Send + Sync + 'static {
    /// Creates or replaces an invoice. In the same transaction: when it is final and its
    /// relation is ticked, it is queued (a failed or skipped one is queued again); a draft
    /// loses a queued state. Returns the sync state as written (so the caller need not
    /// read it back).
    ///
    /// # Errors
    /// `Conflict { code: "invoice_locked" }` when the invoice is synced or in progress and
    /// the new content differs; `NotFound` when the relation (or the administratie) does
    /// not exist.
    fn put_invoice(
        &self,
        adm: &AdministratieCode,
        invoice: &Invoice,
    ) -> impl Future<Output = Result<(Put, Option<SyncState>), StoreError>> + Send;
    /// Reads an invoice with its sync state.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn get_invoice(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Option<(Invoice, Option<SyncState>)>, StoreError>> + Send;
    /// Invoices newest first, 100 a page (page 1 first), optionally by sync status.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn list_invoices(
        &self,
        adm: &AdministratieCode,
        filter: &InvoiceFilter,
        page: u32,
    ) -> impl Future<Output = Result<Vec<(Invoice, Option<SyncState>)>, StoreError>> + Send;
    /// Re-queues a failed invoice (attempt counter kept, back-off cleared).
    ///
    /// # Errors
    /// `NotFound`; `Conflict { code: "not_failed" }` when it is not failed.
    fn retry_invoice(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> impl Future<Output = Result<SyncState, StoreError>> + Send;
    /// The sync log, newest first, optionally only failed attempts.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn sync_log(
        &self,
        adm: &AdministratieCode,
        only_failed: bool,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AttemptLog>, StoreError>> + Send;
    /// Counts per sync status.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn status_counts(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<StatusCounts, StoreError>> + Send;
    /// The attempts of one invoice, newest first (filtered by the database).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn invoice_sync_log(
        &self,
        adm: &AdministratieCode,
        invoice_id: &str,
        only_failed: bool,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AttemptLog>, StoreError>> + Send;
}

/// The store's role: the work queue: claims under a lease, the jobs, the outcomes.
///
/// Every method is scoped to one administratie.
pub trait QueueStore: Send + Sync + 'static {
    /// Claims up to `request.limit` due invoices of active, unpaused koppelingen under a
    /// lease for `request.worker` until `request.lease_until`: queued ones whose back-off has passed, and in-progress
    /// ones whose lease expired (those come with `needs_lookup`). Optionally one
    /// administratie only. Two concurrent callers never get the same invoice, and an
    /// administratie is served by one worker at a time: the claim takes or renews an
    /// administratie lease (a fair share of the active koppelingen among the live
    /// workers) and only claims invoices of administraties the worker holds.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn claim_due(
        &self,
        request: ClaimRequest,
    ) -> impl Future<Output = Result<Vec<Claim>, StoreError>> + Send;
    /// Loads what the sync needs for a claim; `None` when the invoice or relation is gone.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn load_job(
        &self,
        claim: &Claim,
    ) -> impl Future<Output = Result<Option<SyncJob>, StoreError>> + Send;
    /// [`QueueStore::load_job`] for a batch of claims in one query; the answer is in the order
    /// of `claims`.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn load_jobs(
        &self,
        claims: &[Claim],
    ) -> impl Future<Output = Result<Vec<Option<SyncJob>>, StoreError>> + Send;
    /// Records the outcome of an attempt, its log row, and an optional notice, in one
    /// transaction, provided `claim.worker` still holds the lease (returns false otherwise
    /// and writes nothing).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn finish(
        &self,
        claim: &Claim,
        now: DateTime<Utc>,
        outcome: &Outcome,
        log_message: &str,
        notice: Option<NotificationItem>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// When work next becomes due for `worker` (for its sleep): the next queued invoice of
    /// an administratie it serves or may take, or when another worker's lease on one
    /// with work ends.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn next_due_at(
        &self,
        worker: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, StoreError>> + Send;
    /// Gives up every administratie lease of `worker` (a clean stop), so another process
    /// takes its administraties over at once.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn release_worker(&self, worker: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The store's role: notices and the notification e-mails.
///
/// Every method is scoped to one administratie.
pub trait NotificationStore: Send + Sync + 'static {
    /// Queues a notice outside an attempt (e.g. the koppeling paused).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn queue_notice(
        &self,
        adm: &AdministratieCode,
        item: &NotificationItem,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Notices not yet grouped into a notification, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn pending_notices(
        &self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<PendingNotice>, StoreError>> + Send;
    /// Whether a notice with `dedupe_key` is part of a notification that was sent (or,
    /// without a chosen Beheerder, stored) since `since`, or that still waits to be sent.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn notified_since(
        &self,
        adm: &AdministratieCode,
        dedupe_key: &str,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The recipient of an administratie's notifications.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn recipient(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Recipient, StoreError>> + Send;
    /// Stores a notification made of `notice_ids` (which stop being pending, whether
    /// included or suppressed as duplicates) in one transaction; returns its id.
    /// `notification` `None` only consumes the notices.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn save_notification(
        &self,
        adm: &AdministratieCode,
        notice_ids: &[i64],
        notification: Option<(StoredNotification, Vec<String>)>,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
    /// Claims up to `limit` stored notifications that are not yet sent and due at `now`
    /// (never given up): each is held until `hold_until`, so that another process does not
    /// send it meanwhile, and is due again then if this one never records the outcome.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn unsent_notifications(
        &self,
        now: DateTime<Utc>,
        hold_until: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<UnsentNotification>, StoreError>> + Send;
    /// Records a send attempt: mailed at `at` (`failure` None; a notification without a
    /// recipient is marked as stored), or failed, due again at `failure.retry_at`.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn mark_notification(
        &self,
        id: i64,
        at: DateTime<Utc>,
        failure: Option<SendFailure>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// How many stored notifications, over every administratie, wait to be mailed (for
    /// the operator's metrics).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn count_unsent_notifications(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// The notifications of an administratie with their delivery state, newest first.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn notifications(
        &self,
        adm: &AdministratieCode,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<NotificationRecord>, StoreError>> + Send;
}

/// The store's role: the read-back (product §8.2): bookings read back, the events and their push.
///
/// Every method is scoped to one administratie.
pub trait ReadbackStore: Send + Sync + 'static {
    /// Where the read-back of `adm` stands (the default when it never ran).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn readback_state(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<ReadbackState, StoreError>> + Send;
    /// The synced invoices of `adm` whose verkoopboeking is one of `booking_ids`.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn booked_invoices(
        &self,
        adm: &AdministratieCode,
        booking_ids: &[String],
    ) -> impl Future<Output = Result<Vec<BookedInvoice>, StoreError>> + Send;
    /// The verkoopboeking ids of every synced invoice of `adm` not already known deleted
    /// (for the full scan).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn booked_ids(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// Stores a pass in one transaction: the invoices' payment and drift, the events (ids
    /// gapless per administratie, in commit order), the notices, and the new state.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn save_readback(
        &self,
        adm: &AdministratieCode,
        state: &ReadbackState,
        updates: &[ReadbackUpdate],
        events: &[NewEvent],
        notices: &[NotificationItem],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The events of `adm` with id > `after`, ascending, at most `limit`.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn events(
        &self,
        adm: &AdministratieCode,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;
    /// The administraties whose read-back `worker` should run now: koppeling active and not
    /// paused, its lease held by `worker` (one process per administratie), no booking due
    /// (bookings first), and no pass since `not_since`.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn readback_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        not_since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<AdministratieCode>, StoreError>> + Send;
    /// The administraties with events not yet pushed whose next try is due at `now`, each
    /// with its push state and its next events (at most `limit`), in id order.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn events_to_push(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(AdministratieCode, PushState, Vec<Event>)>, StoreError>> + Send;
    /// Stores the push state of `adm`.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn save_push(
        &self,
        adm: &AdministratieCode,
        state: &PushState,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The push state of `adm` (for the overview).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn push_state(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<PushState, StoreError>> + Send;
    /// Queues invoice `id`, deleted in SnelStart, to be booked again (`POST …/rebook`): its
    /// old booking id, payment and drift are cleared; returns the sync state written.
    /// `Conflict { code: "not_deleted" }` when it is not known deleted; `NotFound` when
    /// there is no such invoice.
    ///
    /// # Errors
    /// As above, or [`StoreError::Other`].
    fn rebook(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<SyncState, StoreError>> + Send;
}

/// The store's role: the activation link (product §8.1).
///
/// Every method is scoped to one administratie.
pub trait ConnectStore: Send + Sync + 'static {
    /// Records a pending reference of `adm` by its hash, valid until `expires_at`.
    ///
    /// # Errors
    /// `NotFound` when the administratie does not exist.
    fn add_connect_reference(
        &self,
        adm: &AdministratieCode,
        ref_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Applies a webhook message in one transaction: finds the reference by its hash, reads
    /// the administratie's stored key, decides with [`crate::connect::decide`] and writes
    /// the effect (the key encrypted, the reference states, the koppeling row, the notice
    /// of a `Delete`). `Unknown`, `Replay` and `Used` write nothing.
    ///
    /// # Errors
    /// [`StoreError::Other`]; `Busy`.
    fn apply_webhook(
        &self,
        ref_hash: &str,
        action: crate::connect::ActionType,
        key: Option<ConnectionKey>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<crate::connect::WebhookApplied, StoreError>> + Send;
    /// Sets the koppeling's `problem` without changing its state, and queues `notice`, in
    /// one transaction (the link's activation checks failed).
    ///
    /// # Errors
    /// `NotFound` without a koppeling.
    fn set_koppeling_problem(
        &self,
        adm: &AdministratieCode,
        problem: &crate::pause::PauseReason,
        notice: &NotificationItem,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Whether the administratie's key came through the link (a `connected` reference).
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn link_connected(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The store's role: documents (product §8.4).
///
/// Every method is scoped to one administratie.
pub trait DocumentStore: Send + Sync + 'static {
    /// Stores (or replaces, while not attached) the `kind` document of invoice `invoice_id`;
    /// the bytes go to their own table. `Conflict` `document_attached` once attached.
    ///
    /// # Errors
    /// `NotFound` (the invoice), `Conflict`, `Other`.
    fn put_document(
        &self,
        adm: &AdministratieCode,
        invoice_id: &ResourceId,
        kind: DocumentKind,
        filename: &str,
        content: Vec<u8>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(Put, Document), StoreError>> + Send;
    /// The metadata of an invoice's documents (never their bytes), by kind.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn invoice_documents(
        &self,
        adm: &AdministratieCode,
        invoice_id: &ResourceId,
    ) -> impl Future<Output = Result<Vec<Document>, StoreError>> + Send;
    /// One document's metadata and bytes.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn document_content(
        &self,
        adm: &AdministratieCode,
        invoice_id: &ResourceId,
        kind: DocumentKind,
    ) -> impl Future<Output = Result<Option<(Document, Vec<u8>)>, StoreError>> + Send;
    /// Removes a document not yet attached. `NotFound`; `Conflict` once attached.
    ///
    /// # Errors
    /// `NotFound`, `Conflict`, `Other`.
    fn delete_document(
        &self,
        adm: &AdministratieCode,
        invoice_id: &ResourceId,
        kind: DocumentKind,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Claims up to `limit` due waiting documents of synced invoices (the booking exists)
    /// for `worker` until `lease_until`; the claim itself sets `needs_lookup` for the next
    /// claim, so a crash or an expired lease leads to a look-up, never a second upload.
    ///
    /// # Errors
    /// [`StoreError::Other`], `Busy`.
    fn claim_documents(
        &self,
        worker: &str,
        limit: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<DocumentJob>, StoreError>> + Send;
    /// Records an attempt's outcome (fenced by the claim; a lost claim writes nothing).
    /// A `Failed` outcome queues `notice` in the same transaction; `MissingScope` switches
    /// documents off for the administratie (queuing `notice` the first time).
    ///
    /// # Errors
    /// [`StoreError::Other`], `Busy`.
    fn finish_document(
        &self,
        job: &DocumentJob,
        outcome: &DocumentOutcome,
        notice: Option<NotificationItem>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// *Opnieuw aanbieden* for documents: every failed document of the invoice waits again;
    /// returns how many.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn retry_documents(
        &self,
        adm: &AdministratieCode,
        invoice_id: &ResourceId,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// The scope whose absence switched documents off for the administratie, if any.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    fn documents_missing_scope(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
}

#[cfg(any(test, feature = "mock"))]
mockall::mock! {
    /// A mock of every [`Store`] role (the orchestration tests).
    pub Store {}
    impl AdministratieStore for Store {
        fn put_administratie(
            &self,
            adm: &Administratie,
        ) -> impl Future<Output = Result<Put, StoreError>> + Send;
        fn get_administratie(
            &self,
            adm: &AdministratieCode,
        ) -> impl Future<Output = Result<Option<Administratie>, StoreError>> + Send;
        fn list_administraties(
            &self,
        ) -> impl Future<Output = Result<Vec<Administratie>, StoreError>> + Send;
        fn put_koppeling(
            &self,
            adm: &AdministratieCode,
            settings: &KoppelingSettings,
            key: Option<ConnectionKey>,
        ) -> impl Future<Output = Result<Put, StoreError>> + Send;
        fn get_koppeling(
            &self,
            adm: &AdministratieCode,
        ) -> impl Future<Output = Result<Option<Koppeling>, StoreError>> + Send;
        fn set_koppeling_active(
            &self,
            adm: &AdministratieCode,
            active: bool,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn set_koppeling_paused(
            &self,
            adm: &AdministratieCode,
            problem: Option<crate::pause::PauseReason>,
        ) -> impl Future<Output = Result<bool, StoreError>> + Send;
        fn set_all_paused(
            &self,
            problem: Option<crate::pause::PauseReason>,
        ) -> impl Future<Output = Result<Vec<AdministratieCode>, StoreError>> + Send;
    }
    impl AdminStore for Store {
        fn put_admin(
            &self,
            adm: &AdministratieCode,
            admin: &Admin,
            password_hash: Option<String>,
        ) -> impl Future<Output = Result<Put, StoreError>> + Send;
        fn get_admin(
            &self,
            adm: &AdministratieCode,
            id: &ResourceId,
        ) -> impl Future<Output = Result<Option<Admin>, StoreError>> + Send;
        fn list_admins(
            &self,
            adm: &AdministratieCode,
        ) -> impl Future<Output = Result<Vec<Admin>, StoreError>> + Send;
        fn find_admin_by_email(
            &self,
            email: &str,
        ) -> impl Future<Output = Result<Option<(AdministratieCode, Admin, Option<String>)>, StoreError>>
        + Send;
        fn set_admin_password(
            &self,
            adm: &AdministratieCode,
            email: &str,
            password_hash: String,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn create_session(
            &self,
            session: &crate::auth::SessionRecord,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn get_session(
            &self,
            id_hash: &str,
        ) -> impl Future<Output = Result<Option<(crate::auth::SessionRecord, String)>, StoreError>> + Send;
        fn touch_session(
            &self,
            id_hash: &str,
            at: DateTime<Utc>,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn delete_session(&self, id_hash: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn throttle_attempt(
            &self,
            key: &str,
            now: DateTime<Utc>,
            policy: crate::auth::ThrottlePolicy,
        ) -> impl Future<Output = Result<Option<Duration>, StoreError>> + Send;
        fn throttle_forgive(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn clear_throttle(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn use_login_token(
            &self,
            token_hash: &str,
            expires_at: DateTime<Utc>,
            now: DateTime<Utc>,
        ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    }
    impl RelationStore for Store {
        fn put_relation(
            &self,
            adm: &AdministratieCode,
            relation: &Relation,
        ) -> impl Future<Output = Result<Put, StoreError>> + Send;
        fn get_relation(
            &self,
            adm: &AdministratieCode,
            id: &ResourceId,
        ) -> impl Future<Output = Result<Option<Relation>, StoreError>> + Send;
        fn list_relations(
            &self,
            adm: &AdministratieCode,
        ) -> impl Future<Output = Result<Vec<Relation>, StoreError>> + Send;
        fn set_relation_snelstart(
            &self,
            adm: &AdministratieCode,
            id: &ResourceId,
            enabled: Option<RelatieCode>,
        ) -> impl Future<Output = Result<Relation, StoreError>> + Send;
        fn get_relatie_link(
            &self,
            adm: &AdministratieCode,
            relation_id: &ResourceId,
        ) -> impl Future<Output = Result<Option<RelatieLink>, StoreError>> + Send;
        fn save_relatie_link(
            &self,
            adm: &AdministratieCode,
            relation_id: &ResourceId,
            link: &RelatieLink,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn list_relations_page(
            &self,
            adm: &AdministratieCode,
            search: &str,
            page: u32,
            per_page: u32,
        ) -> impl Future<Output = Result<(Vec<Relation>, u64), StoreError>> + Send;
    }
    impl InvoiceStore for Store {
        fn put_invoice(
            &self,
            adm: &AdministratieCode,
            invoice: &Invoice,
        ) -> impl Future<Output = Result<(Put, Option<SyncState>), StoreError>> + Send;
        fn get_invoice(
            &self,
            adm: &AdministratieCode,
            id: &ResourceId,
        ) -> impl Future<Output = Result<Option<(Invoice, Option<SyncState>)>, StoreError>> + Send;
        fn list_invoices(
            &self,
            adm: &AdministratieCode,
            filter: &InvoiceFilter,
            page: u32,
        ) -> impl Future<Output = Result<Vec<(Invoice, Option<SyncState>)>, StoreError>> + Send;
        fn retry_invoice(
            &self,
            adm: &AdministratieCode,
            id: &ResourceId,
        ) -> impl Future<Output = Result<SyncState, StoreError>> + Send;
        fn sync_log(
            &self,
            adm: &AdministratieCode,
            only_failed: bool,
            limit: u32,
        ) -> impl Future<Output = Result<Vec<AttemptLog>, StoreError>> + Send;
        fn status_counts(
            &self,
            adm: &AdministratieCode,
        ) -> impl Future<Output = Result<StatusCounts, StoreError>> + Send;
        fn invoice_sync_log(
            &self,
            adm: &AdministratieCode,
            invoice_id: &str,
            only_failed: bool,
            limit: u32,
        ) -> impl Future<Output = Result<Vec<AttemptLog>, StoreError>> + Send;
    }
    impl QueueStore for Store {
        fn claim_due(
            &self,
            request: ClaimRequest,
        ) -> impl Future<Output = Result<Vec<Claim>, StoreError>> + Send;
        fn load_job(
            &self,
            claim: &Claim,
        ) -> impl Future<Output = Result<Option<SyncJob>, StoreError>> + Send;
        fn load_jobs(
            &self,
            claims: &[Claim],
        ) -> impl Future<Output = Result<Vec<Option<SyncJob>>, StoreError>> + Send;
        fn finish(
            &self,
            claim: &Claim,
            now: DateTime<Utc>,
            outcome: &Outcome,
            log_message: &str,
            notice: Option<NotificationItem>,
        ) -> impl Future<Output = Result<bool, StoreError>> + Send;
        fn next_due_at(
            &self,
            worker: &str,
            now: DateTime<Utc>,
        ) -> impl Future<Output = Result<Option<DateTime<Utc>>, StoreError>> + Send;
        fn release_worker(&self, worker: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    }
    impl NotificationStore for Store {
        fn queue_notice(
            &self,
            adm: &AdministratieCode,
            item: &NotificationItem,
            now: DateTime<Utc>,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn pending_notices(
            &self,
            limit: u32,
        ) -> impl Future<Output = Result<Vec<PendingNotice>, StoreError>> + Send;
        fn notified_since(
            &self,
            adm: &AdministratieCode,
            dedupe_key: &str,
            since: DateTime<Utc>,
        ) -> impl Future<Output = Result<bool, StoreError>> + Send;
        fn recipient(
            &self,
            adm: &AdministratieCode,
        ) -> impl Future<Output = Result<Recipient, StoreError>> + Send;
        fn save_notification(
            &self,
            adm: &AdministratieCode,
            notice_ids: &[i64],
            notification: Option<(StoredNotification, Vec<String>)>,
        ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
        fn unsent_notifications(
            &self,
            now: DateTime<Utc>,
            hold_until: DateTime<Utc>,
            limit: u32,
        ) -> impl Future<Output = Result<Vec<UnsentNotification>, StoreError>> + Send;
        fn mark_notification(
            &self,
            id: i64,
            at: DateTime<Utc>,
            failure: Option<SendFailure>,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn count_unsent_notifications(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
        fn notifications(
            &self,
            adm: &AdministratieCode,
            limit: u32,
        ) -> impl Future<Output = Result<Vec<NotificationRecord>, StoreError>> + Send;
    }
    impl ReadbackStore for Store {
        fn readback_state(
            &self,
            adm: &AdministratieCode,
        ) -> impl Future<Output = Result<ReadbackState, StoreError>> + Send;
        fn booked_invoices(
            &self,
            adm: &AdministratieCode,
            booking_ids: &[String],
        ) -> impl Future<Output = Result<Vec<BookedInvoice>, StoreError>> + Send;
        fn booked_ids(
            &self,
            adm: &AdministratieCode,
        ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
        fn save_readback(
            &self,
            adm: &AdministratieCode,
            state: &ReadbackState,
            updates: &[ReadbackUpdate],
            events: &[NewEvent],
            notices: &[NotificationItem],
            now: DateTime<Utc>,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn events(
            &self,
            adm: &AdministratieCode,
            after: u64,
            limit: u32,
        ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;
        fn readback_due(
            &self,
            worker: &str,
            now: DateTime<Utc>,
            not_since: DateTime<Utc>,
        ) -> impl Future<Output = Result<Vec<AdministratieCode>, StoreError>> + Send;
        fn events_to_push(
            &self,
            now: DateTime<Utc>,
            limit: u32,
        ) -> impl Future<Output = Result<Vec<(AdministratieCode, PushState, Vec<Event>)>, StoreError>> + Send;
        fn save_push(
            &self,
            adm: &AdministratieCode,
            state: &PushState,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn push_state(
            &self,
            adm: &AdministratieCode,
        ) -> impl Future<Output = Result<PushState, StoreError>> + Send;
        fn rebook(
            &self,
            adm: &AdministratieCode,
            id: &ResourceId,
            now: DateTime<Utc>,
        ) -> impl Future<Output = Result<SyncState, StoreError>> + Send;
    }
    impl ConnectStore for Store {
        fn add_connect_reference(
            &self,
            adm: &AdministratieCode,
            ref_hash: &str,
            expires_at: DateTime<Utc>,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn apply_webhook(
            &self,
            ref_hash: &str,
            action: crate::connect::ActionType,
            key: Option<ConnectionKey>,
            now: DateTime<Utc>,
        ) -> impl Future<Output = Result<crate::connect::WebhookApplied, StoreError>> + Send;
        fn set_koppeling_problem(
            &self,
            adm: &AdministratieCode,
            problem: &crate::pause::PauseReason,
            notice: &NotificationItem,
            now: DateTime<Utc>,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn link_connected(
            &self,
            adm: &AdministratieCode,
        ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    }
    impl DocumentStore for Store {
        fn put_document(
            &self,
            adm: &AdministratieCode,
            invoice_id: &ResourceId,
            kind: DocumentKind,
            filename: &str,
            content: Vec<u8>,
            now: DateTime<Utc>,
        ) -> impl Future<Output = Result<(Put, Document), StoreError>> + Send;
        fn invoice_documents(
            &self,
            adm: &AdministratieCode,
            invoice_id: &ResourceId,
        ) -> impl Future<Output = Result<Vec<Document>, StoreError>> + Send;
        fn document_content(
            &self,
            adm: &AdministratieCode,
            invoice_id: &ResourceId,
            kind: DocumentKind,
        ) -> impl Future<Output = Result<Option<(Document, Vec<u8>)>, StoreError>> + Send;
        fn delete_document(
            &self,
            adm: &AdministratieCode,
            invoice_id: &ResourceId,
            kind: DocumentKind,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn claim_documents(
            &self,
            worker: &str,
            limit: u32,
            now: DateTime<Utc>,
            lease_until: DateTime<Utc>,
        ) -> impl Future<Output = Result<Vec<DocumentJob>, StoreError>> + Send;
        fn finish_document(
            &self,
            job: &DocumentJob,
            outcome: &DocumentOutcome,
            notice: Option<NotificationItem>,
            now: DateTime<Utc>,
        ) -> impl Future<Output = Result<(), StoreError>> + Send;
        fn retry_documents(
            &self,
            adm: &AdministratieCode,
            invoice_id: &ResourceId,
        ) -> impl Future<Output = Result<u64, StoreError>> + Send;
        fn documents_missing_scope(
            &self,
            adm: &AdministratieCode,
        ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    }
}
