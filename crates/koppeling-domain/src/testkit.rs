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

/// A sales booking of invoice `number` for relatiecode `code`: 100.00 high (ledger function
/// 12) + 50.00 low (function 11), 21.00 + 4.50 VAT, 175.50 in total, dated 2026-05-13,
/// 14 days to pay.
///
/// # Panics
/// When `code` is not a valid relatiecode.
#[must_use]
pub fn sales_booking(number: &str, code: i32) -> crate::booking::SalesBooking {
    use crate::booking::{BookingLine, RevenueLedger, SalesBooking, VatRow, VatRowKind};
    let line = |description: &str, amount: Decimal, class, function| BookingLine {
        description: description.into(),
        amount,
        class,
        ledger: RevenueLedger {
            function,
            number: None,
        },
    };
    SalesBooking {
        invoice_number: number.into(),
        date: NaiveDate::from_ymd_opt(2026, 5, 13).unwrap(),
        relatie_code: crate::relation::RelatieCode::from_i32(code).unwrap(),
        description: format!("Factuur {number}"),
        total: Decimal::new(17550, 2),
        payment_term_days: 14,
        lines: vec![
            line("Diensten", Decimal::new(10000, 2), VatClass::High, 12),
            line("Boeken", Decimal::new(5000, 2), VatClass::Low, 11),
        ],
        vat_rows: vec![
            VatRow {
                kind: VatRowKind::High,
                amount: Decimal::new(2100, 2),
            },
            VatRow {
                kind: VatRowKind::Low,
                amount: Decimal::new(450, 2),
            },
        ],
    }
}
