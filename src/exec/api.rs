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

/// The narrative of a period: `audience` is `board` (the board page) or `manager` (the
/// dashboard); `current` asks for today's text when the data changed since it was stored.
#[server(endpoint = "narrative")]
pub async fn get_narrative(audience: String, grain: String, period: String, current: bool) -> Result<super::NarrativeView, AppError> {
    use crate::analytics::story::Audience;
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ViewBoardSummary)?;
            let audience = Audience::parse(&audience).ok_or_else(|| AppError::BadRequest(format!("`audience` = {audience:?} is not one of board, manager")))?;
            if audience == Audience::Manager {
                authorize(Capability::ViewDashboards)?;
            }
            let query = super::ExecQuery::parse(Some(&grain), Some(&period))?;
            let state = AppState::current()?;
            let scope = Scope::new(&principal, &state.config.access);
            super::narrative::view(&state.pool, &state.config, Some(&state.exec_cache), &scope, (audience, &query), current).await
        }
        .await,
    )
}
