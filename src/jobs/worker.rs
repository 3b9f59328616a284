//! The job worker: claims due jobs, runs each with a heartbeat that renews its lease, records how
//! it ended (retried with exponential backoff, or failed for good with its error), and reclaims
//! jobs whose worker died. On shutdown it stops claiming, lets running jobs finish within the
//! grace period and releases the rest for another worker.

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::handlers::{self, JobContext};
use crate::config::JobsConfig;
use crate::db;
use crate::db::jobs::{ClaimedJob, Outcome};

/// How often a worker returns jobs whose lease ran out to the queue.
const REAP_EVERY: Duration = Duration::from_secs(5);

/// One worker: its name (in `io_job.worker`) and settings.
#[derive(Clone)]
pub struct Worker {
    pub name: String,
    pub config: JobsConfig,
    pub ctx: JobContext,
}

impl Worker {
    pub fn new(ctx: JobContext, config: JobsConfig, index: usize) -> Worker {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        let name = format!("{host}:{}:{index}:{:08x}", std::process::id(), rand::random::<u32>());
        Worker { name, config, ctx }
    }

    fn lease_secs(&self) -> f64 {
        f64::from(self.config.lease_seconds)
    }

    /// Runs until `shutdown` turns true, then drains as described in the module doc.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut running: JoinSet<(Uuid, Outcome)> = JoinSet::new();
        let mut in_flight: HashSet<Uuid> = HashSet::new();
        let mut last_reap: Option<tokio::time::Instant> = None;
        let poll = Duration::from_millis(self.config.poll_ms.into());
        let capacity = self.config.concurrency as usize;
        while !*shutdown.borrow() {
            if last_reap.is_none_or(|t| t.elapsed() >= REAP_EVERY) {
                self.reap().await;
                last_reap = Some(tokio::time::Instant::now());
            }
            let free = capacity.saturating_sub(running.len());
            let mut claimed = 0;
            if free > 0 {
                match db::jobs::claim(&self.ctx.pool, &self.name, free as i64, self.lease_secs()).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            in_flight.insert(job.id);
                            running.spawn(self.clone().run_one(job));
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "claiming jobs"),
                }
            }
            // More work may be waiting: claim again at once while there is room.
            if claimed > 0 && running.len() < capacity {
                continue;
            }
            let mut done = Vec::new();
            tokio::select! {
                Some(Ok(ended)) = running.join_next(), if !running.is_empty() => done.push(ended),
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
            self.record(&mut running, &mut in_flight, done).await;
        }
        self.drain(running, in_flight).await;
    }

    /// Returns jobs whose lease ran out to the queue and fails abandoned model runs.
    async fn reap(&self) {
        if let Err(err) = db::jobs::reap_expired(&self.ctx.pool).await {
            tracing::warn!(error = %err, "returning expired jobs");
        }
        let stale = crate::models::service::STALE_RUN.as_secs_f64();
        if let Err(err) = db::models::fail_stale_runs(&self.ctx.pool, None, stale).await {
            tracing::warn!(error = %err, "failing abandoned model runs");
        }
    }

    /// Records the outcome of `done` and of every other job that has ended meanwhile, in one
    /// statement: finishing jobs in batches is what lets a worker outrun one commit per job.
    async fn record(&self, running: &mut JoinSet<(Uuid, Outcome)>, in_flight: &mut HashSet<Uuid>, mut done: Vec<(Uuid, Outcome)>) {
        while let Some(next) = running.try_join_next() {
            done.extend(next.ok());
        }
        if done.is_empty() {
            return;
        }
        match db::jobs::finish_many(&self.ctx.pool, &self.name, &done).await {
            Ok(ended) if ended.len() == done.len() => {}
            Ok(ended) => {
                let lost = done.iter().filter(|(id, _)| !ended.contains(id)).count();
                tracing::warn!(worker = %self.name, lost, "jobs whose lease was taken over; their outcome is not recorded");
            }
            // One outcome the database refuses must not cost the others theirs: one at a time.
            Err(err) => {
                tracing::warn!(error = %err, "recording a batch of outcomes; recording them one by one");
                for (id, outcome) in &done {
                    if let Err(err) = db::jobs::finish(&self.ctx.pool, *id, &self.name, outcome).await {
                        tracing::warn!(job = %id, error = %err, "recording a job's outcome; it runs again after its lease");
                    }
                }
            }
        }
        for (id, _) in &done {
            in_flight.remove(id);
        }
    }

    /// Lets running jobs finish within the grace period, then releases what is left.
    async fn drain(&self, mut running: JoinSet<(Uuid, Outcome)>, mut in_flight: HashSet<Uuid>) {
        let grace = tokio::time::sleep(Duration::from_secs(self.config.grace_seconds.into()));
        tokio::pin!(grace);
        loop {
            tokio::select! {
                next = running.join_next() => match next {
                    None => break,
                    Some(ended) => self.record(&mut running, &mut in_flight, ended.ok().into_iter().collect()).await,
                },
                _ = &mut grace => break,
            }
        }
        // Jobs that ended as the grace period ran out keep their outcome; only the rest are released.
        self.record(&mut running, &mut in_flight, Vec::new()).await;
        running.abort_all();
        let left: Vec<Uuid> = in_flight.into_iter().collect();
        if !left.is_empty() {
            match db::jobs::release(&self.ctx.pool, &self.name, &left).await {
                Ok(n) => tracing::info!(worker = %self.name, released = n, "released unfinished jobs"),
                Err(err) => tracing::warn!(error = %err, "releasing jobs; they return when their lease runs out"),
            }
        }
    }

    /// Runs one job with a heartbeat; returns how it ended, for the worker to record.
    async fn run_one(self, job: ClaimedJob) -> (Uuid, Outcome) {
        let heartbeat = tokio::spawn({
            let (pool, name, id, lease) = (self.ctx.pool.clone(), self.name.clone(), job.id, self.lease_secs());
            async move {
                loop {
                    tokio::time::sleep(Duration::from_secs_f64(lease / 3.0)).await;
                    match db::jobs::heartbeat(&pool, id, &name, lease).await {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(err) => tracing::warn!(error = %err, "job heartbeat"),
                    }
                }
            }
        });
        // On its own task, so a handler that panics fails its job instead of leaving it held.
        let started = std::time::Instant::now();
        let handler = tokio::spawn({
            let (ctx, job) = (self.ctx.clone(), job.clone());
            async move { handlers::run(&ctx, &job).await }
        });
        let result = handler.await.unwrap_or_else(|e| Err(format!("the job's handler stopped: {e}")));
        heartbeat.abort();
        let kind = job.kind.as_str();
        metrics::histogram!("insightops_job_duration_seconds", "kind" => kind).record(started.elapsed().as_secs_f64());
        metrics::counter!("insightops_jobs_finished_total", "kind" => kind, "outcome" => if result.is_ok() { "succeeded" } else { "failed" }).increment(1);
        let outcome = match result {
            Ok(progress) => Outcome::Succeeded(progress),
            Err(error) => {
                tracing::warn!(job = %job.id, kind = job.kind.as_str(), attempt = job.attempts, %error, "job failed");
                Outcome::Failed { error, backoff_secs: self.config.backoff_secs(job.attempts) }
            }
        };
        (job.id, outcome)
    }
}

/// Starts `count` workers; they stop when `shutdown` turns true. Returns their tasks.
pub fn spawn_workers(ctx: &JobContext, config: &JobsConfig, count: u32, shutdown: &watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    (0..count as usize).map(|i| tokio::spawn(Worker::new(ctx.clone(), config.clone(), i).run(shutdown.clone()))).collect()
}
