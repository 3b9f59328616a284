//! Assembles the axum router (pages, server functions, health, static files) and serves it.
//! Kept apart from the CLI so integration tests can build the same router.

use std::future::IntoFuture;
use std::sync::Arc;

use axum::middleware;
use axum::routing::get;
use axum::Router;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;

use crate::app::{shell, App};
use crate::config::{Config, Environment};
use crate::exec::cache::ExecCache;
use crate::jobs::handlers::JobContext;
use crate::state::AppState;

pub fn leptos_options(config: &Config) -> LeptosOptions {
    let env = match config.environment {
        Environment::Dev | Environment::Offline => leptos::config::Env::DEV,
        Environment::Staging | Environment::Prod => leptos::config::Env::PROD,
    };
    LeptosOptions::builder()
        .output_name("insightops")
        .site_root(config.server.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.server.address)
        .env(env)
        .build()
}

/// Sessions live in `io_session` (created by our migrations, so no runtime DDL).
pub fn session_store(pool: PgPool) -> PostgresStore {
    PostgresStore::new(pool)
        .with_schema_name("public")
        .and_then(|store| store.with_table_name("io_session"))
        .expect("io_session is a valid table name")
}

/// The state every request and job of this process shares.
pub fn app_state(config: Arc<Config>, pool: PgPool) -> AppState {
    // Metrics recorded from here on (requests, jobs) reach /metrics.
    crate::ops::metrics::handle();
    let password_checks = Arc::new(tokio::sync::Semaphore::new(config.auth.password_check_slots()));
    let exec_cache = ExecCache::with_ttl(std::time::Duration::from_secs(config.profile.board_cache_ttl_seconds.into()));
    let read_pool = crate::db::ReadPool::new(&config.database, &pool).unwrap_or_else(|err| {
        tracing::error!(error = %err, "database.read_url cannot be used; reading from the primary");
        crate::db::ReadPool::primary(&pool)
    });
    AppState { leptos_options: leptos_options(&config), pool, read_pool, config, exec_cache, password_checks, export_slots: Default::default(), lifecycle: Default::default() }
}

pub fn router(config: Arc<Config>, pool: PgPool) -> Router {
    router_for(app_state(config, pool))
}

/// The app's page routes, walked out of `App` once per process. Leptos walks the view tree with
/// resource loading switched off for the whole process while it does, so a page rendering on
/// another thread meanwhile created a resource that never loaded and waited forever; a second
/// router (another instance in the process, every integration test) must not walk it again.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router_for(state: AppState) -> Router {
    let config = state.config.clone();
    let sessions = SessionManagerLayer::new(session_store(state.pool.clone()))
        .with_name("insightops_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.auth.secure_cookie.unwrap_or(true))
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(config.auth.session_idle_minutes.into())));
    Router::new()
        .leptos_routes(&state, route_list(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        // The upload page posts files here with its session.
        .merge(crate::ingest::rest::upload_routes())
        // Downloads of exports and reports, with the session of the page that links them.
        .merge(crate::reports::rest::routes())
        .route_layer(middleware::from_fn(crate::error::server_fn_error_status))
        // Pages, server functions and uploads (not static files, health or the token API) learn who is asking.
        .route_layer(middleware::from_fn_with_state(state.clone(), crate::auth::guard::identify))
        .route("/api/health", get(crate::health::ready))
        .route("/api/health/ready", get(crate::health::ready))
        .route("/api/health/live", get(crate::health::live))
        .route("/metrics", get(crate::ops::metrics::on_app_address))
        // Token-authenticated, never by session: outside the session guard.
        .merge(crate::ingest::rest::routes())
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(crate::auth::guard::same_origin_only))
        .layer(sessions)
        // Outermost: every request is counted and gets its span, refusals included.
        .layer(middleware::from_fn(crate::ops::metrics::track_requests))
        .layer(middleware::from_fn(crate::ops::logging::keep_request_span))
        .layer(TraceLayer::new_for_http().make_span_with(crate::ops::logging::request_span).on_response(crate::ops::logging::on_response))
        .with_state(state)
}

/// The private metrics listener's router: `GET /metrics` and nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(crate::ops::metrics::on_metrics_address)).with_state(state)
}

pub use crate::ops::lifecycle::shutdown_signal;

/// Starts `workers` job workers and (when `schedule`) the scheduler; they stop when `stop` turns true.
pub fn start_background(state: &AppState, workers: u32, schedule: bool, stop: &tokio::sync::watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    if !state.config.runs_jobs() {
        tracing::info!("environment {} runs no jobs", state.config.environment.as_str());
        return Vec::new();
    }
    let ctx = JobContext { pool: state.pool.clone(), config: state.config.clone(), exec_cache: state.exec_cache.clone() };
    let mut tasks = crate::jobs::worker::spawn_workers(&ctx, &state.config.jobs, workers, stop);
    if schedule {
        tasks.push(tokio::spawn(crate::jobs::schedule::run(state.pool.clone(), state.config.clone(), stop.clone())));
    }
    tasks
}

pub async fn serve(config: Arc<Config>, pool: PgPool) -> std::io::Result<()> {
    let address = config.server.address;
    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!("InsightOps listening on http://{address}");
    // Expired sessions are deleted hourly; reads already ignore them.
    let sweeper = tokio::spawn(session_store(pool.clone()).continuously_delete_expired(tokio::time::Duration::from_secs(3600)));
    let state = app_state(config.clone(), pool);
    let metrics_listener = match config.ops.metrics_address {
        Some(metrics_address) => Some(serve_metrics(metrics_address, state.clone()).await?),
        None => None,
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = Arc::new(stop);
    let background = start_background(&state, config.jobs.workers, true, &stopped);
    let (lifecycle, ops, stop_jobs) = (state.lifecycle.clone(), config.ops.clone(), stop.clone());
    let served = axum::serve(listener, router_for(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            crate::ops::lifecycle::drained(lifecycle, ops.drain).await;
            let _ = stop_jobs.send(true);
        });
    // Requests and jobs share one grace period, counted from the end of the drain.
    let requests = async {
        let served = within_grace(served.into_future(), stopped.clone(), config.ops.grace).await;
        let _ = stop.send(true);
        served
    };
    let jobs = async {
        let _ = stopped.clone().wait_for(|stop| *stop).await;
        if tokio::time::timeout(config.ops.grace, futures::future::join_all(background)).await.is_err() {
            tracing::warn!("grace period over with jobs still running; their leases will expire and another worker retries them");
        }
    };
    let (served, ()) = tokio::join!(requests, jobs);
    sweeper.abort();
    if let Some(task) = metrics_listener {
        task.abort();
    }
    tracing::info!("stopped");
    served
}

/// Runs the server until it has stopped, but no longer than `grace` after the stop began.
async fn within_grace(served: impl std::future::Future<Output = std::io::Result<()>>, mut stopping: tokio::sync::watch::Receiver<bool>, grace: std::time::Duration) -> std::io::Result<()> {
    let deadline = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = served => result,
        _ = deadline => {
            tracing::warn!(grace_seconds = grace.as_secs(), "grace period over: exiting with requests still open");
            Ok(())
        }
    }
}

/// Serves `/metrics` on its own (private) address until the process ends.
pub async fn serve_metrics(address: std::net::SocketAddr, state: AppState) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!("metrics on http://{address}/metrics");
    Ok(tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, metrics_router(state)).await {
            tracing::error!(error = %err, "metrics listener stopped");
        }
    }))
}
