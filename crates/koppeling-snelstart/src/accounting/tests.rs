//! Unit tests of the mapping, ledger resolution, activation rules and wire parsing.

use koppeling_domain::booking::{BookingLine, RevenueLedger, SalesBooking, VatRow, VatRowKind};
use koppeling_domain::money::VatClass;
use koppeling_domain::relation::{RelatieCode, RelatieData};
use rust_decimal_macros::dec;
use serde_json::{Value, json};

use super::activation::{check_journal, check_ledger};
use super::mapping;
use super::resolve_ledger;
use crate::client::error::{ApiError, ErrorShape, find_error_code, parse_retry_after};
use crate::client::wire::{
    Amount, BtwSoort, Dagboek, Grootboek, Grootboekfunctie, Land, Relatie, Verkoopboeking,
    Verkoopfactuur,
};
use koppeling_domain::problem::Band;

fn relatie_data() -> RelatieData {
    RelatieData {
        code: RelatieCode::from_i32(1001).unwrap(),
        name: "Voorbeeld B.V.".into(),
        street: Some("Dorpsstraat 1".into()),
        postcode: Some("1234 AB".into()),
        city: Some("Alkmaar".into()),
        country: "NL".into(),
        phone: None,
        email: Some("facturen@voorbeeld.nl".into()),
        vat_number: Some("NL123456789B01".into()),
        coc_number: Some("12345678".into()),
        iban: None,
    }
}

fn booking() -> SalesBooking {
    koppeling_domain::testkit::sales_booking("2026-0042", 1001)
}

#[test]
fn a_new_relatie_sends_exactly_the_present_fields() {
    let body =
        serde_json::to_value(mapping::new_relatie(&relatie_data(), Some("land-nl"))).unwrap();
    assert_eq!(
        body,
        json!({
            "relatiesoort": ["Klant"],
            "relatiecode": 1001,
            "naam": "Voorbeeld B.V.",
            "vestigingsAdres": {
                "straat": "Dorpsstraat 1", "postcode": "1234 AB", "plaats": "Alkmaar",
                "land": { "id": "land-nl" }
            },
            "email": "facturen@voorbeeld.nl",
            "btwNummer": "NL123456789B01",
            "kvkNummer": "12345678"
        })
    );
}

#[test]
fn a_relatie_without_address_sends_no_vestigingsadres() {
    // REL-0060: a land alone would be a partial address.
    let mut data = relatie_data();
    data.street = None;
    data.postcode = None;
    data.city = None;
    let body = serde_json::to_value(mapping::new_relatie(&data, None)).unwrap();
    assert!(body.get("vestigingsAdres").is_none());
}

#[test]
fn an_update_keeps_what_we_do_not_manage() {
    let current = json!({
        "id": "r-1", "uri": "/relaties/r-1", "relatiesoort": ["Klant"], "relatiecode": 1001,
        "naam": "Oud", "fax": "012-345", "memo": "belangrijk", "krediettermijn": 30,
        "vestigingsAdres": { "contactpersoon": "Jan", "straat": "Oude weg 1", "postcode": "1111 AA",
            "plaats": "Hoorn", "land": { "id": "land-be", "uri": "/landen/land-be" } },
        "telefoon": "0201234567",
        "correspondentieAdres": null
    });
    let Value::Object(current) = current else {
        unreachable!()
    };
    let merged = mapping::merged_relatie(current, "r-1", &relatie_data(), Some("land-nl"));
    let merged = Value::Object(merged);
    assert_eq!(merged["naam"], "Voorbeeld B.V.");
    assert_eq!(merged["memo"], "belangrijk");
    assert_eq!(merged["krediettermijn"], 30);
    assert_eq!(
        merged["telefoon"], "0201234567",
        "absent phone keeps theirs"
    );
    assert_eq!(merged["vestigingsAdres"]["contactpersoon"], "Jan");
    assert_eq!(merged["vestigingsAdres"]["straat"], "Dorpsstraat 1");
    assert_eq!(
        merged["vestigingsAdres"]["land"],
        json!({ "id": "land-nl" })
    );
    assert!(
        merged.get("fax").is_none(),
        "fax is not in RelatieWriteModel"
    );
    assert_eq!(merged["id"], "r-1");
}

