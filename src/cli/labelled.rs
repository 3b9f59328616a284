//! `insightops bench-detection`: a labelled set of synthetic daily series (weekly and yearly
//! seasonality, trend, Gaussian, Student-t or Poisson noise; spikes, dips, level shifts and broken
//! weekly patterns at known days), the detector's recall and precision on it at each severity, the
//! false-warning rate of anomaly-free series by noise, and the forecast's holdout MAPE against the
//! seasonal-naive forecast. Everything follows from the seed, so runs compare across commits.

use std::collections::BTreeMap;
use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal, StudentT};
use serde::Serialize;

use crate::analytics::anomaly::{scan_dense, AnomalyConfig, AnomalyScore, Severity};
use crate::analytics::forecast::{forecast, ForecastConfig};

/// The seed of the published figures.
pub const DEFAULT_SEED: u64 = 20_261_126;
/// Days per series: 60 weeks, the last 28 of them the forecast holdout.
pub const DAYS: usize = 420;
/// Day 0 is a Monday (2025-01-06), so `index % 7` is 0 for Monday and 5, 6 for the weekend.
pub fn first_day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseKind {
    Gaussian,
    /// Student-t with 5 degrees of freedom, scaled to the same standard deviation.
    StudentT,
    /// Counts: Poisson around the expected value.
    Poisson,
}

