//! The shared analytics module: every number a user sees is computed here, by pure functions.
//! No IO and no database types: plain Rust data in, plain Rust data out, deterministic.

pub mod aggregate;
pub mod anomaly;
pub mod calendar;
pub mod delta;
pub mod detect;
pub mod drivers;
pub mod forecast;
pub mod narrative;
pub mod pattern;
pub mod stats;
pub mod story;
pub mod guard;
pub mod trend;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The vocabulary of how metrics combine and move lives in `domain`, shared with the database layer.
pub use crate::domain::measure::{Aggregation, Direction};

/// `Leptos.toml`'s `[analytics]` section: detector thresholds, pattern windows and forecast settings.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyticsConfig {
    pub anomaly: anomaly::AnomalyConfig,
    pub patterns: pattern::PatternConfig,
    pub forecast: forecast::ForecastConfig,
}

impl AnalyticsConfig {
    /// The first problem found, prefixed with the sub-section it is in.
    pub fn validate(&self) -> Result<(), String> {
        self.anomaly.validate().map_err(|m| format!("[analytics.anomaly] {m}"))?;
        self.patterns.validate().map_err(|m| format!("[analytics.patterns] {m}"))?;
        self.forecast.validate().map_err(|m| format!("[analytics.forecast] {m}"))
    }
}

/// One day's value of a metric, already combined across dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DailyValue {
    pub date: NaiveDate,
    pub value: f64,
}

impl DailyValue {
    pub fn new(date: NaiveDate, value: f64) -> Self {
        Self { date, value }
    }
}

#[cfg(test)]
pub(crate) fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_enums_round_trip() {
        for rule in [Aggregation::Sum, Aggregation::Avg, Aggregation::Last] {
            assert_eq!(Aggregation::parse(rule.as_str()), Some(rule));
        }
        for direction in [Direction::HigherIsBetter, Direction::LowerIsBetter] {
            assert_eq!(Direction::parse(direction.as_str()), Some(direction));
        }
        assert_eq!(Aggregation::parse("median"), None);
    }
}
