//! The review queue: list what a viewer may see, and apply admins' decisions with their history.
//! A decision is all or nothing across the selected items, and loses to any change it did not see.

use sqlx::PgPool;
use uuid::Uuid;

use super::{Decision, Recommendation, RecommendationFilter, RecommendationList, MAX_BULK_ITEMS};
use crate::admin::AuditAction;
use crate::auth::server::{Principal, Scope};
use crate::auth::Capability;
use crate::db;
use crate::db::recommendations::DecideOutcome;
use crate::db::recommendations::VisibleMetrics;
use crate::error::AppError;

/// Most items one page lists.
const PAGE_LIMIT: i64 = 200;

/// What the viewer may see, from the one catalogue-backed access check: items on a metric the
/// role may not see, or naming a slice of a metric it sees as totals only, are filtered in SQL.
pub async fn visible_metrics(pool: &PgPool, scope: &Scope) -> Result<VisibleMetrics, AppError> {
    Ok(VisibleMetrics::from(&scope.access_map(pool).await?))
}

pub async fn list(pool: &PgPool, scope: &Scope, filter: &RecommendationFilter) -> Result<RecommendationList, AppError> {
    let visible = visible_metrics(pool, scope).await?;
    let one = filter.id.map(|id| vec![id]);
    let items = db::recommendations::list_visible(pool, scope.org_id, filter, one.as_deref(), PAGE_LIMIT, Some(&visible)).await?;
    let metrics = db::recommendations::metrics(pool, scope.org_id, Some(&visible)).await?.into_iter().map(|key| (key.clone(), key.replace('_', " "))).collect();
    Ok(RecommendationList {
        items,
        metrics,
        can_decide: scope.role.can(Capability::DecideRecommendations),
        open_count: db::recommendations::open_count(pool, scope.org_id, Some(&visible)).await?,
    })
}

/// Applies `decision` to every `(id, version seen)`; returns the items as they now are.
pub async fn decide(pool: &PgPool, p: &Principal, items: &[(Uuid, i32)], decision: Decision, note: &str) -> Result<Vec<Recommendation>, AppError> {
    if items.is_empty() {
        return Err(AppError::BadRequest("select at least one recommendation".into()));
    }
    if items.len() > MAX_BULK_ITEMS {
        return Err(AppError::BadRequest(format!("one decision takes at most {MAX_BULK_ITEMS} recommendations; {} were selected", items.len())));
    }
    decision.check_note(note)?;
    let status = decision.resulting_status();
    let (kind, action) = match decision {
        Decision::Accept => ("accepted", AuditAction::RecommendationAccepted),
        Decision::Dismiss => ("dismissed", AuditAction::RecommendationDismissed),
        Decision::Reopen => ("reopened", AuditAction::RecommendationReopened),
    };
    let mut tx = pool.begin().await?;
    for (id, version) in items {
        match db::recommendations::set_status(&mut tx, p.org_id, *id, *version, status).await? {
            DecideOutcome::Applied { title } => {
                db::recommendations::add_event(&mut tx, p.org_id, *id, kind, Some(p.user_id), &p.email, note.trim()).await?;
                let detail = serde_json::json!({ "recommendation_id": id, "note": note.trim() });
                db::audit::record(&mut tx, p.audit(action, &title, detail)).await?;
            }
            DecideOutcome::Missing => return Err(AppError::NotFound("recommendation".into())),
            DecideOutcome::Stale { status } => {
                return Err(AppError::Conflict(format!(
                    "a recommendation was changed by someone else (it is now {}); nothing was saved — reload and decide again",
                    status.as_str()
                )))
            }
        }
    }
    tx.commit().await?;
    let ids: Vec<Uuid> = items.iter().map(|i| i.0).collect();
    let all = RecommendationFilter { status: None, ..RecommendationFilter::default() };
    Ok(db::recommendations::list(pool, p.org_id, &all, Some(&ids), PAGE_LIMIT).await?)
}
