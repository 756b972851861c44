//! Documents (product §8.4): metadata and upload state in `documents`, the bytes in
//! `document_contents` (read only to upload or to answer a `GET` of that one document), and
//! `document_features` (documents off for an administratie whose key lacks the scope).
//!
//! A claim marks the document `needs_lookup` in the same transaction that leases it: an
//! attempt whose outcome never gets recorded (a crash, an expired lease) is followed by a
//! look-up of the booking's documents, never by a blind second upload. Every finish is
//! fenced by the lease owner.

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use koppeling_domain::document::{
    Document, DocumentJob, DocumentKind, DocumentOutcome, DocumentStatus, sha256_hex,
};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::notification::NotificationItem;
use koppeling_domain::ports::Missing;
use koppeling_domain::ports::{Put, StoreError};
use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::SeaOrmStore;
use super::db::{self, R, col, col_adm, col_bool, col_id, i, other, s, so};
use super::notify::insert_notice;

const META: &str =
    "kind, filename, size, sha256, status, snelstart_id, error, hint, lease_owner, lease_until";

fn kind_of(text: &str) -> R<DocumentKind> {
    DocumentKind::parse(text).ok_or_else(|| other(anyhow!("stored document kind {text:?}")))
}

fn document_from(row: &sea_orm::QueryResult) -> R<Document> {
    let kind: String = col(row, "kind")?;
    let status: String = col(row, "status")?;
    let size: i64 = col(row, "size")?;
    Ok(Document {
        kind: kind_of(&kind)?,
        filename: col(row, "filename")?,
        size: u64::try_from(size).unwrap_or_default(),
        sha256: col(row, "sha256")?,
        status: DocumentStatus::parse(&status)
            .ok_or_else(|| other(anyhow!("stored document status {status:?}")))?,
        snelstart_id: col(row, "snelstart_id")?,
        error: col(row, "error")?,
        hint: col(row, "hint")?,
    })
}

fn bytes(v: Vec<u8>) -> Value {
    Value::Bytes(Some(v))
}

async fn meta_row(
    st: &SeaOrmStore,
    c: &impl sea_orm::ConnectionTrait,
    adm: &AdministratieCode,
    id: &ResourceId,
    kind: DocumentKind,
    lock: &str,
) -> R<Option<sea_orm::QueryResult>> {
    db::one(
        c,
        st.db.st(
            &format!(
                "SELECT {META}, needs_lookup FROM documents WHERE adm = $1 AND invoice_id = $2 AND kind = $3{lock}"
            ),
            vec![s(adm.as_str()), s(id.as_str()), s(kind.as_str())],
        ),
        "reading a document",
    )
    .await
}

fn attached_conflict(kind: DocumentKind) -> StoreError {
    StoreError::Conflict {
        code: "document_attached".into(),
        message: format!(
            "the {} document is attached to the booking in SnelStart; it can no longer be replaced or removed",
            kind.as_str()
        ),
        field: None,
    }
}

/// Refuses to replace or remove a document that may already be in SnelStart: one being
/// uploaded now, or whose last upload's outcome is unknown (`needs_lookup`: a lost answer, a
/// crash, an expired lease). The next attempt looks it up by its file name first; replacing
/// it before then would leave the earlier copy in SnelStart under a name no look-up asks for
/// (found by the model test's documents property, invariant I14).
fn in_flight(row: &sea_orm::QueryResult, kind: DocumentKind, now: DateTime<Utc>) -> R<()> {
    let until: Option<DateTime<Utc>> = col(row, "lease_until")?;
    let owner: Option<String> = col(row, "lease_owner")?;
    let message = if owner.is_some() && until.is_some_and(|u| u >= now) {
        format!(
            "the {} document is being uploaded to SnelStart right now; try again in a minute",
            kind.as_str()
        )
    } else if col_bool(row, "needs_lookup")? {
        format!(
            "the outcome of the {} document's last upload to SnelStart is not known yet; the next attempt checks it, try again after that",
            kind.as_str()
        )
    } else {
        return Ok(());
    };
    Err(StoreError::Conflict {
        code: "document_uploading".into(),
        message,
        field: None,
    })
}

