//! The executive (board) page on `/exec`: the last complete month, quarter or year per KPI against
//! the previous period and the same period last year, what changed and why, open anomalies.

pub mod api;
#[cfg(feature = "ssr")]
pub mod cache;
#[cfg(feature = "ssr")]
pub mod narrative;
#[cfg(feature = "ssr")]
pub mod summarizer;
pub mod narrative_page;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::analytics::calendar::{Granularity, PeriodAggregate};
use crate::analytics::delta::Delta;
use crate::analytics::narrative::Fact;
use crate::analytics::story::{Audience, Author, StoredBy};
use crate::analytics::Direction;
use crate::error::AppError;

/// The board page's choices, from the URL: `?grain=month|quarter|year&period=YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExecQuery {
    pub grain: Granularity,
    /// Any day of the period to show; `None`: the last complete one.
    pub period: Option<NaiveDate>,
}

impl Default for ExecQuery {
    /// What `/exec` shows without parameters: the last complete month.
    fn default() -> Self {
        ExecQuery { grain: Granularity::Month, period: None }
    }
}

impl ExecQuery {
    pub const GRAINS: [(Granularity, &'static str, &'static str); 3] =
        [(Granularity::Month, "month", "Month"), (Granularity::Quarter, "quarter", "Quarter"), (Granularity::Year, "year", "Year")];

    pub fn grain_token(grain: Granularity) -> &'static str {
        Self::GRAINS.iter().find(|g| g.0 == grain).map_or("month", |g| g.1)
    }

    pub fn parse(grain: Option<&str>, period: Option<&str>) -> Result<Self, AppError> {
        let grain = match grain.filter(|g| !g.is_empty()) {
            None => Granularity::Month,
            Some(text) => Self::GRAINS
                .iter()
                .find(|g| g.1 == text)
                .map(|g| g.0)
                .ok_or_else(|| AppError::BadRequest(format!("`grain` = {text:?} is not one of month, quarter, year")))?,
        };
        let period = match period.filter(|p| !p.is_empty()) {
            None => None,
            Some(text) => Some(crate::domain::date::parse_day(text).map_err(|e| AppError::BadRequest(format!("`period` = {text:?} {e}")))?),
        };
        Ok(ExecQuery { grain, period })
    }

    pub fn href(&self) -> String {
        let mut href = format!("/exec?grain={}", Self::grain_token(self.grain));
        if let Some(p) = self.period {
            href.push_str(&format!("&period={p}"));
        }
        href
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecCard {
    pub metric_key: String,
    pub label: String,
    pub unit: String,
    pub direction: Direction,
    pub vs_previous: Delta,
    pub vs_last_year: Delta,
    /// The last 12 periods up to the one shown, for the sparkline.
    pub history: Vec<PeriodAggregate>,
    /// Where the chart with these numbers is.
    pub dashboard_href: String,
}

/// A sentence-ready fact and the dashboard view that shows its numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkedFact {
    pub fact: Fact,
    pub sentence: String,
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecSummary {
    pub org_name: String,
    pub as_of: NaiveDate,
    pub query: ExecQuery,
    pub period_label: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub previous_label: String,
    pub last_year_label: String,
    /// Complete periods the picker offers, newest first: (label, any day in it).
    pub choices: Vec<(String, NaiveDate)>,
    pub cards: Vec<ExecCard>,
    pub what_changed: Vec<LinkedFact>,
    pub anomalies: Vec<LinkedFact>,
    /// `None` until recommendations exist (issue 6).
    pub open_recommendations: Option<u32>,
    /// Recurring patterns the reviews found on the metrics the viewer may see, newest first.
    pub recurring: Vec<crate::patterns::RecurringPattern>,
}

/// One sentence of a narrative as shown: its text, the view of its first fact, and the ids of
/// the facts it cites (listed under the narrative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewSentence {
    pub text: String,
    pub href: Option<String>,
    pub cites: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewParagraph {
    pub heading: String,
    pub sentences: Vec<ViewSentence>,
}

/// A cited fact as shown: its own sentence and the view with its numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewFact {
    pub id: String,
    pub text: String,
    pub href: String,
    pub metric_key: String,
    /// The fact names a slice (a driver, a flagged region or segment).
    pub names_slice: bool,
}

