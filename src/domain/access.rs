//! Who may do what: roles, the capability matrix, metric visibility levels and the access policy
//! that maps them. Pure, shared by the server (authorisation) and the browser (navigation).

use serde::{Deserialize, Serialize};


/// A user's role in their org; stored as TEXT with a CHECK constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Board,
}

text_enum!(Role { Role::Admin => "admin", Role::Manager => "manager", Role::Board => "board" });

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Board];

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Manager => "Manager",
            Role::Board => "Board member",
        }
    }

    /// The one capability matrix: every server function asks it through the authorisation helper.
    pub fn can(self, capability: Capability) -> bool {
        use Capability::*;
        match capability {
            ViewOverview | ViewBoardSummary | ViewDashboards | ViewRecommendations | ViewReports | ExportData | AskQuestions => true,
            ManageUsers | ViewAuditLog | DecideRecommendations | ManageModels | ManageJobs | ManageTokens | ManageCollections => self == Role::Admin,
            LoadData | ManageReports | BuildDashboards => self != Role::Board,
        }
    }
}

/// What a server function needs; pages and navigation ask the same question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    ViewOverview,
    ViewBoardSummary,
    /// Board members get dashboards read-only: viewing is all dashboards offer them.
    ViewDashboards,
    ManageUsers,
    ViewAuditLog,
    /// Everyone sees the recommendations their role's metrics allow, read-only.
    ViewRecommendations,
    /// Accept, dismiss or reopen.
    DecideRecommendations,
    /// Register versions, activate, deprecate, run.
    ManageModels,
    /// See the job queue and schedules; retry or cancel a job.
    ManageJobs,
    /// Create and revoke the org's API tokens.
    ManageTokens,
    /// Create, pause, resume and retry backfill and weekly collections (they read server paths and URLs).
    ManageCollections,
    /// Upload data files on `/data` and see the load history (admins and managers).
    LoadData,
    /// See `/reports` and download reports: board members see the PDF board packs only.
    ViewReports,
    /// Create, edit and generate report templates: managers their own, admins every one in the org.
    ManageReports,
    /// Download CSV, JSON and PDF exports, within the visibility rules and the export limits.
    ExportData,
    /// Create saved dashboards and edit those one owns or was given edit on (admins: every one in
    /// the org). Board members open the ones shared with them, read-only.
    BuildDashboards,
    /// Ask questions on `/ask` (answers keep to what the role may see) and keep one's own history.
    AskQuestions,
}

/// The seeds' VISIBILITY levels, set per metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Visibility {
    #[serde(rename = "PUBLIC")]
    Public,
    #[serde(rename = "INTERNAL")]
    Internal,
    #[serde(rename = "RESTRICTED")]
    Restricted,
    #[serde(rename = "ANONYMISED")]
    Anonymised,
}

text_enum!(Visibility {
    Visibility::Public => "PUBLIC",
    Visibility::Internal => "INTERNAL",
    Visibility::Restricted => "RESTRICTED",
    Visibility::Anonymised => "ANONYMISED",
});

/// How much of one metric a role may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetricAccess {
    Hidden,
    /// Org-wide totals only: no breakdown, filter or drill that could single out a slice.
    TotalsOnly,
    Full,
}

/// `[access]` in Leptos.toml: which roles see each visibility level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessPolicy {
    pub public_roles: Vec<Role>,
    pub internal_roles: Vec<Role>,
    pub restricted_roles: Vec<Role>,
    pub anonymised_roles: Vec<Role>,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        AccessPolicy {
            public_roles: Role::ALL.to_vec(),
            internal_roles: Role::ALL.to_vec(),
            restricted_roles: vec![Role::Admin, Role::Manager],
            anonymised_roles: Role::ALL.to_vec(),
        }
    }
}

impl AccessPolicy {
    /// RESTRICTED roles see everything of a metric; ANONYMISED roles see an anonymised metric
    /// as org-wide totals; every other level is all or nothing.
    pub fn metric_access(&self, role: Role, visibility: Visibility) -> MetricAccess {
        let full = |roles: &[Role]| if roles.contains(&role) { MetricAccess::Full } else { MetricAccess::Hidden };
        match visibility {
            Visibility::Public => full(&self.public_roles),
            Visibility::Internal => full(&self.internal_roles),
            Visibility::Restricted => full(&self.restricted_roles),
            Visibility::Anonymised if self.restricted_roles.contains(&role) => MetricAccess::Full,
            Visibility::Anonymised if self.anonymised_roles.contains(&role) => MetricAccess::TotalsOnly,
            Visibility::Anonymised => MetricAccess::Hidden,
        }
    }

