//! Failures are `NotifyError`s that come quickly: a bad address, a server down or silent.

use std::time::{Duration, Instant};

use koppeling_domain::notification::OutgoingMail;
use koppeling_domain::ports::Notifier;
use koppeling_email::{AnyNotifier, LogNotifier, SmtpConfig, SmtpNotifier};

use crate::sink::free_port;

fn mail(to_email: &str) -> OutgoingMail {
    OutgoingMail {
        to_name: "Bea".into(),
        to_email: to_email.into(),
        subject: "Factuur 2026-001 is niet gesynchroniseerd".into(),
        body: "Beste Bea,\n\nReden: één fout.\n".into(),
        link_base: "http://127.0.0.1:8360".into(),
    }
}

fn notifier(url: String, timeout: Duration) -> SmtpNotifier {
    let cfg = SmtpConfig {
        url,
        from: "koppeling@example.nl".into(),
    };
    SmtpNotifier::with_timeout(&cfg, timeout).expect("notifier")
}

#[tokio::test]
async fn a_bad_recipient_address_is_a_notify_error_naming_it() {
    let notifier = notifier(
        format!("smtp://127.0.0.1:{}", free_port()),
        Duration::from_secs(10),
    );

    for bad in ["bea", "bea@", "bea at example.nl", "<bea@example.nl>", ""] {
        let err = notifier.send(&mail(bad)).await.expect_err(bad);
        assert!(err.0.contains(&format!("{bad:?}")), "{bad}: {err}");
    }
}

#[tokio::test]
async fn a_server_that_is_down_fails_quickly() {
    // A port that nothing listens on: the connection is refused.
    let notifier = notifier(
        format!("smtp://127.0.0.1:{}", free_port()),
        Duration::from_secs(10),
    );
    let started = Instant::now();

    let err = notifier
        .send(&mail("bea@example.nl"))
        .await
        .expect_err("nothing listens");
    let ping = notifier.test_connection().await;

    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(err.0.contains("bea@example.nl"), "{err}");
    assert!(ping.is_err(), "{ping:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Accepts connections and never says a word, as a hung server does.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let notifier = notifier(
        format!("smtp://127.0.0.1:{port}"),
        Duration::from_millis(500),
    );
    let started = Instant::now();

    let err = notifier
        .send(&mail("bea@example.nl"))
        .await
        .expect_err("never answers");
    let ping = notifier.test_connection().await;

    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(err.0.contains("within 500ms"), "{err}");
    let ping_err = format!("{:#}", ping.expect_err("never answers"));
    assert!(ping_err.contains("within 500ms"), "{ping_err}");
    silent.abort();
}

#[tokio::test]
async fn without_smtp_the_mail_is_logged_and_counts_as_sent() {
    let notifier = AnyNotifier::from_config(None).expect("log notifier");
    assert!(matches!(notifier, AnyNotifier::Log(LogNotifier)));

    notifier
        .send(&mail("bea@example.nl"))
        .await
        .expect("logged");
    assert!(notifier.test_connection().await.expect("always passes"));
}
