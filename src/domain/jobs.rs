//! The job queue's vocabulary: what kinds of background work exist, the states a job passes
//! through, and the rows and schedules the admin page lists.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Run the org's active models after its data changed (coalesced per org).
    Detect,
    /// One model's run, asked for by an admin.
    ModelRun,
    /// Weekly, monthly or yearly pattern review of an org's stored findings.
    PatternReview,
    /// Purge data past the environment's retention.
    Retention,
    /// Build the board summary of every org ahead of its readers.
    CacheWarmup,
    /// Does nothing: benchmarks and queue tests.
    Noop,
    /// Loads one week of a backfill or weekly collection.
    CollectionWeek,
    /// Mondays: adds the week just ended to every weekly-update collection and loads it.
    WeeklyCollections,
    /// Generates one report of a template (scheduled or asked for).
    Report,
    /// Stores the board and manager narratives of every org's periods that have just closed.
    Narratives,
}

text_enum!(JobKind {
    JobKind::Detect => "detect",
    JobKind::ModelRun => "model_run",
    JobKind::PatternReview => "pattern_review",
    JobKind::Retention => "retention",
    JobKind::CacheWarmup => "cache_warmup",
    JobKind::Noop => "noop",
    JobKind::CollectionWeek => "collection_week",
    JobKind::WeeklyCollections => "weekly_collections",
    JobKind::Report => "report",
    JobKind::Narratives => "narratives",
});

impl JobKind {
    pub const ALL: [JobKind; 10] = [
        JobKind::Detect,
        JobKind::ModelRun,
        JobKind::PatternReview,
        JobKind::Retention,
        JobKind::CacheWarmup,
        JobKind::Noop,
        JobKind::CollectionWeek,
        JobKind::WeeklyCollections,
        JobKind::Report,
        JobKind::Narratives,
    ];

    pub fn label(self) -> &'static str {
        match self {
            JobKind::Detect => "Detection on new data",
            JobKind::ModelRun => "Model run",
            JobKind::PatternReview => "Pattern review",
            JobKind::Retention => "Retention purge",
            JobKind::CacheWarmup => "Board cache warm-up",
            JobKind::Noop => "No-op",
            JobKind::CollectionWeek => "Collection week",
            JobKind::WeeklyCollections => "Weekly collections",
            JobKind::Report => "Report generation",
            JobKind::Narratives => "Narratives of closed periods",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

text_enum!(JobStatus {
    JobStatus::Queued => "queued",
    JobStatus::Running => "running",
    JobStatus::Succeeded => "succeeded",
    JobStatus::Failed => "failed",
    JobStatus::Cancelled => "cancelled",
});

impl JobStatus {
    pub const ALL: [JobStatus; 5] = [JobStatus::Queued, JobStatus::Running, JobStatus::Succeeded, JobStatus::Failed, JobStatus::Cancelled];

    /// Whether an admin may retry (failed, cancelled) or cancel (queued, failed) a job in this state.
    pub fn can_retry(self) -> bool {
        matches!(self, JobStatus::Failed | JobStatus::Cancelled)
    }

    pub fn can_cancel(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Failed)
    }
}

/// One job as the admin page lists it (times in UTC, RFC 3339).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    pub id: uuid::Uuid,
    pub kind: JobKind,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub priority: i16,
    pub created_at: String,
    pub run_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub last_error: Option<String>,
    /// What the job reported (JSON), e.g. the model run it made.
    pub progress: String,
}

/// A schedule and when it next runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSummary {
    pub name: String,
    pub kind: JobKind,
    pub cron: String,
    /// Whether it runs in this environment.
    pub enabled: bool,
    pub next_runs: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_round_trip_and_say_what_an_admin_may_do() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        assert!(JobStatus::Failed.can_retry() && JobStatus::Failed.can_cancel());
        assert!(!JobStatus::Running.can_retry() && !JobStatus::Running.can_cancel());
        assert!(!JobStatus::Succeeded.can_retry());
    }
}
