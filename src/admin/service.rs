//! Account changes shared by the admin page and the `insightops user` command: one place decides
//! how a role changes, so both keep the org's last admin and write the audit row in the change's
//! transaction.

use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::db::audit::NewAuditEvent;
use crate::domain::access::Role;
use crate::domain::audit::AuditAction;
use crate::error::AppError;

/// Who asks for a role change, for the audit row.
pub struct Actor<'a> {
    pub user_id: Option<Uuid>,
    /// The admin's email, or `cli` for operators.
    pub name: &'a str,
    pub ip: Option<&'a str>,
}

/// A role change that was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    pub email: String,
    pub from: Role,
    pub to: Role,
}

/// Gives `user_id` (of `org_id`) a new role. The org row is locked first, so concurrent changes
/// run one after the other and the check "an admin remains" sees the other's result: an org is
/// never left without an admin. `None` when the user is not in the org.
pub async fn set_role(pool: &PgPool, org_id: Uuid, user_id: Uuid, role: Role, actor: &Actor<'_>) -> Result<Option<RoleChange>, AppError> {
    let mut tx = pool.begin().await?;
    if !db::users::lock_org(&mut tx, org_id).await? {
        return Ok(None);
    }
    let Some((old, email)) = db::users::set_role(&mut tx, org_id, user_id, role).await? else { return Ok(None) };
    if old == Role::Admin && role != Role::Admin && db::users::admin_count(&mut tx, org_id).await? == 0 {
        return Err(AppError::Conflict(format!("{email} is the org's last admin; make someone else admin first")));
    }
    let detail = serde_json::json!({ "from": old.as_str(), "to": role.as_str() });
    let event = NewAuditEvent { org_id: Some(org_id), actor_user_id: actor.user_id, actor: actor.name, action: AuditAction::RoleChanged, target: &email, detail, ip: actor.ip };
    db::audit::record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Some(RoleChange { email, from: old, to: role }))
}
