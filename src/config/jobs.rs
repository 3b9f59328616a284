//! `[jobs]` (workers, leases, retries, schedules) and the per-environment profiles `[env.dev]`,
//! `[env.staging]`, `[env.prod]`, `[env.offline]` (retention, which scheduled jobs run, cache TTLs,
//! export limits, PII masking) with the seeds' defaults.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Deserialize;

use super::Environment;

/// `[jobs]`: the background workers and what they run when.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Workers inside `insightops serve` (0: this instance runs no jobs; `insightops worker` can).
    pub workers: u32,
    /// Jobs one worker runs at once.
    pub concurrency: u32,
    /// A running job's lease; its heartbeat renews it every third of this.
    pub lease_seconds: u32,
    /// On SIGTERM, how long running jobs may take to finish before they are released.
    pub grace_seconds: u32,
    pub max_attempts: u32,
    /// A failed attempt waits base * 2^(attempt - 1) seconds, at most the cap.
    pub backoff_base_seconds: u32,
    pub backoff_cap_seconds: u32,
    /// Detection waits this long after a load so that loads arriving together make one run.
    pub detect_delay_seconds: u32,
    /// How often an idle worker looks for due jobs.
    pub poll_ms: u32,
    /// Cron expressions (minute hour day-of-month month day-of-week, UTC) of the scheduled jobs.
    pub schedules: BTreeMap<String, String>,
}

/// The scheduled jobs and the seeds' schedules (seed 002, §4.1).
pub const SCHEDULES: [(&str, &str); 7] = [
    ("retention", "15 2 * * *"),
    ("pattern_review_weekly", "0 3 * * 1"),
    ("pattern_review_monthly", "0 4 1 * *"),
    ("pattern_review_yearly", "0 5 1 1 *"),
    ("cache_warmup", "*/15 * * * *"),
    // Mondays, after the week has ended everywhere: weekly-update collections take the week just ended.
    ("collections_weekly", "0 6 * * 1"),
    // Daily, after the nightly loads: a period that has just closed gets its stored narratives.
    ("narratives", "30 6 * * *"),
];

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: 1,
            concurrency: 4,
            lease_seconds: 60,
            grace_seconds: 30,
            max_attempts: 5,
            backoff_base_seconds: 10,
            backoff_cap_seconds: 3600,
            detect_delay_seconds: 2,
            poll_ms: 500,
            schedules: SCHEDULES.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }
}

impl JobsConfig {
    pub fn validate(&self) -> Result<(), String> {
        let in_range = |key: &str, value: u32, range| super::in_range(&format!("jobs.{key}"), value, range);
        in_range("workers", self.workers, 0..=64)?;
        in_range("concurrency", self.concurrency, 1..=256)?;
        in_range("lease_seconds", self.lease_seconds, 5..=86_400)?;
        in_range("grace_seconds", self.grace_seconds, 0..=3600)?;
        in_range("max_attempts", self.max_attempts, 1..=100)?;
        in_range("backoff_base_seconds", self.backoff_base_seconds, 1..=86_400)?;
        in_range("backoff_cap_seconds", self.backoff_cap_seconds, self.backoff_base_seconds..=604_800)?;
        in_range("detect_delay_seconds", self.detect_delay_seconds, 0..=3600)?;
        in_range("poll_ms", self.poll_ms, 10..=60_000)?;
        for (name, expr) in &self.schedules {
            if !SCHEDULES.iter().any(|(known, _)| known == name) {
                let known: Vec<&str> = SCHEDULES.iter().map(|s| s.0).collect();
                return Err(format!("`jobs.schedules.{name}` is not a scheduled job; known: {}", known.join(", ")));
            }
            parse_cron(expr).map_err(|e| format!("`jobs.schedules.{name}` = {expr:?}: {e}"))?;
        }
        Ok(())
    }

    /// Seconds a job waits before its next attempt after failing `attempt` times.
    pub fn backoff_secs(&self, attempt: i32) -> f64 {
        let exp = attempt.clamp(1, 30) - 1;
        (f64::from(self.backoff_base_seconds) * 2f64.powi(exp)).min(f64::from(self.backoff_cap_seconds))
    }
}

/// A five-field cron expression (UTC).
pub fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    if expr.split_whitespace().count() != 5 {
        return Err("use five fields: minute hour day-of-month month day-of-week".into());
    }
    croner::Cron::from_str(expr).map_err(|e| e.to_string())
}

/// One environment's values (seed 002, §2.6).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvProfile {
    /// Raw daily facts are kept this long; at least the longest pattern window.
    pub raw_retention_days: u32,
    /// Rollups and aggregates.
    pub aggregated_retention_days: u32,
    /// Recurring patterns found by the reviews.
    pub pattern_retention_days: u32,
    /// Finished jobs (and their schedule slots).
    pub finished_job_retention_days: u32,
    /// How long a board summary is reused.
    pub board_cache_ttl_seconds: u32,
    pub export_max_rows: u32,
    pub exports_per_user: u32,
    pub pii_masking: bool,
    /// Which of the scheduled jobs run here.
    pub scheduled_jobs: Vec<String>,
    /// Who writes the narratives here: `deterministic` (every default) or `llm` (`[narrative.llm]`).
    pub narrative_writer: super::narrative::NarrativeWriter,
}

