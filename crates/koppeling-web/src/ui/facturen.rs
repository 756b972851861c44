//! The Facturen list (`templates/facturen.html`): every invoice with its sync state, payment
//! and drift, the reason of a failure, and *Opnieuw aanbieden*.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use koppeling_domain::app::App;
use koppeling_domain::invoice::{Invoice, InvoiceStatus};
use koppeling_domain::ports::{InvoiceFilter, SyncState, SyncStatus};
use koppeling_domain::readback::{DriftKind, PaymentStatus};

use askama::Template;

use super::html::{self, Badge, Nav, Shell, url};
use super::session::Session;
use super::{QueryMap, failure_page, html_response};
use crate::AppState;

/// `templates/facturen.html`: one page of invoices, the filter and the pager.
#[derive(Template)]
#[template(path = "facturen.html")]
struct InvoicesPage<'a> {
    shell: Shell<'a>,
    statuses: Vec<Choice>,
    payments: Vec<Choice>,
    /// Only invoices changed or deleted in SnelStart.
    drift: bool,
    rows: Vec<InvoiceRow<'a>>,
    page: u32,
    /// The filter as a query (`status=…&betaling=…&gewijzigd=…`) for the pager's links.
    query: String,
    prev: Option<u32>,
    next: Option<u32>,
}

/// One option of a filter's `<select>`.
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

struct InvoiceRow<'a> {
    id: &'a str,
    /// `id` percent-encoded for the link.
    id_url: String,
    number: &'a str,
    date: String,
    relation: String,
    gross: String,
    /// "definitief" or "concept".
    kind: &'static str,
    badge: Badge,
    payment: PaymentCell,
    reason: ReasonCell,
    /// *Opnieuw aanbieden* for a failed invoice.
    retry: Option<Retry>,
}

/// *Opnieuw aanbieden* for one invoice (`templates/retry.html`): the form posts to the
/// invoice and comes back to `back`.
pub(super) struct Retry {
    /// The invoice's id percent-encoded for the form's action.
    pub(super) id_url: String,
    /// The local page to come back to.
    pub(super) back: String,
}

impl Retry {
    pub(super) fn new(invoice_id: &str, back: String) -> Self {
        Self {
            id_url: url(invoice_id),
            back,
        }
    }
}

/// Why an invoice failed or waits, in the list: clipped to a few lines, GUIDs cut short; the
/// full text is the cell's title and is on the invoice page (issue 15: the list fits a
/// 1,280 px window).
#[derive(Default)]
struct ReasonCell {
    /// The full reason and what to do, the cell's tooltip; `None` when there is neither.
    title: Option<String>,
    error: Option<String>,
    hint: Option<String>,
    /// When a queued invoice is tried again.
    next: Option<String>,
}

fn reason_cell(sync: Option<&SyncState>) -> ReasonCell {
    let Some(sync) = sync else {
        return ReasonCell::default();
    };
    let mut full = Vec::new();
    if let Some(error) = &sync.error {
        full.push(error.clone());
    }
    if let Some(hint) = &sync.hint {
        full.push(format!("Wat te doen: {hint}"));
    }
    ReasonCell {
        title: (!full.is_empty()).then(|| full.join("\n")),
        error: sync.error.as_deref().map(html::short_guids),
        hint: sync.hint.as_deref().map(html::short_guids),
        next: sync
            .next_attempt_at
            .as_ref()
            .filter(|_| sync.status == SyncStatus::Queued)
            .map(html::time),
    }
}

/// The payment as read back from SnelStart, and drift, in Dutch (product §8.2;
/// `invoice_macros.html`'s `payment`).
#[derive(Default)]
pub(super) struct PaymentCell {
    /// `open`, `deels betaald, open € 100,00`, `betaald op 20-11-2026`; `None` until read back.
    pub(super) text: Option<String>,
    /// What SnelStart did with the booking, if anything.
    pub(super) drift: Option<&'static str>,
}

impl PaymentCell {
    /// Nothing read back.
    pub(super) fn is_empty(&self) -> bool {
        self.text.is_none() && self.drift.is_none()
    }
}

