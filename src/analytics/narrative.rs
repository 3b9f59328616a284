//! Plain-language sentences built from computed results; every number in them comes from inputs.
//! Pages, chart summaries and (later) the board narrative render these.

use super::delta::{ChangeAssessment, PeriodComparison};
use crate::format::{format_relative, format_value};

/// "Revenue was $2.52M in the last 30 days, up 4.5% on the previous 30 days (good)."
pub fn period_change_sentence(label: &str, unit: &str, days: u32, comparison: &PeriodComparison) -> String {
    let Some(current) = comparison.current.value else {
        return format!("{label} has no data in the last {days} days.");
    };
    let mut sentence = format!("{label} was {} in the last {days} days", format_value(current, unit));
    let d = &comparison.delta;
    match (d.relative, d.absolute) {
        (Some(r), _) if d.assessment == ChangeAssessment::Unchanged => {
            sentence.push_str(&format!(", unchanged ({}) on the previous {days} days", format_relative(Some(r))));
        }
        (Some(r), _) => {
            let word = if r >= 0.0 { "up" } else { "down" };
            let pct = format_relative(Some(r.abs())).trim_start_matches('+').to_string();
            sentence.push_str(&format!(", {word} {pct} on the previous {days} days"));
        }
        (None, Some(a)) => {
            sentence.push_str(&format!(", a change of {} on the previous {days} days", format_value(a, unit)));
        }
        (None, None) => sentence.push_str(&format!("; the previous {days} days have no data to compare")),
    }
    match d.assessment {
        ChangeAssessment::Good => sentence.push_str(" (good)"),
        ChangeAssessment::Bad => sentence.push_str(" (bad)"),
        _ => {}
    }
    let missing = comparison.current.missing_days.len();
    if missing > 0 {
        sentence.push_str(&format!("; {missing} of {days} days have no data"));
    }
    sentence.push('.');
    sentence
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::delta::last_n_vs_previous_n;
    use crate::analytics::{day, Aggregation, DailyValue, Direction};

    fn comparison(values: &[f64], direction: Direction) -> PeriodComparison {
        let series: Vec<DailyValue> = values
            .iter()
            .enumerate()
            .map(|(i, v)| DailyValue::new(day("2026-01-01") + chrono::Duration::days(i as i64), *v))
            .collect();
        let as_of = series.last().map(|p| p.date).unwrap_or(day("2026-01-01"));
        last_n_vs_previous_n(&series, as_of, 2, Aggregation::Sum, direction)
    }

    #[test]
    fn sentence_carries_value_change_and_judgement() {
        // Current 30 + 30 = 60, previous 20 + 20 = 40 -> +50 %.
        let c = comparison(&[20.0, 20.0, 30.0, 30.0], Direction::HigherIsBetter);
        assert_eq!(
            period_change_sentence("Orders", "count", 2, &c),
            "Orders was 60 in the last 2 days, up 50.0% on the previous 2 days (good)."
        );
        let c = comparison(&[20.0, 20.0, 30.0, 30.0], Direction::LowerIsBetter);
        assert!(period_change_sentence("Tickets", "count", 2, &c).ends_with("(bad)."));
    }

    #[test]
    fn no_previous_data_is_said_plainly() {
        let c = comparison(&[5.0, 5.0], Direction::HigherIsBetter);
        assert_eq!(
            period_change_sentence("Orders", "count", 2, &c),
            "Orders was 10 in the last 2 days; the previous 2 days have no data to compare."
        );
    }
}