pub(super) async fn put_document(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    id: &ResourceId,
    kind: DocumentKind,
    filename: &str,
    content: Vec<u8>,
    now: DateTime<Utc>,
) -> R<(Put, Document)> {
    let sha = sha256_hex(&content);
    let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
    let tx = st.db.begin().await?;
    let invoice = db::one(
        &*tx,
        st.db.st(
            &format!(
                "SELECT id FROM invoices WHERE adm = $1 AND id = $2{}",
                st.db.for_share()
            ),
            vec![s(adm.as_str()), s(id.as_str())],
        ),
        "reading the invoice",
    )
    .await?;
    if invoice.is_none() {
        return Err(StoreError::NotFound(Missing::Invoice(id.to_string())));
    }
    let existing = meta_row(st, &*tx, adm, id, kind, st.db.for_update()).await?;
    let put = match &existing {
        None => {
            db::exec(
                &*tx,
                st.db.st(
                    "INSERT INTO documents (adm, invoice_id, kind, filename, size, sha256, status, \
                     attempts, needs_lookup, next_attempt_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'waiting', 0, FALSE, $7, $7)",
                    vec![
                        s(adm.as_str()),
                        s(id.as_str()),
                        s(kind.as_str()),
                        s(filename),
                        i(size),
                        s(sha.clone()),
                        st.db.ts(now),
                    ],
                ),
                "storing the document",
            )
            .await?;
            db::exec(
                &*tx,
                st.db.st(
                    "INSERT INTO document_contents (adm, invoice_id, kind, content) VALUES ($1, $2, $3, $4)",
                    vec![s(adm.as_str()), s(id.as_str()), s(kind.as_str()), bytes(content)],
                ),
                "storing the document's bytes",
            )
            .await?;
            Put::Created
        }
        Some(row) => {
            let status: String = col(row, "status")?;
            if status == DocumentStatus::Attached.as_str() {
                return Err(attached_conflict(kind));
            }
            in_flight(row, kind, now)?;
            // Nothing of it is in SnelStart: the replaced document starts afresh.
            db::exec(
                &*tx,
                st.db.st(
                    "UPDATE documents SET filename = $4, size = $5, sha256 = $6, status = 'waiting', \
                     snelstart_id = NULL, error = NULL, hint = NULL, snelstart_code = NULL, \
                     attempts = 0, next_attempt_at = $7, lease_owner = NULL, lease_until = NULL, \
                     updated_at = $7 WHERE adm = $1 AND invoice_id = $2 AND kind = $3",
                    vec![
                        s(adm.as_str()),
                        s(id.as_str()),
                        s(kind.as_str()),
                        s(filename),
                        i(size),
                        s(sha.clone()),
                        st.db.ts(now),
                    ],
                ),
                "replacing the document",
            )
            .await?;
            db::exec(
                &*tx,
                st.db.st(
                    "UPDATE document_contents SET content = $4 WHERE adm = $1 AND invoice_id = $2 AND kind = $3",
                    vec![s(adm.as_str()), s(id.as_str()), s(kind.as_str()), bytes(content)],
                ),
                "replacing the document's bytes",
            )
            .await?;
            Put::Replaced
        }
    };
    tx.commit().await?;
    Ok((
        put,
        Document {
            kind,
            filename: filename.to_owned(),
            size: u64::try_from(size).unwrap_or_default(),
            sha256: sha,
            status: DocumentStatus::Waiting,
            snelstart_id: None,
            error: None,
            hint: None,
        },
    ))
}

pub(super) async fn invoice_documents(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    id: &ResourceId,
) -> R<Vec<Document>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            &format!(
                "SELECT {META} FROM documents WHERE adm = $1 AND invoice_id = $2 ORDER BY kind"
            ),
            vec![s(adm.as_str()), s(id.as_str())],
        ),
        "reading the invoice's documents",
    )
    .await?;
    rows.iter().map(document_from).collect()
}

pub(super) async fn document_content(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    id: &ResourceId,
    kind: DocumentKind,
) -> R<Option<(Document, Vec<u8>)>> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT d.kind, d.filename, d.size, d.sha256, d.status, d.snelstart_id, d.error, \
             d.hint, c.content FROM documents d JOIN document_contents c ON c.adm = d.adm \
             AND c.invoice_id = d.invoice_id AND c.kind = d.kind \
             WHERE d.adm = $1 AND d.invoice_id = $2 AND d.kind = $3",
            vec![s(adm.as_str()), s(id.as_str()), s(kind.as_str())],
        ),
        "reading the document's bytes",
    )
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let content: Vec<u8> = col(&row, "content")?;
    Ok(Some((document_from(&row)?, content)))
}

