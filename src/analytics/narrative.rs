//! Plain-language sentences built from computed results; every number in them comes from inputs.
//! Pages, chart summaries and (later) the board narrative render these.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::anomaly::{AnomalyScore, LevelShift, Severity};
use super::delta::{ChangeAssessment, Delta, PeriodComparison};
use super::drivers::{main_driver, DriverBreakdown};
use super::forecast::Forecast;
use super::trend::{TrendDirection, TrendSummary};
use crate::format::{format_relative, format_value};

/// "Revenue was $2.52M in the last 30 days, up 4.5% on the previous 30 days (good)."
pub fn period_change_sentence(label: &str, unit: &str, days: u32, comparison: &PeriodComparison) -> String {
    let current = format!("the last {days} days");
    let previous = format!("the previous {days} days");
    let mut sentence = change_clause(label, unit, &current, &previous, &comparison.delta);
    let missing = comparison.current.missing_days.len();
    if comparison.current.value.is_some() && missing > 0 {
        sentence.push_str(&format!("; {missing} of {days} days have no data"));
    }
    sentence.push('.');
    sentence
}

/// "Revenue was $7.52M in the last 90 days, down 3.1% on the previous 90 days (bad); 2 days were
/// anomalous."
pub fn range_change_sentence(label: &str, unit: &str, range: &str, previous: &str, delta: &Delta, anomalies: usize) -> String {
    let mut sentence = change_clause(label, unit, range, previous, delta);
    match anomalies {
        0 => {}
        1 => sentence.push_str("; 1 day was anomalous"),
        n => sentence.push_str(&format!("; {n} days were anomalous")),
    }
    sentence.push('.');
    sentence
}

/// "Revenue by region: NA $3.38M (45%), EMEA $2.63M (35%), APAC $1.50M (20%)." Shares only for
/// values that are all present and positive.
pub fn breakdown_sentence(label: &str, unit: &str, plural: &str, members: &[(String, Option<f64>)]) -> String {
    if members.is_empty() {
        return format!("{label} has no data by {plural} for this selection.");
    }
    let total: f64 = members.iter().filter_map(|m| m.1).sum();
    let additive = unit != "%" && unit != "score" && total > 0.0 && members.iter().all(|m| m.1.is_some_and(|v| v >= 0.0));
    let parts: Vec<String> = members
        .iter()
        .map(|(name, value)| match value {
            Some(v) if additive => format!("{name} {} ({:.0}%)", format_value(*v, unit), v / total * 100.0),
            Some(v) => format!("{name} {}", format_value(*v, unit)),
            None => format!("{name} no data"),
        })
        .collect();
    format!("{label} by {}: {}.", plural.trim_end_matches('s'), parts.join(", "))
}

/// The shared core: value in `current`, change on `previous`, judgement; no final full stop.
fn change_clause(label: &str, unit: &str, current: &str, previous: &str, d: &Delta) -> String {
    let Some(value) = d.current else {
        return format!("{label} has no data in {current}");
    };
    let mut sentence = format!("{label} was {} in {current}", format_value(value, unit));
    match (d.relative, d.absolute) {
        (Some(r), _) if d.assessment == ChangeAssessment::Unchanged => {
            sentence.push_str(&format!(", unchanged ({}) on {previous}", format_relative(Some(r))));
        }
        (Some(r), _) => {
            let word = if r >= 0.0 { "up" } else { "down" };
            let pct = format_relative(Some(r.abs())).trim_start_matches('+').to_string();
            sentence.push_str(&format!(", {word} {pct} on {previous}"));
        }
        (None, Some(a)) => sentence.push_str(&format!(", a change of {} on {previous}", format_value(a, unit))),
        (None, None) => sentence.push_str(&format!("; {previous} have no data to compare")),
    }
    match d.assessment {
        ChangeAssessment::Good => sentence.push_str(" (good)"),
        ChangeAssessment::Bad => sentence.push_str(" (bad)"),
        _ => {}
    }
    sentence
}

/// The metric a fact is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricRef {
    pub key: String,
    pub label: String,
    pub unit: String,
}

