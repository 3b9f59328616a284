//! Server functions of the model registry (admins): list, register a version, activate or
//! deprecate, run now. Each change is audited by the service.

use leptos::prelude::*;

use super::{ModelSummary, ModelsPage};
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn parse_id(text: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(text.trim()).map_err(|_| AppError::BadRequest(format!("{text:?} is not a model id")))
}

#[server(endpoint = "models")]
pub async fn list_models() -> Result<ModelsPage, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageModels)?;
            let state = AppState::current()?;
            let models = crate::db::models::for_org(&state.pool, principal.org_id).await?.iter().map(|m| m.summary()).collect();
            let executions = crate::db::models::executions(&state.pool, principal.org_id, 30).await?;
            Ok(ModelsPage { models, executions })
        }
        .await,
    )
}

/// A new draft version of the model `model_id` belongs to, with `config` (JSON) as its config.
#[server(endpoint = "models_register")]
pub async fn register_model_version(model_id: String, config: String) -> Result<ModelSummary, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageModels)?;
            let id = parse_id(&model_id)?;
            let state = AppState::current()?;
            super::service::register_version(&state.pool, &principal, id, &config).await
        }
        .await,
    )
}

/// `action` is activate or deprecate.
#[server(endpoint = "models_status")]
pub async fn change_model_status(model_id: String, action: String) -> Result<ModelSummary, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageModels)?;
            let id = parse_id(&model_id)?;
            let action = match action.trim() {
                "activate" => super::ModelAction::Activate,
                "deprecate" => super::ModelAction::Deprecate,
                other => return Err(AppError::BadRequest(format!("{other:?} is not activate or deprecate"))),
            };
            let state = AppState::current()?;
            super::service::change_status(&state.pool, &principal, id, action).await
        }
        .await,
    )
}

/// Queues a run of the model (one per model at a time); returns the job and the model's name.
/// The page follows the job until it ends.
#[server(endpoint = "models_run")]
pub async fn run_model(model_id: String) -> Result<(crate::domain::jobs::JobSummary, String), AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageModels)?;
            let id = parse_id(&model_id)?;
            let state = AppState::current()?;
            crate::jobs::service::request_model_run(&state.pool, &principal, id, &state.config).await
        }
        .await,
    )
}
