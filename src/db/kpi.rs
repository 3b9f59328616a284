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
/// except for `avg` metrics (rates, scores), whose rows are averaged. Reads the per-day totals.
#[tracing::instrument(name = "sql", skip_all, fields(query = "kpi::daily_totals"))]
pub async fn daily_totals(
    pool: &PgPool,
    org_id: Uuid,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<MetricDayRow>, sqlx::Error> {
    sqlx::query_as::<_, MetricDayRow>(
        "SELECT t.metric_key, t.kpi_date AS day,
                CASE WHEN m.aggregation = 'avg' THEN t.value_sum / t.cell_count ELSE t.value_sum END AS value
         FROM io_kpi_total_daily t
         JOIN io_metric m ON m.org_id = t.org_id AND m.key = t.metric_key
         WHERE t.org_id = $1 AND t.kpi_date BETWEEN $2 AND $3
         ORDER BY t.metric_key, t.kpi_date",
    )
    .bind(org_id)
    .bind(start)
    .bind(end)
    .fetch_all(pool)
    .await
}

/// Rebuilds the org's pre-aggregated KPI rows from its facts; loaders call it in the transaction
/// that changed them, so readers never see the two disagree.
pub async fn refresh_rollups(conn: &mut sqlx::PgConnection, org_id: Uuid) -> Result<(), sqlx::Error> {
    rebuild_rollups(conn, org_id, None).await
}

/// [`refresh_rollups`] for the given days only: an ingest that touched three days rebuilds three
/// days, not the org's whole history.
#[tracing::instrument(name = "sql", skip_all, fields(query = "kpi::refresh_rollups_for_days"))]
pub async fn refresh_rollups_for_days(conn: &mut sqlx::PgConnection, org_id: Uuid, days: &[NaiveDate]) -> Result<(), sqlx::Error> {
    if days.is_empty() {
        return Ok(());
    }
    rebuild_rollups(conn, org_id, Some(days)).await
}

async fn rebuild_rollups(conn: &mut sqlx::PgConnection, org_id: Uuid, days: Option<&[NaiveDate]>) -> Result<(), sqlx::Error> {
    // Two texts rather than `$2 IS NULL OR ...`, so each gets a plan that uses the date.
    let only = if days.is_some() { " AND kpi_date = ANY($2)" } else { " AND cardinality($2::date[]) >= 0" };
    let statements = [
        format!("DELETE FROM io_kpi_cube_daily WHERE org_id = $1{only}"),
        format!("DELETE FROM io_kpi_total_daily WHERE org_id = $1{only}"),
        format!("DELETE FROM io_kpi_member_daily WHERE org_id = $1{only}"),
        format!(
            "INSERT INTO io_kpi_cube_daily (org_id, metric_key, kpi_date, region, segment, channel, value_sum, cell_count)
             SELECT org_id, metric_key, kpi_date, region, segment, channel, sum(value)::float8, count(*)
             FROM io_kpi_daily WHERE org_id = $1{only} GROUP BY 1, 2, 3, 4, 5, 6"
        ),
        format!(
            "INSERT INTO io_kpi_total_daily (org_id, metric_key, kpi_date, value_sum, cell_count)
             SELECT org_id, metric_key, kpi_date, sum(value_sum), sum(cell_count)
             FROM io_kpi_cube_daily WHERE org_id = $1{only} GROUP BY 1, 2, 3"
        ),
        format!(
            "INSERT INTO io_kpi_member_daily (org_id, metric_key, kpi_date, dimension, member, value_sum, cell_count)
             SELECT org_id, metric_key, kpi_date, 'product', product, sum(value)::float8, count(*)
             FROM io_kpi_daily WHERE org_id = $1{only} GROUP BY 1, 2, 3, 5"
        ),
        format!(
            "INSERT INTO io_kpi_member_daily (org_id, metric_key, kpi_date, dimension, member, value_sum, cell_count)
             SELECT org_id, metric_key, kpi_date, d.dimension, d.member, sum(value_sum), sum(cell_count)
             FROM io_kpi_cube_daily
             CROSS JOIN LATERAL (VALUES ('region', region), ('segment', segment), ('channel', channel)) AS d (dimension, member)
             WHERE org_id = $1{only} GROUP BY 1, 2, 3, 4, 5"
        ),
    ];
    let day_list: Vec<NaiveDate> = days.map(<[NaiveDate]>::to_vec).unwrap_or_default();
    for statement in &statements {
        sqlx::query(statement).bind(org_id).bind(&day_list).execute(&mut *conn).await?;
    }
    super::aggregates::refresh(conn, org_id, days).await
}

/// Where a `daily_by` query reads from: the smallest table that still has the columns it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadSource {
    /// The fact rows themselves.
    Facts,
    /// KPIs without the product dimension (`io_kpi_cube_daily`).
    Cube,
    /// KPI totals per day (`io_kpi_total_daily`).
    Totals,
    /// KPI totals per day and value of one dimension, nothing filtered (`io_kpi_member_daily`).
    Members,
}

