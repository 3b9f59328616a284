//! The built-in models' decisions over plain series: which days of which slice are anomalous (one
//! per metric and day, naming the slice that moved most), whether a trend reversed, whether a month
//! will miss its target, and which dimension values cost more for less. No IO and no wording: the
//! models service loads each metric's series once and turns these results into findings.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use super::anomaly::{dense, score_series, AnomalyConfig, AnomalyScore, Severity};
use super::calendar::{period_containing, same_period_last_year, Granularity, Period};
use super::forecast::{forecast, ForecastConfig};
use super::trend::{classify_trend, TrendDirection, TrendRule};
use super::DailyValue;
use crate::domain::recommendations::EvidencePoint;

/// (dimension, value) pairs naming a slice; empty for the org total.
pub type SliceKey = Vec<(String, String)>;

/// One slice of a metric and its daily series.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceSeries {
    pub slice: SliceKey,
    pub series: Vec<DailyValue>,
}

/// Which days an anomaly scan may flag, and how many series it may score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnomalyScan {
    pub first_flag: NaiveDate,
    pub as_of: NaiveDate,
    pub min_severity: Severity,
    pub max_series: usize,
}

/// A flagged day of one metric: the slice it names, the score there, the series around the day with
/// what was expected, and the other slices flagged that day (less strongly), strongest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyHit {
    pub slice: SliceKey,
    pub score: AnomalyScore,
    pub points: Vec<EvidencePoint>,
    /// The span of `points`: four weeks before the day to a week after (at most `as_of`).
    pub window: (NaiveDate, NaiveDate),
    pub also_flagged: Vec<SliceKey>,
}

/// What a scan of one metric found and how many of its series it scored or skipped (over the cap).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScanOutcome {
    pub hits: Vec<AnomalyHit>,
    pub scanned: usize,
    pub skipped: usize,
}

/// A broader slice is named instead of the one that moved most when it moved at least this share as much.
const BROAD_ENOUGH: f64 = 0.8;

/// Scores every slice of one metric (at most `scan.max_series`, in the order given: the total
/// first) and keeps one hit per flagged day. An EMEA outage also moves the total and every slice
/// EMEA feeds; one item that says "EMEA" is what a reviewer needs, not five. The slice named is the
/// broadest that moved at least 80 % as much as the one that moved most: a surge everywhere is "the
/// total", not whichever slice's noise added most to it.
pub fn scan_metric(slices: Vec<SliceSeries>, config: &AnomalyConfig, scan: &AnomalyScan) -> ScanOutcome {
    let skipped = slices.len().saturating_sub(scan.max_series);
    let mut by_day: BTreeMap<NaiveDate, Vec<AnomalyHit>> = BTreeMap::new();
    let mut scanned = 0;
    for SliceSeries { slice, series } in slices.into_iter().take(scan.max_series) {
        scanned += 1;
        let scores = score_series(&series, config);
        for score in scores.iter().filter(|x| x.date >= scan.first_flag && x.date <= scan.as_of && x.severity >= Some(scan.min_severity)) {
            let hit = hit_for(&slice, &series, &scores, score, scan.as_of);
            by_day.entry(score.date).or_default().push(hit);
        }
    }
    let hits = by_day.into_values().filter_map(strongest).collect();
    ScanOutcome { hits, scanned, skipped }
}

fn hit_for(slice: &SliceKey, series: &[DailyValue], scores: &[AnomalyScore], score: &AnomalyScore, as_of: NaiveDate) -> AnomalyHit {
    let window = (score.date - Duration::days(28), (score.date + Duration::days(7)).min(as_of));
    let expected_on = |d: NaiveDate| scores.iter().find(|x| x.date == d);
    let points = series
        .iter()
        .filter(|p| p.date >= window.0 && p.date <= window.1)
        .map(|p| {
            let e = expected_on(p.date);
            EvidencePoint { date: p.date, value: p.value, expected: e.map(|e| e.expected), low: e.map(|e| e.band_low), high: e.map(|e| e.band_high) }
        })
        .collect();
    AnomalyHit { slice: slice.clone(), score: score.clone(), points, window, also_flagged: Vec::new() }
}

