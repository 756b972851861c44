//! The read-back rules (product §8.2): what SnelStart's verkoopfacturen and bank and cash
//! bookings say about the invoices we booked. Pure functions; the pass that calls them runs in
//! the service.
//!
//! * **Payment** — `outstanding` is the verkoopfactuur's `openstaandSaldo`: `paid` at 0.00,
//!   `open` when it equals `factuurBedrag`, `partially_paid` otherwise (credit notes alike).
//!   `paid_at` is the `datum` of the latest bank or cash booking that settles the booking, never
//!   the day we noticed.
//! * **Drift** — a verkoopfactuur whose amount, date or relatie differs from what we booked, or
//!   that changed while its outstanding amount did not, is compared in full with its
//!   verkoopboeking; a booking that is gone is `deleted` (and is never booked again by itself).
//! * **Cursor** — `ModifiedOn ge <cursor>`: the last timestamp is read again, so changes that
//!   share it are not missed, and the ids already seen at it are skipped. A pass pages one
//!   fixed query (`$skip` 0, 500, …); a row that changes meanwhile moves to the end and is
//!   read there. (Skipping the rows seen at the cursor with `$skip` would be wrong: one of
//!   them may have moved on, and another row would be skipped in its place.)
//! * **Budget** — the read-back spends at most a share of the administratie's hourly calls.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::booking::{SalesBooking, VatRowKind};

/// A verkoopfactuur as the read-back sees it (one per verkoopboeking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteInvoice {
    /// The verkoopboeking's id: an invoice's `snelstart_id`.
    pub booking_id: String,
    /// `modifiedOn`.
    pub modified_on: NaiveDateTime,
    /// `openstaandSaldo`.
    pub outstanding: Decimal,
    /// `factuurBedrag`.
    pub gross: Decimal,
    /// `factuurDatum`.
    pub date: Option<NaiveDate>,
    /// `relatie.id`.
    pub relatie_id: Option<String>,
}

/// A bank or cash booking that settles verkoopboekingen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotePayment {
    /// `modifiedOn`.
    pub modified_on: NaiveDateTime,
    /// `datum`: the day the money came in (or went out).
    pub date: NaiveDate,
    /// The verkoopboekingen it settles (`verkoopboekingBoekingsRegels[].boekingId.id`).
    pub settles: Vec<String>,
}

/// A verkoopboeking read in full, for the comparison with what we booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteBookingDetail {
    /// `factuurbedrag`.
    pub gross: Decimal,
    /// `factuurdatum`.
    pub date: Option<NaiveDate>,
    /// `klant.id`.
    pub klant_id: Option<String>,
    /// `boekingsregels[].bedrag`, in order.
    pub lines: Vec<Decimal>,
    /// `btw[]`: the soort's kind (when it is one we book) and `btwBedrag`.
    pub vat: Vec<(Option<VatRowKind>, Decimal)>,
    /// `gewijzigdDoorAccountant`.
    pub by_accountant: bool,
}

/// The payment state of a booked invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing paid.
    Open,
    /// Part paid.
    PartiallyPaid,
    /// Outstanding 0.00.
    Paid,
}

impl PaymentStatus {
    /// The API's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Open => "open",
            PaymentStatus::PartiallyPaid => "partially_paid",
            PaymentStatus::Paid => "paid",
        }
    }
}

/// What the read-back last saw of an invoice's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// open, partially_paid or paid.
    pub status: PaymentStatus,
    /// `openstaandSaldo`.
    pub outstanding: Decimal,
    /// The day of the latest settling bank or cash booking, if any.
    pub paid_at: Option<NaiveDate>,
    /// When the read-back saw it.
    pub checked_at: DateTime<Utc>,
}

/// `paid` at 0.00, `open` when nothing of `gross` is paid, `partially_paid` otherwise.
#[must_use]
pub fn payment_status(outstanding: Decimal, gross: Decimal) -> PaymentStatus {
    if outstanding.is_zero() {
        PaymentStatus::Paid
    } else if outstanding == gross {
        PaymentStatus::Open
    } else {
        PaymentStatus::PartiallyPaid
    }
}

/// The event a new outstanding amount gives (product §8.2, events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentEvent {
    /// `invoice.paid`: outstanding became 0.00.
    Paid,
    /// `invoice.payment_changed`: any other change (a partial payment, a refund).
    Changed,
}

