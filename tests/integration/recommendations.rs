//! The model registry and the recommendation workflow on the demo data: the anomaly model finds
//! the injected anomalies, findings are raised once, decisions write history and audit, only
//! admins decide, and two decisions on the same item cannot both win.

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate};
use insightops::analytics::AnalyticsConfig;
use insightops::auth::server::Principal;
use insightops::models::ModelStatus;
use insightops::recommendations::{Decision, RecommendationFilter, RecommendationStatus};
use insightops::seed::{run, SeedOptions};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{form, Client};

const END: (i32, u32, u32) = (2026, 11, 1);

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(END.0, END.1, END.2).expect("date")
}

async fn seed(pool: &PgPool, days: u32) {
    run(pool, &SeedOptions { days, scale: 1, end: end(), only_if_empty: false }).await.expect("seed");
}

async fn admin(pool: &PgPool, org: &str) -> Principal {
    let user = insightops::db::users::by_email(pool, &format!("admin@{org}.example")).await.expect("query").expect("seeded admin");
    Principal::from(user)
}

async fn model_id(pool: &PgPool, org_id: Uuid, name: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM io_analytical_model WHERE org_id = $1 AND name = $2 AND status = 'active'")
        .bind(org_id)
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("active model")
}

/// Registers and activates a version of the anomaly detector that looks back `days`, and runs it.
async fn run_anomaly_model(pool: &PgPool, p: &Principal, lookback_days: u32) -> insightops::models::ExecutionSummary {
    use insightops::models::service::{change_status, execute, register_version};
    let base = model_id(pool, p.org_id, "robust_anomaly_detector").await;
    let config = format!(r#"{{ "lookback_days": {lookback_days}, "min_severity": "warning", "dimensions": ["region", "segment", "channel", "product"], "metrics": [] }}"#);
    let version = register_version(pool, p, base, &config).await.expect("valid config");
    assert_eq!(version.status, ModelStatus::Draft);
    change_status(pool, p, version.id, insightops::models::ModelAction::Activate).await.expect("activate");
    execute(pool, p.org_id, version.id, &p.email, &AnalyticsConfig::default()).await.expect("run")
}

#[sqlx::test]
async fn the_anomaly_model_raises_the_injected_anomalies_once(pool: PgPool) {
    seed(&pool, 400).await;
    let p = admin(&pool, "acme").await;
    let first = run_anomaly_model(&pool, &p, 365).await;
    assert_eq!(first.status, insightops::models::ExecutionStatus::Success, "{:?}", first.error);
    assert!(first.duration_ms.is_some());

    let all = RecommendationFilter { status: None, ..Default::default() };
    let items = insightops::db::recommendations::list(&pool, p.org_id, &all, None, 10_000).await.expect("list");
    let (_, anomalies) = insightops::seed::spec::load().expect("spec");
    let mut found = 0;
    let injected: Vec<_> = anomalies.iter().filter(|a| a.org == "acme" && a.days_ago < 365).collect();
    for a in &injected {
        let day = end() - Duration::days(a.days_ago as i64);
        let slice: Vec<(String, String)> = [("region", &a.region), ("segment", &a.segment), ("channel", &a.channel), ("product", &a.product)]
            .into_iter()
            .filter_map(|(d, v)| v.clone().map(|v| (d.to_string(), v)))
            .collect();
        let hit = items.iter().find(|r| r.evidence.metric_key == a.metric && r.evidence.dimensions == slice && r.evidence.period_start == day);
        match hit {
            Some(r) => {
                found += 1;
                assert!(r.title.contains(&day.to_string()), "{}", r.title);
                assert!(r.evidence.series.iter().any(|pt| pt.date == day && pt.expected.is_some()), "the chart has the day and its expectation");
                assert!(!r.history.is_empty() && r.history[0].kind == "created");
            }
            None => println!("missed: {} {:?} on {day}", a.metric, slice),
        }
    }
    println!("anomaly model: {found} of {} injected anomalies raised; {} recommendations in all", injected.len(), items.len());
    assert_eq!(found, injected.len(), "every injected anomaly in the window is raised on its own slice and day");

    // Running again raises nothing new: every finding is refreshed in place.
    let again = insightops::models::service::execute(&pool, p.org_id, model_id(&pool, p.org_id, "robust_anomaly_detector").await, "test", &AnalyticsConfig::default())
        .await
        .expect("second run");
    assert!(again.output.contains(r#""created":0"#), "{}", again.output);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM io_recommendation WHERE org_id = $1").bind(p.org_id).fetch_one(&pool).await.expect("count");
    assert_eq!(count as usize, items.len());
}

#[sqlx::test]
async fn decisions_write_history_and_audit_and_dismissed_findings_stay_dismissed(pool: PgPool) {
    seed(&pool, 200).await;
    let p = admin(&pool, "acme").await;
    run_anomaly_model(&pool, &p, 60).await;
    let open = insightops::db::recommendations::list(&pool, p.org_id, &RecommendationFilter::default(), None, 100).await.expect("list");
    assert!(open.len() >= 2, "{} open", open.len());
    let (a, b) = (&open[0], &open[1]);
    let svc = insightops::recommendations::service::decide;

    let err = svc(&pool, &p, &[(a.id, a.version)], Decision::Dismiss, " ").await.expect_err("a note is required");
    assert_eq!(err.status_code(), 400);
    let done = svc(&pool, &p, &[(a.id, a.version)], Decision::Dismiss, "Known outage, already fixed").await.expect("dismiss");
    assert_eq!(done[0].status, RecommendationStatus::Dismissed);
    assert_eq!(done[0].history.last().map(|h| (h.kind.as_str(), h.note.as_str(), h.actor.as_str())), Some(("dismissed", "Known outage, already fixed", "admin@acme.example")));
    let done = svc(&pool, &p, &[(b.id, b.version)], Decision::Accept, "").await.expect("accept");
    assert_eq!(done[0].status, RecommendationStatus::Accepted);
    let audited: Vec<String> = sqlx::query_scalar("SELECT action FROM io_audit_event WHERE action LIKE 'recommendation_%' ORDER BY at").fetch_all(&pool).await.expect("audit");
    assert_eq!(audited, ["recommendation_dismissed", "recommendation_accepted"]);

    // The same run again: both stay as decided.
    let model = model_id(&pool, p.org_id, "robust_anomaly_detector").await;
    let run = insightops::models::service::execute(&pool, p.org_id, model, "test", &AnalyticsConfig::default()).await.expect("rerun");
    assert!(run.output.contains(r#""reopened":0"#), "{}", run.output);
    let status = |id: Uuid| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, String>("SELECT status FROM io_recommendation WHERE id = $1").bind(id).fetch_one(&pool).await.expect("status") }
    };
    assert_eq!(status(a.id).await, "dismissed");
    assert_eq!(status(b.id).await, "accepted");

    // Had it been dismissed when it was much smaller, the same finding now counts as materially worse.
    sqlx::query("UPDATE io_recommendation SET magnitude = magnitude / 2, severity = 'info' WHERE id = $1").bind(a.id).execute(&pool).await.expect("shrink");
    let run = insightops::models::service::execute(&pool, p.org_id, model, "test", &AnalyticsConfig::default()).await.expect("rerun");
    assert!(run.output.contains(r#""reopened":1"#), "{}", run.output);
    assert_eq!(status(a.id).await, "open");
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM io_recommendation_event WHERE recommendation_id = $1 ORDER BY at, id").bind(a.id).fetch_all(&pool).await.expect("events");
    assert_eq!(kinds, ["created", "dismissed", "reopened"]);
}

#[sqlx::test]
async fn only_admins_decide_and_two_decisions_on_one_item_do_not_both_win(pool: PgPool) {
    seed(&pool, 200).await;
    let p = admin(&pool, "acme").await;
    run_anomaly_model(&pool, &p, 60).await;
    let open = insightops::db::recommendations::list(&pool, p.org_id, &RecommendationFilter::default(), None, 100).await.expect("list");
    let item = &open[0];
    let body = form(&[("items", &format!("{}:{}", item.id, item.version)), ("decision", "accept"), ("note", "")]);
    for (email, password) in [("board@acme.example", "board-acme-demo"), ("manager@acme.example", "manager-acme-demo")] {
        let client = Client::signed_in(&pool, email, password).await;
        assert_eq!(client.post("/api/recommendations_decide", &body).await.status, StatusCode::FORBIDDEN, "{email}");
        let list = client.post("/api/recommendations", "query=").await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.json()["can_decide"], false);
    }
    let other = Client::signed_in(&pool, "admin@globex.example", "admin-globex-demo").await;
    assert_eq!(other.post("/api/recommendations_decide", &body).await.status, StatusCode::NOT_FOUND, "another org's item does not exist for them");

    // Two admins, one item, the same version seen: exactly one wins, the other gets 409.
    let svc = insightops::recommendations::service::decide;
    let seen = [(item.id, item.version)];
    let (first, second) = tokio::join!(
        svc(&pool, &p, &seen, Decision::Accept, ""),
        svc(&pool, &p, &seen, Decision::Dismiss, "not worth it"),
    );
    let outcomes = [first.map(|_| ()), second.map(|_| ())];
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
    let loser = outcomes.iter().find_map(|o| o.clone().err()).expect("one loses");
    assert_eq!(loser.status_code(), 409, "{loser}");
    // Through the router the stale version is a 409 too, and a bulk decision is all or nothing.
    let admin_client = Client::signed_in(&pool, "admin@acme.example", "admin-acme-demo").await;
    let fresh = &open[1];
    let bulk = form(&[("items", &format!("{}:{},{}:{}", fresh.id, fresh.version, item.id, item.version)), ("decision", "accept"), ("note", "")]);
    assert_eq!(admin_client.post("/api/recommendations_decide", &bulk).await.status, StatusCode::CONFLICT);
    let untouched: String = sqlx::query_scalar("SELECT status FROM io_recommendation WHERE id = $1").bind(fresh.id).fetch_one(&pool).await.expect("status");
    assert_eq!(untouched, "open", "the bulk decision was rolled back");
}

#[sqlx::test]
async fn the_registry_refuses_bad_configs_and_runs_only_active_versions(pool: PgPool) {
    use insightops::models::service::{change_status, execute, register_version};
    seed(&pool, 120).await;
    let p = admin(&pool, "acme").await;
    let base = model_id(&pool, p.org_id, "robust_anomaly_detector").await;
    let err = register_version(&pool, &p, base, r#"{ "lookback_days": 5000, "min_severity": "loud", "dimensions": [], "metrics": [] }"#).await.expect_err("bad");
    let text = err.to_string();
    assert!(text.contains("/lookback_days") && text.contains("/min_severity"), "{text}");
    let err = register_version(&pool, &p, base, "{ not json").await.expect_err("not JSON");
    assert!(err.to_string().contains("line 1"), "{err}");
    let draft = register_version(&pool, &p, base, r#"{ "lookback_days": 7, "min_severity": "critical", "dimensions": [], "metrics": ["revenue"] }"#).await.expect("valid");
    assert_eq!(draft.version, 2);
    assert_eq!(execute(&pool, p.org_id, draft.id, "test", &AnalyticsConfig::default()).await.expect_err("draft").status_code(), 409);
    change_status(&pool, &p, draft.id, insightops::models::ModelAction::Activate).await.expect("activate");
    let statuses: Vec<(i32, String)> = sqlx::query_as("SELECT version, status FROM io_analytical_model WHERE org_id = $1 AND name = 'robust_anomaly_detector' ORDER BY version")
        .bind(p.org_id)
        .fetch_all(&pool)
        .await
        .expect("versions");
    assert_eq!(statuses, [(1, "deprecated".to_string()), (2, "active".to_string())]);
    // Every built-in runs on the demo data.
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM io_analytical_model WHERE org_id = $1 AND status = 'active'").bind(p.org_id).fetch_all(&pool).await.expect("ids");
    assert_eq!(ids.len(), 4);
    for id in ids {
        let run = execute(&pool, p.org_id, id, "test", &AnalyticsConfig::default()).await.expect("run");
        assert_eq!(run.status, insightops::models::ExecutionStatus::Success, "{} failed: {:?}", run.model_name, run.error);
    }
}

/// 56 days of marketing spend and orders per channel; in the last 28 days web spend is up 20 %
/// while web orders are down 10 %, and mobile is flat.
async fn channel_fixture(pool: &PgPool) -> Uuid {
    use crate::support::{insert_metric, insert_org, refresh_rollups};
    let org = insert_org(pool, "rules").await;
    insert_metric(pool, org, "marketing_spend", "USD", "lower_is_better", "sum", 0).await;
    insert_metric(pool, org, "orders", "count", "higher_is_better", "sum", 1).await;
    let last = end();
    for d in 0..56 {
        let day = last - Duration::days(d);
        let recent = d < 28;
        for (channel, spend, orders) in [("web", if recent { 1200.0 } else { 1000.0 }, if recent { 90.0 } else { 100.0 }), ("mobile", 500.0, 50.0)] {
            for (metric, value) in [("marketing_spend", spend), ("orders", orders)] {
                sqlx::query("INSERT INTO io_kpi_daily (org_id, kpi_date, metric_key, value, channel, source) VALUES ($1, $2, $3, $4::float8::numeric, $5, 'test')")
                    .bind(org)
                    .bind(day)
                    .bind(metric)
                    .bind(value)
                    .bind(channel)
                    .execute(pool)
                    .await
                    .expect("insert");
            }
        }
    }
    refresh_rollups(pool, org).await;
    let mut conn = pool.acquire().await.expect("connection");
    insightops::models::service::register_builtins(&mut conn, org).await.expect("models");
    org
}

#[sqlx::test]
async fn the_channel_rule_flags_spend_up_while_orders_fall(pool: PgPool) {
    let org = channel_fixture(&pool).await;
    let model = model_id(&pool, org, "channel_efficiency_rules").await;
    let run = insightops::models::service::execute(&pool, org, model, "test", &AnalyticsConfig::default()).await.expect("run");
    assert!(run.output.contains(r#""created":1"#), "{}", run.output);
    let all = RecommendationFilter { status: None, ..Default::default() };
    let items = insightops::db::recommendations::list(&pool, org, &all, None, 10).await.expect("list");
    assert_eq!(items.len(), 1, "web only; mobile is flat");
    let item = &items[0];
    assert_eq!(item.category, insightops::recommendations::Category::Optimisation);
    assert_eq!(item.evidence.dimensions, vec![("channel".to_string(), "web".to_string())]);
    // 28 × 1,200 against 28 × 1,000 is +20 %; 28 × 90 against 28 × 100 is −10 %: both twice the thresholds.
    assert_eq!(item.title, "marketing spend in web rose 20 % while orders fell 10 %");
    assert_eq!(item.severity, insightops::recommendations::Severity::Critical);
    assert_eq!((item.evidence.observed, item.evidence.expected), (Some(33_600.0), Some(28_000.0)));
}

/// Inserts one org-wide daily value.
async fn put(pool: &PgPool, org: Uuid, metric: &str, day: NaiveDate, value: f64) {
    sqlx::query("INSERT INTO io_kpi_daily (org_id, kpi_date, metric_key, value, source) VALUES ($1, $2, $3, $4::float8::numeric, 'test')")
        .bind(org)
        .bind(day)
        .bind(metric)
        .bind(value)
        .execute(pool)
        .await
        .expect("insert");
}

async fn fixture_org(pool: &PgPool, slug: &str, metrics: &[&str]) -> Uuid {
    let org = crate::support::insert_org(pool, slug).await;
    for (i, m) in metrics.iter().enumerate() {
        crate::support::insert_metric(pool, org, m, "USD", "higher_is_better", "sum", i as i32).await;
    }
    org
}

async fn run_builtin(pool: &PgPool, org: Uuid, name: &str) -> Vec<insightops::recommendations::Recommendation> {
    crate::support::refresh_rollups(pool, org).await;
    let mut conn = pool.acquire().await.expect("connection");
    insightops::models::service::register_builtins(&mut conn, org).await.expect("models");
    drop(conn);
    let run = insightops::models::service::execute(pool, org, model_id(pool, org, name).await, "test", &AnalyticsConfig::default()).await.expect("run");
    assert_eq!(run.status, insightops::models::ExecutionStatus::Success, "{:?}", run.error);
    let all = RecommendationFilter { status: None, ..Default::default() };
    insightops::db::recommendations::list(pool, org, &all, None, 10).await.expect("list")
}

#[sqlx::test]
async fn the_trend_break_model_flags_a_rise_that_turned_into_a_fall(pool: PgPool) {
    let org = fixture_org(&pool, "trend", &["revenue"]).await;
    // 28 days rising 2 a day, then 28 days falling 2 a day, with a small alternating wobble.
    for d in 0..56i64 {
        let level = if d < 28 { 100.0 + 2.0 * d as f64 } else { 154.0 - 2.0 * (d - 28) as f64 };
        let wobble = if d % 2 == 0 { 1.0 } else { -1.0 };
        put(&pool, org, "revenue", end() - Duration::days(55 - d), level + wobble).await;
    }
    let items = run_builtin(&pool, org, "trend_break_detector").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].title, "revenue turned from rising to falling");
    assert_eq!(items[0].category, insightops::recommendations::Category::Trend);
    assert_eq!(items[0].severity, insightops::recommendations::Severity::Warning, "falling is bad for revenue");
}

#[sqlx::test]
async fn the_forecast_risk_model_flags_a_month_that_will_miss_its_target(pool: PgPool) {
    let org = fixture_org(&pool, "forecast", &["revenue", "orders", "new_customers"]).await;
    // Last November ran at 1,000 a day; this year has run at 500 a day for months.
    let start = NaiveDate::from_ymd_opt(2025, 11, 1).expect("date");
    let mut day = start;
    let weekly = [0.0, 10.0, -10.0, 20.0, -20.0, 5.0, -5.0];
    while day <= end() {
        let wobble = weekly[(day - start).num_days() as usize % 7];
        let value = if day < NaiveDate::from_ymd_opt(2025, 12, 1).expect("date") { 1000.0 } else { 500.0 + wobble };
        put(&pool, org, "revenue", day, value).await;
        day += Duration::days(1);
    }
    let items = run_builtin(&pool, org, "forecast_risk_model").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item.category, insightops::recommendations::Category::Forecast);
    assert_eq!(item.severity, insightops::recommendations::Severity::Critical);
    // Target 30 × 1,000 × 1.05 = 31,500; projected about 30 × 500 = 15,000: a shortfall near 52 %.
    assert_eq!(item.evidence.expected, Some(31_500.0));
    let projected = item.evidence.observed.expect("projection");
    assert!((projected - 15_000.0).abs() < 300.0, "{projected}");
    assert!(item.title.starts_with("revenue is on course to miss its 2026-11 target by 5"), "{}", item.title);
}
