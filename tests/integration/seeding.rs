use chrono::NaiveDate;
use insightops::seed::generate::cells;
use insightops::seed::spec::{load, SeriesKind};
use insightops::seed::{run, SeedOptions};
use sqlx::PgPool;

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .expect("count")
}

#[sqlx::test]
async fn seeding_twice_does_not_duplicate_rows(pool: PgPool) {
    let options = SeedOptions {
        days: 10,
        scale: 1,
        end: NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"),
        only_if_empty: false,
    };
    let (demo, _) = load().expect("spec");
    let kpi_per_org = (cells(&demo, SeriesKind::Kpi, 1).len() * demo.metrics.len() * 10) as u64;
    let signals_per_org = (cells(&demo, SeriesKind::Signal, 1).len() * demo.signals.len() * 10) as u64;

    let first = run(&pool, &options).await.expect("first seed");
    assert_eq!(first.len(), demo.orgs.len());
    for report in &first {
        assert_eq!(report.kpi_rows_inserted, kpi_per_org, "{}", report.slug);
        assert_eq!(report.signal_rows_inserted, signals_per_org, "{}", report.slug);
    }
    let kpis = count(&pool, "io_kpi_daily").await;
    let metrics = count(&pool, "io_metric").await;

    let second = run(&pool, &options).await.expect("second seed");
    assert!(second.iter().all(|r| r.kpi_rows_inserted == 0 && r.signal_rows_inserted == 0));
    assert_eq!(count(&pool, "io_kpi_daily").await, kpis);
    assert_eq!(count(&pool, "io_metric").await, metrics);
    assert_eq!(count(&pool, "io_org").await, demo.orgs.len() as i64);
    assert_eq!(kpis as u64, kpi_per_org * demo.orgs.len() as u64);
}

#[sqlx::test]
async fn seeding_if_empty_skips_orgs_with_data(pool: PgPool) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    let options = SeedOptions { days: 3, scale: 1, end, only_if_empty: true };
    run(&pool, &options).await.expect("first seed");
    let later = SeedOptions { end: end + chrono::Duration::days(5), ..options };
    let reports = run(&pool, &later).await.expect("second seed");
    assert!(reports.iter().all(|r| r.skipped));
    let max_day: Option<NaiveDate> = sqlx::query_scalar("SELECT max(kpi_date) FROM io_kpi_daily")
        .fetch_one(&pool)
        .await
        .expect("max");
    assert_eq!(max_day, Some(end));
}

#[sqlx::test]
async fn seed_options_out_of_range_are_refused(pool: PgPool) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    let err = run(&pool, &SeedOptions { days: 0, scale: 1, end, only_if_empty: false })
        .await
        .expect_err("zero days");
    assert!(err.to_string().contains("--days"), "{err}");
    assert_eq!(count(&pool, "io_org").await, 0, "nothing written on a refused run");
}
