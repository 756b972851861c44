//! SnelStart error bodies (every shape of README §8.2) parsed into [`ApiError`], and the client's [`CallError`].

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// Which of the known body shapes an error came in (README §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorShape {
    /// `[{"errorCode","message","details"}]`: SnelStart business rules.
    Business,
    /// `{"message","modelState":{field:[msg]}}`: ASP.NET model binding.
    ModelState,
    /// `{"Message"}`: ASP.NET / OData framework (filters, 404).
    Framework,
    /// `{"statusCode","message"}`: the APIM gateway (rate limit, anything but the key).
    Gateway,
    /// `{"statusCode":401,"message":"Access denied due to missing|invalid subscription key…"}`:
    /// the APIM gateway refused the `Ocp-Apim-Subscription-Key` (README §8.2). APIM sends no
    /// code, so its fixed wording is read here, once, at the wire; every decision after this
    /// is made on the variant.
    SubscriptionKey,
    /// `{"error","error_description"}`: the OAuth token endpoint.
    OAuth,
    /// No body at all.
    Empty,
    /// Anything else (plain text, HTML, unknown JSON).
    Other,
}

/// One `{errorCode, message}` item of a business error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorItem {
    /// e.g. `BOE-0021`.
    pub code: Option<String>,
    /// SnelStart's (Dutch) message.
    pub message: String,
}

/// A non-success answer of SnelStart (API or token endpoint), parsed from whatever body came.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The first SnelStart error code (`ABC-1234`) found, if any.
    pub code: Option<String>,
    /// The message; several business errors are joined as `CODE: message; CODE: message`.
    pub message: String,
    /// Every business error item, in order.
    pub items: Vec<ErrorItem>,
    /// `Retry-After` (or parsed from APIM's "Try again in N seconds"), at most an hour.
    pub retry_after: Option<Duration>,
    /// The body shape.
    pub shape: ErrorShape,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) if !self.message.contains(code.as_str()) => {
                write!(f, "HTTP {} {code}: {}", self.status, self.message)
            }
            _ => write!(f, "HTTP {}: {}", self.status, self.message),
        }
    }
}

impl std::error::Error for ApiError {}

/// Longest piece of a non-JSON body kept in a message.
const MAX_TEXT: usize = 300;

impl ApiError {
    /// Parses an error answer. `retry_after_header` is the raw `Retry-After` value.
    #[must_use]
    pub fn parse(status: u16, retry_after_header: Option<&str>, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let trimmed = text.trim();
        let (shape, items, message) = if trimmed.is_empty() {
            (ErrorShape::Empty, Vec::new(), reason_phrase(status))
        } else {
            match serde_json::from_str::<Value>(trimmed) {
                Ok(value) => parse_json(&value, trimmed),
                Err(_) => (ErrorShape::Other, Vec::new(), truncate(trimmed, MAX_TEXT)),
            }
        };
        let code = items
            .iter()
            .find_map(|i| i.code.clone())
            .or_else(|| find_error_code(&message))
            .or_else(|| find_error_code(trimmed));
        let retry_after = retry_after_header
            .and_then(parse_retry_after)
            .or_else(|| (status == 429).then(|| seconds_in_text(&message)).flatten());
        Self {
            status,
            code,
            message,
            items,
            retry_after,
            shape,
        }
    }

    /// An APIM 401 about the `Ocp-Apim-Subscription-Key` (missing or invalid subscription
    /// key), as opposed to a refused bearer token.
    #[must_use]
    pub fn is_subscription_key_refused(&self) -> bool {
        self.status == 401 && self.shape == ErrorShape::SubscriptionKey
    }
}

