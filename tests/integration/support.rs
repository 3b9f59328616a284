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