/// How far off expectation the day was, relative to the expectation (0.55 for 55 % off).
pub fn relative_deviation(score: &AnomalyScore) -> f64 {
    if score.expected != 0.0 {
        ((score.observed - score.expected) / score.expected).abs()
    } else {
        0.0
    }
}

fn strongest(mut group: Vec<AnomalyHit>) -> Option<AnomalyHit> {
    let most = group.iter().map(|h| relative_deviation(&h.score)).fold(0.0, f64::max);
    let rank = |h: &AnomalyHit| (relative_deviation(&h.score) < BROAD_ENOUGH * most, h.slice.len());
    group.sort_by(|a, b| rank(a).cmp(&rank(b)).then(relative_deviation(&b.score).total_cmp(&relative_deviation(&a.score))));
    let mut rest = group.into_iter();
    let mut best = rest.next()?;
    best.also_flagged = rest.map(|h| h.slice).collect();
    Some(best)
}

/// A significant trend over the window before `current_start` that turned the other way since.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reversal {
    pub before: TrendDirection,
    pub now: TrendDirection,
    /// How far each window's fitted line moved, relative to its level.
    pub move_before: f64,
    pub move_now: f64,
}

/// Compares the trend of the days before `current_start` with the trend since; `None` unless both
/// are significant and opposite.
pub fn trend_reversal(series: &[DailyValue], current_start: NaiveDate) -> Option<Reversal> {
    let (before, now): (Vec<DailyValue>, Vec<DailyValue>) = series.iter().partition(|p| p.date < current_start);
    let (a, b) = (classify_trend(&before, TrendRule::default()), classify_trend(&now, TrendRule::default()));
    let reversed = matches!(
        (a.direction, b.direction),
        (TrendDirection::Rising, TrendDirection::Falling) | (TrendDirection::Falling, TrendDirection::Rising)
    );
    reversed.then(|| Reversal { before: a.direction, now: b.direction, move_before: a.relative_move.unwrap_or(0.0), move_now: b.relative_move.unwrap_or(0.0) })
}

/// The month target: the same month last year plus `required_growth`; a projection short of it by
/// at least `min_shortfall` (a share of the target) is a risk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetRule {
    pub required_growth: f64,
    pub min_shortfall: f64,
}

/// The month after `as_of` ends at risk: actuals so far, the forecast for the rest, and the target.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthRisk {
    pub month: Period,
    pub last_year: Period,
    pub remaining: usize,
    pub actual: f64,
    pub projected: f64,
    pub target: f64,
    pub shortfall: f64,
    /// The last four weeks before the month and the month so far, then the forecast days.
    pub points: Vec<EvidencePoint>,
}

/// The first day a month-risk check needs: last year's month or the forecast's fitting window.
pub fn month_risk_history_start(as_of: NaiveDate, config: &ForecastConfig) -> NaiveDate {
    let month = period_containing(as_of + Duration::days(1), Granularity::Month);
    let last_year = same_period_last_year(&month, Granularity::Month);
    last_year.start.min(as_of - Duration::days(config.fit_days as i64 + 7))
}

