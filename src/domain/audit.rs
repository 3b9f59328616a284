//! The audit log's vocabulary: every kind of audited event, one row as the admin page shows it,
//! and the page's filters as read from its URL.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Every kind of audited event; stored as TEXT with a CHECK constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    Login,
    LoginFailed,
    LoginThrottled,
    Logout,
    UserCreated,
    RoleChanged,
    PasswordReset,
    RecommendationAccepted,
    RecommendationDismissed,
    RecommendationReopened,
    ModelRegistered,
    ModelActivated,
    ModelDeprecated,
    ModelExecuted,
    JobRetried,
    JobCancelled,
    TokenCreated,
    TokenRevoked,
    CollectionCreated,
    CollectionPaused,
    CollectionResumed,
    CollectionRerun,
    CollectionWeekRetried,
    ReportTemplateCreated,
    ReportTemplateUpdated,
    ReportTemplateDeleted,
    ReportRequested,
    DataExported,
    DashboardShared,
    DashboardUnshared,
    DashboardPublished,
    DashboardUnpublished,
    DashboardDeleted,
}

text_enum!(AuditAction {
    AuditAction::Login => "login",
    AuditAction::LoginFailed => "login_failed",
    AuditAction::LoginThrottled => "login_throttled",
    AuditAction::Logout => "logout",
    AuditAction::UserCreated => "user_created",
    AuditAction::RoleChanged => "role_changed",
    AuditAction::PasswordReset => "password_reset",
    AuditAction::RecommendationAccepted => "recommendation_accepted",
    AuditAction::RecommendationDismissed => "recommendation_dismissed",
    AuditAction::RecommendationReopened => "recommendation_reopened",
    AuditAction::ModelRegistered => "model_registered",
    AuditAction::ModelActivated => "model_activated",
    AuditAction::ModelDeprecated => "model_deprecated",
    AuditAction::ModelExecuted => "model_executed",
    AuditAction::JobRetried => "job_retried",
    AuditAction::JobCancelled => "job_cancelled",
    AuditAction::TokenCreated => "token_created",
    AuditAction::TokenRevoked => "token_revoked",
    AuditAction::CollectionCreated => "collection_created",
    AuditAction::CollectionPaused => "collection_paused",
    AuditAction::CollectionResumed => "collection_resumed",
    AuditAction::CollectionRerun => "collection_rerun",
    AuditAction::CollectionWeekRetried => "collection_week_retried",
    AuditAction::ReportTemplateCreated => "report_template_created",
    AuditAction::ReportTemplateUpdated => "report_template_updated",
    AuditAction::ReportTemplateDeleted => "report_template_deleted",
    AuditAction::ReportRequested => "report_requested",
    AuditAction::DataExported => "data_exported",
    AuditAction::DashboardShared => "dashboard_shared",
    AuditAction::DashboardUnshared => "dashboard_unshared",
    AuditAction::DashboardPublished => "dashboard_published",
    AuditAction::DashboardUnpublished => "dashboard_unpublished",
    AuditAction::DashboardDeleted => "dashboard_deleted",
});

