//! `/grootboekmutaties` (product §8.3): derived from the verkoopboekingen (revenue, VAT and
//! debiteuren ledger per booking), with the same OData as the other collections, following
//! the booking through an accountant's edit and a DELETE.

use rust_decimal::Decimal;
use serde_json::{Value, json};
use snelstart_sandbox::SandboxConfig;

use crate::helpers::{Api, start};

fn dec(v: &Value) -> Decimal {
    v.to_string().trim_matches('"').parse().unwrap()
}

async fn book(api: &Api, klant: &str, nummer: &str, datum: &str) -> String {
    let hoog = api.ledger(8000).await;
    let laag = api.ledger(8010).await;
    let body = json!({
        "factuurnummer": nummer, "factuurdatum": datum, "klant": {"id": klant},
        "factuurbedrag": 131.90, "omschrijving": format!("Factuur {nummer}"),
        "boekingsregels": [
            {"grootboek": {"id": hoog}, "bedrag": 100.00, "btwSoort": "Hoog", "omschrijving": "Advies"},
            {"grootboek": {"id": laag}, "bedrag": 10.00, "btwSoort": "Laag"}],
        "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": 21.00},
                {"btwSoort": "VerkopenLaag", "btwBedrag": 0.90}]
    });
    let (s, b) = api.post("/verkoopboekingen", &body).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_booking_gives_its_revenue_vat_and_debiteuren_mutations() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "mutaties").await;
    let klant = api.klant(1001).await;
    let boeking = book(&api, &klant, "M-1", "2026-03-05").await;
    book(&api, &klant, "M-2", "2026-04-01").await;

    let (s, all) = api.get("/grootboekmutaties").await;
    assert_eq!(s, 200, "{all}");
    let all = all.as_array().unwrap().clone();
    assert_eq!(
        all.len(),
        10,
        "5 per booking: 2 revenue, 2 VAT, 1 debiteuren"
    );
    let m1: Vec<&Value> = all.iter().filter(|m| m["factuurNummer"] == "M-1").collect();
    assert_eq!(m1.len(), 5);
    let ledger = |m: &Value| m["grootboek"]["id"].as_str().unwrap().to_owned();
    assert_eq!(ledger(m1[0]), api.ledger(8000).await);
    assert_eq!(dec(&m1[0]["credit"]), Decimal::new(10000, 2));
    assert_eq!(dec(&m1[0]["saldo"]), Decimal::new(-10000, 2));
    assert_eq!(m1[0]["omschrijving"], "Advies");
    assert_eq!(ledger(m1[2]), api.ledger(1510).await);
    assert_eq!(dec(&m1[2]["credit"]), Decimal::new(2100, 2));
    assert_eq!(ledger(m1[3]), api.ledger(1520).await);
    assert_eq!(ledger(m1[4]), api.ledger(1300).await);
    assert_eq!(dec(&m1[4]["debet"]), Decimal::new(13190, 2));
    assert_eq!(m1[4]["relatiePublicIdentifier"]["id"], json!(klant));
    assert_eq!(m1[4]["datum"], "2026-03-05T00:00:00");
    for key in [
        "grootboek",
        "kostenplaats",
        "datum",
        "modifiedOn",
        "dagboek",
        "omschrijving",
        "debet",
        "credit",
        "saldo",
        "documents",
        "boekstuk",
        "factuurNummer",
        "relatiePublicIdentifier",
        "id",
        "uri",
    ] {
        assert!(m1[0].get(key).is_some(), "{key} missing in {}", m1[0]);
    }
    let saldo: Decimal = all.iter().map(|m| dec(&m["saldo"])).sum();
    assert_eq!(saldo, Decimal::ZERO);

    // OData: ledger, date functions, paging, and one by id.
    let hoog = api.ledger(8000).await;
    let (s, v) = api
        .filter(
            "/grootboekmutaties",
            &format!("Grootboek/Id eq guid'{hoog}' and Datum ge datetime'2026-03-01T00:00:00' and Datum le datetime'2026-03-31T00:00:00'"),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["factuurNummer"], "M-1");
    let (_, v) = api
        .filter(
            "/grootboekmutaties",
            "year(Datum) eq 2026 and month(Datum) eq 4",
        )
        .await;
    assert_eq!(v.as_array().unwrap().len(), 5);
    let (_, v) = api.get("/grootboekmutaties?$top=3&$skip=8").await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (s, v) = api.filter("/grootboekmutaties", "Onbekend eq 1").await;
    assert_eq!(s, 400, "{v}");
    let id = m1[0]["id"].as_str().unwrap();
    let (s, one) = api.get(&format!("/grootboekmutaties/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(&one, m1[0]);

    // The accountant's edit moves the mutations along; a DELETE removes them.
    let (s, _) = sb_edit(&sb, &boeking).await;
    assert_eq!(s, 200);
    let (_, v) = api
        .filter("/grootboekmutaties", "FactuurNummer eq 'M-1'")
        .await;
    assert_eq!(v[0]["datum"], "2026-05-02T00:00:00");
    let (s, _) = api.delete(&format!("/verkoopboekingen/{boeking}")).await;
    assert_eq!(s, 200);
    let (_, v) = api
        .filter("/grootboekmutaties", "FactuurNummer eq 'M-1'")
        .await;
    assert_eq!(v.as_array().unwrap().len(), 0);
}

async fn sb_edit(sb: &snelstart_sandbox::SandboxHandle, id: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/_sandbox/accountant/edit", sb.base_url()))
        .json(&json!({"key": crate::helpers::key_for("mutaties"), "id": id, "changes": {"factuurdatum": "2026-05-02"}}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}
