//! Management operations behind the JSON API, the UI and `import`: validate, then store.

use crate::ports::Missing;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Service;
use crate::ids::{AdministratieCode, ResourceId};
use crate::invoice::{Invoice, validate_invoice};
use crate::koppeling::{Connection, ConnectionKey, KoppelingSettings, KoppelingState};
use crate::notification::{NoticeKind, NotificationItem};
use crate::ports::{
    Accounting, AccountingError, Admin, Administratie, Clock, Credential, Put, StatusCounts, Store,
    StoreError, SyncState,
};
use crate::problem::{Problem, Rule};
use crate::relation::{RelatieCode, Relation, plan_relatie, validate_relation};

/// A failure of a management operation, mapped to an HTTP status by the web adapter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// Well-formed input that breaks a rule (422).
    #[error("{}", crate::problem::describe(.0))]
    Invalid(Vec<Problem>),
    /// The activation checks failed (422 `activation_failed`).
    #[error("activation failed: {}", crate::problem::describe(.0))]
    ActivationFailed(Vec<Problem>),
    /// Unknown administratie or resource (404).
    #[error("{0} not found")]
    NotFound(Missing),
    /// Conflicts with stored data or the sync state (409).
    #[error("{message}")]
    Conflict {
        /// snake_case code.
        code: String,
        /// Sentence.
        message: String,
        /// Field.
        field: Option<String>,
    },
    /// SnelStart could not be reached to run the checks (503).
    #[error("SnelStart could not be reached: {0}")]
    Unavailable(String),
    /// The administratie's SnelStart call budget (or SnelStart's own rate limit) cannot serve
    /// the request now (503 with `Retry-After`).
    #[error("SnelStart's call budget cannot serve this now: {message}")]
    Throttled {
        /// When to come back.
        retry_after: std::time::Duration,
        /// What happened.
        message: String,
    },
    /// The database is busy; nothing was written (503 with `Retry-After`).
    #[error("the database is busy: {0}")]
    Busy(String),
    /// Anything else (500).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<StoreError> for ServiceError {
    fn from(value: StoreError) -> Self {
        match value {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict {
                code,
                message,
                field,
            } => Self::Conflict {
                code,
                message,
                field,
            },
            StoreError::Busy(message) => Self::Busy(message),
            StoreError::Other(e) => Self::Other(e),
        }
    }
}

impl From<Problem> for ServiceError {
    fn from(value: Problem) -> Self {
        Self::Invalid(vec![value])
    }
}

/// One entry of the koppelingen overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KoppelingOverview {
    /// Always `snelstart`.
    pub name: String,
    /// The Beheerder's switch.
    pub active: bool,
    /// inactive, active or paused_auth.
    pub state: KoppelingState,
    /// Why it is paused.
    pub problem: Option<crate::pause::PauseReason>,
    /// Last sync.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Counts per status.
    pub counts: StatusCounts,
    /// Whether a key is set.
    pub key_set: bool,
    /// A key is stored but cannot be decrypted ("sleutel onbruikbaar").
    pub key_unusable: bool,
    /// The settings, when saved.
    pub settings: Option<KoppelingSettings>,
    /// The optional parts and whether they run: `payments` is `missing_scope` when the key
    /// lacks a payment scope (product §8), `ok` otherwise.
    pub features: std::collections::BTreeMap<String, String>,
    /// How the key arrived: through SnelStart's activation link or pasted; `None` without
    /// a key (product §8.1).
    pub connection: Option<crate::connect::ConnectionKind>,
    /// The push to `events.url`: since when it fails and why (both `None` when healthy).
    pub events_failing_since: Option<DateTime<Utc>>,
    /// The last push failure.
    pub events_last_error: Option<String>,
}

/// An active koppeling that is paused while invoices wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PausedWaiting {
    /// The administratie.
    pub administratie: AdministratieCode,
    /// Invoices that wait (queued or in progress).
    pub waiting: u64,
    /// Why it is paused.
    pub problem: Option<crate::pause::PauseReason>,
}

