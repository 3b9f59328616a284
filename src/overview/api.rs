//! Server functions of the overview: check access, call the service, return typed data.

use leptos::prelude::*;

use super::ExecOverview;
use crate::error::AppError;

#[server(endpoint = "exec_overview")]
pub async fn get_exec_overview(period_days: u32) -> Result<ExecOverview, AppError> {
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ViewOverview)?;
            let period = super::PeriodPreset::from_days(period_days)?;
            let state = AppState::current()?;
            super::service::exec_overview(&state.read_pool.pool, &Scope::new(&principal, &state.config.access), period).await
        }
        .await,
    )
}
