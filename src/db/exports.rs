//! Reads of exports: how many fact rows a view has (checked against the export limit before a
//! byte is sent) and the rows themselves as a stream, so an export's memory does not grow with it.

use chrono::NaiveDate;
use futures::stream::BoxStream;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::DimensionFilter;

/// Which fact rows an export reads.
#[derive(Debug, Clone, PartialEq)]
pub struct FactSelection {
    pub org_id: Uuid,
    pub metrics: Vec<String>,
    pub filter: DimensionFilter,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Most rows read: one more than were counted, so rows added meanwhile are noticed.
    pub limit: i64,
}

/// One stored KPI row; `value` is the stored decimal's text, so no digit is lost to a float.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FactExportRow {
    pub day: NaiveDate,
    pub metric_key: String,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub channel: Option<String>,
    pub product: Option<String>,
    pub source: String,
    pub value: String,
}

const WHERE: &str = "f.org_id = $1 AND f.metric_key = ANY($2) AND f.kpi_date BETWEEN $3 AND $4
    AND (cardinality($5::text[]) = 0 OR f.region = ANY($5)) AND (cardinality($6::text[]) = 0 OR f.segment = ANY($6))
    AND (cardinality($7::text[]) = 0 OR f.channel = ANY($7)) AND (cardinality($8::text[]) = 0 OR f.product = ANY($8))";

type RowsQuery<'q, O> = sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>;

/// Binds a selection as the parameters of [`WHERE`].
fn bind_selection<'q, O>(query: RowsQuery<'q, O>, s: &'q FactSelection) -> RowsQuery<'q, O> {
    query.bind(s.org_id).bind(&s.metrics).bind(s.start).bind(s.end).bind(&s.filter.region).bind(&s.filter.segment).bind(&s.filter.channel).bind(&s.filter.product)
}

pub async fn count_facts(pool: &PgPool, s: &FactSelection) -> Result<i64, sqlx::Error> {
    let statement = format!("SELECT count(*) FROM io_kpi_daily f WHERE {WHERE}");
    let (count,): (i64,) = bind_selection(sqlx::query_as(&statement), s).fetch_one(pool).await?;
    Ok(count)
}

/// The rows, by metric and day, as the database produces them.
pub fn facts<'c>(conn: &'c mut PgConnection, s: &'c FactSelection) -> BoxStream<'c, Result<FactExportRow, sqlx::Error>> {
    // One statement text for the process, so sqlx reuses its prepared plan on each connection.
    static STATEMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let statement = STATEMENT.get_or_init(|| {
        format!(
            "SELECT f.kpi_date AS day, f.metric_key, f.region, f.segment, f.channel, f.product, f.source, f.value::text AS value
             FROM io_kpi_daily f WHERE {WHERE} ORDER BY f.metric_key, f.kpi_date LIMIT $9"
        )
    });
    bind_selection(sqlx::query_as::<_, FactExportRow>(statement), s).bind(s.limit).fetch(conn)
}

/// The catalogue's PII flags: the keys of the org's metrics marked as personal data.
pub async fn pii_metrics(pool: &PgPool, org_id: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT key FROM io_metric WHERE org_id = $1 AND pii ORDER BY key").bind(org_id).fetch_all(pool).await
}
