//! The JSON API: authentication, field-level errors, the key, activation and the shapes.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use koppeling_domain::app::MockApp;
use koppeling_domain::ports::Missing;
use koppeling_domain::ports::{Put, SyncState, SyncStatus};
use koppeling_domain::problem::{Problem, Rule};
use serde_json::json;

use super::*;

const SECRET_KEY: &str = "Z2VoZWltOnNsZXV0ZWwtOTg3Ng==";

#[tokio::test]
async fn requests_without_the_right_token_are_refused() {
    // Arrange: a use case that must not be asked.
    let app = app(MockApp::new());
    let path = "/api/v1/administraties/kantoor/integrations";
    // Act
    let none = send(&app, Request::get(path).body(Body::empty()).unwrap()).await;
    let wrong = send(
        &app,
        Request::get(path)
            .header(header::AUTHORIZATION, "Bearer nope")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let basic = send(
        &app,
        Request::get(path)
            .header(header::AUTHORIZATION, format!("Basic {TOKEN}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    // Assert
    for answer in [none, wrong, basic] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        let body = answer.json();
        assert_eq!(body["error"], "unauthorized");
        assert!(body["message"].as_str().unwrap().len() > 10);
    }
}

#[tokio::test]
async fn health_metrics_and_openapi_need_no_token() {
    let app = app(MockApp::new());
    let health = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (health.status, health.text.as_str()),
        (StatusCode::OK, "ok")
    );
    let metrics = send(&app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert_eq!(
        metrics.headers[header::CONTENT_TYPE],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(metrics.text.contains("koppeling_up 1"));
    let doc = send(
        &app,
        Request::get("/api/v1/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(
        doc["paths"]["/administraties/{adm}/invoices/{id}"]["put"].is_object(),
        "{doc}"
    );
}

#[tokio::test]
async fn unknown_fields_are_refused_naming_the_field() {
    let app = app(MockApp::new());
    let top = put_kantoor(
        &app,
        "/relations/rel-1",
        r#"{"code":"1","kind":"company","name":"X","colour":"red"}"#,
    )
    .await;
    assert_eq!(top.status, StatusCode::BAD_REQUEST);
    assert_eq!(top.json()["error"], "unknown_field");
    assert_eq!(top.json()["field"], "colour");
    let nested = put_kantoor(
        &app,
        "/invoices/inv-1",
        r#"{"number":"1","relation_id":"rel-1","date":"2026-11-01","status":"final",
                "lines":[{"quantity":1,"unit_price":"10","vat":"high","discount":5}]}"#,
    )
    .await;
    assert_eq!(nested.status, StatusCode::BAD_REQUEST);
    assert_eq!(nested.json()["field"], "lines[0].discount");
}

#[tokio::test]
async fn malformed_json_and_wrong_types_are_400() {
    let app = app(MockApp::new());
    let path = "/api/v1/administraties/kantoor";
    let broken = call(&app, Method::PUT, path, Some(r#"{"name": "#)).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.json()["error"], "invalid_json");
    let wrong = call(&app, Method::PUT, path, Some(r#"{"name": 12}"#)).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json()["error"], "invalid_type");
    assert_eq!(wrong.json()["field"], "name");
    let missing = call(&app, Method::PUT, path, Some("{}")).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.json()["field"], "name");
    let vat = put_kantoor(
        &app,
        "/invoices/inv-1",
        r#"{"number":"1","relation_id":"rel-1","date":"2026-11-01","status":"final",
                "lines":[{"quantity":1,"unit_price":"10","vat":"hoog"}]}"#,
    )
    .await;
    assert_eq!(vat.status, StatusCode::BAD_REQUEST);
    assert_eq!(vat.json()["field"], "lines[0].vat");
}

#[tokio::test]
async fn an_amount_with_five_decimals_is_refused_naming_the_field() {
    // Arrange: the use case refuses the fifth decimal (its rule is tested in the domain);
    // "12,50" is not a number and never reaches it.
    let mut mock = MockApp::new();
    mock.expect_put_invoice()
        .withf(|_, inv| inv.lines[0].unit_price == Decimal::new(1_234_567, 5))
        .times(1)
        .returning(|_, _| {
            ready(Err(refused(
                "lines[0].unit_price",
                Rule::TooManyDecimals { max: 4 },
            )))
        });
    let app = app(mock);
    let body = r#"{"number":"2026-001","relation_id":"rel-1","date":"2026-11-01","payment_term_days":14,
        "status":"final","lines":[{"description":"Advies","quantity":"1","unit_price":"12.34567","vat":"high"}]}"#;
    // Act
    let answer = put_kantoor(&app, "/invoices/inv-1", body).await;
    // Assert
    assert!(
        matches!(
            answer.status,
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
        ),
        "{}",
        answer.text
    );
    let json = answer.json();
    assert_eq!(json["field"], "lines[0].unit_price");
    assert_eq!(json["problems"][0]["field"], "lines[0].unit_price");
    let not_a_number =
        put_kantoor(&app, "/invoices/inv-1", &body.replace("12.34567", "12,50")).await;
    assert_eq!(not_a_number.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_a_number.json()["field"], "lines[0].unit_price");
}

#[tokio::test]
async fn path_ids_are_validated() {
    let app = app(MockApp::new());
    let adm = call(
        &app,
        Method::PUT,
        "/api/v1/administraties/Kantoor_1",
        Some(r#"{"name":"x"}"#),
    )
    .await;
    assert_eq!(adm.status, StatusCode::BAD_REQUEST);
    assert_eq!(adm.json()["field"], "administratie");
    let id = get_kantoor(&app, "/invoices/a%20b").await;
    assert_eq!(id.status, StatusCode::BAD_REQUEST);
    assert_eq!(id.json()["field"], "id");
}

#[tokio::test]
async fn the_key_is_write_only() {
    // Arrange
    let mut mock = MockApp::new();
    mock.expect_put_koppeling()
        .withf(|_, settings, key| {
            key.as_ref().map(ConnectionKey::expose) == Some(SECRET_KEY)
                && settings.sales_journal_code == 1300
                && settings.vat_codes.high == 12
        })
        .times(1)
        .returning(|_, _, _| ready(Ok(Put::Created)));
    with_overview(&mut mock, Some(koppeling(false, Some(SECRET_KEY))));
    let app = app(mock);
    let body = json!({
        "vat_codes": {"high": 12, "low": 11, "zero": 10},
        "sales_journal_code": 1300,
        "key": SECRET_KEY,
    })
    .to_string();
    // Act
    let put = put_kantoor(&app, "/integrations/snelstart", &body).await;
    let get = get_kantoor(&app, "/integrations/snelstart").await;
    let list = get_kantoor(&app, "/integrations").await;
    // Assert
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.text);
    assert_eq!(put.json()["key_set"], true);
    assert_eq!(put.json()["vat_codes"]["high"], 12);
    assert_eq!(put.json()["sales_journal_code"], 1300);
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(list.json()[0]["name"], "snelstart");
    assert_eq!(list.json()[0]["state"], "inactive");
    assert_eq!(list.json()[0]["counts"]["failed"], 0);
    for answer in [&put, &get, &list] {
        assert!(!answer.text.contains(SECRET_KEY), "{}", answer.text);
        assert!(answer.json().get("key").is_none());
    }
}

#[tokio::test]
async fn wrong_vat_codes_are_422_naming_the_field() {
    // The use case refuses with the domain's own check of the codes as parsed.
    let mut mock = MockApp::new();
    mock.expect_put_koppeling()
        .withf(|_, settings, key| settings.vat_codes.high == 11 && key.is_none())
        .times(1)
        .returning(|_, settings, _| {
            let problems = settings.vat_codes.validate().unwrap_err();
            ready(Err(ServiceError::Invalid(problems)))
        });
    let app = app(mock);
    let answer = put_kantoor(
        &app,
        "/integrations/snelstart",
        r#"{"vat_codes":{"high":11,"low":12,"zero":10},"sales_journal_code":1300}"#,
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let json = answer.json();
    assert_eq!(json["field"], "vat_codes.high");
    assert_eq!(json["problems"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_failed_activation_lists_the_problems() {
    // Arrange: SnelStart has no dagboek 1300.
    let mut mock = MockApp::new();
    mock.expect_activate().times(1).returning(|_| {
        ready(Err(ServiceError::ActivationFailed(vec![Problem::new(
            "sales_journal_code",
            Rule::JournalMissing { number: 1300 },
        )])))
    });
    let app = app(mock);
    // Act
    let answer = post_kantoor(&app, "/integrations/snelstart/activate").await;
    // Assert
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let json = answer.json();
    assert_eq!(json["error"], "activation_failed");
    assert!(json["message"].as_str().unwrap().ends_with('.'));
    assert_eq!(json["problems"][0]["code"], "journal_missing");
    assert!(
        json["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("dagboek 1300")
    );
}

#[tokio::test]
async fn a_passing_activation_answers_with_the_overview_entry() {
    let mut mock = MockApp::new();
    mock.expect_activate()
        .times(1)
        .returning(|_| ready(Ok(overview_of(Some(&koppeling(true, Some(SECRET_KEY)))))));
    let app = app(mock);
    let answer = post_kantoor(&app, "/integrations/snelstart/activate").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["name"], "snelstart");
    assert_eq!(answer.json()["state"], "active");
}

#[tokio::test]
async fn an_invoice_shows_totals_and_sync_state_with_two_decimals() {
    let mut mock = MockApp::new();
    mock.expect_documents().returning(|_, _| ready(Ok(vec![])));
    mock.expect_invoice().returning(|_, _| {
        ready(Ok(Some((
            invoice(),
            Some(SyncState {
                snelstart_id: Some("b-1".into()),
                payment: Some(koppeling_domain::readback::Payment {
                    status: koppeling_domain::readback::PaymentStatus::PartiallyPaid,
                    outstanding: rust_decimal::Decimal::new(5, 1),
                    paid_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 20),
                    checked_at: now(),
                }),
                ..sync_state(SyncStatus::Synced)
            }),
        ))))
    });
    let app = app(mock);
    let answer = get_kantoor(&app, "/invoices/inv-1").await;
    assert_eq!(answer.status, StatusCode::OK);
    let json = answer.json();
    assert_eq!(json["totals"]["net"], "100.00");
    assert_eq!(json["totals"]["vat"], "21.00");
    assert_eq!(json["totals"]["gross"], "121.00");
    assert_eq!(json["totals"]["by_class"]["high"]["base"], "100.00");
    assert_eq!(json["totals"]["by_class"]["high"]["vat"], "21.00");
    assert_eq!(json["lines"][0]["unit_price"], "50.00");
    assert_eq!(json["lines"][0]["amount"], "100.00");
    assert_eq!(json["date"], "2026-11-01");
    assert_eq!(json["sync"]["status"], "synced");
    assert_eq!(json["sync"]["snelstart_id"], "b-1");
    assert_eq!(json["sync"]["attempts"], 1);
    assert_eq!(json["payment"]["status"], "partially_paid");
    assert_eq!(json["payment"]["outstanding"], "0.50");
    assert_eq!(json["payment"]["paid_at"], "2026-11-20");
    assert!(json["drift"].is_null());
}

#[tokio::test]
async fn a_new_invoice_is_created_and_shown_without_sync() {
    let mut mock = MockApp::new();
    // One call: the answer is built from what was written, not read back (and a new
    // invoice has no documents to list).
    mock.expect_put_invoice()
        .withf(|_, inv| {
            inv.lines[0].unit_price == Decimal::new(5000, 2) && inv.status == InvoiceStatus::Draft
        })
        .times(1)
        .returning(|_, _| ready(Ok((Put::Created, None))));
    mock.expect_invoice().never();
    mock.expect_documents().never();
    let app = app(mock);
    let answer = put_kantoor(&app, "/invoices/inv-1", r#"{"number":"2026-001","relation_id":"rel-1","date":"2026-11-01","payment_term_days":14,
                "status":"draft","lines":[{"description":"Advies","quantity":2,"unit_price":50.00,"vat":"high"}]}"#,).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert!(answer.json()["sync"].is_null());
    assert_eq!(answer.json()["totals"]["gross"], "121.00");
}

#[tokio::test]
async fn a_locked_invoice_answers_409() {
    let mut mock = MockApp::new();
    mock.expect_put_invoice().returning(|_, _| {
        ready(Err(ServiceError::Conflict {
            code: "invoice_locked".into(),
            message: "invoice inv-1 is synced and can no longer be changed; correct it with a credit note".into(),
            field: None,
        }))
    });
    let app = app(mock);
    let answer = put_kantoor(&app, "/invoices/inv-1", r#"{"number":"2026-001","relation_id":"rel-1","date":"2026-11-01","status":"final","lines":[]}"#,).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.json()["error"], "invoice_locked");
}

#[tokio::test]
async fn a_non_numeric_code_cannot_be_ticked() {
    let mut mock = MockApp::new();
    refuses_to_tick(&mut mock);
    let app = app(mock);
    let answer = put_kantoor(&app, "/relations/rel-1/snelstart", r#"{"enabled":true}"#).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let json = answer.json();
    assert_eq!(json["error"], "code_not_numeric");
    assert_eq!(json["field"], "code");
    assert!(json["message"].as_str().unwrap().contains("numeric"));
}

#[tokio::test]
async fn an_unknown_administratie_is_404() {
    let mut mock = MockApp::new();
    mock.expect_overview().returning(|code| {
        ready(Err(ServiceError::NotFound(Missing::Administratie(
            code.to_string(),
        ))))
    });
    let app = app(mock);
    let answer = call(
        &app,
        Method::GET,
        "/api/v1/administraties/onbekend/integrations",
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["error"], "not_found");
}

#[tokio::test]
async fn a_password_is_hashed_and_never_returned() {
    let mut mock = MockApp::new();
    mock.expect_put_admin()
        .withf(|_, admin, hash| {
            admin.email == "anna@example.nl"
                && hash
                    .as_deref()
                    .is_some_and(|h| h.starts_with("$argon2id$") && !h.contains("geheim123456"))
        })
        .times(1)
        .returning(|_, _, _| ready(Ok(Put::Created)));
    mock.expect_admin().returning(|_, id| {
        ready(Ok(Some(koppeling_domain::ports::Admin {
            id: id.clone(),
            name: "Anna".into(),
            email: "anna@example.nl".into(),
        })))
    });
    let app = app(mock);
    let answer = put_kantoor(
        &app,
        "/admins/anna",
        r#"{"name":"Anna","email":"anna@example.nl","password":"geheim123456"}"#,
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.json()["email"], "anna@example.nl");
    assert!(!answer.text.contains("password"));
    assert!(!answer.text.contains("geheim123456"));
}

#[tokio::test]
async fn a_password_of_11_characters_is_refused_naming_the_field() {
    // Refused at the edge: nothing reaches the use case.
    let app = app(MockApp::new());
    let answer = put_kantoor(
        &app,
        "/admins/anna",
        r#"{"name":"Anna","email":"anna@example.nl","password":"elf-tekens!"}"#,
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert_eq!(answer.json()["field"], "password");
}

#[tokio::test]
async fn a_store_failure_is_500_without_details() {
    let mut mock = MockApp::new();
    mock.expect_overview().returning(|_| {
        ready(Err(ServiceError::Other(anyhow::anyhow!(
            "connection to 10.0.0.1 refused"
        ))))
    });
    let app = app(mock);
    let answer = get_kantoor(&app, "/integrations").await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.json()["error"], "internal");
    assert!(!answer.text.contains("10.0.0.1"));
}

#[tokio::test]
async fn a_busy_database_is_503_with_retry_after() {
    let mut mock = MockApp::new();
    mock.expect_put_invoice()
        .returning(|_, _| ready(Err(busy("starting a transaction: database is locked"))));
    let app = app(mock);
    let answer = put_kantoor(&app, "/invoices/inv-1", r#"{"number":"2026-001","relation_id":"rel-1","date":"2026-11-01","status":"final","lines":[]}"#,).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.text
    );
    assert_eq!(answer.headers[header::RETRY_AFTER], "2");
    let body = answer.json();
    assert_eq!(body["error"], "busy");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("nothing was written")
    );
    // The driver's words stay in the log.
    assert!(!answer.text.contains("locked"), "{}", answer.text);
}

#[tokio::test]
async fn a_busy_database_on_a_read_is_503_too() {
    let mut mock = MockApp::new();
    mock.expect_get_administratie()
        .returning(|_| ready(Err(busy("reading the administratie: pool timed out"))));
    let app = app(mock);
    let answer = get_kantoor(&app, "").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers[header::RETRY_AFTER], "2");
    assert_eq!(answer.json()["error"], "busy");
}
