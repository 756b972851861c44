//! `POST /webhooks/snelstart` (product.md §8.1): SnelStart delivers, once and without retry,
//! the koppelsleutel of an approved activation link (`Create`), its replacement
//! (`Regenerate`) or its withdrawal (`Delete`).
//!
//! Outside `/api/v1` and without a bearer token: the reference key (256 random bits, bound
//! to one administratie, looked up by its hash) is the credential. The body is at most
//! [`MAX_WEBHOOK_BODY`] (413 beyond). Everything the message changes is stored in one
//! transaction before the 200; the activation checks run after the answer has been handed
//! to the connection. Neither the key nor the whole reference is logged.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt as _;
use koppeling_domain::app::App;
use koppeling_domain::connect::{MAX_WEBHOOK_BODY, WebhookEffect, WebhookMessage};

use crate::AppState;
use crate::error::{ApiError, ProblemJson};

/// The webhook's route, with its own body limit.
pub(crate) fn router<P: App>(state: AppState<P>) -> Router {
    Router::new()
        .route("/webhooks/snelstart", post(snelstart::<P>))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_WEBHOOK_BODY))
        .with_state(state)
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "The webhook body is larger than {MAX_WEBHOOK_BODY} bytes (64 KB); nothing was changed."
        ),
    )
}

fn malformed(message: &str) -> ApiError {
    ApiError::bad_request("invalid_webhook", message)
}

/// The webhook's message as the document states it (the handler reads the properties by
/// name in any case, through `WebhookMessage::from_fields`; others are ignored).
#[derive(utoipa::ToSchema)]
#[schema(as = SnelStartWebhook)]
#[allow(dead_code, non_snake_case)]
pub(crate) struct WebhookBody {
    /// The koppelsleutel (1 to 4,096 characters; may be absent for `Delete`).
    #[schema(min_length = 1, max_length = 4096, pattern = r"[^\s]")]
    KoppelSleutel: String,
    /// `Create`, `Regenerate` or `Delete` (in any case).
    #[schema(value_type = crate::openapi::schemas::WebhookAction)]
    ActionType: String,
    /// The reference of the activation link: 1 to 500 URL-safe characters.
    #[schema(pattern = "^[A-Za-z0-9._~-]{1,500}$")]
    ReferenceKey: String,
}

/// `POST /webhooks/snelstart`.
#[utoipa::path(
    post,
    path = "/webhooks/snelstart",
    tag = "webhooks",
    security(()),
    request_body = WebhookBody,
    responses(
        (status = 200, description = "Stored (`{\"status\":\"stored\"}`), or delivered before (`unchanged`); the activation checks run after the answer", content_type = "application/json"),
        (status = 404, description = "Unknown, void or expired reference, or not the connection's (`unknown_reference`); nothing changed", body = crate::error::ErrorBody),
        (status = 409, description = "A Create for the connection with another key (`reference_used`); nothing changed", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn snelstart<P: App>(
    State(state): State<AppState<P>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            malformed("The webhook body cannot be read.")
        }
    })?;
    if bytes.len() > MAX_WEBHOOK_BODY {
        return Err(too_large());
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|_| malformed("The webhook body must be a JSON object."))?;
    let Some(object) = value.as_object() else {
        return Err(malformed("The webhook body must be a JSON object."));
    };
    let message = WebhookMessage::from_fields(
        object
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    )
    .map_err(|problems| {
        let mut error = malformed(&crate::error::sentence(
            &koppeling_domain::problem::describe(&problems),
        ));
        error.field = problems.first().map(|p| p.field.clone());
        error.problems = Some(problems.iter().map(ProblemJson::from).collect());
        error
    })?;
    let applied = state.service.webhook(message).await?;
    let status = match applied.effect {
        WebhookEffect::Unknown => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_reference",
                "No activation link with this ReferenceKey is waiting or connected; nothing was changed.",
            )
            .with_field("ReferenceKey"));
        }
        WebhookEffect::Used => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "reference_used",
                "This ReferenceKey was already used for another koppelsleutel; nothing was changed.",
            )
            .with_field("ReferenceKey"));
        }
        WebhookEffect::Replay => "unchanged",
        WebhookEffect::Connect | WebhookEffect::Replace | WebhookEffect::Withdraw => "stored",
    };
    let body = serde_json::json!({ "status": status }).to_string();
    if !matches!(
        applied.effect,
        WebhookEffect::Connect | WebhookEffect::Replace
    ) {
        return Ok(json_response(Body::from(body)));
    }
    // The checks call SnelStart: they start once the answer's body has been handed over
    // (the body stream holds `sent` and drops it then), or after 5 s at the latest.
    let (sent, answered) = tokio::sync::oneshot::channel::<()>();
    let service = Arc::clone(&state.service);
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(5), answered).await;
        if let Err(error) = service.after_webhook(&applied).await {
            tracing::error!(error = %error, "the activation checks after the webhook failed");
        }
    });
    let stream =
        futures::stream::iter([Ok::<_, Infallible>(Bytes::from(body))]).map(move |chunk| {
            let _hold = &sent;
            chunk
        });
    Ok(json_response(Body::from_stream(stream)))
}

fn json_response(body: Body) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
