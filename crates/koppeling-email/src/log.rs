//! `LogNotifier`: writes each mail to the log instead of sending it (used when `smtp.url` is unset).

use koppeling_domain::notification::OutgoingMail;
use koppeling_domain::ports::{Notifier, NotifyError};

/// Logs each mail (recipient, subject and body) at info level; never fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), NotifyError> {
        tracing::info!(
            to = %format_args!("{} <{}>", mail.to_name, mail.to_email),
            subject = %mail.subject,
            body = %mail.body,
            "notification not mailed because smtp.url is unset"
        );
        Ok(())
    }
}
