//! Saved dashboards on the server: who may open, edit and manage one, validation of a save
//! (names, the grid, every widget's query through the dashboard URL's own parser and the org's
//! catalogue), the stale-save check, shares and the public link (each audited in its
//! transaction), and rendering every widget in parallel through the dashboard service.

use rand::RngCore;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{DashboardList, DashboardSummary, SavedDashboard, SavedView, ShareView, WidgetContent, WidgetView};
use crate::analytics::AnalyticsConfig;
use crate::auth::server::{Principal, Scope};
use crate::auth::{Capability, Role};
use crate::dashboard::service::{dashboard_in, OrgContext};
use crate::dashboard::{AutoRefresh, DashboardData, DashboardQuery};
use crate::db;
use crate::db::dashboards::DashboardRecord;
use crate::db::metrics::MetricKind;
use crate::domain::audit::AuditAction;
use crate::domain::dashboards::{check_layout, DashboardAccess, DashboardSpec, SharePermission, WidgetSpec, WidgetType};
use crate::error::AppError;

fn not_found() -> AppError {
    AppError::NotFound("dashboard".into())
}

/// How `p` stands to the dashboard; not found for anyone without access, so ids do not leak.
async fn access_of(pool: &PgPool, p: &Principal, record: &DashboardRecord) -> Result<DashboardAccess, AppError> {
    let is_owner = record.owner_id == Some(p.user_id);
    // Owners and admins need no share lookup.
    let share = if is_owner || p.role == Role::Admin { None } else { db::dashboards::share_of(pool, record.id, p.user_id).await? };
    DashboardAccess::of(is_owner, p.role, share, record.is_template).ok_or_else(not_found)
}

async fn load(pool: &PgPool, p: &Principal, id: Uuid) -> Result<(DashboardRecord, DashboardAccess), AppError> {
    let record = db::dashboards::get(pool, p.org_id, id).await?.ok_or_else(not_found)?;
    let access = access_of(pool, p, &record).await?;
    Ok((record, access))
}

pub fn parse_id(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text.trim()).map_err(|_| AppError::BadRequest(format!("{text:?} is not a dashboard id")))
}

pub async fn list(pool: &PgPool, p: &Principal) -> Result<DashboardList, AppError> {
    let rows = db::dashboards::list_for(pool, p.org_id, p.user_id, p.role == Role::Admin).await?;
    let dashboards = rows
        .into_iter()
        .filter_map(|(r, share)| {
            let access = DashboardAccess::of(r.owner_id == Some(p.user_id), p.role, share, r.is_template)?;
            Some(DashboardSummary {
                id: r.id,
                name: r.name,
                description: r.description,
                owner_name: r.owner_name,
                is_template: r.is_template,
                template_type: r.template_type,
                is_public: r.is_public,
                access,
                widget_count: r.widget_count,
                updated_at: r.updated_at,
            })
        })
        .collect();
    Ok(DashboardList { dashboards, can_build: p.role.can(Capability::BuildDashboards), builtin_templates: super::templates::list() })
}

/// Reads a spec sent as JSON; a malformed one names where it broke.
pub fn parse_spec(text: &str) -> Result<DashboardSpec, AppError> {
    serde_json::from_str(text).map_err(|e| AppError::BadRequest(format!("the dashboard could not be read: {e}")))
}

