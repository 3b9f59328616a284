//! How a metric combines over days, which way it should move, and how severe a finding is.

use serde::{Deserialize, Serialize};


/// How a metric's days combine into a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Additive quantities (revenue, orders): the period value is the sum of its days.
    Sum,
    /// Rates and scores: the mean of the days present, each day weighted equally.
    Avg,
    /// Stocks (active users): the value of the last day present.
    Last,
}

/// Which way a metric should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}


text_enum!(Aggregation { Aggregation::Sum => "sum", Aggregation::Avg => "avg", Aggregation::Last => "last" });
text_enum!(Direction {
    Direction::HigherIsBetter => "higher_is_better",
    Direction::LowerIsBetter => "lower_is_better",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

text_enum!(Severity {
    Severity::Info => "info",
    Severity::Warning => "warning",
    Severity::Critical => "critical",
});

/// A sustained change of level: the new level minus the old (the median, over the days that
/// confirmed it, of observed minus what the history before the shift expected), and that day's
/// expectation before and after.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LevelShift {
    pub step: f64,
    pub from: f64,
    pub to: f64,
}
