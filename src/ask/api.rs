//! Server functions of `/ask`: ask a question, the asker's history, "was this useful".

use leptos::prelude::*;

use super::{Answer, HistoryItem};
use crate::error::AppError;

#[server(endpoint = "ask")]
pub async fn ask_question(question: String) -> Result<Answer, AppError> {
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::AskQuestions)?;
            let state = AppState::current()?;
            super::service::ask(&state.pool, &state.config, &Scope::new(&principal, &state.config.access), principal.user_id, &question).await
        }
        .await,
    )
}

#[server(endpoint = "ask_history")]
pub async fn ask_history() -> Result<Vec<HistoryItem>, AppError> {
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::AskQuestions)?;
            let state = AppState::current()?;
            super::service::history(&state.pool, &Scope::new(&principal, &state.config.access), principal.user_id).await
        }
        .await,
    )
}

#[server(endpoint = "ask_feedback")]
pub async fn ask_feedback(insight_id: String, useful: bool) -> Result<(), AppError> {
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::AskQuestions)?;
            let id = uuid::Uuid::parse_str(insight_id.trim()).map_err(|_| AppError::BadRequest(format!("`insight_id` = {insight_id:?} is not an id")))?;
            let state = AppState::current()?;
            super::service::feedback(&state.pool, &Scope::new(&principal, &state.config.access), principal.user_id, id, useful).await
        }
        .await,
    )
}