/// Whether seeing `outstanding` (of `gross`) after `before` is an event. The first sighting
/// of an open invoice is none; a first sighting already (partly) paid is one.
#[must_use]
pub fn payment_event(
    before: Option<&Payment>,
    outstanding: Decimal,
    gross: Decimal,
) -> Option<PaymentEvent> {
    let changed = match before {
        None => outstanding != gross,
        Some(b) => b.outstanding != outstanding,
    };
    if !changed {
        None
    } else if outstanding.is_zero() {
        Some(PaymentEvent::Paid)
    } else {
        Some(PaymentEvent::Changed)
    }
}

/// The day of the latest payment settling `booking_id`, if any (a memoriaal booking or a
/// credit note settles without one).
#[must_use]
pub fn paid_at(payments: &[RemotePayment], booking_id: &str) -> Option<NaiveDate> {
    payments
        .iter()
        .filter(|p| p.settles.iter().any(|b| b == booking_id))
        .map(|p| p.date)
        .max()
}

/// What we booked for an invoice, in the terms SnelStart shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    /// The booking we sent (amounts, date, lines, VAT).
    pub booking: SalesBooking,
    /// The Radar360 relation id (the API's `relation_id`).
    pub relation_id: String,
    /// The SnelStart relatie the invoice was booked on.
    pub klant_id: Option<String>,
}

/// One difference between Radar360 and SnelStart, in the API's own field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// `gross`, `date`, `relation_id`, `lines[2].amount`, `vat.high`, …
    pub field: String,
    /// What Radar360 holds (and we booked).
    pub radar360: String,
    /// What SnelStart holds now.
    pub snelstart: String,
}

impl Change {
    fn new(field: impl Into<String>, radar360: impl ToString, snelstart: impl ToString) -> Self {
        Self {
            field: field.into(),
            radar360: radar360.to_string(),
            snelstart: snelstart.to_string(),
        }
    }
}

/// Drift of a booked invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// The booking differs from what we booked.
    Changed,
    /// The booking is gone from SnelStart.
    Deleted,
}

/// Drift as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// changed or deleted.
    pub kind: DriftKind,
    /// `gewijzigdDoorAccountant` (false for a deletion: SnelStart does not say who).
    pub by_accountant: bool,
    /// When the read-back noticed.
    pub detected_at: DateTime<Utc>,
    /// What differs (empty for a deletion).
    pub changes: Vec<Change>,
}

fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// The differences visible on the verkoopfactuur itself: amount, date, relatie.
#[must_use]
pub fn header_changes(booked: &Booked, remote: &RemoteInvoice) -> Vec<Change> {
    let mut changes = Vec::new();
    if remote.gross != booked.booking.total {
        changes.push(Change::new(
            "gross",
            money(booked.booking.total),
            money(remote.gross),
        ));
    }
    if let Some(date) = remote.date
        && date != booked.booking.date
    {
        changes.push(Change::new("date", booked.booking.date, date));
    }
    if let (Some(ours), Some(theirs)) = (&booked.klant_id, &remote.relatie_id)
        && !ours.eq_ignore_ascii_case(theirs)
    {
        changes.push(Change::new("relation_id", &booked.relation_id, theirs));
    }
    changes
}

/// Whether a changed verkoopfactuur must be compared in full: its header differs, or it
/// changed while its outstanding amount did not (so it was not a payment).
#[must_use]
pub fn needs_full_compare(
    booked: &Booked,
    remote: &RemoteInvoice,
    before: Option<&Payment>,
) -> bool {
    !header_changes(booked, remote).is_empty()
        || before.is_some_and(|b| b.outstanding == remote.outstanding)
}

