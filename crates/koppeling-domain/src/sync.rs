//! The sync use case: for one claimed invoice, ensure the relatie, then book it exactly once.
//!
//! Exactly-once protocol: the first attempt posts directly (one SnelStart call in steady
//! state). An attempt whose write outcome is unknown (timeout, 5xx, lost connection, or a
//! lease that expired while a worker held it) sets `needs_lookup`, and the next attempt looks
//! the invoice up by factuurnummer before anything is posted again. BOE-0021 ("factuurnummer
//! bestaat al") is adopted when the existing booking matches.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::ids::AdministratieCode;
use crate::koppeling::Connection;
use crate::notification::{
    DispatchReport, NoticeKind, NotificationItem, OutgoingMail, StoredNotification, render,
    send_backoff,
};
use crate::pause::PauseReason;
use crate::ports::{
    Accounting, AccountingError, Claim, ClaimRequest, Clock, Credential, ErrorClass, Notifier,
    Outcome, Rejection, RelatieLink, SendFailure, Store, StoreError, SyncJob,
};
use crate::problem::Problem;
use crate::relation::{RelatieCode, RelatieData};

mod admin;
mod attempt;
use attempt::Attempt;
mod documents;
mod queries;
mod readback;
mod reconcile;
pub use admin::{KoppelingOverview, PausedWaiting, ServiceError};
pub use documents::DOCUMENTS_RECHECK;
pub use readback::{READBACK_PAGE, ReadbackConfig, ReadbackReport};
pub use reconcile::MAX_CONFIRM;

mod auth;

mod connect;
pub use connect::ConnectLink;

/// Tunables of the sync.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// How long a claim is held before another worker may take it over.
    pub lease: Duration,
    /// Identifies this worker (process) in leases.
    pub worker_id: String,
    /// Base URL of the admin UI, for links in notifications.
    pub ui_base_url: String,
    /// The same problem is not notified again within this window.
    pub dedupe: Duration,
    /// A transient failure that persists this long is notified.
    pub notify_transient_after: Duration,
    /// Longest back-off between attempts.
    pub max_backoff: Duration,
    /// The wait after a notification's first failed send; it doubles per failure.
    pub notify_retry: Duration,
    /// The longest wait between sends of a notification (it is never given up).
    pub notify_retry_max: Duration,
    /// The activation link (product §8.1).
    pub connect: ConnectConfig,
}

/// The activation link's configuration.
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    /// `snelstart.app_short_name`; `None` = the link flow is off.
    pub app_short_name: Option<String>,
    /// `snelstart.activation_url`, no trailing `/`.
    pub activation_url: String,
    /// `http.public_url`, no trailing `/`.
    pub public_url: String,
}

impl Default for ConnectConfig {
    fn default() -> Self {
        Self {
            app_short_name: None,
            activation_url: "https://web.snelstart.nl/couplings/activate".to_owned(),
            public_url: "http://127.0.0.1:8360".to_owned(),
        }
    }
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            worker_id: "worker".to_owned(),
            ui_base_url: "http://127.0.0.1:8360".to_owned(),
            dedupe: Duration::from_secs(24 * 3600),
            notify_transient_after: Duration::from_secs(3600),
            max_backoff: Duration::from_secs(900),
            notify_retry: Duration::from_secs(30),
            notify_retry_max: Duration::from_secs(3600),
            connect: ConnectConfig::default(),
        }
    }
}

/// What one attempt did, for the caller's log and exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptReport {
    /// The administratie.
    pub administratie: AdministratieCode,
    /// The invoice id.
    pub invoice_id: String,
    /// The outcome recorded.
    pub outcome: Outcome,
    /// Whether the lease was still ours when recording.
    pub recorded: bool,
}

