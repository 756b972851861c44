//! The read-back pass (product §8.2): reads what changed in SnelStart since the cursor
//! (or, once per `full_scan_hours`, everything), and stores payments, drift and events in one
//! transaction. The rules are in [`crate::readback`]; this is the orchestration.
//!
//! * It runs only for an active, unpaused koppeling, and spends at most
//!   `budget_share` of the administratie's hourly calls (counted in the stored state, so a
//!   restart or another process continues the same count).
//! * The worker calls it only when the administratie has no booking due: bookings first.
//! * A payment scope the key lacks switches only the payment dates off (shown in the
//!   overview); booking is never paused by the read-back.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::{Service, ServiceError};
use crate::booking::{Plan, plan_booking};
use crate::ids::AdministratieCode;
use crate::koppeling::{Connection, Koppeling};
use crate::notification::{NoticeKind, NotificationItem};
use crate::ports::{Accounting, Clock, Scoped, Store};
use crate::readback::{
    Booked, BookedInvoice, Cursor, Drift, DriftKind, EventType, NewEvent, Payment, PaymentEvent,
    ReadbackUpdate, RemoteInvoice, RemotePayment, full_changes, full_scan_due, header_changes,
    hourly_allowance, needs_full_compare, paid_at, payment_event, payment_status,
};
use crate::relation::RelatieCode;

/// The page size of `/verkoopfacturen` (SnelStart's maximum `$top`); a shorter page is the
/// last.
pub const READBACK_PAGE: usize = 500;

/// How far behind its cursor an incremental pass reads again, for bookings that were not
/// ours yet when the cursor passed them: a booking whose answer was lost is adopted by the
/// next attempt's look-up, after the back-off (at most `sync.max_backoff`, 15 minutes), by
/// which time an earlier pass may have moved the cursor past its `modifiedOn`. Rows of that
/// window are taken only for booked invoices never read back (no payment state yet), so the
/// re-read costs no drift calls and sends no event twice; a later adoption is caught by the
/// daily full scan. Found by the model test (R3): lost answer, full pass, adoption, pass.
const ADOPTION_WINDOW_MINUTES: i64 = 20;

/// The read-back's settings (product §5, `readback.*`).
#[derive(Debug, Clone)]
pub struct ReadbackConfig {
    /// `snelstart.calls_per_hour`: the administratie's hourly budget.
    pub calls_per_hour: u32,
    /// `readback.budget_share`: the share of it the read-back may spend.
    pub budget_share: Decimal,
    /// `readback.full_scan_hours`: how often every verkoopfactuur is listed (deletions).
    pub full_scan_hours: Decimal,
}

impl Default for ReadbackConfig {
    fn default() -> Self {
        Self {
            calls_per_hour: 5000,
            budget_share: Decimal::new(1, 1),
            full_scan_hours: Decimal::from(24),
        }
    }
}

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadbackReport {
    /// SnelStart calls made.
    pub calls: u32,
    /// Invoices whose payment changed.
    pub payments: usize,
    /// Invoices whose drift changed.
    pub drift: usize,
    /// Whether this pass was a full scan that completed.
    pub full_scan: bool,
    /// Whether the pass stopped because the budget ran out.
    pub out_of_budget: bool,
}

/// The calls left in this hour, and the count kept in the state.
struct Budget {
    left: u32,
    spent: u32,
}

impl Budget {
    fn take(&mut self, n: u32) -> bool {
        if self.left < n {
            return false;
        }
        self.left -= n;
        self.spent += n;
        true
    }
}

fn unavailable(e: crate::ports::AccountingError) -> ServiceError {
    ServiceError::Unavailable(e.to_string())
}

fn same_drift(a: Option<&Drift>, b: Option<&Drift>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.kind == y.kind && x.changes == y.changes,
        _ => false,
    }
}