/// Checks and tidies a spec before it is stored: names, refresh, the default filters and each
/// widget's query (the dashboard URL's parser, then the org's catalogue as `scope` sees it), the
/// grid. Every message names the field, and the widget by number and title.
pub async fn validate(pool: &PgPool, scope: &Scope, mut spec: DashboardSpec) -> Result<DashboardSpec, AppError> {
    let bad = |m: String| AppError::BadRequest(m);
    spec.name = spec.name.trim().to_string();
    if spec.name.is_empty() || spec.name.chars().count() > 120 {
        return Err(bad("`name`: give the dashboard a name of 1 to 120 characters".into()));
    }
    if spec.description.chars().count() > 2000 {
        return Err(bad("`description`: at most 2,000 characters".into()));
    }
    if !AutoRefresh::ALL.iter().any(|r| r.token() == spec.refresh) {
        return Err(bad(format!("`refresh` = {:?} is not one of off, 30s, 5m", spec.refresh)));
    }
    spec.template_type = spec.template_type.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    if spec.template_type.as_ref().is_some_and(|t| t.chars().count() > 60) {
        return Err(bad("`template_type`: at most 60 characters".into()));
    }
    let defaults = DashboardQuery::from_query_string(&spec.default_query).map_err(|e| bad(format!("`default_query`: {e}")))?;
    if defaults.metric.is_some() || !defaults.drill.is_empty() || defaults.versus.is_some() {
        return Err(bad("`default_query`: a dashboard's filters are a range and dimension values; metrics belong to widgets".into()));
    }
    spec.default_query = defaults.to_query_string();
    let (mut catalogue, _) = scope.metrics(pool, MetricKind::Kpi).await?;
    catalogue.extend(scope.metrics(pool, MetricKind::Signal).await?.0);
    let known = |key: &str| catalogue.iter().any(|m| m.key == key);
    for (i, w) in spec.widgets.iter_mut().enumerate() {
        let name = format!("widget {} ({:?})", i + 1, w.title);
        w.title = w.title.trim().to_string();
        if w.title.is_empty() || w.title.chars().count() > 120 {
            return Err(bad(format!("{name} `title`: 1 to 120 characters")));
        }
        if (w.widget_type == WidgetType::Chart) != w.chart_type.is_some() {
            return Err(bad(format!("{name} `chart_type`: a chart needs one (line, bar, pie, scatter, area); other widgets have none")));
        }
        if w.body.chars().count() > 10_000 {
            return Err(bad(format!("{name} `body`: at most 10,000 characters")));
        }
        let query = DashboardQuery::from_query_string(&w.query).map_err(|e| bad(format!("{name} `query`: {e}")))?;
        for key in query.metric.iter().chain(query.versus.iter()) {
            if !known(key) {
                return Err(bad(format!("{name} `query`: unknown metric {key:?}")));
            }
        }
        w.query = query.to_query_string();
    }
    check_layout(&spec.widgets).map_err(|e| bad(format!("`widgets`: {e}")))?;
    Ok(spec)
}

/// What a new dashboard starts from.
pub enum Origin {
    Spec(DashboardSpec),
    BuiltinTemplate(String),
    /// A copy of a dashboard the user may open (a template or any other).
    Copy(Uuid),
}

pub async fn create(pool: &PgPool, p: &Principal, scope: &Scope, origin: Origin) -> Result<SavedDashboard, AppError> {
    let spec = match origin {
        Origin::Spec(spec) => spec,
        Origin::BuiltinTemplate(key) => {
            let (catalogue, _) = scope.metrics(pool, MetricKind::Kpi).await?;
            super::templates::spec(&key, |m| catalogue.iter().any(|c| c.key == m)).ok_or_else(|| AppError::NotFound(format!("template {key:?}")))?
        }
        Origin::Copy(id) => {
            let (record, _) = load(pool, p, id).await?;
            let mut spec = spec_of(pool, &record).await?;
            spec.widgets.iter_mut().for_each(|w| w.id = None);
            if !record.is_template {
                spec.name = format!("Copy of {}", record.name).chars().take(120).collect();
            }
            (spec.is_template, spec.template_type) = (false, None);
            spec
        }
    };
    let spec = validate(pool, scope, spec).await?;
    let mut tx = pool.begin().await?;
    let id = db::dashboards::insert(&mut tx, p.org_id, p.user_id, &spec).await?;
    tx.commit().await?;
    dashboard(pool, p, id).await
}

