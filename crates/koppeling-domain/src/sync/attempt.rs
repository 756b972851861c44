//! One sync attempt of a claimed invoice, step by step: the connection, the look-up that
//! settles an earlier write, the plan (relatie and booking), the relatie in SnelStart, and
//! the booking. Each step either hands the next one what it needs or ends the attempt with
//! its [`Step`].

use std::ops::ControlFlow::{self, Break, Continue};

use rust_decimal::Decimal;

use super::{EnsureError, Service, Step, problems_outcome, same_amount};
use crate::booking::{Plan, factuurnummer, plan_booking};
use crate::koppeling::Connection;
use crate::notification::NoticeKind;
use crate::ports::{
    Accounting, AccountingError, Claim, Clock, Credential, ErrorClass, Notifier, Outcome,
    Rejection, RemoteBooking, Store, StoreError, SyncJob,
};
use crate::problem::Problem;
use crate::relation::{RelatieData, plan_relatie};

/// What a step gives: the next step's input, or the attempt's end.
type Next<T> = Result<ControlFlow<Step, T>, StoreError>;

/// What an invoice would be in SnelStart, to compare with a booking found there.
struct Ours<'a> {
    number: &'a str,
    total: Decimal,
    klant_id: Option<&'a str>,
}

/// One attempt to book the invoice of `claim` (loaded as `job`) exactly once.
pub(super) struct Attempt<'a, S, A, N, C> {
    service: &'a Service<S, A, N, C>,
    claim: &'a Claim,
    job: &'a SyncJob,
}

