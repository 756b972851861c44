//! Request bodies (JSON → domain, with field-level errors) and responses (domain → JSON).
//!
//! Bodies refuse unknown fields. Amounts come in as strings or numbers and are read from
//! their decimal text, never through a float; amounts go out as strings with two decimals.
//! `koppeling import` reuses these bodies, so a line reads exactly like an API call.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use koppeling_domain::koppeling::{
    ConnectionKey, KoppelingSettings, KoppelingState, RevenueLedgers, VatCodes,
};
use koppeling_domain::money::{VatClass, format_cents};
use koppeling_domain::pause::PauseReason;
use koppeling_domain::ports::{Admin, Administratie, StatusCounts, SyncState, SyncStatus};
use koppeling_domain::problem::{Band, Problem, Rule};
use koppeling_domain::relation::{Address, Relation, RelationKind};
use koppeling_domain::sync::KoppelingOverview;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
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

/// Reads a parsed JSON value into `T` (used by the import, line by line).
///
/// # Errors
/// As [`from_json`].
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, BodyError> {
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
            other => Err(D::Error::custom(format!(
                "invalid type: {}, expected a string",
                kind_of(&other)
            ))),
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn resource_id(raw: &str, field: &str, problems: &mut Vec<Problem>) -> Option<ResourceId> {
    ResourceId::parse_field(raw, field)
        .map_err(|p| problems.push(p))
        .ok()
}

fn done<T>(value: Option<T>, problems: Vec<Problem>) -> Result<T, Vec<Problem>> {
    match value {
        Some(value) if problems.is_empty() => Ok(value),
        _ => Err(problems),
    }
}

// ---------------------------------------------------------------------------------------
// Bodies

/// `PUT /administraties/{adm}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutAdministratieBody {
    /// The firm's name.
    pub name: String,
}

impl PutAdministratieBody {
    /// The administratie with code `code`.
    #[must_use]
    pub fn into_domain(self, code: AdministratieCode) -> Administratie {
        Administratie {
            code,
            name: self.name,
        }
    }
}

/// `PUT /administraties/{adm}/admins/{id}`: a Beheerder; the password is write-only.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutAdminBody {
    /// Name.
    pub name: String,
    /// E-mail, the log-in.
    pub email: String,
    /// Sets the UI log-in when present.
    #[serde(default)]
    pub password: Option<SecretString>,
}

impl PutAdminBody {
    /// The Beheerder and the plain password to hash, if one was given.
    ///
    /// # Errors
    /// A problem on `password` when it is shorter than 12 or longer than 1024 characters.
    pub fn into_domain(
        self,
        id: ResourceId,
    ) -> Result<(Admin, Option<SecretString>), Vec<Problem>> {
        if let Some(password) = &self.password {
            let len = password.expose_secret().chars().count();
            if !(crate::MIN_PASSWORD_LEN..=1024).contains(&len) {
                return Err(vec![Problem::new(
                    "password",
                    Rule::InvalidPassword {
                        min: crate::MIN_PASSWORD_LEN,
                        max: 1024,
                    },
                )]);
            }
        }
        Ok((
            Admin {
                id,
                name: self.name,
                email: self.email.trim().to_owned(),
            },
            self.password,
        ))
    }
}

/// The address of a relation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    /// Street.
    #[serde(default)]
    pub street: Option<String>,
    /// House number with any addition.
    #[serde(default)]
    pub house_number: Option<String>,
    /// Postcode.
    #[serde(default)]
    pub postcode: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// ISO-2 country; `NL` when absent.
    #[serde(default)]
    pub country: Option<String>,
}

/// `PUT /administraties/{adm}/relations/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutRelationBody {
    /// The Radar360 relation code (may contain letters; SnelStart needs digits).
    pub code: Text,
    /// `company` or `person`.
    pub kind: RelationKind,
    /// Name.
    pub name: String,
    /// Address.
    #[serde(default)]
    pub address: Option<AddressBody>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// VAT number.
    #[serde(default)]
    pub vat_number: Option<String>,
    /// KvK number.
    #[serde(default)]
    pub coc_number: Option<String>,
    /// IBAN.
    #[serde(default)]
    pub iban: Option<String>,
}