#[test]
fn a_booking_is_sent_with_exact_two_decimal_numbers_and_string_enums() {
    let body = mapping::verkoopboeking(&booking(), "klant-1", &["g-8000".into(), "g-8010".into()]);
    let text = serde_json::to_string(&body).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"factuurnummer":"2026-0042","factuurdatum":"2026-05-13T00:00:00","klant":{"id":"klant-1"},"#,
            r#""omschrijving":"Factuur 2026-0042","factuurbedrag":175.50,"betalingstermijn":14,"#,
            r#""boekingsregels":[{"omschrijving":"Diensten","grootboek":{"id":"g-8000"},"bedrag":100.00,"btwSoort":"Hoog"},"#,
            r#"{"omschrijving":"Boeken","grootboek":{"id":"g-8010"},"bedrag":50.00,"btwSoort":"Laag"}],"#,
            r#""btw":[{"btwSoort":"VerkopenHoog","btwBedrag":21.00},{"btwSoort":"VerkopenLaag","btwBedrag":4.50}]}"#
        )
    );
}

#[test]
fn reverse_charge_and_credit_notes_map_as_the_product_says() {
    let mut b = booking();
    b.lines = vec![BookingLine {
        description: "Export".into(),
        amount: dec!(-1234.5),
        class: VatClass::ReverseCharge,
        ledger: RevenueLedger {
            function: 10,
            number: Some(8020),
        },
    }];
    b.vat_rows = vec![VatRow {
        kind: VatRowKind::ReverseCharge,
        amount: dec!(0.00),
    }];
    b.total = dec!(-1234.50);
    let body = serde_json::to_string(&mapping::verkoopboeking(&b, "k", &["g".into()])).unwrap();
    assert!(
        body.contains(r#""bedrag":-1234.50,"btwSoort":"Geen""#),
        "{body}"
    );
    assert!(
        body.contains(r#""btw":[{"btwSoort":"VerkopenVerlegd","btwBedrag":0.00}]"#),
        "{body}"
    );
    assert!(body.contains(r#""factuurbedrag":-1234.50"#), "{body}");
}

#[test]
fn amounts_are_never_rounded_on_the_wire() {
    assert_eq!(Amount(dec!(12.5)).wire_text(), "12.50");
    assert_eq!(Amount(dec!(5505.8000)).wire_text(), "5505.80");
    assert_eq!(Amount(dec!(0)).wire_text(), "0.00");
    assert_eq!(Amount(dec!(1.005)).wire_text(), "1.005");
    assert_eq!(Amount(dec!(-3)).wire_text(), "-3.00");
}

#[test]
fn the_oss_example_answer_is_read_exactly() {
    // Shape and amounts of README §7.2 / the OSS page (S8), with `relatie` instead of `klant`.
    let answer = r#"{
        "modifiedOn": "2021-07-29T10:11:12.13",
        "boekstuk": "100008", "gewijzigdDoorAccountant": false, "markering": false,
        "factuurdatum": "2021-07-29T00:00:00", "factuurnummer": "100008",
        "relatie": { "id": "5830cec3-8929-4703-80b4-bd695402a7b0", "uri": "/relaties/5830cec3-8929-4703-80b4-bd695402a7b0" },
        "omschrijving": null, "factuurbedrag": 5505.8000, "betalingstermijn": 14,
        "eenmaligeIncassoMachtiging": null, "doorlopendeIncassoMachtiging": null,
        "boekingsregels": [ { "omschrijving": "Omzet", "grootboek": { "id": "5ef514fe-0000-0000-0000-000000000000", "uri": "/grootboeken/5ef514fe-0000-0000-0000-000000000000" },
            "kostenplaats": null, "bedrag": 4588.1700, "btwSoort": "Hoog" },
            { "omschrijving": null, "bedrag": "12.3456", "btwSoort": 1 } ],
        "btw": [ { "btwSoort": "VerkopenHoog", "btwBedrag": 917.6300 } ],
        "documents": [],
        "someFutureField": { "x": 1 },
        "id": "9a2b9f0e-0000-0000-0000-000000000000", "uri": "/verkoopboekingen/9a2b9f0e-0000-0000-0000-000000000000"
    }"#;
    let boeking: Verkoopboeking = serde_json::from_str(answer).unwrap();
    assert_eq!(boeking.factuurbedrag, Some(Amount(dec!(5505.8000))));
    assert_eq!(
        boeking.klant_ref().and_then(|r| r.id.as_deref()),
        Some("5830cec3-8929-4703-80b4-bd695402a7b0")
    );
    let regels = boeking.boekingsregels.unwrap();
    assert_eq!(regels[0].bedrag, Some(Amount(dec!(4588.17))));
    assert_eq!(regels[0].btw_soort, Some(BtwSoort::Hoog));
    assert_eq!(regels[1].bedrag, Some(Amount(dec!(12.3456))));
    assert_eq!(regels[1].btw_soort, Some(BtwSoort::Laag), "numeric enum");
    assert!(regels[1].grootboek.is_none());
    assert_eq!(
        boeking.btw.unwrap()[0].btw_bedrag,
        Some(Amount(dec!(917.63)))
    );
}

#[test]
fn reference_data_is_read_leniently() {
    let g: Vec<Grootboek> = serde_json::from_str(
        r#"[{"nummer":8000,"grootboekfunctie":"VerkopenOmzetHoog","nonactief":false,"btwSoort":["Hoog"],"id":"a","rgsCode":[{"versie":"3.5","rgsCode":"WOmzNopOlh"}]},
            {"nummer":8010,"grootboekfunctie":11,"nonactief":null,"id":"b"},
            {"nummer":9000,"grootboekfunctie":"SomethingNew","id":"c"},
            {"nummer":null}]"#,
    )
    .unwrap();
    assert_eq!(
        g[0].grootboekfunctie,
        Some(Grootboekfunctie::VerkopenOmzetHoog)
    );
    assert_eq!(
        g[1].grootboekfunctie,
        Some(Grootboekfunctie::VerkopenOmzetLaag)
    );
    assert!(g[1].is_active());
    assert_eq!(g[2].grootboekfunctie, Some(Grootboekfunctie::Unknown));
    let landen: Vec<Land> = serde_json::from_str(
        r#"[{"naam":"Nederland","landcode":"NL","landcodeISO":"NLD","id":"nl"},
            {"naam":"België","landcode":"BEL","landcodeISO":"be","id":"be"},
            {"naam":"?","id":"x"}]"#,
    )
    .unwrap();
    assert_eq!(landen[0].iso2().as_deref(), Some("NL"));
    assert_eq!(
        landen[1].iso2().as_deref(),
        Some("BE"),
        "ISO-2 in either field"
    );
    assert_eq!(landen[2].iso2(), None);
    let facturen: Vec<Verkoopfactuur> = serde_json::from_str(
        r#"[{"verkoopBoeking":{"id":"vb"},"factuurnummer":"2026-0042","factuurBedrag":175.5000,"openstaandSaldo":175.50,
             "factuurDatum":"2026-05-13T00:00:00","vervalDatum":"2026-05-27T00:00:00","relatie":{"id":"k"},"verkoopOrders":[]}]"#,
    )
    .unwrap();
    assert_eq!(facturen[0].factuur_bedrag, Some(Amount(dec!(175.50))));
    let relaties: Vec<Relatie> = serde_json::from_str(
        r#"[{"relatiesoort":["Klant","Leverancier"],"relatiecode":7,"nonactief":true,"id":"r","fax":null,"extraVeldenKlant":[]}]"#,
    )
    .unwrap();
    assert!(relaties[0].is_klant());
}

