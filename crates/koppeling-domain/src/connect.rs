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
use crate::problem::{Problem, Rule};

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
            Err(Problem::new("ReferenceKey", Rule::InvalidReference))
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
                problems.push(Problem::new("ActionType", Rule::InvalidAction));
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
                problems.push(Problem::new("ReferenceKey", Rule::Required));
                None
            }
        };
        let key = match key.map(|k| ConnectionKey::new(k.to_owned())) {
            Some(Ok(k)) => Some(k),
            Some(Err(_)) => {
                problems.push(Problem::new("KoppelSleutel", Rule::InvalidKey));
                None
            }
            None => None,
        };
        if key.is_none() && matches!(action, Some(ActionType::Create | ActionType::Regenerate)) {
            problems.push(Problem::new("KoppelSleutel", Rule::Required));
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

/// The state of a stored reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceStatus {
    /// Handed out, not yet used (expires).
    Pending,
    /// The administratie's connection: its `Create` arrived.
    Connected,
    /// Replaced by another connection, or ended by pasting a key.
    Void,
}

impl ReferenceStatus {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Connected => "connected",
            Self::Void => "void",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Connected, Self::Void]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// The stored koppelsleutel compared with the message's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredKey {
    /// No key is stored.
    Absent,
    /// The stored key is the message's.
    Same,
    /// Another key is stored (or the message has none).
    Other,
}

/// What a webhook message does, decided from what is stored. The store applies it in the
/// transaction that read the facts; the web side maps it to the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookEffect {
    /// 404, nothing written: no such reference, a void one, an expired pending one, or a
    /// `Regenerate`/`Delete` for a reference that is not the connection.
    Unknown,
    /// 200, nothing changes, no one is notified: the message was delivered before.
    Replay,
    /// 409 `reference_used`: a `Create` for the connection with another key.
    Used,
    /// `Create` for a pending reference: the key is stored (replacing a pasted one), the
    /// reference becomes the connection (the administratie's other ones void), the
    /// koppeling is made with default settings when absent and its `problem` is
    /// [`crate::pause::PauseReason::ChecksRunning`]; the activation checks follow after the answer.
    Connect,
    /// `Regenerate` for the connection: the key is replaced; the checks follow.
    Replace,
    /// `Delete` for the connection: the key is removed, an active koppeling pauses with
    /// [`crate::pause::PauseReason::KeyWithdrawn`], one notice is queued.
    Withdraw,
}

/// The rule of product.md §8.1 for one message: `status` is the stored reference's (`None`
/// when no reference has the hash), `usable` whether a pending one has not expired.
#[must_use]
pub fn decide(
    action: ActionType,
    status: Option<ReferenceStatus>,
    usable: bool,
    stored: StoredKey,
) -> WebhookEffect {
    match (status, action) {
        (None | Some(ReferenceStatus::Void), _) => WebhookEffect::Unknown,
        (Some(ReferenceStatus::Pending), ActionType::Create) if usable => WebhookEffect::Connect,
        (Some(ReferenceStatus::Pending), _) => WebhookEffect::Unknown,
        (Some(ReferenceStatus::Connected), ActionType::Create) => match stored {
            StoredKey::Same => WebhookEffect::Replay,
            StoredKey::Absent | StoredKey::Other => WebhookEffect::Used,
        },
        (Some(ReferenceStatus::Connected), ActionType::Regenerate) => match stored {
            StoredKey::Same => WebhookEffect::Replay,
            StoredKey::Absent | StoredKey::Other => WebhookEffect::Replace,
        },
        (Some(ReferenceStatus::Connected), ActionType::Delete) => match stored {
            StoredKey::Absent => WebhookEffect::Replay,
            StoredKey::Same | StoredKey::Other => WebhookEffect::Withdraw,
        },
    }
}

/// The notice of a `Delete`: the Beheerder learns once that the key was withdrawn.
#[must_use]
pub fn withdrawn_notice() -> crate::notification::NotificationItem {
    crate::notification::NotificationItem {
        kind: crate::notification::NoticeKind::Paused,
        subject_type: "koppeling".to_owned(),
        subject_id: String::new(),
        label: "SnelStart".to_owned(),
        reason: crate::pause::PauseReason::KeyWithdrawn.dutch(),
        snelstart_code: None,
        hint: Some(
            crate::pause::PauseReason::KeyWithdrawn
                .dutch_hint()
                .to_owned(),
        ),
    }
}

/// What the webhook's transaction did: the effect and the administratie the reference is
/// bound to (`None` for an unknown reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookApplied {
    /// The effect, applied (or nothing, for `Unknown`, `Replay` and `Used`).
    pub effect: WebhookEffect,
    /// The reference's administratie.
    pub administratie: Option<crate::ids::AdministratieCode>,
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

    #[test]
    fn the_webhook_rule_per_reference_state_and_action() {
        use ActionType::{Create, Delete, Regenerate};
        use ReferenceStatus::{Connected, Pending, Void};
        use StoredKey::{Absent, Other, Same};
        use WebhookEffect::{Connect, Replace, Replay, Unknown, Used, Withdraw};
        let table = [
            // (action, status, usable, stored) → effect
            (Create, None, true, Absent, Unknown),
            (Create, Some(Void), true, Absent, Unknown),
            (Create, Some(Pending), false, Absent, Unknown),
            (Create, Some(Pending), true, Absent, Connect),
            (Create, Some(Pending), true, Other, Connect),
            (Regenerate, Some(Pending), true, Other, Unknown),
            (Delete, Some(Pending), true, Other, Unknown),
            (Create, Some(Connected), false, Same, Replay),
            (Create, Some(Connected), false, Other, Used),
            (Create, Some(Connected), false, Absent, Used),
            (Regenerate, Some(Connected), false, Same, Replay),
            (Regenerate, Some(Connected), false, Other, Replace),
            (Regenerate, Some(Void), false, Other, Unknown),
            (Delete, Some(Connected), false, Same, Withdraw),
            (Delete, Some(Connected), false, Other, Withdraw),
            (Delete, Some(Connected), false, Absent, Replay),
            (Delete, Some(Void), false, Same, Unknown),
        ];
        for (action, status, usable, stored, want) in table {
            assert_eq!(
                decide(action, status, usable, stored),
                want,
                "{action:?} {status:?} usable={usable} {stored:?}"
            );
        }
    }

    #[test]
    fn reference_statuses_round_trip() {
        for s in [
            ReferenceStatus::Pending,
            ReferenceStatus::Connected,
            ReferenceStatus::Void,
        ] {
            assert_eq!(ReferenceStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ReferenceStatus::parse("other"), None);
    }
}
