//! `koppeling import`: JSON lines of Beheerders, relations, invoices and SnelStart ticks.
//!
//! Each line is `{"type":"admin"|"relation"|"invoice"|"relation_snelstart","id":…, …}` with
//! the other fields exactly as the API's PUT body. Lines are applied in order, each on its
//! own (like one API call); a bad line is reported and the others still go in.

use std::fmt;

use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::ports::{Accounting, Clock, Notifier, Store};
use koppeling_domain::sync::{Service, ServiceError};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;

use crate::dto::{PutAdminBody, PutInvoiceBody, PutRelationBody, PutSnelstartBody, from_value};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Lines applied.
    pub imported: usize,
    /// Lines refused, each with the field to blame (a line can give several).
    pub errors: Vec<ImportLineError>,
}

impl ImportReport {
    /// Whether every line was applied.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

/// One refused line; prints as `line N: <field>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportLineError {
    /// 1-based line number in the file.
    pub line: usize,
    /// The JSON path of the offending field (`json` when the line is not JSON).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ImportLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineType {
    Admin,
    Relation,
    Invoice,
    RelationSnelstart,
}

struct Refusal(Vec<(String, String)>);

impl Refusal {
    fn one(field: &str, message: impl Into<String>) -> Self {
        Self(vec![(field.to_owned(), message.into())])
    }
}

impl From<crate::dto::BodyError> for Refusal {
    fn from(e: crate::dto::BodyError) -> Self {
        let field = if e.field.is_empty() {
            "json".to_owned()
        } else {
            e.field
        };
        Self(vec![(field, e.detail)])
    }
}

fn service_refusal(error: ServiceError) -> Refusal {
    match error {
        ServiceError::Invalid(problems) | ServiceError::ActivationFailed(problems) => Refusal(
            problems
                .into_iter()
                .map(|p| {
                    let field = if p.field.is_empty() {
                        "id".to_owned()
                    } else {
                        p.field
                    };
                    (field, p.message)
                })
                .collect(),
        ),
        ServiceError::Conflict { message, field, .. } => {
            Refusal::one(field.as_deref().unwrap_or("id"), message)
        }
        ServiceError::NotFound(what) if what.starts_with("administratie") => {
            Refusal::one("administratie", format!("{what} not found"))
        }
        ServiceError::NotFound(what) => Refusal::one("id", format!("{what} not found")),
        ServiceError::Busy(detail) => {
            tracing::warn!(error = %detail, "import line refused: the database is busy");
            Refusal::one(
                "database",
                "the database is busy (locked by another process); nothing of this line was written; import this line again",
            )
        }
        other => {
            tracing::error!(error = %format!("{other:#}"), "import line failed");
            Refusal::one("id", format!("could not be stored: {other}"))
        }
    }
}

/// Splits a line into its type, id and the rest (the PUT body).
fn split_line(line: &str) -> Result<(LineType, ResourceId, Value), Refusal> {
    let value: Value = serde_json::from_str(line).map_err(|e| {
        let text = e.to_string();
        let text = match text.rfind(" at line ") {
            Some(at) => text[..at].to_owned(),
            None => text,
        };
        Refusal::one(
            "json",
            format!("not valid JSON: {text} (column {})", e.column()),
        )
    })?;
    let Value::Object(mut object) = value else {
        return Err(Refusal::one("json", "a line must be one JSON object"));
    };
    let kind = match object.remove("type") {
        None => {
            return Err(Refusal::one(
                "type",
                "type is required: admin, relation, invoice or relation_snelstart",
            ));
        }
        Some(Value::String(t)) => match t.as_str() {
            "admin" => LineType::Admin,
            "relation" => LineType::Relation,
            "invoice" => LineType::Invoice,
            "relation_snelstart" => LineType::RelationSnelstart,
            other => {
                return Err(Refusal::one(
                    "type",
                    format!(
                        "{other:?} is not a line type; use admin, relation, invoice or relation_snelstart"
                    ),
                ));
            }
        },
        Some(_) => return Err(Refusal::one("type", "type must be a string")),
    };
    let id = match object.remove("id") {
        None => return Err(Refusal::one("id", "id is required")),
        Some(Value::String(raw)) => {
            ResourceId::parse(&raw).map_err(|p| Refusal::one("id", p.message))?
        }
        Some(Value::Number(n)) => {
            ResourceId::parse(n.as_str()).map_err(|p| Refusal::one("id", p.message))?
        }
        Some(_) => return Err(Refusal::one("id", "id must be a string")),
    };
    Ok((kind, id, Value::Object(object)))
}

async fn apply<S, A, N, C>(
    service: &Service<S, A, N, C>,
    adm: &AdministratieCode,
    line: &str,
) -> Result<(), Refusal>
where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    let (kind, id, body) = split_line(line)?;
    match kind {
        LineType::Admin => {
            let (admin, password) = from_value::<PutAdminBody>(body)?
                .into_domain(id)
                .map_err(|p| service_refusal(ServiceError::Invalid(p)))?;
            let hash = match password {
                None => None,
                Some(password) => Some(
                    crate::auth::hash_password(password.expose_secret())
                        .map_err(|e| Refusal::one("password", format!("{e:#}")))?,
                ),
            };
            service
                .put_admin(adm, &admin, hash)
                .await
                .map_err(service_refusal)?;
        }
        LineType::Relation => {
            let relation = from_value::<PutRelationBody>(body)?.into_domain(id);
            service
                .put_relation(adm, &relation)
                .await
                .map_err(service_refusal)?;
        }
        LineType::Invoice => {
            let invoice = from_value::<PutInvoiceBody>(body)?
                .into_domain(id)
                .map_err(|p| service_refusal(ServiceError::Invalid(p)))?;
            service
                .put_invoice(adm, &invoice)
                .await
                .map_err(service_refusal)?;
        }
        LineType::RelationSnelstart => {
            let wanted = from_value::<PutSnelstartBody>(body)?;
            service
                .set_relation_snelstart(adm, &id, wanted.enabled)
                .await
                .map_err(service_refusal)?;
        }
    }
    Ok(())
}

/// Imports JSON lines into administratie `adm` (which the caller has checked exists).
/// Blank lines are skipped; line numbers count every line of `input` from 1.
pub async fn import_jsonl<S, A, N, C>(
    service: &Service<S, A, N, C>,
    adm: &AdministratieCode,
    input: &str,
) -> ImportReport
where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    let mut report = ImportReport::default();
    for (index, line) in input.lines().enumerate() {
        let line_number = index + 1;
        let text = line.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            continue;
        }
        match apply(service, adm, text).await {
            Ok(()) => report.imported += 1,
            Err(Refusal(problems)) => {
                report
                    .errors
                    .extend(
                        problems
                            .into_iter()
                            .map(|(field, message)| ImportLineError {
                                line: line_number,
                                field,
                                message,
                            }),
                    );
            }
        }
    }
    report
}
