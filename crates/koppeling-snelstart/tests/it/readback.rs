//! The read-back calls (product §8.2) against the sandbox: verkoopfacturen by `ModifiedOn`,
//! payments from bank and cash bookings, a booking read in full, a deletion, a missing scope.

use koppeling_domain::booking::VatRowKind;
use koppeling_domain::ports::{Accounting, Scoped};
use koppeling_domain::readback::{Cursor, PaymentStatus, paid_at, payment_status};
use rust_decimal_macros::dec;
use serde_json::json;

use crate::support::{booking, env};

#[tokio::test]
async fn payments_and_the_accountant_s_changes_are_read_back() {
    let env = env().await;
    let klant = env.klant(1001).await;
    let first = env.book(&booking("2026-0001", 1001), &klant).await;
    let second = env.book(&booking("2026-0002", 1001), &klant).await;

    // The first read sees both, open.
    let mut cursor = Cursor::default();
    let page = env
        .accounting
        .invoices_since(&env.conn, cursor.at, 0)
        .await
        .unwrap();
    let page = cursor.take(page, |f| (f.modified_on, f.booking_id.clone()));
    assert_eq!(page.len(), 2);
    assert!(
        page.iter()
            .all(|f| f.outstanding == dec!(175.50) && f.gross == dec!(175.50))
    );
    assert_eq!(page[0].relatie_id.as_deref(), Some(klant.as_str()));
    // Read again: nothing new.
    let again = env
        .accounting
        .invoices_since(&env.conn, cursor.at, 0)
        .await
        .unwrap();
    assert!(
        cursor
            .take(again, |f| (f.modified_on, f.booking_id.clone()))
            .is_empty()
    );

    // The customer pays part of the first by bank; the sandbox's clock moves on.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, body) = env
        .sandbox
        .pay(&env.key, &first, "75.50", "2026-11-20")
        .unwrap();
    assert_eq!(status, 201, "{body}");
    let changed = env
        .accounting
        .invoices_since(&env.conn, cursor.at, 0)
        .await
        .unwrap();
    let changed = cursor.take(changed, |f| (f.modified_on, f.booking_id.clone()));
    assert_eq!(changed.len(), 1, "only the paid one moved");
    assert_eq!(changed[0].booking_id, first);
    assert_eq!(changed[0].outstanding, dec!(100.00));
    assert_eq!(
        payment_status(changed[0].outstanding, changed[0].gross),
        PaymentStatus::PartiallyPaid
    );
    let Scoped::Granted(payments) = env
        .accounting
        .payments_since(&env.conn, None)
        .await
        .unwrap()
    else {
        panic!("every scope is granted");
    };
    assert_eq!(
        paid_at(&payments, &first).map(|d| d.to_string()).as_deref(),
        Some("2026-11-20"),
        "the day the money came in"
    );
    assert_eq!(paid_at(&payments, &second), None);

    // The accountant changes the second booking.
    env.sandbox
        .accountant_edit(&env.key, &second, &json!({"factuurbedrag": 200.00, "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": 45.50}]}))
        .unwrap();
    let detail = env
        .accounting
        .booking_detail(&env.conn, &second)
        .await
        .unwrap()
        .expect("still there");
    assert!(detail.by_accountant);
    assert_eq!(detail.gross, dec!(200.00));
    assert_eq!(detail.vat, vec![(Some(VatRowKind::High), dec!(45.50))]);
    assert_eq!(detail.klant_id.as_deref(), Some(klant.as_str()));

    // A deleted booking reads as None.
    let third = env.book(&booking("2026-0003", 1001), &klant).await;
    let http = reqwest::Client::new();
    let token = http
        .post(env.sandbox.auth_url())
        .form(&[("grant_type", "clientkey"), ("clientkey", env.key.as_str())])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = http
        .delete(format!(
            "{}/verkoopboekingen/{third}",
            env.sandbox.api_url()
        ))
        .header(
            "Ocp-Apim-Subscription-Key",
            snelstart_sandbox::DEFAULT_SUBSCRIPTION_KEY,
        )
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    assert_eq!(
        env.accounting
            .booking_detail(&env.conn, &third)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_key_without_the_payment_scopes_switches_only_payments_off() {
    let env = env().await;
    let klant = env.klant(1001).await;
    env.sandbox.set_scopes(
        &env.key,
        Some(&[
            "relaties:read",
            "relaties:write",
            "boekhouden:read",
            "boekhouden:write",
            "orders:read",
            "settings:read",
        ]),
    );
    assert_eq!(
        env.accounting
            .payments_since(&env.conn, None)
            .await
            .unwrap(),
        Scoped::MissingScope("bankieren:read".into())
    );
    // Booking and the verkoopfacturen still work.
    env.book(&booking("2026-0009", 1001), &klant).await;
    assert_eq!(
        env.accounting
            .invoices_since(&env.conn, None, 0)
            .await
            .unwrap()
            .len(),
        1
    );
}