impl AuditAction {
    pub const ALL: [AuditAction; 33] = [
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::LoginThrottled,
        AuditAction::Logout,
        AuditAction::UserCreated,
        AuditAction::RoleChanged,
        AuditAction::PasswordReset,
        AuditAction::RecommendationAccepted,
        AuditAction::RecommendationDismissed,
        AuditAction::RecommendationReopened,
        AuditAction::ModelRegistered,
        AuditAction::ModelActivated,
        AuditAction::ModelDeprecated,
        AuditAction::ModelExecuted,
        AuditAction::JobRetried,
        AuditAction::JobCancelled,
        AuditAction::TokenCreated,
        AuditAction::TokenRevoked,
        AuditAction::CollectionCreated,
        AuditAction::CollectionPaused,
        AuditAction::CollectionResumed,
        AuditAction::CollectionRerun,
        AuditAction::CollectionWeekRetried,
        AuditAction::ReportTemplateCreated,
        AuditAction::ReportTemplateUpdated,
        AuditAction::ReportTemplateDeleted,
        AuditAction::ReportRequested,
        AuditAction::DataExported,
        AuditAction::DashboardShared,
        AuditAction::DashboardUnshared,
        AuditAction::DashboardPublished,
        AuditAction::DashboardUnpublished,
        AuditAction::DashboardDeleted,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AuditAction::Login => "Signed in",
            AuditAction::LoginFailed => "Failed sign-in",
            AuditAction::LoginThrottled => "Sign-in refused (throttled)",
            AuditAction::Logout => "Signed out",
            AuditAction::UserCreated => "User created",
            AuditAction::RoleChanged => "Role changed",
            AuditAction::PasswordReset => "Password reset",
            AuditAction::RecommendationAccepted => "Recommendation accepted",
            AuditAction::RecommendationDismissed => "Recommendation dismissed",
            AuditAction::RecommendationReopened => "Recommendation reopened",
            AuditAction::ModelRegistered => "Model version registered",
            AuditAction::ModelActivated => "Model activated",
            AuditAction::ModelDeprecated => "Model deprecated",
            AuditAction::ModelExecuted => "Model run",
            AuditAction::JobRetried => "Job retried",
            AuditAction::JobCancelled => "Job cancelled",
            AuditAction::TokenCreated => "API token created",
            AuditAction::TokenRevoked => "API token revoked",
            AuditAction::CollectionCreated => "Collection created",
            AuditAction::CollectionPaused => "Collection paused",
            AuditAction::CollectionResumed => "Collection resumed",
            AuditAction::CollectionRerun => "Collection re-run",
            AuditAction::CollectionWeekRetried => "Collection week retried",
            AuditAction::ReportTemplateCreated => "Report template created",
            AuditAction::ReportTemplateUpdated => "Report template changed",
            AuditAction::ReportTemplateDeleted => "Report template deleted",
            AuditAction::ReportRequested => "Report generation requested",
            AuditAction::DataExported => "Data exported",
            AuditAction::DashboardShared => "Dashboard shared",
            AuditAction::DashboardUnshared => "Dashboard share removed",
            AuditAction::DashboardPublished => "Dashboard public link created",
            AuditAction::DashboardUnpublished => "Dashboard public link revoked",
            AuditAction::DashboardDeleted => "Dashboard deleted",
        }
    }
}

/// One row of the audit page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: Option<AuditAction>,
    pub action_token: String,
    pub target: String,
    pub detail: String,
    pub ip: Option<String>,
}

/// The audit page's filters, from its URL query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub action: Option<AuditAction>,
    pub actor: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub page: u32,
}

impl AuditFilter {
    pub fn from_query_string(query: &str) -> Result<AuditFilter, AppError> {
        let mut filter = AuditFilter::default();
        let date = |key: &str, v: &str| {
            super::date::parse_day(v).map_err(|e| AppError::BadRequest(format!("`{key}` = {v:?} {e}")))
        };
        for (key, value) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_ref() {
                "action" => {
                    filter.action = Some(AuditAction::parse(value).ok_or_else(|| AppError::BadRequest(format!("unknown audit action {value:?}")))?)
                }
                "actor" => filter.actor = Some(value.chars().take(200).collect()),
                "from" => filter.from = Some(date("from", value)?),
                "to" => filter.to = Some(date("to", value)?),
                "page" => filter.page = value.parse().map_err(|_| AppError::BadRequest(format!("`page` = {value:?} is not a page number")))?,
                other => return Err(AppError::BadRequest(format!("unknown parameter `{other}`"))),
            }
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to) {
            if to < from {
                return Err(AppError::BadRequest(format!("`to` ({to}) is before `from` ({from})")));
            }
        }
        Ok(filter)
    }

    pub fn to_query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        if let Some(a) = self.action {
            out.append_pair("action", a.as_str());
        }
        if let Some(a) = &self.actor {
            out.append_pair("actor", a);
        }
        if let Some(d) = self.from {
            out.append_pair("from", &d.to_string());
        }
        if let Some(d) = self.to {
            out.append_pair("to", &d.to_string());
        }
        if self.page > 0 {
            out.append_pair("page", &self.page.to_string());
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_actions_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn audit_filter_round_trips_and_names_bad_values() {
        let filter = AuditFilter::from_query_string("action=role_changed&actor=ann&from=2026-11-01&to=2026-11-23&page=2").expect("valid");
        assert_eq!(filter.action, Some(AuditAction::RoleChanged));
        assert_eq!(filter.page, 2);
        assert_eq!(AuditFilter::from_query_string(&filter.to_query_string()), Ok(filter));
        let err = AuditFilter::from_query_string("action=drop_tables").unwrap_err();
        assert!(err.to_string().contains("drop_tables"));
        let err = AuditFilter::from_query_string("from=2026-11-05&to=2026-11-01").unwrap_err();
        assert_eq!(err.status_code(), 400);
        assert!(AuditFilter::from_query_string("sort=x").is_err());
    }
}
