//! Failures: lost responses, 503, timeouts, 429 Retry-After, own limits, refused keys and token renewal.

use std::time::Duration;

use koppeling_domain::ports::{Accounting, AccountingError, Credential};
use koppeling_domain::relation::RelatieCode;
use snelstart_sandbox::Faults;

use crate::support::{
    Options, adapter, booking, connection, env, env_with, koppelsleutel, relatie_data,
};

fn code(n: i32) -> RelatieCode {
    RelatieCode::from_i32(n).unwrap()
}

#[tokio::test]
async fn a_lost_response_is_an_unknown_outcome_and_the_booking_can_be_looked_up() {
    let env = env().await;
    let klant = env.warm_up().await;
    env.sandbox.set_faults(Faults {
        lost_response_rate: 1.0,
        ..Faults::default()
    });
    let err = env
        .accounting
        .book_sale(&env.conn, &booking("LOST-1", 1001), &klant)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AccountingError::UnknownOutcome { .. }),
        "{err:?}"
    );
    env.sandbox.set_faults(Faults::default());
    // Committed exactly once: the client did not retry the POST.
    let state = env.sandbox.state(&env.key).unwrap();
    let booked = state
        .verkoopboekingen
        .iter()
        .filter(|b| b["factuurnummer"] == "LOST-1")
        .count();
    assert_eq!(booked, 1);
    let found = env
        .accounting
        .find_booking(&env.conn, "LOST-1")
        .await
        .unwrap();
    assert!(found.is_some());
}

#[tokio::test]
async fn a_503_is_transient_on_a_read_and_an_unknown_outcome_on_a_write() {
    let env = env().await;
    let klant = env.warm_up().await;
    env.sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let read = env
        .accounting
        .find_booking(&env.conn, "WARM-1")
        .await
        .unwrap_err();
    assert!(
        matches!(read, AccountingError::Transient { .. }),
        "{read:?}"
    );
    let read = env
        .accounting
        .find_relatie(&env.conn, code(1001))
        .await
        .unwrap_err();
    assert!(
        matches!(read, AccountingError::Transient { .. }),
        "{read:?}"
    );
    let write = env
        .accounting
        .book_sale(&env.conn, &booking("X-1", 1001), &klant)
        .await
        .unwrap_err();
    assert!(
        matches!(write, AccountingError::UnknownOutcome { .. }),
        "{write:?}"
    );
    let write = env
        .accounting
        .create_relatie(&env.conn, &relatie_data(1002))
        .await
        .unwrap_err();
    assert!(
        matches!(write, AccountingError::UnknownOutcome { .. }),
        "{write:?}"
    );
}

