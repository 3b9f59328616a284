//! Per-point anomaly indicators (robust z, residual z after weekly seasonality and trend,
//! volatility, slope change) combined into a severity with an explanation a person can check.

use serde::{Deserialize, Serialize};

use std::collections::VecDeque;

use super::stats::{invert_tail, median_in_place, normal_two_sided_tail, student_t_two_sided_tail, MAD_TO_SIGMA};
use super::DailyValue;
pub use crate::domain::measure::{LevelShift, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    RobustZ,
    ResidualZ,
    Volatility,
    SlopeChange,
    /// A sustained change of level, reported once on its first day (see [`Cusum`]).
    LevelShift,
}

/// Thresholds and windows; the defaults follow the seeds' anomaly loop. `Leptos.toml`'s
/// `[analytics.anomaly]` section overrides them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyConfig {
    /// Days of history before a point that form its baseline.
    pub baseline_days: usize,
    /// No score with fewer history values than this.
    pub min_history: usize,
    /// Season length in days (7: weekly).
    pub season: usize,
    /// A series scan refits its weekly profile and scales every this many days (1: before every
    /// point); the trend line still moves with every day. Points of one block share the profile
    /// fitted on the days before the block, so a multi-day incident is judged against the days
    /// before it began. 14 makes a 730-day scan about five times cheaper with the same precision
    /// on the demo data (tests/integration/detection.rs).
    pub rebaseline_days: usize,
    pub info_z: f64,
    pub warning_z: f64,
    pub critical_z: f64,
    /// Recent 7-day standard deviation over the baseline's: at or above this, volatility fires.
    pub volatility_ratio: f64,
    /// Change of the 14-day slope against the baseline slope, per day relative to the level.
    pub slope_change: f64,
    /// CUSUM reference value k, in residual z: days beyond ±k push the sums (see [`Cusum`]).
    pub shift_reference: f64,
    /// CUSUM decision threshold h: a sum reaching it confirms a level shift.
    pub shift_threshold: f64,
    /// A shift is confirmed no sooner than this many days after it began, so a short incident
    /// (an outage of a few days that ends) stays a set of flagged days, not two shifts.
    pub shift_confirm_days: usize,
    /// Widen the prediction scale of series whose residuals have heavy tails (see [`TailPool`]):
    /// on the labelled set it cuts Student-t false warnings by 30 % at the same recall goal
    /// (README, "How the analytics decide").
    pub heavy_tails: bool,
    /// With `heavy_tails`, how many times the Gaussian warning rate heavy-tailed noise may still
    /// raise: 1 widens the scale until a warning is as rare as on Gaussian noise, which also
    /// hides real spikes of 5 SD; a little more keeps them.
    pub tail_allowance: f64,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        Self {
            baseline_days: 56,
            min_history: 28,
            season: 7,
            rebaseline_days: 14,
            info_z: 2.5,
            warning_z: 3.5,
            critical_z: 5.0,
            volatility_ratio: 2.5,
            slope_change: 0.02,
            shift_reference: 1.0,
            shift_threshold: 5.0,
            shift_confirm_days: 5,
            heavy_tails: true,
            tail_allowance: 6.0,
        }
    }
}

impl AnomalyConfig {
    /// Checks the relations the scorer relies on; the message names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        if self.season == 0 || self.rebaseline_days == 0 {
            return Err("`season` and `rebaseline_days` must be at least 1".into());
        }
        if self.min_history < 2 * self.season.max(2) || self.min_history > self.baseline_days {
            return Err(format!(
                "`min_history` = {} must be between two seasons ({}) and `baseline_days` ({})",
                self.min_history,
                2 * self.season.max(2),
                self.baseline_days
            ));
        }
        let z = [self.info_z, self.warning_z, self.critical_z];
        if z.iter().any(|v| !v.is_finite() || *v <= 0.0) || !(z[0] < z[1] && z[1] < z[2]) {
            return Err(format!(
                "thresholds must be positive and rising: info_z ({}) < warning_z ({}) < critical_z ({})",
                z[0], z[1], z[2]
            ));
        }
        if !(self.volatility_ratio > 1.0 && self.slope_change > 0.0) {
            return Err("`volatility_ratio` must be above 1 and `slope_change` above 0".into());
        }
        if !(self.tail_allowance.is_finite() && self.tail_allowance >= 1.0) {
            return Err(format!("`tail_allowance` ({}) must be at least 1", self.tail_allowance));
        }
        if !(self.shift_reference.is_finite() && self.shift_reference >= 0.0 && self.shift_threshold.is_finite() && self.shift_threshold > 0.0) || self.shift_confirm_days == 0 {
            return Err(format!(
                "`shift_reference` ({}) must be at least 0, `shift_threshold` ({}) above 0 and `shift_confirm_days` at least 1",
                self.shift_reference, self.shift_threshold
            ));
        }
        Ok(())
    }

    fn severity(&self, score: Option<f64>) -> Option<Severity> {
        let z = score?.abs();
        if z >= self.critical_z {
            Some(Severity::Critical)
        } else if z >= self.warning_z {
            Some(Severity::Warning)
        } else if z >= self.info_z {
            Some(Severity::Info)
        } else {
            None
        }
    }
}

/// The indicators that fired for a point; serialised as a list of names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fired(u8);

impl Fired {
    const ALL: [Indicator; 5] = [Indicator::RobustZ, Indicator::ResidualZ, Indicator::Volatility, Indicator::SlopeChange, Indicator::LevelShift];

    fn bit(indicator: Indicator) -> u8 {
        1 << Self::ALL.iter().position(|i| *i == indicator).unwrap_or_default()
    }
    pub fn insert(&mut self, indicator: Indicator) {
        self.0 |= Self::bit(indicator);
    }
    pub fn contains(&self, indicator: &Indicator) -> bool {
        self.0 & Self::bit(*indicator) != 0
    }
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    pub fn iter(&self) -> impl Iterator<Item = Indicator> + '_ {
        Self::ALL.into_iter().filter(|i| self.contains(i))
    }
}

