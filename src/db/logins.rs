//! Sign-in attempts (`io_login_attempt`): written before the password is checked, so attempts
//! running in parallel all count; read by the throttle per (account, address) and per address.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

/// Recent failures as the throttle sees them, with the database's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginCounts {
    /// Failures of this account from this address in the window, since its last success there.
    pub pair_failures: i64,
    pub pair_last_failure: Option<DateTime<Utc>>,
    /// Failures from this address over all accounts in the window.
    pub address_failures: i64,
    pub address_oldest_failure: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// Serialises the attempts of one address for this transaction (so the count and the insert that
/// follows are one step) and counts its recent failures. An unfinished attempt counts as failed.
pub async fn lock_and_count(conn: &mut PgConnection, email: &str, ip: &str, window_minutes: u32) -> Result<LoginCounts, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('io_login_attempt:' || $1, 0))").bind(ip).execute(&mut *conn).await?;
    let (pair_failures, pair_last_failure, address_failures, address_oldest_failure, now) = sqlx::query_as(
        "WITH recent AS (
             SELECT lower(email) = lower($1) AS mine, at, succeeded FROM io_login_attempt
             WHERE ip = $2 AND at > now() - make_interval(mins => $3)
         ), last_success AS (
             SELECT COALESCE(max(at), '-infinity'::timestamptz) AS at FROM recent WHERE mine AND succeeded
         )
         SELECT count(*) FILTER (WHERE mine AND NOT succeeded AND at > (SELECT at FROM last_success)),
                max(at) FILTER (WHERE mine AND NOT succeeded AND at > (SELECT at FROM last_success)),
                count(*) FILTER (WHERE NOT succeeded),
                min(at) FILTER (WHERE NOT succeeded),
                now()
         FROM recent",
    )
    .bind(email.trim())
    .bind(ip)
    .bind(window_minutes as i32)
    .fetch_one(&mut *conn)
    .await?;
    Ok(LoginCounts { pair_failures, pair_last_failure, address_failures, address_oldest_failure, now })
}

/// Records an attempt about to be checked; it counts as a failure until marked succeeded.
pub async fn record_attempt(conn: &mut PgConnection, email: &str, ip: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO io_login_attempt (email, ip) VALUES ($1, $2) RETURNING id").bind(email.trim()).bind(ip).fetch_one(conn).await
}

/// Marks an attempt succeeded and returns the database's time of it: the session's sign-in time,
/// on the same clock as a password reset's cut-off.
pub async fn mark_succeeded(pool: &PgPool, id: i64) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar("UPDATE io_login_attempt SET succeeded = true WHERE id = $1 RETURNING clock_timestamp()").bind(id).fetch_one(pool).await
}

/// Attempts older than this many days are of no use to the throttle.
pub async fn purge_older_than(pool: &PgPool, days: i32) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM io_login_attempt WHERE at < now() - make_interval(days => $1)").bind(days).execute(pool).await?;
    Ok(done.rows_affected())
}
