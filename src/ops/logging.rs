//! Log output: JSON objects (with the request span's fields) for a log pipeline in staging and
//! prod, readable text in dev. `RUST_LOG` overrides the levels; the per-request access line has
//! the target `access`, on in JSON and off in the terminal unless asked for. When `[ops]` names an
//! OTLP endpoint the same spans are also exported to an OpenTelemetry collector (`otel`).

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use super::otel::{self, Telemetry};
use crate::config::{LogFormat, Ops};

/// Installs the global subscriber; the returned handle flushes exported spans at shutdown.
pub fn init(ops: &Ops) -> Telemetry {
    let default = match ops.log_format {
        LogFormat::Json => "info,sqlx=warn,tower_http=warn,tower_sessions=warn,tower_sessions_core=warn",
        LogFormat::Pretty => "info,sqlx=warn,tower_http=warn,tower_sessions=warn,tower_sessions_core=warn,access=warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match ops.log_format {
        LogFormat::Json => fmt.json().with_current_span(true).with_span_list(false).boxed(),
        LogFormat::Pretty => fmt.boxed(),
    };
    let (telemetry, exporter_error) = match &ops.otlp {
        Some(export) => match otel::start(export) {
            Ok(telemetry) => (telemetry, None),
            Err(err) => (Telemetry::off(), Some(err)),
        },
        None => (Telemetry::off(), None),
    };
    let spans = telemetry.layer();
    // A second init (tests, a CLI command after another) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(spans).try_init();
    if let Some(err) = exporter_error {
        tracing::error!(error = %err, "OpenTelemetry export is off: the exporter could not be built");
    }
    telemetry
}

/// The span every request runs in. `org_id` is filled in once the session is known; the user's
/// email is never recorded. SQL and analytics events inside the request carry these fields. With
/// export on, a W3C `traceparent` header makes the request a child of the caller's trace.
pub fn request_span(request: &axum::extract::Request) -> tracing::Span {
    let route = request.extensions().get::<axum::extract::MatchedPath>().map_or_else(|| request.uri().path(), |p| p.as_str());
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
        org_id = tracing::field::Empty,
    );
    otel::continue_trace(&span, request.headers());
    span
}

/// The request's own span, kept in its extensions: layers inside (the session store's among them)
/// open spans of their own, so `Span::current()` deeper in is not always this one.
#[derive(Clone)]
pub struct RequestSpan(pub tracing::Span);

/// Runs right inside the trace layer, where the current span is the request's.
pub async fn keep_request_span(mut request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    request.extensions_mut().insert(RequestSpan(tracing::Span::current()));
    next.run(request).await
}

/// Closes the request span with its status and duration, and writes the access line.
pub fn on_response(response: &axum::response::Response, latency: std::time::Duration, span: &tracing::Span) {
    let status = response.status().as_u16();
    let duration_ms = latency.as_secs_f64() * 1000.0;
    span.record("status", status);
    span.record("duration_ms", duration_ms);
    tracing::info!(target: "access", status, duration_ms, "request");
}