impl Serialize for Fired {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Fired {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = Vec::<Indicator>::deserialize(deserializer)?;
        let mut fired = Fired::default();
        list.into_iter().for_each(|i| fired.insert(i));
        Ok(fired)
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
    pub fired: Fired,
    /// Set on the first day of a confirmed level shift; the days after it are judged against the new level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_shift: Option<LevelShift>,
}


/// Two-sided tabular CUSUM over residual z (Page 1954), each z clipped to ±[`SHIFT_CLIP`] so one
/// spike cannot pass for a shift:
/// S⁺ₜ = max(0, S⁺ₜ₋₁ + zₜ − k), S⁻ₜ = max(0, S⁻ₜ₋₁ − zₜ − k).
/// A sum that reaches h, at least `shift_confirm_days` days after it last left 0, confirms a shift
/// that began on the first day of that excursion. With k = 1 and h = 5 a 3σ step is confirmed on
/// its fifth day, a 2σ step in about six, while Gaussian noise needs of the order of 10⁵ days
/// for a false alarm (Siegmund's approximation).
#[derive(Debug, Clone, Copy, Default)]
struct Cusum {
    up: f64,
    down: f64,
    up_start: usize,
    down_start: usize,
    /// Consecutive days, up to today, that pushed each sum.
    up_run: usize,
    down_run: usize,
}

/// Residual z beyond this counts as this much toward a shift.
const SHIFT_CLIP: f64 = 3.0;

impl Cusum {
    /// Adds day `i`'s residual z; returns the first day of a confirmed shift.
    fn push(&mut self, i: usize, z: f64, config: &AnomalyConfig) -> Option<usize> {
        let z = z.clamp(-SHIFT_CLIP, SHIFT_CLIP);
        if self.up == 0.0 {
            self.up_start = i;
        }
        if self.down == 0.0 {
            self.down_start = i;
        }
        self.up = (self.up + z - config.shift_reference).max(0.0);
        self.down = (self.down - z - config.shift_reference).max(0.0);
        self.up_run = if z > config.shift_reference { self.up_run + 1 } else { 0 };
        self.down_run = if -z > config.shift_reference { self.down_run + 1 } else { 0 };
        // The last two days must still push the sum: an outage that ended is not a new level.
        let confirmed = |sum: f64, start: usize, run: usize| sum >= config.shift_threshold && i + 1 - start >= config.shift_confirm_days && run >= 2;
        if confirmed(self.up, self.up_start, self.up_run) {
            Some(self.up_start)
        } else if confirmed(self.down, self.down_start, self.down_run) {
            Some(self.down_start)
        } else {
            None
        }
    }
}

/// Heavy tails. The residual scale is fitted on the body of 56 days, which says nothing about how
/// often the noise goes far out: Student-t noise with 5 degrees of freedom crosses 3.5 standard
/// deviations about 13 times as often as Gaussian noise. So a scan also keeps the raw |z| of the
/// last [`TAIL_POOL`] days it scored and, at each refit, reads their tail weight
/// r = Q₀.₉₇₅(|z|) / Q₀.₅(|z|) (3.32 for Gaussian noise). The heaviest t in [`TAIL_TABLE`] whose
/// ratio r reaches stands for the noise; the scale is then widened by
/// f = max(1, t*ᵥ · Q₀.₅(|z|) / (Q₀.₅(|Tᵥ|) · warning_z)), t*ᵥ the t quantile with the Gaussian
/// tail probability of `warning_z`, so a warning is as rare on that noise as on Gaussian noise.
/// r below every entry (Gaussian, or too little evidence) leaves the scale alone.
#[derive(Debug, Default)]
struct TailPool {
    /// (day, raw |z|), oldest first.
    recent: VecDeque<(usize, f64)>,
    buffer: Vec<f64>,
    /// t*ᵥ for each table entry, computed on first use.
    thresholds: [Option<f64>; TAIL_TABLE.len()],
    /// The last factor and how many days were added since: two selections over a year of days
    /// are the costliest step of a scan, and the tail weight moves slowly.
    factor: f64,
    added: usize,
}

/// Days of raw |z| a scan reads its tail weight from, and the fewest it needs to read it.
const TAIL_POOL: usize = 364;
const TAIL_MIN: usize = 28;
const TAIL_REFRESH: usize = 28;

/// (ν, Q₀.₉₇₅(|Tᵥ|) / Q₀.₅(|Tᵥ|), Q₀.₅(|Tᵥ|)), heaviest first; checked against the t
/// distribution in the tests. Lighter t than ν = 8 are not told apart from Gaussian noise with a
/// year of days (r's sampling error is about ±0.3).
const TAIL_TABLE: [(u32, f64, f64); 5] = [(3, 5.4603, 0.76489), (4, 4.7191, 0.74070), (5, 4.3532, 0.72669), (6, 4.1372, 0.71756), (8, 3.8952, 0.70639)];

impl TailPool {
    fn push(&mut self, day: usize, raw_z: f64) {
        if self.recent.len() == TAIL_POOL {
            self.recent.pop_front();
        }
        self.recent.push_back((day, raw_z.abs()));
        self.added += 1;
    }

    /// Forgets the days from `day` on: they are scored again after a level shift.
    fn rewind(&mut self, day: usize) {
        while self.recent.back().is_some_and(|(d, _)| *d >= day) {
            self.recent.pop_back();
        }
    }

    /// The factor f the prediction scale is widened by (1: no evidence of heavy tails), read
    /// again once [`TAIL_REFRESH`] days were added since the last reading.
    fn factor(&mut self, config: &AnomalyConfig) -> f64 {
        if self.factor == 0.0 || self.added >= TAIL_REFRESH {
            self.factor = self.read(config);
            self.added = 0;
        }
        self.factor
    }