    /// Admins must always be able to see everything they administer.
    pub fn validate(&self) -> Result<(), String> {
        for (key, roles) in [
            ("public_roles", &self.public_roles),
            ("internal_roles", &self.internal_roles),
            ("restricted_roles", &self.restricted_roles),
        ] {
            if !roles.contains(&Role::Admin) {
                return Err(format!("[access] {key} must include \"admin\": admins review every metric"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_only_admins_administer() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert!(role.can(Capability::ViewBoardSummary));
            assert!(role.can(Capability::ViewDashboards));
            assert_eq!(role.can(Capability::ManageUsers), role == Role::Admin);
            assert_eq!(role.can(Capability::ViewAuditLog), role == Role::Admin);
            assert!(role.can(Capability::ViewRecommendations));
            assert_eq!(role.can(Capability::DecideRecommendations), role == Role::Admin);
            assert_eq!(role.can(Capability::ManageModels), role == Role::Admin);
            assert_eq!(role.can(Capability::ManageJobs), role == Role::Admin);
            assert_eq!(role.can(Capability::ManageTokens), role == Role::Admin);
            assert_eq!(role.can(Capability::ManageCollections), role == Role::Admin);
            assert_eq!(role.can(Capability::LoadData), role != Role::Board);
            assert_eq!(role.can(Capability::ManageReports), role != Role::Board);
            assert!(role.can(Capability::ViewReports) && role.can(Capability::ExportData));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn default_policy_hides_restricted_metrics_from_the_board_and_anonymises_for_it() {
        let policy = AccessPolicy::default();
        assert_eq!(policy.metric_access(Role::Board, Visibility::Internal), MetricAccess::Full);
        assert_eq!(policy.metric_access(Role::Board, Visibility::Restricted), MetricAccess::Hidden);
        assert_eq!(policy.metric_access(Role::Board, Visibility::Anonymised), MetricAccess::TotalsOnly);
        assert_eq!(policy.metric_access(Role::Manager, Visibility::Restricted), MetricAccess::Full);
        assert_eq!(policy.metric_access(Role::Manager, Visibility::Anonymised), MetricAccess::Full);
        for v in [Visibility::Public, Visibility::Internal, Visibility::Restricted, Visibility::Anonymised] {
            assert_eq!(policy.metric_access(Role::Admin, v), MetricAccess::Full);
            assert_eq!(Visibility::parse(v.as_str()), Some(v));
        }
    }

    #[test]
    fn the_access_map_fails_closed_and_takes_the_least_access_of_a_set() {
        let catalogue = [("revenue", Visibility::Internal), ("spend", Visibility::Restricted), ("churn", Visibility::Anonymised)];
        let board = MetricAccessMap::new(&AccessPolicy::default(), Role::Board, catalogue);
        assert_eq!(board.access("revenue"), MetricAccess::Full);
        assert_eq!(board.access("spend"), MetricAccess::Hidden);
        assert_eq!(board.access("not_in_catalogue"), MetricAccess::Hidden, "unknown keys are hidden");
        assert_eq!(board.access_all(["revenue", "churn"]), MetricAccess::TotalsOnly);
        assert_eq!(board.access_all(["revenue", "spend"]), MetricAccess::Hidden);
        assert_eq!(board.access_all(["revenue", "ghost"]), MetricAccess::Hidden);
        assert_eq!(board.access_all([]), MetricAccess::Hidden);
        assert_eq!(board.keys_at_least(MetricAccess::Full), vec!["revenue".to_string()]);
        assert_eq!(board.keys_at_least(MetricAccess::TotalsOnly), vec!["churn".to_string(), "revenue".to_string()]);
        let manager = MetricAccessMap::new(&AccessPolicy::default(), Role::Manager, catalogue);
        assert_eq!(manager.access_all(["revenue", "spend", "churn"]), MetricAccess::Full);
    }

    #[test]
    fn a_role_missing_from_every_list_sees_nothing() {
        let policy = AccessPolicy { public_roles: vec![Role::Admin], internal_roles: vec![Role::Admin], restricted_roles: vec![Role::Admin], anonymised_roles: vec![] };
        for v in [Visibility::Public, Visibility::Internal, Visibility::Restricted, Visibility::Anonymised] {
            assert_eq!(policy.metric_access(Role::Board, v), MetricAccess::Hidden);
        }
        assert!(policy.validate().is_ok());
        let no_admin = AccessPolicy { restricted_roles: vec![Role::Manager], ..AccessPolicy::default() };
        assert!(no_admin.validate().unwrap_err().contains("restricted_roles"));
    }
}

/// How much of each metric of an org one role sees: the one visibility check every feature uses.
/// Built from the org's catalogue; a key the catalogue does not hold is hidden (fails closed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricAccessMap {
    access: std::collections::BTreeMap<String, MetricAccess>,
}

impl MetricAccessMap {
    /// `catalogue` is every metric of the org with its visibility level.
    pub fn new<'a>(policy: &AccessPolicy, role: Role, catalogue: impl IntoIterator<Item = (&'a str, Visibility)>) -> MetricAccessMap {
        let access = catalogue.into_iter().map(|(key, v)| (key.to_string(), policy.metric_access(role, v))).collect();
        MetricAccessMap { access }
    }

    pub fn access(&self, key: &str) -> MetricAccess {
        self.access.get(key).copied().unwrap_or(MetricAccess::Hidden)
    }

    /// Whether the org's catalogue holds `key` (a hidden one there is "restricted", not "unknown").
    pub fn contains(&self, key: &str) -> bool {
        self.access.contains_key(key)
    }

    /// The access to a response that touches all of `keys`: the least of theirs (hidden when any
    /// is hidden or unknown; totals only when any is anonymised for this role).
    pub fn access_all<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> MetricAccess {
        keys.into_iter().map(|k| self.access(k)).min().unwrap_or(MetricAccess::Hidden)
    }

    /// Keys seen in full, and keys seen at least as totals: what SQL filters compare against.
    pub fn keys_at_least(&self, level: MetricAccess) -> Vec<String> {
        self.access.iter().filter(|(_, a)| **a >= level).map(|(k, _)| k.clone()).collect()
    }
}
