//! Reconciliation (aansluiting, product §8.3) and the preview before ticking: pure rules.
//!
//! * [`reconcile`] compares what should be in SnelStart (the final invoices of ticked relations
//!   dated in the period) with SnelStart's verkoopfacturen dated in the period and, for the VAT
//!   split, its ledger mutations on the koppeling's revenue and VAT ledgers for those
//!   invoices' numbers. Both sides get totals per VAT class as on the btw-aangifte (`zero`
//!   includes reverse charge, which books on the same ledger function 10), and every
//!   difference is one of six kinds.
//! * [`preview`] says, invoice by invoice, what ticking a relation would do.
//!
//! An invoice is matched to a verkoopfactuur by its booking id when it was booked, else by
//! its number. A booked invoice that the period's listing lacks is judged by its verkoopboeking
//! read in full ([`Input::confirmed`]): gone (404) is `deleted_in_snelstart`; still there, it is
//! compared like a listed one (typically its date was moved out of the period).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::booking::{Plan, plan_booking};
use crate::invoice::{Invoice, InvoiceStatus, Totals};
use crate::koppeling::KoppelingSettings;
use crate::money::{VatClass, format_cents, round_cents};
use crate::ports::{SyncState, SyncStatus};
use crate::problem::{Problem, Rule};
use crate::readback::{DriftKind, RemoteBookingDetail};
use crate::relation::{RelatieCode, Relation, plan_relatie};

/// The longest period one reconciliation covers (both days included).
pub const MAX_PERIOD_DAYS: i64 = 366;

/// A period of days, both included, at most [`MAX_PERIOD_DAYS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day (included).
    pub to: NaiveDate,
}

impl Period {
    /// Checks the order and the length.
    ///
    /// # Errors
    /// A problem naming `to` (before `from`) or `from` (the period is too long).
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, Problem> {
        if to < from {
            return Err(Problem::new(
                "to",
                Rule::PeriodReversed {
                    from: from.to_string(),
                    to: to.to_string(),
                },
            ));
        }
        let days = (to - from).num_days() + 1;
        if days > MAX_PERIOD_DAYS {
            return Err(Problem::new(
                "from",
                Rule::PeriodTooLong {
                    days,
                    max: MAX_PERIOD_DAYS,
                },
            ));
        }
        Ok(Self { from, to })
    }

    /// Whether `day` lies in the period.
    #[must_use]
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    /// The months the period touches, in order, as (year, month).
    #[must_use]
    pub fn months(&self) -> Vec<(i32, u32)> {
        let mut out = Vec::new();
        let (mut y, mut m) = (self.from.year(), self.from.month());
        while (y, m) <= (self.to.year(), self.to.month()) {
            out.push((y, m));
            if m == 12 {
                y += 1;
                m = 1;
            } else {
                m += 1;
            }
        }
        out
    }
}

/// The VAT classes of the btw-aangifte: `Zero` holds 0 % and reverse charge (rubriek 1e).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportClass {
    /// 21 % (omzet hoog).
    High,
    /// 9 % (omzet laag).
    Low,
    /// 0 % and verlegd.
    Zero,
}

impl ReportClass {
    /// In display order.
    pub const ALL: [ReportClass; 3] = [Self::High, Self::Low, Self::Zero];

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Low => "low",
            Self::Zero => "zero",
        }
    }
}

impl From<VatClass> for ReportClass {
    fn from(c: VatClass) -> Self {
        match c {
            VatClass::High => Self::High,
            VatClass::Low => Self::Low,
            VatClass::Zero | VatClass::ReverseCharge => Self::Zero,
        }
    }
}

/// What a SnelStart ledger holds for the reconciliation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LedgerRole {
    /// One of the koppeling's revenue ledgers (the base of a class).
    Revenue(ReportClass),
    /// A VAT ledger (the VAT of a class).
    Vat(ReportClass),
}

/// A final invoice of a ticked relation: what should be in SnelStart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The invoice id.
    pub invoice_id: String,
    /// Its number (factuurnummer).
    pub number: String,
    /// Its date.
    pub date: NaiveDate,
    /// Its totals.
    pub totals: Totals,
    /// The verkoopboeking id, once booked.
    pub booking_id: Option<String>,
    /// The SnelStart relatie its relation is linked to, when known.
    pub relatie_id: Option<String>,
    /// The read-back found it deleted in SnelStart.
    pub known_deleted: bool,
}

