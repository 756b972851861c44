//! Notices (pending items), the notifications made of them, their dedupe keys, and the
//! mail delivery bookkeeping: `sent_at`, `send_attempts`, `last_error`, and `next_send_at`
//! (the back-off chosen by the domain, or a claim's hold). A mail is never given up.

use chrono::{DateTime, SubsecRound, Utc};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::notification::{NotificationItem, NotificationRecord, StoredNotification};
use koppeling_domain::ports::{PendingNotice, Recipient, SendFailure, UnsentNotification};
use sea_orm::QueryResult;

use super::SeaOrmStore;
use super::admin::get_admin;
use super::db::{self, R, WriteTx, col, col_adm, col_json, col_u32, i, other, s, so};

/// Inserts a pending notice inside `tx`.
pub(super) async fn insert_notice(
    st: &SeaOrmStore,
    tx: &WriteTx,
    adm: &AdministratieCode,
    item: &NotificationItem,
    at: DateTime<Utc>,
) -> R<()> {
    db::exec(
        &**tx,
        st.db.st(
            "INSERT INTO notices (adm, item, dedupe_key, at, consumed) VALUES ($1, $2, $3, $4, FALSE)",
            vec![
                s(adm.as_str()),
                s(db::json(item)?),
                s(item.dedupe_key()),
                st.db.ts(at),
            ],
        ),
        "queueing the notice",
    )
    .await?;
    Ok(())
}

pub(super) async fn queue_notice(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    item: &NotificationItem,
    now: DateTime<Utc>,
) -> R<()> {
    let tx = st.db.begin().await?;
    insert_notice(st, &tx, adm, item, now).await?;
    tx.commit().await
}

pub(super) async fn pending_notices(st: &SeaOrmStore, limit: u32) -> R<Vec<PendingNotice>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT id, adm, item, at FROM notices WHERE consumed = FALSE ORDER BY id LIMIT $1",
            vec![i(i64::from(limit))],
        ),
        "reading pending notices",
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PendingNotice {
                id: col(row, "id")?,
                administratie: col_adm(row, "adm")?,
                item: col_json(row, "item")?,
                at: col(row, "at")?,
            })
        })
        .collect()
}

/// Escapes `text` for `LIKE … ESCAPE '!'`.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '!' | '%' | '_') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

pub(super) async fn notified_since(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    dedupe_key: &str,
    since: DateTime<Utc>,
) -> R<bool> {
    // Counted: a mail sent (or a stored-only notification stored, whose `sent_at` is the
    // time it was stored) within the window, and any mail still waiting to be sent.
    // The LIKE narrows the rows down (the key as JSON, quotes included); the parse decides.
    let pattern = format!("%{}%", like_escape(&db::json(&dedupe_key)?));
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT dedupe_keys FROM notifications \
             WHERE adm = $1 AND (sent_at >= $2 OR sent_at IS NULL) \
             AND dedupe_keys LIKE $3 ESCAPE '!'",
            vec![s(adm.as_str()), st.db.ts(since), s(pattern)],
        ),
        "checking earlier notifications",
    )
    .await?;
    for row in &rows {
        let keys: Vec<String> = col_json(row, "dedupe_keys")?;
        if keys.iter().any(|k| k == dedupe_key) {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(super) async fn recipient(st: &SeaOrmStore, adm: &AdministratieCode) -> R<Recipient> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT a.name, k.notify_admin_id FROM administraties a \
             LEFT JOIN koppelingen k ON k.adm = a.code WHERE a.code = $1",
            vec![s(adm.as_str())],
        ),
        "reading the recipient",
    )
    .await?;
    let Some(row) = row else {
        return Ok(Recipient {
            administratie_name: adm.to_string(),
            admin: None,
        });
    };
    let notify_admin_id: Option<String> = col(&row, "notify_admin_id")?;
    let admin = match notify_admin_id {
        Some(id) => {
            let id = ResourceId::parse(&id).map_err(other)?;
            get_admin(st, adm, &id).await?
        }
        None => None,
    };
    Ok(Recipient {
        administratie_name: col(&row, "name")?,
        admin,
    })
}

