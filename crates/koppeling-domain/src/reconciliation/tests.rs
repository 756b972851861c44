//! Tests of the reconciliation rules: a table of periods with their differences, the class
//! totals to the cent, a property (a faithful SnelStart always reconciles), and the preview.

use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::ids::ResourceId;
use crate::invoice::InvoiceLine;

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn q1() -> Period {
    Period::new(day(1, 1), day(3, 31)).unwrap()
}

fn invoice(id: &str, date: NaiveDate, lines: &[(Decimal, VatClass)]) -> Invoice {
    Invoice {
        id: ResourceId::parse(id).unwrap(),
        number: format!("F-{id}"),
        relation_id: ResourceId::parse("r").unwrap(),
        date,
        payment_term_days: 30,
        status: InvoiceStatus::Final,
        description: None,
        lines: lines
            .iter()
            .map(|(p, v)| InvoiceLine {
                description: "regel".into(),
                quantity: Decimal::ONE,
                unit_price: *p,
                vat: *v,
            })
            .collect(),
    }
}

/// The ledgers of a seeded sandbox: revenue 8000/8010/8020, VAT 1510/1520.
fn ledgers() -> HashMap<String, LedgerRole> {
    [
        ("8000", LedgerRole::Revenue(ReportClass::High)),
        ("8010", LedgerRole::Revenue(ReportClass::Low)),
        ("8020", LedgerRole::Revenue(ReportClass::Zero)),
        ("1510", LedgerRole::Vat(ReportClass::High)),
        ("1520", LedgerRole::Vat(ReportClass::Low)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// What a faithful SnelStart holds for `inv` booked as `booking`: its verkoopfactuur and
/// its mutations (revenue per class, VAT per class, debiteuren).
fn booked(inv: &Invoice, booking: &str) -> (Listed, Vec<Mutation>) {
    let t = inv.totals();
    let mut mutations = Vec::new();
    for (class, ct) in &t.by_class {
        let revenue = match class {
            VatClass::High => "8000",
            VatClass::Low => "8010",
            _ => "8020",
        };
        mutations.push(credit(revenue, &inv.number, ct.base));
        match class {
            VatClass::High if !ct.vat.is_zero() => {
                mutations.push(credit("1510", &inv.number, ct.vat))
            }
            VatClass::Low if !ct.vat.is_zero() => {
                mutations.push(credit("1520", &inv.number, ct.vat))
            }
            _ => {}
        }
    }
    mutations.push(Mutation {
        ledger_id: "1300".into(),
        invoice_number: Some(inv.number.clone()),
        debet: t.gross,
        credit: Decimal::ZERO,
    });
    (
        Listed {
            booking_id: Some(booking.to_owned()),
            number: inv.number.clone(),
            date: Some(inv.date),
            gross: t.gross,
            relatie_id: Some("klant".into()),
        },
        mutations,
    )
}

fn credit(ledger: &str, number: &str, amount: Decimal) -> Mutation {
    let (debet, credit) = if amount.is_sign_negative() {
        (-amount, Decimal::ZERO)
    } else {
        (Decimal::ZERO, amount)
    };
    Mutation {
        ledger_id: ledger.into(),
        invoice_number: Some(number.into()),
        debet,
        credit,
    }
}

fn expected(inv: &Invoice, booking: Option<&str>) -> Expected {
    Expected {
        invoice_id: inv.id.as_str().to_owned(),
        number: inv.number.clone(),
        date: inv.date,
        totals: inv.totals(),
        booking_id: booking.map(str::to_owned),
        relatie_id: Some("klant".into()),
        known_deleted: false,
    }
}

fn kinds(r: &Reconciliation) -> Vec<(&'static str, &str)> {
    r.differences
        .iter()
        .map(|d| (d.kind.as_str(), d.number.as_str()))
        .collect()
}

#[test]
fn periods_are_checked() {
    assert!(Period::new(day(1, 1), day(12, 31)).is_ok());
    let leap = Period::new(
        NaiveDate::from_ymd_opt(2028, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2028, 12, 31).unwrap(),
    );
    assert!(leap.is_ok(), "366 days");
    let too_long = Period::new(day(1, 1), NaiveDate::from_ymd_opt(2027, 1, 2).unwrap());
    assert_eq!(too_long.unwrap_err().field, "from");
    assert_eq!(Period::new(day(2, 1), day(1, 31)).unwrap_err().field, "to");
    assert_eq!(
        Period::new(day(11, 15), NaiveDate::from_ymd_opt(2027, 2, 1).unwrap())
            .unwrap()
            .months(),
        vec![(2026, 11), (2026, 12), (2027, 1), (2027, 2)]
    );
}

/// The period of the black-box test, rule by rule: matched, missing, booked by hand,
/// changed (amount, date, relatie) and deleted.
#[test]
fn a_period_with_every_kind_of_difference() {
    use VatClass::*;
    let a = invoice("a", day(1, 10), &[(dec!(100.00), High), (dec!(50.00), Low)]);
    let b = invoice("b", day(2, 3), &[(dec!(200.00), Zero)]);
    let missing = invoice("m", day(2, 20), &[(dec!(10.00), High)]);
    let changed = invoice("c", day(3, 1), &[(dec!(80.00), High)]);
    let moved = invoice("d", day(3, 2), &[(dec!(30.00), Low)]);
    let deleted = invoice("x", day(3, 5), &[(dec!(40.00), High)]);
    let other_klant = invoice("k", day(3, 6), &[(dec!(5.00), ReverseCharge)]);

    let mut input = Input {
        ledgers: ledgers(),
        ..Input::default()
    };
    for (inv, id) in [
        (&a, "ba"),
        (&b, "bb"),
        (&changed, "bc"),
        (&other_klant, "bk"),
    ] {
        let (l, m) = booked(inv, id);
        input.listed.push(l);
        input.mutations.extend(m);
        input.expected.push(expected(inv, Some(id)));
    }
    // The accountant changed c's amount (121 → 130 incl. 9.00 more revenue) …
    let l = input.listed.iter_mut().find(|l| l.number == "F-c").unwrap();
    l.gross = dec!(105.80);
    input.mutations.push(credit("8000", "F-c", dec!(9.00)));
    // … booked k on another klant …
    input
        .listed
        .iter_mut()
        .find(|l| l.number == "F-k")
        .unwrap()
        .relatie_id = Some("ander".into());
    // … moved d out of the period (confirmed by reading it), and deleted x.
    input.expected.push(expected(&moved, Some("bd")));
    input.expected.push(expected(&deleted, Some("bx")));
    input.confirmed.insert(
        "bd".into(),
        Some(RemoteBookingDetail {
            gross: moved.totals().gross,
            date: Some(day(4, 2)),
            klant_id: Some("klant".into()),
            lines: vec![],
            vat: vec![],
            by_accountant: true,
        }),
    );
    input.confirmed.insert("bx".into(), None);
    input.expected.push(expected(&missing, None));
    // A verkoopfactuur booked in SnelStart by hand.
    let hand = invoice("h", day(1, 31), &[(dec!(1000.00), High)]);
    let (l, m) = booked(&hand, "bh");
    input.listed.push(l);
    input.mutations.extend(m);
    // Mutations of an invoice outside the period's numbers, and on a ledger we do not read.
    input
        .mutations
        .push(credit("8000", "F-elders", dec!(999.00)));
    input.mutations.push(credit("4000", "F-a", dec!(999.00)));

    assert_eq!(to_confirm(&input.expected, &input.listed), vec!["bd", "bx"]);
    let r = reconcile(q1(), &input, chrono::DateTime::<chrono::Utc>::MIN_UTC);
    assert_eq!(
        kinds(&r),
        vec![
            ("amount_differs", "F-c"),
            ("date_differs", "F-d"),
            ("unknown_in_radar360", "F-h"),
            ("relatie_differs", "F-k"),
            ("missing_in_snelstart", "F-m"),
            ("deleted_in_snelstart", "F-x"),
        ]
    );
    assert_eq!(r.matched, 2, "a and b");
    let amount = &r.differences[0];
    assert_eq!(amount.radar360.as_deref(), Some("96.80"));
    assert_eq!(amount.snelstart.as_deref(), Some("105.80"));
    assert_eq!(amount.invoice_id.as_deref(), Some("c"));
    assert_eq!(r.differences[1].snelstart.as_deref(), Some("2026-04-02"));
    assert_eq!(r.differences[2].invoice_id, None);
    assert_eq!(r.differences[2].snelstart.as_deref(), Some("1210.00"));
    assert_eq!(r.differences[4].snelstart, None);

    // Radar360: a, b, m, c, d, x, k.
    assert_eq!(r.radar360.count, 7);
    let rc = |c| r.radar360.by_class[&c];
    assert_eq!(
        rc(ReportClass::High),
        ClassSums {
            base: dec!(230.00),
            vat: dec!(48.30)
        }
    );
    assert_eq!(
        rc(ReportClass::Low),
        ClassSums {
            base: dec!(80.00),
            vat: dec!(7.20)
        }
    );
    assert_eq!(
        rc(ReportClass::Zero),
        ClassSums {
            base: dec!(205.00),
            vat: dec!(0.00)
        }
    );
    assert_eq!(r.radar360.net, dec!(515.00));
    assert_eq!(r.radar360.gross, dec!(570.50));
    // SnelStart: a, b, c (changed), k, h.
    assert_eq!(r.snelstart.count, 5);
    assert_eq!(r.snelstart.gross, dec!(1696.30));
    let sc = |c| r.snelstart.by_class[&c];
    assert_eq!(
        sc(ReportClass::High),
        ClassSums {
            base: dec!(1189.00),
            vat: dec!(247.80)
        }
    );
    assert_eq!(
        sc(ReportClass::Low),
        ClassSums {
            base: dec!(50.00),
            vat: dec!(4.50)
        }
    );
    assert_eq!(
        sc(ReportClass::Zero),
        ClassSums {
            base: dec!(205.00),
            vat: dec!(0.00)
        }
    );
    // The chart: one bar pair per month.
    let bars: Vec<(u32, Decimal, Decimal)> = r
        .months
        .iter()
        .map(|b| (b.month, b.radar360, b.snelstart))
        .collect();
    assert_eq!(
        bars,
        vec![
            (1, dec!(175.50), dec!(1385.50)),
            (2, dec!(212.10), dec!(200.00)),
            (3, dec!(182.90), dec!(110.80)),
        ]
    );
}

#[test]
fn a_deletion_known_to_the_read_back_needs_no_confirmation() {
    let x = invoice("x", day(3, 5), &[(dec!(40.00), VatClass::High)]);
    let mut e = expected(&x, Some("bx"));
    e.known_deleted = true;
    let input = Input {
        expected: vec![e],
        ledgers: ledgers(),
        ..Input::default()
    };
    let r = reconcile(q1(), &input, chrono::DateTime::<chrono::Utc>::MIN_UTC);
    assert_eq!(kinds(&r), vec![("deleted_in_snelstart", "F-x")]);
    assert_eq!(r.matched, 0);
}

#[test]
fn an_unsynced_invoice_found_by_number_is_compared_not_missing() {
    // Booked, but our state does not know it yet (e.g. the answer was lost).
    let a = invoice("a", day(1, 10), &[(dec!(100.00), VatClass::High)]);
    let (l, m) = booked(&a, "ba");
    let input = Input {
        expected: vec![expected(&a, None)],
        listed: vec![l],
        mutations: m,
        ledgers: ledgers(),
        ..Input::default()
    };
    let r = reconcile(q1(), &input, chrono::DateTime::<chrono::Utc>::MIN_UTC);
    assert!(r.differences.is_empty(), "{:?}", r.differences);
    assert_eq!(r.matched, 1);
}

#[test]
fn credit_notes_count_negative_on_both_sides() {
    let cn = invoice("cn", day(2, 1), &[(dec!(-100.00), VatClass::High)]);
    let (l, m) = booked(&cn, "bcn");
    let input = Input {
        expected: vec![expected(&cn, Some("bcn"))],
        listed: vec![l],
        mutations: m,
        ledgers: ledgers(),
        ..Input::default()
    };
    let r = reconcile(q1(), &input, chrono::DateTime::<chrono::Utc>::MIN_UTC);
    assert_eq!(r.matched, 1);
    assert_eq!(
        r.snelstart.by_class[&ReportClass::High],
        ClassSums {
            base: dec!(-100.00),
            vat: dec!(-21.00)
        }
    );
    assert_eq!(r.snelstart.by_class, r.radar360.by_class);
    assert_eq!(r.snelstart.gross, dec!(-121.00));
}

#[test]
fn only_final_invoices_in_the_period_are_expected() {
    let inv = invoice("a", day(1, 10), &[(dec!(1.00), VatClass::High)]);
    assert!(expected_from(&inv, None, None, &q1()).is_some());
    let mut draft = inv.clone();
    draft.status = InvoiceStatus::Draft;
    assert!(expected_from(&draft, None, None, &q1()).is_none());
    let mut later = inv;
    later.date = day(4, 1);
    assert!(expected_from(&later, None, None, &q1()).is_none());
}

fn arb_class() -> impl Strategy<Value = VatClass> {
    prop_oneof![
        Just(VatClass::High),
        Just(VatClass::Low),
        Just(VatClass::Zero),
        Just(VatClass::ReverseCharge)
    ]
}

proptest! {
    /// Whatever the invoices (amounts, classes, credit notes, dates), a SnelStart that holds
    /// exactly what was booked reconciles: no difference, every invoice matched, the same
    /// totals per class and per month on both sides; and taking any one verkoopfactuur away
    /// gives exactly one difference for that invoice.
    #[test]
    fn a_faithful_snelstart_reconciles_and_one_loss_is_one_difference(
        invoices in proptest::collection::vec(
            (1u32..=90, proptest::collection::vec((-50_000i64..100_000, arb_class()), 1..4)),
            1..12,
        ),
        lose in any::<prop::sample::Index>(),
        booked_before in any::<bool>(),
    ) {
        let mut input = Input { ledgers: ledgers(), ..Input::default() };
        let mut all = Vec::new();
        for (i, (d, lines)) in invoices.iter().enumerate() {
            let lines: Vec<(Decimal, VatClass)> = lines
                .iter()
                .map(|(cents, c)| (Decimal::new(*cents, 2), *c))
                .collect();
            let date = day(1, 1) + chrono::Duration::days(i64::from(*d - 1));
            let inv = invoice(&format!("i{i}"), date, &lines);
            let (l, m) = booked(&inv, &format!("b{i}"));
            input.listed.push(l);
            input.mutations.extend(m);
            input.expected.push(expected(&inv, Some(&format!("b{i}"))));
            all.push(inv);
        }
        let r = reconcile(q1(), &input, chrono::DateTime::<chrono::Utc>::MIN_UTC);
        prop_assert!(r.differences.is_empty(), "{:?}", r.differences);
        prop_assert_eq!(r.matched, all.len() as u64);
        prop_assert_eq!(&r.radar360.by_class, &r.snelstart.by_class);
        prop_assert_eq!(r.radar360.gross, r.snelstart.gross);
        for bar in &r.months {
            prop_assert_eq!(bar.radar360, bar.snelstart);
        }

        let gone = lose.index(all.len());
        let number = all[gone].number.clone();
        input.listed.retain(|l| l.number != number);
        if !booked_before {
            input.expected[gone].booking_id = None;
        }
        let r = reconcile(q1(), &input, chrono::DateTime::<chrono::Utc>::MIN_UTC);
        let want = if booked_before { "deleted_in_snelstart" } else { "missing_in_snelstart" };
        prop_assert_eq!(kinds(&r), vec![(want, number.as_str())]);
        prop_assert_eq!(r.matched, all.len() as u64 - 1);
    }
}

// ---------------------------------------------------------------------------------------
// The preview

fn relation(code: &str) -> Relation {
    Relation {
        id: ResourceId::parse("r").unwrap(),
        name: "Bakkerij De Korst".into(),
        ..crate::testkit::relation(code)
    }
}

fn synced(id: &str) -> SyncState {
    SyncState {
        status: SyncStatus::Synced,
        snelstart_id: Some(id.into()),
        error: None,
        hint: None,
        attempts: 1,
        next_attempt_at: None,
        updated_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
        payment: None,
        drift: None,
    }
}

#[test]
fn the_preview_says_invoice_by_invoice_what_ticking_would_do() {
    use VatClass::*;
    let send = invoice("s", day(2, 1), &[(dec!(100.00), High)]);
    let zero = invoice("z", day(2, 2), &[(dec!(0.00), High)]);
    let mut long = invoice("l", day(2, 3), &[(dec!(10.00), Low)]);
    long.number = "F-this-number-is-far-too-long-for-snelstart".into();
    let early = invoice("e", day(1, 5), &[(dec!(10.00), High)]);
    let booked = invoice("b", day(2, 4), &[(dec!(10.00), High)]);
    let by_hand = invoice("h", day(2, 5), &[(dec!(10.00), High)]);
    let mut draft = invoice("d", day(2, 6), &[(dec!(10.00), High)]);
    draft.status = InvoiceStatus::Draft;
    let invoices = vec![
        (send, None),
        (zero, None),
        (long, None),
        (early, None),
        (booked, Some(synced("bb"))),
        (by_hand, None),
        (draft, None),
    ];
    let settings = KoppelingSettings {
        start_date: Some(day(2, 1)),
        ..KoppelingSettings::default()
    };
    let in_snelstart: BTreeSet<String> = ["F-h".to_owned()].into();
    let p = preview(&relation("1001"), &invoices, Some(&settings), &in_snelstart);
    assert!(p.relation_ok);
    let got: Vec<(&str, Would)> = p
        .invoices
        .iter()
        .map(|l| (l.invoice_id.as_str(), l.would))
        .collect();
    assert_eq!(
        got,
        vec![
            ("e", Would::WaitStartDate),
            ("s", Would::Send),
            ("z", Would::Skip),
            ("l", Would::Fail),
            ("b", Would::AlreadyInSnelstart),
            ("h", Would::AlreadyInSnelstart),
        ]
    );
    assert_eq!(p.invoices[3].problems[0].field, "number");
    assert_eq!((p.count, p.gross), (1, dec!(121.00)));

    let p = preview(&relation("A12"), &invoices, Some(&settings), &in_snelstart);
    assert!(!p.relation_ok);
    assert_eq!(p.relation_problems[0].code(), "code_not_numeric");
    let s = p.invoices.iter().find(|l| l.invoice_id == "s").unwrap();
    assert_eq!(s.would, Would::Fail);
    assert_eq!(s.problems[0].field, "relation.code");
    assert_eq!((p.count, p.gross), (0, dec!(0.00)));
}
