//! Trends of a daily series: OLS slope with its standard error, the robust Theil–Sen slope,
//! trailing rolling statistics, and a documented rising / falling / flat classification.

use serde::{Deserialize, Serialize};

use super::stats::{mean, median, std_dev};
use super::DailyValue;

/// Ordinary least squares fit y = intercept + slope · x.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OlsFit {
    pub slope: f64,
    pub intercept: f64,
    /// sqrt( Σ residual² / (n − 2) / Σ (x − x̄)² ); `None` with fewer than 3 points.
    pub slope_std_error: Option<f64>,
    pub n: usize,
}

/// OLS over (x, y) points; `None` with fewer than 2 points or when every x is equal.
/// slope = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)²; intercept = ȳ − slope · x̄.
pub fn ols(points: &[(f64, f64)]) -> Option<OlsFit> {
    let pts: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let n = pts.len();
    if n < 2 {
        return None;
    }
    let x_mean = pts.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let y_mean = pts.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let sxx: f64 = pts.iter().map(|(x, _)| (x - x_mean).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = pts.iter().map(|(x, y)| (x - x_mean) * (y - y_mean)).sum();
    let slope = sxy / sxx;
    let intercept = y_mean - slope * x_mean;
    let slope_std_error = (n >= 3).then(|| {
        let sse: f64 = pts.iter().map(|(x, y)| (y - intercept - slope * x).powi(2)).sum();
        (sse / (n - 2) as f64 / sxx).sqrt()
    });
    Some(OlsFit { slope, intercept, slope_std_error, n })
}

/// Theil–Sen slope: the median of (yⱼ − yᵢ) / (xⱼ − xᵢ) over all pairs with xᵢ ≠ xⱼ.
/// Robust to up to ~29 % outliers. O(n²) pairs; callers pass windows, not whole histories.
pub fn theil_sen(points: &[(f64, f64)]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let mut slopes = Vec::with_capacity(pts.len() * pts.len().saturating_sub(1) / 2);
    for (i, a) in pts.iter().enumerate() {
        for b in &pts[i + 1..] {
            if b.0 != a.0 {
                slopes.push((b.1 - a.1) / (b.0 - a.0));
            }
        }
    }
    median(&slopes)
}

/// Points of a daily series as (days since the first day, value).
pub fn day_points(series: &[DailyValue]) -> Vec<(f64, f64)> {
    let Some(first) = series.iter().map(|p| p.date).min() else {
        return Vec::new();
    };
    series.iter().map(|p| ((p.date - first).num_days() as f64, p.value)).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollingStat {
    Mean,
    Median,
    StdDev,
}

/// The statistic over each trailing window of `window` values ending at each index; `None` until
/// the window is full (and for a standard deviation of a 1-value window).
pub fn rolling(values: &[f64], window: usize, stat: RollingStat) -> Vec<Option<f64>> {
    (0..values.len())
        .map(|end| {
            if window == 0 || end + 1 < window {
                return None;
            }
            let slice = &values[end + 1 - window..=end];
            match stat {
                RollingStat::Mean => mean(slice),
                RollingStat::Median => median(slice),
                RollingStat::StdDev => std_dev(slice),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendDirection {
    Rising,
    Falling,
    Flat,
}

/// When a trend counts: the OLS slope must be significant (|slope| / SE ≥ `min_t`, ≈ 95 % two-sided
/// for n ≥ 30 at 2.0), its total move over the window must be at least `min_relative_move` of the
/// mean level, and the robust Theil–Sen slope must agree in sign. Otherwise the series is flat.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrendRule {
    pub min_t: f64,
    pub min_relative_move: f64,
    pub min_points: usize,
}

impl Default for TrendRule {
    fn default() -> Self {
        Self { min_t: 2.0, min_relative_move: 0.02, min_points: 7 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrendSummary {
    pub direction: TrendDirection,
    pub ols: Option<OlsFit>,
    pub theil_sen_slope: Option<f64>,
    /// slope × (span in days) / |mean|: how far the fitted line moves relative to the level.
    pub relative_move: Option<f64>,
}

pub fn classify_trend(series: &[DailyValue], rule: TrendRule) -> TrendSummary {
    let points = day_points(series);
    let fit = ols(&points);
    let robust = theil_sen(&points);
    let level = mean(&points.iter().map(|p| p.1).collect::<Vec<_>>());
    let span = points.iter().map(|p| p.0).fold(0.0, f64::max);
    let relative_move = match (fit, level) {
        (Some(f), Some(m)) if m != 0.0 => Some(f.slope * span / m.abs()),
        _ => None,
    };
    let direction = match (fit, robust, relative_move) {
        (Some(f), Some(ts), Some(moved)) if points.len() >= rule.min_points => {
            let significant = match f.slope_std_error {
                Some(se) if se > 0.0 => (f.slope / se).abs() >= rule.min_t,
                // A perfect fit has no residual error: any non-zero slope is certain.
                Some(_) => f.slope != 0.0,
                None => false,
            };
            let agrees = ts.signum() == f.slope.signum() && ts != 0.0;
            if significant && agrees && moved.abs() >= rule.min_relative_move {
                if f.slope > 0.0 { TrendDirection::Rising } else { TrendDirection::Falling }
            } else {
                TrendDirection::Flat
            }
        }
        _ => TrendDirection::Flat,
    };
    TrendSummary { direction, ols: fit, theil_sen_slope: robust, relative_move }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::day;
    use proptest::prelude::*;

    fn daily(values: &[f64]) -> Vec<DailyValue> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| DailyValue::new(day("2026-01-01") + chrono::Duration::days(i as i64), *v))
            .collect()
    }

    #[test]
    fn ols_by_hand() {
        // x 0,1,2,3; y 1,3,2,4: x̄ 1.5, ȳ 2.5; Sxy = (−1.5)(−1.5)+(−0.5)(0.5)+(0.5)(−0.5)+(1.5)(1.5) = 4;
        // Sxx = 5 -> slope 0.8, intercept 2.5 − 1.2 = 1.3. Residuals −0.3, 0.9, −0.9, 0.3: SSE 1.8;
        // SE = sqrt(1.8 / 2 / 5) = sqrt(0.18).
        let fit = ols(&[(0.0, 1.0), (1.0, 3.0), (2.0, 2.0), (3.0, 4.0)]).expect("fit");
        assert!((fit.slope - 0.8).abs() < 1e-12);
        assert!((fit.intercept - 1.3).abs() < 1e-12);
        assert!((fit.slope_std_error.expect("se") - 0.18f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn ols_needs_spread_in_x() {
        assert_eq!(ols(&[(1.0, 1.0), (1.0, 2.0)]), None);
        assert_eq!(ols(&[(1.0, 1.0)]), None);
        assert_eq!(ols(&[(0.0, 1.0), (1.0, 2.0)]).and_then(|f| f.slope_std_error), None);
    }

    #[test]
    fn theil_sen_ignores_an_outlier() {
        // y = 2x except one wild point: pairwise slopes are mostly 2, so the median is 2.
        let pts = [(0.0, 0.0), (1.0, 2.0), (2.0, 4.0), (3.0, 100.0), (4.0, 8.0), (5.0, 10.0)];
        assert_eq!(theil_sen(&pts), Some(2.0));
        // OLS is pulled by it: Sxy = Σ(x − 2.5)·y = −3 − 2 + 50 + 12 + 25 = 82, Sxx = 17.5 -> 4.6857.
        assert!((ols(&pts).expect("fit").slope - 82.0 / 17.5).abs() < 1e-12);
    }

    #[test]
    fn rolling_windows_by_hand() {
        let v = [1.0, 2.0, 3.0, 10.0];
        assert_eq!(rolling(&v, 3, RollingStat::Mean), vec![None, None, Some(2.0), Some(5.0)]);
        assert_eq!(rolling(&v, 3, RollingStat::Median), vec![None, None, Some(2.0), Some(3.0)]);
        assert_eq!(rolling(&v, 2, RollingStat::StdDev)[1], Some(0.5f64.sqrt()));
        assert_eq!(rolling(&v, 0, RollingStat::Mean), vec![None; 4]);
    }

    #[test]
    fn classification_follows_the_rule() {
        let rising: Vec<f64> = (0..30).map(|i| 100.0 + i as f64 + if i % 2 == 0 { 0.5 } else { -0.5 }).collect();
        assert_eq!(classify_trend(&daily(&rising), TrendRule::default()).direction, TrendDirection::Rising);
        let falling: Vec<f64> = rising.iter().rev().copied().collect();
        assert_eq!(classify_trend(&daily(&falling), TrendRule::default()).direction, TrendDirection::Falling);
        // Alternating noise around a constant: no significant slope.
        let flat: Vec<f64> = (0..30).map(|i| if i % 2 == 0 { 101.0 } else { 99.0 }).collect();
        assert_eq!(classify_trend(&daily(&flat), TrendRule::default()).direction, TrendDirection::Flat);
        // Significant but tiny (0.29 over 29 days on a level of 1000 = 0.03 %): flat by the move rule.
        let tiny: Vec<f64> = (0..30).map(|i| 1000.0 + 0.01 * i as f64).collect();
        assert_eq!(classify_trend(&daily(&tiny), TrendRule::default()).direction, TrendDirection::Flat);
        // Too short.
        assert_eq!(classify_trend(&daily(&[1.0, 2.0, 3.0]), TrendRule::default()).direction, TrendDirection::Flat);
    }

    proptest! {
        #[test]
        fn scaling_a_series_scales_both_slopes(
            ys in proptest::collection::vec(-1e3f64..1e3, 3..30),
            k in -50f64..50.0,
        ) {
            let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, y)| (i as f64, *y)).collect();
            let scaled: Vec<(f64, f64)> = pts.iter().map(|(x, y)| (*x, y * k)).collect();
            let (a, b) = (ols(&pts).expect("fit"), ols(&scaled).expect("fit"));
            prop_assert!((b.slope - k * a.slope).abs() <= 1e-6 * (1.0 + (k * a.slope).abs()));
            let (ta, tb) = (theil_sen(&pts).expect("ts"), theil_sen(&scaled).expect("ts"));
            prop_assert!((tb - k * ta).abs() <= 1e-6 * (1.0 + (k * ta).abs()));
        }
    }
}