/// Every difference between what we booked and the verkoopboeking as SnelStart holds it.
#[must_use]
pub fn full_changes(booked: &Booked, remote: &RemoteBookingDetail) -> Vec<Change> {
    let ours = &booked.booking;
    let mut changes = Vec::new();
    if remote.gross != ours.total {
        changes.push(Change::new("gross", money(ours.total), money(remote.gross)));
    }
    if let Some(date) = remote.date
        && date != ours.date
    {
        changes.push(Change::new("date", ours.date, date));
    }
    if let (Some(k), Some(theirs)) = (&booked.klant_id, &remote.klant_id)
        && !k.eq_ignore_ascii_case(theirs)
    {
        changes.push(Change::new("relation_id", &booked.relation_id, theirs));
    }
    let n = ours.lines.len().max(remote.lines.len());
    for i in 0..n {
        let a = ours.lines.get(i).map(|l| l.amount);
        let b = remote.lines.get(i).copied();
        if a != b {
            changes.push(Change::new(
                format!("lines[{i}].amount"),
                a.map_or_else(|| "—".to_owned(), money),
                b.map_or_else(|| "—".to_owned(), money),
            ));
        }
    }
    for (kind, name) in [
        (VatRowKind::High, "vat.high"),
        (VatRowKind::Low, "vat.low"),
        (VatRowKind::ReverseCharge, "vat.reverse_charge"),
    ] {
        let a: Decimal = ours
            .vat_rows
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.amount)
            .sum();
        let b: Decimal = remote
            .vat
            .iter()
            .filter(|(k, _)| *k == Some(kind))
            .map(|(_, amount)| *amount)
            .sum();
        if a != b {
            changes.push(Change::new(name, money(a), money(b)));
        }
    }
    let other: Decimal = remote
        .vat
        .iter()
        .filter(|(k, _)| k.is_none())
        .map(|(_, a)| *a)
        .sum();
    if !other.is_zero() {
        changes.push(Change::new("vat.other", money(Decimal::ZERO), money(other)));
    }
    changes
}

/// The read-back's position in `/verkoopfacturen` (or a payment list), ordered by `modifiedOn`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The latest `modifiedOn` seen; the next read asks `ModifiedOn ge` it.
    pub at: Option<NaiveDateTime>,
    /// The ids already seen with `modifiedOn == at`, skipped when read again.
    pub seen: BTreeSet<String>,
}

impl Cursor {
    /// Takes a page read with `ModifiedOn ge self.at` (in any order): returns the rows not
    /// seen before, in `modifiedOn` order, and moves the cursor past them. Rows older than the
    /// cursor (a server that ignored the filter) are dropped.
    pub fn take<T>(
        &mut self,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> (NaiveDateTime, String),
    ) -> Vec<T> {
        rows.sort_by_key(|r| key(r).0);
        let mut fresh = Vec::with_capacity(rows.len());
        for row in rows {
            let (at, id) = key(&row);
            match self.at {
                Some(cursor) if at < cursor => continue,
                Some(cursor) if at == cursor => {
                    if !self.seen.insert(id) {
                        continue;
                    }
                }
                _ => {
                    self.at = Some(at);
                    self.seen.clear();
                    self.seen.insert(id);
                }
            }
            fresh.push(row);
        }
        fresh
    }
}

/// How many calls an hour the read-back may spend: `share` of the hourly budget, rounded
/// down, at least 1 when the share is positive (so a tiny budget still reads back, slowly).
#[must_use]
pub fn hourly_allowance(calls_per_hour: u32, share: Decimal) -> u32 {
    if share <= Decimal::ZERO {
        return 0;
    }
    let allowed = (Decimal::from(calls_per_hour) * share.min(Decimal::ONE)).floor();
    u32::try_from(allowed.mantissa() / 10_i128.pow(allowed.scale()))
        .unwrap_or(calls_per_hour)
        .max(1)
}

/// Whether the once-per-`hours` full scan (which finds deletions) is due.
#[must_use]
pub fn full_scan_due(last: Option<DateTime<Utc>>, now: DateTime<Utc>, hours: Decimal) -> bool {
    let Some(last) = last else {
        return true;
    };
    let seconds = (hours * Decimal::from(3600)).floor();
    let seconds =
        i64::try_from(seconds.mantissa() / 10_i128.pow(seconds.scale())).unwrap_or(i64::MAX);
    now.signed_duration_since(last).num_seconds() >= seconds
}

/// An event for Radar360 (product §8.2, events): what changed for an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// `invoice.synced`.
    #[serde(rename = "invoice.synced")]
    Synced,
    /// `invoice.failed`.
    #[serde(rename = "invoice.failed")]
    Failed,
    /// `invoice.skipped`.
    #[serde(rename = "invoice.skipped")]
    Skipped,
    /// `invoice.paid`: outstanding became 0.00.
    #[serde(rename = "invoice.paid")]
    Paid,
    /// `invoice.payment_changed`: any other change of the outstanding amount.
    #[serde(rename = "invoice.payment_changed")]
    PaymentChanged,
    /// `invoice.drift`: changed or deleted in SnelStart.
    #[serde(rename = "invoice.drift")]
    Drift,
}

