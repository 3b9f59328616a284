//! The built-in models. Each reads the org's daily series through `db`, hands them to the analytics
//! module, and turns what it finds into findings; its config is checked against its JSON schema first.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::{Implementation, ModelType};
use crate::analytics::anomaly::{score_series, AnomalyScore, Severity};
use crate::analytics::calendar::{period_containing, same_period_last_year, Granularity};
use crate::analytics::narrative::{Fact, MetricRef};
use crate::analytics::trend::{classify_trend, TrendDirection, TrendRule};
use crate::analytics::{AnalyticsConfig, Aggregation, DailyValue, Direction};
use crate::dashboard::DashboardQuery;
use crate::db;
use crate::db::kpi::{DimensionFilter, FactTable};
use crate::db::metrics::{MetricDef, MetricKind};
use crate::db::recommendations::NewFinding;
use crate::error::AppError;
use crate::format::format_value;
use crate::domain::Dimension;
use crate::recommendations::{Category, Evidence, EvidencePoint};

/// A built-in model as the seed registers it (version 1, active).
pub struct BuiltIn {
    pub name: &'static str,
    pub implementation: Implementation,
    pub model_type: ModelType,
    pub description: &'static str,
    pub default_config: Value,
}

pub fn catalogue() -> Vec<BuiltIn> {
    vec![
        BuiltIn {
            name: "robust_anomaly_detector",
            implementation: Implementation::RobustAnomaly,
            model_type: ModelType::Statistical,
            description: "Scores every day of every metric, in total and per dimension value, against its seasonal, trend-adjusted expectation (analytics::anomaly).",
            default_config: json!({ "lookback_days": 90, "min_severity": "warning", "dimensions": ["region", "segment", "channel", "product"], "metrics": [] }),
        },
        BuiltIn {
            name: "trend_break_detector",
            implementation: Implementation::TrendBreak,
            model_type: ModelType::Statistical,
            description: "Flags a metric whose significant trend over the last window reversed the one of the window before (OLS + Theil–Sen).",
            default_config: json!({ "window_days": 28, "metrics": [] }),
        },
        BuiltIn {
            name: "forecast_risk_model",
            implementation: Implementation::ForecastRisk,
            model_type: ModelType::Statistical,
            description: "Projects the current month (actuals so far + Holt-Winters forecast) and flags a target it will miss; the target is the same month last year plus the required growth.",
            default_config: json!({ "metrics": ["revenue", "orders", "new_customers"], "required_growth": 0.05, "min_shortfall": 0.02 }),
        },
        BuiltIn {
            name: "channel_efficiency_rules",
            implementation: Implementation::OptimisationRules,
            model_type: ModelType::RuleBased,
            description: "Flags a dimension value whose cost rose while its outcome fell, window against the window before.",
            default_config: json!({ "cost_metric": "marketing_spend", "outcome_metric": "orders", "dimension": "channel", "window_days": 28, "min_cost_rise": 0.05, "min_outcome_fall": 0.03 }),
        },
    ]
}

const METRIC_LIST: &str = r#"{ "type": "array", "items": { "type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$" }, "uniqueItems": true }"#;

/// The JSON schema a config of `implementation` must satisfy.
pub fn input_schema(implementation: Implementation) -> Value {
    let metrics: Value = serde_json::from_str(METRIC_LIST).unwrap_or(Value::Null);
    let dimension = json!({ "enum": ["region", "segment", "channel", "product"] });
    let share = json!({ "type": "number", "minimum": 0, "maximum": 10 });
    let properties = match implementation {
        Implementation::RobustAnomaly => json!({
            "lookback_days": { "type": "integer", "minimum": 1, "maximum": 730 },
            "min_severity": { "enum": ["info", "warning", "critical"] },
            "dimensions": { "type": "array", "items": dimension, "uniqueItems": true },
            "metrics": metrics,
        }),
        Implementation::TrendBreak => json!({
            "window_days": { "type": "integer", "minimum": 14, "maximum": 120 },
            "metrics": metrics,
        }),
        Implementation::ForecastRisk => json!({
            "metrics": metrics,
            "required_growth": { "type": "number", "minimum": -1, "maximum": 10 },
            "min_shortfall": { "type": "number", "minimum": 0, "maximum": 1 },
        }),
        Implementation::OptimisationRules => json!({
            "cost_metric": { "type": "string" },
            "outcome_metric": { "type": "string" },
            "dimension": dimension,
            "window_days": { "type": "integer", "minimum": 7, "maximum": 180 },
            "min_cost_rise": share,
            "min_outcome_fall": share,
        }),
    };
    let required: Vec<&String> = properties.as_object().map(|o| o.keys().collect()).unwrap_or_default();
    json!({ "type": "object", "additionalProperties": false, "required": required, "properties": properties })
}

