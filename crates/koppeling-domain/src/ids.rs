//! Identifiers: the administratie code and the caller-chosen resource ids.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::problem::{Problem, Rule};

/// The code of an administratie (a firm, a tenant): `[a-z0-9-]{1,40}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AdministratieCode(String);

impl AdministratieCode {
    /// Validates `raw` as an administratie code.
    ///
    /// # Errors
    /// A [`Problem`] on field `administratie` when `raw` is not `[a-z0-9-]{1,40}`.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let ok = !raw.is_empty()
            && raw.len() <= 40
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Problem::new(
                "administratie",
                Rule::InvalidAdministratieCode {
                    code: raw.to_owned(),
                },
            ))
        }
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AdministratieCode {
    type Error = Problem;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AdministratieCode> for String {
    fn from(value: AdministratieCode) -> Self {
        value.0
    }
}

impl fmt::Display for AdministratieCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A caller-chosen id of a relation, invoice or Beheerder: `[A-Za-z0-9._-]{1,64}`,
/// unique within its administratie.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceId(String);

impl ResourceId {
    /// Validates `raw` as a resource id; `field` names the field in the error.
    ///
    /// # Errors
    /// A [`Problem`] on `field` when `raw` is not `[A-Za-z0-9._-]{1,64}`.
    pub fn parse_field(raw: &str, field: &str) -> Result<Self, Problem> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Problem::new(field, Rule::InvalidId { id: raw.to_owned() }))
        }
    }

    /// Validates `raw` as a resource id for the field `id`.
    ///
    /// # Errors
    /// See [`ResourceId::parse_field`].
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        Self::parse_field(raw, "id")
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ResourceId {
    type Error = Problem;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ResourceId> for String {
    fn from(value: ResourceId) -> Self {
        value.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn administratie_codes() {
        for ok in ["a", "kantoor-1", &"a".repeat(40)] {
            assert!(AdministratieCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Kantoor", "a_b", &"a".repeat(41), "é"] {
            let err = AdministratieCode::parse(bad).unwrap_err();
            assert_eq!(err.field, "administratie", "{bad}");
        }
    }

    #[test]
    fn resource_ids() {
        for ok in ["F-2026.001_a", &"x".repeat(64)] {
            assert!(ResourceId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", &"x".repeat(65)] {
            assert!(ResourceId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            ResourceId::parse_field("a b", "relation_id")
                .unwrap_err()
                .field,
            "relation_id"
        );
    }
}
