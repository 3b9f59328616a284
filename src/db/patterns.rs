//! Recurring patterns (`io_pattern`) found by the weekly, monthly and yearly reviews.

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

/// A stored pattern; one per org, window, metric and window end (a review run twice replaces it).
#[derive(Debug, Clone, PartialEq)]
pub struct PatternRow {
    pub window_kind: String,
    pub metric_key: String,
    pub sources: Vec<String>,
    pub names_slices: bool,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub events: i32,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
}

pub async fn upsert(pool: &PgPool, org_id: Uuid, p: &PatternRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO io_pattern (org_id, window_kind, metric_key, sources, names_slices, first_day, last_day, events, window_start, window_end)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (org_id, window_kind, metric_key, window_end) DO UPDATE SET
           sources = EXCLUDED.sources, names_slices = EXCLUDED.names_slices, first_day = EXCLUDED.first_day,
           last_day = EXCLUDED.last_day, events = EXCLUDED.events, window_start = EXCLUDED.window_start, found_at = now()",
    )
    .bind(org_id)
    .bind(&p.window_kind)
    .bind(&p.metric_key)
    .bind(&p.sources)
    .bind(p.names_slices)
    .bind(p.first_day)
    .bind(p.last_day)
    .bind(p.events)
    .bind(p.window_start)
    .bind(p.window_end)
    .execute(pool)
    .await?;
    Ok(())
}

/// Stored patterns of the org on the given metrics (all when `None`), newest window first.
pub async fn list(pool: &PgPool, org_id: Uuid, metrics: Option<&[String]>, limit: i64) -> Result<Vec<PatternRow>, sqlx::Error> {
    let rows: Vec<(String, String, Vec<String>, bool, NaiveDate, NaiveDate, i32, NaiveDate, NaiveDate)> = sqlx::query_as(
        "SELECT window_kind, metric_key, sources, names_slices, first_day, last_day, events, window_start, window_end
         FROM io_pattern WHERE org_id = $1 AND ($2::text[] IS NULL OR metric_key = ANY($2))
         ORDER BY window_end DESC, window_kind, metric_key LIMIT $3",
    )
    .bind(org_id)
    .bind(metrics)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PatternRow { window_kind: r.0, metric_key: r.1, sources: r.2, names_slices: r.3, first_day: r.4, last_day: r.5, events: r.6, window_start: r.7, window_end: r.8 })
        .collect())
}
