//! Reading a body: JSON → a body type, naming the offending field (answered with 400, or
//! 422 `too_long`), and the field types the bodies share (amounts, dates, texts).

use std::fmt::Write as _;
use std::str::FromStr;

use chrono::NaiveDate;
use koppeling_domain::ids::ResourceId;
use koppeling_domain::problem::Problem;
use rust_decimal::Decimal;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Reading bodies

/// Why a body could not be read (answered with 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    /// `invalid_json`, `unknown_field`, `missing_field`, `invalid_type` or `invalid_value`.
    pub code: &'static str,
    /// The JSON path, e.g. `lines[0].unit_price`; empty for the body as a whole.
    pub field: String,
    /// A sentence that names the field.
    pub message: String,
    /// What is wrong, without the field (for `line N: <field>: <detail>`).
    pub detail: String,
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads a JSON body into `T`, naming the offending field on failure.
///
/// # Errors
/// A [`BodyError`] for malformed JSON, a wrong type, a missing or an unknown field.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(BodyError {
            code: "invalid_json",
            field: String::new(),
            message: "The request body is empty; send a JSON object.".to_owned(),
            detail: "the body is empty".to_owned(),
        });
    }
    // serde reads a struct from a JSON array too (`[null, null]` as the fields in order):
    // every body is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(not_an_object());
    }
    // JSON can carry U+0000 only as the escape `\u0000`: look closer only then.
    if bytes.windows(6).any(|w| w == br"\u0000")
        && let Ok(parsed) = serde_json::from_slice::<Value>(bytes)
        && let Some(error) = nul_error(&parsed)
    {
        return Err(error);
    }
    // A body shorter than the cap cannot hold a string longer than it: look closer only then.
    if bytes.len() > MAX_TEXT_CHARS
        && let Ok(parsed) = serde_json::from_slice::<Value>(bytes)
        && let Some(error) = too_long_error(&parsed)
    {
        return Err(error);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => value,
        // serde_json reports a number or a boolean where an enum is expected (`"vat": 0`) as
        // the syntax error "expected value", without a path. When the body is valid JSON,
        // read it again as a value: that names the field and the wrong type.
        Err(e) if e.inner().is_syntax() => {
            return match serde_json::from_slice::<Value>(bytes) {
                Ok(parsed) => from_value(parsed),
                Err(_) => Err(body_error(e, true)),
            };
        }
        Err(e) => return Err(body_error(e, true)),
    };
    de.end().map_err(|e| BodyError {
        code: "invalid_json",
        field: String::new(),
        message: format!("The body is not valid JSON: {}.", strip_position(&e)),
        detail: strip_position(&e),
    })?;
    Ok(value)
}

/// The refusal of a body that is a JSON array.
fn not_an_object() -> BodyError {
    BodyError {
        code: "invalid_type",
        field: String::new(),
        message: "The body must be a JSON object, not an array.".to_owned(),
        detail: "invalid type: array, expected a JSON object".to_owned(),
    }
}

/// Reads a parsed JSON value into `T` (used by the import, line by line).
///
/// # Errors
/// As [`from_json`].
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, BodyError> {
    if value.is_array() {
        return Err(not_an_object());
    }
    if let Some(error) = nul_error(&value) {
        return Err(error);
    }
    if let Some(error) = too_long_error(&value) {
        return Err(error);
    }
    serde_path_to_error::deserialize(value).map_err(|e| body_error(e, false))
}

/// The most characters any free-text field of a body or an import line accepts (issue 13).
/// SnelStart's own, smaller limits are checked when an invoice is sent, with a hint; a
/// Beheerder's `password` has its own rule and is not counted here.
pub const MAX_TEXT_CHARS: usize = 1000;

/// The refusal (`too_long`, answered with 422) of the first string longer than
/// [`MAX_TEXT_CHARS`] characters, naming its path.
fn too_long_error(value: &Value) -> Option<BodyError> {
    let mut path = String::new();
    if !too_long_in(value, &mut path) {
        return None;
    }
    let detail = format!("is longer than {MAX_TEXT_CHARS} characters");
    Some(BodyError {
        code: "too_long",
        message: format!("{path} {detail}; shorten it."),
        field: path,
        detail,
    })
}

