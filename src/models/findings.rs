//! Words the built-in models' results (from `analytics::detect`) as findings for the review queue:
//! title, advice, evidence and a link to the dashboard view with the same numbers. Pure: no IO.

use chrono::{Datelike, Duration, NaiveDate};

use crate::analytics::anomaly::Severity;
use crate::analytics::detect::{plain_points, AnomalyHit, Breach, MonthRisk, Reversal, SliceKey};
use crate::analytics::narrative::{anomaly_fact, level_shift_phrase, MetricRef};
use crate::analytics::trend::TrendDirection;
use crate::analytics::{DailyValue, Direction};
use crate::dashboard::DashboardQuery;
use crate::db::kpi::DimensionFilter;
use crate::db::metrics::MetricDef;
use crate::db::recommendations::NewFinding;
use crate::domain::Dimension;
use crate::format::format_value;
use crate::recommendations::{Category, Evidence};

/// Keeps the `max` most severe findings (largest magnitude first within a severity) and says how
/// many were dropped, so a misconfigured model cannot flood the review queue.
pub fn cap_findings(mut findings: Vec<NewFinding>, max: usize) -> (Vec<NewFinding>, usize) {
    if findings.len() <= max {
        return (findings, 0);
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.magnitude.abs().total_cmp(&a.magnitude.abs())));
    let dropped = findings.len() - max;
    findings.truncate(max);
    (findings, dropped)
}

/// The stable key a finding is stored under: a later run that finds the same thing updates it.
pub fn finding_key(model: &str, metric: &str, dimensions: &[(String, String)], period: &str) -> String {
    let dims: Vec<String> = dimensions.iter().map(|(d, v)| format!("{d}={v}")).collect();
    format!("{model}|{metric}|{}|{period}", if dims.is_empty() { "total".to_string() } else { dims.join(",") })
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

/// The dashboard view of the metric and slice over the days; signals are not on the KPI dashboard,
/// so they link to the overview instead.
fn chart_href(metric: &MetricDef, kpi: bool, dimensions: &[(String, String)], from: NaiveDate, to: NaiveDate) -> String {
    if !kpi {
        return "/".to_string();
    }
    let mut filter = DimensionFilter::default();
    for (d, v) in dimensions {
        if let Some(d) = Dimension::parse(d) {
            filter.values_mut(d).push(v.clone());
        }
    }
    DashboardQuery::range_href(&metric.key, from, to, filter)
}

fn iso_week(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Other flagged slices named in a finding's text; the rest are counted.
const MAX_NAMED: usize = 4;

/// The metric a finding is about and whether it is a KPI (on the dashboard) or a signal.
#[derive(Clone, Copy)]
pub struct About<'a> {
    pub metric: &'a MetricDef,
    pub kpi: bool,
}

impl About<'_> {
    /// Evidence about the metric with everything but the numbers filled in.
    fn evidence(&self, dimensions: &[(String, String)], period: (NaiveDate, NaiveDate), chart: (NaiveDate, NaiveDate)) -> Evidence {
        let m = self.metric;
        Evidence {
            metric_key: m.key.clone(),
            metric_label: m.label.clone(),
            unit: m.unit.clone(),
            dimensions: dimensions.to_vec(),
            period_start: period.0,
            period_end: period.1,
            observed: None,
            expected: None,
            band: None,
            series: Vec::new(),
            chart_href: chart_href(m, self.kpi, dimensions, chart.0, chart.1),
            level_shift: None,
        }
    }
}