fn ledger(nummer: i32, function: Grootboekfunctie, active: bool, id: &str) -> Grootboek {
    serde_json::from_value(json!({
        "nummer": nummer, "grootboekfunctie": function.as_str(), "nonactief": !active, "id": id
    }))
    .unwrap()
}

fn ledgers() -> Vec<Grootboek> {
    vec![
        ledger(8100, Grootboekfunctie::VerkopenOmzetHoog, true, "g-8100"),
        ledger(8000, Grootboekfunctie::VerkopenOmzetHoog, true, "g-8000"),
        ledger(7990, Grootboekfunctie::VerkopenOmzetHoog, false, "g-7990"),
        ledger(8010, Grootboekfunctie::VerkopenOmzetLaag, true, "g-8010"),
        ledger(
            8020,
            Grootboekfunctie::VerkopenOmzetOnbelastVerlegd,
            false,
            "g-8020",
        ),
        ledger(1300, Grootboekfunctie::DagboekVerkoop, true, "g-1300"),
    ]
}

#[test]
fn the_lowest_numbered_active_ledger_with_the_function_is_used() {
    let l = ledgers();
    let high = RevenueLedger {
        function: 12,
        number: None,
    };
    assert_eq!(resolve_ledger(&l, high).unwrap(), "g-8000");
    let configured = RevenueLedger {
        function: 12,
        number: Some(8100),
    };
    assert_eq!(resolve_ledger(&l, configured).unwrap(), "g-8100");
    let zero = RevenueLedger {
        function: 10,
        number: None,
    };
    assert!(
        resolve_ledger(&l, zero)
            .unwrap_err()
            .contains("no active revenue ledger")
    );
    let missing = RevenueLedger {
        function: 12,
        number: Some(8999),
    };
    assert!(resolve_ledger(&l, missing).unwrap_err().contains("8999"));
    let inactive = RevenueLedger {
        function: 12,
        number: Some(7990),
    };
    assert!(
        resolve_ledger(&l, inactive)
            .unwrap_err()
            .contains("inactive")
    );
}

