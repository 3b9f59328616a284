//! Server function of the upload page: the org's recent loads and the limits of one upload
//! (admins and managers). Uploads themselves go to `POST /api/upload/…` with the file as the body.

use leptos::prelude::*;

use super::DataPage;
use crate::error::AppError;

/// Loads the page lists.
pub const RECENT_LOADS: i64 = 20;

#[server(endpoint = "data_loads")]
pub async fn data_overview() -> Result<DataPage, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::LoadData)?;
            let state = AppState::current()?;
            let loads = crate::db::ingest::recent_loads(&state.pool, principal.org_id, RECENT_LOADS).await?;
            Ok(DataPage { loads, max_rows: state.config.ingest.max_rows, max_body_bytes: state.config.ingest.max_body_bytes })
        }
        .await,
    )
}