impl PutRelationBody {
    /// The relation with id `id`; the SnelStart tick is the store's to keep.
    #[must_use]
    pub fn into_domain(self, id: ResourceId) -> Relation {
        Relation {
            id,
            code: self.code.0,
            kind: self.kind,
            name: self.name,
            address: self.address.map(|a| Address {
                street: a.street,
                house_number: a.house_number,
                postcode: a.postcode,
                city: a.city,
                country: Some(a.country.unwrap_or_else(|| "NL".to_owned())),
            }),
            email: self.email,
            phone: self.phone,
            vat_number: self.vat_number,
            coc_number: self.coc_number,
            iban: self.iban,
            snelstart_enabled: false,
        }
    }
}

/// `PUT /administraties/{adm}/relations/{id}/snelstart`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutSnelstartBody {
    /// Tick or un-tick SnelStart.
    pub enabled: bool,
}

fn default_payment_term() -> i64 {
    30
}

/// One invoice line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    /// Description (may be empty).
    #[serde(default)]
    pub description: String,
    /// Quantity, at most 4 decimals.
    pub quantity: Amount,
    /// Unit price excluding VAT, at most 4 decimals.
    pub unit_price: Amount,
    /// `high`, `low`, `zero` or `reverse_charge`.
    pub vat: VatClass,
    /// Read-only (the line's amount as GET shows it): accepted and ignored.
    #[serde(default)]
    pub amount: Option<serde::de::IgnoredAny>,
}

/// `PUT /administraties/{adm}/invoices/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutInvoiceBody {
    /// Invoice number (factuurnummer).
    pub number: Text,
    /// The relation it is addressed to.
    pub relation_id: String,
    /// Invoice date.
    pub date: Date,
    /// Payment term in days (30 when absent).
    #[serde(default = "default_payment_term")]
    pub payment_term_days: i64,
    /// `draft` or `final`.
    pub status: InvoiceStatus,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Lines.
    pub lines: Vec<LineBody>,
    /// The invoice's own id, as GET shows it: accepted when it equals the path's
    /// (`id_mismatch` otherwise), so that a fetched invoice can be PUT back.
    #[serde(default)]
    pub id: Option<String>,
    /// Read-only parts of the representation GET returns: accepted and ignored.
    #[serde(default)]
    pub totals: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    pub sync: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    pub payment: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    pub drift: Option<serde::de::IgnoredAny>,
    /// Read-only.
    #[serde(default)]
    pub documents: Option<serde::de::IgnoredAny>,
}

/// `id_mismatch` when a body's `id` differs from the path's.
fn id_matches(body_id: Option<&str>, path_id: &ResourceId, problems: &mut Vec<Problem>) {
    if let Some(given) = body_id
        && given != path_id.as_str()
    {
        problems.push(Problem::new(
            "id",
            Rule::IdMismatch {
                given: given.to_owned(),
                path: path_id.as_str().to_owned(),
            },
        ));
    }
}

impl PutInvoiceBody {
    /// The invoice with id `id`.
    ///
    /// # Errors
    /// A problem on `relation_id` when it is not a valid id.
    pub fn into_domain(self, id: ResourceId) -> Result<Invoice, Vec<Problem>> {
        let mut problems = Vec::new();
        id_matches(self.id.as_deref(), &id, &mut problems);
        let relation_id = resource_id(&self.relation_id, "relation_id", &mut problems);
        let invoice = relation_id.map(|relation_id| Invoice {
            id,
            number: self.number.0,
            relation_id,
            date: self.date.0,
            payment_term_days: self.payment_term_days,
            status: self.status,
            description: self.description,
            lines: self
                .lines
                .into_iter()
                .map(|l| InvoiceLine {
                    description: l.description,
                    quantity: l.quantity.0,
                    unit_price: l.unit_price.0,
                    vat: l.vat,
                })
                .collect(),
        });
        done(invoice, problems)
    }
}

/// The BTW codes 12/11/10 as sent.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VatCodesBody {
    /// Omzet hoog (12).
    pub high: i64,
    /// Omzet laag (11).
    pub low: i64,
    /// Omzet onbelast/verlegd (10).
    pub zero: i64,
}

/// Optional revenue ledger per class.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevenueLedgersBody {
    /// Ledger for high.
    #[serde(default)]
    pub high: Option<i64>,
    /// Ledger for low.
    #[serde(default)]
    pub low: Option<i64>,
    /// Ledger for zero and reverse charge.
    #[serde(default)]
    pub zero: Option<i64>,
}

