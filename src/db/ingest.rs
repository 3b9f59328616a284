//! Writes of the ingest path: validated rows are staged with COPY and merged into a fact table in
//! one statement that inserts new keys and updates changed values (re-sent rows are left alone),
//! and every load is recorded for the history on `/data`.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::decode;
use super::kpi::{begin_staging, copy_into_staging, FactTable};
use crate::domain::ingest::{IngestMode, IngestReport, IngestRow, IngestTarget, LoadChannel, LoadSummary};

/// Locks the org's row for the rest of the transaction: loads into one org run one after another,
/// so two never create the same metric or rebuild the same day's rollups at once.
pub async fn lock_org(conn: &mut PgConnection, org_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM io_org WHERE id = $1 FOR UPDATE").bind(org_id).execute(conn).await?;
    Ok(())
}

/// Each catalogue metric of the org: key, kind (`kpi`/`signal`) and unit.
pub async fn known_metrics(conn: &mut PgConnection, org_id: Uuid) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT key, kind, unit FROM io_metric WHERE org_id = $1").bind(org_id).fetch_all(conn).await
}

/// Stages the rows (with the unit each is stored with) for [`merge`], through COPY.
pub async fn stage(conn: &mut PgConnection, org_id: Uuid, rows: &[(&IngestRow, &str)]) -> Result<u64, sqlx::Error> {
    begin_staging(conn).await?;
    let org = org_id.to_string();
    let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 64));
    for (r, unit) in rows {
        let (date, value) = (r.date.to_string(), r.value.to_string());
        let dims = [&r.region, &r.segment, &r.channel, &r.product].map(|d| d.as_deref().unwrap_or(""));
        let record = [org.as_str(), &date, &r.metric, &value, unit, dims[0], dims[1], dims[2], dims[3], &r.source];
        out.write_record(record).map_err(|e| sqlx::Error::Protocol(format!("staging a row: {e}")))?;
    }
    let bytes = out.into_inner().map_err(|e| sqlx::Error::Protocol(format!("staging rows: {e}")))?;
    copy_into_staging(conn, bytes).await
}

/// Rows the merge inserted and updated; the others were re-sent unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MergeCounts {
    pub inserted: u64,
    pub updated: u64,
}

/// Moves the staged rows into `table`: new keys inserted, changed values updated.
pub async fn merge(conn: &mut PgConnection, table: FactTable) -> Result<MergeCounts, sqlx::Error> {
    let (target, date_col, key_col) = table.columns();
    let statement = format!(
        "WITH written AS (
             INSERT INTO {target} AS t (org_id, {date_col}, {key_col}, value, unit, region, segment, channel, product, source)
             SELECT org_id, day, key, value, unit, region, segment, channel, product, source FROM io_stage_daily
             ON CONFLICT ON CONSTRAINT {target}_natural_key DO UPDATE SET value = EXCLUDED.value, unit = EXCLUDED.unit
             WHERE t.value IS DISTINCT FROM EXCLUDED.value OR t.unit IS DISTINCT FROM EXCLUDED.unit
             RETURNING (xmax = 0) AS inserted
         )
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written"
    );
    let (inserted, updated): (i64, i64) = sqlx::query_as(&statement).fetch_one(conn).await?;
    Ok(MergeCounts { inserted: inserted as u64, updated: updated as u64 })
}

/// The days the staged rows touch.
pub async fn staged_days(conn: &mut PgConnection) -> Result<Vec<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT day FROM io_stage_daily ORDER BY 1").fetch_all(conn).await
}

/// Marks the org's data as changed: every app instance's board cache compares this version.
pub async fn bump_data_version(conn: &mut PgConnection, org_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE io_org SET data_version = data_version + 1 WHERE id = $1").bind(org_id).execute(conn).await?;
    Ok(())
}

/// Errors kept per load in the history; the response lists all of them.
const ERRORS_KEPT: usize = 100;

pub async fn record_load(conn: &mut PgConnection, org_id: Uuid, channel: LoadChannel, actor: &str, report: &IngestReport) -> Result<Uuid, sqlx::Error> {
    let errors = serde_json::to_value(report.errors.iter().take(ERRORS_KEPT).collect::<Vec<_>>()).unwrap_or_default();
    let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    sqlx::query_scalar(
        "INSERT INTO io_ingest_load (org_id, target, channel, actor, mode, inserted, updated, unchanged, rejected, first_day, last_day, errors)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(org_id)
    .bind(report.target.as_str())
    .bind(channel.as_str())
    .bind(actor)
    .bind(report.mode.as_str())
    .bind(count(report.inserted))
    .bind(count(report.updated))
    .bind(count(report.unchanged))
    .bind(count(report.rejected as u64))
    .bind(report.first_day)
    .bind(report.last_day)
    .bind(errors)
    .fetch_one(conn)
    .await
}

#[derive(sqlx::FromRow)]
struct LoadRow {
    id: Uuid,
    target: String,
    channel: String,
    actor: String,
    mode: String,
    inserted: i32,
    updated: i32,
    unchanged: i32,
    rejected: i32,
    first_day: Option<NaiveDate>,
    last_day: Option<NaiveDate>,
    error_count: i32,
    loaded_at: String,
}

/// The org's most recent loads, newest first.
pub async fn recent_loads(pool: &PgPool, org_id: Uuid, limit: i64) -> Result<Vec<LoadSummary>, sqlx::Error> {
    let rows: Vec<LoadRow> = sqlx::query_as(
        "SELECT id, target, channel, actor, mode, inserted, updated, unchanged, rejected, first_day, last_day,
                jsonb_array_length(errors) AS error_count,
                to_char(loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"') AS loaded_at
         FROM io_ingest_load WHERE org_id = $1 ORDER BY loaded_at DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(LoadSummary {
                id: r.id,
                target: decode("io_ingest_load.target", &r.target, IngestTarget::parse(&r.target))?,
                channel: decode("io_ingest_load.channel", &r.channel, LoadChannel::parse(&r.channel))?,
                mode: decode("io_ingest_load.mode", &r.mode, IngestMode::parse(&r.mode))?,
                actor: r.actor,
                inserted: r.inserted,
                updated: r.updated,
                unchanged: r.unchanged,
                rejected: r.rejected,
                first_day: r.first_day,
                last_day: r.last_day,
                error_count: r.error_count,
                loaded_at: r.loaded_at,
            })
        })
        .collect()
}
