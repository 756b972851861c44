//! Hostile answers (issue 12): absurd `Retry-After` and `expires_in`, oversized bodies,
//! ids that are not GUIDs, redirects — from the sandbox's faults and from a raw stub.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use koppeling_domain::ports::{Accounting, AccountingError};
use koppeling_domain::relation::RelatieCode;
use koppeling_snelstart::{SnelStartAccounting, SnelStartConfig};
use serde_json::json;
use snelstart_sandbox::{Aim, BadIdFault, Faults, OversizedFault, RedirectFault, RetryAfterFault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Env, booking, connection, env, koppelsleutel, relatie_data};

const HOUR: Duration = Duration::from_secs(3600);
const BOOKING_POST: &str = "POST /v2/verkoopboekingen";

fn is_unknown(err: &AccountingError) -> bool {
    matches!(err, AccountingError::UnknownOutcome { .. })
}

fn is_transient(err: &AccountingError) -> bool {
    matches!(err, AccountingError::Transient { .. })
}

fn booked(env: &Env, number: &str) -> usize {
    env.sandbox
        .state(&env.key)
        .unwrap()
        .verkoopboekingen
        .iter()
        .filter(|b| b["factuurnummer"] == number)
        .count()
}

#[tokio::test]
async fn an_absurd_retry_after_waits_an_hour_at_most_and_only_for_that_administratie() {
    let env = env().await;
    let klant = env.warm_up().await;
    for (i, (value, want)) in [
        ("18446744073709551615", Some(HOUR)),
        ("99999999999999999999999", Some(HOUR)),
        ("Fri, 31 Dec 9999 23:59:59 GMT", Some(HOUR)),
        ("-5", None),
        ("1e309", None),
        ("morgen", None),
    ]
    .into_iter()
    .enumerate()
    {
        // A fresh administratie each time: the block of the previous one stays.
        let key = koppelsleutel(&format!("retry-{i}"));
        let conn = connection("kantoor-retry", &key);
        let accounting = crate::support::adapter(&env.sandbox, &Default::default());
        let klant = accounting
            .create_relatie(&conn, &relatie_data(1001))
            .await
            .unwrap();
        env.sandbox.set_faults(Faults {
            retry_after: Some(RetryAfterFault {
                value: value.into(),
                aim: Aim::route(1, BOOKING_POST).for_key(&key),
            }),
            ..Faults::default()
        });
        let err = accounting
            .book_sale(&conn, &booking("R-1", 1001), &klant)
            .await
            .unwrap_err();
        let AccountingError::Transient { retry_after, .. } = &err else {
            panic!("{value}: {err:?}")
        };
        assert_eq!(*retry_after, want, "{value}");
        if want.is_some() {
            // The administratie is blocked for (at most) the hour, without another call.
            let calls = env.sandbox.call_count(&key);
            let err = accounting.find_booking(&conn, "R-1").await.unwrap_err();
            assert!(
                matches!(err, AccountingError::Transient { retry_after: Some(d), .. } if d <= HOUR && d > HOUR - Duration::from_secs(10)),
                "{err:?}"
            );
            assert_eq!(env.sandbox.call_count(&key), calls);
        }
    }
    // The first administratie was never blocked.
    env.book(&booking("R-2", 1001), &klant).await;
}

#[tokio::test]
async fn absurd_token_lifetimes_are_survived() {
    let env = env().await;
    for (i, value) in [
        json!(u64::MAX),
        json!("99999999999999999999999"),
        json!("1e309"),
    ]
    .into_iter()
    .enumerate()
    {
        env.sandbox.set_faults(Faults {
            expires_in: Some(value.clone()),
            ..Faults::default()
        });
        let key = koppelsleutel(&format!("lang-{i}"));
        let conn = connection("kantoor-token", &key);
        let accounting = crate::support::adapter(&env.sandbox, &Default::default());
        let klant = accounting
            .create_relatie(&conn, &relatie_data(1001))
            .await
            .unwrap();
        accounting
            .book_sale(&conn, &booking("T-1", 1001), &klant)
            .await
            .unwrap();
    }
    // A negative lifetime: the token serves its own call, the next call mints again.
    env.sandbox.set_faults(Faults {
        expires_in: Some(json!(-5)),
        ..Faults::default()
    });
    let key = koppelsleutel("kort");
    let conn = connection("kantoor-kort", &key);
    let before = env.sandbox.token_requests();
    let klant = env
        .accounting
        .create_relatie(&conn, &relatie_data(1001))
        .await
        .unwrap();
    env.accounting
        .book_sale(&conn, &booking("T-2", 1001), &klant)
        .await
        .unwrap();
    assert!(env.sandbox.token_requests() >= before + 2);
}