    fn read(&mut self, config: &AnomalyConfig) -> f64 {
        let n = self.recent.len();
        if n < TAIL_MIN {
            return 1.0;
        }
        self.buffer.clear();
        self.buffer.extend(self.recent.iter().map(|(_, z)| *z));
        let (_, high, _) = self.buffer.select_nth_unstable_by((n * 39).div_ceil(40) - 1, f64::total_cmp);
        let high = *high;
        let Some(middle) = median_in_place(&mut self.buffer).filter(|m| *m > 0.0) else { return 1.0 };
        let ratio = high / middle;
        let Some(entry) = TAIL_TABLE.iter().position(|(_, r, _)| ratio >= *r) else { return 1.0 };
        let (nu, _, t_median) = TAIL_TABLE[entry];
        let p = normal_two_sided_tail(config.warning_z) * config.tail_allowance;
        let t_star = *self.thresholds[entry].get_or_insert_with(|| invert_tail(|t| student_t_two_sided_tail(t, nu), p));
        (t_star * middle / (t_median * config.warning_z)).max(1.0)
    }
}

/// What the history before a point says to expect, fitted once and reused for a block of points.
///
/// level = median(history); robust scale = 1.4826 · MAD(history);
/// profile[phase] = median(history on that weekday) − level;
/// trend = OLS of (history − profile), clipped to level ± 3 robust scales so one outlier cannot tilt it,
/// refitted for every point over the days just before it (see [`TrendWindow`]);
/// expected(i) = profile[i mod season] + trend(i);
/// residual scale = winsorised standard deviation of (history − fit) at 2.5 MAD-scales
/// (1.2533 · mean |deviation| when the MAD is 0).
///
/// The residual z divides by the *prediction* error of day i, not the in-sample spread:
/// scale(i) = residual scale · √(k / (k − 1)) · √(1 + 1/n + (i − x̄)² / Sxx + π / (2k)),
/// with n history days, k days per weekday (the profile medians' own error is π/2 · σ²/k) and the
/// usual OLS extrapolation term. Integer-valued series (counts) get at least the Poisson
/// √expected, so 5 tickets instead of 2 is not "critical".
#[derive(Debug, Clone)]
struct Baseline {
    level: f64,
    robust_scale: Option<f64>,
    profile: Vec<f64>,
    /// Deseasonalised values are clipped to this range before any trend fit.
    clip: (f64, f64),
    residual_scale: Option<f64>,
    history_std: Option<f64>,
    per_phase: f64,
    integer_valued: bool,
    baseline_days: usize,
    /// The heavy-tail widening of the prediction scale (see [`TailPool`]); 1 by default.
    tail_factor: f64,
    /// The small-sample widening: t quantile / Gaussian quantile at the warning tail (see fit).
    sample_factor: f64,
}

/// OLS over the clipped, deseasonalised values of the `baseline_days` before a point, kept as
/// running sums so a scan moves it one day in O(1): the level then follows the data day by day
/// (a yearly wave bends away from a line fitted weeks earlier) while the costlier parts of the
/// baseline are refitted once a block.
#[derive(Debug, Clone, Copy)]
struct TrendWindow {
    origin: f64,
    n: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
}

/// A fitted local line: y = intercept + slope · (i − origin), with what prediction error needs.
#[derive(Debug, Clone, Copy)]
struct LocalTrend {
    origin: f64,
    slope: f64,
    intercept: f64,
    n: f64,
    x_mean: f64,
    sxx: f64,
}

impl TrendWindow {
    fn over(values: &[Option<f64>], end: usize, baseline: &Baseline) -> TrendWindow {
        let mut w = TrendWindow { origin: end as f64, n: 0.0, sx: 0.0, sy: 0.0, sxx: 0.0, sxy: 0.0 };
        for i in end.saturating_sub(baseline.baseline_days)..end.min(values.len()) {
            w.update(values, i, baseline, 1.0);
        }
        w
    }

    /// Adds (`sign` = 1) or removes (−1) day `i`.
    fn update(&mut self, values: &[Option<f64>], i: usize, baseline: &Baseline, sign: f64) {
        if let Some(v) = values[i] {
            let x = i as f64 - self.origin;
            let y = (v - baseline.profile[i % baseline.profile.len()]).clamp(baseline.clip.0, baseline.clip.1);
            self.n += sign;
            self.sx += sign * x;
            self.sy += sign * y;
            self.sxx += sign * x * x;
            self.sxy += sign * x * y;
        }
    }

    /// Moves the window from ending at `end − 1` to ending at `end`.
    fn advance(&mut self, values: &[Option<f64>], end: usize, baseline: &Baseline) {
        self.update(values, end - 1, baseline, 1.0);
        if let Some(gone) = (end - 1).checked_sub(baseline.baseline_days) {
            self.update(values, gone, baseline, -1.0);
        }
    }