/// Projects the month containing the day after `as_of` of a summed metric from `history` (daily
/// totals up to `as_of`); `None` when there is no target, no forecast, or no risk.
pub fn month_risk(history: &[DailyValue], as_of: NaiveDate, rule: TargetRule, config: &ForecastConfig) -> Option<MonthRisk> {
    let month = period_containing(as_of + Duration::days(1), Granularity::Month);
    let last_year = same_period_last_year(&month, Granularity::Month);
    let remaining = (month.end - as_of).num_days().max(0) as usize;
    let target_base: f64 = history.iter().filter(|p| p.date >= last_year.start && p.date <= last_year.end).map(|p| p.value).sum();
    if target_base <= 0.0 {
        return None;
    }
    let actual: f64 = history.iter().filter(|p| p.date >= month.start && p.date <= as_of).map(|p| p.value).sum();
    let fit_start = as_of - Duration::days(config.fit_days as i64 + 7);
    let recent: Vec<DailyValue> = history.iter().copied().filter(|p| p.date >= fit_start && p.date <= as_of).collect();
    let (first, values) = dense(&recent)?;
    let fc = forecast(first, &values, &ForecastConfig { horizon: remaining.max(1), ..*config }).ok()?;
    let projected = actual + fc.points.iter().take(remaining).map(|p| p.value).sum::<f64>();
    let target = target_base * (1.0 + rule.required_growth);
    let shortfall = (target - projected) / target;
    if shortfall < rule.min_shortfall {
        return None;
    }
    let mut points = plain_points(recent.iter().filter(|p| p.date >= month.start - Duration::days(28)));
    points.extend(fc.points.iter().take(remaining).map(|p| EvidencePoint { date: p.date, value: p.value, expected: Some(p.value), low: Some(p.low), high: Some(p.high) }));
    Some(MonthRisk { month, last_year, remaining, actual, projected, target, shortfall, points })
}

/// Evidence points with no expectation, for a chart of the raw series.
pub fn plain_points<'a>(series: impl IntoIterator<Item = &'a DailyValue>) -> Vec<EvidencePoint> {
    series.into_iter().map(|p| EvidencePoint { date: p.date, value: p.value, expected: None, low: None, high: None }).collect()
}

/// A dimension value's total over the window before and the current window.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PeriodTotals {
    pub previous: f64,
    pub current: f64,
}

impl PeriodTotals {
    /// Sums a daily series into the days before `current_start` and the days from it on.
    pub fn split(series: &[DailyValue], current_start: NaiveDate) -> PeriodTotals {
        series.iter().fold(PeriodTotals::default(), |mut t, p| {
            if p.date < current_start { t.previous += p.value } else { t.current += p.value }
            t
        })
    }

    /// The relative change, when there was something before to compare with.
    pub fn change(&self) -> Option<f64> {
        (self.previous > 0.0).then(|| (self.current - self.previous) / self.previous)
    }
}

/// When a dimension value is spending more for less.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EfficiencyRule {
    pub min_cost_rise: f64,
    pub min_outcome_fall: f64,
}

/// A dimension value whose cost rose while its outcome fell.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    pub member: String,
    pub cost: PeriodTotals,
    pub outcome: PeriodTotals,
    pub cost_rise: f64,
    pub outcome_change: f64,
    /// Both moves at least twice their thresholds.
    pub severe: bool,
}

