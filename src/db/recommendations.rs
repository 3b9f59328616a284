//! Queries on recommendations (`io_recommendation`) and their history (`io_recommendation_event`).
//! Decisions are compare-and-set on the row's version, so two admins cannot both win.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::access::{MetricAccess, MetricAccessMap};
use crate::domain::recommendations::{
    Known,
    Category, Evidence, Recommendation, RecommendationEvent, RecommendationFilter, RecommendationStatus, Severity,
};

/// A finding of a model run, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFinding {
    pub finding_key: String,
    pub metric_key: String,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub severity: Severity,
    pub magnitude: f64,
    pub evidence: Evidence,
    /// Metrics the finding uses besides its own (a rule's outcome metric): its text quotes them.
    pub also_references: Vec<String>,
    /// Its text names other flagged slices besides the evidence's own.
    pub names_other_slices: bool,
}

impl NewFinding {
    /// Every metric the finding's text or evidence quotes: a viewer must see all of them.
    pub fn metric_keys(&self) -> Vec<String> {
        let mut keys = vec![self.metric_key.clone()];
        keys.extend(self.also_references.iter().filter(|k| **k != self.metric_key).cloned());
        keys
    }

    /// Whether it names any dimension value: totals-only roles never see such a finding.
    pub fn names_slices(&self) -> bool {
        self.names_other_slices || !self.evidence.dimensions.is_empty()
    }
}

/// What a viewer may see of the queue, as SQL compares it: metrics seen in full, and metrics seen
/// at least as totals. An item shows when every metric it references is in the first list, or in
/// the second and it names no slice. `None` (operators, model runs) sees everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibleMetrics {
    pub full: Vec<String>,
    pub totals: Vec<String>,
}

impl From<&MetricAccessMap> for VisibleMetrics {
    fn from(access: &MetricAccessMap) -> Self {
        VisibleMetrics { full: access.keys_at_least(MetricAccess::Full), totals: access.keys_at_least(MetricAccess::TotalsOnly) }
    }
}

/// The SQL condition for [`VisibleMetrics`], on `io_recommendation r` with the lists as `$full` and `$totals`.
fn visible_sql(full: usize, totals: usize) -> String {
    format!(
        "(${full}::text[] IS NULL
          OR (ARRAY[r.metric_key] || r.metric_keys) <@ ${full}::text[]
          OR ((ARRAY[r.metric_key] || r.metric_keys) <@ ${totals}::text[] AND NOT r.names_slices))"
    )
}

fn bad(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("io_recommendation.{column} has unknown value {value:?}").into())
}

/// The stored state of a finding, locked for this transaction.
pub async fn known(conn: &mut PgConnection, org_id: Uuid, finding_key: &str) -> Result<Option<(Uuid, Known)>, sqlx::Error> {
    let row: Option<(Uuid, String, String, f64)> =
        sqlx::query_as("SELECT id, status, severity, magnitude FROM io_recommendation WHERE org_id = $1 AND finding_key = $2 FOR UPDATE")
            .bind(org_id)
            .bind(finding_key)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((id, status, severity, magnitude)) = row else { return Ok(None) };
    let status = RecommendationStatus::parse(&status).ok_or_else(|| bad("status", &status))?;
    let severity = Severity::parse(&severity).ok_or_else(|| bad("severity", &severity))?;
    Ok(Some((id, Known { status, severity, magnitude })))
}

fn evidence_json(evidence: &Evidence) -> Result<serde_json::Value, sqlx::Error> {
    serde_json::to_value(evidence).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

pub async fn insert(conn: &mut PgConnection, org_id: Uuid, execution_id: Uuid, model_name: &str, f: &NewFinding) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO io_recommendation (org_id, model_execution_id, model_name, finding_key, metric_key, title, description, category, severity, magnitude, evidence, metric_keys, names_slices)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(org_id)
    .bind(execution_id)
    .bind(model_name)
    .bind(&f.finding_key)
    .bind(&f.metric_key)
    .bind(&f.title)
    .bind(&f.description)
    .bind(f.category.as_str())
    .bind(f.severity.as_str())
    .bind(f.magnitude)
    .bind(evidence_json(&f.evidence)?)
    .bind(f.metric_keys())
    .bind(f.names_slices())
    .fetch_one(conn)
    .await
}

