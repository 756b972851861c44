//! *Aansluiting* (product §8.3): a period (month, quarter or year), the totals per VAT class of
//! both sides as on the btw-aangifte, a bar chart per month drawn here as inline SVG, the
//! differences with links to the invoices, and the CSV download.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use koppeling_domain::app::App;
use koppeling_domain::reconciliation::{MonthBar, Period, Reconciliation, ReportClass};
use rust_decimal::Decimal;

use super::html::{self, Nav, esc, url};
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

fn form(q: &std::collections::HashMap<String, String>, today: NaiveDate) -> String {
    let soort = q.get("soort").map_or("kwartaal", String::as_str);
    let option = |v: &str, label: &str| {
        let sel = if v == soort { " selected" } else { "" };
        format!(r#"<option value="{v}"{sel}>{label}</option>"#)
    };
    format!(
        r#"<form class="filter" method="get" action="/aansluiting"><label>Periode <select name="soort">{}{}{}</select></label>
<label>Jaar <input name="jaar" size="5" value="{}"></label><label>Maand of kwartaal <input name="nr" size="3" value="{}"></label>
<button type="submit">Vergelijken</button></form>"#,
        option("maand", "maand"),
        option("kwartaal", "kwartaal"),
        option("jaar", "jaar"),
        esc(q.get("jaar").map_or(&today.year().to_string(), |s| s)),
        esc(q
            .get("nr")
            .map_or(&((today.month() - 1) / 3 + 1).to_string(), |s| s)),
    )
}

/// One bar pair per month, scaled to the largest value; negative months draw at zero height.
fn chart(bars: &[MonthBar]) -> String {
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
    let mut svg = format!(
        r#"<svg id="grafiek" role="img" aria-label="Omzet incl. btw per maand: Radar360 en SnelStart" width="{width}" height="{}" viewBox="0 0 {width} {}" xmlns="http://www.w3.org/2000/svg">"#,
        h + 40,
        h + 40
    );
    for (i, b) in bars.iter().enumerate() {
        let x = 10 + slot * i64::try_from(i).unwrap_or(0);
        for (dx, value, class, color, who) in [
            (0, b.radar360, "radar360", "#1f5fa8", "Radar360"),
            (18, b.snelstart, "snelstart", "#e4002b", "SnelStart"),
        ] {
            let bh = scale(value);
            let _ = write!(
                svg,
                r#"<rect class="bar {class}" data-month="{y}-{m:02}" data-value="{v}" x="{}" y="{}" width="16" height="{bh}" fill="{color}"><title>{who} {mon} {y}: {e}</title></rect>"#,
                x + dx,
                10 + h - bh,
                y = b.year,
                m = b.month,
                v = koppeling_domain::money::format_cents(value),
                mon = MONTHS[(b.month - 1) as usize],
                e = esc(&html::euro(value)),
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="12">{}</text>"#,
            x + 4,
            h + 28,
            MONTHS[(b.month - 1) as usize]
        );
    }
    svg.push_str("</svg>");
    svg
}

fn body(r: &Reconciliation, label: &str, query: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<p class="hint">Periode {label}: {} t/m {} · SnelStart gelezen {}</p>"#,
        html::date(&r.period.from),
        html::date(&r.period.to),
        html::time(&r.checked_at)
    );
    let mut rows = String::new();
    for (class, label) in [
        (ReportClass::High, "Omzet hoog (21 %)"),
        (ReportClass::Low, "Omzet laag (9 %)"),
        (ReportClass::Zero, "Omzet 0 % / verlegd"),
    ] {
        let a = r.radar360.by_class.get(&class).copied().unwrap_or_default();
        let b = r
            .snelstart
            .by_class
            .get(&class)
            .copied()
            .unwrap_or_default();
        let _ = write!(
            rows,
            r#"<tr data-class="{c}"><th>{label}</th><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            html::euro(a.base),
            html::euro(b.base),
            html::euro(a.vat),
            html::euro(b.vat),
            c = class.as_str(),
        );
    }
    let _ = write!(
        out,
        r#"<h2>Totalen per btw-tarief</h2><table id="totalen"><thead><tr><th></th><th class="num">Omzet Radar360</th><th class="num">Omzet SnelStart</th><th class="num">Btw Radar360</th><th class="num">Btw SnelStart</th></tr></thead><tbody>{rows}
<tr><th>Facturen</th><td class="num">{}</td><td class="num">{}</td><td></td><td></td></tr>
<tr><th>Totaal incl. btw</th><td class="num">{}</td><td class="num">{}</td><td></td><td></td></tr></tbody></table>
<p>{} facturen sluiten aan.</p><h2>Per maand (incl. btw)</h2><p class="hint"><span style="color:#1f5fa8">■</span> Radar360 <span style="color:#e4002b">■</span> SnelStart</p>{}"#,
        r.radar360.count,
        r.snelstart.count,
        html::euro(r.radar360.gross),
        html::euro(r.snelstart.gross),
        r.matched,
        chart(&r.months),
    );
    let _ = write!(
        out,
        r#"<h2>Verschillen</h2><p><a class="button secondary" id="csv" href="/aansluiting.csv?{query}" download>Download CSV</a></p>"#
    );
    if r.differences.is_empty() {
        out.push_str(r#"<p class="notice">Geen verschillen: SnelStart sluit aan op Radar360.</p>"#);
    } else {
        out.push_str(r#"<table id="verschillen"><thead><tr><th>Factuur</th><th>Verschil</th><th>Radar360</th><th>SnelStart</th></tr></thead><tbody>"#);
        for d in &r.differences {
            let invoice = match &d.invoice_id {
                Some(id) => format!(r#"<a href="/facturen/{}">{}</a>"#, url(id), esc(&d.number)),
                None => esc(&d.number),
            };
            let _ = write!(
                out,
                r#"<tr data-kind="{}"><td>{invoice}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                d.kind.as_str(),
                d.kind.dutch(),
                shown(d.radar360.as_deref()),
                shown(d.snelstart.as_deref()),
            );
        }
        out.push_str("</tbody></table>");
    }
    out
}

/// A difference's value for people: an amount as `€ 1.210,00`, anything else as it is.
fn shown(value: Option<&str>) -> String {
    match value {
        None => "—".to_owned(),
        Some(v) => match v.parse::<Decimal>() {
            // Dates (`2026-04-02`) and relatie ids do not parse as numbers.
            Ok(amount) => html::euro(amount),
            _ => esc(v),
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
    let mut body_html = form(&q, today);
    if q.contains_key("jaar") {
        match chosen(&q) {
            None => body_html.push_str(r#"<p class="problems">Kies een geldige periode: een maand (1–12), kwartaal (1–4) of jaar.</p>"#),
            Some((period, label)) => match state.service.reconciliation(&session.adm, period).await {
                Ok(r) => body_html.push_str(&body(&r, &label, &query_string(&q))),
                Err(e) => return failure_page(&session, e),
            },
        }
    }
    html_response(
        StatusCode::OK,
        html::page(
            &session,
            Nav::Aansluiting,
            "Aansluiting",
            &format!("<h1>Aansluiting</h1>{body_html}"),
        ),
    )
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