#[test]
fn activation_names_the_ledger_and_the_fix() {
    let l = ledgers();
    assert!(check_ledger(&l, Band::High, 12, None).is_none());
    assert!(check_ledger(&l, Band::Low, 11, Some(8010)).is_none());
    let p = check_ledger(&l, Band::Zero, 10, None).unwrap();
    assert_eq!(
        (p.code(), p.field.as_str()),
        ("ledger_inactive", "vat_codes.zero")
    );
    assert!(p.dutch().contains("8020"), "{}", p.dutch());
    let p = check_ledger(&l, Band::High, 12, Some(4242)).unwrap();
    assert_eq!(
        (p.code(), p.field.as_str()),
        ("ledger_missing", "revenue_ledgers.high")
    );
    assert!(p.dutch().contains("4242") && p.dutch().contains("Instellingen"));
    assert!(p.message().contains("4242"), "{}", p.message());
    let p = check_ledger(&l, Band::High, 12, Some(7990)).unwrap();
    assert_eq!(p.code(), "ledger_inactive");
    let p = check_ledger(&l, Band::Low, 11, Some(8000)).unwrap();
    assert_eq!(p.code(), "ledger_wrong_function");
    let none: Vec<Grootboek> = Vec::new();
    let p = check_ledger(&none, Band::High, 12, None).unwrap();
    assert_eq!(p.code(), "ledger_missing");
    assert!(p.message().contains("12"));
}

#[test]
fn activation_checks_the_sales_journal() {
    let dagboeken: Vec<Dagboek> = serde_json::from_str(
        r#"[{"nummer":1300,"soort":"Verkoop","omschrijving":"Debiteuren","id":"d1"},
            {"nummer":1100,"soort":"Bank","id":"d2"},
            {"nummer":1310,"soort":"Verkoop","nonactief":true,"id":"d3"}]"#,
    )
    .unwrap();
    assert!(check_journal(&dagboeken, 1300).is_none());
    assert_eq!(
        check_journal(&dagboeken, 1100).unwrap().code(),
        "journal_not_sales"
    );
    assert_eq!(
        check_journal(&dagboeken, 1310).unwrap().code(),
        "journal_inactive"
    );
    let p = check_journal(&dagboeken, 1400).unwrap();
    assert_eq!(
        (p.code(), p.field.as_str()),
        ("journal_missing", "sales_journal_code")
    );
    assert!(p.message().contains("1400") && p.dutch().contains("1400"));
}

