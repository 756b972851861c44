//! The activation flow of SnelStart (shared/snelstart/README.md §2.4, product.md §8.1):
//! registered apps, the Dutch consent page at `/couplings/activate/{app}`, the webhook
//! deliveries (`Create`, `Regenerate`, `Delete`, each POSTed once, never retried) and their
//! log under `/_sandbox/couplings/`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::json::respond_json;
use crate::state::{Shared, lock};
use crate::token::parse_form;

/// `referenceKey` may be at most this long (§2.4).
pub const MAX_REFERENCE_LEN: usize = 500;

/// One webhook POST as sent, with what it got.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Delivery {
    /// The app it was for.
    pub app: String,
    /// The webhook URL.
    pub url: String,
    /// The JSON body as sent.
    pub body: Value,
    /// The HTTP status the webhook answered, when it answered.
    pub status: Option<u16>,
    /// Why there is no status (connection refused, timeout).
    pub error: Option<String>,
}

#[derive(Clone)]
struct Made {
    app: String,
    reference: String,
}

/// The couplings part of the sandbox state.
#[derive(Default)]
pub struct Couplings {
    apps: Mutex<HashMap<String, String>>,
    made: Mutex<HashMap<String, Made>>,
    deliveries: Mutex<Vec<Delivery>>,
}

impl Couplings {
    /// Registers `app` with its webhook.
    pub fn register(&self, app: &str, webhook: &str) {
        lock(&self.apps).insert(app.to_owned(), webhook.to_owned());
    }

    /// Every delivery so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.deliveries).clone()
    }
}

/// A new koppelsleutel of the form base64(`user:password`).
fn mint_key() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!(
        "link-{}:{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    ))
}

/// POSTs the webhook once (no retry, redirects not followed) and records the delivery.
async fn deliver(shared: &Shared, app: &str, action: &str, key: &str, reference: &str) {
    let Some(url) = lock(&shared.couplings.apps).get(app).cloned() else {
        return;
    };
    let body = json!({ "KoppelSleutel": key, "ActionType": action, "ReferenceKey": reference });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build();
    let (status, error) = match client {
        Ok(client) => match client.post(&url).json(&body).send().await {
            Ok(resp) => (Some(resp.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        },
        Err(e) => (None, Some(e.to_string())),
    };
    lock(&shared.couplings.deliveries).push(Delivery {
        app: app.to_owned(),
        url,
        body,
        status,
        error,
    });
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn check_request(shared: &Shared, app: &str, reference: &str, success: &str) -> Option<Response> {
    if !lock(&shared.couplings.apps).contains_key(app) {
        return Some(page(
            StatusCode::NOT_FOUND,
            "Onbekende koppeling",
            &format!("<p>De koppeling {} bestaat niet.</p>", escape(app)),
        ));
    }
    if reference.is_empty() || reference.len() > MAX_REFERENCE_LEN {
        return Some(page(
            StatusCode::BAD_REQUEST,
            "Ongeldige aanvraag",
            "<p>referenceKey is verplicht (hoogstens 500 tekens).</p>",
        ));
    }
    if !(success.starts_with("http://") || success.starts_with("https://")) {
        return Some(page(
            StatusCode::BAD_REQUEST,
            "Ongeldige aanvraag",
            "<p>successUrl moet een http(s)-adres zijn.</p>",
        ));
    }
    None
}

/// `GET /couplings/activate/{app}?referenceKey=…&successUrl=…`: the consent page.
pub async fn consent_page(
    State(shared): State<Arc<Shared>>,
    Path(app): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let reference = q.get("referenceKey").cloned().unwrap_or_default();
    let success = q.get("successUrl").cloned().unwrap_or_default();
    if let Some(refused) = check_request(&shared, &app, &reference, &success) {
        return refused;
    }
    let app_e = escape(&app);
    page(
        StatusCode::OK,
        "Koppeling toestaan",
        &format!(
            "<p>De koppeling <strong>{app_e}</strong> vraagt toegang tot uw administratie.</p>\
             <form method=\"post\" action=\"/couplings/activate/{app_e}\">\
             <input type=\"hidden\" name=\"referenceKey\" value=\"{}\">\
             <input type=\"hidden\" name=\"successUrl\" value=\"{}\">\
             <label>Administratie <input name=\"administratie\" value=\"Sandbox administratie\"></label>\
             <button type=\"submit\" id=\"toestaan\">Toestaan</button></form>",
            escape(&reference),
            escape(&success)
        ),
    )
}

/// `POST /couplings/activate/{app}` (form `referenceKey`, `successUrl`, optional
/// `administratie`): a new administration with a new koppelsleutel, the `Create` webhook
/// once, then 303 to `successUrl` whatever the webhook answered.
pub async fn consent_approve(
    State(shared): State<Arc<Shared>>,
    Path(app): Path<String>,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = parse_form(&body).into_iter().collect();
    let reference = form.get("referenceKey").cloned().unwrap_or_default();
    let success = form.get("successUrl").cloned().unwrap_or_default();
    if let Some(refused) = check_request(&shared, &app, &reference, &success) {
        return refused;
    }
    let key = mint_key();
    shared.add_key(&key);
    lock(&shared.couplings.made).insert(
        key.clone(),
        Made {
            app: app.clone(),
            reference: reference.clone(),
        },
    );
    deliver(&shared, &app, "Create", &key, &reference).await;
    (StatusCode::SEE_OTHER, [(header::LOCATION, success)]).into_response()
}

#[derive(Deserialize)]
struct KeyBody {
    key: String,
}

fn made_for(shared: &Shared, body: &Bytes) -> Result<(String, Made), Box<Response>> {
    let b = serde_json::from_slice::<KeyBody>(body).map_err(|e| {
        Box::new(respond_json(
            StatusCode::BAD_REQUEST,
            &json!({ "error": format!("expected {{\"key\": \"…\"}}: {e}") }),
        ))
    })?;
    let made = lock(&shared.couplings.made).get(&b.key).cloned();
    made.map(|m| (b.key, m)).ok_or_else(|| {
        Box::new(respond_json(
            StatusCode::NOT_FOUND,
            &json!({ "error": "no coupling was made with this key" }),
        ))
    })
}

/// `POST /_sandbox/couplings/regenerate {"key"}`: the old key stops working at once, a new
/// one that opens the same administration is sent with `Regenerate`; answers `{"key": new}`.
pub async fn regenerate(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let (old, made) = match made_for(&shared, &body) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    shared.revoke_key(&old);
    let new = mint_key();
    shared.move_admin(&old, &new);
    {
        let mut all = lock(&shared.couplings.made);
        all.remove(&old);
        all.insert(new.clone(), made.clone());
    }
    deliver(&shared, &made.app, "Regenerate", &new, &made.reference).await;
    respond_json(StatusCode::OK, &json!({ "key": new }))
}

/// `POST /_sandbox/couplings/delete {"key"}`: the key stops working at once and `Delete`
/// is sent.
pub async fn delete(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let (old, made) = match made_for(&shared, &body) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    shared.revoke_key(&old);
    lock(&shared.couplings.made).remove(&old);
    deliver(&shared, &made.app, "Delete", &old, &made.reference).await;
    respond_json(StatusCode::OK, &json!({ "ok": true }))
}

/// `GET /_sandbox/couplings/deliveries`: every webhook delivery, oldest first.
pub async fn deliveries(State(shared): State<Arc<Shared>>) -> Response {
    respond_json(StatusCode::OK, &shared.couplings.deliveries())
}
