//! Fault injection: 429 with Retry-After, 503, latency and the lost response.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use snelstart_sandbox::{
    Aim, BadIdFault, DEFAULT_SUBSCRIPTION_KEY, Faults, OversizedFault, RedirectFault,
    RetryAfterFault, SandboxConfig,
};

use crate::helpers::{Api, form_encode, key_for, start, token_response};

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

// ---------------------------------------------------------------------------------------
// Hostile answers

/// A reqwest client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn boeking(klant: &str, grootboek: &str, nummer: &str) -> Value {
    json!({
        "factuurnummer": nummer, "factuurdatum": "2026-05-13", "klant": { "id": klant },
        "factuurbedrag": 121,
        "boekingsregels": [{ "grootboek": { "id": grootboek }, "bedrag": 100, "btwSoort": "Hoog" }],
        "btw": [{ "btwSoort": "VerkopenHoog", "btwBedrag": 21 }]
    })
}

#[tokio::test]
async fn retry_after_fault_sends_the_raw_value_to_the_aimed_calls_only() {
    let sb = start(SandboxConfig::default()).await;
    let a = Api::open(&sb, "hostiel-a").await;
    let b = Api::open(&sb, "hostiel-b").await;
    sb.set_faults(Faults {
        retry_after: Some(RetryAfterFault {
            value: "18446744073709551615".into(),
            aim: Aim::route(2, "GET /v2/companyInfo").for_key(&a.key),
        }),
        ..Faults::default()
    });
    // Another route and another administration are not hit.
    assert_eq!(a.get("/dagboeken").await.0, 200);
    assert_eq!(b.get("/companyInfo").await.0, 200);
    for _ in 0..2 {
        let resp = a
            .req(reqwest::Method::GET, "/companyInfo")
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 429);
        assert_eq!(
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("18446744073709551615")
        );
        let v: Value = resp.json().await.expect("json");
        assert_eq!(v["statusCode"], 429);
    }
    // Spent after two calls.
    assert_eq!(sb.faults().retry_after, None);
    assert_eq!(a.get("/companyInfo").await.0, 200);
    let snap = sb.state(&a.key).expect("state");
    assert_eq!(snap.counts.get("GET /v2/companyInfo 429"), Some(&2));
}

#[tokio::test]
async fn expires_in_fault_changes_the_announcement_not_the_lifetime() {
    let sb = start(SandboxConfig::default()).await;
    for value in [json!(u64::MAX), json!(-5), json!("binnenkort")] {
        sb.set_faults(Faults {
            expires_in: Some(value.clone()),
            ..Faults::default()
        });
        let resp = token_response(
            &sb,
            format!(
                "grant_type=clientkey&clientkey={}",
                form_encode(&key_for("tijd"))
            ),
        )
        .await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.expect("json");
        assert_eq!(v["expires_in"], value);
    }
    // The token works as usual.
    let api = Api::open(&sb, "tijd").await;
    assert_eq!(api.get("/companyInfo").await.0, 200);
    sb.set_faults(Faults::default());
    let v: Value = token_response(
        &sb,
        format!(
            "grant_type=clientkey&clientkey={}",
            form_encode(&key_for("tijd"))
        ),
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(v["expires_in"], 3599);
}

#[tokio::test]
async fn oversized_fault_pads_a_committed_write_with_whitespace() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "groot").await;
    let klant = api.klant(1).await;
    let grootboek = api.ledger(8000).await;
    let normal = api
        .req(reqwest::Method::POST, "/verkoopboekingen")
        .json(&boeking(&klant, &grootboek, "GROOT-0"))
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body")
        .len();
    sb.set_faults(Faults {
        oversized: Some(OversizedFault {
            bytes: 2 * 1024 * 1024,
            aim: Aim::route(1, "POST /v2/verkoopboekingen"),
        }),
        ..Faults::default()
    });
    // A read of another route is not padded.
    let (s, _) = api.get("/companyInfo").await;
    assert_eq!(s, 200);
    let resp = api
        .req(reqwest::Method::POST, "/verkoopboekingen")
        .json(&boeking(&klant, &grootboek, "GROOT-1"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 201);
    let body = resp.bytes().await.expect("body");
    assert_eq!(body.len(), normal + 2 * 1024 * 1024);
    let v: Value = serde_json::from_slice(&body).expect("still JSON");
    assert_eq!(v["factuurnummer"], "GROOT-1");
    assert_eq!(
        sb.state(&api.key).map(|s| s.verkoopboekingen.len()),
        Some(2),
        "committed"
    );
    // Spent after one call.
    assert_eq!(sb.faults().oversized, None);
}