/// What every model run produces: one object per recommendation.
pub fn output_schema() -> Value {
    json!({
        "type": "array",
        "items": {
            "type": "object",
            "required": ["finding_key", "metric_key", "category", "severity", "magnitude", "evidence"],
            "properties": {
                "finding_key": { "type": "string" },
                "metric_key": { "type": "string" },
                "category": { "enum": ["anomaly", "trend", "optimisation", "forecast"] },
                "severity": { "enum": ["info", "warning", "critical"] },
                "magnitude": { "type": "number" },
                "evidence": { "type": "object" }
            }
        }
    })
}

/// Checks `config` against `schema`; the error lists every failing path, e.g.
/// `/lookback_days: 5000 is greater than the maximum of 730`.
pub fn validate_config(schema: &Value, config: &Value) -> Result<(), AppError> {
    let validator = jsonschema::validator_for(schema).map_err(|e| AppError::Internal(format!("model schema is invalid: {e}")))?;
    let problems: Vec<String> = validator
        .iter_errors(config)
        .map(|e| {
            let path = e.instance_path().to_string();
            format!("{}: {e}", if path.is_empty() { "/".to_string() } else { path })
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!("the config does not match the model's input schema: {}", problems.join("; "))))
    }
}

#[derive(Deserialize)]
struct AnomalySettings {
    lookback_days: i64,
    min_severity: Severity,
    dimensions: Vec<String>,
    metrics: Vec<String>,
}

#[derive(Deserialize)]
struct TrendSettings {
    window_days: i64,
    metrics: Vec<String>,
}

#[derive(Deserialize)]
struct ForecastSettings {
    metrics: Vec<String>,
    required_growth: f64,
    min_shortfall: f64,
}

#[derive(Deserialize)]
struct RuleSettings {
    cost_metric: String,
    outcome_metric: String,
    dimension: String,
    window_days: i64,
    min_cost_rise: f64,
    min_outcome_fall: f64,
}

fn settings<T: for<'de> Deserialize<'de>>(config: &Value) -> Result<T, AppError> {
    serde_json::from_value(config.clone()).map_err(|e| AppError::BadRequest(format!("config: {e}")))
}

/// The org's metrics (KPIs and signals) a model looks at: the listed ones, or all when the list is empty.
async fn chosen_metrics(pool: &PgPool, org_id: Uuid, wanted: &[String]) -> Result<Vec<(FactTable, MetricDef)>, AppError> {
    let mut out = Vec::new();
    for (kind, table) in [(MetricKind::Kpi, FactTable::Kpi), (MetricKind::Signal, FactTable::Signal)] {
        for m in db::metrics::for_org(pool, org_id, kind).await? {
            if wanted.is_empty() || wanted.contains(&m.key) {
                out.push((table, m));
            }
        }
    }
    if let Some(unknown) = wanted.iter().find(|w| !out.iter().any(|(_, m)| &m.key == *w)) {
        return Err(AppError::BadRequest(format!("config: unknown metric {unknown:?}")));
    }
    Ok(out)
}

/// Runs a model over the org's data. Returns its findings and what it read (the execution's input_ref).
pub async fn run(pool: &PgPool, org_id: Uuid, implementation: Implementation, config: &Value, analytics: &AnalyticsConfig) -> Result<(Vec<NewFinding>, Value), AppError> {
    validate_config(&input_schema(implementation), config)?;
    let Some(as_of) = db::kpi::latest_day(pool, org_id).await? else {
        return Ok((Vec::new(), json!({ "note": "no data" })));
    };
    let (findings, mut input) = match implementation {
        Implementation::RobustAnomaly => robust_anomaly(pool, org_id, as_of, settings(config)?, analytics).await,
        Implementation::TrendBreak => trend_break(pool, org_id, as_of, settings(config)?).await,
        Implementation::ForecastRisk => forecast_risk(pool, org_id, as_of, settings(config)?, analytics).await,
        Implementation::OptimisationRules => optimisation_rules(pool, org_id, as_of, settings(config)?).await,
    }?;
    let (findings, dropped) = cap_findings(findings, MAX_FINDINGS_PER_RUN);
    if dropped > 0 {
        input["findings_dropped"] = json!(dropped);
    }
    Ok((findings, input))
}

