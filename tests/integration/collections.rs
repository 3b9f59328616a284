//! Backfill and weekly collections (issue 13) through the server functions and real workers: a
//! 52-week CSV backfill completes, a bad week fails alone and is retried alone, re-running writes
//! nothing (checksums), an HTTP JSON source is read from a local server, pause holds the weeks.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use insightops::auth::Role;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{config, day, form, insert_metric, insert_org, insert_user, router_with, run_workers_until, Client};

/// A fresh folder under the temp dir, the collections directory of one test.
fn collections_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("io-collections-{}-{nanos}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst)));
    std::fs::create_dir_all(&dir).expect("collections dir");
    dir
}

/// The test's Leptos.toml: its collections directory, fast workers, one attempt per job.
fn toml(dir: &Path) -> String {
    format!(
        "[ingest]\ncollections_dir = {:?}\nfetch_timeout_seconds = 5\n[jobs]\nmax_attempts = 1\npoll_ms = 20\nlease_seconds = 5\ngrace_seconds = 1\nconcurrency = 4\ndetect_delay_seconds = 3600",
        dir.display().to_string()
    )
}

/// Seven days of revenue in two regions: 14 rows; `bad` spoils one value.
fn week_csv(start: NaiveDate, bad: bool) -> String {
    let mut out = String::from("date,metric,value,region\n");
    for d in 0..7 {
        let date = start + Duration::days(d);
        for (i, region) in ["EMEA", "AMER"].iter().enumerate() {
            let value = if bad && d == 3 && i == 1 { "lots".to_string() } else { format!("{}", 100 + d * 10 + i as i64) };
            out.push_str(&format!("{date},revenue,{value},{region}\n"));
        }
    }
    out
}

async fn admin_client(pool: &PgPool, toml: &str, slug: &str) -> (Uuid, Client) {
    let org = insert_org(pool, slug).await;
    insert_metric(pool, org, "revenue", "USD", "higher_is_better", "sum", 1).await;
    let (_, email, password) = insert_user(pool, org, Role::Admin).await;
    let mut client = Client::of_router(router_with(pool.clone(), toml), [10, 0, 0, 21]);
    client.login(&email, &password).await;
    (org, client)
}

async fn collection_status(pool: &PgPool, org: Uuid) -> (String, i32, i32) {
    sqlx::query_as("SELECT status, weeks_completed, progress_percentage FROM io_collection WHERE org_id = $1").bind(org).fetch_one(pool).await.expect("collection")
}

async fn week_statuses(pool: &PgPool, org: Uuid) -> Vec<(NaiveDate, String, i32)> {
    sqlx::query_as(
        "SELECT w.week_start, w.status, w.attempts FROM io_collection_week w JOIN io_collection c ON c.id = w.collection_id
         WHERE c.org_id = $1 ORDER BY w.week_start",
    )
    .bind(org)
    .fetch_all(pool)
    .await
    .expect("weeks")
}

async fn count(pool: &PgPool, sql: &str, org: Uuid) -> i64 {
    sqlx::query_scalar(sql).bind(org).fetch_one(pool).await.expect("count")
}

/// Runs workers until the org's collection has no week waiting.
async fn run_until_settled(pool: &PgPool, cfg: Arc<insightops::config::Config>, org: Uuid) {
    run_workers_until(pool, cfg, 1, || async { !["pending", "running"].contains(&collection_status(pool, org).await.0.as_str()) }).await;
}

