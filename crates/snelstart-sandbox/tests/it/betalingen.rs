//! Payments and the accountant's changes (product §8.2): bank and cash bookings settle
//! verkoopfacturen, `openstaandSaldo` follows, every change moves `modifiedOn`, a paid booking
//! cannot be deleted (BOE-0083), and keys can lack the payment scopes.

use serde_json::{Value, json};
use snelstart_sandbox::{PaymentKind, SandboxConfig};

use crate::helpers::{Api, codes, start};

/// A booked invoice of 121.00 (100 + 21 % btw); returns (verkoopboeking id, verkoopfactuur).
async fn booked(api: &Api, nummer: &str) -> (String, Value) {
    let klant = api.klant(1001).await;
    let hoog = api.ledger(8000).await;
    let body: Value = serde_json::from_str(&format!(
        r#"{{"factuurnummer": "{nummer}", "factuurdatum": "2026-11-02", "klant": {{"id": "{klant}"}},
            "factuurbedrag": 121.00, "betalingstermijn": 14,
            "boekingsregels": [{{"grootboek": {{"id": "{hoog}"}}, "bedrag": 100.00, "btwSoort": "Hoog"}}],
            "btw": [{{"btwSoort": "VerkopenHoog", "btwBedrag": 21.00}}]}}"#
    ))
    .unwrap();
    let (s, b) = api.post("/verkoopboekingen", &body).await;
    assert_eq!(s, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_owned();
    (id, factuur(api, nummer).await)
}

/// A money value as SnelStart writes it, with two decimals.
fn amount(v: &Value) -> String {
    let text = v.to_string();
    let (units, cents) = text.split_once('.').unwrap_or((&text, ""));
    format!("{units}.{:0<2}", cents)
}

async fn factuur(api: &Api, nummer: &str) -> Value {
    let (s, v) = api
        .filter("/verkoopfacturen", &format!("Factuurnummer eq '{nummer}'"))
        .await;
    assert_eq!(s, 200, "{v}");
    v[0].clone()
}

async fn dagboek(api: &Api, soort: &str) -> String {
    let (_, v) = api.get("/dagboeken").await;
    v.as_array()
        .unwrap()
        .iter()
        .find(|d| d["soort"] == soort)
        .and_then(|d| d["id"].as_str())
        .unwrap()
        .to_owned()
}

fn payment(dagboek: &str, boeking: &str, amount: &str, datum: &str) -> Value {
    serde_json::from_str(&format!(
        r#"{{"datum": "{datum}", "dagboek": {{"id": "{dagboek}"}}, "bedragOntvangen": {amount}, "bedragUitgegeven": 0,
            "verkoopboekingBoekingsRegels": [{{"boekingId": {{"id": "{boeking}"}}, "credit": {amount}, "debet": 0}}]}}"#
    ))
    .unwrap()
}

#[tokio::test]
async fn a_bank_payment_lowers_the_outstanding_amount_and_moves_modified_on() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "betalen").await;
    let (boeking, before) = booked(&api, "2026-100").await;
    assert_eq!(amount(&before["openstaandSaldo"]), "121.00");
    let bank = dagboek(&api, "Bank").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let (s, paid) = api
        .post(
            "/bankboekingen",
            &payment(&bank, &boeking, "21.00", "2026-11-10"),
        )
        .await;
    assert_eq!(s, 201, "{paid}");
    assert_eq!(amount(&paid["bedragOntvangen"]), "21.00");
    assert_eq!(
        paid["verkoopboekingBoekingsRegels"][0]["boekingId"]["id"],
        json!(boeking)
    );
    let after = factuur(&api, "2026-100").await;
    assert_eq!(amount(&after["openstaandSaldo"]), "100.00", "partly paid");
    assert!(
        after["modifiedOn"].as_str() > before["modifiedOn"].as_str(),
        "{before} → {after}"
    );

    // The payment is found by the read-back's filters, and by id.
    let (s, list) = api
        .filter(
            "/bankboekingen",
            &format!(
                "ModifiedOn gt datetime'{}'",
                before["modifiedOn"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["datum"], "2026-11-10T00:00:00");
    let (s, _) = api
        .get(&format!("/bankboekingen/{}", paid["id"].as_str().unwrap()))
        .await;
    assert_eq!(s, 200);

    // A paid invoice cannot be deleted; the rest settles it by cash.
    let (s, body) = api.delete(&format!("/verkoopboekingen/{boeking}")).await;
    assert_eq!((s, codes(&body)), (400, vec!["BOE-0083".to_owned()]));
    let kas = dagboek(&api, "Kas").await;
    let (s, cash) = api
        .post(
            "/kasboekingen",
            &payment(&kas, &boeking, "100.00", "2026-11-12"),
        )
        .await;
    assert_eq!(s, 201, "{cash}");
    assert_eq!(
        amount(&factuur(&api, "2026-100").await["openstaandSaldo"]),
        "0.00"
    );
    let (s, list) = api
        .filter("/kasboekingen", "Datum ge datetime'2026-11-12T00:00:00'")
        .await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(1)));

    // Deleting a payment opens the invoice again.
    let (s, _) = api
        .delete(&format!("/kasboekingen/{}", cash["id"].as_str().unwrap()))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        amount(&factuur(&api, "2026-100").await["openstaandSaldo"]),
        "100.00"
    );
}

