//! One invoice (`templates/factuur.html`): its facts and lines, the sync state with payment
//! and drift, its documents and every attempt; after *Opnieuw aanbieden* the outcome, the
//! page reloading itself until the new attempt has finished.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use koppeling_domain::app::App;
use koppeling_domain::document::{Document, DocumentKind, DocumentStatus};
use koppeling_domain::invoice::Invoice;
use koppeling_domain::ports::{AttemptLog, SyncState, SyncStatus};
use koppeling_domain::readback::Change;
use koppeling_domain::sync::ServiceError;

use askama::Template;

use super::facturen::{PaymentCell, Retry, kind_label, payment_cell};
use super::html::{self, Badge, Nav, Shell, url};
use super::lists::{AttemptRow, attempt_rows};
use super::session::Session;
use super::{
    CsrfForm, QueryMap, failure_page, field, html_response, message_page, not_found_page, path_id,
    redirect,
};
use crate::AppState;

/// `templates/factuur.html`.
#[derive(Template)]
#[template(path = "factuur.html")]
struct InvoicePage<'a> {
    shell: Shell<'a>,
    /// Where the page reloads itself to after a second, while a new attempt runs.
    reload: Option<String>,
    /// The outcome of *Opnieuw aanbieden*.
    notice: Option<Notice>,
    number: &'a str,
    relation: &'a str,
    date: String,
    term: i64,
    /// "definitief" or "concept".
    kind: &'static str,
    description: &'a str,
    net: String,
    vat: String,
    gross: String,
    lines: Vec<LineRow<'a>>,
    /// `None`: the invoice is not synchronised.
    sync: Option<SyncFacts<'a>>,
    documents: Vec<DocumentRow<'a>>,
    /// *Opnieuw aanbieden* for a refused document of a booked invoice.
    document_retry: Option<Retry>,
    /// `templates/attempts.html`.
    attempts: Vec<AttemptRow<'a>>,
    with_invoice: bool,
}

/// The outcome of *Opnieuw aanbieden*: a notice (`class` and `role`) and the list to go back
/// to.
struct Notice {
    class: &'static str,
    role: &'static str,
    text: String,
    back: Option<String>,
}

struct LineRow<'a> {
    description: &'a str,
    quantity: String,
    price: String,
    vat: &'static str,
    amount: String,
}

/// The sync state of the invoice, read back payment and drift included.
struct SyncFacts<'a> {
    badge: Badge,
    snelstart_id: &'a str,
    payment: PaymentCell,
    /// Every difference with SnelStart (product §8.2).
    changes: &'a [Change],
    attempts: u32,
    updated: String,
    next: Option<String>,
    error: Option<&'a str>,
    hint: Option<String>,
    /// *Opnieuw aanbieden* for a failed invoice.
    retry: Option<Retry>,
}

/// One document (product §8.4), in Dutch.
struct DocumentRow<'a> {
    kind: &'static str,
    name: &'a str,
    size: String,
    badge: Badge,
    /// Why SnelStart refused it and what to do.
    why: Option<(&'a str, &'a str)>,
}

fn document_rows(documents: &[Document]) -> Vec<DocumentRow<'_>> {
    documents
        .iter()
        .map(|d| {
            let (label, class) = match d.status {
                DocumentStatus::Waiting => ("wacht op de boeking", "queued"),
                DocumentStatus::Attached => ("bij de boeking in SnelStart", "synced"),
                DocumentStatus::Failed => ("geweigerd door SnelStart", "failed"),
            };
            DocumentRow {
                kind: match d.kind {
                    DocumentKind::Pdf => "PDF",
                    DocumentKind::Ubl => "UBL",
                },
                name: &d.filename,
                size: format!("{} kB", d.size.div_ceil(1024)),
                badge: Badge {
                    class: Some(class),
                    label,
                },
                why: match (&d.error, &d.hint) {
                    (Some(e), Some(h)) if d.status == DocumentStatus::Failed => Some((e, h)),
                    _ => None,
                },
            }
        })
        .collect()
}

fn sync_facts<'a>(invoice: &Invoice, s: &'a SyncState) -> SyncFacts<'a> {
    SyncFacts {
        badge: html::status_badge(Some(s.status)),
        snelstart_id: s.snelstart_id.as_deref().unwrap_or("—"),
        payment: payment_cell(Some(s)),
        changes: s.drift.as_ref().map_or(&[], |d| d.changes.as_slice()),
        attempts: s.attempts,
        updated: html::time(&s.updated_at),
        next: s.next_attempt_at.as_ref().map(html::time),
        error: s.error.as_deref(),
        hint: s.hint.as_deref().map(html::capitalize),
        retry: (s.status == SyncStatus::Failed).then(|| self_retry(invoice)),
    }
}

/// *Opnieuw aanbieden* that comes back to the invoice page.
fn self_retry(invoice: &Invoice) -> Retry {
    let id = invoice.id.as_str();
    Retry::new(id, format!("/facturen/{}", url(id)))
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
    documents: &[Document],
    retried: Option<&(u32, Option<String>)>,
) -> String {
    let id = invoice.id.as_str();
    let mut notice = None;
    let mut reload = None;
    if let Some((look, back)) = retried {
        let (class, role, text, again) = retry_outcome(sync, *look);
        notice = Some(Notice {
            class,
            role,
            text,
            back: back.clone(),
        });
        if again {
            let mut next = format!("/facturen/{}?opnieuw={}", url(id), look + 1);
            if let Some(back) = back {
                next.push_str("&terug=");
                next.push_str(&url(back));
            }
            reload = Some(next);
        }
    }
    let title = format!("Factuur {}", invoice.number);
    let totals = invoice.totals();
    let failed_document = documents.iter().any(|d| d.status == DocumentStatus::Failed);
    html::render(&InvoicePage {
        shell: Shell::new(session, Nav::Facturen, &title),
        reload,
        notice,
        number: &invoice.number,
        relation,
        date: html::date(&invoice.date),
        term: invoice.payment_term_days,
        kind: kind_label(invoice),
        description: invoice
            .description
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or("—"),
        net: html::euro(totals.net),
        vat: html::euro(totals.vat),
        gross: html::euro(totals.gross),
        lines: invoice
            .lines
            .iter()
            .map(|line| LineRow {
                description: &line.description,
                quantity: crate::dto::exact(line.quantity).replace('.', ","),
                price: html::euro_exact(line.unit_price),
                vat: html::vat_label(line.vat),
                amount: html::euro(line.amount()),
            })
            .collect(),
        sync: sync.map(|s| sync_facts(invoice, s)),
        documents: document_rows(documents),
        document_retry: (failed_document && sync.is_some_and(|s| s.status == SyncStatus::Synced))
            .then(|| self_retry(invoice)),
        attempts: attempt_rows(attempts),
        with_invoice: false,
    })
}

/// Only local pages under /facturen are followed back (no open redirect).
fn local_list(back: &str) -> bool {
    back.starts_with("/facturen") && !back.starts_with("//") && !back.contains('\\')
}

/// How many times the invoice page reloads itself (once a second) after *Opnieuw
/// aanbieden* while the new attempt has not finished.
const RETRY_POLLS: u32 = 60;

/// The outcome of *Opnieuw aanbieden* on the invoice page (`?opnieuw=n`, the n-th look):
/// the notice's class, role and text, and whether the page reloads itself for the next look.
fn retry_outcome(
    sync: Option<&SyncState>,
    look: u32,
) -> (&'static str, &'static str, String, bool) {
    let at = |s: &SyncState| html::clock(&s.updated_at);
    match sync {
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
    }
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