async fn spec_of(pool: &PgPool, record: &DashboardRecord) -> Result<DashboardSpec, AppError> {
    Ok(DashboardSpec {
        name: record.name.clone(),
        description: record.description.clone(),
        default_query: record.default_query.clone(),
        refresh: record.refresh.clone(),
        is_template: record.is_template,
        template_type: record.template_type.clone(),
        widgets: db::dashboards::widgets(pool, record.id).await?,
    })
}

async fn saved(pool: &PgPool, record: &DashboardRecord, access: DashboardAccess) -> Result<SavedDashboard, AppError> {
    let shares = if access.can_manage() {
        db::dashboards::shares(pool, record.id)
            .await?
            .into_iter()
            .map(|s| {
                let permission = SharePermission::parse(&s.permission).unwrap_or(SharePermission::View);
                ShareView { user_id: s.user_id, email: s.email, display_name: s.display_name, permission }
            })
            .collect()
    } else {
        Vec::new()
    };
    let public_path = record.public_token.as_ref().filter(|_| access.can_manage() && record.is_public).map(|t| format!("/public/dashboards/{t}"));
    Ok(SavedDashboard {
        id: record.id,
        spec: spec_of(pool, record).await?,
        version: record.version,
        owner_name: record.owner_name.clone(),
        access,
        is_public: record.is_public,
        public_path,
        shares,
    })
}

/// The dashboard as stored, for its editors. Viewers get it without its widgets: they read those
/// through [`view`], which withholds what they may not see instead of naming it.
pub async fn dashboard(pool: &PgPool, p: &Principal, id: Uuid) -> Result<SavedDashboard, AppError> {
    let (record, access) = load(pool, p, id).await?;
    let mut dashboard = saved(pool, &record, access).await?;
    if !access.can_edit() {
        dashboard.spec.widgets.clear();
    }
    Ok(dashboard)
}

/// Saves over version `base_version`; a save based on an older version is a 409 that says so.
pub async fn save(pool: &PgPool, p: &Principal, scope: &Scope, id: Uuid, base_version: i32, spec: DashboardSpec) -> Result<SavedDashboard, AppError> {
    let (record, access) = load(pool, p, id).await?;
    if !access.can_edit() {
        return Err(AppError::AccessDenied(format!("you can view {:?} but not edit it", record.name)));
    }
    let spec = validate(pool, scope, spec).await?;
    let mut tx = pool.begin().await?;
    match db::dashboards::update(&mut tx, p.org_id, id, base_version, &spec).await? {
        Some(_) => tx.commit().await?,
        None => {
            return Err(AppError::Conflict(format!(
                "{:?} was saved by someone else since you opened it (version {} is now {}); reload to see their changes",
                record.name, base_version, record.version
            )))
        }
    }
    dashboard(pool, p, id).await
}

async fn managed(pool: &PgPool, p: &Principal, id: Uuid) -> Result<DashboardRecord, AppError> {
    let (record, access) = load(pool, p, id).await?;
    if !access.can_manage() {
        return Err(AppError::AccessDenied(format!("only the owner of {:?} or an admin can do this", record.name)));
    }
    Ok(record)
}

pub async fn delete(pool: &PgPool, p: &Principal, id: Uuid) -> Result<(), AppError> {
    let record = managed(pool, p, id).await?;
    let mut tx = pool.begin().await?;
    db::dashboards::delete(&mut tx, p.org_id, id).await?.ok_or_else(not_found)?;
    db::audit::record(&mut tx, p.audit(AuditAction::DashboardDeleted, &record.name, json!({ "dashboard_id": id }))).await?;
    tx.commit().await?;
    Ok(())
}