/// A verkoopfactuur as SnelStart lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `verkoopBoeking.id`.
    pub booking_id: Option<String>,
    /// `factuurnummer`.
    pub number: String,
    /// `factuurDatum`.
    pub date: Option<NaiveDate>,
    /// `factuurBedrag`.
    pub gross: Decimal,
    /// `relatie.id`.
    pub relatie_id: Option<String>,
}

/// A grootboekmutatie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    /// `grootboek.id`.
    pub ledger_id: String,
    /// `factuurNummer`.
    pub invoice_number: Option<String>,
    /// `debet`.
    pub debet: Decimal,
    /// `credit`.
    pub credit: Decimal,
}

/// Everything [`reconcile`] compares.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The final invoices of ticked relations dated in the period.
    pub expected: Vec<Expected>,
    /// SnelStart's verkoopfacturen dated in the period.
    pub listed: Vec<Listed>,
    /// The mutations on the ledgers of `ledgers` in the period.
    pub mutations: Vec<Mutation>,
    /// Ledger id → role.
    pub ledgers: HashMap<String, LedgerRole>,
    /// Booked invoices missing from `listed`, read in full by booking id (`None`: 404, gone).
    pub confirmed: HashMap<String, Option<RemoteBookingDetail>>,
}

/// Base and VAT of one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassSums {
    /// Omzet.
    pub base: Decimal,
    /// Btw.
    pub vat: Decimal,
}

/// Totals per btw-aangifte class.
pub type ByClass = BTreeMap<ReportClass, ClassSums>;

fn empty_by_class() -> ByClass {
    ReportClass::ALL
        .into_iter()
        .map(|c| (c, ClassSums::default()))
        .collect()
}

/// The Radar360 side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadarSide {
    /// Invoices.
    pub count: u64,
    /// Σ net.
    pub net: Decimal,
    /// Σ VAT.
    pub vat: Decimal,
    /// Σ gross.
    pub gross: Decimal,
    /// Per class.
    pub by_class: ByClass,
}

/// The SnelStart side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnelStartSide {
    /// Verkoopfacturen.
    pub count: u64,
    /// Σ factuurBedrag.
    pub gross: Decimal,
    /// Per class, from the ledger mutations.
    pub by_class: ByClass,
}

/// The six kinds of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Final, ticked, in the period, but not in SnelStart (never booked).
    MissingInSnelstart,
    /// A verkoopfactuur in the period that Radar360 did not send.
    UnknownInRadar360,
    /// factuurBedrag ≠ gross.
    AmountDiffers,
    /// factuurDatum ≠ date.
    DateDiffers,
    /// relatie ≠ the relation's relatie.
    RelatieDiffers,
    /// Booked, then deleted in SnelStart.
    DeletedInSnelstart,
}

impl DifferenceKind {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingInSnelstart => "missing_in_snelstart",
            Self::UnknownInRadar360 => "unknown_in_radar360",
            Self::AmountDiffers => "amount_differs",
            Self::DateDiffers => "date_differs",
            Self::RelatieDiffers => "relatie_differs",
            Self::DeletedInSnelstart => "deleted_in_snelstart",
        }
    }

    /// Dutch, for the Beheerder.
    #[must_use]
    pub fn dutch(self) -> &'static str {
        match self {
            Self::MissingInSnelstart => "ontbreekt in SnelStart",
            Self::UnknownInRadar360 => "onbekend in Radar360",
            Self::AmountDiffers => "bedrag wijkt af",
            Self::DateDiffers => "datum wijkt af",
            Self::RelatieDiffers => "relatie wijkt af",
            Self::DeletedInSnelstart => "verwijderd in SnelStart",
        }
    }
}

/// One difference: the values as text (amounts with two decimals, dates `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Which kind.
    pub kind: DifferenceKind,
    /// The Radar360 invoice (`None` for `unknown_in_radar360`).
    pub invoice_id: Option<String>,
    /// The invoice number.
    pub number: String,
    /// Radar360's value.
    pub radar360: Option<String>,
    /// SnelStart's value.
    pub snelstart: Option<String>,
}

/// Gross per month on both sides (for the chart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthBar {
    /// Year.
    pub year: i32,
    /// Month 1..=12.
    pub month: u32,
    /// Σ gross in Radar360.
    pub radar360: Decimal,
    /// Σ factuurBedrag in SnelStart.
    pub snelstart: Decimal,
}

/// The outcome of [`reconcile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    /// The period.
    pub period: Period,
    /// When SnelStart was read.
    pub checked_at: DateTime<Utc>,
    /// Radar360's side.
    pub radar360: RadarSide,
    /// SnelStart's side.
    pub snelstart: SnelStartSide,
    /// Invoices on both sides without any difference.
    pub matched: u64,
    /// The differences, by number then kind.
    pub differences: Vec<Difference>,
    /// Per month of the period.
    pub months: Vec<MonthBar>,
}

