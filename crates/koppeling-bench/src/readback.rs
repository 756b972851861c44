//! The read-back phase (product §8.2, issue 17): payments and the accountant's edits made in
//! the sandbox while koppeling reads them back, with the time compressed.
//!
//! Production reads back every `readback.interval_secs` = 900 s, i.e. 4 passes an hour. The
//! bench runs the same passes every `--readback-interval` seconds and calls 4 such intervals
//! a *compressed hour*: in each one it books `--payments-per-hour` payments and
//! `--edits-per-hour` accountant edits per administratie in the sandbox, exactly as many as
//! a production hour brings. What a pass costs does not depend on how long the interval
//! was, so the calls per compressed hour are the calls per production hour, except for the
//! full scan (once per `readback.full_scan_hours`, 24 h in production), which the bench
//! measures separately and amortises over 24 hours.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::api::{Api, adm_code, adm_user, koppelsleutel};

/// The sandbox routes the read-back calls (product §8.2).
pub const READBACK_ROUTES: [&str; 4] = [
    "GET /v2/verkoopfacturen",
    "GET /v2/bankboekingen",
    "GET /v2/kasboekingen",
    "GET /v2/verkoopboekingen/{id}",
];

/// Read-back calls (any status) in a `sandbox_counts` map.
pub fn readback_calls(counts: &std::collections::BTreeMap<String, u64>) -> u64 {
    counts
        .iter()
        .filter(|(k, _)| {
            READBACK_ROUTES
                .iter()
                .any(|r| k.strip_prefix(r).is_some_and(|s| s.starts_with(' ')))
        })
        .map(|(_, v)| v)
        .sum()
}

/// One administratie the bench pays and edits invoices of, as the bank and the accountant
/// would (straight at the sandbox's `/v2`, not through koppeling).
pub struct Payer {
    pub adm: usize,
    api: String,
    token: String,
    dagboek: String,
    /// (invoice id, verkoopboeking id), in a shuffled but fixed order.
    pub bookings: Vec<(String, String)>,
    /// The next booking to pay.
    next: AtomicU64,
}

