//! The invoice document on the booking, exactly once (product §8.4).
//!
//! A document waits in the store until its invoice is synced; then a worker claims it under a
//! lease (the claim marks it `needs_lookup` for whoever claims it next) and uploads it with
//! one call. After an unknown outcome (a lost answer, a crash, an expired claim) the next
//! attempt first lists the booking's documents and adopts the one with the same file name:
//! never two copies. A refusal fails only the document (the booking stays `synced`); a key
//! without `documenten:write` switches documents off for the administratie, never booking.

use crate::ports::Missing;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::document::{self, Document, DocumentJob, DocumentKind, DocumentOutcome};
use crate::ids::{AdministratieCode, ResourceId};
use crate::koppeling::Connection;
use crate::notification::{NoticeKind, NotificationItem};
use crate::ports::{Accounting, AccountingError, Clock, Put, Scoped, Store};
use crate::problem::{Problem, Rule};

use super::{Service, ServiceError, backoff, later};

/// How long documents stay off after SnelStart refused the `documenten:write` scope before
/// one upload tries again (a new key with the scope may have been saved meanwhile).
pub const DOCUMENTS_RECHECK: Duration = Duration::from_secs(3600);
/// The wait before trying again when the koppeling cannot call SnelStart now (inactive,
/// paused, no usable key).
const NOT_READY_WAIT: Duration = Duration::from_secs(60);

