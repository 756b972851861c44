//! Responses: domain → JSON (amounts as strings with two decimals).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use koppeling_domain::invoice::{Invoice, InvoiceStatus};
use koppeling_domain::koppeling::{KoppelingState, RevenueLedgers, VatCodes};
use koppeling_domain::money::{VatClass, format_cents};
use koppeling_domain::ports::{Admin, Administratie, StatusCounts, SyncState, SyncStatus};
use koppeling_domain::relation::{Address, Relation, RelationKind};
use koppeling_domain::sync::KoppelingOverview;
use rust_decimal::Decimal;
use serde::Serialize;

// Responses

/// An amount with exactly two decimals, e.g. `"121.00"`.
#[must_use]
pub fn money(value: Decimal) -> String {
    format_cents(value)
}

/// A quantity or unit price exactly as held, with at least two decimals (`"1.00"`,
/// `"0.1234"`).
#[must_use]
pub fn exact(value: Decimal) -> String {
    let mut v = value.normalize();
    if v.scale() < 2 {
        v.rescale(2);
    }
    v.to_string()
}

/// An administratie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Administratie)]
pub struct AdministratieResponse {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

impl From<&Administratie> for AdministratieResponse {
    fn from(a: &Administratie) -> Self {
        Self {
            code: a.code.to_string(),
            name: a.name.clone(),
        }
    }
}

/// A Beheerder (the password is never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Admin)]
pub struct AdminResponse {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
}

impl From<&Admin> for AdminResponse {
    fn from(a: &Admin) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
            email: a.email.clone(),
        }
    }
}

/// A relation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Relation)]
pub struct RelationResponse {
    /// Id.
    pub id: String,
    /// Radar360 code.
    pub code: String,
    /// `company` or `person`.
    #[schema(value_type = crate::openapi::schemas::RelationKind)]
    pub kind: RelationKind,
    /// Name.
    pub name: String,
    /// Address.
    #[schema(value_type = Option<crate::openapi::schemas::AddressView>)]
    pub address: Option<Address>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// VAT number.
    pub vat_number: Option<String>,
    /// KvK number.
    pub coc_number: Option<String>,
    /// IBAN.
    pub iban: Option<String>,
    /// Whether SnelStart is ticked.
    pub snelstart_enabled: bool,
}

impl From<&Relation> for RelationResponse {
    fn from(r: &Relation) -> Self {
        Self {
            id: r.id.to_string(),
            code: r.code.clone(),
            kind: r.kind,
            name: r.name.clone(),
            address: r.address.clone(),
            email: r.email.clone(),
            phone: r.phone.clone(),
            vat_number: r.vat_number.clone(),
            coc_number: r.coc_number.clone(),
            iban: r.iban.clone(),
            snelstart_enabled: r.snelstart_enabled,
        }
    }
}

/// One invoice line as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InvoiceLine)]
pub struct LineResponse {
    /// Description.
    pub description: String,
    /// Quantity.
    pub quantity: String,
    /// Unit price excluding VAT.
    pub unit_price: String,
    /// VAT class.
    #[schema(value_type = crate::openapi::schemas::VatClass)]
    pub vat: VatClass,
    /// quantity × unit price, rounded to cents.
    pub amount: String,
}

/// Base and VAT of one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = ClassTotal)]
pub struct ClassTotalResponse {
    /// Σ line amounts.
    pub base: String,
    /// VAT.
    pub vat: String,
}

/// The totals of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Totals)]
pub struct TotalsResponse {
    /// Excluding VAT.
    pub net: String,
    /// VAT.
    pub vat: String,
    /// Including VAT.
    pub gross: String,
    /// Per class present (`high`, `low`, `zero`, `reverse_charge`).
    pub by_class: BTreeMap<String, ClassTotalResponse>,
}

/// The sync state of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Sync)]
pub struct SyncResponse {
    /// queued, in_progress, synced, failed or skipped.
    #[schema(value_type = crate::openapi::schemas::SyncStatus)]
    pub status: SyncStatus,
    /// The verkoopboeking id once synced.
    pub snelstart_id: Option<String>,
    /// The reason for failed and skipped.
    pub error: Option<String>,
    /// What to do.
    pub hint: Option<String>,
    /// Attempts so far.
    pub attempts: u32,
    /// When a back-off ends.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&SyncState> for SyncResponse {
    fn from(s: &SyncState) -> Self {
        Self {
            status: s.status,
            snelstart_id: s.snelstart_id.clone(),
            error: s.error.clone(),
            hint: s.hint.clone(),
            attempts: s.attempts,
            next_attempt_at: s.next_attempt_at,
            updated_at: s.updated_at,
        }
    }
}

/// An invoice with its totals and sync state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Invoice)]
pub struct InvoiceResponse {
    /// Id.
    pub id: String,
    /// Invoice number.
    pub number: String,
    /// The relation.
    pub relation_id: String,
    /// Date.
    pub date: NaiveDate,
    /// Payment term in days.
    pub payment_term_days: i64,
    /// `draft` or `final`.
    #[schema(value_type = crate::openapi::schemas::InvoiceStatus)]
    pub status: InvoiceStatus,
    /// Description.
    pub description: Option<String>,
    /// Lines.
    pub lines: Vec<LineResponse>,
    /// Totals.
    pub totals: TotalsResponse,
    /// The sync state; null while the invoice is not queued.
    pub sync: Option<SyncResponse>,
    /// The payment as read back from SnelStart; null until the read-back has seen it.
    pub payment: Option<PaymentResponse>,
    /// Changed or deleted in SnelStart; null when SnelStart holds what was booked.
    #[schema(value_type = Option<crate::openapi::schemas::Drift>)]
    pub drift: Option<koppeling_domain::readback::Drift>,
}

