//! Assembles the axum router (pages, server functions, health, static files) and serves it.
//! Kept apart from the CLI so integration tests can build the same router.

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
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

pub fn router(config: Arc<Config>, pool: PgPool) -> Router {
    let state = AppState { leptos_options: leptos_options(&config), pool, config, exec_cache: Default::default() };
    let routes = generate_route_list(App);
    Router::new()
        .route("/api/health", get(crate::health::health))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
}

pub async fn serve(config: Arc<Config>, pool: PgPool) -> std::io::Result<()> {
    let address = config.server.address;
    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!("InsightOps listening on http://{address}");
    axum::serve(listener, router(config, pool).into_make_service())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
