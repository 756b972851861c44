//! Tests of the booking rules: a table of invoices and the verkoopboeking each must give.

use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::ids::ResourceId;
use crate::invoice::InvoiceLine;

fn code() -> RelatieCode {
    RelatieCode::parse("1001").unwrap()
}

fn invoice(date: (i32, u32, u32), lines: &[(Decimal, Decimal, VatClass)]) -> Invoice {
    Invoice {
        id: ResourceId::parse("i").unwrap(),
        number: "F-1".into(),
        relation_id: ResourceId::parse("r").unwrap(),
        date: NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap(),
        payment_term_days: 30,
        status: InvoiceStatus::Final,
        description: None,
        lines: lines
            .iter()
            .map(|(q, p, v)| InvoiceLine {
                description: "regel".into(),
                quantity: *q,
                unit_price: *p,
                vat: *v,
            })
            .collect(),
    }
}

fn book(inv: &Invoice) -> SalesBooking {
    match plan_booking(inv, code(), &KoppelingSettings::default()).unwrap() {
        Plan::Book(b) => b,
        Plan::Skip(reason) => panic!("skipped: {reason:?}"),
    }
}

/// (lines, date, want regels, want btw rows, want total)
#[test]
fn bookings_from_a_table_of_invoices() {
    use VatClass::*;
    type Case = (
        &'static str,
        (i32, u32, u32),
        Vec<(Decimal, Decimal, VatClass)>,
        Vec<&'static str>,
        Vec<(VatRowKind, Decimal)>,
        Decimal,
    );
    let cases: Vec<Case> = vec![
        (
            "one high line",
            (2026, 1, 1),
            vec![(dec!(1), dec!(100), High)],
            vec!["100.00"],
            vec![(VatRowKind::High, dec!(21.00))],
            dec!(121.00),
        ),
        (
            "mixed high and low",
            (2026, 1, 1),
            vec![(dec!(1), dec!(100), High), (dec!(2), dec!(25), Low)],
            vec!["100.00", "50.00"],
            vec![
                (VatRowKind::High, dec!(21.00)),
                (VatRowKind::Low, dec!(4.50)),
            ],
            dec!(175.50),
        ),
        (
            "old rates",
            (2012, 9, 30),
            vec![(dec!(1), dec!(100), High), (dec!(1), dec!(100), Low)],
            vec!["100.00", "100.00"],
            vec![
                (VatRowKind::High, dec!(19.00)),
                (VatRowKind::Low, dec!(6.00)),
            ],
            dec!(225.00),
        ),
        (
            "3 x 0.3333",
            (2026, 1, 1),
            vec![(dec!(3), dec!(0.3333), High)],
            vec!["1.00"],
            vec![(VatRowKind::High, dec!(0.21))],
            dec!(1.21),
        ),
        (
            "0.005 boundary rounds away from zero",
            (2026, 1, 1),
            vec![(dec!(1), dec!(0.005), High)],
            vec!["0.01"],
            vec![],
            dec!(0.01),
        ),
        (
            "VAT rounded per class, not per line",
            (2026, 1, 1),
            vec![(dec!(1), dec!(0.05), High), (dec!(1), dec!(0.05), High)],
            vec!["0.05", "0.05"],
            vec![(VatRowKind::High, dec!(0.02))],
            dec!(0.12),
        ),
        (
            "credit note is negative",
            (2026, 1, 1),
            vec![(dec!(-1), dec!(100), High)],
            vec!["-100.00"],
            vec![(VatRowKind::High, dec!(-21.00))],
            dec!(-121.00),
        ),
        (
            "negative half cent",
            (2026, 1, 1),
            vec![(dec!(1), dec!(-0.005), Zero)],
            vec!["-0.01"],
            vec![],
            dec!(-0.01),
        ),
        (
            "zero lines dropped",
            (2026, 1, 1),
            vec![(dec!(0), dec!(10), High), (dec!(1), dec!(10), Zero)],
            vec!["10.00"],
            vec![],
            dec!(10.00),
        ),
        (
            "reverse charge gets a 0.00 verlegd row",
            (2026, 1, 1),
            vec![(dec!(1), dec!(500), ReverseCharge)],
            vec!["500.00"],
            vec![(VatRowKind::ReverseCharge, dec!(0.00))],
            dec!(500.00),
        ),
    ];
    for (name, date, lines, want_regels, want_btw, want_total) in cases {
        let b = book(&invoice(date, &lines));
        let regels: Vec<String> = b.lines.iter().map(|l| l.amount.to_string()).collect();
        assert_eq!(regels, want_regels, "{name}: regels");
        let btw: Vec<(VatRowKind, Decimal)> =
            b.vat_rows.iter().map(|r| (r.kind, r.amount)).collect();
        assert_eq!(btw, want_btw, "{name}: btw");
        assert_eq!(b.total, want_total, "{name}: total");
        let sum: Decimal = b.lines.iter().map(|l| l.amount).sum::<Decimal>()
            + b.vat_rows.iter().map(|r| r.amount).sum::<Decimal>();
        assert_eq!(sum, b.total, "{name}: balanced");
    }
}

