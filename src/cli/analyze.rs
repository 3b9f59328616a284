//! `insightops analyze FILE.csv`: reads one daily series from any CSV and reports what the analytics
//! module computes, as JSON, so users and scripts can check our numbers against other tools.

use std::io::Read;

use chrono::NaiveDate;
use serde::Serialize;

use crate::analytics::anomaly::{dense, scan_dense, AnomalyScore};
use crate::analytics::calendar::{aggregate_by, calendar_delta, CalendarDelta, Comparison, Granularity, PeriodAggregate};
use crate::analytics::delta::{last_n_vs_previous_n, PeriodComparison};
use crate::analytics::forecast::{forecast, Forecast};
use crate::analytics::pattern::{detect_patterns, AnomalyEvent, Pattern};
use crate::analytics::trend::{classify_trend, theil_sen, day_points, TrendRule, TrendSummary};
use crate::analytics::{AnalyticsConfig, Aggregation, DailyValue, Direction};

#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    pub date_col: String,
    pub value_col: String,
    pub season: usize,
    pub horizon: usize,
    pub aggregation: Aggregation,
    pub direction: Direction,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self {
            date_col: "date".into(),
            value_col: "value".into(),
            season: 7,
            horizon: 28,
            aggregation: Aggregation::Sum,
            direction: Direction::HigherIsBetter,
        }
    }
}

/// A row that could not be read; `line` is the 1-based line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("cannot read the CSV: {0}")]
    Csv(String),
    #[error("column {wanted:?} not found; the header has: {available}")]
    MissingColumn { wanted: String, available: String },
    #[error("{} row(s) could not be read; first: line {}: {}", .0.len(), .0[0].line, .0[0].message)]
    Rows(Vec<RowError>),
    #[error("the file has no rows with a value")]
    Empty,
    #[error("{0}")]
    Options(String),
}

#[derive(Debug, Serialize)]
pub struct InputSummary {
    pub rows: usize,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    /// Days between the first and last date with no value (empty cell or no row).
    pub missing_days: usize,
    pub aggregation: Aggregation,
}

#[derive(Debug, Serialize)]
pub struct Deltas {
    pub last_7_vs_previous_7: PeriodComparison,
    pub last_28_vs_previous_28: PeriodComparison,
    pub week_over_week: CalendarDelta,
    pub month_over_month: CalendarDelta,
    pub quarter_over_quarter: CalendarDelta,
    pub year_over_year: CalendarDelta,
}

/// Every number here covers the same window: the last [`TREND_WINDOW_DAYS`] days of the series
/// (all of it when shorter), named by its first and last day.
#[derive(Debug, Serialize)]
pub struct Trends {
    pub window_first_date: NaiveDate,
    pub window_last_date: NaiveDate,
    pub window_days: i64,
    pub ols_slope_per_day: Option<f64>,
    pub ols_slope_std_error: Option<f64>,
    pub theil_sen_slope_per_day: Option<f64>,
    pub classification: TrendSummary,
}

#[derive(Debug, Serialize)]
pub struct AnomalySection {
    pub scored_points: usize,
    pub flagged_warning_or_worse: usize,
    pub points: Vec<AnomalyScore>,
    pub patterns: Vec<Pattern>,
}

#[derive(Debug, Serialize)]
pub struct AnalysisReport {
    pub input: InputSummary,
    pub aggregates: Aggregates,
    pub deltas: Deltas,
    pub trend: Trends,
    pub anomalies: AnomalySection,
    /// `Err` text when the series is too short to forecast.
    pub forecast: Result<Forecast, String>,
}

#[derive(Debug, Serialize)]
pub struct Aggregates {
    pub weekly: Vec<PeriodAggregate>,
    pub monthly: Vec<PeriodAggregate>,
    pub quarterly: Vec<PeriodAggregate>,
    pub yearly: Vec<PeriodAggregate>,
}

/// Accepts `YYYY-MM-DD`, optionally followed by a time (`2026-01-05T00:00:00Z`, `2026-01-05 00:00`).
fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let head = text.get(..10)?;
    let rest = &text[10..];
    if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
        return None;
    }
    crate::domain::date::parse_day(head).ok()
}

