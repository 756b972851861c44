//! Reconciliation (aansluiting) and the preview before ticking (product §8.3).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use koppeling_domain::app::App;
use koppeling_domain::money::format_cents;
use koppeling_domain::reconciliation::{ByClass, DifferenceKind, Period, Preview, Reconciliation};
use serde::Serialize;

use super::{PathParams, QueryParams, ok, path_adm, path_adm_id, query};
use crate::AppState;
use crate::error::{ApiError, ProblemJson};

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Period)]
pub(crate) struct PeriodJson {
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ClassSums)]
pub(crate) struct ClassJson {
    #[schema(pattern = "^-?[0-9]+\\.[0-9]{2}$")]
    base: String,
    #[schema(pattern = "^-?[0-9]+\\.[0-9]{2}$")]
    vat: String,
}

fn by_class(by: &ByClass) -> BTreeMap<&'static str, ClassJson> {
    by.iter()
        .map(|(class, sums)| {
            (
                class.as_str(),
                ClassJson {
                    base: format_cents(sums.base),
                    vat: format_cents(sums.vat),
                },
            )
        })
        .collect()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Radar360Side)]
pub(crate) struct RadarJson {
    count: u64,
    net: String,
    vat: String,
    gross: String,
    #[schema(value_type = BTreeMap<String, ClassJson>)]
    by_class: BTreeMap<&'static str, ClassJson>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SnelStartSide)]
pub(crate) struct SnelStartJson {
    count: u64,
    gross: String,
    #[schema(value_type = BTreeMap<String, ClassJson>)]
    by_class: BTreeMap<&'static str, ClassJson>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ReconciliationDifference)]
pub(crate) struct DifferenceJson {
    #[schema(value_type = crate::openapi::schemas::DifferenceKind)]
    kind: &'static str,
    invoice_id: Option<String>,
    number: String,
    radar360: Option<String>,
    snelstart: Option<String>,
}

/// The answer of `GET …/reconciliation`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Reconciliation)]
pub(crate) struct ReconciliationJson {
    period: PeriodJson,
    checked_at: DateTime<Utc>,
    radar360: RadarJson,
    snelstart: SnelStartJson,
    matched: u64,
    differences: Vec<DifferenceJson>,
}

impl From<&Reconciliation> for ReconciliationJson {
    fn from(r: &Reconciliation) -> Self {
        Self {
            period: PeriodJson {
                from: r.period.from,
                to: r.period.to,
            },
            checked_at: r.checked_at,
            radar360: RadarJson {
                count: r.radar360.count,
                net: format_cents(r.radar360.net),
                vat: format_cents(r.radar360.vat),
                gross: format_cents(r.radar360.gross),
                by_class: by_class(&r.radar360.by_class),
            },
            snelstart: SnelStartJson {
                count: r.snelstart.count,
                gross: format_cents(r.snelstart.gross),
                by_class: by_class(&r.snelstart.by_class),
            },
            matched: r.matched,
            differences: r
                .differences
                .iter()
                .map(|d| DifferenceJson {
                    kind: d.kind.as_str(),
                    invoice_id: d.invoice_id.clone(),
                    number: d.number.clone(),
                    radar360: d.radar360.clone(),
                    snelstart: d.snelstart.clone(),
                })
                .collect(),
        }
    }
}

/// One CSV field: quoted when it holds `;`, `"` or a line break (quotes doubled).
fn csv_field(text: &str) -> String {
    if text.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// An amount with a decimal comma (`121,00`), as Dutch spreadsheets read it.
fn comma(value: Option<&str>, amount: bool) -> String {
    match value {
        None => String::new(),
        Some(v) if amount => v.replace('.', ","),
        Some(v) => v.to_owned(),
    }
}

/// The differences as CSV: `;`-separated, a header row, decimal comma, CRLF line ends.
pub(crate) fn csv(r: &Reconciliation) -> String {
    let mut out = String::from("kind;invoice_id;number;radar360;snelstart\r\n");
    for d in &r.differences {
        let amount = matches!(
            d.kind,
            DifferenceKind::AmountDiffers
                | DifferenceKind::MissingInSnelstart
                | DifferenceKind::UnknownInRadar360
                | DifferenceKind::DeletedInSnelstart
        );
        let row = [
            d.kind.as_str().to_owned(),
            d.invoice_id.clone().unwrap_or_default(),
            d.number.clone(),
            comma(d.radar360.as_deref(), amount),
            comma(d.snelstart.as_deref(), amount),
        ];
        let row: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(";"));
        out.push_str("\r\n");
    }
    out
}

/// The CSV answer, offered as a download.
pub(crate) fn csv_response(adm: &str, r: &Reconciliation) -> Response {
    let mut response = (StatusCode::OK, csv(r)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let name = format!(
        "attachment; filename=\"aansluiting-{adm}-{}-{}.csv\"",
        r.period.from, r.period.to
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

fn day(q: &std::collections::HashMap<String, String>, name: &str) -> Result<NaiveDate, ApiError> {
    let raw = q.get(name).map(String::as_str).unwrap_or_default();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|_| raw.len() == 10)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!("{name} must be a date written YYYY-MM-DD."),
            )
            .with_field(name)
        })
}

/// The query of the reconciliation.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct ReconciliationQuery {
    /// The first day, YYYY-MM-DD.
    #[param(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    from: String,
    /// The last day (included), YYYY-MM-DD; at most 366 days after `from`.
    #[param(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    to: String,
    /// `json` (the default) or `csv`; empty is `json`.
    #[param(value_type = Option<crate::openapi::schemas::ReconciliationFormat>)]
    format: Option<String>,
}