fn drift_reason(drift: &Drift) -> String {
    match drift.kind {
        DriftKind::Deleted => "de boeking is in SnelStart verwijderd".to_owned(),
        DriftKind::Changed => {
            let who = if drift.by_accountant {
                "door de accountant "
            } else {
                ""
            };
            let changes: Vec<String> = drift
                .changes
                .iter()
                .map(|c| format!("{}: {} → {}", c.field, c.radar360, c.snelstart))
                .collect();
            format!(
                "de boeking is in SnelStart {who}gewijzigd ({})",
                changes.join("; ")
            )
        }
    }
}

impl<S, A, N, C> Service<S, A, N, C>
where
    S: Store,
    A: Accounting,
    C: Clock,
{
    /// One read-back pass over `adm`; does nothing for a koppeling that is not running.
    ///
    /// # Errors
    /// A store failure, or SnelStart failing (the pass is retried at the next interval;
    /// what was read before the failure is not stored).
    pub async fn readback(
        &self,
        adm: &AdministratieCode,
        config: &ReadbackConfig,
    ) -> Result<ReadbackReport, ServiceError> {
        let mut report = ReadbackReport::default();
        let Some(koppeling) = self.store.get_koppeling(adm).await? else {
            return Ok(report);
        };
        let Some(key) = koppeling
            .key
            .clone()
            .filter(|_| koppeling.active && !koppeling.paused)
        else {
            return Ok(report);
        };
        let conn = Connection {
            administratie: adm.clone(),
            key,
        };
        let now = self.clock.now();
        let mut state = self.store.readback_state(adm).await?;
        if state
            .hour_start
            .is_none_or(|start| now.signed_duration_since(start) >= chrono::Duration::hours(1))
        {
            state.hour_start = Some(now);
            state.hour_calls = 0;
        }
        let allowance = hourly_allowance(config.calls_per_hour, config.budget_share);
        let mut budget = Budget {
            left: allowance.saturating_sub(state.hour_calls),
            spent: 0,
        };
        let full = full_scan_due(state.last_full_scan_at, now, config.full_scan_hours);

        // 1. What changed (or, for a full scan, everything).
        let mut cursor = if full {
            Cursor::default()
        } else {
            state.cursor.clone()
        };
        let mut fresh: Vec<RemoteInvoice> = Vec::new();
        let mut complete = false;
        // One fixed query, paged: see the cursor's note on `$skip`.
        let since = cursor.at;
        let cursor_before = cursor.clone();
        let read_from = if full {
            since
        } else {
            since.map(|at| at - chrono::Duration::minutes(ADOPTION_WINDOW_MINUTES))
        };
        // Rows behind the cursor (the adoption window), kept apart from the fresh ones.
        let mut behind: Vec<RemoteInvoice> = Vec::new();
        let mut skip = 0;
        while budget.take(1) {
            let page = self
                .accounting
                .invoices_since(&conn, read_from, skip)
                .await
                .map_err(unavailable)?;
            skip += page.len();
            let short = page.len() < READBACK_PAGE;
            let (old, new): (Vec<_>, Vec<_>) = page.into_iter().partition(|f| {
                cursor_before.at.is_some_and(|at| {
                    f.modified_on < at
                        || (f.modified_on == at && cursor_before.seen.contains(&f.booking_id))
                })
            });
            behind.extend(old);
            fresh.extend(cursor.take(new, |f| (f.modified_on, f.booking_id.clone())));
            if short {
                complete = true;
                break;
            }
        }
        report.out_of_budget = !complete;
        // The incremental cursor follows what was read; a full scan moves it forward too
        // (everything up to its end has just been seen).
        if !full || complete {
            state.cursor = if full && state.cursor.at > cursor.at {
                state.cursor.clone()
            } else {
                cursor
            };
        }

        let ids: Vec<String> = fresh
            .iter()
            .chain(&behind)
            .map(|f| f.booking_id.clone())
            .collect();
        let booked: BTreeMap<String, BookedInvoice> = self
            .store
            .booked_invoices(adm, &ids)
            .await?
            .into_iter()
            .map(|b| (b.snelstart_id.clone(), b))
            .collect();
        // From behind the cursor only bookings of ours never read back (adopted late).
        let fresh_ids: BTreeSet<String> = fresh.iter().map(|f| f.booking_id.clone()).collect();
        fresh.extend(behind.into_iter().filter(|f| {
            !fresh_ids.contains(&f.booking_id)
                && booked
                    .get(&f.booking_id)
                    .is_some_and(|b| b.payment.is_none() && b.drift.is_none())
        }));

        // 2. Payment dates, when anything of ours moved off fully open.
        let wants_payments = fresh.iter().any(|f| {
            booked.get(&f.booking_id).is_some_and(|b| {
                f.outstanding != f.gross
                    && b.payment
                        .as_ref()
                        .is_none_or(|p| p.outstanding != f.outstanding)
            })
        });
        let mut payments: Vec<RemotePayment> = Vec::new();
        if wants_payments && budget.take(2) {
            match self
                .accounting
                .payments_since(&conn, state.payments_since)
                .await
                .map_err(unavailable)?
            {
                Scoped::Granted(found) => {
                    state.payments_missing_scope = None;
                    if let Some(latest) = found.iter().map(|p| p.modified_on).max() {
                        state.payments_since = Some(latest);
                    }
                    payments = found;
                }
                Scoped::MissingScope(scope) => state.payments_missing_scope = Some(scope),
            }
        }

        // 3. Payment and drift per invoice.
        let mut updates = Vec::new();
        let mut events = Vec::new();
        let mut notices = Vec::new();
        for remote in &fresh {
            let Some(b) = booked.get(&remote.booking_id) else {
                continue;
            };
            let mut update = ReadbackUpdate {
                invoice_id: b.invoice.id.clone(),
                payment: None,
                drift: None,
            };
            let status = payment_status(remote.outstanding, remote.gross);
            let previous_date = b
                .payment
                .as_ref()
                .filter(|p| p.outstanding == remote.outstanding)
                .and_then(|p| p.paid_at);
            let payment = Payment {
                status,
                outstanding: remote.outstanding,
                paid_at: if remote.outstanding == remote.gross {
                    None
                } else {
                    paid_at(&payments, &remote.booking_id).or(previous_date)
                },
                checked_at: now,
            };
            if let Some(event) = payment_event(b.payment.as_ref(), remote.outstanding, remote.gross)
            {
                report.payments += 1;
                events.push(NewEvent {
                    kind: match event {
                        PaymentEvent::Paid => EventType::Paid,
                        PaymentEvent::Changed => EventType::PaymentChanged,
                    },
                    invoice_id: b.invoice.id.clone(),
                    data: serde_payment(&payment),
                });
            }
            update.payment = Some(payment);

            if let Some(target) = booked_for(b, &koppeling) {
                // On a full scan every row is read; only a changed header is worth a call.
                let look = if full {
                    !header_changes(&target, remote).is_empty()
                } else {
                    needs_full_compare(&target, remote, b.payment.as_ref())
                };
                if look && budget.take(1) {
                    let drift = match self
                        .accounting
                        .booking_detail(&conn, &remote.booking_id)
                        .await
                        .map_err(unavailable)?
                    {
                        None => Some(Drift {
                            kind: DriftKind::Deleted,
                            by_accountant: false,
                            detected_at: now,
                            changes: Vec::new(),
                        }),
                        Some(detail) => {
                            let changes = full_changes(&target, &detail);
                            (!changes.is_empty()).then_some(Drift {
                                kind: DriftKind::Changed,
                                by_accountant: detail.by_accountant,
                                detected_at: now,
                                changes,
                            })
                        }
                    };
                    self.note_drift(b, drift, &mut update, &mut events, &mut notices);
                }
            }
            updates.push(update);
        }

        // 4. Deletions: on a completed full scan, what we booked that SnelStart no longer lists.
        if full && complete {
            let listed: BTreeSet<&str> = fresh.iter().map(|f| f.booking_id.as_str()).collect();
            let missing: Vec<String> = self
                .store
                .booked_ids(adm)
                .await?
                .into_iter()
                .filter(|id| !listed.contains(id.as_str()))
                .collect();
            let gone = self.store.booked_invoices(adm, &missing).await?;
            let mut checked_all = true;
            for b in &gone {
                if !budget.take(1) {
                    checked_all = false;
                    break;
                }
                if self
                    .accounting
                    .booking_detail(&conn, &b.snelstart_id)
                    .await
                    .map_err(unavailable)?
                    .is_none()
                {
                    let mut update = ReadbackUpdate {
                        invoice_id: b.invoice.id.clone(),
                        payment: None,
                        drift: None,
                    };
                    let drift = Some(Drift {
                        kind: DriftKind::Deleted,
                        by_accountant: false,
                        detected_at: now,
                        changes: Vec::new(),
                    });
                    self.note_drift(b, drift, &mut update, &mut events, &mut notices);
                    updates.push(update);
                }
            }
            if checked_all {
                state.last_full_scan_at = Some(now);
                report.full_scan = true;
            } else {
                report.out_of_budget = true;
            }
        }
        report.drift = events.iter().filter(|e| e.kind == EventType::Drift).count();
        report.calls = budget.spent;
        state.hour_calls = state.hour_calls.saturating_add(budget.spent);
        state.last_run_at = Some(now);
        self.store
            .save_readback(adm, &state, &updates, &events, &notices, now)
            .await?;
        if !notices.is_empty() {
            tracing::info!(adm = %adm, drift = report.drift, "drift found in SnelStart");
        }
        Ok(report)
    }

    /// Records a drift that differs from the stored one: the update, one event and one
    /// notice (each drift is notified once).
    fn note_drift(
        &self,
        b: &BookedInvoice,
        drift: Option<Drift>,
        update: &mut ReadbackUpdate,
        events: &mut Vec<NewEvent>,
        notices: &mut Vec<NotificationItem>,
    ) {
        if same_drift(b.drift.as_ref(), drift.as_ref()) {
            return;
        }
        if let Some(d) = &drift {
            events.push(NewEvent {
                kind: EventType::Drift,
                invoice_id: b.invoice.id.clone(),
                data: serde_drift(d),
            });
            notices.push(NotificationItem {
                kind: NoticeKind::Drift,
                subject_type: "invoice".to_owned(),
                subject_id: b.invoice.id.to_string(),
                label: b.invoice.number.clone(),
                reason: drift_reason(d),
                snelstart_code: None,
                hint: Some(match d.kind {
                    DriftKind::Deleted => "boek de factuur opnieuw via Opnieuw boeken als dat de bedoeling is; de koppeling doet dat niet vanzelf".to_owned(),
                    DriftKind::Changed => "controleer of de wijziging in SnelStart klopt, of corrigeer de factuur in Radar360 met een creditnota".to_owned(),
                }),
            });
        }
        update.drift = Some(drift);
    }

    /// The administraties whose read-back this worker runs now (see
    /// [`ReadbackStore::readback_due`]): at most every `interval`.
    ///
    /// # Errors
    /// The store's.
    pub async fn readback_due(
        &self,
        interval: std::time::Duration,
    ) -> Result<Vec<AdministratieCode>, ServiceError> {
        let now = self.clock.now();
        let since = now - chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::MAX);
        Ok(self
            .store
            .readback_due(&self.config.worker_id, now, since)
            .await?)
    }

    /// Pushes due events to `sink`, in id order per administratie, one request each; a
    /// failure backs off that administratie (1 s doubling to 5 min) and an event failing
    /// for 24 hours is given up (it stays in the feed). Returns how many were delivered.
    ///
    /// # Errors
    /// The store's.
    pub async fn push_events<E: crate::ports::EventSink>(
        &self,
        sink: &E,
    ) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        let mut delivered = 0;
        for (adm, mut state, events) in self.store.events_to_push(now, 100).await? {
            for event in events {
                let body = event_json(&adm, &event);
                let result = sink.deliver(event.id, &body).await;
                let ok = result.is_ok();
                state = crate::readback::after_push(&state, event.id, result, self.clock.now());
                if ok {
                    delivered += 1;
                } else {
                    tracing::warn!(adm = %adm, event = event.id, error = state.last_error.as_deref().unwrap_or(""), "pushing an event failed; retried with back-off");
                    break;
                }
            }
            self.store.save_push(&adm, &state).await?;
        }
        Ok(delivered)
    }

    /// The events of `adm` after `after` (product §8.2): `limit` 1..=1000.
    ///
    /// # Errors
    /// `NotFound` for an unknown administratie; `Invalid` for a limit over 1000.
    pub async fn events(
        &self,
        adm: &AdministratieCode,
        after: u64,
        limit: u32,
    ) -> Result<Vec<crate::readback::Event>, ServiceError> {
        if limit == 0 || limit > 1000 {
            return Err(crate::problem::Problem::new(
                "limit",
                crate::problem::Rule::InvalidLimit { max: 1000 },
            )
            .into());
        }
        self.get_administratie(adm).await?;
        Ok(self.store.events(adm, after, limit).await?)
    }

    /// Books invoice `id` again after it was deleted in SnelStart (`POST …/rebook`).
    ///
    /// # Errors
    /// `NotFound`; `Conflict { code: "not_deleted" }` when it is not deleted in SnelStart.
    ///
    /// Returns the sync state the rebook wrote (queued, no old id, no payment or drift):
    /// the answer of `POST …/rebook`, even when the worker claims the invoice before the
    /// answer is sent.
    pub async fn rebook(
        &self,
        adm: &AdministratieCode,
        id: &crate::ids::ResourceId,
    ) -> Result<crate::ports::SyncState, ServiceError> {
        self.get_administratie(adm).await?;
        Ok(self.store.rebook(adm, id, self.clock.now()).await?)
    }
}

