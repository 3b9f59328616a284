//! One load, API or upload: checks the parsed rows against the org's catalogue (unknown metrics,
//! the wrong kind, a unit that disagrees, a row sent twice), then in one transaction creates the
//! metrics asked for, merges the rows, rebuilds the rollups of the touched days, raises the org's
//! data version, queues detection and records the load. All or nothing unless asked for partial.

use std::collections::{BTreeMap, HashMap};

use sqlx::PgPool;
use uuid::Uuid;

use super::parse::Parsed;
use crate::config::Config;
use crate::db;
use crate::db::kpi::FactTable;
use crate::db::metrics::{MetricDef, MetricKind};
use crate::domain::access::Visibility;
use crate::domain::ingest::{IngestMode, IngestReport, IngestRow, IngestTarget, LoadChannel, RowError};
use crate::error::AppError;

/// Who loads what, how.
#[derive(Debug, Clone)]
pub struct LoadRequest {
    pub org_id: Uuid,
    pub target: IngestTarget,
    pub mode: IngestMode,
    pub create_metrics: bool,
    pub channel: LoadChannel,
    /// A token's name or a user's email, for the load history.
    pub actor: String,
}

fn kind_of(target: IngestTarget) -> MetricKind {
    match target {
        IngestTarget::Kpi => MetricKind::Kpi,
        IngestTarget::Signal => MetricKind::Signal,
    }
}

fn table_of(target: IngestTarget) -> FactTable {
    match target {
        IngestTarget::Kpi => FactTable::Kpi,
        IngestTarget::Signal => FactTable::Signal,
    }
}

/// The rows that passed every check (with the unit each is stored with), the metrics to create,
/// and the errors of the others.
struct Checked<'a> {
    good: Vec<(&'a IngestRow, String)>,
    new_metrics: BTreeMap<String, MetricDef>,
    errors: Vec<RowError>,
}

/// "new_customers" -> "New customers".
fn label_for(key: &str) -> String {
    let text = key.replace('_', " ");
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Checks each parsed row against the catalogue and the rows before it.
fn check<'a>(parsed: &'a Parsed, known: &[(String, String, String)], req: &LoadRequest) -> Checked<'a> {
    let catalogue: HashMap<&str, (&str, &str)> = known.iter().map(|(k, kind, unit)| (k.as_str(), (kind.as_str(), unit.as_str()))).collect();
    let wanted = kind_of(req.target).as_str();
    let mut out = Checked { good: Vec::new(), new_metrics: BTreeMap::new(), errors: parsed.errors.clone() };
    let mut seen: HashMap<_, usize> = HashMap::new();
    for (row, line, r) in &parsed.rows {
        let fail = |field: &str, error: String| RowError { row: *row, line: *line, field: field.into(), error };
        let unit = match (catalogue.get(r.metric.as_str()), out.new_metrics.get(&r.metric)) {
            (Some((kind, _)), _) if *kind != wanted => {
                let other = if *kind == "kpi" { "/api/v1/kpis" } else { "/api/v1/signals" };
                out.errors.push(fail("metric", format!("{} is a {kind}, not a {wanted}; send it to {other}", r.metric)));
                continue;
            }
            (Some((_, unit)), _) => unit.to_string(),
            (None, Some(def)) => def.unit.clone(),
            (None, None) if !req.create_metrics => {
                out.errors.push(fail("metric", format!("unknown metric {}; add create_metrics=true to create it", r.metric)));
                continue;
            }
            (None, None) => {
                let (Some(direction), Some(aggregation)) = (r.direction, r.aggregation) else {
                    out.errors.push(fail("metric", format!("{} is new: its first row must give direction and aggregation", r.metric)));
                    continue;
                };
                let unit = r.unit.clone().unwrap_or_default();
                let def = MetricDef {
                    key: r.metric.clone(),
                    kind: kind_of(req.target),
                    label: r.label.clone().unwrap_or_else(|| label_for(&r.metric)),
                    unit: unit.clone(),
                    direction,
                    aggregation,
                    description: format!("Created by a load ({}).", req.actor),
                    sort_order: 1000,
                    visibility: Visibility::Internal,
                };
                out.new_metrics.insert(r.metric.clone(), def);
                unit
            }
        };
        if let Some(given) = r.unit.as_deref().filter(|u| *u != unit) {
            out.errors.push(fail("unit", format!("{given:?} is not the unit of {} ({unit:?})", r.metric)));
            continue;
        }
        if let Some(first) = seen.insert(r.key(), *row) {
            out.errors.push(fail("row", format!("the same date, metric, dimensions and source as row {first}")));
            continue;
        }
        out.good.push((r, unit));
    }
    out.errors.sort_by_key(|e| e.row);
    out
}

