//! Log-in and sessions (issue 13), black-box against the real `koppeling serve` binary:
//! the throttle per account and per client address, the single-use log-in form token bound
//! to the browser, sessions shared by processes on one PostgreSQL and kept over a restart,
//! ended by a password change and by logging out, secure cookie names and HSTS, the
//! password and token lengths, and the peak memory of 128 parallel log-ins.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::{TOKEN, free_port, fresh_postgres, koppeling_binary};

const PREVIOUS_TOKEN: &str = "an-older-api-token-of-32-chars!!";
const ANNA: &str = "anna@kantoor.nl";
const BOB: &str = "bob@kantoor.nl";
const PASSWORD: &str = "een lang genoeg wachtwoord";

fn command(db_url: &str, port: u16, extra: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(koppeling_binary());
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("KOPPELING_DATABASE__URL", db_url)
        .env("KOPPELING_HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .env("KOPPELING_API__TOKEN", TOKEN)
        .env("KOPPELING_SNELSTART__API_URL", "http://127.0.0.1:9/v2")
        .env(
            "KOPPELING_SNELSTART__AUTH_URL",
            "http://127.0.0.1:9/b2b/token",
        )
        .env(
            "KOPPELING_SNELSTART__SUBSCRIPTION_KEY",
            "sandbox-subscription-key",
        )
        .env(
            "KOPPELING_SECRETS__MASTER_KEY",
            base64::engine::general_purpose::STANDARD.encode([3u8; 32]),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

/// One `koppeling serve` process.
struct Serve {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Serve {
    async fn start(dir: &Path, db_url: &str, name: &str, extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let child = command(db_url, port, extra)
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start koppeling serve");
        let mut serve = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = serve.child.try_wait() {
                panic!(
                    "koppeling serve exited with {status}:\n{}",
                    std::fs::read_to_string(&serve.log).unwrap_or_default()
                );
            }
            if let Ok(res) = client.get(format!("{}/healthz", serve.base)).send().await
                && res.status().is_success()
            {
                return serve;
            }
            assert!(Instant::now() < deadline, "koppeling serve did not answer");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    async fn put(&self, path: &str, body: serde_json::Value, token: &str) -> (StatusCode, String) {
        let res = reqwest::Client::new()
            .put(format!("{}/api/v1{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    }

    /// The administratie `kantoor` with Anna and Bob.
    async fn setup(&self) {
        let (status, text) = self
            .put("/administraties/kantoor", json!({"name": "Kantoor"}), TOKEN)
            .await;
        assert!(status.is_success(), "{status} {text}");
        for (id, email) in [("anna", ANNA), ("bob", BOB)] {
            self.set_password(id, email, PASSWORD).await;
        }
    }

    async fn set_password(&self, id: &str, email: &str, password: &str) {
        let (status, text) = self
            .put(
                &format!("/administraties/kantoor/admins/{id}"),
                json!({"name": id, "email": email, "password": password}),
                TOKEN,
            )
            .await;
        assert!(status.is_success(), "{status} {text}");
    }
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("koppeling.db").display())
}

/// A browser: its own cookies, no redirects followed.
#[derive(Default, Clone)]
struct Browser {
    cookies: HashMap<String, String>,
    forwarded_for: Option<String>,
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn form_token(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a csrf field") + marker.len();
    let len = html[start..].find('"').unwrap();
    html[start..start + len].to_owned()
}

impl Browser {
    fn remember(&mut self, answer: &Answer) {
        for c in answer.set_cookies() {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let mut request = request.header(COOKIE, self.cookie_header());
        if let Some(xff) = &self.forwarded_for {
            request = request.header("x-forwarded-for", xff);
        }
        let res = request.send().await.unwrap();
        let answer = Answer {
            status: res.status(),
            headers: res.headers().clone(),
            text: res.text().await.unwrap(),
        };
        self.remember(&answer);
        answer
    }

    async fn get(&mut self, serve: &Serve, path: &str) -> Answer {
        self.send(client().get(format!("{}{path}", serve.base)))
            .await
    }

    async fn post(&mut self, serve: &Serve, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send(client().post(format!("{}{path}", serve.base)).form(form))
            .await
    }

    /// GET /login, then POST the form with this e-mail and password.
    async fn log_in(&mut self, serve: &Serve, email: &str, password: &str) -> Answer {
        let page = self.get(serve, "/login").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let token = form_token(&page.text);
        self.post(
            serve,
            "/login",
            &[("email", email), ("password", password), ("csrf", &token)],
        )
        .await
    }

    /// The CSRF token of the session, from a page with a form.
    async fn session_csrf(&mut self, serve: &Serve) -> String {
        let page = self.get(serve, "/koppelingen/snelstart/notificatie").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        form_token(&page.text)
    }
}

fn logged_in(answer: &Answer) -> bool {
    answer.status == StatusCode::SEE_OTHER
        && answer.headers[LOCATION] == "/koppelingen"
        && answer
            .set_cookies()
            .iter()
            .any(|c| c.contains("koppeling_session=") && !c.contains("Max-Age=0"))
}

async fn has_session(browser: &mut Browser, serve: &Serve) -> bool {
    browser.get(serve, "/koppelingen").await.status == StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_lock_the_account_then_the_address_and_tokens_are_single_use() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(
        dir.path(),
        &sqlite_url(dir.path()),
        "serve",
        &[("KOPPELING_API__PREVIOUS_TOKENS", PREVIOUS_TOKEN)],
    )
    .await;
    serve.setup().await;

    // Passwords have at least 12 characters.
    let (status, text) = serve
        .put(
            "/administraties/kantoor/admins/anna",
            json!({"name": "Anna", "email": ANNA, "password": "elf-tekens!"}),
            TOKEN,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["field"], "password", "{text}");
    // The previous API token is still accepted; a wrong one is not.
    let (status, _) = serve
        .put(
            "/administraties/kantoor",
            json!({"name": "Kantoor"}),
            PREVIOUS_TOKEN,
        )
        .await;
    assert!(status.is_success(), "{status}");
    let (status, _) = serve
        .put(
            "/administraties/kantoor",
            json!({"name": "Kantoor"}),
            "not-the-api-token-of-32-chars!!!",
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Wrong passwords for Anna until the 429.
    let mut browser = Browser::default();
    let mut wrong = 0;
    let locked = loop {
        let answer = browser.log_in(&serve, ANNA, "helemaal niet goed").await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            break answer;
        }
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
        wrong += 1;
        assert!(wrong <= 20, "no lock-out after 20 wrong passwords");
    };
    println!("wrong passwords answered 401 before the 429: {wrong}");
    assert_eq!(wrong, 5);
    let retry_after: u64 = locked.headers[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    println!("Retry-After of the first lock-out: {retry_after} s");
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
    assert!(locked.text.contains("Te veel pogingen"), "{}", locked.text);

    // The right password during the lock-out does not log in.
    let right = browser.log_in(&serve, ANNA, PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!logged_in(&right));
    assert!(!has_session(&mut browser, &serve).await);

    // Bob is not affected.
    let mut bob = Browser::default();
    assert!(logged_in(&bob.log_in(&serve, BOB, PASSWORD).await));
    assert!(has_session(&mut bob, &serve).await);

    // A log-in form token is used once.
    let mut replayer = Browser::default();
    let page = replayer.get(&serve, "/login").await;
    let token = form_token(&page.text);
    let saved = replayer.clone();
    let form = [
        ("email", BOB),
        ("password", PASSWORD),
        ("csrf", token.as_str()),
    ];
    assert!(logged_in(&replayer.post(&serve, "/login", &form).await));
    let mut again = saved.clone();
    let replay = again.post(&serve, "/login", &form).await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN, "{}", replay.text);
    assert!(!logged_in(&replay));

    // A token from another browser's page is refused.
    let mut victim = Browser::default();
    let their_token = form_token(&victim.get(&serve, "/login").await.text);
    let mut attacker = Browser::default();
    let _ = attacker.get(&serve, "/login").await;
    let stolen = attacker
        .post(
            &serve,
            "/login",
            &[
                ("email", BOB),
                ("password", PASSWORD),
                ("csrf", &their_token),
            ],
        )
        .await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN);
    assert!(!logged_in(&stolen));

    // The address: every failure from 127.0.0.1 counts (X-Forwarded-For is ignored from an
    // untrusted peer); after 50 in 15 minutes, 429 for any account.
    let mut address_failures = wrong;
    let mut spoofer = Browser::default();
    let mut n = 0;
    loop {
        n += 1;
        spoofer.forwarded_for = Some(format!("198.51.100.{}", n % 250));
        let answer = spoofer
            .log_in(
                &serve,
                &format!("onbekend{n}@example.nl"),
                "wat dan ook 123",
            )
            .await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(answer.headers.contains_key(RETRY_AFTER));
            break;
        }
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
        address_failures += 1;
        assert!(
            address_failures <= 80,
            "no address lock-out after 80 failures"
        );
    }
    println!("failures from one address answered before the 429: {address_failures}");
    assert_eq!(address_failures, 50);
    // Now even Bob's right password is refused from this address.
    let mut bob2 = Browser::default();
    assert_eq!(
        bob2.log_in(&serve, BOB, PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    serve.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_from_a_trusted_proxy_names_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(
        dir.path(),
        &sqlite_url(dir.path()),
        "proxied",
        &[("KOPPELING_HTTP__TRUSTED_PROXIES", "127.0.0.1,10.0.0.0/8")],
    )
    .await;
    serve.setup().await;
    let mut proxied = Browser {
        forwarded_for: Some("203.0.113.9, 10.1.2.3".to_owned()),
        ..Browser::default()
    };
    let mut failures = 0;
    loop {
        let answer = proxied
            .log_in(
                &serve,
                &format!("onbekend{failures}@example.nl"),
                "wat dan ook 123",
            )
            .await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        failures += 1;
        assert!(failures <= 80);
    }
    println!("failures of 203.0.113.9 behind the proxy before the 429: {failures}");
    assert_eq!(failures, 50);
    // Another client behind the same proxy is not locked out.
    let mut other = Browser {
        forwarded_for: Some("203.0.113.10".to_owned()),
        ..Browser::default()
    };
    assert!(logged_in(&other.log_in(&serve, ANNA, PASSWORD).await));

    // 20 parallel wrong passwords for Bob, from 20 addresses: at most 5 are checked.
    let mut set = tokio::task::JoinSet::new();
    for n in 0..20 {
        let mut b = Browser {
            forwarded_for: Some(format!("192.0.2.{n}")),
            ..Browser::default()
        };
        let token = form_token(&b.get(&serve, "/login").await.text);
        let base = serve.base.clone();
        set.spawn(async move {
            b.send(client().post(format!("{base}/login")).form(&[
                ("email", BOB),
                ("password", "twintig pogingen tegelijk"),
                ("csrf", token.as_str()),
            ]))
            .await
            .status
        });
    }
    let mut checked = 0;
    while let Some(status) = set.join_next().await {
        match status.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other}"),
        }
    }
    println!("of 20 parallel wrong passwords for one account, {checked} were checked");
    assert!(checked <= 5, "{checked}");
    serve.stop().await;

    // A bad entry is refused at start-up, naming the key.
    let out = command(
        &sqlite_url(dir.path()),
        free_port(),
        &[("KOPPELING_HTTP__TRUSTED_PROXIES", "proxy.example")],
    )
    .output()
    .await
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("http.trusted_proxies"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_shared_by_processes_survive_a_restart_and_end_on_logout_or_a_new_password() {
    let db_url = fresh_postgres().await.expect(
        "TEST_DATABASE_URL must name a PostgreSQL database (postgres://postgres@127.0.0.1:5432/test): \
         the shared-session test needs two processes on one database",
    );
    let dir = tempfile::tempdir().unwrap();
    let one = Serve::start(dir.path(), &db_url, "one", &[]).await;
    let two = Serve::start(dir.path(), &db_url, "two", &[]).await;
    one.setup().await;

    let mut anna = Browser::default();
    assert!(logged_in(&anna.log_in(&one, ANNA, PASSWORD).await));
    assert!(has_session(&mut anna, &one).await);
    assert!(
        has_session(&mut anna, &two).await,
        "valid on the second process"
    );
    // A restart keeps the session.
    one.stop().await;
    let one = Serve::start(dir.path(), &db_url, "one-again", &[]).await;
    assert!(has_session(&mut anna, &one).await, "valid after a restart");

    // Logging out on one process ends the session on both.
    let csrf = anna.session_csrf(&two).await;
    let kept = anna.clone();
    let out = anna.post(&two, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let mut old_cookie = kept.clone();
    assert!(!has_session(&mut old_cookie, &two).await);
    assert!(!has_session(&mut old_cookie.clone(), &one).await);

    // A new password (API PUT) ends the Beheerder's sessions, on every process.
    let mut a1 = Browser::default();
    let mut a2 = Browser::default();
    assert!(logged_in(&a1.log_in(&one, ANNA, PASSWORD).await));
    assert!(logged_in(&a2.log_in(&two, ANNA, PASSWORD).await));
    let mut b = Browser::default();
    assert!(logged_in(&b.log_in(&two, BOB, PASSWORD).await));
    one.set_password("anna", ANNA, "een nieuw lang wachtwoord")
        .await;
    assert!(!has_session(&mut a1, &one).await);
    assert!(!has_session(&mut a2, &two).await);
    assert!(!has_session(&mut a2, &one).await);
    assert!(has_session(&mut b, &one).await, "Bob keeps his session");
    one.stop().await;
    two.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_use_host_prefixed_names_and_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(
        dir.path(),
        &sqlite_url(dir.path()),
        "secure",
        &[("KOPPELING_HTTP__SECURE_COOKIES", "true")],
    )
    .await;
    serve.setup().await;
    let mut browser = Browser::default();
    let page = browser.get(&serve, "/login").await;
    assert_eq!(
        page.headers["strict-transport-security"],
        "max-age=31536000"
    );
    let login_cookie = page.set_cookies().join("\n");
    assert!(
        login_cookie.starts_with("__Host-koppeling_login="),
        "{login_cookie}"
    );
    assert!(login_cookie.contains("; Secure"), "{login_cookie}");
    assert!(login_cookie.contains("Path=/;"), "{login_cookie}");
    let answer = browser
        .post(
            &serve,
            "/login",
            &[
                ("email", ANNA),
                ("password", PASSWORD),
                ("csrf", &form_token(&page.text)),
            ],
        )
        .await;
    let cookies = answer.set_cookies();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-koppeling_session="))
        .unwrap_or_else(|| panic!("{cookies:?} {}", answer.text));
    for part in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
        assert!(session.contains(part), "{session}");
    }
    assert!(!session.contains("Domain"), "{session}");
    assert!(has_session(&mut browser, &serve).await);
    let health = reqwest::get(format!("{}/healthz", serve.base))
        .await
        .unwrap();
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    serve.stop().await;

    // Without the setting: the plain names, no Secure, no HSTS.
    let serve = Serve::start(dir.path(), &sqlite_url(dir.path()), "plain", &[]).await;
    let mut browser = Browser::default();
    let page = browser.get(&serve, "/login").await;
    assert!(!page.headers.contains_key("strict-transport-security"));
    let login_cookie = page.set_cookies().join("\n");
    assert!(
        login_cookie.starts_with("koppeling_login="),
        "{login_cookie}"
    );
    assert!(!login_cookie.contains("Secure"), "{login_cookie}");
    serve.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_api_tokens_are_refused_at_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let short = "a".repeat(31);
    for (key, env) in [
        ("api.token", "KOPPELING_API__TOKEN"),
        ("api.previous_tokens", "KOPPELING_API__PREVIOUS_TOKENS"),
    ] {
        let out = command(&url, free_port(), &[(env, &short)])
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "{key}: started with 31 characters");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
}

/// The peak resident memory (`VmHWM`) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_memory_of_128_parallel_log_ins_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    // Behind a trusted proxy, so that 128 clients (distinct addresses) can log in at once
    // without meeting the per-address limit.
    let serve = Serve::start(
        dir.path(),
        &sqlite_url(dir.path()),
        "memory",
        &[("KOPPELING_HTTP__TRUSTED_PROXIES", "127.0.0.1")],
    )
    .await;
    serve.setup().await;
    let before = peak_rss_kib(serve.pid());
    // 128 browsers with their form token each, then 128 log-ins at once, each a different
    // (unknown) e-mail from a different address, so that none is refused by the throttle
    // before Argon2: every one runs the (dummy) hash.
    let mut browsers = Vec::new();
    for n in 0..128 {
        let mut b = Browser {
            forwarded_for: Some(format!("198.51.100.{n}")),
            ..Browser::default()
        };
        let token = form_token(&b.get(&serve, "/login").await.text);
        browsers.push((b, token, format!("gast{n}@example.nl")));
    }
    let base = serve.base.clone();
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (mut b, token, email) in browsers {
        let base = base.clone();
        set.spawn(async move {
            b.send(client().post(format!("{base}/login")).form(&[
                ("email", email.as_str()),
                ("password", PASSWORD),
                ("csrf", token.as_str()),
            ]))
            .await
            .status
        });
    }
    let mut ok = 0;
    while let Some(status) = set.join_next().await {
        if status.unwrap() == StatusCode::UNAUTHORIZED {
            ok += 1;
        }
    }
    let peak = peak_rss_kib(serve.pid());
    println!(
        "128 parallel log-ins: {ok} checked (401) in {:.1} s; koppeling serve VmHWM {} MiB (before: {} MiB)",
        started.elapsed().as_secs_f64(),
        peak / 1024,
        before / 1024
    );
    assert_eq!(ok, 128);
    assert!(peak < 600 * 1024, "peak RSS {} MiB", peak / 1024);
    serve.stop().await;
}
