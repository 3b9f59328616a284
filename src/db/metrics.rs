//! Queries on the metric catalogue (`io_metric`): what each KPI or signal means and how it combines.
//! Rows are parsed into typed enums at this boundary; a bad token is a data error, not a panic.

use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::measure::{Aggregation, Direction};
use crate::domain::access::Visibility;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Kpi,
    Signal,
}

crate::domain::text_enum!(MetricKind { MetricKind::Kpi => "kpi", MetricKind::Signal => "signal" });

#[derive(Debug, Clone, PartialEq)]
pub struct MetricDef {
    pub key: String,
    pub kind: MetricKind,
    pub label: String,
    pub unit: String,
    pub direction: Direction,
    pub aggregation: Aggregation,
    pub description: String,
    pub sort_order: i32,
    pub visibility: Visibility,
}

#[derive(sqlx::FromRow)]
struct MetricRow {
    key: String,
    kind: String,
    label: String,
    unit: String,
    direction: String,
    aggregation: String,
    description: String,
    sort_order: i32,
    visibility: String,
}

impl TryFrom<MetricRow> for MetricDef {
    type Error = sqlx::Error;

    fn try_from(row: MetricRow) -> Result<Self, Self::Error> {
        let bad = |column: &str, value: &str| {
            sqlx::Error::Decode(format!("io_metric.{column} has unknown value {value:?}").into())
        };
        Ok(MetricDef {
            kind: MetricKind::parse(&row.kind).ok_or_else(|| bad("kind", &row.kind))?,
            direction: Direction::parse(&row.direction).ok_or_else(|| bad("direction", &row.direction))?,
            aggregation: Aggregation::parse(&row.aggregation)
                .ok_or_else(|| bad("aggregation", &row.aggregation))?,
            visibility: Visibility::parse(&row.visibility).ok_or_else(|| bad("visibility", &row.visibility))?,
            key: row.key,
            label: row.label,
            unit: row.unit,
            description: row.description,
            sort_order: row.sort_order,
        })
    }
}

pub async fn for_org(pool: &PgPool, org_id: Uuid, kind: MetricKind) -> Result<Vec<MetricDef>, sqlx::Error> {
    let rows = sqlx::query_as::<_, MetricRow>(
        "SELECT key, kind, label, unit, direction, aggregation, description, sort_order, visibility
         FROM io_metric WHERE org_id = $1 AND kind = $2
         ORDER BY sort_order, key",
    )
    .bind(org_id)
    .bind(kind.as_str())
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(MetricDef::try_from).collect()
}

/// Every metric of the org (KPIs and signals) with its visibility level: what access checks read.
pub async fn visibilities(pool: &PgPool, org_id: Uuid) -> Result<Vec<(String, Visibility)>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, visibility FROM io_metric WHERE org_id = $1").bind(org_id).fetch_all(pool).await?;
    rows.into_iter()
        .map(|(key, v)| {
            let level = Visibility::parse(&v).ok_or_else(|| sqlx::Error::Decode(format!("io_metric.visibility has unknown value {v:?}").into()))?;
            Ok((key, level))
        })
        .collect()
}

pub async fn upsert(conn: &mut sqlx::PgConnection, org_id: Uuid, def: &MetricDef) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO io_metric (org_id, key, kind, label, unit, direction, aggregation, description, sort_order, visibility)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (org_id, key) DO UPDATE SET
           kind = EXCLUDED.kind, label = EXCLUDED.label, unit = EXCLUDED.unit,
           direction = EXCLUDED.direction, aggregation = EXCLUDED.aggregation,
           description = EXCLUDED.description, sort_order = EXCLUDED.sort_order, visibility = EXCLUDED.visibility",
    )
    .bind(org_id)
    .bind(&def.key)
    .bind(def.kind.as_str())
    .bind(&def.label)
    .bind(&def.unit)
    .bind(def.direction.as_str())
    .bind(def.aggregation.as_str())
    .bind(&def.description)
    .bind(def.sort_order)
    .bind(def.visibility.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a metric as personal data (or not); exports mask a PII metric's dimension values.
pub async fn set_pii(conn: &mut sqlx::PgConnection, org_id: Uuid, key: &str, pii: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE io_metric SET pii = $3 WHERE org_id = $1 AND key = $2").bind(org_id).bind(key).bind(pii).execute(conn).await?;
    Ok(())
}
