//! The Notificaties screen and the Synclog, and the attempts table that the Synclog and the
//! invoice page share (`templates/attempts.html`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use koppeling_domain::app::App;
use koppeling_domain::ports::AttemptLog;

use askama::Template;

use super::html::{self, Nav, Shell, url};
use super::session::Session;
use super::{QueryMap, failure_page, html_response};
use crate::AppState;

/// One row of the attempts table (`templates/attempts.html`, on the Synclog and the invoice
/// page).
pub(super) struct AttemptRow<'a> {
    pub(super) at: String,
    /// The invoice's id, percent-encoded for its link.
    pub(super) invoice_url: String,
    /// People know invoices by their number; the internal id only when it is gone.
    pub(super) invoice: &'a str,
    pub(super) attempt: u32,
    pub(super) outcome: &'a str,
    pub(super) class: &'static str,
    pub(super) code: &'a str,
    pub(super) message: &'a str,
}

pub(super) fn attempt_rows(rows: &[AttemptLog]) -> Vec<AttemptRow<'_>> {
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
