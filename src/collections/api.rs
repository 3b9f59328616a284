//! Server functions of `/data/collections`: list, one collection with its weeks, create, and
//! pause / resume / re-run / retry a week. Admin only; changes are audited.

use leptos::prelude::*;

use super::{CollectionDetail, CollectionSummary, NewCollectionForm};
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn parse_id(text: &str, what: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(text.trim()).map_err(|_| AppError::BadRequest(format!("{text:?} is not a {what} id")))
}

#[server(endpoint = "collections")]
pub async fn list_collections() -> Result<Vec<CollectionSummary>, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageCollections)?;
            let state = AppState::current()?;
            super::service::list(&state.pool, &principal).await
        }
        .await,
    )
}

#[server(endpoint = "collection")]
pub async fn get_collection(collection_id: String) -> Result<CollectionDetail, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageCollections)?;
            let id = parse_id(&collection_id, "collection")?;
            let state = AppState::current()?;
            super::service::detail(&state.pool, principal.org_id, id).await
        }
        .await,
    )
}

/// The create form's fields, flat as the browser posts them; `weeks` is read here so a typo gets
/// a clear message.
#[server(endpoint = "collection_create")]
pub async fn create_collection(
    name: String,
    collection_type: String,
    target: String,
    source_kind: String,
    source: String,
    start_date: String,
    #[server(default)] weeks: String,
) -> Result<CollectionDetail, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageCollections)?;
            let weeks = match weeks.trim() {
                "" => 0,
                text => text.parse().map_err(|_| AppError::BadRequest(format!("weeks {text:?} is not a whole number")))?,
            };
            let form = NewCollectionForm { name, collection_type, target, source_kind, source, start_date, weeks };
            let state = AppState::current()?;
            let valid = super::service::validate(&form, &state.config.ingest, super::service::today())?;
            super::service::create(&state.pool, &principal, &valid, &state.config).await
        }
        .await,
    )
}

/// `action`: `pause`, `resume`, `rerun` or `retry_week` (with `week_id`).
#[server(endpoint = "collection_change")]
pub async fn change_collection(collection_id: String, action: String, #[server(default)] week_id: String) -> Result<CollectionDetail, AppError> {
    use super::service::CollectionChange;
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageCollections)?;
            let id = parse_id(&collection_id, "collection")?;
            let change = match action.as_str() {
                "pause" => CollectionChange::Pause,
                "resume" => CollectionChange::Resume,
                "rerun" => CollectionChange::Rerun,
                "retry_week" => CollectionChange::RetryWeek(parse_id(&week_id, "week")?),
                other => return Err(AppError::BadRequest(format!("{other:?} is not pause, resume, rerun or retry_week"))),
            };
            let state = AppState::current()?;
            super::service::change(&state.pool, &principal, id, change, &state.config).await
        }
        .await,
    )
}
