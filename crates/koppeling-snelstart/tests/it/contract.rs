//! Contract test: every JSON body the client sends is checked against `openapi-v2.json` (properties, types, enums, maxLength).
//!
//! The bodies are the real bytes on the wire, recorded by a small stand-in server that also
//! answers the reads the adapter needs.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use koppeling_domain::booking::{BookingLine, RevenueLedger, VatRow, VatRowKind};
use koppeling_domain::money::VatClass;
use koppeling_domain::ports::Accounting;
use koppeling_snelstart::client::wire::{BtwRegelSoort, BtwSoort, DagboekSoort, Grootboekfunctie};
use koppeling_snelstart::{SnelStartAccounting, SnelStartConfig};
use rust_decimal_macros::dec;
use serde_json::{Value, json};

use crate::support::{booking, connection, koppelsleutel, relatie_data};

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/snelstart/openapi-v2.json"
);
const PREFIX: &str = "SnelStart.B2B.Api.V2.Models.";

fn spec() -> Value {
    let text = std::fs::read_to_string(SPEC).unwrap_or_else(|e| panic!("reading {SPEC}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn schema<'a>(spec: &'a Value, name: &str) -> &'a Value {
    let s = &spec["components"]["schemas"][format!("{PREFIX}{name}")];
    assert!(s.is_object(), "schema {name} not in the spec");
    s
}

fn resolve<'a>(spec: &'a Value, mut s: &'a Value) -> &'a Value {
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        s = &spec["components"]["schemas"][name];
    }
    s
}

fn is_datetime(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (b.len() == 19 || (b[19] == b'.' && digits(20..b.len())))
}

/// Checks `value` against `schema`; `nulls` allows null for properties (in a body that was
/// read back from SnelStart).
fn validate(
    spec: &Value,
    schema: &Value,
    value: &Value,
    path: &str,
    nulls: bool,
    errors: &mut Vec<String>,
) {
    let schema = resolve(spec, schema);
    if value.is_null() {
        if !nulls {
            errors.push(format!("{path}: null"));
        }
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{path}: {value} is not one of {options:?}"));
    }
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .or_else(|| schema.get("properties").map(|_| "object"));
    match kind {
        Some("object") => {
            let Some(obj) = value.as_object() else {
                errors.push(format!("{path}: expected an object, got {value}"));
                return;
            };
            let props = schema.get("properties").and_then(Value::as_object);
            for (k, v) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => validate(spec, s, v, &format!("{path}.{k}"), nulls, errors),
                    None => errors.push(format!("{path}.{k}: not declared in the schema")),
                }
            }
            for req in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let req = req.as_str().unwrap_or_default();
                if !obj.contains_key(req) {
                    errors.push(format!("{path}.{req}: required but missing"));
                }
            }
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                errors.push(format!("{path}: expected an array, got {value}"));
                return;
            };
            for (i, item) in items.iter().enumerate() {
                validate(
                    spec,
                    &schema["items"],
                    item,
                    &format!("{path}[{i}]"),
                    nulls,
                    errors,
                );
            }
        }
        Some("string") => {
            let Some(text) = value.as_str() else {
                errors.push(format!("{path}: expected a string, got {value}"));
                return;
            };
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && text.chars().count() as u64 > max
            {
                errors.push(format!("{path}: longer than {max}"));
            }
            match schema.get("format").and_then(Value::as_str) {
                Some("date-time") if !is_datetime(text) => {
                    errors.push(format!("{path}: {text:?} is not yyyy-MM-ddTHH:mm:ss"));
                }
                Some("uuid") if text.len() != 36 => {
                    errors.push(format!("{path}: {text:?} is not a uuid"));
                }
                _ => {}
            }
        }
        Some("integer") => match value.as_i64() {
            None => errors.push(format!("{path}: expected an integer, got {value}")),
            Some(n) => {
                if schema.get("format").and_then(Value::as_str) == Some("int32")
                    && i32::try_from(n).is_err()
                {
                    errors.push(format!("{path}: {n} is not an int32"));
                }
                if schema
                    .get("minimum")
                    .and_then(Value::as_i64)
                    .is_some_and(|m| n < m)
                    || schema
                        .get("maximum")
                        .and_then(Value::as_i64)
                        .is_some_and(|m| n > m)
                {
                    errors.push(format!("{path}: {n} is out of range"));
                }
            }
        },
        Some("number") => {
            let Some(n) = value.as_number() else {
                errors.push(format!("{path}: expected a number, got {value}"));
                return;
            };
            if schema.get("format").and_then(Value::as_str) == Some("decimal") {
                let text = n.to_string();
                let decimals = text.split_once('.').map(|(_, d)| d.len());
                if decimals != Some(2) || text.contains(['e', 'E']) {
                    errors.push(format!(
                        "{path}: money {text} is not sent with two decimals"
                    ));
                }
            }
        }
        Some("boolean") => {
            if !value.is_boolean() {
                errors.push(format!("{path}: expected a boolean, got {value}"));
            }
        }
        other => errors.push(format!("{path}: schema without a known type: {other:?}")),
    }
}

