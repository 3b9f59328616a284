//! The one application error type, shared by server and browser.
//! Server functions return `Result<T, AppError>`; each variant maps to one HTTP status.

use serde::{Deserialize, Serialize};
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("please sign in")]
    Unauthorized,
    #[error("the email or password is not right")]
    InvalidCredentials,
    #[error("too many failed sign-in attempts; try again in {} minute(s)", retry_after_secs.div_ceil(60))]
    TooManyRequests { retry_after_secs: u64 },
    #[error("you do not have access to this")]
    Forbidden,
    /// A 403 that says what is off limits (e.g. a restricted metric).
    #[error("{0}")]
    AccessDenied(String),
    #[error("request refused: it did not come from an InsightOps page")]
    CrossOriginRefused,
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A request over a configured limit (rows per export); the message says the limit.
    #[error("{0}")]
    LimitExceeded(String),
    /// Too many of something at once (parallel exports); retry after a moment.
    #[error("{message}")]
    RateLimited { message: String, retry_after_secs: u64 },
    /// Too many password checks are running: the caller should retry in a moment.
    #[error("the server is busy signing other people in; try again in {retry_after_secs} s")]
    Overloaded { retry_after_secs: u64 },
    #[error("the database is unavailable; try again shortly")]
    DatabaseUnavailable,
    #[error("internal error: {0}")]
    Internal(String),
    #[error("request failed: {0}")]
    Transport(String),
}

impl AppError {
    /// A fixed name per kind: the `kind` label of the error metric and of log lines.
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized => "unauthorized",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Forbidden => "forbidden",
            AppError::AccessDenied(_) => "access_denied",
            AppError::CrossOriginRefused => "cross_origin_refused",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::LimitExceeded(_) => "limit_exceeded",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Overloaded { .. } => "overloaded",
            AppError::DatabaseUnavailable => "database_unavailable",
            AppError::Internal(_) => "internal",
            AppError::Transport(_) => "transport",
        }
    }

    /// The HTTP status a client sees for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized | AppError::InvalidCredentials => 401,
            AppError::TooManyRequests { .. } => 429,
            AppError::Forbidden | AppError::AccessDenied(_) | AppError::CrossOriginRefused => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::LimitExceeded(_) => 422,
            AppError::RateLimited { .. } => 429,
            AppError::DatabaseUnavailable | AppError::Overloaded { .. } => 503,
            AppError::Internal(_) | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                AppError::BadRequest(format!("invalid request: {msg}"))
            }
            ServerFnErrorErr::ServerError(msg) => AppError::Internal(msg),
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;

    impl From<sqlx::Error> for AppError {
        fn from(err: sqlx::Error) -> Self {
            match &err {
                sqlx::Error::RowNotFound => AppError::NotFound("record".into()),
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                    tracing::error!(error = %err, "database unavailable");
                    AppError::DatabaseUnavailable
                }
                _ => {
                    // The detail goes to the log, not to the client: it can name tables and values.
                    tracing::error!(error = %err, "database error");
                    AppError::Internal("database query failed".into())
                }
            }
        }
    }

    impl axum::response::IntoResponse for AppError {
        fn into_response(self) -> axum::response::Response {
            let status = axum::http::StatusCode::from_u16(self.status_code())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            (status, axum::Json(serde_json::json!({ "error": self.to_string() }))).into_response()
        }
    }

    const MAX_ERROR_BODY: usize = 64 * 1024;

    /// Errors raised before a server function runs (its arguments did not decode) leave Leptos
    /// answering 500; this gives them their own status (400 for bad arguments) and counts them.
    pub async fn server_fn_error_status(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
        let response = next.run(request).await;
        // Error bodies are a short JSON object of known length; anything else passes untouched.
        let short = axum::body::HttpBody::size_hint(response.body()).exact().is_some_and(|n| n <= MAX_ERROR_BODY as u64);
        if response.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR || !response.headers().contains_key("serverfnerror") || !short {
            return response;
        }
        let (mut parts, body) = response.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
            return axum::response::Response::from_parts(parts, axum::body::Body::empty());
        };
        if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
            if let Some(status) = axum::http::StatusCode::from_u16(err.status_code()).ok().filter(|s| *s != parts.status) {
                metrics::counter!("insightops_server_fn_errors_total", "kind" => err.kind()).increment(1);
                parts.status = status;
            }
        }
        axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
    }

    /// Sets the HTTP status of the current server-function response from its error, so clients
    /// and tests see 400/403/404/… instead of a blanket 500.
    pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(err) = &result {
            metrics::counter!("insightops_server_fn_errors_total", "kind" => err.kind()).increment(1);
            if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                let status = axum::http::StatusCode::from_u16(err.status_code())
                    .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
                options.set_status(status);
                if let AppError::TooManyRequests { retry_after_secs } | AppError::Overloaded { retry_after_secs } | AppError::RateLimited { retry_after_secs, .. } = err {
                    options.insert_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(*retry_after_secs));
                }
            }
        }
        result
    }
}

#[cfg(feature = "ssr")]
pub use ssr::{server_fn_error_status, with_status};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_distinct_per_kind() {
        assert_eq!(AppError::BadRequest("x".into()).status_code(), 400);
        assert_eq!(AppError::Unauthorized.status_code(), 401);
        assert_eq!(AppError::InvalidCredentials.status_code(), 401);
        assert_eq!(AppError::TooManyRequests { retry_after_secs: 61 }.status_code(), 429);
        assert!(AppError::TooManyRequests { retry_after_secs: 61 }.to_string().contains("2 minute"));
        assert_eq!(AppError::CrossOriginRefused.status_code(), 403);
        assert_eq!(AppError::Forbidden.status_code(), 403);
        assert_eq!(AppError::NotFound("org".into()).status_code(), 404);
        assert_eq!(AppError::Conflict("x".into()).status_code(), 409);
        assert_eq!(AppError::DatabaseUnavailable.status_code(), 503);
        assert_eq!(AppError::Overloaded { retry_after_secs: 1 }.status_code(), 503);
    }

    #[test]
    fn round_trips_through_the_server_fn_encoding() {
        let err = AppError::NotFound("org acme".into());
        let bytes = err.ser();
        assert_eq!(AppError::de(bytes), err);
    }

    #[test]
    fn bad_arguments_become_bad_request() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Args("period".into()));
        assert_eq!(err.status_code(), 400);
    }
}