impl EventType {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Synced => "invoice.synced",
            EventType::Failed => "invoice.failed",
            EventType::Skipped => "invoice.skipped",
            EventType::Paid => "invoice.paid",
            EventType::PaymentChanged => "invoice.payment_changed",
            EventType::Drift => "invoice.drift",
        }
    }

    /// The type named `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [
            EventType::Synced,
            EventType::Failed,
            EventType::Skipped,
            EventType::Paid,
            EventType::PaymentChanged,
            EventType::Drift,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
    }
}

/// An event to record (its id is given by the store, gapless per administratie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// What happened.
    pub kind: EventType,
    /// The invoice.
    pub invoice_id: crate::ids::ResourceId,
    /// The event's `data`, as JSON text.
    pub data: String,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Gapless and increasing per administratie, in commit order.
    pub id: u64,
    /// What happened.
    pub kind: EventType,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The invoice.
    pub invoice_id: String,
    /// The `data` object, as JSON text.
    pub data: String,
}

/// Where the read-back of an administratie stands (stored, so that a restart or another
/// process continues where it stopped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadbackState {
    /// The position in `/verkoopfacturen`.
    pub cursor: Cursor,
    /// The bank and cash bookings are read from here (`ModifiedOn ge`).
    pub payments_since: Option<NaiveDateTime>,
    /// Set when the key lacks a payment scope (the payment part is off; booking is not).
    pub payments_missing_scope: Option<String>,
    /// The last full scan (which finds deletions).
    pub last_full_scan_at: Option<DateTime<Utc>>,
    /// The last pass.
    pub last_run_at: Option<DateTime<Utc>>,
    /// The start of the hour the read-back's calls are counted in.
    pub hour_start: Option<DateTime<Utc>>,
    /// Calls spent in that hour.
    pub hour_calls: u32,
}

/// A booked invoice as the read-back needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct BookedInvoice {
    /// The invoice.
    pub invoice: crate::invoice::Invoice,
    /// The verkoopboeking's id.
    pub snelstart_id: String,
    /// The SnelStart relatie of its relation, when linked.
    pub klant_id: Option<String>,
    /// What the read-back saw last.
    pub payment: Option<Payment>,
    /// Drift seen last.
    pub drift: Option<Drift>,
}

/// What a pass learned about one invoice, stored with its events in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadbackUpdate {
    /// The invoice.
    pub invoice_id: crate::ids::ResourceId,
    /// The new payment state, when seen.
    pub payment: Option<Payment>,
    /// The new drift, when it changed (`Some(None)` clears it).
    pub drift: Option<Option<Drift>>,
}

/// Where the push of an administratie's events to `events.url` stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushState {
    /// The last event delivered (or given up).
    pub pushed_up_to: u64,
    /// Since when deliveries fail (null when healthy).
    pub failing_since: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
    /// Not before this time again.
    pub next_at: Option<DateTime<Utc>>,
    /// Since when the event after `pushed_up_to` fails (it is given up after 24 hours).
    pub event_failing_since: Option<DateTime<Utc>>,
}

/// How long one event is retried before it is given up (product §8.2).
pub const PUSH_RETRY_FOR: chrono::Duration = chrono::Duration::hours(24);

/// The wait before the next try after a failed delivery that has failed since
/// `failing_since`: 1 s doubling with the time it has failed, at most 5 minutes.
#[must_use]
pub fn push_backoff(failing_since: DateTime<Utc>, now: DateTime<Utc>) -> chrono::Duration {
    let failed_for = now
        .signed_duration_since(failing_since)
        .num_seconds()
        .max(0);
    let wait = (failed_for / 2).clamp(1, 300);
    chrono::Duration::seconds(wait)
}