/// A value of every property of `schema`, as SnelStart might return it.
fn sample(spec: &Value, schema: &Value, depth: u32) -> Value {
    let schema = resolve(spec, schema);
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.last())
    {
        return first.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") if depth < 3 => json!([sample(spec, &schema["items"], depth + 1)]),
        Some("array") => json!([]),
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2026-01-02T03:04:05.67"),
            Some("uuid") => json!("11111111-2222-3333-4444-555555555555"),
            _ => json!("x"),
        },
        Some("integer") => json!(7),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        _ => {
            let mut obj = serde_json::Map::new();
            if depth < 3 {
                for (k, s) in schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    obj.insert(k.clone(), sample(spec, s, depth + 1));
                }
            }
            Value::Object(obj)
        }
    }
}

/// One request as it reached the stand-in.
#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone)]
struct Recorder {
    spec: Arc<Value>,
    seen: Arc<Mutex<Vec<Recorded>>>,
}

const RELATIE_ID: &str = "aaaaaaaa-0000-0000-0000-000000000001";

async fn stand_in(
    State(rec): State<Recorder>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    rec.seen.lock().unwrap().push(Recorded {
        method: method.clone(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body: body.clone(),
    });
    let created = |status: StatusCode| {
        let mut v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        v["id"] = json!("bbbbbbbb-0000-0000-0000-000000000002");
        (status, axum::Json(v)).into_response()
    };
    match (method.as_str(), uri.path()) {
        ("POST", "/b2b/token") => axum::Json(json!({
            "access_token": "tok-123", "token_type": "bearer", "expires_in": 3599
        }))
        .into_response(),
        ("GET", "/v2/landen") => axum::Json(json!([
            { "naam": "Nederland", "landcode": "NL", "landcodeISO": "NLD", "id": "cccccccc-0000-0000-0000-00000000004e", "uri": "/landen/nl" },
            { "naam": "België", "landcode": "BE", "landcodeISO": "BEL", "id": "cccccccc-0000-0000-0000-0000000000be", "uri": "/landen/be" }
        ]))
        .into_response(),
        ("GET", "/v2/grootboeken") => axum::Json(json!([
            { "nummer": 8000, "grootboekfunctie": "VerkopenOmzetHoog", "nonactief": false, "id": "dddddddd-0000-0000-0000-000000008000" },
            { "nummer": 8010, "grootboekfunctie": "VerkopenOmzetLaag", "nonactief": false, "id": "dddddddd-0000-0000-0000-000000008010" },
            { "nummer": 8020, "grootboekfunctie": "VerkopenOmzetOnbelastVerlegd", "nonactief": false, "id": "dddddddd-0000-0000-0000-000000008020" }
        ]))
        .into_response(),
        ("GET", p) if p == format!("/v2/relaties/{RELATIE_ID}") => {
            // Every property of the write model, plus the GET-only `fax` and a future field.
            let mut v = sample(&rec.spec, schema(&rec.spec, "Relaties.RelatieWriteModel"), 0);
            v["id"] = json!(RELATIE_ID);
            v["relatiesoort"] = json!(["Klant"]);
            v["correspondentieAdres"] = Value::Null;
            v["fax"] = json!("012-3456789");
            v["nieuwVeld"] = json!({ "x": 1 });
            axum::Json(v).into_response()
        }
        ("PUT", _) => created(StatusCode::OK),
        ("POST", "/v2/relaties" | "/v2/verkoopboekingen") => created(StatusCode::CREATED),
        _ => (StatusCode::NOT_FOUND, axum::Json(json!({ "Message": "not here" }))).into_response(),
    }
}

#[tokio::test]
async fn every_body_the_client_sends_matches_the_openapi_schemas() {
    let spec = Arc::new(spec());
    let rec = Recorder {
        spec: spec.clone(),
        seen: Arc::new(Mutex::new(Vec::new())),
    };
    let app = axum::Router::new()
        .fallback(stand_in)
        .with_state(rec.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let accounting = SnelStartAccounting::new(SnelStartConfig {
        api_url: format!("http://{addr}/v2/"),
        auth_url: format!("http://{addr}/b2b/token"),
        subscription_key: "0123456789abcdef0123456789abcdef".to_owned().into(),
        timeout: Duration::from_secs(5),
        calls_per_minute: 0,
        calls_per_hour: 0,
        concurrency: 0,
    })
    .unwrap();
    let key = koppelsleutel("contract");
    let conn = connection("contract", &key);

    accounting
        .create_relatie(&conn, &relatie_data(1001))
        .await
        .unwrap();
    let mut long = relatie_data(1002);
    long.name = "N".repeat(50);
    long.country = "BE".into();
    accounting
        .update_relatie(&conn, RELATIE_ID, &long)
        .await
        .unwrap();
    let mut mixed = booking("2026-0042", 1001);
    mixed.lines.push(BookingLine {
        description: "Vrijgesteld".into(),
        amount: dec!(10),
        class: VatClass::Zero,
        ledger: RevenueLedger {
            function: 10,
            number: None,
        },
    });
    mixed.total = dec!(185.50);
    accounting
        .book_sale(&conn, &mixed, RELATIE_ID)
        .await
        .unwrap();
    let mut verlegd = booking("2026-0043", 1001);
    verlegd.lines = vec![BookingLine {
        description: "Creditering".into(),
        amount: dec!(-99.9),
        class: VatClass::ReverseCharge,
        ledger: RevenueLedger {
            function: 10,
            number: Some(8020),
        },
    }];
    verlegd.vat_rows = vec![VatRow {
        kind: VatRowKind::ReverseCharge,
        amount: dec!(0),
    }];
    verlegd.total = dec!(-99.90);
    accounting
        .book_sale(&conn, &verlegd, RELATIE_ID)
        .await
        .unwrap();

    let seen = rec.seen.lock().unwrap().clone();
    let mut errors = Vec::new();
    let mut checked = BTreeSet::new();
    for r in &seen {
        if r.path == "/b2b/token" {
            let expected = format!(
                "grant_type=clientkey&clientkey={}",
                urlencoding::encode(&key)
            );
            assert_eq!(String::from_utf8_lossy(&r.body), expected);
            assert!(key.contains('+') || key.contains('/') || key.contains('='));
            assert_eq!(
                r.headers["content-type"],
                "application/x-www-form-urlencoded"
            );
            assert!(r.headers.get("ocp-apim-subscription-key").is_none());
            continue;
        }
        assert_eq!(r.headers["authorization"], "Bearer tok-123", "{}", r.path);
        assert_eq!(
            r.headers["ocp-apim-subscription-key"],
            "0123456789abcdef0123456789abcdef"
        );
        assert_eq!(r.headers["accept"], "application/json");
        assert!(!r.path.contains("//"), "{}", r.path);
        let (model, nulls) = match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/v2/relaties") => ("Relaties.RelatieWriteModel", false),
            ("PUT", p) if p.starts_with("/v2/relaties/") => ("Relaties.RelatieWriteModel", true),
            ("POST", "/v2/verkoopboekingen") => ("VerkoopBoekingen.VerkoopBoekingModel", false),
            ("GET", _) => {
                assert!(r.body.is_empty());
                continue;
            }
            other => panic!("unexpected request {other:?}"),
        };
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        validate(
            &spec,
            schema(&spec, model),
            &body,
            &format!("{} {}", r.method, r.path),
            nulls,
            &mut errors,
        );
        checked.insert(format!("{} {}", r.method, r.path));
        if r.method == Method::PUT {
            // Read-modify-write: every write-model property SnelStart sent comes back.
            let expected: BTreeSet<&str> =
                schema(&spec, "Relaties.RelatieWriteModel")["properties"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect();
            let sent: BTreeSet<&str> = body
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(sent, expected);
            assert_eq!(body["naam"], "N".repeat(50));
            assert_eq!(body["id"], RELATIE_ID);
            assert_eq!(body["vestigingsAdres"]["contactpersoon"], "x", "kept");
            assert_eq!(
                body["vestigingsAdres"]["land"]["id"],
                "cccccccc-0000-0000-0000-0000000000be"
            );
        }
    }
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(
        checked.into_iter().collect::<Vec<_>>(),
        [
            "POST /v2/relaties".to_owned(),
            "POST /v2/verkoopboekingen".to_owned(),
            format!("PUT /v2/relaties/{RELATIE_ID}"),
        ]
    );
    // Money goes out as exact numbers with two decimals.
    let boeking = seen
        .iter()
        .find(|r| r.path == "/v2/verkoopboekingen")
        .unwrap();
    let text = String::from_utf8_lossy(&boeking.body);
    assert!(text.contains(r#""factuurbedrag":185.50"#), "{text}");
    assert!(
        text.contains(r#""bedrag":10.00,"btwSoort":"Geen""#),
        "{text}"
    );
    let queries: Vec<_> = seen.iter().filter_map(|r| r.query.clone()).collect();
    assert!(
        queries.iter().all(|q| q.contains("$top=500")),
        "{queries:?}"
    );
}

fn enum_names(spec: &Value, model: &str, property: &str) -> Vec<String> {
    let prop = &schema(spec, model)["properties"][property];
    let prop = if prop.get("items").is_some() {
        &prop["items"]
    } else {
        prop
    };
    prop["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|v| name(*v).to_owned()).collect()
}

#[test]
fn the_wire_enums_are_the_openapi_enums() {
    let spec = spec();
    assert_eq!(
        names(BtwSoort::ALL, BtwSoort::as_str),
        enum_names(
            &spec,
            "VerkoopBoekingen.VerkoopBoekingRegelModel",
            "btwSoort"
        )
    );
    assert_eq!(
        names(BtwSoort::ALL, BtwSoort::as_str),
        enum_names(&spec, "Grootboeken.GrootboekModel", "btwSoort")
    );
    assert_eq!(
        names(BtwRegelSoort::ALL, BtwRegelSoort::as_str),
        enum_names(
            &spec,
            "VerkoopBoekingen.VerkoopBoekingBtwRegelModel",
            "btwSoort"
        )
    );
    assert_eq!(
        names(DagboekSoort::ALL, DagboekSoort::as_str),
        enum_names(&spec, "Dagboeken.DagboekModel", "soort")
    );
    assert_eq!(
        names(Grootboekfunctie::ALL, Grootboekfunctie::as_str),
        enum_names(&spec, "Grootboeken.GrootboekModel", "grootboekfunctie")
    );
}

#[test]
fn the_response_models_read_the_schema_names() {
    // A sample of each read model, built from the schema, is understood field by field.
    let spec = spec();
    let g = sample(&spec, schema(&spec, "Grootboeken.GrootboekModel"), 0);
    let g: koppeling_snelstart::client::wire::Grootboek = serde_json::from_value(g).unwrap();
    assert!(
        g.nummer.is_some()
            && g.nonactief.is_some()
            && g.grootboekfunctie.is_some()
            && g.id.is_some()
    );
    assert!(
        g.btw_soort.is_some() && g.rekening_code.is_some() && g.kostenplaats_verplicht.is_some()
    );
    let d = sample(&spec, schema(&spec, "Dagboeken.DagboekModel"), 0);
    let d: koppeling_snelstart::client::wire::Dagboek = serde_json::from_value(d).unwrap();
    assert!(
        d.nummer.is_some()
            && d.soort.is_some()
            && d.nonactief.is_some()
            && d.omschrijving.is_some()
    );
    let l = sample(&spec, schema(&spec, "Landen.LandModel"), 0);
    let l: koppeling_snelstart::client::wire::Land = serde_json::from_value(l).unwrap();
    assert!(l.landcode.is_some() && l.landcode_iso.is_some() && l.naam.is_some());
    let f = sample(
        &spec,
        schema(&spec, "Verkoopfacturen.VerkoopfactuurModel"),
        0,
    );
    let f: koppeling_snelstart::client::wire::Verkoopfactuur = serde_json::from_value(f).unwrap();
    assert!(f.verkoop_boeking.is_some() && f.relatie.is_some() && f.factuur_bedrag.is_some());
    assert!(
        f.factuurnummer.is_some()
            && f.factuur_datum.is_some()
            && f.verval_datum.is_some()
            && f.openstaand_saldo.is_some()
    );
    let m = sample(
        &spec,
        schema(&spec, "GrootboekMutaties.GrootboekMutatieModel"),
        0,
    );
    let m: koppeling_snelstart::client::wire::Grootboekmutatie = serde_json::from_value(m).unwrap();
    assert!(
        m.grootboek.is_some()
            && m.datum.is_some()
            && m.debet.is_some()
            && m.credit.is_some()
            && m.factuur_nummer.is_some()
            && m.id.is_some()
    );
    let b = sample(
        &spec,
        schema(&spec, "VerkoopBoekingen.VerkoopBoekingModel"),
        0,
    );
    let b: koppeling_snelstart::client::wire::Verkoopboeking = serde_json::from_value(b).unwrap();
    assert!(
        b.klant.is_some()
            && b.factuurbedrag.is_some()
            && b.factuurdatum.is_some()
            && b.betalingstermijn.is_some()
    );
    let regel = &b.boekingsregels.unwrap()[0];
    assert!(regel.grootboek.is_some() && regel.bedrag.is_some() && regel.btw_soort.is_some());
    let r = sample(&spec, schema(&spec, "Relaties.RelatieModel"), 0);
    let r: koppeling_snelstart::client::wire::Relatie = serde_json::from_value(r).unwrap();
    assert!(r.relatiecode.is_some() && r.vestigings_adres.is_some() && r.btw_nummer.is_some());
    assert!(
        r.kvk_nummer.is_some() && r.iban.is_some() && r.nonactief.is_some() && r.email.is_some()
    );
}
