//! Queries on the model registry (`io_analytical_model`) and model runs (`io_model_execution`).
//! Every query is scoped by org; a new version is inserted, never edited in place.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::decode;

use crate::domain::models::{ExecutionStatus, ExecutionSummary, Implementation, ModelStatus, ModelSummary, ModelType};

/// A registered model version as the runner needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRecord {
    pub id: Uuid,
    pub name: String,
    pub version: i32,
    pub model_type: ModelType,
    pub implementation: Implementation,
    pub status: ModelStatus,
    pub description: String,
    pub input_schema: serde_json::Value,
    pub config: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct ModelRow {
    id: Uuid,
    name: String,
    version: i32,
    model_type: String,
    implementation: String,
    status: String,
    description: String,
    input_schema: serde_json::Value,
    config: serde_json::Value,
}

impl TryFrom<ModelRow> for ModelRecord {
    type Error = sqlx::Error;

    fn try_from(r: ModelRow) -> Result<Self, Self::Error> {
        Ok(ModelRecord {
            model_type: decode("io_analytical_model.type", &r.model_type, ModelType::parse(&r.model_type))?,
            implementation: decode("io_analytical_model.implementation", &r.implementation, Implementation::parse(&r.implementation))?,
            status: decode("io_analytical_model.status", &r.status, ModelStatus::parse(&r.status))?,
            id: r.id,
            name: r.name,
            version: r.version,
            description: r.description,
            input_schema: r.input_schema,
            config: r.config,
        })
    }
}

impl ModelRecord {
    pub fn summary(&self) -> ModelSummary {
        ModelSummary {
            id: self.id,
            name: self.name.clone(),
            version: self.version,
            model_type: self.model_type,
            implementation: self.implementation,
            status: self.status,
            description: self.description.clone(),
            config: serde_json::to_string_pretty(&self.config).unwrap_or_default(),
            input_schema: serde_json::to_string_pretty(&self.input_schema).unwrap_or_default(),
        }
    }
}

const SELECT_MODEL: &str = "SELECT id, name, version, type AS model_type, implementation, status, description, input_schema, config FROM io_analytical_model";

/// Every version of every model of the org, by name then newest version first.
pub async fn for_org(pool: &PgPool, org_id: Uuid) -> Result<Vec<ModelRecord>, sqlx::Error> {
    let rows = sqlx::query_as::<_, ModelRow>(&format!("{SELECT_MODEL} WHERE org_id = $1 ORDER BY name, version DESC"))
        .bind(org_id)
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(ModelRecord::try_from).collect()
}

/// Whether the org has any version of a model with this name.
pub async fn name_exists(conn: &mut PgConnection, org_id: Uuid, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM io_analytical_model WHERE org_id = $1 AND name = $2)")
        .bind(org_id)
        .bind(name)
        .fetch_one(conn)
        .await
}