#[tokio::test]
async fn payments_are_validated_like_snelstart() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "ongeldig").await;
    let (boeking, _) = booked(&api, "2026-200").await;
    let bank = dagboek(&api, "Bank").await;
    let kas = dagboek(&api, "Kas").await;
    // Not in balance.
    let mut body = payment(&bank, &boeking, "21.00", "2026-11-10");
    body["bedragOntvangen"] = json!(20.0);
    let (s, v) = api.post("/bankboekingen", &body).await;
    assert_eq!((s, codes(&v)), (400, vec!["BOE-0039".to_owned()]));
    // A kas dagboek for a bank booking, an unknown verkoopboeking.
    let (s, v) = api
        .post(
            "/bankboekingen",
            &payment(&kas, &boeking, "1.00", "2026-11-10"),
        )
        .await;
    assert_eq!((s, codes(&v)), (400, vec!["BOE-0096".to_owned()]));
    let (s, v) = api
        .post(
            "/kasboekingen",
            &payment(
                &kas,
                "00000000-0000-0000-0000-000000000001",
                "1.00",
                "2026-11-10",
            ),
        )
        .await;
    assert_eq!((s, codes(&v)), (400, vec!["BOE-0001".to_owned()]));
    // Nothing was settled by the refused bookings.
    assert_eq!(
        amount(&factuur(&api, "2026-200").await["openstaandSaldo"]),
        "121.00"
    );
}

#[tokio::test]
async fn the_accountant_changes_a_booking_and_the_verkoopfactuur_follows() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "accountant").await;
    let (boeking, before) = booked(&api, "2026-300").await;
    sb.pay(&api.key, &boeking, "21.00", "2026-11-05").unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let changed = sb
        .accountant_edit(
            &api.key,
            &boeking,
            &json!({"FactuurBedrag": 242.00, "factuurdatum": "2026-11-03T00:00:00"}),
        )
        .expect("known booking");
    assert_eq!(changed["gewijzigdDoorAccountant"], json!(true));
    let (_, read) = api.get(&format!("/verkoopboekingen/{boeking}")).await;
    assert_eq!(read["gewijzigdDoorAccountant"], json!(true));
    assert_eq!(amount(&read["factuurbedrag"]), "242.00");
    let after = factuur(&api, "2026-300").await;
    assert_eq!(amount(&after["factuurBedrag"]), "242.00");
    assert_eq!(
        amount(&after["openstaandSaldo"]),
        "221.00",
        "what was paid stays paid"
    );
    assert_eq!(after["factuurDatum"], "2026-11-03T00:00:00");
    assert!(after["modifiedOn"].as_str() > before["modifiedOn"].as_str());
    assert!(
        sb.accountant_edit(&api.key, "00000000-0000-0000-0000-000000000009", &json!({}))
            .is_none()
    );
}

#[tokio::test]
async fn a_key_without_the_payment_scopes_gets_403_there_and_nowhere_else() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "scopes").await;
    let (boeking, _) = booked(&api, "2026-400").await;
    sb.set_scopes(
        &api.key,
        Some(&[
            "relaties:read",
            "relaties:write",
            "boekhouden:read",
            "boekhouden:write",
            "orders:read",
            "settings:read",
        ]),
    );
    let (s, _) = api.get("/bankboekingen").await;
    assert_eq!(s, 403);
    let (s, _) = api.get("/kasboekingen").await;
    assert_eq!(s, 403);
    let (s, _) = api.get(&format!("/verkoopboekingen/{boeking}")).await;
    assert_eq!(s, 200, "booking is not affected");
    let (s, _) = api.get("/verkoopfacturen").await;
    assert_eq!(s, 200);
    sb.set_scopes(&api.key, None);
    let (s, _) = api.get("/bankboekingen").await;
    assert_eq!(s, 200);
    // Also by the control endpoint, for other teams.
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/_sandbox/scopes", sb.base_url()))
        .json(&json!({"key": api.key, "scopes": ["boekhouden:read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (s, _) = api.get("/relaties").await;
    assert_eq!(s, 403);
    let (s, _) = api.get(&format!("/verkoopboekingen/{boeking}")).await;
    assert_eq!(s, 200);
    // And the payment helper books through the same rules.
    let (status, _) = sb
        .book_payment(&api.key, PaymentKind::Kas, &json!({"datum": "2026-11-01"}))
        .unwrap();
    assert_eq!(status, 400);
}
