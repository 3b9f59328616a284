//! Backfill and weekly collections (`io_collection`) and their weeks (`io_collection_week`).
//! A week job locks its week row, so two workers never load the same week at once, and a
//! collection's progress is recomputed under its row lock, so concurrent weeks never lose a count.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::decode;
use crate::domain::collections::{progress, CollectionStatus, CollectionSummary, CollectionType, SourceKind, WeekStatus, WeekSummary};
use crate::domain::ingest::IngestTarget;

/// A new collection's row; its weeks are inserted with it.
pub struct NewCollection<'a> {
    pub org_id: Uuid,
    pub name: &'a str,
    pub collection_type: CollectionType,
    pub target: IngestTarget,
    pub source_kind: SourceKind,
    pub source: &'a str,
    pub weeks: &'a [(NaiveDate, NaiveDate)],
    pub start_date: NaiveDate,
    pub created_by: Uuid,
}

/// Inserts the collection and its weeks (one statement for all weeks); `None` when the org
/// already has one of that name.
pub async fn create(conn: &mut PgConnection, c: &NewCollection<'_>) -> Result<Option<Uuid>, sqlx::Error> {
    let end = c.weeks.last().map_or(c.start_date, |w| w.1);
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO io_collection (org_id, name, collection_type, target, source_kind, source, target_weeks, start_date, end_date, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (org_id, name) DO NOTHING RETURNING id",
    )
    .bind(c.org_id)
    .bind(c.name)
    .bind(c.collection_type.as_str())
    .bind(c.target.as_str())
    .bind(c.source_kind.as_str())
    .bind(c.source)
    .bind(c.weeks.len() as i32)
    .bind(c.start_date)
    .bind(end)
    .bind(c.created_by)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = id {
        let (starts, ends): (Vec<NaiveDate>, Vec<NaiveDate>) = c.weeks.iter().copied().unzip();
        sqlx::query("INSERT INTO io_collection_week (collection_id, week_start, week_end) SELECT $1, s, e FROM unnest($2::date[], $3::date[]) AS w (s, e)")
            .bind(id)
            .bind(&starts)
            .bind(&ends)
            .execute(conn)
            .await?;
    }
    Ok(id)
}

/// Adds a week (nothing if it is there already) and widens the collection to hold it.
pub async fn add_week(conn: &mut PgConnection, collection_id: Uuid, start: NaiveDate, end: NaiveDate) -> Result<Option<Uuid>, sqlx::Error> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO io_collection_week (collection_id, week_start, week_end) VALUES ($1, $2, $3)
         ON CONFLICT (collection_id, week_start) DO NOTHING RETURNING id",
    )
    .bind(collection_id)
    .bind(start)
    .bind(end)
    .fetch_optional(&mut *conn)
    .await?;
    if id.is_some() {
        sqlx::query("UPDATE io_collection SET target_weeks = target_weeks + 1, end_date = greatest(end_date, $2) WHERE id = $1")
            .bind(collection_id)
            .bind(end)
            .execute(conn)
            .await?;
    }
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct CollectionRow {
    id: Uuid,
    name: String,
    collection_type: String,
    target: String,
    source_kind: String,
    source: String,
    target_weeks: i32,
    start_date: NaiveDate,
    end_date: NaiveDate,
    status: String,
    progress_percentage: i32,
    weeks_completed: i32,
    error_message: Option<String>,
    created_by: Option<String>,
    updated_at: String,
}

impl TryFrom<CollectionRow> for CollectionSummary {
    type Error = sqlx::Error;
    fn try_from(r: CollectionRow) -> Result<Self, sqlx::Error> {
        Ok(CollectionSummary {
            id: r.id,
            collection_type: decode("io_collection.collection_type", &r.collection_type, CollectionType::parse(&r.collection_type))?,
            target: decode("io_collection.target", &r.target, IngestTarget::parse(&r.target))?,
            source_kind: decode("io_collection.source_kind", &r.source_kind, SourceKind::parse(&r.source_kind))?,
            status: decode("io_collection.status", &r.status, CollectionStatus::parse(&r.status))?,
            name: r.name,
            source: r.source,
            target_weeks: r.target_weeks.max(0) as u32,
            start_date: r.start_date,
            end_date: r.end_date,
            progress_percentage: r.progress_percentage.max(0) as u32,
            weeks_completed: r.weeks_completed.max(0) as u32,
            error_message: r.error_message,
            created_by: r.created_by,
            updated_at: r.updated_at,
        })
    }
}

