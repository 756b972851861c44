//! Why a koppeling is paused or held ([`PauseReason`]), stored as a stable token in the
//! `problem` column of `koppelingen` and rendered in Dutch (screens, e-mails) or English
//! (the API). Code branches on the variant, never on the text.

use serde::Serialize;

/// Why a koppeling is paused, or what holds it while the activation link's checks run or
/// fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// SnelStart refuses the koppelsleutel (or none is set).
    KeyRefused,
    /// SnelStart refuses the installation's subscription key: every koppeling pauses, and
    /// resumes when a probe succeeds.
    SubscriptionKeyRefused,
    /// The stored koppelsleutel cannot be decrypted with any configured master key.
    KeyUnusable,
    /// SnelStart withdrew the key (a `Delete` through the activation link).
    KeyWithdrawn,
    /// The key arrived through the link; the activation checks still run.
    ChecksRunning,
    /// The key arrived through the link but the activation checks fail.
    ChecksFailed {
        /// What to fix, in Dutch (the Beheerder's words; no decision reads it).
        detail: String,
    },
    /// A text stored before reasons were typed that the migration did not recognise,
    /// shown as it was.
    Recorded(String),
}

const CHECKS_FAILED: &str = "checks_failed:";

impl PauseReason {
    /// The stored form (a stable token).
    #[must_use]
    pub fn to_stored(&self) -> String {
        match self {
            Self::KeyRefused => "key_refused".to_owned(),
            Self::SubscriptionKeyRefused => "subscription_key_refused".to_owned(),
            Self::KeyUnusable => "key_unusable".to_owned(),
            Self::KeyWithdrawn => "key_withdrawn".to_owned(),
            Self::ChecksRunning => "checks_running".to_owned(),
            Self::ChecksFailed { detail } => format!("{CHECKS_FAILED}{detail}"),
            Self::Recorded(text) => text.clone(),
        }
    }

    /// Reads the stored form; anything unknown is [`PauseReason::Recorded`].
    #[must_use]
    pub fn from_stored(stored: &str) -> Self {
        match stored {
            "key_refused" => Self::KeyRefused,
            "subscription_key_refused" => Self::SubscriptionKeyRefused,
            "key_unusable" => Self::KeyUnusable,
            "key_withdrawn" => Self::KeyWithdrawn,
            "checks_running" => Self::ChecksRunning,
            other => match other.strip_prefix(CHECKS_FAILED) {
                Some(detail) => Self::ChecksFailed {
                    detail: detail.to_owned(),
                },
                None => Self::Recorded(other.to_owned()),
            },
        }
    }

    /// The reason in Dutch, for a Beheerder (a clause: no capital, no full stop).
    #[must_use]
    pub fn dutch(&self) -> String {
        match self {
            Self::KeyRefused => "SnelStart weigert de koppelsleutel".to_owned(),
            Self::SubscriptionKeyRefused => {
                "SnelStart weigert de subscription key van de koppeling (operator)".to_owned()
            }
            Self::KeyUnusable => "sleutel onbruikbaar: de opgeslagen koppelsleutel kan met geen van de ingestelde master keys worden ontsleuteld; vul de koppelsleutel opnieuw in bij Instellingen".to_owned(),
            Self::KeyWithdrawn => "de koppelsleutel is ingetrokken in SnelStart".to_owned(),
            Self::ChecksRunning => {
                "koppelsleutel ontvangen via SnelStart; de controles lopen".to_owned()
            }
            Self::ChecksFailed { detail } => format!(
                "de koppelsleutel is via SnelStart ontvangen, maar de controles slagen niet: {detail}"
            ),
            Self::Recorded(text) => text.clone(),
        }
    }

    /// What to do, in Dutch ("Wat te doen" of the notice).
    #[must_use]
    pub fn dutch_hint(&self) -> &'static str {
        match self {
            Self::KeyRefused => {
                "genereer een nieuwe koppelsleutel op web.snelstart.nl en vul die in bij Instellingen; de koppeling hervat zodra de sleutel werkt"
            }
            Self::SubscriptionKeyRefused => {
                "er is niets voor u te doen; de beheerder van de koppeling lost dit op en de koppeling hervat vanzelf"
            }
            Self::KeyUnusable => {
                "vul de koppelsleutel opnieuw in bij Instellingen (genereer zo nodig een nieuwe op web.snelstart.nl); de koppeling hervat zodra de sleutel werkt"
            }
            Self::KeyWithdrawn => {
                "koppel opnieuw via Instellingen > Koppelen met SnelStart, of vul een nieuwe koppelsleutel in; facturen wachten tot dan"
            }
            Self::ChecksRunning => "vernieuw de pagina over enkele seconden",
            Self::ChecksFailed { .. } => {
                "los de problemen op bij Instellingen en kies daarna Activeren"
            }
            Self::Recorded(_) => {
                "vul bij Instellingen een nieuwe koppelsleutel in; de koppeling gaat verder zodra de controles slagen"
            }
        }
    }

    /// The reason in English, for the API's `problem`.
    #[must_use]
    pub fn english(&self) -> String {
        match self {
            Self::KeyRefused => "SnelStart refuses the koppelsleutel".to_owned(),
            Self::SubscriptionKeyRefused => {
                "SnelStart refuses the subscription key of this installation (operator)".to_owned()
            }
            Self::KeyUnusable => "the stored koppelsleutel cannot be decrypted with any configured master key; enter the koppelsleutel again".to_owned(),
            Self::KeyWithdrawn => "the koppelsleutel was withdrawn in SnelStart".to_owned(),
            Self::ChecksRunning => {
                "koppelsleutel received through SnelStart; the activation checks are running"
                    .to_owned()
            }
            Self::ChecksFailed { .. } => {
                "the koppelsleutel was received through SnelStart, but the activation checks fail"
                    .to_owned()
            }
            Self::Recorded(text) => text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_reason() -> Vec<PauseReason> {
        let all = vec![
            PauseReason::KeyRefused,
            PauseReason::SubscriptionKeyRefused,
            PauseReason::KeyUnusable,
            PauseReason::KeyWithdrawn,
            PauseReason::ChecksRunning,
            PauseReason::ChecksFailed {
                detail: "vul het nummer van het verkoopdagboek in, meestal 1300".into(),
            },
        ];
        for r in &all {
            // Exhaustive on purpose: a new variant must be listed above.
            match r {
                PauseReason::KeyRefused
                | PauseReason::SubscriptionKeyRefused
                | PauseReason::KeyUnusable
                | PauseReason::KeyWithdrawn
                | PauseReason::ChecksRunning
                | PauseReason::ChecksFailed { .. }
                | PauseReason::Recorded(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_pause_reason_reads_in_dutch_and_survives_storage() {
        for reason in every_reason() {
            crate::english::assert_dutch(&reason.dutch());
            crate::english::assert_dutch(reason.dutch_hint());
            assert_ne!(reason.english(), reason.dutch());
            assert_eq!(PauseReason::from_stored(&reason.to_stored()), reason);
        }
    }

    #[test]
    fn an_unknown_stored_text_is_shown_as_it_was() {
        let old = "iets van vroeger";
        assert_eq!(
            PauseReason::from_stored(old),
            PauseReason::Recorded(old.into())
        );
        assert_eq!(PauseReason::from_stored(old).dutch(), old);
    }
}