impl ReadSource {
    pub fn for_query(table: FactTable, filter: &DimensionFilter, by: Option<Dimension>) -> ReadSource {
        let needs = |d: Dimension| !filter.values(d).is_empty() || by == Some(d);
        if table == FactTable::Signal {
            ReadSource::Facts
        } else if by.is_some() && filter.is_empty() {
            ReadSource::Members
        } else if needs(Dimension::Product) {
            ReadSource::Facts
        } else if [Dimension::Region, Dimension::Segment, Dimension::Channel].into_iter().any(needs) {
            ReadSource::Cube
        } else {
            ReadSource::Totals
        }
    }
}

pub use crate::domain::DimensionFilter;
use crate::domain::measure::Aggregation;
use crate::domain::Dimension;

/// One day of one metric, split by the values of a dimension (`member` is `None` for the total).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MemberDayValue {
    pub day: NaiveDate,
    pub member: Option<String>,
    pub value: f64,
}

/// Per day in `[start, end]` (and per value of `by`, when given), the metric over the rows matching
/// `filter`, combined like [`daily_totals`]. Rows with no value in `by` come back with `member`
/// `None`, so the parts still add up to the total.
#[allow(clippy::too_many_arguments)]
pub async fn daily_by(
    pool: &PgPool,
    org_id: Uuid,
    table: FactTable,
    metric_key: &str,
    aggregation: Aggregation,
    filter: &DimensionFilter,
    by: Option<Dimension>,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<MemberDayValue>, sqlx::Error> {
    let read = ReadSource::for_query(table, filter, by);
    daily_by_from(pool, org_id, table, read, metric_key, aggregation, filter, by, start, end).await
}

/// [`daily_by`] from a chosen source; tests use it to prove the rollups agree with the facts.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(name = "sql", skip_all, fields(query = "kpi::daily_by_from"))]
pub async fn daily_by_from(
    pool: &PgPool,
    org_id: Uuid,
    table: FactTable,
    read: ReadSource,
    metric_key: &str,
    aggregation: Aggregation,
    filter: &DimensionFilter,
    by: Option<Dimension>,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<MemberDayValue>, sqlx::Error> {
    let (facts, date_col, key_col) = table.columns();
    // The caller's rule picks the SQL aggregate, so the big read needs no join to the catalogue.
    let avg = aggregation == Aggregation::Avg;
    let (source, date_col, key_col, value) = match read {
        ReadSource::Facts => (facts, date_col, key_col, if avg { "avg(f.value)" } else { "sum(f.value)" }),
        ReadSource::Cube | ReadSource::Totals | ReadSource::Members => {
            let source = match read {
                ReadSource::Cube => "io_kpi_cube_daily",
                ReadSource::Totals => "io_kpi_total_daily",
                _ => "io_kpi_member_daily",
            };
            // sum = Σ value_sum; avg = Σ value_sum / Σ cell_count (the mean over the fact rows).
            (source, "kpi_date", "metric_key", if avg { "sum(f.value_sum) / sum(f.cell_count)" } else { "sum(f.value_sum)" })
        }
    };
    let (member, member_filter) = match (read, by) {
        (ReadSource::Members, Some(d)) => ("f.member".to_string(), format!(" AND f.dimension = '{}'", d.as_str())),
        (_, Some(d)) => (format!("f.{}", d.as_str()), String::new()),
        (_, None) => ("NULL::text".to_string(), String::new()),
    };
    // Only the columns the source has; `for_query` never picks a source lacking a filtered one.
    let dimension_filters: String = Dimension::ALL
        .iter()
        .enumerate()
        .filter(|(_, d)| match read {
            ReadSource::Facts => true,
            ReadSource::Cube => **d != Dimension::Product,
            ReadSource::Totals | ReadSource::Members => false,
        })
        .map(|(i, d)| format!(" AND (cardinality(${n}::text[]) = 0 OR f.{c} = ANY(${n}))", n = i + 3, c = d.as_str()))
        .collect();
    let statement = format!(
        "SELECT f.{date_col} AS day, {member} AS member, ({value})::float8 AS value
         FROM {source} f
         WHERE f.org_id = $1 AND f.{key_col} = $2 AND f.{date_col} BETWEEN $7 AND $8
           -- Every parameter appears once, so its type is known even for a source without dimensions.
           AND cardinality($3::text[]) + cardinality($4::text[]) + cardinality($5::text[]) + cardinality($6::text[]) >= 0
           {dimension_filters}{member_filter}
         GROUP BY 1, 2
         ORDER BY 1, 2"
    );
    sqlx::query_as::<_, MemberDayValue>(&statement)
        .bind(org_id)
        .bind(metric_key)
        .bind(&filter.region)
        .bind(&filter.segment)
        .bind(&filter.channel)
        .bind(&filter.product)
        .bind(start)
        .bind(end)
        .fetch_all(pool)
        .await
}

/// One day of one slice of a metric: `dimension` and `member` are `None` for the org total.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SliceDayValue {
    pub dimension: Option<String>,
    pub member: Option<String>,
    pub day: NaiveDate,
    pub value: f64,
}

/// The metric's org total per day and its series per value of each dimension in `by`, in one
/// query, so a model run reads each metric once however many slices it has. KPIs read the
/// rollups; signals group their facts with `GROUPING SETS`. Rows with no value in a dimension
/// are left out of that dimension's slices. Sorted by dimension (total first), member and day.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(name = "sql", skip_all, fields(query = "kpi::metric_slices"))]
pub async fn metric_slices(
    pool: &PgPool,
    org_id: Uuid,
    table: FactTable,
    metric_key: &str,
    aggregation: Aggregation,
    by: &[Dimension],
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<SliceDayValue>, sqlx::Error> {
    let avg = aggregation == Aggregation::Avg;
    let dimensions: Vec<&str> = by.iter().map(|d| d.as_str()).collect();
    let statement = match table {
        FactTable::Kpi => {
            let value = if avg { "value_sum / cell_count" } else { "value_sum" };
            format!(
                "SELECT NULL::text AS dimension, NULL::text AS member, kpi_date AS day, ({value})::float8 AS value
                 FROM io_kpi_total_daily WHERE org_id = $1 AND metric_key = $2 AND kpi_date BETWEEN $4 AND $5
                 UNION ALL
                 SELECT dimension, member, kpi_date, ({value})::float8
                 FROM io_kpi_member_daily
                 WHERE org_id = $1 AND metric_key = $2 AND dimension = ANY($3) AND member IS NOT NULL
                   AND kpi_date BETWEEN $4 AND $5
                 ORDER BY 1 NULLS FIRST, 2, 3"
            )
        }
        FactTable::Signal => {
            let (facts, date_col, key_col) = table.columns();
            let sets: String = by.iter().map(|d| format!(", (f.{date_col}, f.{})", d.as_str())).collect();
            // Which grouping set a row is from, as the dimension's name and the row's value in it.
            let which = |then: &dyn Fn(&str) -> String| -> String {
                let arms: String = by.iter().map(|d| format!(" WHEN GROUPING(f.{c}) = 0 THEN {}", then(d.as_str()), c = d.as_str())).collect();
                if arms.is_empty() { "NULL::text".to_string() } else { format!("CASE{arms} END") }
            };
            let (dimension, member) = (which(&|d| format!("'{d}'")), which(&|d| format!("f.{d}")));
            format!(
                "SELECT * FROM (
                   SELECT {dimension} AS dimension, {member} AS member,
                          f.{date_col} AS day, ({agg}(f.value))::float8 AS value
                   FROM {facts} f
                   WHERE f.org_id = $1 AND f.{key_col} = $2 AND f.{date_col} BETWEEN $4 AND $5 AND cardinality($3::text[]) >= 0
                   GROUP BY GROUPING SETS ((f.{date_col}){sets})
                 ) s
                 WHERE (dimension IS NULL) = (member IS NULL)
                 ORDER BY 1 NULLS FIRST, 2, 3",
                agg = if avg { "avg" } else { "sum" }
            )
        }
    };
    sqlx::query_as::<_, SliceDayValue>(&statement)
        .bind(org_id)
        .bind(metric_key)
        .bind(&dimensions)
        .bind(start)
        .bind(end)
        .fetch_all(pool)
        .await
}

/// One dimension value's totals of a summed KPI over two periods.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MemberPeriods {
    pub member: Option<String>,
    pub previous: f64,
    pub current: f64,
}

