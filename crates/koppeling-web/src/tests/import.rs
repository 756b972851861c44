//! The JSON-lines import: good lines go in, bad lines are reported with their line number.

use koppeling_domain::app::MockApp;
use koppeling_domain::ports::{Admin, Put};
use koppeling_domain::problem::Rule;

use super::*;
use crate::import::{ImportLineError, import_jsonl};

/// The refused lines' numbers with the field each names.
fn refused_lines(report: &crate::import::ImportReport) -> Vec<(usize, &str)> {
    report
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect()
}

#[tokio::test]
async fn good_lines_are_imported_and_bad_ones_reported_by_line() {
    // Arrange: only the two good lines reach the use case.
    let mut mock = MockApp::new();
    mock.expect_put_admin()
        .withf(|_, admin: &Admin, hash| admin.id.as_str() == "a1" && hash.is_none())
        .times(1)
        .returning(|_, _, _| ready(Ok(Put::Created)));
    mock.expect_put_relation()
        .withf(|_, r| r.id.as_str() == "r1" && r.code == "1001")
        .times(1)
        .returning(|_, _| ready(Ok(Put::Created)));
    // Line 3's fifth decimal is the use case's refusal; lines 8 and 10 never reach it.
    mock.expect_put_invoice()
        .withf(|_, inv| inv.id.as_str() == "f1")
        .times(1)
        .returning(|_, _| {
            let rule = Rule::TooManyDecimals { max: 4 };
            ready(Err(refused("lines[0].unit_price", rule)))
        });
    let input = [
        r#"{"type":"admin","id":"a1","name":"Anna","email":"anna@example.nl"}"#,
        "",
        r#"{"type":"invoice","id":"f1","number":"1","relation_id":"r1","date":"2026-01-01","status":"final","lines":[{"quantity":1,"unit_price":"1.234567","vat":"high"}]}"#,
        "not json",
        r#"{"type":"relation","id":"r2","code":"1","kind":"company","name":"X","colour":"red"}"#,
        r#"{"type":"gadget","id":"x"}"#,
        r#"{"type":"relation","code":"1","kind":"company","name":"X"}"#,
        r#"{"type":"invoice","id":"f2","number":"2","relation_id":"r1","date":"2026-13-01","status":"final","lines":[]}"#,
        r#"{"type":"relation","id":"r1","code":1001,"kind":"person","name":"Piet","address":{"street":"Dorpsstraat","house_number":"1","postcode":"1234 AB","city":"Ons Dorp"}}"#,
        r#"{"type":"invoice","id":"f3","number":"3","relation_id":"r1","date":"2026-01-01","status":"final","lines":[{"quantity":1,"unit_price":"x","vat":"high"}]}"#,
    ]
    .join("\n");
    // Act
    let report = import_jsonl(&mock, &adm(), &input).await;
    // Assert
    assert_eq!(report.imported, 2, "{report:?}");
    assert_eq!(
        refused_lines(&report),
        [
            (3, "lines[0].unit_price"),
            (4, "json"),
            (5, "colour"),
            (6, "type"),
            (7, "id"),
            (8, "date"),
            (10, "lines[0].unit_price"),
        ]
    );
    assert!(!report.is_clean());
    let printed = report.errors[0].to_string();
    assert!(
        printed.starts_with("line 3: lines[0].unit_price: "),
        "{printed}"
    );
    assert!(report.errors.iter().all(|e| !e.message.is_empty()));
}

#[tokio::test]
async fn a_relation_snelstart_line_ticks_the_relation() {
    let mut mock = MockApp::new();
    refuses_to_tick(&mut mock);
    let report = import_jsonl(
        &mock,
        &adm(),
        r#"{"type":"relation_snelstart","id":"rel-1","enabled":true}"#,
    )
    .await;
    assert_eq!(report.imported, 0);
    assert_eq!(
        report.errors[0],
        ImportLineError {
            line: 1,
            field: "code".into(),
            message: report.errors[0].message.clone(),
        }
    );
    assert!(report.errors[0].message.contains("digits"));
}

