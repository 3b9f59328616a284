//! The scheduler: turns each due slot of a cron schedule into one job. Every instance may run it;
//! the slot row in `io_schedule_slot` is claimed by exactly one of them, in the same transaction
//! as the job it enqueues, so a slot runs once however many instances tick.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::config::jobs::parse_cron;
use crate::config::Config;
use crate::db;
use crate::db::jobs::NewJob;
use crate::domain::jobs::{JobKind, ScheduleSummary};
use crate::error::AppError;

/// A slot missed while no instance ran (a deploy, a restart) still runs if it is at most this old;
/// older slots are skipped rather than run late in a burst.
pub const CATCH_UP: Duration = Duration::hours(1);
/// How often the scheduler looks for due slots.
pub const TICK: std::time::Duration = std::time::Duration::from_secs(15);

/// The job a schedule enqueues.
pub fn job_for(schedule: &str, max_attempts: i32) -> Option<NewJob> {
    let (kind, payload) = match schedule {
        "retention" => (JobKind::Retention, json!({})),
        "pattern_review_weekly" => (JobKind::PatternReview, json!({ "window": "weekly" })),
        "pattern_review_monthly" => (JobKind::PatternReview, json!({ "window": "monthly" })),
        "pattern_review_yearly" => (JobKind::PatternReview, json!({ "window": "yearly" })),
        "cache_warmup" => (JobKind::CacheWarmup, json!({})),
        "collections_weekly" => (JobKind::WeeklyCollections, json!({})),
        "narratives" => (JobKind::Narratives, json!({})),
        _ => return None,
    };
    Some(NewJob { payload, max_attempts, dedupe_key: Some(format!("schedule:{schedule}")), ..NewJob::new(kind, None) })
}

/// The slot of `expr` due at `now`: the latest occurrence at or before it, if not older than the
/// catch-up window.
pub fn due_slot(expr: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let cron = parse_cron(expr).ok()?;
    let slot = cron.find_previous_occurrence(&now, true).ok()?;
    (now - slot <= CATCH_UP).then_some(slot)
}

/// Enqueues the due slot of every schedule that runs in this environment, once across instances.
/// Returns the (schedule, slot) pairs this call enqueued.
pub async fn tick(pool: &PgPool, config: &Config, now: DateTime<Utc>) -> Result<Vec<(String, DateTime<Utc>)>, AppError> {
    let mut enqueued = Vec::new();
    if !config.runs_jobs() {
        return Ok(enqueued);
    }
    for (name, expr) in &config.jobs.schedules {
        if !config.profile.scheduled_jobs.contains(name) {
            continue;
        }
        let (Some(slot), Some(job)) = (due_slot(expr, now), job_for(name, config.jobs.max_attempts as i32)) else { continue };
        let mut tx = pool.begin().await?;
        if db::jobs::claim_slot(&mut tx, name, slot).await? {
            let id = db::jobs::enqueue(&mut tx, &job).await?.id();
            db::jobs::set_slot_job(&mut tx, name, slot, id).await?;
            enqueued.push((name.clone(), slot));
        }
        tx.commit().await?;
    }
    // Report templates carry their own schedules; due ones become queued reports.
    let reports = crate::reports::service::enqueue_due(pool, config, now).await?;
    if reports > 0 {
        enqueued.push(("report_templates".to_string(), now));
    }
    Ok(enqueued)
}

/// Ticks until `shutdown` turns true.
pub async fn run(pool: PgPool, config: std::sync::Arc<Config>, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        match tick(&pool, &config, Utc::now()).await {
            Ok(slots) => {
                for (name, slot) in slots {
                    tracing::info!(schedule = %name, %slot, "scheduled job enqueued");
                }
            }
            Err(err) => tracing::warn!(error = %err, "scheduler tick"),
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Every schedule with whether it runs here and its next three runs after `now`.
pub fn summaries(config: &Config, now: DateTime<Utc>) -> Vec<ScheduleSummary> {
    config
        .jobs
        .schedules
        .iter()
        .filter_map(|(name, expr)| {
            let job = job_for(name, 1)?;
            let cron = parse_cron(expr).ok()?;
            let next_runs = cron.iter_after(now).take(3).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).collect();
            let enabled = config.runs_jobs() && config.profile.scheduled_jobs.contains(name);
            Some(ScheduleSummary { name: name.clone(), kind: job.kind, cron: expr.clone(), enabled, next_runs })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").with_timezone(&Utc)
    }

    #[test]
    fn a_slot_is_due_from_its_time_until_the_catch_up_window_ends() {
        assert_eq!(due_slot("0 3 * * 1", at("2026-11-23T03:00:00Z")), Some(at("2026-11-23T03:00:00Z")), "Monday 03:00");
        assert_eq!(due_slot("0 3 * * 1", at("2026-11-23T03:59:00Z")), Some(at("2026-11-23T03:00:00Z")));
        assert_eq!(due_slot("0 3 * * 1", at("2026-11-23T04:01:00Z")), None, "too late to catch up");
        assert_eq!(due_slot("*/15 * * * *", at("2026-11-26T10:44:10Z")), Some(at("2026-11-26T10:30:00Z")));
        assert_eq!(due_slot("0 5 1 1 *", at("2027-01-01T05:10:00Z")), Some(at("2027-01-01T05:00:00Z")));
        assert_eq!(due_slot("not cron", at("2027-01-01T05:10:00Z")), None);
    }

    #[test]
    fn every_known_schedule_makes_a_job_with_its_own_key() {
        for (name, _) in crate::config::jobs::SCHEDULES {
            let job = job_for(name, 3).expect("a job");
            assert_eq!(job.dedupe_key.as_deref(), Some(format!("schedule:{name}").as_str()));
            assert_eq!(job.max_attempts, 3);
        }
        assert_eq!(job_for("pattern_review_monthly", 1).map(|j| j.payload["window"].clone()), Some(json!("monthly")));
        assert!(job_for("unknown", 1).is_none());
    }
}
