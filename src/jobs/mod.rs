//! Background work: the durable job queue (`db::jobs`), the workers that run it, the scheduler,
//! and the admin page `/admin/jobs` with the queue and the schedules.

pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod handlers;
#[cfg(feature = "ssr")]
pub mod schedule;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod worker;

use serde::{Deserialize, Serialize};

pub use crate::domain::jobs::{JobKind, JobStatus, JobSummary, ScheduleSummary};
use crate::error::AppError;

/// The admin page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobsPage {
    pub jobs: Vec<JobSummary>,
    pub schedules: Vec<ScheduleSummary>,
    pub status: Option<JobStatus>,
    pub environment: String,
    /// Workers inside this server process (others may run as `insightops worker`).
    pub workers_here: u32,
}

/// The page's filter from its URL: `?status=queued|running|succeeded|failed|cancelled`.
pub fn status_filter(query: &str) -> Result<Option<JobStatus>, AppError> {
    let mut status = None;
    for (key, value) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
        match (key.as_ref(), value.trim()) {
            (_, "") => {}
            ("status", "all") => status = None,
            ("status", v) => status = Some(JobStatus::parse(v).ok_or_else(|| AppError::BadRequest(format!("`status` = {v:?} is not queued, running, succeeded, failed or cancelled")))?),
            (other, _) => return Err(AppError::BadRequest(format!("unknown parameter `{other}`"))),
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_filter_names_bad_values() {
        assert_eq!(status_filter(""), Ok(None));
        assert_eq!(status_filter("status=failed"), Ok(Some(JobStatus::Failed)));
        assert_eq!(status_filter("status=all"), Ok(None));
        assert!(status_filter("status=stuck").unwrap_err().to_string().contains("stuck"));
        assert!(status_filter("order=x").is_err());
    }
}