/// The application service: the sync use case and the management operations.
pub struct Service<S, A, N, C> {
    store: S,
    accounting: A,
    notifier: N,
    clock: C,
    config: SyncConfig,
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// `now + d`, saturating instead of overflowing (a duration from configuration or from
/// SnelStart can be anything).
fn later(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now.checked_add_signed(chrono_duration(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The longest wait a `Retry-After` from SnelStart can impose (product.md §3; the client
/// clamps too: input from SnelStart is untrusted).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The back-off before attempt `attempts + 1`: 2^attempts seconds, capped.
#[must_use]
pub fn backoff(attempts: u32, max: Duration) -> Duration {
    let secs = 1u64 << attempts.min(20);
    Duration::from_secs(secs).min(max)
}

/// A known refusal in Dutch: "SnelStart weigert de factuur: <why>".
fn error_dutch(rejection: &Rejection) -> String {
    format!("SnelStart weigert de factuur: {}", rejection.dutch())
}

/// The next step after an [`AccountingError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// Retry later; `lookup` when the write may have been committed.
    Retry {
        /// At the earliest after this long.
        after: Duration,
        /// Look the invoice up first.
        lookup: bool,
    },
    /// A data error.
    Fail,
    /// Pause the koppeling (or all, for the subscription key).
    Pause(Credential),
}

/// Sorts an accounting failure into what to do next (pure).
#[must_use]
pub fn classify(error: &AccountingError, attempts: u32, max_backoff: Duration) -> NextStep {
    let base = backoff(attempts, max_backoff);
    match error {
        AccountingError::Transient { retry_after, .. } => NextStep::Retry {
            after: retry_after.map_or(base, |r| r.clamp(Duration::from_secs(1), MAX_RETRY_AFTER)),
            lookup: false,
        },
        AccountingError::UnknownOutcome { .. } => NextStep::Retry {
            after: base,
            lookup: true,
        },
        AccountingError::Rejected { .. } => NextStep::Fail,
        AccountingError::Auth { credential, .. } => NextStep::Pause(*credential),
    }
}

enum Step {
    Done(Outcome, String, Option<NotificationItem>),
}

/// The failed outcome of broken rules: of the relation (`subject_is_relation`, fields
/// under `relation.`) or of the invoice.
fn problems_outcome(job: &SyncJob, problems: &[Problem], subject_is_relation: bool) -> Step {
    let problems: Vec<Problem> = problems
        .iter()
        .map(|p| {
            if subject_is_relation {
                p.clone().under("relation")
            } else {
                p.clone()
            }
        })
        .collect();
    let reason = crate::problem::describe_dutch(&problems);
    let hint = problems
        .iter()
        .find_map(Problem::dutch_hint)
        .unwrap_or_else(|| {
            "corrigeer de gegevens in Radar360; de factuur wordt daarna opnieuw aangeboden"
                .to_owned()
        });
    let item = NotificationItem {
        kind: NoticeKind::InvoiceFailed,
        subject_type: if subject_is_relation {
            "relation"
        } else {
            "invoice"
        }
        .to_owned(),
        subject_id: if subject_is_relation {
            job.relation.id.to_string()
        } else {
            job.invoice.id.to_string()
        },
        label: if subject_is_relation {
            format!("{} ({})", job.relation.name, job.relation.code)
        } else {
            job.invoice.number.clone()
        },
        reason: reason.clone(),
        snelstart_code: None,
        hint: Some(hint.clone()),
    };
    Step::Done(
        Outcome::Failed {
            error: reason.clone(),
            hint: Some(hint),
            snelstart_code: None,
            class: ErrorClass::Data,
        },
        reason,
        Some(item),
    )
}

impl<S, A, N, C> Service<S, A, N, C>
where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    /// Composes the service.
    pub fn new(store: S, accounting: A, notifier: N, clock: C, config: SyncConfig) -> Self {
        Self {
            store,
            accounting,
            notifier,
            clock,
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Claims up to `limit` due invoices for this worker.
    ///
    /// # Errors
    /// A store failure.
    pub async fn claim(
        &self,
        limit: u32,
        adm: Option<AdministratieCode>,
    ) -> Result<Vec<Claim>, StoreError> {
        let now = self.clock.now();
        self.store
            .claim_due(
                ClaimRequest::new(
                    self.config.worker_id.clone(),
                    now,
                    later(now, self.config.lease),
                    limit,
                )
                .of(adm),
            )
            .await
    }

    /// When work is next due for this worker (see [`QueueStore::next_due_at`]).
    ///
    /// # Errors
    /// A store failure.
    pub async fn next_due_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.store
            .next_due_at(&self.config.worker_id, self.clock.now())
            .await
    }

    /// Gives up this worker's administratie leases (a clean stop).
    ///
    /// # Errors
    /// A store failure.
    pub async fn release(&self) -> Result<(), StoreError> {
        self.store.release_worker(&self.config.worker_id).await
    }

    /// Runs one attempt for a claimed invoice and records its outcome.
    ///
    /// # Errors
    /// A store failure (the claim then expires and is taken over with a lookup).
    pub async fn process(&self, claim: &Claim) -> Result<AttemptReport, StoreError> {
        let job = self.store.load_job(claim).await?;
        self.process_loaded(claim, job).await
    }

    /// Loads the jobs of a batch of claims in one store query (see [`QueueStore::load_jobs`]),
    /// for [`Service::process_loaded`].
    ///
    /// # Errors
    /// A store failure.
    pub async fn load_jobs(&self, claims: &[Claim]) -> Result<Vec<Option<SyncJob>>, StoreError> {
        self.store.load_jobs(claims).await
    }

    /// [`Service::process`] with the job already loaded (`None`: the invoice or its
    /// relation is gone).
    ///
    /// # Errors
    /// A store failure (the claim then expires and is taken over with a lookup).
    #[tracing::instrument(skip_all, fields(adm = %claim.administratie, invoice = %claim.invoice_id))]
    pub async fn process_loaded(
        &self,
        claim: &Claim,
        job: Option<SyncJob>,
    ) -> Result<AttemptReport, StoreError> {
        let Some(job) = job else {
            let outcome = Outcome::Skipped {
                reason: "de factuur of haar relatie bestaat niet meer".to_owned(),
            };
            let recorded = self
                .store
                .finish(
                    claim,
                    self.clock.now(),
                    &outcome,
                    "factuur of relatie verwijderd",
                    None,
                )
                .await?;
            return Ok(self.report(claim, outcome, recorded));
        };
        // Invariant: no claim outlives its attempt, even a panicking one. A panic (a bug, or
        // an answer nobody foresaw) releases the claim as a transient failure with a look-up
        // first, so the invoice is neither stuck `in_progress` nor posted blindly again.
        let step = match CatchUnwind(Box::pin(Attempt::new(self, claim, &job).run())).await {
            Ok(step) => step?,
            Err(panic) => self.panicked(claim, panic.as_ref()),
        };
        let Step::Done(mut outcome, message, notice) = step;
        let recorded = match self
            .store
            .finish(claim, self.clock.now(), &outcome, &message, notice)
            .await
        {
            // Invariant: a SnelStart id belongs to at most one invoice of an administratie
            // (the store refuses a second): the booking found is another invoice's.
            Err(StoreError::Conflict { code, message, .. }) if code == SNELSTART_ID_TAKEN => {
                let number = &job.invoice.number;
                let Step::Done(failed, log, notice) = self.conflict(
                    &job,
                    {
                        tracing::warn!(%message, "the booking found is another invoice's");
                        format!("factuurnummer {number} bestaat al in SnelStart als boeking van een andere factuur; deze factuur is niet opnieuw geboekt")
                    },
                );
                outcome = failed;
                self.store
                    .finish(claim, self.clock.now(), &outcome, &log, notice)
                    .await?
            }
            other => other?,
        };
        match &outcome {
            Outcome::Synced { snelstart_id } => tracing::info!(snelstart_id, "invoice synced"),
            Outcome::Failed { error, .. } => tracing::warn!(error, "invoice failed"),
            Outcome::Skipped { reason } => tracing::info!(reason, "invoice skipped"),
            Outcome::Retry {
                error,
                next_attempt_at,
                ..
            } => tracing::info!(error, %next_attempt_at, "invoice will be retried"),
            Outcome::Release { .. } => tracing::info!("invoice released"),
            Outcome::Unqueued => tracing::info!("invoice taken out of the queue"),
        }
        if !recorded {
            tracing::warn!("lease lost before the outcome was recorded; another worker took over");
        }
        Ok(self.report(claim, outcome, recorded))
    }

    /// The outcome of an attempt that panicked: retried after the back-off, looked up first.
    fn panicked(&self, claim: &Claim, panic: &(dyn Any + Send)) -> Step {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned());
        tracing::error!(panic = %what, "the attempt panicked; the invoice is released and looked up before it is sent again");
        let now = self.clock.now();
        let error = "interne fout in de koppeling; de factuur wordt in SnelStart opgezocht en opnieuw aangeboden".to_owned();
        Step::Done(
            Outcome::Retry {
                next_attempt_at: later(now, backoff(claim.attempts, self.config.max_backoff)),
                error: error.clone(),
                snelstart_code: None,
                needs_lookup: true,
                failing_since: claim.failing_since.unwrap_or(now),
            },
            error,
            None,
        )
    }

    fn report(&self, claim: &Claim, outcome: Outcome, recorded: bool) -> AttemptReport {
        AttemptReport {
            administratie: claim.administratie.clone(),
            invoice_id: claim.invoice_id.to_string(),
            outcome,
            recorded,
        }
    }

    /// The invoice fails with BOE-0021: its number is taken in SnelStart by a booking that
    /// is not (provably) this invoice's.
    fn conflict(&self, job: &SyncJob, message: String) -> Step {
        let rejection = Rejection::DuplicateInvoiceNumber;
        let code = rejection.code().map(str::to_owned);
        let hint = rejection.dutch_hint().to_owned();
        let item = self.item(
            job,
            NoticeKind::InvoiceFailed,
            message.clone(),
            code.clone(),
            Some(hint.clone()),
        );
        Step::Done(
            Outcome::Failed {
                error: message.clone(),
                hint: Some(hint),
                snelstart_code: code,
                class: ErrorClass::Data,
            },
            message,
            Some(item),
        )
    }

    fn item(
        &self,
        job: &SyncJob,
        kind: NoticeKind,
        reason: String,
        code: Option<String>,
        hint: Option<String>,
    ) -> NotificationItem {
        NotificationItem {
            kind,
            subject_type: "invoice".to_owned(),
            subject_id: job.invoice.id.to_string(),
            label: job.invoice.number.clone(),
            reason,
            snelstart_code: code,
            hint,
        }
    }

    async fn ensure_relatie(
        &self,
        claim: &Claim,
        job: &SyncJob,
        conn: &Connection,
        data: &RelatieData,
    ) -> Result<String, EnsureError> {
        let fingerprint = data.fingerprint();
        let adm = &claim.administratie;
        if let Some(link) = &job.relatie {
            if link.fingerprint == fingerprint {
                return Ok(link.snelstart_id.clone());
            }
            self.accounting
                .update_relatie(conn, &link.snelstart_id, data)
                .await?;
            self.store
                .save_relatie_link(
                    adm,
                    &job.relation.id,
                    &RelatieLink {
                        snelstart_id: link.snelstart_id.clone(),
                        fingerprint,
                    },
                )
                .await?;
            return Ok(link.snelstart_id.clone());
        }
        let id = match self.accounting.create_relatie(conn, data).await {
            Ok(id) => id,
            // REL-0008: the relatiecode is in use; Radar360 is leading, so adopt a Klant.
            Err(AccountingError::Rejected {
                rejection: Rejection::RelatiecodeTaken,
                ..
            }) => self.adopt_relatie(conn, data.code, data).await?,
            Err(error) => return Err(error.into()),
        };
        self.store
            .save_relatie_link(
                adm,
                &job.relation.id,
                &RelatieLink {
                    snelstart_id: id.clone(),
                    fingerprint,
                },
            )
            .await?;
        Ok(id)
    }

    async fn adopt_relatie(
        &self,
        conn: &Connection,
        code: RelatieCode,
        data: &RelatieData,
    ) -> Result<String, EnsureError> {
        match self.accounting.find_relatie(conn, code).await? {
            Some(found) if found.is_klant => {
                self.accounting
                    .update_relatie(conn, &found.id, data)
                    .await?;
                Ok(found.id)
            }
            Some(_) => Err(EnsureError::NotKlant(format!(
                "relatiecode {code} is in SnelStart in gebruik bij een relatie die geen klant is"
            ))),
            None => Err(EnsureError::Accounting(AccountingError::Transient {
                retry_after: None,
                message: format!(
                    "SnelStart reports relatiecode {code} in use but the lookup found none"
                ),
            })),
        }
    }

    async fn on_error(
        &self,
        claim: &Claim,
        job: &SyncJob,
        error: &AccountingError,
        lookup_pending: bool,
    ) -> Result<Step, StoreError> {
        let now = self.clock.now();
        let next = match classify(error, claim.attempts, self.config.max_backoff) {
            // A refusal while the outcome of an earlier write is still unknown (the look-up
            // itself refused) does not settle it: keep looking, never fail blindly.
            NextStep::Fail if lookup_pending => NextStep::Retry {
                after: backoff(claim.attempts, self.config.max_backoff),
                lookup: true,
            },
            next => next,
        };
        match next {
            NextStep::Retry { after, lookup } => {
                let failing_since = claim.failing_since.unwrap_or(now);
                let notice = (now - failing_since
                    >= chrono_duration(self.config.notify_transient_after))
                .then(|| {
                    self.item(
                        job,
                        NoticeKind::StillFailing,
                        crate::notification::STILL_FAILING_REASON.to_owned(),
                        None,
                        Some(crate::notification::STILL_FAILING_HINT.to_owned()),
                    )
                });
                tracing::info!(%error, "SnelStart call failed; retried later");
                let message = error.dutch();
                Ok(Step::Done(
                    Outcome::Retry {
                        next_attempt_at: later(now, after),
                        error: message.clone(),
                        snelstart_code: None,
                        needs_lookup: lookup || lookup_pending,
                        failing_since,
                    },
                    message,
                    notice,
                ))
            }
            NextStep::Fail => {
                tracing::info!(%error, "SnelStart refused the invoice");
                let (code, reason, hint) = match error {
                    AccountingError::Rejected { rejection, message } => (
                        rejection.code().map(str::to_owned),
                        match rejection {
                            // No words of our own: SnelStart's message (its own words) says it.
                            Rejection::Other { .. } => {
                                format!("SnelStart weigert de factuur: {message}")
                            }
                            known => error_dutch(known),
                        },
                        rejection.dutch_hint().to_owned(),
                    ),
                    other => (
                        None,
                        other.dutch(),
                        Rejection::Other { code: None }.dutch_hint().to_owned(),
                    ),
                };
                let item = self.item(
                    job,
                    NoticeKind::InvoiceFailed,
                    reason.clone(),
                    code.clone(),
                    Some(hint.clone()),
                );
                Ok(Step::Done(
                    Outcome::Failed {
                        error: reason.clone(),
                        hint: Some(hint),
                        snelstart_code: code,
                        class: ErrorClass::Data,
                    },
                    reason,
                    Some(item),
                ))
            }
            NextStep::Pause(credential) => {
                tracing::warn!(%error, "SnelStart refused a credential");
                self.pause(&claim.administratie, credential).await?;
                Ok(Step::Done(
                    Outcome::Release {
                        needs_lookup: claim.needs_lookup || lookup_pending,
                    },
                    String::new(),
                    None,
                ))
            }
        }
    }

    /// Pauses the koppeling of `adm` because its stored koppelsleutel cannot be decrypted
    /// with any configured master key, and queues one notice when the state changed.
    ///
    /// # Errors
    /// A store failure.
    pub async fn pause_unusable_key(&self, adm: &AdministratieCode) -> Result<(), StoreError> {
        if self
            .pause_with_notice(adm, PauseReason::KeyUnusable)
            .await?
        {
            tracing::warn!(adm = %adm, "koppeling paused: the stored koppelsleutel cannot be decrypted (secrets.master_key changed without listing the old key in secrets.previous_master_keys?)");
        }
        Ok(())
    }

    /// Pauses the koppeling of `adm` for `reason` and, when that changed its state, queues
    /// one notice to the Beheerder (the reason and what to do, in Dutch). Returns whether
    /// the state changed.
    async fn pause_with_notice(
        &self,
        adm: &AdministratieCode,
        reason: PauseReason,
    ) -> Result<bool, StoreError> {
        let changed = self
            .store
            .set_koppeling_paused(adm, Some(reason.clone()))
            .await?;
        if changed {
            let item = NotificationItem {
                kind: NoticeKind::Paused,
                subject_type: "koppeling".to_owned(),
                subject_id: String::new(),
                label: "SnelStart".to_owned(),
                reason: reason.dutch(),
                snelstart_code: None,
                hint: Some(reason.dutch_hint().to_owned()),
            };
            self.store
                .queue_notice(adm, &item, self.clock.now())
                .await?;
        }
        Ok(changed)
    }

    /// Pauses the koppeling of `adm` (or every koppeling, for the subscription key) and
    /// queues one notice when the state changed.
    ///
    /// # Errors
    /// A store failure.
    pub async fn pause(
        &self,
        adm: &AdministratieCode,
        credential: Credential,
    ) -> Result<(), StoreError> {
        match credential {
            Credential::ConnectionKey => {
                if self.pause_with_notice(adm, PauseReason::KeyRefused).await? {
                    tracing::warn!(adm = %adm, "koppeling paused: SnelStart refuses the koppelsleutel");
                }
            }
            Credential::SubscriptionKey => {
                let changed = self
                    .store
                    .set_all_paused(Some(PauseReason::SubscriptionKeyRefused))
                    .await?;
                if !changed.is_empty() {
                    tracing::error!(
                        paused = changed.len(),
                        "SnelStart refuses the SUBSCRIPTION KEY (snelstart.subscription_key): every koppeling is paused until it works again"
                    );
                }
            }
        }
        Ok(())
    }

    /// When every koppeling is paused because SnelStart refused the subscription key, makes
    /// one cheap probe call; when the key is accepted again, resumes them (without a notice:
    /// the Beheerders were not told about the pause either). Returns `None` when nothing is
    /// paused for the subscription key, else whether they were resumed. Meant to run at
    /// start-up and then every 5 minutes.
    ///
    /// # Errors
    /// A store failure.
    pub async fn probe_subscription(&self) -> Result<Option<bool>, StoreError> {
        for adm in self.store.list_administraties().await? {
            let Some(koppeling) = self.store.get_koppeling(&adm.code).await? else {
                continue;
            };
            let for_subscription = koppeling.problem == Some(PauseReason::SubscriptionKeyRefused);
            if !(koppeling.active && koppeling.paused && for_subscription) {
                continue;
            }
            let Some(key) = koppeling.key.clone() else {
                continue;
            };
            let conn = Connection {
                administratie: adm.code.clone(),
                key,
            };
            // The gateway checks the subscription key before anything else, so any answer
            // but a subscription-key refusal (or no answer) means it is accepted again.
            let accepted = match self.accounting.find_booking(&conn, "koppeling-probe").await {
                Ok(_) | Err(AccountingError::Rejected { .. }) => true,
                Err(AccountingError::Auth { credential, .. }) => {
                    credential == Credential::ConnectionKey
                }
                Err(_) => false,
            };
            if !accepted {
                return Ok(Some(false));
            }
            let resumed = self.store.set_all_paused(None).await?;
            // No "werkt weer" mail: the Beheerders were never told about this pause (the
            // subscription key is the operator's, and pausing for it mails no one).
            tracing::warn!(
                resumed = resumed.len(),
                "SnelStart accepts the subscription key again: koppelingen resumed"
            );
            return Ok(Some(true));
        }
        Ok(None)
    }

    /// Groups pending notices into one notification per administratie (dropping ones
    /// mailed within the dedupe window, counted from the send, or still waiting to be
    /// mailed), stores them, then mails every one that is due.
    ///
    /// A failed send is recorded with its error and tried again after a back-off
    /// (`notify_retry`, doubling, at most `notify_retry_max`), until it is sent.
    ///
    /// # Errors
    /// A store failure.
    pub async fn dispatch_notifications(&self) -> Result<DispatchReport, StoreError> {
        let now = self.clock.now();
        let pending = self.store.pending_notices(1000).await?;
        let mut by_adm: Vec<(AdministratieCode, Vec<crate::ports::PendingNotice>)> = Vec::new();
        for notice in pending {
            match by_adm.iter_mut().find(|(a, _)| *a == notice.administratie) {
                Some((_, list)) => list.push(notice),
                None => by_adm.push((notice.administratie.clone(), vec![notice])),
            }
        }
        let since = now - chrono_duration(self.config.dedupe);
        for (adm, notices) in by_adm {
            let ids: Vec<i64> = notices.iter().map(|n| n.id).collect();
            let mut items: Vec<NotificationItem> = Vec::new();
            let mut keys: Vec<String> = Vec::new();
            for notice in notices {
                let key = notice.item.dedupe_key();
                if keys.contains(&key) || self.store.notified_since(&adm, &key, since).await? {
                    continue;
                }
                keys.push(key);
                items.push(notice.item);
            }
            if items.is_empty() {
                self.store.save_notification(&adm, &ids, None).await?;
                continue;
            }
            let recipient = self.store.recipient(&adm).await?;
            let (to_name, to_email) = recipient.admin.as_ref().map_or_else(
                || ("Beheerder".to_owned(), String::new()),
                |a| (a.name.clone(), a.email.clone()),
            );
            let (subject, body) = render(
                &adm,
                &recipient.administratie_name,
                &to_name,
                &items,
                &self.config.ui_base_url,
            );
            let notification = StoredNotification {
                at: now,
                to: to_email.clone(),
                subject,
                body,
                items,
            };
            let id = self
                .store
                .save_notification(&adm, &ids, Some((notification, keys)))
                .await?;
            if to_email.is_empty()
                && let Some(id) = id
            {
                tracing::warn!(adm = %adm, "no Beheerder chosen for notifications; the notification is only stored");
                self.store.mark_notification(id, now, None).await?;
            }
        }
        let mut report = DispatchReport::default();
        // Longer than a send can take: another process leaves a claimed mail alone.
        let hold = chrono::Duration::minutes(5);
        let now = self.clock.now();
        for unsent in self
            .store
            .unsent_notifications(now, now + hold, 100)
            .await?
        {
            let to_email = unsent.notification.to.clone();
            if to_email.is_empty() {
                // Stored only (no Beheerder chosen): there is nobody to mail.
                self.store.mark_notification(unsent.id, now, None).await?;
                continue;
            }
            let mail = OutgoingMail {
                to_name: unsent.to_name.clone(),
                to_email: to_email.clone(),
                subject: unsent.notification.subject.clone(),
                body: unsent.notification.body.clone(),
                link_base: self.config.ui_base_url.clone(),
            };
            match self.notifier.send(&mail).await {
                Ok(()) => {
                    if unsent.send_attempts > 0 {
                        tracing::info!(adm = %unsent.administratie, failed_before = unsent.send_attempts, "a notification that failed to send is mailed now");
                    }
                    self.store
                        .mark_notification(unsent.id, self.clock.now(), None)
                        .await?;
                    report.sent += 1;
                }
                Err(error) => {
                    let failures = unsent.send_attempts.saturating_add(1);
                    let wait = send_backoff(
                        failures,
                        self.config.notify_retry,
                        self.config.notify_retry_max,
                    );
                    // The operator's log names the administratie, not the Beheerder's address.
                    tracing::error!(
                        adm = %unsent.administratie,
                        failures,
                        retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        error = %error.0.replace(&to_email, "<Beheerder>"),
                        "mailing a notification to the Beheerder failed; it is sent again later"
                    );
                    let at = self.clock.now();
                    let failure = SendFailure {
                        error: error.0,
                        retry_at: at + chrono_duration(wait),
                    };
                    self.store
                        .mark_notification(unsent.id, at, Some(failure))
                        .await?;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// The current time of the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// The code of the store's refusal of a SnelStart id that another invoice holds.
pub const SNELSTART_ID_TAKEN: &str = "snelstart_id_taken";

/// Polls a future, turning a panic into an error (`futures`' `catch_unwind` without the
/// dependency; the future is boxed so that no unsafe pin projection is needed).
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.get_mut().0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

enum EnsureError {
    Accounting(AccountingError),
    Store(StoreError),
    NotKlant(String),
}

impl From<AccountingError> for EnsureError {
    fn from(value: AccountingError) -> Self {
        Self::Accounting(value)
    }
}

impl From<StoreError> for EnsureError {
    fn from(value: StoreError) -> Self {
        Self::Store(value)
    }
}

/// Whether two amounts are equal to the cent (used when adopting).
#[must_use]
pub fn same_amount(a: Decimal, b: Decimal) -> bool {
    crate::money::round_cents(a) == crate::money::round_cents(b)
}

#[cfg(test)]
mod tests;
