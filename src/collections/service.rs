//! Collections: creating one with its weeks planned, pausing, resuming, re-running and retrying a
//! week (each audited in its transaction and queuing the week jobs it frees), and the week job:
//! fetch the week from its source, skip it when the bytes are the ones last loaded, otherwise load
//! it all-or-nothing through the same path as an upload.

use std::path::{Component, Path, PathBuf};

use chrono::{NaiveDate, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{CollectionDetail, CollectionSummary, NewCollectionForm};
use crate::auth::server::Principal;
use crate::config::{Config, IngestConfig};
use crate::db;
use crate::db::collections::{NewCollection, WeekOutcome};
use crate::db::jobs::NewJob;
use crate::domain::audit::AuditAction;
use crate::domain::collections::{backfill_weeks, expand_template, week_file_name, week_just_ended, week_start_of, CollectionStatus, CollectionType, SourceKind, WeekStatus, WeekSummary, MAX_WEEKS};
use crate::domain::date::parse_day;
use crate::domain::ingest::{IngestMode, IngestTarget, LoadChannel, RowError};
use crate::domain::jobs::JobKind;
use crate::error::AppError;
use crate::ingest::parse::{parse_csv, parse_json, Parsed};
use crate::ingest::service::LoadRequest;

/// A collection form checked: what [`create`] stores.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidCollection {
    pub name: String,
    pub collection_type: CollectionType,
    pub target: IngestTarget,
    pub source_kind: SourceKind,
    pub source: String,
    pub weeks: Vec<(NaiveDate, NaiveDate)>,
    pub start_date: NaiveDate,
}

fn bad(message: String) -> AppError {
    AppError::BadRequest(message)
}

/// A folder inside the collections directory: relative, without `..`, and existing.
fn check_folder(source: &str, limits: &IngestConfig) -> Result<PathBuf, AppError> {
    let relative = Path::new(source);
    if source.is_empty() || !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(bad(format!("{source:?} must be a folder inside the collections directory ({}), without .. or a leading /", limits.collections_dir)));
    }
    let folder = Path::new(&limits.collections_dir).join(relative);
    if !folder.is_dir() {
        return Err(bad(format!("there is no folder {source:?} in the collections directory ({})", limits.collections_dir)));
    }
    Ok(folder)
}

fn check_url_template(source: &str) -> Result<(), AppError> {
    if !(source.starts_with("http://") || source.starts_with("https://")) || !source.contains("{week_start}") {
        return Err(bad("the URL must start with http:// or https:// and contain {week_start} (and may contain {week_end})".into()));
    }
    let sample = expand_template(source, NaiveDate::MIN, NaiveDate::MIN);
    reqwest::Url::parse(&sample).map_err(|e| bad(format!("{source:?} is not a URL template: {e}")))?;
    Ok(())
}

/// Checks the form as an admin filled it; `today` bounds a weekly update's first weeks.
pub fn validate(form: &NewCollectionForm, limits: &IngestConfig, today: NaiveDate) -> Result<ValidCollection, AppError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(bad("give the collection a name of 1 to 80 characters".into()));
    }
    let collection_type = CollectionType::parse(&form.collection_type).ok_or_else(|| bad(format!("{:?} is not backfill or weekly_update", form.collection_type)))?;
    let target = IngestTarget::parse(&form.target).ok_or_else(|| bad(format!("{:?} is not kpi or signal", form.target)))?;
    let source_kind = SourceKind::parse(&form.source_kind).ok_or_else(|| bad(format!("{:?} is not csv_dir or http_json", form.source_kind)))?;
    let source = form.source.trim();
    match source_kind {
        SourceKind::CsvDir => check_folder(source, limits).map(|_| ())?,
        SourceKind::HttpJson => check_url_template(source)?,
    }
    let start_date = parse_day(form.start_date.trim()).map_err(|e| bad(format!("first week {:?} {e}", form.start_date)))?;
    let weeks = match collection_type {
        CollectionType::Backfill => {
            if form.weeks == 0 || form.weeks > MAX_WEEKS {
                return Err(bad(format!("a backfill covers 1 to {MAX_WEEKS} weeks")));
            }
            backfill_weeks(start_date, form.weeks)
        }
        // A weekly update starts with the whole weeks from the first one to last week.
        CollectionType::WeeklyUpdate => {
            let last = week_just_ended(today).0;
            let first = week_start_of(start_date);
            let count = if first > last { 0 } else { ((last - first).num_weeks() + 1).min(i64::from(MAX_WEEKS)) as u32 };
            backfill_weeks(first, count)
        }
    };
    Ok(ValidCollection { name: name.to_string(), collection_type, target, source_kind, source: source.to_string(), weeks, start_date: week_start_of(start_date) })
}