impl Payer {
    /// Reads administratie `i`'s bookings and Bank dagboek from `/_sandbox/state` and gets
    /// a token of its own.
    pub async fn open(http: &reqwest::Client, base: &str, i: usize) -> anyhow::Result<Self> {
        let key = koppelsleutel(&adm_user(i));
        let state: Value = http
            .get(format!("{base}/_sandbox/state"))
            .query(&[("key", key.as_str())])
            .send()
            .await?
            .json()
            .await?;
        let dagboek = state["dagboeken"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["soort"] == "Bank")
            .and_then(|d| d["id"].as_str())
            .context("the Bank dagboek")?
            .to_owned();
        let mut bookings: Vec<(String, String)> = state["verkoopboekingen"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| {
                Some((
                    b["factuurnummer"].as_str()?.to_lowercase(),
                    b["id"].as_str()?.to_owned(),
                ))
            })
            .collect();
        // A fixed shuffle, so payments do not follow the booking order.
        bookings.sort_by_key(|(id, _)| {
            id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            })
        });
        let t: Value = http
            .post(format!("{base}/b2b/token"))
            .form(&[("grant_type", "clientkey"), ("clientkey", key.as_str())])
            .send()
            .await?
            .json()
            .await?;
        Ok(Self {
            adm: i,
            api: format!("{base}/v2"),
            token: t["access_token"]
                .as_str()
                .context("access_token")?
                .to_owned(),
            dagboek,
            bookings,
            next: AtomicU64::new(0),
        })
    }

    /// Books a bank payment of `amount` settling `booking`.
    async fn pay(
        &self,
        http: &reqwest::Client,
        booking: &str,
        amount: &str,
        date: &str,
    ) -> anyhow::Result<()> {
        let r = http
            .post(format!("{}/bankboekingen", self.api))
            .header("Ocp-Apim-Subscription-Key", "sandbox-subscription-key")
            .bearer_auth(&self.token)
            .json(&json!({
                "datum": date,
                "dagboek": {"id": self.dagboek},
                "bedragOntvangen": amount,
                "bedragUitgegeven": "0",
                "omschrijving": "Betaling",
                "verkoopboekingBoekingsRegels": [
                    {"boekingId": {"id": booking}, "omschrijving": "Betaling", "credit": amount, "debet": "0"}
                ]
            }))
            .send()
            .await?;
        let status = r.status().as_u16();
        if status != 201 {
            bail!(
                "POST bankboekingen: {status} {}",
                r.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }
}

/// How the payer works.
#[derive(Debug, Clone, Copy)]
pub enum PayMode {
    /// Each payment settles one more invoice in full (121.00); stops when none is left.
    Full,
    /// Each payment is 1.00 on the next invoice, round robin (outstanding never reaches 0).
    Partial,
}

/// What the payer did.
#[derive(Debug, Default)]
pub struct Paid {
    /// (administratie, invoice id) → when the sandbox answered the payment.
    pub payments: HashMap<(usize, String), DateTime<Utc>>,
    /// Payments made (an invoice may be paid in parts).
    pub count: usize,
    /// (administratie, invoice id) → when the accountant's edit was answered.
    pub edits: HashMap<(usize, String), DateTime<Utc>>,
    pub errors: u64,
    /// Administraties that ran out of invoices to pay.
    pub exhausted: usize,
}

/// Pays `per_hour` invoices and edits `edits_per_hour` per administratie per compressed
/// hour (`hour`) until `stop` is set.
#[allow(clippy::too_many_arguments)]
pub async fn run_payer(
    http: &reqwest::Client,
    base: &str,
    payers: &[Arc<Payer>],
    mode: PayMode,
    per_hour: u32,
    edits_per_hour: u32,
    hour: Duration,
    stop: Arc<AtomicBool>,
    date: &str,
    edit_date: &str,
) -> Paid {
    let mut set = tokio::task::JoinSet::new();
    for p in payers {
        let p = p.clone();
        let http = http.clone();
        let base = base.to_owned();
        let date = date.to_owned();
        let edit_date = edit_date.to_owned();
        let stop = stop.clone();
        set.spawn(async move {
            let mut out = Paid::default();
            let every = hour / per_hour.max(1);
            let edit_every = (edits_per_hour > 0).then(|| hour / edits_per_hour);
            let mut next_edit = edit_every.map(|e| Instant::now() + e / 2);
            let mut edits_done = 0usize;
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let n = p.bookings.len();
            loop {
                ticker.tick().await;
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if let (Some(at), Some(e)) = (next_edit, edit_every)
                    && Instant::now() >= at
                {
                    next_edit = Some(at + e);
                    // Edited invoices come from the end of the list; payments from the front.
                    if edits_done < n {
                        let (invoice, booking) = &p.bookings[n - 1 - edits_done];
                        edits_done += 1;
                        let r = http
                            .post(format!("{base}/_sandbox/accountant/edit"))
                            .json(&json!({"key": koppelsleutel(&adm_user(p.adm)), "id": booking, "changes": {"factuurdatum": edit_date}}))
                            .send()
                            .await;
                        if matches!(&r, Ok(r) if r.status() == 200) {
                            out.edits.insert((p.adm, invoice.clone()), Utc::now());
                        } else {
                            out.errors += 1;
                        }
                    }
                }
                let k = usize::try_from(p.next.fetch_add(1, Ordering::Relaxed)).unwrap_or(usize::MAX);
                let (index, amount) = match mode {
                    PayMode::Full => {
                        if k + edits_done >= n {
                            out.exhausted = 1;
                            break;
                        }
                        (k, "121.00")
                    }
                    PayMode::Partial => (k % n.max(1), "1.00"),
                };
                let Some((invoice, booking)) = p.bookings.get(index) else {
                    break;
                };
                match p.pay(&http, booking, amount, &date).await {
                    Ok(()) => {
                        out.count += 1;
                        out.payments.insert((p.adm, invoice.clone()), Utc::now());
                    }
                    Err(e) => {
                        if out.errors < 3 {
                            eprintln!("  payer: {e:#}");
                        }
                        out.errors += 1;
                    }
                }
            }
            out
        });
    }
    let mut all = Paid::default();
    while let Some(r) = set.join_next().await {
        if let Ok(p) = r {
            all.payments.extend(p.payments);
            all.edits.extend(p.edits);
            all.errors += p.errors;
            all.count += p.count;
            all.exhausted += p.exhausted;
        }
    }
    all
}

/// One event of the feed.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: String,
    pub at: DateTime<Utc>,
    pub invoice: String,
}

