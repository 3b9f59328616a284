//! The recommendations' vocabulary: status, category, the evidence of a finding, one item with
//! its history, the review page's filters, and what the store already holds for a finding.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use super::measure::Severity;
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationStatus {
    Open,
    Accepted,
    Dismissed,
}

text_enum!(RecommendationStatus {
    RecommendationStatus::Open => "open",
    RecommendationStatus::Accepted => "accepted",
    RecommendationStatus::Dismissed => "dismissed",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Anomaly,
    Trend,
    Optimisation,
    Forecast,
}

text_enum!(Category {
    Category::Anomaly => "anomaly",
    Category::Trend => "trend",
    Category::Optimisation => "optimisation",
    Category::Forecast => "forecast",
});

impl Category {
    pub const ALL: [Category; 4] = [Category::Anomaly, Category::Trend, Category::Optimisation, Category::Forecast];
}

impl RecommendationStatus {
    pub const ALL: [RecommendationStatus; 3] = [RecommendationStatus::Open, RecommendationStatus::Accepted, RecommendationStatus::Dismissed];
}

/// One day of the evidence chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidencePoint {
    pub date: NaiveDate,
    pub value: f64,
    /// Expected value and band where the model computed them.
    pub expected: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// Why a recommendation was raised, with the numbers it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub metric_key: String,
    pub metric_label: String,
    pub unit: String,
    /// (dimension, value) pairs of the slice; empty for the org total.
    pub dimensions: Vec<(String, String)>,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub observed: Option<f64>,
    pub expected: Option<f64>,
    pub band: Option<(f64, f64)>,
    /// The series around the finding, for the evidence chart.
    pub series: Vec<EvidencePoint>,
    /// The dashboard view with these numbers.
    pub chart_href: String,
    /// Set when the finding is a level shift (its first day is `period_end`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_shift: Option<crate::domain::measure::LevelShift>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub id: uuid::Uuid,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub severity: Severity,
    pub status: RecommendationStatus,
    pub model_name: String,
    pub model_version: i32,
    pub evidence: Evidence,
    pub created_at: String,
    pub updated_at: String,
    /// Bumped by every change; a decision names the version it saw, so two admins cannot both win.
    pub version: i32,
    /// Created, accepted, dismissed, reopened: oldest first.
    pub history: Vec<RecommendationEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecommendationEvent {
    pub at: String,
    pub kind: String,
    pub actor: String,
    pub note: String,
}

/// The review page's filters, from its URL query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecommendationFilter {
    pub status: Option<RecommendationStatus>,
    pub category: Option<Category>,
    pub severity: Option<Severity>,
    pub metric: Option<String>,
    /// One item: the detail view, history open.
    pub id: Option<uuid::Uuid>,
}

impl RecommendationFilter {
    /// No `status` in the URL means open ones: the review queue.
    pub fn from_query_string(query: &str) -> Result<RecommendationFilter, AppError> {
        let mut filter = RecommendationFilter { status: Some(RecommendationStatus::Open), ..Default::default() };
        let bad = |key: &str, value: &str| AppError::BadRequest(format!("`{key}` = {value:?} is not allowed"));
        for (key, value) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            let value = value.trim();
            match key.as_ref() {
                "status" if value == "all" => filter.status = None,
                "status" => filter.status = Some(RecommendationStatus::parse(value).ok_or_else(|| bad("status", value))?),
                _ if value.is_empty() => {}
                "category" => filter.category = Some(Category::parse(value).ok_or_else(|| bad("category", value))?),
                "severity" => filter.severity = Some(Severity::parse(value).ok_or_else(|| bad("severity", value))?),
                "metric" => filter.metric = Some(value.chars().take(64).collect()),
                "id" => filter.id = Some(uuid::Uuid::parse_str(value).map_err(|_| bad("id", value))?),
                other => return Err(AppError::BadRequest(format!("unknown parameter `{other}`"))),
            }
        }
        Ok(filter)
    }
}

/// What the store already holds for the same finding (same model, metric, dimensions, period).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Known {
    pub status: RecommendationStatus,
    /// Severity and magnitude when it was raised, or when it was last decided.
    pub severity: Severity,
    pub magnitude: f64,
}