/// Most findings one run stores: the most severe and largest are kept, the rest counted in the
/// run's input, so a misconfigured model cannot flood the review queue.
pub const MAX_FINDINGS_PER_RUN: usize = 500;
/// Most series (a metric's total or one slice) one anomaly run scans; the rest are counted.
pub const MAX_SERIES_PER_RUN: usize = 5_000;

/// Keeps the `max` most severe findings (largest magnitude first within a severity) and says how
/// many were dropped.
fn cap_findings(mut findings: Vec<NewFinding>, max: usize) -> (Vec<NewFinding>, usize) {
    if findings.len() <= max {
        return (findings, 0);
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.magnitude.abs().total_cmp(&a.magnitude.abs())));
    let dropped = findings.len() - max;
    findings.truncate(max);
    (findings, dropped)
}

fn metric_ref(m: &MetricDef) -> MetricRef {
    MetricRef { key: m.key.clone(), label: m.label.clone(), unit: m.unit.clone() }
}

/// "the total" or the slice's values, e.g. "EMEA".
fn slice_name(dimensions: &[(String, String)]) -> String {
    if dimensions.is_empty() {
        "the total".to_string()
    } else {
        dimensions.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" / ")
    }
}

fn slice_label(dimensions: &[(String, String)]) -> String {
    if dimensions.is_empty() { "in total".to_string() } else { format!("in {}", slice_name(dimensions)) }
}

fn chart_href(metric: &str, dimensions: &[(String, String)], from: NaiveDate, to: NaiveDate, kpi: bool) -> String {
    let mut filter = DimensionFilter::default();
    for (d, v) in dimensions {
        if let Some(d) = Dimension::parse(d) {
            filter.values_mut(d).push(v.clone());
        }
    }
    if !kpi {
        // Signals are not on the KPI dashboard: link to the overview of the period instead.
        return "/".to_string();
    }
    DashboardQuery::range_href(metric, from, to, filter)
}

fn finding_key(model: &str, metric: &str, dimensions: &[(String, String)], period: &str) -> String {
    let dims: Vec<String> = dimensions.iter().map(|(d, v)| format!("{d}={v}")).collect();
    format!("{model}|{metric}|{}|{period}", if dims.is_empty() { "total".to_string() } else { dims.join(",") })
}

/// A dimension slice ((dimension, value) pairs; empty for the total) and its daily series.
type Slice = (Vec<(String, String)>, Vec<DailyValue>);

async fn robust_anomaly(pool: &PgPool, org_id: Uuid, as_of: NaiveDate, s: AnomalySettings, analytics: &AnalyticsConfig) -> Result<(Vec<NewFinding>, Value), AppError> {
    let dims: Vec<Dimension> = s.dimensions.iter().filter_map(|d| Dimension::parse(d)).collect();
    let metrics = chosen_metrics(pool, org_id, &s.metrics).await?;
    let first_flag = as_of - Duration::days(s.lookback_days - 1);
    let history_start = first_flag - Duration::days(analytics.anomaly.baseline_days as i64 + 28);
    let mut findings = Vec::new();
    let (mut series_scanned, mut series_skipped) = (0, 0);
    for (table, m) in &metrics {
        let mut found = Vec::new();
        let mut slices: Vec<Slice> = Vec::new();
        slices.push((Vec::new(), org_totals(pool, org_id, *table, m, history_start, as_of).await?));
        for d in &dims {
            let rows = db::kpi::daily_by(pool, org_id, *table, &m.key, m.aggregation, &DimensionFilter::default(), Some(*d), history_start, as_of).await?;
            let mut by_member: BTreeMap<String, Vec<DailyValue>> = BTreeMap::new();
            for r in rows {
                if let Some(member) = r.member {
                    by_member.entry(member).or_default().push(DailyValue::new(r.day, r.value));
                }
            }
            slices.extend(by_member.into_iter().map(|(member, series)| (vec![(d.as_str().to_string(), member)], series)));
        }
        let room = MAX_SERIES_PER_RUN.saturating_sub(series_scanned);
        series_skipped += slices.len().saturating_sub(room);
        for (dimensions, series) in slices.into_iter().take(room) {
            series_scanned += 1;
            let scores = score_series(&series, &analytics.anomaly);
            for score in scores.iter().filter(|x| x.date >= first_flag && x.severity >= Some(s.min_severity)) {
                found.push(anomaly_finding(m, *table == FactTable::Kpi, &dimensions, &series, &scores, score, as_of));
            }
        }
        findings.extend(strongest_per_day(found));
    }
    let input = json!({ "metrics": metrics.len(), "series": series_scanned, "series_skipped": series_skipped, "from": first_flag, "to": as_of });
    Ok((findings, input))
}

