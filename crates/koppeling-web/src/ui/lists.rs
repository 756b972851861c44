//! The list screens: relaties (with the SnelStart tick), facturen (with sync state and
//! *Opnieuw aanbieden*), one factuur with its attempts, notificaties and the synclog.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use koppeling_domain::app::App;
use koppeling_domain::ids::ResourceId;
use koppeling_domain::invoice::{Invoice, InvoiceStatus};
use koppeling_domain::ports::{AttemptLog, SyncState, SyncStatus};
use koppeling_domain::readback::PaymentStatus;
use koppeling_domain::reconciliation::Preview;
use koppeling_domain::relation::Relation;
use koppeling_domain::sync::ServiceError;

use askama::Template;

use super::html::{self, Nav, Shell, csrf_field, esc, url};
use super::session::Session;
use super::{
    CsrfForm, QueryMap, failure_page, field, html_response, message_page, not_found_page, redirect,
};
use crate::AppState;

fn path_id(path: Result<Path<String>, PathRejection>) -> Option<ResourceId> {
    path.ok().and_then(|Path(raw)| ResourceId::parse(&raw).ok())
}

// ---------------------------------------------------------------------------------------
// Relaties

/// Relations a page on `/relaties` (issue 13: the page stays small however many there are).
pub(crate) const RELATIONS_PER_PAGE: u32 = 100;

/// The `pagina` (or `page`) query value: a whole number from 1, 1 otherwise.
fn pagina(value: Option<&str>) -> u32 {
    value
        .and_then(|p| p.trim().parse::<u32>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

/// `templates/relaties.html`: one page of relations with the SnelStart tick, the search and
/// the pager ("Relatie 101 tot en met 200 van 1002", Vorige/Volgende).
#[derive(Template)]
#[template(path = "relaties.html")]
struct RelationsPage<'a> {
    shell: Shell<'a>,
    search: &'a str,
    /// `search` percent-encoded for the pager's links.
    search_url: String,
    page: u32,
    rows: Vec<RelationRow<'a>>,
    total: u64,
    /// The first and last number shown.
    from: u64,
    to: u64,
    prev: Option<u32>,
    next: Option<u32>,
}

struct RelationRow<'a> {
    id: &'a str,
    /// `id` percent-encoded for the form's action.
    id_url: String,
    code: &'a str,
    name: &'a str,
    kind: &'static str,
    checked: bool,
    /// Why ticking this relation was refused.
    error: Option<&'a str>,
}

fn relations_page(
    session: &Session,
    shown: &[Relation],
    search: &str,
    page: u32,
    total: u64,
    refusal: Option<(&str, String)>,
) -> String {
    let first = u64::from(page - 1) * u64::from(RELATIONS_PER_PAGE);
    let to = first + shown.len() as u64;
    let rows = shown
        .iter()
        .map(|relation| {
            let id = relation.id.as_str();
            RelationRow {
                id,
                id_url: url(id),
                code: &relation.code,
                name: &relation.name,
                kind: html::kind_label(relation.kind),
                checked: relation.snelstart_enabled,
                error: match &refusal {
                    Some((refused, message)) if *refused == id => Some(message.as_str()),
                    _ => None,
                },
            }
        })
        .collect();
    html::render(&RelationsPage {
        shell: Shell::new(session, Nav::Relaties, "Relaties"),
        search,
        search_url: url(search),
        page,
        rows,
        total,
        from: first + 1,
        to,
        prev: (page > 1).then(|| page - 1),
        next: (to < total).then(|| page + 1),
    })
}

/// `GET /relaties?q=`.
pub(crate) async fn relations<P: App>(
    State(state): State<AppState<P>>,
    session: Session,
    Query(q): QueryMap,
) -> Response {
    let search = q.get("q").map_or("", String::as_str);
    let page = pagina(
        q.get("pagina")
            .or_else(|| q.get("page"))
            .map(String::as_str),
    );
    match state
        .service
        .relations_page(&session.adm, search, page, RELATIONS_PER_PAGE)
        .await
    {
        Ok((list, total)) => html_response(
            StatusCode::OK,
            relations_page(&session, &list, search, page, total, None),
        ),
        Err(e) => failure_page(&session, e),
    }
}

