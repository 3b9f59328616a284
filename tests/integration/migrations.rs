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
