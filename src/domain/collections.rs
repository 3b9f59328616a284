//! The vocabulary of backfill and weekly collections (seed 001): their types, sources and
//! statuses, the rows the page lists, and the pure week arithmetic (Monday-to-Sunday weeks, the
//! weeks of a backfill, a source's URL or file name for a week).

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::ingest::IngestTarget;

/// Most weeks one collection may hold (twenty years).
pub const MAX_WEEKS: u32 = 1040;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionType {
    /// A fixed run of past weeks, loaded once (and re-run on request).
    Backfill,
    /// Grows by the week just ended every Monday.
    WeeklyUpdate,
}

text_enum!(CollectionType { CollectionType::Backfill => "backfill", CollectionType::WeeklyUpdate => "weekly_update" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// `<collections_dir>/<source>/<week_start>.csv`, one file a week.
    CsvDir,
    /// A URL template answering a JSON array of rows for `{week_start}` to `{week_end}`.
    HttpJson,
}

text_enum!(SourceKind { SourceKind::CsvDir => "csv_dir", SourceKind::HttpJson => "http_json" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Paused,
}

text_enum!(CollectionStatus {
    CollectionStatus::Pending => "pending",
    CollectionStatus::Running => "running",
    CollectionStatus::Completed => "completed",
    CollectionStatus::Failed => "failed",
    CollectionStatus::Paused => "paused",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeekStatus {
    Pending,
    Running,
    Completed,
    Failed,
    /// The source gave the same bytes as the week's last load: nothing was written.
    Skipped,
}

text_enum!(WeekStatus {
    WeekStatus::Pending => "pending",
    WeekStatus::Running => "running",
    WeekStatus::Completed => "completed",
    WeekStatus::Failed => "failed",
    WeekStatus::Skipped => "skipped",
});

impl WeekStatus {
    /// Done for the collection's progress: loaded, or found unchanged.
    pub fn is_done(self) -> bool {
        matches!(self, WeekStatus::Completed | WeekStatus::Skipped)
    }
}

/// One collection as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionSummary {
    pub id: uuid::Uuid,
    pub name: String,
    pub collection_type: CollectionType,
    pub target: IngestTarget,
    pub source_kind: SourceKind,
    pub source: String,
    pub target_weeks: u32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub status: CollectionStatus,
    pub progress_percentage: u32,
    pub weeks_completed: u32,
    pub error_message: Option<String>,
    pub created_by: Option<String>,
    pub updated_at: String,
}

/// One week of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekSummary {
    pub id: uuid::Uuid,
    pub week_start: NaiveDate,
    pub week_end: NaiveDate,
    pub status: WeekStatus,
    pub attempts: u32,
    pub row_count: Option<u64>,
    pub data_checksum: Option<String>,
    pub error_message: Option<String>,
    pub executed_at: Option<String>,
}

/// A collection with its weeks, for its page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionDetail {
    pub collection: CollectionSummary,
    pub weeks: Vec<WeekSummary>,
}

impl CollectionDetail {
    /// Whether the page should keep refreshing: some week still waits or runs.
    pub fn is_active(&self) -> bool {
        self.collection.status != CollectionStatus::Paused && self.weeks.iter().any(|w| matches!(w.status, WeekStatus::Pending | WeekStatus::Running))
    }
}

/// The Monday of the week holding `day`.
pub fn week_start_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// `count` Monday-to-Sunday weeks from the week holding `first_day` on.
pub fn backfill_weeks(first_day: NaiveDate, count: u32) -> Vec<(NaiveDate, NaiveDate)> {
    let first = week_start_of(first_day);
    (0..count.min(MAX_WEEKS))
        .filter_map(|i| {
            let start = first.checked_add_signed(Duration::weeks(i64::from(i)))?;
            Some((start, start.checked_add_signed(Duration::days(6))?))
        })
        .collect()
}

/// The last whole week before `today` (Monday to Sunday): what a Monday's weekly update loads.
pub fn week_just_ended(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let start = week_start_of(today) - Duration::weeks(1);
    (start, start + Duration::days(6))
}

/// The URL of an HTTP source for one week.
pub fn expand_template(template: &str, week_start: NaiveDate, week_end: NaiveDate) -> String {
    template.replace("{week_start}", &week_start.to_string()).replace("{week_end}", &week_end.to_string())
}

/// The file of a CSV directory source for one week.
pub fn week_file_name(week_start: NaiveDate) -> String {
    format!("{week_start}.csv")
}

/// The collection's progress after its weeks changed: (weeks done, percent, status). A paused
/// collection stays paused; otherwise it runs while any week waits, then fails if any week failed.
pub fn progress(current: CollectionStatus, weeks: &[WeekStatus]) -> (u32, u32, CollectionStatus) {
    let done = weeks.iter().filter(|w| w.is_done()).count() as u32;
    let total = weeks.len() as u32;
    let percent = if total == 0 { 0 } else { done * 100 / total };
    let waiting = weeks.iter().any(|w| matches!(w, WeekStatus::Pending | WeekStatus::Running));
    let status = if current == CollectionStatus::Paused {
        CollectionStatus::Paused
    } else if waiting {
        if weeks.iter().any(|w| *w != WeekStatus::Pending) { CollectionStatus::Running } else { current.max_pending() }
    } else if weeks.contains(&WeekStatus::Failed) {
        CollectionStatus::Failed
    } else if total == 0 {
        current.max_pending()
    } else {
        CollectionStatus::Completed
    };
    (done, percent, status)
}

impl CollectionStatus {
    /// Nothing has run yet: a running collection stays running (its weeks were re-queued).
    fn max_pending(self) -> CollectionStatus {
        if self == CollectionStatus::Running { CollectionStatus::Running } else { CollectionStatus::Pending }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("date")
    }

    #[test]
    fn weeks_run_monday_to_sunday_from_the_week_of_the_first_day() {
        let weeks = backfill_weeks(day("2026-11-26"), 3);
        assert_eq!(weeks, vec![(day("2026-11-23"), day("2026-11-29")), (day("2026-11-30"), day("2026-12-06")), (day("2026-12-07"), day("2026-12-13"))]);
        assert_eq!(backfill_weeks(day("2026-11-23"), 52).len(), 52);
        assert_eq!(backfill_weeks(day("2026-11-23"), 5000).len(), MAX_WEEKS as usize);
        assert_eq!(week_just_ended(day("2026-11-30")), (day("2026-11-23"), day("2026-11-29")), "on a Monday");
        assert_eq!(week_just_ended(day("2026-11-29")), (day("2026-11-16"), day("2026-11-22")), "on a Sunday, the week is not over");
    }

    #[test]
    fn a_source_names_its_week() {
        assert_eq!(expand_template("http://h/rows?from={week_start}&to={week_end}", day("2026-11-23"), day("2026-11-29")), "http://h/rows?from=2026-11-23&to=2026-11-29");
        assert_eq!(week_file_name(day("2026-11-23")), "2026-11-23.csv");
    }

    #[test]
    fn progress_counts_done_weeks_and_settles_the_status() {
        use WeekStatus::*;
        assert_eq!(progress(CollectionStatus::Pending, &[Pending, Pending]), (0, 0, CollectionStatus::Pending));
        assert_eq!(progress(CollectionStatus::Pending, &[Completed, Running, Pending]), (1, 33, CollectionStatus::Running));
        assert_eq!(progress(CollectionStatus::Running, &[Completed, Skipped]), (2, 100, CollectionStatus::Completed));
        assert_eq!(progress(CollectionStatus::Running, &[Completed, Failed]), (1, 50, CollectionStatus::Failed));
        assert_eq!(progress(CollectionStatus::Paused, &[Completed, Pending]), (1, 50, CollectionStatus::Paused));
        assert_eq!(progress(CollectionStatus::Failed, &[Completed, Pending]), (1, 50, CollectionStatus::Running), "a retried week runs again");
        assert_eq!(progress(CollectionStatus::Pending, &[]), (0, 0, CollectionStatus::Pending));
    }
}
