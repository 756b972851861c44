//! Log-in state (issue 13): sessions by id hash, failed log-ins per key, used log-in
//! form tokens. The rules (timeouts, lock-outs) live in `koppeling_domain::auth`.

use chrono::{DateTime, Utc};
use std::time::Duration;

use koppeling_domain::auth::{SessionRecord, Throttle, ThrottlePolicy, attempt};
use sea_orm::QueryResult;

use super::SeaOrmStore;
use super::db::{self, R, col, col_adm, col_id, i, s};

pub(super) async fn create_session(st: &SeaOrmStore, session: &SessionRecord) -> R<()> {
    db::exec(
        &st.db.conn,
        st.db.st(
            "INSERT INTO ui_sessions (id_hash, adm, admin_id, created_at, last_seen) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                s(session.id_hash.as_str()),
                s(session.adm.as_str()),
                s(session.admin_id.as_str()),
                st.db.ts(session.created_at),
                st.db.ts(session.last_seen),
            ],
        ),
        "storing the session",
    )
    .await?;
    Ok(())
}

pub(super) async fn get_session(
    st: &SeaOrmStore,
    id_hash: &str,
) -> R<Option<(SessionRecord, String)>> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT s.id_hash, s.adm, s.admin_id, s.created_at, s.last_seen, a.name \
             FROM ui_sessions s JOIN admins a ON a.adm = s.adm AND a.id = s.admin_id \
             WHERE s.id_hash = $1",
            vec![s(id_hash)],
        ),
        "reading the session",
    )
    .await?;
    row.map(|row| {
        Ok((
            SessionRecord {
                id_hash: col(&row, "id_hash")?,
                adm: col_adm(&row, "adm")?,
                admin_id: col_id(&row, "admin_id")?,
                created_at: col(&row, "created_at")?,
                last_seen: col(&row, "last_seen")?,
            },
            col(&row, "name")?,
        ))
    })
    .transpose()
}

pub(super) async fn touch_session(st: &SeaOrmStore, id_hash: &str, at: DateTime<Utc>) -> R<()> {
    db::exec(
        &st.db.conn,
        st.db.st(
            "UPDATE ui_sessions SET last_seen = $1 WHERE id_hash = $2",
            vec![st.db.ts(at), s(id_hash)],
        ),
        "refreshing the session",
    )
    .await?;
    Ok(())
}

pub(super) async fn delete_session(st: &SeaOrmStore, id_hash: &str) -> R<()> {
    db::exec(
        &st.db.conn,
        st.db.st(
            "DELETE FROM ui_sessions WHERE id_hash = $1",
            vec![s(id_hash)],
        ),
        "ending the session",
    )
    .await?;
    Ok(())
}

fn throttle_from(row: &QueryResult) -> R<Throttle> {
    let failures: i64 = col(row, "failures")?;
    let lockouts: i64 = col(row, "lockouts")?;
    Ok(Throttle {
        failures: u32::try_from(failures).unwrap_or(u32::MAX),
        window_start: col(row, "window_start")?,
        locked_until: col(row, "locked_until")?,
        lockouts: u32::try_from(lockouts).unwrap_or(u32::MAX),
        last_failure: col(row, "last_failure")?,
    })
}

pub(super) async fn throttle_attempt(
    st: &SeaOrmStore,
    key: &str,
    now: DateTime<Utc>,
    policy: ThrottlePolicy,
) -> R<Option<Duration>> {
    let tx = st.db.begin().await?;
    // A row to lock (a fresh one counts as no failures yet).
    db::exec(
        &*tx,
        st.db.st(
            "INSERT INTO login_throttle (throttle_key, failures, window_start, locked_until, lockouts, last_failure) \
             VALUES ($1, 0, $2, NULL, 0, $2) ON CONFLICT (throttle_key) DO NOTHING",
            vec![s(key), st.db.ts(now)],
        ),
        "recording the log-in attempt",
    )
    .await?;
    let row = db::one(
        &*tx,
        st.db.st(
            &format!(
                "SELECT failures, window_start, locked_until, lockouts, last_failure \
                 FROM login_throttle WHERE throttle_key = $1{}",
                st.db.for_update()
            ),
            vec![s(key)],
        ),
        "reading the failed log-ins",
    )
    .await?;
    let before = row.as_ref().map(throttle_from).transpose()?;
    let after = match attempt(before.as_ref(), now, &policy) {
        Ok(after) => after,
        Err(wait) => return Ok(Some(wait)),
    };
    db::exec(
        &*tx,
        st.db.st(
            "UPDATE login_throttle SET failures = $2, window_start = $3, locked_until = $4, \
             lockouts = $5, last_failure = $6 WHERE throttle_key = $1",
            vec![
                s(key),
                i(i64::from(after.failures)),
                st.db.ts(after.window_start),
                st.db.ts_opt(after.locked_until),
                i(i64::from(after.lockouts)),
                st.db.ts(after.last_failure),
            ],
        ),
        "recording the log-in attempt",
    )
    .await?;
    tx.commit().await?;
    Ok(None)
}

pub(super) async fn throttle_forgive(st: &SeaOrmStore, key: &str) -> R<()> {
    db::exec(
        &st.db.conn,
        st.db.st(
            "UPDATE login_throttle SET failures = failures - 1 \
             WHERE throttle_key = $1 AND failures > 0",
            vec![s(key)],
        ),
        "forgiving the log-in attempt",
    )
    .await?;
    Ok(())
}

pub(super) async fn clear_throttle(st: &SeaOrmStore, key: &str) -> R<()> {
    db::exec(
        &st.db.conn,
        st.db.st(
            "DELETE FROM login_throttle WHERE throttle_key = $1",
            vec![s(key)],
        ),
        "forgetting the failed log-ins",
    )
    .await?;
    Ok(())
}

pub(super) async fn use_login_token(
    st: &SeaOrmStore,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> R<bool> {
    db::exec(
        &st.db.conn,
        st.db.st(
            "DELETE FROM login_tokens_used WHERE expires_at < $1",
            vec![st.db.ts(now)],
        ),
        "pruning used log-in tokens",
    )
    .await?;
    let n = db::exec(
        &st.db.conn,
        st.db.st(
            "INSERT INTO login_tokens_used (token_hash, expires_at) VALUES ($1, $2) \
             ON CONFLICT (token_hash) DO NOTHING",
            vec![s(token_hash), st.db.ts(expires_at)],
        ),
        "marking the log-in token used",
    )
    .await?;
    Ok(n == 1)
}

/// Ends every session of a Beheerder (a new password).
pub(super) async fn end_admin_sessions(
    c: &impl sea_orm::ConnectionTrait,
    st: &SeaOrmStore,
    adm: &str,
    admin_id: &str,
) -> R<()> {
    db::exec(
        c,
        st.db.st(
            "DELETE FROM ui_sessions WHERE adm = $1 AND admin_id = $2",
            vec![s(adm), s(admin_id)],
        ),
        "ending the Beheerder's sessions",
    )
    .await?;
    Ok(())
}
