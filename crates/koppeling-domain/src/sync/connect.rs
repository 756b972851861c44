//! The activation link (product §8.1): making a reference and its activation URL.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Service, ServiceError};
use crate::connect::{ReferenceKey, WebhookApplied, WebhookEffect, WebhookMessage, expires_at};
use crate::ids::AdministratieCode;
use crate::notification::{NoticeKind, NotificationItem};
use crate::ports::{Accounting, Clock, Store};
use crate::problem::{Problem, Rule};

/// The answer of `connect`: where to send the browser, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectLink {
    /// `<activation_url>/<app>?referenceKey=…&successUrl=…`.
    pub activation_url: String,
    /// When the reference expires unused.
    pub reference_expires_at: DateTime<Utc>,
}

/// Percent-encodes everything but the unreserved characters.
fn encode(text: &str) -> String {
    use std::fmt::Write as _;
    text.bytes().fold(String::new(), |mut out, b| {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

impl<S, A, N, C> Service<S, A, N, C>
where
    S: Store,
    A: Accounting,
    C: Clock,
{
    /// Makes a fresh reference for `adm` (stored hashed, pending for 24 h) and the
    /// activation URL carrying it. `Ok(None)` when `snelstart.app_short_name` is unset.
    ///
    /// # Errors
    /// `NotFound` for an unknown administratie.
    pub async fn connect(
        &self,
        adm: &AdministratieCode,
    ) -> Result<Option<ConnectLink>, ServiceError> {
        let Some(app) = self.config.connect.app_short_name.clone() else {
            return Ok(None);
        };
        let reference = ReferenceKey::generate();
        let until = expires_at(self.clock.now());
        self.store
            .add_connect_reference(adm, &reference.hash(), until)
            .await?;
        tracing::info!(administratie = %adm, reference = %reference.hint(), "activation link made");
        let success = format!(
            "{}/koppelingen?gekoppeld=snelstart",
            self.config.connect.public_url.trim_end_matches('/')
        );
        Ok(Some(ConnectLink {
            activation_url: format!(
                "{}/{}?referenceKey={}&successUrl={}",
                self.config.connect.activation_url.trim_end_matches('/'),
                encode(&app),
                reference.expose(),
                encode(&success)
            ),
            reference_expires_at: until,
        }))
    }

    /// Whether the link flow is on (`snelstart.app_short_name` is set).
    #[must_use]
    pub fn link_enabled(&self) -> bool {
        self.config.connect.app_short_name.is_some()
    }

    /// The origin (`scheme://host[:port]`) the activation link sends browsers to, when the
    /// link flow is on: the UI lets its form lead there.
    #[must_use]
    pub fn activation_origin(&self) -> Option<String> {
        self.config.connect.app_short_name.as_ref()?;
        let url = &self.config.connect.activation_url;
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let plain = |t: &str| {
            !t.is_empty()
                && t.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        };
        (plain(scheme) && plain(host)).then(|| format!("{scheme}://{host}"))
    }

    /// Stores what a webhook message changes, in one transaction, before anything else
    /// happens (SnelStart does not retry). The caller answers, then runs
    /// [`Service::after_webhook`].
    ///
    /// # Errors
    /// The store's.
    pub async fn webhook(&self, message: WebhookMessage) -> Result<WebhookApplied, ServiceError> {
        let hint = message.reference.hint();
        let action = message.action;
        let applied = self
            .store
            .apply_webhook(
                &message.reference.hash(),
                action,
                message.key,
                self.clock.now(),
            )
            .await?;
        match &applied.administratie {
            Some(adm) => tracing::info!(
                administratie = %adm,
                reference = %hint,
                action = action.as_str(),
                effect = ?applied.effect,
                "webhook message applied"
            ),
            None => tracing::warn!(
                reference = %hint,
                action = action.as_str(),
                "webhook message for an unknown reference"
            ),
        }
        Ok(applied)
    }

    /// After the webhook's answer: the activation checks of a new or replaced key. Passing,
    /// a `Create` makes the koppeling active and a `Regenerate` resumes a paused one;
    /// failing, the state is kept, `problem` says why and one notice is queued.
    ///
    /// # Errors
    /// The store's.
    pub async fn after_webhook(&self, applied: &WebhookApplied) -> Result<(), ServiceError> {
        let Some(adm) = &applied.administratie else {
            return Ok(());
        };
        let create = match applied.effect {
            WebhookEffect::Connect => true,
            WebhookEffect::Replace => false,
            _ => return Ok(()),
        };
        let problems = match self.check(adm).await {
            Ok(problems) => problems,
            Err(ServiceError::Unavailable(_)) => vec![Problem::new("snelstart", Rule::Unavailable)],
            Err(e) => return Err(e),
        };
        let Some(koppeling) = self.store.get_koppeling(adm).await? else {
            return Ok(());
        };
        if problems.is_empty() {
            if koppeling.active {
                // Clears the "controles lopen" problem; a paused koppeling resumes (and the
                // Beheerder hears so once).
                self.resume(adm).await?;
            } else if create {
                self.store.set_koppeling_active(adm, true).await?;
            }
            tracing::info!(administratie = %adm, "the key from the activation link passed the checks");
            return Ok(());
        }
        let reasons: Vec<String> = problems
            .iter()
            .map(|p| p.dutch_hint().unwrap_or_else(|| p.dutch()))
            .collect();
        let problem = crate::pause::PauseReason::ChecksFailed {
            detail: reasons.join("; "),
        };
        let notice = NotificationItem {
            kind: NoticeKind::LinkFailed,
            subject_type: "koppeling".to_owned(),
            subject_id: String::new(),
            label: "SnelStart".to_owned(),
            reason: problem.dutch(),
            snelstart_code: None,
            hint: Some(problem.dutch_hint().to_owned()),
        };
        self.store
            .set_koppeling_problem(adm, &problem, &notice, self.clock.now())
            .await?;
        tracing::warn!(administratie = %adm, problems = problems.len(), "the key from the activation link failed the checks");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(
            super::encode("http://a:1/k?g=s"),
            "http%3A%2F%2Fa%3A1%2Fk%3Fg%3Ds"
        );
    }
}
