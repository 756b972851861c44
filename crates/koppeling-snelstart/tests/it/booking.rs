//! Verkoopboekingen: booking, lookup by factuurnummer, BOE-0021, token reuse and one call per booking.

use koppeling_domain::ports::{Accounting, AccountingError, Rejection};
use rust_decimal_macros::dec;

use crate::support::{booking, env};

#[tokio::test]
async fn a_booking_is_posted_and_found_by_its_number() {
    let env = env().await;
    let klant = env.klant(1001).await;
    let id = env.book(&booking("2026-0042", 1001), &klant).await;

    let found = env
        .accounting
        .find_booking(&env.conn, "2026-0042")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    assert_eq!(found.klant_id.as_deref(), Some(klant.as_str()));
    assert_eq!(found.total, Some(dec!(175.50)));
    assert_eq!(
        env.accounting
            .find_booking(&env.conn, "2026-004")
            .await
            .unwrap(),
        None,
        "only an exact number matches"
    );

    let state = env.sandbox.state(&env.key).unwrap();
    let row = state
        .verkoopboekingen
        .iter()
        .find(|b| b["id"] == id.as_str())
        .unwrap();
    assert_eq!(row["factuurdatum"], "2026-05-13T00:00:00");
    assert_eq!(row["betalingstermijn"], 14);
    let ledger_of = |nummer: i64| {
        state
            .grootboeken
            .iter()
            .find(|g| g["nummer"] == nummer)
            .map(|g| g["id"].clone())
            .unwrap()
    };
    assert_eq!(row["boekingsregels"][0]["grootboek"]["id"], ledger_of(8000));
    assert_eq!(row["boekingsregels"][0]["btwSoort"], "Hoog");
    assert_eq!(row["boekingsregels"][1]["grootboek"]["id"], ledger_of(8010));
    assert_eq!(row["btw"][1]["btwSoort"], "VerkopenLaag");
}

#[tokio::test]
async fn quotes_and_odd_characters_in_an_invoice_number_survive_the_filter() {
    let env = env().await;
    let klant = env.klant(7).await;
    for number in ["O'Brien-1", "A&B 2026/1+#", "''"] {
        let id = env.book(&booking(number, 7), &klant).await;
        let found = env
            .accounting
            .find_booking(&env.conn, number)
            .await
            .unwrap();
        assert_eq!(found.map(|b| b.id), Some(id), "{number}");
    }
}

#[tokio::test]
async fn a_second_post_of_the_same_number_is_rejected_with_boe_0021() {
    let env = env().await;
    let klant = env.klant(1001).await;
    env.book(&booking("F-1", 1001), &klant).await;
    let err = env
        .accounting
        .book_sale(&env.conn, &booking("F-1", 1001), &klant)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            AccountingError::Rejected {
                rejection: Rejection::DuplicateInvoiceNumber,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        env.sandbox.state(&env.key).unwrap().verkoopboekingen.len(),
        1
    );
}

#[tokio::test]
async fn fifty_bookings_share_one_token_and_cost_one_call_each() {
    let env = env().await;
    let klant = env.klant(1001).await;
    // Warm-up: the first booking fetches the ledgers.
    env.book(&booking("W-0", 1001), &klant).await;
    for n in 1..=50 {
        let before = env.sandbox.call_count(&env.key);
        env.accounting
            .book_sale(&env.conn, &booking(&format!("W-{n}"), 1001), &klant)
            .await
            .unwrap();
        assert_eq!(
            env.sandbox.call_count(&env.key) - before,
            1,
            "booking {n} cost more than one call"
        );
    }
    assert_eq!(env.sandbox.token_requests(), 1);
    let metrics = env.accounting.metrics();
    assert_eq!(metrics.count("POST", "/verkoopboekingen", Some("201")), 51);
    assert_eq!(metrics.count("GET", "/grootboeken", None), 1);
    assert_eq!(metrics.count("POST", "/b2b/token", Some("200")), 1);
}

#[tokio::test]
async fn concurrent_callers_share_one_token_request() {
    let env = env().await;
    let mut tasks = Vec::new();
    for code in 1..=20 {
        let accounting = env.accounting.clone();
        let conn = env.conn.clone();
        tasks.push(tokio::spawn(async move {
            accounting
                .find_relatie(
                    &conn,
                    koppeling_domain::relation::RelatieCode::from_i32(code).unwrap(),
                )
                .await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), None);
    }
    assert_eq!(env.sandbox.token_requests(), 1);
}

#[tokio::test]
async fn a_configured_revenue_ledger_is_used_and_a_missing_one_is_a_data_error() {
    let env = env().await;
    let klant = env.klant(3).await;
    let mut b = booking("L-1", 3);
    b.lines.truncate(1);
    b.lines[0].ledger.number = Some(8000);
    b.vat_rows.truncate(1);
    b.total = dec!(121.00);
    env.book(&b, &klant).await;

    let mut wrong = b.clone();
    wrong.invoice_number = "L-2".into();
    wrong.lines[0].ledger.number = Some(8999);
    let err = env
        .accounting
        .book_sale(&env.conn, &wrong, &klant)
        .await
        .unwrap_err();
    let AccountingError::Rejected {
        rejection: Rejection::LedgerUnresolved,
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(message.contains("8999"), "{message}");
    assert_eq!(
        env.sandbox.state(&env.key).unwrap().verkoopboekingen.len(),
        1
    );
}