    fn fit(&self) -> Option<LocalTrend> {
        if self.n < 2.0 {
            return None;
        }
        let x_mean = self.sx / self.n;
        let sxx = self.sxx - self.sx * x_mean;
        if sxx <= 0.0 {
            return None;
        }
        let slope = (self.sxy - self.sx * self.sy / self.n) / sxx;
        let intercept = self.sy / self.n - slope * x_mean;
        Some(LocalTrend { origin: self.origin, slope, intercept, n: self.n, x_mean, sxx })
    }
}

/// Reused buffers, so a scan allocates per series, not per point.
#[derive(Default)]
struct Scratch {
    history: Vec<(usize, f64)>,
    buffer: Vec<f64>,
    deviations: Vec<f64>,
    points: Vec<(f64, f64)>,
    phases: Vec<Vec<f64>>,
    /// [`small_sample_factor`] by history length (0: not computed yet); a scan has one config,
    /// and inverting the t tail at every refit would cost as much as the fit's medians.
    sample_factors: Vec<f64>,
}

impl Scratch {
    fn sample_factor(&mut self, n: usize, config: &AnomalyConfig) -> f64 {
        if self.sample_factors.len() <= n {
            self.sample_factors.resize(n + 1, 0.0);
        }
        if self.sample_factors[n] == 0.0 {
            self.sample_factors[n] = small_sample_factor(n, config.season.max(1), config.warning_z);
        }
        self.sample_factors[n]
    }
}

impl Baseline {
    /// Fits on the non-missing values in `[end − baseline_days, end)`; `None` below `min_history`.
    fn fit(values: &[Option<f64>], end: usize, config: &AnomalyConfig, scratch: &mut Scratch) -> Option<Baseline> {
        let start = end.saturating_sub(config.baseline_days);
        scratch.history.clear();
        scratch.history.extend((start..end.min(values.len())).filter_map(|i| values[i].map(|v| (i, v))));
        if scratch.history.len() < config.min_history.max(3) {
            return None;
        }
        let history = &scratch.history;
        let buffer = &mut scratch.buffer;
        buffer.clear();
        buffer.extend(history.iter().map(|p| p.1));
        let history_std = std_dev_iter(buffer.iter().copied());
        let integer_valued = buffer.iter().all(|v| v.fract() == 0.0);
        let level = median_in_place(buffer)?;
        let robust_scale = scaled_mad(buffer, level, &mut scratch.deviations);

        let season = config.season.max(1);
        scratch.phases.resize_with(season, Vec::new);
        scratch.phases.iter_mut().for_each(Vec::clear);
        for (i, v) in history {
            scratch.phases[i % season].push(*v);
        }
        let profile: Vec<f64> = scratch.phases.iter_mut().map(|same| median_in_place(same).map_or(0.0, |m| m - level)).collect();
        scratch.points.clear();
        scratch.points.extend(history.iter().map(|(i, v)| (*i as f64, v - profile[i % season])));
        // The raw robust scale also holds the weekly swing, so this clip is loose: it only tames
        // outliers, which is all the trend fit needs (and saves two medians per fit).
        let clip = match robust_scale {
            Some(spread) => (level - 3.0 * spread, level + 3.0 * spread),
            None => (f64::NEG_INFINITY, f64::INFINITY),
        };
        scratch.points.iter_mut().for_each(|p| p.1 = p.1.clamp(clip.0, clip.1));
        let n = scratch.points.len() as f64;
        let trend = {
            let x_mean = scratch.points.iter().map(|p| p.0).sum::<f64>() / n;
            let y_mean = scratch.points.iter().map(|p| p.1).sum::<f64>() / n;
            let (sxx, sxy) = scratch.points.iter().fold((0.0, 0.0), |(sxx, sxy), (x, y)| {
                (sxx + (x - x_mean) * (x - x_mean), sxy + (x - x_mean) * (y - y_mean))
            });
            (sxx > 0.0).then(|| (sxy / sxx, y_mean - sxy / sxx * x_mean))
        };

        buffer.clear();
        buffer.extend(history.iter().map(|(i, v)| {
            let deseasonalised = v - profile[i % season];
            match trend {
                Some((slope, intercept)) => deseasonalised - intercept - slope * *i as f64,
                None => deseasonalised - level,
            }
        }));
        // OLS residuals are centred by construction, so their spread is measured around 0.
        let residual_scale = match scaled_mad(buffer, 0.0, &mut scratch.deviations) {
            Some(mad_scale) => winsorised_scale(buffer, 0.0, mad_scale),
            None => {
                let mean_abs = buffer.iter().map(|r| r.abs()).sum::<f64>() / n;
                Some(mean_abs * MEAN_AD_TO_SIGMA).filter(|s| *s > 0.0)
            }
        };
        Some(Baseline {
            level,
            robust_scale,
            profile,
            clip,
            residual_scale,
            history_std,
            per_phase: n / season as f64,
            integer_valued,
            baseline_days: config.baseline_days,
            tail_factor: 1.0,
            sample_factor: scratch.sample_factor(n as usize, config),
        })
    }

    fn expected(&self, index: usize, trend: Option<&LocalTrend>) -> f64 {
        self.profile[index % self.profile.len()]
            + trend.map_or(self.level, |t| t.intercept + t.slope * (index as f64 - t.origin))
    }

    /// The standard deviation of day `index`'s prediction error (see the type's doc).
    fn prediction_scale(&self, index: usize, expected: f64, trend: Option<&LocalTrend>) -> Option<f64> {
        let k = self.per_phase.max(2.0);
        let extrapolation = trend.map_or(0.0, |t| {
            let x = index as f64 - t.origin - t.x_mean;
            1.0 / t.n + x * x / t.sxx
        });
        let leverage = 1.0 + extrapolation + std::f64::consts::FRAC_PI_2 / k;
        let scale = self.residual_scale.unwrap_or(0.0) * (k / (k - 1.0)).sqrt() * leverage.sqrt();
        let scale = if self.integer_valued { scale.max(expected.abs().max(1.0).sqrt()) } else { scale };
        let scale = scale * self.tail_factor * self.sample_factor;
        (scale > 0.0).then_some(scale)
    }

