//! Notices (pending items), the notifications made of them, their dedupe keys, and the
//! mail delivery bookkeeping (attempts with back-off, given up after ten).

use chrono::{DateTime, Duration, SubsecRound, Utc};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::notification::{NotificationItem, StoredNotification};
use koppeling_domain::ports::{PendingNotice, Recipient, UnsentNotification};
use sea_orm::QueryResult;

use super::SeaOrmStore;
use super::admin::get_admin;
use super::db::{self, R, WriteTx, col, col_adm, col_json, i, other, s, so};

/// A notification whose mail failed this many times is given up.
pub(super) const MAX_SEND_ATTEMPTS: i64 = 10;

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
    // The LIKE narrows the rows down (the key as JSON, quotes included); the parse decides.
    let pattern = format!("%{}%", like_escape(&db::json(&dedupe_key)?));
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT dedupe_keys FROM notifications \
             WHERE adm = $1 AND at >= $2 AND dedupe_keys LIKE $3 ESCAPE '!'",
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
    limit: u32,
) -> R<Vec<UnsentNotification>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT id, adm, at, to_email, to_name, subject, body, items FROM notifications \
             WHERE sent_at IS NULL AND send_attempts < $1 \
             AND (next_send_at IS NULL OR next_send_at <= $2) ORDER BY id LIMIT $3",
            vec![
                i(MAX_SEND_ATTEMPTS),
                st.db.ts(db::now()),
                i(i64::from(limit)),
            ],
        ),
        "reading unsent notifications",
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok(UnsentNotification {
                id: col(row, "id")?,
                administratie: col_adm(row, "adm")?,
                to_name: col(row, "to_name")?,
                notification: stored_from(row)?,
            })
        })
        .collect()
}

/// The wait after the `attempts`-th failed send: 30 s, doubling, at most an hour.
fn send_backoff(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    Duration::seconds((30_i64 << exp).min(3600))
}

pub(super) async fn mark_notification(
    st: &SeaOrmStore,
    id: i64,
    now: DateTime<Utc>,
    error: Option<String>,
) -> R<()> {
    let now = now.trunc_subsecs(6);
    let tx = st.db.begin().await?;
    match error {
        None => {
            db::exec(
                &*tx,
                st.db.st(
                    "UPDATE notifications SET sent_at = $1, last_error = NULL, \
                     send_attempts = send_attempts + 1 WHERE id = $2",
                    vec![st.db.ts(now), i(id)],
                ),
                "marking the notification sent",
            )
            .await?;
        }
        Some(error) => {
            let row = db::one(
                &*tx,
                st.db.st(
                    &format!(
                        "SELECT send_attempts FROM notifications WHERE id = $1{}",
                        st.db.for_update()
                    ),
                    vec![i(id)],
                ),
                "reading the notification",
            )
            .await?;
            let Some(row) = row else {
                return Ok(());
            };
            let attempts = col::<i64>(&row, "send_attempts")? + 1;
            db::exec(
                &*tx,
                st.db.st(
                    "UPDATE notifications SET send_attempts = $1, last_error = $2, \
                     next_send_at = $3 WHERE id = $4",
                    vec![
                        i(attempts),
                        so(Some(error)),
                        st.db.ts(now + send_backoff(attempts)),
                        i(id),
                    ],
                ),
                "recording the failed send",
            )
            .await?;
        }
    }
    tx.commit().await
}

pub(super) async fn notifications(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    limit: u32,
) -> R<Vec<StoredNotification>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT at, to_email, subject, body, items FROM notifications WHERE adm = $1 \
             ORDER BY at DESC, id DESC LIMIT $2",
            vec![s(adm.as_str()), i(i64::from(limit))],
        ),
        "reading notifications",
    )
    .await?;
    rows.iter().map(stored_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_escape("a_b%c!d"), "a!_b!%c!!d");
    }

    #[test]
    fn send_backoff_doubles_up_to_an_hour() {
        assert_eq!(send_backoff(1), Duration::seconds(30));
        assert_eq!(send_backoff(2), Duration::seconds(60));
        assert_eq!(send_backoff(9), Duration::seconds(3600));
    }
}
