//! `/ask` (and the box on `/dashboard`): plain questions over the org's catalogue answered with
//! numbers, a chart, the facts used, a link to the dashboard view and a confidence with its
//! reasons; a question it cannot read gets suggestions, never a made-up answer. Each user keeps a
//! history of questions (seed 001's AI insights) with "was this useful" feedback.

pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod parse;
#[cfg(feature = "ssr")]
pub mod service;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::analytics::DailyValue;
use crate::domain::{Dimension, DimensionFilter};

/// What a question asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Value,
    Change,
    Why,
    Trend,
    Forecast,
    Compare,
    Top,
    Bottom,
    Anomalies,
}

crate::domain::text_enum!(Intent {
    Intent::Value => "value",
    Intent::Change => "change",
    Intent::Why => "why",
    Intent::Trend => "trend",
    Intent::Forecast => "forecast",
    Intent::Compare => "compare",
    Intent::Top => "top",
    Intent::Bottom => "bottom",
    Intent::Anomalies => "anomalies",
});

/// A period the question named, resolved to days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub label: String,
}

/// What the parser read in a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parsed {
    pub intent: Intent,
    /// Metric keys, in the order the question names them.
    pub metrics: Vec<String>,
    pub period: ResolvedPeriod,
    pub filter: DimensionFilter,
    /// The dimension to split by (top/bottom, why), when the question names one.
    pub dimension: Option<Dimension>,
    /// Share of the question's content words that were understood (0-1).
    pub understood: f64,
    pub unknown: Vec<String>,
}

/// One number an answer rests on, and the dashboard view that shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerFact {
    pub text: String,
    pub href: String,
}

/// An answer, or why there is none and what could be asked instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub question: String,
    /// `None` when the question was not understood.
    pub parsed: Option<Parsed>,
    pub sentences: Vec<String>,
    /// The main number (the value, the change, the first slice), for the test set against SQL.
    pub value: Option<f64>,
    pub facts: Vec<AnswerFact>,
    /// The daily series the answer is about, with its label and unit, for the chart.
    pub chart: Option<(String, String, Vec<DailyValue>)>,
    pub dashboard_href: Option<String>,
    /// 0-1, and what it rests on.
    pub confidence: f64,
    pub reasons: Vec<String>,
    pub suggestions: Vec<String>,
    /// The history entry, for feedback.
    pub insight_id: Option<uuid::Uuid>,
}

/// One asked question in the asker's history, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub id: uuid::Uuid,
    pub question: String,
    pub intent: Option<Intent>,
    pub headline: String,
    pub confidence: f64,
    pub created_at: String,
    pub useful: Option<bool>,
}
