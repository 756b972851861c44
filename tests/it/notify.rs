//! Notifications are never lost: with the SMTP server down, a notification is stored, shown
//! unsent with its error, counted in `/metrics`, and retried (also after more than ten failed
//! sends); once the server listens, it is delivered and `sent_at` is set; the same failure
//! again within the window is not mailed twice.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, free_port, spawn_app_with};

/// The aiosmtpd sink of koppeling-email's tests: `smtp_sink.py PORT DIR`.
const SINK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/koppeling-email/tests/smtp_sink.py"
);

/// aiosmtpd on a given port, writing each message to `dir/<n>.eml`; killed on drop.
pub(crate) struct Sink {
    child: Child,
    dir: tempfile::TempDir,
}

impl Sink {
    /// Starts on `port`; `None` (a loud skip, a failure under `CI`) without aiosmtpd.
    pub(crate) fn start(port: u16) -> Option<Self> {
        let python = std::env::var("TEST_SMTP_PYTHON").unwrap_or_else(|_| "python3".into());
        let available = Command::new(&python)
            .args(["-c", "import aiosmtpd.controller"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            assert!(
                std::env::var_os("CI").is_none(),
                "aiosmtpd is missing: `{python} -m pip install aiosmtpd`"
            );
            eprintln!(
                "\n*** SKIPPING the notification delivery test: `{python} -m pip install aiosmtpd` ***\n"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&python)
            .arg(SINK)
            .arg(port.to_string())
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the SMTP sink exited early with {status}");
            }
            assert!(Instant::now() < deadline, "the SMTP sink did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self { child, dir })
    }

    /// The received messages (envelope lines, an empty line, the DATA), in arrival order.
    pub(crate) fn received(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files.iter().map(|p| read(p)).collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    // Quoted-printable soft line breaks joined, so that text can be searched.
    String::from_utf8_lossy(&std::fs::read(path).unwrap()).replace("=\r\n", "")
}

pub(crate) async fn notifications(app: &TestApp, adm: &str) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("/administraties/{adm}/notifications"))
        .await;
    assert_eq!(status, 200, "{body}");
    body.as_array().cloned().unwrap_or_default()
}

async fn metrics(app: &TestApp) -> String {
    app.client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Polls `check` every 50 ms until it gives a value, or panics after `secs` with `what`.
pub(crate) async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) => assert!(
                Instant::now() < deadline,
                "{what} not within {secs} s; last seen: {last}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn mail_is_retried_until_the_smtp_server_is_up(db: Db) {
    // Arrange: SMTP down (nothing listens on the port), a short back-off.
    let port = free_port();
    let Some(app) = spawn_app_with(db, |s| {
        s.smtp.url = Some(format!("smtp://127.0.0.1:{port}"));
        s.notify.retry_base_ms = 20;
        s.notify.retry_max_ms = 150;
    })
    .await
    else {
        return;
    };
    let adm = "kantoor";
    app.setup_administratie(adm).await;
    app.add_relation(adm, "r1", "1001", true).await;
    let (status, body) = app
        .post(&format!(
            "/administraties/{adm}/integrations/snelstart/activate"
        ))
        .await;
    assert_eq!(status, 200, "{body}");

    // Act: an invoice fails with a data error (its number is too long for SnelStart).
    let lines =
        json!([{"description": "Advies", "quantity": "1", "unit_price": "100.00", "vat": "high"}]);
    let number = "2026-0005-VEEL-TE-LANG-NUMMER";
    app.put_invoice(adm, "f1", number, "r1", "final", lines)
        .await;
    app.wait_for_status(adm, "f1", &["failed"], 10).await;

    // Assert: stored, shown unsent with its error, still retried after ten failed sends.
    let unsent = wait_for(30, "more than ten failed sends", || async {
        let notes = notifications(&app, adm).await;
        match notes.first() {
            Some(n) if n["send_attempts"].as_u64().is_some_and(|a| a > 10) => Ok(n.clone()),
            _ => Err(format!("{notes:?}")),
        }
    })
    .await;
    assert!(unsent["sent_at"].is_null(), "{unsent}");
    let error = unsent["last_error"].as_str().unwrap_or_default();
    assert!(!error.is_empty(), "the send error is shown: {unsent}");
    assert_eq!(unsent["to"], format!("bea-{adm}@kantoor.nl"));
    assert_eq!(notifications(&app, adm).await.len(), 1);
    let text = wait_for(15, "the unsent gauge", || async {
        let text = metrics(&app).await;
        match metric(&text, "koppeling_notifications_unsent") {
            Some(1) => Ok(text),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert!(
        metric(&text, "koppeling_notification_send_failures_total").is_some_and(|n| n > 10),
        "{text}"
    );

    // Act: the SMTP server comes up on that port.
    let Some(sink) = Sink::start(port) else {
        return;
    };

    // Assert: delivered, `sent_at` set, the error cleared.
    let sent = wait_for(15, "the mail delivered", || async {
        let notes = notifications(&app, adm).await;
        match notes.first() {
            Some(n) if n["sent_at"].is_string() => Ok(n.clone()),
            _ => Err(format!("{notes:?}")),
        }
    })
    .await;
    assert!(sent["last_error"].is_null(), "{sent}");
    let received = sink.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(
        received[0].contains(&format!("RCPT TO: <bea-{adm}@kantoor.nl>")),
        "{}",
        received[0]
    );
    assert!(received[0].contains(number), "{}", received[0]);
    wait_for(15, "the unsent gauge back to 0", || async {
        match metric(&metrics(&app).await, "koppeling_notifications_unsent") {
            Some(0) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;

    // Act: the same failure again, within the window.
    let (status, body) = app
        .post(&format!("/administraties/{adm}/invoices/f1/retry"))
        .await;
    assert_eq!(status, 200, "{body}");
    app.wait_for_status(adm, "f1", &["failed"], 10).await;
    // Several dispatch rounds (every 50 ms here).
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Assert: not mailed twice, no second notification.
    assert_eq!(sink.received().len(), 1, "mailed twice");
    assert_eq!(notifications(&app, adm).await.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_mail_is_retried_until_sent_on_sqlite() {
    mail_is_retried_until_the_smtp_server_is_up(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_mail_is_retried_until_sent_on_postgres() {
    mail_is_retried_until_the_smtp_server_is_up(Db::Postgres).await;
}