/// One sentence-ready finding. Every number is copied from an analytics result named in the
/// variant's doc, so a reader can trace it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    /// From a [`Delta`] between two labelled periods.
    Change {
        metric: MetricRef,
        period: String,
        baseline: String,
        current: f64,
        previous: f64,
        absolute: f64,
        relative: Option<f64>,
        assessment: ChangeAssessment,
    },
    /// From [`main_driver`] over [`DriverBreakdown`]s of the same change.
    Driver {
        metric: MetricRef,
        dimension: String,
        value: String,
        change: f64,
        total_change: f64,
        share_of_change: f64,
    },
    /// From an [`AnomalyScore`] at warning or above.
    Anomaly {
        metric: MetricRef,
        date: NaiveDate,
        observed: f64,
        expected: f64,
        band_low: f64,
        band_high: f64,
        severity: Severity,
    },
    /// From an [`AnomalyScore`] that carries a [`LevelShift`].
    LevelShift { metric: MetricRef, date: NaiveDate, shift: LevelShift, severity: Severity },
    /// From a [`TrendSummary`] that is rising or falling.
    Trend { metric: MetricRef, direction: TrendDirection, slope_per_day: f64, days: usize },
    /// From the last point of a [`Forecast`].
    Forecast {
        metric: MetricRef,
        date: NaiveDate,
        value: f64,
        low: f64,
        high: f64,
        holdout_mape: Option<f64>,
        beats_naive: Option<bool>,
    },
    /// The sum (or rule) of a [`Forecast`]'s points over the next period, against `baseline_value`
    /// (the period just closed) by the metric's direction.
    PeriodForecast {
        metric: MetricRef,
        period: String,
        value: f64,
        low: f64,
        high: f64,
        baseline: String,
        baseline_value: f64,
        relative: Option<f64>,
        assessment: ChangeAssessment,
    },
}

/// The fact of a flagged day: a level shift when it starts one, else an anomaly.
pub fn anomaly_fact(metric: MetricRef, a: &AnomalyScore) -> Fact {
    let severity = a.severity.unwrap_or(Severity::Warning);
    match a.level_shift {
        Some(shift) => Fact::LevelShift { metric, date: a.date, shift, severity },
        None => Fact::Anomaly { metric, date: a.date, observed: a.observed, expected: a.expected, band_low: a.band_low, band_high: a.band_high, severity },
    }
}

/// "level shift on 2026-05-04: +150 (from ~1,000 to ~1,150)": the one wording of a level shift.
pub fn level_shift_phrase(date: NaiveDate, shift: &LevelShift, unit: &str) -> String {
    let sign = if shift.step >= 0.0 { "+" } else { "" };
    format!(
        "level shift on {date}: {sign}{} (from ~{} to ~{})",
        format_value(shift.step, unit),
        format_value(shift.from, unit),
        format_value(shift.to, unit)
    )
}

/// One flagged day for a list or a chart marker: "2026-05-04: 1,180 against an expected 1,000
/// (normal range 940 to 1,060), warning" or "2026-05-04: level shift on 2026-05-04: …, warning".
pub fn flagged_day_text(a: &AnomalyScore, unit: &str) -> String {
    let severity = a.severity.map_or("", |s| s.as_str());
    match &a.level_shift {
        Some(shift) => format!("{}: {}, {severity}", a.date, level_shift_phrase(a.date, shift, unit)),
        None => format!(
            "{}: {} against an expected {} (normal range {} to {}), {severity}",
            a.date,
            format_value(a.observed, unit),
            format_value(a.expected, unit),
            format_value(a.band_low, unit),
            format_value(a.band_high, unit)
        ),
    }
}

impl Fact {
    pub fn metric(&self) -> &MetricRef {
        match self {
            Fact::Change { metric, .. }
            | Fact::Driver { metric, .. }
            | Fact::Anomaly { metric, .. }
            | Fact::LevelShift { metric, .. }
            | Fact::Trend { metric, .. }
            | Fact::Forecast { metric, .. }
            | Fact::PeriodForecast { metric, .. } => metric,
        }
    }