/// Per value of `by`, a summed KPI's total over `[previous_start, current_start)` and over
/// `[current_start, current_end]`, computed in the database from the member rollup, so a board
/// page's driver breakdown moves a few dozen rows instead of one per member and day.
#[tracing::instrument(name = "sql", skip_all, fields(query = "kpi::member_period_totals"))]
pub async fn member_period_totals(
    pool: &PgPool,
    org_id: Uuid,
    metric_key: &str,
    by: Dimension,
    previous_start: NaiveDate,
    current_start: NaiveDate,
    current_end: NaiveDate,
) -> Result<Vec<MemberPeriods>, sqlx::Error> {
    sqlx::query_as::<_, MemberPeriods>(
        "SELECT member,
                coalesce(sum(value_sum) FILTER (WHERE kpi_date < $5), 0)::float8 AS previous,
                coalesce(sum(value_sum) FILTER (WHERE kpi_date >= $5), 0)::float8 AS current
         FROM io_kpi_member_daily
         WHERE org_id = $1 AND metric_key = $2 AND dimension = $3 AND kpi_date BETWEEN $4 AND $6
         GROUP BY member
         ORDER BY member",
    )
    .bind(org_id)
    .bind(metric_key)
    .bind(by.as_str())
    .bind(previous_start)
    .bind(current_start)
    .bind(current_end)
    .fetch_all(pool)
    .await
}

