//! Fixtures shared by the integration tests: a small org with hand-checkable daily numbers.

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

pub fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("fixture dates are valid")
}

pub async fn insert_org(pool: &PgPool, slug: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO io_org (slug, name) VALUES ($1, $2) RETURNING id")
        .bind(slug)
        .bind(format!("Org {slug}"))
        .fetch_one(pool)
        .await
        .expect("insert org")
}

pub async fn insert_metric(pool: &PgPool, org: Uuid, key: &str, unit: &str, direction: &str, aggregation: &str, order: i32) {
    sqlx::query(
        "INSERT INTO io_metric (org_id, key, label, unit, direction, aggregation, sort_order)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org)
    .bind(key)
    .bind(key.replace('_', " "))
    .bind(unit)
    .bind(direction)
    .bind(aggregation)
    .bind(order)
    .execute(pool)
    .await
    .expect("insert metric");
}

pub async fn insert_kpi(pool: &PgPool, org: Uuid, key: &str, date: NaiveDate, region: &str, value: f64) {
    sqlx::query(
        "INSERT INTO io_kpi_daily (org_id, kpi_date, metric_key, value, region, source)
         VALUES ($1, $2, $3, $4::float8::numeric, $5, 'test')",
    )
    .bind(org)
    .bind(date)
    .bind(key)
    .bind(value)
    .bind(region)
    .execute(pool)
    .await
    .expect("insert kpi");
}

/// The app's router for `org`, as the server builds it (the pool is the test's database).
pub fn router_for(pool: PgPool, org: &str) -> axum::Router {
    let env = [("DATABASE_URL", "postgres://unused@127.0.0.1:1/x")];
    let toml = format!("[app]\ndefault_org = \"{org}\"");
    let config = insightops::config::Config::from_toml_str(&toml, "test", &env).expect("config");
    insightops::server::router(std::sync::Arc::new(config), pool)
}

/// POSTs a form body to a server function and returns the status and the JSON body.
pub async fn call_server_fn(path: &str, router: axum::Router, body: &str) -> (axum::http::StatusCode, serde_json::Value) {
    use tower::ServiceExt;
    let request = axum::http::Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body.to_string()))
        .expect("request");
    let response = router.oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20).await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

/// Loaders refresh the KPI rollups in their transaction; fixtures that insert facts directly do it here.
pub async fn refresh_rollups(pool: &PgPool, org: Uuid) {
    let mut conn = pool.acquire().await.expect("connection");
    insightops::db::kpi::refresh_rollups(&mut conn, org).await.expect("refresh rollups");
}