    fn score(
        &self,
        first: chrono::NaiveDate,
        values: &[Option<f64>],
        index: usize,
        trend: Option<&LocalTrend>,
        config: &AnomalyConfig,
    ) -> Option<AnomalyScore> {
        let observed = (*values.get(index)?)?;
        if !observed.is_finite() {
            return None;
        }
        let expected = self.expected(index, trend);
        let robust_z = self.robust_scale.map(|s| (observed - self.level) / s);
        let prediction_scale = self.prediction_scale(index, expected, trend);
        let residual_z = prediction_scale.map(|s| (observed - expected) / s);
        let band = prediction_scale.or(self.robust_scale).unwrap_or(0.0) * config.warning_z;

        let recent = values[index.saturating_sub(6)..=index].iter().flatten().copied();
        let volatility_ratio = match (std_dev_iter(recent), self.history_std) {
            (Some(r), Some(h)) if h > 0.0 => Some(r / h),
            _ => None,
        };
        let slope_change = match (recent_slope(values, index), trend) {
            (Some(r), Some(b)) if self.level != 0.0 => Some((r - b.slope) / self.level.abs()),
            _ => None,
        };

        let score = residual_z.or(robust_z);
        let mut fired = Fired::default();
        if robust_z.is_some_and(|z| z.abs() >= config.warning_z) {
            fired.insert(Indicator::RobustZ);
        }
        if residual_z.is_some_and(|z| z.abs() >= config.warning_z) {
            fired.insert(Indicator::ResidualZ);
        }
        if volatility_ratio.is_some_and(|r| r >= config.volatility_ratio) {
            fired.insert(Indicator::Volatility);
        }
        if slope_change.is_some_and(|s| s.abs() >= config.slope_change) {
            fired.insert(Indicator::SlopeChange);
        }
        Some(AnomalyScore {
            date: first + chrono::Duration::days(index as i64),
            observed,
            expected,
            band_low: expected - band,
            band_high: expected + band,
            robust_z,
            residual_z,
            volatility_ratio,
            slope_change,
            score,
            severity: config.severity(score),
            fired,
            level_shift: None,
        })
    }
}

/// A residual divided by a scale estimated from n days follows Student's t with n − p degrees
/// of freedom (p: a median per weekday and a line), not the normal distribution: with 28 days a
/// 3.5 "σ" day is about five times as common as the normal tail says. The scale is widened by
/// t*(n − p) / z_w, t* the t quantile with the normal tail probability of the warning threshold
/// z_w, so a warning is as rare with a short history as with a long one (1.21 at 28 days, 1.08 at
/// 56).
fn small_sample_factor(n: usize, season: usize, warning_z: f64) -> f64 {
    let df = n.saturating_sub(season + 2).max(1) as u32;
    let p = normal_two_sided_tail(warning_z);
    (invert_tail(|t| student_t_two_sided_tail(t, df), p) / warning_z).max(1.0)
}

/// Winsorising at 2.5 σ: for normal data E[min(Z², 2.5²)] = 0.97756.
const WINSOR_C: f64 = 2.5;
const WINSOR_CONSISTENCY: f64 = 0.97756;

/// √(mean(min(r², (2.5·s₀)²)) / 0.97756) around `centre`, with s₀ the MAD scale: as robust to a
/// few outliers as the MAD but about twice as efficient, so 56 days give a steadier z.
fn winsorised_scale(residuals: &[f64], centre: f64, mad_scale: f64) -> Option<f64> {
    let cap = (WINSOR_C * mad_scale).powi(2);
    let mean_square = residuals.iter().map(|r| (r - centre).powi(2).min(cap)).sum::<f64>() / residuals.len() as f64;
    Some((mean_square / WINSOR_CONSISTENCY).sqrt()).filter(|s| *s > 0.0)
}

/// Scales the mean absolute deviation to σ for normal data (√(π/2)).
const MEAN_AD_TO_SIGMA: f64 = 1.2533;

/// 1.4826 · median(|x − centre|), `None` when it is zero (no spread).
fn scaled_mad(values: &[f64], centre: f64, deviations: &mut Vec<f64>) -> Option<f64> {
    deviations.clear();
    deviations.extend(values.iter().map(|v| (v - centre).abs()));
    median_in_place(deviations).map(|m| m * MAD_TO_SIGMA).filter(|s| *s > 0.0)
}

/// Sample standard deviation without collecting; shifted by the first value so the one-pass
/// sums do not cancel on large levels.
fn std_dev_iter(mut values: impl Iterator<Item = f64>) -> Option<f64> {
    let shift = values.next()?;
    let (mut n, mut sum, mut sum_sq) = (1.0, 0.0, 0.0);
    for v in values {
        let d = v - shift;
        n += 1.0;
        sum += d;
        sum_sq += d * d;
    }
    (n >= 2.0).then(|| ((sum_sq - sum * sum / n).max(0.0) / (n - 1.0)).sqrt())
}

/// OLS slope of the 14 days ending at `index` (missing days skipped).
fn recent_slope(values: &[Option<f64>], index: usize) -> Option<f64> {
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let from = index.saturating_sub(13);
    for (i, value) in values.iter().enumerate().take(index + 1).skip(from) {
        if let Some(y) = *value {
            let x = i as f64;
            n += 1.0;
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
    }
    let denominator = n * sxx - sx * sx;
    (n >= 2.0 && denominator > 0.0).then(|| (n * sxy - sx * sy) / denominator)
}

/// Scores point `index` of a series of consecutive days (`values[i]` is day i; `None` = no data)
/// against the `baseline_days` just before it. `None` when the point or its history is missing.
pub fn score_point(dates_from: chrono::NaiveDate, values: &[Option<f64>], index: usize, config: &AnomalyConfig) -> Option<AnomalyScore> {
    let baseline = Baseline::fit(values, index, config, &mut Scratch::default())?;
    let trend = TrendWindow::over(values, index, &baseline).fit();
    baseline.score(dates_from, values, index, trend.as_ref(), config)
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

/// Scores every point of a dense series that has enough history, refitting the baseline every
/// `rebaseline_days` (see [`AnomalyConfig::rebaseline_days`]). When the [`Cusum`] confirms a level
/// shift, its first day becomes one `level_shift` score, the history before it is moved by the
/// step, and the scan resumes the day after: later days are judged against the new level, so a
/// spike after a shift is still a spike and the new level itself is not flagged for weeks.
pub fn scan_dense(first: chrono::NaiveDate, values: &[Option<f64>], config: &AnomalyConfig) -> Vec<AnomalyScore> {
    let mut adjusted = values.to_vec();
    let mut scratch = Scratch::default();
    let mut scores: Vec<AnomalyScore> = Vec::with_capacity(values.len());
    let step = config.rebaseline_days.max(1);
    let mut cusum = Cusum::default();
    let mut tails = TailPool::default();
    let mut open: Option<OpenShift> = None;
    let mut block_start = 0;
    'blocks: while block_start < values.len() {
        let mut block_end = (block_start + step).min(values.len());
        if let Some(shift) = open.as_ref().filter(|o| block_start > o.start + 1) {
            shift.remeasure(&mut adjusted, &mut scores, block_start);
        }
        open = open.filter(|o| block_start < o.start + REMEASURE_DAYS);
        if open.is_some() {
            block_end = (block_start + REMEASURE_BLOCK).min(values.len());
        }
        match Baseline::fit(&adjusted, block_start, config, &mut scratch) {
            Some(mut baseline) => {
                baseline.tail_factor = if config.heavy_tails { tails.factor(config) } else { 1.0 };
                let mut window = TrendWindow::over(&adjusted, block_start, &baseline);
                for i in block_start..block_end {
                    if i > block_start {
                        window.advance(&adjusted, i, &baseline);
                    }
                    let Some(score) = baseline.score(first, &adjusted, i, window.fit().as_ref(), config) else { continue };
                    // Both read the day's z without the tail widening.
                    let shift_start = score.residual_z.map(|z| z * baseline.tail_factor).and_then(|raw| {
                        tails.push(i, raw);
                        cusum.push(i, raw, config)
                    });
                    scores.push(score);
                    pair_with_previous(&mut scores, config);
                    let Some(start) = shift_start.map(|start| refine_start(first, &scores, start)) else { continue };
                    if let Some((shift, measured)) = absorb_shift(first, &mut adjusted, (start, i), config, &mut scratch) {
                        scores.truncate(scores.partition_point(|s| s.date < shift.date));
                        tails.rewind(start);
                        scores.push(shift);
                        open = Some(measured);
                        cusum = Cusum::default();
                        block_start = start + 1;
                        continue 'blocks;
                    }
                }
            }
            // Not enough history yet: try again one day later rather than a whole block later.
            None => block_end = block_start + 1,
        }
        block_start = block_end;
    }
    scores
}

/// Two days in a row that both lean the same way beyond `info_z` (a broken weekend, a two-day
/// outage) are judged together as well: their mean residual, z₂ = (z₁ + z₂)/√2, is as rare as
/// one day's z on Gaussian noise, and two independent tail days in a row are rarer still on
/// heavy-tailed noise. Each gets the pair's severity when that is higher than its own.
fn pair_with_previous(scores: &mut [AnomalyScore], config: &AnomalyConfig) {
    let [.., before, last] = scores else { return };
    if (last.date - before.date).num_days() != 1 || before.level_shift.is_some() {
        return;
    }
    let (Some(a), Some(b)) = (before.residual_z, last.residual_z) else { return };
    if a.signum() != b.signum() || a.abs() < config.info_z || b.abs() < config.info_z {
        return;
    }
    let joint = config.severity(Some((a + b) / std::f64::consts::SQRT_2));
    for day in [before, last] {
        day.severity = day.severity.max(joint);
    }
}

/// The CUSUM dates a shift from the day its sum last left 0, which a noisy day just before the
/// step can pull a day early. Of the excursion's first three days, the start is the one from which
/// |Σ z| / √days to the confirmation is largest: the likeliest split of a step. The z are read as
/// they are: the CUSUM's clip would let two noisy days outweigh a large step's first days.
fn refine_start(first: chrono::NaiveDate, scores: &[AnomalyScore], start: usize) -> usize {
    let day_of = |s: &AnomalyScore| (s.date - first).num_days() as usize;
    let from = scores.partition_point(|s| day_of(s) < start);
    let run: Vec<(usize, f64)> = scores[from..].iter().filter_map(|s| Some((day_of(s), s.residual_z?))).collect();
    let strength = |k: usize| run[k..].iter().map(|(_, z)| z).sum::<f64>().abs() / ((run.len() - k) as f64).sqrt();
    (0..run.len().min(3)).max_by(|a, b| strength(*a).total_cmp(&strength(*b))).map_or(start, |k| run[k].0)
}

/// Measures the shift that began on day `days.0` and was confirmed on `days.1` against the
/// history before it, moves that history by the step, and returns the shift's score: a warning
/// from a step of `info_z` prediction scales (a confirmed shift is sustained, so it weighs more than
/// one day of that size), critical from `critical_z`, info below `info_z`.
fn absorb_shift(
    first: chrono::NaiveDate,
    adjusted: &mut [Option<f64>],
    (start, confirmed): (usize, usize),
    config: &AnomalyConfig,
    scratch: &mut Scratch,
) -> Option<(AnomalyScore, OpenShift)> {
    let mut baseline = Baseline::fit(adjusted, start, config, scratch)?;
    // A step is measured from days, not judged as one day against a tail: neither widening applies
    // (a fit's tail factor is 1).
    baseline.sample_factor = 1.0;
    let trend = TrendWindow::over(adjusted, start, &baseline).fit();
    let open = OpenShift { start, before: adjusted[..start].to_vec(), trend, baseline };
    let (baseline, trend) = (&open.baseline, open.trend);
    let mut score = baseline.score(first, adjusted, start, trend.as_ref(), config)?;
    let step = open.apply(adjusted, confirmed + 1, score.expected)?;
    let step_z = baseline.prediction_scale(start, score.expected, trend.as_ref()).map(|s| step / s);
    score.score = step_z.or(score.score);
    // A sustained step is worth a warning once it is as large as an info-level single day; a
    // smaller one is still absorbed (the days after it are not flagged) but only noted as info.
    score.severity = config.severity(step_z).max(Some(if step_z.is_some_and(|z| z.abs() >= config.info_z) { Severity::Warning } else { Severity::Info }));
    score.fired.insert(Indicator::LevelShift);
    score.level_shift = Some(LevelShift { step, from: score.expected, to: score.expected + step });
    Some((score, open))
}

/// Days after a shift during which its step is measured again at every refit, and how often.
const REMEASURE_DAYS: usize = 29;
const REMEASURE_BLOCK: usize = 7;

/// A confirmed shift whose step is still being measured: five days are enough to confirm a step
/// but not to size it to a fraction of the noise, and a step measured a little off leaves the
/// history before it off by as much, which the next weeks' tight scale then flags. So for four
/// weeks each refit measures the step again from every day since the shift, against what the
/// history before it expected, and moves that history (and the reported step) to match.
#[derive(Debug, Clone)]
struct OpenShift {
    start: usize,
    /// The history before the shift as it was before the step was added.
    before: Vec<Option<f64>>,
    baseline: Baseline,
    trend: Option<LocalTrend>,
}

impl OpenShift {
    /// Measures the step from the days since the shift up to `end` against the old expectation
    /// E: either a constant step (the median of y − E) or, for a positive series, a ratio (the
    /// median of y / E), which also scales the weekly swing, as a 15 % lift of every day does.
    /// The one with the smaller sum of |residuals| moves the history before the shift; returns the
    /// step on a day expected at `reference`.
    fn apply(&self, adjusted: &mut [Option<f64>], end: usize, reference: f64) -> Option<f64> {
        let pairs: Vec<(f64, f64)> = (self.start..end.min(adjusted.len())).filter_map(|j| Some((adjusted[j]?, self.baseline.expected(j, self.trend.as_ref())))).collect();
        let step = median_in_place(&mut pairs.iter().map(|(y, e)| y - e).collect::<Vec<_>>())?;
        let ratio = pairs.iter().all(|(y, e)| *e > 0.0 && *y >= 0.0).then(|| median_in_place(&mut pairs.iter().map(|(y, e)| y / e).collect::<Vec<_>>())).flatten();
        let misfit = |f: &dyn Fn(f64) -> f64| pairs.iter().map(|(y, e)| (y - f(*e)).abs()).sum::<f64>();
        let scaled = ratio.filter(|r| misfit(&|e| e * r) < misfit(&|e| e + step));
        for (now, before) in adjusted[..self.start].iter_mut().zip(&self.before) {
            *now = before.map(|v| match scaled {
                Some(r) => v * r,
                None => v + step,
            });
        }
        Some(scaled.map_or(step, |r| reference * (r - 1.0)))
    }

    fn remeasure(&self, adjusted: &mut [Option<f64>], scores: &mut [AnomalyScore], end: usize) {
        let Some(shift) = scores.iter_mut().rev().find_map(|s| s.level_shift.as_mut()) else { return };
        if let Some(step) = self.apply(adjusted, end, shift.from) {
            shift.step = step;
            shift.to = shift.from + step;
        }
    }
}

/// Scores every point of a daily series that has enough history.
pub fn score_series(series: &[DailyValue], config: &AnomalyConfig) -> Vec<AnomalyScore> {
    match dense(series) {
        Some((first, values)) => scan_dense(first, &values, config),
        None => Vec::new(),
    }
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
    fn a_scan_refitting_every_day_equals_scoring_each_point() {
        let series = weekly(Some((60, 40.0)));
        let config = AnomalyConfig { rebaseline_days: 1, ..AnomalyConfig::default() };
        let (first, values) = dense(&series).expect("non-empty");
        let one_by_one: Vec<AnomalyScore> = (0..values.len()).filter_map(|i| score_point(first, &values, i, &config)).collect();
        assert_eq!(scan_dense(first, &values, &config), one_by_one);
    }

    #[test]
    fn a_weekly_baseline_still_finds_the_spike_and_every_point_is_scored() {
        let series = weekly(Some((66, 60.0)));
        let weekly_refit = score_series(&series, &AnomalyConfig::default());
        let daily_refit = score_series(&series, &AnomalyConfig { rebaseline_days: 1, ..AnomalyConfig::default() });
        assert_eq!(weekly_refit.len(), daily_refit.len());
        let flagged = |scores: &[AnomalyScore]| -> Vec<chrono::NaiveDate> {
            scores.iter().filter(|s| s.severity >= Some(Severity::Warning)).map(|s| s.date).collect()
        };
        assert_eq!(flagged(&weekly_refit), vec![day("2026-01-05") + chrono::Duration::days(66)]);
        assert_eq!(flagged(&weekly_refit), flagged(&daily_refit));
    }

    #[test]
    fn config_validation_names_the_problem() {
        assert_eq!(AnomalyConfig::default().validate(), Ok(()));
        let swapped = AnomalyConfig { warning_z: 6.0, ..AnomalyConfig::default() };
        assert!(swapped.validate().is_err_and(|m| m.contains("warning_z (6)")));
        let short = AnomalyConfig { min_history: 5, ..AnomalyConfig::default() };
        assert!(short.validate().is_err_and(|m| m.contains("min_history")));
    }

    #[test]
    fn fired_indicators_serialise_as_names() {
        let mut fired = Fired::default();
        fired.insert(Indicator::Volatility);
        fired.insert(Indicator::RobustZ);
        let json = serde_json::to_string(&fired).expect("serialises");
        assert_eq!(json, r#"["robust_z","volatility"]"#);
        assert_eq!(serde_json::from_str::<Fired>(&json).expect("parses"), fired);
    }

    #[test]
    fn a_constant_series_scores_without_nan() {
        let flat = |v: f64| -> Vec<DailyValue> { (0..40).map(|i| DailyValue::new(day("2026-01-01") + chrono::Duration::days(i), v)).collect() };
        for s in score_series(&flat(5.5), &AnomalyConfig::default()) {
            assert_eq!((s.robust_z, s.residual_z, s.score, s.severity), (None, None, None, None));
            assert!(s.expected.is_finite() && s.band_low.is_finite());
        }
        // A constant count keeps its Poisson scale √5: z is exactly 0, not "no spread".
        for s in score_series(&flat(5.0), &AnomalyConfig::default()) {
            assert_eq!((s.robust_z, s.residual_z, s.severity), (None, Some(0.0), None));
        }
    }

    #[test]
    fn small_counts_use_the_poisson_floor() {
        // Tickets at exactly 2 a day, then 5: the MAD is 0, but √(expected 2) = 1.41 bounds the
        // scale, so z = (5 − 2) / (1.41 · leverage ≥ 1) ≤ 2.2: not even info.
        let mut series: Vec<DailyValue> = (0..60).map(|i| DailyValue::new(day("2026-01-01") + chrono::Duration::days(i), 2.0)).collect();
        series.push(DailyValue::new(day("2026-01-01") + chrono::Duration::days(60), 5.0));
        let last = score_series(&series, &AnomalyConfig::default()).pop().expect("scored");
        assert!(last.residual_z.is_some_and(|z| z > 1.5 && z < 2.2), "{:?}", last.residual_z);
        assert_eq!(last.severity, None);
    }

    #[test]
    fn missing_days_are_skipped_not_zero() {
        let mut series = weekly(None);
        series.remove(50);
        let scores = score_series(&series, &AnomalyConfig::default());
        assert!(scores.iter().all(|s| s.date != day("2026-01-05") + chrono::Duration::days(50)));
        assert!(scores.iter().all(|s| s.severity < Some(Severity::Warning)), "a gap is not an anomaly");
    }

    /// 240 days: weekdays near 1,000, weekends 700, Gaussian-like noise of sd ≈ 20 from a fixed
    /// generator, `step` added from day 120 on and `spikes` added on their days.
    fn stepped(step: f64, spikes: &[(usize, f64)]) -> Vec<DailyValue> {
        let mut state: u64 = 42;
        let mut uniform = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        (0..240)
            .map(|i| {
                let noise = 20.0 * (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
                let base = if i % 7 >= 5 { 700.0 } else { 1000.0 } + if i >= 120 { step } else { 0.0 };
                let spike = spikes.iter().filter(|(d, _)| *d == i).map(|(_, v)| v).sum::<f64>();
                DailyValue::new(day("2026-01-05") + chrono::Duration::days(i as i64), base + noise + spike)
            })
            .collect()
    }

    /// Flagged days from day 110 on (day 99 is the noise generator's own 3.6σ draw).
    fn flagged(scores: &[AnomalyScore]) -> Vec<(i64, bool)> {
        scores
            .iter()
            .filter(|s| s.severity >= Some(Severity::Warning) && s.date >= day("2026-01-05") + chrono::Duration::days(110))
            .map(|s| ((s.date - day("2026-01-05")).num_days(), s.level_shift.is_some()))
            .collect()
    }

    #[test]
    fn a_level_shift_is_reported_once_and_later_days_are_judged_against_the_new_level() {
        let scores = score_series(&stepped(150.0, &[]), &AnomalyConfig::default());
        assert_eq!(flagged(&scores), vec![(120, true)], "one flag, the shift, on its first day");
        let shift = scores.iter().find_map(|s| s.level_shift).expect("a shift");
        assert!((shift.step - 150.0).abs() < 25.0, "step {}", shift.step);
        assert!((shift.to - shift.from - shift.step).abs() < 1e-9);
        let day = scores.iter().find(|s| s.level_shift.is_some()).expect("the day");
        assert!(day.fired.contains(&Indicator::LevelShift) && day.score.is_some_and(|z| z > 3.5));
        // Without the CUSUM (a threshold it cannot reach) the new level is flagged for weeks.
        let never = AnomalyConfig { shift_threshold: 1e9, ..AnomalyConfig::default() };
        let without = flagged(&score_series(&stepped(150.0, &[]), &never));
        assert!(without.len() >= 3, "{without:?}");
    }

    #[test]
    fn spikes_after_a_shift_are_still_caught_and_a_short_outage_is_not_a_shift() {
        let scores = score_series(&stepped(-150.0, &[(150, 200.0), (200, -200.0)]), &AnomalyConfig::default());
        assert_eq!(flagged(&scores), vec![(120, true), (150, false), (200, false)]);
        assert!(scores.iter().find(|s| s.level_shift.is_some()).is_some_and(|s| s.level_shift.is_some_and(|l| l.step < 0.0)));
        // Three days of outage that end: three flagged days, no shift.
        let outage = stepped(0.0, &[(150, -300.0), (151, -300.0), (152, -300.0)]);
        assert_eq!(flagged(&score_series(&outage, &AnomalyConfig::default())), vec![(150, false), (151, false), (152, false)]);
    }

    /// A large step is dated on its first day even when the two days before it happen to lean
    /// the same way (+1.7 σ each): the start is the likeliest split of the residuals as they are.
    /// Clipped to ±3 (as the CUSUM reads them), a 6 σ step counted no more than 3 a day, and the
    /// two days of noise before it won the split (a flag two days early and a missed shift on the
    /// labelled set).
    #[test]
    fn a_large_step_is_dated_on_its_first_day_not_on_noise_before_it() {
        let scores = score_series(&stepped(120.0, &[(118, 34.0), (119, 34.0)]), &AnomalyConfig::default());
        assert_eq!(flagged(&scores), vec![(120, true)]);
    }

    #[test]
    fn the_tail_table_is_the_t_distribution() {
        for (nu, ratio, median) in TAIL_TABLE {
            let q = |p: f64| invert_tail(|t| student_t_two_sided_tail(t, nu), p);
            assert!((q(0.5) - median).abs() < 1e-4, "nu {nu}: median {}", q(0.5));
            assert!((q(0.025) / q(0.5) - ratio).abs() < 1e-3, "nu {nu}: ratio {}", q(0.025) / q(0.5));
        }
        let gaussian = invert_tail(normal_two_sided_tail, 0.025) / invert_tail(normal_two_sided_tail, 0.5);
        assert!(TAIL_TABLE.iter().all(|(_, r, _)| *r > gaussian + 0.5), "Gaussian noise ({gaussian:.2}) stays clear of the table");
    }

    #[test]
    fn a_short_history_widens_the_scale_by_the_t_quantile() {
        let (short, long) = (small_sample_factor(28, 7, 3.5), small_sample_factor(56, 7, 3.5));
        assert!((short - 1.205).abs() < 0.005 && (long - 1.075).abs() < 0.005, "{short} {long}");
        assert!((small_sample_factor(100_000, 7, 3.5) - 1.0).abs() < 1e-3, "a long history is normal");
        assert_eq!(small_sample_factor(3, 7, 3.5), small_sample_factor(9, 7, 3.5), "at least one degree of freedom");
    }

    #[test]
    fn heavy_tails_widen_the_scale_and_gaussian_ones_do_not() {
        let mut pool = TailPool::default();
        let config = AnomalyConfig { tail_allowance: 1.0, ..AnomalyConfig::default() };
        // |z| spread like |t₃|: its quantiles, evenly spaced in probability.
        let t3 = |p: f64| invert_tail(|t| student_t_two_sided_tail(t, 3), p);
        (0..300).for_each(|i| pool.push(i, t3((i as f64 + 0.5) / 300.0)));
        let heavy = pool.factor(&config);
        assert!(heavy > 2.0, "t3 noise widens the scale, got {heavy}");
        let mut allowing = TailPool { recent: pool.recent.clone(), ..TailPool::default() };
        let allowed = allowing.factor(&AnomalyConfig { tail_allowance: 6.0, ..config });
        assert!(allowed > 1.0 && allowed < heavy, "six times the Gaussian rate allowed widens less: {allowed} vs {heavy}");
        let mut gaussian = TailPool::default();
        (0..300).for_each(|i| gaussian.push(i, invert_tail(normal_two_sided_tail, (i as f64 + 0.5) / 300.0)));
        assert_eq!(gaussian.factor(&config), 1.0);
        assert_eq!(TailPool::default().factor(&config), 1.0, "no evidence, no change");
    }
}