    /// The fact as one plain-language sentence.
    pub fn sentence(&self) -> String {
        let unit = &self.metric().unit;
        let label = &self.metric().label;
        let v = |x: f64| format_value(x, unit);
        match self {
            Fact::Change { period, baseline, current, absolute, relative, assessment, .. } => {
                let word = if *absolute >= 0.0 { "up" } else { "down" };
                let size = match relative {
                    Some(r) => format_relative(Some(r.abs())).trim_start_matches('+').to_string(),
                    None => v(absolute.abs()),
                };
                let judgement = match assessment {
                    ChangeAssessment::Good => " (good)",
                    ChangeAssessment::Bad => " (bad)",
                    _ => "",
                };
                if *assessment == ChangeAssessment::Unchanged {
                    format!("{label} was {} in {period}, unchanged on {baseline}.", v(*current))
                } else {
                    format!("{label} was {} in {period}, {word} {size} on {baseline}{judgement}.", v(*current))
                }
            }
            Fact::Driver { dimension, value, change, total_change, share_of_change, .. } => format!(
                "{value} ({dimension}) accounts for {} of the {} change in {label} ({:.0}%).",
                v(*change),
                v(*total_change),
                share_of_change * 100.0
            ),
            Fact::Anomaly { date, observed, expected, band_low, band_high, severity, .. } => format!(
                "{label} on {date} was {} against an expected {} (normal range {} to {}): {}.",
                v(*observed),
                v(*expected),
                v(*band_low),
                v(*band_high),
                severity.as_str()
            ),
            Fact::LevelShift { date, shift, severity, .. } => format!("{label}: {}, {}.", level_shift_phrase(*date, shift, unit), severity.as_str()),
            Fact::Trend { direction, slope_per_day, days, .. } => format!(
                "{label} is {} by {} a day over the last {days} days.",
                match direction {
                    TrendDirection::Rising => "rising",
                    TrendDirection::Falling => "falling",
                    TrendDirection::Flat => "flat",
                },
                v(slope_per_day.abs())
            ),
            Fact::Forecast { date, value, low, high, holdout_mape, beats_naive, .. } => {
                let mut text = format!("{label} is forecast at {} on {date} (between {} and {})", v(*value), v(*low), v(*high));
                if let Some(m) = holdout_mape {
                    text.push_str(&format!("; on held-out days it was off by {:.1}% on average", m * 100.0));
                    if *beats_naive == Some(false) {
                        text.push_str(", no better than repeating last week");
                    }
                }
                text.push('.');
                text
            }
            Fact::PeriodForecast { period, value, low, high, baseline, relative, assessment, .. } => {
                let change = match (relative, assessment) {
                    (_, ChangeAssessment::Unchanged) => format!("unchanged on {baseline}"),
                    (Some(r), _) => format!("{} {} on {baseline}", if *r >= 0.0 { "up" } else { "down" }, format_relative(Some(r.abs())).trim_start_matches('+')),
                    (None, _) => format!("against {baseline}"),
                };
                let judgement = match assessment {
                    ChangeAssessment::Good => " (good)",
                    ChangeAssessment::Bad => " (bad)",
                    _ => "",
                };
                format!("{label} is forecast at {} for {period} (between {} and {}), {change}{judgement}.", v(*value), v(*low), v(*high))
            }
        }
    }
}