/// Every event of administratie `i` after `after` (the feed, paged by 1000).
pub async fn events(api: &Api, i: usize, mut after: u64) -> anyhow::Result<Vec<Event>> {
    let mut out = Vec::new();
    loop {
        let page = api
            .get(&format!(
                "/administraties/{}/events?after={after}&limit=1000",
                adm_code(i)
            ))
            .await?;
        let rows = page.as_array().context("the events feed")?;
        for e in rows {
            after = after.max(e["id"].as_u64().unwrap_or(0));
            out.push(Event {
                kind: e["type"].as_str().unwrap_or_default().to_owned(),
                at: e["at"]
                    .as_str()
                    .context("event at")?
                    .parse()
                    .context("parsing event at")?,
                invoice: e["invoice_id"].as_str().unwrap_or_default().to_owned(),
            });
        }
        if rows.len() < 1000 {
            return Ok(out);
        }
    }
}

/// The last event id of administratie `i`.
pub async fn last_event(api: &Api, i: usize) -> anyhow::Result<u64> {
    let mut after = 0;
    loop {
        let page = api
            .get(&format!(
                "/administraties/{}/events?after={after}&limit=1000",
                adm_code(i)
            ))
            .await?;
        let rows = page.as_array().context("the events feed")?;
        if let Some(last) = rows.last() {
            after = last["id"].as_u64().unwrap_or(after);
        }
        if rows.len() < 1000 {
            return Ok(after);
        }
    }
}

/// Seconds from each act (payment or edit) to the first event of one of `kinds` for that
/// invoice after it; acts with no such event are counted as missing.
pub fn delays(
    acts: &HashMap<(usize, String), DateTime<Utc>>,
    events: &HashMap<usize, Vec<Event>>,
    kinds: &[&str],
) -> (Vec<f64>, usize) {
    let mut out = Vec::new();
    let mut missing = 0;
    for ((adm, invoice), at) in acts {
        let seen = events.get(adm).and_then(|list| {
            list.iter()
                .filter(|e| &e.invoice == invoice && kinds.contains(&e.kind.as_str()))
                .map(|e| e.at)
                .min()
        });
        match seen {
            #[allow(clippy::cast_precision_loss)]
            Some(t) => out.push((t - *at).num_milliseconds() as f64 / 1000.0),
            None => missing += 1,
        }
    }
    out.sort_by(f64::total_cmp);
    (out, missing)
}

/// One read-back pass, as koppeling logged it (`read-back pass`, target `koppeling::worker`).
#[derive(Debug, Clone)]
pub struct Pass {
    pub adm: String,
    pub calls: u64,
    pub full_scan: bool,
    pub out_of_budget: bool,
}

/// The passes in koppeling's JSON log from byte `from` on.
pub fn passes(log: &std::path::Path, from: u64) -> Vec<Pass> {
    let text = std::fs::read(log).unwrap_or_default();
    let start = usize::try_from(from).unwrap_or(usize::MAX).min(text.len());
    String::from_utf8_lossy(&text[start..])
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "read-back pass")
        .map(|v| {
            let f = &v["fields"];
            let num = |k: &str| {
                f[k].as_u64()
                    .or_else(|| f[k].as_str().and_then(|s| s.parse().ok()))
                    .unwrap_or(0)
            };
            let flag = |k: &str| f[k].as_bool().unwrap_or_else(|| f[k] == "true");
            Pass {
                adm: f["adm"].as_str().unwrap_or_default().to_owned(),
                calls: num("calls"),
                full_scan: flag("full_scan"),
                out_of_budget: flag("out_of_budget"),
            }
        })
        .collect()
}