/// New evidence for an existing row; `reopen` also sets it open again and bumps its version.
pub async fn update_evidence(conn: &mut PgConnection, id: Uuid, execution_id: Uuid, f: &NewFinding, reopen: bool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE io_recommendation
         SET model_execution_id = $2, title = $3, description = $4, severity = $5, magnitude = $6, evidence = $7,
             status = CASE WHEN $8 THEN 'open' ELSE status END, metric_keys = $9, names_slices = $10,
             version = version + CASE WHEN $8 THEN 1 ELSE 0 END
         WHERE id = $1",
    )
    .bind(id)
    .bind(execution_id)
    .bind(&f.title)
    .bind(&f.description)
    .bind(f.severity.as_str())
    .bind(f.magnitude)
    .bind(evidence_json(&f.evidence)?)
    .bind(reopen)
    .bind(f.metric_keys())
    .bind(f.names_slices())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn add_event(conn: &mut PgConnection, org_id: Uuid, id: Uuid, kind: &str, actor_user_id: Option<Uuid>, actor: &str, note: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO io_recommendation_event (org_id, recommendation_id, kind, actor_user_id, actor, note) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(org_id)
        .bind(id)
        .bind(kind)
        .bind(actor_user_id)
        .bind(actor)
        .bind(note)
        .execute(conn)
        .await?;
    Ok(())
}

/// Why a decision did not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecideOutcome {
    Applied { title: String },
    Missing,
    /// Someone changed it since `expected_version` (or it already has that status).
    Stale { status: RecommendationStatus },
}

/// Sets the status if the row is still at `expected_version`.
pub async fn set_status(conn: &mut PgConnection, org_id: Uuid, id: Uuid, expected_version: i32, status: RecommendationStatus) -> Result<DecideOutcome, sqlx::Error> {
    let applied: Option<String> = sqlx::query_scalar(
        "UPDATE io_recommendation SET status = $4, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3 AND status <> $4 RETURNING title",
    )
    .bind(org_id)
    .bind(id)
    .bind(expected_version)
    .bind(status.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(title) = applied {
        return Ok(DecideOutcome::Applied { title });
    }
    let current: Option<String> = sqlx::query_scalar("SELECT status FROM io_recommendation WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match current {
        None => Ok(DecideOutcome::Missing),
        Some(s) => Ok(DecideOutcome::Stale { status: RecommendationStatus::parse(&s).ok_or_else(|| bad("status", &s))? }),
    }
}

#[derive(sqlx::FromRow)]
struct RecommendationRow {
    id: Uuid,
    title: String,
    description: String,
    category: String,
    severity: String,
    status: String,
    model_name: String,
    model_version: i32,
    evidence: serde_json::Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i32,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The org's recommendations matching `filter`, most severe and newest first, with their history
/// (every item, whatever its metrics: for operators and for answers to an admin's own decision).
pub async fn list(pool: &PgPool, org_id: Uuid, filter: &RecommendationFilter, ids: Option<&[Uuid]>, limit: i64) -> Result<Vec<Recommendation>, sqlx::Error> {
    list_visible(pool, org_id, filter, ids, limit, None).await
}

/// [`list`] restricted to what `visible` allows, filtered before the limit so a page is never short.
pub async fn list_visible(
    pool: &PgPool,
    org_id: Uuid,
    filter: &RecommendationFilter,
    ids: Option<&[Uuid]>,
    limit: i64,
    visible: Option<&VisibleMetrics>,
) -> Result<Vec<Recommendation>, sqlx::Error> {
    let sql = format!(
        "SELECT r.id, r.title, r.description, r.category, r.severity, r.status, r.model_name, m.version AS model_version,
                r.evidence, r.created_at, r.updated_at, r.version
         FROM io_recommendation r
         JOIN io_model_execution e ON e.id = r.model_execution_id
         JOIN io_analytical_model m ON m.id = e.model_id
         WHERE r.org_id = $1
           AND ($2::text IS NULL OR r.status = $2)
           AND ($3::text IS NULL OR r.category = $3)
           AND ($4::text IS NULL OR r.severity = $4)
           AND ($5::text IS NULL OR r.metric_key = $5)
           AND ($6::uuid[] IS NULL OR r.id = ANY($6))
           AND {}
         ORDER BY CASE r.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
                  r.evidence->>'period_end' DESC, r.id
         LIMIT $7",
        visible_sql(8, 9)
    );
    let rows = sqlx::query_as::<_, RecommendationRow>(&sql)
    .bind(org_id)
    .bind(filter.status.map(RecommendationStatus::as_str))
    .bind(filter.category.map(Category::as_str))
    .bind(filter.severity.map(Severity::as_str))
    .bind(filter.metric.as_deref())
    .bind(ids)
    .bind(limit)
    .bind(visible.map(|v| &v.full))
    .bind(visible.map(|v| &v.totals))
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let events: Vec<(Uuid, DateTime<Utc>, String, String, String)> = sqlx::query_as(
        "SELECT recommendation_id, at, kind, actor, note FROM io_recommendation_event
         WHERE org_id = $1 AND recommendation_id = ANY($2) ORDER BY at, id",
    )
    .bind(org_id)
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let history = events
                .iter()
                .filter(|e| e.0 == r.id)
                .map(|e| RecommendationEvent { at: stamp(e.1), kind: e.2.clone(), actor: e.3.clone(), note: e.4.clone() })
                .collect();
            let evidence: Evidence = serde_json::from_value(r.evidence).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            Ok(Recommendation {
                    category: Category::parse(&r.category).ok_or_else(|| bad("category", &r.category))?,
                    severity: Severity::parse(&r.severity).ok_or_else(|| bad("severity", &r.severity))?,
                    status: RecommendationStatus::parse(&r.status).ok_or_else(|| bad("status", &r.status))?,
                    id: r.id,
                    title: r.title,
                    description: r.description,
                    model_name: r.model_name,
                    model_version: r.model_version,
                    evidence,
                    created_at: stamp(r.created_at),
                    updated_at: stamp(r.updated_at),
                    version: r.version,
                    history,
            })
        })
        .collect()
}

