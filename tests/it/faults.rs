//! Fault injection against the in-process sandbox: lost responses with 5xx, a 429 storm, a key revoked mid-run, and property tests of bad input.
//!
//! What every test here checks is what a firm relies on: each final invoice ends up in
//! SnelStart exactly once (the sandbox holds each factuurnummer once, with the id and amount
//! the koppeling recorded), nothing is lost, and trouble is reported once instead of
//! hammering SnelStart. `KOPPELING_HEAVY=1` runs bigger variants.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{Value, json};
use snelstart_sandbox::Faults;

use crate::helpers::{Db, koppelsleutel, spawn_app};

// ---------------------------------------------------------------------------------------
// Shared helpers (also used by `crash.rs`)

/// Whether the bigger variants were asked for (`KOPPELING_HEAVY=1`).
pub(crate) fn heavy() -> bool {
    std::env::var("KOPPELING_HEAVY").is_ok_and(|v| v == "1")
}

/// The JSON API of one running koppeling (in-process or a child process).
#[derive(Clone)]
pub(crate) struct Api {
    pub base: String,
    client: reqwest::Client,
}

impl Api {
    /// `base` is `http://ADDR` (without `/api/v1`).
    pub(crate) fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// One request; a transport error (the server is down) is returned, not a panic.
    pub(crate) async fn try_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(crate::helpers::TOKEN);
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let bytes = res.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    pub(crate) async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.try_send(reqwest::Method::PUT, path, Some(body))
            .await
            .unwrap_or_else(|e| panic!("PUT {path}: {e}"))
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.try_send(reqwest::Method::GET, path, None)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub(crate) async fn post(&self, path: &str) -> (u16, Value) {
        self.try_send(reqwest::Method::POST, path, None)
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// A PUT with a raw (possibly non-JSON) body.
    pub(crate) async fn put_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let res = self
            .client
            .put(self.url(path))
            .bearer_auth(crate::helpers::TOKEN)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap_or_else(|e| panic!("PUT {path}: {e}"));
        let status = res.status().as_u16();
        let bytes = res.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// The SnelStart koppeling's overview entry of `adm` (state, problem, counts).
    pub(crate) async fn koppeling(&self, adm: &str) -> Value {
        let (status, body) = self
            .get(&format!("/administraties/{adm}/integrations"))
            .await;
        assert_eq!(status, 200, "{body}");
        body[0].clone()
    }

    /// Sync status → count for `adm`.
    pub(crate) async fn counts(&self, adm: &str) -> Counts {
        Counts::of(&self.koppeling(adm).await["counts"])
    }

    /// Every invoice of `adm` (all pages).
    pub(crate) async fn invoices(&self, adm: &str) -> Vec<Value> {
        let mut all = Vec::new();
        for page in 1.. {
            let (status, body) = self
                .get(&format!("/administraties/{adm}/invoices?page={page}"))
                .await;
            assert_eq!(status, 200, "{body}");
            let rows = body.as_array().cloned().unwrap_or_default();
            if rows.is_empty() {
                break;
            }
            all.extend(rows);
        }
        all
    }

    /// The stored notifications of `adm`.
    pub(crate) async fn notifications(&self, adm: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/administraties/{adm}/notifications"))
            .await;
        assert_eq!(status, 200, "{body}");
        body.as_array().cloned().unwrap_or_default()
    }

    /// An administratie with a Beheerder, settings with `key`, `relations` ticked relations
    /// (ids `r0…`, codes `code_base + i`), activated against the sandbox.
    pub(crate) async fn setup(
        &self,
        adm: &str,
        key: &str,
        relations: usize,
        code_base: usize,
    ) -> Vec<String> {
        let (status, body) = self
            .put(
                &format!("/administraties/{adm}"),
                &json!({"name": format!("Kantoor {adm}")}),
            )
            .await;
        assert!(status == 201 || status == 200, "{status} {body}");
        let (status, body) = self
            .put(
                &format!("/administraties/{adm}/admins/bea"),
                &json!({"name": "Bea", "email": format!("bea-{adm}@kantoor.nl")}),
            )
            .await;
        assert!(status == 201 || status == 200, "{status} {body}");
        let (status, body) = self
            .put(
                &format!("/administraties/{adm}/integrations/snelstart"),
                &json!({"vat_codes": {"high": 12, "low": 11, "zero": 10}, "sales_journal_code": 1300,
                        "key": key, "notify_admin_id": "bea"}),
            )
            .await;
        assert!(status == 200 || status == 201, "{status} {body}");
        let mut ids = Vec::new();
        for i in 0..relations {
            let id = format!("r{i}");
            let (status, body) = self
                .put(
                    &format!("/administraties/{adm}/relations/{id}"),
                    &relation_body(code_base + i),
                )
                .await;
            assert!(status == 201 || status == 200, "{status} {body}");
            let (status, body) = self
                .put(
                    &format!("/administraties/{adm}/relations/{id}/snelstart"),
                    &json!({"enabled": true}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            ids.push(id);
        }
        let (status, body) = self
            .post(&format!(
                "/administraties/{adm}/integrations/snelstart/activate"
            ))
            .await;
        assert_eq!(status, 200, "activation of {adm}: {body}");
        ids
    }
}

/// Sync status counts of one administratie.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub queued: u64,
    pub in_progress: u64,
    pub synced: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Counts {
    fn of(v: &Value) -> Self {
        let n = |k: &str| v[k].as_u64().unwrap_or(0);
        Self {
            queued: n("queued"),
            in_progress: n("in_progress"),
            synced: n("synced"),
            failed: n("failed"),
            skipped: n("skipped"),
        }
    }
}

/// A relation as Radar360 sends it, with a numeric code.
pub(crate) fn relation_body(code: usize) -> Value {
    json!({"code": code.to_string(), "kind": "company", "name": format!("Relatie {code}"),
           "address": {"street": "Dorpsstraat", "house_number": "1", "postcode": "1234 AB", "city": "Alkmaar", "country": "NL"},
           "email": "info@relatie.nl"})
}

/// The number of invoice `i` (unique within an administratie, ≤ 25 characters).
pub(crate) fn invoice_number(i: usize) -> String {
    format!("2026-{i:06}")
}

/// A final invoice with varied lines: one to three lines over the VAT classes, and every
/// 17th a credit note (negative quantities).
pub(crate) fn invoice_body(i: usize, relation: &str) -> Value {
    let sign = if i % 17 == 16 { "-" } else { "" };
    let mut lines = vec![json!({
        "description": "Advieswerk",
        "quantity": format!("{sign}{}", 1 + i % 3),
        "unit_price": format!("{}.{:02}", 40 + i % 90, i % 100),
        "vat": "high"
    })];
    if i.is_multiple_of(2) {
        lines.push(json!({"description": "Boek", "quantity": format!("{sign}1"), "unit_price": "12.50", "vat": "low"}));
    }
    if i.is_multiple_of(5) {
        lines.push(json!({"description": "Vrijgesteld", "quantity": format!("{sign}2"), "unit_price": "7.35", "vat": "zero"}));
    }
    json!({"number": invoice_number(i), "relation_id": relation, "date": "2026-11-02",
           "payment_term_days": 14, "status": "final", "lines": lines})
}

fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// Asserts that `ours` (the koppeling's invoices, all expected synced) and `boekingen` (the
/// sandbox's verkoopboekingen of that administratie) match one to one: every factuurnummer
/// exactly once, none missing, none extra, and each with the SnelStart id and amount the
/// koppeling recorded.
pub(crate) fn assert_booked_exactly_once(label: &str, ours: &[Value], boekingen: &[Value]) {
    let mut booked: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for b in boekingen {
        let number = b["factuurnummer"].as_str().unwrap_or_default().to_owned();
        booked.entry(number).or_default().push(b);
    }
    let duplicates: Vec<(&String, usize)> = booked
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, v)| (k, v.len()))
        .collect();
    assert!(
        duplicates.is_empty(),
        "{label}: factuurnummers booked more than once: {duplicates:?}"
    );
    let expected: BTreeSet<String> = ours
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        expected.len(),
        ours.len(),
        "{label}: our numbers are unique"
    );
    let in_sandbox: BTreeSet<String> = booked.keys().cloned().collect();
    let missing: Vec<&String> = expected.difference(&in_sandbox).take(20).collect();
    let extra: Vec<&String> = in_sandbox.difference(&expected).take(20).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{label}: missing in SnelStart: {missing:?}; in SnelStart but not ours: {extra:?}"
    );
    for invoice in ours {
        let number = invoice["number"].as_str().unwrap();
        let remote = booked[number][0];
        assert_eq!(
            invoice["sync"]["status"], "synced",
            "{label}: invoice {number} is not synced: {invoice}"
        );
        let our_id = invoice["sync"]["snelstart_id"].as_str().unwrap_or_default();
        let their_id = remote["id"].as_str().unwrap_or_default();
        assert!(
            our_id.eq_ignore_ascii_case(their_id),
            "{label}: invoice {number} recorded SnelStart id {our_id:?} but SnelStart holds {their_id:?}"
        );
        assert_eq!(
            decimal(&invoice["totals"]["gross"]),
            decimal(&remote["factuurbedrag"]),
            "{label}: invoice {number}: amount differs: {invoice} vs {remote}"
        );
    }
}

