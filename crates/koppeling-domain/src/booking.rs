//! The verkoopboeking we intend to send for an invoice, and the rules that build it.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::invoice::{Invoice, InvoiceStatus};
use crate::koppeling::KoppelingSettings;
use crate::money::{VatClass, round_cents};
use crate::problem::{Problem, Rule, check_len};
use crate::relation::RelatieCode;

/// Which revenue ledger a line is booked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RevenueLedger {
    /// The grootboekfunctie: 12 (hoog), 11 (laag) or 10 (onbelast/verlegd).
    pub function: u8,
    /// A specific ledger number, or `None` for the lowest-numbered active ledger with the
    /// function.
    pub number: Option<i32>,
}

/// One boekingsregel (excluding VAT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingLine {
    /// regel omschrijving (≤ 250, shortened with "…").
    pub description: String,
    /// bedrag, never zero.
    pub amount: Decimal,
    /// The VAT class (gives the regel `btwSoort`).
    pub class: VatClass,
    /// The revenue ledger.
    pub ledger: RevenueLedger,
}

/// The kind of a btw row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VatRowKind {
    /// `VerkopenHoog`.
    High,
    /// `VerkopenLaag`.
    Low,
    /// `VerkopenVerlegd` (always 0.00).
    ReverseCharge,
}

/// One btw row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatRow {
    /// Which btw soort.
    pub kind: VatRowKind,
    /// btwBedrag.
    pub amount: Decimal,
}

/// A verkoopboeking, balanced to the cent: `total` = Σ lines + Σ vat rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesBooking {
    /// factuurnummer (≤ 25).
    pub invoice_number: String,
    /// factuurdatum.
    pub date: NaiveDate,
    /// The klant's relatiecode.
    pub relatie_code: RelatieCode,
    /// omschrijving (≤ 250).
    pub description: String,
    /// factuurbedrag including VAT.
    pub total: Decimal,
    /// betalingstermijn (0..=999).
    pub payment_term_days: i32,
    /// boekingsregels.
    pub lines: Vec<BookingLine>,
    /// btw rows.
    pub vat_rows: Vec<VatRow>,
}

/// What to do with an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Send this booking.
    Book(SalesBooking),
    /// Do not send; the reason says why.
    Skip(Rule),
}

/// Shortens `text` to `max` characters, ending in "…" when it was longer.
#[must_use]
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

fn snelstart_date_range() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(2401, 1, 1).unwrap_or(NaiveDate::MAX),
    )
}

/// The longest factuurnummer SnelStart holds (BOE-0058).
pub const MAX_FACTUURNUMMER: usize = 25;

/// The factuurnummer `invoice` is booked under: its number trimmed, when SnelStart can hold
/// it (`None` otherwise: such an invoice is never posted). The look-up after an unknown
/// outcome uses the same, so the number looked for is the number that may have been posted.
#[must_use]
pub fn factuurnummer(invoice: &Invoice) -> Option<&str> {
    let number = invoice.number.trim();
    (!number.is_empty() && number.chars().count() <= MAX_FACTUURNUMMER).then_some(number)
}

/// Builds the verkoopboeking for `invoice`.
///
/// # Errors
/// Every rule the invoice breaks, each naming the field and the fix.
pub fn plan_booking(
    invoice: &Invoice,
    relatie_code: RelatieCode,
    settings: &KoppelingSettings,
) -> Result<Plan, Vec<Problem>> {
    let mut problems = Vec::new();
    if invoice.status != InvoiceStatus::Final {
        problems.push(Problem::new("status", Rule::NotFinal));
    }
    let number = invoice.number.trim();
    if number.is_empty() {
        problems.push(Problem::new("number", Rule::Required));
    }
    check_len(
        &mut problems,
        "number",
        number,
        MAX_FACTUURNUMMER,
        "factuurnummer",
    );
    if !(0..=999).contains(&invoice.payment_term_days) {
        problems.push(Problem::new(
            "payment_term_days",
            Rule::OutOfRange {
                min: 0,
                max: 999,
                actual: invoice.payment_term_days.to_string(),
            },
        ));
    }
    let (min, max) = snelstart_date_range();
    if invoice.date < min || invoice.date >= max {
        problems.push(Problem::new("date", Rule::DateOutOfRange));
    }
    let has_reverse = invoice
        .lines
        .iter()
        .any(|l| l.vat == VatClass::ReverseCharge && !l.amount().is_zero());
    let has_other = invoice
        .lines
        .iter()
        .any(|l| l.vat != VatClass::ReverseCharge && !l.amount().is_zero());
    if has_reverse && has_other {
        // SnelStart BOE-0062: verlegd may not be mixed with other VAT classes.
        problems.push(Problem::new("lines", Rule::ReverseChargeMixed));
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let lines: Vec<BookingLine> = invoice
        .lines
        .iter()
        .filter(|l| !l.amount().is_zero()) // SnelStart BOE-0028: a zero regel is refused.
        .map(|l| BookingLine {
            description: shorten(l.description.trim(), 250),
            amount: l.amount(),
            class: l.vat,
            ledger: RevenueLedger {
                function: l.vat.ledger_function(),
                number: settings.revenue_ledgers.for_class(l.vat),
            },
        })
        .collect();
    if lines.is_empty() {
        return Ok(Plan::Skip(Rule::NothingToBook));
    }

    let totals = invoice.totals();
    let mut vat_rows = Vec::new();
    for (class, class_total) in &totals.by_class {
        match class {
            VatClass::High if !class_total.vat.is_zero() => vat_rows.push(VatRow {
                kind: VatRowKind::High,
                amount: class_total.vat,
            }),
            VatClass::Low if !class_total.vat.is_zero() => vat_rows.push(VatRow {
                kind: VatRowKind::Low,
                amount: class_total.vat,
            }),
            _ => {}
        }
    }
    if has_reverse {
        vat_rows.push(VatRow {
            kind: VatRowKind::ReverseCharge,
            amount: round_cents(Decimal::ZERO),
        });
    }
    let total = round_cents(
        lines.iter().map(|l| l.amount).sum::<Decimal>()
            + vat_rows.iter().map(|r| r.amount).sum::<Decimal>(),
    );
    let description = match invoice
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(d) => shorten(d, 250),
        None => shorten(&format!("Factuur {number}"), 250),
    };
    Ok(Plan::Book(SalesBooking {
        invoice_number: number.to_owned(),
        date: invoice.date,
        relatie_code,
        description,
        total,
        payment_term_days: i32::try_from(invoice.payment_term_days).unwrap_or(0),
        lines,
        vat_rows,
    }))
}

#[cfg(test)]
mod tests;
