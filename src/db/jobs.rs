//! The job queue (`io_job`) and the slots of scheduled jobs (`io_schedule_slot`). Claims take
//! queued rows with `FOR UPDATE SKIP LOCKED`; every state change of a running job names the worker
//! that holds it, so a worker whose lease was taken over cannot finish someone else's run.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::decode;
use crate::domain::jobs::{JobKind, JobStatus, JobSummary};

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: JobKind,
    pub org_id: Option<Uuid>,
    pub payload: serde_json::Value,
    pub priority: i16,
    /// Seconds from now before it may run (coalescing window, backoff).
    pub delay_secs: f64,
    pub max_attempts: i32,
    /// At most one queued or running job per key; enqueuing again while one runs asks for a rerun.
    pub dedupe_key: Option<String>,
}

impl NewJob {
    pub fn new(kind: JobKind, org_id: Option<Uuid>) -> NewJob {
        NewJob { kind, org_id, payload: serde_json::json!({}), priority: 0, delay_secs: 0.0, max_attempts: 5, dedupe_key: None }
    }
}

/// What enqueuing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    New(Uuid),
    /// A job with the same key was already queued (this one is folded into it) or running (it
    /// will run once more when it finishes).
    Coalesced(Uuid),
}

impl Enqueued {
    pub fn id(self) -> Uuid {
        match self {
            Enqueued::New(id) | Enqueued::Coalesced(id) => id,
        }
    }
}

pub async fn enqueue(conn: &mut PgConnection, job: &NewJob) -> Result<Enqueued, sqlx::Error> {
    let (id, inserted): (Uuid, bool) = sqlx::query_as(
        "INSERT INTO io_job (kind, org_id, payload, priority, run_at, max_attempts, dedupe_key)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), $6, $7)
         ON CONFLICT (dedupe_key) WHERE status IN ('queued', 'running')
         DO UPDATE SET rerun = io_job.rerun OR io_job.status = 'running'
         RETURNING id, (xmax = 0)",
    )
    .bind(job.kind.as_str())
    .bind(job.org_id)
    .bind(&job.payload)
    .bind(job.priority)
    .bind(job.delay_secs)
    .bind(job.max_attempts)
    .bind(job.dedupe_key.as_deref())
    .fetch_one(conn)
    .await?;
    Ok(if inserted { Enqueued::New(id) } else { Enqueued::Coalesced(id) })
}

/// A job a worker holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub kind: JobKind,
    pub org_id: Option<Uuid>,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub max_attempts: i32,
}

type ClaimRow = (Uuid, String, Option<Uuid>, serde_json::Value, i32, i32);

fn claimed(row: ClaimRow) -> Result<ClaimedJob, sqlx::Error> {
    let kind = decode("io_job.kind", &row.1, JobKind::parse(&row.1))?;
    Ok(ClaimedJob { id: row.0, kind, org_id: row.2, payload: row.3, attempts: row.4, max_attempts: row.5 })
}

/// Takes up to `limit` due jobs, highest priority first, for `worker` until the lease runs out.
pub async fn claim(pool: &PgPool, worker: &str, limit: i64, lease_secs: f64) -> Result<Vec<ClaimedJob>, sqlx::Error> {
    let rows: Vec<ClaimRow> = sqlx::query_as(
        "WITH picked AS (
             SELECT id FROM io_job WHERE status = 'queued' AND run_at <= now()
             ORDER BY priority DESC, run_at LIMIT $2 FOR UPDATE SKIP LOCKED
         )
         UPDATE io_job j SET status = 'running', worker = $1, attempts = j.attempts + 1,
                lease_until = now() + make_interval(secs => $3), started_at = now(), finished_at = NULL
         FROM picked WHERE j.id = picked.id
         RETURNING j.id, j.kind, j.org_id, j.payload, j.attempts, j.max_attempts",
    )
    .bind(worker)
    .bind(limit)
    .bind(lease_secs)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(claimed).collect()
}

