//! Server functions of the overview: check access, call the service, return typed data.
//! (Sign-in arrives with issue 5; until then the configured default org is shown.)

use leptos::prelude::*;

use super::ExecOverview;
use crate::error::AppError;

#[server(endpoint = "exec_overview")]
pub async fn get_exec_overview(period_days: u32) -> Result<ExecOverview, AppError> {
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let period = super::PeriodPreset::from_days(period_days)?;
            let state = AppState::current()?;
            super::service::exec_overview(&state.pool, &state.config.app.default_org, period).await
        }
        .await,
    )
}
