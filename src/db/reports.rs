//! Report templates (`io_report_template`), the reports generated from them (`io_report`) and
//! their files (`io_report_file`). A report's file and its `ready` status are written in one
//! statement pair inside the caller's transaction, so a report is never ready without its file.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::decode;
use crate::domain::reports::{ExportGrain, ReportFormat, ReportStatus, ReportSummary, ReportTrigger, TemplateForm, TemplateStatus};

/// A template as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRecord {
    pub id: Uuid,
    pub org_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub owner_email: String,
    pub name: String,
    pub description: String,
    pub query: String,
    pub grain: ExportGrain,
    pub format: ReportFormat,
    pub schedule: String,
    pub status: TemplateStatus,
    pub next_run_at: Option<DateTime<Utc>>,
}

type TemplateRow = (Uuid, Uuid, Option<Uuid>, String, String, String, String, String, String, String, String, Option<DateTime<Utc>>);

const TEMPLATE_COLUMNS: &str = "id, org_id, owner_id, owner_email, name, description, query, grain, format, schedule, status, next_run_at";

fn template(row: TemplateRow) -> Result<TemplateRecord, sqlx::Error> {
    Ok(TemplateRecord {
        grain: decode("io_report_template.grain", &row.7, ExportGrain::parse(&row.7))?,
        format: decode("io_report_template.format", &row.8, ReportFormat::parse(&row.8))?,
        status: decode("io_report_template.status", &row.10, TemplateStatus::parse(&row.10))?,
        id: row.0,
        org_id: row.1,
        owner_id: row.2,
        owner_email: row.3,
        name: row.4,
        description: row.5,
        query: row.6,
        schedule: row.9,
        next_run_at: row.11,
    })
}

type UuidQuery<'q> = sqlx::query::QueryScalar<'q, sqlx::Postgres, Uuid, sqlx::postgres::PgArguments>;

/// Binds a form's eight columns after the keys the statement already bound.
fn bind_form<'q>(query: UuidQuery<'q>, form: &'q TemplateForm, next_run_at: Option<DateTime<Utc>>) -> UuidQuery<'q> {
    query
        .bind(&form.name)
        .bind(&form.description)
        .bind(&form.query)
        .bind(form.grain.as_str())
        .bind(form.format.as_str())
        .bind(form.schedule.text())
        .bind(form.status.as_str())
        .bind(next_run_at)
}

/// Inserts a template; `None` when the org already has one of that name.
pub async fn create_template(conn: &mut PgConnection, org_id: Uuid, owner: (Uuid, &str), form: &TemplateForm, next_run_at: Option<DateTime<Utc>>) -> Result<Option<Uuid>, sqlx::Error> {
    let query = sqlx::query_scalar(
        "INSERT INTO io_report_template (org_id, owner_id, owner_email, name, description, query, grain, format, schedule, status, next_run_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (org_id, name) DO NOTHING RETURNING id",
    );
    bind_form(query.bind(org_id).bind(owner.0).bind(owner.1), form, next_run_at).fetch_optional(conn).await
}

/// Rewrites a template's settings; `false` when another template of the org has the new name.
pub async fn update_template(conn: &mut PgConnection, org_id: Uuid, id: Uuid, form: &TemplateForm, next_run_at: Option<DateTime<Utc>>) -> Result<bool, sqlx::Error> {
    let clash: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM io_report_template WHERE org_id = $1 AND name = $2 AND id <> $3)")
        .bind(org_id)
        .bind(&form.name)
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    if clash {
        return Ok(false);
    }
    let query = sqlx::query_scalar(
        "UPDATE io_report_template SET name = $3, description = $4, query = $5, grain = $6, format = $7, schedule = $8, status = $9, next_run_at = $10
         WHERE org_id = $1 AND id = $2 RETURNING id",
    );
    Ok(bind_form(query.bind(org_id).bind(id), form, next_run_at).fetch_optional(conn).await?.is_some())
}

