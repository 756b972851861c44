//! *Aansluiting* (product §8.3): a period (month, quarter or year), the totals per VAT class of
//! both sides as on the btw-aangifte, a bar chart per month drawn here as inline SVG, the
//! differences with links to the invoices, and the CSV download.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use koppeling_domain::app::App;
use koppeling_domain::reconciliation::{MonthBar, Period, Reconciliation, ReportClass};
use rust_decimal::Decimal;

use askama::Template;

use super::html::{self, Nav, Shell, url};
use super::session::Session;
use super::{QueryMap, failure_page, html_response};
use crate::AppState;

const MONTHS: [&str; 12] = [
    "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
];

/// The period chosen in the form: `soort` maand|kwartaal|jaar, `jaar`, `nr` (month or quarter).
fn chosen(q: &std::collections::HashMap<String, String>) -> Option<(Period, String)> {
    let year: i32 = q
        .get("jaar")?
        .trim()
        .parse()
        .ok()
        .filter(|y| (1900..=2400).contains(y))?;
    let nr: u32 = q.get("nr").and_then(|n| n.trim().parse().ok()).unwrap_or(1);
    let first = |m: u32| NaiveDate::from_ymd_opt(year, m, 1);
    let (from, to, label) = match q.get("soort").map(String::as_str).unwrap_or("kwartaal") {
        "maand" if (1..=12).contains(&nr) => {
            let from = first(nr)?;
            let to = if nr == 12 {
                NaiveDate::from_ymd_opt(year, 12, 31)?
            } else {
                first(nr + 1)?.pred_opt()?
            };
            (from, to, format!("{} {year}", MONTHS[(nr - 1) as usize]))
        }
        "jaar" => (
            first(1)?,
            NaiveDate::from_ymd_opt(year, 12, 31)?,
            format!("{year}"),
        ),
        "kwartaal" if (1..=4).contains(&nr) => {
            let from = first(3 * nr - 2)?;
            let to = if nr == 4 {
                NaiveDate::from_ymd_opt(year, 12, 31)?
            } else {
                first(3 * nr + 1)?.pred_opt()?
            };
            (from, to, format!("Q{nr} {year}"))
        }
        _ => return None,
    };
    Some((Period::new(from, to).ok()?, label))
}

/// `templates/aansluiting.html`: the period form and, once a period is chosen, the report.
#[derive(Template)]
#[template(path = "aansluiting.html")]
struct AansluitingPage<'a> {
    shell: Shell<'a>,
    /// The kinds of period, the chosen one marked.
    kinds: [(&'static str, bool); 3],
    year: String,
    nr: String,
    /// A period was asked for but is not one.
    invalid: bool,
    report: Option<Report>,
}

/// The reconciliation of one period, formatted for the page.
struct Report {
    label: String,
    from: String,
    to: String,
    checked_at: String,
    rows: Vec<ClassRow>,
    count_radar360: u64,
    count_snelstart: u64,
    gross_radar360: String,
    gross_snelstart: String,
    matched: u64,
    chart: Chart,
    /// The period's query string (percent-encoded) for the CSV link.
    query: String,
    differences: Vec<DifferenceRow>,
}

struct ClassRow {
    class: &'static str,
    label: &'static str,
    base_radar360: String,
    base_snelstart: String,
    vat_radar360: String,
    vat_snelstart: String,
}

struct DifferenceRow {
    kind: &'static str,
    /// The invoice's id, percent-encoded for its link, when it is ours.
    invoice_id: Option<String>,
    number: String,
    what: &'static str,
    radar360: String,
    snelstart: String,
}

/// The bar chart, drawn as inline SVG by the template.
struct Chart {
    width: i64,
    height: i64,
    months: Vec<ChartMonth>,
}

struct ChartMonth {
    bars: [ChartBar; 2],
    label: &'static str,
    label_x: i64,
    label_y: i64,
}

struct ChartBar {
    class: &'static str,
    color: &'static str,
    /// `2026-03`.
    month: String,
    /// The amount as held, e.g. `1210.00`.
    value: String,
    x: i64,
    y: i64,
    height: i64,
    /// `Radar360 mrt 2026: € 1.210,00`.
    title: String,
}

/// One bar pair per month, scaled to the largest value; negative months draw at zero height.
fn chart(bars: &[MonthBar]) -> Chart {
    let max = bars
        .iter()
        .flat_map(|b| [b.radar360, b.snelstart])
        .fold(Decimal::ZERO, Decimal::max);
    let (h, slot) = (160i64, 48i64);
    let width = slot * i64::try_from(bars.len()).unwrap_or(12) + 20;
    let scale = |v: Decimal| -> i64 {
        if max.is_zero() || v <= Decimal::ZERO {
            0
        } else {
            i64::try_from((v * Decimal::from(h) / max).round().mantissa())
                .unwrap_or(0)
                .clamp(0, h)
        }
    };
    let months = bars
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let x = 10 + slot * i64::try_from(i).unwrap_or(0);
            let label = MONTHS[(b.month - 1) as usize];
            let bar = |dx: i64, value: Decimal, class, color, who: &str| {
                let height = scale(value);
                ChartBar {
                    class,
                    color,
                    month: format!("{}-{:02}", b.year, b.month),
                    value: koppeling_domain::money::format_cents(value),
                    x: x + dx,
                    y: 10 + h - height,
                    height,
                    title: format!("{who} {label} {}: {}", b.year, html::euro(value)),
                }
            };
            ChartMonth {
                bars: [
                    bar(0, b.radar360, "radar360", "#1f5fa8", "Radar360"),
                    bar(18, b.snelstart, "snelstart", "#e4002b", "SnelStart"),
                ],
                label,
                label_x: x + 4,
                label_y: h + 28,
            }
        })
        .collect();
    Chart {
        width,
        height: h + 40,
        months,
    }
}

