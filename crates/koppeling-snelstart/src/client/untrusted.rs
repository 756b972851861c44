//! What SnelStart's answers may make the client do: bounded waits and token lifetimes, bounded bodies, ids that are GUIDs.
//!
//! Input from SnelStart is untrusted (issue 12). The invariants this module keeps:
//!
//! * no duration taken from an answer is longer than [`MAX_RETRY_AFTER`] (a `Retry-After`) or
//!   [`MAX_TOKEN_LIFETIME`] (a token's `expires_in`), and parsing one never panics;
//! * no instant is computed with a plain `Instant + Duration` (which panics on overflow): see
//!   [`later`];
//! * no body is read past [`MAX_BODY`] bytes: see [`read_capped`];
//! * an id is used only when it is a GUID: see [`is_guid`].

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// The longest wait a `Retry-After` (or any other wait handed to the caller) may impose.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// The longest a token is trusted, whatever `expires_in` says.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(86_400);
/// The lifetime assumed when `expires_in` is missing or unreadable (SnelStart's own value).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3599);
/// The largest answer body read, success or error (1 MiB).
pub const MAX_BODY: usize = 1024 * 1024;
/// What [`later`] gives when the sum does not fit in an `Instant`.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 86_400);

/// `at + d` without the panic of `Instant + Duration` on overflow: a sum that does not fit
/// becomes the far future (about 30 years on), which no wait here ever reaches.
#[must_use]
pub(crate) fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(FAR_FUTURE))
        .unwrap_or(at)
}

/// A wait of at most [`MAX_RETRY_AFTER`].
#[must_use]
pub(crate) fn clamp_wait(d: Duration) -> Duration {
    d.min(MAX_RETRY_AFTER)
}

/// `Retry-After` (RFC 9110 §10.2.3) relative to `now`, at most [`MAX_RETRY_AFTER`]:
/// delta-seconds (any number of digits; more than fit in a `u64` is "very long"), leniently
/// `1.5` (rounded up), or an HTTP-date (one in the past means "now"). Anything else
/// (negative, exponent, empty, text) is ignored: `None`.
#[must_use]
pub fn parse_retry_after_at(raw: &str, now: SystemTime) -> Option<Duration> {
    let raw = raw.trim();
    if let Some(secs) = digits(raw) {
        return Some(clamp_wait(Duration::from_secs(secs)));
    }
    if let Some((whole, frac)) = raw.split_once('.')
        && let Some(whole) = digits(whole)
        && !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(clamp_wait(Duration::from_secs(whole.saturating_add(1))));
    }
    let at = httpdate::parse_http_date(raw).ok()?;
    Some(clamp_wait(at.duration_since(now).unwrap_or(Duration::ZERO)))
}

/// A non-empty run of ASCII digits as a number, saturating at `u64::MAX`.
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// The lifetime of a token from the `expires_in` of its answer, at most
/// [`MAX_TOKEN_LIFETIME`]: a number or numeric string of seconds (fractions dropped,
/// exponents allowed, too large for any type = the maximum); a negative one means "already
/// expired" (zero: the token serves the call that minted it, the next call mints again);
/// missing, `null` or not a number: [`DEFAULT_TOKEN_LIFETIME`].
#[must_use]
pub(crate) fn token_lifetime(expires_in: Option<&serde_json::Value>) -> Duration {
    let seconds = match expires_in {
        Some(serde_json::Value::Number(n)) => seconds_of(&n.to_string()),
        Some(serde_json::Value::String(s)) => seconds_of(s),
        _ => None,
    };
    seconds.map_or(DEFAULT_TOKEN_LIFETIME, |s| s.min(MAX_TOKEN_LIFETIME))
}