#[tokio::test]
async fn a_busy_line_is_reported_clearly_and_the_next_line_still_goes_in() {
    let mut mock = MockApp::new();
    let mut calls = 0;
    mock.expect_put_relation().times(2).returning(move |_, _| {
        calls += 1;
        ready(if calls == 1 {
            Err(busy("starting a transaction: database is locked"))
        } else {
            Ok(Put::Created)
        })
    });
    let input = [
        r#"{"type":"relation","id":"r1","code":"1","kind":"company","name":"X"}"#,
        r#"{"type":"relation","id":"r2","code":"2","kind":"company","name":"Y"}"#,
    ]
    .join("\n");
    let report = import_jsonl(&mock, &adm(), &input).await;
    assert_eq!(report.imported, 1, "{report:?}");
    assert_eq!(report.errors.len(), 1);
    let printed = report.errors[0].to_string();
    assert!(
        printed.starts_with("line 1: database: the database is busy"),
        "{printed}"
    );
    assert!(
        printed.contains("nothing of this line was written"),
        "{printed}"
    );
    assert!(printed.contains("import this line again"), "{printed}");
}

#[tokio::test]
async fn an_invoice_document_line_stores_the_decoded_bytes_and_bad_ones_name_their_field() {
    use base64::Engine as _;
    // Arrange: the good line reaches the use case with the decoded bytes; the use case
    // refuses the HTML one (its rule is tested in the domain); the others never reach it.
    let mut mock = MockApp::new();
    mock.expect_put_document()
        .withf(|_, _, _, _, content| content.as_slice() == b"<html/>")
        .times(1)
        .returning(|_, _, _, _, _| {
            let rule = Rule::DocumentRefused {
                rule: koppeling_domain::document::DocumentRule::NotPdf,
                detail: "the content is not a PDF".to_owned(),
            };
            ready(Err(refused("content", rule)))
        });
    mock.expect_put_document()
        .withf(|_, id, kind, name, content| {
            id.as_str() == "f1"
                && *kind == koppeling_domain::document::DocumentKind::Pdf
                && name.as_deref() == Some("f1.pdf")
                && content.as_slice() == b"%PDF-1.7 import"
        })
        .times(1)
        .returning(|_, _, kind, name, content| {
            ready(Ok((
                Put::Created,
                koppeling_domain::document::Document {
                    kind,
                    filename: name.unwrap_or_default(),
                    size: u64::try_from(content.len()).unwrap(),
                    sha256: String::new(),
                    status: koppeling_domain::document::DocumentStatus::Waiting,
                    snelstart_id: None,
                    error: None,
                    hint: None,
                },
            )))
        });
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.7 import");
    let not_pdf = base64::engine::general_purpose::STANDARD.encode(b"<html/>");
    let input = [
        format!(r#"{{"type":"invoice_document","invoice_id":"f1","kind":"pdf","filename":"f1.pdf","content_base64":"{pdf}"}}"#),
        format!(r#"{{"type":"invoice_document","invoice_id":"f1","kind":"pdf","filename":"a/b.pdf","content_base64":"{pdf}"}}"#),
        format!(r#"{{"type":"invoice_document","invoice_id":"f1","kind":"docx","content_base64":"{pdf}"}}"#),
        r#"{"type":"invoice_document","invoice_id":"f1","kind":"pdf","content_base64":"@@@"}"#.to_owned(),
        format!(r#"{{"type":"invoice_document","invoice_id":"f1","kind":"pdf","content_base64":"{not_pdf}"}}"#),
    ]
    .join("\n");

    // Act
    let report = import_jsonl(&mock, &adm(), &input).await;

    // Assert
    assert_eq!(report.imported, 1, "{report:?}");
    assert_eq!(
        refused_lines(&report),
        [
            (2, "filename"),
            (3, "kind"),
            (4, "content_base64"),
            (5, "content_base64")
        ]
    );
}
