//! Pattern windows: a run of anomalous events is a pattern only when a window holds enough of them
//! from enough distinct sources (the seeds' weekly 28/3/1, monthly 180/5/2, yearly 730/10/3).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::anomaly::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternWindow {
    pub window_days: u32,
    pub min_events: u32,
    pub min_distinct_sources: u32,
}

/// `Leptos.toml`'s `[analytics.patterns]`; the defaults are the seeds' values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PatternConfig {
    pub weekly: PatternWindow,
    pub monthly: PatternWindow,
    pub yearly: PatternWindow,
    /// Events below this severity do not count.
    pub min_severity: Severity,
}

impl Default for PatternConfig {
    fn default() -> Self {
        Self {
            weekly: PatternWindow { window_days: 28, min_events: 3, min_distinct_sources: 1 },
            monthly: PatternWindow { window_days: 180, min_events: 5, min_distinct_sources: 2 },
            yearly: PatternWindow { window_days: 730, min_events: 10, min_distinct_sources: 3 },
            min_severity: Severity::Warning,
        }
    }
}

impl PatternConfig {
    pub fn windows(&self) -> [(PatternKind, PatternWindow); 3] {
        [(PatternKind::Weekly, self.weekly), (PatternKind::Monthly, self.monthly), (PatternKind::Yearly, self.yearly)]
    }

    pub fn validate(&self) -> Result<(), String> {
        for (kind, w) in self.windows() {
            if w.window_days == 0 || w.min_events == 0 || w.min_distinct_sources == 0 {
                return Err(format!("`patterns.{}`: window_days, min_events and min_distinct_sources must be at least 1", kind.as_str()));
            }
            if w.min_distinct_sources > w.min_events {
                return Err(format!("`patterns.{}`: min_distinct_sources cannot exceed min_events", kind.as_str()));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    Weekly,
    Monthly,
    Yearly,
}

impl PatternKind {
    pub const ALL: [PatternKind; 3] = [PatternKind::Weekly, PatternKind::Monthly, PatternKind::Yearly];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Yearly => "yearly",
        }
    }
}

/// One anomalous point; `source` names where it came from (a metric and dimension slice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyEvent {
    pub date: NaiveDate,
    pub source: String,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    pub kind: PatternKind,
    /// The window is `[start, as_of]`, `window_days` days long.
    pub start: NaiveDate,
    pub as_of: NaiveDate,
    pub events: u32,
    /// Sorted, distinct.
    pub sources: Vec<String>,
}

/// Counts qualifying events in each window ending at `as_of` and reports the windows whose
/// thresholds both hold.
pub fn detect_patterns(events: &[AnomalyEvent], as_of: NaiveDate, config: &PatternConfig) -> Vec<Pattern> {
    config
        .windows()
        .into_iter()
        .filter_map(|(kind, w)| {
            let start = super::calendar::shift(as_of, 1 - i64::from(w.window_days));
            let inside: Vec<&AnomalyEvent> = events
                .iter()
                .filter(|e| e.severity >= config.min_severity && e.date >= start && e.date <= as_of)
                .collect();
            let mut sources: Vec<String> = inside.iter().map(|e| e.source.clone()).collect();
            sources.sort();
            sources.dedup();
            let count = inside.len() as u32;
            (count >= w.min_events && sources.len() as u32 >= w.min_distinct_sources)
                .then_some(Pattern { kind, start, as_of, events: count, sources })
        })
        .collect()
}

/// A pattern of one metric: its events come from that metric's total and slices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPattern {
    pub metric_key: String,
    pub pattern: Pattern,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

