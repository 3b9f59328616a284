//! Server functions of `/admin/tokens`: list, create (the token is in this one response only) and
//! revoke. Admin only; changes are audited.

use leptos::prelude::*;

use super::{ApiTokenSummary, CreatedToken};
use crate::error::AppError;

#[server(endpoint = "admin_tokens")]
pub async fn list_tokens() -> Result<Vec<ApiTokenSummary>, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageTokens)?;
            let state = AppState::current()?;
            super::service::list(&state.pool, &principal).await
        }
        .await,
    )
}

/// `scopes` are the ticked boxes (`ingest`, `read`).
#[server(endpoint = "admin_token_create")]
pub async fn create_token(name: String, #[server(default)] scopes: Vec<String>) -> Result<CreatedToken, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageTokens)?;
            let (name, scopes) = super::service::validate(&name, &scopes)?;
            let state = AppState::current()?;
            super::service::create(&state.pool, &principal, &name, &scopes).await
        }
        .await,
    )
}

#[server(endpoint = "admin_token_revoke")]
pub async fn revoke_token(token_id: String) -> Result<ApiTokenSummary, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageTokens)?;
            let id = uuid::Uuid::parse_str(token_id.trim()).map_err(|_| AppError::BadRequest(format!("{token_id:?} is not a token id")))?;
            let state = AppState::current()?;
            super::service::revoke(&state.pool, &principal, id).await
        }
        .await,
    )
}
