//! A short-lived cache of board summaries: every board member of an org opens the same page, and
//! its numbers change only when data is loaded, so one build serves them all for a minute. The
//! narratives' facts (which also hold the period's decisions and forecasts) are kept the same way,
//! keyed by the data and the decisions they were built from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::{ExecQuery, ExecSummary};
use crate::analytics::calendar::{period_containing, Granularity};

/// How long a summary is reused unless the environment says otherwise
/// (`board_cache_ttl_seconds`); a new last day of data invalidates it at once.
pub const TTL: Duration = Duration::from_secs(60);

/// Org and role: what a summary holds depends on what the role may see.
pub type Viewer = (uuid::Uuid, crate::auth::Role);
/// Viewer, grain and the start of the chosen period: every day of one month is one entry, so
/// `?period=` cannot grow the cache by naming each day.
type Key = (Viewer, Granularity, Option<NaiveDate>);
/// When it was built, the last day of data and the data version it saw, the summary.
type Entry = (Instant, NaiveDate, i64, ExecSummary);

/// Most summaries held; the oldest is dropped to make room.
pub const MAX_ENTRIES: usize = 256;

/// What a narrative's facts were built from: the last day and version of the data, and the
/// org's findings (how many, and when one last changed: a decision changes a fact).
pub type FactsStamp = (Option<NaiveDate>, i64, i64, Option<String>);
type FactsEntry = (Instant, FactsStamp, Arc<super::narrative::Gathered>);

#[derive(Clone)]
pub struct ExecCache {
    entries: Arc<Mutex<HashMap<Key, Entry>>>,
    facts: Arc<Mutex<HashMap<Key, FactsEntry>>>,
    ttl: Duration,
}

impl Default for ExecCache {
    fn default() -> Self {
        ExecCache::with_ttl(TTL)
    }
}

fn key(viewer: Viewer, query: &ExecQuery) -> Key {
    (viewer, query.grain, query.period.map(|day| period_containing(day, query.grain).start))
}

impl ExecCache {
    pub fn with_ttl(ttl: Duration) -> ExecCache {
        ExecCache { entries: Arc::default(), facts: Arc::default(), ttl }
    }

    /// The narrative facts of `viewer` and `query` if built from `stamp` within the TTL.
    pub fn facts(&self, viewer: Viewer, query: &ExecQuery, stamp: &FactsStamp) -> Option<Arc<super::narrative::Gathered>> {
        let entries = self.facts.lock().ok()?;
        let (built, seen, gathered) = entries.get(&key(viewer, query))?;
        (built.elapsed() < self.ttl && seen == stamp).then(|| gathered.clone())
    }

    pub fn put_facts(&self, viewer: Viewer, query: &ExecQuery, stamp: FactsStamp, gathered: Arc<super::narrative::Gathered>) {
        if let Ok(mut entries) = self.facts.lock() {
            entries.retain(|_, (built, _, _)| built.elapsed() < self.ttl);
            while entries.len() >= MAX_ENTRIES {
                let Some(oldest) = entries.iter().min_by_key(|(_, (built, _, _))| *built).map(|(k, _)| *k) else { break };
                entries.remove(&oldest);
            }
            entries.insert(key(viewer, query), (Instant::now(), stamp, gathered));
        }
    }

    /// The cached summary for `org` and `query` if it is younger than the TTL and was built from
    /// data ending on `as_of` at data version `version`.
    pub fn get(&self, viewer: Viewer, query: &ExecQuery, as_of: NaiveDate, version: i64) -> Option<ExecSummary> {
        let found = self.lookup(viewer, query, as_of, version);
        metrics::counter!("insightops_board_cache_requests_total", "result" => if found.is_some() { "hit" } else { "miss" }).increment(1);
        found
    }

    fn lookup(&self, viewer: Viewer, query: &ExecQuery, as_of: NaiveDate, version: i64) -> Option<ExecSummary> {
        let entries = self.entries.lock().ok()?;
        let (built, data_end, seen, summary) = entries.get(&key(viewer, query))?;
        (built.elapsed() < self.ttl && *data_end == as_of && *seen == version).then(|| ExecSummary { query: query.clone(), ..summary.clone() })
    }

    /// Keeps `summary`, built at data version `version`.
    pub fn put(&self, viewer: Viewer, query: &ExecQuery, version: i64, summary: &ExecSummary) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (built, _, _, _)| built.elapsed() < self.ttl);
            while entries.len() >= MAX_ENTRIES {
                let Some(oldest) = entries.iter().min_by_key(|(_, (built, _, _, _))| *built).map(|(k, _)| *k) else { break };
                entries.remove(&oldest);
            }
            entries.insert(key(viewer, query), (Instant::now(), summary.as_of, version, summary.clone()));
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(as_of: NaiveDate) -> ExecSummary {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 10, d).expect("date");
        let query = ExecQuery { grain: Granularity::Month, period: None };
        ExecSummary {
            org_name: "Acme".into(),
            as_of,
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
            recurring: Vec::new(),
        }
    }

    #[test]
    fn a_new_last_day_or_data_version_invalidates_the_entry() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 10, d).expect("date");
        let query = ExecQuery { grain: Granularity::Month, period: None };
        let summary = sample(day(31));
        let cache = ExecCache::default();
        let acme = (uuid::Uuid::from_u128(1), crate::auth::Role::Board);
        cache.put(acme, &query, 7, &summary);
        assert_eq!(cache.get(acme, &query, day(31), 7), Some(summary));
        assert_eq!(cache.get(acme, &query, day(30), 7), None, "data changed");
        assert_eq!(cache.get(acme, &query, day(31), 8), None, "a load changed a past day");
        assert_eq!(cache.get((uuid::Uuid::from_u128(2), crate::auth::Role::Board), &query, day(31), 7), None, "other org");
        assert_eq!(cache.get((acme.0, crate::auth::Role::Admin), &query, day(31), 7), None, "other role");
        assert_eq!(cache.get(acme, &ExecQuery { grain: Granularity::Year, period: None }, day(31), 7), None);
    }

    #[test]
    fn days_of_one_period_share_an_entry_and_the_cache_is_bounded() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 10, d).expect("date");
        let cache = ExecCache::default();
        let acme = (uuid::Uuid::from_u128(1), crate::auth::Role::Board);
        let on = |d: u32| ExecQuery { grain: Granularity::Month, period: Some(day(d)) };
        let summary = ExecSummary { query: on(1), ..sample(day(31)) };
        cache.put(acme, &on(1), 7, &summary);
        let hit = cache.get(acme, &on(17), day(31), 7).expect("same month, same entry");
        assert_eq!(hit.query, on(17), "answered for the query asked");
        for d in 2..=31 {
            cache.put(acme, &on(d), 7, &summary);
        }
        assert_eq!(cache.len(), 1);
        for org in 0..(MAX_ENTRIES as u128 + 50) {
            cache.put((uuid::Uuid::from_u128(org), crate::auth::Role::Board), &on(1), 7, &summary);
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
    }
}
