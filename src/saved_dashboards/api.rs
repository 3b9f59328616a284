//! Server functions of saved dashboards. Each authorises first, then makes one service call;
//! `spec` arguments are the dashboard as JSON (`DashboardSpec`). The public view is the one
//! function without a session: its token is the credential, and it reads PUBLIC metrics only.

use leptos::prelude::*;

use super::{DashboardList, SavedDashboard, SavedView};
use crate::error::AppError;

#[server(endpoint = "saved_dashboards")]
pub async fn list_saved_dashboards() -> Result<DashboardList, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ViewDashboards)?;
            let state = AppState::current()?;
            super::service::list(&state.pool, &principal).await
        }
        .await,
    )
}

/// Exactly one of `spec` (JSON), `template` (a built-in template's key) or `copy_of` (an id).
#[server(endpoint = "saved_dashboard_create")]
pub async fn create_saved_dashboard(#[server(default)] spec: String, #[server(default)] template: String, #[server(default)] copy_of: String) -> Result<SavedDashboard, AppError> {
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;
    use super::service::{parse_id, parse_spec, Origin};

    with_status(
        async {
            let principal = authorize(Capability::BuildDashboards)?;
            let origin = match (spec.trim(), template.trim(), copy_of.trim()) {
                (s, "", "") if !s.is_empty() => Origin::Spec(parse_spec(s)?),
                ("", t, "") if !t.is_empty() => Origin::BuiltinTemplate(t.to_string()),
                ("", "", c) if !c.is_empty() => Origin::Copy(parse_id(c)?),
                _ => return Err(AppError::BadRequest("give exactly one of `spec`, `template` or `copy_of`".into())),
            };
            let state = AppState::current()?;
            let scope = Scope::new(&principal, &state.config.access);
            super::service::create(&state.pool, &principal, &scope, origin).await
        }
        .await,
    )
}

#[server(endpoint = "saved_dashboard")]
pub async fn get_saved_dashboard(dashboard_id: String) -> Result<SavedDashboard, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ViewDashboards)?;
            let id = super::service::parse_id(&dashboard_id)?;
            let state = AppState::current()?;
            super::service::dashboard(&state.pool, &principal, id).await
        }
        .await,
    )
}

/// `version` is the one the editor opened: a save over a newer one is refused with 409.
#[server(endpoint = "saved_dashboard_save")]
pub async fn save_saved_dashboard(dashboard_id: String, version: i32, spec: String) -> Result<SavedDashboard, AppError> {
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::BuildDashboards)?;
            let id = super::service::parse_id(&dashboard_id)?;
            let spec = super::service::parse_spec(&spec)?;
            let state = AppState::current()?;
            let scope = Scope::new(&principal, &state.config.access);
            super::service::save(&state.pool, &principal, &scope, id, version, spec).await
        }
        .await,
    )
}

#[server(endpoint = "saved_dashboard_delete")]
pub async fn delete_saved_dashboard(dashboard_id: String) -> Result<(), AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::BuildDashboards)?;
            let id = super::service::parse_id(&dashboard_id)?;
            let state = AppState::current()?;
            super::service::delete(&state.pool, &principal, id).await
        }
        .await,
    )
}

/// `permission` is `view`, `edit` or `none` (removes the share).
#[server(endpoint = "saved_dashboard_share")]
pub async fn share_saved_dashboard(dashboard_id: String, email: String, permission: String) -> Result<SavedDashboard, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::domain::dashboards::SharePermission;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::BuildDashboards)?;
            let id = super::service::parse_id(&dashboard_id)?;
            let permission = match permission.trim() {
                "none" => None,
                p => Some(SharePermission::parse(p).ok_or_else(|| AppError::BadRequest(format!("`permission` = {p:?} is not one of view, edit, none")))?),
            };
            let state = AppState::current()?;
            super::service::share(&state.pool, &principal, id, &email, permission).await
        }
        .await,
    )
}

#[server(endpoint = "saved_dashboard_public")]
pub async fn set_saved_dashboard_public(dashboard_id: String, public: bool) -> Result<SavedDashboard, AppError> {
    use crate::auth::server::authorize;
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::BuildDashboards)?;
            let id = super::service::parse_id(&dashboard_id)?;
            let state = AppState::current()?;
            super::service::set_public(&state.pool, &principal, id, public).await
        }
        .await,
    )
}

/// Every widget answered for `filters` (the page's URL query; empty: the dashboard's defaults).
#[server(endpoint = "saved_dashboard_view")]
pub async fn view_saved_dashboard(dashboard_id: String, #[server(default)] filters: String) -> Result<SavedView, AppError> {
    use crate::auth::server::{authorize, Scope};
    use crate::auth::Capability;
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let principal = authorize(Capability::ViewDashboards)?;
            let id = super::service::parse_id(&dashboard_id)?;
            let state = AppState::current()?;
            let scope = Scope::new(&principal, &state.config.access);
            super::service::view(&state.read_pool.pool, &principal, &scope, id, &filters, &state.config.analytics).await
        }
        .await,
    )
}

#[server(endpoint = "public_dashboard_view")]
pub async fn view_public_dashboard(token: String, #[server(default)] filters: String) -> Result<SavedView, AppError> {
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let state = AppState::current()?;
            super::service::public_view(&state.read_pool.pool, &token, &filters, &state.config.analytics).await
        }
        .await,
    )
}