/// `3599`, `3599.9`, `3.6e3`, `-5` as seconds; `None` for anything that is not a number.
fn seconds_of(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Some(secs) = digits(text) {
        return Some(Duration::from_secs(secs));
    }
    let value: f64 = text.parse().ok()?;
    if value.is_nan() {
        None
    } else if value <= 0.0 {
        Some(Duration::ZERO)
    } else {
        // Saturates: +inf and anything beyond the maximum become the maximum.
        Some(Duration::try_from_secs_f64(value.trunc()).unwrap_or(Duration::MAX))
    }
}

/// Whether `id` is a GUID as SnelStart writes them (`8-4-4-4-12` hex digits, any case) and
/// not the nil GUID (which SnelStart uses for "no id").
#[must_use]
pub fn is_guid(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
        && bytes.iter().any(|b| !matches!(b, b'0' | b'-'))
}

/// Why a body was not read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Longer than the cap (announced by `Content-Length` or found while reading).
    TooLarge,
    /// The connection broke or timed out while reading.
    Read(reqwest::Error),
}

/// The body of `res`, read chunk by chunk and given up as soon as it passes `cap` bytes
/// (before reading anything when `Content-Length` already says so).
pub(crate) async fn read_capped(
    mut res: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    if res
        .content_length()
        .is_some_and(|n| n > u64::try_from(cap).unwrap_or(u64::MAX))
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(BodyError::Read)? {
        if chunk.len() > cap - body.len() {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// At most `max` characters of an untrusted text, for messages.
#[must_use]
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = MAX_RETRY_AFTER;

    fn at(text: &str) -> SystemTime {
        httpdate::parse_http_date(text).unwrap()
    }

    #[test]
    fn retry_after_is_clamped_and_garbage_is_ignored() {
        let now = at("Fri, 06 Nov 2026 08:49:37 GMT");
        let secs = |s: u64| Some(Duration::from_secs(s));
        for (raw, want) in [
            ("17", secs(17)),
            (" 17 ", secs(17)),
            ("0", secs(0)),
            ("3600", secs(3600)),
            ("3601", Some(HOUR)),
            ("1.5", secs(2)),
            ("18446744073709551615", Some(HOUR)),
            ("99999999999999999999999", Some(HOUR)),
            ("18446744073709551615.5", Some(HOUR)),
            ("-5", None),
            ("+5", None),
            ("1e309", None),
            ("1e3", None),
            ("NaN", None),
            ("inf", None),
            ("", None),
            ("   ", None),
            ("soon", None),
            ("1.", None),
            (".5", None),
            ("1.5.5", None),
            ("５", None),
            ("Fri, 06 Nov 2026 08:50:07 GMT", secs(30)),
            ("Friday, 06-Nov-26 08:50:07 GMT", secs(30)),
            ("Fri Nov  6 08:50:07 2026", secs(30)),
            ("Fri, 06 Nov 2026 08:49:00 GMT", secs(0)),
            ("Thu, 01 Jan 1970 00:00:00 GMT", secs(0)),
            ("Fri, 31 Dec 9999 23:59:59 GMT", Some(HOUR)),
            ("Fri, 06 Nov 2026 25:00:00 GMT", None),
            ("Sun, 06 Nov 2026 08:50:07 GMT", None),
            ("Sun, 06 Nov 99999 08:50:07 GMT", None),
        ] {
            assert_eq!(parse_retry_after_at(raw, now), want, "{raw:?}");
        }
    }

    #[test]
    fn token_lifetimes_are_clamped_and_absurd_values_are_sane() {
        use serde_json::json;
        let secs = Duration::from_secs;
        let number = |text: &str| serde_json::Value::Number(text.parse().unwrap());
        for (value, want) in [
            (Some(json!(3599)), secs(3599)),
            (Some(json!("3599")), secs(3599)),
            (Some(number("3599.9")), secs(3599)),
            (Some(number("3.6e3")), secs(3600)),
            (Some(json!(86_400)), MAX_TOKEN_LIFETIME),
            (Some(json!(86_401)), MAX_TOKEN_LIFETIME),
            (Some(json!(u64::MAX)), MAX_TOKEN_LIFETIME),
            (Some(number("99999999999999999999999")), MAX_TOKEN_LIFETIME),
            (Some(number("1e309")), MAX_TOKEN_LIFETIME),
            (Some(json!("1e309")), MAX_TOKEN_LIFETIME),
            (Some(json!(-5)), Duration::ZERO),
            (Some(json!("-5")), Duration::ZERO),
            (Some(number("-1e309")), Duration::ZERO),
            (Some(json!(0)), Duration::ZERO),
            (Some(json!("NaN")), DEFAULT_TOKEN_LIFETIME),
            (Some(json!("een uur")), DEFAULT_TOKEN_LIFETIME),
            (Some(json!("")), DEFAULT_TOKEN_LIFETIME),
            (Some(json!(null)), DEFAULT_TOKEN_LIFETIME),
            (Some(json!(true)), DEFAULT_TOKEN_LIFETIME),
            (Some(json!([3599])), DEFAULT_TOKEN_LIFETIME),
            (None, DEFAULT_TOKEN_LIFETIME),
        ] {
            assert_eq!(token_lifetime(value.as_ref()), want, "{value:?}");
        }
    }

    #[test]
    fn guids() {
        for (id, ok) in [
            ("1b0d1a5c-3c3e-4b6a-9a57-0f3c2a9e8d11", true),
            ("1B0D1A5C-3C3E-4B6A-9A57-0F3C2A9E8D11", true),
            ("00000000-0000-0000-0000-000000000000", false),
            ("1b0d1a5c3c3e4b6a9a570f3c2a9e8d11", false),
            ("{1b0d1a5c-3c3e-4b6a-9a57-0f3c2a9e8d11}", false),
            (" 1b0d1a5c-3c3e-4b6a-9a57-0f3c2a9e8d11", false),
            ("1b0d1a5c-3c3e-4b6a-9a57-0f3c2a9e8d1g", false),
            ("1b0d1a5c-3c3e-4b6a-9a57+0f3c2a9e8d11", false),
            ("not-a-guid", false),
            ("42", false),
            ("", false),
        ] {
            assert_eq!(is_guid(id), ok, "{id:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn later_never_overflows() {
        let now = Instant::now();
        assert_eq!(
            later(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        let far = later(now, Duration::MAX);
        assert!(far >= now + Duration::from_secs(365 * 86_400), "{far:?}");
        assert!(later(far, Duration::MAX) >= far);
    }

    #[test]
    fn excerpts_are_short() {
        assert_eq!(excerpt("abc", 5), "abc");
        assert_eq!(excerpt("abcdef", 3), "abc…");
    }

    proptest::proptest! {
        #[test]
        fn no_retry_after_panics_or_exceeds_an_hour(raw in "\\PC{0,40}", secs in proptest::prelude::any::<u64>()) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(secs % (300 * 365 * 86_400));
            if let Some(d) = parse_retry_after_at(&raw, now) {
                proptest::prop_assert!(d <= MAX_RETRY_AFTER);
            }
        }

        #[test]
        fn no_numeric_retry_after_is_ignored(n in proptest::prelude::any::<u128>()) {
            let d = parse_retry_after_at(&n.to_string(), SystemTime::now());
            proptest::prop_assert!(d.is_some_and(|d| d <= MAX_RETRY_AFTER));
        }

        #[test]
        fn no_expires_in_panics_or_exceeds_a_day(text in "\\PC{0,40}", n in proptest::prelude::any::<f64>()) {
            let as_string = serde_json::Value::String(text);
            proptest::prop_assert!(token_lifetime(Some(&as_string)) <= MAX_TOKEN_LIFETIME);
            let as_number = serde_json::json!(n);
            proptest::prop_assert!(token_lifetime(Some(&as_number)) <= MAX_TOKEN_LIFETIME);
        }
    }
}
