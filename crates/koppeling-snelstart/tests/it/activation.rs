//! The activation checks against a seeded administration.

use koppeling_domain::koppeling::{KoppelingSettings, RevenueLedgers};
use koppeling_domain::ports::{Accounting, AccountingError, Credential};

use crate::support::{Options, env, env_with};

#[tokio::test]
async fn a_seeded_administration_passes_activation() {
    let env = env().await;
    let problems = env
        .accounting
        .check_activation(&env.conn, &KoppelingSettings::default())
        .await
        .unwrap();
    assert_eq!(problems, vec![]);
    let configured = KoppelingSettings {
        revenue_ledgers: RevenueLedgers {
            high: Some(8000),
            low: Some(8010),
            zero: Some(8020),
        },
        ..KoppelingSettings::default()
    };
    let problems = env
        .accounting
        .check_activation(&env.conn, &configured)
        .await
        .unwrap();
    assert_eq!(problems, vec![]);
}

#[tokio::test]
async fn a_removed_or_inactive_ledger_and_a_missing_journal_are_problems() {
    let env = env().await;
    // The administration opens on first use.
    env.accounting
        .check_activation(&env.conn, &KoppelingSettings::default())
        .await
        .unwrap();
    env.sandbox.remove_ledger(&env.key, 8010);
    env.sandbox.set_ledger_active(&env.key, 8020, false);
    let settings = KoppelingSettings {
        sales_journal_code: 1400,
        ..KoppelingSettings::default()
    };
    let problems = env
        .accounting
        .check_activation(&env.conn, &settings)
        .await
        .unwrap();
    let codes: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.code(), p.field.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            ("ledger_missing", "vat_codes.low"),
            ("ledger_inactive", "vat_codes.zero"),
            ("journal_missing", "sales_journal_code"),
        ]
    );
    assert!(
        problems[1].dutch().contains("8020"),
        "{}",
        problems[1].dutch()
    );
    assert!(
        problems[2].dutch().contains("1400"),
        "{}",
        problems[2].dutch()
    );

    let configured = KoppelingSettings {
        sales_journal_code: 1100,
        revenue_ledgers: RevenueLedgers {
            high: Some(8000),
            low: Some(8010),
            zero: Some(8020),
        },
        ..KoppelingSettings::default()
    };
    let problems = env
        .accounting
        .check_activation(&env.conn, &configured)
        .await
        .unwrap();
    let codes: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.code(), p.field.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            ("ledger_missing", "revenue_ledgers.low"),
            ("ledger_inactive", "revenue_ledgers.zero"),
            ("journal_not_sales", "sales_journal_code"),
        ]
    );
    assert!(
        problems[0].dutch().contains("8010"),
        "{}",
        problems[0].dutch()
    );
}

#[tokio::test]
async fn activation_refreshes_the_ledgers_the_bookings_use() {
    let env = env().await;
    env.accounting
        .check_activation(&env.conn, &KoppelingSettings::default())
        .await
        .unwrap();
    env.sandbox.set_ledger_active(&env.key, 8000, false);
    let problems = env
        .accounting
        .check_activation(&env.conn, &KoppelingSettings::default())
        .await
        .unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].code(), "ledger_inactive");
}

#[tokio::test]
async fn a_refused_key_is_a_key_refused_problem() {
    let env = env().await;
    env.sandbox.revoke_key(&env.key);
    let problems = env
        .accounting
        .check_activation(&env.conn, &KoppelingSettings::default())
        .await
        .unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].code(), "key_refused");
    assert_eq!(problems[0].field, "key");
    assert_eq!(
        problems[0].dutch(),
        "De koppelsleutel wordt door SnelStart geweigerd; genereer een nieuwe sleutel op web.snelstart.nl en vul die in bij Instellingen."
    );
}

#[tokio::test]
async fn a_refused_subscription_key_is_an_error_not_a_problem() {
    let env = env_with(Options {
        subscription_key: "verlopen".into(),
        ..Options::default()
    })
    .await;
    let err = env
        .accounting
        .check_activation(&env.conn, &KoppelingSettings::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AccountingError::Auth {
                credential: Credential::SubscriptionKey,
                ..
            }
        ),
        "{err:?}"
    );
}
