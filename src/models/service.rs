//! Registry operations and model runs: register a version (config checked against the schema),
//! activate or deprecate, run a model and turn its findings into recommendations by the rules.

use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::builtin::{self, catalogue, input_schema, output_schema, validate_config};
use super::{ExecutionStatus, ExecutionSummary, ModelAction, ModelStatus, ModelSummary};
use crate::admin::AuditAction;
use crate::analytics::AnalyticsConfig;
use crate::auth::server::Principal;
use crate::db;
use crate::db::recommendations::NewFinding;
use crate::error::AppError;
use crate::recommendations::rules::{decide, Decision, Fresh};

/// Registers the built-in models (version 1, active) for an org that does not have them yet.
pub async fn register_builtins(conn: &mut sqlx::PgConnection, org_id: Uuid) -> Result<usize, sqlx::Error> {
    let mut added = 0;
    for b in catalogue() {
        if !db::models::name_exists(&mut *conn, org_id, b.name).await? {
            db::models::insert(&mut *conn, org_id, b.name, b.model_type, b.implementation, ModelStatus::Active, b.description, &input_schema(b.implementation), &output_schema(), &b.default_config, "seed").await?;
            added += 1;
        }
    }
    Ok(added)
}

/// A new draft version of `model_id`'s model with `config_text` as its config.
pub async fn register_version(pool: &PgPool, p: &Principal, model_id: Uuid, config_text: &str) -> Result<ModelSummary, AppError> {
    let base = db::models::by_id(pool, p.org_id, model_id).await?.ok_or_else(|| AppError::NotFound("model".into()))?;
    let config: Value = serde_json::from_str(config_text)
        .map_err(|e| AppError::BadRequest(format!("the config is not valid JSON: {e} (line {}, column {})", e.line(), e.column())))?;
    validate_config(&base.input_schema, &config)?;
    let mut tx = pool.begin().await?;
    let (id, version) = db::models::insert(&mut tx, p.org_id, &base.name, base.model_type, base.implementation, ModelStatus::Draft, &base.description, &base.input_schema, &output_schema(), &config, &p.email).await?;
    let target = format!("{} v{version}", base.name);
    db::audit::record(&mut tx, p.audit(AuditAction::ModelRegistered, &target, json!({ "config": config }))).await?;
    tx.commit().await?;
    let model = db::models::by_id(pool, p.org_id, id).await?.ok_or_else(|| AppError::NotFound("model".into()))?;
    Ok(model.summary())
}

pub async fn change_status(pool: &PgPool, p: &Principal, model_id: Uuid, action: ModelAction) -> Result<ModelSummary, AppError> {
    let (status, audit_action) = match action {
        ModelAction::Activate => (ModelStatus::Active, AuditAction::ModelActivated),
        ModelAction::Deprecate => (ModelStatus::Deprecated, AuditAction::ModelDeprecated),
    };
    let mut tx = pool.begin().await?;
    let name = db::models::set_status(&mut tx, p.org_id, model_id, status).await?.ok_or_else(|| AppError::NotFound("model".into()))?;
    db::audit::record(&mut tx, p.audit(audit_action, &name, json!({ "model_id": model_id }))).await?;
    tx.commit().await?;
    let model = db::models::by_id(pool, p.org_id, model_id).await?.ok_or_else(|| AppError::NotFound("model".into()))?;
    Ok(model.summary())
}

/// A run still going after this long is stopped and recorded as failed, never left `running`.
pub const MAX_RUN_TIME: std::time::Duration = std::time::Duration::from_secs(300);

/// A run `running` for longer than this has no one left to finish it.
pub const STALE_RUN: std::time::Duration = std::time::Duration::from_secs(MAX_RUN_TIME.as_secs() + 60);

/// Counts of what a run did to the recommendation queue.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RunCounts {
    pub findings: usize,
    pub created: usize,
    pub refreshed: usize,
    pub reopened: usize,
    pub kept: usize,
}

