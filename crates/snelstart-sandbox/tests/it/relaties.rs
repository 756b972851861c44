//! Relaties: create, REL-* rules, lookup by filter, update, delete, lenient input.

use serde_json::{Value, json};
use snelstart_sandbox::SandboxConfig;

use crate::helpers::{Api, codes, start};

#[tokio::test]
async fn create_lookup_and_duplicate_code() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "relaties").await;
    let (_, landen) = api.get("/landen").await;
    let nl = landen
        .as_array()
        .and_then(|a| a.iter().find(|l| l["landcode"] == "NL"))
        .map(|l| l["id"].clone())
        .expect("NL");
    let body = json!({
        "relatiesoort": ["Klant"],
        "relatiecode": 1001,
        "naam": "Voorbeeld B.V.",
        "vestigingsAdres": { "straat": "Dorpsstraat 1", "postcode": "1234 AB", "plaats": "Alkmaar", "land": { "id": nl } },
        "email": "facturen@voorbeeld.nl",
        "btwNummer": "NL123456789B01",
        "kvkNummer": "12345678",
        "krediettermijn": 14
    });
    let (s, v) = api.post("/relaties", &body).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().expect("id").to_owned();
    assert_eq!(v["uri"], format!("/relaties/{id}"));
    assert_eq!(v["relatiecode"], 1001);
    assert_eq!(v["relatiesoort"], json!(["Klant"]));
    assert_eq!(v["nonactief"], false);
    assert_eq!(
        v["vestigingsAdres"]["land"]["uri"],
        format!("/landen/{}", nl.as_str().unwrap_or_default())
    );
    assert_eq!(
        v["verkoopBoekingenUri"],
        format!("/relaties/{id}/verkoopboekingen")
    );
    let modified = v["modifiedOn"].as_str().expect("modifiedOn");
    assert_eq!(
        modified.len(),
        "2026-05-13T16:34:48.123".len(),
        "{modified}"
    );
    assert!(v.get("fax").is_none(), "write model has no fax");

    let (s, v) = api.post("/relaties", &body).await;
    assert_eq!(s, 400);
    assert_eq!(
        v,
        json!([{ "errorCode": "REL-0008", "message": "Relatiecode reeds in gebruik", "details": null }])
    );

    let (s, v) = api.filter("/relaties", "Relatiecode eq 1001").await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    assert_eq!(v[0]["id"], id.as_str());
    assert!(v[0].get("fax").is_some(), "read model has fax");
    let (_, v) = api.filter("/relaties", "Relatiecode eq 1002").await;
    assert_eq!(v, json!([]));
    let (_, v) = api
        .filter(
            "/relaties",
            "Naam eq 'Voorbeeld B.V.' and Relatiesoort/any(r:r eq 'Klant')",
        )
        .await;
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    let (_, v) = api.filter("/relaties", &format!("Id eq guid'{id}'")).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    let (_, v) = api
        .filter("/relaties", "Relatiesoort/any(r:r eq 'Eigen')")
        .await;
    assert_eq!(v[0]["relatiecode"], 0);

    let (s, v) = api.get(&format!("/relaties/{id}")).await;
    assert_eq!((s, v["naam"].clone()), (200, json!("Voorbeeld B.V.")));

    // Without a code the next one is allocated.
    let (s, v) = api
        .post(
            "/relaties",
            &json!({ "relatiesoort": ["Klant"], "naam": "Zonder code" }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["relatiecode"], 1002);
}

