//! A real SMTP server for the tests: `tests/smtp_sink.py` (aiosmtpd) in a child process.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The sink script, next to this test binary's sources.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py");

/// Starts a sink, or returns from the test with a loud skip when aiosmtpd is missing
/// (under `CI` a missing aiosmtpd fails the test instead).
macro_rules! start_sink_or_skip {
    () => {
        match $crate::sink::SmtpSink::start() {
            Some(sink) => sink,
            None => return,
        }
    };
}
pub(crate) use start_sink_or_skip;

/// A running aiosmtpd that writes each received message into a temp dir; killed on drop.
pub struct SmtpSink {
    /// The python process.
    child: Child,
    /// Where it listens.
    pub port: u16,
    /// Where the messages land.
    dir: tempfile::TempDir,
}

/// One message as the sink received it.
#[derive(Debug)]
pub struct Received {
    /// The envelope sender.
    pub mail_from: String,
    /// The envelope recipients.
    pub rcpt_to: Vec<String>,
    /// The DATA, exactly as received.
    pub data: Vec<u8>,
}

impl SmtpSink {
    /// Starts the sink on a free port and waits until it accepts connections; `None` when
    /// aiosmtpd is unavailable outside CI.
    pub fn start() -> Option<Self> {
        let python = python();
        if !aiosmtpd_available(&python) {
            let msg = format!(
                "`{python} -c 'import aiosmtpd'` failed: install it with `pip install aiosmtpd` \
                 or name another interpreter in TEST_SMTP_PYTHON"
            );
            if std::env::var_os("CI").is_some() {
                panic!("the SMTP tests must run under CI, but {msg}");
            }
            // Straight to the stderr handle: libtest captures `eprintln!`, and a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n################################################################\n\
                 SKIPPED: koppeling-email SMTP test, {msg}\n\
                 ################################################################\n"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir for received mail");
        let port = free_port();
        let mut child = Command::new(&python)
            .arg(SCRIPT)
            .arg(port.to_string())
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|err| panic!("starting {python} {SCRIPT}: {err}"));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().expect("polling the sink") {
                panic!("the SMTP sink exited early with {status}");
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the SMTP sink did not listen on {addr} within 15 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self { child, port, dir })
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Waits (up to 10 s) until `count` messages arrived, and returns them in arrival order.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let files = eml_files(self.dir.path());
            if files.len() >= count {
                return files.iter().map(|path| read(path)).collect();
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} messages, got {} within 10 s",
                files.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The interpreter: `TEST_SMTP_PYTHON`, default `python3`.
fn python() -> String {
    std::env::var("TEST_SMTP_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn aiosmtpd_available(python: &str) -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        Command::new(python)
            .args(["-c", "import aiosmtpd.controller"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// A port that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding port 0");
    listener.local_addr().expect("local addr").port()
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("reading the sink dir")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> Received {
    let bytes = std::fs::read(path).expect("reading a received message");
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("envelope and data are separated by an empty line");
    let head = std::str::from_utf8(&bytes[..split]).expect("envelope is UTF-8");
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    for line in head.split("\r\n") {
        if let Some(from) = line.strip_prefix("MAIL FROM: ") {
            mail_from = from.to_owned();
        } else if let Some(to) = line.strip_prefix("RCPT TO: ") {
            rcpt_to.push(to.to_owned());
        }
    }
    Received {
        mail_from,
        rcpt_to,
        data: bytes[split + 4..].to_vec(),
    }
}