/// Everything computed for one metric that facts can come from.
pub struct FactInputs<'a> {
    pub metric: MetricRef,
    /// (period label, baseline label, delta)
    pub change: Option<(&'a str, &'a str, &'a Delta)>,
    pub drivers: &'a [DriverBreakdown],
    pub anomalies: &'a [AnomalyScore],
    pub trend: Option<(&'a TrendSummary, usize)>,
    pub forecast: Option<&'a Forecast>,
}

/// The facts worth saying about one metric, most important first: the change, its main driver,
/// warning-or-worse anomalies (latest first), a significant trend, the forecast.
pub fn metric_facts(inputs: &FactInputs<'_>) -> Vec<Fact> {
    let metric = || inputs.metric.clone();
    let mut facts = Vec::new();
    if let Some((period, baseline, d)) = inputs.change {
        if let (Some(current), Some(previous), Some(absolute)) = (d.current, d.previous, d.absolute) {
            facts.push(Fact::Change {
                metric: metric(),
                period: period.to_string(),
                baseline: baseline.to_string(),
                current,
                previous,
                absolute,
                relative: d.relative,
                assessment: d.assessment,
            });
        }
    }
    if let Some((breakdown, c)) = main_driver(inputs.drivers) {
        if let Some(share) = c.share_of_change {
            facts.push(Fact::Driver {
                metric: metric(),
                dimension: breakdown.dimension.clone(),
                value: c.value.clone(),
                change: c.change,
                total_change: breakdown.total_change,
                share_of_change: share,
            });
        }
    }
    let mut flagged: Vec<&AnomalyScore> = inputs.anomalies.iter().filter(|a| a.severity >= Some(Severity::Warning)).collect();
    flagged.sort_by_key(|a| std::cmp::Reverse(a.date));
    facts.extend(flagged.into_iter().map(|a| anomaly_fact(metric(), a)));
    if let Some((trend, days)) = inputs.trend {
        if let (TrendDirection::Rising | TrendDirection::Falling, Some(fit)) = (trend.direction, trend.ols) {
            facts.push(Fact::Trend { metric: metric(), direction: trend.direction, slope_per_day: fit.slope, days });
        }
    }
    if let Some(f) = inputs.forecast {
        if let Some(last) = f.points.last() {
            facts.push(Fact::Forecast {
                metric: metric(),
                date: last.date,
                value: last.value,
                low: last.low,
                high: last.high,
                holdout_mape: f.holdout_mape,
                beats_naive: f.beats_naive(),
            });
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::delta::last_n_vs_previous_n;
    use crate::analytics::{day, Aggregation, DailyValue, Direction};

    fn comparison(values: &[f64], direction: Direction) -> PeriodComparison {
        let series: Vec<DailyValue> = values
            .iter()
            .enumerate()
            .map(|(i, v)| DailyValue::new(day("2026-01-01") + chrono::Duration::days(i as i64), *v))
            .collect();
        let as_of = series.last().map(|p| p.date).unwrap_or(day("2026-01-01"));
        last_n_vs_previous_n(&series, as_of, 2, Aggregation::Sum, direction)
    }

    #[test]
    fn sentence_carries_value_change_and_judgement() {
        // Current 30 + 30 = 60, previous 20 + 20 = 40 -> +50 %.
        let c = comparison(&[20.0, 20.0, 30.0, 30.0], Direction::HigherIsBetter);
        assert_eq!(
            period_change_sentence("Orders", "count", 2, &c),
            "Orders was 60 in the last 2 days, up 50.0% on the previous 2 days (good)."
        );
        let c = comparison(&[20.0, 20.0, 30.0, 30.0], Direction::LowerIsBetter);
        assert!(period_change_sentence("Tickets", "count", 2, &c).ends_with("(bad)."));
    }

    #[test]
    fn no_previous_data_is_said_plainly() {
        let c = comparison(&[5.0, 5.0], Direction::HigherIsBetter);
        assert_eq!(
            period_change_sentence("Orders", "count", 2, &c),
            "Orders was 10 in the last 2 days; the previous 2 days have no data to compare."
        );
    }

    fn revenue() -> MetricRef {
        MetricRef { key: "revenue".into(), label: "Revenue".into(), unit: "USD".into() }
    }

    #[test]
    fn facts_carry_their_inputs_numbers() {
        use crate::analytics::anomaly::Fired;
        use crate::analytics::delta::delta;
        use crate::analytics::drivers::{decompose, SliceTotals};
        // October 850 vs September 1000: −150, −15 %; EMEA carries −140 of it.
        let d = delta(Some(850.0), Some(1000.0), Direction::HigherIsBetter);
        let drivers = [decompose(
            "region",
            &[
                SliceTotals { value: "NA".into(), previous: 450.0, current: 440.0 },
                SliceTotals { value: "EMEA".into(), previous: 350.0, current: 210.0 },
                SliceTotals { value: "APAC".into(), previous: 200.0, current: 200.0 },
            ],
        )];
        let spike = AnomalyScore {
            date: day("2026-10-20"),
            observed: 5.0,
            expected: 30.0,
            band_low: 25.0,
            band_high: 35.0,
            robust_z: Some(-6.0),
            residual_z: Some(-7.0),
            volatility_ratio: None,
            slope_change: None,
            score: Some(-7.0),
            severity: Some(Severity::Critical),
            fired: Fired::default(),
            level_shift: None,
        };
        let quiet = AnomalyScore { date: day("2026-10-21"), severity: Some(Severity::Info), ..spike.clone() };
        let facts = metric_facts(&FactInputs {
            metric: revenue(),
            change: Some(("2026-10", "2026-09", &d)),
            drivers: &drivers,
            anomalies: &[spike, quiet],
            trend: None,
            forecast: None,
        });
        let sentences: Vec<String> = facts.iter().map(Fact::sentence).collect();
        assert_eq!(
            sentences,
            vec![
                "Revenue was $850.00 in 2026-10, down 15.0% on 2026-09 (bad).".to_string(),
                "EMEA (region) accounts for -$140.00 of the -$150.00 change in Revenue (93%).".to_string(),
                "Revenue on 2026-10-20 was $5.00 against an expected $30.00 (normal range $25.00 to $35.00): critical.".to_string(),
            ]
        );
        match &facts[1] {
            Fact::Driver { change, total_change, .. } => assert_eq!((*change, *total_change), (-140.0, -150.0)),
            other => panic!("expected a driver fact, got {other:?}"),
        }
        let json = serde_json::to_value(&facts[0]).expect("serialises");
        assert_eq!(json["kind"], "change");
        assert_eq!(json["absolute"], -150.0);
    }

    #[test]
    fn range_and_breakdown_sentences() {
        use crate::analytics::delta::delta;
        // 90 → 99 is +10 %.
        let d = delta(Some(99.0), Some(90.0), Direction::HigherIsBetter);
        assert_eq!(
            range_change_sentence("Orders", "count", "the last 90 days", "the 90 days before", &d, 2),
            "Orders was 99 in the last 90 days, up 10.0% on the 90 days before (good); 2 days were anomalous."
        );
        // 45 + 35 + 20 = 100: shares 45 %, 35 %, 20 %.
        let members = [("NA".to_string(), Some(45.0)), ("EMEA".to_string(), Some(35.0)), ("APAC".to_string(), Some(20.0))];
        assert_eq!(breakdown_sentence("Orders", "count", "regions", &members), "Orders by region: NA 45 (45%), EMEA 35 (35%), APAC 20 (20%).");
        assert_eq!(breakdown_sentence("NPS", "score", "regions", &members[..1]), "NPS by region: NA 45.0.");
    }
}
