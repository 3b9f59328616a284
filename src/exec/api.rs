//! Server function of the board page: check the query, call the service, return the summary.

use leptos::prelude::*;

use super::ExecSummary;
use crate::error::AppError;

#[server(endpoint = "exec_summary")]
pub async fn get_exec_summary(grain: String, period: String) -> Result<ExecSummary, AppError> {
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ViewBoardSummary)?;
            let query = super::ExecQuery::parse(Some(&grain), Some(&period))?;
            let state = AppState::current()?;
            let scope = Scope::new(&principal, &state.config.access);
            super::service::cached_exec_summary(&state.read_pool.pool, &state.exec_cache, &scope, &query).await
        }
        .await,
    )
}