/// What a load would do before it writes: every error, and the days it touches.
fn first_report(req: &LoadRequest, parsed: &Parsed, checked: &Checked) -> IngestReport {
    let days = checked.good.iter().map(|(r, _)| r.date);
    IngestReport {
        target: req.target,
        mode: req.mode,
        written: false,
        rows: parsed.total,
        inserted: 0,
        updated: 0,
        unchanged: 0,
        rejected: checked.errors.len(),
        created_metrics: Vec::new(),
        first_day: days.clone().min(),
        last_day: days.max(),
        errors: checked.errors.clone(),
    }
}

/// Checks a load against the catalogue and reports what it would refuse; writes nothing.
pub async fn preview(pool: &PgPool, req: &LoadRequest, parsed: &Parsed) -> Result<IngestReport, AppError> {
    let mut conn = pool.acquire().await?;
    let known = db::ingest::known_metrics(&mut conn, req.org_id).await?;
    let checked = check(parsed, &known, req);
    let mut report = first_report(req, parsed, &checked);
    report.created_metrics = checked.new_metrics.keys().cloned().collect();
    Ok(report)
}

/// Runs the load; see the module doc. A refused all-or-nothing load writes no data but is recorded.
pub async fn load(pool: &PgPool, config: &Config, req: &LoadRequest, parsed: &Parsed) -> Result<IngestReport, AppError> {
    let mut tx = pool.begin().await?;
    db::ingest::lock_org(&mut tx, req.org_id).await?;
    let known = db::ingest::known_metrics(&mut tx, req.org_id).await?;
    let checked = check(parsed, &known, req);
    let mut report = first_report(req, parsed, &checked);
    if req.mode == IngestMode::AllOrNothing && !report.errors.is_empty() {
        tx.rollback().await?;
        let mut conn = pool.acquire().await?;
        db::ingest::record_load(&mut conn, req.org_id, req.channel, &req.actor, &report).await?;
        count_rows(&report);
        return Ok(report);
    }
    // Only metrics some good row uses are created.
    for def in checked.new_metrics.values().filter(|d| checked.good.iter().any(|(r, _)| r.metric == d.key)) {
        db::metrics::upsert(&mut tx, req.org_id, def).await?;
        report.created_metrics.push(def.key.clone());
    }
    let mut steps = Steps::start();
    if !checked.good.is_empty() {
        write_rows(&mut tx, config, req, &checked, &mut report, &mut steps).await?;
    }
    report.written = true;
    db::ingest::record_load(&mut tx, req.org_id, req.channel, &req.actor, &report).await?;
    tx.commit().await?;
    steps.lap("commit");
    count_rows(&report);
    tracing::info!(org = %req.org_id, rows = report.rows, inserted = report.inserted, updated = report.updated, steps = %steps, "load written");
    Ok(report)
}

/// Adds a written load's rows to the ingest counters.
fn count_rows(report: &IngestReport) {
    let target = report.target.as_str();
    for (outcome, rows) in [("inserted", report.inserted), ("updated", report.updated), ("unchanged", report.unchanged), ("rejected", report.rejected as u64)] {
        metrics::counter!("insightops_ingest_rows_total", "target" => target, "outcome" => outcome).increment(rows);
    }
}

/// Where a load's time goes, for the log and the benchmark: `stage=12ms merge=40ms …`.
struct Steps {
    clock: std::time::Instant,
    done: Vec<(&'static str, u128)>,
}

impl Steps {
    fn start() -> Steps {
        Steps { clock: std::time::Instant::now(), done: Vec::new() }
    }

    fn lap(&mut self, name: &'static str) {
        self.done.push((name, self.clock.elapsed().as_millis()));
        self.clock = std::time::Instant::now();
    }
}

impl std::fmt::Display for Steps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.done.iter().map(|(name, ms)| format!("{name}={ms}ms")).collect();
        f.write_str(&parts.join(" "))
    }
}