/// The facts of one SnelStart booking that are compared.
struct Found<'a> {
    gross: Decimal,
    date: Option<NaiveDate>,
    relatie_id: Option<&'a str>,
}

fn compare(e: &Expected, f: &Found<'_>, out: &mut Vec<Difference>) -> bool {
    let before = out.len();
    let mut push = |kind, radar360: String, snelstart: String| {
        out.push(Difference {
            kind,
            invoice_id: Some(e.invoice_id.clone()),
            number: e.number.clone(),
            radar360: Some(radar360),
            snelstart: Some(snelstart),
        });
    };
    if f.gross != e.totals.gross {
        push(
            DifferenceKind::AmountDiffers,
            format_cents(e.totals.gross),
            format_cents(f.gross),
        );
    }
    if let Some(d) = f.date
        && d != e.date
    {
        push(
            DifferenceKind::DateDiffers,
            e.date.to_string(),
            d.to_string(),
        );
    }
    if let (Some(ours), Some(theirs)) = (e.relatie_id.as_deref(), f.relatie_id)
        && ours != theirs
    {
        push(
            DifferenceKind::RelatieDiffers,
            ours.to_owned(),
            theirs.to_owned(),
        );
    }
    out.len() == before
}

fn month_index(months: &[(i32, u32)], d: NaiveDate) -> Option<usize> {
    months.iter().position(|m| *m == (d.year(), d.month()))
}

/// Compares both sides over `period` (see the module documentation); SnelStart was read at
/// `checked_at`.
#[must_use]
pub fn reconcile(period: Period, input: &Input, checked_at: DateTime<Utc>) -> Reconciliation {
    let months = period.months();
    let mut bars: Vec<MonthBar> = months
        .iter()
        .map(|(year, month)| MonthBar {
            year: *year,
            month: *month,
            radar360: Decimal::ZERO,
            snelstart: Decimal::ZERO,
        })
        .collect();

    // SnelStart's side: the listing and, for its invoice numbers, the mutations.
    let mut snel = SnelStartSide {
        count: 0,
        gross: Decimal::ZERO,
        by_class: empty_by_class(),
    };
    let mut by_booking: HashMap<&str, usize> = HashMap::new();
    let mut by_number: HashMap<&str, usize> = HashMap::new();
    for (i, l) in input.listed.iter().enumerate() {
        snel.count += 1;
        snel.gross += l.gross;
        if let Some(at) = l.date.and_then(|d| month_index(&months, d))
            && let Some(bar) = bars.get_mut(at)
        {
            bar.snelstart += l.gross;
        }
        if let Some(b) = l.booking_id.as_deref() {
            by_booking.entry(b).or_insert(i);
        }
        by_number.entry(l.number.as_str()).or_insert(i);
    }
    let numbers: BTreeSet<&str> = input.listed.iter().map(|l| l.number.as_str()).collect();
    for m in &input.mutations {
        let Some(role) = input.ledgers.get(&m.ledger_id) else {
            continue;
        };
        if !m
            .invoice_number
            .as_deref()
            .is_some_and(|n| numbers.contains(n))
        {
            continue;
        }
        let amount = m.credit - m.debet;
        match role {
            LedgerRole::Revenue(c) => snel.by_class.entry(*c).or_default().base += amount,
            LedgerRole::Vat(c) => snel.by_class.entry(*c).or_default().vat += amount,
        }
    }

    // Radar360's side, and the comparison invoice by invoice.
    let mut radar = RadarSide {
        count: 0,
        net: Decimal::ZERO,
        vat: Decimal::ZERO,
        gross: Decimal::ZERO,
        by_class: empty_by_class(),
    };
    let mut expected: Vec<&Expected> = input.expected.iter().collect();
    expected.sort_by(|a, b| (a.date, &a.number).cmp(&(b.date, &b.number)));
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut differences = Vec::new();
    let mut matched = 0u64;
    for e in expected {
        radar.count += 1;
        radar.net += e.totals.net;
        radar.vat += e.totals.vat;
        radar.gross += e.totals.gross;
        for (class, t) in &e.totals.by_class {
            let sums = radar.by_class.entry((*class).into()).or_default();
            sums.base += t.base;
            sums.vat += t.vat;
        }
        if let Some(at) = month_index(&months, e.date)
            && let Some(bar) = bars.get_mut(at)
        {
            bar.radar360 += e.totals.gross;
        }
        let listed = e
            .booking_id
            .as_deref()
            .and_then(|b| by_booking.get(b))
            .or_else(|| by_number.get(e.number.as_str()))
            .copied()
            .filter(|i| !used.contains(i));
        if let Some(i) = listed {
            used.insert(i);
            let l = &input.listed[i];
            let found = Found {
                gross: l.gross,
                date: l.date,
                relatie_id: l.relatie_id.as_deref(),
            };
            if compare(e, &found, &mut differences) {
                matched += 1;
            }
            continue;
        }
        let gone = |differences: &mut Vec<Difference>, kind| {
            differences.push(Difference {
                kind,
                invoice_id: Some(e.invoice_id.clone()),
                number: e.number.clone(),
                radar360: Some(format_cents(e.totals.gross)),
                snelstart: None,
            });
        };
        match e.booking_id.as_deref() {
            None => gone(&mut differences, DifferenceKind::MissingInSnelstart),
            Some(b) => match input.confirmed.get(b) {
                Some(Some(detail)) => {
                    let found = Found {
                        gross: detail.gross,
                        date: detail.date,
                        relatie_id: detail.klant_id.as_deref(),
                    };
                    compare(e, &found, &mut differences);
                }
                Some(None) => gone(&mut differences, DifferenceKind::DeletedInSnelstart),
                None if e.known_deleted => {
                    gone(&mut differences, DifferenceKind::DeletedInSnelstart);
                }
                // Not confirmed (more than the service reads in full): not in SnelStart's
                // period, which is what the bookkeeper needs to know.
                None => gone(&mut differences, DifferenceKind::DeletedInSnelstart),
            },
        }
    }
    for (i, l) in input.listed.iter().enumerate() {
        if !used.contains(&i) {
            differences.push(Difference {
                kind: DifferenceKind::UnknownInRadar360,
                invoice_id: None,
                number: l.number.clone(),
                radar360: None,
                snelstart: Some(format_cents(l.gross)),
            });
        }
    }
    differences.sort_by(|a, b| (&a.number, a.kind).cmp(&(&b.number, b.kind)));

    let round = |by: &mut ByClass| {
        for s in by.values_mut() {
            s.base = round_cents(s.base);
            s.vat = round_cents(s.vat);
        }
    };
    round(&mut radar.by_class);
    round(&mut snel.by_class);
    radar.net = round_cents(radar.net);
    radar.vat = round_cents(radar.vat);
    radar.gross = round_cents(radar.gross);
    snel.gross = round_cents(snel.gross);
    for bar in &mut bars {
        bar.radar360 = round_cents(bar.radar360);
        bar.snelstart = round_cents(bar.snelstart);
    }
    Reconciliation {
        period,
        checked_at,
        radar360: radar,
        snelstart: snel,
        matched,
        differences,
        months: bars,
    }
}

