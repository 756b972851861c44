//! Delivers the domain's notification mails: over SMTP (lettre), or as a log line when `smtp.url` is unset.
//!
//! The Dutch text is rendered by `koppeling_domain::notification::render`; this crate only
//! turns an [`OutgoingMail`] into a MIME message (plain text plus an HTML alternative) and
//! delivers it, always within a timeout, so that a dead SMTP server never blocks the sync.
//!
//! [`OutgoingMail`]: koppeling_domain::notification::OutgoingMail

mod html;
mod log;
mod message;
mod smtp;

pub use log::LogNotifier;
pub use smtp::{DEFAULT_TIMEOUT, SmtpConfig, SmtpNotifier};

use koppeling_domain::notification::OutgoingMail;
use koppeling_domain::ports::{Notifier, NotifyError};

/// The notifier the app wires in: SMTP when `smtp.url` is set, otherwise the log.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "built once at start-up and held for the life of the process"
)]
pub enum AnyNotifier {
    /// Mails over SMTP.
    Smtp(SmtpNotifier),
    /// Logs the mail at info level.
    Log(LogNotifier),
}

impl AnyNotifier {
    /// SMTP when `smtp` is given, otherwise the log notifier.
    ///
    /// # Errors
    /// When the SMTP URL or the from address is invalid (see [`SmtpNotifier::new`]).
    pub fn from_config(smtp: Option<&SmtpConfig>) -> anyhow::Result<Self> {
        Ok(match smtp {
            Some(cfg) => Self::Smtp(SmtpNotifier::new(cfg)?),
            None => Self::Log(LogNotifier),
        })
    }

    /// Checks that the SMTP server answers (a NOOP); the log notifier always passes.
    ///
    /// # Errors
    /// See [`SmtpNotifier::test_connection`].
    pub async fn test_connection(&self) -> anyhow::Result<bool> {
        match self {
            Self::Smtp(smtp) => smtp.test_connection().await,
            Self::Log(_) => Ok(true),
        }
    }
}

impl From<SmtpNotifier> for AnyNotifier {
    fn from(notifier: SmtpNotifier) -> Self {
        Self::Smtp(notifier)
    }
}

impl From<LogNotifier> for AnyNotifier {
    fn from(notifier: LogNotifier) -> Self {
        Self::Log(notifier)
    }
}

impl Notifier for AnyNotifier {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), NotifyError> {
        match self {
            Self::Smtp(smtp) => smtp.send(mail).await,
            Self::Log(log) => log.send(mail).await,
        }
    }
}