/// Shares with the org's user of that email (`permission` None removes the share).
pub async fn share(pool: &PgPool, p: &Principal, id: Uuid, email: &str, permission: Option<SharePermission>) -> Result<SavedDashboard, AppError> {
    let record = managed(pool, p, id).await?;
    let user = db::users::by_email(pool, email.trim()).await?.filter(|u| u.org_id == p.org_id).ok_or_else(|| AppError::NotFound(format!("a user {email:?} in {}", p.org_name)))?;
    if record.owner_id == Some(user.id) {
        return Err(AppError::BadRequest(format!("{email} owns this dashboard already")));
    }
    let mut tx = pool.begin().await?;
    let action = match permission {
        Some(permission) => {
            db::dashboards::upsert_share(&mut tx, id, user.id, permission, p.user_id).await?;
            AuditAction::DashboardShared
        }
        None => {
            if !db::dashboards::delete_share(&mut tx, id, user.id).await? {
                return Err(AppError::NotFound(format!("a share with {email}")));
            }
            AuditAction::DashboardUnshared
        }
    };
    let detail = json!({ "dashboard_id": id, "user": user.email, "permission": permission.map(SharePermission::as_str) });
    db::audit::record(&mut tx, p.audit(action, &record.name, detail)).await?;
    tx.commit().await?;
    dashboard(pool, p, id).await
}

/// 256 random bits from the operating system, hex: the public link cannot be guessed.
fn new_public_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Turns the public link on (a new token each time) or off (the old link dies at once).
pub async fn set_public(pool: &PgPool, p: &Principal, id: Uuid, public: bool) -> Result<SavedDashboard, AppError> {
    let record = managed(pool, p, id).await?;
    let token = public.then(new_public_token);
    let mut tx = pool.begin().await?;
    db::dashboards::set_public(&mut tx, p.org_id, id, token.as_deref()).await?;
    let action = if public { AuditAction::DashboardPublished } else { AuditAction::DashboardUnpublished };
    db::audit::record(&mut tx, p.audit(action, &record.name, json!({ "dashboard_id": id }))).await?;
    tx.commit().await?;
    dashboard(pool, p, id).await
}

/// The dashboard with every widget answered, for the page's `filters` (empty: the defaults).
pub async fn view(pool: &PgPool, p: &Principal, scope: &Scope, id: Uuid, filters: &str, config: &AnalyticsConfig) -> Result<SavedView, AppError> {
    let (record, access) = load(pool, p, id).await?;
    let dashboard = saved(pool, &record, access).await?;
    render(pool, scope, dashboard, filters, config).await
}

/// The dashboard behind a public link, as anyone sees it: PUBLIC metrics only, no shares, no link.
pub async fn public_view(pool: &PgPool, token: &str, filters: &str, config: &AnalyticsConfig) -> Result<SavedView, AppError> {
    // A malformed token is as unknown as a revoked one.
    let record = match token.len() {
        40..=128 if token.bytes().all(|b| b.is_ascii_alphanumeric()) => db::dashboards::by_public_token(pool, token).await?,
        _ => None,
    }
    .ok_or_else(not_found)?;
    let org = db::orgs::by_id(pool, record.org_id).await?.ok_or_else(not_found)?;
    let scope = Scope::public_link(record.org_id, org.name);
    let mut dashboard = saved(pool, &record, DashboardAccess::PublicLink).await?;
    dashboard.owner_name = None;
    render(pool, &scope, dashboard, filters, config).await
}

