//! Queries on daily KPI facts (`io_kpi_daily`) and engagement signals.
//! Dimension rows are combined per day here (sum, or mean for `avg` metrics); periods are not.

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MetricDayRow {
    pub metric_key: String,
    pub day: NaiveDate,
    pub value: f64,
}

/// Per metric and day in `[start, end]`, the org-wide value: rows of all dimension values are summed,
/// except for `avg` metrics (rates, scores), whose rows are averaged.
pub async fn daily_totals(
    pool: &PgPool,
    org_id: Uuid,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<MetricDayRow>, sqlx::Error> {
    sqlx::query_as::<_, MetricDayRow>(
        "SELECT k.metric_key, k.kpi_date AS day,
                (CASE WHEN m.aggregation = 'avg' THEN avg(k.value) ELSE sum(k.value) END)::float8 AS value
         FROM io_kpi_daily k
         JOIN io_metric m ON m.org_id = k.org_id AND m.key = k.metric_key
         WHERE k.org_id = $1 AND k.kpi_date BETWEEN $2 AND $3
         GROUP BY k.metric_key, k.kpi_date, m.aggregation
         ORDER BY k.metric_key, k.kpi_date",
    )
    .bind(org_id)
    .bind(start)
    .bind(end)
    .fetch_all(pool)
    .await
}

/// A selection of dimension values; an empty list means "every value" of that dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DimensionFilter {
    pub region: Vec<String>,
    pub segment: Vec<String>,
    pub channel: Vec<String>,
    pub product: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct DayValue {
    pub day: NaiveDate,
    pub value: f64,
}

/// One metric's daily series over the rows matching `filter`, combined per day like
/// [`daily_totals`] (mean for `avg` metrics, else sum). `table` picks KPIs or engagement signals.
pub async fn slice_series(
    pool: &PgPool,
    org_id: Uuid,
    table: FactTable,
    metric_key: &str,
    filter: &DimensionFilter,
) -> Result<Vec<DayValue>, sqlx::Error> {
    let (source, date_col, key_col) = table.columns();
    let statement = format!(
        "SELECT f.{date_col} AS day,
                (CASE WHEN m.aggregation = 'avg' THEN avg(f.value) ELSE sum(f.value) END)::float8 AS value
         FROM {source} f
         JOIN io_metric m ON m.org_id = f.org_id AND m.key = f.{key_col}
         WHERE f.org_id = $1 AND f.{key_col} = $2
           AND (cardinality($3::text[]) = 0 OR f.region = ANY($3))
           AND (cardinality($4::text[]) = 0 OR f.segment = ANY($4))
           AND (cardinality($5::text[]) = 0 OR f.channel = ANY($5))
           AND (cardinality($6::text[]) = 0 OR f.product = ANY($6))
         GROUP BY f.{date_col}, m.aggregation
         ORDER BY f.{date_col}"
    );
    sqlx::query_as::<_, DayValue>(&statement)
        .bind(org_id)
        .bind(metric_key)
        .bind(&filter.region)
        .bind(&filter.segment)
        .bind(&filter.channel)
        .bind(&filter.product)
        .fetch_all(pool)
        .await
}

/// The last day with any KPI data for the org; dashboards are "as of" this day.
pub async fn latest_day(pool: &PgPool, org_id: Uuid) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(kpi_date) FROM io_kpi_daily WHERE org_id = $1")
        .bind(org_id)
        .fetch_one(pool)
        .await
}

pub async fn count_for_org(pool: &PgPool, org_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM io_kpi_daily WHERE org_id = $1")
        .bind(org_id)
        .fetch_one(pool)
        .await
}

/// Opens a transaction-scoped staging table shaped like a daily fact row.
pub async fn begin_staging(conn: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DROP TABLE IF EXISTS io_stage_daily").execute(&mut *conn).await?;
    sqlx::query(
        "CREATE TEMP TABLE io_stage_daily (
            org_id uuid NOT NULL, day date NOT NULL, key text NOT NULL, value numeric NOT NULL,
            unit text, region text, segment text, channel text, product text, source text NOT NULL
         ) ON COMMIT DROP",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Streams CSV rows (the staging table's column order) into the staging table with COPY.
pub async fn copy_into_staging(conn: &mut sqlx::PgConnection, csv: Vec<u8>) -> Result<u64, sqlx::Error> {
    let mut copy = conn.copy_in_raw("COPY io_stage_daily FROM STDIN WITH (FORMAT csv)").await?;
    copy.send(csv).await?;
    copy.finish().await
}

/// The two daily fact tables, which share one shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactTable {
    Kpi,
    Signal,
}

impl FactTable {
    /// (table, date column, metric key column): fixed identifiers, safe to splice into SQL.
    fn columns(self) -> (&'static str, &'static str, &'static str) {
        match self {
            FactTable::Kpi => ("io_kpi_daily", "kpi_date", "metric_key"),
            FactTable::Signal => ("io_engagement_signal_daily", "signal_date", "signal_key"),
        }
    }
}

/// Moves staged rows into the fact table; rows whose natural key exists are kept as they are.
pub async fn merge_staging(conn: &mut sqlx::PgConnection, table: FactTable) -> Result<u64, sqlx::Error> {
    let (target, date_col, key_col) = table.columns();
    let statement = format!(
        "INSERT INTO {target} (org_id, {date_col}, {key_col}, value, unit, region, segment, channel, product, source)
         SELECT org_id, day, key, value, unit, region, segment, channel, product, source FROM io_stage_daily
         ON CONFLICT ON CONSTRAINT {target}_natural_key DO NOTHING"
    );
    let done = sqlx::query(&statement).execute(&mut *conn).await?;
    sqlx::query("TRUNCATE io_stage_daily").execute(conn).await?;
    Ok(done.rows_affected())
}