/// Runs the `kind` window over each metric's events separately (`events` pairs a metric key with
/// one of its anomalous points): a pattern is recurring trouble in one number, not a busy org.
pub fn metric_patterns(events: &[(String, AnomalyEvent)], kind: PatternKind, as_of: NaiveDate, config: &PatternConfig) -> Vec<MetricPattern> {
    let mut by_metric: std::collections::BTreeMap<&str, Vec<AnomalyEvent>> = std::collections::BTreeMap::new();
    for (metric, event) in events {
        by_metric.entry(metric.as_str()).or_default().push(event.clone());
    }
    by_metric
        .into_iter()
        .filter_map(|(metric, events)| {
            let pattern = detect_patterns(&events, as_of, config).into_iter().find(|p| p.kind == kind)?;
            let inside = events.iter().filter(|e| e.date >= pattern.start && e.date <= as_of && e.severity >= config.min_severity);
            let days: Vec<NaiveDate> = inside.map(|e| e.date).collect();
            Some(MetricPattern { metric_key: metric.to_string(), first_day: *days.iter().min()?, last_day: *days.iter().max()?, pattern })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::day;

    fn event(date: &str, source: &str, severity: Severity) -> AnomalyEvent {
        AnomalyEvent { date: day(date), source: source.into(), severity }
    }

    #[test]
    fn patterns_are_found_per_metric_with_their_first_and_last_day() {
        let as_of = day("2026-03-31");
        let e = |metric: &str, date: &str, source: &str| (metric.to_string(), event(date, source, Severity::Warning));
        let events = vec![
            e("revenue", "2026-03-10", "revenue"),
            e("revenue", "2026-03-17", "revenue region=EMEA"),
            e("revenue", "2026-03-24", "revenue"),
            e("orders", "2026-03-10", "orders"),
            e("orders", "2026-03-24", "orders"),
            // Three events over two metrics are not a pattern of either.
        ];
        let found = metric_patterns(&events, PatternKind::Weekly, as_of, &PatternConfig::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].metric_key, "revenue");
        assert_eq!((found[0].first_day, found[0].last_day), (day("2026-03-10"), day("2026-03-24")));
        assert_eq!(found[0].pattern.sources, vec!["revenue".to_string(), "revenue region=EMEA".to_string()]);
        assert!(metric_patterns(&events, PatternKind::Monthly, as_of, &PatternConfig::default()).is_empty(), "monthly needs five");
    }

    #[test]
    fn weekly_needs_three_events_in_28_days() {
        let as_of = day("2026-03-31");
        // 28-day window: 2026-03-04 … 2026-03-31.
        let mut events = vec![
            event("2026-03-04", "revenue/EMEA", Severity::Warning),
            event("2026-03-20", "revenue/EMEA", Severity::Critical),
            event("2026-03-03", "revenue/EMEA", Severity::Critical), // one day too old
            event("2026-03-25", "revenue/EMEA", Severity::Info),     // below warning
        ];
        assert!(detect_patterns(&events, as_of, &PatternConfig::default()).is_empty());
        events.push(event("2026-03-31", "revenue/EMEA", Severity::Warning));
        let found = detect_patterns(&events, as_of, &PatternConfig::default());
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].kind, found[0].events, found[0].start), (PatternKind::Weekly, 3, day("2026-03-04")));
    }

    #[test]
    fn monthly_needs_two_sources() {
        let as_of = day("2026-06-30");
        let same_source: Vec<AnomalyEvent> =
            (1..=5).map(|d| event(&format!("2026-06-{:02}", d * 5), "orders/web", Severity::Warning)).collect();
        let kinds = |events: &[AnomalyEvent]| -> Vec<PatternKind> { detect_patterns(events, as_of, &PatternConfig::default()).iter().map(|p| p.kind).collect() };
        // Five events in June: weekly (the last 28 days hold 06-05 … 06-25: 5) but not monthly (one source).
        assert_eq!(kinds(&same_source), vec![PatternKind::Weekly]);
        let mut two_sources = same_source.clone();
        two_sources[0].source = "orders/mobile".into();
        assert_eq!(kinds(&two_sources), vec![PatternKind::Weekly, PatternKind::Monthly]);
    }

    #[test]
    fn validation_rejects_impossible_windows() {
        assert_eq!(PatternConfig::default().validate(), Ok(()));
        let mut bad = PatternConfig::default();
        bad.yearly.min_distinct_sources = 20;
        assert!(bad.validate().is_err_and(|m| m.contains("patterns.yearly")));
    }
}
