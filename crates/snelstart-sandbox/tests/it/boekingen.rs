//! Verkoopboekingen: booking, the derived verkoopfactuur, BOE-* rules, lenient input.

use serde_json::{Value, json};
use snelstart_sandbox::SandboxConfig;

use crate::helpers::{Api, codes, start};

struct Setup {
    api: Api,
    klant: String,
    hoog: String,
    laag: String,
    geen: String,
}

async fn setup(sb: &snelstart_sandbox::SandboxHandle, user: &str) -> Setup {
    let api = Api::open(sb, user).await;
    let klant = api.klant(1001).await;
    let hoog = api.ledger(8000).await;
    let laag = api.ledger(8010).await;
    let geen = api.ledger(8020).await;
    Setup {
        api,
        klant,
        hoog,
        laag,
        geen,
    }
}

fn invoice(s: &Setup, nummer: &str) -> Value {
    // Raw text, so the amounts keep their two decimals (json! would make them f64).
    let text = format!(
        r#"{{
        "factuurnummer": "{nummer}",
        "factuurdatum": "2026-05-13T00:00:00",
        "klant": {{ "id": "{klant}" }},
        "omschrijving": "Factuur {nummer}",
        "factuurbedrag": 175.50,
        "betalingstermijn": 14,
        "boekingsregels": [
            {{ "omschrijving": "Diensten", "grootboek": {{ "id": "{hoog}" }}, "bedrag": 100.00, "btwSoort": "Hoog" }},
            {{ "omschrijving": "Boeken", "grootboek": {{ "id": "{laag}" }}, "bedrag": 50.00, "btwSoort": "Laag" }}
        ],
        "btw": [
            {{ "btwSoort": "VerkopenHoog", "btwBedrag": 21.00 }},
            {{ "btwSoort": "VerkopenLaag", "btwBedrag": 4.50 }}
        ]
    }}"#,
        klant = s.klant,
        hoog = s.hoog,
        laag = s.laag,
    );
    serde_json::from_str(&text).expect("invoice json")
}

#[tokio::test]
async fn booking_derives_a_verkoopfactuur() {
    let sb = start(SandboxConfig::default()).await;
    let s = setup(&sb, "boeken").await;
    let (st, v) = s
        .api
        .post("/verkoopboekingen", &invoice(&s, "2026-0042"))
        .await;
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().expect("id").to_owned();
    assert_eq!(v["uri"], format!("/verkoopboekingen/{id}"));
    assert_eq!(v["factuurbedrag"].to_string(), "175.50");
    assert_eq!(v["boekingsregels"][0]["bedrag"].to_string(), "100.00");
    assert_eq!(v["boekingsregels"][0]["grootboek"]["id"], s.hoog.as_str());
    assert_eq!(v["btw"][1]["btwSoort"], "VerkopenLaag");
    assert_eq!(v["klant"]["uri"], format!("/relaties/{}", s.klant));
    assert_eq!(v["factuurdatum"], "2026-05-13T00:00:00");
    assert_eq!(v["markering"], false);
    assert_eq!(v["documents"], json!([]));

    let (st, f) = s
        .api
        .filter("/verkoopfacturen", "Factuurnummer eq '2026-0042'")
        .await;
    assert_eq!(st, 200);
    assert_eq!(f.as_array().map(Vec::len), Some(1));
    let f = &f[0];
    assert_eq!(f["verkoopBoeking"]["id"], id.as_str());
    assert_eq!(
        f["verkoopBoeking"]["uri"],
        format!("/verkoopboekingen/{id}")
    );
    assert_eq!(f["factuurBedrag"].to_string(), "175.50");
    assert_eq!(f["openstaandSaldo"].to_string(), "175.50");
    assert_eq!(f["factuurDatum"], "2026-05-13T00:00:00");
    assert_eq!(f["vervalDatum"], "2026-05-27T00:00:00");
    assert_eq!(f["relatie"]["id"], s.klant.as_str());
    assert_eq!(f["verkoopOrders"], json!([]));
    let fid = f["id"].as_str().expect("factuur id");
    assert_ne!(fid, id);
    let (st, f2) = s.api.get(&format!("/verkoopfacturen/{fid}")).await;
    assert_eq!((st, &f2), (200, f));

    let (st, b) = s.api.get(&format!("/verkoopboekingen/{id}")).await;
    assert_eq!((st, b["factuurnummer"].clone()), (200, json!("2026-0042")));
    let (st, list) = s
        .api
        .get(&format!("/relaties/{}/verkoopboekingen", s.klant))
        .await;
    assert_eq!((st, list.as_array().map(Vec::len)), (200, Some(1)));

    // Replay: BOE-0021.
    let (st, v) = s
        .api
        .post("/verkoopboekingen", &invoice(&s, "2026-0042"))
        .await;
    assert_eq!(st, 400);
    assert_eq!(
        v,
        json!([{ "errorCode": "BOE-0021", "message": "Het factuurnummer bestaat al", "details": null }])
    );

    // PUT moves the factuur along; DELETE removes both.
    let mut changed = invoice(&s, "2026-0042");
    changed["id"] = json!(id);
    changed["betalingstermijn"] = json!(30);
    let (st, v) = s
        .api
        .put(&format!("/verkoopboekingen/{id}"), &changed)
        .await;
    assert_eq!(st, 200, "{v}");
    let (_, f) = s.api.get(&format!("/verkoopfacturen/{fid}")).await;
    assert_eq!(f["vervalDatum"], "2026-06-12T00:00:00");
    assert_eq!(
        s.api.delete(&format!("/verkoopboekingen/{id}")).await,
        (200, json!({}))
    );
    assert_eq!(s.api.get(&format!("/verkoopfacturen/{fid}")).await.0, 404);
    let (st, v) = s
        .api
        .post("/verkoopboekingen", &invoice(&s, "2026-0042"))
        .await;
    assert_eq!(st, 201, "{v}");
    let snap = sb.state(&s.api.key).expect("state");
    assert_eq!(snap.verkoopboekingen.len(), 1);
    assert_eq!(snap.verkoopfacturen.len(), 1);
}

