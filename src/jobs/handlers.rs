//! What each kind of job does. Handlers return what they did as JSON (kept on the job) or an
//! error (the job is retried with backoff, then failed with it). Work that computes runs on a
//! blocking thread, so a long model run never stalls the async threads serving requests.

use std::future::Future;
use std::sync::Arc;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::analytics::pattern::PatternKind;
use crate::config::Config;
use crate::db;
use crate::db::jobs::ClaimedJob;
use crate::domain::jobs::JobKind;
use crate::exec::cache::ExecCache;

/// What handlers need: the pool, the configuration, and this process's board cache.
#[derive(Clone)]
pub struct JobContext {
    pub pool: sqlx::PgPool,
    pub config: Arc<Config>,
    pub exec_cache: ExecCache,
}

/// Runs `work` on a blocking thread with its own hold on the runtime: analytics code is CPU-bound.
async fn off_async_threads<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> Result<T, String> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(work)).await.map_err(|e| format!("the job's thread failed: {e}"))
}

fn org_of(job: &ClaimedJob) -> Result<Uuid, String> {
    job.org_id.ok_or_else(|| format!("a {} job needs an org", job.kind.as_str()))
}

#[tracing::instrument(name = "job", skip_all, fields(kind = job.kind.as_str(), job_id = %job.id, org_id = ?job.org_id))]
pub async fn run(ctx: &JobContext, job: &ClaimedJob) -> Result<Value, String> {
    match job.kind {
        JobKind::Noop => noop(&job.payload).await,
        JobKind::Detect => detect(ctx, org_of(job)?).await,
        JobKind::ModelRun => model_run(ctx, org_of(job)?, &job.payload).await,
        JobKind::PatternReview => pattern_review(ctx, job).await,
        JobKind::Retention => retention(ctx).await,
        JobKind::CacheWarmup => super::service::warm_board_cache(&ctx.pool, &ctx.exec_cache, &ctx.config).await.map_err(|e| e.to_string()),
        JobKind::Narratives => crate::exec::narrative::store_closed_periods(&ctx.pool, &ctx.config).await.map_err(|e| e.to_string()),
        JobKind::CollectionWeek => collection_week(ctx, org_of(job)?, &job.payload).await,
        JobKind::Report => crate::reports::service::run(&ctx.pool, &ctx.config, org_of(job)?, &job.payload, (job.attempts, job.max_attempts)).await,
        JobKind::WeeklyCollections => {
            crate::collections::service::add_last_week(&ctx.pool, &ctx.config, crate::collections::service::today()).await.map_err(|e| e.to_string())
        }
    }
}

/// Does nothing, or what its payload asks (`sleep_ms`, `fail`, `panic`): the queue's own tests and benchmark.
async fn noop(payload: &Value) -> Result<Value, String> {
    if let Some(ms) = payload.get("sleep_ms").and_then(Value::as_u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms.min(600_000))).await;
    }
    if let Some(message) = payload.get("panic").and_then(Value::as_str) {
        // Tests prove a handler that panics fails its job rather than holding it forever.
        panic!("{message}");
    }
    match payload.get("fail").and_then(Value::as_str) {
        Some(message) => Err(message.to_string()),
        None => Ok(json!({})),
    }
}

/// One week of a collection: fetched, checked against its last checksum, loaded.
async fn collection_week(ctx: &JobContext, org_id: Uuid, payload: &Value) -> Result<Value, String> {
    let week_id = payload.get("week_id").and_then(Value::as_str).and_then(|t| Uuid::parse_str(t).ok()).ok_or("the payload names no week_id")?;
    crate::collections::service::run_week(&ctx.pool, &ctx.config, org_id, week_id).await.map_err(|e| e.to_string())
}

/// Every active model of the org, once, after its data changed.
async fn detect(ctx: &JobContext, org_id: Uuid) -> Result<Value, String> {
    let (pool, analytics) = (ctx.pool.clone(), ctx.config.analytics);
    let runs = off_async_threads(async move { crate::models::service::run_active(&pool, org_id, "job:detect", &analytics).await })
        .await?
        .map_err(|e| e.to_string())?;
    let runs: Vec<Value> = runs.iter().map(|r| json!({ "model": r.model_name, "version": r.model_version, "status": r.status.as_str(), "result": r.result_text() })).collect();
    Ok(json!({ "runs": runs }))
}

/// One model's run that an admin asked for.
async fn model_run(ctx: &JobContext, org_id: Uuid, payload: &Value) -> Result<Value, String> {
    let model_id = payload.get("model_id").and_then(Value::as_str).and_then(|t| Uuid::parse_str(t).ok()).ok_or("the payload names no model_id")?;
    let by = payload.get("requested_by").and_then(Value::as_str).unwrap_or("job").to_string();
    let (pool, analytics) = (ctx.pool.clone(), ctx.config.analytics);
    let run = off_async_threads(async move { crate::models::service::execute(&pool, org_id, model_id, &by, &analytics).await })
        .await?
        .map_err(|e| e.to_string())?;
    Ok(json!({ "execution_id": run.id, "model": run.model_name, "version": run.model_version, "status": run.status.as_str(), "duration_ms": run.duration_ms, "result": run.result_text() }))
}

async fn pattern_review(ctx: &JobContext, job: &ClaimedJob) -> Result<Value, String> {
    let window = job.payload.get("window").and_then(Value::as_str).unwrap_or("weekly");
    let kind = PatternKind::parse(window).ok_or_else(|| format!("{window:?} is not weekly, monthly or yearly"))?;
    let (pool, patterns, org) = (ctx.pool.clone(), ctx.config.analytics.patterns, job.org_id);
    let found = off_async_threads(async move {
        match org {
            Some(org) => crate::patterns::service::review(&pool, org, kind, &patterns).await,
            None => crate::patterns::service::review_all(&pool, kind, &patterns).await,
        }
    })
    .await?
    .map_err(|e| e.to_string())?;
    Ok(json!({ "window": kind.as_str(), "patterns": found }))
}

/// Rows purged per statement: small enough that no table is locked for long.
const PURGE_BATCH: i64 = 5_000;

async fn retention(ctx: &JobContext) -> Result<Value, String> {
    let p = &ctx.config.profile;
    let days = |d: u32| i32::try_from(d).unwrap_or(i32::MAX);
    let windows = db::retention::Retention {
        raw_days: days(p.raw_retention_days),
        // The board reads periods from the aggregates: they stay at least as long as the facts
        // they are rebuilt from, so a short aggregate window never empties a comparison.
        aggregated_days: days(p.aggregated_retention_days.max(p.raw_retention_days)),
        pattern_days: days(p.pattern_retention_days),
        finished_job_days: days(p.finished_job_retention_days),
    };
    let purged = db::retention::purge(&ctx.pool, windows, PURGE_BATCH).await.map_err(|e| e.to_string())?;
    let attempts = db::logins::purge_older_than(&ctx.pool, 2).await.map_err(|e| e.to_string())?;
    let mut out: serde_json::Map<String, Value> = purged.into_iter().map(|(t, n)| (t.to_string(), json!(n))).collect();
    out.insert("io_login_attempt".into(), json!(attempts));
    Ok(Value::Object(out))
}