/// The size of a file (where the next log line will start).
pub fn log_len(log: &std::path::Path) -> u64 {
    std::fs::metadata(log).map_or(0, |m| m.len())
}

/// The read-back phase's settings (from the command line).
#[derive(Debug, Clone)]
pub struct Params {
    /// Administraties read back and paid (the first ones of the run).
    pub adms: usize,
    /// Synced invoices per read-back administratie (topped up before the phase).
    pub invoices: usize,
    pub payments_per_hour: u32,
    pub edits_per_hour: u32,
    /// The bench's `readback.interval_secs`.
    pub interval_secs: u64,
    /// Compressed hours measured.
    pub hours: f64,
    /// Invoices of each on/off run's throughput part.
    pub ab_invoices: usize,
    /// Seconds of each on/off run's latency part.
    pub ab_latency_secs: f64,
    /// Offered invoices/s in the latency part.
    pub rate: f64,
    pub concurrency: usize,
    /// All administraties of the run and their ticked relations.
    pub all_adms: usize,
    pub relations: usize,
}

/// One on/off run.
#[derive(Debug, Clone, Default)]
pub struct AbRun {
    pub readback_on: bool,
    pub invoices: u64,
    pub secs: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub latency_invoices: usize,
    pub payments: usize,
    pub passes: usize,
    pub readback_calls: u64,
}

impl AbRun {
    pub fn throughput(&self) -> f64 {
        crate::ratio(self.invoices, self.secs)
    }
}

/// The read-back phase's figures.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub params: Option<Params>,
    /// The fewest synced invoices among the read-back administraties.
    pub invoices_min: u64,
    pub topup_invoices: u64,
    pub topup_secs: f64,
    /// The bench's `readback.full_scan_hours` (so a full scan happens in the window).
    pub full_scan_hours: f64,
    pub window_secs: f64,
    /// Read-back calls the sandbox counted for the read-back administraties from the first
    /// pass after the restart to the end of the window.
    pub calls_sandbox: u64,
    pub calls_logged: u64,
    pub incr_passes: usize,
    pub incr_calls: u64,
    pub full_passes: usize,
    pub full_calls: u64,
    pub out_of_budget: usize,
    pub payments: usize,
    pub payment_errors: u64,
    pub exhausted: usize,
    /// Payment → `invoice.paid` event (the payment stored), seconds, sorted.
    pub pay_delay: Vec<f64>,
    pub pay_missing: usize,
    pub edits: usize,
    /// Edit → `invoice.drift` event, seconds, sorted.
    pub drift_delay: Vec<f64>,
    pub drift_missing: usize,
    pub ab: Vec<AbRun>,
}

/// Pages of `/verkoopfacturen` a full scan reads for `n` verkoopfacturen: full pages of 500
/// and the short one that ends the list.
pub fn scan_pages(n: u64) -> u64 {
    n / 500 + 1
}

impl Figures {
    /// The compressed hours the window held.
    pub fn hours(&self) -> f64 {
        let interval = self.params.as_ref().map_or(1, |p| p.interval_secs);
        #[allow(clippy::cast_precision_loss)]
        let hour = 4.0 * interval as f64;
        self.window_secs / hour
    }

    /// Mean calls of an incremental pass.
    pub fn incr_mean(&self) -> f64 {
        crate::per(self.incr_calls, self.incr_passes as u64)
    }

    /// Mean calls of a full scan.
    pub fn full_mean(&self) -> f64 {
        crate::per(self.full_calls, self.full_passes as u64)
    }

    /// The full scan at 5,000 synced invoices: the measured one with its pages replaced.
    #[allow(clippy::cast_precision_loss)]
    pub fn full_at(&self, n: u64) -> f64 {
        self.full_mean() - scan_pages(self.invoices_min) as f64 + scan_pages(n) as f64
    }

    /// Calls per administratie per production hour: 4 incremental passes (every 900 s) and
    /// a 24th of a full scan at 5,000 invoices.
    pub fn production_per_hour(&self) -> f64 {
        4.0 * self.incr_mean() + self.full_at(5000) / 24.0
    }
}

