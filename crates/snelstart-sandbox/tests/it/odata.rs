//! OData on the collection endpoints, and the reference data.

use serde_json::{Value, json};
use snelstart_sandbox::SandboxConfig;

use crate::helpers::{Api, start};

fn len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn top_skip_and_limits() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "odata").await;
    for code in 1..=7 {
        api.klant(code).await;
    }
    let (_, all) = api.filter("/relaties", "Relatiecode gt 0").await;
    assert_eq!(len(&all), 7);
    let (_, page) = api
        .get("/relaties?$filter=Relatiecode%20gt%200&$skip=5&$top=5")
        .await;
    assert_eq!(len(&page), 2);
    assert_eq!(page[0]["relatiecode"], 6);
    let (s, v) = api.get("/relaties?$top=501").await;
    assert_eq!(s, 400);
    assert_eq!(
        v,
        json!({"Message": "The limit of '500' for Top query has been exceeded. The value from the incoming request is '501'."})
    );
    assert_eq!(api.get("/relaties?$top=500").await.0, 200);
    let (s, v) = api
        .get("/relaties?$orderby=Relatiecode%20desc&$top=1")
        .await;
    assert_eq!((s, v[0]["relatiecode"].clone()), (200, json!(7)));
}

#[tokio::test]
async fn unknown_property_and_bad_syntax() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "odatabad").await;
    let (s, v) = api.filter("/relaties", "Klantnummer eq 1").await;
    assert_eq!(s, 400);
    assert_eq!(
        v,
        json!({"Message": "Could not find a property named 'Klantnummer' on type 'SnelStart.B2B.Api.V2.Models.Relaties.RelatieModel'."})
    );
    let (s, v) = api.filter("/grootboeken", "Code eq 8000").await;
    assert_eq!(s, 400);
    assert!(
        v["Message"]
            .as_str()
            .is_some_and(|m| m.contains("GrootboekModel"))
    );
    let (s, v) = api.filter("/verkoopfacturen", "Factuurnummer eq").await;
    assert_eq!(s, 400);
    assert!(v["Message"].is_string());
}

#[tokio::test]
async fn reference_data() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "referentie").await;
    let (s, landen) = api.filter("/landen", "Landcode eq 'BE'").await;
    assert_eq!(s, 200);
    assert!(len(&landen) > 3, "filter must be ignored on /landen");
    let nl = landen
        .as_array()
        .and_then(|a| a.iter().find(|l| l["landcode"] == "NL"))
        .cloned()
        .expect("NL");
    assert_eq!(nl["landcodeISO"], "NLD");
    assert_eq!(nl["naam"], "Nederland");
    for code in ["BE", "DE", "FR", "GB", "US"] {
        assert!(
            landen
                .as_array()
                .is_some_and(|a| a.iter().any(|l| l["landcode"] == code))
        );
    }
    let id = nl["id"].as_str().expect("id");
    assert_eq!(api.get(&format!("/landen/{id}")).await, (200, nl.clone()));

    let (_, dagboeken) = api.filter("/dagboeken", "Nummer eq 1").await;
    let verkoop = dagboeken
        .as_array()
        .and_then(|a| a.iter().find(|d| d["soort"] == "Verkoop"))
        .expect("verkoopboek");
    assert_eq!(verkoop["nummer"], 1300);
    assert_eq!(verkoop["omschrijving"], "Debiteuren");

    let (_, g) = api.filter("/grootboeken", "Nummer eq 8000").await;
    assert_eq!(len(&g), 1);
    assert_eq!(g[0]["grootboekfunctie"], "VerkopenOmzetHoog");
    assert_eq!(g[0]["btwSoort"], json!(["Hoog"]));
    assert_eq!(g[0]["rekeningCode"], "WinstEnVerlies");
    let (_, g) = api
        .filter(
            "/grootboeken",
            "Grootboekfunctie eq 'VerkopenOmzetOnbelastVerlegd'",
        )
        .await;
    assert_eq!(g[0]["nummer"], 8020);
    let (_, g) = api
        .filter("/grootboeken", "BtwSoort/any(b:b eq 'Laag')")
        .await;
    let nummers: Vec<i64> = g
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["nummer"].as_i64()).collect())
        .unwrap_or_default();
    assert!(
        nummers.contains(&8010) && !nummers.contains(&8000),
        "{nummers:?}"
    );

    let (_, t) = api.get("/btwtarieven").await;
    let laag9 = t
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|r| r["btwSoort"] == "Laag" && r["datumVanaf"] == "2019-01-01T00:00:00")
        })
        .expect("laag 9");
    assert_eq!(laag9["btwPercentage"].to_string(), "9.00");
    let (_, c) = api.get("/companyInfo").await;
    assert!(c["administratieIdentifier"].is_string());
    assert!(
        c["administratieNaam"]
            .as_str()
            .is_some_and(|n| n.contains("referentie"))
    );
}
