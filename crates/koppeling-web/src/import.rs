//! `koppeling import`: JSON lines of Beheerders, relations, invoices and SnelStart ticks.
//!
//! Each line is `{"type":"admin"|"relation"|"invoice"|"relation_snelstart","id":…, …}` with
//! the other fields exactly as the API's PUT body, or an invoice's document (product §8.4)
//! `{"type":"invoice_document","invoice_id","kind","filename","content_base64"}`; such a
//! line may be up to 10 MiB, every other line up to 1 MiB. Lines are applied in order, each on its
//! own (like one API call); a bad line is reported and the others still go in.

use std::fmt;

use koppeling_domain::app::App;
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::ports::Missing;
use koppeling_domain::sync::ServiceError;
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
                    let message = p.message();
                    let field = if p.field.is_empty() {
                        "id".to_owned()
                    } else {
                        p.field
                    };
                    (field, message)
                })
                .collect(),
        ),
        ServiceError::Conflict { message, field, .. } => {
            Refusal::one(field.as_deref().unwrap_or("id"), message)
        }
        ServiceError::NotFound(what @ Missing::Administratie(_)) => {
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
                "type is required: admin, relation, invoice, relation_snelstart or invoice_document",
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
                        "{other:?} is not a line type; use admin, relation, invoice, relation_snelstart or invoice_document"
                    ),
                ));
            }
        },
        Some(_) => return Err(Refusal::one("type", "type must be a string")),
    };
    let id = match object.remove("id") {
        None => return Err(Refusal::one("id", "id is required")),
        Some(Value::String(raw)) => {
            ResourceId::parse(&raw).map_err(|p| Refusal::one("id", p.message()))?
        }
        Some(Value::Number(n)) => {
            ResourceId::parse(n.as_str()).map_err(|p| Refusal::one("id", p.message()))?
        }
        Some(_) => return Err(Refusal::one("id", "id must be a string")),
    };
    Ok((kind, id, Value::Object(object)))
}

/// The `invoice_document` line: `{"type","invoice_id","kind","filename","content_base64"}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentLine {
    #[serde(rename = "type")]
    _type: String,
    invoice_id: String,
    kind: String,
    #[serde(default)]
    filename: Option<String>,
    content_base64: String,
}

/// Whether `line` is an `invoice_document` line (these may be longer than the others).
fn is_document_line(line: &str) -> bool {
    serde_json::from_str::<Value>(line)
        .ok()
        .is_some_and(|v| v.get("type").and_then(Value::as_str) == Some("invoice_document"))
}

async fn apply_document<P>(service: &P, adm: &AdministratieCode, line: &str) -> Result<(), Refusal>
where
    P: App,
{
    use base64::Engine as _;
    use koppeling_domain::document::{DocumentKind, MAX_DOCUMENT_BYTES, check_filename};
    let d: DocumentLine = serde_json::from_str(line).map_err(|e| {
        let text = e.to_string();
        let field = ["invoice_id", "kind", "filename", "content_base64"]
            .into_iter()
            .find(|f| text.contains(&format!("`{f}`")))
            .unwrap_or("json");
        Refusal::one(field, format!("not a valid invoice_document line: {text}"))
    })?;
    let id =
        ResourceId::parse(&d.invoice_id).map_err(|p| Refusal::one("invoice_id", p.message()))?;
    let kind = DocumentKind::parse(&d.kind).ok_or_else(|| {
        Refusal::one(
            "kind",
            format!("{:?} is not a document kind; use pdf or ubl", d.kind),
        )
    })?;
    if let Some(name) = &d.filename {
        check_filename(name).map_err(|p| Refusal::one("filename", p.message))?;
    }
    let content = base64::engine::general_purpose::STANDARD
        .decode(d.content_base64.trim())
        .map_err(|e| {
            Refusal::one(
                "content_base64",
                format!("content_base64 is not base64: {e}"),
            )
        })?;
    if content.len() > MAX_DOCUMENT_BYTES {
        return Err(Refusal::one(
            "content_base64",
            format!(
                "the document has {} bytes; at most {MAX_DOCUMENT_BYTES} (7 MiB)",
                content.len()
            ),
        ));
    }
    service
        .put_document(adm, &id, kind, d.filename, content)
        .await
        .map_err(|e| match e {
            ServiceError::Invalid(problems) => Refusal(
                problems
                    .into_iter()
                    .map(|p| {
                        let message = p.message();
                        let field = if p.field == "content" {
                            "content_base64".to_owned()
                        } else {
                            p.field
                        };
                        (field, message)
                    })
                    .collect(),
            ),
            ServiceError::NotFound(what) => Refusal::one("invoice_id", format!("{what} not found")),
            other => service_refusal(other),
        })?;
    Ok(())
}

async fn apply<P>(service: &P, adm: &AdministratieCode, line: &str) -> Result<(), Refusal>
where
    P: App,
{
    if is_document_line(line) {
        return apply_document(service, adm, line).await;
    }
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

/// The longest import line, in bytes without its line end (1 MiB, issue 13). A longer line
/// is refused with its number and not read into memory; the lines around it still go in.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// The longest `invoice_document` line (10 MiB: a 7 MiB document in base64 and its fields).
pub const MAX_DOCUMENT_LINE_BYTES: usize = 10 * 1024 * 1024;

/// What [`read_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// A line is in the buffer (without its `\n`).
    Line,
    /// The line was longer than the limit; it was skipped up to its end.
    TooLong,
    /// The end of the input.
    Eof,
}

