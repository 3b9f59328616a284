//! Purges data past the environment's retention, in small batches: each statement deletes at most
//! `batch` rows by primary key, so no table is locked for long and readers never wait.

use sqlx::PgPool;

/// The retention windows, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub raw_days: i32,
    /// Period aggregates; a period goes once its last day is older than this.
    pub aggregated_days: i32,
    pub pattern_days: i32,
    pub finished_job_days: i32,
}

/// Rows deleted per table.
pub type Purged = Vec<(&'static str, u64)>;

/// Deletes in batches until a batch comes back short. `sql` takes `$1` = days and `$2` = batch
/// and deletes by key from a `LIMIT`ed select; it is one of the fixed statements below.
async fn purge_in_batches(pool: &PgPool, sql: &str, days: i32, batch: i64) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let done = sqlx::query(sql).bind(days).bind(batch).execute(pool).await?.rows_affected();
        total += done;
        if done < batch as u64 {
            return Ok(total);
        }
    }
}

/// Purges raw facts and their daily rollups (which mirror them and are rebuilt from them, so they
/// follow the raw retention), period aggregates, patterns, and finished jobs with their slots.
pub async fn purge(pool: &PgPool, r: Retention, batch: i64) -> Result<Purged, sqlx::Error> {
    let statements: [(&'static str, &str, i32); 9] = [
        ("io_kpi_daily", "DELETE FROM io_kpi_daily WHERE ctid = ANY (ARRAY(SELECT ctid FROM io_kpi_daily WHERE kpi_date < current_date - $1 LIMIT $2))", r.raw_days),
        (
            "io_engagement_signal_daily",
            "DELETE FROM io_engagement_signal_daily WHERE ctid = ANY (ARRAY(SELECT ctid FROM io_engagement_signal_daily WHERE signal_date < current_date - $1 LIMIT $2))",
            r.raw_days,
        ),
        ("io_kpi_cube_daily", "DELETE FROM io_kpi_cube_daily WHERE ctid = ANY (ARRAY(SELECT ctid FROM io_kpi_cube_daily WHERE kpi_date < current_date - $1 LIMIT $2))", r.raw_days),
        ("io_kpi_total_daily", "DELETE FROM io_kpi_total_daily WHERE ctid = ANY (ARRAY(SELECT ctid FROM io_kpi_total_daily WHERE kpi_date < current_date - $1 LIMIT $2))", r.raw_days),
        ("io_kpi_member_daily", "DELETE FROM io_kpi_member_daily WHERE ctid = ANY (ARRAY(SELECT ctid FROM io_kpi_member_daily WHERE kpi_date < current_date - $1 LIMIT $2))", r.raw_days),
        ("io_kpi_period", "DELETE FROM io_kpi_period WHERE ctid = ANY (ARRAY(SELECT ctid FROM io_kpi_period WHERE last_day < current_date - $1 LIMIT $2))", r.aggregated_days),
        ("io_pattern", "DELETE FROM io_pattern WHERE id IN (SELECT id FROM io_pattern WHERE window_end < current_date - $1 LIMIT $2)", r.pattern_days),
        (
            "io_job",
            "DELETE FROM io_job WHERE id IN (SELECT id FROM io_job WHERE status IN ('succeeded', 'failed', 'cancelled') AND finished_at < now() - make_interval(days => $1) LIMIT $2)",
            r.finished_job_days,
        ),
        ("io_schedule_slot", "DELETE FROM io_schedule_slot WHERE ctid = ANY (ARRAY(SELECT ctid FROM io_schedule_slot WHERE slot_at < now() - make_interval(days => $1) LIMIT $2))", r.finished_job_days),
    ];
    let mut out = Vec::new();
    for (table, sql, days) in statements {
        out.push((table, purge_in_batches(pool, sql, days, batch).await?));
    }
    Ok(out)
}
