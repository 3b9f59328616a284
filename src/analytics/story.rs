//! The written narrative of a period: a headline and 3-6 short paragraphs composed from cited facts
//! (performance against the previous period and last year, the largest movements and their
//! drivers, unusual days and what was decided, the outlook for the next period). Every sentence
//! names the facts it came from, and its numbers are theirs, formatted as the pages format them.
//! Deterministic: the same facts give the same words.

use serde::{Deserialize, Serialize};

use super::delta::ChangeAssessment;
use super::narrative::Fact;
use crate::domain::recommendations::RecommendationStatus;
use crate::format::{format_relative, format_value};

/// Who a narrative is written for; it decides which facts (and so which metrics) it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Board,
    Manager,
}

crate::domain::text_enum!(Audience {
    Audience::Board => "board",
    Audience::Manager => "manager",
});

/// Who wrote a stored narrative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// [`compose`]: the same facts give the same words.
    Deterministic,
    /// A language model, its text checked by `analytics::guard`.
    Llm,
}

crate::domain::text_enum!(Author {
    Author::Deterministic => "deterministic",
    Author::Llm => "llm",
});

/// Why a narrative was stored: its period closed (the schedule), or someone opened it first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredBy {
    Scheduled,
    FirstView,
}

crate::domain::text_enum!(StoredBy {
    StoredBy::Scheduled => "scheduled",
    StoredBy::FirstView => "first_view",
});

/// What the period's findings became: still open, or an admin's decision with its note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub status: RecommendationStatus,
    pub note: Option<String>,
}

/// A fact with the id sentences cite it by, the view that shows its numbers, and (for a flagged
/// day) what was decided about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitedFact {
    pub id: String,
    pub fact: Fact,
    pub href: String,
    pub decision: Option<Decision>,
    /// The fact names a slice (a driver, a flagged region): readers who see the metric only as
    /// org-wide totals must not be shown it.
    #[serde(default)]
    pub names_slice: bool,
}

impl CitedFact {
    /// The fact's own sentence, with the decision when there is one: the text whose numbers a
    /// sentence citing it may use.
    pub fn text(&self) -> String {
        let mut text = self.fact.sentence();
        if let Some(d) = &self.decision {
            text.push_str(&format!(" Decision: {}", d.status.as_str()));
            if let Some(note) = d.note.as_deref().filter(|n| !n.trim().is_empty()) {
                text.push_str(&format!(" ({})", short_note(note)));
            }
            text.push('.');
        }
        text
    }
}

/// A note is quoted at most this long.
const NOTE_CHARS: usize = 120;