/// Extends the lease of a job `worker` still holds; `false` when it no longer does.
pub async fn heartbeat(pool: &PgPool, id: Uuid, worker: &str, lease_secs: f64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE io_job SET lease_until = now() + make_interval(secs => $3) WHERE id = $1 AND worker = $2 AND status = 'running'")
        .bind(id)
        .bind(worker)
        .bind(lease_secs)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records what a running job reported so far.
pub async fn report(pool: &PgPool, id: Uuid, worker: &str, progress: &serde_json::Value) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE io_job SET progress = $3 WHERE id = $1 AND worker = $2 AND status = 'running'").bind(id).bind(worker).bind(progress).execute(pool).await?;
    Ok(())
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded(serde_json::Value),
    /// Retried after `backoff_secs` unless the attempts are used up, then `failed` with the error.
    Failed { error: String, backoff_secs: f64 },
}

/// Ends a run `worker` holds; see [`finish_many`]. `false` when the worker no longer held it (its
/// lease expired and it was taken over).
pub async fn finish(pool: &PgPool, id: Uuid, worker: &str, outcome: &Outcome) -> Result<bool, sqlx::Error> {
    Ok(finish_many(pool, worker, &[(id, outcome.clone())]).await?.contains(&id))
}

/// Ends runs `worker` holds, all in one statement (one commit for a batch, which is what lets a
/// worker finish more jobs a second than the database commits). A job that asked for a rerun
/// meanwhile is queued again as a new job in the same statement. Returns the ids that ended; the
/// others had been taken over after their lease expired, and their outcome is not recorded.
pub async fn finish_many(pool: &PgPool, worker: &str, outcomes: &[(Uuid, Outcome)]) -> Result<Vec<Uuid>, sqlx::Error> {
    if outcomes.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = outcomes.iter().map(|(id, _)| *id).collect();
    let mut progress: Vec<Option<serde_json::Value>> = Vec::with_capacity(outcomes.len());
    let mut errors: Vec<Option<String>> = Vec::with_capacity(outcomes.len());
    let mut backoffs: Vec<f64> = Vec::with_capacity(outcomes.len());
    for (_, outcome) in outcomes {
        let (p, e, b) = match outcome {
            Outcome::Succeeded(value) => (Some(value.clone()), None, 0.0),
            // PostgreSQL text cannot hold NUL; an error message with one must still be stored.
            Outcome::Failed { error, backoff_secs } => (None, Some(error.replace('\0', "\u{fffd}")), *backoff_secs),
        };
        progress.push(p);
        errors.push(e);
        backoffs.push(b);
    }
    sqlx::query_scalar(
        "WITH o AS (
             SELECT * FROM unnest($2::uuid[], $3::jsonb[], $4::text[], $5::float8[]) AS o (id, progress, error, backoff)
         ), ended AS (
             UPDATE io_job j SET
                 status = CASE WHEN o.progress IS NOT NULL THEN 'succeeded'
                               WHEN j.attempts >= j.max_attempts THEN 'failed' ELSE 'queued' END,
                 progress = COALESCE(o.progress, j.progress),
                 last_error = COALESCE(o.error, j.last_error),
                 run_at = CASE WHEN o.progress IS NULL THEN now() + make_interval(secs => o.backoff) ELSE j.run_at END,
                 finished_at = CASE WHEN o.progress IS NOT NULL OR j.attempts >= j.max_attempts THEN now() END,
                 rerun = CASE WHEN o.progress IS NULL AND j.attempts < j.max_attempts THEN false ELSE j.rerun END,
                 lease_until = NULL
             FROM o WHERE j.id = o.id AND j.worker = $1 AND j.status = 'running'
             RETURNING j.id, j.status, j.rerun, j.kind, j.org_id, j.payload, j.priority, j.max_attempts, j.dedupe_key
         ), again AS (
             INSERT INTO io_job (kind, org_id, payload, priority, max_attempts, dedupe_key)
             SELECT kind, org_id, payload, priority, max_attempts, dedupe_key FROM ended WHERE rerun AND status <> 'queued'
         )
         SELECT id FROM ended",
    )
    .bind(worker)
    .bind(&ids)
    .bind(&progress)
    .bind(&errors)
    .bind(&backoffs)
    .fetch_all(pool)
    .await
}

