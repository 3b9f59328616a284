//! Assembles the axum router (pages, server functions, health, static files) and serves it.
//! Kept apart from the CLI so integration tests can build the same router.

use std::sync::Arc;

use axum::middleware;
use axum::routing::get;
use axum::Router;
use tower_sessions::cookie::SameSite;
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;

use crate::app::{shell, App};
use crate::config::{Config, Environment};
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

pub fn router(config: Arc<Config>, pool: PgPool) -> Router {
    let sessions = SessionManagerLayer::new(session_store(pool.clone()))
        .with_name("insightops_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.auth.secure_cookie.unwrap_or(true))
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(config.auth.session_idle_minutes.into())));
    let password_checks = Arc::new(tokio::sync::Semaphore::new(config.auth.password_check_slots()));
    let state = AppState { leptos_options: leptos_options(&config), pool, config, exec_cache: Default::default(), password_checks };
    let routes = generate_route_list(App);
    Router::new()
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        // Pages and server functions (not static files or health) learn who is asking.
        .route_layer(middleware::from_fn_with_state(state.clone(), crate::auth::guard::identify))
        .route("/api/health", get(crate::health::health))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(crate::auth::guard::same_origin_only))
        .layer(sessions)
        .with_state(state)
}

pub async fn serve(config: Arc<Config>, pool: PgPool) -> std::io::Result<()> {
    let address = config.server.address;
    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!("InsightOps listening on http://{address}");
    // Expired sessions are deleted hourly; reads already ignore them.
    let sweeper = tokio::spawn(session_store(pool.clone()).continuously_delete_expired(tokio::time::Duration::from_secs(3600)));
    // Sign-in attempts older than two days no longer count towards any throttle window.
    let attempts_sweeper = tokio::spawn({
        let pool = pool.clone();
        async move {
            let mut every_hour = tokio::time::interval(tokio::time::Duration::from_secs(3600));
            loop {
                every_hour.tick().await;
                if let Err(err) = crate::db::logins::purge_older_than(&pool, 2).await {
                    tracing::warn!(error = %err, "purging old sign-in attempts");
                }
            }
        }
    });
    let served = axum::serve(listener, router(config, pool).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    sweeper.abort();
    attempts_sweeper.abort();
    served
}
