//! Recommendations raised by analytical models, and the admin's accept/dismiss workflow.
//! Types here cross the wire; the rules are pure (`rules`), the queries live in `db::recommendations`.

pub mod api;
pub mod page;
pub mod rules;
#[cfg(feature = "ssr")]
pub mod service;

use serde::{Deserialize, Serialize};

pub use crate::domain::recommendations::{
    Category, Evidence, EvidencePoint, Recommendation, RecommendationEvent, RecommendationFilter, RecommendationStatus, Severity,
};
use crate::domain::text_enum;
use crate::error::AppError;

/// Most items one bulk decision takes.
pub const MAX_BULK_ITEMS: usize = 500;

/// What an admin decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accept,
    Dismiss,
    Reopen,
}

text_enum!(Decision { Decision::Accept => "accept", Decision::Dismiss => "dismiss", Decision::Reopen => "reopen" });

impl Decision {
    pub fn resulting_status(self) -> RecommendationStatus {
        match self {
            Decision::Accept => RecommendationStatus::Accepted,
            Decision::Dismiss => RecommendationStatus::Dismissed,
            Decision::Reopen => RecommendationStatus::Open,
        }
    }

    /// A dismissal must say why; the note is what a later reader of the history needs.
    pub fn check_note(self, note: &str) -> Result<(), AppError> {
        if self == Decision::Dismiss && note.trim().is_empty() {
            return Err(AppError::BadRequest("a dismissal needs a note saying why".into()));
        }
        if note.chars().count() > 2000 {
            return Err(AppError::BadRequest("a note is at most 2,000 characters".into()));
        }
        Ok(())
    }
}

/// The review page's data: the filtered list, the metrics to filter by, whether the viewer decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecommendationList {
    pub items: Vec<Recommendation>,
    pub metrics: Vec<(String, String)>,
    pub can_decide: bool,
    pub open_count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_default_to_the_open_queue_and_name_bad_values() {
        let f = RecommendationFilter::from_query_string("").expect("valid");
        assert_eq!(f.status, Some(RecommendationStatus::Open));
        let f = RecommendationFilter::from_query_string("status=all&category=anomaly&severity=critical&metric=revenue").expect("valid");
        assert_eq!((f.status, f.category, f.severity, f.metric.as_deref()), (None, Some(Category::Anomaly), Some(Severity::Critical), Some("revenue")));
        assert!(RecommendationFilter::from_query_string("status=closed").unwrap_err().to_string().contains("closed"));
        assert!(RecommendationFilter::from_query_string("order=x").is_err());
        let one = RecommendationFilter::from_query_string("status=all&id=00000000-0000-0000-0000-000000000007").expect("valid");
        assert_eq!(one.id, Some(uuid::Uuid::from_u128(7)));
        assert!(RecommendationFilter::from_query_string("id=7").is_err());
    }

    #[test]
    fn dismissing_needs_a_note_and_each_decision_has_its_status() {
        assert!(Decision::Dismiss.check_note("  ").is_err());
        assert!(Decision::Dismiss.check_note("Known outage, handled").is_ok());
        assert!(Decision::Accept.check_note("").is_ok());
        assert_eq!(Decision::Reopen.resulting_status(), RecommendationStatus::Open);
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
    }
}