/// The finding's deviation relative to what was expected (0.55 for 55 % off).
fn relative_deviation(f: &NewFinding) -> f64 {
    match (f.evidence.observed, f.evidence.expected) {
        (Some(o), Some(e)) if e != 0.0 => ((o - e) / e).abs(),
        _ => 0.0,
    }
}

/// Other flagged slices named in a finding's text; the rest are counted.
const MAX_NAMED: usize = 4;

/// A broader slice is named instead of the one that moved most when it moved at least this share as much.
const BROAD_ENOUGH: f64 = 0.8;

/// One finding per metric and day, naming the other slices flagged that day. An EMEA outage also
/// moves the total and every slice EMEA feeds; one item that says "EMEA" is what a reviewer needs,
/// not five. The slice named is the broadest that moved at least 80 % as much as the one that moved
/// most: a surge everywhere is "the total", not whichever slice's noise added most to it.
fn strongest_per_day(found: Vec<NewFinding>) -> Vec<NewFinding> {
    let mut by_day: BTreeMap<NaiveDate, Vec<NewFinding>> = BTreeMap::new();
    for f in found {
        by_day.entry(f.evidence.period_start).or_default().push(f);
    }
    by_day
        .into_values()
        .filter_map(|mut group| {
            let most = group.iter().map(relative_deviation).fold(0.0, f64::max);
            let rank = |f: &NewFinding| (relative_deviation(f) < BROAD_ENOUGH * most, f.evidence.dimensions.len());
            group.sort_by(|a, b| rank(a).cmp(&rank(b)).then(relative_deviation(b).total_cmp(&relative_deviation(a))));
            let others: Vec<String> = group.iter().skip(1).map(|f| slice_name(&f.evidence.dimensions)).collect();
            let mut best = group.into_iter().next()?;
            if !others.is_empty() {
                let named = others.iter().take(MAX_NAMED).cloned().collect::<Vec<_>>().join("; ");
                let more = if others.len() > MAX_NAMED { format!(" and {} more", others.len() - MAX_NAMED) } else { String::new() };
                best.description.push_str(&format!(" Also unusual that day, less so: {named}{more}."));
                best.names_other_slices = true;
            }
            Some(best)
        })
        .collect()
}