pub fn anomaly_finding(about: About, hit: AnomalyHit) -> NewFinding {
    let (m, score) = (about.metric, &hit.score);
    let severity = score.severity.unwrap_or(Severity::Info);
    let fact = anomaly_fact(MetricRef { key: m.key.clone(), label: m.label.clone(), unit: m.unit.clone() }, score);
    let relative = if score.expected != 0.0 { (score.observed - score.expected) / score.expected.abs() } else { 0.0 };
    let direction = if score.observed >= score.expected { "above" } else { "below" };
    let is_bad = (score.observed < score.expected) == (m.direction == Direction::HigherIsBetter);
    let advice = match (score.level_shift.is_some(), is_bad) {
        (true, _) => "The new level has held since that day: find what changed then (pricing, a release, tracking, a data source) and decide whether it is the new normal.",
        (false, true) => "Check what changed that day (releases, outages, campaigns, data loads) before it repeats.",
        (false, false) => "Find what drove it; it may be worth repeating.",
    };
    let title = match &score.level_shift {
        Some(shift) => format!("{} {}: {}", m.label, slice_label(&hit.slice), level_shift_phrase(score.date, shift, &m.unit)),
        None => format!("{} {} was {:.0} % {direction} expected on {}", m.label, slice_label(&hit.slice), relative.abs() * 100.0, score.date),
    };
    let mut description = format!("{} {advice}", fact.sentence());
    if !hit.also_flagged.is_empty() {
        let named: Vec<String> = hit.also_flagged.iter().take(MAX_NAMED).map(|s| slice_name(s)).collect();
        let more = hit.also_flagged.len().checked_sub(MAX_NAMED).filter(|n| *n > 0).map(|n| format!(" and {n} more")).unwrap_or_default();
        description.push_str(&format!(" Also unusual that day, less so: {}{more}.", named.join("; ")));
    }
    let mut evidence = about.evidence(&hit.slice, (score.date, score.date), hit.window);
    (evidence.observed, evidence.expected, evidence.band, evidence.series) = (Some(score.observed), Some(score.expected), Some((score.band_low, score.band_high)), hit.points);
    evidence.level_shift = score.level_shift;
    NewFinding {
        finding_key: finding_key("robust_anomaly_detector", &m.key, &hit.slice, &score.date.to_string()),
        metric_key: m.key.clone(),
        title,
        description,
        category: Category::Anomaly,
        severity,
        magnitude: score.score.unwrap_or(0.0),
        also_references: Vec::new(),
        names_other_slices: !hit.also_flagged.is_empty(),
        evidence,
    }
}

fn word(d: TrendDirection) -> &'static str {
    if d == TrendDirection::Rising { "rising" } else { "falling" }
}

/// The windows of a trend check: the previous window's first day, the current one's, and the last day.
#[derive(Clone, Copy)]
pub struct TrendWindows {
    pub previous_start: NaiveDate,
    pub current_start: NaiveDate,
    pub as_of: NaiveDate,
}

pub fn trend_finding(about: About, r: Reversal, w: TrendWindows, series: &[DailyValue]) -> NewFinding {
    let m = about.metric;
    let window = (w.as_of - w.current_start).num_days() + 1;
    let worse = (r.now == TrendDirection::Falling) == (m.direction == Direction::HigherIsBetter);
    let description = format!(
        "{} was {} over the {window} days to {} (the fitted line moved {:+.1} % of its level) and has been {} since (moved {:+.1} %). {}",
        m.label,
        word(r.before),
        w.current_start - Duration::days(1),
        r.move_before * 100.0,
        word(r.now),
        r.move_now * 100.0,
        if worse { "Find the cause before the new direction sets in." } else { "The turn is in the right direction; find what caused it." }
    );
    let mut evidence = about.evidence(&[], (w.previous_start, w.as_of), (w.previous_start, w.as_of));
    evidence.series = plain_points(series);
    NewFinding {
        finding_key: finding_key("trend_break_detector", &m.key, &[], &iso_week(w.as_of)),
        metric_key: m.key.clone(),
        title: format!("{} turned from {} to {}", m.label, word(r.before), word(r.now)),
        description,
        category: Category::Trend,
        severity: if worse { Severity::Warning } else { Severity::Info },
        magnitude: (r.move_now - r.move_before).abs(),
        also_references: Vec::new(),
        names_other_slices: false,
        evidence,
    }
}

pub fn forecast_finding(about: About, risk: MonthRisk, required_growth: f64, as_of: NaiveDate) -> NewFinding {
    let m = about.metric;
    let v = |x: f64| format_value(x, &m.unit);
    let (month, remaining) = (&risk.month, risk.remaining);
    let description = format!(
        "{} so far in {} is {}; with the forecast for the {remaining} remaining days the month comes to about {}, against a target of {} ({} last year {:+.0} %). Act now: {remaining} days are left.",
        m.label, month.label, v(risk.actual), v(risk.projected), v(risk.target), risk.last_year.label, required_growth * 100.0
    );
    let mut evidence = about.evidence(&[], (month.start, month.end), (month.start - Duration::days(28), as_of));
    (evidence.observed, evidence.expected) = (Some(risk.projected), Some(risk.target));
    evidence.series = risk.points;
    NewFinding {
        finding_key: finding_key("forecast_risk_model", &m.key, &[], &month.label),
        metric_key: m.key.clone(),
        title: format!("{} is on course to miss its {} target by {:.1} %", m.label, month.label, risk.shortfall * 100.0),
        description,
        category: Category::Forecast,
        severity: if risk.shortfall >= 0.10 { Severity::Critical } else { Severity::Warning },
        magnitude: risk.shortfall,
        also_references: Vec::new(),
        names_other_slices: false,
        evidence,
    }
}

