//! Server functions of the jobs page: the queue and schedules, one job's state (the models page
//! polls it after "Run now"), and retry or cancel. Admin only; changes are audited.

use leptos::prelude::*;

use super::{JobSummary, JobsPage};
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn parse_id(text: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(text.trim()).map_err(|_| AppError::BadRequest(format!("{text:?} is not a job id")))
}

/// `query` is the page's URL query (`status=`).
#[server(endpoint = "admin_jobs")]
pub async fn list_jobs(query: String) -> Result<JobsPage, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageJobs)?;
            let status = super::status_filter(&query)?;
            let state = AppState::current()?;
            super::service::page(&state.pool, &principal, status, &state.config).await
        }
        .await,
    )
}

#[server(endpoint = "admin_job")]
pub async fn job_status(job_id: String) -> Result<JobSummary, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageJobs)?;
            let id = parse_id(&job_id)?;
            let state = AppState::current()?;
            super::service::job(&state.pool, &principal, id).await
        }
        .await,
    )
}

/// `action` is `retry` or `cancel`.
#[server(endpoint = "admin_job_change")]
pub async fn change_job(job_id: String, action: String) -> Result<JobSummary, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::db::jobs::JobChange;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageJobs)?;
            let id = parse_id(&job_id)?;
            let change = match action.trim() {
                "retry" => JobChange::Retry,
                "cancel" => JobChange::Cancel,
                other => return Err(AppError::BadRequest(format!("{other:?} is not retry or cancel"))),
            };
            let state = AppState::current()?;
            super::service::change(&state.pool, &principal, id, change).await
        }
        .await,
    )
}