fn anomaly_finding(m: &MetricDef, kpi: bool, dimensions: &[(String, String)], series: &[DailyValue], scores: &[AnomalyScore], score: &AnomalyScore, as_of: NaiveDate) -> NewFinding {
    let severity = score.severity.unwrap_or(Severity::Info);
    let (from, to) = (score.date - Duration::days(28), (score.date + Duration::days(7)).min(as_of));
    let expected_on = |d: NaiveDate| scores.iter().find(|x| x.date == d);
    let points = series
        .iter()
        .filter(|p| p.date >= from && p.date <= to)
        .map(|p| {
            let e = expected_on(p.date);
            EvidencePoint { date: p.date, value: p.value, expected: e.map(|e| e.expected), low: e.map(|e| e.band_low), high: e.map(|e| e.band_high) }
        })
        .collect();
    let fact = Fact::Anomaly {
        metric: metric_ref(m),
        date: score.date,
        observed: score.observed,
        expected: score.expected,
        band_low: score.band_low,
        band_high: score.band_high,
        severity,
    };
    let relative = if score.expected != 0.0 { (score.observed - score.expected) / score.expected.abs() } else { 0.0 };
    let direction = if score.observed >= score.expected { "above" } else { "below" };
    let title = format!("{} {} was {:.0} % {direction} expected on {}", m.label, slice_label(dimensions), relative.abs() * 100.0, score.date);
    let is_bad = (score.observed < score.expected) == (m.direction == Direction::HigherIsBetter);
    let advice = if is_bad { "Check what changed that day (releases, outages, campaigns, data loads) before it repeats." } else { "Find what drove it; it may be worth repeating." };
    NewFinding {
        finding_key: finding_key("robust_anomaly_detector", &m.key, dimensions, &score.date.to_string()),
        metric_key: m.key.clone(),
        title,
        description: format!("{} {advice}", fact.sentence()),
        category: Category::Anomaly,
        severity,
        magnitude: score.score.unwrap_or(0.0),
        also_references: Vec::new(),
        names_other_slices: false,
        evidence: Evidence {
            metric_key: m.key.clone(),
            metric_label: m.label.clone(),
            unit: m.unit.clone(),
            dimensions: dimensions.to_vec(),
            period_start: score.date,
            period_end: score.date,
            observed: Some(score.observed),
            expected: Some(score.expected),
            band: Some((score.band_low, score.band_high)),
            series: points,
            chart_href: chart_href(&m.key, dimensions, from, to, kpi),
        },
    }
}

fn plain_points(series: &[DailyValue]) -> Vec<EvidencePoint> {
    series.iter().map(|p| EvidencePoint { date: p.date, value: p.value, expected: None, low: None, high: None }).collect()
}

