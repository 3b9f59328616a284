//! The job worker: claims due jobs, runs each with a heartbeat that renews its lease, records how
//! it ended (retried with exponential backoff, or failed for good with its error), and reclaims
//! jobs whose worker died. On shutdown it stops claiming, lets running jobs finish within the
//! grace period and releases the rest for another worker.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
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
        let in_flight: Arc<Mutex<HashSet<Uuid>>> = Arc::default();
        let mut running = JoinSet::new();
        let mut last_reap: Option<tokio::time::Instant> = None;
        let poll = Duration::from_millis(self.config.poll_ms.into());
        let capacity = self.config.concurrency as usize;
        while !*shutdown.borrow() {
            if last_reap.is_none_or(|t| t.elapsed() >= REAP_EVERY) {
                if let Err(err) = db::jobs::reap_expired(&self.ctx.pool).await {
                    tracing::warn!(error = %err, "returning expired jobs");
                }
                let stale = crate::models::service::STALE_RUN.as_secs_f64();
                if let Err(err) = db::models::fail_stale_runs(&self.ctx.pool, None, stale).await {
                    tracing::warn!(error = %err, "failing abandoned model runs");
                }
                last_reap = Some(tokio::time::Instant::now());
            }
            let free = capacity.saturating_sub(running.len());
            let mut claimed = 0;
            if free > 0 {
                match db::jobs::claim(&self.ctx.pool, &self.name, free as i64, self.lease_secs()).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            if let Ok(mut ids) = in_flight.lock() {
                                ids.insert(job.id);
                            }
                            running.spawn(self.clone().run_one(job, in_flight.clone()));
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "claiming jobs"),
                }
            }
            // More work may be waiting: claim again at once while there is room.
            if claimed > 0 && running.len() < capacity {
                continue;
            }
            tokio::select! {
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        self.drain(running, in_flight).await;
    }

    /// Lets running jobs finish within the grace period, then releases what is left.
    async fn drain(&self, mut running: JoinSet<()>, in_flight: Arc<Mutex<HashSet<Uuid>>>) {
        let grace = tokio::time::sleep(Duration::from_secs(self.config.grace_seconds.into()));
        tokio::pin!(grace);
        loop {
            tokio::select! {
                next = running.join_next() => if next.is_none() { break },
                _ = &mut grace => break,
            }
        }
        running.abort_all();
        let left: Vec<Uuid> = in_flight.lock().map(|ids| ids.iter().copied().collect()).unwrap_or_default();
        if !left.is_empty() {
            match db::jobs::release(&self.ctx.pool, &self.name, &left).await {
                Ok(n) => tracing::info!(worker = %self.name, released = n, "released unfinished jobs"),
                Err(err) => tracing::warn!(error = %err, "releasing jobs; they return when their lease runs out"),
            }
        }
    }

    /// Runs one job with a heartbeat and records the outcome.
    async fn run_one(self, job: ClaimedJob, in_flight: Arc<Mutex<HashSet<Uuid>>>) {
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
        let result = handlers::run(&self.ctx, &job).await;
        heartbeat.abort();
        let outcome = match result {
            Ok(progress) => Outcome::Succeeded(progress),
            Err(error) => {
                tracing::warn!(job = %job.id, kind = job.kind.as_str(), attempt = job.attempts, %error, "job failed");
                Outcome::Failed { error, backoff_secs: self.config.backoff_secs(job.attempts) }
            }
        };
        match db::jobs::finish(&self.ctx.pool, job.id, &self.name, &outcome).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(job = %job.id, "the job's lease was taken over; its outcome is not recorded"),
            Err(err) => tracing::warn!(job = %job.id, error = %err, "recording a job's outcome; it runs again after its lease"),
        }
        if let Ok(mut ids) = in_flight.lock() {
            ids.remove(&job.id);
        }
    }
}

/// Starts `count` workers; they stop when `shutdown` turns true. Returns their tasks.
pub fn spawn_workers(ctx: &JobContext, config: &JobsConfig, count: u32, shutdown: &watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    (0..count as usize).map(|i| tokio::spawn(Worker::new(ctx.clone(), config.clone(), i).run(shutdown.clone()))).collect()
}
