//! Weekly, monthly and quarterly KPI aggregates (`io_kpi_period`) per org, metric and dimension
//! slice. Rebuilt from the daily rollups for the periods a load touched, in the load's transaction,
//! by the metric's rule: sum of the day values, their mean (avg), or the last day's (last).
//! They outlive the raw facts (`aggregated_retention_days`), so only touched periods are rebuilt.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The grains kept; years are composed from months (see `analytics::aggregate::combine_periods`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Week,
    Month,
    Quarter,
}

impl Grain {
    pub const ALL: [Grain; 3] = [Grain::Week, Grain::Month, Grain::Quarter];

    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
        }
    }
}

/// Rebuilds the aggregates of every period holding one of `days` (every period with data when
/// `None`), for every metric and slice. Call after the daily rollups of those days are rebuilt.
#[tracing::instrument(name = "sql", skip_all, fields(query = "aggregates::refresh"))]
pub async fn refresh(conn: &mut PgConnection, org_id: Uuid, days: Option<&[NaiveDate]>) -> Result<(), sqlx::Error> {
    let days_source = match days {
        Some(_) => "SELECT DISTINCT unnest($2::date[]) AS d",
        None => "SELECT DISTINCT kpi_date AS d FROM io_kpi_total_daily WHERE org_id = $1 AND cardinality($2::date[]) >= 0",
    };
    // 'quarter' is no interval unit, so each grain names its length.
    let touched = format!(
        "touched AS (
            SELECT DISTINCT g.grain, date_trunc(g.grain, d.d::timestamp)::date AS period_start, g.length
            FROM ({days_source}) d
            CROSS JOIN (VALUES ('week', interval '7 days'), ('month', interval '1 month'), ('quarter', interval '3 months')) AS g (grain, length)
        )"
    );
    sqlx::query(&format!(
        "WITH {touched}
         DELETE FROM io_kpi_period p USING touched t
         WHERE p.org_id = $1 AND p.grain = t.grain AND p.period_start = t.period_start"
    ))
    .bind(org_id)
    .bind(days.unwrap_or_default())
    .execute(&mut *conn)
    .await?;
    // One pass over the days of the touched span, each day row tagged with its three periods and
    // hash-joined to the touched ones (a per-period lookup would rescan the member rollup; a join
    // on an expression of both sides ran as a nested loop: 300 s for 5,000 days). The casts to
    // `timestamp` keep date_trunc off `timestamptz`, whose result depends on the session's zone.
    sqlx::query(&format!(
        "WITH {touched},
         span AS (SELECT min(period_start) AS lo, max(period_start + length) AS hi FROM touched),
         day_values AS (
            SELECT metric_key, kpi_date, 'total' AS dimension, '' AS member, value_sum, cell_count
            FROM io_kpi_total_daily, span WHERE org_id = $1 AND kpi_date >= span.lo AND kpi_date < span.hi
            UNION ALL
            SELECT metric_key, kpi_date, dimension, coalesce(member, ''), value_sum, cell_count
            FROM io_kpi_member_daily, span WHERE org_id = $1 AND kpi_date >= span.lo AND kpi_date < span.hi
         ),
         tagged AS (
            SELECT 'week' AS grain, date_trunc('week', kpi_date::timestamp)::date AS period_start, * FROM day_values
            UNION ALL
            SELECT 'month', date_trunc('month', kpi_date::timestamp)::date, * FROM day_values
            UNION ALL
            SELECT 'quarter', date_trunc('quarter', kpi_date::timestamp)::date, * FROM day_values
         )
         INSERT INTO io_kpi_period (org_id, metric_key, grain, period_start, dimension, member, value, days_present, last_day, row_count)
         SELECT $1, v.metric_key, v.grain, v.period_start, v.dimension, v.member,
                CASE m.aggregation
                    WHEN 'sum' THEN sum(v.value_sum)
                    WHEN 'avg' THEN avg(v.value_sum / v.cell_count)
                    ELSE (array_agg(v.value_sum ORDER BY v.kpi_date DESC))[1]
                END,
                count(*), max(v.kpi_date), sum(v.cell_count)
         FROM tagged v
         JOIN touched t ON t.grain = v.grain AND t.period_start = v.period_start
         JOIN io_metric m ON m.org_id = $1 AND m.key = v.metric_key
         GROUP BY v.metric_key, v.grain, v.period_start, v.dimension, v.member, m.aggregation"
    ))
    .bind(org_id)
    .bind(days.unwrap_or_default())
    .execute(conn)
    .await?;
    Ok(())
}

/// One stored aggregate of a metric's org-wide total.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PeriodValue {
    pub metric_key: String,
    pub period_start: NaiveDate,
    pub value: f64,
    pub days_present: i32,
}

/// The org-wide aggregates of `grain` whose periods start in `[from, to]`, by metric and period.
#[tracing::instrument(name = "sql", skip_all, fields(query = "aggregates::totals"))]
pub async fn totals(pool: &PgPool, org_id: Uuid, grain: Grain, from: NaiveDate, to: NaiveDate) -> Result<Vec<PeriodValue>, sqlx::Error> {
    sqlx::query_as(
        "SELECT metric_key, period_start, value, days_present FROM io_kpi_period
         WHERE org_id = $1 AND grain = $2 AND dimension = 'total' AND period_start BETWEEN $3 AND $4
         ORDER BY metric_key, period_start",
    )
    .bind(org_id)
    .bind(grain.as_str())
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

/// The weekly aggregates of one metric and slice (`dimension` 'total' with member '', or one
/// dimension's member) whose weeks start in `[from, to]`.
#[tracing::instrument(name = "sql", skip_all, fields(query = "aggregates::slice"))]
pub async fn slice(pool: &PgPool, org_id: Uuid, grain: Grain, metric_key: &str, slice: (&str, &str), from: NaiveDate, to: NaiveDate) -> Result<Vec<PeriodValue>, sqlx::Error> {
    sqlx::query_as(
        "SELECT metric_key, period_start, value, days_present FROM io_kpi_period
         WHERE org_id = $1 AND grain = $2 AND dimension = $3 AND metric_key = $4 AND member = $5 AND period_start BETWEEN $6 AND $7
         ORDER BY period_start",
    )
    .bind(org_id)
    .bind(grain.as_str())
    .bind(slice.0)
    .bind(metric_key)
    .bind(slice.1)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}