impl EnvProfile {
    /// The seeds' defaults for `env`.
    pub fn default_for(env: Environment) -> EnvProfile {
        let (aggregated, patterns, ttl, rows, exports, jobs): (u32, u32, u32, u32, u32, &[&str]) = match env {
            Environment::Dev => (90, 90, 60, 100_000, 5, &["retention", "collections_weekly"]),
            Environment::Staging => (730, 730, 600, 100_000, 3, &["retention", "pattern_review_weekly", "pattern_review_monthly", "cache_warmup", "collections_weekly", "narratives"]),
            Environment::Prod => (3650, 1825, 900, 50_000, 2, &["retention", "pattern_review_weekly", "pattern_review_monthly", "pattern_review_yearly", "cache_warmup", "collections_weekly", "narratives"]),
            Environment::Offline => (90, 90, 60, 100_000, 5, &[]),
        };
        EnvProfile {
            raw_retention_days: 730,
            aggregated_retention_days: aggregated,
            pattern_retention_days: patterns,
            finished_job_retention_days: 30,
            board_cache_ttl_seconds: ttl,
            export_max_rows: rows,
            exports_per_user: exports,
            pii_masking: true,
            scheduled_jobs: jobs.iter().map(|s| s.to_string()).collect(),
            narrative_writer: super::narrative::NarrativeWriter::Deterministic,
        }
    }

    /// `longest_pattern_window`: the seeds' invariant, raw retention >= every pattern window.
    pub fn validate(&self, env: Environment, longest_pattern_window: u32) -> Result<(), String> {
        let key = |k: &str| format!("env.{}.{k}", env.as_str());
        if self.raw_retention_days < longest_pattern_window {
            return Err(format!(
                "`{}` = {} is shorter than the longest pattern window ({longest_pattern_window} days); raw facts must outlive every pattern window",
                key("raw_retention_days"),
                self.raw_retention_days
            ));
        }
        for (name, value, min) in [
            ("aggregated_retention_days", self.aggregated_retention_days, 1),
            ("pattern_retention_days", self.pattern_retention_days, 1),
            ("finished_job_retention_days", self.finished_job_retention_days, 1),
            ("board_cache_ttl_seconds", self.board_cache_ttl_seconds, 1),
            ("export_max_rows", self.export_max_rows, 1),
            ("exports_per_user", self.exports_per_user, 1),
        ] {
            if value < min {
                return Err(format!("`{}` = {value} must be at least {min}", key(name)));
            }
        }
        if let Some(unknown) = self.scheduled_jobs.iter().find(|j| !SCHEDULES.iter().any(|(k, _)| k == j)) {
            return Err(format!("`{}` names {unknown:?}, not a scheduled job", key("scheduled_jobs")));
        }
        if env == Environment::Offline && !self.scheduled_jobs.is_empty() {
            return Err(format!("`{}` must be empty: offline runs no jobs", key("scheduled_jobs")));
        }
        Ok(())
    }
}

/// `[env.NAME]` as written: every key optional, over the seeds' defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnvProfile {
    raw_retention_days: Option<u32>,
    aggregated_retention_days: Option<u32>,
    pattern_retention_days: Option<u32>,
    finished_job_retention_days: Option<u32>,
    board_cache_ttl_seconds: Option<u32>,
    export_max_rows: Option<u32>,
    exports_per_user: Option<u32>,
    pii_masking: Option<bool>,
    scheduled_jobs: Option<Vec<String>>,
    narrative_writer: Option<super::narrative::NarrativeWriter>,
}

impl RawEnvProfile {
    pub fn over(self, d: EnvProfile) -> EnvProfile {
        EnvProfile {
            raw_retention_days: self.raw_retention_days.unwrap_or(d.raw_retention_days),
            aggregated_retention_days: self.aggregated_retention_days.unwrap_or(d.aggregated_retention_days),
            pattern_retention_days: self.pattern_retention_days.unwrap_or(d.pattern_retention_days),
            finished_job_retention_days: self.finished_job_retention_days.unwrap_or(d.finished_job_retention_days),
            board_cache_ttl_seconds: self.board_cache_ttl_seconds.unwrap_or(d.board_cache_ttl_seconds),
            export_max_rows: self.export_max_rows.unwrap_or(d.export_max_rows),
            exports_per_user: self.exports_per_user.unwrap_or(d.exports_per_user),
            pii_masking: self.pii_masking.unwrap_or(d.pii_masking),
            scheduled_jobs: self.scheduled_jobs.unwrap_or(d.scheduled_jobs),
            narrative_writer: self.narrative_writer.unwrap_or(d.narrative_writer),
        }
    }
}

/// Every environment's profile: each is validated, so a bad `[env.prod]` stops a dev start-up too.
pub fn profiles(raw: BTreeMap<String, RawEnvProfile>, longest_pattern_window: u32) -> Result<BTreeMap<&'static str, EnvProfile>, String> {
    if let Some(unknown) = raw.keys().find(|k| Environment::parse(k).is_none()) {
        return Err(format!("`[env.{unknown}]` is not an environment; allowed: {}", Environment::ALLOWED));
    }
    let mut raw = raw;
    let mut out = BTreeMap::new();
    for env in [Environment::Dev, Environment::Staging, Environment::Prod, Environment::Offline] {
        let profile = raw.remove(env.as_str()).unwrap_or_default().over(EnvProfile::default_for(env));
        profile.validate(env, longest_pattern_window)?;
        out.insert(env.as_str(), profile);
    }
    Ok(out)
}