#[tokio::test]
async fn a_timeout_is_transient_on_a_read_and_an_unknown_outcome_on_a_write() {
    let env = env_with(Options {
        timeout: Duration::from_millis(700),
        ..Options::default()
    })
    .await;
    let klant = env.warm_up().await;
    env.sandbox.set_faults(Faults {
        latency_ms: 1500,
        ..Faults::default()
    });
    let read = env
        .accounting
        .find_relatie(&env.conn, code(1001))
        .await
        .unwrap_err();
    assert!(
        matches!(read, AccountingError::Transient { .. }),
        "{read:?}"
    );
    let write = env
        .accounting
        .book_sale(&env.conn, &booking("SLOW-1", 1001), &klant)
        .await
        .unwrap_err();
    assert!(
        matches!(write, AccountingError::UnknownOutcome { .. }),
        "{write:?}"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_no_request_is_sent_inside_the_window() {
    let env = env().await;
    env.sandbox.set_faults(Faults {
        rate_limit_per_minute: Some(3),
        ..Faults::default()
    });
    for n in 1..=3 {
        env.accounting
            .find_relatie(&env.conn, code(n))
            .await
            .unwrap();
    }
    let err = env
        .accounting
        .find_relatie(&env.conn, code(4))
        .await
        .unwrap_err();
    let AccountingError::Transient {
        retry_after: Some(wait),
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(wait > Duration::from_secs(30), "{wait:?}");

    let before = env.sandbox.call_count(&env.key);
    for n in 5..=8 {
        let err = env
            .accounting
            .find_relatie(&env.conn, code(n))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AccountingError::Transient { retry_after: Some(w), .. } if w > Duration::from_secs(30)),
            "{err:?}"
        );
    }
    let klant_err = env
        .accounting
        .create_relatie(&env.conn, &relatie_data(9))
        .await
        .unwrap_err();
    assert!(
        matches!(klant_err, AccountingError::Transient { .. }),
        "{klant_err:?}"
    );
    assert_eq!(
        env.sandbox.call_count(&env.key),
        before,
        "a request was sent inside the Retry-After window"
    );

    // Another administratie has its own window.
    let other_key = koppelsleutel("ander-kantoor");
    let other = connection("kantoor-2", &other_key);
    assert_eq!(
        env.accounting.find_relatie(&other, code(1)).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn the_clients_own_minute_limit_is_never_exceeded() {
    let env = env_with(Options {
        calls_per_minute: 2,
        ..Options::default()
    })
    .await;
    env.accounting
        .find_relatie(&env.conn, code(1))
        .await
        .unwrap();
    env.accounting
        .find_relatie(&env.conn, code(2))
        .await
        .unwrap();
    let err = env
        .accounting
        .find_relatie(&env.conn, code(3))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AccountingError::Transient { retry_after: Some(w), .. } if w > Duration::from_secs(50)),
        "{err:?}"
    );
    assert_eq!(env.sandbox.call_count(&env.key), 2);
    assert_eq!(
        env.accounting
            .metrics()
            .count("GET", "/relaties", Some("throttled")),
        1
    );
}

#[tokio::test]
async fn a_revoked_key_is_an_auth_error_for_the_koppelsleutel() {
    let env = env().await;
    env.accounting
        .find_relatie(&env.conn, code(1))
        .await
        .unwrap();
    env.sandbox.revoke_key(&env.key);
    // The cached token is refused.
    let err = env
        .accounting
        .find_relatie(&env.conn, code(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AccountingError::Auth {
                credential: Credential::ConnectionKey,
                ..
            }
        ),
        "{err:?}"
    );
    // Without a cached token the token endpoint refuses.
    let fresh = adapter(&env.sandbox, &Options::default());
    let err = fresh.find_relatie(&env.conn, code(1)).await.unwrap_err();
    assert!(
        matches!(
            err,
            AccountingError::Auth {
                credential: Credential::ConnectionKey,
                ..
            }
        ),
        "{err:?}"
    );
    let err = fresh
        .book_sale(
            &env.conn,
            &booking("R-1", 1),
            "00000000-0000-0000-0000-000000000001",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountingError::Auth { .. }), "{err:?}");
}

#[tokio::test]
async fn a_wrong_subscription_key_is_an_auth_error_for_the_subscription_key() {
    let env = env_with(Options {
        subscription_key: "0123456789abcdef0123456789abcdef".into(),
        ..Options::default()
    })
    .await;
    let err = env
        .accounting
        .find_relatie(&env.conn, code(1))
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

#[tokio::test]
async fn an_expired_token_is_renewed_once_and_the_call_retried() {
    let env = env().await;
    env.accounting
        .find_relatie(&env.conn, code(1))
        .await
        .unwrap();
    // Only a token older than a few seconds is renewed after a 401.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    env.sandbox.expire_tokens(&env.key);
    assert_eq!(
        env.accounting
            .find_relatie(&env.conn, code(1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(env.sandbox.token_requests(), 2);
    assert_eq!(
        env.accounting
            .metrics()
            .count("GET", "/relaties", Some("401")),
        1
    );

    // Revoked while the cached token is old: renewed once, refused, an auth error.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    env.sandbox.revoke_key(&env.key);
    let err = env
        .accounting
        .find_relatie(&env.conn, code(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AccountingError::Auth {
                credential: Credential::ConnectionKey,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(env.sandbox.token_requests(), 3);
}