crate::domain::text_enum!(NoiseKind {
    NoiseKind::Gaussian => "gaussian",
    NoiseKind::StudentT => "student_t",
    NoiseKind::Poisson => "poisson",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    Spike,
    Dip,
    LevelShift,
    BrokenWeek,
}

impl AnomalyKind {
    const ALL: [AnomalyKind; 4] = [AnomalyKind::Spike, AnomalyKind::Dip, AnomalyKind::LevelShift, AnomalyKind::BrokenWeek];
}

/// One labelled anomaly: its kind, the days it covers (a level shift: only its first day) and its
/// size in noise standard deviations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelledAnomaly {
    pub kind: AnomalyKind,
    pub days: Vec<usize>,
    pub size_sd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelledSeries {
    pub index: usize,
    pub noise: NoiseKind,
    pub values: Vec<Option<f64>>,
    pub anomalies: Vec<LabelledAnomaly>,
}

/// The shape of one series before noise and anomalies.
struct Shape {
    level: f64,
    /// Noise standard deviation, in the series' units (additive).
    sd: f64,
    weekly: [f64; 7],
    yearly_amplitude: f64,
    yearly_phase: f64,
    trend_per_year: f64,
}

impl Shape {
    fn draw(noise: NoiseKind, rng: &mut ChaCha8Rng) -> Shape {
        let weekend = rng.gen_range(0.55..0.8);
        let mut weekly = [1.0; 7];
        for (d, w) in weekly.iter_mut().enumerate() {
            *w = if d >= 5 { weekend } else { 1.0 + rng.gen_range(-0.05..0.05) };
        }
        let level = match noise {
            NoiseKind::Poisson => rng.gen_range(40.0..400.0_f64).round(),
            _ => (rng.gen_range(50.0_f64.ln()..20_000.0_f64.ln())).exp(),
        };
        // The weekend gap is at least 5 noise deviations, so a weekend at weekday level is visible.
        let max_cv = (1.0 - weekend) / 5.0;
        let sd = match noise {
            NoiseKind::Poisson => level.sqrt(),
            _ => level * rng.gen_range(0.02..0.06_f64).min(max_cv),
        };
        Shape {
            level,
            sd,
            weekly,
            yearly_amplitude: rng.gen_range(0.0..0.12),
            yearly_phase: rng.gen_range(0.0..std::f64::consts::TAU),
            trend_per_year: rng.gen_range(-0.15..0.3),
        }
    }

    fn base(&self, t: usize, weekday_of: usize) -> f64 {
        let t = t as f64;
        self.level
            * (1.0 + self.trend_per_year * t / 365.0)
            * (1.0 + self.yearly_amplitude * (std::f64::consts::TAU * t / 365.25 + self.yearly_phase).sin())
            * self.weekly[weekday_of % 7]
    }
}

fn noise_kind(index: usize) -> NoiseKind {
    match index % 5 {
        0 | 1 => NoiseKind::Gaussian,
        2 | 3 => NoiseKind::StudentT,
        _ => NoiseKind::Poisson,
    }
}

fn draw_noise(noise: NoiseKind, expected: f64, sd: f64, rng: &mut ChaCha8Rng) -> f64 {
    match noise {
        NoiseKind::Gaussian => expected + sd * rng.sample::<f64, _>(StandardNormal),
        // Var(t₅) = 5/3, so √(3/5) gives the same standard deviation as the Gaussian.
        NoiseKind::StudentT => {
            let t = StudentT::new(5.0).map_or(0.0, |d| d.sample(rng));
            expected + sd * t * (3.0_f64 / 5.0).sqrt()
        }
        NoiseKind::Poisson => Poisson::new(expected.max(0.1)).map_or(expected, |d| d.sample(rng)),
    }
}

/// Series `index` of the set drawn from `seed`; with `anomalies` false the same shape and noise
/// without any anomaly (for false-alarm rates).
pub fn generate(seed: u64, index: usize, anomalies: bool) -> LabelledSeries {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let noise = noise_kind(index);
    let shape = Shape::draw(noise, &mut rng);
    // Three anomalies, one in each third of days 120 … DAYS − 10, of three of the four kinds in turn.
    let mut labels = Vec::new();
    let mut shift: Option<(usize, f64)> = None;
    let mut overrides: BTreeMap<usize, f64> = BTreeMap::new();
    let span = (DAYS - 10 - 120) / 3;
    for slot in 0..3 {
        let kind = AnomalyKind::ALL[(index + slot) % 4];
        let mut day = 120 + slot * span + rng.gen_range(5..span - 12);
        let size_sd = match kind {
            AnomalyKind::Spike | AnomalyKind::Dip => rng.gen_range(5.0..10.0),
            AnomalyKind::LevelShift => rng.gen_range(3.0..8.0),
            AnomalyKind::BrokenWeek => 0.0,
        };
        let days = match kind {
            AnomalyKind::Spike | AnomalyKind::Dip => {
                let sign = if kind == AnomalyKind::Spike { 1.0 } else { -1.0 };
                overrides.insert(day, sign * size_sd);
                vec![day]
            }
            AnomalyKind::LevelShift => {
                let sign = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
                shift = Some((day, sign * size_sd * shape.sd));
                vec![day]
            }
            AnomalyKind::BrokenWeek => {
                // The weekend of that week takes its weekday's level (a promotion, a missed closure).
                day += (12 - day % 7) % 7;
                vec![day, day + 1]
            }
        };
        let size_sd = if kind == AnomalyKind::BrokenWeek { shape.level * (1.0 - shape.weekly[5]) / shape.sd } else { size_sd };
        labels.push(LabelledAnomaly { kind, days, size_sd });
    }
    let broken: Vec<usize> = labels.iter().filter(|a| a.kind == AnomalyKind::BrokenWeek).flat_map(|a| a.days.clone()).collect();
    let values = (0..DAYS)
        .map(|t| {
            let weekday = if anomalies && broken.contains(&t) { 4 } else { t };
            let mut expected = shape.base(t, weekday);
            if let Some((_, step)) = shift.filter(|(from, _)| anomalies && t >= *from) {
                expected += step;
            }
            let mut value = draw_noise(noise, expected, shape.sd, &mut rng);
            if let Some(sds) = overrides.get(&t).filter(|_| anomalies) {
                value += sds * shape.sd;
            }
            let value = if noise == NoiseKind::Poisson { value.round() } else { value };
            Some(value.max(0.0))
        })
        .collect();
    LabelledSeries { index, noise, values, anomalies: if anomalies { labels } else { Vec::new() } }
}

/// Hits and misses at one severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Score {
    pub anomalies: usize,
    pub found: usize,
    pub flagged_days: usize,
    pub true_flags: usize,
    pub recall: f64,
    pub precision: f64,
}

