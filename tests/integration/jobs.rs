//! The job queue's guarantees on real PostgreSQL: a killed worker loses nothing, failures end
//! `failed` with their error, two workers never run one job, a scheduled slot is enqueued once by
//! two schedulers, shutdown releases unfinished work, and detection runs by itself on new data.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use insightops::db::jobs::{self, NewJob, Outcome};
use insightops::domain::jobs::JobKind;
use insightops::jobs::worker::Worker;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{config, context, run_workers_until};

/// Fast settings: short leases, 1-second backoff, quick polling.
const FAST: &str = "[jobs]\nlease_seconds = 5\nbackoff_base_seconds = 1\nbackoff_cap_seconds = 1\npoll_ms = 20\ngrace_seconds = 1\nconcurrency = 4\ndetect_delay_seconds = 0";

async fn noop(pool: &PgPool, payload: serde_json::Value, max_attempts: i32) -> Uuid {
    let mut conn = pool.acquire().await.expect("connection");
    let job = NewJob { payload, max_attempts, ..NewJob::new(JobKind::Noop, None) };
    jobs::enqueue(&mut conn, &job).await.expect("enqueue").id()
}

async fn state(pool: &PgPool, id: Uuid) -> (String, i32, Option<String>) {
    sqlx::query_as("SELECT status, attempts, last_error FROM io_job WHERE id = $1").bind(id).fetch_one(pool).await.expect("job")
}

#[sqlx::test]
async fn a_worker_killed_mid_job_loses_nothing_and_the_job_runs_again_after_its_lease(pool: PgPool) {
    let id = noop(&pool, json!({}), 5).await;
    // A worker takes the job with a one-second lease and dies: no heartbeat, no outcome.
    let taken = jobs::claim(&pool, "dead-worker", 10, 1.0).await.expect("claim");
    assert_eq!(taken.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    assert!(jobs::claim(&pool, "other", 10, 60.0).await.expect("claim").is_empty(), "a held job is not claimed twice");
    assert_eq!(jobs::reap_expired(&pool).await.expect("reap"), 0, "not before the lease runs out");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(jobs::reap_expired(&pool).await.expect("reap"), 1);
    let (status, attempts, error) = state(&pool, id).await;
    assert_eq!((status.as_str(), attempts), ("queued", 1));
    assert!(error.is_some_and(|e| e.contains("lease")));
    // The dead worker's late outcome is refused; a live worker runs it.
    let again = jobs::claim(&pool, "alive", 10, 60.0).await.expect("claim");
    assert_eq!(again.len(), 1);
    assert!(!jobs::finish(&pool, id, "dead-worker", &Outcome::Succeeded(json!({}))).await.expect("finish"));
    assert!(jobs::finish(&pool, id, "alive", &Outcome::Succeeded(json!({ "ok": true }))).await.expect("finish"));
    assert_eq!(state(&pool, id).await.0, "succeeded");
}

#[sqlx::test]
async fn a_job_failing_every_attempt_ends_failed_with_its_error(pool: PgPool) {
    let id = noop(&pool, json!({ "fail": "the source answered 500" }), 3).await;
    let ok = noop(&pool, json!({}), 3).await;
    let cfg = config(FAST);
    run_workers_until(&pool, cfg, 1, || async { state(&pool, id).await.0 == "failed" }).await;
    let (status, attempts, error) = state(&pool, id).await;
    assert_eq!((status.as_str(), attempts), ("failed", 3));
    assert_eq!(error.as_deref(), Some("the source answered 500"));
    assert_eq!(state(&pool, ok).await.0, "succeeded");
    let finished: bool = sqlx::query_scalar("SELECT finished_at IS NOT NULL FROM io_job WHERE id = $1").bind(id).fetch_one(&pool).await.expect("row");
    assert!(finished);
}

/// A handler that panics must not leave its job held by a heartbeat forever: the attempt fails,
/// is retried, and ends `failed` with what happened, while the worker goes on with other jobs.
#[sqlx::test]
async fn a_job_whose_handler_panics_fails_and_the_worker_goes_on(pool: PgPool) {
    let id = noop(&pool, json!({ "panic": "index out of bounds" }), 2).await;
    let ok = noop(&pool, json!({}), 2).await;
    run_workers_until(&pool, config(FAST), 1, || async { state(&pool, id).await.0 == "failed" && state(&pool, ok).await.0 == "succeeded" }).await;
    let (_, attempts, error) = state(&pool, id).await;
    assert_eq!(attempts, 2);
    assert!(error.as_deref().unwrap_or_default().contains("the job's handler stopped"), "{error:?}");
}

#[sqlx::test]
async fn two_workers_never_run_the_same_job_at_once(pool: PgPool) {
    sqlx::query("INSERT INTO io_job (kind, payload) SELECT 'noop', '{\"sleep_ms\": 5}' FROM generate_series(1, 300)").execute(&pool).await.expect("jobs");
    // Claims racing from eight connections never hand one job out twice.
    let mut claimers = Vec::new();
    for n in 0..8 {
        let pool = pool.clone();
        claimers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = jobs::claim(&pool, &format!("w{n}"), 7, 60.0).await.expect("claim");
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.await.expect("claimer"));
    }
    let distinct: std::collections::BTreeSet<Uuid> = all.iter().copied().collect();
    assert_eq!((all.len(), distinct.len()), (300, 300));
    // Two real workers over fresh jobs: every job ran exactly once.
    sqlx::query("DELETE FROM io_job").execute(&pool).await.expect("clear");
    sqlx::query("INSERT INTO io_job (kind, payload) SELECT 'noop', '{\"sleep_ms\": 2}' FROM generate_series(1, 200)").execute(&pool).await.expect("jobs");
    let done = || async { sqlx::query_scalar::<_, i64>("SELECT count(*) FROM io_job WHERE status = 'succeeded'").fetch_one(&pool).await.expect("count") == 200 };
    run_workers_until(&pool, config(FAST), 2, done).await;
    let (workers, max_attempts): (i64, i32) = sqlx::query_as("SELECT count(DISTINCT worker), max(attempts) FROM io_job").fetch_one(&pool).await.expect("stats");
    assert_eq!(max_attempts, 1, "no job was run twice");
    assert_eq!(workers, 2, "both workers took part");
}

