//! Fault injection: 429 with Retry-After, 503, latency and the lost response.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use snelstart_sandbox::{Faults, SandboxConfig};

use crate::helpers::{Api, start};

#[tokio::test]
async fn rate_limit_per_administration() {
    let sb = start(SandboxConfig {
        faults: Faults {
            rate_limit_per_minute: Some(3),
            ..Faults::default()
        },
        ..SandboxConfig::default()
    })
    .await;
    let a = Api::open(&sb, "limiet-a").await;
    let b = Api::open(&sb, "limiet-b").await;
    for _ in 0..3 {
        assert_eq!(a.get("/companyInfo").await.0, 200);
    }
    let resp = a
        .req(reqwest::Method::GET, "/companyInfo")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["statusCode"], 429);
    assert_eq!(
        v["message"],
        format!("Rate limit is exceeded. Try again in {retry} seconds.")
    );
    // The other administration has its own window.
    assert_eq!(b.get("/companyInfo").await.0, 200);
    assert_eq!(sb.call_count(&a.key), 4);
    let snap = sb.state(&a.key).expect("state");
    assert_eq!(snap.counts.get("GET /v2/companyInfo 429"), Some(&1));
    assert_eq!(snap.counts.get("GET /v2/companyInfo 200"), Some(&3));
}

#[tokio::test]
async fn errors_and_latency() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "storing").await;
    sb.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let (s, _) = api
        .post(
            "/relaties",
            &json!({ "relatiesoort": ["Klant"], "naam": "X" }),
        )
        .await;
    assert_eq!(s, 503);
    assert_eq!(
        sb.state(&api.key).map(|s| s.relaties.len()),
        Some(3),
        "nothing written"
    );
    sb.set_faults(Faults {
        latency_ms: 150,
        ..Faults::default()
    });
    let t = Instant::now();
    assert_eq!(api.get("/companyInfo").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    // Seeded rates are deterministic.
    let run = |seed| {
        let sb = &sb;
        let api = &api;
        async move {
            sb.set_faults(Faults {
                error_rate: 0.5,
                seed: Some(seed),
                ..Faults::default()
            });
            let mut out = Vec::new();
            for _ in 0..16 {
                out.push(api.get("/companyInfo").await.0);
            }
            out
        }
    };
    let first = run(7).await;
    assert_eq!(first, run(7).await);
    assert!(first.contains(&200) && first.contains(&503), "{first:?}");
}

#[tokio::test]
async fn lost_response_commits_but_drops_the_connection() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "verloren").await;
    let klant = api.klant(1).await;
    let grootboek = api.ledger(8000).await;
    sb.set_faults(Faults {
        lost_response_rate: 1.0,
        ..Faults::default()
    });
    let body = json!({
        "factuurnummer": "LOST-1", "factuurdatum": "2026-05-13", "klant": { "id": klant },
        "factuurbedrag": 121,
        "boekingsregels": [{ "grootboek": { "id": grootboek }, "bedrag": 100, "btwSoort": "Hoog" }],
        "btw": [{ "btwSoort": "VerkopenHoog", "btwBedrag": 21 }]
    });
    let result = api
        .req(reqwest::Method::POST, "/verkoopboekingen")
        .json(&body)
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let err = result.expect_err("the response must be lost");
    assert!(
        !err.is_timeout(),
        "connection dropped, not a timeout: {err}"
    );
    // Reads are not affected; the write was committed.
    let (s, f) = api
        .filter("/verkoopfacturen", "Factuurnummer eq 'LOST-1'")
        .await;
    assert_eq!(s, 200);
    assert_eq!(f.as_array().map(Vec::len), Some(1));
    assert_eq!(
        sb.state(&api.key).map(|s| s.verkoopboekingen.len()),
        Some(1)
    );
    // Relatie writes too.
    let r = api
        .req(reqwest::Method::POST, "/relaties")
        .json(&json!({ "relatiesoort": ["Klant"], "naam": "Verloren", "relatiecode": 99 }))
        .send()
        .await;
    assert!(r.is_err());
    sb.set_faults(Faults::default());
    let (_, v) = api.filter("/relaties", "Relatiecode eq 99").await;
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    // A rejected write is answered normally even with the fault on.
    sb.set_faults(Faults {
        lost_response_rate: 1.0,
        ..Faults::default()
    });
    let (s, _) = api.post("/verkoopboekingen", &body).await;
    assert_eq!(s, 400);
}
