//! Server functions of `/reports`: the page's data, save and delete a template, generate now.
//! Everyone signed in sees the reports their role allows; admins and managers change them.

use leptos::prelude::*;

use super::{ReportsPage, TemplateForm};
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn parse_id(text: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(text.trim()).map_err(|_| AppError::BadRequest(format!("{text:?} is not a report template id")))
}

/// The form's fields as text, read into a typed form with a message per bad field.
#[cfg(feature = "ssr")]
fn read_form(name: String, description: String, view: String, grain: &str, format: &str, schedule: &str, status: &str) -> Result<TemplateForm, AppError> {
    use super::{ExportGrain, ReportFormat, ReportSchedule, TemplateStatus};
    let bad = |field: &str, value: &str, allowed: &str| AppError::BadRequest(format!("`{field}` = {value:?} is not one of {allowed}"));
    Ok(TemplateForm {
        name,
        description,
        query: view,
        grain: ExportGrain::parse(grain).ok_or_else(|| bad("grain", grain, "day, week, month"))?,
        format: ReportFormat::parse(format).ok_or_else(|| bad("format", format, "csv, json, pdf"))?,
        schedule: ReportSchedule::parse(schedule).map_err(AppError::BadRequest)?,
        status: TemplateStatus::parse(status).ok_or_else(|| bad("status", status, "active, paused"))?,
    })
}

/// `query` is the page's URL query string.
#[server(endpoint = "reports")]
pub async fn get_reports(query: String) -> Result<ReportsPage, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ViewReports)?;
            let parsed = super::ReportsQuery::from_query_string(&query)?;
            let state = AppState::current()?;
            super::service::page(&state.pool, &principal, parsed).await
        }
        .await,
    )
}

/// Creates a template (empty `template_id`) or rewrites one; returns its id.
#[server(endpoint = "report_template_save")]
#[allow(clippy::too_many_arguments)]
pub async fn save_report_template(
    #[server(default)] template_id: String,
    name: String,
    #[server(default)] description: String,
    #[server(default)] view: String,
    grain: String,
    format: String,
    schedule: String,
    status: String,
) -> Result<String, AppError> {
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageReports)?;
            let id = Some(template_id.trim()).filter(|t| !t.is_empty()).map(parse_id).transpose()?;
            let form = read_form(name, description, view, grain.trim(), format.trim(), &schedule, status.trim())?;
            let state = AppState::current()?;
            let scope = Scope::new(&principal, &state.config.access);
            super::service::save(&state.pool, &principal, &scope, id, form).await.map(|id| id.to_string())
        }
        .await,
    )
}

#[server(endpoint = "report_template_delete")]
pub async fn delete_report_template(template_id: String) -> Result<(), AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageReports)?;
            let id = parse_id(&template_id)?;
            let state = AppState::current()?;
            super::service::delete(&state.pool, &principal, id).await
        }
        .await,
    )
}

/// "Generate now": queues a report of the template; returns the report's id.
#[server(endpoint = "report_generate")]
pub async fn generate_report(template_id: String) -> Result<String, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ManageReports)?;
            let id = parse_id(&template_id)?;
            let state = AppState::current()?;
            super::service::generate(&state.pool, &state.config, &principal, id).await.map(|id| id.to_string())
        }
        .await,
    )
}