/// Everything the phase works with.
pub struct Ctx<'a> {
    pub api: &'a Api,
    pub http: &'a reqwest::Client,
    pub sandbox: &'a str,
    pub keys: &'a std::collections::HashSet<String>,
    pub launcher: &'a crate::procs::Launcher,
    pub date: &'a str,
}

fn readback_env(interval: u64, full_scan_hours: f64) -> Vec<(String, String)> {
    vec![
        (
            "KOPPELING_READBACK__INTERVAL_SECS".to_owned(),
            interval.to_string(),
        ),
        (
            "KOPPELING_READBACK__FULL_SCAN_HOURS".to_owned(),
            format!("{full_scan_hours:.6}"),
        ),
    ]
}

fn off_env() -> Vec<(String, String)> {
    vec![(
        "KOPPELING_READBACK__BUDGET_SHARE".to_owned(),
        "0".to_owned(),
    )]
}

/// Synced invoices of administratie `i` (its overview's counts).
async fn synced(api: &Api, i: usize) -> anyhow::Result<u64> {
    let body = api
        .get(&format!("/administraties/{}/integrations", adm_code(i)))
        .await?;
    Ok(body[0]["counts"]["synced"].as_u64().unwrap_or(0))
}

/// Read-back calls of the first `adms` administraties so far (sandbox counts).
async fn calls_of(ctx: &Ctx<'_>, adms: usize) -> anyhow::Result<u64> {
    let keys: std::collections::HashSet<String> =
        (0..adms).map(|i| koppelsleutel(&adm_user(i))).collect();
    Ok(readback_calls(
        &crate::api::sandbox_counts(ctx.http, ctx.sandbox, &keys).await?,
    ))
}

/// Runs the phase; `koppeling` is the running process (stopped and restarted here; the
/// one running at the end is returned).
#[allow(clippy::too_many_lines)]
pub async fn phase(
    ctx: &Ctx<'_>,
    p: &Params,
    mut koppeling: crate::procs::Proc,
) -> (anyhow::Result<Figures>, Option<crate::procs::Proc>) {
    let mut fig = Figures {
        params: Some(p.clone()),
        ..Figures::default()
    };
    let result = async {
        // 1. Top up the read-back administraties to N synced invoices (production settings).
        let adms = p.adms.min(p.all_adms).max(1);
        let mut jobs = Vec::new();
        for i in 0..adms {
            let have = usize::try_from(synced(ctx.api, i).await?).unwrap_or(0);
            for k in have..p.invoices {
                jobs.push(crate::phases::Job {
                    adm: i,
                    relation: k % p.relations.max(1),
                    id: format!("b{i}x{k}"),
                    number: format!("B{i}x{k}"),
                });
            }
        }
        fig.topup_invoices = jobs.len() as u64;
        let before = crate::api::sandbox_totals(ctx.http, ctx.sandbox, ctx.keys).await?;
        let t = Instant::now();
        crate::phases::push(ctx.api, Arc::new(jobs), p.concurrency, ctx.date).await;
        crate::phases::wait_booked(
            ctx.http,
            ctx.sandbox,
            ctx.keys,
            before.boekingen + fig.topup_invoices,
            Duration::from_secs(180),
            "read-back top-up",
        )
        .await?;
        fig.topup_secs = t.elapsed().as_secs_f64();
        let mut min = u64::MAX;
        for i in 0..adms {
            min = min.min(synced(ctx.api, i).await?);
        }
        fig.invoices_min = min;
        eprintln!(
            "read-back top-up: {} invoices in {:.1} s; {adms} administraties with ≥ {min} synced invoices each",
            fig.topup_invoices, fig.topup_secs
        );
        anyhow::Ok(adms)
    }
    .await;
    let adms = match result {
        Ok(a) => a,
        Err(e) => return (Err(e), Some(koppeling)),
    };

    // 2. The compressed hours: koppeling with the bench's interval; the payer pays in full.
    let hour = Duration::from_secs(4 * p.interval_secs.max(1));
    let window = hour.mul_f64(p.hours.max(0.25));
    fig.full_scan_hours = window.as_secs_f64() / 3600.0;
    let env = readback_env(p.interval_secs, fig.full_scan_hours);
    koppeling.terminate().await;
    koppeling = match ctx.launcher.start(&env, ctx.http).await {
        Ok(k) => k,
        Err(e) => return (Err(e), None),
    };
    let result = measure(ctx, p, adms, hour, window, &mut fig).await;
    if let Err(e) = result {
        return (Err(e), Some(koppeling));
    }

    // 3. Booking with the read-back off and on, alternated, two runs each.
    let off = off_env();
    for r in 0..4 {
        let on = r % 2 == 1;
        koppeling.terminate().await;
        koppeling = match ctx
            .launcher
            .start(if on { &env } else { &off }, ctx.http)
            .await
        {
            Ok(k) => k,
            Err(e) => return (Err(e), None),
        };
        match ab_run(ctx, p, adms, hour, r, on).await {
            Ok(run) => {
                eprintln!(
                    "booking with read-back {}: {} invoices in {:.1} s = {:.0}/s; latency p50 {:.0} ms, p99 {:.0} ms; {} payments, {} read-back passes",
                    if on { "on" } else { "off" },
                    run.invoices,
                    run.secs,
                    run.throughput(),
                    run.p50_ms,
                    run.p99_ms,
                    run.payments,
                    run.passes
                );
                fig.ab.push(run);
            }
            Err(e) => return (Err(e), Some(koppeling)),
        }
    }
    (Ok(fig), Some(koppeling))
}