#[sqlx::test]
async fn a_52_week_backfill_completes_a_bad_week_is_retried_alone_and_a_rerun_writes_nothing(pool: PgPool) {
    let dir = collections_dir();
    let toml = toml(&dir);
    let (org, admin) = admin_client(&pool, &toml, "acme").await;
    let first = day("2025-01-06");
    let folder = dir.join("sales");
    std::fs::create_dir_all(&folder).expect("folder");
    let bad_week = first + Duration::weeks(9);
    for w in 0..52 {
        let start = first + Duration::weeks(w);
        std::fs::write(folder.join(format!("{start}.csv")), week_csv(start, start == bad_week)).expect("file");
    }
    let created = admin
        .post(
            "/api/collection_create",
            &form(&[("name", "Sales 2025"), ("collection_type", "backfill"), ("target", "kpi"), ("source_kind", "csv_dir"), ("source", "sales"), ("start_date", "2025-01-08"), ("weeks", "52")]),
        )
        .await;
    assert_eq!(created.status.as_u16(), 200, "{}", created.body);
    assert_eq!(created.json()["weeks"].as_array().map(Vec::len), Some(52));

    let cfg = config(&toml);
    run_until_settled(&pool, cfg.clone(), org).await;
    let weeks = week_statuses(&pool, org).await;
    assert_eq!(weeks.iter().filter(|w| w.1 == "completed").count(), 51);
    let failed: Vec<_> = weeks.iter().filter(|w| w.1 == "failed").collect();
    assert_eq!(failed.iter().map(|w| w.0).collect::<Vec<_>>(), vec![bad_week], "only the bad week failed");
    let error: String = sqlx::query_scalar("SELECT error_message FROM io_collection_week WHERE status = 'failed'").fetch_one(&pool).await.expect("error");
    assert!(error.contains("1 row rejected, nothing written; row 8 (line 9) value"), "{error}");
    assert_eq!(collection_status(&pool, org).await, ("failed".to_string(), 51, 98));
    assert_eq!(count(&pool, "SELECT count(*) FROM io_kpi_daily WHERE org_id = $1", org).await, 51 * 14, "the bad week wrote nothing");

    // Fix the file and retry that week alone.
    std::fs::write(folder.join(format!("{bad_week}.csv")), week_csv(bad_week, false)).expect("fixed file");
    let week_id: Uuid = sqlx::query_scalar("SELECT id FROM io_collection_week WHERE status = 'failed'").fetch_one(&pool).await.expect("week id");
    let collection_id: Uuid = sqlx::query_scalar("SELECT id FROM io_collection WHERE org_id = $1").bind(org).fetch_one(&pool).await.expect("id");
    let retry = admin.post("/api/collection_change", &form(&[("collection_id", &collection_id.to_string()), ("action", "retry_week"), ("week_id", &week_id.to_string())])).await;
    assert_eq!(retry.status.as_u16(), 200, "{}", retry.body);
    let loads_before = count(&pool, "SELECT count(*) FROM io_ingest_load WHERE org_id = $1", org).await;
    run_until_settled(&pool, cfg.clone(), org).await;
    let weeks = week_statuses(&pool, org).await;
    assert!(weeks.iter().all(|w| w.1 == "completed"), "{weeks:?}");
    let attempts: Vec<i32> = weeks.iter().map(|w| w.2).collect();
    assert_eq!(attempts.iter().filter(|a| **a == 2).count(), 1, "only the retried week ran again: {attempts:?}");
    assert_eq!(count(&pool, "SELECT count(*) FROM io_ingest_load WHERE org_id = $1", org).await, loads_before + 1);
    assert_eq!(collection_status(&pool, org).await, ("completed".to_string(), 52, 100));
    assert_eq!(count(&pool, "SELECT count(*) FROM io_kpi_daily WHERE org_id = $1", org).await, 52 * 14);

    // Re-running the whole collection reads every week again and writes nothing.
    let stamp = |pool: PgPool| async move {
        sqlx::query_as::<_, (i64, i64, Option<chrono::DateTime<chrono::Utc>>)>(
            "SELECT (SELECT data_version FROM io_org WHERE id = $1), (SELECT count(*) FROM io_ingest_load WHERE org_id = $1), (SELECT max(updated_at) FROM io_kpi_daily WHERE org_id = $1)",
        )
        .bind(org)
        .fetch_one(&pool)
        .await
        .expect("stamp")
    };
    let before = stamp(pool.clone()).await;
    let rerun = admin.post("/api/collection_change", &form(&[("collection_id", &collection_id.to_string()), ("action", "rerun")])).await;
    assert_eq!(rerun.status.as_u16(), 200, "{}", rerun.body);
    run_until_settled(&pool, cfg, org).await;
    assert!(week_statuses(&pool, org).await.iter().all(|w| w.1 == "skipped"), "every week unchanged");
    assert_eq!(stamp(pool.clone()).await, before, "no load, no new data version, no row touched");
    assert_eq!(collection_status(&pool, org).await, ("completed".to_string(), 52, 100));
    for action in ["collection_created", "collection_week_retried", "collection_rerun"] {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM io_audit_event WHERE action = $1").bind(action).fetch_one(&pool).await.expect("audit");
        assert_eq!(n, 1, "{action}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A local JSON source: rows for the asked week; a week starting on `broken` answers 500.
async fn json_source(broken: NaiveDate) -> (String, Arc<AtomicUsize>) {
    use axum::extract::{Query, State};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let hits = Arc::new(AtomicUsize::new(0));
    async fn rows(State((hits, broken)): State<(Arc<AtomicUsize>, NaiveDate)>, Query(q): Query<std::collections::HashMap<String, String>>) -> axum::response::Response {
        hits.fetch_add(1, Ordering::SeqCst);
        let Some(from) = q.get("from").and_then(|d| d.parse::<NaiveDate>().ok()) else { return StatusCode::BAD_REQUEST.into_response() };
        if from == broken {
            return (StatusCode::INTERNAL_SERVER_ERROR, "warehouse down").into_response();
        }
        let body: Vec<serde_json::Value> = (0..7).map(|d| serde_json::json!({ "date": (from + Duration::days(d)).to_string(), "metric": "revenue", "value": 10 + d, "region": "EMEA" })).collect();
        axum::Json(body).into_response()
    }
    let app = axum::Router::new().route("/rows", axum::routing::get(rows)).with_state((hits.clone(), broken));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/rows?from={{week_start}}&to={{week_end}}"), hits)
}

#[sqlx::test]
async fn an_http_source_is_read_week_by_week_and_a_paused_collection_loads_nothing_until_resumed(pool: PgPool) {
    let dir = collections_dir();
    let toml = toml(&dir);
    let (org, admin) = admin_client(&pool, &toml, "acme").await;
    let broken = day("2026-03-16");
    let (template, hits) = json_source(broken).await;
    let created = admin
        .post(
            "/api/collection_create",
            &form(&[("name", "Warehouse"), ("collection_type", "backfill"), ("target", "kpi"), ("source_kind", "http_json"), ("source", &template), ("start_date", "2026-03-02"), ("weeks", "3")]),
        )
        .await;
    assert_eq!(created.status.as_u16(), 200, "{}", created.body);
    let collection_id = created.json()["collection"]["id"].as_str().unwrap_or_default().to_string();
    let paused = admin.post("/api/collection_change", &form(&[("collection_id", &collection_id), ("action", "pause")])).await;
    assert_eq!(paused.status.as_u16(), 200, "{}", paused.body);

    // The queued week jobs run while paused: they leave their weeks waiting and fetch nothing.
    let cfg = config(&toml);
    run_workers_until(&pool, cfg.clone(), 1, || async { count(&pool, "SELECT count(*) FROM io_job WHERE org_id = $1 AND kind = 'collection_week' AND status = 'succeeded'", org).await == 3 }).await;
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    assert!(week_statuses(&pool, org).await.iter().all(|w| w.1 == "pending"));
    assert_eq!(collection_status(&pool, org).await.0, "paused");

    let resumed = admin.post("/api/collection_change", &form(&[("collection_id", &collection_id), ("action", "resume")])).await;
    assert_eq!(resumed.status.as_u16(), 200, "{}", resumed.body);
    run_until_settled(&pool, cfg, org).await;
    assert_eq!(hits.load(Ordering::SeqCst), 3, "one request a week");
    let weeks = week_statuses(&pool, org).await;
    assert_eq!(weeks.iter().map(|w| w.1.as_str()).collect::<Vec<_>>(), vec!["completed", "completed", "failed"]);
    let error: String = sqlx::query_scalar("SELECT error_message FROM io_collection_week WHERE status = 'failed'").fetch_one(&pool).await.expect("error");
    assert!(error.contains("500"), "{error}");
    assert_eq!(count(&pool, "SELECT count(*) FROM io_kpi_daily WHERE org_id = $1", org).await, 14);
    let _ = std::fs::remove_dir_all(dir);
}

#[sqlx::test]
async fn a_weekly_update_takes_the_week_just_ended_once(pool: PgPool) {
    let dir = collections_dir();
    let toml = toml(&dir);
    let (org, admin) = admin_client(&pool, &toml, "acme").await;
    std::fs::create_dir_all(dir.join("weekly")).expect("folder");
    let today = chrono::Utc::now().date_naive();
    let created = admin
        .post(
            "/api/collection_create",
            &form(&[("name", "Weekly"), ("collection_type", "weekly_update"), ("target", "kpi"), ("source_kind", "csv_dir"), ("source", "weekly"), ("start_date", &today.to_string())]),
        )
        .await;
    assert_eq!(created.status.as_u16(), 200, "{}", created.body);
    assert_eq!(created.json()["weeks"].as_array().map(Vec::len), Some(0), "a weekly update starting this week has nothing to load yet");
    // Next Monday the schedule adds the week that just ended, once however often it runs.
    let next_monday = insightops::domain::collections::week_start_of(today) + Duration::weeks(1);
    let cfg = config(&toml);
    for _ in 0..2 {
        insightops::collections::service::add_last_week(&pool, &cfg, next_monday).await.expect("weekly");
    }
    let weeks = week_statuses(&pool, org).await;
    assert_eq!(weeks.iter().map(|w| w.0).collect::<Vec<_>>(), vec![insightops::domain::collections::week_start_of(today)]);
    let queued = count(&pool, "SELECT count(*) FROM io_job WHERE org_id = $1 AND kind = 'collection_week' AND status = 'queued'", org).await;
    assert_eq!(queued, 1);
    let _ = std::fs::remove_dir_all(dir);
}
