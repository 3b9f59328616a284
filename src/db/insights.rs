//! Asked questions (`io_ai_insight`): each user's history of questions and answers, and their
//! "was this useful" feedback. Only the asker reads or marks their own.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub struct NewInsight<'a> {
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub question: &'a str,
    /// The intent's token, when the question was understood.
    pub intent: Option<&'a str>,
    pub headline: &'a str,
    pub response: serde_json::Value,
    pub confidence: f64,
}

pub async fn insert(conn: &mut PgConnection, n: &NewInsight<'_>) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO io_ai_insight (org_id, user_id, question, intent, headline, response, confidence)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(n.org_id)
    .bind(n.user_id)
    .bind(n.question)
    .bind(n.intent)
    .bind(n.headline)
    .bind(&n.response)
    .bind(n.confidence.clamp(0.0, 1.0))
    .fetch_one(conn)
    .await
}

/// (id, question, intent token, headline, confidence, created at, useful), newest first.
pub type HistoryRow = (Uuid, String, Option<String>, String, f64, String, Option<bool>);

pub async fn history(pool: &PgPool, org_id: Uuid, user_id: Uuid, limit: i64) -> Result<Vec<HistoryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, question, intent, headline, confidence,
                to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'), useful
         FROM io_ai_insight WHERE org_id = $1 AND user_id = $2 ORDER BY created_at DESC, id LIMIT $3",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Marks the asker's own entry; false when there is no such entry of theirs.
pub async fn set_useful(pool: &PgPool, org_id: Uuid, user_id: Uuid, id: Uuid, useful: bool) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE io_ai_insight SET useful = $4 WHERE id = $3 AND org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .bind(id)
        .bind(useful)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
