//! Combining the days of a period into one value, by the metric's aggregation rule.
//! Missing days are counted and listed, never filled with zeros.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{Aggregation, DailyValue};

/// The value of one closed date range `[start, end]` and how complete its data was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowAggregate {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// `None` when no day of the range has data.
    pub value: Option<f64>,
    pub days_present: u32,
    pub days_expected: u32,
    pub missing_days: Vec<NaiveDate>,
}

/// Combines values by `rule`; `values` must be in date order for `Last`.
/// sum = Σv; avg = Σv / n; last = v_n. Empty input gives `None`.
pub fn combine(rule: Aggregation, values: &[f64]) -> Option<f64> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    match rule {
        Aggregation::Sum => Some(finite.iter().sum()),
        Aggregation::Avg => Some(finite.iter().sum::<f64>() / finite.len() as f64),
        Aggregation::Last => finite.last().copied(),
    }
}

/// Aggregates the days of `series` that fall in `[start, end]` (inclusive) by `rule`.
/// The series may be unsorted and may hold days outside the range.
pub fn aggregate_window(
    series: &[DailyValue],
    start: NaiveDate,
    end: NaiveDate,
    rule: Aggregation,
) -> WindowAggregate {
    let mut inside: Vec<DailyValue> = series
        .iter()
        .copied()
        .filter(|p| p.date >= start && p.date <= end && p.value.is_finite())
        .collect();
    inside.sort_by_key(|p| p.date);
    inside.dedup_by_key(|p| p.date);

    let days_expected = if end >= start { (end - start).num_days() as u32 + 1 } else { 0 };
    let mut missing_days = Vec::new();
    let mut present = inside.iter().map(|p| p.date).peekable();
    for offset in 0..days_expected {
        let date = start + Duration::days(offset as i64);
        if present.peek() == Some(&date) {
            present.next();
        } else {
            missing_days.push(date);
        }
    }
    let values: Vec<f64> = inside.iter().map(|p| p.value).collect();
    WindowAggregate {
        start,
        end,
        value: combine(rule, &values),
        days_present: inside.len() as u32,
        days_expected,
        missing_days,
    }
}

/// One stored sub-period: its value by the rule and how many days it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartValue {
    pub value: f64,
    pub days_present: u32,
}

/// Combines consecutive sub-periods (months into a year) exactly as [`combine`] would combine
/// their days: sum = Σ parts; avg = Σ (part × its days) / Σ days; last = the last part's value.
/// `parts` must be in date order.
pub fn combine_parts(rule: Aggregation, parts: &[PartValue]) -> Option<f64> {
    let parts: Vec<PartValue> = parts.iter().copied().filter(|p| p.value.is_finite() && p.days_present > 0).collect();
    let last = parts.last()?;
    Some(match rule {
        Aggregation::Sum => parts.iter().map(|p| p.value).sum(),
        Aggregation::Avg => {
            let days: f64 = parts.iter().map(|p| f64::from(p.days_present)).sum();
            parts.iter().map(|p| p.value * f64::from(p.days_present)).sum::<f64>() / days
        }
        Aggregation::Last => last.value,
    })
}

/// The `n`-day window ending on `end` (inclusive): `[end - n + 1, end]`.
pub fn trailing_window(end: NaiveDate, n: u32) -> (NaiveDate, NaiveDate) {
    (end - Duration::days(n.saturating_sub(1) as i64), end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::day;

    fn series(points: &[(&str, f64)]) -> Vec<DailyValue> {
        points.iter().map(|(d, v)| DailyValue::new(day(d), *v)).collect()
    }

    #[test]
    fn combine_follows_each_rule() {
        // sum: 2 + 4 + 9 = 15; avg: 15 / 3 = 5; last: 9.
        assert_eq!(combine(Aggregation::Sum, &[2.0, 4.0, 9.0]), Some(15.0));
        assert_eq!(combine(Aggregation::Avg, &[2.0, 4.0, 9.0]), Some(5.0));
        assert_eq!(combine(Aggregation::Last, &[2.0, 4.0, 9.0]), Some(9.0));
    }

    #[test]
    fn parts_combine_like_their_days() {
        // Days 1..=5 split 2 + 3: sum 15, avg 3, last 5, from the parts alone.
        let days = [1.0, 2.0, 3.0, 4.0, 5.0];
        let parts = [PartValue { value: 1.5, days_present: 2 }, PartValue { value: 4.0, days_present: 3 }];
        let sums = [PartValue { value: 3.0, days_present: 2 }, PartValue { value: 12.0, days_present: 3 }];
        let lasts = [PartValue { value: 2.0, days_present: 2 }, PartValue { value: 5.0, days_present: 3 }];
        assert_eq!(combine_parts(Aggregation::Avg, &parts), combine(Aggregation::Avg, &days));
        assert_eq!(combine_parts(Aggregation::Sum, &sums), combine(Aggregation::Sum, &days));
        assert_eq!(combine_parts(Aggregation::Last, &lasts), combine(Aggregation::Last, &days));
        assert_eq!(combine_parts(Aggregation::Sum, &[]), None);
        assert_eq!(combine_parts(Aggregation::Avg, &[PartValue { value: f64::NAN, days_present: 3 }]), None);
    }

    #[test]
    fn combine_of_nothing_is_none_not_zero() {
        for rule in [Aggregation::Sum, Aggregation::Avg, Aggregation::Last] {
            assert_eq!(combine(rule, &[]), None);
            assert_eq!(combine(rule, &[f64::NAN]), None);
        }
    }

    #[test]
    fn window_reports_missing_days_instead_of_zero_filling() {
        // Range 1..=4 March with 2 March missing: avg = (10 + 20 + 30) / 3 = 20, not 60 / 4 = 15.
        let s = series(&[("2026-03-01", 10.0), ("2026-03-03", 20.0), ("2026-03-04", 30.0), ("2026-03-09", 99.0)]);
        let w = aggregate_window(&s, day("2026-03-01"), day("2026-03-04"), Aggregation::Avg);
        assert_eq!(w.value, Some(20.0));
        assert_eq!(w.days_present, 3);
        assert_eq!(w.days_expected, 4);
        assert_eq!(w.missing_days, vec![day("2026-03-02")]);
    }

    #[test]
    fn last_takes_the_latest_day_even_when_unsorted() {
        let s = series(&[("2026-03-03", 7.0), ("2026-03-01", 1.0), ("2026-03-02", 4.0)]);
        let w = aggregate_window(&s, day("2026-03-01"), day("2026-03-03"), Aggregation::Last);
        assert_eq!(w.value, Some(7.0));
    }

    #[test]
    fn empty_window_has_no_value() {
        let s = series(&[("2026-01-01", 5.0)]);
        let w = aggregate_window(&s, day("2026-02-01"), day("2026-02-03"), Aggregation::Sum);
        assert_eq!(w.value, None);
        assert_eq!(w.missing_days.len(), 3);
    }

    #[test]
    fn trailing_window_is_inclusive() {
        assert_eq!(trailing_window(day("2026-03-30"), 30), (day("2026-03-01"), day("2026-03-30")));
        assert_eq!(trailing_window(day("2026-03-30"), 1), (day("2026-03-30"), day("2026-03-30")));
    }
}