pub(super) async fn delete_document(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    id: &ResourceId,
    kind: DocumentKind,
) -> R<()> {
    let tx = st.db.begin().await?;
    let Some(row) = meta_row(st, &*tx, adm, id, kind, st.db.for_update()).await? else {
        return Err(StoreError::NotFound(Missing::Document {
            kind: kind.as_str().to_owned(),
            invoice: id.to_string(),
        }));
    };
    let status: String = col(&row, "status")?;
    if status == DocumentStatus::Attached.as_str() {
        return Err(attached_conflict(kind));
    }
    in_flight(&row, kind, Utc::now())?;
    let key = vec![s(adm.as_str()), s(id.as_str()), s(kind.as_str())];
    db::exec(
        &*tx,
        st.db.st(
            "DELETE FROM document_contents WHERE adm = $1 AND invoice_id = $2 AND kind = $3",
            key.clone(),
        ),
        "removing the document's bytes",
    )
    .await?;
    db::exec(
        &*tx,
        st.db.st(
            "DELETE FROM documents WHERE adm = $1 AND invoice_id = $2 AND kind = $3",
            key,
        ),
        "removing the document",
    )
    .await?;
    tx.commit().await
}

pub(super) async fn claim_documents(
    st: &SeaOrmStore,
    worker: &str,
    limit: u32,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> R<Vec<DocumentJob>> {
    // Woken after every booking, and mostly nothing waits: look first without the write
    // transaction (on SQLite it would take the process's writer lock for nothing).
    if claimable_documents(st, &st.db.conn, worker, 1, now, "")
        .await?
        .is_empty()
    {
        return Ok(Vec::new());
    }
    let tx = st.db.begin().await?;
    let lock = if st.db.is_postgres() {
        " FOR UPDATE OF d SKIP LOCKED"
    } else {
        ""
    };
    let rows = claimable_documents(st, &*tx, worker, limit, now, lock).await?;
    let mut jobs = Vec::with_capacity(rows.len());
    for row in &rows {
        let kind: String = col(row, "kind")?;
        let attempts: i64 = col(row, "attempts")?;
        let job = DocumentJob {
            administratie: col_adm(row, "adm")?,
            invoice_id: col_id(row, "invoice_id")?,
            kind: kind_of(&kind)?,
            filename: col(row, "filename")?,
            invoice_number: col(row, "number")?,
            booking_id: col(row, "booking_id")?,
            needs_lookup: col_bool(row, "needs_lookup")?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            worker: worker.to_owned(),
        };
        db::exec(
            &*tx,
            st.db.st(
                "UPDATE documents SET lease_owner = $4, lease_until = $5, needs_lookup = TRUE, \
                 attempts = attempts + 1 WHERE adm = $1 AND invoice_id = $2 AND kind = $3",
                vec![
                    s(job.administratie.as_str()),
                    s(job.invoice_id.as_str()),
                    s(job.kind.as_str()),
                    s(worker),
                    st.db.ts(lease_until),
                ],
            ),
            "leasing a document",
        )
        .await?;
        jobs.push(job);
    }
    tx.commit().await?;
    Ok(jobs)
}

/// The documents `worker` may claim now, at most `limit`, with `lock` appended.
async fn claimable_documents(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    worker: &str,
    limit: u32,
    now: DateTime<Utc>,
    lock: &str,
) -> R<Vec<QueryResult>> {
    // Only documents of booked invoices, of administraties this worker holds (so one process
    // per administratie talks to SnelStart, as for bookings), and not while documents are
    // off there.
    db::all(
        c,
        st.db.st(
            &format!(
                "SELECT d.adm, d.invoice_id, d.kind, d.filename, d.attempts, d.needs_lookup, \
                 i.snelstart_id AS booking_id, i.number \
                 FROM documents d \
                 JOIN invoices i ON i.adm = d.adm AND i.id = d.invoice_id \
                 JOIN koppelingen k ON k.adm = d.adm \
                 WHERE d.status = 'waiting' AND d.next_attempt_at <= $1 \
                 AND (d.lease_until IS NULL OR d.lease_until < $1) \
                 AND i.sync_status = 'synced' AND i.snelstart_id IS NOT NULL \
                 AND k.worker_owner = $2 AND k.worker_until >= $1 \
                 AND NOT EXISTS (SELECT 1 FROM document_features f WHERE f.adm = d.adm AND f.recheck_at > $1) \
                 ORDER BY d.next_attempt_at LIMIT $3{lock}"
            ),
            vec![st.db.ts(now), s(worker), i(i64::from(limit))],
        ),
        "claiming documents",
    )
    .await
}

pub(super) async fn finish_document(
    st: &SeaOrmStore,
    job: &DocumentJob,
    outcome: &DocumentOutcome,
    notice: Option<NotificationItem>,
    now: DateTime<Utc>,
) -> R<()> {
    let tx = st.db.begin().await?;
    let mut values = vec![
        s(job.administratie.as_str()),
        s(job.invoice_id.as_str()),
        s(job.kind.as_str()),
        s(job.worker.as_str()),
        st.db.ts(now),
    ];
    let fence = "WHERE adm = $1 AND invoice_id = $2 AND kind = $3 AND lease_owner = $4 AND status = 'waiting'";
    let set = match outcome {
        DocumentOutcome::Attached { snelstart_id } => {
            values.push(s(snelstart_id.as_str()));
            "status = 'attached', snelstart_id = $6, error = NULL, hint = NULL, \
             snelstart_code = NULL, needs_lookup = FALSE"
        }
        DocumentOutcome::Failed {
            error,
            hint,
            snelstart_code,
        } => {
            values.push(s(error.as_str()));
            values.push(s(hint.as_str()));
            values.push(so(snelstart_code.clone()));
            "status = 'failed', error = $6, hint = $7, snelstart_code = $8, needs_lookup = FALSE"
        }
        DocumentOutcome::Retry {
            next_attempt_at,
            error,
            needs_lookup,
        } => {
            values.push(st.db.ts(*next_attempt_at));
            values.push(s(error.as_str()));
            values.push(db::b(*needs_lookup));
            "next_attempt_at = $6, error = $7, needs_lookup = $8"
        }
        DocumentOutcome::MissingScope { recheck_at, .. } => {
            values.push(st.db.ts(*recheck_at));
            values.push(db::b(job.needs_lookup));
            // Not the document's fault: its attempts do not grow while documents are off.
            "next_attempt_at = $6, needs_lookup = $7, attempts = attempts - 1"
        }
    };
    let changed = db::exec(
        &*tx,
        st.db.st(
            &format!(
                "UPDATE documents SET {set}, lease_owner = NULL, lease_until = NULL, updated_at = $5 {fence}"
            ),
            values,
        ),
        "recording the document attempt",
    )
    .await?;
    if changed == 0 {
        // The claim was lost (expired and taken over) or the document removed: nothing.
        return tx.commit().await;
    }
    match outcome {
        DocumentOutcome::Attached { .. } => {
            db::exec(
                &*tx,
                st.db.st(
                    "DELETE FROM document_features WHERE adm = $1",
                    vec![s(job.administratie.as_str())],
                ),
                "switching documents on",
            )
            .await?;
        }
        DocumentOutcome::Failed { .. } => {
            if let Some(item) = &notice {
                insert_notice(st, &tx, &job.administratie, item, now).await?;
            }
        }
        DocumentOutcome::MissingScope { scope, recheck_at } => {
            let was_off = db::one(
                &*tx,
                st.db.st(
                    "SELECT adm FROM document_features WHERE adm = $1",
                    vec![s(job.administratie.as_str())],
                ),
                "reading the documents feature",
            )
            .await?
            .is_some();
            if was_off {
                db::exec(
                    &*tx,
                    st.db.st(
                        "UPDATE document_features SET missing_scope = $2, recheck_at = $3 WHERE adm = $1",
                        vec![s(job.administratie.as_str()), s(scope.as_str()), st.db.ts(*recheck_at)],
                    ),
                    "keeping documents off",
                )
                .await?;
            } else {
                db::exec(
                    &*tx,
                    st.db.st(
                        "INSERT INTO document_features (adm, missing_scope, recheck_at) VALUES ($1, $2, $3)",
                        vec![s(job.administratie.as_str()), s(scope.as_str()), st.db.ts(*recheck_at)],
                    ),
                    "switching documents off",
                )
                .await?;
                if let Some(item) = &notice {
                    insert_notice(st, &tx, &job.administratie, item, now).await?;
                }
            }
        }
        DocumentOutcome::Retry { .. } => {}
    }
    tx.commit().await
}

pub(super) async fn retry_documents(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    id: &ResourceId,
    now: DateTime<Utc>,
) -> R<u64> {
    let tx = st.db.begin().await?;
    let n = db::exec(
        &*tx,
        st.db.st(
            "UPDATE documents SET status = 'waiting', error = NULL, hint = NULL, \
             snelstart_code = NULL, attempts = 0, next_attempt_at = $3, updated_at = $3 \
             WHERE adm = $1 AND invoice_id = $2 AND status = 'failed'",
            vec![s(adm.as_str()), s(id.as_str()), st.db.ts(now)],
        ),
        "offering the documents again",
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

pub(super) async fn documents_missing_scope(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
) -> R<Option<String>> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT missing_scope FROM document_features WHERE adm = $1",
            vec![s(adm.as_str())],
        ),
        "reading the documents feature",
    )
    .await?;
    row.map(|r| col(&r, "missing_scope")).transpose()
}