/// Reads the date and value columns; every bad row is reported, none silently dropped. An empty
/// value cell is a missing day, not an error.
pub fn read_series(input: impl Read, options: &AnalyzeOptions) -> Result<(Vec<DailyValue>, usize), AnalyzeError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(input);
    let headers = reader.headers().map_err(|e| AnalyzeError::Csv(e.to_string()))?.clone();
    let column = |wanted: &str| {
        headers.iter().position(|h| h == wanted).ok_or_else(|| AnalyzeError::MissingColumn {
            wanted: wanted.to_string(),
            available: headers.iter().collect::<Vec<_>>().join(", "),
        })
    };
    let (date_at, value_at) = (column(&options.date_col)?, column(&options.value_col)?);
    let mut series = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    let mut rows = 0;
    for record in reader.records() {
        rows += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError { line, message: e.to_string() });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let date_text = record.get(date_at).unwrap_or("");
        let Some(date) = parse_date(date_text) else {
            errors.push(RowError { line, message: format!("{:?} is not a date (expected YYYY-MM-DD)", date_text) });
            continue;
        };
        let value_text = record.get(value_at).unwrap_or("");
        if value_text.is_empty() {
            continue;
        }
        let value = match value_text.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                errors.push(RowError { line, message: format!("{value_text:?} in column {:?} is not a number", options.value_col) });
                continue;
            }
        };
        if let Some(first_line) = seen.insert(date, line) {
            errors.push(RowError { line, message: format!("{date} appears again (first on line {first_line})") });
            continue;
        }
        series.push(DailyValue::new(date, value));
    }
    if !errors.is_empty() {
        return Err(AnalyzeError::Rows(errors));
    }
    series.sort_by_key(|p| p.date);
    Ok((series, rows))
}

/// The days the trend numbers of `analyze` cover, counted back from the last day.
pub const TREND_WINDOW_DAYS: i64 = 365;

