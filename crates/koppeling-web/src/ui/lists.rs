//! The list screens: relaties (with the SnelStart tick), facturen (with sync state and
//! *Opnieuw aanbieden*), one factuur with its attempts, notificaties and the synclog.

use std::collections::HashMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use koppeling_domain::app::App;
use koppeling_domain::ids::ResourceId;
use koppeling_domain::invoice::{Invoice, InvoiceStatus};
use koppeling_domain::ports::{AttemptLog, SyncState, SyncStatus};
use koppeling_domain::readback::PaymentStatus;
use koppeling_domain::relation::Relation;
use koppeling_domain::sync::ServiceError;

use askama::Template;

use super::html::{self, Nav, Shell, url};
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
                .map(|p| match p.code.as_str() {
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

/// A sync status as a coloured label (`badge` in `templates/invoice_macros.html`).
struct Badge {
    /// The status's class (`synced`, `failed`, …); none when not offered.
    class: Option<&'static str>,
    label: &'static str,
}

fn badge(status: Option<SyncStatus>) -> Badge {
    match status {
        Some(s) => Badge {
            class: Some(s.as_str()),
            label: html::status_label(s),
        },
        None => Badge {
            class: None,
            label: "Niet aangeboden",
        },
    }
}

/// Why an invoice failed, what to do, and when it is tried next (a queued one).
struct Reason<'a> {
    error: Option<&'a str>,
    hint: Option<&'a str>,
    next: Option<String>,
}

fn reason_cell(sync: Option<&SyncState>) -> Reason<'_> {
    Reason {
        error: sync.and_then(|s| s.error.as_deref()),
        hint: sync.and_then(|s| s.hint.as_deref()),
        next: sync
            .filter(|s| s.status == SyncStatus::Queued)
            .and_then(|s| s.next_attempt_at.as_ref())
            .map(html::time),
    }
}

/// The payment as read back from SnelStart, and drift, in Dutch (product §8.2).
#[derive(Debug, PartialEq, Eq)]
struct PaymentCell {
    /// `open`, `deels betaald, open € 100,00`, `betaald op 20-11-2026`; none before the
    /// first read-back.
    text: Option<String>,
    /// What SnelStart's side did to the booking.
    drift: Option<&'static str>,
}

fn payment_cell(sync: Option<&SyncState>) -> PaymentCell {
    let Some(s) = sync else {
        return PaymentCell {
            text: None,
            drift: None,
        };
    };
    let text = s.payment.as_ref().map(|p| match p.status {
        PaymentStatus::Open => "open".to_owned(),
        PaymentStatus::PartiallyPaid => {
            format!("deels betaald, open {}", html::euro(p.outstanding))
        }
        PaymentStatus::Paid => match p.paid_at {
            Some(day) => format!("betaald op {}", html::date(&day)),
            None => "betaald".to_owned(),
        },
    });
    let drift = s.drift.as_ref().map(|d| match d.kind {
        koppeling_domain::readback::DriftKind::Deleted => "verwijderd in SnelStart",
        koppeling_domain::readback::DriftKind::Changed if d.by_accountant => {
            "gewijzigd door de accountant"
        }
        koppeling_domain::readback::DriftKind::Changed => "gewijzigd in SnelStart",
    });
    PaymentCell { text, drift }
}

/// One choice of a filter.
struct FilterOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// `templates/facturen.html`: a page of invoices with their sync state, filtered.
#[derive(Template)]
#[template(path = "facturen.html")]
struct InvoicesPage<'a> {
    shell: Shell<'a>,
    status_options: Vec<FilterOption>,
    payment_options: Vec<FilterOption>,
    drift: bool,
    rows: Vec<InvoiceRow<'a>>,
    /// Where *Opnieuw aanbieden* leads back to: this page.
    back: String,
    page: u32,
    prev: Option<u32>,
    next: Option<u32>,
    status_q: &'static str,
    payment_q: &'static str,
    drift_q: &'static str,
}

struct InvoiceRow<'a> {
    id: &'a str,
    id_url: String,
    number: &'a str,
    date: String,
    relation: String,
    gross: String,
    kind: &'static str,
    badge: Badge,
    payment: PaymentCell,
    reason: Reason<'a>,
    /// A failed invoice can be offered again.
    retry: bool,
}