/// Open items the viewer may see.
pub async fn open_count(pool: &PgPool, org_id: Uuid, visible: Option<&VisibleMetrics>) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT count(*) FROM io_recommendation r WHERE r.org_id = $1 AND r.status = 'open' AND {}", visible_sql(2, 3));
    sqlx::query_scalar(&sql).bind(org_id).bind(visible.map(|v| &v.full)).bind(visible.map(|v| &v.totals)).fetch_one(pool).await
}

/// Metric keys of the items the viewer may see, for the filter.
pub async fn metrics(pool: &PgPool, org_id: Uuid, visible: Option<&VisibleMetrics>) -> Result<Vec<String>, sqlx::Error> {
    let sql = format!("SELECT DISTINCT r.metric_key FROM io_recommendation r WHERE r.org_id = $1 AND {} ORDER BY 1", visible_sql(2, 3));
    sqlx::query_scalar(&sql).bind(org_id).bind(visible.map(|v| &v.full)).bind(visible.map(|v| &v.totals)).fetch_all(pool).await
}

/// One stored anomaly finding as a pattern review counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyFinding {
    pub metric_key: String,
    pub dimensions: Vec<(String, String)>,
    pub day: chrono::NaiveDate,
    pub severity: Severity,
}

/// The org's anomaly findings on days in `[from, to]`, except dismissed ones (a reviewer said
/// they were nothing).
pub async fn anomaly_findings(pool: &PgPool, org_id: Uuid, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<Vec<AnomalyFinding>, sqlx::Error> {
    let rows: Vec<(String, serde_json::Value, chrono::NaiveDate, String)> = sqlx::query_as(
        "SELECT metric_key, evidence -> 'dimensions', (evidence ->> 'period_end')::date AS day, severity
         FROM io_recommendation
         WHERE org_id = $1 AND category = 'anomaly' AND status <> 'dismissed'
           AND (evidence ->> 'period_end')::date BETWEEN $2 AND $3
         ORDER BY day",
    )
    .bind(org_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(metric_key, dims, day, severity)| {
            let dimensions: Vec<(String, String)> = serde_json::from_value(dims).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            Ok(AnomalyFinding { metric_key, dimensions, day, severity: Severity::parse(&severity).ok_or_else(|| bad("severity", &severity))? })
        })
        .collect()
}

/// How many findings the org has and when one last changed (a decision, a re-raise): a cached
/// narrative of the org is stale when either differs.
pub async fn change_stamp(pool: &PgPool, org_id: Uuid) -> Result<(i64, Option<String>), sqlx::Error> {
    sqlx::query_as("SELECT count(*), max(updated_at)::text FROM io_recommendation WHERE org_id = $1").bind(org_id).fetch_one(pool).await
}
