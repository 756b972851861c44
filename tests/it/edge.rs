//! The HTTP edge and the input limits (issue 13), against the real `koppeling serve` binary:
//! header and request timeouts, the connection cap, load shedding, the 1,000-character
//! field cap, the 2 MB body limit and the import's bounded lines.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use snelstart_sandbox::SandboxHandle;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::helpers::{TOKEN, koppeling_binary, start_sandbox};

struct Serve {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    db_url: String,
    master_key: String,
    _sandbox: SandboxHandle,
    sandbox_url: (String, String),
}

impl Serve {
    /// `koppeling serve` on a fresh SQLite file with the extra `env`.
    async fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display());
        let sandbox = start_sandbox().await;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let master_key = base64::engine::general_purpose::STANDARD.encode([5u8; 32]);
        let sandbox_url = (sandbox.api_url(), sandbox.auth_url());
        let mut cmd = Command::new(koppeling_binary());
        cmd.arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("KOPPELING_DATABASE__URL", &db_url)
            .env("KOPPELING_HTTP__LISTEN", format!("127.0.0.1:{port}"))
            .env("KOPPELING_API__TOKEN", TOKEN)
            .env("KOPPELING_SNELSTART__API_URL", &sandbox_url.0)
            .env("KOPPELING_SNELSTART__AUTH_URL", &sandbox_url.1)
            .env(
                "KOPPELING_SNELSTART__SUBSCRIPTION_KEY",
                "sandbox-subscription-key",
            )
            .env("KOPPELING_SECRETS__MASTER_KEY", &master_key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start koppeling serve");
        let mut serve = Self {
            child,
            port,
            dir,
            db_url,
            master_key,
            _sandbox: sandbox,
            sandbox_url,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(
                serve.child.try_wait().unwrap().is_none(),
                "koppeling serve exited"
            );
            if let Ok((200, _)) = serve
                .raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
            {
                break;
            }
            assert!(Instant::now() < deadline, "koppeling serve did not answer");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        serve
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends `request` on a new connection and reads the answer to its end.
    async fn raw(&self, request: &str) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await?;
        stream.write_all(request.as_bytes()).await?;
        read_answer(&mut stream).await
    }

    /// The sockets the process holds open (listener, clients, database files are not sockets).
    fn sockets(&self) -> usize {
        let pid = self.child.id().unwrap();
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter(|e| {
                        std::fs::read_link(e.path())
                            .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let res = reqwest::Client::new()
            .put(format!("{}/api/v1{path}", self.base()))
            .bearer_auth(TOKEN)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// `koppeling import` against the same database.
    async fn import(&self, adm: &str, file: &Path) -> std::process::Output {
        Command::new(koppeling_binary())
            .args(["import", "--administratie", adm])
            .arg(file)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("KOPPELING_DATABASE__URL", &self.db_url)
            .env("KOPPELING_SECRETS__MASTER_KEY", &self.master_key)
            .env("KOPPELING_SNELSTART__API_URL", &self.sandbox_url.0)
            .env("KOPPELING_SNELSTART__AUTH_URL", &self.sandbox_url.1)
            .env(
                "KOPPELING_SNELSTART__SUBSCRIPTION_KEY",
                "sandbox-subscription-key",
            )
            .output()
            .await
            .unwrap()
    }
}

async fn read_answer(stream: &mut TcpStream) -> std::io::Result<(u16, String)> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if out.is_empty() => return Err(e),
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no HTTP answer: {text:?}")))?;
    Ok((status, text))
}

fn put_head(path: &str, length: usize) -> String {
    format!(
        "PUT /api/v1{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_edge_sheds_load_times_out_slow_clients_and_caps_connections() {
    let serve = Serve::start(&[
        ("KOPPELING_HTTP__HEADER_TIMEOUT_SECS", "1"),
        ("KOPPELING_HTTP__REQUEST_TIMEOUT_SECS", "3"),
        ("KOPPELING_HTTP__MAX_CONNECTIONS", "20"),
        ("KOPPELING_HTTP__MAX_CONCURRENT_REQUESTS", "4"),
    ])
    .await;
    assert_eq!(
        serve
            .put("/administraties/edge", &json!({"name": "Kantoor"}))
            .await
            .0,
        201
    );

    // Load shedding: 4 requests hold their bodies open; the 5th is answered 503 at once.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(("127.0.0.1", serve.port)).await.unwrap();
        s.write_all(put_head("/administraties/edge", 100).as_bytes())
            .await
            .unwrap();
        s.write_all(b"{").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let (status, answer) = serve
        .raw(&format!(
            "{}{{\"name\":\"K\"}}",
            put_head("/administraties/edge", 12)
        ))
        .await
        .unwrap();
    println!(
        "over the concurrency limit: {status} after {:?}",
        started.elapsed()
    );
    assert_eq!(status, 503, "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert!(answer.contains("\"error\":\"overloaded\""), "{answer}");
    let (status, _) = serve
        .raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(status, 200, "/healthz is not shed");

    // The held bodies never arrive: each is answered 408 after the request timeout.
    for mut s in held {
        let (status, answer) = read_answer(&mut s).await.unwrap();
        assert_eq!(status, 408, "{answer}");
        assert!(answer.contains("\"error\":\"request_timeout\""), "{answer}");
    }
    println!("slow bodies answered 408 after {:?}", started.elapsed());
    let (status, answer) = serve
        .raw(&format!(
            "{}{{\"name\":\"K\"}}",
            put_head("/administraties/edge", 12)
        ))
        .await
        .unwrap();
    assert_eq!(
        status, 200,
        "after the slow bodies the limit is free again: {answer}"
    );

    // 200 connections trickle header bytes: never more than the cap is open in the
    // process, each is closed by the header timeout, then a normal request succeeds.
    let baseline = serve.sockets();
    let started = Instant::now();
    let mut tricklers = Vec::new();
    for _ in 0..200 {
        let port = serve.port;
        tricklers.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let began = Instant::now();
            if s.write_all(b"GET / HTTP/1.1\r\nHo").await.is_err() {
                return began.elapsed();
            }
            let mut buf = [0u8; 256];
            loop {
                tokio::select! {
                    read = s.read(&mut buf) => {
                        if matches!(read, Ok(0) | Err(_)) {
                            return began.elapsed();
                        }
                    }
                    () = tokio::time::sleep(Duration::from_millis(200)) => {
                        if s.write_all(b"s").await.is_err() {
                            return began.elapsed();
                        }
                    }
                }
                assert!(
                    began.elapsed() < Duration::from_secs(120),
                    "a trickling connection stayed open for 2 minutes"
                );
            }
        }));
    }
    let mut peak = 0;
    while tricklers.iter().any(|t| !t.is_finished()) {
        peak = peak.max(serve.sockets().saturating_sub(baseline));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut longest = Duration::ZERO;
    for t in tricklers {
        longest = longest.max(t.await.unwrap());
    }
    println!(
        "200 trickling connections: at most {peak} open in the process at once (cap 20, baseline {baseline} sockets); all closed after {:?} (the longest {:?})",
        started.elapsed(),
        longest
    );
    // The count is of all the process's sockets: allow for two of its own (a database or
    // SnelStart connection opened meanwhile); without the cap it would be near 200.
    assert!(
        peak <= 22,
        "{peak} connections open at once over a cap of 20"
    );
    assert!(
        peak >= 10,
        "the test should have reached the cap, saw {peak}"
    );
    let started = Instant::now();
    let (status, _) = serve
        .raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    println!(
        "then a normal request: {status} after {:?}",
        started.elapsed()
    );
    assert_eq!(status, 200);

    // An idle keep-alive connection (one answered request, then silence) is closed too.
    let mut s = TcpStream::connect(("127.0.0.1", serve.port)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let first = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..first]).starts_with("HTTP/1.1 200"));
    let closed = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    println!(
        "an idle keep-alive connection was closed after {:?}",
        started.elapsed()
    );
    assert!(
        closed.is_ok(),
        "an idle keep-alive connection stayed open 30 s"
    );
}