#[tokio::test]
async fn an_oversized_answer_is_an_unknown_outcome_for_a_write_and_transient_for_a_read() {
    let env = env().await;
    let klant = env.warm_up().await;
    env.sandbox.set_faults(Faults {
        oversized: Some(OversizedFault {
            bytes: 1024 * 1024,
            aim: Aim::route(1, BOOKING_POST),
        }),
        ..Faults::default()
    });
    let err = env
        .accounting
        .book_sale(&env.conn, &booking("BIG-1", 1001), &klant)
        .await
        .unwrap_err();
    assert!(is_unknown(&err), "{err:?}");
    assert_eq!(booked(&env, "BIG-1"), 1, "committed, and not posted again");
    assert_eq!(
        env.accounting
            .metrics()
            .count("POST", "/verkoopboekingen", Some("oversized")),
        1
    );
    // A read that is too large is simply transient.
    env.sandbox.set_faults(Faults {
        oversized: Some(OversizedFault {
            bytes: 1024 * 1024,
            aim: Aim::route(1, "GET /v2/verkoopfacturen"),
        }),
        ..Faults::default()
    });
    let err = env
        .accounting
        .find_booking(&env.conn, "BIG-1")
        .await
        .unwrap_err();
    assert!(is_transient(&err), "{err:?}");
    // Just under the limit is fine.
    env.sandbox.set_faults(Faults {
        oversized: Some(OversizedFault {
            bytes: 1024 * 1024 - 4096,
            aim: Aim::route(1, "GET /v2/verkoopfacturen"),
        }),
        ..Faults::default()
    });
    let found = env
        .accounting
        .find_booking(&env.conn, "BIG-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(env.sandbox.faults().oversized, None);
    let real = &env.sandbox.state(&env.key).unwrap().verkoopboekingen;
    assert!(real.iter().any(|b| b["id"] == found.id.as_str()));
}

#[tokio::test]
async fn a_non_guid_id_in_a_write_answer_is_an_unknown_outcome() {
    let env = env().await;
    let klant = env.warm_up().await;
    for id in [
        json!("not-a-guid"),
        json!("00000000-0000-0000-0000-000000000000"),
    ] {
        env.sandbox.set_faults(Faults {
            bad_id: Some(BadIdFault {
                id: id.clone(),
                aim: Aim::route(1, "POST /v2/relaties"),
            }),
            ..Faults::default()
        });
        let code = if id == "not-a-guid" { 2001 } else { 2002 };
        let err = env
            .accounting
            .create_relatie(&env.conn, &relatie_data(code))
            .await
            .unwrap_err();
        assert!(is_unknown(&err), "{id}: {err:?}");
        // Looked up, the real relatie has a GUID.
        let found = env
            .accounting
            .find_relatie(&env.conn, RelatieCode::from_i32(code).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id.len(), 36);
    }
    env.sandbox.set_faults(Faults {
        bad_id: Some(BadIdFault {
            id: json!("not-a-guid"),
            aim: Aim::route(1, BOOKING_POST),
        }),
        ..Faults::default()
    });
    let err = env
        .accounting
        .book_sale(&env.conn, &booking("ID-1", 1001), &klant)
        .await
        .unwrap_err();
    assert!(is_unknown(&err), "{err:?}");
    let found = env
        .accounting
        .find_booking(&env.conn, "ID-1")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(found.id, "not-a-guid");
    assert_eq!(booked(&env, "ID-1"), 1);
}

/// A listener that counts the connections it gets and answers none.
async fn counting_target() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/elders", target.local_addr().unwrap());
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = reached.clone();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = target.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (url, reached, task)
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let env = env().await;
    let klant = env.warm_up().await;
    let (url, reached, task) = counting_target().await;
    for status in [301, 302, 307, 308] {
        env.sandbox.set_faults(Faults {
            redirect: Some(RedirectFault {
                location: url.clone(),
                status,
                aim: Aim::route(1, BOOKING_POST),
            }),
            ..Faults::default()
        });
        let err = env
            .accounting
            .book_sale(&env.conn, &booking("WEG-1", 1001), &klant)
            .await
            .unwrap_err();
        assert!(is_unknown(&err), "{status}: {err:?}");
        env.sandbox.set_faults(Faults {
            redirect: Some(RedirectFault {
                location: url.clone(),
                status,
                aim: Aim::route(1, "GET /v2/verkoopfacturen"),
            }),
            ..Faults::default()
        });
        let err = env
            .accounting
            .find_booking(&env.conn, "WEG-1")
            .await
            .unwrap_err();
        assert!(is_transient(&err), "{status}: {err:?}");
    }
    assert_eq!(booked(&env, "WEG-1"), 0);
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the target got a request"
    );
    task.abort();
}

// ---------------------------------------------------------------------------------------
// A raw stub for what the sandbox does not produce: error bodies without a length, and
// reads with ids that are not GUIDs.

