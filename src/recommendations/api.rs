//! Server functions of the review queue: list (every role, read-only for non-admins) and decide (admins).
//! Thin: authorise, parse, call the service.

use leptos::prelude::*;

use super::{Recommendation, RecommendationList};
use crate::error::AppError;

/// `query` is the page's URL query (status, category, severity, metric).
#[server(endpoint = "recommendations")]
pub async fn list_recommendations(query: String) -> Result<RecommendationList, AppError> {
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ViewRecommendations)?;
            let filter = super::RecommendationFilter::from_query_string(&query)?;
            let state = AppState::current()?;
            super::service::list(&state.pool, &Scope::new(&principal, &state.config.access), &filter).await
        }
        .await,
    )
}

/// `items` is `id:version,id:version…`: the versions the admin saw, so a change made meanwhile by
/// someone else is a 409 instead of being overwritten. `decision` is accept, dismiss or reopen.
#[server(endpoint = "recommendations_decide")]
pub async fn decide_recommendations(items: String, decision: String, note: String) -> Result<Vec<Recommendation>, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::DecideRecommendations)?;
            let decision = super::Decision::parse(decision.trim()).ok_or_else(|| AppError::BadRequest(format!("{decision:?} is not accept, dismiss or reopen")))?;
            let items = parse_items(&items)?;
            let state = AppState::current()?;
            super::service::decide(&state.pool, &principal, &items, decision, &note).await
        }
        .await,
    )
}

pub fn format_items(items: &[(uuid::Uuid, i32)]) -> String {
    items.iter().map(|(id, v)| format!("{id}:{v}")).collect::<Vec<_>>().join(",")
}

/// Parses at most one item past the bulk limit, so an oversized list costs no more than that and
/// the service still sees (and refuses) that it was too long.
pub fn parse_items(text: &str) -> Result<Vec<(uuid::Uuid, i32)>, AppError> {
    text.split(',')
        .filter(|t| !t.trim().is_empty())
        .take(super::MAX_BULK_ITEMS + 1)
        .map(|t| {
            let bad = || AppError::BadRequest(format!("{t:?} is not id:version"));
            let (id, version) = t.trim().split_once(':').ok_or_else(bad)?;
            Ok((uuid::Uuid::parse_str(id).map_err(|_| bad())?, version.parse().map_err(|_| bad())?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_lists_round_trip_and_bad_ones_are_named() {
        let items = vec![(uuid::Uuid::from_u128(7), 3), (uuid::Uuid::from_u128(9), 1)];
        assert_eq!(parse_items(&format_items(&items)), Ok(items));
        assert!(parse_items("nope").unwrap_err().to_string().contains("nope"));
        assert_eq!(parse_items(""), Ok(vec![]));
    }
}