/// Runs an active model version and applies its findings in one transaction. A failed run is
/// recorded with its error and returned, not raised: the history shows it.
pub async fn execute(pool: &PgPool, org_id: Uuid, model_id: Uuid, triggered_by: &str, analytics: &AnalyticsConfig) -> Result<ExecutionSummary, AppError> {
    let model = db::models::by_id(pool, org_id, model_id).await?.ok_or_else(|| AppError::NotFound("model".into()))?;
    if model.status != ModelStatus::Active {
        return Err(AppError::Conflict(format!("{} v{} is {}; activate it before running it", model.name, model.version, model.status.as_str())));
    }
    db::models::fail_stale_runs(pool, Some(model.id), STALE_RUN.as_secs_f64()).await?;
    let execution = match db::models::start_execution(pool, org_id, model.id, &json!({ "config": model.config }), triggered_by).await {
        Err(e) if db::models::is_already_running(&e) => {
            return Err(AppError::Conflict(format!("{} v{} is already running; one run at a time", model.name, model.version)))
        }
        other => other?,
    };
    let started = std::time::Instant::now();
    let run = tokio::time::timeout(MAX_RUN_TIME, builtin::run(pool, org_id, model.implementation, &model.config, analytics));
    let ran = run.await.unwrap_or_else(|_| Err(AppError::Internal(format!("the run exceeded its time limit of {} s", MAX_RUN_TIME.as_secs()))));
    metrics::histogram!("insightops_model_run_duration_seconds", "implementation" => model.implementation.as_str()).record(started.elapsed().as_secs_f64());
    let outcome = match ran {
        Ok((findings, input)) => apply(pool, org_id, execution, &format!("model:{} v{}", model.name, model.version), &model.name, &findings).await.map(|counts| (counts, input)),
        Err(e) => Err(e),
    };
    let mut conn = pool.acquire().await?;
    match outcome {
        Ok((counts, input)) => {
            let output = json!({ "counts": counts, "input": input });
            db::models::finish_execution(&mut conn, execution, ExecutionStatus::Success, &output, None).await?;
        }
        Err(e) => {
            tracing::warn!(model = %model.name, error = %e, "model run failed");
            db::models::finish_execution(&mut conn, execution, ExecutionStatus::Failed, &json!({}), Some(&e.to_string())).await?;
        }
    }
    drop(conn);
    let runs = db::models::executions(pool, org_id, 50).await?;
    runs.into_iter().find(|r| r.id == execution).ok_or_else(|| AppError::NotFound("execution".into()))
}

/// Stores findings by the dedupe rules (`recommendations::rules`), all or nothing.
async fn apply(pool: &PgPool, org_id: Uuid, execution: Uuid, actor: &str, model_name: &str, findings: &[NewFinding]) -> Result<RunCounts, AppError> {
    let mut counts = RunCounts { findings: findings.len(), ..RunCounts::default() };
    let mut tx = pool.begin().await?;
    for f in findings {
        let known = db::recommendations::known(&mut tx, org_id, &f.finding_key).await?;
        let fresh = Fresh { severity: f.severity, magnitude: f.magnitude };
        match (decide(known.map(|k| k.1), fresh), known) {
            (Decision::Create, _) => {
                let id = db::recommendations::insert(&mut tx, org_id, execution, model_name, f).await?;
                db::recommendations::add_event(&mut tx, org_id, id, "created", None, actor, "").await?;
                counts.created += 1;
            }
            (Decision::RefreshOpen, Some((id, _))) => {
                db::recommendations::update_evidence(&mut tx, id, execution, f, false).await?;
                counts.refreshed += 1;
            }
            (Decision::Reopen, Some((id, k))) => {
                db::recommendations::update_evidence(&mut tx, id, execution, f, true).await?;
                let note = format!("materially worse than when dismissed: {} |{:.2}| (was {} |{:.2}|)", f.severity.as_str(), f.magnitude, k.severity.as_str(), k.magnitude);
                db::recommendations::add_event(&mut tx, org_id, id, "reopened", None, actor, &note).await?;
                counts.reopened += 1;
            }
            _ => counts.kept += 1,
        }
    }
    tx.commit().await?;
    Ok(counts)
}

/// Runs every active model of the org (the seed does this so the demo has a review queue).
pub async fn run_active(pool: &PgPool, org_id: Uuid, triggered_by: &str, analytics: &AnalyticsConfig) -> Result<Vec<ExecutionSummary>, AppError> {
    let mut runs = Vec::new();
    for model in db::models::for_org(pool, org_id).await?.into_iter().filter(|m| m.status == ModelStatus::Active) {
        runs.push(execute(pool, org_id, model.id, triggered_by, analytics).await?);
    }
    Ok(runs)
}
