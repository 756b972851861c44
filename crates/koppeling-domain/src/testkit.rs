//! Fixtures shared by the tests of every crate (this crate's own tests, and others through
//! the `mock` feature): one relation, one invoice and one invoice line, each a valid value
//! that a test changes with struct update syntax (`Relation { name: …, ..relation("1") }`).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::ids::ResourceId;
use crate::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use crate::money::VatClass;
use crate::relation::{Relation, RelationKind};

/// Relation `rel-1`, the company "Voorbeeld B.V." with relatiecode `code`, no address or
/// contact details, not ticked for SnelStart.
#[must_use]
pub fn relation(code: &str) -> Relation {
    Relation {
        id: ResourceId::parse("rel-1").unwrap(),
        code: code.into(),
        kind: RelationKind::Company,
        name: "Voorbeeld B.V.".into(),
        address: None,
        email: None,
        phone: None,
        vat_number: None,
        coc_number: None,
        iban: None,
        snelstart_enabled: false,
    }
}

/// Final invoice `inv-1`, number `2026-001` of 1 November 2026 for relation `rel-1`, 14 days
/// to pay, with `lines`.
#[must_use]
pub fn invoice(lines: Vec<InvoiceLine>) -> Invoice {
    Invoice {
        id: ResourceId::parse("inv-1").unwrap(),
        number: "2026-001".into(),
        relation_id: ResourceId::parse("rel-1").unwrap(),
        date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        payment_term_days: 14,
        status: InvoiceStatus::Final,
        description: None,
        lines,
    }
}

/// One "Advies" at `amount` excluding VAT of class `vat`.
#[must_use]
pub fn line(amount: Decimal, vat: VatClass) -> InvoiceLine {
    InvoiceLine {
        description: "Advies".into(),
        quantity: Decimal::ONE,
        unit_price: amount,
        vat,
    }
}
