//! Builds the MIME message for an `OutgoingMail`: validated addresses, plain text plus HTML.

use koppeling_domain::notification::{OutgoingMail, one_line};
use koppeling_domain::ports::NotifyError;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

use crate::html;

/// Builds the message from `from` to the mail's recipient.
///
/// # Errors
/// A [`NotifyError`] naming the address when the recipient address is invalid.
pub(crate) fn build(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, NotifyError> {
    let address = mail.to_email.trim().parse().map_err(|err| {
        NotifyError(format!(
            "invalid recipient address {:?}: {err}",
            mail.to_email
        ))
    })?;
    let name = one_line(&mail.to_name);
    let to = Mailbox::new((!name.is_empty()).then_some(name), address);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(one_line(&mail.subject))
        // lettre adds a Date itself, but a Message-ID only when asked; spam filters want one.
        .message_id(None)
        .multipart(MultiPart::alternative_plain_html(
            mail.body.clone(),
            html::render(&mail.body, &mail.link_base),
        ))
        .map_err(|err| {
            NotifyError(format!(
                "could not build the mail to {:?}: {err}",
                mail.to_email
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(to_email: &str) -> OutgoingMail {
        OutgoingMail {
            to_name: "Bea Ëlsen".into(),
            to_email: to_email.into(),
            subject: "Factuur 2026-001 is niet gesynchroniseerd".into(),
            body: "Beste Bea,\n\nReden: één fout.\n".into(),
            link_base: "http://ui".into(),
        }
    }

    fn from() -> Mailbox {
        "koppeling <koppeling@example.nl>".parse().unwrap()
    }

    #[test]
    fn a_bad_recipient_address_is_an_error_naming_it() {
        let err = build(&from(), &mail("bea at example")).unwrap_err();
        assert!(err.0.contains("\"bea at example\""), "{err}");
    }

    #[test]
    fn a_good_address_builds_a_multipart_alternative() {
        let message = build(&from(), &mail(" bea@example.nl ")).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("<bea@example.nl>"), "{raw}");
    }

    #[test]
    fn header_values_lose_line_breaks() {
        assert_eq!(one_line("a\r\nBcc: x@y\n").trim(), "a Bcc: x@y");
    }

    #[test]
    fn no_header_can_be_injected_through_subject_or_name() {
        let mut m = mail("bea@example.nl");
        m.subject = "Factuur\r\nBcc: evil@example.com\r\nX-Evil: 1".into();
        m.to_name = "Bea\r\nCc: evil@example.com".into();
        let raw = String::from_utf8(build(&from(), &m).unwrap().formatted()).unwrap();
        let headers = raw.split("\r\n\r\n").next().unwrap();
        for line in headers.split("\r\n") {
            let name = line.split(':').next().unwrap().to_ascii_lowercase();
            assert!(
                !["bcc", "cc", "x-evil"].contains(&name.as_str()),
                "an injected header: {line:?} in\n{headers}"
            );
        }
        assert!(!raw.to_ascii_lowercase().contains("\nbcc:"), "{raw}");
    }

    #[test]
    fn lettre_itself_encodes_line_breaks_in_a_subject() {
        // Defence in depth: even a subject that skipped `one_line` cannot add a header.
        let message = Message::builder()
            .from(from())
            .to("bea@example.nl".parse().unwrap())
            .subject("Factuur\r\nBcc: evil@example.com")
            .body(String::from("x"))
            .unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
    }
}
