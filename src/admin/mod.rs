//! Admin area: the org's users with their roles, and the audit log with filters.
//! Types here cross the wire; queries are in `db::users` and `db::audit`.

pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

use serde::{Deserialize, Serialize};

pub use crate::domain::audit::{AuditAction, AuditEntry, AuditFilter};
use crate::auth::Role;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub filter: AuditFilter,
    pub has_more: bool,
}

/// One row of the users page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: uuid::Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub is_you: bool,
}
