//! Saved dashboards, their widgets and shares (`io_dashboard`, `io_dashboard_widget`,
//! `io_dashboard_share`). Every read takes the org; a save compares the version it was based on,
//! so a stale save changes nothing and the caller answers 409.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::decode;
use crate::domain::dashboards::{ChartType, DashboardSpec, SharePermission, WidgetSpec, WidgetType};

/// One dashboard row with its owner's name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DashboardRecord {
    pub id: Uuid,
    pub org_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub name: String,
    pub description: String,
    pub default_query: String,
    pub refresh: String,
    pub is_template: bool,
    pub template_type: Option<String>,
    pub is_public: bool,
    pub public_token: Option<String>,
    pub version: i32,
    pub updated_at: String,
    pub widget_count: i64,
}

const SELECT_DASHBOARD: &str = "SELECT d.id, d.org_id, d.owner_id, u.display_name AS owner_name, d.name, d.description,
        d.default_query, d.refresh, d.is_template, d.template_type, d.is_public, d.public_token, d.version,
        to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"') AS updated_at,
        (SELECT count(*) FROM io_dashboard_widget w WHERE w.dashboard_id = d.id) AS widget_count";
const FROM_DASHBOARD: &str = "FROM io_dashboard d LEFT JOIN io_user u ON u.id = d.owner_id";

#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    record: DashboardRecord,
    permission: Option<String>,
}

/// The org's dashboards `user_id` may open (every one for an admin): their own, those shared
/// with them, and the org's templates; with the share's permission when there is one.
pub async fn list_for(pool: &PgPool, org_id: Uuid, user_id: Uuid, all: bool) -> Result<Vec<(DashboardRecord, Option<SharePermission>)>, sqlx::Error> {
    let rows: Vec<ListedRow> = sqlx::query_as(&format!(
        "{SELECT_DASHBOARD}, s.permission
         {FROM_DASHBOARD}
         LEFT JOIN io_dashboard_share s ON s.dashboard_id = d.id AND s.user_id = $2
         WHERE d.org_id = $1 AND ($3 OR d.owner_id = $2 OR s.user_id IS NOT NULL OR d.is_template)
         ORDER BY d.is_template, lower(d.name)"
    ))
    .bind(org_id)
    .bind(user_id)
    .bind(all)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let permission = r.permission.map(|p| decode("io_dashboard_share.permission", &p, SharePermission::parse(&p))).transpose()?;
            Ok((r.record, permission))
        })
        .collect()
}

pub async fn get(pool: &PgPool, org_id: Uuid, id: Uuid) -> Result<Option<DashboardRecord>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT_DASHBOARD} {FROM_DASHBOARD} WHERE d.org_id = $1 AND d.id = $2")).bind(org_id).bind(id).fetch_optional(pool).await
}

/// The dashboard behind a public link, in any org; only while it is public.
pub async fn by_public_token(pool: &PgPool, token: &str) -> Result<Option<DashboardRecord>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT_DASHBOARD} {FROM_DASHBOARD} WHERE d.public_token = $1 AND d.is_public")).bind(token).fetch_optional(pool).await
}

/// The permission a share gives `user_id` on the dashboard, if any.
pub async fn share_of(pool: &PgPool, dashboard_id: Uuid, user_id: Uuid) -> Result<Option<SharePermission>, sqlx::Error> {
    let p: Option<String> = sqlx::query_scalar("SELECT permission FROM io_dashboard_share WHERE dashboard_id = $1 AND user_id = $2")
        .bind(dashboard_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
    p.map(|p| decode("io_dashboard_share.permission", &p, SharePermission::parse(&p))).transpose()
}

#[derive(sqlx::FromRow)]
struct WidgetRow {
    id: Uuid,
    widget_type: String,
    chart_type: Option<String>,
    title: String,
    query: String,
    pinned: bool,
    body: String,
    pos_x: i32,
    pos_y: i32,
    width: i32,
    height: i32,
}

/// The dashboard's widgets in reading order (top to bottom, left to right).
pub async fn widgets(pool: &PgPool, dashboard_id: Uuid) -> Result<Vec<WidgetSpec>, sqlx::Error> {
    let rows: Vec<WidgetRow> = sqlx::query_as(
        "SELECT id, widget_type, chart_type, title, query, pinned, body, pos_x, pos_y, width, height
         FROM io_dashboard_widget WHERE dashboard_id = $1 ORDER BY pos_y, pos_x, sort_order",
    )
    .bind(dashboard_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let chart_type = r.chart_type.as_deref().map(|c| decode("io_dashboard_widget.chart_type", c, ChartType::parse(c))).transpose()?;
            Ok(WidgetSpec {
                id: Some(r.id),
                widget_type: decode("io_dashboard_widget.widget_type", &r.widget_type, WidgetType::parse(&r.widget_type))?,
                chart_type,
                title: r.title,
                query: r.query,
                pinned: r.pinned,
                body: r.body,
                x: r.pos_x,
                y: r.pos_y,
                w: r.width,
                h: r.height,
            })
        })
        .collect()
}

