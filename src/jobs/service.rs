//! The job queue as the app uses it: detection after data changes, model runs an admin asks for,
//! the admin page (list, retry, cancel, audited), and the board-cache warm-up.

use chrono::Utc;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{JobSummary, JobsPage};
use crate::auth::server::{Principal, Scope};
use crate::config::Config;
use crate::db;
use crate::db::jobs::{ChangeOutcome, JobChange, NewJob};
use crate::domain::access::Role;
use crate::domain::audit::AuditAction;
use crate::domain::jobs::{JobKind, JobStatus};
use crate::error::AppError;
use crate::exec::cache::ExecCache;
use crate::exec::ExecQuery;

/// Rows the admin page lists.
const PAGE_LIMIT: i64 = 200;

/// The org's data changed: its active models run once for it, a short while later, however many
/// loads arrive meanwhile (one queued detection per org; one arriving while it runs asks for one
/// more run after it).
pub async fn data_changed(conn: &mut PgConnection, org_id: Uuid, config: &Config) -> Result<db::jobs::Enqueued, AppError> {
    let job = NewJob {
        delay_secs: f64::from(config.jobs.detect_delay_seconds),
        max_attempts: config.jobs.max_attempts as i32,
        dedupe_key: Some(format!("detect:{org_id}")),
        priority: 10,
        ..NewJob::new(JobKind::Detect, Some(org_id))
    };
    Ok(db::jobs::enqueue(conn, &job).await?)
}

/// An admin's "run now": queues the model's run (one per model at a time) and audits the request
/// in the same transaction. The run itself is recorded in the model's history when it happens.
pub async fn request_model_run(pool: &PgPool, p: &Principal, model_id: Uuid, config: &Config) -> Result<(JobSummary, String), AppError> {
    let model = db::models::by_id(pool, p.org_id, model_id).await?.ok_or_else(|| AppError::NotFound("model".into()))?;
    if model.status != crate::domain::models::ModelStatus::Active {
        return Err(AppError::Conflict(format!("{} v{} is {}; activate it before running it", model.name, model.version, model.status.as_str())));
    }
    let new_job = NewJob {
        payload: json!({ "model_id": model_id, "requested_by": p.email }),
        max_attempts: config.jobs.max_attempts as i32,
        dedupe_key: Some(format!("model:{model_id}")),
        priority: 20,
        ..NewJob::new(JobKind::ModelRun, Some(p.org_id))
    };
    let mut tx = pool.begin().await?;
    let id = db::jobs::enqueue(&mut tx, &new_job).await?.id();
    let target = format!("{} v{}", model.name, model.version);
    db::audit::record(&mut tx, p.audit(AuditAction::ModelExecuted, &target, json!({ "job_id": id, "queued": true }))).await?;
    tx.commit().await?;
    Ok((job(pool, p, id).await?, target))
}

pub async fn page(pool: &PgPool, p: &Principal, status: Option<JobStatus>, config: &Config) -> Result<JobsPage, AppError> {
    Ok(JobsPage {
        jobs: db::jobs::list(pool, p.org_id, status, PAGE_LIMIT).await?,
        schedules: super::schedule::summaries(config, Utc::now()),
        status,
        environment: config.environment.as_str().to_string(),
        workers_here: if config.runs_jobs() { config.jobs.workers } else { 0 },
    })
}

pub async fn job(pool: &PgPool, p: &Principal, id: Uuid) -> Result<JobSummary, AppError> {
    db::jobs::by_id(pool, p.org_id, id).await?.ok_or_else(|| AppError::NotFound("job".into()))
}

/// Retries or cancels a job of the admin's org, with its audit row in the same transaction.
pub async fn change(pool: &PgPool, p: &Principal, id: Uuid, change: JobChange) -> Result<JobSummary, AppError> {
    let mut tx = pool.begin().await?;
    let kind = match db::jobs::change(&mut tx, p.org_id, id, change).await? {
        ChangeOutcome::Applied { kind } => kind,
        ChangeOutcome::Missing => return Err(AppError::NotFound("job".into())),
        ChangeOutcome::NotAllowed { status } => {
            let verb = if change == JobChange::Retry { "retried" } else { "cancelled" };
            return Err(AppError::Conflict(format!("a {} job cannot be {verb}", status.as_str())));
        }
        ChangeOutcome::Duplicate => return Err(AppError::Conflict("the same work is already queued or running".into())),
    };
    let action = if change == JobChange::Retry { AuditAction::JobRetried } else { AuditAction::JobCancelled };
    db::audit::record(&mut tx, p.audit(action, kind.label(), json!({ "job_id": id }))).await?;
    tx.commit().await?;
    job(pool, p, id).await
}

/// Builds the default board summary of every org with data for every role, so the first reader
/// after a load or an expiry does not wait for it.
pub async fn warm_board_cache(pool: &PgPool, cache: &ExecCache, config: &Config) -> Result<serde_json::Value, AppError> {
    let mut warmed = 0;
    for org in db::orgs::all(pool).await? {
        if db::kpi::latest_day(pool, org.id).await?.is_none() {
            continue;
        }
        for role in Role::ALL {
            let scope = Scope::for_org(pool, &org.slug, role, &config.access).await?;
            crate::exec::service::cached_exec_summary(pool, cache, &scope, &ExecQuery::default()).await?;
            warmed += 1;
        }
    }
    Ok(json!({ "summaries": warmed }))
}
