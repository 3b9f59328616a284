//! A short-lived cache of board summaries: every board member of an org opens the same page, and
//! its numbers change only when data is loaded, so one build serves them all for a minute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::{ExecQuery, ExecSummary};

/// How long a summary is reused; a new last day of data invalidates it at once.
pub const TTL: Duration = Duration::from_secs(60);

/// Org and role: what a summary holds depends on what the role may see.
pub type Viewer = (uuid::Uuid, crate::auth::Role);
type Key = (Viewer, ExecQuery);
/// When it was built, the last day of data it saw, the summary.
type Entry = (Instant, NaiveDate, ExecSummary);

#[derive(Clone, Default)]
pub struct ExecCache {
    entries: Arc<Mutex<HashMap<Key, Entry>>>,
}

impl ExecCache {
    /// The cached summary for `org` and `query` if it is younger than the TTL and was built from
    /// data ending on `as_of`.
    pub fn get(&self, viewer: Viewer, query: &ExecQuery, as_of: NaiveDate) -> Option<ExecSummary> {
        let entries = self.entries.lock().ok()?;
        let (built, data_end, summary) = entries.get(&(viewer, query.clone()))?;
        (built.elapsed() < TTL && *data_end == as_of).then(|| summary.clone())
    }

    pub fn put(&self, viewer: Viewer, query: &ExecQuery, summary: &ExecSummary) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (built, _, _)| built.elapsed() < TTL);
            entries.insert((viewer, query.clone()), (Instant::now(), summary.as_of, summary.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::calendar::Granularity;

    #[test]
    fn a_new_last_day_of_data_invalidates_the_entry() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 10, d).expect("date");
        let query = ExecQuery { grain: Granularity::Month, period: None };
        let summary = ExecSummary {
            org_name: "Acme".into(),
            as_of: day(31),
            query: query.clone(),
            period_label: "2026-10".into(),
            period_start: day(1),
            period_end: day(31),
            previous_label: "2026-09".into(),
            last_year_label: "2025-10".into(),
            choices: Vec::new(),
            cards: Vec::new(),
            what_changed: Vec::new(),
            anomalies: Vec::new(),
            open_recommendations: None,
        };
        let cache = ExecCache::default();
        let acme = (uuid::Uuid::from_u128(1), crate::auth::Role::Board);
        cache.put(acme, &query, &summary);
        assert_eq!(cache.get(acme, &query, day(31)), Some(summary));
        assert_eq!(cache.get(acme, &query, day(30)), None, "data changed");
        assert_eq!(cache.get((uuid::Uuid::from_u128(2), crate::auth::Role::Board), &query, day(31)), None, "other org");
        assert_eq!(cache.get((acme.0, crate::auth::Role::Admin), &query, day(31)), None, "other role");
        assert_eq!(cache.get(acme, &ExecQuery { grain: Granularity::Year, period: None }, day(31)), None);
    }
}