#[test]
fn every_error_body_shape_is_understood() {
    let business = ApiError::parse(
        400,
        None,
        br#"[ { "errorCode": "BOE-0021", "message": "Het factuurnummer bestaat al", "details": null } ]"#,
    );
    assert_eq!(business.shape, ErrorShape::Business);
    assert_eq!(business.code.as_deref(), Some("BOE-0021"));
    assert_eq!(business.message, "Het factuurnummer bestaat al");

    let model = ApiError::parse(
        400,
        None,
        br#"{"message":"The request is invalid.","modelState":{"model.factuurbedrag":["Could not convert string to decimal: abc."]}}"#,
    );
    assert_eq!(model.shape, ErrorShape::ModelState);
    assert!(
        model.message.contains("factuurbedrag: Could not convert"),
        "{}",
        model.message
    );

    let framework = ApiError::parse(
        400,
        None,
        br#"{"Message":"Could not find a property named 'X' on type 'SnelStart.B2B.Api.V2.Models.Relaties.RelatieModel'."}"#,
    );
    assert_eq!(framework.shape, ErrorShape::Framework);
    assert!(
        framework
            .message
            .starts_with("Could not find a property named 'X'")
    );
    assert_eq!(framework.code, None);

    let gateway = ApiError::parse(
        401,
        None,
        br#"{ "statusCode": 401, "message": "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API." }"#,
    );
    assert_eq!(gateway.shape, ErrorShape::SubscriptionKey);
    assert!(gateway.is_subscription_key_refused());
    let bearer = ApiError::parse(
        401,
        None,
        br#"{"Message":"Authorization has been denied for this request."}"#,
    );
    assert!(!bearer.is_subscription_key_refused());

    let limited = ApiError::parse(
        429,
        None,
        br#"{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in 42 seconds." }"#,
    );
    assert_eq!(
        limited.retry_after,
        Some(std::time::Duration::from_secs(42))
    );
    let limited = ApiError::parse(429, Some("7"), b"");
    assert_eq!(limited.retry_after, Some(std::time::Duration::from_secs(7)));
    assert_eq!(limited.shape, ErrorShape::Empty);
    assert!(limited.message.contains("429"));

    let oauth = ApiError::parse(
        400,
        None,
        br#"{"error":"GrantType clientkey was found. Parameter clientkey does not contain a valid value"}"#,
    );
    assert_eq!(oauth.shape, ErrorShape::OAuth);
    assert!(oauth.message.starts_with("GrantType clientkey"));

    let empty = ApiError::parse(503, None, b"  ");
    assert_eq!(empty.shape, ErrorShape::Empty);
    assert!(empty.message.contains("503 Service Unavailable"));

    let html = ApiError::parse(502, None, b"<html>Bad gateway REL-0005x</html>");
    assert_eq!(html.shape, ErrorShape::Other);
    assert_eq!(html.code, None, "REL-0005x is not a code");

    let single = ApiError::parse(
        400,
        None,
        br#"{"errorCode":"REL-0008","message":"Relatiecode reeds in gebruik"}"#,
    );
    assert_eq!(single.code.as_deref(), Some("REL-0008"));

    let coded_text = ApiError::parse(
        400,
        None,
        br#"{"Message":"ALG-0104 Ongeldig OData filter"}"#,
    );
    assert_eq!(coded_text.code.as_deref(), Some("ALG-0104"));
}

#[test]
fn codes_and_retry_after_are_found() {
    assert_eq!(
        find_error_code("x BOE-0039: niet in balans").as_deref(),
        Some("BOE-0039")
    );
    assert_eq!(find_error_code("ABOE-0039"), None);
    assert_eq!(find_error_code("BOE-039"), None);
    assert_eq!(
        parse_retry_after(" 12 "),
        Some(std::time::Duration::from_secs(12))
    );
    assert_eq!(
        parse_retry_after("1.5"),
        Some(std::time::Duration::from_secs(2))
    );
    // An HTTP-date in the past means "now"; garbage is ignored.
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(std::time::Duration::ZERO)
    );
    assert_eq!(parse_retry_after("morgen"), None);
}
