//! The activation link (product.md §8.1): reference keys and the webhook's message.
//!
//! A reference key is ≥ 128 random bits (here 256), URL-safe, handed to SnelStart in the
//! activation URL and stored only as its SHA-256 hash, bound to one administratie. A pending
//! one expires [`REFERENCE_TTL`] after it was made. Neither the key nor the whole reference is
//! ever logged: [`ReferenceKey::hint`] is what a log line may carry.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::koppeling::ConnectionKey;
use crate::problem::Problem;

/// How long an unused reference stays valid.
pub const REFERENCE_TTL: Duration = Duration::from_secs(24 * 3600);

/// The largest webhook body accepted (413 beyond).
pub const MAX_WEBHOOK_BODY: usize = 64 * 1024;

/// SnelStart's limit on `referenceKey` (shared/snelstart/README.md §2.4).
pub const MAX_REFERENCE_LEN: usize = 500;

/// Random bytes in a fresh reference (256 bits ≥ the 128 required).
const REFERENCE_BYTES: usize = 32;

/// A reference key: secret, never logged whole.
#[derive(Clone)]
pub struct ReferenceKey(SecretString);

impl ReferenceKey {
    /// A fresh reference: 256 bits from the operating system's generator, hex (URL-safe).
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; REFERENCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(SecretString::from(hex(&bytes)))
    }

    /// A reference as received in a webhook message.
    ///
    /// # Errors
    /// A problem on `ReferenceKey` when it is empty, longer than 500 characters or not
    /// URL-safe (`A-Z a-z 0-9 - _ . ~`).
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_REFERENCE_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
        if ok {
            Ok(Self(SecretString::from(raw.to_owned())))
        } else {
            Err(Problem::new(
                "ReferenceKey",
                "invalid_reference",
                "ReferenceKey must be 1 to 500 URL-safe characters",
            ))
        }
    }

    /// The SHA-256 of the reference, hex: the only form that is stored and looked up.
    #[must_use]
    pub fn hash(&self) -> String {
        hex(&Sha256::digest(self.0.expose_secret().as_bytes()))
    }

    /// The first 6 characters, for a log line.
    #[must_use]
    pub fn hint(&self) -> String {
        self.0.expose_secret().chars().take(6).collect()
    }

    /// The reference, for the one place it leaves the process (the activation URL).
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ReferenceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReferenceKey({}…)", self.hint())
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// When a reference made at `now` expires.
#[must_use]
pub fn expires_at(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(REFERENCE_TTL).unwrap_or(chrono::Duration::zero())
}

/// Whether a pending reference expiring at `expires` is still usable at `now`.
#[must_use]
pub fn is_usable(expires: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < expires
}

/// What SnelStart tells the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionType {
    /// The customer approved: a new key.
    Create,
    /// The key was regenerated in SnelStart: the old one stops working.
    Regenerate,
    /// The koppeling was deleted in SnelStart: the key stops working.
    Delete,
}

impl ActionType {
    /// Parses a value in any case.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Create, Self::Regenerate, Self::Delete]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(raw.trim()))
    }

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "Create",
            Self::Regenerate => "Regenerate",
            Self::Delete => "Delete",
        }
    }
}

/// How the koppelsleutel of an administratie arrived (the overview's `connection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    /// Pasted by the Beheerder (the seed's way).
    Pasted,
    /// Delivered by SnelStart's activation link.
    SnelstartLink,
}

/// A webhook message, validated.
#[derive(Debug, Clone)]
pub struct WebhookMessage {
    /// The action.
    pub action: ActionType,
    /// The koppelsleutel (required for Create and Regenerate; Delete may omit it).
    pub key: Option<ConnectionKey>,
    /// The reference the activation URL carried.
    pub reference: ReferenceKey,
}