impl<'a, S, A, N, C> Attempt<'a, S, A, N, C>
where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    pub(super) fn new(
        service: &'a Service<S, A, N, C>,
        claim: &'a Claim,
        job: &'a SyncJob,
    ) -> Self {
        Self {
            service,
            claim,
            job,
        }
    }

    /// Runs the steps in order; the first that ends the attempt gives its outcome.
    pub(super) async fn run(self) -> Result<Step, StoreError> {
        let conn = match self.connection().await? {
            Continue(conn) => conn,
            Break(step) => return Ok(step),
        };
        if let Break(step) = self.look_up(&conn).await? {
            return Ok(step);
        }
        // From here on nothing of this invoice is in SnelStart.
        let (data, booking) = match self.plan() {
            Continue(plan) => plan,
            Break(step) => return Ok(step),
        };
        let klant_id = match self.relatie(&conn, &data).await? {
            Continue(id) => id,
            Break(step) => return Ok(step),
        };
        self.book(&conn, &booking, &klant_id).await
    }

    /// The claim goes back to the queue untouched (the koppeling cannot call SnelStart now).
    fn release(&self) -> Step {
        Step::Done(
            Outcome::Release {
                needs_lookup: self.claim.needs_lookup,
            },
            String::new(),
            None,
        )
    }

    /// The connection to SnelStart; an inactive or paused koppeling releases the claim,
    /// and one without a usable key is paused (once, one notice, no call to SnelStart).
    async fn connection(&self) -> Next<Connection> {
        let koppeling = &self.job.koppeling;
        let adm = &self.claim.administratie;
        if !koppeling.active || koppeling.paused {
            return Ok(Break(self.release()));
        }
        if koppeling.key_unusable {
            // Like a refused key: paused once, one notice, no call to SnelStart, no loop
            // (a paused koppeling releases its claims above until a new key is saved).
            self.service.pause_unusable_key(adm).await?;
            return Ok(Break(self.release()));
        }
        let Some(key) = koppeling.key.clone() else {
            self.service.pause(adm, Credential::ConnectionKey).await?;
            return Ok(Break(self.release()));
        };
        Ok(Continue(Connection {
            administratie: adm.clone(),
            key,
        }))
    }

    /// Invariant: the outcome of an earlier write is settled before anything else is
    /// decided, whatever changed since (a skip, an un-tick, a plan that now fails); the
    /// invoice could not change meanwhile (`outcome_unknown`), so its number is the one
    /// that may have been posted.
    async fn look_up(&self, conn: &Connection) -> Next<()> {
        let (claim, job) = (self.claim, self.job);
        if claim.needs_lookup
            && let Some(number) = factuurnummer(&job.invoice)
        {
            match self.service.accounting.find_booking(conn, number).await {
                Ok(Some(found)) => {
                    let ours = Ours {
                        number,
                        total: job.invoice.totals().gross,
                        klant_id: job.relatie.as_ref().map(|l| l.snelstart_id.as_str()),
                    };
                    return Ok(Break(self.adopt(&ours, &found)));
                }
                Ok(None) => {}
                Err(error) => {
                    return Ok(Break(
                        self.service.on_error(claim, job, &error, true).await?,
                    ));
                }
            }
        }
        Ok(Continue(()))
    }

    /// What would be sent: the relatie's data and the booking; an unticked relation, an
    /// invoice before the start date or broken rules end the attempt.
    fn plan(&self) -> ControlFlow<Step, (RelatieData, crate::booking::SalesBooking)> {
        let job = self.job;
        let invoice = &job.invoice;
        let settings = &job.koppeling.settings;
        if !job.relation.snelstart_enabled {
            return Break(Step::Done(
                Outcome::Unqueued,
                "de relatie is niet (meer) aangevinkt voor SnelStart: niet verstuurd".to_owned(),
                None,
            ));
        }
        if let Some(start) = settings.start_date
            && invoice.date < start
        {
            let reason = format!(
                "de factuurdatum {} ligt voor de startdatum {} van de koppeling",
                invoice.date.format("%d-%m-%Y"),
                start.format("%d-%m-%Y")
            );
            return Break(skipped(reason));
        }
        let data = match plan_relatie(&job.relation) {
            Ok(data) => data,
            Err(problems) => return Break(problems_outcome(job, &problems, true)),
        };
        match plan_booking(invoice, data.code, settings) {
            Ok(Plan::Book(booking)) => Continue((data, booking)),
            Ok(Plan::Skip(rule)) => Break(skipped(Problem::new("lines", rule).dutch())),
            Err(problems) => Break(problems_outcome(job, &problems, false)),
        }
    }

    /// The relatie in SnelStart (created or updated when its data changed): its id.
    async fn relatie(&self, conn: &Connection, data: &RelatieData) -> Next<String> {
        let (claim, job) = (self.claim, self.job);
        match self.service.ensure_relatie(claim, job, conn, data).await {
            Ok(id) => Ok(Continue(id)),
            Err(EnsureError::Accounting(error)) => Ok(Break(
                self.service.on_error(claim, job, &error, false).await?,
            )),
            Err(EnsureError::Store(error)) => Err(error),
            Err(EnsureError::NotKlant(message)) => {
                let hint = "gebruik in Radar360 een relatiecode die in SnelStart vrij is of bij een klant hoort".to_owned();
                let item = self.service.item(
                    job,
                    NoticeKind::InvoiceFailed,
                    message.clone(),
                    None,
                    Some(hint.clone()),
                );
                Ok(Break(Step::Done(
                    Outcome::Failed {
                        error: message.clone(),
                        hint: Some(hint),
                        snelstart_code: None,
                        class: ErrorClass::Data,
                    },
                    message,
                    Some(item),
                )))
            }
        }
    }

    /// Books the invoice; a BOE-0021 answer is settled by looking the number up.
    async fn book(
        &self,
        conn: &Connection,
        booking: &crate::booking::SalesBooking,
        klant_id: &str,
    ) -> Result<Step, StoreError> {
        let (service, claim, job) = (self.service, self.claim, self.job);
        match service.accounting.book_sale(conn, booking, klant_id).await {
            Ok(id) => Ok(Step::Done(
                Outcome::Synced { snelstart_id: id },
                "geboekt".to_owned(),
                None,
            )),
            Err(AccountingError::Rejected {
                rejection: Rejection::DuplicateInvoiceNumber,
                ..
            }) => {
                let ours = Ours {
                    number: &booking.invoice_number,
                    total: booking.total,
                    klant_id: Some(klant_id),
                };
                match service
                    .accounting
                    .find_booking(conn, &booking.invoice_number)
                    .await
                {
                    Ok(Some(found)) => Ok(self.adopt(&ours, &found)),
                    Ok(None) => {
                        let error = AccountingError::Transient { retry_after: None, message: "SnelStart reports the factuurnummer exists but the lookup found none yet".to_owned() };
                        service.on_error(claim, job, &error, true).await
                    }
                    Err(error) => service.on_error(claim, job, &error, true).await,
                }
            }
            Err(error) => service.on_error(claim, job, &error, false).await,
        }
    }

    /// Adopts a booking found in SnelStart as this invoice's, or fails the invoice.
    ///
    /// Invariant: adoption requires the same factuurnummer (exactly), the same total and
    /// the same klant; an unknown total or klant on either side is no match. A booking
    /// that is someone else's (another invoice, a manual booking) is never taken for ours,
    /// and ours is not booked again next to it: the invoice fails with BOE-0021.
    fn adopt(&self, ours: &Ours<'_>, found: &RemoteBooking) -> Step {
        let number_matches = found.number.as_deref().is_none_or(|n| n == ours.number);
        let total_matches = found.total.is_some_and(|t| same_amount(t, ours.total));
        let klant_matches = match (ours.klant_id, found.klant_id.as_deref()) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        if number_matches && total_matches && klant_matches {
            return Step::Done(
                Outcome::Synced {
                    snelstart_id: found.id.clone(),
                },
                "al in SnelStart: overgenomen".to_owned(),
                None,
            );
        }
        let differs = if !number_matches {
            format!(
                "factuurnummer \"{}\"",
                found.number.as_deref().unwrap_or_default()
            )
        } else if !total_matches {
            found.total.map_or_else(
                || "een onbekend totaal".to_owned(),
                |t| format!("totaal {t}"),
            )
        } else {
            "een andere klant".to_owned()
        };
        let message = format!(
            "factuurnummer {} bestaat al in SnelStart met {differs} (deze factuur: totaal {}); zij is niet opnieuw geboekt",
            ours.number, ours.total
        );
        self.service.conflict(self.job, message)
    }
}

fn skipped(reason: String) -> Step {
    Step::Done(
        Outcome::Skipped {
            reason: reason.clone(),
        },
        reason,
        None,
    )
}