/// The compressed hours: payments and edits, passes, calls and delays.
async fn measure(
    ctx: &Ctx<'_>,
    p: &Params,
    adms: usize,
    hour: Duration,
    window: Duration,
    fig: &mut Figures,
) -> anyhow::Result<()> {
    let mut payers = Vec::new();
    for i in 0..adms {
        payers.push(Arc::new(Payer::open(ctx.http, ctx.sandbox, i).await?));
    }
    let mut last = HashMap::new();
    for i in 0..adms {
        last.insert(i, last_event(ctx.api, i).await?);
    }
    // Wait for the first pass of each read-back administratie: every invoice has been seen
    // (and the stored full scan is older than the window, so it is a full scan).
    let codes: std::collections::HashSet<String> = (0..adms).map(adm_code).collect();
    let log = &ctx.launcher.log;
    let from = log_len(log);
    let calls0 = calls_of(ctx, adms).await?;
    let started = Instant::now();
    loop {
        let seen: std::collections::HashSet<String> =
            passes(log, from).into_iter().map(|x| x.adm).collect();
        if codes.iter().all(|c| seen.contains(c)) {
            break;
        }
        if started.elapsed() > window + Duration::from_secs(60) {
            bail!(
                "no read-back pass for every read-back administratie within {:?}",
                window + Duration::from_secs(60)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let edit_date = (chrono::NaiveDate::parse_from_str(ctx.date, "%Y-%m-%d")?
        - chrono::Duration::days(3))
    .to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let stopper = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(window).await;
            stop.store(true, Ordering::Relaxed);
        })
    };
    let paid = run_payer(
        ctx.http,
        ctx.sandbox,
        &payers,
        PayMode::Full,
        p.payments_per_hour,
        p.edits_per_hour,
        hour,
        stop,
        ctx.date,
        &edit_date,
    )
    .await;
    let _ = stopper.await;
    // Two more intervals: the last payments are read back too.
    tokio::time::sleep(Duration::from_secs(2 * p.interval_secs) + Duration::from_secs(1)).await;
    fig.window_secs = t0.elapsed().as_secs_f64();
    fig.calls_sandbox = calls_of(ctx, adms).await? - calls0;
    for x in passes(log, from)
        .into_iter()
        .filter(|x| codes.contains(&x.adm))
    {
        fig.calls_logged += x.calls;
        fig.out_of_budget += usize::from(x.out_of_budget);
        if x.full_scan {
            fig.full_passes += 1;
            fig.full_calls += x.calls;
        } else {
            fig.incr_passes += 1;
            fig.incr_calls += x.calls;
        }
    }
    fig.payments = paid.payments.len();
    fig.payment_errors = paid.errors;
    fig.exhausted = paid.exhausted;
    fig.edits = paid.edits.len();
    let mut evs = HashMap::new();
    for i in 0..adms {
        evs.insert(i, events(ctx.api, i, last[&i]).await?);
    }
    (fig.pay_delay, fig.pay_missing) = delays(&paid.payments, &evs, &["invoice.paid"]);
    (fig.drift_delay, fig.drift_missing) = delays(&paid.edits, &evs, &["invoice.drift"]);
    eprintln!(
        "read-back: {:.1} compressed hours ({:.0} s), {} payments, {} edits; {} read-back calls; {} incremental passes ({:.2} calls each), {} full scans ({:.1} calls each)",
        fig.hours(),
        fig.window_secs,
        fig.payments,
        fig.edits,
        fig.calls_sandbox,
        fig.incr_passes,
        fig.incr_mean(),
        fig.full_passes,
        fig.full_mean()
    );
    Ok(())
}

