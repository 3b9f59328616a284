//! Server function of the manager dashboard: parse the URL's query, call the service, return data.

use leptos::prelude::*;

use super::DashboardData;
use crate::error::AppError;

/// `query` is the page's URL query string; the server parses and validates it itself, so a
/// hand-edited URL gets the same clear message as a bad form.
#[server(endpoint = "dashboard")]
pub async fn get_dashboard(query: String) -> Result<DashboardData, AppError> {
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ViewDashboards)?;
            let parsed = super::DashboardQuery::from_query_string(&query)?;
            let state = AppState::current()?;
            super::service::dashboard(&state.read_pool.pool, &Scope::new(&principal, &state.config.access), parsed, &state.config.analytics).await
        }
        .await,
    )
}
