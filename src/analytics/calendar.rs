//! Calendar periods (ISO week, month, quarter, year): grouping a daily series by period, and the
//! WoW / MoM / QoQ / YoY deltas between the last complete period and its comparison period.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::aggregate::{aggregate_window, WindowAggregate};
use super::delta::{delta, Delta};
use super::{Aggregation, DailyValue, Direction};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// ISO 8601 week, Monday to Sunday.
    Week,
    Month,
    Quarter,
    Year,
}

/// One calendar period: its first and last day and a label such as `2026-W47`, `2026-11`,
/// `2026-Q4` or `2026`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub label: String,
}

/// `date` moved by `days`, stopping at the ends of chrono's calendar instead of panicking: inputs
/// are checked at the boundary (years 1900-2200), and this keeps any that slip through harmless.
pub fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    Duration::try_days(days).and_then(|d| date.checked_add_signed(d)).unwrap_or(if days < 0 { NaiveDate::MIN } else { NaiveDate::MAX })
}

fn first_of_month(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
}

fn month_end(year: i32, month: u32) -> NaiveDate {
    let (y, m) = if month == 12 { (year.saturating_add(1), 1) } else { (year, month + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).map_or(NaiveDate::MAX, |next| shift(next, -1))
}

/// The period of `granularity` that contains `date`.
pub fn period_containing(date: NaiveDate, granularity: Granularity) -> Period {
    match granularity {
        Granularity::Week => {
            let start = shift(date, -(date.weekday().num_days_from_monday() as i64));
            let iso = date.iso_week();
            Period { start, end: shift(start, 6), label: format!("{}-W{:02}", iso.year(), iso.week()) }
        }
        Granularity::Month => Period {
            start: first_of_month(date.year(), date.month()),
            end: month_end(date.year(), date.month()),
            label: format!("{}-{:02}", date.year(), date.month()),
        },
        Granularity::Quarter => {
            let q = (date.month() - 1) / 3;
            Period {
                start: first_of_month(date.year(), q * 3 + 1),
                end: month_end(date.year(), q * 3 + 3),
                label: format!("{}-Q{}", date.year(), q + 1),
            }
        }
        Granularity::Year => Period {
            start: first_of_month(date.year(), 1),
            end: month_end(date.year(), 12),
            label: date.year().to_string(),
        },
    }
}

/// The period just after `period`; `None` at the end of the calendar.
pub fn next_period(period: &Period, granularity: Granularity) -> Option<Period> {
    let next = period_containing(shift(period.end, 1), granularity);
    (next.start > period.start).then_some(next)
}

/// The period just before `period`.
pub fn previous_period(period: &Period, granularity: Granularity) -> Period {
    period_containing(shift(period.start, -1), granularity)
}

/// The same period one year earlier (ISO week N of the previous ISO year, same month, quarter).
pub fn same_period_last_year(period: &Period, granularity: Granularity) -> Period {
    let anchor = match granularity {
        // 52 weeks back keeps weekdays aligned, the usual retail convention.
        Granularity::Week => shift(period.start, -52 * 7),
        _ => period.start.with_year(period.start.year().saturating_sub(1)).unwrap_or_else(|| shift(period.start, -365)),
    };
    period_containing(anchor, granularity)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodAggregate {
    pub period: Period,
    pub aggregate: WindowAggregate,
}

/// Groups `series` by calendar period, oldest first, covering every period from the first to the
/// last day present. Edge periods are partial: their missing days are listed, not zero-filled.
pub fn aggregate_by(series: &[DailyValue], granularity: Granularity, rule: Aggregation) -> Vec<PeriodAggregate> {
    let (Some(first), Some(last)) = (series.iter().map(|p| p.date).min(), series.iter().map(|p| p.date).max()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut period = Some(period_containing(first, granularity));
    while let Some(p) = period.filter(|p| p.start <= last) {
        let aggregate = aggregate_window(series, p.start, p.end, rule);
        period = next_period(&p, granularity);
        out.push(PeriodAggregate { period: p, aggregate });
    }
    out
}

/// Which period the last complete one is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// WoW, MoM, QoQ (and year over previous year for `Year`).
    PreviousPeriod,
    /// YoY: the same week, month or quarter a year earlier.
    SamePeriodLastYear,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarDelta {
    pub current: PeriodAggregate,
    pub baseline: PeriodAggregate,
    pub delta: Delta,
}

/// The last complete period ending on or before `as_of`, against its comparison period.
pub fn calendar_delta(
    series: &[DailyValue],
    as_of: NaiveDate,
    granularity: Granularity,
    comparison: Comparison,
    rule: Aggregation,
    direction: Direction,
) -> CalendarDelta {
    let containing = period_containing(as_of, granularity);
    let current = if containing.end == as_of { containing } else { previous_period(&containing, granularity) };
    let baseline = match comparison {
        Comparison::PreviousPeriod => previous_period(&current, granularity),
        Comparison::SamePeriodLastYear => same_period_last_year(&current, granularity),
    };
    let current_agg = aggregate_window(series, current.start, current.end, rule);
    let baseline_agg = aggregate_window(series, baseline.start, baseline.end, rule);
    let delta = delta(current_agg.value, baseline_agg.value, direction);
    CalendarDelta {
        current: PeriodAggregate { period: current, aggregate: current_agg },
        baseline: PeriodAggregate { period: baseline, aggregate: baseline_agg },
        delta,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::day;
    use proptest::prelude::*;

    fn constant(from: &str, days: i64, value: f64) -> Vec<DailyValue> {
        (0..days).map(|i| DailyValue::new(day(from) + Duration::days(i), value)).collect()
    }

    #[test]
    fn periods_and_labels() {
        // 2026-11-23 is a Monday in ISO week 48.
        let w = period_containing(day("2026-11-25"), Granularity::Week);
        assert_eq!((w.start, w.end, w.label.as_str()), (day("2026-11-23"), day("2026-11-29"), "2026-W48"));
        // 1 Jan 2027 is a Friday: ISO week 53 of 2026.
        assert_eq!(period_containing(day("2027-01-01"), Granularity::Week).label, "2026-W53");
        let m = period_containing(day("2028-02-10"), Granularity::Month);
        assert_eq!((m.start, m.end), (day("2028-02-01"), day("2028-02-29")), "leap February");
        let q = period_containing(day("2026-11-23"), Granularity::Quarter);
        assert_eq!((q.start, q.end, q.label.as_str()), (day("2026-10-01"), day("2026-12-31"), "2026-Q4"));
        assert_eq!(period_containing(day("2026-05-05"), Granularity::Year).label, "2026");
    }

    #[test]
    fn monthly_sum_and_partial_edges() {
        // 20 Jan .. 10 Feb at 1 per day: January has 12 days present of 31, February 10 of 28.
        let s = constant("2026-01-20", 22, 1.0);
        let months = aggregate_by(&s, Granularity::Month, Aggregation::Sum);
        assert_eq!(months.len(), 2);
        assert_eq!(months[0].aggregate.value, Some(12.0));
        assert_eq!(months[0].aggregate.days_present, 12);
        assert_eq!(months[0].aggregate.missing_days.len(), 19);
        assert_eq!(months[1].aggregate.value, Some(10.0));
        assert_eq!(months[1].aggregate.missing_days.len(), 18);
    }

    #[test]
    fn avg_is_weighted_by_days_present() {
        // Week of 2026-11-23: Mon..Wed at 10, Thu at 30, Fri–Sun missing -> (10+10+10+30) / 4 = 15.
        let mut s = constant("2026-11-23", 3, 10.0);
        s.push(DailyValue::new(day("2026-11-26"), 30.0));
        let weeks = aggregate_by(&s, Granularity::Week, Aggregation::Avg);
        assert_eq!(weeks[0].aggregate.value, Some(15.0));
    }

    #[test]
    fn month_over_month_uses_the_last_complete_month() {
        // October at 2 per day (31 days = 62), September at 1 per day (30 days = 30).
        // as_of 15 November: November is incomplete, so October vs September: (62 − 30) / 30.
        let mut s = constant("2026-09-01", 30, 1.0);
        s.extend(constant("2026-10-01", 31, 2.0));
        s.extend(constant("2026-11-01", 15, 5.0));
        let d = calendar_delta(&s, day("2026-11-15"), Granularity::Month, Comparison::PreviousPeriod, Aggregation::Sum, Direction::HigherIsBetter);
        assert_eq!(d.current.period.label, "2026-10");
        assert_eq!(d.baseline.period.label, "2026-09");
        assert_eq!(d.delta.relative, Some(32.0 / 30.0));
    }

    #[test]
    fn year_over_year_compares_the_same_month() {
        let mut s = constant("2025-10-01", 31, 4.0);
        s.extend(constant("2026-10-01", 31, 5.0));
        let d = calendar_delta(&s, day("2026-10-31"), Granularity::Month, Comparison::SamePeriodLastYear, Aggregation::Avg, Direction::HigherIsBetter);
        assert_eq!(d.baseline.period.label, "2025-10");
        assert_eq!(d.delta.relative, Some(0.25)); // (5 − 4) / 4
        let w = same_period_last_year(&period_containing(day("2026-11-25"), Granularity::Week), Granularity::Week);
        assert_eq!(w.start, day("2025-11-24"), "52 weeks back, still a Monday");
    }

    proptest! {
        #[test]
        fn aggregating_a_sum_metric_preserves_the_total(
            values in proptest::collection::vec(0f64..1e6, 1..400),
            offset in 0i64..3000,
            granularity in prop_oneof![Just(Granularity::Week), Just(Granularity::Month), Just(Granularity::Quarter), Just(Granularity::Year)],
        ) {
            let start = day("2020-01-01") + Duration::days(offset);
            let series: Vec<DailyValue> = values.iter().enumerate()
                .map(|(i, v)| DailyValue::new(start + Duration::days(i as i64), *v)).collect();
            let total: f64 = values.iter().sum();
            let grouped: f64 = aggregate_by(&series, granularity, Aggregation::Sum)
                .iter().filter_map(|p| p.aggregate.value).sum();
            prop_assert!((total - grouped).abs() <= 1e-9 * total.max(1.0));
        }

        #[test]
        fn deltas_are_antisymmetric(a in -1e6f64..1e6, b in -1e6f64..1e6) {
            let forward = delta(Some(a), Some(b), Direction::HigherIsBetter);
            let backward = delta(Some(b), Some(a), Direction::HigherIsBetter);
            prop_assert_eq!(forward.absolute.map(|x| -x), backward.absolute);
        }
    }

    proptest! {
        /// Periods of any day chrono can hold, even at the ends of its calendar, never panic.
        #[test]
        fn periods_of_any_day_never_panic(n in i64::from(NaiveDate::MIN.num_days_from_ce())..=i64::from(NaiveDate::MAX.num_days_from_ce()), g in 0usize..4) {
            let date = NaiveDate::from_num_days_from_ce_opt(n as i32).expect("in chrono's range");
            let grain = [Granularity::Week, Granularity::Month, Granularity::Quarter, Granularity::Year][g];
            let p = period_containing(date, grain);
            prop_assert!(p.start <= p.end);
            let _ = previous_period(&p, grain);
            let _ = same_period_last_year(&p, grain);
            let series = [DailyValue::new(date, 1.0)];
            prop_assert!(!aggregate_by(&series, grain, Aggregation::Sum).is_empty());
        }
    }

    #[test]
    fn the_ends_of_the_calendar_are_periods_too() {
        for grain in [Granularity::Week, Granularity::Month, Granularity::Quarter, Granularity::Year] {
            for date in [NaiveDate::MIN, NaiveDate::MAX] {
                let p = period_containing(date, grain);
                let _ = previous_period(&p, grain);
                let _ = same_period_last_year(&p, grain);
                assert_eq!(aggregate_by(&[DailyValue::new(date, 1.0)], grain, Aggregation::Sum).len(), 1);
            }
        }
        assert_eq!(shift(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(shift(NaiveDate::MIN, -1), NaiveDate::MIN);
        assert_eq!(shift(NaiveDate::MIN, i64::MIN), NaiveDate::MIN);
    }
}
