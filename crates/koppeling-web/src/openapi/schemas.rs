//! The document's schemas of the domain types the API shows as they are (enums, counts,
//! the sync log, notifications, drift): this crate cannot derive `ToSchema` on the
//! domain's types, so each is described here by a twin with the same serde shape. The
//! tests in [`super`] serialize the domain values and check them against these twins.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// `company` or `person`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// A company.
    Company,
    /// A person.
    Person,
}

/// A VAT class.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VatClass {
    /// 21 %.
    High,
    /// 9 %.
    Low,
    /// 0 %.
    Zero,
    /// Reverse charge (verlegd).
    ReverseCharge,
}

/// An invoice's status in Radar360.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Not final: never sent.
    Draft,
    /// Final: sent to SnelStart when its relation is ticked.
    Final,
}

/// An invoice's sync status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Waiting to be sent.
    Queued,
    /// Being sent.
    InProgress,
    /// Booked in SnelStart.
    Synced,
    /// Refused; see `error` and `hint`.
    Failed,
    /// Not sent (e.g. dated before the start date).
    Skipped,
}

/// The payment status read back from SnelStart.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing paid.
    Open,
    /// Partly paid.
    PartiallyPaid,
    /// Paid in full.
    Paid,
}

/// Whether the koppeling runs.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KoppelingState {
    /// Switched off.
    Inactive,
    /// Running.
    Active,
    /// Switched on, but SnelStart refuses the credentials.
    PausedAuth,
}

/// How the koppelsleutel arrived (product §8.1).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    /// Through SnelStart's activation link.
    SnelstartLink,
    /// Pasted by the Beheerder.
    Pasted,
}

/// Whether a koppelsleutel is stored and usable: `unusable` when no configured master key
/// decrypts it ("sleutel onbruikbaar"); a PUT with a new key replaces it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// No key.
    Missing,
    /// Stored and readable.
    Ok,
    /// Stored, but no master key decrypts it.
    Unusable,
}

/// The state of an optional part of the koppeling (`features.payments`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeatureState {
    /// Available.
    Ok,
    /// The koppelsleutel lacks the scope.
    MissingScope,
}

/// The class of a failed attempt.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// 429, 5xx, timeouts, network.
    Transient,
    /// Our validation or a SnelStart business rule.
    Data,
    /// Credentials refused.
    Auth,
}

/// Invoices per sync status, and paid and with drift (product §8.2).
#[derive(Serialize, ToSchema)]
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
    /// Paid in full.
    pub paid: u64,
    /// With drift.
    pub drift: u64,
}

/// The BTW codes: always 12, 11 and 10.
#[derive(Serialize, ToSchema)]
pub struct VatCodes {
    /// Omzet hoog.
    #[schema(minimum = 12, maximum = 12)]
    pub high: u8,
    /// Omzet laag.
    #[schema(minimum = 11, maximum = 11)]
    pub low: u8,
    /// Omzet onbelast/verlegd.
    #[schema(minimum = 10, maximum = 10)]
    pub zero: u8,
}

/// The revenue ledger per class, if set.
#[derive(Serialize, ToSchema)]
pub struct RevenueLedgers {
    /// high.
    #[schema(required = true)]
    pub high: Option<i32>,
    /// low.
    #[schema(required = true)]
    pub low: Option<i32>,
    /// zero and reverse charge.
    #[schema(required = true)]
    pub zero: Option<i32>,
}

/// A relation's address as stored (`country` is `NL` when none was given).
#[derive(Serialize, ToSchema)]
pub struct AddressView {
    /// Street.
    pub street: Option<String>,
    /// House number.
    pub house_number: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

/// changed or deleted.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// The booking differs from what was booked.
    Changed,
    /// The booking is gone from SnelStart.
    Deleted,
}

/// One difference between Radar360 and SnelStart.
#[derive(Serialize, ToSchema)]
pub struct Change {
    /// `gross`, `date`, `relation_id`, `lines[2].amount`, …
    pub field: String,
    /// What Radar360 holds.
    pub radar360: String,
    /// What SnelStart holds now.
    pub snelstart: String,
}

/// Changed or deleted in SnelStart (product §8.2).
#[derive(Serialize, ToSchema)]
pub struct Drift {
    /// changed or deleted.
    pub kind: DriftKind,
    /// Changed by the accountant (false for a deletion).
    pub by_accountant: bool,
    /// When the read-back noticed.
    pub detected_at: DateTime<Utc>,
    /// What differs (empty for a deletion).
    pub changes: Vec<Change>,
}

