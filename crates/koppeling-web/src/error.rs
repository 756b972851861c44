//! The API's error answer: `{"error","message","field","problems"}` with its HTTP status
//! (and `Retry-After` when the database is busy).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use koppeling_domain::problem::Problem;
use koppeling_domain::sync::ServiceError;
use serde::Serialize;

/// One problem in a 422 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemJson {
    /// The JSON path of the offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A stable snake_case code.
    pub code: String,
    /// A sentence.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl From<&Problem> for ProblemJson {
    fn from(p: &Problem) -> Self {
        Self {
            field: (!p.field.is_empty()).then(|| p.field.clone()),
            code: p.code().to_owned(),
            message: p.message(),
            hint: p.hint(),
        }
    }
}

/// An error answer of the JSON API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A snake_case code.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The JSON path of the offending field (or the path parameter / query parameter).
    pub field: Option<String>,
    /// Every problem, for 422 answers.
    pub problems: Option<Vec<ProblemJson>>,
    /// Seconds for the `Retry-After` header (503 `busy`).
    pub retry_after: Option<u32>,
}

/// The `Retry-After` of a busy answer, in seconds: SQLite's `busy_timeout` and
/// PostgreSQL's `lock_timeout` are 5 s, and most lock holders are done well before.
pub(crate) const BUSY_RETRY_AFTER_SECS: u32 = 2;

/// The error answer of every route of the JSON API and the webhook.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody<'a> {
    /// A stable snake_case code, e.g. `not_found`, `invalid_path`, `too_long`, `busy`.
    error: &'a str,
    /// A sentence for people.
    message: &'a str,
    /// The JSON path of the offending field (`lines[0].unit_price`), or the path or query
    /// parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// Every problem (422, and the webhook's 400).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<ProblemJson>>, nullable = false)]
    problems: Option<&'a [ProblemJson]>,
}

impl ApiError {
    /// An error without a field.
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
            problems: None,
            retry_after: None,
        }
    }

    /// Names the field to blame.
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 400 for a request that cannot be read.
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{} not found.", capitalize(what)),
        )
    }

    /// 422 for broken rules: the first problem's field and code lead, all are listed.
    pub fn invalid(problems: &[Problem]) -> Self {
        let Some(first) = problems.first() else {
            return Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "The request breaks a rule.",
            );
        };
        let message = if problems.len() == 1 {
            sentence(&first.message())
        } else {
            sentence(&koppeling_domain::problem::describe(problems))
        };
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: first.code().to_owned(),
            message,
            field: (!first.field.is_empty()).then(|| first.field.clone()),
            problems: Some(problems.iter().map(ProblemJson::from).collect()),
            retry_after: None,
        }
    }

    /// 503 `busy` with `Retry-After`: the database is busy (a lock held elsewhere); the
    /// request's transaction rolled back, so the same request may simply be repeated.
    pub fn busy(detail: &str) -> Self {
        tracing::warn!(error = %detail, "the database is busy; answered 503");
        Self {
            retry_after: Some(BUSY_RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "The database is busy; nothing was written. Repeat the request after Retry-After seconds.",
            )
        }
    }

    /// 500: logs the whole chain, says nothing more.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(error = %chain, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "An internal error occurred; it has been logged.",
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(problems) => Self::invalid(&problems),
            ServiceError::ActivationFailed(problems) => Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "activation_failed".to_owned(),
                message: format!(
                    "The koppeling was not activated: {} problem(s) in SnelStart or the settings must be fixed first.",
                    problems.len()
                ),
                field: problems
                    .first()
                    .filter(|p| !p.field.is_empty())
                    .map(|p| p.field.clone()),
                problems: Some(problems.iter().map(ProblemJson::from).collect()),
                retry_after: None,
            },
            ServiceError::NotFound(what) => Self::not_found(&what.to_string()),
            ServiceError::Conflict {
                code,
                message,
                field,
            } => Self {
                status: StatusCode::CONFLICT,
                code,
                message: sentence(&message),
                field,
                problems: None,
                retry_after: None,
            },
            ServiceError::Busy(detail) => Self::busy(&detail),
            ServiceError::Unavailable(message) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                sentence(&format!("SnelStart could not be reached: {message}")),
            ),
            ServiceError::Throttled {
                retry_after,
                message,
            } => {
                let secs = u32::try_from(retry_after.as_secs().max(1)).unwrap_or(u32::MAX);
                Self {
                    retry_after: Some(secs),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "snelstart_budget",
                        sentence(&format!(
                            "The administratie's SnelStart call budget cannot serve this now ({message}); repeat the request after Retry-After seconds"
                        )),
                    )
                }
            }
            ServiceError::Other(error) => {
                let error: &(dyn std::error::Error + 'static) = error.as_ref();
                Self::internal(error)
            }
            other => Self::internal(&other),
        }
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self::invalid(&[problem])
    }
}

impl From<Vec<Problem>> for ApiError {
    fn from(problems: Vec<Problem>) -> Self {
        Self::invalid(&problems)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: &self.code,
            message: &self.message,
            field: self.field.as_deref(),
            problems: self.problems.as_deref(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// `text` with its first letter upper-case (the API's and the UI's one helper).
pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Makes `text` a sentence: a capital first letter (unless it starts with a field path such
/// as `lines[0].unit_price`) and a final full stop.
pub(crate) fn sentence(text: &str) -> String {
    let text = text.trim();
    let first_word = text.split(' ').next().unwrap_or_default();
    let mut out = if first_word.chars().all(|c| c.is_ascii_alphabetic()) {
        capitalize(text)
    } else {
        text.to_owned()
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}
