//! Pattern reviews over stored findings, and the patterns a viewer may see.

use sqlx::PgPool;
use uuid::Uuid;

use super::RecurringPattern;
use crate::analytics::calendar::shift;
use crate::analytics::pattern::{metric_patterns, AnomalyEvent, PatternConfig, PatternKind};
use crate::db;
use crate::db::metrics::MetricDef;
use crate::db::patterns::PatternRow;
use crate::domain::access::{MetricAccess, MetricAccessMap};
use crate::error::AppError;

/// "revenue" for the total, "revenue region=EMEA" for a slice.
fn source(metric: &str, dimensions: &[(String, String)]) -> String {
    let slice: Vec<String> = dimensions.iter().map(|(d, v)| format!("{d}={v}")).collect();
    if slice.is_empty() { metric.to_string() } else { format!("{metric} {}", slice.join(",")) }
}

/// Reviews the org's stored anomaly findings in the `kind` window ending on its last day of data
/// and stores each metric's pattern. Returns how many were found.
pub async fn review(pool: &PgPool, org_id: Uuid, kind: PatternKind, config: &PatternConfig) -> Result<usize, AppError> {
    let Some(as_of) = db::kpi::latest_day(pool, org_id).await? else { return Ok(0) };
    let window = config.windows().into_iter().find(|(k, _)| *k == kind).map_or(28, |(_, w)| w.window_days);
    let from = shift(as_of, 1 - i64::from(window));
    let findings = db::recommendations::anomaly_findings(pool, org_id, from, as_of).await?;
    let events: Vec<(String, AnomalyEvent)> = findings
        .into_iter()
        .map(|f| {
            let event = AnomalyEvent { date: f.day, source: source(&f.metric_key, &f.dimensions), severity: f.severity };
            (f.metric_key, event)
        })
        .collect();
    let found = metric_patterns(&events, kind, as_of, config);
    for p in &found {
        let row = PatternRow {
            window_kind: kind.as_str().to_string(),
            names_slices: p.pattern.sources.iter().any(|s| s.contains(' ')),
            metric_key: p.metric_key.clone(),
            sources: p.pattern.sources.clone(),
            first_day: p.first_day,
            last_day: p.last_day,
            events: p.pattern.events as i32,
            window_start: p.pattern.start,
            window_end: p.pattern.as_of,
        };
        db::patterns::upsert(pool, org_id, &row).await?;
    }
    Ok(found.len())
}

/// Reviews every org (the scheduled job).
pub async fn review_all(pool: &PgPool, kind: PatternKind, config: &PatternConfig) -> Result<usize, AppError> {
    let mut total = 0;
    for org in db::orgs::all(pool).await? {
        total += review(pool, org.id, kind, config).await?;
    }
    Ok(total)
}

/// The org's stored patterns on `metrics` (all when `None`), newest first, through the one access
/// check the caller already made (`catalogue` and `access` from `Scope::metrics`): hidden metrics
/// are left out, totals-only ones lose their slice names.
pub async fn recurring(pool: &PgPool, org_id: Uuid, catalogue: &[MetricDef], access: &MetricAccessMap, metrics: Option<&[String]>, limit: i64) -> Result<Vec<RecurringPattern>, AppError> {
    let rows = db::patterns::list(pool, org_id, metrics, limit).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let level = access.access(&row.metric_key);
            let label = catalogue.iter().find(|m| m.key == row.metric_key)?.label.clone();
            let sources = match level {
                MetricAccess::Full => row.sources.clone(),
                MetricAccess::TotalsOnly if !row.names_slices => row.sources.clone(),
                MetricAccess::TotalsOnly => Vec::new(),
                MetricAccess::Hidden => return None,
            };
            Some(RecurringPattern {
                window: row.window_kind,
                metric_label: label,
                metric_key: row.metric_key,
                events: row.events,
                source_count: row.sources.len(),
                sources,
                first_day: row.first_day,
                last_day: row.last_day,
                window_start: row.window_start,
                window_end: row.window_end,
            })
        })
        .collect())
}
