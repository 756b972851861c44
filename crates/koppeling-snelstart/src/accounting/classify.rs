//! Sorting client failures into the product's error classes ([`AccountingError`]).

use koppeling_domain::ports::{AccountingError, Credential, Rejection};

use crate::client::untrusted::clamp_wait;
use crate::client::{ApiError, CallError};

/// Whether the failed call could have changed data in SnelStart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// A GET: nothing is written, so any failure can simply be retried.
    Read,
    /// A POST or PUT: after a timeout, a 5xx or a broken connection the write may have been
    /// committed, so the caller must look it up before trying again.
    Write,
}

/// The classification table of the crate docs. Invariant: a `Transient` error never asks
/// for a wait of more than an hour, whatever SnelStart answered.
pub(crate) fn classify(err: CallError, op: Op) -> AccountingError {
    match classify_unclamped(err, op) {
        AccountingError::Transient {
            retry_after,
            message,
        } => AccountingError::Transient {
            retry_after: retry_after.map(clamp_wait),
            message,
        },
        other => other,
    }
}

fn classify_unclamped(err: CallError, op: Op) -> AccountingError {
    match err {
        CallError::Token(e) => match e.status {
            400 | 401 | 403 => AccountingError::Auth {
                credential: Credential::ConnectionKey,
                message: format!(
                    "SnelStart's token endpoint refused the koppelsleutel (HTTP {}): {}",
                    e.status, e.message
                ),
            },
            _ => AccountingError::Transient {
                retry_after: e.retry_after,
                message: format!("SnelStart's token endpoint failed: {e}"),
            },
        },
        CallError::TokenUnavailable(m) => AccountingError::Transient {
            retry_after: None,
            message: format!("SnelStart's token endpoint could not be reached: {m}"),
        },
        CallError::Api(e) => classify_api(e, op),
        CallError::Throttled { retry_after } => AccountingError::Transient {
            retry_after: Some(retry_after),
            message: format!(
                "the SnelStart call limit of this administratie is reached; next call in {} s",
                retry_after.as_secs().max(1)
            ),
        },
        CallError::Connect(m) => AccountingError::Transient {
            retry_after: None,
            message: format!("could not connect to SnelStart: {m}"),
        },
        e @ (CallError::Timeout
        | CallError::Transport(_)
        | CallError::Decode(_)
        | CallError::InvalidAnswer(_)) => match op {
            Op::Read => AccountingError::Transient {
                retry_after: None,
                message: e.to_string(),
            },
            Op::Write => AccountingError::UnknownOutcome {
                message: e.to_string(),
            },
        },
        CallError::Request(m) => AccountingError::Rejected {
            rejection: Rejection::RequestNotBuilt,
            message: format!("the request for SnelStart could not be built: {m}"),
        },
        // CallError is non_exhaustive only for other crates.
    }
}

fn classify_api(e: ApiError, op: Op) -> AccountingError {
    match e.status {
        401 if e.is_subscription_key_refused() => AccountingError::Auth {
            credential: Credential::SubscriptionKey,
            message: format!("SnelStart refused the subscription key: {}", e.message),
        },
        401 => AccountingError::Auth {
            credential: Credential::ConnectionKey,
            message: format!(
                "SnelStart refused a freshly minted token for the koppelsleutel: {}",
                e.message
            ),
        },
        403 if e.retry_after.is_some() => AccountingError::Transient {
            retry_after: e.retry_after,
            message: format!("SnelStart's call quota is used up: {}", e.message),
        },
        403 => AccountingError::Auth {
            credential: Credential::ConnectionKey,
            message: format!(
                "the koppelsleutel lacks the rights (scope) for this SnelStart call: {}",
                e.message
            ),
        },
        429 => AccountingError::Transient {
            retry_after: e.retry_after,
            message: format!("SnelStart's rate limit is reached: {}", e.message),
        },
        408 | 500..=599 => match op {
            Op::Read => AccountingError::Transient {
                retry_after: e.retry_after,
                message: format!("SnelStart is unavailable: {e}"),
            },
            Op::Write => AccountingError::UnknownOutcome {
                message: format!("SnelStart answered {e} to a write"),
            },
        },
        _ => AccountingError::Rejected {
            rejection: rejection(e.code),
            message: e.message,
        },
    }
}