/// Asserts that each relatiecode of `codes` exists exactly once among `relaties`.
pub(crate) fn assert_relaties_once(label: &str, codes: &[usize], relaties: &[Value]) {
    for code in codes {
        let n = relaties
            .iter()
            .filter(|r| {
                r["relatiecode"].as_i64() == i64::try_from(*code).ok()
                    || r["relatiecode"].as_str() == Some(&code.to_string())
            })
            .count();
        assert_eq!(
            n, 1,
            "{label}: relatiecode {code} exists {n} times in SnelStart"
        );
    }
}

/// Sums the sandbox call counters (`"METHOD /v2/template STATUS"` → n) whose key matches
/// `pred`.
pub(crate) fn count_calls(counts: &BTreeMap<String, u64>, pred: impl Fn(&str) -> bool) -> u64 {
    counts
        .iter()
        .filter(|(k, _)| pred(k))
        .map(|(_, n)| *n)
        .sum()
}

/// Waits for `cond` on `adm`'s counts, failing with the counts after `secs`.
pub(crate) async fn wait_counts(
    api: &Api,
    adm: &str,
    secs: u64,
    what: &str,
    cond: impl Fn(&Counts) -> bool,
) -> Counts {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let counts = api.counts(adm).await;
        if cond(&counts) {
            return counts;
        }
        assert!(
            Instant::now() < deadline,
            "{adm}: not {what} after {secs}s: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// PUTs invoices `range` of `adm` (relations round-robin) with `parallel` requests at once.
async fn put_invoices(api: &Api, adm: &str, range: std::ops::Range<usize>, relations: &[String]) {
    let parallel = 8;
    let mut set = tokio::task::JoinSet::new();
    for i in range {
        if set.len() >= parallel {
            set.join_next().await.unwrap().unwrap();
        }
        let api = api.clone();
        let path = format!("/administraties/{adm}/invoices/f{i}");
        let body = invoice_body(i, &relations[i % relations.len()]);
        set.spawn(async move {
            let (status, answer) = api.put(&path, &body).await;
            assert_eq!(status, 201, "{path}: {answer}");
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Lost responses and 5xx

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_responses_and_5xx_still_book_every_invoice_exactly_once() {
    let started = Instant::now();
    // 100 invoices per administratie: with the look-ups and the retries that stays below
    // the 500 calls a minute the client allows one administratie (SnelStart's limit).
    let adms = if heavy() { 20 } else { 3 };
    let per_adm = 100;
    let n = adms * per_adm;
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let api = Api::new(&app.base);
    let mut all = Vec::new();
    for a in 0..adms {
        let adm = format!("kantoor-{a}");
        let key = if a == 0 {
            app.key.clone()
        } else {
            let key = koppelsleutel(&format!("{adm}-{}", uuid::Uuid::new_v4().simple()));
            app.sandbox.add_key(&key);
            key
        };
        let relations = api.setup(&adm, &key, 4, 3000).await;
        all.push((adm, key, relations));
    }

    // 30 % of the relatie and booking writes are committed but never answered, and 10 % of
    // all calls get a 503. The faults stay on until nine in ten invoices are through, so
    // every invoice meets them; then SnelStart recovers and the rest must follow.
    app.sandbox.set_faults(Faults {
        lost_response_rate: 0.3,
        error_rate: 0.1,
        seed: Some(8),
        ..Faults::default()
    });
    let mut loads = Vec::new();
    for (adm, _, relations) in &all {
        let (api, adm, relations) = (api.clone(), adm.clone(), relations.clone());
        loads.push(tokio::spawn(async move {
            put_invoices(&api, &adm, 0..per_adm, &relations).await;
        }));
    }
    for load in loads {
        load.await.unwrap();
    }
    // Issue 19: the first administratie's first invoices get a PDF, uploaded under the same
    // faults (30 % of the uploads lose their answer, 10 % of the calls get a 503).
    let with_pdf = 20;
    for i in 0..with_pdf {
        let (status, body) = api
            .put_raw(
                &format!("/administraties/{}/invoices/f{i}/documents/pdf", all[0].0),
                "%PDF-1.4 fault suite",
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let synced = async |api: &Api| {
        let mut sum = 0;
        for (adm, _, _) in &all {
            let c = api.counts(adm).await;
            assert_eq!(
                c.failed, 0,
                "{adm}: no invoice may fail on transient faults: {c:?}"
            );
            sum += c.synced;
        }
        sum
    };
    let most = u64::try_from(n * 9 / 10).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while synced(&api).await < most {
        assert!(Instant::now() < deadline, "not 90 % synced under faults");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let faulty = started.elapsed();
    app.sandbox.set_faults(Faults::default());

    let mut lookups = 0;
    let mut rejected_503 = 0;
    for (adm, key, relations) in &all {
        let total = u64::try_from(per_adm).unwrap();
        let counts = wait_counts(&api, adm, 120, "all synced", |c| {
            assert_eq!(
                c.failed, 0,
                "no invoice may fail on transient faults: {c:?}"
            );
            c.synced == total
        })
        .await;
        assert_eq!(counts.queued + counts.in_progress, 0, "{counts:?}");
        let state = app.sandbox.state(key).unwrap();
        let ours = api.invoices(adm).await;
        assert_eq!(ours.len(), per_adm);
        assert_booked_exactly_once(adm, &ours, &state.verkoopboekingen);
        let codes: Vec<usize> = (0..relations.len()).map(|i| 3000 + i).collect();
        assert_relaties_once(adm, &codes, &state.relaties);
        rejected_503 += count_calls(&state.counts, |k| k.ends_with(" 503"));
        lookups += count_calls(&state.counts, |k| k.starts_with("GET /v2/verkoopfacturen"));
    }

    // Each PDF is on its invoice's booking exactly once.
    let (adm, key, _) = &all[0];
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut bookings = std::collections::BTreeMap::new();
    for i in 0..with_pdf {
        loop {
            let (_, inv) = api
                .get(&format!("/administraties/{adm}/invoices/f{i}"))
                .await;
            if inv["documents"][0]["status"] == "attached" {
                bookings.insert(
                    inv["sync"]["snelstart_id"].as_str().unwrap().to_owned(),
                    inv["number"].as_str().unwrap().to_owned(),
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "f{i}'s PDF never attached: {inv}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let documents = app.sandbox.state(key).unwrap().documenten;
    assert_eq!(documents.len(), with_pdf, "one copy each: {documents:?}");
    for d in &documents {
        let number = bookings
            .get(d["parentIdentifier"].as_str().unwrap())
            .unwrap_or_else(|| panic!("a document on a booking without a PDF: {d}"));
        assert_eq!(d["fileName"], format!("{number}.pdf"));
    }

    // The faults really bit: calls were answered 503 and unknown outcomes were looked up.
    eprintln!(
        "lost responses: {n} invoices over {adms} administraties in {:?} ({faulty:?} with faults); {rejected_503} answered 503, {lookups} look-ups",
        started.elapsed()
    );
    assert!(rejected_503 > 0);
    assert!(lookups > 0);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// A 429 storm

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_is_waited_out_without_calls_inside_retry_after_and_books_everything_once() {
    let started = Instant::now();
    // The sandbox's window is a fixed minute; 30 calls in it against ~45 needed means the
    // storm hits once, and the rest must wait for the next window.
    let (n, limit) = if heavy() { (120, 90) } else { (40, 30) };
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let api = Api::new(&app.base);
    let adm = "kantoor";
    let relations = api.setup(adm, &app.key, 2, 4000).await;
    let before = app.sandbox.state(&app.key).unwrap().calls;
    app.sandbox.set_faults(Faults {
        rate_limit_per_minute: Some(limit),
        ..Faults::default()
    });
    put_invoices(&api, adm, 0..n, &relations).await;

    // Wait for the first 429.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = app.sandbox.state(&app.key).unwrap();
        if count_calls(&state.counts, |k| k.ends_with(" 429")) > 0 {
            break;
        }
        let counts = api.counts(adm).await;
        assert!(
            counts.synced < u64::try_from(n).unwrap(),
            "everything synced without a 429: the test load is too small"
        );
        assert!(Instant::now() < deadline, "no 429 yet: {counts:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let total = u64::try_from(n).unwrap();
    wait_counts(&api, adm, 150, "all synced after the storm", |c| {
        assert_eq!(c.failed, 0, "a 429 must not fail an invoice: {c:?}");
        c.synced == total
    })
    .await;

    let state = app.sandbox.state(&app.key).unwrap();
    let ours = api.invoices(adm).await;
    assert_booked_exactly_once("429 storm", &ours, &state.verkoopboekingen);

    // Retry-After announces when the window reopens; every call sent before that is
    // answered 429 again. Only calls already on their way when the first 429 arrived (at
    // most one per sync worker) may meet one.
    let throttled = count_calls(&state.counts, |k| k.ends_with(" 429"));
    let workers = 4;
    eprintln!(
        "429 storm: {n} invoices, limit {limit}/min, {} calls, {throttled} answered 429, in {:?}",
        state.calls - before,
        started.elapsed()
    );
    assert!(
        (1..=workers).contains(&throttled),
        "{throttled} calls were answered 429: calls were sent inside an announced Retry-After window: {:?}",
        state.counts
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// A koppelsleutel revoked mid-run

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_mid_run_pauses_that_administratie_once_and_the_other_carries_on() {
    let n = if heavy() { 400 } else { 80 };
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let api = Api::new(&app.base);
    let (a, b) = ("kantoor-a", "kantoor-b");
    let key_b = koppelsleutel(&format!("kantoor-b-{}", uuid::Uuid::new_v4().simple()));
    let rel_a = api.setup(a, &app.key, 3, 5000).await;
    let rel_b = api.setup(b, &key_b, 3, 6000).await;
    // The activation minted B's token; the client reuses it for its hour.
    let token_minted = Instant::now();
    // A little latency keeps B's run going when its key is revoked.
    app.sandbox.set_faults(Faults {
        latency_ms: 15,
        ..Faults::default()
    });
    let load = |adm: &'static str, range: std::ops::Range<usize>, rels: &Vec<String>| {
        let (api, rels) = (api.clone(), rels.clone());
        tokio::spawn(async move { put_invoices(&api, adm, range, &rels).await })
    };

    // First half of both. Keys are revoked long after a token was minted, so let B's token
    // age past the few seconds in which a refused fresh token counts as a refused key
    // without asking the token endpoint again.
    let (first_a, first_b) = (load(a, 0..n / 2, &rel_a), load(b, 0..n / 2, &rel_b));
    first_a.await.unwrap();
    first_b.await.unwrap();
    let half = u64::try_from(n / 2).unwrap();
    wait_counts(&api, b, 60, "first half synced", |c| c.synced == half).await;
    if let Some(rest) = Duration::from_secs(6).checked_sub(token_minted.elapsed()) {
        tokio::time::sleep(rest).await;
    }

    // Second half of both; B's key is revoked once a few of these are through.
    let (load_a, load_b) = (load(a, n / 2..n, &rel_a), load(b, n / 2..n, &rel_b));
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.sandbox.state(&key_b).unwrap().verkoopboekingen.len() < n / 2 + 5 {
        assert!(Instant::now() < deadline, "B does not sync");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let tokens_before = app.sandbox.token_requests();
    app.sandbox.revoke_key(&key_b);
    load_a.await.unwrap();
    load_b.await.unwrap();

    // B pauses with the problem named.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let koppeling = api.koppeling(b).await;
        if koppeling["state"] == "paused_auth" {
            assert!(
                koppeling["problem"].as_str().is_some_and(|p| !p.is_empty()),
                "{koppeling}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "B never paused: {koppeling}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A carries on to the end.
    let total = u64::try_from(n).unwrap();
    wait_counts(&api, a, 120, "all synced", |c| c.synced == total).await;
    assert_eq!(api.koppeling(a).await["state"], "active");

    // B's Beheerder hears about it once. Watch a few sweeps (1 s) and notification rounds
    // (2 s) to see that neither notifications nor token requests keep coming.
    let deadline = Instant::now() + Duration::from_secs(20);
    while api.notifications(b).await.is_empty() {
        assert!(Instant::now() < deadline, "no notification for B");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Only the attempts already under way when the key died may ask for a token (at most
    // one each; 4 sync workers), never one per queued invoice or per sweep; once paused,
    // nothing more is sent for B.
    let tokens = app.sandbox.token_requests() - tokens_before;
    assert!(
        tokens <= 8,
        "{tokens} token requests after the key was revoked: a storm"
    );
    let refused = |app: &crate::helpers::TestApp| {
        (
            app.sandbox.token_requests(),
            app.sandbox.stats()["unauthorized"].as_u64(),
        )
    };
    let after_pause = refused(&app);
    let watch_until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < watch_until {
        assert_eq!(
            refused(&app),
            after_pause,
            "calls for B after it was paused"
        );
        assert_eq!(api.notifications(b).await.len(), 1);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let notes = api.notifications(b).await;
    let items = notes[0]["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "one item: {notes:?}");
    assert_eq!(items[0]["kind"], "paused", "{notes:?}");
    assert_eq!(notes[0]["to"], format!("bea-{b}@kantoor.nl"));
    assert!(
        api.notifications(a).await.is_empty(),
        "A has nothing to report"
    );

    // Nothing of B failed or was lost: what went through went through once; the rest waits
    // for a new key.
    let counts_b = api.counts(b).await;
    assert_eq!(counts_b.failed + counts_b.skipped, 0, "{counts_b:?}");
    assert_eq!(counts_b.synced + counts_b.queued, total, "{counts_b:?}");
    assert!(counts_b.queued > 0, "B was paused mid-run: {counts_b:?}");
    let ours_b: Vec<Value> = api
        .invoices(b)
        .await
        .into_iter()
        .filter(|i| i["sync"]["status"] == "synced")
        .collect();
    let state_b = app.sandbox.state(&key_b).unwrap();
    assert_booked_exactly_once("revoked B", &ours_b, &state_b.verkoopboekingen);
    let state_a = app.sandbox.state(&app.key).unwrap();
    assert_booked_exactly_once("A", &api.invoices(a).await, &state_a.verkoopboekingen);
    eprintln!(
        "revoked key: {} token requests after revoking, B {counts_b:?}",
        app.sandbox.token_requests() - tokens_before
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Bad input: property tests over the JSON API bodies and the JSON-lines import

mod bad_input {
    use std::fmt::Write as _;
    use std::time::Duration;

    use base64::Engine;
    use koppeling::settings::Settings;
    use koppeling::startup::Application;
    use koppeling_domain::ids::AdministratieCode;
    use koppeling_domain::ports::Administratie;
    use proptest::prelude::*;
    use proptest::sample::Index;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    use secrecy::SecretString;
    use serde_json::{Map, Value, json};

    use super::{Api, heavy, invoice_body, relation_body};
    use crate::helpers::{Db, fresh_postgres, koppelsleutel, spawn_app};

    /// Cases per property (200, or 2,000 with `KOPPELING_HEAVY=1`).
    fn cases() -> u32 {
        if heavy() { 2000 } else { 200 }
    }

    fn runner() -> TestRunner {
        TestRunner::new(Config {
            cases: cases(),
            failure_persistence: None,
            ..Config::default()
        })
    }

    /// Values that trip parsers: empty, huge, non-numbers that look like numbers, bad dates.
    fn tricky() -> BoxedStrategy<Value> {
        let raw = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        prop_oneof![
            Just(json!("")),
            Just(json!("   ")),
            Just(json!("x".repeat(300))),
            Just(json!("1e999")),
            Just(json!("-0")),
            Just(json!("NaN")),
            Just(json!("Infinity")),
            Just(json!("٣")),
            Just(json!("2026-02-30")),
            Just(json!("0000-00-00")),
            Just(json!("+1")),
            Just(json!("1,50")),
            Just(json!("0x10")),
            Just(json!("\u{0}")),
            Just(json!("😀")),
            Just(json!("'; DROP TABLE invoices; --")),
            Just(json!(0)),
            Just(json!(-1)),
            Just(json!(i64::MAX)),
            Just(json!(u64::MAX)),
            Just(json!(0.1)),
            Just(json!(1e308)),
            Just(raw("1e400")),
            Just(raw("-1e-400")),
            Just(raw(
                "123456789012345678901234567890.123456789012345678901234567890"
            )),
            Just(raw("-0.000000000000000000000000000001")),
            Just(Value::Null),
            Just(json!(true)),
            Just(json!([])),
            Just(json!({})),
        ]
        .boxed()
    }

    fn key() -> BoxedStrategy<String> {
        prop_oneof![
            prop::sample::select(vec![
                "number",
                "relation_id",
                "date",
                "payment_term_days",
                "status",
                "lines",
                "description",
                "quantity",
                "unit_price",
                "vat",
                "code",
                "kind",
                "name",
                "address",
                "email",
                "phone",
                "vat_number",
                "coc_number",
                "iban",
                "enabled",
                "vat_codes",
                "high",
                "low",
                "zero",
                "sales_journal_code",
                "key",
                "notify_admin_id",
                "start_date",
                "revenue_ledgers",
                "type",
                "id",
            ])
            .prop_map(str::to_owned),
            "\\PC{0,12}",
        ]
        .boxed()
    }

    /// Any JSON value, small.
    fn any_json() -> BoxedStrategy<Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            "\\PC{0,30}".prop_map(Value::String),
            tricky(),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
            ]
        })
        .boxed()
    }

    /// The resources with a JSON body, each with a valid body.
    #[derive(Debug, Clone, Copy)]
    enum Target {
        Administratie,
        Admin,
        Relation,
        Tick,
        Invoice,
        Settings,
    }

    const ADM: &str = "kantoor";

    impl Target {
        fn all() -> Vec<Self> {
            vec![
                Self::Administratie,
                Self::Admin,
                Self::Relation,
                Self::Tick,
                Self::Invoice,
                Self::Settings,
            ]
        }

        fn path(self, id: &str) -> String {
            match self {
                Self::Administratie => format!("/administraties/{ADM}"),
                Self::Admin => format!("/administraties/{ADM}/admins/{id}"),
                Self::Relation => format!("/administraties/{ADM}/relations/{id}"),
                Self::Tick => format!("/administraties/{ADM}/relations/{id}/snelstart"),
                Self::Invoice => format!("/administraties/{ADM}/invoices/{id}"),
                Self::Settings => format!("/administraties/{ADM}/integrations/snelstart"),
            }
        }

        fn valid(self) -> Value {
            match self {
                Self::Administratie => json!({"name": "Kantoor Test"}),
                Self::Admin => json!({"name": "Bea", "email": "bea@kantoor.nl"}),
                Self::Relation => relation_body(1001),
                Self::Tick => json!({"enabled": true}),
                Self::Invoice => invoice_body(10, "r1"),
                Self::Settings => json!({"vat_codes": {"high": 12, "low": 11, "zero": 10},
                    "sales_journal_code": 1300, "key": koppelsleutel("proptest"),
                    "notify_admin_id": "bea", "start_date": "2026-01-01"}),
            }
        }

        /// The import line type, if the import knows this resource.
        fn line_type(self) -> Option<&'static str> {
            match self {
                Self::Admin => Some("admin"),
                Self::Relation => Some("relation"),
                Self::Tick => Some("relation_snelstart"),
                Self::Invoice => Some("invoice"),
                Self::Administratie | Self::Settings => None,
            }
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    enum Seg {
        Key(String),
        At(usize),
    }

    /// Every path in `v` (the root is the empty path).
    fn paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
        out.push(prefix.clone());
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    prefix.push(Seg::Key(k.clone()));
                    paths(child, prefix, out);
                    prefix.pop();
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    prefix.push(Seg::At(i));
                    paths(child, prefix, out);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }

    fn show(path: &[Seg]) -> String {
        let mut s = String::new();
        for seg in path {
            match seg {
                Seg::Key(k) if s.is_empty() => s.push_str(k),
                Seg::Key(k) => {
                    let _ = write!(s, ".{k}");
                }
                Seg::At(i) => {
                    let _ = write!(s, "[{i}]");
                }
            }
        }
        s
    }

    fn at_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
        let mut cur = v;
        for seg in path {
            cur = match (seg, cur) {
                (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
                (Seg::At(i), Value::Array(a)) => a.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    #[derive(Debug, Clone)]
    enum Op {
        Remove,
        Replace(Value),
        AddKey(String, Value),
    }

    #[derive(Debug, Clone)]
    struct Mutation {
        at: Index,
        op: Op,
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        let op = prop_oneof![
            1 => Just(Op::Remove),
            3 => tricky().prop_map(Op::Replace),
            2 => any_json().prop_map(Op::Replace),
            1 => (key(), any_json()).prop_map(|(k, v)| Op::AddKey(k, v)),
        ];
        (any::<Index>(), op).prop_map(|(at, op)| Mutation { at, op })
    }

    /// Applies `m` to `body`; returns the path it touched.
    fn apply(body: &mut Value, m: &Mutation) -> Vec<Seg> {
        let mut all = Vec::new();
        paths(body, &mut Vec::new(), &mut all);
        let path = all[m.at.index(all.len())].clone();
        match &m.op {
            Op::Remove => match path.split_last() {
                None => *body = Value::Null,
                Some((last, parent)) => match (last, at_mut(body, parent)) {
                    (Seg::Key(k), Some(Value::Object(o))) => {
                        o.remove(k);
                    }
                    (Seg::At(i), Some(Value::Array(a))) => {
                        a.remove(*i);
                    }
                    _ => {}
                },
            },
            Op::Replace(v) => {
                if let Some(slot) = at_mut(body, &path) {
                    *slot = v.clone();
                }
            }
            Op::AddKey(k, v) => match at_mut(body, &path) {
                Some(Value::Object(o)) => {
                    o.insert(k.clone(), v.clone());
                }
                Some(slot) => *slot = json!({ k.clone(): v.clone() }),
                None => {}
            },
        }
        path
    }

    /// One API request.
    #[derive(Debug, Clone)]
    enum Case {
        /// Not necessarily JSON.
        Raw(Target, String),
        /// Any JSON value as the body.
        Random(Target, String, Value),
        /// A valid body with one to three mutations.
        Mutated(Target, String, Vec<Mutation>),
    }

    fn id() -> BoxedStrategy<String> {
        prop_oneof![
            4 => prop::sample::select(vec!["r1", "r2", "f1", "f2", "bea", "x"]).prop_map(str::to_owned),
            1 => "[A-Za-z0-9 ._~!$&'()*+,;=:@-]{1,70}",
            1 => "\\PL{1,8}",
        ]
        .boxed()
    }

    fn case() -> impl Strategy<Value = Case> {
        let target = prop::sample::select(Target::all());
        prop_oneof![
            1 => (target.clone(), "\\PC{0,60}").prop_map(|(t, s)| Case::Raw(t, s)),
            2 => (target.clone(), id(), any_json()).prop_map(|(t, i, v)| Case::Random(t, i, v)),
            6 => (target, id(), prop::collection::vec(mutation(), 1..4))
                .prop_map(|(t, i, m)| Case::Mutated(t, i, m)),
        ]
    }

    fn non_empty(v: &Value) -> bool {
        v.as_str().is_some_and(|s| !s.trim().is_empty())
    }

    async fn check(api: &Api, case: Case) -> Result<(), TestCaseError> {
        let (status, body, touched) = match &case {
            Case::Raw(t, text) => {
                let (s, b) = api.put_raw(&t.path("r1"), text).await;
                (s, b, None)
            }
            Case::Random(t, id, v) => {
                let (s, b) = api.put(&t.path(id), v).await;
                (s, b, None)
            }
            Case::Mutated(t, id, ms) => {
                let mut v = t.valid();
                let mut touched = Vec::new();
                for m in ms {
                    touched.push(apply(&mut v, m));
                }
                let (s, b) = api.put(&t.path(id), &v).await;
                // A field is to blame when one mutation changed one field (not the whole body).
                let one_field =
                    (ms.len() == 1 && !touched[0].is_empty()).then(|| show(&touched[0]));
                (s, b, one_field.map(|f| (f, v)))
            }
        };
        prop_assert!(status < 500, "{status} for {case:?}: {body}");
        if status >= 400 {
            prop_assert!(
                non_empty(&body["error"]) && non_empty(&body["message"]),
                "{status} without error and message for {case:?}: {body}"
            );
            if let Some((field, sent)) = touched
                && matches!(status, 400 | 422)
            {
                prop_assert!(
                    non_empty(&body["field"]),
                    "{status} without the field to blame (we changed {field}) for {sent}: {body}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn bad_api_bodies_get_a_clear_4xx_never_a_5xx_on_sqlite() {
        bad_api_bodies(Db::Sqlite);
    }

    #[test]
    fn bad_api_bodies_get_a_clear_4xx_never_a_5xx_on_postgres() {
        bad_api_bodies(Db::Postgres);
    }

    fn bad_api_bodies(db: Db) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let Some(app) = rt.block_on(spawn_app(db)) else {
            return;
        };
        let api = Api::new(&app.base);
        rt.block_on(async {
            app.setup_administratie(ADM).await;
            app.add_relation(ADM, "r1", "1001", true).await;
            app.add_relation(ADM, "r2", "1002", false).await;
        });
        let result = runner().run(&case(), |case| rt.block_on(check(&api, case)));
        if let Err(e) = result {
            panic!("{e}");
        }
        // The application still works afterwards.
        let (status, body) = rt.block_on(api.get(&format!("/administraties/{ADM}/invoices")));
        assert_eq!(status, 200, "{body}");
        rt.block_on(app.stop());
    }

    /// One line of an import file.
    #[derive(Debug, Clone)]
    enum Line {
        Garbage(String),
        Json(Value),
        Mutated(Target, String, Vec<Mutation>),
    }

    fn line() -> impl Strategy<Value = Line> {
        let target = prop::sample::select(vec![
            Target::Admin,
            Target::Relation,
            Target::Tick,
            Target::Invoice,
        ]);
        prop_oneof![
            1 => "\\PC{0,60}".prop_map(Line::Garbage),
            2 => any_json().prop_map(Line::Json),
            5 => (target, id(), prop::collection::vec(mutation(), 0..3))
                .prop_map(|(t, i, m)| Line::Mutated(t, i, m)),
        ]
    }

    fn render(line: &Line) -> String {
        match line {
            Line::Garbage(s) => s.clone(),
            Line::Json(v) => v.to_string(),
            Line::Mutated(t, id, ms) => {
                let mut v = t.valid();
                if let Value::Object(o) = &mut v {
                    o.insert("type".into(), json!(t.line_type().unwrap_or("admin")));
                    o.insert("id".into(), json!(id));
                }
                for m in ms {
                    apply(&mut v, m);
                }
                v.to_string()
            }
        }
    }

    #[test]
    fn bad_import_lines_are_refused_one_by_one_with_the_field_named_on_sqlite() {
        bad_import_lines(Db::Sqlite);
    }

    #[test]
    fn bad_import_lines_are_refused_one_by_one_with_the_field_named_on_postgres() {
        bad_import_lines(Db::Postgres);
    }

    fn bad_import_lines(db: Db) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::default();
        settings.database.url = match db {
            Db::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("import.db").display()
            ),
            Db::Postgres => match rt.block_on(fresh_postgres()) {
                Some(url) => url,
                None => return,
            },
        };
        settings.http.listen = "127.0.0.1:0".to_owned();
        settings.api.token = Some(SecretString::from(crate::helpers::TOKEN.to_owned()));
        settings.snelstart.api_url = "http://127.0.0.1:9/v2".to_owned();
        settings.snelstart.auth_url = "http://127.0.0.1:9/b2b/token".to_owned();
        settings.snelstart.subscription_key = Some(SecretString::from("s".to_owned()));
        settings.snelstart.timeout_secs = 1;
        settings.secrets.master_key = Some(SecretString::from(
            base64::engine::general_purpose::STANDARD.encode([9u8; 32]),
        ));
        let service = rt
            .block_on(Application::build(settings))
            .expect("build the application")
            .service();
        let adm = AdministratieCode::parse(ADM).unwrap();
        rt.block_on(service.put_administratie(&Administratie {
            code: adm.clone(),
            name: "Kantoor".to_owned(),
        }))
        .unwrap();

        let strategy = prop::collection::vec(line(), 1..6);
        let result = runner().run(&strategy, |lines| {
            let text = lines.iter().map(render).collect::<Vec<_>>().join("\n");
            let report = rt.block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(30),
                    koppeling_web::import::import_jsonl(service.as_ref(), &adm, &text),
                )
                .await
            });
            let report = report.map_err(|_| TestCaseError::fail("the import hung"))?;
            let non_blank: Vec<usize> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().trim_start_matches('\u{feff}').is_empty())
                .map(|(i, _)| i + 1)
                .collect();
            let mut refused: Vec<usize> = report.errors.iter().map(|e| e.line).collect();
            refused.dedup();
            prop_assert_eq!(
                report.imported + refused.len(),
                non_blank.len(),
                "each line is either imported or refused: {:?} for {}",
                report,
                text
            );
            for e in &report.errors {
                prop_assert!(non_blank.contains(&e.line), "{e:?} for {text}");
                prop_assert!(
                    !e.field.trim().is_empty() && !e.message.trim().is_empty(),
                    "a refusal names the field and says what is wrong: {e:?} for {text}"
                );
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}
