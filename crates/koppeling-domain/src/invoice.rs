//! Invoices as Radar360 holds them, and their totals.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::ResourceId;
use crate::money::{VatClass, round_cents, vat_amount};
use crate::problem::{Problem, Rule};

/// Draft or final; only final invoices are synchronised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Still being edited in Radar360; never sent.
    Draft,
    /// Final: sent to SnelStart when its relation is ticked.
    Final,
}

impl InvoiceStatus {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Final => "final",
        }
    }
}

/// One invoice line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// Line description.
    pub description: String,
    /// Quantity (at most 4 decimals).
    pub quantity: Decimal,
    /// Unit price excluding VAT (at most 4 decimals).
    pub unit_price: Decimal,
    /// VAT class.
    pub vat: VatClass,
}

impl InvoiceLine {
    /// quantity × unit price, rounded half away from zero to cents.
    #[must_use]
    pub fn amount(&self) -> Decimal {
        round_cents(self.quantity * self.unit_price)
    }
}

/// A Radar360 invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// Caller-chosen id.
    pub id: ResourceId,
    /// Invoice number (factuurnummer).
    pub number: String,
    /// The relation (debtor) it is addressed to.
    pub relation_id: ResourceId,
    /// Invoice date (also SnelStart's booking date).
    pub date: NaiveDate,
    /// Payment term in days.
    pub payment_term_days: i64,
    /// Draft or final.
    pub status: InvoiceStatus,
    /// Description, if any.
    pub description: Option<String>,
    /// The lines.
    pub lines: Vec<InvoiceLine>,
}

/// Base and VAT of one class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClassTotal {
    /// Σ line amounts in this class.
    pub base: Decimal,
    /// VAT on the base, rounded to cents.
    pub vat: Decimal,
}

/// Totals of an invoice: net + vat = gross exactly.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Σ line amounts excluding VAT.
    pub net: Decimal,
    /// Σ VAT per class.
    pub vat: Decimal,
    /// net + vat.
    pub gross: Decimal,
    /// Per VAT class present on the invoice.
    pub by_class: BTreeMap<VatClass, ClassTotal>,
}

impl Invoice {
    /// Computes the totals per the rules in product §4.
    #[must_use]
    pub fn totals(&self) -> Totals {
        let mut by_class: BTreeMap<VatClass, ClassTotal> = BTreeMap::new();
        for line in &self.lines {
            by_class.entry(line.vat).or_default().base += line.amount();
        }
        let mut totals = Totals::default();
        for (class, total) in &mut by_class {
            total.base = round_cents(total.base);
            total.vat = vat_amount(*class, self.date, total.base);
            totals.net += total.base;
            totals.vat += total.vat;
        }
        totals.net = round_cents(totals.net);
        totals.vat = round_cents(totals.vat);
        totals.gross = round_cents(totals.net + totals.vat);
        totals.by_class = by_class;
        totals
    }
}

/// Checks the rules Radar360 itself applies to an invoice (on every PUT).
///
/// SnelStart's own limits (number length, payment term) are checked when the invoice is
/// planned as a booking, so an invoice that is never sent is never refused for them.
///
/// # Errors
/// Every problem found, each naming its field.
pub fn validate_invoice(invoice: &Invoice) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    if invoice.number.trim().is_empty() {
        problems.push(Problem::new("number", Rule::Required));
    }
    if invoice.payment_term_days < 0 {
        problems.push(Problem::new("payment_term_days", Rule::Negative));
    }
    for (i, line) in invoice.lines.iter().enumerate() {
        for (name, value) in [("quantity", line.quantity), ("unit_price", line.unit_price)] {
            if value.normalize().scale() > 4 {
                problems.push(Problem::new(
                    format!("lines[{i}].{name}"),
                    Rule::TooManyDecimals { max: 4 },
                ));
            }
            if value.abs() > Decimal::from(1_000_000_000_i64) {
                problems.push(Problem::new(
                    format!("lines[{i}].{name}"),
                    Rule::OutOfRange {
                        min: -1_000_000_000,
                        max: 1_000_000_000,
                        actual: value.to_string(),
                    },
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
