//! Recurring patterns: what the weekly, monthly and yearly reviews found in the stored anomaly
//! findings, shown on the board page and the dashboard as "recurring" with their history.

pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One stored pattern as a viewer may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecurringPattern {
    /// `weekly`, `monthly` or `yearly`.
    pub window: String,
    pub metric_key: String,
    pub metric_label: String,
    pub events: i32,
    /// Where the events came from ("revenue region=EMEA"); empty for roles that see the metric
    /// as totals only, which are told how many sources there were instead.
    pub sources: Vec<String>,
    pub source_count: usize,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
}

impl RecurringPattern {
    /// "Revenue: 4 anomalies from 3 sources between 3 Mar and 24 Mar (weekly review to 31 Mar 2026)".
    pub fn sentence(&self) -> String {
        let sources = match self.source_count {
            1 => "1 source".to_string(),
            n => format!("{n} sources"),
        };
        format!(
            "{}: {} anomalies from {sources} between {} and {} ({} review of the {} days to {})",
            self.metric_label,
            self.events,
            self.first_day.format("%-d %b"),
            self.last_day.format("%-d %b %Y"),
            self.window,
            (self.window_end - self.window_start).num_days() + 1,
            self.window_end.format("%-d %b %Y")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_reads_as_one_sentence() {
        let d = |t: &str| NaiveDate::parse_from_str(t, "%Y-%m-%d").expect("date");
        let p = RecurringPattern {
            window: "weekly".into(),
            metric_key: "revenue".into(),
            metric_label: "Revenue".into(),
            events: 4,
            sources: vec![],
            source_count: 3,
            first_day: d("2026-03-03"),
            last_day: d("2026-03-24"),
            window_start: d("2026-03-04"),
            window_end: d("2026-03-31"),
        };
        assert_eq!(p.sentence(), "Revenue: 4 anomalies from 3 sources between 3 Mar and 24 Mar 2026 (weekly review of the 28 days to 31 Mar 2026)");
    }
}
