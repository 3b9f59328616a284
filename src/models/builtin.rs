//! The built-in models: their catalogue, config schemas and runs. A run checks its config, reads
//! each metric's series once through `db`, hands them to the pure detectors in
//! `analytics::detect`, and has `findings` word the results.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::findings::{anomaly_finding, cap_findings, efficiency_finding, forecast_finding, slice_of, trend_finding, About, EfficiencyContext, TrendWindows};
use super::{Implementation, ModelType};
use crate::analytics::anomaly::Severity;
use crate::analytics::calendar::{period_containing, Granularity};
use crate::analytics::detect::{efficiency_breaches, month_risk, month_risk_history_start, scan_metric, trend_reversal, AnomalyScan, EfficiencyRule, SliceSeries, TargetRule};
use crate::analytics::{Aggregation, AnalyticsConfig, DailyValue, Direction};
use crate::db;
use crate::db::kpi::FactTable;
use crate::db::metrics::{MetricDef, MetricKind};
use crate::db::recommendations::NewFinding;
use crate::domain::Dimension;
use crate::error::AppError;

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
    let required: Vec<String> = properties.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    // The caps are optional: configs saved before they existed mean the maximum.
    let mut properties = properties;
    properties["max_findings"] = json!({ "type": "integer", "minimum": 1, "maximum": MAX_FINDINGS_PER_RUN });
    if implementation == Implementation::RobustAnomaly {
        properties["max_series"] = json!({ "type": "integer", "minimum": 1, "maximum": MAX_SERIES_PER_RUN });
    }
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

/// Most findings one run stores unless its config says fewer: the most severe and largest are
/// kept, the rest counted in the run's input.
pub const MAX_FINDINGS_PER_RUN: usize = 500;
/// Most series (a metric's total or one slice) one anomaly run scores unless its config says fewer.
pub const MAX_SERIES_PER_RUN: usize = 5_000;

fn max_findings() -> usize {
    MAX_FINDINGS_PER_RUN
}

fn max_series() -> usize {
    MAX_SERIES_PER_RUN
}

