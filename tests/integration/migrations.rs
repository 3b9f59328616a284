use insightops::db::MIGRATOR;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn migrations_apply_to_an_empty_database_and_again(pool: PgPool) {
    MIGRATOR.run(&pool).await.expect("first run applies every migration");
    MIGRATOR.run(&pool).await.expect("second run is a no-op");

    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&pool)
        .await
        .expect("count migrations");
    assert_eq!(applied as usize, MIGRATOR.iter().count());

    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name LIKE 'io\\_%' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("list tables");
    for expected in ["io_engagement_signal_daily", "io_exec_summary", "io_kpi_daily", "io_metric", "io_org", "io_user"] {
        assert!(tables.iter().any(|t| t == expected), "missing {expected} in {tables:?}");
    }
}

#[sqlx::test]
async fn check_constraints_reject_unknown_enum_tokens(pool: PgPool) {
    let org: uuid::Uuid = sqlx::query_scalar("INSERT INTO io_org (slug, name) VALUES ('x1', 'X') RETURNING id")
        .fetch_one(&pool)
        .await
        .expect("org");
    let bad = sqlx::query(
        "INSERT INTO io_metric (org_id, key, label, unit, direction, aggregation)
         VALUES ($1, 'm', 'M', 'count', 'sideways', 'sum')",
    )
    .bind(org)
    .execute(&pool)
    .await;
    assert!(bad.is_err(), "direction 'sideways' must be refused");
}

#[sqlx::test]
async fn updated_at_moves_on_update(pool: PgPool) {
    let id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO io_org (slug, name, created_at, updated_at)
         VALUES ('t1', 'T', now() - interval '1 day', now() - interval '1 day') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .expect("insert");
    let (created, updated): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("UPDATE io_org SET name = 'T2' WHERE id = $1 RETURNING created_at, updated_at")
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("update");
    assert!(updated > created, "trigger must touch updated_at");
}

/// The derived tables have no foreign keys (a load would pay a check per row); renaming a metric
/// or deleting an org still carries over to them, through triggers on the parents.
#[sqlx::test]
async fn derived_rows_follow_a_renamed_metric_and_go_with_their_org(pool: PgPool) {
    let org = crate::support::insert_org(&pool, "acme").await;
    crate::support::insert_metric(&pool, org, "revenue", "USD", "higher_is_better", "sum", 1).await;
    crate::support::insert_kpi(&pool, org, "revenue", crate::support::day("2026-11-02"), "EMEA", 5.0).await;
    crate::support::refresh_rollups(&pool, org).await;
    let derived = |key: &'static str| {
        let pool = pool.clone();
        async move {
            let mut counts = Vec::new();
            for table in ["io_kpi_cube_daily", "io_kpi_total_daily", "io_kpi_member_daily", "io_kpi_period"] {
                let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE metric_key = $1")).bind(key).fetch_one(&pool).await.expect("count");
                counts.push(n);
            }
            counts
        }
    };
    assert!(derived("revenue").await.iter().all(|n| *n > 0));
    sqlx::query("UPDATE io_metric SET key = 'net_revenue' WHERE org_id = $1").bind(org).execute(&pool).await.expect("rename");
    assert_eq!(derived("revenue").await, vec![0, 0, 0, 0]);
    assert!(derived("net_revenue").await.iter().all(|n| *n > 0));
    sqlx::query("DELETE FROM io_org WHERE id = $1").bind(org).execute(&pool).await.expect("delete org");
    assert_eq!(derived("net_revenue").await, vec![0, 0, 0, 0]);
}