/// What a channel-efficiency finding compares: the cost and outcome metrics, the dimension, and
/// the windows.
pub struct EfficiencyContext<'a> {
    pub cost: &'a MetricDef,
    pub outcome: &'a MetricDef,
    pub dimension: Dimension,
    pub windows: TrendWindows,
}

pub fn efficiency_finding(c: &EfficiencyContext, b: Breach, cost_series: &[DailyValue]) -> NewFinding {
    let (cost, outcome, member, w) = (c.cost, c.outcome, &b.member, c.windows);
    let window = (w.as_of - w.current_start).num_days() + 1;
    let dimensions = vec![(c.dimension.as_str().to_string(), member.clone())];
    let description = format!(
        "Over the {window} days to {}, {} in {} {member} was {} against {} the {window} days before, while {} fell from {} to {}. Review the {member} budget: each unit of spend is buying less.",
        w.as_of, cost.label, c.dimension.label().to_lowercase(), format_value(b.cost.current, &cost.unit), format_value(b.cost.previous, &cost.unit),
        outcome.label.to_lowercase(), format_value(b.outcome.previous, &outcome.unit), format_value(b.outcome.current, &outcome.unit)
    );
    let about = About { metric: cost, kpi: true };
    let mut evidence = about.evidence(&dimensions, (w.previous_start, w.as_of), (w.previous_start, w.as_of));
    (evidence.observed, evidence.expected) = (Some(b.cost.current), Some(b.cost.previous));
    evidence.series = plain_points(cost_series);
    NewFinding {
        finding_key: finding_key("channel_efficiency_rules", &cost.key, &dimensions, &iso_week(w.as_of)),
        metric_key: cost.key.clone(),
        title: format!("{} in {member} rose {:.0} % while {} fell {:.0} %", cost.label, b.cost_rise * 100.0, outcome.label.to_lowercase(), -b.outcome_change * 100.0),
        description,
        category: Category::Optimisation,
        severity: if b.severe { Severity::Critical } else { Severity::Warning },
        magnitude: b.cost_rise - b.outcome_change,
        also_references: vec![outcome.key.clone()],
        names_other_slices: false,
        evidence,
    }
}

