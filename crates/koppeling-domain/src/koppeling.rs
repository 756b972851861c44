//! The SnelStart koppeling of one administratie: its settings, its key and its state.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::ids::{AdministratieCode, ResourceId};
use crate::money::VatClass;
use crate::problem::{Band, Problem, Rule};

/// The SnelStart BTW codes (grootboekfunctie numbers) per VAT class: exactly 12, 11, 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatCodes {
    /// Omzet hoog: must be 12.
    pub high: u8,
    /// Omzet laag: must be 11.
    pub low: u8,
    /// Omzet onbelast/verlegd: must be 10.
    pub zero: u8,
}

impl Default for VatCodes {
    fn default() -> Self {
        Self {
            high: 12,
            low: 11,
            zero: 10,
        }
    }
}

impl VatCodes {
    /// Checks the codes: only 12 (high), 11 (low) and 10 (zero) are possible.
    ///
    /// # Errors
    /// One problem per wrong code, naming `vat_codes.<class>`.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        for (band, got) in [
            (Band::High, self.high),
            (Band::Low, self.low),
            (Band::Zero, self.zero),
        ] {
            if got != band.vat_code() {
                problems.push(Problem::new(
                    format!("vat_codes.{}", band.key()),
                    Rule::WrongVatCode {
                        band,
                        got: i64::from(got),
                    },
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// Optional revenue ledger numbers per VAT class; absent means "the lowest-numbered active
/// ledger with that grootboekfunctie".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RevenueLedgers {
    /// Ledger for high.
    pub high: Option<i32>,
    /// Ledger for low.
    pub low: Option<i32>,
    /// Ledger for zero and reverse charge.
    pub zero: Option<i32>,
}

impl RevenueLedgers {
    /// The configured ledger number for `class`, if any.
    #[must_use]
    pub fn for_class(&self, class: VatClass) -> Option<i32> {
        match class {
            VatClass::High => self.high,
            VatClass::Low => self.low,
            VatClass::Zero | VatClass::ReverseCharge => self.zero,
        }
    }
}

/// The Beheerder's settings of the koppeling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KoppelingSettings {
    /// BTW codes 12/11/10.
    pub vat_codes: VatCodes,
    /// Verkoopboek code (the sales journal number), default 1300.
    pub sales_journal_code: i32,
    /// The Beheerder who is notified when synchronising fails.
    pub notify_admin_id: Option<ResourceId>,
    /// Invoices dated before this are never sent.
    pub start_date: Option<NaiveDate>,
    /// Optional revenue ledger per class.
    pub revenue_ledgers: RevenueLedgers,
}

impl Default for KoppelingSettings {
    fn default() -> Self {
        Self {
            vat_codes: VatCodes::default(),
            sales_journal_code: 1300,
            notify_admin_id: None,
            start_date: None,
            revenue_ledgers: RevenueLedgers::default(),
        }
    }
}

impl KoppelingSettings {
    /// Checks the settings on their own (the activation checks against SnelStart come later).
    ///
    /// # Errors
    /// Every problem found.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut problems = match self.vat_codes.validate() {
            Ok(()) => Vec::new(),
            Err(p) => p,
        };
        if self.sales_journal_code < 1 {
            problems.push(Problem::new("sales_journal_code", Rule::NotPositive));
        }
        for (name, value) in [
            ("high", self.revenue_ledgers.high),
            ("low", self.revenue_ledgers.low),
            ("zero", self.revenue_ledgers.zero),
        ] {
            if matches!(value, Some(n) if n < 1) {
                problems.push(Problem::new(
                    format!("revenue_ledgers.{name}"),
                    Rule::NotPositive,
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// A koppelsleutel: secret, never logged, never returned.
#[derive(Clone)]
pub struct ConnectionKey(SecretString);

impl ConnectionKey {
    /// Wraps a key.
    ///
    /// # Errors
    /// A problem on `key` when it is empty or longer than 4096 characters.
    pub fn new(raw: String) -> Result<Self, Problem> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.len() > 4096 {
            return Err(Problem::new("key", Rule::InvalidKey));
        }
        Ok(Self(SecretString::from(trimmed.to_owned())))
    }

    /// The key, for the one place it leaves the process (the token request, the cipher).
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ConnectionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConnectionKey([REDACTED])")
    }
}

impl PartialEq for ConnectionKey {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

/// Whether the koppeling runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KoppelingState {
    /// Switched off by the Beheerder.
    Inactive,
    /// Running.
    Active,
    /// Switched on, but SnelStart refuses the credentials.
    PausedAuth,
}

impl KoppelingState {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inactive => "inactive",
            Self::Active => "active",
            Self::PausedAuth => "paused_auth",
        }
    }
}

/// The koppeling as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Koppeling {
    /// The administratie it belongs to.
    pub administratie: AdministratieCode,
    /// The settings.
    pub settings: KoppelingSettings,
    /// The koppelsleutel, decrypted, when set (and decryptable).
    pub key: Option<ConnectionKey>,
    /// A koppelsleutel is stored but no configured master key decrypts it ("sleutel
    /// onbruikbaar"); `key` is then `None`.
    pub key_unusable: bool,
    /// The Beheerder's switch.
    pub active: bool,
    /// Paused because SnelStart refuses the credentials.
    pub paused: bool,
    /// Why it is paused (or held while the link's checks run or fail).
    pub problem: Option<crate::pause::PauseReason>,
    /// When an invoice was last synced.
    pub last_sync_at: Option<DateTime<Utc>>,
}

impl Koppeling {
    /// Inactive, active or paused.
    #[must_use]
    pub fn state(&self) -> KoppelingState {
        match (self.active, self.paused) {
            (false, _) => KoppelingState::Inactive,
            (true, false) => KoppelingState::Active,
            (true, true) => KoppelingState::PausedAuth,
        }
    }
}

/// What the SnelStart adapter needs to reach one administration.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Our administratie (for caches and limits).
    pub administratie: AdministratieCode,
    /// The koppelsleutel.
    pub key: ConnectionKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_12_11_10_are_accepted_in_their_places() {
        assert!(
            VatCodes {
                high: 12,
                low: 11,
                zero: 10
            }
            .validate()
            .is_ok()
        );
        let swapped = VatCodes {
            high: 11,
            low: 12,
            zero: 10,
        }
        .validate()
        .unwrap_err();
        let fields: Vec<_> = swapped.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["vat_codes.high", "vat_codes.low"]);
        let other = VatCodes {
            high: 21,
            low: 11,
            zero: 10,
        }
        .validate()
        .unwrap_err();
        assert_eq!(other[0].field, "vat_codes.high");
    }

    #[test]
    fn the_key_never_shows_in_debug() {
        let key = ConnectionKey::new("c2VjcmV0OnNlY3JldA==".into()).unwrap();
        assert!(!format!("{key:?}").contains("c2VjcmV0"));
        assert_eq!(key.expose(), "c2VjcmV0OnNlY3JldA==");
    }

    #[test]
    fn state_follows_switch_and_pause() {
        let mut k = Koppeling {
            administratie: AdministratieCode::parse("a").unwrap(),
            settings: KoppelingSettings::default(),
            key: None,
            key_unusable: false,
            active: false,
            paused: true,
            problem: None,
            last_sync_at: None,
        };
        assert_eq!(k.state(), KoppelingState::Inactive);
        k.active = true;
        assert_eq!(k.state(), KoppelingState::PausedAuth);
        k.paused = false;
        assert_eq!(k.state(), KoppelingState::Active);
    }
}
