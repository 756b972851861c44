//! Claim throughput: seeds N queued invoices over up to 200 administraties, then measures
//! `claim_due` (concurrent claimers) and `finish` on SQLite or PostgreSQL.
//!
//! `cargo run --release -p koppeling-radar360 --example claim_bench -- sqlite|postgres N
//! [CLAIMERS] [BATCH]`. PostgreSQL uses `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) to create, and afterwards drop, a fresh
//! database.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{Duration, NaiveDate, Utc};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use koppeling_domain::koppeling::{ConnectionKey, KoppelingSettings};
use koppeling_domain::money::VatClass;
use koppeling_domain::ports::roles::*;
use koppeling_domain::ports::{Administratie, Claim, ClaimRequest, Outcome};
use koppeling_domain::relation::{RelatieCode, Relation, RelationKind};
use koppeling_radar360::SeaOrmStore;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, Database};

const KEY: [u8; 32] = [9; 32];

fn with_database(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let (base, rest) = match url[authority_start..].find('/') {
        Some(slash) => url.split_at(authority_start + slash),
        None => (url, ""),
    };
    let query = rest.find('?').map_or("", |q| &rest[q..]);
    format!("{base}/{name}{query}")
}

fn invoice(id: String, date: NaiveDate) -> anyhow::Result<Invoice> {
    Ok(Invoice {
        id: ResourceId::parse(&id)?,
        number: format!("F-{id}"),
        relation_id: ResourceId::parse("r1")?,
        date,
        payment_term_days: 30,
        status: InvoiceStatus::Final,
        description: None,
        lines: vec![InvoiceLine {
            description: "Uren".into(),
            quantity: Decimal::new(2, 0),
            unit_price: Decimal::new(9_500, 2),
            vat: VatClass::High,
        }],
    })
}

async fn seed(store: &SeaOrmStore, n: usize) -> anyhow::Result<()> {
    let adms = n.clamp(1, 200);
    let mut codes = Vec::new();
    for k in 0..adms {
        let code = AdministratieCode::parse(&format!("adm-{k:03}"))?;
        store
            .put_administratie(&Administratie {
                code: code.clone(),
                name: format!("Kantoor {k}"),
            })
            .await?;
        store
            .put_koppeling(
                &code,
                &KoppelingSettings::default(),
                Some(ConnectionKey::new("bench-key".into())?),
            )
            .await?;
        store.set_koppeling_active(&code, true).await?;
        store
            .put_relation(
                &code,
                &Relation {
                    id: ResourceId::parse("r1")?,
                    code: "1".into(),
                    kind: RelationKind::Company,
                    name: "Klant".into(),
                    address: None,
                    email: None,
                    phone: None,
                    vat_number: None,
                    coc_number: None,
                    iban: None,
                    snelstart_enabled: false,
                },
            )
            .await?;
        store
            .set_relation_snelstart(&code, &ResourceId::parse("r1")?, RelatieCode::from_i32(1))
            .await?;
        codes.push(code);
    }
    let codes = Arc::new(codes);
    let date = NaiveDate::from_ymd_opt(2026, 3, 1).context("date")?;
    let started = Instant::now();
    let writers = 8;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        let codes = codes.clone();
        tasks.push(tokio::spawn(async move {
            let mut k = w;
            while k < n {
                let adm = &codes[k % codes.len()];
                store
                    .put_invoice(adm, &invoice(format!("i{k}"), date)?)
                    .await?;
                k += writers;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seeded   {n} final invoices over {adms} administraties with put_invoice: {secs:.2} s, {:.0} puts/s",
        n as f64 / secs
    );
    Ok(())
}

async fn bench(store: SeaOrmStore, n: usize, claimers: usize, batch: u32) -> anyhow::Result<()> {
    seed(&store, n).await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..claimers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("bench-{c}");
            let mut mine: Vec<Claim> = Vec::new();
            let mut calls = 0_u64;
            loop {
                let now = Utc::now();
                let got = store
                    .claim_due(ClaimRequest::new(
                        &worker,
                        now,
                        now + Duration::seconds(600),
                        batch,
                    ))
                    .await?;
                calls += 1;
                if got.is_empty() {
                    break;
                }
                mine.extend(got);
            }
            anyhow::Ok((mine, calls))
        }));
    }
    let mut claims = Vec::new();
    let mut calls = 0;
    for task in tasks {
        let (mine, c) = task.await??;
        claims.extend(mine);
        calls += c;
    }
    let secs = started.elapsed().as_secs_f64();
    if claims.len() != n {
        bail!("claimed {} of {n} invoices", claims.len());
    }
    println!(
        "claimed  {n} invoices with {claimers} claimers, batch {batch}: {secs:.2} s, {:.0} claims/s ({calls} claim_due calls)",
        n as f64 / secs
    );

    let claims = Arc::new(claims);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..claimers {
        let store = store.clone();
        let claims = claims.clone();
        tasks.push(tokio::spawn(async move {
            let mut k = c;
            while k < claims.len() {
                let claim = &claims[k];
                let ok = store
                    .finish(
                        claim,
                        Utc::now(),
                        &Outcome::Synced {
                            snelstart_id: format!("boeking-{k}"),
                        },
                        "geboekt",
                        None,
                    )
                    .await?;
                if !ok {
                    bail!("lost the lease of {}", claim.invoice_id);
                }
                k += claimers;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "finished {n} claims (synced + log row) with {claimers} tasks: {secs:.2} s, {:.0} finishes/s",
        n as f64 / secs
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: claim_bench sqlite|postgres N [CLAIMERS] [BATCH]";
    let engine = args.first().context(usage)?.clone();
    let n: usize = args.get(1).context(usage)?.parse().context(usage)?;
    let claimers: usize = args.get(2).map_or(Ok(4), |s| s.parse()).context(usage)?;
    let batch: u32 = args.get(3).map_or(Ok(32), |s| s.parse()).context(usage)?;
    match engine.as_str() {
        "sqlite" => {
            let dir = tempfile::tempdir()?;
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            );
            let store = SeaOrmStore::connect(&url, KEY).await?;
            store.migrate().await?;
            bench(store, n, claimers, batch).await
        }
        "postgres" => {
            let base = std::env::var("TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let name = format!("koppeling_bench_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(base.as_str()).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            let store = SeaOrmStore::connect(&with_database(&base, &name), KEY).await?;
            store.migrate().await?;
            let result = bench(store.clone(), n, claimers, batch).await;
            store.connection().clone().close().await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
            result
        }
        _ => bail!(usage),
    }
}
