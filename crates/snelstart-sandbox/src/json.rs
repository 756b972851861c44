//! JSON helpers: exact decimal numbers, SnelStart's naive date formats and response building.

use std::str::FromStr;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Number, Value};

/// A decimal as an exact JSON number (`121.00` stays `121.00`, thanks to `arbitrary_precision`).
pub fn dec(d: Decimal) -> Value {
    let text = d.to_string();
    match Number::from_str(&text) {
        Ok(n) => Value::Number(n),
        Err(_) => Value::String(text),
    }
}

/// A `Decimal` from a JSON number's exact text (also exponent notation).
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    Decimal::from_str(t)
        .ok()
        .or_else(|| Decimal::from_scientific(t).ok())
}

/// `yyyy-MM-ddTHH:mm:ss` (how SnelStart prints dates).
pub fn fmt_date(d: NaiveDateTime) -> String {
    d.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `yyyy-MM-ddTHH:mm:ss.fff` (how SnelStart prints `modifiedOn`).
pub fn fmt_stamp(d: NaiveDateTime) -> String {
    d.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// Naive local wall-clock now.
pub fn now_local() -> NaiveDateTime {
    chrono::Local::now().naive_local()
}

/// Parses the date formats clients send: `yyyy-MM-ddTHH:mm:ss[.fff]`, with a space instead of
/// `T`, date only, or RFC 3339 with a zone (the zone is dropped: SnelStart dates are naive).
pub fn parse_date(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Some(d);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0);
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(d.naive_local());
    }
    None
}

/// A JSON response with SnelStart's content type.
pub fn respond(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// Serializes `value` and wraps it in [`respond`].
pub fn respond_json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    respond(status, to_bytes(value))
}

/// Serializes `value`; serialization of our own values cannot fail, but never panic.
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_their_scale() {
        let d = Decimal::from_str("121.00").unwrap_or_default();
        assert_eq!(serde_json::to_string(&dec(d)).unwrap_or_default(), "121.00");
        let v: Value = serde_json::from_str("{\"a\": 5505.8000}").unwrap_or_default();
        assert_eq!(v["a"].to_string(), "5505.8000");
        assert_eq!(parse_decimal("1e2"), Some(Decimal::from(100)));
    }

    #[test]
    fn dates() {
        assert!(parse_date("2026-05-13T00:00:00").is_some());
        assert!(parse_date("2026-05-13 10:11:12").is_some());
        assert!(parse_date("2026-05-13").is_some());
        assert!(parse_date("2026-05-13T00:00:00.123").is_some());
        assert!(parse_date("2026-05-13T00:00:00+02:00").is_some());
        assert!(parse_date("13-05-2026").is_none());
    }
}