#[sqlx::test]
async fn a_scheduled_slot_is_enqueued_once_by_two_instances(pool: PgPool) {
    let one = config("environment = \"prod\"");
    let two = config("environment = \"prod\"");
    let now = Utc::now();
    for _ in 0..3 {
        let (a, b) = tokio::join!(insightops::jobs::schedule::tick(&pool, &one, now), insightops::jobs::schedule::tick(&pool, &two, now));
        let _ = (a.expect("tick"), b.expect("tick"));
    }
    // Every 15 minutes there is a warm-up slot due: exactly one job for it.
    let warmups: i64 = sqlx::query_scalar("SELECT count(*) FROM io_job WHERE kind = 'cache_warmup'").fetch_one(&pool).await.expect("count");
    assert_eq!(warmups, 1);
    let slots: i64 = sqlx::query_scalar("SELECT count(*) FROM io_schedule_slot WHERE schedule = 'cache_warmup'").fetch_one(&pool).await.expect("count");
    assert_eq!(slots, 1);
    // Dev runs only retention; offline nothing at all.
    sqlx::query("DELETE FROM io_job").execute(&pool).await.expect("clear");
    sqlx::query("DELETE FROM io_schedule_slot").execute(&pool).await.expect("clear");
    assert!(insightops::jobs::schedule::tick(&pool, &config("environment = \"offline\""), now).await.expect("tick").is_empty());
    let dev = insightops::jobs::schedule::tick(&pool, &config("environment = \"dev\""), now).await.expect("tick");
    assert!(dev.iter().all(|(name, _)| name == "retention"), "{dev:?}");
}

#[sqlx::test]
async fn shutdown_lets_short_jobs_finish_and_releases_the_rest(pool: PgPool) {
    let short = noop(&pool, json!({ "sleep_ms": 200 }), 5).await;
    let long = noop(&pool, json!({ "sleep_ms": 20_000 }), 5).await;
    let cfg = config(FAST);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(Worker::new(context(&pool, cfg.clone()), cfg.jobs.clone(), 0).run(stopped));
    while sqlx::query_scalar::<_, i64>("SELECT count(*) FROM io_job WHERE status = 'running'").fetch_one(&pool).await.expect("count") < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);
    worker.await.expect("worker");
    assert_eq!(state(&pool, short).await.0, "succeeded", "finished within the grace period");
    let (status, attempts, _) = state(&pool, long).await;
    assert_eq!((status.as_str(), attempts), ("queued", 0), "released at once for another worker, the attempt not counted");
}