/// The invoices a booked invoice needs read in full: booked ones that `listed` lacks.
#[must_use]
pub fn to_confirm(expected: &[Expected], listed: &[Listed]) -> Vec<String> {
    let bookings: BTreeSet<&str> = listed
        .iter()
        .filter_map(|l| l.booking_id.as_deref())
        .collect();
    let numbers: BTreeSet<&str> = listed.iter().map(|l| l.number.as_str()).collect();
    expected
        .iter()
        .filter(|e| !numbers.contains(e.number.as_str()))
        .filter_map(|e| e.booking_id.clone())
        .filter(|b| !bookings.contains(b.as_str()))
        .collect()
}

/// Whether a stored invoice belongs on Radar360's side of the period: final and dated in it
/// (the caller gives only invoices of ticked relations).
#[must_use]
pub fn expected_from(
    invoice: &Invoice,
    sync: Option<&SyncState>,
    relatie_id: Option<String>,
    period: &Period,
) -> Option<Expected> {
    if invoice.status != InvoiceStatus::Final || !period.contains(invoice.date) {
        return None;
    }
    let booking_id = sync
        .filter(|s| s.status == SyncStatus::Synced)
        .and_then(|s| s.snelstart_id.clone());
    let known_deleted = sync
        .and_then(|s| s.drift.as_ref())
        .is_some_and(|d| d.kind == DriftKind::Deleted);
    Some(Expected {
        invoice_id: invoice.id.as_str().to_owned(),
        number: invoice.number.trim().to_owned(),
        date: invoice.date,
        totals: invoice.totals(),
        booking_id,
        relatie_id,
        known_deleted,
    })
}

// ---------------------------------------------------------------------------------------
// The preview before ticking

