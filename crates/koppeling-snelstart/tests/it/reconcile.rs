//! Reconciliation and preview reads (product §8.3) against the sandbox: the period's
//! verkoopfacturen and ledger mutations, paged at ⌊rows ÷ 500⌋ + 1 calls a listing, the
//! ledgers' roles, the numbers of a relatie, and the call budget.

use chrono::NaiveDate;
use koppeling_domain::koppeling::KoppelingSettings;
use koppeling_domain::ports::{Accounting, AccountingError};
use koppeling_domain::reconciliation::{LedgerRole, Period, ReportClass};
use koppeling_domain::relation::RelatieCode;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{Options, booking, env_with};

fn calls(env: &crate::support::Env, route: &str) -> u64 {
    let state = env.sandbox.state(&env.key).unwrap();
    state
        .counts
        .iter()
        .filter(|(k, _)| k.starts_with(route))
        .map(|(_, n)| *n)
        .sum()
}

#[tokio::test]
async fn a_period_is_listed_in_full_pages_and_one_short_page() {
    let env = env_with(Options {
        calls_per_minute: 0,
        calls_per_hour: 0,
        ..Options::default()
    })
    .await;
    let klant = env.klant(1001).await;
    for i in 0..501 {
        env.accounting
            .book_sale(&env.conn, &booking(&format!("M-{i:04}"), 1001), &klant)
            .await
            .unwrap();
    }
    let mut june = booking("J-0001", 1001);
    june.date = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    env.book(&june, &klant).await;

    let may = Period::new(
        NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 5, 31).unwrap(),
    )
    .unwrap();
    let before = calls(&env, "GET /v2/verkoopfacturen ");
    let listed = env
        .accounting
        .invoices_in_period(&env.conn, may)
        .await
        .unwrap();
    assert_eq!(listed.len(), 501);
    assert_eq!(
        calls(&env, "GET /v2/verkoopfacturen ") - before,
        2,
        "⌊501 ÷ 500⌋ + 1"
    );
    assert!(listed.iter().all(|l| l.gross == dec!(175.50)
        && l.relatie_id.as_deref() == Some(klant.as_str())
        && l.booking_id.is_some()
        && l.date == NaiveDate::from_ymd_opt(2026, 5, 13)));

    let roles = env
        .accounting
        .reconciliation_ledgers(&env.conn, &KoppelingSettings::default())
        .await
        .unwrap();
    let mut got: Vec<LedgerRole> = roles.values().copied().collect();
    got.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(
        got,
        vec![
            LedgerRole::Revenue(ReportClass::High),
            LedgerRole::Revenue(ReportClass::Low),
            LedgerRole::Revenue(ReportClass::Zero),
            LedgerRole::Vat(ReportClass::High),
            LedgerRole::Vat(ReportClass::Low),
        ]
    );
    let ids: Vec<String> = roles.keys().cloned().collect();
    let before = calls(&env, "GET /v2/grootboekmutaties ");
    let mutations = env
        .accounting
        .ledger_mutations(&env.conn, may, &ids)
        .await
        .unwrap();
    assert_eq!(mutations.len(), 501 * 4, "2 revenue + 2 VAT per booking");
    assert_eq!(
        calls(&env, "GET /v2/grootboekmutaties ") - before,
        5,
        "⌊2004 ÷ 500⌋ + 1"
    );
    let high: Decimal = mutations
        .iter()
        .filter(|m| roles[&m.ledger_id] == LedgerRole::Vat(ReportClass::High))
        .map(|m| m.credit - m.debet)
        .sum();
    assert_eq!(high, dec!(21.00) * Decimal::from(501));

    // The preview's read: the numbers SnelStart holds for a relatie, by code or by id.
    let code = RelatieCode::from_i32(1001).unwrap();
    let numbers = env
        .accounting
        .invoice_numbers_of_relatie(&env.conn, None, code)
        .await
        .unwrap();
    assert_eq!(numbers.len(), 502);
    assert!(numbers.contains(&"J-0001".to_owned()));
    let by_id = env
        .accounting
        .invoice_numbers_of_relatie(&env.conn, Some(klant.clone()), code)
        .await
        .unwrap();
    assert_eq!(by_id.len(), 502);
    let none = env
        .accounting
        .invoice_numbers_of_relatie(&env.conn, None, RelatieCode::from_i32(4242).unwrap())
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_listing_the_budget_cannot_serve_now_says_when_to_come_back() {
    let env = env_with(Options {
        calls_per_minute: 2,
        ..Options::default()
    })
    .await;
    let year = Period::new(
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    )
    .unwrap();
    for _ in 0..2 {
        env.accounting
            .invoices_in_period(&env.conn, year)
            .await
            .unwrap();
    }
    let before = env.sandbox.call_count(&env.key);
    let err = env
        .accounting
        .invoices_in_period(&env.conn, year)
        .await
        .unwrap_err();
    match err {
        AccountingError::Transient {
            retry_after: Some(wait),
            ..
        } => assert!(wait.as_secs() >= 50, "{wait:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(env.sandbox.call_count(&env.key), before, "nothing was sent");
}