impl Score {
    fn add(&mut self, other: &Score) {
        self.anomalies += other.anomalies;
        self.found += other.found;
        self.flagged_days += other.flagged_days;
        self.true_flags += other.true_flags;
        self.finish();
    }

    fn finish(&mut self) {
        self.recall = if self.anomalies > 0 { self.found as f64 / self.anomalies as f64 } else { 1.0 };
        self.precision = if self.flagged_days > 0 { self.true_flags as f64 / self.flagged_days as f64 } else { 1.0 };
    }
}

/// Scores flagged day indices against the labels: a flag within one day of a labelled day is a
/// hit (and finds that anomaly); every other flagged day is a false alarm.
pub fn score_flags(flagged: &[usize], labels: &[LabelledAnomaly]) -> Score {
    let near = |flag: usize, day: usize| flag.abs_diff(day) <= 1;
    let true_flags = flagged.iter().filter(|f| labels.iter().any(|a| a.days.iter().any(|d| near(**f, *d)))).count();
    let found = labels.iter().filter(|a| a.days.iter().any(|d| flagged.iter().any(|f| near(*f, *d)))).count();
    let mut score = Score { anomalies: labels.len(), found, flagged_days: flagged.len(), true_flags, ..Score::default() };
    score.finish();
    score
}

fn flagged_at(scores: &[AnomalyScore], severity: Severity) -> Vec<usize> {
    scores.iter().filter(|s| s.severity >= Some(severity)).map(|s| (s.date - first_day()).num_days() as usize).collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct SeverityRow {
    pub severity: Severity,
    pub all: Score,
    pub by_kind: BTreeMap<AnomalyKind, Score>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoiseRow {
    pub noise: NoiseKind,
    pub series: usize,
    pub scored_days: usize,
    pub false_warnings: usize,
    pub per_1000_days: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForecastRow {
    pub series: usize,
    pub holt_winters_mape: f64,
    pub seasonal_naive_mape: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DetectionReport {
    pub seed: u64,
    pub series: usize,
    pub days: usize,
    pub anomalies: usize,
    pub severities: Vec<SeverityRow>,
    pub clean_false_warnings: Vec<NoiseRow>,
    pub forecast: ForecastRow,
}

/// Generates `series` labelled series from `seed`, scans each, and scores the flags.
pub fn run(seed: u64, series: usize, anomaly: &AnomalyConfig, forecast_config: &ForecastConfig) -> DetectionReport {
    let set: Vec<LabelledSeries> = (0..series).map(|i| generate(seed, i, true)).collect();
    let scans: Vec<Vec<AnomalyScore>> = set.iter().map(|s| scan_dense(first_day(), &s.values, anomaly)).collect();
    let severities = [Severity::Info, Severity::Warning, Severity::Critical]
        .into_iter()
        .map(|severity| {
            let (mut all, mut by_kind) = (Score::default(), BTreeMap::new());
            for (s, scores) in set.iter().zip(&scans) {
                let flagged = flagged_at(scores, severity);
                all.add(&score_flags(&flagged, &s.anomalies));
                for kind in AnomalyKind::ALL {
                    let labels: Vec<LabelledAnomaly> = s.anomalies.iter().filter(|a| a.kind == kind).cloned().collect();
                    // Per kind, only the flags near that kind's days count, so the columns add up to recall.
                    let near_kind: Vec<usize> = flagged.iter().copied().filter(|f| labels.iter().any(|a| a.days.iter().any(|d| f.abs_diff(*d) <= 1))).collect();
                    by_kind.entry(kind).or_insert_with(Score::default).add(&score_flags(&near_kind, &labels));
                }
            }
            SeverityRow { severity, all, by_kind }
        })
        .collect();
    DetectionReport {
        seed,
        series,
        days: DAYS,
        anomalies: set.iter().map(|s| s.anomalies.len()).sum(),
        severities,
        clean_false_warnings: clean_rates(seed, series, anomaly),
        forecast: forecast_row(&set, forecast_config),
    }
}

/// Warnings per 1,000 scored days on the same series without their anomalies, by noise.
fn clean_rates(seed: u64, series: usize, anomaly: &AnomalyConfig) -> Vec<NoiseRow> {
    let mut rows: BTreeMap<NoiseKind, NoiseRow> = BTreeMap::new();
    for i in 0..series {
        let s = generate(seed, i, false);
        let scores = scan_dense(first_day(), &s.values, anomaly);
        let row = rows.entry(s.noise).or_insert(NoiseRow { noise: s.noise, series: 0, scored_days: 0, false_warnings: 0, per_1000_days: 0.0 });
        row.series += 1;
        row.scored_days += scores.len();
        row.false_warnings += flagged_at(&scores, Severity::Warning).len();
        row.per_1000_days = 1000.0 * row.false_warnings as f64 / row.scored_days.max(1) as f64;
    }
    rows.into_values().collect()
}

/// Mean holdout MAPE over the series: Holt-Winters and seasonal naive, on the same days.
fn forecast_row(set: &[LabelledSeries], config: &ForecastConfig) -> ForecastRow {
    let (mut hw, mut naive, mut n) = (0.0, 0.0, 0);
    for s in set {
        if let Ok(fc) = forecast(first_day(), &s.values, config) {
            if let (Some(a), Some(b)) = (fc.holdout_mape, fc.naive_holdout_mape) {
                hw += a;
                naive += b;
                n += 1;
            }
        }
    }
    let mean = |total: f64| if n > 0 { total / n as f64 } else { f64::NAN };
    ForecastRow { series: n, holt_winters_mape: mean(hw), seasonal_naive_mape: mean(naive) }
}

/// Writes the set as long CSV (`series,day,date,value,noise`) for the statsmodels comparison script.
pub fn export_csv(seed: u64, series: usize, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "series,day,date,value,noise")?;
    for i in 0..series {
        let s = generate(seed, i, true);
        for (d, v) in s.values.iter().enumerate() {
            let date = first_day() + chrono::Duration::days(d as i64);
            writeln!(out, "{i},{d},{date},{},{}", v.map_or(String::new(), |v| v.to_string()), s.noise.as_str())?;
        }
    }
    Ok(())
}

/// The report as the README's tables.
pub fn render(report: &DetectionReport) -> String {
    let mut text = format!(
        "{} series x {} days (seed {}), {} labelled anomalies\n\n| severity | recall | precision | flagged days | spike | dip | level shift | broken week |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        report.series, report.days, report.seed, report.anomalies
    );
    for row in &report.severities {
        let kinds: Vec<String> = AnomalyKind::ALL.iter().map(|k| row.by_kind.get(k).map_or("-".into(), |s| format!("{}/{}", s.found, s.anomalies))).collect();
        text += &format!(
            "| {} | {:.3} | {:.3} | {} | {} |\n",
            row.severity.as_str(),
            row.all.recall,
            row.all.precision,
            row.all.flagged_days,
            kinds.join(" | ")
        );
    }
    text += "\nAnomaly-free series, warnings per 1,000 scored days:\n\n| noise | series | scored days | false warnings | per 1,000 days |\n| --- | ---: | ---: | ---: | ---: |\n";
    for row in &report.clean_false_warnings {
        text += &format!("| {} | {} | {} | {} | {:.2} |\n", row.noise.as_str(), row.series, row.scored_days, row.false_warnings, row.per_1000_days);
    }
    text += &format!(
        "\nForecast, 28-day holdout, mean MAPE over {} series: Holt-Winters {:.4}, seasonal naive {:.4}\n",
        report.forecast.series, report.forecast.holt_winters_mape, report.forecast.seasonal_naive_mape
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_deterministic_and_labels_what_it_draws() {
        assert_eq!(generate(7, 3, true), generate(7, 3, true));
        assert_ne!(generate(7, 3, true).values, generate(8, 3, true).values);
        let kinds: Vec<AnomalyKind> = (0..60).flat_map(|i| generate(DEFAULT_SEED, i, true).anomalies).map(|a| a.kind).collect();
        assert_eq!(kinds.len(), 180);
        for kind in AnomalyKind::ALL {
            assert_eq!(kinds.iter().filter(|k| **k == kind).count(), 45, "{kind:?}");
        }
        // A broken week labels a Saturday and a Sunday; a clean series carries no labels.
        let broken = (0..4).flat_map(|i| generate(DEFAULT_SEED, i, true).anomalies).find(|a| a.kind == AnomalyKind::BrokenWeek).expect("one");
        assert_eq!(broken.days.iter().map(|d| d % 7).collect::<Vec<_>>(), vec![5, 6]);
        assert!(generate(DEFAULT_SEED, 0, false).anomalies.is_empty());
    }

    #[test]
    fn scoring_counts_a_flag_within_a_day_as_a_hit() {
        let labels = vec![
            LabelledAnomaly { kind: AnomalyKind::Spike, days: vec![100], size_sd: 6.0 },
            LabelledAnomaly { kind: AnomalyKind::BrokenWeek, days: vec![201, 202], size_sd: 6.0 },
            LabelledAnomaly { kind: AnomalyKind::Dip, days: vec![300], size_sd: 6.0 },
        ];
        let score = score_flags(&[99, 150, 203, 302], &labels);
        assert_eq!((score.found, score.true_flags, score.flagged_days), (2, 2, 4));
        assert!((score.recall - 2.0 / 3.0).abs() < 1e-12 && (score.precision - 0.5).abs() < 1e-12);
    }

    /// The level-shift rule against the detector without it, on the published set: more of the
    /// warnings are real, no fewer anomalies are found, and every level shift is found at least as
    /// often.
    #[test]
    fn level_shifts_make_warnings_truer_on_the_labelled_set() {
        let config = crate::analytics::AnalyticsConfig::default();
        let without_shifts = AnomalyConfig { shift_threshold: f64::MAX, ..config.anomaly };
        let after = run(DEFAULT_SEED, 60, &config.anomaly, &config.forecast);
        let before = run(DEFAULT_SEED, 60, &without_shifts, &config.forecast);
        eprintln!("without level shifts:\n{}\nwith:\n{}", render(&before), render(&after));
        let warning = |r: &DetectionReport| r.severities.iter().find(|s| s.severity == Severity::Warning).cloned().expect("a warning row");
        let (b, a) = (warning(&before), warning(&after));
        assert!(a.all.precision > b.all.precision + 0.1, "precision {:.3} -> {:.3}", b.all.precision, a.all.precision);
        assert!(a.all.found >= b.all.found, "found {} -> {}", b.all.found, a.all.found);
        let shifts = |r: &SeverityRow| r.by_kind[&AnomalyKind::LevelShift].found;
        assert!(shifts(&a) >= shifts(&b), "level shifts found {} -> {}", shifts(&b), shifts(&a));

        // The heavy-tail widening (on by default) keeps the recall goal and cuts Student-t false
        // warnings by at least a quarter.
        assert!(a.all.recall >= 0.9, "recall at warning {:.3}", a.all.recall);
        assert!(a.all.precision >= 0.8, "precision at warning {:.3}", a.all.precision);
        let untailed = run(DEFAULT_SEED, 60, &AnomalyConfig { heavy_tails: false, ..config.anomaly }, &config.forecast);
        let false_warnings = |r: &DetectionReport| r.clean_false_warnings.iter().find(|x| x.noise == NoiseKind::StudentT).map_or(0, |x| x.false_warnings);
        assert!(4 * false_warnings(&after) < 3 * false_warnings(&untailed), "Student-t false warnings {} -> {}", false_warnings(&untailed), false_warnings(&after));
        assert!(after.forecast.series == 60 && after.forecast.holt_winters_mape.is_finite());
    }
}