/// Answers every widget at once; the org's catalogue, last day and dimension values are read
/// once for all of them, and widgets that ask the same question (a metric's card, line and bar
/// under the same filters) share one answer.
async fn render(pool: &PgPool, scope: &Scope, dashboard: SavedDashboard, filters: &str, config: &AnalyticsConfig) -> Result<SavedView, AppError> {
    let filters = if filters.trim().trim_start_matches('?').is_empty() { dashboard.spec.default_query.as_str() } else { filters };
    let filters = DashboardQuery::from_query_string(filters)?;
    // An org without data yet still shows its text widgets; the others say why they are empty.
    let context = match OrgContext::load(pool, scope).await {
        Err(AppError::DatabaseUnavailable) => return Err(AppError::DatabaseUnavailable),
        context => context,
    };
    let queries: Vec<Result<DashboardQuery, AppError>> = dashboard.spec.widgets.iter().map(|w| effective_query(&w.query, w.pinned, &filters)).collect();
    let mut distinct: Vec<&DashboardQuery> = Vec::new();
    for (w, query) in dashboard.spec.widgets.iter().zip(&queries) {
        if let (false, Ok(q)) = (w.widget_type == WidgetType::Text, query) {
            if !distinct.contains(&q) {
                distinct.push(q);
            }
        }
    }
    let answers: Vec<Result<DashboardData, AppError>> = match &context {
        Ok(context) => futures::future::join_all(distinct.iter().map(|q| dashboard_in(pool, scope, context, (*q).clone(), config))).await,
        Err(e) => distinct.iter().map(|_| Err(e.clone())).collect(),
    };
    let public = dashboard.access == DashboardAccess::PublicLink;
    let mut widgets = Vec::with_capacity(queries.len());
    for (w, query) in dashboard.spec.widgets.iter().zip(&queries) {
        let answer = query.as_ref().ok().and_then(|q| distinct.iter().position(|d| *d == q)).map(|i| &answers[i]);
        let content = match (w.widget_type, query, answer) {
            (WidgetType::Text, _, _) => WidgetContent::Text(super::markdown::to_html(&w.body)),
            (_, Err(e), _) => WidgetContent::Failed(e.to_string()),
            (_, Ok(_), None) => WidgetContent::Failed("This widget could not be answered.".into()),
            (_, Ok(_), Some(Ok(data))) => WidgetContent::Data(Box::new(data.clone())),
            (_, Ok(_), Some(Err(AppError::AccessDenied(_)))) => WidgetContent::Withheld("This widget's metric is not visible to you.".into()),
            (_, Ok(_), Some(Err(AppError::DatabaseUnavailable))) => return Err(AppError::DatabaseUnavailable),
            (_, Ok(_), Some(Err(e))) => WidgetContent::Failed(e.to_string()),
        };
        widgets.push(widget_view(w, query.as_ref().ok(), content, public));
    }
    let mut dashboard = dashboard;
    // The saved layout repeats each widget: withheld ones go out blanked there too.
    dashboard.spec.widgets = widgets.iter().map(|w| w.spec.clone()).collect();
    Ok(SavedView { dashboard, filters: filters.to_query_string(), widgets })
}

/// One widget as the page gets it: a withheld widget names neither its metric nor (through its
/// title) what it shows; behind the public link neither does one that failed, since no access
/// check ran for it.
fn widget_view(w: &WidgetSpec, query: Option<&DashboardQuery>, content: WidgetContent, public: bool) -> WidgetView {
    let mut spec = w.clone();
    let mut effective_query = query.map(|q| q.to_query_string()).unwrap_or_else(|| w.query.clone());
    if matches!(content, WidgetContent::Withheld(_)) || (public && matches!(content, WidgetContent::Failed(_))) {
        (spec.query, spec.title, effective_query) = (String::new(), "Hidden widget".into(), String::new());
    }
    WidgetView { spec, effective_query, content }
}

/// A widget's own query with the dashboard's range and dimension filters, unless it is pinned.
pub fn effective_query(widget: &str, pinned: bool, filters: &DashboardQuery) -> Result<DashboardQuery, AppError> {
    let mut q = DashboardQuery::from_query_string(widget)?;
    if !pinned {
        (q.range, q.from, q.to, q.filter) = (filters.range, filters.from, filters.to, filters.filter.clone());
        // A drill step the new filters exclude would fail: the filters win.
        while q.selection().is_err() && !q.drill.is_empty() {
            q.drill.pop();
        }
    }
    Ok(q)
}
