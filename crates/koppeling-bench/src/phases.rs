//! The phases of one run: seeding, warm-up, throughput, latency, raw sandbox capacity, checks.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::api::{
    Api, SandboxTotals, adm_code, adm_user, invoice_body, koppelsleutel, sandbox_totals,
};

/// Seeds administratie `i`: Beheerder, `relations` ticked relations, settings with its own
/// koppelsleutel, activation.
async fn seed_one(api: &Api, i: usize, relations: usize) -> anyhow::Result<()> {
    let adm = adm_code(i);
    api.put_ok(
        &format!("/administraties/{adm}"),
        &json!({"name": format!("Kantoor {i}")}),
    )
    .await?;
    api.put_ok(
        &format!("/administraties/{adm}/admins/bea"),
        &json!({"name": "Bea", "email": format!("bea-{adm}@bench.example")}),
    )
    .await?;
    for r in 0..relations {
        api.put_ok(
            &format!("/administraties/{adm}/relations/r{r}"),
            &json!({"code": format!("{}", 1001 + r), "kind": "company", "name": format!("Klant {r} van {i}"),
                    "address": {"street": "Dorpsstraat", "house_number": "1", "postcode": "1234 AB", "city": "Alkmaar", "country": "NL"},
                    "email": format!("klant{r}@bench.example")}),
        )
        .await?;
        api.put_ok(
            &format!("/administraties/{adm}/relations/r{r}/snelstart"),
            &json!({"enabled": true}),
        )
        .await?;
    }
    api.put_ok(
        &format!("/administraties/{adm}/integrations/snelstart"),
        &json!({"vat_codes": {"high": 12, "low": 11, "zero": 10}, "sales_journal_code": 1300,
                "key": koppelsleutel(&adm_user(i)), "notify_admin_id": "bea"}),
    )
    .await?;
    let (status, body) = api
        .post(&format!(
            "/administraties/{adm}/integrations/snelstart/activate"
        ))
        .await?;
    if status != 200 {
        bail!("activating {adm}: {status} {body}");
    }
    Ok(())
}

/// Seeds `n` administraties, a few at a time.
pub async fn seed(api: &Api, n: usize, relations: usize) -> anyhow::Result<()> {
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(0..n)
        .map(|i| seed_one(api, i, relations))
        .buffer_unordered(8)
        .collect()
        .await;
    results.into_iter().collect()
}

/// One invoice to make final.
#[derive(Debug, Clone)]
pub struct Job {
    pub adm: usize,
    pub relation: usize,
    pub id: String,
    pub number: String,
}

/// `n` invoices spread round-robin over `adms` administraties and their relations.
pub fn jobs(prefix: &str, n: usize, adms: usize, relations: usize) -> Vec<Job> {
    (0..n)
        .map(|k| Job {
            adm: k % adms,
            relation: (k / adms) % relations,
            id: format!("{}{k}", prefix.to_lowercase()),
            number: format!("{prefix}{k}"),
        })
        .collect()
}

/// What pushing a batch did.
#[derive(Debug, Clone, Copy)]
pub struct Pushed {
    /// From the first PUT to the last response.
    pub put_secs: f64,
    pub errors: u64,
    /// PUT round trips (ms): p50, p99.
    pub put_ms: (f64, f64),
}

/// PUTs every job as a final invoice with `concurrency` requests in flight.
pub async fn push(api: &Api, jobs: Arc<Vec<Job>>, concurrency: usize, date: &str) -> Pushed {
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let api = api.clone();
        let jobs = jobs.clone();
        let next = next.clone();
        let errors = errors.clone();
        let date = date.to_owned();
        tasks.spawn(async move {
            let mut times = Vec::new();
            loop {
                let t0 = Instant::now();
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(k) else { break };
                let path = format!("/administraties/{}/invoices/{}", adm_code(job.adm), job.id);
                match api
                    .put(&path, &invoice_body(&job.number, job.relation, &date))
                    .await
                {
                    Ok((201 | 200, _)) => times.push(t0.elapsed().as_secs_f64() * 1000.0),
                    Ok((status, body)) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("PUT {path}: {status} {body}");
                        }
                    }
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("PUT {path}: {e:#}");
                        }
                    }
                }
            }
            times
        });
    }
    let mut times = Vec::new();
    while let Some(t) = tasks.join_next().await {
        times.extend(t.unwrap_or_default());
    }
    let put_secs = started.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    Pushed {
        put_secs,
        errors: errors.load(Ordering::Relaxed),
        put_ms: (quantile(&times, 0.5), quantile(&times, 0.99)),
    }
}

