//! Per-point anomaly indicators (robust z, residual z after weekly seasonality and trend,
//! volatility, slope change) combined into a severity with an explanation a person can check.

use serde::{Deserialize, Serialize};

use super::stats::{mad, median, std_dev, MAD_TO_SIGMA};
use super::trend::ols;
use super::DailyValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    RobustZ,
    ResidualZ,
    Volatility,
    SlopeChange,
}

/// Thresholds and windows; the defaults follow the seeds' anomaly loop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AnomalyConfig {
    /// Days of history before a point that form its baseline.
    pub baseline_days: usize,
    /// No score with fewer history values than this.
    pub min_history: usize,
    /// Season length in days (7: weekly).
    pub season: usize,
    pub info_z: f64,
    pub warning_z: f64,
    pub critical_z: f64,
    /// Recent 7-day standard deviation over the baseline's: at or above this, volatility fires.
    pub volatility_ratio: f64,
    /// Change of the 14-day slope against the baseline slope, per day relative to the level.
    pub slope_change: f64,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        Self {
            baseline_days: 56,
            min_history: 28,
            season: 7,
            info_z: 2.5,
            warning_z: 3.5,
            critical_z: 5.0,
            volatility_ratio: 2.5,
            slope_change: 0.02,
        }
    }
}

/// What a person needs to judge a flagged point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyScore {
    pub date: chrono::NaiveDate,
    pub observed: f64,
    /// Seasonal, trend-adjusted expectation for the day.
    pub expected: f64,
    /// expected ± warning_z · residual scale: values outside it are at least a warning.
    pub band_low: f64,
    pub band_high: f64,
    pub robust_z: Option<f64>,
    pub residual_z: Option<f64>,
    pub volatility_ratio: Option<f64>,
    pub slope_change: Option<f64>,
    /// The residual z when known, else the robust z; `None` when the history has no spread.
    pub score: Option<f64>,
    pub severity: Option<Severity>,
    pub fired: Vec<Indicator>,
}

/// Scores point `index` of a series of consecutive days (`values[i]` is day i; `None` = no data)
/// against the `baseline_days` before it. `None` when the point or its history is missing.
pub fn score_point(dates_from: chrono::NaiveDate, values: &[Option<f64>], index: usize, config: &AnomalyConfig) -> Option<AnomalyScore> {
    let observed = (*values.get(index)?)?.to_owned();
    let start = index.saturating_sub(config.baseline_days);
    let history: Vec<(usize, f64)> = (start..index).filter_map(|i| values[i].map(|v| (i, v))).collect();
    if history.len() < config.min_history.max(3) || !observed.is_finite() {
        return None;
    }
    let raw: Vec<f64> = history.iter().map(|p| p.1).collect();
    let level = median(&raw)?;
    let robust_scale = mad(&raw).map(|m| m * MAD_TO_SIGMA).filter(|s| *s > 0.0);
    let robust_z = robust_scale.map(|s| (observed - level) / s);

    // Weekly profile: how far each weekday's median sits from the overall median.
    let season = config.season.max(1);
    let profile: Vec<f64> = (0..season)
        .map(|phase| {
            let same: Vec<f64> = history.iter().filter(|(i, _)| i % season == phase).map(|p| p.1).collect();
            median(&same).map_or(0.0, |m| m - level)
        })
        .collect();
    let deseasonalised: Vec<(f64, f64)> = history.iter().map(|(i, v)| (*i as f64, v - profile[i % season])).collect();
    let fit = ols(&deseasonalised);
    let expected = profile[index % season]
        + fit.map_or(level, |f| f.intercept + f.slope * index as f64);
    let residuals: Vec<f64> = match fit {
        Some(f) => deseasonalised.iter().map(|(x, y)| y - f.intercept - f.slope * x).collect(),
        None => deseasonalised.iter().map(|(_, y)| y - level).collect(),
    };
    let residual_scale = mad(&residuals).map(|m| m * MAD_TO_SIGMA).filter(|s| *s > 0.0);
    let residual_z = residual_scale.map(|s| (observed - expected) / s);
    let band = residual_scale.or(robust_scale).unwrap_or(0.0) * config.warning_z;

    let recent: Vec<f64> = values[index.saturating_sub(6)..=index].iter().flatten().copied().collect();
    let volatility_ratio = match (std_dev(&recent), std_dev(&raw)) {
        (Some(r), Some(h)) if h > 0.0 => Some(r / h),
        _ => None,
    };
    let recent_points: Vec<(f64, f64)> = (index.saturating_sub(13)..=index)
        .filter_map(|i| values[i].map(|v| (i as f64, v)))
        .collect();
    let slope_change = match (ols(&recent_points), fit) {
        (Some(r), Some(b)) if level != 0.0 => Some((r.slope - b.slope) / level.abs()),
        _ => None,
    };

    let score = residual_z.or(robust_z);
    let severity = score.map(f64::abs).and_then(|z| {
        if z >= config.critical_z {
            Some(Severity::Critical)
        } else if z >= config.warning_z {
            Some(Severity::Warning)
        } else if z >= config.info_z {
            Some(Severity::Info)
        } else {
            None
        }
    });
    let mut fired = Vec::new();
    if robust_z.is_some_and(|z| z.abs() >= config.warning_z) {
        fired.push(Indicator::RobustZ);
    }
    if residual_z.is_some_and(|z| z.abs() >= config.warning_z) {
        fired.push(Indicator::ResidualZ);
    }
    if volatility_ratio.is_some_and(|r| r >= config.volatility_ratio) {
        fired.push(Indicator::Volatility);
    }
    if slope_change.is_some_and(|s| s.abs() >= config.slope_change) {
        fired.push(Indicator::SlopeChange);
    }
    Some(AnomalyScore {
        date: dates_from + chrono::Duration::days(index as i64),
        observed,
        expected,
        band_low: expected - band,
        band_high: expected + band,
        robust_z,
        residual_z,
        volatility_ratio,
        slope_change,
        score,
        severity,
        fired,
    })
}

