//! The `$filter` parser and evaluation against one relatie row.

use super::*;
use serde_json::json;

fn row() -> Value {
    json!({
        "relatiesoort": ["Klant"],
        "relatiecode": 1001,
        "naam": "O'Brien B.V.",
        "email": null,
        "nonactief": false,
        "factuurkorting": 1.50,
        "modifiedOn": "2026-05-13T16:34:48.123",
        "id": "5830cec3-8929-4703-80b4-bd695402a7b0",
        "vestigingsAdres": { "plaats": "Alkmaar", "land": { "id": "c4335f00-c6a6-48fd-b89f-108657d12ccf" } },
        "extraVeldenKlant": [ { "naam": "lid", "waarde": "5299" } ],
    })
}

fn hit(f: &str) -> bool {
    match parse_filter(f, &RELATIE) {
        Ok(n) => n.matches(&row()),
        Err(e) => panic!("{f}: {e}"),
    }
}

fn err(f: &str) -> String {
    match parse_filter(f, &RELATIE) {
        Ok(_) => panic!("{f} parsed"),
        Err(e) => e,
    }
}

#[test]
fn filters_match() {
    assert!(hit("Relatiecode eq 1001"));
    assert!(!hit("Relatiecode eq 1002"));
    assert!(hit(
        "Relatiecode gt 0 and Relatiesoort/any(x: x eq 'Klant')"
    ));
    assert!(!hit("Relatiesoort/any(r:r eq 'Leverancier')"));
    assert!(hit("Naam eq 'O''Brien B.V.'"));
    assert!(hit("Email eq null"));
    assert!(!hit("Email ne null"));
    assert!(hit("Id eq guid'5830cec3-8929-4703-80b4-bd695402a7b0'"));
    assert!(hit("ModifiedOn gt datetime'2017-07-16T23:59:59.999'"));
    assert!(hit(
        "VestigingsAdres/Land/Id ne guid'00000000-0000-0000-0000-000000000001'"
    ));
    assert!(hit("substringof('Brien', Naam) eq true"));
    assert!(hit("startswith(Naam,'O''B')"));
    assert!(hit(
        "(Relatiecode eq 1 or Relatiecode eq 1001) and not Nonactief"
    ));
    assert!(hit(
        "ExtraVeldenKlant/any(e:e/Waarde eq '5299' and e/Naam eq 'lid')"
    ));
    assert!(hit("Factuurkorting eq 1.5"));
    assert!(hit("Factuurkorting ge 1.5M"));
    assert!(hit("year(ModifiedOn) eq 2026"));
    assert!(hit("tolower(Naam) eq 'o''brien b.v.'"));
    assert!(hit("Relatiesoort/any()"));
}

#[test]
fn filters_are_checked() {
    assert_eq!(
        err("Foo eq 1"),
        "Could not find a property named 'Foo' on type 'SnelStart.B2B.Api.V2.Models.Relaties.RelatieModel'."
    );
    assert!(err("naam eq 'x'").contains("Could not find a property named 'naam'"));
    assert!(err("Relatiecode eq '1001'").contains("incompatible types"));
    assert!(err("Id eq '5830cec3-8929-4703-80b4-bd695402a7b0'").contains("incompatible"));
    assert!(err("Relatiecode eq").contains("Expression expected"));
    assert!(err("Naam eq 'x").contains("unterminated"));
    assert!(err("VestigingsAdres eq null").contains("not a single value"));
    assert!(err("Relatiecode").contains("boolean"));
    assert!(err("foo(Naam)").contains("Unknown function"));
    assert!(err("Id eq guid'nope'").contains("Edm.Guid"));
    let deep = format!("{}Relatiecode eq 1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(err(&deep).contains("recursion limit"));
    assert!(err(&"not ".repeat(5000)).contains("recursion limit"));
}

#[test]
fn query_options() {
    let p = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
    assert!(parse_query(&p("$top", "501"), &RELATIE, 500).is_err_and(|e| e
        == "The limit of '500' for Top query has been exceeded. The value from the incoming request is '501'."));
    assert!(parse_query(&p("$top", "-1"), &RELATIE, 500).is_err());
    assert!(parse_query(&p("$skip", "x"), &RELATIE, 500).is_err());
    let rows = [
        json!({"relatiecode": 2, "naam": "b"}),
        json!({"relatiecode": 1, "naam": "a"}),
        json!({"relatiecode": 3, "naam": "c"}),
    ];
    let q = parse_query(
        &[
            ("$orderby".into(), "Relatiecode desc".into()),
            ("$skip".into(), "1".into()),
            ("$top".into(), "1".into()),
            ("$select".into(), "Naam".into()),
        ],
        &RELATIE,
        500,
    );
    let Ok(q) = q else { panic!() };
    let out: Value =
        serde_json::from_slice(&q.render(rows.iter().map(RowRef::Json))).unwrap_or_default();
    assert_eq!(out, json!([{"naam": "b"}]));
    let raw = [
        br#"{"relatiecode": 2}"#.as_slice(),
        br#"{"relatiecode": 1}"#.as_slice(),
    ];
    let q = parse_query(
        &[("$filter".into(), "Relatiecode lt 2".into())],
        &RELATIE,
        500,
    );
    let Ok(q) = q else { panic!() };
    assert_eq!(
        q.render(raw.iter().map(|b| RowRef::Raw(b))),
        br#"[{"relatiecode": 1}]"#
    );
    let q = parse_filter("Relatiecode eq 7 and Naam ne 'x'", &RELATIE);
    let Ok(q) = q else { panic!() };
    assert!(matches!(q.eq_hint(), Some(("relatiecode", Lit::Num(..)))));
}