impl<S, A, N, C> Service<S, A, N, C>
where
    S: Store,
    A: Accounting,
    C: Clock,
{
    pub(super) async fn require_adm(
        &self,
        adm: &AdministratieCode,
    ) -> Result<Administratie, ServiceError> {
        self.store
            .get_administratie(adm)
            .await?
            .ok_or_else(|| ServiceError::NotFound(Missing::Administratie(adm.to_string())))
    }

    /// The relation `id` of an existing administratie; `NotFound` naming whichever is missing.
    pub(super) async fn require_relation(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<Relation, ServiceError> {
        self.require_adm(adm).await?;
        self.store
            .get_relation(adm, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(Missing::Relation(id.to_string())))
    }

    /// Creates or renames an administratie.
    ///
    /// # Errors
    /// `Invalid` for an empty name.
    pub async fn put_administratie(&self, adm: &Administratie) -> Result<Put, ServiceError> {
        if adm.name.trim().is_empty() {
            return Err(Problem::new("name", Rule::Required).into());
        }
        Ok(self.store.put_administratie(adm).await?)
    }

    /// Reads an administratie.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get_administratie(
        &self,
        adm: &AdministratieCode,
    ) -> Result<Administratie, ServiceError> {
        self.require_adm(adm).await
    }

    /// Every administratie, by code.
    ///
    /// # Errors
    /// The store's.
    pub async fn list_administraties(&self) -> Result<Vec<Administratie>, ServiceError> {
        let mut all = self.store.list_administraties().await?;
        all.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
        Ok(all)
    }

    /// Creates or replaces a Beheerder; `password_hash` is already hashed by the caller.
    ///
    /// # Errors
    /// `Invalid`, `NotFound`, `Conflict` (e-mail taken).
    pub async fn put_admin(
        &self,
        adm: &AdministratieCode,
        admin: &Admin,
        password_hash: Option<String>,
    ) -> Result<Put, ServiceError> {
        self.require_adm(adm).await?;
        let mut problems = Vec::new();
        if admin.name.trim().is_empty() {
            problems.push(Problem::new("name", Rule::Required));
        }
        if !email_is_plausible(&admin.email) {
            problems.push(Problem::new(
                "email",
                Rule::InvalidEmail {
                    email: admin.email.clone(),
                },
            ));
        }
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        Ok(self.store.put_admin(adm, admin, password_hash).await?)
    }

    /// Creates or replaces a relation.
    ///
    /// # Errors
    /// `Invalid` naming the field; `NotFound` for the administratie.
    pub async fn put_relation(
        &self,
        adm: &AdministratieCode,
        relation: &Relation,
    ) -> Result<Put, ServiceError> {
        self.require_adm(adm).await?;
        validate_relation(relation).map_err(ServiceError::Invalid)?;
        if let Some(existing) = self.store.get_relation(adm, &relation.id).await?
            && existing.snelstart_enabled
        {
            // A ticked relation must stay sendable; SnelStart's limits apply from now on.
            let mut candidate = relation.clone();
            candidate.snelstart_enabled = true;
            plan_relatie(&candidate).map_err(ServiceError::Invalid)?;
        }
        Ok(self.store.put_relation(adm, relation).await?)
    }

    /// Ticks or un-ticks SnelStart on a relation.
    ///
    /// # Errors
    /// `Invalid` (non-numeric code or a value SnelStart cannot hold), `NotFound`,
    /// `Conflict` (relatiecode taken by another ticked relation).
    pub async fn set_relation_snelstart(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        enabled: bool,
    ) -> Result<Relation, ServiceError> {
        let relation = self.require_relation(adm, id).await?;
        let code = if enabled {
            let code: RelatieCode = RelatieCode::parse(relation.code.trim())?;
            plan_relatie(&relation).map_err(ServiceError::Invalid)?;
            Some(code)
        } else {
            None
        };
        Ok(self.store.set_relation_snelstart(adm, id, code).await?)
    }

    /// Creates or replaces an invoice (queued when final and its relation is ticked);
    /// returns its sync state as written.
    ///
    /// One store write on the way of success (the store checks the relation, and with it
    /// the administratie, in the writing transaction); the administratie is only read to
    /// tell a 404 from a 422 when something is wrong.
    ///
    /// # Errors
    /// `Invalid`, `NotFound`, `Conflict` (`invoice_locked` when synced or in progress).
    pub async fn put_invoice(
        &self,
        adm: &AdministratieCode,
        invoice: &Invoice,
    ) -> Result<(Put, Option<SyncState>), ServiceError> {
        if let Err(problems) = validate_invoice(invoice) {
            self.require_adm(adm).await?;
            return Err(ServiceError::Invalid(problems));
        }
        match self.store.put_invoice(adm, invoice).await {
            Err(StoreError::NotFound(_)) => {
                self.require_adm(adm).await?;
                Err(Problem::new(
                    "relation_id",
                    Rule::UnknownRelation {
                        id: invoice.relation_id.to_string(),
                    },
                )
                .into())
            }
            other => Ok(other?),
        }
    }

    /// Re-queues a failed invoice.
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (`not_failed`).
    pub async fn retry_invoice(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<SyncState, ServiceError> {
        self.require_adm(adm).await?;
        // A synced invoice whose document failed: only the document is offered again.
        if let Some((_, Some(sync))) = self.store.get_invoice(adm, id).await?
            && sync.status == crate::ports::SyncStatus::Synced
            && self.retry_failed_documents(adm, id).await?
        {
            return Ok(sync);
        }
        Ok(self.store.retry_invoice(adm, id).await?)
    }

    /// Saves the koppeling's settings. When the koppeling is paused because the key was
    /// refused and a new key is given, the activation checks run again and it resumes
    /// when they pass.
    ///
    /// # Errors
    /// `Invalid` naming the field, `NotFound`.
    pub async fn put_koppeling(
        &self,
        adm: &AdministratieCode,
        settings: &KoppelingSettings,
        key: Option<ConnectionKey>,
    ) -> Result<Put, ServiceError> {
        self.require_adm(adm).await?;
        let mut problems = settings.validate().err().unwrap_or_default();
        if let Some(id) = &settings.notify_admin_id
            && self.store.get_admin(adm, id).await?.is_none()
        {
            problems.push(Problem::new(
                "notify_admin_id",
                Rule::UnknownAdmin { id: id.to_string() },
            ));
        }
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let put = self.store.put_koppeling(adm, settings, key.clone()).await?;
        if let (Some(key), Some(koppeling)) = (key, self.store.get_koppeling(adm).await?)
            && koppeling.active
            && koppeling.paused
        {
            let conn = Connection {
                administratie: adm.clone(),
                key,
            };
            if let Ok(found) = self
                .accounting
                .check_activation(&conn, &koppeling.settings)
                .await
                && found.is_empty()
            {
                self.resume(adm).await?;
            }
        }
        Ok(put)
    }

    pub(super) async fn resume(&self, adm: &AdministratieCode) -> Result<(), ServiceError> {
        if self.store.set_koppeling_paused(adm, None).await? {
            let item = NotificationItem {
                kind: NoticeKind::Resumed,
                subject_type: "koppeling".to_owned(),
                subject_id: String::new(),
                label: "SnelStart".to_owned(),
                reason: crate::notification::RESUMED_REASON.to_owned(),
                snelstart_code: None,
                hint: None,
            };
            self.store
                .queue_notice(adm, &item, self.clock.now())
                .await?;
        }
        Ok(())
    }

    /// Runs the activation checks without changing anything.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` when SnelStart cannot be reached.
    pub async fn check(&self, adm: &AdministratieCode) -> Result<Vec<Problem>, ServiceError> {
        self.require_adm(adm).await?;
        let Some(koppeling) = self.store.get_koppeling(adm).await? else {
            return Ok(vec![Problem::new("settings", Rule::NotConfigured)]);
        };
        let mut problems = koppeling.settings.validate().err().unwrap_or_default();
        if koppeling.key_unusable {
            problems.push(Problem::new("key", Rule::KeyUnusable));
            return Ok(problems);
        }
        let Some(key) = koppeling.key.clone() else {
            problems.push(Problem::new("key", Rule::KeyMissing));
            return Ok(problems);
        };
        let conn = Connection {
            administratie: adm.clone(),
            key,
        };
        match self
            .accounting
            .check_activation(&conn, &koppeling.settings)
            .await
        {
            Ok(found) => problems.extend(found),
            // The integrator's subscription key is the operator's problem, not the
            // Beheerder's: a new koppelsleutel would not help.
            Err(AccountingError::Auth {
                credential: Credential::SubscriptionKey,
                ..
            }) => problems.push(Problem::new(
                "subscription_key",
                Rule::SubscriptionKeyRefused,
            )),
            Err(AccountingError::Auth { .. }) => {
                problems.push(Problem::new("key", Rule::KeyRefused))
            }
            Err(error) => return Err(ServiceError::Unavailable(error.to_string())),
        }
        Ok(problems)
    }

    /// Activates the koppeling after the checks pass.
    ///
    /// # Errors
    /// `ActivationFailed` with the problems; `NotFound`; `Unavailable`.
    pub async fn activate(
        &self,
        adm: &AdministratieCode,
    ) -> Result<KoppelingOverview, ServiceError> {
        let problems = self.check(adm).await?;
        if !problems.is_empty() {
            return Err(ServiceError::ActivationFailed(problems));
        }
        let was_paused = self
            .store
            .get_koppeling(adm)
            .await?
            .is_some_and(|k| k.active && k.paused);
        self.store.set_koppeling_active(adm, true).await?;
        if was_paused {
            self.resume(adm).await?;
        }
        self.overview(adm).await
    }

    /// Deactivates the koppeling (queued invoices wait).
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn deactivate(
        &self,
        adm: &AdministratieCode,
    ) -> Result<KoppelingOverview, ServiceError> {
        self.require_adm(adm).await?;
        self.store.set_koppeling_active(adm, false).await?;
        self.overview(adm).await
    }

    /// `adm`, or every administratie.
    async fn in_scope(
        &self,
        adm: Option<&AdministratieCode>,
    ) -> Result<Vec<AdministratieCode>, ServiceError> {
        Ok(match adm {
            Some(adm) => vec![adm.clone()],
            None => self
                .store
                .list_administraties()
                .await?
                .into_iter()
                .map(|a| a.code)
                .collect(),
        })
    }

    /// How many invoices wait in the queue of the active, unpaused koppelingen in scope
    /// (`adm`, or all): what a pass of `sync --once` will work through (for its progress).
    ///
    /// # Errors
    /// The store's.
    pub async fn due_count(&self, adm: Option<&AdministratieCode>) -> Result<u64, ServiceError> {
        let codes = self.in_scope(adm).await?;
        let mut due = 0;
        for code in codes {
            let Some(koppeling) = self.store.get_koppeling(&code).await? else {
                continue;
            };
            if koppeling.active && !koppeling.paused {
                due += self.store.status_counts(&code).await?.queued;
            }
        }
        Ok(due)
    }

    /// The koppelingen in scope (`adm`, or all) that are active but paused while invoices
    /// wait: the administratie, how many wait and why it is paused. `sync --once` reports
    /// these (product §5: exit 2, saying how many wait).
    ///
    /// # Errors
    /// The store's.
    pub async fn paused_with_waiting(
        &self,
        adm: Option<&AdministratieCode>,
    ) -> Result<Vec<PausedWaiting>, ServiceError> {
        let codes = self.in_scope(adm).await?;
        let mut out = Vec::new();
        for code in codes {
            let Some(koppeling) = self.store.get_koppeling(&code).await? else {
                continue;
            };
            if !(koppeling.active && koppeling.paused) {
                continue;
            }
            let counts = self.store.status_counts(&code).await?;
            let waiting = counts.queued + counts.in_progress;
            if waiting > 0 {
                out.push(PausedWaiting {
                    administratie: code,
                    waiting,
                    problem: koppeling.problem.clone(),
                });
            }
        }
        Ok(out)
    }

    /// The overview entry of the SnelStart koppeling.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn overview(
        &self,
        adm: &AdministratieCode,
    ) -> Result<KoppelingOverview, ServiceError> {
        self.require_adm(adm).await?;
        let counts = self.store.status_counts(adm).await?;
        let readback = self.store.readback_state(adm).await?;
        let push = self.store.push_state(adm).await?;
        let features: std::collections::BTreeMap<String, String> = [
            (
                "payments".to_owned(),
                if readback.payments_missing_scope.is_some() {
                    "missing_scope"
                } else {
                    "ok"
                }
                .to_owned(),
            ),
            (
                "documents".to_owned(),
                self.documents_feature(adm).await?.to_owned(),
            ),
        ]
        .into();
        Ok(match self.store.get_koppeling(adm).await? {
            Some(k) => {
                let key_set = k.key.is_some() || k.key_unusable;
                let connection = if !key_set {
                    None
                } else if self.store.link_connected(adm).await? {
                    Some(crate::connect::ConnectionKind::SnelstartLink)
                } else {
                    Some(crate::connect::ConnectionKind::Pasted)
                };
                KoppelingOverview {
                    name: "snelstart".to_owned(),
                    active: k.active,
                    state: k.state(),
                    problem: k.problem.clone(),
                    last_sync_at: k.last_sync_at,
                    counts,
                    key_set,
                    key_unusable: k.key_unusable,
                    settings: Some(k.settings),
                    features,
                    connection,
                    events_failing_since: push.failing_since,
                    events_last_error: push.last_error.clone(),
                }
            }
            None => KoppelingOverview {
                name: "snelstart".to_owned(),
                active: false,
                state: KoppelingState::Inactive,
                problem: None,
                last_sync_at: None,
                counts,
                key_set: false,
                key_unusable: false,
                settings: None,
                features,
                connection: None,
                events_failing_since: push.failing_since,
                events_last_error: push.last_error,
            },
        })
    }
}

fn email_is_plausible(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 250
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',')
}