impl WebhookMessage {
    /// Builds the message from the JSON object's string properties, matching the names
    /// `KoppelSleutel`, `ActionType` and `ReferenceKey` in any case; other properties are
    /// ignored.
    ///
    /// # Errors
    /// Every problem, each naming its property.
    pub fn from_fields<'a>(
        fields: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Result<Self, Vec<Problem>> {
        let (mut key, mut action, mut reference) = (None, None, None);
        for (name, value) in fields {
            let slot = if name.eq_ignore_ascii_case("KoppelSleutel") {
                &mut key
            } else if name.eq_ignore_ascii_case("ActionType") {
                &mut action
            } else if name.eq_ignore_ascii_case("ReferenceKey") {
                &mut reference
            } else {
                continue;
            };
            *slot = value;
        }
        let mut problems = Vec::new();
        let action = match action.map(ActionType::parse) {
            Some(Some(a)) => Some(a),
            _ => {
                problems.push(Problem::new(
                    "ActionType",
                    "invalid_action",
                    "ActionType must be Create, Regenerate or Delete",
                ));
                None
            }
        };
        let reference = match reference.map(ReferenceKey::parse) {
            Some(Ok(r)) => Some(r),
            Some(Err(p)) => {
                problems.push(p);
                None
            }
            None => {
                problems.push(Problem::new(
                    "ReferenceKey",
                    "required",
                    "ReferenceKey is required",
                ));
                None
            }
        };
        let key = match key.map(|k| ConnectionKey::new(k.to_owned())) {
            Some(Ok(k)) => Some(k),
            Some(Err(_)) => {
                problems.push(Problem::new(
                    "KoppelSleutel",
                    "invalid_key",
                    "KoppelSleutel must be 1 to 4096 characters",
                ));
                None
            }
            None => None,
        };
        if key.is_none() && matches!(action, Some(ActionType::Create | ActionType::Regenerate)) {
            problems.push(Problem::new(
                "KoppelSleutel",
                "required",
                "KoppelSleutel is required for Create and Regenerate",
            ));
        }
        match (action, reference) {
            (Some(action), Some(reference)) if problems.is_empty() => Ok(Self {
                action,
                key,
                reference,
            }),
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_fresh_reference_has_256_random_url_safe_bits() {
        let a = ReferenceKey::generate();
        let b = ReferenceKey::generate();
        assert_eq!(a.expose().len(), 64);
        assert!(a.expose().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.expose(), b.expose());
        assert!(ReferenceKey::parse(a.expose()).is_ok());
    }

    #[test]
    fn only_the_hash_and_a_hint_are_shown() {
        let r = ReferenceKey::parse("abcdef0123456789").unwrap();
        assert_eq!(r.hash().len(), 64);
        assert_ne!(r.hash(), r.expose());
        assert_eq!(
            r.hash(),
            ReferenceKey::parse("abcdef0123456789").unwrap().hash()
        );
        assert_eq!(r.hint(), "abcdef");
        assert!(!format!("{r:?}").contains("0123456789"));
    }

    #[test]
    fn references_that_are_not_url_safe_or_too_long_are_refused() {
        assert!(ReferenceKey::parse("").is_err());
        assert!(ReferenceKey::parse("a b").is_err());
        assert!(ReferenceKey::parse(&"a".repeat(501)).is_err());
        assert!(ReferenceKey::parse(&"a".repeat(500)).is_ok());
    }

    #[test]
    fn a_pending_reference_expires_after_24_hours() {
        let made = Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap();
        let until = expires_at(made);
        assert!(is_usable(until, made + chrono::Duration::hours(23)));
        assert!(!is_usable(until, made + chrono::Duration::hours(24)));
    }

    #[test]
    fn property_names_and_actions_match_in_any_case() {
        let m = WebhookMessage::from_fields([
            ("koppelsleutel", Some("a2V5OnNlY3JldA==")),
            ("ACTIONTYPE", Some("regenerate")),
            ("referenceKey", Some("abc")),
            ("Extra", Some("x")),
        ])
        .unwrap();
        assert_eq!(m.action, ActionType::Regenerate);
        assert_eq!(m.key.unwrap().expose(), "a2V5OnNlY3JldA==");
        assert_eq!(m.reference.expose(), "abc");
    }

    #[test]
    fn a_malformed_message_names_each_property() {
        let problems = WebhookMessage::from_fields([("ActionType", Some("Upsert"))]).unwrap_err();
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["ActionType", "ReferenceKey"]);
        let no_key = WebhookMessage::from_fields([
            ("ActionType", Some("Create")),
            ("ReferenceKey", Some("r")),
        ])
        .unwrap_err();
        assert_eq!(no_key[0].field, "KoppelSleutel");
        let delete = WebhookMessage::from_fields([
            ("ActionType", Some("Delete")),
            ("ReferenceKey", Some("r")),
        ])
        .unwrap();
        assert!(delete.key.is_none());
    }
}