/// Serves `answer(method, path)` (raw bytes after the status line's headers) on every
/// request, closing the connection after each (the body ends at the close: no length).
async fn stub(
    answer: impl Fn(&str, &str) -> (u16, Vec<u8>) + Send + Sync + 'static,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let mut words = text.split_whitespace();
                let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                let length: usize = text
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                let mut body = vec![0u8; length];
                let _ = stream.read_exact(&mut body).await;
                let (status, bytes) = answer(method, path);
                let head = format!(
                    "HTTP/1.1 {status} Stub\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (base, task)
}

fn stub_adapter(base: &str) -> SnelStartAccounting {
    SnelStartAccounting::new(SnelStartConfig {
        api_url: format!("{base}/v2"),
        auth_url: format!("{base}/b2b/token"),
        subscription_key: "stub".to_owned().into(),
        timeout: Duration::from_secs(10),
        calls_per_minute: 0,
        calls_per_hour: 0,
        concurrency: 0,
    })
    .unwrap()
}

const TOKEN: &[u8] = br#"{"access_token":"t","token_type":"bearer","expires_in":3599}"#;
const GUID: &str = "1b0d1a5c-3c3e-4b6a-9a57-0f3c2a9e8d11";

#[tokio::test]
async fn an_oversized_error_body_without_a_length_is_not_read_whole() {
    let (base, task) = stub(|_, path| {
        if path.starts_with("/b2b/token") {
            (200, TOKEN.to_vec())
        } else if path.starts_with("/v2/landen") {
            (
                200,
                format!(r#"[{{"id":"{GUID}","landcode":"NL"}}]"#).into_bytes(),
            )
        } else {
            // A "business rule" answer of 2 MiB.
            let mut body = br#"[{"errorCode":"BOE-0021","message":"bestaat al"}]"#.to_vec();
            body.resize(2 * 1024 * 1024, b' ');
            (400, body)
        }
    })
    .await;
    let accounting = stub_adapter(&base);
    let conn = connection("kantoor-stub", &koppelsleutel("stub"));
    let err = accounting
        .create_relatie(&conn, &relatie_data(1))
        .await
        .unwrap_err();
    assert!(is_unknown(&err), "{err:?}");
    let err = accounting
        .find_relatie(&conn, RelatieCode::from_i32(1).unwrap())
        .await
        .unwrap_err();
    assert!(is_transient(&err), "{err:?}");
    task.abort();
}

#[tokio::test]
async fn an_oversized_token_answer_is_transient() {
    let (base, task) = stub(|_, _| (200, vec![b' '; 2 * 1024 * 1024])).await;
    let accounting = stub_adapter(&base);
    let conn = connection("kantoor-stub", &koppelsleutel("stub"));
    let err = accounting
        .find_relatie(&conn, RelatieCode::from_i32(1).unwrap())
        .await
        .unwrap_err();
    assert!(is_transient(&err), "{err:?}");
    task.abort();
}

#[tokio::test]
async fn ids_that_are_not_guids_make_a_read_transient() {
    for (endpoint, rows) in [
        (
            "/v2/relaties",
            json!([{"id": "relatie-1", "relatiecode": 1, "relatiesoort": ["Klant"]}]),
        ),
        (
            "/v2/verkoopfacturen",
            json!([{"id": GUID, "factuurnummer": "F-1", "verkoopBoeking": {"id": "boeking-1"}, "relatie": {"id": GUID}}]),
        ),
        (
            "/v2/verkoopfacturen",
            json!([{"id": GUID, "factuurnummer": "F-1", "verkoopBoeking": {"id": GUID}, "relatie": {"id": "42"}}]),
        ),
        (
            "/v2/grootboeken",
            json!([{"id": "8000", "nummer": 8000, "grootboekfunctie": "VerkopenOmzetHoog"}]),
        ),
        ("/v2/landen", json!([{"id": "NL", "landcode": "NL"}])),
    ] {
        let body = serde_json::to_vec(&rows).unwrap();
        let (base, task) = stub(move |_, path| {
            if path.starts_with("/b2b/token") {
                (200, TOKEN.to_vec())
            } else if path.starts_with(endpoint) {
                (200, body.clone())
            } else {
                (200, b"[]".to_vec())
            }
        })
        .await;
        let accounting = stub_adapter(&base);
        let conn = connection("kantoor-stub", &koppelsleutel("stub"));
        let err = match endpoint {
            "/v2/relaties" => accounting
                .find_relatie(&conn, RelatieCode::from_i32(1).unwrap())
                .await
                .map(|_| ())
                .unwrap_err(),
            "/v2/verkoopfacturen" => accounting
                .find_booking(&conn, "F-1")
                .await
                .map(|_| ())
                .unwrap_err(),
            "/v2/grootboeken" => accounting
                .book_sale(&conn, &booking("F-1", 1), GUID)
                .await
                .map(|_| ())
                .unwrap_err(),
            _ => accounting
                .create_relatie(&conn, &relatie_data(1))
                .await
                .map(|_| ())
                .unwrap_err(),
        };
        assert!(is_transient(&err), "{endpoint} {rows}: {err:?}");
        task.abort();
    }
}