fn iso_week(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

async fn org_totals(pool: &PgPool, org_id: Uuid, table: FactTable, m: &MetricDef, start: NaiveDate, end: NaiveDate) -> Result<Vec<DailyValue>, AppError> {
    let rows = db::kpi::daily_by(pool, org_id, table, &m.key, m.aggregation, &DimensionFilter::default(), None, start, end).await?;
    Ok(rows.iter().map(|r| DailyValue::new(r.day, r.value)).collect())
}

async fn trend_break(pool: &PgPool, org_id: Uuid, as_of: NaiveDate, s: TrendSettings) -> Result<(Vec<NewFinding>, Value), AppError> {
    let metrics = chosen_metrics(pool, org_id, &s.metrics).await?;
    let window = s.window_days;
    let (current_start, previous_start) = (as_of - Duration::days(window - 1), as_of - Duration::days(2 * window - 1));
    let mut findings = Vec::new();
    for (table, m) in &metrics {
        let series = org_totals(pool, org_id, *table, m, previous_start, as_of).await?;
        let (before, now): (Vec<DailyValue>, Vec<DailyValue>) = series.iter().partition(|p| p.date < current_start);
        let (a, b) = (classify_trend(&before, TrendRule::default()), classify_trend(&now, TrendRule::default()));
        let reversed = matches!((a.direction, b.direction), (TrendDirection::Rising, TrendDirection::Falling) | (TrendDirection::Falling, TrendDirection::Rising));
        if !reversed {
            continue;
        }
        let (move_before, move_now) = (a.relative_move.unwrap_or(0.0), b.relative_move.unwrap_or(0.0));
        let worse = (b.direction == TrendDirection::Falling) == (m.direction == Direction::HigherIsBetter);
        let word = |d: TrendDirection| if d == TrendDirection::Rising { "rising" } else { "falling" };
        let description = format!(
            "{} was {} over the {window} days to {} (the fitted line moved {:+.1} % of its level) and has been {} since (moved {:+.1} %). {}",
            m.label,
            word(a.direction),
            current_start - Duration::days(1),
            move_before * 100.0,
            word(b.direction),
            move_now * 100.0,
            if worse { "Find the cause before the new direction sets in." } else { "The turn is in the right direction; find what caused it." }
        );
        findings.push(NewFinding {
            finding_key: finding_key("trend_break_detector", &m.key, &[], &iso_week(as_of)),
            metric_key: m.key.clone(),
            title: format!("{} turned from {} to {}", m.label, word(a.direction), word(b.direction)),
            description,
            category: Category::Trend,
            severity: if worse { Severity::Warning } else { Severity::Info },
            magnitude: (move_now - move_before).abs(),
            also_references: Vec::new(),
            names_other_slices: false,
            evidence: Evidence {
                metric_key: m.key.clone(),
                metric_label: m.label.clone(),
                unit: m.unit.clone(),
                dimensions: Vec::new(),
                period_start: previous_start,
                period_end: as_of,
                observed: None,
                expected: None,
                band: None,
                series: plain_points(&series),
                chart_href: chart_href(&m.key, &[], previous_start, as_of, *table == FactTable::Kpi),
            },
        });
    }
    Ok((findings, json!({ "metrics": metrics.len(), "from": previous_start, "to": as_of, "window_days": window })))
}

async fn forecast_risk(pool: &PgPool, org_id: Uuid, as_of: NaiveDate, s: ForecastSettings, analytics: &AnalyticsConfig) -> Result<(Vec<NewFinding>, Value), AppError> {
    let metrics = chosen_metrics(pool, org_id, &s.metrics).await?;
    let month = period_containing(as_of + Duration::days(1), Granularity::Month);
    let last_year = same_period_last_year(&month, Granularity::Month);
    let remaining = (month.end - as_of).num_days().max(0) as usize;
    let mut findings = Vec::new();
    for (table, m) in &metrics {
        // A target on a total only makes sense for summed metrics where more is better.
        if m.aggregation != Aggregation::Sum || m.direction != Direction::HigherIsBetter {
            continue;
        }
        let fit_start = as_of - Duration::days(analytics.forecast.fit_days as i64 + 7);
        let history = org_totals(pool, org_id, *table, m, last_year.start.min(fit_start), as_of).await?;
        let target_base: f64 = history.iter().filter(|p| p.date >= last_year.start && p.date <= last_year.end).map(|p| p.value).sum();
        if target_base <= 0.0 {
            continue;
        }
        let actual: f64 = history.iter().filter(|p| p.date >= month.start).map(|p| p.value).sum();
        let recent: Vec<DailyValue> = history.iter().copied().filter(|p| p.date >= fit_start).collect();
        let mut config = analytics.forecast;
        config.horizon = remaining.max(1);
        let Some((first, values)) = crate::analytics::anomaly::dense(&recent) else { continue };
        let Ok(fc) = crate::analytics::forecast::forecast(first, &values, &config) else { continue };
        let projected_rest: f64 = fc.points.iter().take(remaining).map(|p| p.value).sum();
        let projected = actual + projected_rest;
        let target = target_base * (1.0 + s.required_growth);
        let shortfall = (target - projected) / target;
        if shortfall < s.min_shortfall {
            continue;
        }
        let mut points = plain_points(&recent.iter().copied().filter(|p| p.date >= month.start - Duration::days(28)).collect::<Vec<_>>());
        points.extend(fc.points.iter().take(remaining).map(|p| EvidencePoint { date: p.date, value: p.value, expected: Some(p.value), low: Some(p.low), high: Some(p.high) }));
        let v = |x: f64| format_value(x, &m.unit);
        findings.push(NewFinding {
            finding_key: finding_key("forecast_risk_model", &m.key, &[], &month.label),
            metric_key: m.key.clone(),
            title: format!("{} is on course to miss its {} target by {:.1} %", m.label, month.label, shortfall * 100.0),
            description: format!(
                "{} so far in {} is {}; with the forecast for the {remaining} remaining days the month comes to about {}, against a target of {} ({} last year {:+.0} %). Act now: {remaining} days are left.",
                m.label, month.label, v(actual), v(projected), v(target), last_year.label, s.required_growth * 100.0
            ),
            category: Category::Forecast,
            severity: if shortfall >= 0.10 { Severity::Critical } else { Severity::Warning },
            magnitude: shortfall,
            also_references: Vec::new(),
            names_other_slices: false,
            evidence: Evidence {
                metric_key: m.key.clone(),
                metric_label: m.label.clone(),
                unit: m.unit.clone(),
                dimensions: Vec::new(),
                period_start: month.start,
                period_end: month.end,
                observed: Some(projected),
                expected: Some(target),
                band: None,
                series: points,
                chart_href: chart_href(&m.key, &[], month.start - Duration::days(28), as_of, *table == FactTable::Kpi),
            },
        });
    }
    Ok((findings, json!({ "metrics": metrics.len(), "month": month.label, "as_of": as_of })))
}

async fn optimisation_rules(pool: &PgPool, org_id: Uuid, as_of: NaiveDate, s: RuleSettings) -> Result<(Vec<NewFinding>, Value), AppError> {
    let dimension = Dimension::parse(&s.dimension).ok_or_else(|| AppError::BadRequest(format!("config: unknown dimension {:?}", s.dimension)))?;
    let metrics = chosen_metrics(pool, org_id, &[s.cost_metric.clone(), s.outcome_metric.clone()]).await?;
    let find = |key: &str| metrics.iter().find(|(_, m)| m.key == key).map(|(_, m)| m.clone());
    let (Some(cost), Some(outcome)) = (find(&s.cost_metric), find(&s.outcome_metric)) else {
        return Err(AppError::BadRequest("config: cost_metric and outcome_metric must be metrics of this org".into()));
    };
    let current_start = as_of - Duration::days(s.window_days - 1);
    let previous_start = current_start - Duration::days(s.window_days);
    let totals = |key: String| async move { db::kpi::member_period_totals(pool, org_id, &key, dimension, previous_start, current_start, as_of).await };
    let costs = totals(cost.key.clone()).await?;
    let outcomes = totals(outcome.key.clone()).await?;
    let change = |previous: f64, current: f64| (previous > 0.0).then(|| (current - previous) / previous);
    let mut findings = Vec::new();
    for c in &costs {
        let Some(member) = &c.member else { continue };
        let Some(o) = outcomes.iter().find(|o| o.member.as_ref() == Some(member)) else { continue };
        let (Some(cost_rise), Some(outcome_change)) = (change(c.previous, c.current), change(o.previous, o.current)) else { continue };
        if cost_rise < s.min_cost_rise || -outcome_change < s.min_outcome_fall {
            continue;
        }
        let dimensions = vec![(dimension.as_str().to_string(), member.clone())];
        let series = db::kpi::daily_by(pool, org_id, FactTable::Kpi, &cost.key, cost.aggregation, &DimensionFilter::default(), Some(dimension), previous_start, as_of)
            .await?
            .into_iter()
            .filter(|r| r.member.as_ref() == Some(member))
            .map(|r| DailyValue::new(r.day, r.value))
            .collect::<Vec<_>>();
        findings.push(NewFinding {
            finding_key: finding_key("channel_efficiency_rules", &cost.key, &dimensions, &iso_week(as_of)),
            metric_key: cost.key.clone(),
            title: format!("{} in {member} rose {:.0} % while {} fell {:.0} %", cost.label, cost_rise * 100.0, outcome.label.to_lowercase(), -outcome_change * 100.0),
            description: format!(
                "Over the {} days to {as_of}, {} in {} {member} was {} against {} the {} days before, while {} fell from {} to {}. Review the {member} budget: each unit of spend is buying less.",
                s.window_days, cost.label, dimension.label().to_lowercase(), format_value(c.current, &cost.unit), format_value(c.previous, &cost.unit), s.window_days,
                outcome.label.to_lowercase(), format_value(o.previous, &outcome.unit), format_value(o.current, &outcome.unit)
            ),
            category: Category::Optimisation,
            severity: if cost_rise >= 2.0 * s.min_cost_rise && -outcome_change >= 2.0 * s.min_outcome_fall { Severity::Critical } else { Severity::Warning },
            magnitude: cost_rise - outcome_change,
            also_references: vec![outcome.key.clone()],
            names_other_slices: false,
            evidence: Evidence {
                metric_key: cost.key.clone(),
                metric_label: cost.label.clone(),
                unit: cost.unit.clone(),
                dimensions: dimensions.clone(),
                period_start: previous_start,
                period_end: as_of,
                observed: Some(c.current),
                expected: Some(c.previous),
                band: None,
                series: plain_points(&series),
                chart_href: chart_href(&cost.key, &dimensions, previous_start, as_of, true),
            },
        });
    }
    Ok((findings, json!({ "dimension": dimension.as_str(), "from": previous_start, "to": as_of })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_configs_satisfy_their_schemas() {
        for b in catalogue() {
            validate_config(&input_schema(b.implementation), &b.default_config).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        }
    }

    #[test]
    fn a_bad_config_is_refused_with_the_failing_path() {
        let schema = input_schema(Implementation::RobustAnomaly);
        let bad = json!({ "lookback_days": 5000, "min_severity": "warning", "dimensions": ["planet"], "metrics": [] });
        let text = validate_config(&schema, &bad).unwrap_err().to_string();
        assert!(text.contains("/lookback_days") && text.contains("730"), "{text}");
        assert!(text.contains("/dimensions/0"), "{text}");
        let text = validate_config(&schema, &json!({ "lookback_days": 30 })).unwrap_err().to_string();
        assert!(text.contains("min_severity"), "{text}");
        let text = validate_config(&schema, &json!({ "lookback_days": 30, "min_severity": "warning", "dimensions": [], "metrics": [], "extra": 1 })).unwrap_err().to_string();
        assert!(text.contains("extra"), "{text}");
    }

    fn finding(slice: &[(&str, &str)], observed: f64, expected: f64) -> NewFinding {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
        let dimensions: Vec<(String, String)> = slice.iter().map(|(d, v)| (d.to_string(), v.to_string())).collect();
        NewFinding {
            finding_key: finding_key("m", "revenue", &dimensions, "2026-11-20"),
            metric_key: "revenue".into(),
            title: String::new(),
            description: "Revenue dropped.".into(),
            category: Category::Anomaly,
            severity: Severity::Warning,
            magnitude: 5.0,
            also_references: Vec::new(),
            names_other_slices: false,
            evidence: Evidence {
                metric_key: "revenue".into(),
                metric_label: "Revenue".into(),
                unit: "USD".into(),
                dimensions,
                period_start: day,
                period_end: day,
                observed: Some(observed),
                expected: Some(expected),
                band: None,
                series: Vec::new(),
                chart_href: String::new(),
            },
        }
    }

    #[test]
    fn a_run_keeps_its_most_severe_findings_up_to_the_cap() {
        let mut found: Vec<NewFinding> = (0..10).map(|i| NewFinding { magnitude: i as f64, ..finding(&[], 90.0, 100.0) }).collect();
        found[2].severity = Severity::Critical;
        let (kept, dropped) = cap_findings(found.clone(), 3);
        assert_eq!(dropped, 7);
        assert_eq!(kept.iter().map(|f| f.magnitude).collect::<Vec<_>>(), vec![2.0, 9.0, 8.0]);
        assert_eq!(cap_findings(found, 10).1, 0);
    }

    #[test]
    fn one_finding_per_day_names_the_slice_that_moved_most() {
        // An EMEA outage: EMEA is 55 % down, the total 19 %, SMB (EMEA-heavy) 25 %.
        let found = vec![finding(&[], 81.0, 100.0), finding(&[("region", "EMEA")], 45.0, 100.0), finding(&[("segment", "SMB")], 75.0, 100.0)];
        let kept = strongest_per_day(found);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].evidence.dimensions, vec![("region".to_string(), "EMEA".to_string())]);
        assert!(kept[0].description.ends_with("Also unusual that day, less so: the total; SMB."), "{}", kept[0].description);
        // A surge everywhere: the total moved 120 %, a slice 135 % by noise; the total is named.
        let kept = strongest_per_day(vec![finding(&[("product", "pro")], 235.0, 100.0), finding(&[], 220.0, 100.0)]);
        assert_eq!(kept[0].evidence.dimensions, vec![]);
        // Another day stays its own finding.
        let mut other_day = finding(&[], 130.0, 100.0);
        other_day.evidence.period_start = other_day.evidence.period_start.pred_opt().expect("date");
        assert_eq!(strongest_per_day(vec![finding(&[], 81.0, 100.0), other_day]).len(), 2);
    }

    #[test]
    fn finding_keys_name_model_metric_slice_and_period() {
        assert_eq!(finding_key("m", "revenue", &[], "2026-11"), "m|revenue|total|2026-11");
        assert_eq!(finding_key("m", "revenue", &[("region".into(), "EMEA".into())], "2026-11-20"), "m|revenue|region=EMEA|2026-11-20");
    }
}