/// `PUT /administraties/{adm}/integrations/snelstart`: the settings; the key is write-only
/// and kept when absent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutSettingsBody {
    /// BTW codes (12/11/10 when absent).
    #[serde(default)]
    pub vat_codes: Option<VatCodesBody>,
    /// Verkoopboek code (1300 when absent).
    #[serde(default)]
    pub sales_journal_code: Option<i64>,
    /// The koppelsleutel; absent or null keeps the stored one.
    #[serde(default)]
    pub key: Option<SecretString>,
    /// The Beheerder who is notified.
    #[serde(default)]
    pub notify_admin_id: Option<String>,
    /// Invoices dated before this are never sent.
    #[serde(default)]
    pub start_date: Option<Date>,
    /// Revenue ledger per class.
    #[serde(default)]
    pub revenue_ledgers: Option<RevenueLedgersBody>,
}

fn small_int(value: i64, field: &str, problems: &mut Vec<Problem>) -> Option<i32> {
    i32::try_from(value)
        .map_err(|_| {
            problems.push(Problem::new(
                field,
                Rule::OutOfRange {
                    min: i64::from(i32::MIN),
                    max: i64::from(i32::MAX),
                    actual: value.to_string(),
                },
            ));
        })
        .ok()
}

impl PutSettingsBody {
    /// The settings and the new key, if one was given.
    ///
    /// # Errors
    /// Problems naming the field (out-of-range numbers, an invalid id or key); the rules
    /// of the settings themselves are the domain's.
    pub fn into_domain(self) -> Result<(KoppelingSettings, Option<ConnectionKey>), Vec<Problem>> {
        let mut problems = Vec::new();
        let defaults = KoppelingSettings::default();
        let vat_codes = match self.vat_codes {
            None => defaults.vat_codes,
            Some(codes) => {
                let mut code = |band: Band, value: i64| -> u8 {
                    u8::try_from(value).unwrap_or_else(|_| {
                        problems.push(Problem::new(
                            format!("vat_codes.{}", band.key()),
                            Rule::WrongVatCode { band, got: value },
                        ));
                        band.vat_code()
                    })
                };
                VatCodes {
                    high: code(Band::High, codes.high),
                    low: code(Band::Low, codes.low),
                    zero: code(Band::Zero, codes.zero),
                }
            }
        };
        let sales_journal_code = match self.sales_journal_code {
            None => defaults.sales_journal_code,
            Some(v) => small_int(v, "sales_journal_code", &mut problems).unwrap_or_default(),
        };
        let ledgers = self.revenue_ledgers.unwrap_or_default();
        let mut ledger = |name: &str, value: Option<i64>| {
            value.and_then(|v| small_int(v, &format!("revenue_ledgers.{name}"), &mut problems))
        };
        let revenue_ledgers = RevenueLedgers {
            high: ledger("high", ledgers.high),
            low: ledger("low", ledgers.low),
            zero: ledger("zero", ledgers.zero),
        };
        let notify_admin_id = self
            .notify_admin_id
            .as_deref()
            .and_then(|raw| resource_id(raw, "notify_admin_id", &mut problems));
        let key = match self.key {
            None => None,
            Some(key) => ConnectionKey::new(key.expose_secret().to_owned())
                .map_err(|p| problems.push(p))
                .ok(),
        };
        let settings = KoppelingSettings {
            vat_codes,
            sales_journal_code,
            notify_admin_id,
            start_date: self.start_date.map(|d| d.0),
            revenue_ledgers,
        };
        done(Some((settings, key)), problems)
    }
}

// ---------------------------------------------------------------------------------------
// Responses

/// An amount with exactly two decimals, e.g. `"121.00"`.
#[must_use]
pub fn money(value: Decimal) -> String {
    format_cents(value)
}

/// A quantity or unit price exactly as held, with at least two decimals (`"1.00"`,
/// `"0.1234"`).
#[must_use]
pub fn exact(value: Decimal) -> String {
    let mut v = value.normalize();
    if v.scale() < 2 {
        v.rescale(2);
    }
    v.to_string()
}

/// An administratie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdministratieResponse {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

impl From<&Administratie> for AdministratieResponse {
    fn from(a: &Administratie) -> Self {
        Self {
            code: a.code.to_string(),
            name: a.name.clone(),
        }
    }
}

/// A Beheerder (the password is never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminResponse {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
}

impl From<&Admin> for AdminResponse {
    fn from(a: &Admin) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
            email: a.email.clone(),
        }
    }
}

/// A relation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelationResponse {
    /// Id.
    pub id: String,
    /// Radar360 code.
    pub code: String,
    /// `company` or `person`.
    pub kind: RelationKind,
    /// Name.
    pub name: String,
    /// Address.
    pub address: Option<Address>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// VAT number.
    pub vat_number: Option<String>,
    /// KvK number.
    pub coc_number: Option<String>,
    /// IBAN.
    pub iban: Option<String>,
    /// Whether SnelStart is ticked.
    pub snelstart_enabled: bool,
}