pub(super) fn payment_cell(sync: Option<&SyncState>) -> PaymentCell {
    let Some(s) = sync else {
        return PaymentCell::default();
    };
    PaymentCell {
        text: s.payment.as_ref().map(|p| match p.status {
            PaymentStatus::Open => "open".to_owned(),
            PaymentStatus::PartiallyPaid => {
                format!("deels betaald, open {}", html::euro(p.outstanding))
            }
            PaymentStatus::Paid => match p.paid_at {
                Some(day) => format!("betaald op {}", html::date(&day)),
                None => "betaald".to_owned(),
            },
        }),
        drift: s.drift.as_ref().map(|d| match d.kind {
            DriftKind::Deleted => "verwijderd in SnelStart",
            DriftKind::Changed if d.by_accountant => "gewijzigd door de accountant",
            DriftKind::Changed => "gewijzigd in SnelStart",
        }),
    }
}

/// The Dutch kind of an invoice.
pub(super) fn kind_label(invoice: &Invoice) -> &'static str {
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
    filter: &InvoiceFilter,
    page: u32,
) -> String {
    let status = filter.status;
    let payment_q = match filter.payment {
        None => "",
        Some(PaymentStatus::Open) => "open",
        Some(PaymentStatus::PartiallyPaid) => "deels",
        Some(PaymentStatus::Paid) => "betaald",
    };
    let query = format!(
        "status={}&betaling={payment_q}&gewijzigd={}",
        status.map_or("", SyncStatus::as_str),
        if filter.drift { "1" } else { "" }
    );
    let back = format!("/facturen?{query}&page={page}");
    let rows = invoices
        .iter()
        .map(|(invoice, sync)| {
            let id = invoice.id.as_str();
            InvoiceRow {
                id,
                id_url: url(id),
                number: &invoice.number,
                date: html::date(&invoice.date),
                relation: names
                    .get(invoice.relation_id.as_str())
                    .cloned()
                    .unwrap_or_else(|| html::short_guids(invoice.relation_id.as_str())),
                gross: html::euro(invoice.totals().gross),
                kind: kind_label(invoice),
                badge: html::status_badge(sync.as_ref().map(|s| s.status)),
                payment: payment_cell(sync.as_ref()),
                reason: reason_cell(sync.as_ref()),
                retry: (sync.as_ref().map(|s| s.status) == Some(SyncStatus::Failed))
                    .then(|| Retry::new(id, back.clone())),
            }
        })
        .collect();
    let statuses = std::iter::once(Choice {
        value: "",
        label: "Alle",
        selected: status.is_none(),
    })
    .chain(SyncStatus::ALL.into_iter().map(|s| Choice {
        value: s.as_str(),
        label: html::status_label(s),
        selected: status == Some(s),
    }))
    .collect();
    let payments = [
        ("", "alle"),
        ("open", "open"),
        ("deels", "deels betaald"),
        ("betaald", "betaald"),
    ]
    .into_iter()
    .map(|(value, label)| Choice {
        value,
        label,
        selected: value == payment_q,
    })
    .collect();
    html::render(&InvoicesPage {
        shell: Shell::new(session, Nav::Facturen, "Facturen"),
        statuses,
        payments,
        drift: filter.drift,
        rows,
        page,
        query,
        prev: (page > 1).then(|| page - 1),
        next: (invoices.len() >= 100).then(|| page + 1),
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
    let filter = InvoiceFilter {
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

#[cfg(test)]
mod payment_tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use koppeling_domain::readback::{Drift, DriftKind, Payment};
    use rust_decimal::Decimal;

    use super::*;

    /// The cell as `invoice_macros.html` draws it.
    #[derive(Template)]
    #[template(
        source = r#"{%- import "invoice_macros.html" as m -%}{% call m::payment(cell) %}{% endcall %}"#,
        ext = "html"
    )]
    struct Cell {
        cell: PaymentCell,
    }

    fn payment_cell(sync: Option<&SyncState>) -> String {
        Cell {
            cell: super::payment_cell(sync),
        }
        .render()
        .unwrap()
    }

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
