//! Saved dashboards: widgets on a 12-column grid with default filters, templates, per-user
//! view/edit shares and a public read-only link (issue 17). The widgets' data comes from the
//! manager dashboard's own service, so a saved widget shows the same numbers, forecast band,
//! anomaly markers and summary sentences as `/dashboard` for the same query.

pub mod api;
#[cfg(feature = "ssr")]
pub mod markdown;
mod editor;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod templates;
mod widgets;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dashboard::DashboardData;
pub use crate::domain::dashboards::{ChartType, DashboardAccess, DashboardSpec, SharePermission, WidgetSpec, WidgetType};

/// One line of the dashboards list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardSummary {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub owner_name: Option<String>,
    pub is_template: bool,
    pub template_type: Option<String>,
    pub is_public: bool,
    pub access: DashboardAccess,
    pub widget_count: i64,
    pub updated_at: String,
}

/// A template that ships with the app; "new from template" copies it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuiltinTemplate {
    pub key: String,
    pub name: String,
    pub template_type: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardList {
    pub dashboards: Vec<DashboardSummary>,
    /// The viewer may create dashboards (managers and admins).
    pub can_build: bool,
    pub builtin_templates: Vec<BuiltinTemplate>,
}

/// A person a dashboard is shared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareView {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub permission: SharePermission,
}

/// A dashboard as its editor or viewer gets it. Shares and the public link are only filled in
/// for those who manage them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedDashboard {
    pub id: Uuid,
    pub spec: DashboardSpec,
    pub version: i32,
    pub owner_name: Option<String>,
    pub access: DashboardAccess,
    pub is_public: bool,
    /// `/public/dashboards/{token}`, for owners and admins.
    pub public_path: Option<String>,
    pub shares: Vec<ShareView>,
}

/// What one widget shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WidgetContent {
    /// The widget's query answered by the dashboard service.
    Data(Box<DashboardData>),
    /// A text widget's Markdown as HTML, made safe on the server (`markdown::to_html`).
    Text(String),
    /// The viewer may not see the widget's metric: said, never leaked.
    Withheld(String),
    /// The query could not be answered (a metric deleted since, a value no longer in the data).
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidgetView {
    pub spec: WidgetSpec,
    /// The query the widget was answered with: its own, with the dashboard's filters unless pinned.
    pub effective_query: String,
    pub content: WidgetContent,
}

/// A dashboard with every widget's data, for the filters in the page's URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedView {
    pub dashboard: SavedDashboard,
    /// The filters applied (the URL's, else the dashboard's defaults), canonical.
    pub filters: String,
    pub widgets: Vec<WidgetView>,
}