impl From<&Relation> for RelationResponse {
    fn from(r: &Relation) -> Self {
        Self {
            id: r.id.to_string(),
            code: r.code.clone(),
            kind: r.kind,
            name: r.name.clone(),
            address: r.address.clone(),
            email: r.email.clone(),
            phone: r.phone.clone(),
            vat_number: r.vat_number.clone(),
            coc_number: r.coc_number.clone(),
            iban: r.iban.clone(),
            snelstart_enabled: r.snelstart_enabled,
        }
    }
}

/// One invoice line as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineResponse {
    /// Description.
    pub description: String,
    /// Quantity.
    pub quantity: String,
    /// Unit price excluding VAT.
    pub unit_price: String,
    /// VAT class.
    pub vat: VatClass,
    /// quantity × unit price, rounded to cents.
    pub amount: String,
}

/// Base and VAT of one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassTotalResponse {
    /// Σ line amounts.
    pub base: String,
    /// VAT.
    pub vat: String,
}

/// The totals of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TotalsResponse {
    /// Excluding VAT.
    pub net: String,
    /// VAT.
    pub vat: String,
    /// Including VAT.
    pub gross: String,
    /// Per class present (`high`, `low`, `zero`, `reverse_charge`).
    pub by_class: BTreeMap<String, ClassTotalResponse>,
}

/// The sync state of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncResponse {
    /// queued, in_progress, synced, failed or skipped.
    pub status: SyncStatus,
    /// The verkoopboeking id once synced.
    pub snelstart_id: Option<String>,
    /// The reason for failed and skipped.
    pub error: Option<String>,
    /// What to do.
    pub hint: Option<String>,
    /// Attempts so far.
    pub attempts: u32,
    /// When a back-off ends.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&SyncState> for SyncResponse {
    fn from(s: &SyncState) -> Self {
        Self {
            status: s.status,
            snelstart_id: s.snelstart_id.clone(),
            error: s.error.clone(),
            hint: s.hint.clone(),
            attempts: s.attempts,
            next_attempt_at: s.next_attempt_at,
            updated_at: s.updated_at,
        }
    }
}

/// An invoice with its totals and sync state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceResponse {
    /// Id.
    pub id: String,
    /// Invoice number.
    pub number: String,
    /// The relation.
    pub relation_id: String,
    /// Date.
    pub date: NaiveDate,
    /// Payment term in days.
    pub payment_term_days: i64,
    /// `draft` or `final`.
    pub status: InvoiceStatus,
    /// Description.
    pub description: Option<String>,
    /// Lines.
    pub lines: Vec<LineResponse>,
    /// Totals.
    pub totals: TotalsResponse,
    /// The sync state; null while the invoice is not queued.
    pub sync: Option<SyncResponse>,
    /// The payment as read back from SnelStart; null until the read-back has seen it.
    pub payment: Option<PaymentResponse>,
    /// Changed or deleted in SnelStart; null when SnelStart holds what was booked.
    pub drift: Option<koppeling_domain::readback::Drift>,
}

/// The overview's `events` (product §8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventsHealth {
    /// Since when pushing fails.
    pub failing_since: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// `payment` of an invoice (product §8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentResponse {
    /// `open`, `partially_paid` or `paid`.
    pub status: koppeling_domain::readback::PaymentStatus,
    /// What is still to be paid, two decimals.
    pub outstanding: String,
    /// The day of the latest settling bank or cash booking (`YYYY-MM-DD`), if any.
    pub paid_at: Option<NaiveDate>,
    /// When the read-back saw it.
    pub checked_at: DateTime<Utc>,
}