/// Reads one `\n`-terminated line of at most `limit` bytes into `buf` (cleared first),
/// holding at most `limit` bytes of it in memory; a longer line is skipped to its end.
///
/// # Errors
/// A read error of `reader`.
pub async fn read_line<R>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<LineRead>
where
    R: tokio::io::AsyncBufRead + Unpin,
{
    use tokio::io::AsyncBufReadExt as _;
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => LineRead::Eof,
                (true, true) => LineRead::TooLong,
                (true, false) => LineRead::Line,
            });
        }
        any = true;
        let (part, used, end) = match chunk.iter().position(|b| *b == b'\n') {
            Some(at) => (&chunk[..at], at + 1, true),
            None => (chunk, chunk.len(), false),
        };
        if !too_long {
            if buf.len() + part.len() > limit {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(part);
            }
        }
        reader.consume(used);
        if end {
            return Ok(if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
    }
}

/// Imports JSON lines into administratie `adm` (which the caller has checked exists).
/// Blank lines are skipped; line numbers count every line of `input` from 1.
pub async fn import_jsonl<P>(service: &P, adm: &AdministratieCode, input: &str) -> ImportReport
where
    P: App,
{
    match import_reader(service, adm, input.as_bytes()).await {
        Ok(report) => report,
        Err(e) => unreachable!("reading a string cannot fail: {e}"),
    }
}

/// Imports JSON lines read from `reader`, line by line: at most one line
/// ([`MAX_LINE_BYTES`]) is held in memory. Each line is applied on its own, so a refused
/// line (also one that is too long) writes nothing and the others still go in.
///
/// # Errors
/// A read error of `reader` (the lines before it were applied).
pub async fn import_reader<P, R>(
    service: &P,
    adm: &AdministratieCode,
    mut reader: R,
) -> std::io::Result<ImportReport>
where
    P: App,
    R: tokio::io::AsyncBufRead + Unpin,
{
    let mut report = ImportReport::default();
    let mut buf = Vec::new();
    let mut line_number = 0;
    loop {
        let mut read = read_line(&mut reader, &mut buf, MAX_DOCUMENT_LINE_BYTES).await?;
        line_number += 1;
        // Only an invoice_document line may be longer than 1 MiB.
        if read == LineRead::Line
            && buf.len() > MAX_LINE_BYTES
            && !std::str::from_utf8(&buf).is_ok_and(|l| is_document_line(l.trim()))
        {
            read = LineRead::TooLong;
        }
        let problems = match read {
            LineRead::Eof => break,
            LineRead::TooLong => vec![(
                "json".to_owned(),
                format!(
                    "the line is longer than {MAX_LINE_BYTES} bytes (1 MiB; an invoice_document line {MAX_DOCUMENT_LINE_BYTES} bytes, 10 MiB); it was not imported"
                ),
            )],
            LineRead::Line => {
                let Ok(line) = std::str::from_utf8(&buf) else {
                    report.errors.push(ImportLineError {
                        line: line_number,
                        field: "json".to_owned(),
                        message: "the line is not valid UTF-8".to_owned(),
                    });
                    continue;
                };
                let text = line.trim().trim_start_matches('\u{feff}');
                if text.is_empty() {
                    continue;
                }
                match apply(service, adm, text).await {
                    Ok(()) => {
                        report.imported += 1;
                        continue;
                    }
                    Err(Refusal(problems)) => problems,
                }
            }
        };
        report.errors.extend(
            problems
                .into_iter()
                .map(|(field, message)| ImportLineError {
                    line: line_number,
                    field,
                    message,
                }),
        );
    }
    Ok(report)
}

#[cfg(test)]
mod line_tests {
    use super::{LineRead, read_line};

    async fn lines(input: &[u8], limit: usize) -> Vec<(usize, LineRead, usize)> {
        let mut reader = tokio::io::BufReader::with_capacity(7, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let mut n = 0;
        loop {
            let read = read_line(&mut reader, &mut buf, limit).await.unwrap();
            n += 1;
            if read == LineRead::Eof {
                return out;
            }
            assert!(buf.len() <= limit);
            out.push((n, read, buf.len()));
        }
    }

    #[tokio::test]
    async fn a_line_of_exactly_the_limit_is_read_and_one_byte_more_is_refused_with_its_number() {
        let limit = 20;
        let mut input = Vec::new();
        input.extend_from_slice(b"short\n");
        input.extend(std::iter::repeat_n(b'a', limit));
        input.push(b'\n');
        input.extend(std::iter::repeat_n(b'b', limit + 1));
        input.push(b'\n');
        input.extend_from_slice(b"after");
        assert_eq!(
            lines(&input, limit).await,
            vec![
                (1, LineRead::Line, 5),
                (2, LineRead::Line, limit),
                (3, LineRead::TooLong, 0),
                (4, LineRead::Line, 5),
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn lines_split_as_str_lines_and_long_ones_are_refused(
            parts in proptest::collection::vec(proptest::collection::vec(b'a'..=b'z', 0..40), 0..12),
            limit in 1usize..30,
        ) {
            let input = parts.iter().map(|p| String::from_utf8(p.clone()).unwrap()).collect::<Vec<_>>().join("\n");
            let got = tokio::runtime::Builder::new_current_thread().build().unwrap()
                .block_on(lines(input.as_bytes(), limit));
            let want: Vec<(usize, LineRead, usize)> = input.lines().enumerate().map(|(i, l)| {
                if l.len() > limit { (i + 1, LineRead::TooLong, 0) } else { (i + 1, LineRead::Line, l.len()) }
            }).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