/// The narrative of a period for one audience, as one viewer is shown it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NarrativeView {
    pub audience: Audience,
    pub period_label: String,
    pub headline: ViewSentence,
    pub paragraphs: Vec<ViewParagraph>,
    /// The facts the shown sentences cite, in id order.
    pub facts: Vec<ViewFact>,
    pub author: Author,
    pub model_name: Option<String>,
    /// When the shown text was stored; `None` for today's text (`showing_current`).
    pub written_at: Option<String>,
    pub stored_by: Option<StoredBy>,
    /// Today's facts differ from the ones the stored text was written from.
    pub changed_since: bool,
    /// Today's text is shown instead of the stored one (`narrative=current`).
    pub showing_current: bool,
    /// Sentences left out because they cite what this viewer may not see.
    pub withheld: usize,
}

impl NarrativeView {
    /// Leaves out the sentences citing a fact that names a slice of one of `metrics` (personal
    /// data in a file that leaves the app), and the facts no sentence cites any more.
    pub fn without_slices_of(mut self, metrics: &[String]) -> NarrativeView {
        let hidden: Vec<String> = self.facts.iter().filter(|f| f.names_slice && metrics.contains(&f.metric_key)).map(|f| f.id.clone()).collect();
        if hidden.is_empty() {
            return self;
        }
        let keeps = |s: &ViewSentence| !s.cites.iter().any(|id| hidden.contains(id));
        let before: usize = self.paragraphs.iter().map(|p| p.sentences.len()).sum();
        for p in &mut self.paragraphs {
            p.sentences.retain(keeps);
        }
        self.paragraphs.retain(|p| !p.sentences.is_empty());
        self.withheld += before - self.paragraphs.iter().map(|p| p.sentences.len()).sum::<usize>();
        if !keeps(&self.headline) {
            self.headline = ViewSentence { text: "Summary of the period".into(), href: None, cites: Vec::new() };
            self.withheld += 1;
        }
        let cited: Vec<&String> = std::iter::once(&self.headline).chain(self.paragraphs.iter().flat_map(|p| p.sentences.iter())).flat_map(|s| s.cites.iter()).collect();
        self.facts.retain(|f| cited.contains(&&f.id));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_and_links() {
        assert_eq!(ExecQuery::parse(None, None).map(|q| q.grain), Ok(Granularity::Month));
        let q = ExecQuery::parse(Some("quarter"), Some("2026-08-15")).expect("valid");
        assert_eq!(q.href(), "/exec?grain=quarter&period=2026-08-15");
        assert!(ExecQuery::parse(Some("week"), None).is_err_and(|e| e.to_string().contains("month, quarter, year")));
        assert!(ExecQuery::parse(None, Some("2026-02-30")).is_err_and(|e| e.to_string().contains("not a date")));
    }

    #[test]
    fn personal_slices_leave_a_narrative_with_the_sentences_citing_them() {
        let sentence = |text: &str, cites: &[&str]| ViewSentence { text: text.into(), href: None, cites: cites.iter().map(|c| c.to_string()).collect() };
        let fact = |id: &str, key: &str, names_slice: bool| ViewFact { id: id.into(), text: String::new(), href: String::new(), metric_key: key.into(), names_slice };
        let view = NarrativeView {
            audience: Audience::Board,
            period_label: "2026-10".into(),
            headline: sentence("New customers down 5.0%.", &["f1"]),
            paragraphs: vec![ViewParagraph { heading: "Largest movements".into(), sentences: vec![sentence("a", &["f1"]), sentence("b", &["f2"]), sentence("c", &["f1", "f3"])] }],
            facts: vec![fact("f1", "new_customers", false), fact("f2", "new_customers", true), fact("f3", "revenue", true)],
            author: Author::Deterministic,
            model_name: None,
            written_at: None,
            stored_by: None,
            changed_since: false,
            showing_current: false,
            withheld: 0,
        };
        let kept = view.clone().without_slices_of(&["new_customers".to_string()]);
        let texts: Vec<&str> = kept.paragraphs[0].sentences.iter().map(|s| s.text.as_str()).collect();
        assert_eq!((texts, kept.withheld, kept.headline.text.as_str()), (vec!["a", "c"], 1, "New customers down 5.0%."));
        assert_eq!(kept.facts.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), vec!["f1", "f3"]);
        assert_eq!(view.clone().without_slices_of(&[]), view);
    }
}
