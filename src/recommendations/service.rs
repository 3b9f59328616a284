//! The review queue: list what a viewer may see, and apply admins' decisions with their history.
//! A decision is all or nothing across the selected items, and loses to any change it did not see.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use super::{Decision, Recommendation, RecommendationFilter, RecommendationList};
use crate::admin::AuditAction;
use crate::auth::server::{Principal, Scope};
use crate::auth::{Capability, MetricAccess};
use crate::db;
use crate::db::recommendations::DecideOutcome;
use crate::db::metrics::MetricKind;
use crate::error::AppError;

/// Most items one page lists.
const PAGE_LIMIT: i64 = 200;

/// Items on restricted metrics are left out; on anonymised ones only org-wide items are shown.
fn visible(access: &HashMap<String, MetricAccess>, item: &Recommendation) -> bool {
    match access.get(&item.evidence.metric_key).copied().unwrap_or(MetricAccess::Full) {
        MetricAccess::Full => true,
        MetricAccess::TotalsOnly => item.evidence.dimensions.is_empty(),
        MetricAccess::Hidden => false,
    }
}

async fn access_map(pool: &PgPool, scope: &Scope) -> Result<HashMap<String, MetricAccess>, AppError> {
    let mut out = HashMap::new();
    for kind in [MetricKind::Kpi, MetricKind::Signal] {
        for m in db::metrics::for_org(pool, scope.org_id, kind).await? {
            out.insert(m.key.clone(), scope.access(&m));
        }
    }
    Ok(out)
}

pub async fn list(pool: &PgPool, scope: &Scope, filter: &RecommendationFilter) -> Result<RecommendationList, AppError> {
    let access = access_map(pool, scope).await?;
    let one = filter.id.map(|id| vec![id]);
    let items = db::recommendations::list(pool, scope.org_id, filter, one.as_deref(), PAGE_LIMIT).await?;
    let items: Vec<Recommendation> = items.into_iter().filter(|i| visible(&access, i)).collect();
    let mut metrics = Vec::new();
    for key in db::recommendations::metrics(pool, scope.org_id).await? {
        if access.get(&key).is_some_and(|a| *a != MetricAccess::Hidden) {
            metrics.push((key.clone(), key.replace('_', " ")));
        }
    }
    Ok(RecommendationList {
        items,
        metrics,
        can_decide: scope.role.can(Capability::DecideRecommendations),
        open_count: db::recommendations::open_count(pool, scope.org_id).await?,
    })
}

/// Applies `decision` to every `(id, version seen)`; returns the items as they now are.
pub async fn decide(pool: &PgPool, p: &Principal, items: &[(Uuid, i32)], decision: Decision, note: &str) -> Result<Vec<Recommendation>, AppError> {
    if items.is_empty() {
        return Err(AppError::BadRequest("select at least one recommendation".into()));
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