/// The overview's `events` (product §8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = EventsHealth)]
pub struct EventsHealth {
    /// Since when pushing fails.
    pub failing_since: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// `payment` of an invoice (product §8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Payment)]
pub struct PaymentResponse {
    /// `open`, `partially_paid` or `paid`.
    #[schema(value_type = crate::openapi::schemas::PaymentStatus)]
    pub status: koppeling_domain::readback::PaymentStatus,
    /// What is still to be paid, two decimals.
    pub outstanding: String,
    /// The day of the latest settling bank or cash booking (`YYYY-MM-DD`), if any.
    pub paid_at: Option<NaiveDate>,
    /// When the read-back saw it.
    pub checked_at: DateTime<Utc>,
}

impl InvoiceResponse {
    /// Builds the answer from the stored invoice and its sync state.
    #[must_use]
    pub fn new(invoice: &Invoice, sync: Option<&SyncState>) -> Self {
        let totals = invoice.totals();
        Self {
            id: invoice.id.to_string(),
            number: invoice.number.clone(),
            relation_id: invoice.relation_id.to_string(),
            date: invoice.date,
            payment_term_days: invoice.payment_term_days,
            status: invoice.status,
            description: invoice.description.clone(),
            lines: invoice
                .lines
                .iter()
                .map(|l| LineResponse {
                    description: l.description.clone(),
                    quantity: exact(l.quantity),
                    unit_price: exact(l.unit_price),
                    vat: l.vat,
                    amount: money(l.amount()),
                })
                .collect(),
            totals: TotalsResponse {
                net: money(totals.net),
                vat: money(totals.vat),
                gross: money(totals.gross),
                by_class: totals
                    .by_class
                    .iter()
                    .map(|(class, t)| {
                        (
                            class.as_str().to_owned(),
                            ClassTotalResponse {
                                base: money(t.base),
                                vat: money(t.vat),
                            },
                        )
                    })
                    .collect(),
            },
            sync: sync.map(SyncResponse::from),
            payment: sync
                .and_then(|s| s.payment.as_ref())
                .map(|p| PaymentResponse {
                    status: p.status,
                    outstanding: money(p.outstanding),
                    paid_at: p.paid_at,
                    checked_at: p.checked_at,
                }),
            drift: sync.and_then(|s| s.drift.clone()),
        }
    }
}

/// The koppeling: the overview entry plus its settings (never the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Integration)]
pub struct IntegrationResponse {
    /// Always `snelstart`.
    pub name: String,
    /// The Beheerder's switch.
    pub active: bool,
    /// inactive, active or paused_auth.
    #[schema(value_type = crate::openapi::schemas::KoppelingState)]
    pub state: KoppelingState,
    /// Why it is paused.
    pub problem: Option<String>,
    /// When an invoice was last synced.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Invoices per sync status, and paid and with drift (product §8.2).
    #[schema(value_type = crate::openapi::schemas::StatusCounts)]
    pub counts: StatusCounts,
    /// The optional parts, e.g. `{"payments":"missing_scope"}` (product §8).
    #[schema(value_type = BTreeMap<String, crate::openapi::schemas::FeatureState>)]
    pub features: std::collections::BTreeMap<String, String>,
    /// The push to `events.url`: `{"failing_since","last_error"}`, nulls when healthy.
    pub events: EventsHealth,
    /// Whether settings were saved.
    pub configured: bool,
    /// Whether a koppelsleutel is stored.
    pub key_set: bool,
    /// How the key arrived: `snelstart_link`, `pasted`, or null without a key (§8.1).
    #[schema(value_type = Option<crate::openapi::schemas::ConnectionKind>)]
    pub connection: Option<koppeling_domain::connect::ConnectionKind>,
    /// `missing`, `ok`, or `unusable` (stored, but no configured master key decrypts it).
    #[schema(value_type = crate::openapi::schemas::KeyStatus)]
    pub key_status: &'static str,
    /// BTW codes.
    #[schema(value_type = crate::openapi::schemas::VatCodes)]
    pub vat_codes: VatCodes,
    /// Verkoopboek code.
    pub sales_journal_code: i32,
    /// The Beheerder who is notified.
    pub notify_admin_id: Option<String>,
    /// Invoices before this date are never sent.
    pub start_date: Option<NaiveDate>,
    /// Revenue ledger per class.
    #[schema(value_type = crate::openapi::schemas::RevenueLedgers)]
    pub revenue_ledgers: RevenueLedgers,
}

impl From<KoppelingOverview> for IntegrationResponse {
    fn from(o: KoppelingOverview) -> Self {
        let configured = o.settings.is_some();
        let settings = o.settings.unwrap_or_default();
        Self {
            name: o.name,
            active: o.active,
            state: o.state,
            problem: o
                .problem
                .as_ref()
                .map(koppeling_domain::pause::PauseReason::english),
            last_sync_at: o.last_sync_at,
            counts: o.counts,
            features: o.features,
            events: EventsHealth {
                failing_since: o.events_failing_since,
                last_error: o.events_last_error,
            },
            configured,
            key_set: o.key_set,
            connection: o.connection,
            key_status: if o.key_unusable {
                "unusable"
            } else if o.key_set {
                "ok"
            } else {
                "missing"
            },
            vat_codes: settings.vat_codes,
            sales_journal_code: settings.sales_journal_code,
            notify_admin_id: settings.notify_admin_id.map(String::from),
            start_date: settings.start_date,
            revenue_ledgers: settings.revenue_ledgers,
        }
    }
}
