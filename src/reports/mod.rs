//! Reports and exports on `/reports`: templates (a saved dashboard view with a format and a
//! schedule), their generated reports with live status and downloads, CSV/JSON exports of a
//! dashboard view and the PDF board pack, all under the environment's export governance.

pub mod api;
#[cfg(feature = "ssr")]
pub mod encode;
#[cfg(feature = "ssr")]
pub mod export;
pub mod page;
#[cfg(feature = "ssr")]
pub mod pdf;
#[cfg(feature = "ssr")]
pub mod rest;
#[cfg(feature = "ssr")]
pub mod service;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::domain::reports::{ExportGrain, ReportFormat, ReportSchedule, ReportStatus, ReportSummary, ReportTrigger, TemplateForm, TemplateStatus, TemplateSummary};
use crate::error::AppError;

/// `/reports` as its URL says: `?template=` narrows the history to one template, `?edit=` opens
/// one in the form, `?view=` starts a new template from a dashboard view's query string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportsQuery {
    pub template: Option<Uuid>,
    pub edit: Option<Uuid>,
    pub view: Option<String>,
}

impl ReportsQuery {
    pub fn from_query_string(text: &str) -> Result<ReportsQuery, AppError> {
        let mut q = ReportsQuery::default();
        let id = |key: &str, value: &str| Uuid::parse_str(value).map_err(|_| AppError::BadRequest(format!("`{key}` = {value:?} is not a report template id")));
        for (key, value) in form_urlencoded::parse(text.trim_start_matches('?').as_bytes()) {
            match (key.as_ref(), value.trim()) {
                (_, "") => {}
                ("template", v) => q.template = Some(id("template", v)?),
                ("edit", v) => q.edit = Some(id("edit", v)?),
                ("view", v) => q.view = Some(v.to_string()),
                (other, _) => return Err(AppError::BadRequest(format!("unknown parameter `{other}`"))),
            }
        }
        Ok(q)
    }
}

/// The page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportsPage {
    pub templates: Vec<TemplateSummary>,
    /// Newest first: every visible template's, or the one `?template=` names.
    pub history: Vec<ReportSummary>,
    /// Whether this user may create, edit and generate (admins and managers).
    pub can_manage: bool,
    /// The template `?edit=` opened.
    pub editing: Option<TemplateSummary>,
    pub query: ReportsQuery,
}

impl ReportsPage {
    /// Whether a report is still being made, so the page keeps polling.
    pub fn is_waiting(&self) -> bool {
        self.history.iter().any(|r| r.status.is_waiting())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_query_names_bad_parameters() {
        let id = Uuid::nil();
        assert_eq!(ReportsQuery::from_query_string(&format!("template={id}")).map(|q| q.template), Ok(Some(id)));
        assert_eq!(ReportsQuery::from_query_string("view=metric%3Drevenue").map(|q| q.view), Ok(Some("metric=revenue".to_string())));
        assert!(ReportsQuery::from_query_string("edit=nope").unwrap_err().to_string().contains("nope"));
        assert!(ReportsQuery::from_query_string("sort=x").is_err());
    }
}
