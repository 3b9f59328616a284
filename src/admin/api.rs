//! Server functions of the admin area: list users, change a role, read the audit log.
//! Admin only; each change is written with its audit event in one transaction.

use leptos::prelude::*;

use super::{AuditPage, UserSummary};
use crate::error::AppError;

/// Audit rows per page.
pub const AUDIT_PAGE_SIZE: i64 = 50;

#[server(endpoint = "admin_users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageUsers)?;
            let state = AppState::current()?;
            let users = crate::db::users::for_org(&state.pool, principal.org_id).await?;
            Ok(users
                .into_iter()
                .map(|u| UserSummary { is_you: u.id == principal.user_id, id: u.id, email: u.email, display_name: u.display_name, role: u.role })
                .collect())
        }
        .await,
    )
}

/// Gives a user of the admin's org a new role. Admins cannot change their own role, so an org
/// always keeps the admin who is acting.
#[server(endpoint = "admin_set_role")]
pub async fn set_user_role(user_id: String, role: String) -> Result<UserSummary, AppError> {
    use crate::admin::service::{set_role, Actor};
    use crate::auth::server::authorize;
    use crate::auth::{Capability, Role};
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageUsers)?;
            let user_id = uuid::Uuid::parse_str(user_id.trim()).map_err(|_| AppError::BadRequest(format!("{user_id:?} is not a user id")))?;
            let role = Role::parse(role.trim()).ok_or_else(|| AppError::BadRequest(format!("{role:?} is not a role; use admin, manager or board")))?;
            if user_id == principal.user_id {
                return Err(AppError::Conflict("you cannot change your own role; ask another admin".into()));
            }
            let state = AppState::current()?;
            let ip = crate::auth::server::client_ip().await;
            let actor = Actor { user_id: Some(principal.user_id), name: &principal.email, ip: Some(&ip) };
            set_role(&state.pool, principal.org_id, user_id, role, &actor).await?.ok_or_else(|| AppError::NotFound("user".into()))?;
            let user = crate::db::users::by_id(&state.pool, user_id).await?.ok_or_else(|| AppError::NotFound("user".into()))?;
            Ok(UserSummary { id: user.id, email: user.email, display_name: user.display_name, role: user.role, is_you: false })
        }
        .await,
    )
}

/// `query` is the audit page's URL query (action, actor, from, to, page).
#[server(endpoint = "admin_audit")]
pub async fn list_audit(query: String) -> Result<AuditPage, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ViewAuditLog)?;
            let filter = super::AuditFilter::from_query_string(&query)?;
            let state = AppState::current()?;
            let (entries, has_more) = crate::db::audit::for_org(&state.pool, principal.org_id, &filter, AUDIT_PAGE_SIZE).await?;
            Ok(AuditPage { entries, filter, has_more })
        }
        .await,
    )
}
