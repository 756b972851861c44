//! `SmtpNotifier`: sends each mail over SMTP with lettre's async transport, within a timeout.

use std::fmt;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use koppeling_domain::notification::OutgoingMail;
use koppeling_domain::ports::{Notifier, NotifyError};
use koppeling_domain::text::redact_url;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};

use crate::message;

/// How long one send (connect, greeting, every command, the data) may take in total.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and as whom to send.
#[derive(Clone)]
pub struct SmtpConfig {
    /// `smtp://host:port` (plain), `smtp://host:port?tls=required` (STARTTLS),
    /// `smtps://host:port` (TLS from the start), each optionally with `user:pass@`.
    pub url: String,
    /// The `From` mailbox: `koppeling@example.nl` or `koppeling <koppeling@example.nl>`.
    pub from: String,
}

impl fmt::Debug for SmtpConfig {
    /// Leaves the password in the URL out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("url", &redact_url(&self.url))
            .field("from", &self.from)
            .finish()
    }
}

/// Sends notification mails over SMTP: one connection per mail, bounded by a timeout.
#[derive(Clone)]
pub struct SmtpNotifier {
    /// lettre's transport, built from the URL.
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The `From` of every mail.
    from: Mailbox,
    /// The bound on one send or connection test.
    timeout: Duration,
    /// The URL without credentials, for messages.
    server: String,
}

impl fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// Builds the notifier with [`DEFAULT_TIMEOUT`]; it does not connect yet.
    ///
    /// # Errors
    /// When `cfg.url` is not a supported SMTP URL or `cfg.from` is not a valid mailbox.
    pub fn new(cfg: &SmtpConfig) -> anyhow::Result<Self> {
        Self::with_timeout(cfg, DEFAULT_TIMEOUT)
    }

    /// Builds the notifier with its own bound on one send or connection test.
    ///
    /// # Errors
    /// As [`SmtpNotifier::new`].
    pub fn with_timeout(cfg: &SmtpConfig, timeout: Duration) -> anyhow::Result<Self> {
        let server = redact_url(&cfg.url);
        let from: Mailbox =
            cfg.from.trim().parse().with_context(|| {
                format!("smtp.from {:?} is not a valid e-mail address", cfg.from)
            })?;
        // The URL may hold a password, so the messages name only its redacted form.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(cfg.url.trim())
            .with_context(|| {
                format!(
                    "smtp.url {server:?} is not a valid SMTP URL \
                     (smtp://host:port, smtp://host:port?tls=required or smtps://host:port)"
                )
            })?
            .timeout(Some(timeout))
            .build();
        Ok(Self {
            transport,
            from,
            timeout,
            server,
        })
    }

    /// Connects and sends NOOP: the start-up check that the server answers.
    ///
    /// # Errors
    /// When the server can not be reached, refuses the connection, the TLS handshake or the
    /// login fails, or it does not answer within the timeout.
    pub async fn test_connection(&self) -> anyhow::Result<bool> {
        tokio::time::timeout(self.timeout, self.transport.test_connection())
            .await
            .map_err(|_| {
                anyhow!(
                    "SMTP server {} did not answer within {:?}",
                    self.server,
                    self.timeout
                )
            })?
            // lettre's message already repeats its source, so the chain is joined without repeats.
            .map_err(|err| {
                anyhow!(
                    "connecting to SMTP server {}: {}",
                    self.server,
                    error_chain(&err)
                )
            })
    }
}

impl Notifier for SmtpNotifier {
    #[tracing::instrument(name = "smtp_send", skip_all, fields(server = %self.server))]
    async fn send(&self, mail: &OutgoingMail) -> Result<(), NotifyError> {
        let message = message::build(&self.from, mail)?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_response)) => Ok(()),
            Ok(Err(err)) => Err(NotifyError(format!(
                "SMTP server {} did not take the mail to {:?}: {}",
                self.server,
                mail.to_email,
                error_chain(&err)
            ))),
            Err(_elapsed) => Err(NotifyError(format!(
                "SMTP server {} did not take the mail to {:?} within {:?}",
                self.server, mail.to_email, self.timeout
            ))),
        }
    }
}

/// `err` and its sources, joined by `: `.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_urls_lose_the_password() {
        assert_eq!(
            redact_url("smtp://bea:geheim@mail.example.nl:587?tls=required"),
            "smtp://bea:***@mail.example.nl:587?tls=required"
        );
        assert_eq!(
            redact_url("smtps://mail.example.nl"),
            "smtps://mail.example.nl"
        );
        assert_eq!(redact_url("geheim"), "<not a URL>");
    }

    #[test]
    fn debug_shows_no_password() {
        let cfg = SmtpConfig {
            url: "smtp://bea:geheim@127.0.0.1:2525".into(),
            from: "koppeling@localhost".into(),
        };
        assert!(!format!("{cfg:?}").contains("geheim"));
        let notifier = SmtpNotifier::new(&cfg).unwrap();
        assert!(!format!("{notifier:?}").contains("geheim"));
    }

    #[test]
    fn supported_urls_build() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://user:pass@mail.example.nl:587?tls=required",
            "smtp://mail.example.nl?tls=opportunistic",
            "smtps://mail.example.nl",
        ] {
            let cfg = SmtpConfig {
                url: url.into(),
                from: "koppeling <koppeling@example.nl>".into(),
            };
            SmtpNotifier::new(&cfg).unwrap_or_else(|err| panic!("{url}: {err:#}"));
        }
    }

    #[test]
    fn a_bad_url_or_from_is_a_start_up_error_without_the_password() {
        let bad_url = SmtpConfig {
            url: "http://bea:geheim@mail.example.nl".into(),
            from: "koppeling@localhost".into(),
        };
        let err = format!("{:#}", SmtpNotifier::new(&bad_url).unwrap_err());
        assert!(err.contains("smtp.url") && !err.contains("geheim"), "{err}");

        let bad_from = SmtpConfig {
            url: "smtp://127.0.0.1:2525".into(),
            from: "niet een adres".into(),
        };
        let err = format!("{:#}", SmtpNotifier::new(&bad_from).unwrap_err());
        assert!(
            err.contains("smtp.from") && err.contains("niet een adres"),
            "{err}"
        );
    }
}
