//! The koppeling's HTTP side: the JSON API under `/api/v1`, the Dutch admin UI and the import.
//!
//! [`router`] serves everything; it is generic over one type, the domain's inbound port
//! [`App`] (implemented by `koppeling_domain::sync::Service`), so that tests can drive it
//! with `MockApp` and the app with the real service. This crate knows no outbound port or
//! adapter: it cannot reach past the use case into the store.
// The hand-written OpenAPI document is one large `json!` (issue 14 replaces it).
#![recursion_limit = "256"]

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use koppeling_domain::app::App;
use secrecy::SecretString;
use tower_http::trace::TraceLayer;

mod api;
mod auth;
mod client_ip;
pub mod dto;
mod error;
pub mod import;
mod openapi;
mod ui;

#[cfg(test)]
mod tests;

pub use auth::{MIN_API_TOKEN_LEN, MIN_PASSWORD_LEN, hash_password};
pub use client_ip::validate_trusted_proxies;

/// Checks the web settings at start-up: `api.token` and every `api.previous_tokens` entry
/// at least [`MIN_API_TOKEN_LEN`] characters, `http.trusted_proxies` addresses or CIDR
/// blocks.
///
/// # Errors
/// A message naming the key.
pub fn validate_config(config: &WebConfig) -> Result<(), String> {
    use secrecy::ExposeSecret;
    let len = config.api_token.expose_secret().chars().count();
    if len < MIN_API_TOKEN_LEN {
        return Err(format!(
            "api.token must be at least {MIN_API_TOKEN_LEN} characters (it has {len})"
        ));
    }
    for (n, token) in config.previous_api_tokens.iter().enumerate() {
        let len = token.expose_secret().chars().count();
        if len < MIN_API_TOKEN_LEN {
            return Err(format!(
                "api.previous_tokens[{n}] must be at least {MIN_API_TOKEN_LEN} characters (it has {len})"
            ));
        }
    }
    validate_trusted_proxies(&config.trusted_proxies)
}
pub use error::ApiError;

/// The largest request body any route reads (2 MB); a larger one is answered with 413.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// What the web side needs from the configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The bearer token of the JSON API (`api.token`); an empty token refuses every call.
    pub api_token: SecretString,
    /// Older tokens still accepted while a new one is rolled out (`api.previous_tokens`).
    pub previous_api_tokens: Vec<SecretString>,
    /// Whether cookies carry `Secure` and the `__Host-` prefix and HSTS is sent
    /// (`http.secure_cookies`).
    pub secure_cookies: bool,
    /// The address at which browsers reach this service (`http.public_url`), no trailing `/`.
    pub public_url: String,
    /// Peers whose `X-Forwarded-For` names the client (`http.trusted_proxies`).
    pub trusted_proxies: Vec<String>,
}

/// Renders the Prometheus text served at `/metrics`.
pub type MetricsFn = Arc<dyn Fn() -> String + Send + Sync>;

/// Everything a handler needs; cloned per request (all fields are shared).
pub(crate) struct AppState<P> {
    /// The domain service.
    pub(crate) service: Arc<P>,
    /// The proxies whose `X-Forwarded-For` names the client.
    pub(crate) proxies: Arc<client_ip::TrustedProxies>,
    /// Whether cookies carry `Secure`.
    pub(crate) secure_cookies: bool,
}

impl<P> Clone for AppState<P> {
    fn clone(&self) -> Self {
        Self {
            service: Arc::clone(&self.service),
            proxies: Arc::clone(&self.proxies),
            secure_cookies: self.secure_cookies,
        }
    }
}

/// The whole HTTP surface: `/api/v1` (bearer token), `/healthz`, `/metrics`,
/// `/api/v1/openapi.json` and the admin UI at `/`.
pub fn router<P>(service: Arc<P>, config: WebConfig, metrics: MetricsFn) -> Router
where
    P: App,
{
    // `serve` validates the setting first (`validate_config`); here a bad entry is ignored.
    let proxies = client_ip::TrustedProxies::parse(&config.trusted_proxies).unwrap_or_else(|e| {
        tracing::error!(error = %e, "ignoring http.trusted_proxies");
        client_ip::TrustedProxies::default()
    });
    let state = AppState {
        service,
        proxies: Arc::new(proxies),
        secure_cookies: config.secure_cookies,
    };
    let token = Arc::new(auth::ApiToken::with_previous(
        &config.api_token,
        &config.previous_api_tokens,
    ));
    let hsts = config.secure_cookies;
    Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/metrics",
            get(move || {
                let metrics = Arc::clone(&metrics);
                async move { metrics_response(&metrics) }
            }),
        )
        .nest("/api/v1", api::router(state.clone(), token))
        .merge(ui::router(state))
        .fallback(ui::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(
            move |mut response: Response| async move {
                if hsts {
                    response.headers_mut().insert(
                        header::STRICT_TRANSPORT_SECURITY,
                        header::HeaderValue::from_static("max-age=31536000"),
                    );
                }
                response
            },
        ))
        .layer(TraceLayer::new_for_http())
}

async fn healthz() -> &'static str {
    "ok"
}

fn metrics_response(metrics: &MetricsFn) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics(),
    )
        .into_response()
}