/// Compares, per dimension value, the cost and outcome series (window before `current_start` against
/// the window from it) and returns the values that break `rule`, in member order.
pub fn efficiency_breaches(costs: &BTreeMap<String, Vec<DailyValue>>, outcomes: &BTreeMap<String, Vec<DailyValue>>, current_start: NaiveDate, rule: EfficiencyRule) -> Vec<Breach> {
    costs
        .iter()
        .filter_map(|(member, cost_series)| {
            let cost = PeriodTotals::split(cost_series, current_start);
            let outcome = PeriodTotals::split(outcomes.get(member)?, current_start);
            let (cost_rise, outcome_change) = (cost.change()?, outcome.change()?);
            if cost_rise < rule.min_cost_rise || -outcome_change < rule.min_outcome_fall {
                return None;
            }
            let severe = cost_rise >= 2.0 * rule.min_cost_rise && -outcome_change >= 2.0 * rule.min_outcome_fall;
            Some(Breach { member: member.clone(), cost, outcome, cost_rise, outcome_change, severe })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::day;

    /// A weekly-seasonal series of `days` days ending on `end`, with optional overrides.
    fn seasonal(end: NaiveDate, days: i64, level: f64, shocks: &[(NaiveDate, f64)]) -> Vec<DailyValue> {
        (0..days)
            .map(|i| {
                let date = end - Duration::days(days - 1 - i);
                let wiggle = [0.0, 2.0, -1.0, 1.5, -2.0, 0.5, -1.0][(i % 7) as usize] * level / 100.0;
                let noise = ((i * 37 % 11) as f64 - 5.0) * level / 1000.0;
                let value = shocks.iter().find(|(d, _)| *d == date).map(|(_, v)| *v).unwrap_or(level + wiggle + noise);
                DailyValue::new(date, value)
            })
            .collect()
    }

    fn scan(as_of: NaiveDate, max_series: usize) -> AnomalyScan {
        AnomalyScan { first_flag: as_of - Duration::days(13), as_of, min_severity: Severity::Warning, max_series }
    }

    fn slice(pairs: &[(&str, &str)]) -> SliceKey {
        pairs.iter().map(|(d, v)| (d.to_string(), v.to_string())).collect()
    }

    #[test]
    fn an_outage_in_one_region_is_one_hit_that_names_the_region() {
        let as_of = day("2026-11-20");
        let outage = as_of - Duration::days(3);
        let slices = vec![
            SliceSeries { slice: Vec::new(), series: seasonal(as_of, 200, 1000.0, &[(outage, 810.0)]) },
            SliceSeries { slice: slice(&[("region", "EMEA")]), series: seasonal(as_of, 200, 400.0, &[(outage, 210.0)]) },
            SliceSeries { slice: slice(&[("region", "AMER")]), series: seasonal(as_of, 200, 600.0, &[]) },
        ];
        let out = scan_metric(slices, &AnomalyConfig::default(), &scan(as_of, 100));
        assert_eq!((out.scanned, out.skipped), (3, 0));
        assert_eq!(out.hits.len(), 1, "{:?}", out.hits.iter().map(|h| (h.score.date, h.slice.clone())).collect::<Vec<_>>());
        let hit = &out.hits[0];
        assert_eq!((hit.score.date, hit.slice.clone(), hit.also_flagged.clone()), (outage, slice(&[("region", "EMEA")]), vec![Vec::new()]));
        assert_eq!(hit.window, (outage - Duration::days(28), as_of));
        assert_eq!(hit.points.len(), 32);
        assert!(hit.points.iter().all(|p| p.expected.is_some()), "every point in the window has an expectation");
    }

    #[test]
    fn a_surge_everywhere_names_the_total_and_the_cap_counts_skipped_series() {
        let as_of = day("2026-11-20");
        let surge = as_of - Duration::days(1);
        let slices = vec![
            SliceSeries { slice: Vec::new(), series: seasonal(as_of, 200, 1000.0, &[(surge, 2400.0)]) },
            SliceSeries { slice: slice(&[("product", "pro")]), series: seasonal(as_of, 200, 100.0, &[(surge, 235.0)]) },
            SliceSeries { slice: slice(&[("product", "basic")]), series: seasonal(as_of, 200, 100.0, &[(surge, 250.0)]) },
        ];
        let out = scan_metric(slices.clone(), &AnomalyConfig::default(), &scan(as_of, 100));
        assert_eq!(out.hits.len(), 1);
        assert_eq!(out.hits[0].slice, Vec::new());
        assert_eq!(out.hits[0].also_flagged.len(), 2);
        let capped = scan_metric(slices, &AnomalyConfig::default(), &scan(as_of, 1));
        assert_eq!((capped.scanned, capped.skipped, capped.hits[0].also_flagged.len()), (1, 2, 0));
    }

    #[test]
    fn days_before_the_lookback_or_below_the_severity_are_not_hits() {
        let as_of = day("2026-11-20");
        let old = as_of - Duration::days(40);
        let series = seasonal(as_of, 200, 1000.0, &[(old, 300.0)]);
        let out = scan_metric(vec![SliceSeries { slice: Vec::new(), series }], &AnomalyConfig::default(), &scan(as_of, 10));
        assert!(out.hits.is_empty());
    }

    fn line(start: NaiveDate, days: i64, from: f64, slope: f64) -> Vec<DailyValue> {
        (0..days).map(|i| DailyValue::new(start + Duration::days(i), from + slope * i as f64 + if i % 2 == 0 { 1.0 } else { -1.0 })).collect()
    }

    #[test]
    fn a_rise_then_a_fall_is_a_reversal_and_a_steady_rise_is_not() {
        let start = day("2026-09-01");
        let mut series = line(start, 28, 100.0, 2.0);
        series.extend(line(start + Duration::days(28), 28, 154.0, -2.0));
        let r = trend_reversal(&series, start + Duration::days(28)).expect("reversal");
        assert_eq!((r.before, r.now), (TrendDirection::Rising, TrendDirection::Falling));
        assert!(r.move_before > 0.3 && r.move_now < -0.3, "{r:?}");
        assert_eq!(trend_reversal(&line(start, 56, 100.0, 2.0), start + Duration::days(28)), None);
    }

    #[test]
    fn a_month_below_last_year_plus_growth_is_at_risk_by_the_computed_shortfall() {
        let as_of = day("2026-11-15");
        // 100 a day for two years: last November summed 3,000, the target with 10 % growth 3,300,
        // the projection about 30 × 100 = 3,000, a shortfall of about 9 %.
        let history: Vec<DailyValue> = (0..730).map(|i| DailyValue::new(as_of - Duration::days(729 - i), 100.0)).collect();
        let config = ForecastConfig::default();
        assert!(month_risk_history_start(as_of, &config) <= day("2025-11-01"));
        let risk = month_risk(&history, as_of, TargetRule { required_growth: 0.10, min_shortfall: 0.02 }, &config).expect("at risk");
        assert_eq!((risk.month.start, risk.remaining), (day("2026-11-01"), 15));
        assert!((risk.actual - 1500.0).abs() < 1e-9 && (risk.target - 3300.0).abs() < 1e-9, "{risk:?}");
        assert!((risk.shortfall - (3300.0 - risk.projected) / 3300.0).abs() < 1e-12);
        assert!((risk.projected - 3000.0).abs() < 30.0, "{}", risk.projected);
        assert_eq!(risk.points.iter().filter(|p| p.expected.is_some()).count(), 15);
        assert_eq!(month_risk(&history, as_of, TargetRule { required_growth: 0.0, min_shortfall: 0.02 }, &config), None);
    }

    #[test]
    fn a_member_that_spends_more_for_less_breaches_and_others_do_not() {
        let current = day("2026-11-01");
        let split = |before: f64, after: f64| vec![DailyValue::new(current - Duration::days(1), before), DailyValue::new(current, after)];
        let costs = BTreeMap::from([("ads".to_string(), split(100.0, 130.0)), ("email".to_string(), split(100.0, 130.0)), ("seo".to_string(), split(0.0, 10.0))]);
        let outcomes = BTreeMap::from([("ads".to_string(), split(50.0, 40.0)), ("email".to_string(), split(50.0, 55.0)), ("seo".to_string(), split(5.0, 1.0))]);
        let breaches = efficiency_breaches(&costs, &outcomes, current, EfficiencyRule { min_cost_rise: 0.05, min_outcome_fall: 0.03 });
        assert_eq!(breaches.len(), 1);
        let b = &breaches[0];
        assert_eq!((b.member.as_str(), b.cost, b.severe), ("ads", PeriodTotals { previous: 100.0, current: 130.0 }, true));
        assert!((b.cost_rise - 0.3).abs() < 1e-12 && (b.outcome_change + 0.2).abs() < 1e-12);
    }
}