/// `GET /administraties/{adm}/reconciliation?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]`.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/reconciliation",
    params(super::AdmPath, ReconciliationQuery),
    tag = "reconciliation",
    responses(
        (status = 200, description = "The reconciliation (JSON), or with `format=csv` its differences as `;`-separated text with a header row `kind;invoice_id;number;radar360;snelstart`", content((ReconciliationJson = "application/json"), (String = "text/csv"))),
        (status = 404, description = "No such administratie (`not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "No koppelsleutel is stored (`not_connected`)", body = crate::error::ErrorBody),
        (status = 422, description = "The period ends before it starts or is longer than 366 days", body = crate::error::ErrorBody),
        (status = 503, description = "SnelStart could not be reached (`unavailable`), or the SnelStart call budget cannot serve it now (`snelstart_budget`, with `Retry-After`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn reconciliation<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let adm = path_adm(params)?;
    let q = query(q)?;
    let csv = match q.get("format").map(String::as_str) {
        None | Some("" | "json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(
                ApiError::bad_request("invalid_query", "format must be json or csv.")
                    .with_field("format"),
            );
        }
    };
    let period = Period::new(day(&q, "from")?, day(&q, "to")?)?;
    let r = state.service.reconciliation(&adm, period).await?;
    Ok(if csv {
        csv_response(adm.as_str(), &r)
    } else {
        ok(&ReconciliationJson::from(&r))
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PreviewRelation)]
pub(crate) struct PreviewRelationJson {
    ok: bool,
    problems: Vec<ProblemJson>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PreviewInvoice)]
pub(crate) struct PreviewInvoiceJson {
    invoice_id: String,
    number: String,
    date: NaiveDate,
    gross: String,
    #[schema(value_type = crate::openapi::schemas::Would)]
    would: &'static str,
    problems: Vec<ProblemJson>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PreviewTotals)]
pub(crate) struct PreviewTotalsJson {
    count: u64,
    gross: String,
}

/// The answer of `GET …/relations/{id}/snelstart/preview`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Preview)]
pub(crate) struct PreviewJson {
    relation: PreviewRelationJson,
    invoices: Vec<PreviewInvoiceJson>,
    totals: PreviewTotalsJson,
}

impl From<&Preview> for PreviewJson {
    fn from(p: &Preview) -> Self {
        Self {
            relation: PreviewRelationJson {
                ok: p.relation_ok,
                problems: p.relation_problems.iter().map(ProblemJson::from).collect(),
            },
            invoices: p
                .invoices
                .iter()
                .map(|l| PreviewInvoiceJson {
                    invoice_id: l.invoice_id.clone(),
                    number: l.number.clone(),
                    date: l.date,
                    gross: format_cents(l.gross),
                    would: l.would.as_str(),
                    problems: l.problems.iter().map(ProblemJson::from).collect(),
                })
                .collect(),
            totals: PreviewTotalsJson {
                count: p.count,
                gross: format_cents(p.gross),
            },
        }
    }
}

/// `GET /administraties/{adm}/relations/{id}/snelstart/preview`: what ticking would do,
/// writing nothing.
#[utoipa::path(
    get,
    path = "/administraties/{adm}/relations/{id}/snelstart/preview",
    params(super::AdmIdPath),
    tag = "relations",
    responses(
        (status = 200, description = "What ticking SnelStart on this relation would do, invoice by invoice; writes nothing", body = PreviewJson),
        (status = 404, description = "No such administratie or relation (`not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "No koppelsleutel is stored (`not_connected`)", body = crate::error::ErrorBody),
        (status = 503, description = "SnelStart could not be reached (`unavailable`), or the SnelStart call budget cannot serve it now (`snelstart_budget`, with `Retry-After`)", body = crate::error::ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn preview<P: App>(
    State(state): State<AppState<P>>,
    params: PathParams,
) -> Result<Response, ApiError> {
    let (adm, id) = path_adm_id(params)?;
    let p = state.service.preview_relation(&adm, &id).await?;
    Ok(ok(&PreviewJson::from(&p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("F-1"), "F-1");
        assert_eq!(csv_field("F;1"), "\"F;1\"");
        assert_eq!(csv_field("F\"1"), "\"F\"\"1\"");
        assert_eq!(comma(Some("1210.00"), true), "1210,00");
        assert_eq!(comma(Some("2026-04-02"), false), "2026-04-02");
        assert_eq!(comma(None, true), "");
    }
}