/// Stages and merges the good rows, then (if anything changed) rebuilds the touched days'
/// rollups and periods, records dimension values, raises the data version and queues detection.
async fn write_rows(tx: &mut sqlx::PgConnection, config: &Config, req: &LoadRequest, checked: &Checked<'_>, report: &mut IngestReport, steps: &mut Steps) -> Result<(), AppError> {
    let rows: Vec<(&IngestRow, &str)> = checked.good.iter().map(|(r, unit)| (*r, unit.as_str())).collect();
    db::ingest::stage(&mut *tx, req.org_id, &rows).await?;
    steps.lap("stage");
    let counts = db::ingest::merge(&mut *tx, table_of(req.target)).await?;
    steps.lap("merge");
    (report.inserted, report.updated) = (counts.inserted, counts.updated);
    report.unchanged = rows.len() as u64 - counts.inserted - counts.updated;
    if counts.inserted + counts.updated == 0 {
        return Ok(());
    }
    if req.target == IngestTarget::Kpi {
        let days = db::ingest::staged_days(&mut *tx).await?;
        db::kpi::refresh_rollups_for_days(&mut *tx, req.org_id, &days).await?;
        steps.lap("rollups_and_aggregates");
    }
    db::kpi::record_dimension_values(&mut *tx, req.org_id, db::kpi::DimensionSource::Staged).await?;
    db::ingest::bump_data_version(&mut *tx, req.org_id).await?;
    crate::jobs::service::data_changed(&mut *tx, req.org_id, config).await?;
    steps.lap("dimensions_and_version");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::parse::parse_json;

    fn request(create_metrics: bool) -> LoadRequest {
        LoadRequest { org_id: Uuid::nil(), target: IngestTarget::Kpi, mode: IngestMode::AllOrNothing, create_metrics, channel: LoadChannel::Api, actor: "test".into() }
    }

    #[test]
    fn rows_are_checked_against_the_catalogue_and_each_other() {
        let known = vec![("revenue".to_string(), "kpi".to_string(), "USD".to_string()), ("sessions".to_string(), "signal".to_string(), "count".to_string())];
        let body = br#"[{"date": "2026-11-01", "metric": "revenue", "value": 1},
                        {"date": "2026-11-01", "metric": "sessions", "value": 1},
                        {"date": "2026-11-01", "metric": "refunds", "value": 1},
                        {"date": "2026-11-01", "metric": "revenue", "value": 1, "unit": "EUR"},
                        {"date": "2026-11-01", "metric": "revenue", "value": 2},
                        {"date": "2026-11-01", "metric": "revenue", "value": 2, "source": "stripe"}]"#;
        let parsed = parse_json(body, 100).expect("parsed");
        let checked = check(&parsed, &known, &request(false));
        let errors: Vec<(usize, &str)> = checked.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(errors, vec![(2, "metric"), (3, "metric"), (4, "unit"), (5, "row")]);
        assert!(checked.errors[0].error.contains("/api/v1/signals"), "{}", checked.errors[0].error);
        assert_eq!(checked.errors[3].error, "the same date, metric, dimensions and source as row 1");
        assert_eq!(checked.good.iter().map(|(r, unit)| (r.source.as_str(), unit.as_str())).collect::<Vec<_>>(), vec![("default", "USD"), ("stripe", "USD")]);
    }

    #[test]
    fn a_new_metric_needs_its_rules_from_its_first_row() {
        let body = br#"[{"date": "2026-11-01", "metric": "refunds", "value": 1},
                        {"date": "2026-11-02", "metric": "refunds", "value": 1, "direction": "lower_is_better", "aggregation": "sum", "unit": "USD"},
                        {"date": "2026-11-03", "metric": "refunds", "value": 1}]"#;
        let parsed = parse_json(body, 100).expect("parsed");
        let checked = check(&parsed, &[], &request(true));
        assert_eq!(checked.errors.iter().map(|e| e.row).collect::<Vec<_>>(), vec![1]);
        let def = &checked.new_metrics["refunds"];
        assert_eq!((def.label.as_str(), def.unit.as_str(), def.visibility), ("Refunds", "USD", Visibility::Internal));
        assert_eq!(checked.good.len(), 2);
    }
}
