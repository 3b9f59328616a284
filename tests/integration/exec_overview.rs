use axum::http::StatusCode;
use insightops::analytics::delta::ChangeAssessment;
use insightops::overview::service::exec_overview;
use insightops::overview::PeriodPreset;
use sqlx::PgPool;

use crate::support::{day, insert_kpi, insert_metric, insert_org, insert_user, refresh_rollups, Client};
use insightops::auth::server::Scope;
use insightops::auth::{AccessPolicy, Role};

async fn scope(pool: &PgPool, slug: &str) -> Result<Scope, insightops::error::AppError> {
    Scope::for_org(pool, slug, Role::Admin, &AccessPolicy::default()).await
}

/// Two weeks, two regions. as_of = 2026-03-14; 7-day windows: current 8–14 March, previous 1–7 March.
async fn fixture(pool: &PgPool) -> uuid::Uuid {
    let org = insert_org(pool, "fixture").await;
    insert_metric(pool, org, "revenue", "USD", "higher_is_better", "sum", 0).await;
    insert_metric(pool, org, "conversion_rate", "%", "higher_is_better", "avg", 1).await;
    insert_metric(pool, org, "active_users", "users", "higher_is_better", "last", 2).await;
    for d in 1..=14u32 {
        let date = day(&format!("2026-03-{d:02}"));
        let current = d >= 8;
        // 10 March has no rows at all: the current window has 6 of 7 days.
        if d == 10 {
            continue;
        }
        insert_kpi(pool, org, "revenue", date, "EMEA", if current { 120.0 } else { 100.0 }).await;
        insert_kpi(pool, org, "revenue", date, "NA", if current { 60.0 } else { 50.0 }).await;
        insert_kpi(pool, org, "conversion_rate", date, "EMEA", if current { 2.0 } else { 3.0 }).await;
        insert_kpi(pool, org, "conversion_rate", date, "NA", if current { 4.0 } else { 5.0 }).await;
        insert_kpi(pool, org, "active_users", date, "EMEA", 1000.0 + d as f64).await;
        insert_kpi(pool, org, "active_users", date, "NA", 500.0).await;
    }
    refresh_rollups(pool, org).await;
    org
}

#[sqlx::test]
async fn kpi_cards_match_hand_computed_values(pool: PgPool) {
    fixture(&pool).await;
    let overview = exec_overview(&pool, &scope(&pool, "fixture").await.expect("org"), PeriodPreset::Last7Days).await.expect("overview");
    assert_eq!(overview.as_of, Some(day("2026-03-14")));
    let keys: Vec<&str> = overview.cards.iter().map(|c| c.metric_key.as_str()).collect();
    assert_eq!(keys, ["revenue", "conversion_rate", "active_users"], "catalogue order");

    // Revenue (sum): current 6 days × (120 + 60) = 1080; previous 7 × (100 + 50) = 1050.
    // Relative change (1080 − 1050) / 1050 = 0.0285714…
    let revenue = &overview.cards[0];
    assert_eq!(revenue.comparison.delta.current, Some(1080.0));
    assert_eq!(revenue.comparison.delta.previous, Some(1050.0));
    let rel = revenue.comparison.delta.relative.expect("relative");
    assert!((rel - 30.0 / 1050.0).abs() < 1e-12, "{rel}");
    assert_eq!(revenue.comparison.delta.assessment, ChangeAssessment::Good);
    assert_eq!(revenue.comparison.current.missing_days, vec![day("2026-03-10")]);
    assert_eq!(revenue.series.len(), 6, "chart shows the current window's days only");
    assert!(revenue.summary.contains("$1,080.00"), "{}", revenue.summary);

    // Conversion (avg): each day is the mean of its regions: current (2 + 4) / 2 = 3, previous (3 + 5) / 2 = 4.
    // Relative (3 − 4) / 4 = −0.25, bad for a higher-is-better metric.
    let conversion = &overview.cards[1];
    assert_eq!(conversion.comparison.delta.current, Some(3.0));
    assert_eq!(conversion.comparison.delta.previous, Some(4.0));
    assert_eq!(conversion.comparison.delta.relative, Some(-0.25));
    assert_eq!(conversion.comparison.delta.assessment, ChangeAssessment::Bad);

    // Active users (last): the last day of each window, regions summed: 14 March 1014 + 500,
    // 7 March 1007 + 500.
    let users = &overview.cards[2];
    assert_eq!(users.comparison.delta.current, Some(1514.0));
    assert_eq!(users.comparison.delta.previous, Some(1507.0));
}

#[sqlx::test]
async fn an_org_sees_only_its_own_rows(pool: PgPool) {
    fixture(&pool).await;
    let other = insert_org(&pool, "other").await;
    insert_metric(&pool, other, "revenue", "USD", "higher_is_better", "sum", 0).await;
    insert_kpi(&pool, other, "revenue", day("2026-03-14"), "EMEA", 1_000_000.0).await;
    let overview = exec_overview(&pool, &scope(&pool, "fixture").await.expect("org"), PeriodPreset::Last7Days).await.expect("overview");
    assert_eq!(overview.cards[0].comparison.delta.current, Some(1080.0));
}

#[sqlx::test]
async fn unknown_org_is_not_found(pool: PgPool) {
    let err = scope(&pool, "nobody").await.expect_err("no org");
    assert_eq!(err.status_code(), 404);
}

#[sqlx::test]
async fn server_function_returns_the_cards_and_maps_errors_to_statuses(pool: PgPool) {
    let org = fixture(&pool).await;
    let (_, email, password) = insert_user(&pool, org, Role::Board).await;
    let client = Client::signed_in(&pool, &email, &password).await;
    let reply = client.post("/api/exec_overview", "period_days=7").await;
    let (status, json) = (reply.status, reply.json());
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["cards"][0]["metric_key"], "revenue");
    assert_eq!(json["cards"][0]["comparison"]["delta"]["current"], 1080.0);

    let reply = client.post("/api/exec_overview", "period_days=14").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.json()["BadRequest"].as_str().unwrap_or_default().contains("7, 30 or 90"), "{}", reply.body);

    let reply = Client::anonymous(&pool).post("/api/exec_overview", "period_days=7").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}
