//! Stored narratives (`io_exec_summary`): one per org, audience, grain and period, kept as first
//! written with the facts it cites. A second writer of the same period keeps the first one's.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::decode;
use crate::analytics::calendar::Granularity;
use crate::analytics::story::{Audience, Author, CitedFact, Narrative, StoredBy};

/// The TEXT of a grain narratives are kept for; weeks have none.
fn grain_text(grain: Granularity) -> Result<&'static str, sqlx::Error> {
    match grain {
        Granularity::Month => Ok("month"),
        Granularity::Quarter => Ok("quarter"),
        Granularity::Year => Ok("year"),
        Granularity::Week => Err(sqlx::Error::Protocol("narratives are kept per month, quarter or year, not per week".into())),
    }
}

pub struct NewNarrative<'a> {
    pub org_id: Uuid,
    pub audience: Audience,
    pub grain: Granularity,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub narrative: &'a Narrative,
    pub facts: &'a [CitedFact],
    pub author: Author,
    pub model_name: Option<&'a str>,
    pub prompt_version: Option<&'a str>,
    pub stored_by: StoredBy,
}

/// Stores the narrative unless the period has one already; true when this call stored it.
pub async fn insert_if_absent(conn: &mut PgConnection, n: &NewNarrative<'_>) -> Result<bool, sqlx::Error> {
    let encode = |e: serde_json::Error| sqlx::Error::Protocol(format!("encoding a narrative: {e}"));
    let narrative = serde_json::to_value(n.narrative).map_err(encode)?;
    let facts = serde_json::to_value(n.facts).map_err(encode)?;
    let done = sqlx::query(
        "INSERT INTO io_exec_summary (org_id, audience, grain, period_start, period_end, body, headline, narrative, facts, writer, model_name, prompt_version, trigger)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (org_id, audience, grain, period_start) DO NOTHING",
    )
    .bind(n.org_id)
    .bind(n.audience.as_str())
    .bind(grain_text(n.grain)?)
    .bind(n.period_start)
    .bind(n.period_end)
    .bind(n.narrative.plain_text())
    .bind(&n.narrative.headline.text)
    .bind(narrative)
    .bind(facts)
    .bind(n.author.as_str())
    .bind(n.model_name)
    .bind(n.prompt_version)
    .bind(n.stored_by.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A narrative as it was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNarrative {
    pub id: Uuid,
    pub narrative: Narrative,
    pub facts: Vec<CitedFact>,
    pub author: Author,
    pub model_name: Option<String>,
    pub stored_by: StoredBy,
    /// "2026-11-01 06:30 UTC"
    pub written_at: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    narrative: serde_json::Value,
    facts: serde_json::Value,
    writer: String,
    model_name: Option<String>,
    trigger: String,
    written_at: String,
}

pub async fn find(pool: &PgPool, org_id: Uuid, audience: Audience, grain: Granularity, period_start: NaiveDate) -> Result<Option<StoredNarrative>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, narrative, facts, writer, model_name, trigger,
                to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"') AS written_at
         FROM io_exec_summary WHERE org_id = $1 AND audience = $2 AND grain = $3 AND period_start = $4",
    )
    .bind(org_id)
    .bind(audience.as_str())
    .bind(grain_text(grain)?)
    .bind(period_start)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let json = |column: &str, e: serde_json::Error| sqlx::Error::Decode(format!("io_exec_summary.{column}: {e}").into());
    Ok(Some(StoredNarrative {
        id: r.id,
        narrative: serde_json::from_value(r.narrative).map_err(|e| json("narrative", e))?,
        facts: serde_json::from_value(r.facts).map_err(|e| json("facts", e))?,
        author: decode("io_exec_summary.writer", &r.writer, Author::parse(&r.writer))?,
        model_name: r.model_name,
        stored_by: decode("io_exec_summary.trigger", &r.trigger, StoredBy::parse(&r.trigger))?,
        written_at: r.written_at,
    }))
}