/// The job that loads one week; one queued or running per week.
fn week_job(org_id: Uuid, week_id: Uuid, config: &Config) -> NewJob {
    NewJob {
        payload: json!({ "week_id": week_id }),
        max_attempts: config.jobs.max_attempts as i32,
        dedupe_key: Some(format!("collection_week:{week_id}")),
        priority: 5,
        ..NewJob::new(JobKind::CollectionWeek, Some(org_id))
    }
}

async fn enqueue_weeks(conn: &mut PgConnection, org_id: Uuid, weeks: &[Uuid], config: &Config) -> Result<(), AppError> {
    for week in weeks {
        db::jobs::enqueue(&mut *conn, &week_job(org_id, *week, config)).await?;
    }
    Ok(())
}

pub async fn list(pool: &PgPool, p: &Principal) -> Result<Vec<CollectionSummary>, AppError> {
    Ok(db::collections::for_org(pool, p.org_id).await?)
}

pub async fn detail(pool: &PgPool, org_id: Uuid, id: Uuid) -> Result<CollectionDetail, AppError> {
    let mut conn = pool.acquire().await?;
    let collection = db::collections::by_id(&mut conn, org_id, id).await?.ok_or_else(|| AppError::NotFound("collection".into()))?;
    let weeks = db::collections::weeks(&mut conn, id).await?;
    Ok(CollectionDetail { collection, weeks })
}

/// Stores the collection and its weeks, audits it, and queues every week.
pub async fn create(pool: &PgPool, p: &Principal, c: &ValidCollection, config: &Config) -> Result<CollectionDetail, AppError> {
    let mut tx = pool.begin().await?;
    let new = NewCollection {
        org_id: p.org_id,
        name: &c.name,
        collection_type: c.collection_type,
        target: c.target,
        source_kind: c.source_kind,
        source: &c.source,
        weeks: &c.weeks,
        start_date: c.start_date,
        created_by: p.user_id,
    };
    let id = db::collections::create(&mut tx, &new).await?.ok_or_else(|| AppError::Conflict(format!("a collection named {:?} exists already", c.name)))?;
    let details = json!({ "collection_id": id, "type": c.collection_type.as_str(), "source_kind": c.source_kind.as_str(), "source": c.source, "weeks": c.weeks.len() });
    db::audit::record(&mut tx, p.audit(AuditAction::CollectionCreated, &c.name, details)).await?;
    let weeks = db::collections::reset_weeks(&mut tx, id, None, &[]).await?;
    enqueue_weeks(&mut tx, p.org_id, &weeks, config).await?;
    db::collections::refresh_progress(&mut tx, id).await?;
    tx.commit().await?;
    detail(pool, p.org_id, id).await
}

/// What an admin does to a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionChange {
    Pause,
    Resume,
    /// Every week that is not running again: unchanged weeks are skipped by their checksum.
    Rerun,
    /// One failed week.
    RetryWeek(Uuid),
}

