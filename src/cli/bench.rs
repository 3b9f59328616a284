//! `insightops bench-analytics`: times the anomaly scan and the forecast over many synthetic daily
//! series on one core and reports series per second (the goal: 10,000 × 730 days ≤ 2 s).

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use serde::Serialize;

use crate::analytics::anomaly::{scan_dense, Severity};
use crate::analytics::forecast::forecast;
use crate::analytics::AnalyticsConfig;

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub series: usize,
    pub days: usize,
    pub scored_points: usize,
    pub flagged_warning_or_worse: usize,
    pub forecasts: usize,
    pub anomaly_seconds: f64,
    pub forecast_seconds: f64,
    pub total_seconds: f64,
    pub series_per_second: f64,
}

/// Series `i`: level, trend, weekly shape, yearly wave and 3 % noise drawn from a seeded generator,
/// with one injected spike, so runs are comparable across machines and commits.
pub fn synthetic_series(i: usize, days: usize) -> Vec<Option<f64>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x1a5_1647 ^ i as u64);
    let level: f64 = rng.gen_range(50.0..5000.0);
    let trend: f64 = rng.gen_range(-0.2..0.4) / 365.0;
    let weekly: [f64; 7] = std::array::from_fn(|_| rng.gen_range(0.85..1.15));
    let noise = Normal::new(0.0, 0.03).unwrap_or_else(|_| unreachable!("0.03 is a valid standard deviation"));
    let spike_at = rng.gen_range(days / 2..days.max(days / 2 + 1));
    (0..days)
        .map(|d| {
            let t = d as f64;
            let seasonal = 1.0 + 0.1 * (2.0 * std::f64::consts::PI * t / 365.25).sin();
            let spike = if d == spike_at { 1.8 } else { 1.0 };
            Some(level * (1.0 + trend * t) * weekly[d % 7] * seasonal * (1.0 + noise.sample(&mut rng)) * spike)
        })
        .collect()
}

/// Runs the scan and forecast on `series` synthetic series of `days` days, on the calling thread.
pub fn run(series: usize, days: usize, config: &AnalyticsConfig) -> BenchReport {
    let data: Vec<Vec<Option<f64>>> = (0..series).map(|i| synthetic_series(i, days)).collect();
    let first = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
    let (mut scored, mut flagged, mut forecasts) = (0, 0, 0);
    let (mut anomaly_time, mut forecast_time) = (Duration::ZERO, Duration::ZERO);
    for values in &data {
        let started = Instant::now();
        let scores = scan_dense(first, values, &config.anomaly);
        let scanned = Instant::now();
        let fc = forecast(first, values, &config.forecast);
        forecast_time += scanned.elapsed();
        anomaly_time += scanned - started;
        scored += scores.len();
        flagged += scores.iter().filter(|s| s.severity >= Some(Severity::Warning)).count();
        forecasts += usize::from(fc.is_ok());
    }
    let total = (anomaly_time + forecast_time).as_secs_f64();
    BenchReport {
        series,
        days,
        scored_points: scored,
        flagged_warning_or_worse: flagged,
        forecasts,
        anomaly_seconds: anomaly_time.as_secs_f64(),
        forecast_seconds: forecast_time.as_secs_f64(),
        total_seconds: total,
        series_per_second: if total > 0.0 { series as f64 / total } else { 0.0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_series_are_deterministic_and_the_report_adds_up() {
        assert_eq!(synthetic_series(3, 100), synthetic_series(3, 100));
        assert_ne!(synthetic_series(3, 100), synthetic_series(4, 100));
        let report = run(4, 200, &AnalyticsConfig::default());
        // 200 days, the first 28 only build history: 172 scored points per series.
        assert_eq!(report.scored_points, 4 * 172);
        assert_eq!(report.forecasts, 4);
        assert!(report.flagged_warning_or_worse >= 4, "each series has one 80 % spike");
    }
}

/// `insightops bench-jobs`: `jobs` no-op jobs claimed and finished by `workers` workers, against a
/// baseline on the same database in the same run: as many single-row durable updates (one commit
/// each, the least a job's state change costs) from as many connections.
pub async fn jobs(pool: &sqlx::PgPool, config: std::sync::Arc<crate::config::Config>, jobs: u32, workers: u32) -> Result<String, crate::error::AppError> {
    sqlx::query("DELETE FROM io_job WHERE kind = 'noop'").execute(pool).await?;
    let baseline = commit_baseline(pool, jobs, workers).await?;
    sqlx::query("INSERT INTO io_job (kind, max_attempts) SELECT 'noop', 1 FROM generate_series(1, $1)").bind(jobs as i32).execute(pool).await?;
    let state = crate::server::app_state(config.clone(), pool.clone());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let tasks = crate::server::start_background(&state, workers, false, &stopped);
    loop {
        let done: i64 = sqlx::query_scalar("SELECT count(*) FROM io_job WHERE kind = 'noop' AND status = 'succeeded'").fetch_one(pool).await?;
        if done >= i64::from(jobs) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
    sqlx::query("DELETE FROM io_job WHERE kind = 'noop'").execute(pool).await?;
    let rate = f64::from(jobs) / seconds;
    Ok(format!(
        "{jobs} no-op jobs, {workers} workers x {} concurrent: {seconds:.2} s, {rate:.0} jobs/s; baseline {baseline:.0} single-row commits/s from {workers} connections; ratio {:.2}",
        config.jobs.concurrency,
        rate / baseline
    ))
}

/// Single-row updates per second, one commit each, from `connections` connections in parallel.
async fn commit_baseline(pool: &sqlx::PgPool, rows: u32, connections: u32) -> Result<f64, crate::error::AppError> {
    sqlx::query("CREATE TABLE IF NOT EXISTS io_bench_commit (id integer PRIMARY KEY, done boolean NOT NULL DEFAULT false)").execute(pool).await?;
    sqlx::query("TRUNCATE io_bench_commit").execute(pool).await?;
    sqlx::query("INSERT INTO io_bench_commit (id) SELECT generate_series(1, $1)").bind(rows as i32).execute(pool).await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut id = c as i32 + 1;
            while id <= rows as i32 {
                sqlx::query("UPDATE io_bench_commit SET done = true WHERE id = $1").bind(id).execute(&pool).await?;
                id += connections as i32;
            }
            Ok::<(), sqlx::Error>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| crate::error::AppError::Internal(e.to_string()))??;
    }
    let rate = f64::from(rows) / started.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE io_bench_commit").execute(pool).await?;
    Ok(rate)
}