/// What ticking would do with one invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Would {
    /// It would be booked.
    Send,
    /// It would be skipped (e.g. all lines zero).
    Skip,
    /// It would fail (the problems say why).
    Fail,
    /// Dated before the koppeling's `start_date`: never sent.
    WaitStartDate,
    /// Already in SnelStart.
    AlreadyInSnelstart,
}

impl Would {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Skip => "skip",
            Self::Fail => "fail",
            Self::WaitStartDate => "wait_start_date",
            Self::AlreadyInSnelstart => "already_in_snelstart",
        }
    }

    /// Dutch, for the Beheerder.
    #[must_use]
    pub fn dutch(self) -> &'static str {
        match self {
            Self::Send => "wordt verstuurd",
            Self::Skip => "wordt overgeslagen",
            Self::Fail => "mislukt",
            Self::WaitStartDate => "vóór de startdatum: wordt niet verstuurd",
            Self::AlreadyInSnelstart => "staat al in SnelStart",
        }
    }
}

/// One invoice of the preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewLine {
    /// The invoice id.
    pub invoice_id: String,
    /// Its number.
    pub number: String,
    /// Its date.
    pub date: NaiveDate,
    /// Its gross.
    pub gross: Decimal,
    /// What ticking would do.
    pub would: Would,
    /// Why it would fail or be skipped.
    pub problems: Vec<Problem>,
}

/// What ticking a relation would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Whether the relation itself can be sent.
    pub relation_ok: bool,
    /// Why not.
    pub relation_problems: Vec<Problem>,
    /// Its final invoices, oldest first.
    pub invoices: Vec<PreviewLine>,
    /// Invoices that would be sent.
    pub count: u64,
    /// Their Σ gross.
    pub gross: Decimal,
}

/// What ticking `relation` would do with its `invoices` (drafts are left out): `in_snelstart`
/// holds the numbers SnelStart already has for this relatie.
#[must_use]
pub fn preview(
    relation: &Relation,
    invoices: &[(Invoice, Option<SyncState>)],
    settings: Option<&KoppelingSettings>,
    in_snelstart: &BTreeSet<String>,
) -> Preview {
    let mut candidate = relation.clone();
    candidate.snelstart_enabled = true;
    let mut relation_problems = Vec::new();
    let mut code = None;
    match RelatieCode::parse(relation.code.trim()) {
        Ok(c) => code = Some(c),
        Err(p) => relation_problems.push(p),
    }
    if let Err(problems) = plan_relatie(&candidate) {
        for p in problems {
            if !relation_problems
                .iter()
                .any(|q: &Problem| q.field == p.field)
            {
                relation_problems.push(p);
            }
        }
    }
    let defaults = KoppelingSettings::default();
    let settings = settings.unwrap_or(&defaults);
    let mut finals: Vec<&(Invoice, Option<SyncState>)> = invoices
        .iter()
        .filter(|(i, _)| i.status == InvoiceStatus::Final)
        .collect();
    finals.sort_by(|(a, _), (b, _)| (a.date, &a.number).cmp(&(b.date, &b.number)));
    let mut out = Preview {
        relation_ok: relation_problems.is_empty(),
        relation_problems: relation_problems.clone(),
        invoices: Vec::new(),
        count: 0,
        gross: Decimal::ZERO,
    };
    for (invoice, sync) in finals {
        let gross = invoice.totals().gross;
        let booked = sync
            .as_ref()
            .is_some_and(|s| s.status == SyncStatus::Synced && s.snelstart_id.is_some());
        let (would, problems) = if booked || in_snelstart.contains(invoice.number.trim()) {
            (Would::AlreadyInSnelstart, Vec::new())
        } else if settings.start_date.is_some_and(|s| invoice.date < s) {
            (Would::WaitStartDate, Vec::new())
        } else if let Some(code) = code.filter(|_| relation_problems.is_empty()) {
            match plan_booking(invoice, code, settings) {
                Ok(Plan::Book(_)) => (Would::Send, Vec::new()),
                Ok(Plan::Skip(reason)) => (Would::Skip, vec![Problem::new("lines", reason)]),
                Err(problems) => (Would::Fail, problems),
            }
        } else {
            let problems = relation_problems
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    p.field = format!("relation.{}", p.field);
                    p
                })
                .collect();
            (Would::Fail, problems)
        };
        if would == Would::Send {
            out.count += 1;
            out.gross += gross;
        }
        out.invoices.push(PreviewLine {
            invoice_id: invoice.id.as_str().to_owned(),
            number: invoice.number.clone(),
            date: invoice.date,
            gross,
            would,
            problems,
        });
    }
    out.gross = round_cents(out.gross);
    out
}

#[cfg(test)]
mod tests;