/// Applies `change`, audited in the same transaction, and queues the weeks it frees.
pub async fn change(pool: &PgPool, p: &Principal, id: Uuid, change: CollectionChange, config: &Config) -> Result<CollectionDetail, AppError> {
    use CollectionStatus::*;
    let mut tx = pool.begin().await?;
    let current = db::collections::by_id(&mut tx, p.org_id, id).await?.ok_or_else(|| AppError::NotFound("collection".into()))?;
    let refused = |what: &str| AppError::Conflict(format!("a {} collection cannot be {what}", current.status.as_str()));
    let (action, target, allowed): (AuditAction, CollectionStatus, &[CollectionStatus]) = match change {
        CollectionChange::Pause => (AuditAction::CollectionPaused, Paused, &[Pending, Running]),
        CollectionChange::Resume => (AuditAction::CollectionResumed, Running, &[Paused]),
        CollectionChange::Rerun => (AuditAction::CollectionRerun, Running, &[Completed, Failed]),
        CollectionChange::RetryWeek(_) => (AuditAction::CollectionWeekRetried, Running, &[Completed, Failed, Running, Pending]),
    };
    if db::collections::set_status(&mut tx, p.org_id, id, allowed, target).await?.is_none() {
        let verb = match change {
            CollectionChange::Pause => "paused",
            CollectionChange::Resume => "resumed",
            CollectionChange::Rerun => "re-run until its weeks are done; pause or wait",
            CollectionChange::RetryWeek(_) => "retried while paused; resume it",
        };
        return Err(refused(verb));
    }
    let freed = match change {
        CollectionChange::Pause => Vec::new(),
        CollectionChange::Resume => db::collections::reset_weeks(&mut tx, id, None, &[]).await?,
        CollectionChange::Rerun => db::collections::reset_weeks(&mut tx, id, None, &[WeekStatus::Completed, WeekStatus::Skipped, WeekStatus::Failed]).await?,
        CollectionChange::RetryWeek(week) => {
            let freed = db::collections::reset_weeks(&mut tx, id, Some(week), &[WeekStatus::Failed]).await?;
            if freed.is_empty() {
                return Err(AppError::Conflict("only a failed week of this collection can be retried".into()));
            }
            freed
        }
    };
    enqueue_weeks(&mut tx, p.org_id, &freed, config).await?;
    let week = match change {
        CollectionChange::RetryWeek(w) => json!(w),
        _ => Value::Null,
    };
    db::audit::record(&mut tx, p.audit(action, &current.name, json!({ "collection_id": id, "week_id": week, "weeks_queued": freed.len() }))).await?;
    db::collections::refresh_progress(&mut tx, id).await?;
    tx.commit().await?;
    detail(pool, p.org_id, id).await
}