pub(super) async fn save_notification(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    notice_ids: &[i64],
    notification: Option<(&StoredNotification, &[String])>,
) -> R<Option<i64>> {
    let tx = st.db.begin().await?;
    for chunk in notice_ids.chunks(500) {
        let mut values = vec![s(adm.as_str())];
        values.extend(chunk.iter().map(|id| i(*id)));
        db::exec(
            &*tx,
            st.db.st(
                &format!(
                    "UPDATE notices SET consumed = TRUE WHERE adm = $1 AND id IN ({})",
                    db::placeholders(2, chunk.len())
                ),
                values,
            ),
            "consuming notices",
        )
        .await?;
    }
    let id = match notification {
        None => None,
        Some((n, dedupe_keys)) => {
            let name = db::one(
                &*tx,
                st.db.st(
                    "SELECT name FROM admins WHERE adm = $1 AND email_lower = $2",
                    vec![s(adm.as_str()), s(n.to.trim().to_lowercase())],
                ),
                "reading the recipient's name",
            )
            .await?
            .map(|row| col::<String>(&row, "name"))
            .transpose()?
            .unwrap_or_else(|| n.to.clone());
            let row = db::one(
                &*tx,
                st.db.st(
                    "INSERT INTO notifications (adm, at, to_email, to_name, subject, body, items, \
                     dedupe_keys, sent_at, send_attempts, last_error, next_send_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, 0, NULL, NULL) RETURNING id",
                    vec![
                        s(adm.as_str()),
                        st.db.ts(n.at),
                        s(n.to.as_str()),
                        s(name),
                        s(n.subject.as_str()),
                        s(n.body.as_str()),
                        s(db::json(&n.items)?),
                        s(db::json(&dedupe_keys)?),
                    ],
                ),
                "storing the notification",
            )
            .await?
            .ok_or_else(|| other(anyhow::anyhow!("INSERT … RETURNING gave no row")))?;
            Some(col::<i64>(&row, "id")?)
        }
    };
    tx.commit().await?;
    Ok(id)
}

fn stored_from(row: &QueryResult) -> R<StoredNotification> {
    Ok(StoredNotification {
        at: col(row, "at")?,
        to: col(row, "to_email")?,
        subject: col(row, "subject")?,
        body: col(row, "body")?,
        items: col_json(row, "items")?,
    })
}

pub(super) async fn unsent_notifications(
    st: &SeaOrmStore,
    now: DateTime<Utc>,
    hold_until: DateTime<Utc>,
    limit: u32,
) -> R<Vec<UnsentNotification>> {
    // A claim: the due rows are held until `hold_until` in the same statement, so another
    // process skips them (PostgreSQL skips the locked rows; SQLite writes one at a time).
    let tx = st.db.begin().await?;
    let rows = db::all(
        &*tx,
        st.db.st(
            &format!(
                "UPDATE notifications SET next_send_at = $1 WHERE id IN ( \
                 SELECT id FROM notifications WHERE sent_at IS NULL \
                 AND (next_send_at IS NULL OR next_send_at <= $2) ORDER BY id LIMIT $3{}) \
                 RETURNING id, adm, at, to_email, to_name, subject, body, items, send_attempts",
                if st.db.is_postgres() {
                    " FOR UPDATE SKIP LOCKED"
                } else {
                    ""
                }
            ),
            vec![st.db.ts(hold_until), st.db.ts(now), i(i64::from(limit))],
        ),
        "claiming unsent notifications",
    )
    .await?;
    tx.commit().await?;
    let mut unsent = rows
        .iter()
        .map(|row| {
            Ok(UnsentNotification {
                id: col(row, "id")?,
                administratie: col_adm(row, "adm")?,
                to_name: col(row, "to_name")?,
                notification: stored_from(row)?,
                send_attempts: col_u32(row, "send_attempts")?,
            })
        })
        .collect::<R<Vec<_>>>()?;
    unsent.sort_by_key(|u| u.id);
    Ok(unsent)
}

pub(super) async fn mark_notification(
    st: &SeaOrmStore,
    id: i64,
    at: DateTime<Utc>,
    failure: Option<SendFailure>,
) -> R<()> {
    let at = at.trunc_subsecs(6);
    let statement = match failure {
        // A stored-only notification (no recipient) was not a send attempt.
        None => st.db.st(
            "UPDATE notifications SET sent_at = $1, last_error = NULL, next_send_at = NULL, \
             send_attempts = send_attempts + CASE WHEN to_email = '' THEN 0 ELSE 1 END \
             WHERE id = $2 AND sent_at IS NULL",
            vec![st.db.ts(at), i(id)],
        ),
        Some(failure) => st.db.st(
            "UPDATE notifications SET send_attempts = send_attempts + 1, last_error = $1, \
             next_send_at = $2 WHERE id = $3 AND sent_at IS NULL",
            vec![so(Some(failure.error)), st.db.ts(failure.retry_at), i(id)],
        ),
    };
    let tx = st.db.begin().await?;
    db::exec(&*tx, statement, "recording a send of the notification").await?;
    tx.commit().await
}

pub(super) async fn count_unsent_notifications(st: &SeaOrmStore) -> R<u64> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT COUNT(*) AS n FROM notifications WHERE sent_at IS NULL AND to_email <> ''",
            vec![],
        ),
        "counting unsent notifications",
    )
    .await?;
    let n = row
        .map(|row| col::<i64>(&row, "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn notifications(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    limit: u32,
) -> R<Vec<NotificationRecord>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT at, to_email, subject, body, items, sent_at, last_error, send_attempts \
             FROM notifications WHERE adm = $1 ORDER BY at DESC, id DESC LIMIT $2",
            vec![s(adm.as_str()), i(i64::from(limit))],
        ),
        "reading notifications",
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok(NotificationRecord {
                notification: stored_from(row)?,
                sent_at: col(row, "sent_at")?,
                last_error: col(row, "last_error")?,
                send_attempts: col_u32(row, "send_attempts")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_escape("a_b%c!d"), "a!_b!%c!!d");
    }
}