fn short_note(note: &str) -> String {
    let trimmed = note.trim();
    match trimmed.char_indices().nth(NOTE_CHARS) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sentence {
    pub text: String,
    /// Ids of the [`CitedFact`]s the sentence came from.
    pub cites: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Performance,
    Movements,
    Anomalies,
    Outlook,
}

impl Topic {
    pub fn heading(self) -> &'static str {
        match self {
            Topic::Performance => "Performance",
            Topic::Movements => "Largest movements",
            Topic::Anomalies => "Unusual days",
            Topic::Outlook => "Outlook",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paragraph {
    pub topic: Topic,
    pub sentences: Vec<Sentence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narrative {
    pub headline: Sentence,
    pub paragraphs: Vec<Paragraph>,
}

impl Narrative {
    pub fn sentences(&self) -> impl Iterator<Item = &Sentence> {
        std::iter::once(&self.headline).chain(self.paragraphs.iter().flat_map(|p| p.sentences.iter()))
    }

    /// The narrative as plain text: the headline, then one line per paragraph.
    pub fn plain_text(&self) -> String {
        let mut out = self.headline.text.clone();
        for p in &self.paragraphs {
            out.push('\n');
            out.push_str(&p.sentences.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" "));
        }
        out
    }
}

/// The labels of the period a narrative covers; their numbers (years) may appear in any sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodLabels {
    pub current: String,
    pub previous: String,
    pub last_year: String,
    pub next: String,
}

/// The facts of a period, grouped as the narrative uses them. Each list holds facts of one kind.
#[derive(Debug, Clone, Default)]
pub struct StoryFacts {
    /// One [`Fact::Change`] per KPI against the previous period, in catalogue order.
    pub vs_previous: Vec<CitedFact>,
    /// One [`Fact::Change`] per KPI against the same period last year.
    pub vs_last_year: Vec<CitedFact>,
    /// The largest movements: a [`Fact::Change`] each, followed by its [`Fact::Driver`] if any.
    pub movements: Vec<CitedFact>,
    /// Flagged days of the period, most severe first, each with its decision.
    pub anomalies: Vec<CitedFact>,
    /// One [`Fact::PeriodForecast`] per KPI that can be forecast for the next period.
    pub outlook: Vec<CitedFact>,
}

impl StoryFacts {
    /// Every fact, in the order ids were given.
    pub fn all(&self) -> Vec<CitedFact> {
        [&self.vs_previous, &self.vs_last_year, &self.movements, &self.anomalies, &self.outlook].into_iter().flatten().cloned().collect()
    }
}

/// Gives every fact its id ("f1", "f2", …) in the order of [`StoryFacts::all`].
pub fn number_facts(facts: &mut StoryFacts) {
    let mut n = 0;
    for list in [&mut facts.vs_previous, &mut facts.vs_last_year, &mut facts.movements, &mut facts.anomalies, &mut facts.outlook] {
        for f in list.iter_mut() {
            n += 1;
            f.id = format!("f{n}");
        }
    }
}

/// The forecast of `metric` for the whole of `period` (by its aggregation rule, the band from the
/// daily bands' edges) against `baseline_value`, the period just closed. `None` when the forecast
/// does not cover every day of the period.
pub fn period_forecast_fact(
    metric: super::narrative::MetricRef,
    period: &super::calendar::Period,
    points: &[super::forecast::ForecastPoint],
    rule: super::Aggregation,
    direction: super::Direction,
    baseline: (&str, f64),
) -> Option<Fact> {
    use super::aggregate::aggregate_window;
    use super::DailyValue;
    let series = |pick: fn(&super::forecast::ForecastPoint) -> f64| -> Vec<DailyValue> { points.iter().map(|p| DailyValue::new(p.date, pick(p))).collect() };
    let window = |s: &[DailyValue]| aggregate_window(s, period.start, period.end, rule);
    let middle = window(&series(|p| p.value));
    if middle.days_present != middle.days_expected {
        return None;
    }
    let (value, low, high) = (middle.value?, window(&series(|p| p.low)).value?, window(&series(|p| p.high)).value?);
    let d = super::delta::delta(Some(value), Some(baseline.1), direction);
    Some(Fact::PeriodForecast {
        metric,
        period: period.label.clone(),
        value,
        low,
        high,
        baseline: baseline.0.to_string(),
        baseline_value: baseline.1,
        relative: d.relative,
        assessment: d.assessment,
    })
}

/// Flagged days named one by one at most; the rest are counted.
const NAMED_ANOMALIES: usize = 3;
/// KPIs the outlook names at most.
const NAMED_OUTLOOK: usize = 3;

/// The deterministic narrative of `facts`.
pub fn compose(labels: &PeriodLabels, facts: &StoryFacts) -> Narrative {
    let mut paragraphs = vec![performance(labels, facts)];
    if !facts.movements.is_empty() {
        paragraphs.push(Paragraph { topic: Topic::Movements, sentences: facts.movements.iter().map(own_sentence).collect() });
    }
    paragraphs.push(anomalies(labels, &facts.anomalies));
    paragraphs.push(outlook(labels, &facts.outlook));
    Narrative { headline: headline(labels, facts), paragraphs }
}

fn own_sentence(f: &CitedFact) -> Sentence {
    Sentence { text: f.text(), cites: vec![f.id.clone()] }
}

fn change_of(f: &CitedFact) -> Option<(Option<f64>, ChangeAssessment)> {
    match &f.fact {
        Fact::Change { relative, assessment, .. } => Some((*relative, *assessment)),
        _ => None,
    }
}

/// "October 2026: Revenue down 15.0% on September 2026, mostly EMEA (region)." The largest
/// relative movement, with its main driver when one is known.
fn headline(labels: &PeriodLabels, facts: &StoryFacts) -> Sentence {
    let Some(top) = facts.movements.iter().find(|f| matches!(f.fact, Fact::Change { .. })) else {
        return Sentence { text: format!("{}: no KPI can be compared with {}.", labels.current, labels.previous), cites: Vec::new() };
    };
    let Fact::Change { metric, relative, absolute, assessment, .. } = &top.fact else {
        return own_sentence(top);
    };
    let mut cites = vec![top.id.clone()];
    let mut text = match (relative, assessment) {
        (Some(_), ChangeAssessment::Unchanged) => format!("{}: {} unchanged on {}", labels.current, metric.label, labels.previous),
        (Some(r), _) => {
            let word = if *r >= 0.0 { "up" } else { "down" };
            format!("{}: {} {word} {} on {}", labels.current, metric.label, percent(r.abs()), labels.previous)
        }
        (None, _) => format!("{}: {} changed by {} on {}", labels.current, metric.label, format_value(*absolute, &metric.unit), labels.previous),
    };
    let driver = facts.movements.iter().skip_while(|f| f.id != top.id).nth(1).filter(|f| matches!(f.fact, Fact::Driver { .. }));
    if let Some(Fact::Driver { dimension, value, .. }) = driver.map(|d| &d.fact) {
        text.push_str(&format!(", mostly {value} ({dimension})"));
        cites.extend(driver.map(|d| d.id.clone()));
    }
    text.push('.');
    Sentence { text, cites }
}

/// 0.15 -> "15.0%": the magnitude of a relative change as the pages show it.
fn percent(magnitude: f64) -> String {
    format_relative(Some(magnitude)).trim_start_matches('+').to_string()
}

/// "Of 9 KPIs, 5 improved on September 2026, 3 worsened and 1 was unchanged." Then the same
/// against last year, and the first KPI's value with both comparisons.
fn performance(labels: &PeriodLabels, facts: &StoryFacts) -> Paragraph {
    let mut sentences = Vec::new();
    if let Some(s) = tally(&facts.vs_previous, &labels.previous, true) {
        sentences.push(s);
    }
    if let Some(s) = tally(&facts.vs_last_year, &labels.last_year, false) {
        sentences.push(s);
    }
    if let Some(first) = facts.vs_previous.first() {
        sentences.push(lead_kpi(first, facts.vs_last_year.iter().find(|f| f.fact.metric().key == first.fact.metric().key), labels));
    }
    if sentences.is_empty() {
        sentences.push(Sentence { text: format!("No KPI has data for {}.", labels.current), cites: Vec::new() });
    }
    Paragraph { topic: Topic::Performance, sentences }
}

fn tally(changes: &[CitedFact], baseline: &str, with_total: bool) -> Option<Sentence> {
    if changes.is_empty() {
        return None;
    }
    let count = |want: ChangeAssessment| changes.iter().filter(|f| change_of(f).is_some_and(|(_, a)| a == want)).count();
    let (good, bad, same) = (count(ChangeAssessment::Good), count(ChangeAssessment::Bad), count(ChangeAssessment::Unchanged));
    let mut parts = vec![format!("{good} improved on {baseline}"), format!("{bad} worsened")];
    if same > 0 {
        parts.push(format!("{same} {} unchanged", if same == 1 { "was" } else { "were" }));
    }
    let last = parts.pop().unwrap_or_default();
    let listed = if parts.is_empty() { last } else { format!("{} and {last}", parts.join(", ")) };
    let text = if with_total {
        format!("Of {} KPIs with data to compare, {listed}.", changes.len())
    } else {
        format!("Against {baseline}, {}.", listed.replacen(&format!(" on {baseline}"), "", 1))
    };
    Some(Sentence { text, cites: changes.iter().map(|f| f.id.clone()).collect() })
}

/// "Revenue was $2.52M, up 4.5% on September 2026 and up 12.0% on October 2025."
fn lead_kpi(previous: &CitedFact, last_year: Option<&CitedFact>, labels: &PeriodLabels) -> Sentence {
    let Fact::Change { metric, current, .. } = &previous.fact else {
        return own_sentence(previous);
    };
    let movement = |f: &CitedFact, baseline: &str| match change_of(f) {
        Some((_, ChangeAssessment::Unchanged)) => format!("unchanged on {baseline}"),
        Some((Some(r), _)) => format!("{} {} on {baseline}", if r >= 0.0 { "up" } else { "down" }, percent(r.abs())),
        _ => format!("not comparable with {baseline}"),
    };
    let mut text = format!("{} was {} in {}, {}", metric.label, format_value(*current, &metric.unit), labels.current, movement(previous, &labels.previous));
    let mut cites = vec![previous.id.clone()];
    if let Some(ly) = last_year {
        text.push_str(&format!(" and {}", movement(ly, &labels.last_year)));
        cites.push(ly.id.clone());
    }
    text.push('.');
    Sentence { text, cites }
}

/// "3 unusual days were flagged in October 2026: 1 accepted, 1 dismissed and 1 still open." Then
/// the most severe ones, each with its decision.
fn anomalies(labels: &PeriodLabels, flagged: &[CitedFact]) -> Paragraph {
    if flagged.is_empty() {
        let text = format!("No unusual days were flagged in {}.", labels.current);
        return Paragraph { topic: Topic::Anomalies, sentences: vec![Sentence { text, cites: Vec::new() }] };
    }
    let count = |want: RecommendationStatus| flagged.iter().filter(|f| f.decision.as_ref().is_some_and(|d| d.status == want)).count();
    let (open, accepted, dismissed) = (count(RecommendationStatus::Open), count(RecommendationStatus::Accepted), count(RecommendationStatus::Dismissed));
    let days = if flagged.len() == 1 { "unusual day was" } else { "unusual days were" };
    let text = format!("{} {days} flagged in {}: {accepted} accepted, {dismissed} dismissed and {open} still open.", flagged.len(), labels.current);
    let mut sentences = vec![Sentence { text, cites: flagged.iter().map(|f| f.id.clone()).collect() }];
    sentences.extend(flagged.iter().take(NAMED_ANOMALIES).map(own_sentence));
    Paragraph { topic: Topic::Anomalies, sentences }
}

/// The KPIs forecast to worsen in the next period (up to three), or a sentence saying none is.
fn outlook(labels: &PeriodLabels, forecasts: &[CitedFact]) -> Paragraph {
    let worsening: Vec<&CitedFact> = forecasts
        .iter()
        .filter(|f| matches!(f.fact, Fact::PeriodForecast { assessment: ChangeAssessment::Bad, .. }))
        .take(NAMED_OUTLOOK)
        .collect();
    let sentences = if forecasts.is_empty() {
        vec![Sentence { text: format!("There is not enough history to forecast {}.", labels.next), cites: Vec::new() }]
    } else if worsening.is_empty() {
        let text = format!("The forecasts for {} show no KPI worse than in {}.", labels.next, labels.current);
        vec![Sentence { text, cites: forecasts.iter().map(|f| f.id.clone()).collect() }]
    } else {
        worsening.into_iter().map(own_sentence).collect()
    };
    Paragraph { topic: Topic::Outlook, sentences }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analytics::anomaly::Severity;
    use crate::analytics::narrative::MetricRef;
    use crate::analytics::{day, Direction};

    pub(crate) fn labels() -> PeriodLabels {
        PeriodLabels { current: "October 2026".into(), previous: "September 2026".into(), last_year: "October 2025".into(), next: "November 2026".into() }
    }

    fn metric(key: &str, label: &str, unit: &str) -> MetricRef {
        MetricRef { key: key.into(), label: label.into(), unit: unit.into() }
    }

    fn cited(fact: Fact) -> CitedFact {
        CitedFact { id: String::new(), fact, href: "/dashboard".into(), decision: None, names_slice: false }
    }

    pub(crate) fn change(m: &MetricRef, baseline: &str, current: f64, previous: f64) -> CitedFact {
        let d = crate::analytics::delta::delta(Some(current), Some(previous), Direction::HigherIsBetter);
        cited(Fact::Change {
            metric: m.clone(),
            period: "October 2026".into(),
            baseline: baseline.into(),
            current,
            previous,
            absolute: current - previous,
            relative: d.relative,
            assessment: d.assessment,
        })
    }

    /// Revenue 850 vs 1,000 (−15 %, EMEA −140 of it), orders 120 vs 100 (+20 %), NPS unchanged;
    /// one critical day accepted, one warning open; revenue forecast to fall.
    pub(crate) fn sample() -> StoryFacts {
        let (revenue, orders, nps) = (metric("revenue", "Revenue", "USD"), metric("orders", "Orders", "count"), metric("nps", "NPS", "score"));
        let mut facts = StoryFacts {
            vs_previous: vec![change(&revenue, "September 2026", 850.0, 1000.0), change(&orders, "September 2026", 120.0, 100.0), change(&nps, "September 2026", 40.0, 40.0)],
            vs_last_year: vec![change(&revenue, "October 2025", 850.0, 800.0), change(&orders, "October 2025", 120.0, 130.0)],
            movements: vec![
                change(&orders, "September 2026", 120.0, 100.0),
                change(&revenue, "September 2026", 850.0, 1000.0),
                cited(Fact::Driver { metric: revenue.clone(), dimension: "region".into(), value: "EMEA".into(), change: -140.0, total_change: -150.0, share_of_change: 0.9333 }),
            ],
            anomalies: vec![
                CitedFact {
                    decision: Some(Decision { status: RecommendationStatus::Accepted, note: Some("Supplier outage".into()) }),
                    ..cited(Fact::Anomaly { metric: revenue.clone(), date: day("2026-10-20"), observed: 5.0, expected: 30.0, band_low: 25.0, band_high: 35.0, severity: Severity::Critical })
                },
                CitedFact {
                    decision: Some(Decision { status: RecommendationStatus::Open, note: None }),
                    ..cited(Fact::Anomaly { metric: orders.clone(), date: day("2026-10-02"), observed: 9.0, expected: 4.0, band_low: 3.0, band_high: 5.0, severity: Severity::Warning })
                },
            ],
            outlook: vec![cited(Fact::PeriodForecast {
                metric: revenue,
                period: "November 2026".into(),
                value: 800.0,
                low: 700.0,
                high: 900.0,
                baseline: "October 2026".into(),
                baseline_value: 850.0,
                relative: Some(800.0 / 850.0 - 1.0),
                assessment: ChangeAssessment::Bad,
            })],
        };
        number_facts(&mut facts);
        facts
    }

    #[test]
    fn the_narrative_of_a_period_says_what_changed_why_what_was_decided_and_what_is_next() {
        let n = compose(&labels(), &sample());
        assert_eq!(n.headline.text, "October 2026: Orders up 20.0% on September 2026.");
        assert_eq!(n.headline.cites, vec!["f6"]);
        let topics: Vec<Topic> = n.paragraphs.iter().map(|p| p.topic).collect();
        assert_eq!(topics, vec![Topic::Performance, Topic::Movements, Topic::Anomalies, Topic::Outlook]);
        let text: Vec<&str> = n.paragraphs[0].sentences.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            text,
            vec![
                "Of 3 KPIs with data to compare, 1 improved on September 2026, 1 worsened and 1 was unchanged.",
                "Against October 2025, 1 improved and 1 worsened.",
                "Revenue was $850.00 in October 2026, down 15.0% on September 2026 and up 6.2% on October 2025.",
            ]
        );
        assert_eq!(n.paragraphs[0].sentences[2].cites, vec!["f1", "f4"]);
        let anomalies: Vec<&str> = n.paragraphs[2].sentences.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(anomalies[0], "2 unusual days were flagged in October 2026: 1 accepted, 0 dismissed and 1 still open.");
        assert!(anomalies[1].ends_with("critical. Decision: accepted (Supplier outage)."), "{}", anomalies[1]);
        assert_eq!(n.paragraphs[3].sentences[0].text, "Revenue is forecast at $800.00 for November 2026 (between $700.00 and $900.00), down 5.9% on October 2026 (bad).");
        assert!((3..=6).contains(&n.paragraphs.len()));
        assert_eq!(compose(&labels(), &sample()), n, "the same facts give the same words");
    }

    #[test]
    fn a_period_forecast_adds_up_its_days_and_needs_all_of_them() {
        use crate::analytics::calendar::{period_containing, Granularity};
        use crate::analytics::forecast::ForecastPoint;
        use crate::analytics::Aggregation;
        let november = period_containing(day("2026-11-10"), Granularity::Month);
        let points: Vec<ForecastPoint> = (0..30)
            .map(|i| ForecastPoint { date: november.start + chrono::Duration::days(i), value: 10.0, low: 8.0, high: 13.0 })
            .collect();
        let m = metric("orders", "Orders", "count");
        let fact = period_forecast_fact(m.clone(), &november, &points, Aggregation::Sum, Direction::HigherIsBetter, ("2026-10", 330.0)).expect("all 30 days");
        match &fact {
            Fact::PeriodForecast { value, low, high, relative, assessment, .. } => {
                assert_eq!((*value, *low, *high), (300.0, 240.0, 390.0));
                assert!((relative.expect("relative") + 30.0 / 330.0).abs() < 1e-12);
                assert_eq!(*assessment, ChangeAssessment::Bad);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(fact.sentence(), "Orders is forecast at 300 for 2026-11 (between 240 and 390), down 9.1% on 2026-10 (bad).");
        let mean = period_forecast_fact(m.clone(), &november, &points, Aggregation::Avg, Direction::HigherIsBetter, ("2026-10", 10.0)).expect("avg");
        assert!(matches!(mean, Fact::PeriodForecast { value, assessment: ChangeAssessment::Unchanged, .. } if value == 10.0));
        assert_eq!(period_forecast_fact(m, &november, &points[..29], Aggregation::Sum, Direction::HigherIsBetter, ("2026-10", 1.0)), None);
    }

    #[test]
    fn the_headline_names_the_main_driver_and_an_empty_period_still_reads() {
        let mut facts = sample();
        facts.movements.remove(0);
        number_facts(&mut facts);
        let n = compose(&labels(), &facts);
        assert_eq!(n.headline.text, "October 2026: Revenue down 15.0% on September 2026, mostly EMEA (region).");
        assert_eq!(n.headline.cites.len(), 2);
        let empty = compose(&labels(), &StoryFacts::default());
        assert_eq!(empty.headline.text, "October 2026: no KPI can be compared with September 2026.");
        assert_eq!(empty.paragraphs.len(), 3);
        assert_eq!(empty.paragraphs[2].sentences[0].text, "There is not enough history to forecast November 2026.");
    }
}