#[sqlx::test]
async fn loads_arriving_together_make_one_detection_and_one_during_a_run_makes_one_more(pool: PgPool) {
    let org: Uuid = sqlx::query_scalar("INSERT INTO io_org (slug, name) VALUES ('jobs-org', 'Jobs org') RETURNING id").fetch_one(&pool).await.expect("org");
    let cfg = config(FAST);
    let mut conn = pool.acquire().await.expect("connection");
    let first = insightops::jobs::service::data_changed(&mut conn, org, &cfg).await.expect("enqueue");
    let second = insightops::jobs::service::data_changed(&mut conn, org, &cfg).await.expect("enqueue");
    assert_eq!(second, jobs::Enqueued::Coalesced(first.id()));
    let claimed = jobs::claim(&pool, "w", 10, 60.0).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    insightops::jobs::service::data_changed(&mut conn, org, &cfg).await.expect("enqueue while running");
    assert!(jobs::finish(&pool, first.id(), "w", &Outcome::Succeeded(json!({}))).await.expect("finish"));
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM io_job WHERE kind = 'detect' AND status = 'queued'").fetch_one(&pool).await.expect("count");
    assert_eq!(queued, 1, "the load that came during the run gets its own run");
}

#[sqlx::test]
async fn new_data_raises_a_finding_without_anyone_pressing_run(pool: PgPool) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    insightops::seed::run(&pool, &insightops::seed::SeedOptions { days: 120, scale: 1, end, only_if_empty: false }).await.expect("seed");
    let globex = insightops::db::orgs::by_slug(&pool, "globex").await.expect("query").expect("org").id;
    // A new day arrives with one slice far off its usual level.
    let day = end.succ_opt().expect("date");
    sqlx::query(
        "INSERT INTO io_kpi_daily (org_id, kpi_date, metric_key, value, region, segment, channel, product, source)
         SELECT org_id, $2, metric_key, value * CASE WHEN region = (SELECT min(region) FROM io_kpi_daily WHERE org_id = $1) THEN 6 ELSE 1 END,
                region, segment, channel, product, source
         FROM io_kpi_daily WHERE org_id = $1 AND kpi_date = $3 AND metric_key = 'revenue'",
    )
    .bind(globex)
    .bind(day)
    .bind(end)
    .execute(&pool)
    .await
    .expect("new day");
    crate::support::refresh_rollups(&pool, globex).await;
    let cfg = config(FAST);
    let mut conn = pool.acquire().await.expect("connection");
    insightops::jobs::service::data_changed(&mut conn, globex, &cfg).await.expect("enqueue");
    let raised = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM io_recommendation WHERE org_id = $1 AND metric_key = 'revenue' AND (evidence ->> 'period_end')::date = $2")
            .bind(globex)
            .bind(day)
            .fetch_one(&pool)
            .await
            .expect("count")
            > 0
    };
    run_workers_until(&pool, cfg, 1, raised).await;
    let by: Vec<String> = sqlx::query_scalar("SELECT DISTINCT triggered_by FROM io_model_execution WHERE org_id = $1").bind(globex).fetch_all(&pool).await.expect("runs");
    assert_eq!(by, vec!["job:detect".to_string()]);
}

#[sqlx::test]
async fn retention_purges_what_is_older_than_the_profile_keeps(pool: PgPool) {
    let org = crate::support::insert_org(&pool, "retention-org").await;
    crate::support::insert_metric(&pool, org, "revenue", "USD", "higher_is_better", "sum", 1).await;
    let today = Utc::now().date_naive();
    for days_ago in [10, 700, 800, 2000] {
        crate::support::insert_kpi(&pool, org, "revenue", today - chrono::Duration::days(days_ago), "EMEA", 1.0).await;
    }
    sqlx::query("INSERT INTO io_job (kind, status, finished_at) VALUES ('noop', 'succeeded', now() - interval '40 days'), ('noop', 'succeeded', now() - interval '1 day')")
        .execute(&pool)
        .await
        .expect("old jobs");
    let cfg = config("");
    let ctx = context(&pool, cfg);
    let job = jobs::ClaimedJob { id: Uuid::nil(), kind: JobKind::Retention, org_id: None, payload: json!({}), attempts: 1, max_attempts: 1 };
    let purged = insightops::jobs::handlers::run(&ctx, &job).await.expect("retention");
    assert_eq!(purged["io_kpi_daily"], 2, "{purged}");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM io_kpi_daily").fetch_one(&pool).await.expect("count");
    assert_eq!(left, 2);
    let jobs_left: i64 = sqlx::query_scalar("SELECT count(*) FROM io_job").fetch_one(&pool).await.expect("count");
    assert_eq!(jobs_left, 1, "finished jobs older than 30 days go");
}