fn relation(name: &str) -> Value {
    json!({"code": "1001", "kind": "company", "name": name})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_fields_and_large_bodies_are_refused_naming_the_field() {
    let serve = Serve::start(&[]).await;
    assert_eq!(
        serve
            .put("/administraties/lang", &json!({"name": "Kantoor"}))
            .await
            .0,
        201
    );
    let ok = "a".repeat(1000);
    let long = "é".repeat(1001);
    let (status, body) = serve
        .put("/administraties/lang/relations/r1", &relation(&long))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "too_long");
    assert_eq!(body["field"], "name");
    let (status, body) = serve
        .put("/administraties/lang/relations/r1", &relation(&ok))
        .await;
    assert_eq!(status, 201, "1,000 characters are accepted: {body}");
    let mut with_city = relation("n");
    with_city["address"] = json!({"city": long});
    let (status, body) = serve
        .put("/administraties/lang/relations/r2", &with_city)
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("address.city")),
        "{body}"
    );
    let invoice = json!({"number": "F1", "relation_id": "r1", "date": "2026-01-01", "status": "draft",
        "lines": [{"description": long, "quantity": 1, "unit_price": "1", "vat": "high"}]});
    let (status, body) = serve
        .put("/administraties/lang/invoices/f1", &invoice)
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("lines[0].description")),
        "{body}"
    );

    // Just over the 2 MB body limit: 413 as a JSON problem.
    let over = "x".repeat(2 * 1024 * 1024 + 100 * 1024);
    let res = reqwest::Client::new()
        .put(format!(
            "{}/api/v1/administraties/lang/relations/r3",
            serve.base()
        ))
        .bearer_auth(TOKEN)
        .json(&relation(&over))
        .send()
        .await
        .expect("a body just over the limit is answered");
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "too_large");

    // A 50 MB name: refused without reading it. The answer (413) may reach a client that is
    // still sending only as a reset connection (the server does not drain 50 MB it will not
    // use); either way nothing is stored.
    let huge = "x".repeat(50 * 1024 * 1024);
    let started = Instant::now();
    let res = reqwest::Client::new()
        .put(format!(
            "{}/api/v1/administraties/lang/relations/r3",
            serve.base()
        ))
        .bearer_auth(TOKEN)
        .json(&relation(&huge))
        .send()
        .await;
    match res {
        Ok(res) => {
            let status = res.status().as_u16();
            println!(
                "50 MB relation name via the API: {status} after {:?}",
                started.elapsed()
            );
            assert_eq!(status, 413);
        }
        Err(e) => println!(
            "50 MB relation name via the API: connection closed while sending after {:?} ({e})",
            started.elapsed()
        ),
    }
    let stored = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/administraties/lang/relations/r3",
            serve.base()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status().as_u16(), 404, "nothing was stored");

    // The import: 1,000 good relations, a 50 MB line and a 1,001-character name.
    let file = serve.dir.path().join("relaties.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        use std::io::Write as _;
        for i in 0..1000 {
            writeln!(f, r#"{{"type":"relation","id":"i{i}","code":"{}","kind":"company","name":"Relatie {i} {}"}}"#, 2000 + i, "n".repeat(100)).unwrap();
        }
        writeln!(
            f,
            r#"{{"type":"relation","id":"huge","code":"9","kind":"company","name":"{huge}"}}"#
        )
        .unwrap();
        writeln!(
            f,
            r#"{{"type":"relation","id":"long","code":"9","kind":"company","name":"{long}"}}"#
        )
        .unwrap();
        writeln!(
            f,
            r#"{{"type":"relation","id":"last","code":"9","kind":"company","name":"Laatste"}}"#
        )
        .unwrap();
    }
    let out = serve.import("lang", &file).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("import: {stdout}{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("line 1001: json: the line is longer than 1048576 bytes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 1002: name: is longer than 1000 characters"),
        "{stderr}"
    );
    assert!(
        stdout.contains("imported 1001 lines, refused 2"),
        "{stdout}"
    );

    // The relation list holds no 50 MB name.
    let res = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/administraties/lang/relations",
            serve.base()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let bytes = res.bytes().await.unwrap();
    println!("GET relations with 1,002 relations: {} bytes", bytes.len());
    assert!(bytes.len() < 2 * 1024 * 1024, "{} bytes", bytes.len());

    // `/relaties` in the UI: 100 a page with the count and Vorige/Volgende.
    let password = "een-lang-wachtwoord-1";
    let (status, body) = serve
        .put(
            "/administraties/lang/admins/bea",
            &json!({"name": "Bea", "email": "bea@lang.nl", "password": password}),
        )
        .await;
    assert!(status == 201 || status == 200, "{status} {body}");
    let cookies = log_in(&serve, "bea@lang.nl", password).await;
    let client = reqwest::Client::new();
    let page = |n: u32| {
        client
            .get(format!("{}/relaties?pagina={n}", serve.base()))
            .header("Cookie", &cookies)
            .send()
    };
    let first = page(1).await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let first = first.text().await.unwrap();
    println!(
        "/relaties with 1,002 relations: {} bytes a page (100 rows)",
        first.len()
    );
    assert_eq!(first.matches("<tr id=\"relatie-").count(), 100);
    assert!(
        first.contains("Relatie 1 tot en met 100 van 1002"),
        "count shown"
    );
    assert!(first.contains("pagina=2") && first.contains("Volgende"));
    assert!(!first.contains(">Vorige<"));
    let last = page(11).await.unwrap().text().await.unwrap();
    assert_eq!(last.matches("<tr id=\"relatie-").count(), 2);
    assert!(last.contains("Vorige") && !last.contains(">Volgende<"));
    assert!(first.len() < 200 * 1024, "{} bytes", first.len());
}

/// Logs in at `/login` as a browser would; returns the `Cookie` header to send.
async fn log_in(serve: &Serve, email: &str, password: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut jar: Vec<(String, String)> = Vec::new();
    let keep = |jar: &mut Vec<(String, String)>, res: &reqwest::Response| {
        for value in res.headers().get_all("set-cookie") {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            jar.retain(|(n, _)| n != name);
            jar.push((name.to_owned(), value.to_owned()));
        }
    };
    let header = |jar: &Vec<(String, String)>| {
        jar.iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let form = client
        .get(format!("{}/login", serve.base()))
        .send()
        .await
        .unwrap();
    keep(&mut jar, &form);
    let html = form.text().await.unwrap();
    let needle = "name=\"csrf\" value=\"";
    let at = html.find(needle).expect("the CSRF field") + needle.len();
    let token = &html[at..at + html[at..].find('"').unwrap()];
    let res = client
        .post(format!("{}/login", serve.base()))
        .header("Cookie", header(&jar))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={token}&email={}&password={}",
            email.replace('@', "%40"),
            password
        ))
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_redirection(),
        "log-in failed: {}",
        res.status()
    );
    keep(&mut jar, &res);
    header(&jar)
}
