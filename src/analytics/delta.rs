//! Period-over-period change: absolute and relative deltas, judged good or bad by direction.
//! Empty periods and a zero base give an explicit `None`, never NaN or infinity.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::aggregate::{aggregate_window, trailing_window, WindowAggregate};
use super::{Aggregation, DailyValue, Direction};

/// Whether a change is welcome given the metric's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAssessment {
    Good,
    Bad,
    Unchanged,
    /// One side is missing, so nothing can be said.
    Unknown,
}

impl ChangeAssessment {
    /// The word pages use as a CSS class and a screen-reader cue: good, bad or neutral.
    pub fn tone(self) -> &'static str {
        match self {
            ChangeAssessment::Good => "good",
            ChangeAssessment::Bad => "bad",
            ChangeAssessment::Unchanged | ChangeAssessment::Unknown => "neutral",
        }
    }
}

/// The change from `previous` to `current`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    pub current: Option<f64>,
    pub previous: Option<f64>,
    /// current − previous.
    pub absolute: Option<f64>,
    /// (current − previous) / |previous|; `None` when previous is 0 or missing.
    pub relative: Option<f64>,
    pub assessment: ChangeAssessment,
}

/// Relative changes smaller than this count as unchanged (0.05 %), so rounding noise is not "bad".
pub const UNCHANGED_TOLERANCE: f64 = 0.0005;

pub fn delta(current: Option<f64>, previous: Option<f64>, direction: Direction) -> Delta {
    let current = current.filter(|v| v.is_finite());
    let previous = previous.filter(|v| v.is_finite());
    let absolute = match (current, previous) {
        (Some(c), Some(p)) => Some(c - p),
        _ => None,
    };
    let relative = match (absolute, previous) {
        (Some(a), Some(p)) if p != 0.0 => Some(a / p.abs()).filter(|r| r.is_finite()),
        _ => None,
    };
    let assessment = match absolute {
        None => ChangeAssessment::Unknown,
        Some(a) => {
            let negligible = match relative {
                Some(r) => r.abs() < UNCHANGED_TOLERANCE,
                None => a == 0.0,
            };
            let rising = a > 0.0;
            match (negligible, rising, direction) {
                (true, _, _) => ChangeAssessment::Unchanged,
                (false, true, Direction::HigherIsBetter) | (false, false, Direction::LowerIsBetter) => {
                    ChangeAssessment::Good
                }
                _ => ChangeAssessment::Bad,
            }
        }
    };
    Delta { current, previous, absolute, relative, assessment }
}

/// "Last N days vs the previous N days", both windows ending at `as_of` and the day before the
/// first window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodComparison {
    pub current: WindowAggregate,
    pub previous: WindowAggregate,
    pub delta: Delta,
}

pub fn last_n_vs_previous_n(
    series: &[DailyValue],
    as_of: NaiveDate,
    n: u32,
    rule: Aggregation,
    direction: Direction,
) -> PeriodComparison {
    let (start, end) = trailing_window(as_of, n);
    let (prev_start, prev_end) = trailing_window(start - Duration::days(1), n);
    let current = aggregate_window(series, start, end, rule);
    let previous = aggregate_window(series, prev_start, prev_end, rule);
    let delta = delta(current.value, previous.value, direction);
    PeriodComparison { current, previous, delta }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::day;

    #[test]
    fn rising_revenue_is_good_and_rising_churn_is_bad() {
        // 110 vs 100: absolute +10, relative 10 / 100 = 0.1.
        let up = delta(Some(110.0), Some(100.0), Direction::HigherIsBetter);
        assert_eq!(up.absolute, Some(10.0));
        assert_eq!(up.relative, Some(0.1));
        assert_eq!(up.assessment, ChangeAssessment::Good);
        let churn = delta(Some(110.0), Some(100.0), Direction::LowerIsBetter);
        assert_eq!(churn.assessment, ChangeAssessment::Bad);
        let churn_down = delta(Some(90.0), Some(100.0), Direction::LowerIsBetter);
        assert_eq!(churn_down.assessment, ChangeAssessment::Good);
    }

    #[test]
    fn zero_base_gives_no_relative_change() {
        let d = delta(Some(5.0), Some(0.0), Direction::HigherIsBetter);
        assert_eq!(d.absolute, Some(5.0));
        assert_eq!(d.relative, None);
        assert_eq!(d.assessment, ChangeAssessment::Good);
    }

    #[test]
    fn missing_side_is_unknown() {
        let d = delta(None, Some(3.0), Direction::HigherIsBetter);
        assert_eq!((d.absolute, d.relative, d.assessment), (None, None, ChangeAssessment::Unknown));
        let d = delta(Some(f64::NAN), Some(3.0), Direction::HigherIsBetter);
        assert_eq!(d.assessment, ChangeAssessment::Unknown);
    }

    #[test]
    fn negative_base_uses_its_magnitude() {
        // From −50 to −25 is a rise of 25, relative 25 / |−50| = +0.5.
        let d = delta(Some(-25.0), Some(-50.0), Direction::HigherIsBetter);
        assert_eq!(d.relative, Some(0.5));
        assert_eq!(d.assessment, ChangeAssessment::Good);
    }

    #[test]
    fn tiny_changes_are_unchanged() {
        let d = delta(Some(100.01), Some(100.0), Direction::LowerIsBetter);
        assert_eq!(d.assessment, ChangeAssessment::Unchanged);
    }

    #[test]
    fn last_3_vs_previous_3_days() {
        // Days 1..6 with values 1..6. Current = days 4..6 -> 4+5+6 = 15; previous = days 1..3 -> 6.
        // Relative = (15 − 6) / 6 = 1.5.
        let series: Vec<DailyValue> = (1..=6)
            .map(|d| DailyValue::new(day(&format!("2026-05-0{d}")), d as f64))
            .collect();
        let c = last_n_vs_previous_n(&series, day("2026-05-06"), 3, Aggregation::Sum, Direction::HigherIsBetter);
        assert_eq!(c.current.start, day("2026-05-04"));
        assert_eq!(c.previous.end, day("2026-05-03"));
        assert_eq!(c.delta.current, Some(15.0));
        assert_eq!(c.delta.previous, Some(6.0));
        assert_eq!(c.delta.relative, Some(1.5));
    }
}