pub async fn delete_template(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM io_report_template WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).execute(conn).await?.rows_affected() == 1)
}

/// The template, locked for the rest of the transaction.
pub async fn template_for_update(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<TemplateRecord>, sqlx::Error> {
    let row: Option<TemplateRow> = sqlx::query_as(&format!("SELECT {TEMPLATE_COLUMNS} FROM io_report_template WHERE org_id = $1 AND id = $2 FOR UPDATE"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(template).transpose()
}

pub async fn template_by_id(pool: &PgPool, org_id: Uuid, id: Uuid) -> Result<Option<TemplateRecord>, sqlx::Error> {
    let row: Option<TemplateRow> = sqlx::query_as(&format!("SELECT {TEMPLATE_COLUMNS} FROM io_report_template WHERE org_id = $1 AND id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(template).transpose()
}

/// The org's templates, by name; `owner` narrows to one user's, `formats` to those formats.
pub async fn templates(pool: &PgPool, org_id: Uuid, owner: Option<Uuid>, formats: &[ReportFormat]) -> Result<Vec<TemplateRecord>, sqlx::Error> {
    let formats: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
    let rows: Vec<TemplateRow> = sqlx::query_as(&format!(
        "SELECT {TEMPLATE_COLUMNS} FROM io_report_template
         WHERE org_id = $1 AND ($2::uuid IS NULL OR owner_id = $2) AND format = ANY($3) ORDER BY name"
    ))
    .bind(org_id)
    .bind(owner)
    .bind(&formats)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(template).collect()
}

/// Active templates whose next run is due, locked and skipped by other instances' schedulers.
pub async fn due_templates(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<TemplateRecord>, sqlx::Error> {
    let rows: Vec<TemplateRow> = sqlx::query_as(&format!(
        "SELECT {TEMPLATE_COLUMNS} FROM io_report_template
         WHERE status = 'active' AND next_run_at IS NOT NULL AND next_run_at <= $1
         ORDER BY next_run_at LIMIT $2 FOR UPDATE SKIP LOCKED"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(template).collect()
}

pub async fn set_next_run(conn: &mut PgConnection, id: Uuid, next_run_at: Option<DateTime<Utc>>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE io_report_template SET next_run_at = $2 WHERE id = $1").bind(id).bind(next_run_at).execute(conn).await?;
    Ok(())
}

/// A new `pending` report of a template; the caller enqueues its job in the same transaction.
pub async fn create_report(conn: &mut PgConnection, org_id: Uuid, template_id: Uuid, trigger: ReportTrigger, requested_by: &str) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO io_report (org_id, template_id, trigger, requested_by) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(org_id)
        .bind(template_id)
        .bind(trigger.as_str())
        .bind(requested_by)
        .fetch_one(conn)
        .await
}

pub async fn set_job(conn: &mut PgConnection, report_id: Uuid, job_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE io_report SET job_id = $2 WHERE id = $1").bind(report_id).bind(job_id).execute(conn).await?;
    Ok(())
}

/// Marks an attempt as started; `None` when the report is gone or ready (a retried job whose
/// earlier attempt did finish), so it is never generated twice. A failed report starts again when
/// an admin retries its job.
pub async fn start(pool: &PgPool, org_id: Uuid, report_id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE io_report SET status = 'generating', attempts = attempts + 1, started_at = now(), error = NULL
         WHERE org_id = $1 AND id = $2 AND status IN ('pending', 'generating', 'failed') RETURNING template_id",
    )
    .bind(org_id)
    .bind(report_id)
    .fetch_optional(pool)
    .await
}

/// What a finished generation produced.
pub struct ReportFile<'a> {
    pub bytes: &'a [u8],
    pub row_count: i64,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub duration_ms: i64,
}

/// Stores the file and marks the report ready, once: `false` when it already was.
pub async fn finish(conn: &mut PgConnection, report_id: Uuid, file: &ReportFile<'_>) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE io_report SET status = 'ready', row_count = $2, size_bytes = $3, file_name = $4, content_type = $5, duration_ms = $6,
                finished_at = now(), error = NULL
         WHERE id = $1 AND status <> 'ready'",
    )
    .bind(report_id)
    .bind(file.row_count)
    .bind(file.bytes.len() as i64)
    .bind(file.file_name)
    .bind(file.content_type)
    .bind(file.duration_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 1 {
        sqlx::query("INSERT INTO io_report_file (report_id, content) VALUES ($1, $2)").bind(report_id).bind(file.bytes).execute(conn).await?;
    }
    Ok(updated == 1)
}

/// Records an attempt's error: the report waits for the queue's retry, or is failed for good.
pub async fn record_error(pool: &PgPool, report_id: Uuid, error: &str, final_attempt: bool) -> Result<(), sqlx::Error> {
    let status = if final_attempt { ReportStatus::Failed } else { ReportStatus::Pending };
    sqlx::query("UPDATE io_report SET status = $2, error = $3, finished_at = CASE WHEN $4 THEN now() END WHERE id = $1 AND status <> 'ready'")
        .bind(report_id)
        .bind(status.as_str())
        .bind(error)
        .bind(final_attempt)
        .execute(pool)
        .await?;
    Ok(())
}

/// Fails the reports whose job ended (failed or cancelled) while they still wait.
pub async fn fail_orphans(pool: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE io_report r SET status = 'failed', finished_at = now(),
                error = coalesce(r.error, j.last_error, 'the job was ' || j.status)
         FROM io_job j
         WHERE j.id = r.job_id AND r.status IN ('pending', 'generating') AND j.status IN ('failed', 'cancelled')",
    )
    .execute(pool)
    .await?
    .rows_affected())
}

type ReportRow = (Uuid, Uuid, String, String, String, String, String, i32, Option<i64>, Option<i64>, Option<i64>, Option<String>, DateTime<Utc>, Option<DateTime<Utc>>);

fn report(row: ReportRow) -> Result<ReportSummary, sqlx::Error> {
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Ok(ReportSummary {
        format: decode("io_report_template.format", &row.3, ReportFormat::parse(&row.3))?,
        status: decode("io_report.status", &row.4, ReportStatus::parse(&row.4))?,
        trigger: decode("io_report.trigger", &row.5, ReportTrigger::parse(&row.5))?,
        id: row.0,
        template_id: row.1,
        template_name: row.2,
        requested_by: row.6,
        attempts: row.7,
        row_count: row.8,
        size_bytes: row.9,
        duration_ms: row.10,
        error: row.11,
        created_at: time(row.12),
        finished_at: row.13.map(time),
    })
}

/// The newest reports of the given templates.
pub async fn history(pool: &PgPool, org_id: Uuid, template_ids: &[Uuid], limit: i64) -> Result<Vec<ReportSummary>, sqlx::Error> {
    let rows: Vec<ReportRow> = sqlx::query_as(
        "SELECT r.id, r.template_id, t.name, t.format, r.status, r.trigger, r.requested_by, r.attempts, r.row_count, r.size_bytes,
                r.duration_ms, r.error, r.created_at, r.finished_at
         FROM io_report r JOIN io_report_template t ON t.id = r.template_id
         WHERE r.org_id = $1 AND r.template_id = ANY($2) ORDER BY r.created_at DESC, r.id LIMIT $3",
    )
    .bind(org_id)
    .bind(template_ids)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(report).collect()
}

/// A ready report's file: (template id, file name, content type, bytes).
pub async fn file(pool: &PgPool, org_id: Uuid, report_id: Uuid) -> Result<Option<(Uuid, String, String, Vec<u8>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.template_id, r.file_name, r.content_type, f.content FROM io_report r JOIN io_report_file f ON f.report_id = r.id
         WHERE r.org_id = $1 AND r.id = $2 AND r.status = 'ready'",
    )
    .bind(org_id)
    .bind(report_id)
    .fetch_optional(pool)
    .await
}
