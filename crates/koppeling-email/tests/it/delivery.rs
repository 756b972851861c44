//! Mails sent through a real SMTP server arrive intact: envelope, headers, Dutch text, HTML.

use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::notification::{NoticeKind, NotificationItem, OutgoingMail, render};
use koppeling_domain::ports::Notifier;
use koppeling_email::{AnyNotifier, SmtpConfig, SmtpNotifier};
use mailparse::{MailHeaderMap, ParsedMail};

use crate::sink::start_sink_or_skip;

fn failed_invoice_mail() -> OutgoingMail {
    let adm = AdministratieCode::parse("bakkerij").expect("valid code");
    let item = NotificationItem {
        kind: NoticeKind::InvoiceFailed,
        subject_type: "invoice".into(),
        subject_id: "inv-7".into(),
        label: "2026-0042".into(),
        reason: "De relatie Café Noël <Smit & Zn> heeft geen geldig btw-nummer".into(),
        snelstart_code: Some("REL-0012".into()),
        hint: Some("corrigeer het btw-nummer van de relatie en bied de factuur opnieuw aan".into()),
    };
    let (subject, body) = render(
        &adm,
        "Bakkerij Één",
        "Beatrijs Ëlsen",
        &[item],
        "http://127.0.0.1:8360/",
    );
    OutgoingMail {
        to_name: "Beatrijs Ëlsen".into(),
        to_email: "bea@example.nl".into(),
        subject,
        body,
        link_base: "http://127.0.0.1:8360/".into(),
    }
}

fn config(url: String) -> SmtpConfig {
    SmtpConfig {
        url,
        from: "koppeling <koppeling@example.nl>".into(),
    }
}

fn header(mail: &ParsedMail<'_>, name: &str) -> String {
    mail.headers
        .get_first_value(name)
        .unwrap_or_else(|| panic!("header {name} missing"))
}

fn part<'a>(mail: &'a ParsedMail<'a>, mimetype: &str) -> &'a ParsedMail<'a> {
    mail.subparts
        .iter()
        .find(|p| p.ctype.mimetype == mimetype)
        .unwrap_or_else(|| panic!("no {mimetype} part"))
}

#[tokio::test]
async fn a_failed_invoice_mail_arrives_with_its_dutch_text_intact() {
    // Arrange
    let sink = start_sink_or_skip!();
    let notifier = SmtpNotifier::new(&config(sink.url())).expect("notifier");
    let mail = failed_invoice_mail();

    // Act
    notifier.send(&mail).await.expect("sent");

    // Assert
    let received = sink.wait_for(1).await;
    let raw = &received[0];
    println!(
        "--- raw message as received ---\n{}",
        String::from_utf8_lossy(&raw.data)
    );
    assert_eq!(raw.mail_from, "<koppeling@example.nl>");
    assert_eq!(raw.rcpt_to, ["<bea@example.nl>"]);

    let parsed = mailparse::parse_mail(&raw.data).expect("a parsable message");
    assert_eq!(header(&parsed, "Subject"), mail.subject);
    assert!(mail.subject.contains("Één"), "{}", mail.subject);
    assert_eq!(header(&parsed, "To"), "Beatrijs Ëlsen <bea@example.nl>");
    assert_eq!(header(&parsed, "From"), "koppeling <koppeling@example.nl>");
    assert!(parsed.headers.get_first_value("Date").is_some());
    assert!(parsed.headers.get_first_value("Message-ID").is_some());
    assert_eq!(parsed.ctype.mimetype, "multipart/alternative");

    let plain = part(&parsed, "text/plain");
    assert_eq!(plain.ctype.charset, "utf-8");
    let text = plain.get_body().expect("plain body").replace("\r\n", "\n");
    assert_eq!(text, mail.body);
    assert!(text.contains("Café Noël <Smit & Zn>"), "{text}");
    assert!(text.contains("Beste Beatrijs Ëlsen"), "{text}");

    let html = part(&parsed, "text/html").get_body().expect("html body");
    assert!(
        html.contains("Café Noël &lt;Smit &amp; Zn&gt;"),
        "text escaped in {html}"
    );
    assert!(
        html.contains(
            "<a href=\"http://127.0.0.1:8360/facturen/inv-7\">http://127.0.0.1:8360/facturen/inv-7</a>"
        ),
        "link clickable in {html}"
    );
}