/// Lays a daily series out as consecutive days from its first date (`None` for missing days).
pub fn dense(series: &[DailyValue]) -> Option<(chrono::NaiveDate, Vec<Option<f64>>)> {
    let first = series.iter().map(|p| p.date).min()?;
    let last = series.iter().map(|p| p.date).max()?;
    let mut values = vec![None; (last - first).num_days() as usize + 1];
    for p in series {
        values[(p.date - first).num_days() as usize] = Some(p.value).filter(|v| v.is_finite());
    }
    Some((first, values))
}

/// Scores every point of a daily series that has enough history.
pub fn score_series(series: &[DailyValue], config: &AnomalyConfig) -> Vec<AnomalyScore> {
    let Some((first, values)) = dense(series) else {
        return Vec::new();
    };
    (0..values.len()).filter_map(|i| score_point(first, &values, i, config)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::day;

    /// 84 days: level 100, weekends (every 6th and 7th day) at 60, a gentle rise of 0.1 per day.
    fn weekly(spike_at: Option<(usize, f64)>) -> Vec<DailyValue> {
        (0..84)
            .map(|i| {
                let base = if i % 7 >= 5 { 60.0 } else { 100.0 } + 0.1 * i as f64;
                // Small deterministic wiggle so the scales are not zero.
                let wiggle = [0.0, 1.0, -1.0, 0.5, -0.5, 0.8, -0.8][i % 7] * ((i / 7) % 3) as f64;
                let spike = spike_at.filter(|(at, _)| *at == i).map_or(0.0, |(_, s)| s);
                DailyValue::new(day("2026-01-05") + chrono::Duration::days(i as i64), base + wiggle + spike)
            })
            .collect()
    }

    #[test]
    fn no_score_without_enough_history() {
        let series = weekly(None);
        let scores = score_series(&series, &AnomalyConfig::default());
        // The first 28 days only build history.
        assert_eq!(scores.first().map(|s| s.date), Some(day("2026-01-05") + chrono::Duration::days(28)));
        assert_eq!(scores.len(), 84 - 28);
    }

    #[test]
    fn weekends_are_seasonal_not_anomalous() {
        let scores = score_series(&weekly(None), &AnomalyConfig::default());
        let flagged: Vec<_> = scores.iter().filter(|s| s.severity >= Some(Severity::Warning)).collect();
        assert!(flagged.is_empty(), "weekly pattern flagged: {:?}", flagged.iter().map(|s| s.date).collect::<Vec<_>>());
        // A plain robust z on the same data would call every weekend unusual.
        let weekend = scores.iter().find(|s| s.observed < 80.0).expect("a weekend day");
        assert!(weekend.robust_z.is_some_and(|z| z.abs() > weekend.residual_z.map_or(0.0, f64::abs)));
    }

    #[test]
    fn a_spike_is_critical_with_its_explanation() {
        // Day 70 is a Monday-like weekday (70 % 7 = 0) near 107; a +60 spike.
        let scores = score_series(&weekly(Some((70, 60.0))), &AnomalyConfig::default());
        let hit = scores.iter().find(|s| s.date == day("2026-01-05") + chrono::Duration::days(70)).expect("scored");
        assert_eq!(hit.severity, Some(Severity::Critical));
        assert!(hit.fired.contains(&Indicator::ResidualZ));
        assert!((hit.expected - 107.0).abs() < 3.0, "expected ≈ 100 + 0.1·70 = 107, got {}", hit.expected);
        assert!(hit.band_low < hit.expected && hit.expected < hit.band_high);
        assert!(hit.observed > hit.band_high);
    }

    #[test]
    fn a_constant_series_scores_without_nan() {
        let flat: Vec<DailyValue> = (0..40).map(|i| DailyValue::new(day("2026-01-01") + chrono::Duration::days(i), 5.0)).collect();
        for s in score_series(&flat, &AnomalyConfig::default()) {
            assert_eq!((s.robust_z, s.residual_z, s.score, s.severity), (None, None, None, None));
            assert!(s.expected.is_finite() && s.band_low.is_finite());
        }
    }

    #[test]
    fn missing_days_are_skipped_not_zero() {
        let mut series = weekly(None);
        series.remove(50);
        let scores = score_series(&series, &AnomalyConfig::default());
        assert!(scores.iter().all(|s| s.date != day("2026-01-05") + chrono::Duration::days(50)));
        assert!(scores.iter().all(|s| s.severity < Some(Severity::Warning)), "a gap is not an anomaly");
    }
}