fn too_long_in(value: &Value, path: &mut String) -> bool {
    match value {
        // Counting stops at the cap: a 50 MB string costs no more than a short one.
        Value::String(s) => {
            s.len() > MAX_TEXT_CHARS
                && s.chars().nth(MAX_TEXT_CHARS).is_some()
                && path != "password"
        }
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let len = path.len();
            let _ = write!(path, "[{i}]");
            let found = too_long_in(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        Value::Object(map) => map.iter().any(|(key, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            let found = too_long_in(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// The refusal of a body with U+0000 in a string or key, naming where.
fn nul_error(value: &Value) -> Option<BodyError> {
    let mut path = String::new();
    if !nul_in(value, &mut path) {
        return None;
    }
    let detail = "contains the character U+0000 (NUL), which no field accepts".to_owned();
    Some(BodyError {
        code: "invalid_value",
        message: if path.is_empty() {
            format!("The body {detail}.")
        } else {
            format!("{path} {detail}; remove it.")
        },
        field: path,
        detail,
    })
}

/// Whether a string or key in `value` contains U+0000 (PostgreSQL cannot store it in
/// text); `path` is left at the first one, as `a.b[0].c`.
fn nul_in(value: &Value, path: &mut String) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let len = path.len();
            let _ = write!(path, "[{i}]");
            let found = nul_in(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        Value::Object(map) => map.iter().any(|(key, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&key.replace('\0', "\\u0000"));
            let found = key.contains('\0') || nul_in(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

fn path_string(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            serde_path_to_error::Segment::Seq { index } => {
                let _ = write!(out, "[{index}]");
            }
            serde_path_to_error::Segment::Map { key } => push_key(&mut out, key),
            serde_path_to_error::Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(variant);
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

fn strip_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) if error.line() > 0 => text[..at].to_owned(),
        _ => text,
    }
}

/// The name between the first pair of backticks of a serde message.
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// Appends one object key to a field path: `a.b` for a plain name, `a[" "]` (the key as a
/// JSON string) for a key that is blank or holds a character a path would misread, so that
/// `field` always names something a reader can find in the body.
fn push_key(out: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if plain {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(key);
    } else {
        out.push('[');
        out.push_str(&serde_json::Value::String(key.to_owned()).to_string());
        out.push(']');
    }
}

fn join_field(parent: &str, name: &str) -> String {
    let mut leaf = String::new();
    push_key(&mut leaf, name);
    if parent.is_empty() {
        leaf
    } else if parent == leaf
        || parent.ends_with(&format!(".{leaf}"))
        || parent.ends_with(&leaf) && leaf.starts_with('[')
    {
        parent.to_owned()
    } else if leaf.starts_with('[') {
        format!("{parent}{leaf}")
    } else {
        format!("{parent}.{leaf}")
    }
}

/// `text`: whether the error came from reading JSON text; reading a parsed value has no
/// syntax to get wrong, so its "syntax" errors (a number too large for its field, such as
/// `1e400`) are bad values of the field.
fn body_error(error: serde_path_to_error::Error<serde_json::Error>, text: bool) -> BodyError {
    use serde_json::error::Category;
    let path = path_string(error.path());
    let inner = error.inner();
    let detail = strip_position(inner);
    let category = match inner.classify() {
        Category::Syntax | Category::Eof if !text => Category::Data,
        other => other,
    };
    match category {
        Category::Syntax | Category::Eof | Category::Io => BodyError {
            code: "invalid_json",
            field: String::new(),
            message: format!(
                "The body is not valid JSON: {detail} (line {}, column {}).",
                inner.line(),
                inner.column()
            ),
            detail,
        },
        Category::Data => {
            if detail.starts_with("unknown field") {
                let name = quoted_name(&detail).unwrap_or_default();
                let field = join_field(&path, name);
                BodyError {
                    code: "unknown_field",
                    message: format!("{field} is not a known field: {detail}."),
                    field,
                    detail,
                }
            } else if detail.starts_with("missing field") {
                let name = quoted_name(&detail).unwrap_or_default();
                let field = join_field(&path, name);
                BodyError {
                    code: "missing_field",
                    message: format!("{field} is required."),
                    field,
                    detail,
                }
            } else if path.is_empty() {
                BodyError {
                    code: "invalid_type",
                    field: path,
                    message: "The body must be a JSON object with the documented fields."
                        .to_owned(),
                    detail: "a line must be one JSON object with the documented fields".to_owned(),
                }
            } else if detail.starts_with("invalid type") || detail.starts_with("invalid length") {
                BodyError {
                    code: "invalid_type",
                    message: if path.is_empty() {
                        format!("The body has the wrong type: {detail}.")
                    } else {
                        format!("{path} has the wrong type: {detail}.")
                    },
                    field: path,
                    detail,
                }
            } else {
                BodyError {
                    code: "invalid_value",
                    message: if path.is_empty() {
                        format!("The body has an invalid value: {detail}.")
                    } else {
                        format!("{path} is invalid: {detail}.")
                    },
                    field: path,
                    detail,
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Field types

/// An amount, quantity or price: a JSON string or number, read exactly from its decimal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(pub Decimal);

/// Parses decimal text such as `12.50`, `-3` or (from a JSON number) `1.5e2`, exactly.
///
/// # Errors
/// A sentence when the text is not a decimal number or does not fit.
pub fn parse_amount(text: &str) -> Result<Decimal, String> {
    let plain = {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && (!digits.contains('.')
                || (!frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit())))
    };
    let parsed = if plain {
        Decimal::from_str(text).ok()
    } else if text.contains(['e', 'E'])
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        Decimal::from_scientific(text).ok()
    } else {
        return Err(format!(
            "{text:?} is not an amount; write a decimal number such as \"12.50\""
        ));
    };
    parsed.ok_or_else(|| format!("{text:?} is too large or too precise for an amount"))
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = match Value::deserialize(deserializer)? {
            Value::String(s) => s,
            Value::Number(n) => n.as_str().to_owned(),
            other => {
                return Err(D::Error::custom(format!(
                    "invalid type: {}, expected an amount as a string or number such as \"12.50\"",
                    kind_of(&other)
                )));
            }
        };
        parse_amount(&text).map(Amount).map_err(D::Error::custom)
    }
}

/// A calendar date written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// Parses a strict `YYYY-MM-DD` date.
///
/// # Errors
/// A sentence when the text is not such a date.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    shape
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("{text:?} is not a date; write YYYY-MM-DD, e.g. 2026-11-27"))
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_date(&text).map(Date).map_err(D::Error::custom)
    }
}

/// A text that callers may also send as a JSON number (relation codes, invoice numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(s) => Ok(Text(s)),
            Value::Number(n) if n.is_u64() || n.is_i64() => Ok(Text(n.as_str().to_owned())),
            // A whole number written with a fraction (`1001.0`, JSON Schema's `integer`):
            // its digits.
            Value::Number(n)
                if Decimal::from_str(n.as_str()).is_ok_and(|d| {
                    d.fract().is_zero() && (i64::try_from(d).is_ok() || u64::try_from(d).is_ok())
                }) =>
            {
                let d = Decimal::from_str(n.as_str()).unwrap_or_default();
                Ok(Text(d.trunc().normalize().to_string()))
            }
            other => Err(D::Error::custom(format!(
                "invalid type: {}, expected a string",
                kind_of(&other)
            ))),
        }
    }
}

pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(super) fn resource_id(
    raw: &str,
    field: &str,
    problems: &mut Vec<Problem>,
) -> Option<ResourceId> {
    ResourceId::parse_field(raw, field)
        .map_err(|p| problems.push(p))
        .ok()
}

pub(super) fn done<T>(value: Option<T>, problems: Vec<Problem>) -> Result<T, Vec<Problem>> {
    match value {
        Some(value) if problems.is_empty() => Ok(value),
        _ => Err(problems),
    }
}

// ---------------------------------------------------------------------------------------
// The field types in the OpenAPI document (issue 14): each states what its `Deserialize`
// accepts, so that the document neither promises more nor less than the reader takes.

/// An amount as a string: digits with at most 4 significant decimals (trailing zeros are
/// free), at most 1,000,000,000 in size, as [`parse_amount`] and the domain's
/// `too_many_decimals` / `out_of_range` rules read it.
pub const AMOUNT_PATTERN: &str = r"^-?0*([0-9]{1,9}(\.[0-9]{1,4}0*)?|1000000000(\.0+)?)$";

/// The most an amount may be in size (the domain's `out_of_range`).
pub const MAX_AMOUNT: i64 = 1_000_000_000;

impl utoipa::PartialSchema for Amount {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .description(Some(
                "A decimal as a string or a JSON number, read from its decimal text (never \
                 through a float): at most 4 decimals, between -1000000000 and 1000000000",
            ))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(AMOUNT_PATTERN))
                    .examples(["12.50"]),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .minimum(Some(-MAX_AMOUNT))
                    .maximum(Some(MAX_AMOUNT))
                    .multiple_of(Some(0.0001)),
            )
            .into()
    }
}