#[tokio::test]
async fn business_rules() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "relregels").await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({ "relatiesoort": ["Klant"], "naam": "" }),
            vec!["REL-0007"],
        ),
        (
            json!({ "relatiesoort": ["Klant", "Leverancier"], "naam": "X" }),
            vec!["REL-0065"],
        ),
        (
            json!({ "relatiesoort": ["Eigen"], "naam": "X" }),
            vec!["REL-0048"],
        ),
        (
            json!({ "relatiesoort": ["Geen"], "naam": "X" }),
            vec!["REL-0001"],
        ),
        (
            json!({ "id": "5830cec3-8929-4703-80b4-bd695402a7b0", "relatiesoort": ["Klant"], "naam": "X" }),
            vec!["REL-0063"],
        ),
        (
            json!({ "relatiesoort": ["Klant"], "naam": "X".repeat(51) }),
            vec!["REL-0066"],
        ),
        (
            json!({ "relatiesoort": ["Klant"], "naam": "X", "btwNummer": "NL-123" }),
            vec!["REL-0059", "REL-0088"],
        ),
        (
            json!({ "relatiesoort": ["Klant"], "naam": "X", "btwNummer": "NL123" }),
            vec!["REL-0088"],
        ),
        (
            json!({ "relatiesoort": ["Klant"], "naam": "X", "telefoon": "0".repeat(26) }),
            vec!["REL-0013"],
        ),
        (
            json!({ "relatiesoort": ["Klant"], "naam": "X", "email": "geen-adres" }),
            vec!["REL-0084"],
        ),
        (
            json!({ "relatiesoort": ["Klant"], "naam": "X", "vestigingsAdres": { "plaats": "Alkmaar" } }),
            vec!["REL-0060"],
        ),
        (
            json!({ "relatiesoort": ["Klant"], "naam": "X", "relatiecode": "abc" }),
            vec!["REL-0066"],
        ),
        (
            json!({ "relatiesoort": [], "naam": "" }),
            vec!["REL-0001", "REL-0007"],
        ),
    ];
    for (body, expected) in cases {
        let (s, v) = api.post("/relaties", &body).await;
        assert_eq!(s, 400, "{body} → {v}");
        assert_eq!(codes(&v), expected, "{body} → {v}");
        assert!(v[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn update_and_delete() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "relput").await;
    let id = api.klant(7).await;
    let path = format!("/relaties/{id}");
    let (s, v) = api
        .put(&path, &json!({ "id": id, "relatiesoort": ["Klant"], "naam": "Nieuwe naam", "relatiecode": 7 }))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["naam"], "Nieuwe naam");
    let (s, v) = api
        .put(&path, &json!({ "id": "5830cec3-8929-4703-80b4-bd695402a7b0", "relatiesoort": ["Klant"], "naam": "X" }))
        .await;
    assert_eq!((s, codes(&v)), (400, vec!["REL-0047".to_owned()]));
    let (s, v) = api
        .put(
            &path,
            &json!({ "id": id, "relatiesoort": ["Leverancier"], "naam": "X" }),
        )
        .await;
    assert_eq!((s, codes(&v)), (400, vec!["REL-0064".to_owned()]));
    let other = api.klant(8).await;
    let (s, v) = api
        .put(
            &format!("/relaties/{other}"),
            &json!({ "relatiesoort": ["Klant"], "naam": "X", "relatiecode": 7 }),
        )
        .await;
    assert_eq!((s, codes(&v)), (400, vec!["REL-0008".to_owned()]));
    let (s, _) = api
        .put(
            "/relaties/5830cec3-8929-4703-80b4-bd695402a7b0",
            &json!({ "relatiesoort": ["Klant"], "naam": "X" }),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(api.delete(&path).await, (200, json!({})));
    let (s, v) = api.get(&path).await;
    assert_eq!(s, 404);
    assert!(v["Message"].is_string());
    // The code is free again.
    api.klant(7).await;
}

#[tokio::test]
async fn lenient_input() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "rellenient").await;
    // PascalCase names, numeric enums, numbers as strings, unknown properties, nil id.
    let (s, v) = api
        .post(
            "/relaties",
            &json!({
                "Id": "00000000-0000-0000-0000-000000000000",
                "RelatieSoort": [1],
                "RelatieCode": "042",
                "Naam": "Pascal B.V.",
                "Aanmaningsoort": 2,
                "IncassoSoort": "core",
                "KredietLimiet": "1000.50",
                "Onbekend": { "x": 1 }
            }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["relatiesoort"], json!(["Klant"]));
    assert_eq!(v["relatiecode"], 42);
    assert_eq!(v["aanmaningsoort"], "Consument");
    assert_eq!(v["incassoSoort"], "Core");
    assert_eq!(v["kredietLimiet"].to_string(), "1000.50");
}
