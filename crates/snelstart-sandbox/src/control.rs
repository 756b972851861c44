//! `/_sandbox/...`: unauthenticated control and inspection endpoints for tests and demos.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::Faults;
use crate::json::respond_json;
use crate::state::Shared;

#[derive(Deserialize)]
pub struct KeyQuery {
    key: String,
}

#[derive(Deserialize)]
struct KeyBody {
    key: String,
}

#[derive(Deserialize)]
struct LedgerBody {
    key: String,
    nummer: i32,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    remove: bool,
}

fn bad_request(text: impl Into<String>) -> Response {
    respond_json(StatusCode::BAD_REQUEST, &json!({ "error": text.into() }))
}

fn ok() -> Response {
    respond_json(StatusCode::OK, &json!({ "ok": true }))
}

/// Runs `f` with the `key` of a `{"key": …}` body.
fn with_key(body: &Bytes, f: impl FnOnce(&str)) -> Response {
    match serde_json::from_slice::<KeyBody>(body) {
        Ok(b) => {
            f(&b.key);
            ok()
        }
        Err(e) => bad_request(format!("expected {{\"key\": \"…\"}}: {e}")),
    }
}

pub async fn state(State(shared): State<Arc<Shared>>, Query(q): Query<KeyQuery>) -> Response {
    match shared.snapshot(&q.key) {
        Some(s) => respond_json(StatusCode::OK, &s),
        None => respond_json(
            StatusCode::NOT_FOUND,
            &json!({ "error": "no administration for this key" }),
        ),
    }
}

pub async fn get_faults(State(shared): State<Arc<Shared>>) -> Response {
    respond_json(StatusCode::OK, &shared.faults())
}

pub async fn put_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            shared.set_faults(f);
            respond_json(StatusCode::OK, &shared.faults())
        }
        Err(e) => bad_request(format!("invalid faults: {e}")),
    }
}

pub async fn revoke(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_key(&body, |k| shared.revoke_key(k))
}

pub async fn restore(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_key(&body, |k| shared.restore_key(k))
}

pub async fn add(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_key(&body, |k| shared.add_key(k))
}

pub async fn expire_tokens(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_key(&body, |k| shared.expire_tokens(k))
}

pub async fn ledger(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let b = match serde_json::from_slice::<LedgerBody>(&body) {
        Ok(b) => b,
        Err(e) => {
            return bad_request(format!(
                "expected {{\"key\", \"nummer\", \"active\" | \"remove\"}}: {e}"
            ));
        }
    };
    let found = if b.remove {
        shared.remove_ledger(&b.key, b.nummer)
    } else if let Some(active) = b.active {
        shared.set_ledger_active(&b.key, b.nummer, active)
    } else {
        return bad_request("give \"active\": true|false or \"remove\": true");
    };
    if found {
        ok()
    } else {
        respond_json(
            StatusCode::NOT_FOUND,
            &json!({ "error": "no such administration or grootboek" }),
        )
    }
}

pub async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    respond_json(StatusCode::OK, &shared.stats())
}

#[derive(Deserialize)]
struct ScopesBody {
    key: String,
    /// `null`: every scope again.
    scopes: Option<Vec<String>>,
}

/// `POST /_sandbox/scopes {"key", "scopes": [..] | null}`: the scopes the key's tokens carry.
pub async fn scopes(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<ScopesBody>(&body) {
        Ok(b) => {
            if shared.set_scopes(&b.key, b.scopes) {
                ok()
            } else {
                respond_json(
                    StatusCode::NOT_FOUND,
                    &json!({ "error": "no administration for this key" }),
                )
            }
        }
        Err(e) => bad_request(format!(
            "expected {{\"key\", \"scopes\": [\"relaties:read\", …] | null}}: {e}"
        )),
    }
}

#[derive(Deserialize)]
struct EditBody {
    key: String,
    id: uuid::Uuid,
    changes: serde_json::Map<String, serde_json::Value>,
}

/// `POST /_sandbox/accountant/edit {"key", "id", "changes"}`: the accountant changes a
/// verkoopboeking in SnelStart (`gewijzigdDoorAccountant` true, `modifiedOn` moves).
pub async fn accountant_edit(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<EditBody>(&body) {
        Ok(b) => match shared.accountant_edit(&b.key, b.id, &b.changes) {
            Some(booking) => respond_json(StatusCode::OK, &booking),
            None => respond_json(
                StatusCode::NOT_FOUND,
                &json!({ "error": "no such administration or verkoopboeking" }),
            ),
        },
        Err(e) => bad_request(format!(
            "expected {{\"key\", \"id\", \"changes\": {{…}}}}: {e}"
        )),
    }
}

#[derive(Deserialize)]
struct DeleteBody {
    key: String,
    id: uuid::Uuid,
}

/// `POST /_sandbox/accountant/delete {"key", "id"}`: the accountant deletes a verkoopboeking
/// in SnelStart, its bank and cash bookings first.
pub async fn accountant_delete(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<DeleteBody>(&body) {
        Ok(b) => {
            if shared.accountant_delete(&b.key, b.id) {
                respond_json(StatusCode::OK, &json!({ "ok": true }))
            } else {
                respond_json(
                    StatusCode::NOT_FOUND,
                    &json!({ "error": "no such administration or verkoopboeking" }),
                )
            }
        }
        Err(e) => bad_request(format!("expected {{\"key\", \"id\"}}: {e}")),
    }
}