/// Gives back the running jobs of a worker that is shutting down: queued again at once, the
/// interrupted attempt not counted.
pub async fn release(pool: &PgPool, worker: &str, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE io_job SET status = 'queued', attempts = greatest(attempts - 1, 0), lease_until = NULL, run_at = now(),
                last_error = 'released by a worker that shut down'
         WHERE worker = $1 AND id = ANY($2) AND status = 'running'",
    )
    .bind(worker)
    .bind(ids)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Running jobs whose lease ran out (their worker died or stalled): queued again, or failed when
/// their attempts are used up. Returns how many.
pub async fn reap_expired(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE io_job SET
             status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
             finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
             last_error = 'its worker stopped renewing the lease (it died or stalled)',
             lease_until = NULL, run_at = now()
         WHERE status = 'running' AND lease_until < now()",
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    kind: String,
    status: String,
    attempts: i32,
    max_attempts: i32,
    priority: i16,
    created_at: DateTime<Utc>,
    run_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    progress: serde_json::Value,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl TryFrom<JobRow> for JobSummary {
    type Error = sqlx::Error;

    fn try_from(r: JobRow) -> Result<Self, Self::Error> {
        Ok(JobSummary {
            kind: decode("io_job.kind", &r.kind, JobKind::parse(&r.kind))?,
            status: decode("io_job.status", &r.status, JobStatus::parse(&r.status))?,
            duration_ms: r.started_at.zip(r.finished_at).map(|(s, f)| (f - s).num_milliseconds()),
            id: r.id,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            priority: r.priority,
            created_at: stamp(r.created_at),
            run_at: stamp(r.run_at),
            started_at: r.started_at.map(stamp),
            finished_at: r.finished_at.map(stamp),
            last_error: r.last_error,
            progress: r.progress.to_string(),
        })
    }
}

/// The org's jobs and the jobs of no org (retention, warm-up), newest first.
pub async fn list(pool: &PgPool, org_id: Uuid, status: Option<JobStatus>, limit: i64) -> Result<Vec<JobSummary>, sqlx::Error> {
    let rows = sqlx::query_as::<_, JobRow>(
        "SELECT id, kind, status, attempts, max_attempts, priority, created_at, run_at, started_at, finished_at, last_error, progress
         FROM io_job WHERE (org_id = $1 OR org_id IS NULL) AND ($2::text IS NULL OR status = $2)
         ORDER BY created_at DESC, id LIMIT $3",
    )
    .bind(org_id)
    .bind(status.map(JobStatus::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(JobSummary::try_from).collect()
}

pub async fn by_id(pool: &PgPool, org_id: Uuid, id: Uuid) -> Result<Option<JobSummary>, sqlx::Error> {
    let row = sqlx::query_as::<_, JobRow>(
        "SELECT id, kind, status, attempts, max_attempts, priority, created_at, run_at, started_at, finished_at, last_error, progress
         FROM io_job WHERE id = $1 AND (org_id = $2 OR org_id IS NULL)",
    )
    .bind(id)
    .bind(org_id)
    .fetch_optional(pool)
    .await?;
    row.map(JobSummary::try_from).transpose()
}

/// Why an admin's retry or cancel did not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    Applied { kind: JobKind },
    Missing,
    /// Not in a state that allows it (now `status`).
    NotAllowed { status: JobStatus },
    /// Another job with the same key is already queued or running.
    Duplicate,
}

/// An admin's change to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobChange {
    /// A failed or cancelled job runs again with fresh attempts.
    Retry,
    /// A queued or failed job will not run.
    Cancel,
}

/// Applies `change` to a job of the org, if its state allows it.
pub async fn change(conn: &mut PgConnection, org_id: Uuid, id: Uuid, change: JobChange) -> Result<ChangeOutcome, sqlx::Error> {
    let row: Option<(String, String, Option<String>)> = sqlx::query_as("SELECT status, kind, dedupe_key FROM io_job WHERE id = $1 AND org_id = $2 FOR UPDATE")
        .bind(id)
        .bind(org_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((status, kind, key)) = row else { return Ok(ChangeOutcome::Missing) };
    let status = decode("io_job.status", &status, JobStatus::parse(&status))?;
    let kind = decode("io_job.kind", &kind, JobKind::parse(&kind))?;
    let allowed = match change {
        JobChange::Retry => status.can_retry(),
        JobChange::Cancel => status.can_cancel(),
    };
    if !allowed {
        return Ok(ChangeOutcome::NotAllowed { status });
    }
    let sql = match change {
        JobChange::Retry => {
            let taken: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM io_job WHERE dedupe_key = $1 AND status IN ('queued', 'running'))")
                .bind(&key)
                .fetch_one(&mut *conn)
                .await?;
            if taken {
                return Ok(ChangeOutcome::Duplicate);
            }
            "UPDATE io_job SET status = 'queued', attempts = 0, run_at = now(), finished_at = NULL WHERE id = $1"
        }
        JobChange::Cancel => "UPDATE io_job SET status = 'cancelled', finished_at = now(), rerun = false WHERE id = $1",
    };
    sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    Ok(ChangeOutcome::Applied { kind })
}

/// Claims one slot of a schedule for this instance: `true` for exactly one caller per slot.
pub async fn claim_slot(conn: &mut PgConnection, schedule: &str, slot_at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let won: Option<i32> = sqlx::query_scalar("INSERT INTO io_schedule_slot (schedule, slot_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1")
        .bind(schedule)
        .bind(slot_at)
        .fetch_optional(conn)
        .await?;
    Ok(won.is_some())
}

pub async fn set_slot_job(conn: &mut PgConnection, schedule: &str, slot_at: DateTime<Utc>, job_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE io_schedule_slot SET job_id = $3 WHERE schedule = $1 AND slot_at = $2").bind(schedule).bind(slot_at).bind(job_id).execute(conn).await?;
    Ok(())
}


/// The queue of one job kind as Prometheus sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueDepth {
    pub kind: JobKind,
    /// Queued and due now (a job waiting for its backoff or coalescing delay is not late).
    pub queued: i64,
    pub running: i64,
    /// How long the oldest due job has waited since it became due; 0 when none waits.
    pub oldest_due_seconds: f64,
}

/// One row for every job kind, zeros included, so a drained queue shows as 0 rather than vanishing.
pub async fn queue_depth(pool: &PgPool) -> Result<Vec<QueueDepth>, sqlx::Error> {
    let rows: Vec<(String, i64, i64, f64)> = sqlx::query_as(
        "SELECT kind,
                count(*) FILTER (WHERE status = 'queued' AND run_at <= now()),
                count(*) FILTER (WHERE status = 'running'),
                COALESCE(EXTRACT(EPOCH FROM now() - min(run_at) FILTER (WHERE status = 'queued' AND run_at <= now())), 0)::float8
         FROM io_job WHERE status IN ('queued', 'running') GROUP BY kind",
    )
    .fetch_all(pool)
    .await?;
    Ok(JobKind::ALL
        .iter()
        .map(|&kind| {
            let found = rows.iter().find(|(k, ..)| k == kind.as_str());
            let (queued, running, oldest_due_seconds) = found.map_or((0, 0, 0.0), |&(_, q, r, o)| (q, r, o));
            QueueDepth { kind, queued, running, oldest_due_seconds }
        })
        .collect())
}