impl InvoiceResponse {
    /// Builds the answer from the stored invoice and its sync state.
    #[must_use]
    pub fn new(invoice: &Invoice, sync: Option<&SyncState>) -> Self {
        let totals = invoice.totals();
        Self {
            id: invoice.id.to_string(),
            number: invoice.number.clone(),
            relation_id: invoice.relation_id.to_string(),
            date: invoice.date,
            payment_term_days: invoice.payment_term_days,
            status: invoice.status,
            description: invoice.description.clone(),
            lines: invoice
                .lines
                .iter()
                .map(|l| LineResponse {
                    description: l.description.clone(),
                    quantity: exact(l.quantity),
                    unit_price: exact(l.unit_price),
                    vat: l.vat,
                    amount: money(l.amount()),
                })
                .collect(),
            totals: TotalsResponse {
                net: money(totals.net),
                vat: money(totals.vat),
                gross: money(totals.gross),
                by_class: totals
                    .by_class
                    .iter()
                    .map(|(class, t)| {
                        (
                            class.as_str().to_owned(),
                            ClassTotalResponse {
                                base: money(t.base),
                                vat: money(t.vat),
                            },
                        )
                    })
                    .collect(),
            },
            sync: sync.map(SyncResponse::from),
            payment: sync
                .and_then(|s| s.payment.as_ref())
                .map(|p| PaymentResponse {
                    status: p.status,
                    outstanding: money(p.outstanding),
                    paid_at: p.paid_at,
                    checked_at: p.checked_at,
                }),
            drift: sync.and_then(|s| s.drift.clone()),
        }
    }
}

/// The koppeling: the overview entry plus its settings (never the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntegrationResponse {
    /// Always `snelstart`.
    pub name: String,
    /// The Beheerder's switch.
    pub active: bool,
    /// inactive, active or paused_auth.
    pub state: KoppelingState,
    /// Why it is paused.
    pub problem: Option<String>,
    /// When an invoice was last synced.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Invoices per sync status, and paid and with drift (product §8.2).
    pub counts: StatusCounts,
    /// The optional parts, e.g. `{"payments":"missing_scope"}` (product §8).
    pub features: std::collections::BTreeMap<String, String>,
    /// The push to `events.url`: `{"failing_since","last_error"}`, nulls when healthy.
    pub events: EventsHealth,
    /// Whether settings were saved.
    pub configured: bool,
    /// Whether a koppelsleutel is stored.
    pub key_set: bool,
    /// How the key arrived: `snelstart_link`, `pasted`, or null without a key (§8.1).
    pub connection: Option<koppeling_domain::connect::ConnectionKind>,
    /// `missing`, `ok`, or `unusable` (stored, but no configured master key decrypts it).
    pub key_status: &'static str,
    /// BTW codes.
    pub vat_codes: VatCodes,
    /// Verkoopboek code.
    pub sales_journal_code: i32,
    /// The Beheerder who is notified.
    pub notify_admin_id: Option<String>,
    /// Invoices before this date are never sent.
    pub start_date: Option<NaiveDate>,
    /// Revenue ledger per class.
    pub revenue_ledgers: RevenueLedgers,
}

