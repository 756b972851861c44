//! The Relaties screen: the list with the SnelStart tick (`templates/relaties.html`) and the
//! preview before ticking (`templates/voorvertoning.html`).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use koppeling_domain::app::App;
use koppeling_domain::reconciliation::Preview;
use koppeling_domain::relation::Relation;
use koppeling_domain::sync::ServiceError;

use askama::Template;

use super::html::{self, Nav, Shell, url};
use super::session::Session;
use super::{
    CsrfForm, QueryMap, failure_page, field, html_response, not_found_page, path_id, redirect,
};
use crate::AppState;

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

/// `templates/voorvertoning.html`: the preview before ticking, what ticking would do invoice
/// by invoice, and the confirm button.
#[derive(Template)]
#[template(path = "voorvertoning.html")]
struct PreviewPage<'a> {
    shell: Shell<'a>,
    name: &'a str,
    code: &'a str,
    /// The relation's id percent-encoded for the form's action.
    id_url: String,
    /// `Err` with SnelStart's problem when it could not be asked which invoices it holds.
    preview: Result<PreviewSummary<'a>, &'a str>,
    search: &'a str,
    page: u32,
    /// *Annuleren*: back to the relation in the list, on its page of the search.
    back: String,
}

struct PreviewSummary<'a> {
    /// "wordt" or "worden".
    verb: &'static str,
    count: u64,
    /// "factuur" or "facturen".
    noun: &'static str,
    gross: String,
    lines: Vec<PreviewRow<'a>>,
}

struct PreviewRow<'a> {
    id: &'a str,
    /// `id` percent-encoded for the link.
    id_url: String,
    /// What ticking would do, as an attribute value (`send`, `fail`, …).
    would: &'static str,
    number: &'a str,
    date: String,
    gross: String,
    /// What ticking would do, in Dutch.
    what: &'static str,
    /// Why it would fail or be skipped, in Dutch (empty otherwise).
    why: String,
}

/// The preview before ticking. `preview` is `Err` with SnelStart's problem when it could not
/// be asked which invoices it already holds.
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
        format!("/relaties?{}#relatie-{}", back.join("&"), url(id))
    };
    let preview = preview.map(|p| PreviewSummary {
        verb: if p.count == 1 { "wordt" } else { "worden" },
        count: p.count,
        noun: if p.count == 1 { "factuur" } else { "facturen" },
        gross: html::euro(p.gross),
        lines: p
            .invoices
            .iter()
            .map(|line| PreviewRow {
                id: &line.invoice_id,
                id_url: url(&line.invoice_id),
                would: line.would.as_str(),
                number: &line.number,
                date: html::date(&line.date),
                gross: html::euro(line.gross),
                what: line.would.dutch(),
                why: line
                    .problems
                    .iter()
                    .map(html::dutch)
                    .collect::<Vec<_>>()
                    .join(" "),
            })
            .collect(),
    });
    html::render(&PreviewPage {
        shell: Shell::new(session, Nav::Relaties, "SnelStart aanvinken"),
        name: &relation.name,
        code: &relation.code,
        id_url: url(id),
        preview,
        search,
        page,
        back,
    })
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
