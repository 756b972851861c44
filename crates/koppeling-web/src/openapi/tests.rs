use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use koppeling_domain::app::MockApp;
use serde_json::Value;
use tower::ServiceExt;

use super::*;

fn doc() -> Value {
    serde_json::from_str(document_text()).expect("the document is JSON")
}

/// The routes the routers register (`.route("…", get(…).put(…))` in `api/mod.rs` and
/// `webhook.rs`), as `METHOD /path` with the `/api/v1` prefix removed.
fn registered_routes() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for source in [include_str!("../api/mod.rs"), include_str!("../webhook.rs")] {
        let mut rest = source;
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let open = rest.find('"').unwrap();
            let close = open + 1 + rest[open + 1..].find('"').unwrap();
            let path = rest[open + 1..close].to_owned();
            // The method calls up to the `)` that closes `.route(`.
            let mut depth = 1;
            let mut end = 0;
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let call: String = rest[close..end].split_whitespace().collect();
            for method in ["get", "put", "post", "delete", "patch"] {
                if call.contains(&format!(",{method}(")) || call.contains(&format!(".{method}(")) {
                    out.insert(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
    }
    out
}

fn documented_routes() -> BTreeSet<String> {
    let doc = doc();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

#[test]
fn every_route_registered_in_the_router_is_in_the_document_and_no_other() {
    let registered = registered_routes();
    assert!(registered.len() >= 28, "{registered:#?}");
    assert!(registered.contains("GET /administraties/{adm}/relations/{id}/snelstart/preview"));
    assert!(registered.contains("PUT /administraties/{adm}/invoices/{id}"));
    assert!(registered.contains("POST /webhooks/snelstart"));
    assert_eq!(registered, documented_routes());
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = crate::tests::app(MockApp::new());
    for route in documented_routes() {
        let (method, path) = route.split_once(' ').unwrap();
        let concrete = path.replace("{adm}", "kantoor").replace("{id}", "x1");
        let uri = if path.starts_with("/webhooks/") {
            concrete
        } else {
            format!("/api/v1{concrete}")
        };
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(&uri)
            .body(Body::empty())
            .unwrap();
        let status = app.clone().oneshot(request).await.unwrap().status();
        // Without a token a routed operation is refused by the bearer check (the document
        // and the webhook need none: 200, and 400 for the empty body); an unrouted one
        // would be the fallback's 404 or a 405.
        let want = match path {
            "/openapi.json" => StatusCode::OK,
            "/webhooks/snelstart" => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        };
        assert_eq!(status, want, "{route}");
    }
}

#[test]
fn every_reference_resolves() {
    let doc = doc();
    let text = doc.to_string();
    let mut rest = text.as_str();
    let mut seen = 0;
    while let Some(at) = rest.find("\"$ref\":\"#/components/") {
        rest = &rest[at + 21..];
        let end = rest.find('"').unwrap();
        let pointer = format!("/components/{}", &rest[..end]);
        assert!(doc.pointer(&pointer).is_some(), "{pointer}");
        seen += 1;
    }
    assert!(seen > 20);
    assert_eq!(doc["openapi"], "3.1.0");
}

#[test]
fn the_constraints_the_handlers_enforce_are_stated() {
    let doc = doc();
    let schemas = &doc["components"]["schemas"];
    let prop = |schema: &str, name: &str| schemas[schema]["properties"][name].clone();
    // Every text of a body: at most 1,000 characters, no U+0000; the password its own 12–1024.
    assert!(
        prop("Address", "city")
            .to_string()
            .contains("\"maxLength\":1000")
    );
    assert!(
        prop("PutInvoiceLine", "description")
            .to_string()
            .contains("\"maxLength\":1000")
    );
    let password = prop("PutAdmin", "password");
    assert_eq!(password["minLength"], 12);
    assert_eq!(password["maxLength"], 1024);
    // Blank names are refused; a country is ISO-2; ids have their pattern.
    assert!(prop("PutRelation", "name")["pattern"].is_string());
    assert!(
        prop("Address", "country")
            .to_string()
            .contains("^[A-Z]{2}$")
    );
    assert!(
        prop("PutInvoice", "relation_id")
            .to_string()
            .contains("{1,64}")
    );
    assert_eq!(prop("PutInvoice", "payment_term_days")["minimum"], 0);
    // Amounts: at most 4 decimals, at most 1,000,000,000.
    let amount = schemas["Amount"].to_string();
    assert!(
        amount.contains(crate::dto::AMOUNT_PATTERN.replace('\\', "\\\\").as_str()),
        "{amount}"
    );
    assert!(amount.contains("\"maximum\":1000000000"), "{amount}");
    // Settings: the BTW codes are fixed, journal and ledgers positive i32.
    assert_eq!(prop("PutVatCodes", "high")["minimum"], 12);
    assert_eq!(prop("PutVatCodes", "high")["maximum"], 12);
    assert!(
        prop("PutSettings", "sales_journal_code")
            .to_string()
            .contains("2147483647")
    );
    // Path ids and page sizes.
    let list = &doc["paths"]["/administraties/{adm}/sync-log"]["get"]["parameters"];
    let text = list.to_string();
    assert!(
        text.contains("^[a-z0-9-]{1,40}$") && text.contains("\"maximum\":5000"),
        "{text}"
    );
    // An empty filter is no filter; utoipa would drop a rename to "".
    let invoices = doc["components"]["schemas"]["SyncStatusFilter"]["enum"].to_string();
    assert!(invoices.starts_with("[\"\",\"queued\""), "{invoices}");
    let events = doc["paths"]["/administraties/{adm}/events"]["get"]["parameters"].to_string();
    assert!(events.contains("\"maximum\":1000"), "{events}");
}

#[test]
fn every_operation_declares_the_edge_and_its_stateful_refusals() {
    let doc = doc();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path == "/openapi.json" {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "put", "post"].contains(&method.as_str()) {
                continue;
            }
            let responses = &operation["responses"];
            let busy = &responses["503"];
            assert!(
                busy["description"].as_str().unwrap().contains("busy"),
                "{method} {path}"
            );
            assert!(
                busy["headers"]["Retry-After"].is_object(),
                "{method} {path}"
            );
            assert!(responses["400"].is_object(), "{method} {path}");
            if path.contains("{adm}") && !(method == "put" && path == "/administraties/{adm}") {
                assert!(responses["404"].is_object(), "{method} {path}");
            }
            if operation["requestBody"].is_object() {
                assert!(responses["413"].is_object(), "{method} {path}");
            }
            if path != "/webhooks/snelstart" {
                assert!(responses["401"].is_object(), "{method} {path}");
            }
        }
    }
    let put = &doc["paths"]["/administraties/{adm}/invoices/{id}"]["put"]["responses"];
    assert!(
        put["409"]["description"]
            .as_str()
            .unwrap()
            .contains("invoice_locked")
    );
    let error = &doc["components"]["schemas"]["Error"];
    let required: Vec<&str> = error["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["error", "message"]);
}

/// The enum values a twin schema lists.
fn enum_values(name: &str) -> BTreeSet<String> {
    let doc = doc();
    doc["components"]["schemas"][name]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} is an enum"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn wire<T: serde::Serialize>(values: impl IntoIterator<Item = T>) -> BTreeSet<String> {
    values
        .into_iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn the_domain_twins_have_the_domains_shape() {
    use koppeling_domain::connect::ConnectionKind;
    use koppeling_domain::invoice::InvoiceStatus;
    use koppeling_domain::koppeling::{KoppelingState, RevenueLedgers, VatCodes};
    use koppeling_domain::money::VatClass;
    use koppeling_domain::ports::{ErrorClass, StatusCounts, SyncStatus};
    use koppeling_domain::readback::PaymentStatus;
    use koppeling_domain::relation::RelationKind;
    assert_eq!(
        enum_values("VatClass"),
        wire([
            VatClass::High,
            VatClass::Low,
            VatClass::Zero,
            VatClass::ReverseCharge
        ])
    );
    assert_eq!(
        enum_values("RelationKind"),
        wire([RelationKind::Company, RelationKind::Person])
    );
    assert_eq!(
        enum_values("InvoiceStatus"),
        wire([InvoiceStatus::Draft, InvoiceStatus::Final])
    );
    assert_eq!(
        enum_values("SyncStatus"),
        wire([
            SyncStatus::Queued,
            SyncStatus::InProgress,
            SyncStatus::Synced,
            SyncStatus::Failed,
            SyncStatus::Skipped
        ])
    );
    assert_eq!(
        enum_values("KoppelingState"),
        wire([
            KoppelingState::Inactive,
            KoppelingState::Active,
            KoppelingState::PausedAuth
        ])
    );
    assert_eq!(
        enum_values("PaymentStatus"),
        wire([
            PaymentStatus::Open,
            PaymentStatus::PartiallyPaid,
            PaymentStatus::Paid
        ])
    );
    assert_eq!(
        enum_values("ConnectionKind"),
        wire([ConnectionKind::SnelstartLink, ConnectionKind::Pasted])
    );
    assert_eq!(
        enum_values("ErrorClass"),
        wire([ErrorClass::Transient, ErrorClass::Data, ErrorClass::Auth])
    );
    // The structs: the same property names as the domain's serde shape.
    let doc = doc();
    let keys = |name: &str| -> BTreeSet<String> {
        doc["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let shape =
        |value: Value| -> BTreeSet<String> { value.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys("StatusCounts"),
        shape(serde_json::to_value(StatusCounts::default()).unwrap())
    );
    assert_eq!(
        keys("VatCodes"),
        shape(serde_json::to_value(VatCodes::default()).unwrap())
    );
    assert_eq!(
        keys("RevenueLedgers"),
        shape(serde_json::to_value(RevenueLedgers::default()).unwrap())
    );
}