impl From<KoppelingOverview> for IntegrationResponse {
    fn from(o: KoppelingOverview) -> Self {
        let configured = o.settings.is_some();
        let settings = o.settings.unwrap_or_default();
        Self {
            name: o.name,
            active: o.active,
            state: o.state,
            problem: o.problem.as_ref().map(PauseReason::english),
            last_sync_at: o.last_sync_at,
            counts: o.counts,
            features: o.features,
            events: EventsHealth {
                failing_since: o.events_failing_since,
                last_error: o.events_last_error,
            },
            configured,
            key_set: o.key_set,
            connection: o.connection,
            key_status: if o.key_unusable {
                "unusable"
            } else if o.key_set {
                "ok"
            } else {
                "missing"
            },
            vat_codes: settings.vat_codes,
            sales_journal_code: settings.sales_journal_code,
            notify_admin_id: settings.notify_admin_id.map(String::from),
            start_date: settings.start_date,
            revenue_ledgers: settings.revenue_ledgers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_exactly_from_strings_and_numbers() {
        let body: LineBody =
            from_json(br#"{"quantity": 1.1, "unit_price": "0.1234", "vat": "high"}"#).unwrap();
        assert_eq!(body.quantity.0.to_string(), "1.1");
        assert_eq!(body.unit_price.0.to_string(), "0.1234");
        for (text, want) in [("12.50", "12.50"), ("-3", "-3"), ("1.5e2", "150")] {
            assert_eq!(parse_amount(text).unwrap().to_string(), want, "{text}");
        }
        for bad in ["", "1,5", "abc", ".5", "5.", "1.2.3", " 1", "NaN"] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
        assert!(parse_amount("123456789012345678901234567890123").is_err());
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-11-27").is_ok());
        for bad in [
            "2026-1-27",
            "27-11-2026",
            "2026-02-30",
            "2026-11-27T00:00:00",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn body_errors_name_the_field() {
        let e = from_json::<PutInvoiceBody>(br#"{"number":"1","relation_id":"r","date":"2026-01-01","status":"final","lines":[{"quantity":1,"unit_price":"x","vat":"high"}]}"#).unwrap_err();
        assert_eq!(e.field, "lines[0].unit_price");
        assert_eq!(e.code, "invalid_value");
        let e = from_json::<PutAdministratieBody>(br#"{"name":"a","colour":1}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("unknown_field", "colour"));
        // A key that is blank or not a plain name is named as a JSON string, never as blank.
        let e = from_json::<PutAdministratieBody>(br#"{"name":"a"," ":null}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("unknown_field", r#"[" "]"#));
        let e = from_json::<PutAdministratieBody>(br#"{"name":"a","a.b":1}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("unknown_field", r#"["a.b"]"#));
        let e = from_json::<PutRelationBody>(
            br#"{"code":"1","kind":"company","name":"n","address":{"town":"x"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            ("unknown_field", "address.town")
        );
        let e = from_json::<PutAdministratieBody>(b"{}").unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("missing_field", "name"));
        let e = from_json::<PutAdministratieBody>(br#"{"name":1}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("invalid_type", "name"));
        let e = from_json::<PutAdministratieBody>(br#"{"name":"#).unwrap_err();
        assert_eq!(e.code, "invalid_json");
        let e = from_json::<PutAdministratieBody>(br#"{"name":"a"} x"#).unwrap_err();
        assert_eq!(e.code, "invalid_json");
        let e = from_json::<PutInvoiceBody>(
            br#"{"number":"1","relation_id":"r","date":"2026-01-01","status":"sent","lines":[]}"#,
        )
        .unwrap_err();
        assert_eq!(e.field, "status");
        // A number where an enum is expected is valid JSON of the wrong type, not a syntax error.
        let e = from_json::<PutInvoiceBody>(
            br#"{"number":"1","relation_id":"r","date":"2026-01-01","status":0,"lines":[]}"#,
        )
        .unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("invalid_type", "status"));
        let e =
            from_json::<PutRelationBody>(br#"{"code":"1","kind":true,"name":"n"}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("invalid_type", "kind"));
        // Valid JSON, but a number no integer field can hold.
        let Err(e) = from_json::<PutSettingsBody>(br#"{"sales_journal_code":1e400}"#) else {
            panic!("1e400 is no journal code");
        };
        assert_eq!(e.field, "sales_journal_code", "{e:?}");
        assert_ne!(e.code, "invalid_json");
        // U+0000 cannot be stored (PostgreSQL text): refused, naming the field.
        let e = from_json::<PutRelationBody>(
            br#"{"code":"1","kind":"company","name":"n","address":{"city":"A\u0000"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            ("invalid_value", "address.city")
        );
        let e =
            from_value::<PutAdministratieBody>(serde_json::json!({"name": "a\u{0}"})).unwrap_err();
        assert_eq!(e.field, "name");
        assert!(from_json::<PutAdministratieBody>(br#"{"name":"a\\u0000"}"#).is_ok());
    }

    #[test]
    fn quantities_keep_their_precision_and_money_has_two_decimals() {
        assert_eq!(exact(Decimal::new(1, 0)), "1.00");
        assert_eq!(exact(Decimal::new(1234, 4)), "0.1234");
        assert_eq!(exact(Decimal::new(250, 2)), "2.50");
        assert_eq!(money(Decimal::new(121, 0)), "121.00");
    }

    #[test]
    fn a_text_of_1000_characters_is_read_and_1001_is_too_long_naming_the_path() {
        let body = |name: &str, city: &str| {
            serde_json::json!({"code": "1", "kind": "company", "name": name,
                "address": {"city": city}})
            .to_string()
        };
        // Characters, not bytes: 1,000 two-byte characters are fine.
        let ok = "é".repeat(1000);
        assert!(from_json::<PutRelationBody>(body(&ok, &ok).as_bytes()).is_ok());
        let long = "a".repeat(1001);
        let e = from_json::<PutRelationBody>(body(&long, "x").as_bytes()).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("too_long", "name"));
        let e = from_json::<PutRelationBody>(body("n", &long).as_bytes()).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("too_long", "address.city"));
        let e = from_value::<PutRelationBody>(serde_json::from_str(&body("n", &long)).unwrap())
            .unwrap_err();
        assert_eq!(e.field, "address.city");
        // The password has its own rule (up to 1024).
        let admin =
            serde_json::json!({"name": "B", "email": "b@x.nl", "password": "p".repeat(1024)});
        assert!(from_json::<PutAdminBody>(admin.to_string().as_bytes()).is_ok());
    }
}