impl<S, A, N, C> Service<S, A, N, C>
where
    S: Store,
    A: Accounting,
    C: Clock,
{
    /// Stores the `kind` document of invoice `id` (`PUT …/documents/{kind}`). `filename`
    /// defaults to `<number>.pdf` / `<number>.xml`. Replaces a document not yet attached.
    ///
    /// # Errors
    /// `Invalid` naming `filename` or `content` (over 7 MiB: code `too_large`), `NotFound`,
    /// `Conflict` `document_attached`.
    pub async fn put_document(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        kind: DocumentKind,
        filename: Option<String>,
        content: Vec<u8>,
    ) -> Result<(Put, Document), ServiceError> {
        self.require_adm(adm).await?;
        let Some((invoice, _)) = self.store.get_invoice(adm, id).await? else {
            return Err(ServiceError::NotFound(Missing::Invoice(id.to_string())));
        };
        let filename = filename.unwrap_or_else(|| kind.default_filename(&invoice.number));
        let mut problems = Vec::new();
        for check in [
            document::check_filename(&filename),
            document::check_content(kind, &content),
        ] {
            if let Err(p) = check {
                problems.push(Problem::new(
                    p.field,
                    Rule::DocumentRefused {
                        rule: p.rule,
                        detail: p.message,
                    },
                ));
            }
        }
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let now = self.clock.now();
        Ok(self
            .store
            .put_document(adm, id, kind, &filename, content, now)
            .await?)
    }

    /// The metadata of invoice `id`'s documents.
    ///
    /// # Errors
    /// `NotFound` (administratie).
    pub async fn documents(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<Vec<Document>, ServiceError> {
        Ok(self.store.invoice_documents(adm, id).await?)
    }

    /// One document with its bytes.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn document(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        kind: DocumentKind,
    ) -> Result<(Document, Vec<u8>), ServiceError> {
        self.require_adm(adm).await?;
        self.store
            .document_content(adm, id, kind)
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(Missing::Document {
                    kind: kind.as_str().to_owned(),
                    invoice: id.to_string(),
                })
            })
    }

    /// Removes a document not yet attached.
    ///
    /// # Errors
    /// `NotFound`, `Conflict` `document_attached`.
    pub async fn delete_document(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        kind: DocumentKind,
    ) -> Result<(), ServiceError> {
        self.require_adm(adm).await?;
        Ok(self.store.delete_document(adm, id, kind).await?)
    }

    /// *Opnieuw aanbieden* of an invoice's failed documents; true when there were any.
    ///
    /// # Errors
    /// `Other`.
    pub(super) async fn retry_failed_documents(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<bool, ServiceError> {
        Ok(self.store.retry_documents(adm, id).await? > 0)
    }

    /// The `documents` feature of the overview: `missing_scope` or `ok`.
    ///
    /// # Errors
    /// `Other`.
    pub(super) async fn documents_feature(
        &self,
        adm: &AdministratieCode,
    ) -> Result<&'static str, ServiceError> {
        Ok(
            if self.store.documents_missing_scope(adm).await?.is_some() {
                "missing_scope"
            } else {
                "ok"
            },
        )
    }

    /// One pass: claims up to `limit` waiting documents of booked invoices (of the
    /// administraties this worker holds) and attaches each. Returns how many were tried.
    ///
    /// # Errors
    /// A store error of the claim; an attempt's own failure is recorded, not returned.
    pub async fn attach_documents(&self, limit: u32) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        let jobs = self
            .store
            .claim_documents(
                &self.config.worker_id,
                limit,
                now,
                later(now, self.config.lease),
            )
            .await?;
        let n = jobs.len();
        for job in jobs {
            if let Err(error) = self.attach_one(&job).await {
                tracing::warn!(adm = %job.administratie, invoice = %job.invoice_id, kind = job.kind.as_str(), error = %error, "recording a document attempt failed; the claim expires and the document is looked up");
            }
        }
        Ok(n)
    }

    async fn attach_one(&self, job: &DocumentJob) -> Result<(), ServiceError> {
        let (outcome, notice) = self.attempt_document(job).await?;
        let now = self.clock.now();
        self.store
            .finish_document(job, &outcome, notice, now)
            .await?;
        Ok(())
    }

    async fn attempt_document(
        &self,
        job: &DocumentJob,
    ) -> Result<(DocumentOutcome, Option<NotificationItem>), ServiceError> {
        let now = self.clock.now();
        let koppeling = self.store.get_koppeling(&job.administratie).await?;
        let Some((koppeling, key)) = koppeling.and_then(|k| {
            let key = k.key.clone()?;
            Some((k, key))
        }) else {
            return Ok((self.not_ready(job, now), None));
        };
        if !koppeling.active || koppeling.paused {
            return Ok((self.not_ready(job, now), None));
        }
        let conn = Connection {
            administratie: job.administratie.clone(),
            key,
        };
        // Settle first: after an unknown outcome, adopt the copy SnelStart may hold.
        if job.needs_lookup {
            match self
                .accounting
                .booking_documents(&conn, &job.booking_id)
                .await
            {
                Ok(Scoped::Granted(found)) => {
                    if let Some(d) = found.iter().find(|d| d.file_name == job.filename) {
                        return Ok((
                            DocumentOutcome::Attached {
                                snelstart_id: d.id.clone(),
                            },
                            None,
                        ));
                    }
                }
                Ok(Scoped::MissingScope(scope)) => return Ok(self.missing_scope(job, scope, now)),
                Err(e) => return Ok(self.on_document_error(job, e, true, now)),
            }
        }
        let Some((_, content)) = self
            .store
            .document_content(&job.administratie, &job.invoice_id, job.kind)
            .await?
        else {
            // Deleted meanwhile: nothing to upload (the finish finds no row to update).
            return Ok((
                DocumentOutcome::Retry {
                    next_attempt_at: now,
                    error: "the document was removed".into(),
                    needs_lookup: false,
                },
                None,
            ));
        };
        match self
            .accounting
            .upload_document(&conn, &job.booking_id, &job.filename, &content)
            .await
        {
            Ok(Scoped::Granted(id)) => Ok((DocumentOutcome::Attached { snelstart_id: id }, None)),
            Ok(Scoped::MissingScope(scope)) => Ok(self.missing_scope(job, scope, now)),
            Err(e) => Ok(self.on_document_error(job, e, false, now)),
        }
    }

    fn not_ready(&self, job: &DocumentJob, now: DateTime<Utc>) -> DocumentOutcome {
        DocumentOutcome::Retry {
            next_attempt_at: later(now, NOT_READY_WAIT),
            error:
                "the koppeling cannot call SnelStart now (inactive, paused or without a usable key)"
                    .into(),
            needs_lookup: job.needs_lookup,
        }
    }

    fn missing_scope(
        &self,
        _job: &DocumentJob,
        scope: String,
        now: DateTime<Utc>,
    ) -> (DocumentOutcome, Option<NotificationItem>) {
        let (reason, hint) = document::documents_off(&scope);
        let notice = NotificationItem {
            kind: NoticeKind::DocumentsOff,
            subject_type: "koppeling".into(),
            subject_id: String::new(),
            label: String::new(),
            reason,
            snelstart_code: None,
            hint: Some(hint),
        };
        (
            DocumentOutcome::MissingScope {
                scope,
                recheck_at: later(now, DOCUMENTS_RECHECK),
            },
            // The store queues it only when documents were on until now (notified once).
            Some(notice),
        )
    }

    fn on_document_error(
        &self,
        job: &DocumentJob,
        error: AccountingError,
        lookup_pending: bool,
        now: DateTime<Utc>,
    ) -> (DocumentOutcome, Option<NotificationItem>) {
        let wait = backoff(job.attempts, self.config.max_backoff);
        match error {
            AccountingError::UnknownOutcome { message } => (
                DocumentOutcome::Retry {
                    next_attempt_at: later(now, wait),
                    error: message,
                    needs_lookup: true,
                },
                None,
            ),
            AccountingError::Transient {
                retry_after,
                message,
            } => (
                DocumentOutcome::Retry {
                    next_attempt_at: later(
                        now,
                        retry_after.map_or(wait, |r| r.clamp(wait, super::MAX_RETRY_AFTER)),
                    ),
                    error: message,
                    needs_lookup: lookup_pending || job.needs_lookup,
                },
                None,
            ),
            AccountingError::Auth { message, .. } => (
                // The booking side pauses the koppeling and notifies; documents wait.
                DocumentOutcome::Retry {
                    next_attempt_at: later(now, self.config.max_backoff),
                    error: message,
                    needs_lookup: lookup_pending || job.needs_lookup,
                },
                None,
            ),
            AccountingError::Rejected { rejection, message } => {
                let code = rejection.code().map(str::to_owned);
                let (reason, hint) = document::refusal(&rejection, &message);
                let notice = NotificationItem {
                    kind: NoticeKind::DocumentFailed,
                    subject_type: "invoice".into(),
                    subject_id: job.invoice_id.to_string(),
                    label: job.invoice_number.clone(),
                    reason: format!("{} ({}): {reason}", job.filename, job.kind.as_str()),
                    snelstart_code: code.clone(),
                    hint: Some(hint.clone()),
                };
                (
                    DocumentOutcome::Failed {
                        error: reason,
                        hint,
                        snelstart_code: code,
                    },
                    Some(notice),
                )
            }
        }
    }
}