fn report(r: &Reconciliation, label: String, query: String) -> Report {
    let rows = [
        (ReportClass::High, "Omzet hoog (21 %)"),
        (ReportClass::Low, "Omzet laag (9 %)"),
        (ReportClass::Zero, "Omzet 0 % / verlegd"),
    ]
    .into_iter()
    .map(|(class, label)| {
        let a = r.radar360.by_class.get(&class).copied().unwrap_or_default();
        let b = r
            .snelstart
            .by_class
            .get(&class)
            .copied()
            .unwrap_or_default();
        ClassRow {
            class: class.as_str(),
            label,
            base_radar360: html::euro(a.base),
            base_snelstart: html::euro(b.base),
            vat_radar360: html::euro(a.vat),
            vat_snelstart: html::euro(b.vat),
        }
    })
    .collect();
    let differences = r
        .differences
        .iter()
        .map(|d| DifferenceRow {
            kind: d.kind.as_str(),
            invoice_id: d.invoice_id.as_deref().map(url),
            number: d.number.clone(),
            what: d.kind.dutch(),
            radar360: shown(d.radar360.as_deref()),
            snelstart: shown(d.snelstart.as_deref()),
        })
        .collect();
    Report {
        label,
        from: html::date(&r.period.from),
        to: html::date(&r.period.to),
        checked_at: html::time(&r.checked_at),
        rows,
        count_radar360: r.radar360.count,
        count_snelstart: r.snelstart.count,
        gross_radar360: html::euro(r.radar360.gross),
        gross_snelstart: html::euro(r.snelstart.gross),
        matched: r.matched,
        chart: chart(&r.months),
        query,
        differences,
    }
}

/// A difference's value for people: an amount as `€ 1.210,00`, anything else as it is.
fn shown(value: Option<&str>) -> String {
    match value {
        None => "—".to_owned(),
        Some(v) => match v.parse::<Decimal>() {
            // Dates (`2026-04-02`) and relatie ids do not parse as numbers.
            Ok(amount) => html::euro(amount),
            _ => v.to_owned(),
        },
    }
}

fn query_string(q: &std::collections::HashMap<String, String>) -> String {
    ["soort", "jaar", "nr"]
        .iter()
        .filter_map(|k| q.get(*k).map(|v| format!("{k}={}", url(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// `GET /aansluiting?soort=&jaar=&nr=`.
pub(crate) async fn page<P: App>(
    State(state): State<AppState<P>>,
    session: Session,
    Query(q): QueryMap,
) -> Response {
    let today = chrono::Utc::now().date_naive();
    let soort = q.get("soort").map_or("kwartaal", String::as_str);
    let mut invalid = false;
    let mut shown_report = None;
    if q.contains_key("jaar") {
        match chosen(&q) {
            None => invalid = true,
            Some((period, label)) => match state.service.reconciliation(&session.adm, period).await
            {
                Ok(r) => shown_report = Some(report(&r, label, query_string(&q))),
                Err(e) => return failure_page(&session, e),
            },
        }
    }
    let page = AansluitingPage {
        shell: Shell::new(&session, Nav::Aansluiting, "Aansluiting"),
        kinds: ["maand", "kwartaal", "jaar"].map(|kind| (kind, kind == soort)),
        year: q
            .get("jaar")
            .cloned()
            .unwrap_or_else(|| today.year().to_string()),
        nr: q
            .get("nr")
            .cloned()
            .unwrap_or_else(|| ((today.month() - 1) / 3 + 1).to_string()),
        invalid,
        report: shown_report,
    };
    html_response(StatusCode::OK, html::render(&page))
}

/// `GET /aansluiting.csv?soort=&jaar=&nr=`: the differences as CSV.
pub(crate) async fn csv<P: App>(
    State(state): State<AppState<P>>,
    session: Session,
    Query(q): QueryMap,
) -> Response {
    let Some((period, _)) = chosen(&q) else {
        return super::not_found_page(&session, "periode");
    };
    match state.service.reconciliation(&session.adm, period).await {
        Ok(r) => crate::api::reconciliation::csv_response(session.adm.as_str(), &r),
        Err(e) => failure_page(&session, e),
    }
}