impl utoipa::ToSchema for Amount {}

impl utoipa::PartialSchema for Date {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
            .description(Some("A calendar date, YYYY-MM-DD"))
            .into()
    }
}

impl utoipa::ToSchema for Date {}

impl utoipa::PartialSchema for Text {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .description(Some("A text; a whole JSON number is read as its digits"))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(MAX_TEXT_CHARS))
                    .pattern(Some(NON_BLANK_PATTERN)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(i64::MIN))
                    .maximum(Some(u64::MAX)),
            )
            .into()
    }
}

impl utoipa::ToSchema for Text {}

/// A text with at least one character that is not white space, and no U+0000 (the domain's
/// `required` rule; PostgreSQL cannot store U+0000).
pub const NON_BLANK_PATTERN: &str = r"^[^\u0000]*[^\s\u0000][^\u0000]*$";

/// A text without U+0000 (every string of a body, [`from_json`]).
pub const NO_NUL_PATTERN: &str = r"^[^\u0000]*$";

// ---------------------------------------------------------------------------------------
// Shapes JSON Schema states and serde's derive does not enforce on its own (issue 14's
// conformance run): a whole number may be written `705.0`, and an object is never an array.

/// A JSON number with no fraction as an `i64`: `705` and `705.0` alike (JSON Schema's
/// `integer`); `705.5` and anything else is refused as serde refuses it.
fn whole_i64<E: serde::de::Error>(value: &Value) -> Result<i64, E> {
    use serde::de::Unexpected;
    if let Value::Number(n) = value {
        if let Some(i) = n.as_i64() {
            return Ok(i);
        }
        if let Ok(d) =
            Decimal::from_scientific(n.as_str()).or_else(|_| Decimal::from_str(n.as_str()))
            && d.fract().is_zero()
            && let Ok(i) = i64::try_from(d)
        {
            return Ok(i);
        }
    }
    let unexpected = match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match n.as_f64() {
            Some(f) => Unexpected::Float(f),
            None => Unexpected::Other("number"),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    };
    Err(E::invalid_type(unexpected, &"i64"))
}

