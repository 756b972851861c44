//! The activation link (product §8.1): making a reference and its activation URL.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Service, ServiceError};
use crate::connect::{ReferenceKey, expires_at};
use crate::ids::AdministratieCode;
use crate::ports::{Accounting, Clock, Notifier, Store};

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
    N: Notifier,
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