fn parse_json(value: &Value, raw: &str) -> (ErrorShape, Vec<ErrorItem>, String) {
    match value {
        Value::Array(list) => {
            let items: Vec<ErrorItem> = list.iter().filter_map(item_of).collect();
            if items.is_empty() {
                (ErrorShape::Other, items, truncate(raw, MAX_TEXT))
            } else {
                let message = join_items(&items);
                (ErrorShape::Business, items, message)
            }
        }
        Value::Object(map) => {
            if let Some(state) = get_ci(map, "modelState").and_then(Value::as_object) {
                let head = get_ci(map, "message")
                    .and_then(Value::as_str)
                    .unwrap_or("The request is invalid.");
                let mut parts = Vec::new();
                for (field, msgs) in state {
                    let msgs: Vec<&str> = match msgs {
                        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                        Value::String(s) => vec![s.as_str()],
                        _ => Vec::new(),
                    };
                    let field = field.trim_start_matches("model.");
                    parts.push(format!("{field}: {}", msgs.join(", ")));
                }
                let message = if parts.is_empty() {
                    head.to_owned()
                } else {
                    format!("{head} {}", parts.join("; "))
                };
                return (ErrorShape::ModelState, Vec::new(), message);
            }
            if map.contains_key("statusCode") || map.contains_key("StatusCode") {
                let message = get_ci(map, "message")
                    .and_then(Value::as_str)
                    .map_or_else(|| truncate(raw, MAX_TEXT), str::to_owned);
                let status = get_ci(map, "statusCode").and_then(Value::as_u64);
                let shape = if status == Some(401)
                    && message.to_ascii_lowercase().contains("subscription key")
                {
                    ErrorShape::SubscriptionKey
                } else {
                    ErrorShape::Gateway
                };
                return (shape, Vec::new(), message);
            }
            if let Some(error) = map.get("error") {
                let head = match error {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let message = match map.get("error_description").and_then(Value::as_str) {
                    Some(d) if !d.is_empty() => format!("{head}: {d}"),
                    _ => head,
                };
                return (ErrorShape::OAuth, Vec::new(), message);
            }
            if get_ci(map, "errorCode").is_some() {
                let items: Vec<ErrorItem> = item_of(value).into_iter().collect();
                let message = join_items(&items);
                return (ErrorShape::Business, items, message);
            }
            if let Some(m) = get_ci(map, "message").and_then(Value::as_str) {
                // ASP.NET adds MessageDetail / ExceptionMessage on some framework errors.
                let detail = get_ci(map, "messageDetail")
                    .or_else(|| get_ci(map, "exceptionMessage"))
                    .and_then(Value::as_str);
                let message = match detail {
                    Some(d) if !d.is_empty() => format!("{m} {d}"),
                    _ => m.to_owned(),
                };
                return (ErrorShape::Framework, Vec::new(), message);
            }
            (ErrorShape::Other, Vec::new(), truncate(raw, MAX_TEXT))
        }
        Value::String(s) => (ErrorShape::Other, Vec::new(), truncate(s, MAX_TEXT)),
        _ => (ErrorShape::Other, Vec::new(), truncate(raw, MAX_TEXT)),
    }
}

fn item_of(value: &Value) -> Option<ErrorItem> {
    let map = value.as_object()?;
    let code = get_ci(map, "errorCode")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let message = get_ci(map, "message")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if code.is_none() && message.is_empty() {
        return None;
    }
    Some(ErrorItem { code, message })
}

fn join_items(items: &[ErrorItem]) -> String {
    match items {
        [one] => {
            if one.message.is_empty() {
                one.code.clone().unwrap_or_default()
            } else {
                one.message.clone()
            }
        }
        many => many
            .iter()
            .map(|i| match &i.code {
                Some(code) => format!("{code}: {}", i.message),
                None => i.message.clone(),
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// A key of a JSON object, matched case-insensitively (ASP.NET emits `Message`, APIM `message`).
fn get_ci<'a>(map: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max).collect();
        out.push('…');
        out
    }
}

fn reason_phrase(status: u16) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error");
    format!("HTTP {status} {reason} (empty body)")
}

/// Finds the first SnelStart error code `ABC-1234` in `text` (README §8.2).
#[must_use]
pub fn find_error_code(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if bytes.len() < 8 {
        return None;
    }
    (0..=bytes.len() - 8).find_map(|i| {
        let w = &bytes[i..i + 8];
        let shape = w[..3].iter().all(u8::is_ascii_uppercase)
            && w[3] == b'-'
            && w[4..].iter().all(u8::is_ascii_digit);
        let left_ok = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let right_ok = bytes.get(i + 8).is_none_or(|b| !b.is_ascii_alphanumeric());
        (shape && left_ok && right_ok).then(|| String::from_utf8_lossy(w).into_owned())
    })
}

/// `Retry-After` as delta-seconds or an HTTP-date, at most an hour; garbage is ignored
/// (see [`super::untrusted::parse_retry_after_at`]).
#[must_use]
pub fn parse_retry_after(raw: &str) -> Option<Duration> {
    super::untrusted::parse_retry_after_at(raw, std::time::SystemTime::now())
}

/// APIM's default 429 body says "Try again in N seconds."; used when the header is missing.
fn seconds_in_text(text: &str) -> Option<Duration> {
    let lower = text.to_lowercase();
    let at = lower.find("try again in ")? + "try again in ".len();
    let digits: String = lower[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    // "Try again in 1e309 seconds." is not 1 second: the digits must be the whole number.
    if digits.is_empty() || !lower[at + digits.len()..].starts_with(" second") {
        return None;
    }
    // More digits than fit in a u64 still mean "a long time".
    let secs = digits.parse().unwrap_or(u64::MAX);
    Some(super::untrusted::clamp_wait(Duration::from_secs(secs)))
}

/// Why a client call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The API answered with a non-success status (after the one token renewal on a 401).
    #[error("SnelStart answered {0}")]
    Api(ApiError),
    /// The token endpoint refused or failed.
    #[error("the SnelStart token endpoint answered {0}")]
    Token(ApiError),
    /// The token endpoint could not be reached or broke off: nothing was sent to the API.
    #[error("the SnelStart token endpoint could not be reached: {0}")]
    TokenUnavailable(String),
    /// The client's own per-administratie limits would make the call wait too long.
    #[error("the SnelStart call limit for this administratie is reached; try again in {} s", retry_after.as_secs())]
    Throttled {
        /// When a call may be made again.
        retry_after: Duration,
    },
    /// No answer in time: the request may have been processed.
    #[error("SnelStart did not answer within the timeout")]
    Timeout,
    /// The connection could not be made: nothing was sent.
    #[error("could not connect to SnelStart: {0}")]
    Connect(String),
    /// The connection broke while sending or receiving: the request may have been processed.
    #[error("the connection to SnelStart broke: {0}")]
    Transport(String),
    /// A success answer whose body could not be read.
    #[error("SnelStart's answer could not be read: {0}")]
    Decode(String),
    /// An answer that cannot be trusted: a body over the size limit, a redirect (never
    /// followed), or an id that is not a GUID. The request may have been processed.
    #[error("SnelStart's answer cannot be used: {0}")]
    InvalidAnswer(String),
    /// The request could not be built (bad URL, body not serialisable).
    #[error("the SnelStart request could not be built: {0}")]
    Request(String),
}

impl CallError {
    /// Whether the request may have reached SnelStart's backend and been processed.
    #[must_use]
    pub fn may_have_been_processed(&self) -> bool {
        match self {
            Self::Api(e) => e.status >= 500 || e.status == 408,
            Self::Timeout | Self::Transport(_) | Self::Decode(_) | Self::InvalidAnswer(_) => true,
            Self::Token(_)
            | Self::TokenUnavailable(_)
            | Self::Throttled { .. }
            | Self::Connect(_)
            | Self::Request(_) => false,
        }
    }
}