/// A slice key from (dimension, member) strings as the database returns them.
pub fn slice_of(dimension: Option<&str>, member: Option<&str>) -> SliceKey {
    match (dimension, member) {
        (Some(d), Some(m)) => vec![(d.to_string(), m.to_string())],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::anomaly::{AnomalyScore, Fired};
    use crate::analytics::detect::PeriodTotals;
    use crate::analytics::Aggregation;
    use crate::db::metrics::MetricKind;
    use crate::domain::access::Visibility;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
    }

    fn metric(key: &str, label: &str) -> MetricDef {
        MetricDef {
            key: key.into(),
            label: label.into(),
            unit: "USD".into(),
            direction: Direction::HigherIsBetter,
            aggregation: Aggregation::Sum,
            kind: MetricKind::Kpi,
            description: String::new(),
            sort_order: 0,
            visibility: Visibility::Internal,
        }
    }

    fn hit(slice: SliceKey, also: Vec<SliceKey>) -> AnomalyHit {
        let date = day("2026-11-20");
        let score = AnomalyScore {
            date,
            observed: 45.0,
            expected: 100.0,
            band_low: 90.0,
            band_high: 110.0,
            robust_z: None,
            residual_z: Some(-6.0),
            volatility_ratio: None,
            slope_change: None,
            score: Some(-6.0),
            severity: Some(Severity::Critical),
            fired: Fired::default(),
            level_shift: None,
        };
        AnomalyHit { slice, score, points: Vec::new(), window: (date - Duration::days(28), date), also_flagged: also }
    }

    #[test]
    fn an_anomaly_finding_names_its_slice_the_others_and_links_to_the_view() {
        let revenue = metric("revenue", "Revenue");
        let emea = vec![("region".to_string(), "EMEA".to_string())];
        let others: Vec<SliceKey> = (0..6).map(|i| vec![("product".to_string(), format!("p{i}"))]).collect();
        let f = anomaly_finding(About { metric: &revenue, kpi: true }, hit(emea.clone(), others));
        assert_eq!(f.title, "Revenue in EMEA was 55 % below expected on 2026-11-20");
        assert!(f.description.ends_with("Also unusual that day, less so: p0; p1; p2; p3 and 2 more."), "{}", f.description);
        assert!(f.names_slices() && f.names_other_slices);
        assert_eq!(f.finding_key, "robust_anomaly_detector|revenue|region=EMEA|2026-11-20");
        assert!(f.evidence.chart_href.starts_with("/dashboard?") && f.evidence.chart_href.contains("EMEA"), "{}", f.evidence.chart_href);
        let alone = anomaly_finding(About { metric: &revenue, kpi: false }, hit(Vec::new(), Vec::new()));
        assert!(!alone.names_slices() && !alone.description.contains("Also unusual"));
        assert_eq!(alone.evidence.chart_href, "/");
    }

    #[test]
    fn a_level_shift_finding_says_so_once_with_its_step_and_keeps_it_in_the_evidence() {
        let revenue = metric("revenue", "Revenue");
        let mut shifted = hit(Vec::new(), Vec::new());
        shifted.score.level_shift = Some(crate::analytics::anomaly::LevelShift { step: -55.0, from: 100.0, to: 45.0 });
        let f = anomaly_finding(About { metric: &revenue, kpi: true }, shifted);
        assert_eq!(f.title, "Revenue in total: level shift on 2026-11-20: -$55.00 (from ~$100.00 to ~$45.00)");
        assert!(f.description.starts_with("Revenue: level shift on 2026-11-20: -$55.00 (from ~$100.00 to ~$45.00), critical. The new level has held"), "{}", f.description);
        assert_eq!(f.evidence.level_shift.map(|s| s.step), Some(-55.0));
        let text = crate::analytics::narrative::flagged_day_text(&hit(Vec::new(), Vec::new()).score, "count");
        assert_eq!(text, "2026-11-20: 45 against an expected 100 (normal range 90 to 110), critical");
    }

    #[test]
    fn an_efficiency_finding_quotes_both_metrics_and_references_the_outcome() {
        let (spend, orders) = (metric("marketing_spend", "Marketing spend"), metric("orders", "Orders"));
        let as_of = day("2026-11-20");
        let windows = TrendWindows { previous_start: as_of - Duration::days(55), current_start: as_of - Duration::days(27), as_of };
        let context = EfficiencyContext { cost: &spend, outcome: &orders, dimension: Dimension::Channel, windows };
        let breach = Breach { member: "ads".into(), cost: PeriodTotals { previous: 100.0, current: 130.0 }, outcome: PeriodTotals { previous: 50.0, current: 40.0 }, cost_rise: 0.3, outcome_change: -0.2, severe: true };
        let f = efficiency_finding(&context, breach, &[]);
        assert_eq!(f.title, "Marketing spend in ads rose 30 % while orders fell 20 %");
        assert_eq!(f.metric_keys(), vec!["marketing_spend".to_string(), "orders".to_string()]);
        assert_eq!(f.severity, Severity::Critical);
        assert!(f.description.starts_with("Over the 28 days to 2026-11-20"), "{}", f.description);
    }

    #[test]
    fn a_run_keeps_its_most_severe_findings_up_to_the_cap() {
        let revenue = metric("revenue", "Revenue");
        let base = anomaly_finding(About { metric: &revenue, kpi: true }, hit(Vec::new(), Vec::new()));
        let mut found: Vec<NewFinding> = (0..10).map(|i| NewFinding { magnitude: i as f64, severity: Severity::Warning, ..base.clone() }).collect();
        found[2].severity = Severity::Critical;
        let (kept, dropped) = cap_findings(found.clone(), 3);
        assert_eq!(dropped, 7);
        assert_eq!(kept.iter().map(|f| f.magnitude).collect::<Vec<_>>(), vec![2.0, 9.0, 8.0]);
        assert_eq!(cap_findings(found, 10).1, 0);
    }

    #[test]
    fn finding_keys_name_model_metric_slice_and_period() {
        assert_eq!(finding_key("m", "revenue", &[], "2026-11"), "m|revenue|total|2026-11");
        assert_eq!(finding_key("m", "revenue", &[("region".into(), "EMEA".into())], "2026-11-20"), "m|revenue|region=EMEA|2026-11-20");
        assert_eq!(slice_of(Some("region"), Some("EMEA")), vec![("region".to_string(), "EMEA".to_string())]);
        assert_eq!(slice_of(None, None), Vec::<(String, String)>::new());
    }
}
