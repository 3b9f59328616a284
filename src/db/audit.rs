//! The audit log (`io_audit_event`): who did what to which target, when, from where.
//! Written in the same transaction as the change it records; read per org by the admin page.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::audit::{AuditAction, AuditEntry, AuditFilter};

/// One event to record. `actor` is the email as typed (failed sign-ins) or `cli` for operators.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub org_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub actor: &'a str,
    pub action: AuditAction,
    pub target: &'a str,
    pub detail: serde_json::Value,
    pub ip: Option<&'a str>,
}

pub async fn record(conn: &mut PgConnection, event: NewAuditEvent<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO io_audit_event (org_id, actor_user_id, actor, action, target, detail, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event.org_id)
    .bind(event.actor_user_id)
    .bind(event.actor)
    .bind(event.action.as_str())
    .bind(event.target)
    .bind(event.detail)
    .bind(event.ip)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether `action` was recorded for this target from this address inside the window: a throttled
/// window writes one audit row, not one per refused attempt.
pub async fn recorded_recently(conn: &mut PgConnection, action: AuditAction, target: &str, ip: &str, window_minutes: u32) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM io_audit_event
                        WHERE action = $1 AND lower(target) = lower($2) AND ip = $3 AND at > now() - make_interval(mins => $4))",
    )
    .bind(action.as_str())
    .bind(target.trim())
    .bind(ip)
    .bind(window_minutes as i32)
    .fetch_one(conn)
    .await
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    at: DateTime<Utc>,
    actor: String,
    action: String,
    target: String,
    detail: serde_json::Value,
    ip: Option<String>,
}

/// The org's events, newest first, one page at a time (`limit` + 1 rows tell whether more exist).
pub async fn for_org(pool: &PgPool, org_id: Uuid, filter: &AuditFilter, limit: i64) -> Result<(Vec<AuditEntry>, bool), sqlx::Error> {
    let day_start = |d: Option<NaiveDate>| d.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc());
    let rows = sqlx::query_as::<_, AuditRow>(
        "SELECT at, actor, action, target, detail, ip FROM io_audit_event
         WHERE org_id = $1
           AND ($2::text IS NULL OR action = $2)
           AND ($3::text IS NULL OR actor ILIKE '%' || $3 || '%')
           AND ($4::timestamptz IS NULL OR at >= $4)
           AND ($5::timestamptz IS NULL OR at < $5 + interval '1 day')
         ORDER BY at DESC, id DESC
         LIMIT $6 OFFSET $7",
    )
    .bind(org_id)
    .bind(filter.action.map(AuditAction::as_str))
    .bind(filter.actor.as_deref().filter(|a| !a.is_empty()))
    .bind(day_start(filter.from))
    .bind(day_start(filter.to))
    .bind(limit + 1)
    .bind(filter.page as i64 * limit)
    .fetch_all(pool)
    .await?;
    let more = rows.len() as i64 > limit;
    let entries = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| AuditEntry {
            at: r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            actor: r.actor,
            action: AuditAction::parse(&r.action),
            action_token: r.action,
            target: r.target,
            detail: r.detail.to_string(),
            ip: r.ip,
        })
        .collect();
    Ok((entries, more))
}