/// Polls the sandbox until it holds `target` verkoopboekingen for `keys`; returns the
/// moment it saw them and the totals then. Gives up after `stall` without progress.
pub async fn wait_booked(
    http: &reqwest::Client,
    sandbox: &str,
    keys: &HashSet<String>,
    target: u64,
    stall: Duration,
    label: &str,
) -> anyhow::Result<(Instant, SandboxTotals)> {
    let mut last = 0;
    let mut last_progress = Instant::now();
    let mut last_print = Instant::now();
    let started = Instant::now();
    loop {
        let t = sandbox_totals(http, sandbox, keys).await?;
        let now = Instant::now();
        if t.boekingen >= target {
            return Ok((now, t));
        }
        if t.boekingen > last {
            last = t.boekingen;
            last_progress = now;
        } else if now - last_progress > stall {
            bail!(
                "{label}: no progress for {} s at {}/{target} bookings",
                stall.as_secs(),
                t.boekingen
            );
        }
        if now - last_print > Duration::from_secs(5) {
            last_print = now;
            eprintln!(
                "  {label}: {:>5.0} s, {}/{target} booked",
                (now - started).as_secs_f64(),
                t.boekingen
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A latency sample: when the PUT answered, and the invoice.
struct Sent {
    job: Job,
    answered: DateTime<Utc>,
    put_ms: f64,
}

/// The latency phase's figures.
#[derive(Debug, Clone, Default)]
pub struct Latency {
    pub invoices: usize,
    pub offered_per_sec: f64,
    pub achieved_per_sec: f64,
    /// final (PUT answered) → synced (`sync.updated_at`), milliseconds, sorted.
    pub sync_ms: Vec<f64>,
    /// PUT round trips, milliseconds, sorted.
    pub put_ms: Vec<f64>,
    pub errors: u64,
}

/// The `q` quantile of sorted `v` (nearest rank).
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// Offers `rate` invoices a second for `secs` seconds, waits for all, then reads each
/// invoice's `sync.updated_at` (written just after SnelStart answered the booking).
#[allow(clippy::too_many_arguments)]
pub async fn latency(
    api: &Api,
    http: &reqwest::Client,
    sandbox: &str,
    keys: &HashSet<String>,
    booked_before: u64,
    jobs: Vec<Job>,
    rate: f64,
    date: &str,
) -> anyhow::Result<Latency> {
    let n = jobs.len();
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for job in jobs {
        ticker.tick().await;
        let api = api.clone();
        let date = date.to_owned();
        tasks.spawn(async move {
            let path = format!("/administraties/{}/invoices/{}", adm_code(job.adm), job.id);
            let t0 = Instant::now();
            let r = api
                .put(&path, &invoice_body(&job.number, job.relation, &date))
                .await;
            let answered = Utc::now();
            let put_ms = t0.elapsed().as_secs_f64() * 1000.0;
            match r {
                Ok((200 | 201, _)) => Some(Sent {
                    job,
                    answered,
                    put_ms,
                }),
                _ => None,
            }
        });
    }
    let mut sent = Vec::with_capacity(n);
    let mut errors = 0;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Some(s)) => sent.push(s),
            _ => errors += 1,
        }
    }
    let offered_secs = started.elapsed().as_secs_f64();
    wait_booked(
        http,
        sandbox,
        keys,
        booked_before + sent.len() as u64,
        Duration::from_secs(60),
        "latency",
    )
    .await?;
    let mut sync_ms = Vec::with_capacity(sent.len());
    let results: Vec<anyhow::Result<f64>> = futures::stream::iter(sent.iter())
        .map(|s| async move {
            let body = api
                .get(&format!(
                    "/administraties/{}/invoices/{}",
                    adm_code(s.job.adm),
                    s.job.id
                ))
                .await?;
            if body["sync"]["status"] != "synced" {
                bail!("invoice {} is {}", s.job.id, body["sync"]);
            }
            let at: DateTime<Utc> = body["sync"]["updated_at"]
                .as_str()
                .context("sync.updated_at")?
                .parse()
                .context("parsing sync.updated_at")?;
            #[allow(clippy::cast_precision_loss)]
            Ok((at - s.answered).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0)
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for r in results {
        sync_ms.push(r?);
    }
    sync_ms.sort_by(f64::total_cmp);
    let mut put_ms: Vec<f64> = sent.iter().map(|s| s.put_ms).collect();
    put_ms.sort_by(f64::total_cmp);
    #[allow(clippy::cast_precision_loss)]
    let achieved = n as f64 / offered_secs;
    Ok(Latency {
        invoices: n,
        offered_per_sec: rate,
        achieved_per_sec: achieved,
        sync_ms,
        put_ms,
        errors,
    })
}

/// One administration opened by the tight client.
struct RawAdmin {
    api: String,
    token: String,
    klant: String,
    ledger: String,
}

async fn raw_open(http: &reqwest::Client, base: &str, n: usize) -> anyhow::Result<RawAdmin> {
    let key = koppelsleutel(&format!("raw{n}"));
    let t: Value = http
        .post(format!("{base}/b2b/token"))
        .form(&[("grant_type", "clientkey"), ("clientkey", key.as_str())])
        .send()
        .await?
        .json()
        .await?;
    let token = t["access_token"]
        .as_str()
        .context("access_token")?
        .to_owned();
    let api = format!("{base}/v2");
    let g: Value = http
        .get(format!("{api}/grootboeken?$filter=Nummer%20eq%208000"))
        .header("Ocp-Apim-Subscription-Key", "sandbox-subscription-key")
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let ledger = g[0]["id"].as_str().context("grootboek 8000")?.to_owned();
    let r: Value = http
        .post(format!("{api}/relaties"))
        .header("Ocp-Apim-Subscription-Key", "sandbox-subscription-key")
        .bearer_auth(&token)
        .json(&json!({ "relatiesoort": ["Klant"], "naam": "Bench klant", "relatiecode": 1001 }))
        .send()
        .await?
        .json()
        .await?;
    let klant = r["id"].as_str().context("relatie id")?.to_owned();
    Ok(RawAdmin {
        api,
        token,
        klant,
        ledger,
    })
}

/// The raw capacity measurement.
#[derive(Debug, Clone, Copy, Default)]
pub struct Raw {
    pub per_sec: f64,
    pub ok: u64,
    pub failed: u64,
    pub tasks: usize,
    pub admins: usize,
    pub secs: f64,
}

/// The sandbox's capacity for the same verkoopboeking POSTs koppeling makes, from a tight
/// client: `tasks` loops for `secs` seconds over `admins` fresh administrations.
pub async fn raw_capacity(
    base: &str,
    tasks: usize,
    admins: usize,
    secs: f64,
    date: &str,
) -> anyhow::Result<Raw> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(tasks)
        .build()?;
    let mut opened = Vec::new();
    for n in 0..admins.max(1) {
        opened.push(Arc::new(raw_open(&http, base, n).await?));
    }
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut handles = tokio::task::JoinSet::new();
    for t in 0..tasks.max(1) {
        let admin = opened[t % opened.len()].clone();
        let http = http.clone();
        let ok = ok.clone();
        let failed = failed.clone();
        let date = format!("{date}T00:00:00");
        handles.spawn(async move {
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                // The same shape koppeling posts for the benchmark's invoices.
                let body = json!({
                    "factuurnummer": format!("R{t}-{i}"),
                    "factuurdatum": date,
                    "klant": { "id": admin.klant },
                    "omschrijving": "Benchmark",
                    "factuurbedrag": "121.00",
                    "betalingstermijn": 14,
                    "boekingsregels": [{ "omschrijving": "Advieswerk", "grootboek": { "id": admin.ledger }, "bedrag": "100.00", "btwSoort": "Hoog" }],
                    "btw": [{ "btwSoort": "VerkopenHoog", "btwBedrag": "21.00" }]
                });
                let r = http
                    .post(format!("{}/verkoopboekingen", admin.api))
                    .header("Ocp-Apim-Subscription-Key", "sandbox-subscription-key")
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
        });
    }
    while handles.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    let n = ok.load(Ordering::Relaxed);
    #[allow(clippy::cast_precision_loss)]
    Ok(Raw {
        per_sec: n as f64 / elapsed,
        ok: n,
        failed: failed.load(Ordering::Relaxed),
        tasks,
        admins,
        secs: elapsed,
    })
}

/// Sync counts summed over every administratie's `GET …/integrations`.
pub async fn koppeling_counts(api: &Api, adms: usize) -> anyhow::Result<[u64; 5]> {
    let bodies: Vec<anyhow::Result<Value>> = futures::stream::iter(0..adms)
        .map(|i| async move {
            api.get(&format!("/administraties/{}/integrations", adm_code(i)))
                .await
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut out = [0u64; 5];
    for b in bodies {
        let b = b?;
        let counts = &b[0]["counts"];
        for (k, name) in ["queued", "in_progress", "synced", "failed", "skipped"]
            .iter()
            .enumerate()
        {
            out[k] += counts[name].as_u64().unwrap_or(0);
        }
    }
    Ok(out)
}