const COLLECTION_COLUMNS: &str = "c.id, c.name, c.collection_type, c.target, c.source_kind, c.source, c.target_weeks, c.start_date,
    c.end_date, c.status, c.progress_percentage, c.weeks_completed, c.error_message, u.email AS created_by,
    to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"') AS updated_at";

/// The org's collections, newest first.
pub async fn for_org(pool: &PgPool, org_id: Uuid) -> Result<Vec<CollectionSummary>, sqlx::Error> {
    let rows: Vec<CollectionRow> = sqlx::query_as(&format!(
        "SELECT {COLLECTION_COLUMNS} FROM io_collection c LEFT JOIN io_user u ON u.id = c.created_by
         WHERE c.org_id = $1 ORDER BY c.created_at DESC, c.name"
    ))
    .bind(org_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(CollectionSummary::try_from).collect()
}

/// One collection of the org.
pub async fn by_id(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<CollectionSummary>, sqlx::Error> {
    let row: Option<CollectionRow> = sqlx::query_as(&format!(
        "SELECT {COLLECTION_COLUMNS} FROM io_collection c LEFT JOIN io_user u ON u.id = c.created_by WHERE c.org_id = $1 AND c.id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(CollectionSummary::try_from).transpose()
}

#[derive(sqlx::FromRow)]
struct WeekRow {
    id: Uuid,
    week_start: NaiveDate,
    week_end: NaiveDate,
    status: String,
    attempts: i32,
    row_count: Option<i32>,
    data_checksum: Option<String>,
    error_message: Option<String>,
    executed_at: Option<String>,
}

impl TryFrom<WeekRow> for WeekSummary {
    type Error = sqlx::Error;
    fn try_from(r: WeekRow) -> Result<Self, sqlx::Error> {
        Ok(WeekSummary {
            id: r.id,
            status: decode("io_collection_week.status", &r.status, WeekStatus::parse(&r.status))?,
            week_start: r.week_start,
            week_end: r.week_end,
            attempts: r.attempts.max(0) as u32,
            row_count: r.row_count.map(|n| n.max(0) as u64),
            data_checksum: r.data_checksum,
            error_message: r.error_message,
            executed_at: r.executed_at,
        })
    }
}

const WEEK_COLUMNS: &str = "w.id, w.week_start, w.week_end, w.status, w.attempts, w.row_count, w.data_checksum, w.error_message,
    to_char(w.executed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"') AS executed_at";

/// A collection's weeks in date order.
pub async fn weeks(conn: &mut PgConnection, collection_id: Uuid) -> Result<Vec<WeekSummary>, sqlx::Error> {
    let rows: Vec<WeekRow> = sqlx::query_as(&format!("SELECT {WEEK_COLUMNS} FROM io_collection_week w WHERE w.collection_id = $1 ORDER BY w.week_start"))
        .bind(collection_id)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(WeekSummary::try_from).collect()
}

#[derive(sqlx::FromRow)]
struct LockedWeekRow {
    collection_id: Uuid,
    #[sqlx(flatten)]
    week: WeekRow,
}

/// Locks one week of the org's collection for its job; `None` if either is gone.
pub async fn lock_week(conn: &mut PgConnection, org_id: Uuid, week_id: Uuid) -> Result<Option<(Uuid, WeekSummary)>, sqlx::Error> {
    let row: Option<LockedWeekRow> = sqlx::query_as(&format!(
        "SELECT w.collection_id, {WEEK_COLUMNS} FROM io_collection_week w JOIN io_collection c ON c.id = w.collection_id
         WHERE w.id = $1 AND c.org_id = $2 FOR UPDATE OF w"
    ))
    .bind(week_id)
    .bind(org_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.collection_id, WeekSummary::try_from(r.week)?))).transpose()
}

/// What one attempt at a week came to.
pub struct WeekOutcome<'a> {
    pub status: WeekStatus,
    pub row_count: Option<u64>,
    /// Kept only for a completed week: a failed attempt must not make the next one skip.
    pub checksum: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// Marks a week running and counts the attempt.
pub async fn start_week(conn: &mut PgConnection, week_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE io_collection_week SET status = 'running', attempts = attempts + 1, error_message = NULL WHERE id = $1")
        .bind(week_id)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn finish_week(conn: &mut PgConnection, week_id: Uuid, outcome: &WeekOutcome<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE io_collection_week SET status = $2, row_count = coalesce($3, row_count), data_checksum = coalesce($4, data_checksum),
                error_message = $5, executed_at = now() WHERE id = $1",
    )
    .bind(week_id)
    .bind(outcome.status.as_str())
    .bind(outcome.row_count.map(|n| i32::try_from(n).unwrap_or(i32::MAX)))
    .bind(outcome.checksum)
    .bind(outcome.error)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Recounts the collection's progress and settles its status, under its row lock.
pub async fn refresh_progress(conn: &mut PgConnection, collection_id: Uuid) -> Result<(), sqlx::Error> {
    let status: String = sqlx::query_scalar("SELECT status FROM io_collection WHERE id = $1 FOR UPDATE").bind(collection_id).fetch_one(&mut *conn).await?;
    let current = decode("io_collection.status", &status, CollectionStatus::parse(&status))?;
    let texts: Vec<String> = sqlx::query_scalar("SELECT status FROM io_collection_week WHERE collection_id = $1").bind(collection_id).fetch_all(&mut *conn).await?;
    let weeks = texts.iter().map(|t| decode("io_collection_week.status", t, WeekStatus::parse(t))).collect::<Result<Vec<_>, _>>()?;
    let (done, percent, next) = progress(current, &weeks);
    let failed = weeks.iter().filter(|w| **w == WeekStatus::Failed).count();
    let error = (failed > 0).then(|| format!("{failed} week{} failed; retry them from the collection's page", if failed == 1 { "" } else { "s" }));
    sqlx::query("UPDATE io_collection SET weeks_completed = $2, progress_percentage = $3, status = $4, error_message = $5 WHERE id = $1")
        .bind(collection_id)
        .bind(done as i32)
        .bind(percent as i32)
        .bind(next.as_str())
        .bind(error)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Sets the status of the org's collection if it is one of `from`; returns its name when it did.
pub async fn set_status(conn: &mut PgConnection, org_id: Uuid, id: Uuid, from: &[CollectionStatus], to: CollectionStatus) -> Result<Option<String>, sqlx::Error> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    sqlx::query_scalar("UPDATE io_collection SET status = $4 WHERE org_id = $1 AND id = $2 AND status = ANY($3) RETURNING name")
        .bind(org_id)
        .bind(id)
        .bind(&from)
        .bind(to.as_str())
        .fetch_optional(conn)
        .await
}

/// Puts the collection's weeks in one of `from` back to pending (one week when `week_id` is
/// given) and returns the ids of the weeks that now wait.
pub async fn reset_weeks(conn: &mut PgConnection, collection_id: Uuid, week_id: Option<Uuid>, from: &[WeekStatus]) -> Result<Vec<Uuid>, sqlx::Error> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    sqlx::query("UPDATE io_collection_week SET status = 'pending', error_message = NULL WHERE collection_id = $1 AND ($2::uuid IS NULL OR id = $2) AND status = ANY($3)")
        .bind(collection_id)
        .bind(week_id)
        .bind(&from)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar("SELECT id FROM io_collection_week WHERE collection_id = $1 AND ($2::uuid IS NULL OR id = $2) AND status = 'pending' ORDER BY week_start")
        .bind(collection_id)
        .bind(week_id)
        .fetch_all(conn)
        .await
}

/// Every weekly-update collection that is not paused, with its org.
pub async fn weekly_updates(conn: &mut PgConnection) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    sqlx::query_as("SELECT id, org_id FROM io_collection WHERE collection_type = 'weekly_update' AND status <> 'paused' ORDER BY created_at")
        .fetch_all(conn)
        .await
}