#[test]
fn ledgers_follow_the_class_and_the_configured_numbers() {
    let mut settings = KoppelingSettings::default();
    settings.revenue_ledgers.low = Some(8011);
    let inv = invoice(
        (2026, 1, 1),
        &[
            (dec!(1), dec!(1), VatClass::High),
            (dec!(1), dec!(1), VatClass::Low),
            (dec!(1), dec!(1), VatClass::Zero),
        ],
    );
    let Plan::Book(b) = plan_booking(&inv, code(), &settings).unwrap() else {
        panic!()
    };
    let ledgers: Vec<(u8, Option<i32>)> = b
        .lines
        .iter()
        .map(|l| (l.ledger.function, l.ledger.number))
        .collect();
    assert_eq!(ledgers, [(12, None), (11, Some(8011)), (10, None)]);
}

#[test]
fn an_all_zero_invoice_is_skipped_with_a_reason() {
    let inv = invoice(
        (2026, 1, 1),
        &[
            (dec!(0), dec!(5), VatClass::High),
            (dec!(1), dec!(0.001), VatClass::Low),
        ],
    );
    match plan_booking(&inv, code(), &KoppelingSettings::default()).unwrap() {
        Plan::Skip(reason) => assert_eq!(reason, crate::problem::Rule::NothingToBook),
        Plan::Book(b) => panic!("booked {b:?}"),
    }
}

#[test]
fn rules_snelstart_would_refuse_are_refused_here_naming_the_field() {
    let base = invoice((2026, 1, 1), &[(dec!(1), dec!(10), VatClass::High)]);
    let check = |inv: Invoice, field: &str| {
        let problems = plan_booking(&inv, code(), &KoppelingSettings::default()).unwrap_err();
        assert!(
            problems.iter().any(|p| p.field == field),
            "{field}: {problems:?}"
        );
    };
    let mut long = base.clone();
    long.number = "X".repeat(26);
    check(long, "number");
    let mut term = base.clone();
    term.payment_term_days = 1000;
    check(term, "payment_term_days");
    let mut draft = base.clone();
    draft.status = InvoiceStatus::Draft;
    check(draft, "status");
    let mixed = invoice(
        (2026, 1, 1),
        &[
            (dec!(1), dec!(10), VatClass::High),
            (dec!(1), dec!(10), VatClass::ReverseCharge),
        ],
    );
    check(mixed, "lines");
    // Exactly 25 characters and 999 days are fine.
    let mut edge = base;
    edge.number = "X".repeat(25);
    edge.payment_term_days = 999;
    assert!(plan_booking(&edge, code(), &KoppelingSettings::default()).is_ok());
}

#[test]
fn descriptions_are_the_one_thing_shortened() {
    let mut inv = invoice((2026, 1, 1), &[(dec!(1), dec!(10), VatClass::High)]);
    inv.description = Some("d".repeat(300));
    inv.lines[0].description = "r".repeat(251);
    let b = book(&inv);
    assert_eq!(b.description.chars().count(), 250);
    assert!(b.description.ends_with('…'));
    assert_eq!(b.lines[0].description.chars().count(), 250);
    inv.description = None;
    assert_eq!(book(&inv).description, "Factuur F-1");
}

proptest! {
    #[test]
    fn every_booking_is_balanced_to_the_cent(
        lines in proptest::collection::vec((-10_000i64..10_000, -1_000_000i64..1_000_000, 0usize..3), 1..8)
    ) {
        let classes = [VatClass::High, VatClass::Low, VatClass::Zero];
        let lines: Vec<(Decimal, Decimal, VatClass)> = lines
            .into_iter()
            .map(|(q, p, c)| (Decimal::new(q, 2), Decimal::new(p, 4), classes[c]))
            .collect();
        let inv = invoice((2026, 5, 1), &lines);
        match plan_booking(&inv, code(), &KoppelingSettings::default()).unwrap() {
            Plan::Book(b) => {
                let sum: Decimal = b.lines.iter().map(|l| l.amount).sum::<Decimal>() + b.vat_rows.iter().map(|r| r.amount).sum::<Decimal>();
                prop_assert_eq!(sum, b.total);
                prop_assert_eq!(b.total, inv.totals().gross);
                prop_assert!(b.lines.iter().all(|l| !l.amount.is_zero()));
                prop_assert!(b.lines.iter().all(|l| l.amount.scale() == 2));
            }
            Plan::Skip(_) => prop_assert!(inv.lines.iter().all(|l| l.amount().is_zero())),
        }
    }
}