/// One on/off run: a throughput burst and a latency part over every administratie, while
/// the payer makes partial payments on the read-back administraties.
async fn ab_run(
    ctx: &Ctx<'_>,
    p: &Params,
    adms: usize,
    hour: Duration,
    r: usize,
    on: bool,
) -> anyhow::Result<AbRun> {
    let mut payers = Vec::new();
    for i in 0..adms {
        payers.push(Arc::new(Payer::open(ctx.http, ctx.sandbox, i).await?));
    }
    let log = &ctx.launcher.log;
    let from = log_len(log);
    let calls0 = calls_of(ctx, adms).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let payer = {
        let http = ctx.http.clone();
        let sandbox = ctx.sandbox.to_owned();
        let stop = stop.clone();
        let date = ctx.date.to_owned();
        let per_hour = p.payments_per_hour;
        tokio::spawn(async move {
            run_payer(
                &http,
                &sandbox,
                &payers,
                PayMode::Partial,
                per_hour,
                0,
                hour,
                stop,
                &date,
                &date,
            )
            .await
        })
    };
    let result = async {
        let before = crate::api::sandbox_totals(ctx.http, ctx.sandbox, ctx.keys).await?;
        let jobs = crate::phases::jobs(&format!("A{r}x"), p.ab_invoices, p.all_adms, p.relations);
        let n = jobs.len() as u64;
        let t = Instant::now();
        crate::phases::push(ctx.api, Arc::new(jobs), p.concurrency, ctx.date).await;
        let (done, after) = crate::phases::wait_booked(
            ctx.http,
            ctx.sandbox,
            ctx.keys,
            before.boekingen + n,
            Duration::from_secs(120),
            if on {
                "booking, read-back on"
            } else {
                "booking, read-back off"
            },
        )
        .await?;
        let secs = (done - t).as_secs_f64();
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let m = (p.rate * p.ab_latency_secs).round().max(1.0) as usize;
        let lat = crate::phases::latency(
            ctx.api,
            ctx.http,
            ctx.sandbox,
            ctx.keys,
            after.boekingen,
            crate::phases::jobs(&format!("M{r}x"), m, p.all_adms, p.relations),
            p.rate,
            ctx.date,
        )
        .await?;
        anyhow::Ok(AbRun {
            readback_on: on,
            invoices: n,
            secs,
            p50_ms: crate::phases::quantile(&lat.sync_ms, 0.5),
            p99_ms: crate::phases::quantile(&lat.sync_ms, 0.99),
            latency_invoices: m,
            ..AbRun::default()
        })
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    let paid = payer.await.unwrap_or_default();
    let mut run = result?;
    run.payments = paid.count;
    let codes: std::collections::HashSet<String> = (0..adms).map(adm_code).collect();
    run.passes = passes(log, from)
        .iter()
        .filter(|x| codes.contains(&x.adm))
        .count();
    run.readback_calls = calls_of(ctx, adms).await? - calls0;
    Ok(run)
}