/// Creates a dashboard with its widgets; returns its id.
pub async fn insert(conn: &mut PgConnection, org_id: Uuid, owner_id: Uuid, spec: &DashboardSpec) -> Result<Uuid, sqlx::Error> {
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO io_dashboard (org_id, owner_id, name, description, default_query, refresh, is_template, template_type)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(org_id)
    .bind(owner_id)
    .bind(&spec.name)
    .bind(&spec.description)
    .bind(&spec.default_query)
    .bind(&spec.refresh)
    .bind(spec.is_template)
    .bind(&spec.template_type)
    .fetch_one(&mut *conn)
    .await?;
    replace_widgets(conn, id, &spec.widgets).await?;
    Ok(id)
}

/// Saves `spec` over the dashboard if it is still at `base_version`; returns the new version, or
/// `None` when someone saved in between (or it is gone).
pub async fn update(conn: &mut PgConnection, org_id: Uuid, id: Uuid, base_version: i32, spec: &DashboardSpec) -> Result<Option<i32>, sqlx::Error> {
    let version: Option<i32> = sqlx::query_scalar(
        "UPDATE io_dashboard SET name = $4, description = $5, default_query = $6, refresh = $7, is_template = $8,
                template_type = $9, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3 RETURNING version",
    )
    .bind(org_id)
    .bind(id)
    .bind(base_version)
    .bind(&spec.name)
    .bind(&spec.description)
    .bind(&spec.default_query)
    .bind(&spec.refresh)
    .bind(spec.is_template)
    .bind(&spec.template_type)
    .fetch_optional(&mut *conn)
    .await?;
    if version.is_some() {
        replace_widgets(conn, id, &spec.widgets).await?;
    }
    Ok(version)
}

/// Widgets keep their ids across saves (so a link to one stays valid); new ones get fresh ids.
async fn replace_widgets(conn: &mut PgConnection, dashboard_id: Uuid, widgets: &[WidgetSpec]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM io_dashboard_widget WHERE dashboard_id = $1").bind(dashboard_id).execute(&mut *conn).await?;
    for (order, w) in widgets.iter().enumerate() {
        sqlx::query(
            "INSERT INTO io_dashboard_widget (id, dashboard_id, widget_type, chart_type, title, query, pinned, body, pos_x, pos_y, width, height, sort_order)
             VALUES (coalesce($1, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(w.id)
        .bind(dashboard_id)
        .bind(w.widget_type.as_str())
        .bind(w.chart_type.map(ChartType::as_str))
        .bind(&w.title)
        .bind(&w.query)
        .bind(w.pinned)
        .bind(&w.body)
        .bind(w.x)
        .bind(w.y)
        .bind(w.w)
        .bind(w.h)
        .bind(order as i32)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Deletes the dashboard (widgets and shares go with it); returns its name.
pub async fn delete(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM io_dashboard WHERE org_id = $1 AND id = $2 RETURNING name").bind(org_id).bind(id).fetch_optional(conn).await
}

/// One share as the owner's page lists it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ShareRecord {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub permission: String,
}

pub async fn shares(pool: &PgPool, dashboard_id: Uuid) -> Result<Vec<ShareRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.user_id, u.email, u.display_name, s.permission FROM io_dashboard_share s JOIN io_user u ON u.id = s.user_id
         WHERE s.dashboard_id = $1 ORDER BY lower(u.email)",
    )
    .bind(dashboard_id)
    .fetch_all(pool)
    .await
}

/// Grants or changes a share; the user must be in the dashboard's org (checked by the caller).
pub async fn upsert_share(conn: &mut PgConnection, dashboard_id: Uuid, user_id: Uuid, permission: SharePermission, granted_by: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO io_dashboard_share (dashboard_id, user_id, permission, granted_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (dashboard_id, user_id) DO UPDATE SET permission = EXCLUDED.permission, granted_by = EXCLUDED.granted_by",
    )
    .bind(dashboard_id)
    .bind(user_id)
    .bind(permission.as_str())
    .bind(granted_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a share; false when there was none.
pub async fn delete_share(conn: &mut PgConnection, dashboard_id: Uuid, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM io_dashboard_share WHERE dashboard_id = $1 AND user_id = $2").bind(dashboard_id).bind(user_id).execute(conn).await?;
    Ok(done.rows_affected() > 0)
}

/// Publishes the dashboard under `token`, or (None) revokes its public link: the old token dies.
pub async fn set_public(conn: &mut PgConnection, org_id: Uuid, id: Uuid, token: Option<&str>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE io_dashboard SET is_public = $3 IS NOT NULL, public_token = $3 WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .bind(token)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