#[tokio::test]
async fn business_rules() {
    let sb = start(SandboxConfig::default()).await;
    let s = setup(&sb, "boeregels").await;
    let leverancier = {
        let (st, v) = s
            .api
            .post(
                "/relaties",
                &json!({ "relatiesoort": ["Leverancier"], "naam": "Lev", "relatiecode": 5000 }),
            )
            .await;
        assert_eq!(st, 201);
        v["id"].as_str().expect("id").to_owned()
    };
    let base = invoice(&s, "R-1");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        v
    };
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            with(&|v| v["factuurbedrag"] = json!(175.49)),
            vec!["BOE-0039"],
        ),
        (
            with(&|v| {
                v["boekingsregels"][1]["bedrag"] = json!(0);
                v["factuurbedrag"] = json!(125.50);
            }),
            vec!["BOE-0028"],
        ),
        (
            with(&|v| v["boekingsregels"][0]["btwSoort"] = json!("Laag")),
            vec!["BOE-0082"],
        ),
        (
            with(&|v| {
                v["btw"] = json!([{ "btwSoort": "VerkopenHoog", "btwBedrag": 21.00 }, { "btwSoort": "VerkopenVerlegd", "btwBedrag": 4.50 }]);
            }),
            vec!["BOE-0062"],
        ),
        (
            with(&|v| v["boekingsregels"] = json!([])),
            vec!["BOE-0023", "BOE-0039"],
        ),
        (
            with(&|v| v["factuurnummer"] = json!("X".repeat(26))),
            vec!["BOE-0058"],
        ),
        (
            with(&|v| {
                v.as_object_mut().map(|m| m.remove("factuurnummer"));
            }),
            vec!["BOE-0058"],
        ),
        (
            with(&|v| v["klant"] = json!({ "id": leverancier })),
            vec!["BOE-0060"],
        ),
        (
            with(&|v| v["klant"] = json!({ "id": "5830cec3-8929-4703-80b4-bd695402a7b0" })),
            vec!["REL-0005"],
        ),
        (
            with(&|v| v["id"] = json!("5830cec3-8929-4703-80b4-bd695402a7b0")),
            vec!["ALG-0100"],
        ),
        (
            with(&|v| v["omschrijving"] = json!("x".repeat(251))),
            vec!["BOE-0071"],
        ),
        (
            with(&|v| {
                v["boekingsregels"][0]["grootboek"] =
                    json!({ "id": "5830cec3-8929-4703-80b4-bd695402a7b0" })
            }),
            vec!["BOE-0037"],
        ),
        (
            with(&|v| v["factuurdatum"] = json!("13-05-2026")),
            vec!["BOE-0070"],
        ),
        (
            with(&|v| {
                v["factuurbedrag"] = json!(1);
                v["boekingsregels"][0]["btwSoort"] = json!("Laag");
            }),
            vec!["BOE-0082", "BOE-0039"],
        ),
    ];
    for (body, expected) in cases {
        let (st, v) = s.api.post("/verkoopboekingen", &body).await;
        assert_eq!(st, 400, "{body} → {v}");
        assert_eq!(codes(&v), expected, "{body} → {v}");
        assert_eq!(v[0]["details"], Value::Null);
    }
    // Reverse charge alone is fine: regel on 8020 (Geen) + VerkopenVerlegd 0.
    let verlegd = json!({
        "factuurnummer": "R-2", "factuurdatum": "2026-05-13", "klant": { "id": s.klant },
        "factuurbedrag": "100.00",
        "boekingsregels": [{ "grootboek": { "id": s.geen }, "bedrag": "100.00", "btwSoort": "Geen" }],
        "btw": [{ "btwSoort": "VerkopenVerlegd", "btwBedrag": 0 }]
    });
    let (st, v) = s.api.post("/verkoopboekingen", &verlegd).await;
    assert_eq!(st, 201, "{v}");
    // Nonactief ledger and relatie, removed ledger.
    sb.set_ledger_active(&s.api.key, 8000, false);
    let (st, v) = s.api.post("/verkoopboekingen", &invoice(&s, "R-3")).await;
    assert_eq!((st, codes(&v)), (400, vec!["BOE-0008".to_owned()]));
    sb.set_ledger_active(&s.api.key, 8000, true);
    sb.remove_ledger(&s.api.key, 8010);
    let (st, v) = s.api.post("/verkoopboekingen", &invoice(&s, "R-3")).await;
    assert_eq!((st, codes(&v)), (400, vec!["BOE-0037".to_owned()]));
    let (st, v) = s
        .api
        .put(
            &format!("/relaties/{}", s.klant),
            &json!({ "relatiesoort": ["Klant"], "naam": "Klant", "nonactief": true }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let mut only_hoog = invoice(&s, "R-4");
    only_hoog["boekingsregels"] =
        json!([{ "grootboek": { "id": s.hoog }, "bedrag": 100, "btwSoort": "Hoog" }]);
    only_hoog["btw"] = json!([{ "btwSoort": "VerkopenHoog", "btwBedrag": 21 }]);
    only_hoog["factuurbedrag"] = json!(121);
    let (st, v) = s.api.post("/verkoopboekingen", &only_hoog).await;
    assert_eq!((st, codes(&v)), (400, vec!["BOE-0054".to_owned()]));
}

#[tokio::test]
async fn lenient_input() {
    let sb = start(SandboxConfig::default()).await;
    let s = setup(&sb, "boelenient").await;
    // PascalCase (official C# client), numeric enums, money as strings, iwd's factuurDatum.
    let body = json!({
        "Id": "00000000-0000-0000-0000-000000000000",
        "Factuurnummer": "L-1",
        "FactuurDatum": "2026-05-13 00:00:00",
        "Klant": { "Id": s.klant },
        "FactuurBedrag": "121.00",
        "Betalingstermijn": "14",
        "VervalDatum": "2026-05-27",
        "Boekingsregels": [{ "Grootboek": { "Id": s.hoog }, "Bedrag": "100.00", "BtwSoort": 2 }],
        "Btw": [{ "BtwSoort": 2, "BtwBedrag": "21.00" }]
    });
    let resp = s
        .api
        .req(reqwest::Method::POST, "/verkoopboekingen")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 201);
    let text = resp.text().await.expect("text");
    assert!(text.contains("\"factuurbedrag\":121.00"), "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["boekingsregels"][0]["btwSoort"], "Hoog");
    assert_eq!(v["btw"][0]["btwSoort"], "VerkopenHoog");
    assert_eq!(v["betalingstermijn"], 14);
    // A missing btwSoort on a single-soort ledger is filled in.
    let body = json!({
        "factuurnummer": "L-2", "klant": { "id": s.klant }, "factuurbedrag": 10,
        "boekingsregels": [{ "grootboek": { "id": s.laag }, "bedrag": 10 }]
    });
    let (st, v) = s.api.post("/verkoopboekingen", &body).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["boekingsregels"][0]["btwSoort"], "Laag");
    // Wrong JSON types give the ASP.NET model-state shape.
    let (st, v) = s
        .api
        .post(
            "/verkoopboekingen",
            &json!({ "factuurnummer": "L-3", "factuurbedrag": "veel" }),
        )
        .await;
    assert_eq!(st, 400);
    assert_eq!(v["message"], "The request is invalid.");
}