#[tokio::test]
async fn several_mails_through_any_notifier_each_arrive() {
    // Arrange
    let sink = start_sink_or_skip!();
    let notifier = AnyNotifier::from_config(Some(&config(sink.url()))).expect("notifier");
    assert!(matches!(notifier, AnyNotifier::Smtp(_)));
    let mut first = failed_invoice_mail();
    first.to_email = "een@example.nl".into();
    let mut second = failed_invoice_mail();
    second.to_email = "twee@example.nl".into();
    second.to_name = String::new();

    // Act
    let (a, b) = tokio::join!(notifier.send(&first), notifier.send(&second));

    // Assert
    a.expect("first sent");
    b.expect("second sent");
    let mut recipients: Vec<String> = sink
        .wait_for(2)
        .await
        .into_iter()
        .map(|r| {
            let parsed = mailparse::parse_mail(&r.data).expect("parsable");
            header(&parsed, "To")
        })
        .collect();
    recipients.sort();
    assert_eq!(
        recipients,
        ["Beatrijs Ëlsen <een@example.nl>", "twee@example.nl"]
    );
}

#[tokio::test]
async fn test_connection_passes_against_a_live_server() {
    let sink = start_sink_or_skip!();
    let notifier = SmtpNotifier::new(&config(sink.url())).expect("notifier");

    assert!(notifier.test_connection().await.expect("connected"));
}

#[tokio::test]
async fn data_with_line_breaks_and_urls_arrives_as_one_unlinked_line() {
    // Arrange: a relation name and a SnelStart message that try to forge headers, lines
    // and links.
    let sink = start_sink_or_skip!();
    let notifier = SmtpNotifier::new(&config(sink.url())).expect("notifier");
    let adm = AdministratieCode::parse("bakkerij").expect("valid code");
    let item = NotificationItem {
        kind: NoticeKind::InvoiceFailed,
        subject_type: "relation".into(),
        subject_id: "rel-1".into(),
        label: "Smit\r\nBcc: stiekem@evil.example\r\nhttp://evil.example/login".into(),
        reason:
            "naam http://evil.example\n* Factuur nep\n  Bekijk: https://evil.example/x\u{2028}eind"
                .into(),
        snelstart_code: None,
        hint: None,
    };
    let (subject, body) = render(
        &adm,
        "Bakkerij\r\nX-Evil: 1",
        "Bea\r\nCc: stiekem@evil.example",
        &[item],
        "http://127.0.0.1:8360/",
    );
    let mail = OutgoingMail {
        to_name: "Bea\r\nCc: stiekem@evil.example".into(),
        to_email: "bea@example.nl".into(),
        subject,
        body,
        link_base: "http://127.0.0.1:8360/".into(),
    };

    // Act
    notifier.send(&mail).await.expect("sent");

    // Assert
    let received = sink.wait_for(1).await;
    let raw = &received[0];
    println!("--- raw ---\n{}", String::from_utf8_lossy(&raw.data));
    assert_eq!(raw.rcpt_to, ["<bea@example.nl>"], "no injected recipient");
    let parsed = mailparse::parse_mail(&raw.data).expect("a parsable message");
    for name in ["Bcc", "Cc", "X-Evil"] {
        assert!(
            parsed.headers.get_first_value(name).is_none(),
            "header {name} injected"
        );
    }
    assert_eq!(
        header(&parsed, "Subject"),
        "SnelStart koppeling Bakkerij X-Evil: 1: relatie Smit Bcc: stiekem@evil.example http://evil.example/login is niet gesynchroniseerd"
    );
    let text = part(&parsed, "text/plain")
        .get_body()
        .expect("plain body")
        .replace("\r\n", "\n");
    assert!(
        text.contains("* Relatie Smit Bcc: stiekem@evil.example http://evil.example/login\n"),
        "the name is one line: {text}"
    );
    assert!(
        text.contains(
            "  Reden: naam http://evil.example * Factuur nep   Bekijk: https://evil.example/x eind\n"
        ),
        "the reason is one line: {text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("* Factuur nep")),
        "no forged item line: {text}"
    );
    let html = part(&parsed, "text/html").get_body().expect("html body");
    assert!(
        !html.contains("href=\"http://evil") && !html.contains("href=\"https://evil"),
        "a URL from data is not a link: {html}"
    );
    assert!(html.contains("http://evil.example/login"), "{html}");
    assert!(
        html.contains("<a href=\"http://127.0.0.1:8360/relaties\">"),
        "the service's own link is clickable: {html}"
    );
}