/// The state after delivering `event_id` at `now` (`Ok`) or failing with `error`.
#[must_use]
pub fn after_push(
    state: &PushState,
    event_id: u64,
    result: Result<(), String>,
    now: DateTime<Utc>,
) -> PushState {
    match result {
        Ok(()) => PushState {
            pushed_up_to: event_id,
            ..PushState::default()
        },
        Err(error) => {
            let failing_since = state.failing_since.unwrap_or(now);
            let event_failing_since = state.event_failing_since.unwrap_or(now);
            if now.signed_duration_since(event_failing_since) >= PUSH_RETRY_FOR {
                // Given up after 24 hours: the next event goes next; the feed still has it.
                PushState {
                    pushed_up_to: event_id,
                    failing_since: Some(failing_since),
                    last_error: Some(error),
                    next_at: Some(now + push_backoff(failing_since, now)),
                    event_failing_since: None,
                }
            } else {
                PushState {
                    pushed_up_to: state.pushed_up_to,
                    failing_since: Some(failing_since),
                    last_error: Some(error),
                    next_at: Some(now + push_backoff(failing_since, now)),
                    event_failing_since: Some(event_failing_since),
                }
            }
        }
    }
}

/// HMAC-SHA256 is computed by the adapter; the domain names the header it goes in.
pub const SIGNATURE_HEADER: &str = "X-Koppeling-Signature";
/// The header carrying the event id.
pub const EVENT_ID_HEADER: &str = "X-Koppeling-Event-Id";

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::booking::{BookingLine, RevenueLedger, VatRow};
    use crate::money::VatClass;
    use crate::relation::RelatieCode;

    fn booked() -> Booked {
        let ledger = RevenueLedger {
            function: 12,
            number: None,
        };
        Booked {
            booking: SalesBooking {
                invoice_number: "2026-1".into(),
                date: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
                relatie_code: RelatieCode::parse("1001").unwrap(),
                description: "Factuur".into(),
                total: dec!(121.00),
                payment_term_days: 14,
                lines: vec![BookingLine {
                    description: "Advies".into(),
                    amount: dec!(100.00),
                    class: VatClass::High,
                    ledger,
                }],
                vat_rows: vec![VatRow {
                    kind: VatRowKind::High,
                    amount: dec!(21.00),
                }],
            },
            relation_id: "r1".into(),
            klant_id: Some("k-1".into()),
        }
    }

    fn remote(outstanding: Decimal) -> RemoteInvoice {
        RemoteInvoice {
            booking_id: "b-1".into(),
            modified_on: NaiveDate::from_ymd_opt(2026, 11, 3)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap(),
            outstanding,
            gross: dec!(121.00),
            date: NaiveDate::from_ymd_opt(2026, 11, 2),
            relatie_id: Some("K-1".into()),
        }
    }

    #[test]
    fn payment_status_from_the_outstanding_amount() {
        for (outstanding, gross, want) in [
            (dec!(121.00), dec!(121.00), PaymentStatus::Open),
            (dec!(21.00), dec!(121.00), PaymentStatus::PartiallyPaid),
            (dec!(0.00), dec!(121.00), PaymentStatus::Paid),
            (dec!(-50.00), dec!(-50.00), PaymentStatus::Open),
            (dec!(-20.00), dec!(-50.00), PaymentStatus::PartiallyPaid),
            (dec!(0), dec!(-50.00), PaymentStatus::Paid),
            (dec!(130.00), dec!(121.00), PaymentStatus::PartiallyPaid),
        ] {
            assert_eq!(
                payment_status(outstanding, gross),
                want,
                "{outstanding} of {gross}"
            );
        }
    }

    #[test]
    fn payment_events_only_on_change_and_not_for_a_first_open_sighting() {
        let at = Utc::now();
        let seen = |outstanding| Payment {
            status: payment_status(outstanding, dec!(121.00)),
            outstanding,
            paid_at: None,
            checked_at: at,
        };
        assert_eq!(payment_event(None, dec!(121.00), dec!(121.00)), None);
        assert_eq!(
            payment_event(None, dec!(0.00), dec!(121.00)),
            Some(PaymentEvent::Paid)
        );
        assert_eq!(
            payment_event(None, dec!(21.00), dec!(121.00)),
            Some(PaymentEvent::Changed)
        );
        let open = seen(dec!(121.00));
        assert_eq!(payment_event(Some(&open), dec!(121.00), dec!(121.00)), None);
        assert_eq!(
            payment_event(Some(&open), dec!(0), dec!(121.00)),
            Some(PaymentEvent::Paid)
        );
        let paid = seen(dec!(0));
        assert_eq!(
            payment_event(Some(&paid), dec!(121.00), dec!(121.00)),
            Some(PaymentEvent::Changed),
            "a refund"
        );
    }

    #[test]
    fn paid_at_is_the_latest_settling_payment() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let p = |d, settles: &[&str]| RemotePayment {
            modified_on: day(28).and_hms_opt(0, 0, 0).unwrap(),
            date: day(d),
            settles: settles.iter().map(|s| (*s).to_owned()).collect(),
        };
        let payments = [p(5, &["b-1"]), p(12, &["b-2", "b-1"]), p(20, &["b-3"])];
        assert_eq!(paid_at(&payments, "b-1"), Some(day(12)));
        assert_eq!(paid_at(&payments, "b-9"), None);
    }

    #[test]
    fn header_changes_name_the_field_in_the_api_s_terms() {
        let b = booked();
        assert!(
            header_changes(&b, &remote(dec!(121.00))).is_empty(),
            "ids compare without case"
        );
        let mut r = remote(dec!(121.00));
        r.gross = dec!(242);
        r.date = NaiveDate::from_ymd_opt(2026, 11, 3);
        r.relatie_id = Some("k-2".into());
        let changes = header_changes(&b, &r);
        assert_eq!(
            changes,
            vec![
                Change::new("gross", "121.00", "242.00"),
                Change::new("date", "2026-11-02", "2026-11-03"),
                Change::new("relation_id", "r1", "k-2"),
            ]
        );
        // A payment is no drift; a change with the same outstanding amount needs a look.
        let before = Payment {
            status: PaymentStatus::Open,
            outstanding: dec!(121.00),
            paid_at: None,
            checked_at: Utc::now(),
        };
        assert!(!needs_full_compare(&b, &remote(dec!(21.00)), Some(&before)));
        assert!(needs_full_compare(&b, &remote(dec!(121.00)), Some(&before)));
        assert!(!needs_full_compare(&b, &remote(dec!(121.00)), None));
    }

    #[test]
    fn full_changes_compare_lines_and_vat() {
        let b = booked();
        let same = RemoteBookingDetail {
            gross: dec!(121.00),
            date: NaiveDate::from_ymd_opt(2026, 11, 2),
            klant_id: Some("k-1".into()),
            lines: vec![dec!(100.00)],
            vat: vec![(Some(VatRowKind::High), dec!(21.00))],
            by_accountant: true,
        };
        assert!(full_changes(&b, &same).is_empty());
        let edited = RemoteBookingDetail {
            gross: dec!(130.00),
            lines: vec![dec!(90.00), dec!(20.00)],
            vat: vec![(Some(VatRowKind::High), dec!(18.90)), (None, dec!(1.10))],
            ..same
        };
        let fields: Vec<String> = full_changes(&b, &edited)
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(
            fields,
            [
                "gross",
                "lines[0].amount",
                "lines[1].amount",
                "vat.high",
                "vat.other"
            ]
        );
    }

    #[test]
    fn a_failing_push_backs_off_and_gives_an_event_up_after_a_day() {
        let t0 = Utc::now();
        let s = after_push(&PushState::default(), 1, Err("503".into()), t0);
        assert_eq!(s.pushed_up_to, 0);
        assert_eq!(s.failing_since, Some(t0));
        assert_eq!(s.next_at, Some(t0 + chrono::Duration::seconds(1)));
        let later = t0 + chrono::Duration::hours(1);
        let s = after_push(&s, 1, Err("503".into()), later);
        assert_eq!(
            s.next_at,
            Some(later + chrono::Duration::seconds(300)),
            "capped at 5 min"
        );
        assert_eq!(s.pushed_up_to, 0, "still the same event");
        let day = t0 + chrono::Duration::hours(24);
        let s = after_push(&s, 1, Err("503".into()), day);
        assert_eq!(s.pushed_up_to, 1, "given up after 24 hours");
        assert_eq!(
            s.failing_since,
            Some(t0),
            "the endpoint still counts as failing"
        );
        let s = after_push(&s, 2, Ok(()), day);
        assert_eq!(
            s,
            PushState {
                pushed_up_to: 2,
                ..PushState::default()
            },
            "healthy again"
        );
    }

    #[test]
    fn allowance_and_full_scan() {
        assert_eq!(hourly_allowance(5000, dec!(0.1)), 500);
        assert_eq!(hourly_allowance(5, dec!(0.1)), 1);
        assert_eq!(hourly_allowance(5000, dec!(0)), 0);
        assert_eq!(hourly_allowance(100, dec!(2)), 100);
        let now = Utc::now();
        assert!(full_scan_due(None, now, dec!(24)));
        assert!(!full_scan_due(
            Some(now - chrono::Duration::hours(23)),
            now,
            dec!(24)
        ));
        assert!(full_scan_due(
            Some(now - chrono::Duration::minutes(30)),
            now,
            dec!(0.5)
        ));
    }

    #[test]
    fn the_cursor_rereads_its_timestamp_and_skips_what_it_saw() {
        let t = |s| {
            NaiveDate::from_ymd_opt(2026, 11, 1)
                .unwrap()
                .and_hms_opt(10, 0, s)
                .unwrap()
        };
        let key = |r: &(NaiveDateTime, &str)| (r.0, r.1.to_owned());
        let mut c = Cursor::default();
        let first = c.take(vec![(t(2), "b"), (t(1), "a"), (t(2), "c")], key);
        assert_eq!(first, [(t(1), "a"), (t(2), "b"), (t(2), "c")]);
        assert_eq!(c.at, Some(t(2)));
        // Read again from t(2): b and c are skipped, d (same stamp, new) and e are taken.
        let second = c.take(
            vec![(t(2), "b"), (t(2), "d"), (t(2), "c"), (t(3), "e")],
            key,
        );
        assert_eq!(second, [(t(2), "d"), (t(3), "e")]);
        assert_eq!(c.at, Some(t(3)));
        assert_eq!(c.take(vec![(t(1), "old")], key), []);
    }

    proptest! {
        /// Whatever the ties, the page size and the rows that change between passes, every
        /// version of every row is seen, and none twice, when each pass pages one fixed
        /// `ModifiedOn ge at` query.
        #[test]
        fn the_cursor_sees_every_change_exactly_once(
            stamps in proptest::collection::vec(0u32..6, 1..30),
            moves in proptest::collection::vec((0usize..30, 1u32..4), 0..20),
            page in 1usize..7,
        ) {
            let t = |s: u32| NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(10, 0, 0).unwrap()
                + chrono::Duration::seconds(i64::from(s));
            // The server's rows: id → current stamp.
            let mut server: Vec<(String, u32)> = stamps
                .iter()
                .enumerate()
                .map(|(i, s)| (format!("id{i}"), *s))
                .collect();
            let mut clock = 10u32;
            let mut cursor = Cursor::default();
            let mut seen: Vec<(String, u32)> = Vec::new();
            let pass = |server: &Vec<(String, u32)>, cursor: &mut Cursor, seen: &mut Vec<(String, u32)>| {
                let since = cursor.at;
                let mut sorted: Vec<(NaiveDateTime, String, u32)> = server
                    .iter()
                    .map(|(id, s)| (t(*s), id.clone(), *s))
                    .filter(|(m, _, _)| since.is_none_or(|a| *m >= a))
                    .collect();
                sorted.sort();
                let mut skip = 0;
                loop {
                    let answer: Vec<_> = sorted.iter().skip(skip).take(page).cloned().collect();
                    skip += answer.len();
                    let short = answer.len() < page;
                    let fresh = cursor.take(answer.into_iter().rev().collect(), |r| (r.0, r.1.clone()));
                    seen.extend(fresh.into_iter().map(|(_, id, s)| (id, s)));
                    if short {
                        break;
                    }
                }
            };
            pass(&server, &mut cursor, &mut seen);
            for (row, by) in moves {
                let n = server.len();
                if let Some(r) = server.get_mut(row % n) {
                    clock += by;
                    r.1 = clock;
                }
                pass(&server, &mut cursor, &mut seen);
            }
            pass(&server, &mut cursor, &mut seen);
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), seen.len(), "a version seen twice: {:?}", seen);
            for (id, s) in &server {
                prop_assert!(seen.contains(&(id.clone(), *s)), "{} at {} never seen", id, s);
            }
        }
    }
}