#[tokio::test]
async fn bad_id_fault_answers_a_committed_write_with_another_id() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "kapot-id").await;
    let klant = api.klant(1).await;
    let grootboek = api.ledger(8000).await;
    sb.set_faults(Faults {
        bad_id: Some(BadIdFault {
            id: json!("not-a-guid"),
            aim: Aim::route(1, "POST /v2/verkoopboekingen"),
        }),
        ..Faults::default()
    });
    // A rejected write does not spend it.
    let (s, _) = api
        .post("/verkoopboekingen", &json!({ "factuurnummer": "X" }))
        .await;
    assert_eq!(s, 400);
    let (s, v) = api
        .post("/verkoopboekingen", &boeking(&klant, &grootboek, "ID-1"))
        .await;
    assert_eq!(s, 201);
    assert_eq!(v["id"], "not-a-guid");
    assert_eq!(v["factuurnummer"], "ID-1");
    let (_, f) = api
        .filter("/verkoopfacturen", "Factuurnummer eq 'ID-1'")
        .await;
    let real = f[0]["verkoopBoeking"]["id"].as_str().expect("real id");
    assert!(uuid::Uuid::parse_str(real).is_ok(), "{real}");
    assert_eq!(sb.faults().bad_id, None);
}

#[tokio::test]
async fn redirect_fault_answers_3xx_and_does_nothing() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "omleiding").await;
    let klant = api.klant(1).await;
    let grootboek = api.ledger(8000).await;
    sb.set_faults(Faults {
        redirect: Some(RedirectFault {
            location: "http://127.0.0.1:9/elders".into(),
            status: 307,
            aim: Aim::route(1, "POST /v2/verkoopboekingen"),
        }),
        ..Faults::default()
    });
    let resp = no_redirects()
        .post(format!("{}/verkoopboekingen", sb.api_url()))
        .header("Ocp-Apim-Subscription-Key", DEFAULT_SUBSCRIPTION_KEY)
        .bearer_auth(&api.token)
        .json(&boeking(&klant, &grootboek, "WEG-1"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 307);
    assert_eq!(
        resp.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("http://127.0.0.1:9/elders")
    );
    assert_eq!(
        sb.state(&api.key).map(|s| s.verkoopboekingen.len()),
        Some(0),
        "nothing done"
    );
    // Spent: the next one is booked.
    let (s, _) = api
        .post("/verkoopboekingen", &boeking(&klant, &grootboek, "WEG-1"))
        .await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn hostile_faults_round_trip_over_http() {
    let sb = start(SandboxConfig::default()).await;
    let http = reqwest::Client::new();
    let faults = json!({
        "retry_after": { "value": "-5", "calls": 3, "route": "POST /v2/relaties" },
        "expires_in": "1e309",
        "oversized": { "bytes": 1048577 },
        "bad_id": { "id": 42, "key": "abc" },
        "redirect": { "location": "http://elders.test/" }
    });
    let resp = http
        .put(format!("{}/_sandbox/faults", sb.base_url()))
        .json(&faults)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let got = sb.faults();
    assert_eq!(
        got.retry_after,
        Some(RetryAfterFault {
            value: "-5".into(),
            aim: Aim::route(3, "POST /v2/relaties"),
        })
    );
    assert_eq!(got.expires_in, Some(json!("1e309")));
    assert_eq!(
        got.oversized.as_ref().map(|o| (o.bytes, o.aim.calls)),
        Some((1_048_577, 1))
    );
    assert_eq!(
        got.bad_id.as_ref().and_then(|b| b.aim.key.clone()),
        Some("abc".into())
    );
    assert_eq!(got.redirect.as_ref().map(|r| r.status), Some(302));
    let v: Value = http
        .get(format!("{}/_sandbox/faults", sb.base_url()))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(v["retry_after"]["calls"], 3);
    assert_eq!(v["redirect"]["location"], "http://elders.test/");
    // Off by default.
    let fresh = start(SandboxConfig::default()).await;
    assert_eq!(fresh.faults(), Faults::default());
    assert_eq!(fresh.faults().redirect, None);
}
