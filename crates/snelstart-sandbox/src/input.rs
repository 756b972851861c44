//! Lenient request-body reading, as Json.NET does it: case-insensitive names, money as number or string, enums by name or number.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::json::{parse_date, parse_decimal};

/// A field whose value has the wrong JSON type or format.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl FieldError {
    fn new(field: &str, problem: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            problem: problem.into(),
        }
    }
}

pub type Field<T> = Result<Option<T>, FieldError>;

/// Lower-cases every object key, recursively.
pub fn lowercase_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.to_lowercase(), lowercase_keys(v));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(lowercase_keys).collect()),
        other => other,
    }
}

/// A view on a lower-cased JSON object. Reads treat `null` like an absent key.
#[derive(Clone, Copy)]
pub struct Obj<'a>(pub &'a Map<String, Value>);

impl<'a> Obj<'a> {
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        match self.0.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// A nested object; absent or null gives `None`.
    pub fn obj(&self, key: &str) -> Field<Obj<'a>> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Obj(m))),
            Some(_) => Err(FieldError::new(key, "expected an object")),
        }
    }

    /// An array; absent or null gives `None`.
    pub fn array(&self, key: &str) -> Field<&'a Vec<Value>> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(FieldError::new(key, "expected an array")),
        }
    }

    /// A string; numbers and booleans are converted like Json.NET does.
    pub fn str(&self, key: &str) -> Field<String> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(FieldError::new(key, "expected a string")),
        }
    }

    /// An integer; numeric strings (`"007"`) are accepted.
    pub fn int(&self, key: &str) -> Field<i64> {
        let text = match self.raw(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(FieldError::new(key, "expected an integer")),
        };
        match parse_decimal(&text) {
            Some(d) if d.fract().is_zero() => d
                .to_i64()
                .map(Some)
                .ok_or_else(|| FieldError::new(key, format!("'{text}' is out of range"))),
            _ => Err(FieldError::new(
                key,
                format!("Could not convert '{text}' to an integer"),
            )),
        }
    }

    /// An `int32`.
    pub fn int32(&self, key: &str) -> Field<i32> {
        match self.int(key)? {
            None => Ok(None),
            Some(n) => i32::try_from(n)
                .map(Some)
                .map_err(|_| FieldError::new(key, format!("Value {n} is too large for Int32"))),
        }
    }

    /// A decimal from a JSON number or a string.
    pub fn decimal(&self, key: &str) -> Field<Decimal> {
        let text = match self.raw(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(FieldError::new(key, "expected a number")),
        };
        parse_decimal(&text)
            .map(Some)
            .ok_or_else(|| FieldError::new(key, format!("Could not convert '{text}' to decimal")))
    }

    /// A boolean; `"true"`/`"false"` and 0/1 are accepted.
    pub fn bool(&self, key: &str) -> Field<bool> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                "" => Ok(None),
                _ => Err(FieldError::new(key, format!("'{s}' is not a boolean"))),
            },
            Some(Value::Number(n)) => Ok(Some(n.to_string() != "0")),
            Some(_) => Err(FieldError::new(key, "expected a boolean")),
        }
    }

    /// An enum member by (case-insensitive) name or by number; returns the canonical name.
    pub fn enumeration(&self, key: &str, names: &[&'static str]) -> Field<&'static str> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => enum_value(v, names)
                .map(Some)
                .ok_or_else(|| FieldError::new(key, format!("'{v}' is not a valid value"))),
        }
    }

    /// A GUID (`id`); the nil GUID counts as empty, like the official C# client sends it.
    pub fn uuid(&self, key: &str) -> Field<Uuid> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => match Uuid::parse_str(s.trim()) {
                Ok(u) if u.is_nil() => Ok(None),
                Ok(u) => Ok(Some(u)),
                Err(_) => Err(FieldError::new(key, format!("'{s}' is not a valid GUID"))),
            },
            Some(_) => Err(FieldError::new(key, "expected a GUID string")),
        }
    }

    /// The `id` of a reference object `{ "id": … }`.
    pub fn ref_id(&self, key: &str) -> Field<Uuid> {
        match self.obj(key)? {
            None => Ok(None),
            Some(o) => o
                .uuid("id")
                .map_err(|e| FieldError::new(&format!("{key}.{}", e.field), e.problem)),
        }
    }

    /// A date-time in one of the accepted formats.
    pub fn date(&self, key: &str) -> Field<chrono::NaiveDateTime> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => parse_date(s)
                .map(Some)
                .ok_or_else(|| FieldError::new(key, format!("'{s}' is not a valid date"))),
            Some(_) => Err(FieldError::new(key, "expected a date string")),
        }
    }
}

/// Resolves an enum member given as name (any case) or number (index into `names`).
pub fn enum_value(v: &Value, names: &[&'static str]) -> Option<&'static str> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            if let Some(n) = names.iter().find(|n| n.eq_ignore_ascii_case(t)) {
                return Some(n);
            }
            t.parse::<usize>().ok().and_then(|i| names.get(i).copied())
        }
        Value::Number(n) => n
            .to_string()
            .parse::<usize>()
            .ok()
            .and_then(|i| names.get(i).copied()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_reads() {
        let raw = r#"{
            "Naam": "X", "RelatieCode": "007", "Bedrag": "121.00", "Num": 1.50,
            "BtwSoort": 2, "Soort": "hoog", "Flag": "true", "Id": "00000000-0000-0000-0000-000000000000"
        }"#;
        let v = lowercase_keys(serde_json::from_str(raw).unwrap_or_default());
        let Value::Object(m) = &v else { panic!() };
        let o = Obj(m);
        assert_eq!(o.str("naam"), Ok(Some("X".into())));
        assert_eq!(o.int("relatiecode"), Ok(Some(7)));
        assert_eq!(
            o.decimal("bedrag").ok().flatten().map(|d| d.to_string()),
            Some("121.00".into())
        );
        assert_eq!(
            o.decimal("num").ok().flatten().map(|d| d.to_string()),
            Some("1.50".into())
        );
        let names = ["Geen", "Laag", "Hoog", "Overig"];
        assert_eq!(o.enumeration("btwsoort", &names), Ok(Some("Hoog")));
        assert_eq!(o.enumeration("soort", &names), Ok(Some("Hoog")));
        assert_eq!(o.bool("flag"), Ok(Some(true)));
        assert_eq!(o.uuid("id"), Ok(None));
        assert!(o.int("naam").is_err());
    }
}