fn kind_label(invoice: &Invoice) -> &'static str {
    if invoice.status == InvoiceStatus::Final {
        "definitief"
    } else {
        "concept"
    }
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
    let status_q = status.map_or("", SyncStatus::as_str);
    let rows = invoices
        .iter()
        .map(|(invoice, sync)| InvoiceRow {
            id: invoice.id.as_str(),
            id_url: url(invoice.id.as_str()),
            number: &invoice.number,
            date: html::date(&invoice.date),
            relation: names
                .get(invoice.relation_id.as_str())
                .cloned()
                .unwrap_or_else(|| invoice.relation_id.to_string()),
            gross: html::euro(invoice.totals().gross),
            kind: kind_label(invoice),
            badge: badge(sync.as_ref().map(|s| s.status)),
            payment: payment_cell(sync.as_ref()),
            reason: reason_cell(sync.as_ref()),
            retry: sync.as_ref().map(|s| s.status) == Some(SyncStatus::Failed),
        })
        .collect();
    let mut status_options = vec![FilterOption {
        value: "",
        label: "Alle",
        selected: status.is_none(),
    }];
    status_options.extend(SyncStatus::ALL.into_iter().map(|s| FilterOption {
        value: s.as_str(),
        label: html::status_label(s),
        selected: status == Some(s),
    }));
    let payment_options = [
        ("", "alle"),
        ("open", "open"),
        ("deels", "deels betaald"),
        ("betaald", "betaald"),
    ]
    .into_iter()
    .map(|(value, label)| FilterOption {
        value,
        label,
        selected: value == payment_q,
    })
    .collect();
    html::render(&InvoicesPage {
        shell: Shell::new(session, Nav::Facturen, "Facturen"),
        status_options,
        payment_options,
        drift: filter.drift,
        rows,
        back: format!(
            "/facturen?status={status_q}&betaling={payment_q}&gewijzigd={drift_q}&page={page}"
        ),
        page,
        prev: (page > 1).then(|| page - 1),
        next: (invoices.len() >= 100).then(|| page + 1),
        status_q,
        payment_q,
        drift_q,
    })
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

/// `templates/factuur.html`: one invoice, its lines, its sync state and its attempts.
#[derive(Template)]
#[template(path = "factuur.html")]
struct InvoicePage<'a> {
    shell: Shell<'a>,
    number: &'a str,
    id_url: String,
    relation: &'a str,
    date: String,
    term: i64,
    kind: &'static str,
    description: &'a str,
    net: String,
    vat: String,
    gross: String,
    lines: Vec<LineRow<'a>>,
    sync: Option<SyncFacts<'a>>,
    /// Where *Opnieuw aanbieden* leads back to: this page.
    back: String,
    with_invoice: bool,
    attempts: Vec<AttemptRow<'a>>,
}

struct LineRow<'a> {
    description: &'a str,
    quantity: String,
    price: String,
    vat: &'static str,
    amount: String,
}

struct SyncFacts<'a> {
    badge: Badge,
    snelstart_id: &'a str,
    payment: PaymentCell,
    /// Every difference with SnelStart (product §8.2).
    changes: &'a [koppeling_domain::readback::Change],
    attempts: u32,
    updated: String,
    next: Option<String>,
    error: Option<&'a str>,
    hint: Option<String>,
    retry: bool,
}

fn invoice_page(
    session: &Session,
    invoice: &Invoice,
    sync: Option<&SyncState>,
    relation: &str,
    attempts: &[AttemptLog],
) -> String {
    let totals = invoice.totals();
    let title = format!("Factuur {}", invoice.number);
    let id_url = url(invoice.id.as_str());
    html::render(&InvoicePage {
        shell: Shell::new(session, Nav::Facturen, &title),
        number: &invoice.number,
        back: format!("/facturen/{id_url}"),
        id_url,
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
        sync: sync.map(|s| SyncFacts {
            badge: badge(Some(s.status)),
            snelstart_id: s.snelstart_id.as_deref().unwrap_or("—"),
            payment: payment_cell(Some(s)),
            changes: s.drift.as_ref().map_or(&[], |d| d.changes.as_slice()),
            attempts: s.attempts,
            updated: html::time(&s.updated_at),
            next: s.next_attempt_at.as_ref().map(html::time),
            error: s.error.as_deref(),
            hint: s.hint.as_deref().map(html::capitalize),
            retry: s.status == SyncStatus::Failed,
        }),
        with_invoice: false,
        attempts: attempt_rows(attempts),
    })
}

/// `GET /facturen/{id}`: one invoice with its attempt log.
pub(crate) async fn invoice<P: App>(
    State(state): State<AppState<P>>,
    session: Session,
    path: Result<Path<String>, PathRejection>,
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
    html_response(
        StatusCode::OK,
        invoice_page(&session, &invoice, sync.as_ref(), &relation, &attempts),
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
    let back = field(&submitted, "terug")
        .filter(|b| b.starts_with("/facturen") && !b.starts_with("//") && !b.contains('\\'))
        .map_or_else(|| format!("/facturen/{}", url(id.as_str())), str::to_owned);
    match state.service.retry_invoice(&session.adm, &id).await {
        Ok(_) => redirect(&back),
        Err(ServiceError::Conflict { .. }) => message_page(
            &session,
            StatusCode::CONFLICT,
            "Niet opnieuw aangeboden",
            "Alleen een mislukte factuur kan opnieuw worden aangeboden; deze factuur is niet (meer) mislukt.",
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
            payment_cell(Some(&synced(Some(paid), None)))
                .text
                .as_deref(),
            Some("betaald op 20-11-2026")
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
        assert_eq!(
            cell.text.as_deref(),
            Some("deels betaald, open € 100,00"),
            "{cell:?}"
        );
        assert_eq!(cell.drift, Some("gewijzigd door de accountant"), "{cell:?}");
        let nothing = PaymentCell {
            text: None,
            drift: None,
        };
        assert_eq!(
            payment_cell(Some(&synced(None, None))),
            nothing,
            "not read back yet"
        );
        assert_eq!(payment_cell(None), nothing);
    }
}
