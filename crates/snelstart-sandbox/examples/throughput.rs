//! Raw sandbox capacity: POST /v2/verkoopboekingen per second from a tight reqwest loop.
//!
//! `cargo run --release -p snelstart-sandbox --example throughput -- [TASKS] [SECONDS] [ADMINS] [URL]`
//! (defaults: 32 tasks, 10 s, 32 administrations, an in-process sandbox; give URL, e.g.
//! `http://127.0.0.1:8089`, to measure a separately started `snelstart-sandbox`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use snelstart_sandbox::{DEFAULT_SUBSCRIPTION_KEY, Sandbox, SandboxConfig};

fn arg<T: std::str::FromStr>(i: usize, default: T) -> T {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

struct Admin {
    api: String,
    token: String,
    klant: String,
    ledger: String,
}

async fn open(http: &reqwest::Client, base: &str, n: usize) -> anyhow::Result<Admin> {
    let key = base64::engine::general_purpose::STANDARD.encode(format!("bench{n}:pw"));
    let form: String = key
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let t: Value = http
        .post(format!("{base}/b2b/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=clientkey&clientkey={form}"))
        .send()
        .await?
        .json()
        .await?;
    let token = t["access_token"].as_str().unwrap_or_default().to_owned();
    let api = format!("{base}/v2");
    let get = |path: String| {
        http.get(format!("{api}{path}"))
            .header("Ocp-Apim-Subscription-Key", DEFAULT_SUBSCRIPTION_KEY)
            .bearer_auth(&token)
            .send()
    };
    let g: Value = get("/grootboeken?$filter=Nummer%20eq%208000".into())
        .await?
        .json()
        .await?;
    let ledger = g[0]["id"].as_str().unwrap_or_default().to_owned();
    let r: Value = http
        .post(format!("{api}/relaties"))
        .header("Ocp-Apim-Subscription-Key", DEFAULT_SUBSCRIPTION_KEY)
        .bearer_auth(&token)
        .json(&json!({ "relatiesoort": ["Klant"], "naam": "Bench klant" }))
        .send()
        .await?
        .json()
        .await?;
    let klant = r["id"].as_str().unwrap_or_default().to_owned();
    Ok(Admin {
        api,
        token,
        klant,
        ledger,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tasks: usize = arg(1, 32);
    let seconds: u64 = arg(2, 10);
    let admins: usize = arg(3, 32).max(1);
    let url: String = arg(4, String::new());
    let _sandbox;
    let base = if url.is_empty() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let sb = Sandbox::start(listener, SandboxConfig::default()).await?;
        let base = sb.base_url();
        _sandbox = Some(sb);
        base
    } else {
        _sandbox = None;
        url
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(tasks)
        .build()?;
    let mut opened = Vec::new();
    for n in 0..admins {
        opened.push(Arc::new(open(&http, &base, n).await?));
    }
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let admin = opened[t % admins].clone();
        let http = http.clone();
        let ok = ok.clone();
        let failed = failed.clone();
        handles.push(tokio::spawn(async move {
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let body = json!({
                    "factuurnummer": format!("B{t}-{i}"),
                    "factuurdatum": "2026-05-13T00:00:00",
                    "klant": { "id": admin.klant },
                    "factuurbedrag": "121.00",
                    "betalingstermijn": 14,
                    "boekingsregels": [{ "grootboek": { "id": admin.ledger }, "bedrag": "100.00", "btwSoort": "Hoog" }],
                    "btw": [{ "btwSoort": "VerkopenHoog", "btwBedrag": "21.00" }]
                });
                let r = http
                    .post(format!("{}/verkoopboekingen", admin.api))
                    .header("Ocp-Apim-Subscription-Key", DEFAULT_SUBSCRIPTION_KEY)
                    .bearer_auth(&admin.token)
                    .json(&body)
                    .send()
                    .await;
                match r {
                    Ok(resp) if resp.status() == 201 => {
                        let _ = resp.bytes().await;
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = ok.load(Ordering::Relaxed);
    #[allow(clippy::cast_precision_loss)]
    let rate = n as f64 / elapsed;
    println!(
        "{n} verkoopboekingen in {elapsed:.1} s = {rate:.0}/s ({} failed; {tasks} tasks, {admins} administrations)",
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}