/// Why ticking was refused, in Dutch, with the seed's reason for a non-numeric code.
fn refusal_text(relation: Option<&Relation>, error: &ServiceError) -> Option<String> {
    let code = relation.map(|r| r.code.as_str()).unwrap_or_default();
    match error {
        ServiceError::Invalid(problems) => Some(
            problems
                .iter()
                .map(|p| match p.code() {
                    "code_not_numeric" => format!(
                        "Relatiecode \"{code}\" kan niet naar SnelStart: relatiecodes met letters worden niet geaccepteerd door SnelStart. Maak de relatiecode numeriek (alleen cijfers) en zet het vinkje daarna opnieuw."
                    ),
                    _ => html::dutch(p),
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ServiceError::Conflict { code: c, message, .. } => Some(if c == "code_taken" {
            format!(
                "Relatiecode \"{code}\" is al in gebruik bij een andere relatie die met SnelStart synchroniseert (bijvoorbeeld 007 en 7); SnelStart kent elke relatiecode maar één keer."
            )
        } else {
            message.clone()
        }),
        _ => None,
    }
}

/// The preview before ticking: what ticking would do, invoice by invoice, and the confirm
/// button. `preview` is `Err` with SnelStart's problem when it could not be asked which
/// invoices it already holds.
fn preview_page(
    session: &Session,
    relation: &Relation,
    preview: Result<&Preview, &str>,
    search: &str,
    page: u32,
) -> String {
    let id = relation.id.as_str();
    let mut back = Vec::new();
    if !search.is_empty() {
        back.push(format!("q={}", url(search)));
    }
    if page > 1 {
        back.push(format!("pagina={page}"));
    }
    let back = if back.is_empty() {
        format!("/relaties#relatie-{}", url(id))
    } else {
        format!("/relaties?{}#relatie-{}", back.join("&amp;"), url(id))
    };
    let (summary, table) = match preview {
        Ok(p) => {
            let mut rows = String::new();
            for line in &p.invoices {
                let why = line
                    .problems
                    .iter()
                    .map(html::dutch)
                    .collect::<Vec<_>>()
                    .join(" ");
                let _ = write!(
                    rows,
                    r#"<tr id="voorvertoning-{id_attr}" data-would="{would_attr}"><td class="nowrap"><a href="/facturen/{id_url}">{number}</a></td><td class="nowrap">{date}</td><td class="num">{gross}</td><td>{would}</td><td class="reason" title="{why}"><div class="clip">{why}</div></td></tr>"#,
                    id_attr = esc(&line.invoice_id),
                    id_url = url(&line.invoice_id),
                    would_attr = line.would.as_str(),
                    number = esc(&line.number),
                    date = html::date(&line.date),
                    gross = esc(&html::euro(line.gross)),
                    would = esc(line.would.dutch()),
                    why = esc(&why),
                );
            }
            let summary = format!(
                r#"<p id="voorvertoning-totaal">Bij aanvinken {verb} <strong>{count} {facturen}</strong> naar SnelStart verstuurd, samen {gross} inclusief btw. Er is nog niets verstuurd.</p>"#,
                verb = if p.count == 1 { "wordt" } else { "worden" },
                count = p.count,
                facturen = if p.count == 1 { "factuur" } else { "facturen" },
                gross = esc(&html::euro(p.gross)),
            );
            let table = format!(
                r#"<table id="voorvertoning"><caption class="visually-hidden">Wat aanvinken met elke definitieve factuur doet</caption>
<thead><tr><th scope="col">Factuur</th><th scope="col">Datum</th><th scope="col" class="num">Totaal</th><th scope="col">Bij aanvinken</th><th scope="col">Reden</th></tr></thead>
<tbody>{rows}</tbody></table>"#
            );
            (summary, table)
        }
        Err(problem) => (
            format!(
                r#"<p class="error" role="alert" id="voorvertoning-onbekend">SnelStart is nu niet bereikbaar ({}), dus kon niet worden nagegaan welke facturen er al staan. Na aanvinken worden alle definitieve facturen van deze relatie aangeboden; wat al in SnelStart staat, wordt niet dubbel geboekt.</p>"#,
                esc(problem)
            ),
            String::new(),
        ),
    };
    let body = format!(
        r#"<p class="breadcrumb"><a href="/relaties">Relaties</a> &gt; {name}</p>
<h1>SnelStart aanvinken voor {name} ({code})</h1>
{summary}{table}
<form class="buttons" method="post" action="/relaties/{id_url}/snelstart">{csrf}<input type="hidden" name="snelstart" value="1"><input type="hidden" name="bevestigd" value="1"><input type="hidden" name="q" value="{q}"><input type="hidden" name="pagina" value="{page}">
<button type="submit">Aanvinken en versturen</button><a class="button secondary" href="{back}">Annuleren</a></form>"#,
        name = esc(&relation.name),
        code = esc(&relation.code),
        id_url = url(id),
        csrf = csrf_field(session),
        q = esc(search),
    );
    html::page(session, Nav::Relaties, "SnelStart aanvinken", &body)
}

/// `POST /relaties/{id}/snelstart`: the checkbox; a refusal is shown inline.
pub(crate) async fn set_snelstart<P: App>(
    State(state): State<AppState<P>>,
    path: Result<Path<String>, PathRejection>,
    CsrfForm(session, submitted): CsrfForm,
) -> Response {
    let Some(id) = path_id(path) else {
        return not_found_page(&session, "Deze relatie");
    };
    let search = field(&submitted, "q").unwrap_or_default().to_owned();
    let page = pagina(field(&submitted, "pagina"));
    let enabled = field(&submitted, "snelstart").is_some();
    let confirmed = field(&submitted, "bevestigd").is_some();
    // Ticking a relation that has final invoices shows first what it would do (product
    // §8.3); the confirm button posts again with `bevestigd`. Without final invoices, or
    // for a relation that cannot be sent at all (refused below, in place), one step.
    if enabled
        && !confirmed
        && let Ok(Some(relation)) = state.service.relation(&session.adm, &id).await
        && !relation.snelstart_enabled
    {
        match state.service.preview_relation(&session.adm, &id).await {
            Ok(preview) if preview.relation_ok && !preview.invoices.is_empty() => {
                return html_response(
                    StatusCode::OK,
                    preview_page(&session, &relation, Ok(&preview), &search, page),
                );
            }
            Ok(_) => {}
            Err(ServiceError::Unavailable(message)) => {
                return html_response(
                    StatusCode::OK,
                    preview_page(&session, &relation, Err(&message), &search, page),
                );
            }
            Err(e) => return failure_page(&session, e),
        }
    }
    let result = state
        .service
        .set_relation_snelstart(&session.adm, &id, enabled)
        .await;
    let error = match result {
        Ok(_) => {
            let mut q = Vec::new();
            if !search.is_empty() {
                q.push(format!("q={}", url(&search)));
            }
            if page > 1 {
                q.push(format!("pagina={page}"));
            }
            let q = if q.is_empty() {
                String::new()
            } else {
                format!("?{}", q.join("&"))
            };
            return redirect(&format!("/relaties{q}#relatie-{}", url(id.as_str())));
        }
        Err(error) => error,
    };
    let (list, total) = match state
        .service
        .relations_page(&session.adm, &search, page, RELATIONS_PER_PAGE)
        .await
    {
        Ok(found) => found,
        Err(e) => return failure_page(&session, e),
    };
    let refused = match state.service.relation(&session.adm, &id).await {
        Ok(found) => found,
        Err(e) => return failure_page(&session, e),
    };
    let relation = refused.as_ref();
    match refusal_text(relation, &error) {
        Some(text) => {
            let status = if matches!(error, ServiceError::Conflict { .. }) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            html_response(
                status,
                relations_page(
                    &session,
                    &list,
                    &search,
                    page,
                    total,
                    Some((id.as_str(), text)),
                ),
            )
        }
        None => failure_page(&session, error),
    }
}

// ---------------------------------------------------------------------------------------
// Facturen

fn status_options(selected: Option<SyncStatus>) -> String {
    let mut out = format!(
        r#"<option value=""{}>Alle</option>"#,
        if selected.is_none() { " selected" } else { "" }
    );
    for status in SyncStatus::ALL {
        let _ = write!(
            out,
            r#"<option value="{}"{}>{}</option>"#,
            status.as_str(),
            if selected == Some(status) {
                " selected"
            } else {
                ""
            },
            html::status_label(status)
        );
    }
    out
}

fn retry_form(session: &Session, invoice_id: &str, back: &str) -> String {
    format!(
        r#"<form class="inline" method="post" action="/facturen/{id}/opnieuw">{csrf}<input type="hidden" name="terug" value="{back}"><button type="submit">Opnieuw aanbieden</button></form>"#,
        id = url(invoice_id),
        csrf = csrf_field(session),
        back = esc(back),
    )
}

fn reason_cell(sync: Option<&SyncState>) -> String {
    let Some(sync) = sync else {
        return String::new();
    };
    // Clipped to a few lines, GUIDs cut short; the full text is the cell's title and is on
    // the invoice page (issue 15: the list fits a 1,280 px window).
    let mut out = String::new();
    let mut full = Vec::new();
    if let Some(error) = &sync.error {
        let _ = write!(
            out,
            r#"<div class="clip">{}</div>"#,
            esc(&html::short_guids(error))
        );
        full.push(error.clone());
    }
    if let Some(hint) = &sync.hint {
        let _ = write!(
            out,
            r#"<div class="hint clip">Wat te doen: {}</div>"#,
            esc(&html::short_guids(hint))
        );
        full.push(format!("Wat te doen: {hint}"));
    }
    if !full.is_empty() {
        out = format!(r#"<div title="{}">{out}</div>"#, esc(&full.join("\n")));
    }
    if sync.status == SyncStatus::Queued
        && let Some(next) = &sync.next_attempt_at
    {
        let _ = write!(
            out,
            r#"<div class="hint">Volgende poging: {}</div>"#,
            html::time(next)
        );
    }
    out
}

/// The payment as read back from SnelStart, and drift, in Dutch (product §8.2).
fn payment_cell(sync: Option<&SyncState>) -> String {
    let Some(s) = sync else {
        return String::new();
    };
    let mut cell = match &s.payment {
        None => String::new(),
        Some(p) => match p.status {
            PaymentStatus::Open => "open".to_owned(),
            PaymentStatus::PartiallyPaid => {
                format!("deels betaald, open {}", esc(&html::euro(p.outstanding)))
            }
            PaymentStatus::Paid => match p.paid_at {
                Some(day) => format!("betaald op {}", html::date(&day)),
                None => "betaald".to_owned(),
            },
        },
    };
    if let Some(d) = &s.drift {
        let what = match d.kind {
            koppeling_domain::readback::DriftKind::Deleted => "verwijderd in SnelStart",
            koppeling_domain::readback::DriftKind::Changed if d.by_accountant => {
                "gewijzigd door de accountant"
            }
            koppeling_domain::readback::DriftKind::Changed => "gewijzigd in SnelStart",
        };
        if !cell.is_empty() {
            cell.push_str("<br>");
        }
        let _ = write!(cell, r#"<span class="badge drift">{what}</span>"#);
    }
    cell
}

/// The invoice page's payment and every difference with SnelStart (product §8.2).
fn readback_facts(s: &SyncState) -> String {
    let mut facts = String::new();
    let payment = payment_cell(Some(s));
    if !payment.is_empty() {
        let _ = write!(facts, "<dt>Betaling</dt><dd>{payment}</dd>");
    }
    if let Some(d) = &s.drift {
        let changes: Vec<String> = d
            .changes
            .iter()
            .map(|c| {
                format!(
                    "{}: {} → {}",
                    esc(&c.field),
                    esc(&c.radar360),
                    esc(&c.snelstart)
                )
            })
            .collect();
        if !changes.is_empty() {
            let _ = write!(
                facts,
                "<dt>Verschil met SnelStart</dt><dd>{}</dd>",
                changes.join("<br>")
            );
        }
    }
    facts
}

fn invoices_page(
    session: &Session,
    invoices: &[(Invoice, Option<SyncState>)],
    names: &HashMap<String, String>,
    filter: &koppeling_domain::ports::InvoiceFilter,
    page: u32,
) -> String {
    let status = filter.status;
    let payment_q = match filter.payment {
        None => "",
        Some(PaymentStatus::Open) => "open",
        Some(PaymentStatus::PartiallyPaid) => "deels",
        Some(PaymentStatus::Paid) => "betaald",
    };
    let drift_q = if filter.drift { "1" } else { "" };
    let mut rows = String::new();
    let back = format!(
        "/facturen?status={}&betaling={payment_q}&gewijzigd={drift_q}&page={page}",
        status.map_or("", SyncStatus::as_str)
    );
    for (invoice, sync) in invoices {
        let id = invoice.id.as_str();
        let relation = names
            .get(invoice.relation_id.as_str())
            .cloned()
            .unwrap_or_else(|| html::short_guids(invoice.relation_id.as_str()));
        let retry = if sync.as_ref().map(|s| s.status) == Some(SyncStatus::Failed) {
            retry_form(session, id, &back)
        } else {
            String::new()
        };
        let _ = write!(
            rows,
            r#"<tr id="factuur-{id_attr}"><td class="nowrap"><a href="/facturen/{id_url}">{number}</a></td><td class="nowrap">{date}</td><td>{relation}</td><td class="num">{gross}</td><td>{kind}</td><td class="nowrap">{badge}</td><td>{payment}</td><td class="reason">{reason}</td><td>{retry}</td></tr>"#,
            id_attr = esc(id),
            id_url = url(id),
            number = esc(&invoice.number),
            date = html::date(&invoice.date),
            relation = esc(&relation),
            gross = esc(&html::euro(invoice.totals().gross)),
            kind = if invoice.status == InvoiceStatus::Final {
                "definitief"
            } else {
                "concept"
            },
            badge = html::status_badge(sync.as_ref().map(|s| s.status)),
            payment = payment_cell(sync.as_ref()),
            reason = reason_cell(sync.as_ref()),
        );
    }
    let status_q = status.map_or("", SyncStatus::as_str);
    let mut pager = String::new();
    if page > 1 {
        let _ = write!(
            pager,
            r#"<a href="/facturen?status={status_q}&amp;betaling={payment_q}&amp;gewijzigd={drift_q}&amp;page={}">Vorige</a> "#,
            page - 1
        );
    }
    if invoices.len() >= 100 {
        let _ = write!(
            pager,
            r#"<a href="/facturen?status={status_q}&amp;betaling={payment_q}&amp;gewijzigd={drift_q}&amp;page={}">Volgende</a>"#,
            page + 1
        );
    }
    let empty = if invoices.is_empty() {
        "<p>Geen facturen gevonden.</p>"
    } else {
        ""
    };
    let body = format!(
        r#"<p class="breadcrumb">Facturen</p>
<h1>Facturen</h1>
<form class="filter" method="get" action="/facturen">
<label for="status">Synchronisatie</label><select id="status" name="status">{options}</select>
<label for="betaling">Betaling</label><select id="betaling" name="betaling">{payment_options}</select>
<label><input type="checkbox" name="gewijzigd" value="1"{drift_checked}> Gewijzigd of verwijderd in SnelStart</label>
<button type="submit">Filteren</button></form>
<table><caption class="visually-hidden">Facturen met hun synchronisatiestatus</caption>
<thead><tr><th scope="col">Factuur</th><th scope="col">Datum</th><th scope="col">Relatie</th><th scope="col" class="num">Totaal</th><th scope="col">Status</th><th scope="col">Synchronisatie</th><th scope="col">Betaling</th><th scope="col">Reden</th><th scope="col"><span class="visually-hidden">Acties</span></th></tr></thead>
<tbody>{rows}</tbody></table>{empty}
<nav aria-label="Pagina's"><p>Pagina {page} {pager}</p></nav>"#,
        options = status_options(status),
        payment_options = [
            ("", "alle"),
            ("open", "open"),
            ("deels", "deels betaald"),
            ("betaald", "betaald")
        ]
        .iter()
        .map(|(v, label)| {
            let selected = if *v == payment_q { " selected" } else { "" };
            format!(r#"<option value="{v}"{selected}>{label}</option>"#)
        })
        .collect::<String>(),
        drift_checked = if filter.drift { " checked" } else { "" },
    );
    html::page(session, Nav::Facturen, "Facturen", &body)
}

async fn relation_names<P: App>(
    state: &AppState<P>,
    session: &Session,
) -> Result<HashMap<String, String>, Response> {
    state
        .service
        .relations(&session.adm)
        .await
        .map(|list| {
            list.into_iter()
                .map(|r| (r.id.to_string(), format!("{} ({})", r.name, r.code)))
                .collect()
        })
        .map_err(|e| failure_page(session, e))
}

/// `GET /facturen?status=&page=`.
pub(crate) async fn invoices<P: App>(
    State(state): State<AppState<P>>,
    session: Session,
    Query(q): QueryMap,
) -> Response {
    let filter = koppeling_domain::ports::InvoiceFilter {
        status: q.get("status").and_then(|s| SyncStatus::parse(s)),
        payment: match q.get("betaling").map(String::as_str) {
            Some("open") => Some(PaymentStatus::Open),
            Some("deels") => Some(PaymentStatus::PartiallyPaid),
            Some("betaald") => Some(PaymentStatus::Paid),
            _ => None,
        },
        drift: q.get("gewijzigd").is_some_and(|v| !v.is_empty()),
        ..Default::default()
    };
    let page = q
        .get("page")
        .and_then(|p| p.parse::<u32>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let list = match state.service.invoices(&session.adm, &filter, page).await {
        Ok(list) => list,
        Err(e) => return failure_page(&session, e),
    };
    let names = match relation_names(&state, &session).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    html_response(
        StatusCode::OK,
        invoices_page(&session, &list, &names, &filter, page),
    )
}

/// One row of the attempts table (`templates/attempts.html`, on the Synclog and the invoice
/// page).
struct AttemptRow<'a> {
    at: String,
    /// The invoice's id, percent-encoded for its link.
    invoice_url: String,
    /// People know invoices by their number; the internal id only when it is gone.
    invoice: &'a str,
    attempt: u32,
    outcome: &'a str,
    class: &'static str,
    code: &'a str,
    message: &'a str,
}

fn attempt_rows(rows: &[AttemptLog]) -> Vec<AttemptRow<'_>> {
    rows.iter()
        .map(|row| AttemptRow {
            at: html::time(&row.at),
            invoice_url: url(&row.invoice_id),
            invoice: row.invoice_number.as_deref().unwrap_or(&row.invoice_id),
            attempt: row.attempt,
            outcome: html::outcome_label(&row.outcome),
            class: html::class_label(row.error_class),
            code: row.snelstart_code.as_deref().unwrap_or(""),
            message: &row.message,
        })
        .collect()
}

fn attempts_table(rows: &[AttemptLog], with_invoice: bool) -> String {
    if rows.is_empty() {
        return "<p>Nog geen pogingen.</p>".to_owned();
    }
    let mut body = String::new();
    for row in rows {
        let invoice = if with_invoice {
            // People know invoices by their number; the internal id only when it is gone.
            format!(
                r#"<td><a href="/facturen/{}">{}</a></td>"#,
                url(&row.invoice_id),
                esc(row.invoice_number.as_deref().unwrap_or(&row.invoice_id))
            )
        } else {
            String::new()
        };
        let _ = write!(
            body,
            "<tr><td>{at}</td>{invoice}<td class=\"num\">{attempt}</td><td>{outcome}</td><td>{class}</td><td>{code}</td><td>{message}</td></tr>",
            at = html::time(&row.at),
            attempt = row.attempt,
            outcome = esc(html::outcome_label(&row.outcome)),
            class = html::class_label(row.error_class),
            code = esc(row.snelstart_code.as_deref().unwrap_or("")),
            message = esc(&row.message),
        );
    }
    let invoice_head = if with_invoice {
        r#"<th scope="col">Factuur</th>"#
    } else {
        ""
    };
    format!(
        r#"<table><thead><tr><th scope="col">Tijd</th>{invoice_head}<th scope="col" class="num">Poging</th><th scope="col">Uitkomst</th><th scope="col">Soort fout</th><th scope="col">SnelStart code</th><th scope="col">Melding</th></tr></thead><tbody>{body}</tbody></table>"#
    )
}

/// The invoice's documents (product §8.4), in Dutch; *Opnieuw aanbieden* for a refused one
/// of a booked invoice uploads only the document.
fn documents_block(
    session: &Session,
    invoice: &Invoice,
    sync: Option<&SyncState>,
    documents: &[koppeling_domain::document::Document],
) -> String {
    use koppeling_domain::document::{DocumentKind, DocumentStatus};
    if documents.is_empty() {
        return "<p>Er is nog geen PDF of UBL bij deze factuur aangeleverd.</p>".to_owned();
    }
    let mut rows = String::new();
    for d in documents {
        let (status, class) = match d.status {
            DocumentStatus::Waiting => ("wacht op de boeking", "queued"),
            DocumentStatus::Attached => ("bij de boeking in SnelStart", "synced"),
            DocumentStatus::Failed => ("geweigerd door SnelStart", "failed"),
        };
        let why = match (&d.error, &d.hint) {
            (Some(e), Some(h)) if d.status == DocumentStatus::Failed => {
                format!("{}<br>Wat te doen: {}", esc(e), esc(h))
            }
            _ => "—".to_owned(),
        };
        let _ = write!(
            rows,
            r#"<tr><td>{kind}</td><td>{name}</td><td class="num">{size}</td><td><span class="badge {class}">{status}</span></td><td>{why}</td></tr>"#,
            kind = match d.kind {
                DocumentKind::Pdf => "PDF",
                DocumentKind::Ubl => "UBL",
            },
            name = esc(&d.filename),
            size = esc(&format!("{} kB", d.size.div_ceil(1024))),
        );
    }
    let failed = documents.iter().any(|d| d.status == DocumentStatus::Failed);
    let retry = if failed && sync.is_some_and(|s| s.status == SyncStatus::Synced) {
        retry_form(
            session,
            invoice.id.as_str(),
            &format!("/facturen/{}", url(invoice.id.as_str())),
        )
    } else {
        String::new()
    };
    format!(
        r#"<table><thead><tr><th scope="col">Soort</th><th scope="col">Bestandsnaam</th><th scope="col" class="num">Grootte</th><th scope="col">Status</th><th scope="col">Reden</th></tr></thead><tbody>{rows}</tbody></table><div class="buttons">{retry}</div>"#
    )
}

fn invoice_page(
    session: &Session,
    invoice: &Invoice,
    sync: Option<&SyncState>,
    relation: &str,
    attempts: &[AttemptLog],
    documents: &[koppeling_domain::document::Document],
    notice: &str,
) -> String {
    let totals = invoice.totals();
    let mut lines = String::new();
    for line in &invoice.lines {
        let _ = write!(
            lines,
            r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td><td class="num">{}</td></tr>"#,
            esc(&line.description),
            esc(&crate::dto::exact(line.quantity).replace('.', ",")),
            esc(&html::euro_exact(line.unit_price)),
            html::vat_label(line.vat),
            esc(&html::euro(line.amount())),
        );
    }
    let sync_block = match sync {
        None => "<p>Deze factuur wordt niet gesynchroniseerd: het is een concept, of SnelStart is niet aangevinkt bij de relatie.</p>".to_owned(),
        Some(s) => {
            let retry = if s.status == SyncStatus::Failed {
                retry_form(session, invoice.id.as_str(), &format!("/facturen/{}", url(invoice.id.as_str())))
            } else {
                String::new()
            };
            format!(
                r#"<dl class="facts"><dt>Status</dt><dd>{badge}</dd><dt>SnelStart id</dt><dd>{sid}</dd>{readback}<dt>Pogingen</dt><dd>{attempts}</dd><dt>Bijgewerkt</dt><dd>{updated}</dd>{next}{error}{hint}</dl><div class="buttons">{retry}</div>"#,
                badge = html::status_badge(Some(s.status)),
                sid = esc(s.snelstart_id.as_deref().unwrap_or("—")),
                readback = readback_facts(s),
                attempts = s.attempts,
                updated = html::time(&s.updated_at),
                next = s
                    .next_attempt_at
                    .as_ref()
                    .map(|n| format!("<dt>Volgende poging</dt><dd>{}</dd>", html::time(n)))
                    .unwrap_or_default(),
                error = s
                    .error
                    .as_ref()
                    .map(|e| format!("<dt>Reden</dt><dd>{}</dd>", esc(e)))
                    .unwrap_or_default(),
                hint = s
                    .hint
                    .as_ref()
                    .map(|h| format!("<dt>Wat te doen</dt><dd>{}</dd>", esc(&html::capitalize(h))))
                    .unwrap_or_default(),
            )
        }
    };
    let body = format!(
        r#"<p class="breadcrumb"><a href="/facturen">Facturen</a> &gt; {number}</p>
<h1>Factuur {number}</h1>{notice}
<dl class="facts"><dt>Relatie</dt><dd>{relation}</dd><dt>Datum</dt><dd>{date}</dd><dt>Betalingstermijn</dt><dd>{term} dagen</dd><dt>Status</dt><dd>{kind}</dd><dt>Omschrijving</dt><dd>{description}</dd><dt>Totaal excl. btw</dt><dd>{net}</dd><dt>Btw</dt><dd>{vat}</dd><dt>Totaal incl. btw</dt><dd>{gross}</dd></dl>
<h2>Regels</h2>
<table><thead><tr><th scope="col">Omschrijving</th><th scope="col" class="num">Aantal</th><th scope="col" class="num">Prijs</th><th scope="col">Btw</th><th scope="col" class="num">Bedrag</th></tr></thead><tbody>{lines}</tbody></table>
<section id="synchronisatie" aria-labelledby="synchronisatie-titel"><h2 id="synchronisatie-titel">Synchronisatie</h2>
{sync_block}</section>
<section id="documenten" aria-labelledby="documenten-titel"><h2 id="documenten-titel">Documenten</h2>
{documents}</section>
<section id="pogingen" aria-labelledby="pogingen-titel"><h2 id="pogingen-titel">Pogingen</h2>
{attempts}</section>"#,
        number = esc(&invoice.number),
        relation = esc(relation),
        date = html::date(&invoice.date),
        term = invoice.payment_term_days,
        kind = if invoice.status == InvoiceStatus::Final {
            "definitief"
        } else {
            "concept"
        },
        description = esc(invoice
            .description
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or("—")),
        net = esc(&html::euro(totals.net)),
        vat = esc(&html::euro(totals.vat)),
        gross = esc(&html::euro(totals.gross)),
        attempts = attempts_table(attempts, false),
        documents = documents_block(session, invoice, sync, documents),
    );
    html::page(
        session,
        Nav::Facturen,
        &format!("Factuur {}", invoice.number),
        &body,
    )
}

/// `GET /facturen/{id}`: one invoice with its attempt log.
pub(crate) async fn invoice<P: App>(
    State(state): State<AppState<P>>,
    session: Session,
    path: Result<Path<String>, PathRejection>,
    Query(q): QueryMap,
) -> Response {
    let Some(id) = path_id(path) else {
        return not_found_page(&session, "Deze factuur");
    };
    let store = &state.service;
    let (invoice, sync) = match store.invoice(&session.adm, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found_page(&session, &format!("Factuur {id}")),
        Err(e) => return failure_page(&session, e),
    };
    let relation = match store.relation(&session.adm, &invoice.relation_id).await {
        Ok(Some(r)) => format!("{} ({})", r.name, r.code),
        Ok(None) => invoice.relation_id.to_string(),
        Err(e) => return failure_page(&session, e),
    };
    let attempts = match store
        .invoice_sync_log(&session.adm, id.as_str(), false, 10_000)
        .await
    {
        Ok(rows) => rows,
        Err(e) => return failure_page(&session, e),
    };
    let documents = match store.documents(&session.adm, &id).await {
        Ok(d) => d,
        Err(e) => return failure_page(&session, e),
    };
    let retried = q
        .get("opnieuw")
        .and_then(|n| n.parse::<u32>().ok())
        .map(|look| {
            let back = q
                .get("terug")
                .filter(|b| {
                    local_list(b) && !b.starts_with(&format!("/facturen/{}", url(id.as_str())))
                })
                .cloned();
            (look.clamp(1, RETRY_POLLS), back)
        });
    html_response(
        StatusCode::OK,
        invoice_screen(
            &session,
            &invoice,
            sync.as_ref(),
            &relation,
            &attempts,
            &documents,
            retried.as_ref(),
        ),
    )
}

/// The invoice page, after *Opnieuw aanbieden* (`retried`: the look and the list to go back
/// to) with its outcome and, while the attempt runs, reloading itself.
fn invoice_screen(
    session: &Session,
    invoice: &Invoice,
    sync: Option<&SyncState>,
    relation: &str,
    attempts: &[AttemptLog],
    documents: &[koppeling_domain::document::Document],
    retried: Option<&(u32, Option<String>)>,
) -> String {
    let id = &invoice.id;
    let mut notice = String::new();
    let mut refresh = None;
    if let Some((look, back)) = retried {
        let (text, again) = retry_outcome(sync, *look);
        notice = text;
        if let Some(back) = back {
            let _ = write!(
                notice,
                r#"<p><a href="{}">Terug naar de lijst</a></p>"#,
                esc(back)
            );
        }
        if again {
            let mut next = format!("/facturen/{}?opnieuw={}", url(id.as_str()), look + 1);
            if let Some(back) = back {
                let _ = write!(next, "&terug={}", url(back));
            }
            refresh = Some(next);
        }
    }
    let page = invoice_page(
        session, invoice, sync, relation, attempts, documents, &notice,
    );
    match refresh {
        Some(next) => html::with_refresh(&page, 1, &next),
        None => page,
    }
}

/// Only local pages under /facturen are followed back (no open redirect).
fn local_list(back: &str) -> bool {
    back.starts_with("/facturen") && !back.starts_with("//") && !back.contains('\\')
}

/// How many times the invoice page reloads itself (once a second) after *Opnieuw
/// aanbieden* while the new attempt has not finished.
const RETRY_POLLS: u32 = 60;

/// The outcome of *Opnieuw aanbieden* on the invoice page (`?opnieuw=n`, the n-th look):
/// the notice, and whether the page reloads itself for the next look.
fn retry_outcome(sync: Option<&SyncState>, look: u32) -> (String, bool) {
    let at = |s: &SyncState| html::clock(&s.updated_at);
    let (class, role, text, again) = match sync {
        Some(s) if s.status == SyncStatus::Synced => (
            "notice",
            "status",
            format!("Opnieuw aangeboden en geboekt om {}.", at(s)),
            false,
        ),
        Some(s) if s.status == SyncStatus::Failed => (
            "problems",
            "alert",
            format!(
                "Opnieuw aangeboden, maar weer mislukt om {}. De reden staat hieronder.",
                at(s)
            ),
            false,
        ),
        Some(s) if s.status == SyncStatus::Skipped => (
            "notice",
            "status",
            format!(
                "Opnieuw aangeboden en overgeslagen om {}. De reden staat hieronder.",
                at(s)
            ),
            false,
        ),
        Some(s) if s.status == SyncStatus::Queued && s.error.is_some() => (
            "problems",
            "status",
            match &s.next_attempt_at {
                Some(next) => format!(
                    "Opnieuw aangeboden, maar nog niet gelukt (om {}). Volgende poging: {}.",
                    at(s),
                    html::time(next)
                ),
                None => format!("Opnieuw aangeboden, maar nog niet gelukt (om {}).", at(s)),
            },
            false,
        ),
        _ if look >= RETRY_POLLS => (
            "notice",
            "status",
            "Opnieuw aangeboden; de poging is nog niet klaar. Vernieuw de pagina straks.".to_owned(),
            false,
        ),
        _ => (
            "notice",
            "status",
            "Opnieuw aangeboden; de factuur wordt nu naar SnelStart verstuurd. Deze pagina ververst zichzelf tot de poging klaar is.".to_owned(),
            true,
        ),
    };
    (
        format!(
            r#"<p class="{class}" role="{role}" id="opnieuw-uitkomst">{}</p>"#,
            esc(&text)
        ),
        again,
    )
}

/// `POST /facturen/{id}/opnieuw`: re-queues a failed invoice.
pub(crate) async fn retry<P: App>(
    State(state): State<AppState<P>>,
    path: Result<Path<String>, PathRejection>,
    CsrfForm(session, submitted): CsrfForm,
) -> Response {
    let Some(id) = path_id(path) else {
        return not_found_page(&session, "Deze factuur");
    };
    // Only local pages under /facturen are followed back (no open redirect).
    let back = field(&submitted, "terug").filter(|b| local_list(b));
    match state.service.retry_invoice(&session.adm, &id).await {
        // The invoice page tells when the new attempt has finished and how (issue 15).
        Ok(_) => redirect(&format!(
            "/facturen/{}?opnieuw=1{}",
            url(id.as_str()),
            back.map(|b| format!("&terug={}", url(b)))
                .unwrap_or_default()
        )),
        Err(ServiceError::Conflict { .. }) => message_page(
            &session,
            StatusCode::CONFLICT,
            "Niet opnieuw aangeboden",
            "Alleen een mislukte factuur, of een geweigerd document van een geboekte factuur, kan opnieuw worden aangeboden; hier is niets (meer) mislukt.",
        ),
        Err(e) => failure_page(&session, e),
    }
}

// ---------------------------------------------------------------------------------------
// Notificaties and synclog

/// `GET /notificaties`.
pub(crate) async fn notifications<P: App>(
    State(state): State<AppState<P>>,
    session: Session,
) -> Response {
    let list = match state.service.notifications(&session.adm, 200).await {
        Ok(list) => list,
        Err(e) => return failure_page(&session, e),
    };
    let items: Vec<NotificationItem<'_>> = list
        .iter()
        .map(|record| {
            let n = &record.notification;
            NotificationItem {
                subject: &n.subject,
                at: html::time(&n.at),
                to: &n.to,
                delivery: match (&record.sent_at, n.to.is_empty()) {
                    (Some(_), true) => Delivery::NotMailed,
                    (Some(sent), false) => Delivery::Sent(html::time(sent)),
                    (None, _) => Delivery::Waiting(
                        record
                            .last_error
                            .as_deref()
                            .unwrap_or("wacht op verzending"),
                    ),
                },
                body: &n.body,
            }
        })
        .collect();
    html_response(
        StatusCode::OK,
        html::render(&NotificationsPage {
            shell: Shell::new(&session, Nav::Notificaties, "Notificaties"),
            items,
        }),
    )
}

/// `templates/notificaties.html`: what the Beheerder was told, newest first.
#[derive(Template)]
#[template(path = "notificaties.html")]
struct NotificationsPage<'a> {
    shell: Shell<'a>,
    items: Vec<NotificationItem<'a>>,
}

struct NotificationItem<'a> {
    subject: &'a str,
    at: String,
    to: &'a str,
    delivery: Delivery<'a>,
    body: &'a str,
}

/// Whether and when a notification was mailed.
enum Delivery<'a> {
    /// Kept, but no Beheerder was chosen to receive it.
    NotMailed,
    /// Mailed at this time.
    Sent(String),
    /// Not mailed yet, with the last error.
    Waiting(&'a str),
}

/// `templates/synclog.html`: every attempt, or only the failed ones.
#[derive(Template)]
#[template(path = "synclog.html")]
struct SyncLogPage<'a> {
    shell: Shell<'a>,
    only_failed: bool,
    with_invoice: bool,
    attempts: Vec<AttemptRow<'a>>,
}

/// `GET /synclog?alleen_mislukt=1`.
pub(crate) async fn sync_log<P: App>(
    State(state): State<AppState<P>>,
    session: Session,
    Query(q): QueryMap,
) -> Response {
    let only_failed = q.get("alleen_mislukt").is_some_and(|v| !v.is_empty());
    let rows = match state.service.sync_log(&session.adm, only_failed, 500).await {
        Ok(rows) => rows,
        Err(e) => return failure_page(&session, e),
    };
    html_response(
        StatusCode::OK,
        html::render(&SyncLogPage {
            shell: Shell::new(&session, Nav::Synclog, "Synclog"),
            only_failed,
            with_invoice: true,
            attempts: attempt_rows(&rows),
        }),
    )
}

#[cfg(test)]
mod payment_tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use koppeling_domain::readback::{Drift, DriftKind, Payment};
    use rust_decimal::Decimal;

    use super::*;

    fn synced(payment: Option<Payment>, drift: Option<Drift>) -> SyncState {
        SyncState {
            status: SyncStatus::Synced,
            snelstart_id: Some("b-1".into()),
            error: None,
            hint: None,
            attempts: 1,
            next_attempt_at: None,
            updated_at: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
            payment,
            drift,
        }
    }

    #[test]
    fn payment_and_drift_read_in_dutch() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
        let paid = Payment {
            status: PaymentStatus::Paid,
            outstanding: Decimal::ZERO,
            paid_at: NaiveDate::from_ymd_opt(2026, 11, 20),
            checked_at: at,
        };
        assert_eq!(
            payment_cell(Some(&synced(Some(paid), None))),
            "betaald op 20-11-2026"
        );
        let part = Payment {
            status: PaymentStatus::PartiallyPaid,
            outstanding: Decimal::new(10_000, 2),
            paid_at: None,
            checked_at: at,
        };
        let drift = Drift {
            kind: DriftKind::Changed,
            by_accountant: true,
            detected_at: at,
            changes: vec![],
        };
        let cell = payment_cell(Some(&synced(Some(part), Some(drift))));
        assert!(cell.starts_with("deels betaald, open € 100,00"), "{cell}");
        assert!(cell.contains("gewijzigd door de accountant"), "{cell}");
        assert_eq!(
            payment_cell(Some(&synced(None, None))),
            "",
            "not read back yet"
        );
        assert_eq!(payment_cell(None), "");
    }
}