pub async fn by_id(pool: &PgPool, org_id: Uuid, id: Uuid) -> Result<Option<ModelRecord>, sqlx::Error> {
    let row = sqlx::query_as::<_, ModelRow>(&format!("{SELECT_MODEL} WHERE org_id = $1 AND id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(ModelRecord::try_from).transpose()
}

/// Registers `version` (the next one when `None`) of a model; returns its id and version.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut PgConnection,
    org_id: Uuid,
    name: &str,
    model_type: ModelType,
    implementation: Implementation,
    status: ModelStatus,
    description: &str,
    input_schema: &serde_json::Value,
    output_schema: &serde_json::Value,
    config: &serde_json::Value,
    created_by: &str,
) -> Result<(Uuid, i32), sqlx::Error> {
    // The org's model rows are locked so two registrations cannot take the same version number.
    sqlx::query("SELECT 1 FROM io_org WHERE id = $1 FOR UPDATE").bind(org_id).execute(&mut *conn).await?;
    sqlx::query_as(
        "INSERT INTO io_analytical_model (org_id, name, version, type, implementation, status, description, input_schema, output_schema, config, created_by)
         VALUES ($1, $2, COALESCE((SELECT max(version) FROM io_analytical_model WHERE org_id = $1 AND name = $2), 0) + 1,
                 $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING id, version",
    )
    .bind(org_id)
    .bind(name)
    .bind(model_type.as_str())
    .bind(implementation.as_str())
    .bind(status.as_str())
    .bind(description)
    .bind(input_schema)
    .bind(output_schema)
    .bind(config)
    .bind(created_by)
    .fetch_one(conn)
    .await
}

/// Activating a version deprecates the active one of the same name, in the same transaction.
pub async fn set_status(conn: &mut PgConnection, org_id: Uuid, id: Uuid, status: ModelStatus) -> Result<Option<String>, sqlx::Error> {
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM io_analytical_model WHERE org_id = $1 AND id = $2 FOR UPDATE")
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(name) = name else { return Ok(None) };
    if status == ModelStatus::Active {
        sqlx::query("UPDATE io_analytical_model SET status = 'deprecated' WHERE org_id = $1 AND name = $2 AND status = 'active' AND id <> $3")
            .bind(org_id)
            .bind(&name)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("UPDATE io_analytical_model SET status = $3 WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .bind(status.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(Some(name))
}

pub async fn start_execution(pool: &PgPool, org_id: Uuid, model_id: Uuid, input_ref: &serde_json::Value, triggered_by: &str) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO io_model_execution (org_id, model_id, status, input_ref, triggered_by) VALUES ($1, $2, 'running', $3, $4) RETURNING id",
    )
    .bind(org_id)
    .bind(model_id)
    .bind(input_ref)
    .bind(triggered_by)
    .fetch_one(pool)
    .await
}

/// Fails runs still `running` after `older_than_secs` (of one model, or of every model): their
/// worker died or they were abandoned. Returns how many.
pub async fn fail_stale_runs(pool: &PgPool, model_id: Option<Uuid>, older_than_secs: f64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE io_model_execution SET status = 'failed', finished_at = now(),
                error = 'the run stopped without finishing (its worker died or it passed the time limit)'
         WHERE status = 'running' AND ($1::uuid IS NULL OR model_id = $1) AND started_at < now() - make_interval(secs => $2)",
    )
    .bind(model_id)
    .bind(older_than_secs)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Whether `err` is the "one running run per model" rule.
pub fn is_already_running(err: &sqlx::Error) -> bool {
    err.as_database_error().and_then(|e| e.constraint()) == Some("io_model_execution_one_running")
}

pub async fn finish_execution(
    conn: &mut PgConnection,
    id: Uuid,
    status: ExecutionStatus,
    output_ref: &serde_json::Value,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE io_model_execution
         SET status = $2, output_ref = $3, error = $4, finished_at = clock_timestamp(),
             duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::int
         WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(output_ref)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ExecutionRow {
    id: Uuid,
    name: String,
    version: i32,
    status: String,
    started_at: DateTime<Utc>,
    duration_ms: Option<i32>,
    error: Option<String>,
    output_ref: serde_json::Value,
    triggered_by: String,
}

/// The org's most recent runs, newest first.
pub async fn executions(pool: &PgPool, org_id: Uuid, limit: i64) -> Result<Vec<ExecutionSummary>, sqlx::Error> {
    let rows = sqlx::query_as::<_, ExecutionRow>(
        "SELECT e.id, m.name, m.version, e.status, e.started_at, e.duration_ms, e.error, e.output_ref, e.triggered_by
         FROM io_model_execution e JOIN io_analytical_model m ON m.id = e.model_id
         WHERE e.org_id = $1 ORDER BY e.started_at DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ExecutionSummary {
                status: decode("io_model_execution.status", &r.status, ExecutionStatus::parse(&r.status))?,
                id: r.id,
                model_name: r.name,
                model_version: r.version,
                started_at: r.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                duration_ms: r.duration_ms,
                error: r.error,
                output: r.output_ref.to_string(),
                triggered_by: r.triggered_by,
            })
        })
        .collect()
}