#[derive(Deserialize)]
struct AnomalySettings {
    lookback_days: i64,
    min_severity: Severity,
    dimensions: Vec<String>,
    metrics: Vec<String>,
    #[serde(default = "max_series")]
    max_series: usize,
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

/// The cap every model's config may set (checked by the schema; absent means the maximum).
#[derive(Deserialize)]
struct FindingCap {
    #[serde(default = "max_findings")]
    max_findings: usize,
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

/// What a run reads: the org and the last day with data.
#[derive(Clone, Copy)]
struct RunInput<'a> {
    pool: &'a PgPool,
    org_id: Uuid,
    as_of: NaiveDate,
}

/// Runs a model over the org's data. Returns its findings and what it read (the execution's input_ref).
pub async fn run(pool: &PgPool, org_id: Uuid, implementation: Implementation, config: &Value, analytics: &AnalyticsConfig) -> Result<(Vec<NewFinding>, Value), AppError> {
    validate_config(&input_schema(implementation), config)?;
    let Some(as_of) = db::kpi::latest_day(pool, org_id).await? else {
        return Ok((Vec::new(), json!({ "note": "no data" })));
    };
    let input = RunInput { pool, org_id, as_of };
    let (findings, mut read) = match implementation {
        Implementation::RobustAnomaly => robust_anomaly(input, settings(config)?, analytics).await,
        Implementation::TrendBreak => trend_break(input, settings(config)?).await,
        Implementation::ForecastRisk => forecast_risk(input, settings(config)?, analytics).await,
        Implementation::OptimisationRules => optimisation_rules(input, settings(config)?).await,
    }?;
    let cap: FindingCap = settings(config)?;
    let (findings, dropped) = cap_findings(findings, cap.max_findings);
    if dropped > 0 {
        read["findings_dropped"] = json!(dropped);
    }
    Ok((findings, read))
}

/// A metric's total and its slices in `dims`, read in one query, total first.
async fn load_slices(input: RunInput<'_>, table: FactTable, m: &MetricDef, dims: &[Dimension], start: NaiveDate) -> Result<Vec<SliceSeries>, AppError> {
    let rows = db::kpi::metric_slices(input.pool, input.org_id, table, &m.key, m.aggregation, dims, start, input.as_of).await?;
    let mut slices: Vec<SliceSeries> = Vec::new();
    for row in rows {
        let slice = slice_of(row.dimension.as_deref(), row.member.as_deref());
        match slices.last_mut() {
            Some(last) if last.slice == slice => last.series.push(DailyValue::new(row.day, row.value)),
            _ => slices.push(SliceSeries { slice, series: vec![DailyValue::new(row.day, row.value)] }),
        }
    }
    Ok(slices)
}

/// A metric's org total per day.
async fn load_total(input: RunInput<'_>, table: FactTable, m: &MetricDef, start: NaiveDate) -> Result<Vec<DailyValue>, AppError> {
    Ok(load_slices(input, table, m, &[], start).await?.into_iter().next().map(|s| s.series).unwrap_or_default())
}

async fn robust_anomaly(input: RunInput<'_>, s: AnomalySettings, analytics: &AnalyticsConfig) -> Result<(Vec<NewFinding>, Value), AppError> {
    let dims: Vec<Dimension> = s.dimensions.iter().filter_map(|d| Dimension::parse(d)).collect();
    let metrics = chosen_metrics(input.pool, input.org_id, &s.metrics).await?;
    let first_flag = input.as_of - Duration::days(s.lookback_days - 1);
    let history_start = first_flag - Duration::days(analytics.anomaly.baseline_days as i64 + 28);
    let mut findings = Vec::new();
    let (mut scanned, mut skipped) = (0, 0);
    for (table, m) in &metrics {
        let slices = load_slices(input, *table, m, &dims, history_start).await?;
        let scan = AnomalyScan { first_flag, as_of: input.as_of, min_severity: s.min_severity, max_series: s.max_series.saturating_sub(scanned) };
        let outcome = scan_metric(slices, &analytics.anomaly, &scan);
        (scanned, skipped) = (scanned + outcome.scanned, skipped + outcome.skipped);
        let about = About { metric: m, kpi: *table == FactTable::Kpi };
        findings.extend(outcome.hits.into_iter().map(|hit| anomaly_finding(about, hit)));
    }
    let read = json!({ "metrics": metrics.len(), "series": scanned, "series_skipped": skipped, "from": first_flag, "to": input.as_of });
    Ok((findings, read))
}

async fn trend_break(input: RunInput<'_>, s: TrendSettings) -> Result<(Vec<NewFinding>, Value), AppError> {
    let metrics = chosen_metrics(input.pool, input.org_id, &s.metrics).await?;
    let as_of = input.as_of;
    let windows = TrendWindows { previous_start: as_of - Duration::days(2 * s.window_days - 1), current_start: as_of - Duration::days(s.window_days - 1), as_of };
    let mut findings = Vec::new();
    for (table, m) in &metrics {
        let series = load_total(input, *table, m, windows.previous_start).await?;
        if let Some(reversal) = trend_reversal(&series, windows.current_start) {
            findings.push(trend_finding(About { metric: m, kpi: *table == FactTable::Kpi }, reversal, windows, &series));
        }
    }
    Ok((findings, json!({ "metrics": metrics.len(), "from": windows.previous_start, "to": as_of, "window_days": s.window_days })))
}

async fn forecast_risk(input: RunInput<'_>, s: ForecastSettings, analytics: &AnalyticsConfig) -> Result<(Vec<NewFinding>, Value), AppError> {
    let metrics = chosen_metrics(input.pool, input.org_id, &s.metrics).await?;
    let rule = TargetRule { required_growth: s.required_growth, min_shortfall: s.min_shortfall };
    let start = month_risk_history_start(input.as_of, &analytics.forecast);
    let mut findings = Vec::new();
    for (table, m) in &metrics {
        // A target on a total only makes sense for summed metrics where more is better.
        if m.aggregation != Aggregation::Sum || m.direction != Direction::HigherIsBetter {
            continue;
        }
        let history = load_total(input, *table, m, start).await?;
        if let Some(risk) = month_risk(&history, input.as_of, rule, &analytics.forecast) {
            findings.push(forecast_finding(About { metric: m, kpi: *table == FactTable::Kpi }, risk, s.required_growth, input.as_of));
        }
    }
    let month = period_containing(input.as_of + Duration::days(1), Granularity::Month);
    Ok((findings, json!({ "metrics": metrics.len(), "month": month.label, "as_of": input.as_of })))
}

/// A metric's series per value of `dimension`.
async fn by_member(input: RunInput<'_>, m: &MetricDef, dimension: Dimension, start: NaiveDate) -> Result<BTreeMap<String, Vec<DailyValue>>, AppError> {
    let slices = load_slices(input, FactTable::Kpi, m, &[dimension], start).await?;
    Ok(slices.into_iter().filter_map(|s| Some((s.slice.into_iter().next()?.1, s.series))).collect())
}

async fn optimisation_rules(input: RunInput<'_>, s: RuleSettings) -> Result<(Vec<NewFinding>, Value), AppError> {
    let dimension = Dimension::parse(&s.dimension).ok_or_else(|| AppError::BadRequest(format!("config: unknown dimension {:?}", s.dimension)))?;
    let metrics = chosen_metrics(input.pool, input.org_id, &[s.cost_metric.clone(), s.outcome_metric.clone()]).await?;
    let find = |key: &str| metrics.iter().find(|(table, m)| m.key == key && *table == FactTable::Kpi).map(|(_, m)| m);
    let (Some(cost), Some(outcome)) = (find(&s.cost_metric), find(&s.outcome_metric)) else {
        return Err(AppError::BadRequest("config: cost_metric and outcome_metric must be KPIs of this org".into()));
    };
    let as_of = input.as_of;
    let windows = TrendWindows { previous_start: as_of - Duration::days(2 * s.window_days - 1), current_start: as_of - Duration::days(s.window_days - 1), as_of };
    let costs = by_member(input, cost, dimension, windows.previous_start).await?;
    let outcomes = by_member(input, outcome, dimension, windows.previous_start).await?;
    let rule = EfficiencyRule { min_cost_rise: s.min_cost_rise, min_outcome_fall: s.min_outcome_fall };
    let context = EfficiencyContext { cost, outcome, dimension, windows };
    let findings = efficiency_breaches(&costs, &outcomes, windows.current_start, rule)
        .into_iter()
        .map(|b| {
            let series = costs.get(&b.member).cloned().unwrap_or_default();
            efficiency_finding(&context, b, &series)
        })
        .collect();
    Ok((findings, json!({ "dimension": dimension.as_str(), "from": windows.previous_start, "to": as_of })))
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

    #[test]
    fn the_caps_are_in_the_schema_and_cannot_be_raised_past_the_limits() {
        let base = json!({ "lookback_days": 30, "min_severity": "warning", "dimensions": [], "metrics": [] });
        let with = |key: &str, n: usize| {
            let mut c = base.clone();
            c[key] = json!(n);
            c
        };
        let schema = input_schema(Implementation::RobustAnomaly);
        assert!(validate_config(&schema, &with("max_series", 100)).is_ok());
        assert!(validate_config(&schema, &with("max_findings", 50)).is_ok());
        let text = validate_config(&schema, &with("max_series", MAX_SERIES_PER_RUN + 1)).unwrap_err().to_string();
        assert!(text.contains("/max_series") && text.contains("5000"), "{text}");
        let text = validate_config(&schema, &with("max_findings", MAX_FINDINGS_PER_RUN + 1)).unwrap_err().to_string();
        assert!(text.contains("/max_findings") && text.contains("500"), "{text}");
        let settings: AnomalySettings = settings(&base).expect("settings");
        let cap: FindingCap = super::settings(&base).expect("cap");
        assert_eq!((settings.max_series, cap.max_findings), (MAX_SERIES_PER_RUN, MAX_FINDINGS_PER_RUN));
        for b in catalogue() {
            let props = &input_schema(b.implementation)["properties"];
            assert!(props.get("max_findings").is_some(), "{} has no finding cap", b.name);
        }
    }
}