/// `deserialize_with` for an `i64` field: see [`whole_i64`].
pub(super) fn whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    whole_i64(&Value::deserialize(deserializer)?)
}

/// `deserialize_with` for an optional `i64` field (null or a whole number).
pub(super) fn whole_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        other => whole_i64(&other).map(Some),
    }
}

/// `T` read from a JSON object only (serde's derive would also read it from an array of
/// its fields in order).
pub(super) struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<T, M::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(Visit(std::marker::PhantomData))
            .map(Obj)
    }
}

/// `deserialize_with` for an optional object field (null or an object).
pub(super) fn object_opt<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Ok(Option::<Obj<T>>::deserialize(deserializer)?.map(|o| o.0))
}

/// `deserialize_with` for a list of objects.
pub(super) fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Vec::<Obj<T>>::deserialize(deserializer)?
        .into_iter()
        .map(|o| o.0)
        .collect())
}

/// The read-only parts of a fetched invoice that a PUT may carry back (`totals`, `sync`, …):
/// any JSON, ignored, but read like every body: no string or key holds U+0000, no string
/// (keys aside) more than [`MAX_TEXT_CHARS`] characters.
pub struct ReadOnly;

impl utoipa::PartialSchema for ReadOnly {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Type};
        use utoipa::openapi::{Ref, RefOr};
        let me = || RefOr::Ref(Ref::from_schema_name("ReadOnly"));
        let text = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(MAX_TEXT_CHARS))
                .pattern(Some(NO_NUL_PATTERN))
        };
        AnyOfBuilder::new()
            .description(Some("Read-only: accepted and ignored"))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(text())
            .item(ArrayBuilder::new().items(me()))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property_names(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .pattern(Some(NO_NUL_PATTERN)),
                    ))
                    .additional_properties(Some(me())),
            )
            .into()
    }
}

impl utoipa::ToSchema for ReadOnly {}