/// What we booked for `b`, as the comparison needs it; `None` when the invoice would no
/// longer be booked under today's settings (nothing to compare with).
fn booked_for(b: &BookedInvoice, koppeling: &Koppeling) -> Option<Booked> {
    // The relatiecode is not compared (the relatie's id is); any valid one will do.
    let code = RelatieCode::from_i32(1)?;
    match plan_booking(&b.invoice, code, &koppeling.settings) {
        Ok(Plan::Book(booking)) => Some(Booked {
            booking,
            relation_id: b.invoice.relation_id.to_string(),
            klant_id: b.klant_id.clone(),
        }),
        _ => None,
    }
}

fn serde_payment(p: &Payment) -> String {
    format!(
        r#"{{"status":"{}","outstanding":"{}","paid_at":{}}}"#,
        p.status.as_str(),
        crate::money::format_cents(p.outstanding),
        p.paid_at
            .map_or_else(|| "null".to_owned(), |d| format!("\"{d}\""))
    )
}

fn serde_drift(d: &Drift) -> String {
    let changes: Vec<String> = d
        .changes
        .iter()
        .map(|c| {
            format!(
                r#"{{"field":{},"radar360":{},"snelstart":{}}}"#,
                json_string(&c.field),
                json_string(&c.radar360),
                json_string(&c.snelstart)
            )
        })
        .collect();
    format!(
        r#"{{"kind":"{}","by_accountant":{},"changes":[{}]}}"#,
        match d.kind {
            DriftKind::Changed => "changed",
            DriftKind::Deleted => "deleted",
        },
        d.by_accountant,
        changes.join(",")
    )
}

/// A JSON string literal (the domain has no JSON library).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The JSON of one pushed event (as the feed shows it, plus the administratie).
fn event_json(adm: &AdministratieCode, e: &crate::readback::Event) -> String {
    format!(
        r#"{{"id":{},"administratie":{},"type":"{}","at":"{}","invoice_id":{},"data":{}}}"#,
        e.id,
        json_string(adm.as_str()),
        e.kind.as_str(),
        e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        json_string(&e.invoice_id),
        e.data
    )
}
