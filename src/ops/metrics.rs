//! Prometheus metrics. Code records with the `metrics` macros where things happen (requests here,
//! server-function errors in `error`, jobs in the worker, the board cache, ingest, model runs);
//! gauges of shared state (the pool, the job queue) are read when Prometheus scrapes.
//!
//! `/metrics` is never public by default: it is served on `ops.metrics_address` (a private port),
//! and on the app's own address only to requests bearing `INSIGHTOPS_METRICS_TOKEN`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// Request and job durations: 5 ms to 30 s, dense around the 1 s reporting target.
const DURATION_BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use. Every router and test of one process shares it.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let recorder = match builder.set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), &DURATION_BUCKETS) {
            Ok(builder) => builder.build_recorder(),
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder was installed first; /metrics will be empty");
        }
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!("insightops_http_requests_total", "HTTP requests answered, by method, route and status.");
    describe_histogram!("insightops_http_request_duration_seconds", Unit::Seconds, "Time to answer an HTTP request, by method, route and status class.");
    describe_counter!("insightops_server_fn_errors_total", "Server-function calls that ended in an error, by kind.");
    describe_gauge!("insightops_db_pool_connections", "Database pool connections by state (in_use, idle, max).");
    describe_gauge!("insightops_db_pool_acquire_seconds", Unit::Seconds, "Time a scrape waited for a pool connection: how long a request waits now.");
    describe_gauge!("insightops_jobs_queued", "Jobs waiting to run (due now), by kind.");
    describe_gauge!("insightops_jobs_running", "Jobs running, by kind.");
    describe_gauge!("insightops_jobs_oldest_due_seconds", Unit::Seconds, "How long the oldest due job has waited, by kind: the queue's delay.");
    describe_counter!("insightops_jobs_finished_total", "Jobs finished by this process, by kind and outcome (succeeded, failed).");
    describe_histogram!("insightops_job_duration_seconds", Unit::Seconds, "Time a job's handler ran, by kind.");
    describe_counter!("insightops_board_cache_requests_total", "Board summaries asked of the cache, by result (hit, miss).");
    describe_histogram!("insightops_model_run_duration_seconds", Unit::Seconds, "Time a model run took, by implementation.");
    describe_counter!("insightops_ingest_rows_total", "Rows received by ingest, by target and outcome (inserted, updated, unchanged, rejected).");
}

/// Counts and times every request by the route it matched (never the raw path, so label values
/// stay few); server functions keep their own path, which is one of a fixed set.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let path = request.uri().path().to_owned();
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    let route = route_label(matched.as_deref(), &path, status);
    let labels = [("method", method), ("route", route), ("status", status.as_u16().to_string())];
    metrics::counter!("insightops_http_requests_total", &labels).increment(1);
    metrics::histogram!("insightops_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// The route label of a request: the matched route, a server function's own path (a fixed set),
/// or one bucket for everything else (static files, unknown paths).
pub fn route_label(matched: Option<&str>, path: &str, status: StatusCode) -> String {
    match matched {
        Some(route) if route.contains('*') && path.starts_with("/api/") && status != StatusCode::NOT_FOUND => {
            path.chars().take(80).collect()
        }
        Some(route) => route.to_owned(),
        None if path.starts_with("/pkg/") => "/pkg/{file}".to_owned(),
        None => "(unmatched)".to_owned(),
    }
}

/// `GET /metrics` on the app's address: only with the configured bearer token; without one
/// configured the route does not exist (404), so nothing leaks by default.
pub async fn on_app_address(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.config.ops.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|given| constant_time_eq(given.as_bytes(), expected.as_bytes())) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a valid metrics token is required\n").into_response();
    }
    render(&state).await
}

/// `GET /metrics` on the private metrics address.
pub async fn on_metrics_address(State(state): State<AppState>) -> Response {
    render(&state).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn render(state: &AppState) -> Response {
    record_pool(state).await;
    if let Err(err) = record_queue(state).await {
        tracing::warn!(error = %err, "metrics: job queue not read");
    }
    let handle = handle();
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

async fn record_pool(state: &AppState) {
    let pool = &state.pool;
    let idle = pool.num_idle() as f64;
    let size = f64::from(pool.size());
    metrics::gauge!("insightops_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("insightops_db_pool_connections", "state" => "in_use").set((size - idle).max(0.0));
    metrics::gauge!("insightops_db_pool_connections", "state" => "max").set(f64::from(pool.options().get_max_connections()));
    let started = Instant::now();
    let waited = match tokio::time::timeout(Duration::from_secs(5), pool.acquire()).await {
        Ok(Ok(_connection)) => started.elapsed(),
        _ => Duration::from_secs(5),
    };
    metrics::gauge!("insightops_db_pool_acquire_seconds").set(waited.as_secs_f64());
}

async fn record_queue(state: &AppState) -> Result<(), sqlx::Error> {
    for row in crate::db::jobs::queue_depth(&state.pool).await? {
        let kind = row.kind.as_str();
        metrics::gauge!("insightops_jobs_queued", "kind" => kind).set(row.queued as f64);
        metrics::gauge!("insightops_jobs_running", "kind" => kind).set(row.running as f64);
        metrics::gauge!("insightops_jobs_oldest_due_seconds", "kind" => kind).set(row.oldest_due_seconds);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_stay_a_fixed_set() {
        let ok = StatusCode::OK;
        assert_eq!(route_label(Some("/dashboard"), "/dashboard", ok), "/dashboard");
        assert_eq!(route_label(Some("/api/{*fn_name}"), "/api/login", ok), "/api/login");
        assert_eq!(route_label(Some("/api/{*fn_name}"), "/api/no-such-thing-123", StatusCode::NOT_FOUND), "/api/{*fn_name}");
        assert_eq!(route_label(None, "/pkg/insightops.wasm", ok), "/pkg/{file}");
        assert_eq!(route_label(None, "/wp-admin/x.php", StatusCode::NOT_FOUND), "(unmatched)");
    }

    #[test]
    fn token_comparison_needs_the_whole_token() {
        assert!(constant_time_eq(b"abcdefghijklmnop", b"abcdefghijklmnop"));
        assert!(!constant_time_eq(b"abcdefghijklmnop", b"abcdefghijklmno"));
        assert!(!constant_time_eq(b"abcdefghijklmnoq", b"abcdefghijklmnop"));
    }
}