/// The bytes of one week from a CSV folder, within the body limit.
async fn read_file(source: &str, week: &WeekSummary, limits: &IngestConfig) -> Result<Vec<u8>, String> {
    let folder = check_folder(source, limits).map_err(|e| e.to_string())?;
    let path = folder.join(week_file_name(week.week_start));
    let meta = tokio::fs::metadata(&path).await.map_err(|_| format!("no file {} for the week of {}", path.display(), week.week_start))?;
    if meta.len() > u64::from(limits.max_body_bytes) {
        return Err(format!("{} is larger than the limit of {} bytes", path.display(), limits.max_body_bytes));
    }
    tokio::fs::read(&path).await.map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The bytes of one week from an HTTP JSON source, within the body limit and the timeout.
async fn fetch_url(template: &str, week: &WeekSummary, limits: &IngestConfig) -> Result<Vec<u8>, String> {
    let url = expand_template(template, week.week_start, week.week_end);
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(u64::from(limits.fetch_timeout_seconds)))
        .build()
        .map_err(|e| format!("no HTTP client: {e}"))?;
    let mut response = client.get(&url).header("accept", "application/json").send().await.map_err(|e| format!("GET {url} failed: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("GET {url} answered {}", response.status()));
    }
    let limit = limits.max_body_bytes as usize;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("GET {url} broke off: {e}"))? {
        if body.len() + chunk.len() > limit {
            return Err(format!("GET {url} sent more than the limit of {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn checksum(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Rows dated outside the week become row errors: a week's file loads that week only.
fn keep_inside_week(parsed: &mut Parsed, week: &WeekSummary) {
    let (inside, outside): (Vec<_>, Vec<_>) = std::mem::take(&mut parsed.rows).into_iter().partition(|(_, _, r)| r.date >= week.week_start && r.date <= week.week_end);
    for (row, line, r) in outside {
        parsed.errors.push(RowError { row, line, field: "date".into(), error: format!("{} is outside the week {} to {}", r.date, week.week_start, week.week_end) });
    }
    parsed.errors.sort_by_key(|e| e.row);
    parsed.rows = inside;
}

/// "3 rows rejected, nothing written; row 2 (line 3) date: not a date".
fn rejection_message(errors: &[RowError]) -> String {
    let first = errors
        .first()
        .map(|e| {
            let line = e.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            format!("; row {}{line} {}: {}", e.row, e.field, e.error)
        })
        .unwrap_or_default();
    format!("{} row{} rejected, nothing written{first}", errors.len(), if errors.len() == 1 { "" } else { "s" })
}

/// Why a week failed: the source or the database could not be reached (the queue retries with
/// backoff: a server may come back), or its data was refused (the same data again cannot pass;
/// fix it, then retry the week).
#[derive(Debug, Clone, PartialEq)]
enum WeekError {
    Retryable(String),
    Refused(String),
}

impl WeekError {
    fn message(&self) -> &str {
        match self {
            WeekError::Retryable(m) | WeekError::Refused(m) => m,
        }
    }
}

/// Fetches, checks and loads one week: (status, rows, checksum of what was loaded).
async fn load_week(pool: &PgPool, config: &Config, org_id: Uuid, collection: &CollectionSummary, week: &WeekSummary) -> Result<(WeekStatus, Option<u64>, Option<String>), WeekError> {
    let limits = &config.ingest;
    let bytes = match collection.source_kind {
        SourceKind::CsvDir => read_file(&collection.source, week, limits).await,
        SourceKind::HttpJson => fetch_url(&collection.source, week, limits).await,
    }
    .map_err(WeekError::Retryable)?;
    let sum = checksum(&bytes);
    if week.data_checksum.as_deref() == Some(sum.as_str()) {
        return Ok((WeekStatus::Skipped, week.row_count, None));
    }
    let max_rows = limits.max_rows as usize;
    let parsed = match collection.source_kind {
        SourceKind::CsvDir => parse_csv(&bytes, max_rows),
        SourceKind::HttpJson => parse_json(&bytes, max_rows),
    };
    let mut parsed = parsed.map_err(|e| WeekError::Refused(e.to_string()))?;
    keep_inside_week(&mut parsed, week);
    let request = LoadRequest {
        org_id,
        target: collection.target,
        mode: IngestMode::AllOrNothing,
        create_metrics: false,
        channel: LoadChannel::Collection,
        actor: format!("collection {}", collection.name),
    };
    let report = crate::ingest::service::load(pool, config, &request, &parsed).await.map_err(|e| WeekError::Retryable(e.to_string()))?;
    if !report.errors.is_empty() {
        return Err(WeekError::Refused(rejection_message(&report.errors)));
    }
    Ok((WeekStatus::Completed, Some(report.inserted + report.updated + report.unchanged), Some(sum)))
}

/// The week job. A paused collection leaves the week waiting; a week already done is not redone.
pub async fn run_week(pool: &PgPool, config: &Config, org_id: Uuid, week_id: Uuid) -> Result<Value, AppError> {
    let mut tx = pool.begin().await?;
    let Some((collection_id, week)) = db::collections::lock_week(&mut tx, org_id, week_id).await? else {
        return Ok(json!({ "skipped": "the week no longer exists" }));
    };
    let collection = db::collections::by_id(&mut tx, org_id, collection_id).await?.ok_or_else(|| AppError::NotFound("collection".into()))?;
    if collection.status == CollectionStatus::Paused || week.status.is_done() {
        return Ok(json!({ "week_start": week.week_start, "left": week.status.as_str(), "collection": collection.status.as_str() }));
    }
    db::collections::start_week(&mut tx, week_id).await?;
    db::collections::refresh_progress(&mut tx, collection_id).await?;
    tx.commit().await?;

    let outcome = load_week(pool, config, org_id, &collection, &week).await;
    let mut tx = pool.begin().await?;
    let finished = match &outcome {
        Ok((status, rows, sum)) => WeekOutcome { status: *status, row_count: *rows, checksum: sum.as_deref(), error: None },
        Err(error) => WeekOutcome { status: WeekStatus::Failed, row_count: None, checksum: None, error: Some(error.message()) },
    };
    db::collections::finish_week(&mut tx, week_id, &finished).await?;
    db::collections::refresh_progress(&mut tx, collection_id).await?;
    tx.commit().await?;
    let result = json!({ "collection": collection.name, "week_start": week.week_start, "status": finished.status.as_str(), "rows": finished.row_count, "error": finished.error });
    match outcome {
        // The job fails too, so the queue tries again with backoff and /admin/jobs shows why.
        Err(WeekError::Retryable(error)) => Err(AppError::BadRequest(format!("week of {}: {error}", week.week_start))),
        Ok(_) | Err(WeekError::Refused(_)) => Ok(result),
    }
}

/// Mondays: every weekly-update collection that is not paused gets the week just ended, queued.
pub async fn add_last_week(pool: &PgPool, config: &Config, today: NaiveDate) -> Result<Value, AppError> {
    let (start, end) = week_just_ended(today);
    let mut tx = pool.begin().await?;
    let mut added = 0;
    for (collection_id, org_id) in db::collections::weekly_updates(&mut tx).await? {
        if let Some(week) = db::collections::add_week(&mut tx, collection_id, start, end).await? {
            db::jobs::enqueue(&mut tx, &week_job(org_id, week, config)).await?;
            db::collections::set_status(&mut tx, org_id, collection_id, &[CollectionStatus::Completed, CollectionStatus::Failed, CollectionStatus::Pending], CollectionStatus::Running).await?;
            db::collections::refresh_progress(&mut tx, collection_id).await?;
            added += 1;
        }
    }
    tx.commit().await?;
    Ok(json!({ "week_start": start, "collections": added }))
}

/// Today in UTC, the scheduler's clock.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: &str, source: &str, weeks: u32) -> NewCollectionForm {
        NewCollectionForm {
            name: "Sales history".into(),
            collection_type: kind.into(),
            target: "kpi".into(),
            source_kind: if source.starts_with("http") { "http_json".into() } else { "csv_dir".into() },
            source: source.into(),
            start_date: "2025-11-26".into(),
            weeks,
        }
    }

    fn limits(dir: &Path) -> IngestConfig {
        IngestConfig { collections_dir: dir.display().to_string(), ..IngestConfig::default() }
    }

    #[test]
    fn a_form_is_checked_before_anything_is_stored() {
        let dir = std::env::temp_dir().join(format!("io-collections-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sales")).expect("dir");
        let today: NaiveDate = "2026-11-26".parse().expect("day");
        let ok = validate(&form("backfill", "sales", 52), &limits(&dir), today).expect("valid");
        assert_eq!((ok.weeks.len(), ok.weeks[0].0.to_string()), (52, "2025-11-24".to_string()));
        let weekly = validate(&form("weekly_update", "http://127.0.0.1:9/rows?from={week_start}", 0), &limits(&dir), today).expect("valid");
        assert_eq!(weekly.weeks.last().map(|w| w.0.to_string()), Some("2026-11-16".to_string()), "up to last week");
        for (f, expected) in [
            (form("backfill", "../etc", 5), "without .."),
            (form("backfill", "/etc", 5), "without .."),
            (form("backfill", "missing", 5), "there is no folder"),
            (form("backfill", "sales", 0), "1 to 1040 weeks"),
            (form("backfill", "http://h/rows", 5), "contain {week_start}"),
            (form("monthly", "sales", 5), "not backfill or weekly_update"),
            (NewCollectionForm { start_date: "2026-13-01".into(), ..form("backfill", "sales", 5) }, "is not a date"),
            (NewCollectionForm { name: " ".into(), ..form("backfill", "sales", 5) }, "1 to 80 characters"),
        ] {
            let error = validate(&f, &limits(&dir), today).expect_err("refused").to_string();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn rows_outside_the_week_are_refused_with_their_line() {
        let mut parsed = parse_csv(b"date,metric,value\n2026-11-23,revenue,1\n2026-11-30,revenue,2\n", 10).expect("parsed");
        let week = WeekSummary {
            id: Uuid::nil(),
            week_start: "2026-11-23".parse().expect("day"),
            week_end: "2026-11-29".parse().expect("day"),
            status: WeekStatus::Running,
            attempts: 1,
            row_count: None,
            data_checksum: None,
            error_message: None,
            executed_at: None,
        };
        keep_inside_week(&mut parsed, &week);
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(rejection_message(&parsed.errors), "1 row rejected, nothing written; row 2 (line 3) date: 2026-11-30 is outside the week 2026-11-23 to 2026-11-29");
    }
}