/// Runs every analysis on one series.
pub fn analyze(series: &[DailyValue], rows: usize, options: &AnalyzeOptions, config: &AnalyticsConfig) -> Result<AnalysisReport, AnalyzeError> {
    let anomaly_config = crate::analytics::anomaly::AnomalyConfig { season: options.season, ..config.anomaly };
    let forecast_config = crate::analytics::forecast::ForecastConfig { season: options.season, horizon: options.horizon, ..config.forecast };
    anomaly_config.validate().map_err(AnalyzeError::Options)?;
    forecast_config.validate().map_err(AnalyzeError::Options)?;
    let (first, values) = dense(series).ok_or(AnalyzeError::Empty)?;
    let last = first + chrono::Duration::days(values.len() as i64 - 1);
    let rule = options.aggregation;
    let direction = options.direction;
    let calendar = |g, c| calendar_delta(series, last, g, c, rule, direction);

    // One window for every trend number: Theil–Sen is O(n²) in pairs, so a year (under 70k pairs).
    let window_first = (last - chrono::Duration::days(TREND_WINDOW_DAYS - 1)).max(first);
    let window: Vec<DailyValue> = series.iter().copied().filter(|p| p.date >= window_first).collect();
    let points = day_points(&window);
    let ols_fit = crate::analytics::trend::ols(&points);
    let scores = scan_dense(first, &values, &anomaly_config);
    let flagged: Vec<AnomalyEvent> = scores
        .iter()
        .filter_map(|s| Some(AnomalyEvent { date: s.date, source: options.value_col.clone(), severity: s.severity? }))
        .collect();
    let patterns = detect_patterns(&flagged, last, &config.patterns);
    Ok(AnalysisReport {
        input: InputSummary {
            rows,
            first_date: first,
            last_date: last,
            missing_days: values.iter().filter(|v| v.is_none()).count(),
            aggregation: rule,
        },
        aggregates: Aggregates {
            weekly: aggregate_by(series, Granularity::Week, rule),
            monthly: aggregate_by(series, Granularity::Month, rule),
            quarterly: aggregate_by(series, Granularity::Quarter, rule),
            yearly: aggregate_by(series, Granularity::Year, rule),
        },
        deltas: Deltas {
            last_7_vs_previous_7: last_n_vs_previous_n(series, last, 7, rule, direction),
            last_28_vs_previous_28: last_n_vs_previous_n(series, last, 28, rule, direction),
            week_over_week: calendar(Granularity::Week, Comparison::PreviousPeriod),
            month_over_month: calendar(Granularity::Month, Comparison::PreviousPeriod),
            quarter_over_quarter: calendar(Granularity::Quarter, Comparison::PreviousPeriod),
            year_over_year: calendar(Granularity::Month, Comparison::SamePeriodLastYear),
        },
        trend: Trends {
            window_first_date: window_first,
            window_last_date: last,
            window_days: (last - window_first).num_days() + 1,
            ols_slope_per_day: ols_fit.map(|f| f.slope),
            ols_slope_std_error: ols_fit.and_then(|f| f.slope_std_error),
            theil_sen_slope_per_day: theil_sen(&points),
            classification: classify_trend(&window, TrendRule::default()),
        },
        anomalies: AnomalySection {
            scored_points: scores.len(),
            flagged_warning_or_worse: scores.iter().filter(|s| s.severity >= Some(crate::analytics::anomaly::Severity::Warning)).count(),
            points: scores,
            patterns,
        },
        forecast: forecast(first, &values, &forecast_config).map_err(|e| e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_of(days: usize, spike_at: usize) -> String {
        let mut text = String::from("day,orders,note\n");
        let start = NaiveDate::from_ymd_opt(2026, 1, 5).expect("valid date");
        for i in 0..days {
            let weekday = [0.0, 2.0, 4.0, 2.0, 6.0, -8.0, -6.0][i % 7];
            let wiggle = [0.5, -0.5, 1.0, -1.0, 0.0, 0.7, -0.7, 0.2, -0.2, 0.9, -0.9, 0.3, -0.3][i % 13];
            let spike = if i == spike_at { 60.0 } else { 0.0 };
            text.push_str(&format!("{},{},x\n", start + chrono::Duration::days(i as i64), 100.0 + weekday + wiggle + spike));
        }
        text
    }

    fn options() -> AnalyzeOptions {
        AnalyzeOptions { date_col: "day".into(), value_col: "orders".into(), ..AnalyzeOptions::default() }
    }

    #[test]
    fn every_trend_number_covers_the_same_named_window() {
        // 400 days falling, then a year rising by exactly 1 a day: over the whole series OLS would
        // mix both; over the window every slope is the rise.
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
        let series: Vec<DailyValue> = (0..765)
            .map(|i| DailyValue::new(start + chrono::Duration::days(i), if i < 400 { 1000.0 - i as f64 } else { 600.0 + (i - 400) as f64 }))
            .collect();
        let report = analyze(&series, series.len(), &options(), &AnalyticsConfig::default()).expect("analyses");
        let t = &report.trend;
        assert_eq!((t.window_first_date, t.window_last_date, t.window_days), (start + chrono::Duration::days(400), start + chrono::Duration::days(764), 365));
        assert!(t.ols_slope_per_day.is_some_and(|s| (s - 1.0).abs() < 1e-9), "{:?}", t.ols_slope_per_day);
        assert!(t.theil_sen_slope_per_day.is_some_and(|s| (s - 1.0).abs() < 1e-9));
        assert_eq!(t.classification.ols.map(|f| f.slope), t.ols_slope_per_day, "the classification uses the same window");
        assert_eq!(t.classification.direction, crate::analytics::trend::TrendDirection::Rising);
    }

    #[test]
    fn a_clean_file_gives_every_section() {
        let (series, rows) = read_series(csv_of(120, 100).as_bytes(), &options()).expect("valid CSV");
        assert_eq!((series.len(), rows), (120, 120));
        let report = analyze(&series, rows, &options(), &AnalyticsConfig::default()).expect("analyses");
        assert_eq!(report.input.missing_days, 0);
        assert_eq!(report.anomalies.scored_points, 120 - 28);
        let flagged: Vec<NaiveDate> = report
            .anomalies
            .points
            .iter()
            .filter(|p| p.severity >= Some(crate::analytics::anomaly::Severity::Warning))
            .map(|p| p.date)
            .collect();
        assert_eq!(flagged, vec![NaiveDate::from_ymd_opt(2026, 1, 5).expect("date") + chrono::Duration::days(100)]);
        let f = report.forecast.as_ref().expect("120 days is enough");
        assert_eq!(f.points.len(), 28);
        assert!(f.holdout_mape.is_some());
        // The last 7 days sum the weekday pattern once (100·7 + 0) plus wiggles: within 1 % of 700.
        let last7 = report.deltas.last_7_vs_previous_7.current.value.expect("7 days");
        assert!((last7 - 700.0).abs() < 7.0, "{last7}");
        let json = serde_json::to_value(&report).expect("serialises");
        assert!(json["forecast"]["Ok"]["points"].is_array());
    }

    #[test]
    fn bad_rows_are_all_reported_with_their_lines() {
        let text = "date,value\n2026-01-01,5\n2026-13-01,6\n2026-01-03,abc\n2026-01-01,7\n2026-01-04,\n";
        match read_series(text.as_bytes(), &AnalyzeOptions::default()) {
            Err(AnalyzeError::Rows(errors)) => {
                let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
                assert_eq!(lines, vec![3, 4, 5]);
                assert!(errors[0].message.contains("not a date"));
                assert!(errors[1].message.contains("not a number"));
                assert!(errors[2].message.contains("first on line 2"));
            }
            other => panic!("expected row errors, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_column_names_what_is_there() {
        let err = read_series("when,amount\n2026-01-01,1\n".as_bytes(), &AnalyzeOptions::default()).expect_err("no date column");
        assert_eq!(err.to_string(), "column \"date\" not found; the header has: when, amount");
    }

    #[test]
    fn timestamps_and_empty_cells_are_accepted() {
        let text = "date,value\n2026-01-01T00:00:00Z,5\n2026-01-02 00:00,\n2026-01-03,7\n";
        let (series, rows) = read_series(text.as_bytes(), &AnalyzeOptions::default()).expect("valid");
        assert_eq!(rows, 3);
        assert_eq!(series.iter().map(|p| p.value).collect::<Vec<_>>(), vec![5.0, 7.0]);
        let report = analyze(&series, rows, &AnalyzeOptions::default(), &AnalyticsConfig::default()).expect("runs");
        assert_eq!(report.input.missing_days, 1);
        assert!(report.forecast.is_err_and(|e| e.contains("at least 49 days")));
    }
}