/// Sorts SnelStart's error code (README §8.3, `foutcodes-v2.json`) into a [`Rejection`].
pub(crate) fn rejection(code: Option<String>) -> Rejection {
    let Some(code) = code else {
        return Rejection::Other { code: None };
    };
    match code.as_str() {
        "BOE-0021" => Rejection::DuplicateInvoiceNumber,
        "REL-0008" => Rejection::RelatiecodeTaken,
        "BOE-0039" => Rejection::Unbalanced,
        "BOE-0033" => Rejection::DateTooOld,
        "BOE-0054" => Rejection::RelatieInactive,
        "BOE-0060" => Rejection::RelatieNotKlant,
        "BOE-0042" | "BOE-0051" => Rejection::PeriodClosed { code },
        "BOE-0008" | "BOE-0037" | "BOE-0061" | "BOE-0082" => Rejection::LedgerUnusable { code },
        "REL-0087" | "REL-0088" => Rejection::VatNumberRefused { code },
        c if c.starts_with("REL-") => Rejection::RelatieRefused { code },
        "BLG-0007" => Rejection::FileNameMissing,
        "BLG-0016" => Rejection::FileNameCharacter,
        "BLG-0017" => Rejection::FileNameTooLong,
        "BLG-0006" | "BLG-0013" => Rejection::DocumentTooLarge { code },
        "BLG-0008" | "BLG-0011" => Rejection::DocumentEmpty { code },
        _ => Rejection::Other { code: Some(code) },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn api(status: u16, retry_after: Option<&str>, body: &str) -> CallError {
        CallError::Api(ApiError::parse(status, retry_after, body.as_bytes()))
    }

    #[test]
    fn business_rules_are_rejections_with_their_code() {
        let err = classify(
            api(
                400,
                None,
                r#"[{"errorCode":"BOE-0021","message":"Het factuurnummer bestaat al","details":null}]"#,
            ),
            Op::Write,
        );
        assert_eq!(
            err,
            AccountingError::Rejected {
                rejection: Rejection::DuplicateInvoiceNumber,
                message: "Het factuurnummer bestaat al".into()
            }
        );
    }

    #[test]
    fn every_known_code_is_its_own_variant_and_keeps_its_code() {
        for (code, expected) in [
            ("BOE-0021", Rejection::DuplicateInvoiceNumber),
            ("REL-0008", Rejection::RelatiecodeTaken),
            ("BOE-0039", Rejection::Unbalanced),
            ("BOE-0033", Rejection::DateTooOld),
            ("BOE-0054", Rejection::RelatieInactive),
            ("BOE-0060", Rejection::RelatieNotKlant),
            ("BLG-0007", Rejection::FileNameMissing),
            ("BLG-0016", Rejection::FileNameCharacter),
            ("BLG-0017", Rejection::FileNameTooLong),
            (
                "BLG-0013",
                Rejection::DocumentTooLarge {
                    code: "BLG-0013".into(),
                },
            ),
            (
                "BLG-0011",
                Rejection::DocumentEmpty {
                    code: "BLG-0011".into(),
                },
            ),
            (
                "BLG-0099",
                Rejection::Other {
                    code: Some("BLG-0099".into()),
                },
            ),
        ] {
            let got = rejection(Some(code.to_owned()));
            assert_eq!(got, expected, "{code}");
            assert_eq!(got.code(), Some(code), "{code}");
        }
    }

    #[test]
    fn several_business_errors_are_joined() {
        let err = classify(
            api(
                400,
                None,
                r#"[{"errorCode":"BOE-0039","message":"De boeking is niet in balans"},{"errorCode":"BOE-0028","message":"Bedrag nul"}]"#,
            ),
            Op::Write,
        );
        let AccountingError::Rejected { rejection, message } = err else {
            panic!("{err:?}")
        };
        assert_eq!(rejection, Rejection::Unbalanced);
        assert_eq!(rejection.code(), Some("BOE-0039"));
        assert_eq!(
            message,
            "BOE-0039: De boeking is niet in balans; BOE-0028: Bedrag nul"
        );
    }

    #[test]
    fn rate_limits_are_transient_with_retry_after() {
        let err = classify(
            api(
                429,
                Some("17"),
                r#"{"statusCode":429,"message":"Rate limit is exceeded. Try again in 17 seconds."}"#,
            ),
            Op::Write,
        );
        assert!(matches!(
            err,
            AccountingError::Transient { retry_after: Some(d), .. } if d == Duration::from_secs(17)
        ));
        let quota = classify(api(403, Some("600"), ""), Op::Read);
        assert!(matches!(
            quota,
            AccountingError::Transient { retry_after: Some(d), .. } if d == Duration::from_secs(600)
        ));
        let scope = classify(api(403, None, ""), Op::Read);
        assert!(matches!(
            scope,
            AccountingError::Auth {
                credential: Credential::ConnectionKey,
                ..
            }
        ));
    }

    #[test]
    fn unauthorised_is_the_subscription_key_or_the_koppelsleutel() {
        let sub = classify(
            api(
                401,
                None,
                r#"{ "statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription." }"#,
            ),
            Op::Read,
        );
        assert!(matches!(
            sub,
            AccountingError::Auth {
                credential: Credential::SubscriptionKey,
                ..
            }
        ));
        let bearer = classify(api(401, None, ""), Op::Read);
        assert!(matches!(
            bearer,
            AccountingError::Auth {
                credential: Credential::ConnectionKey,
                ..
            }
        ));
        let token = classify(
            CallError::Token(ApiError::parse(
                400,
                None,
                br#"{"error":"GrantType clientkey was found. Parameter clientkey does not contain a valid value"}"#,
            )),
            Op::Write,
        );
        assert!(matches!(
            token,
            AccountingError::Auth {
                credential: Credential::ConnectionKey,
                ..
            }
        ));
        let token_down = classify(CallError::Token(ApiError::parse(503, None, b"")), Op::Write);
        assert!(matches!(token_down, AccountingError::Transient { .. }));
    }

    #[test]
    fn a_failed_write_has_an_unknown_outcome_but_a_failed_read_is_transient() {
        for (err, op, unknown) in [
            (api(503, None, ""), Op::Write, true),
            (api(503, None, ""), Op::Read, false),
            (
                api(500, None, r#"{"Message":"An error has occurred."}"#),
                Op::Write,
                true,
            ),
            (CallError::Timeout, Op::Write, true),
            (CallError::Timeout, Op::Read, false),
            (CallError::Transport("reset".into()), Op::Write, true),
            (CallError::Connect("refused".into()), Op::Write, false),
            (CallError::Decode("bad".into()), Op::Write, true),
            (CallError::InvalidAnswer("2 MiB".into()), Op::Write, true),
            (CallError::InvalidAnswer("302".into()), Op::Read, false),
        ] {
            let got = classify(err.clone(), op);
            assert_eq!(
                matches!(got, AccountingError::UnknownOutcome { .. }),
                unknown,
                "{err:?} {op:?} → {got:?}"
            );
            if !unknown {
                assert!(matches!(got, AccountingError::Transient { .. }), "{got:?}");
            }
        }
    }

    #[test]
    fn no_transient_error_waits_more_than_an_hour() {
        let hour = Duration::from_secs(3600);
        for err in [
            api(429, Some("18446744073709551615"), ""),
            api(
                429,
                None,
                "Rate limit is exceeded. Try again in 99999999999999999999999 seconds.",
            ),
            api(403, Some("Fri, 31 Dec 9999 23:59:59 GMT"), ""),
            api(503, Some("7200"), ""),
            CallError::Throttled {
                retry_after: Duration::MAX,
            },
            CallError::Token(ApiError::parse(503, Some("86400"), b"")),
        ] {
            let got = classify(err.clone(), Op::Read);
            assert!(
                matches!(got, AccountingError::Transient { retry_after: Some(d), .. } if d == hour),
                "{err:?} → {got:?}"
            );
        }
        // Garbage is ignored: no Retry-After at all.
        for (header, body) in [
            (Some("-5"), ""),
            (
                Some("1e309"),
                "Rate limit is exceeded. Try again in 1e309 seconds.",
            ),
            (None, "Rate limit is exceeded. Try again in -5 seconds."),
            (None, "Rate limit is exceeded. Try again in 12abc seconds."),
        ] {
            let got = classify(api(429, header, body), Op::Read);
            assert!(
                matches!(
                    got,
                    AccountingError::Transient {
                        retry_after: None,
                        ..
                    }
                ),
                "{header:?} {body:?} → {got:?}"
            );
        }
    }

    #[test]
    fn not_found_is_a_rejection() {
        let err = classify(
            api(
                404,
                None,
                r#"{"Message":"No HTTP resource was found that matches the request URI."}"#,
            ),
            Op::Read,
        );
        assert!(matches!(
            err,
            AccountingError::Rejected {
                rejection: Rejection::Other { code: None },
                ..
            }
        ));
        let err = classify(
            api(
                404,
                None,
                r#"[{"errorCode":"REL-0005","message":"Relatie niet gevonden"}]"#,
            ),
            Op::Write,
        );
        assert!(
            matches!(err, AccountingError::Rejected { rejection: Rejection::RelatieRefused { ref code }, .. } if code == "REL-0005")
        );
    }
}