/// Every value each dimension takes in the org's data, sorted.
#[tracing::instrument(name = "sql", skip_all, fields(query = "kpi::dimension_values"))]
pub async fn dimension_values(pool: &PgPool, org_id: Uuid) -> Result<Vec<(Dimension, String)>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT dimension, value FROM io_dimension_value WHERE org_id = $1 ORDER BY dimension, value")
            .bind(org_id)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().filter_map(|(d, v)| Some((Dimension::parse(&d)?, v))).collect())
}

/// Where new dimension values are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimensionSource {
    /// Every fact row of the org (the seed, after loading whole orgs).
    Facts,
    /// The rows staged by this transaction (an ingest: only what it brings).
    Staged,
}

/// Records the dimension values present in `source`; run by loaders in their transaction.
pub async fn record_dimension_values(conn: &mut sqlx::PgConnection, org_id: Uuid, source: DimensionSource) -> Result<(), sqlx::Error> {
    let rows = match source {
        DimensionSource::Facts => {
            "SELECT region, segment, channel, product FROM io_kpi_daily WHERE org_id = $1
             UNION SELECT region, segment, channel, product FROM io_engagement_signal_daily WHERE org_id = $1"
        }
        DimensionSource::Staged => "SELECT region, segment, channel, product FROM io_stage_daily",
    };
    let statement = format!(
        "INSERT INTO io_dimension_value (org_id, dimension, value)
         SELECT DISTINCT $1::uuid, d.dimension, d.value
         FROM ({rows}) f
         CROSS JOIN LATERAL (VALUES ('region', region), ('segment', segment), ('channel', channel), ('product', product))
             AS d (dimension, value)
         WHERE d.value IS NOT NULL AND d.value <> ''
         ON CONFLICT DO NOTHING"
    );
    sqlx::query(&statement).bind(org_id).execute(conn).await?;
    Ok(())
}

/// The last day with any KPI data for the org; dashboards are "as of" this day.
#[tracing::instrument(name = "sql", skip_all, fields(query = "kpi::latest_day"))]
pub async fn latest_day(pool: &PgPool, org_id: Uuid) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(kpi_date) FROM io_kpi_daily WHERE org_id = $1")
        .bind(org_id)
        .fetch_one(pool)
        .await
}

/// What a cached board summary is built from: the org's last day with data and its data version
/// (raised by every load, so an update of a past day invalidates caches in every instance too).
pub async fn data_stamp(pool: &PgPool, org_id: Uuid) -> Result<(Option<NaiveDate>, i64), sqlx::Error> {
    sqlx::query_as("SELECT (SELECT max(kpi_date) FROM io_kpi_daily WHERE org_id = $1), coalesce((SELECT data_version FROM io_org WHERE id = $1), 0)")
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
    pub(crate) fn columns(self) -> (&'static str, &'static str, &'static str) {
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
