//! Server function of the board page: check the query, call the service, return the summary.
//! (Sign-in arrives with issue 5; until then the configured default org is shown.)

use leptos::prelude::*;

use super::ExecSummary;
use crate::error::AppError;

#[server(endpoint = "exec_summary")]
pub async fn get_exec_summary(grain: String, period: String) -> Result<ExecSummary, AppError> {
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let query = super::ExecQuery::parse(Some(&grain), Some(&period))?;
            let state = AppState::current()?;
            let org = &state.config.app.default_org;
            super::service::cached_exec_summary(&state.pool, &state.exec_cache, org, &query, &state.config.analytics).await
        }
        .await,
    )
}