/// One attempt in the sync log.
#[derive(Serialize, ToSchema)]
pub struct SyncLogEntry {
    /// The invoice.
    pub invoice_id: String,
    /// Its number (absent when the invoice is gone).
    pub invoice_number: Option<String>,
    /// 1-based.
    pub attempt: u32,
    /// When.
    pub at: DateTime<Utc>,
    /// `synced`, `failed`, `skipped` or `retry`.
    pub outcome: String,
    /// The class, when it failed.
    pub error_class: Option<ErrorClass>,
    /// SnelStart's code, when SnelStart refused.
    pub snelstart_code: Option<String>,
    /// A sentence.
    pub message: String,
}

/// A notification to the Beheerder with its delivery state.
#[derive(Serialize, ToSchema)]
pub struct Notification {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The recipient; empty when no Beheerder was chosen (only stored).
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The items it reports.
    pub items: Vec<BTreeMap<String, serde_json::Value>>,
    /// When the mail was handed to the SMTP server (stored-only: when stored); null while
    /// it waits to be sent.
    #[schema(required = true)]
    pub sent_at: Option<DateTime<Utc>>,
    /// Why the last send failed; null once sent.
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// Sends tried so far.
    pub send_attempts: u32,
}

/// The activation link (product §8.1).
#[derive(Serialize, ToSchema)]
pub struct ConnectLink {
    /// SnelStart's activation URL with the reference and the success URL.
    pub activation_url: String,
    /// When the reference expires unused (24 h).
    pub reference_expires_at: DateTime<Utc>,
}

/// A difference the reconciliation found.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Final in Radar360, absent in SnelStart.
    MissingInSnelstart,
    /// In SnelStart, unknown in Radar360 (`invoice_id` null).
    UnknownInRadar360,
    /// The gross differs.
    AmountDiffers,
    /// The date differs.
    DateDiffers,
    /// The relatie differs.
    RelatieDiffers,
    /// Deleted in SnelStart.
    DeletedInSnelstart,
}

/// What ticking would do with an invoice.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Would {
    /// Send it.
    Send,
    /// Skip it.
    Skip,
    /// Fail (see `problems`).
    Fail,
    /// Wait for the start date.
    WaitStartDate,
    /// Nothing: SnelStart has it already.
    AlreadyInSnelstart,
}

/// The kind of an event for Radar360.
#[derive(Serialize, ToSchema)]
pub enum EventKind {
    /// Booked.
    #[serde(rename = "invoice.synced")]
    Synced,
    /// Refused.
    #[serde(rename = "invoice.failed")]
    Failed,
    /// Not sent.
    #[serde(rename = "invoice.skipped")]
    Skipped,
    /// Paid in full.
    #[serde(rename = "invoice.paid")]
    Paid,
    /// Any other change of the outstanding amount.
    #[serde(rename = "invoice.payment_changed")]
    PaymentChanged,
    /// Changed or deleted in SnelStart.
    #[serde(rename = "invoice.drift")]
    Drift,
}

/// A query parameter whose value is one of a list, or empty for "none" (the handlers read
/// `?status=` like no `status` at all). utoipa drops a serde rename to the empty string, so
/// these are written out.
macro_rules! query_enum {
    ($(#[$doc:meta])* $name:ident: $($value:literal),+) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($value),+]))
                    .into()
            }
        }

        impl ToSchema for $name {}
    };
}

query_enum!(
    /// `?format=`: `json` (also when empty) or `csv`.
    ReconciliationFormat: "", "json", "csv"
);
query_enum!(
    /// `?status=` of the invoice list: a sync status, or empty for none.
    SyncStatusFilter: "", "queued", "in_progress", "synced", "failed", "skipped"
);
query_enum!(
    /// `?payment=`: a payment status, or empty for none.
    PaymentFilter: "", "open", "partially_paid", "paid"
);
query_enum!(
    /// `?drift=`: `true`, or `false` / empty for no filter.
    BoolFilter: "", "true", "false"
);
query_enum!(
    /// `?status=` of the sync log: `failed`, or empty for none.
    FailedFilter: "", "failed"
);

/// The action of SnelStart's webhook.
#[derive(Serialize, ToSchema)]
pub enum WebhookAction {
    /// A new koppelsleutel.
    Create,
    /// A replacement.
    Regenerate,
    /// Withdrawn.
    Delete,
}
