//! Log output: JSON objects (with the request span's fields) for a log pipeline in staging and
//! prod, readable text in dev. `RUST_LOG` overrides the levels; the per-request access line has
//! the target `access`, on in JSON and off in the terminal unless asked for.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let default = match format {
        LogFormat::Json => "info,sqlx=warn,tower_http=warn",
        LogFormat::Pretty => "info,sqlx=warn,tower_http=warn,access=warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests, a CLI command after another) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// The span every request runs in. `org_id` is filled in once the session is known; the user's
/// email is never recorded. SQL and analytics events inside the request carry these fields.
pub fn request_span(request: &axum::extract::Request) -> tracing::Span {
    let route = request.extensions().get::<axum::extract::MatchedPath>().map_or_else(|| request.uri().path(), |p| p.as_str());
    tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
        org_id = tracing::field::Empty,
    )
}

/// Closes the request span with its status and duration, and writes the access line.
pub fn on_response(response: &axum::response::Response, latency: std::time::Duration, span: &tracing::Span) {
    let status = response.status().as_u16();
    let duration_ms = latency.as_secs_f64() * 1000.0;
    span.record("status", status);
    span.record("duration_ms", duration_ms);
    tracing::info!(target: "access", status, duration_ms, "request");
}
