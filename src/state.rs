//! Shared server state handed to axum and to every server function through context.
//! One pool for the process; never a global, never a connection per call.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

use crate::config::Config;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    /// Dashboard and board reads: a replica when configured, else `pool`.
    pub read_pool: crate::db::ReadPool,
    pub config: Arc<Config>,
    pub exec_cache: crate::exec::cache::ExecCache,
    /// Bounds the password checks running at once (`auth.max_concurrent_password_checks`).
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// The exports each user has running (`exports_per_user`).
    pub export_slots: crate::reports::export::ExportSlots,
    /// Turns readiness to 503 once a stop has begun.
    pub lifecycle: crate::ops::lifecycle::Lifecycle,
}

impl AppState {
    /// The state of the current server-function call.
    pub fn current() -> Result<AppState, crate::error::AppError> {
        leptos::prelude::use_context::<AppState>()
            .ok_or_else(|| crate::error::AppError::Internal("server state missing".into()))
    }
}
