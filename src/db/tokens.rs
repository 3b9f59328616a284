//! API tokens (`io_api_token`): only a hash of each token is stored; a request's bearer token is
//! looked up by its hash, and using it records when it was last used.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::ingest::{ApiTokenSummary, TokenScope};

/// The org and rights a presented token carries.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenIdentity {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub scopes: Vec<TokenScope>,
}

fn scopes(texts: &[String]) -> Vec<TokenScope> {
    texts.iter().filter_map(|t| TokenScope::parse(t)).collect()
}

/// A new token's row; `hash` is the SHA-256 hex of the token, `prefix` its first characters.
pub struct NewToken<'a> {
    pub org_id: Uuid,
    pub name: &'a str,
    pub hash: &'a str,
    pub prefix: &'a str,
    pub scopes: &'a [TokenScope],
    pub created_by: Uuid,
}

pub async fn create(conn: &mut PgConnection, t: &NewToken<'_>) -> Result<Uuid, sqlx::Error> {
    let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
    sqlx::query_scalar("INSERT INTO io_api_token (org_id, name, token_hash, prefix, scopes, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(t.org_id)
        .bind(t.name)
        .bind(t.hash)
        .bind(t.prefix)
        .bind(&scopes)
        .bind(t.created_by)
        .fetch_one(conn)
        .await
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    created_by: Option<String>,
    created_at: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
}

/// The org's tokens, newest first, revoked ones included (they show as revoked).
pub async fn for_org(pool: &PgPool, org_id: Uuid) -> Result<Vec<ApiTokenSummary>, sqlx::Error> {
    let stamp = |col: &str| format!("to_char(t.{col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"')");
    let rows: Vec<TokenRow> = sqlx::query_as(&format!(
        "SELECT t.id, t.name, t.prefix, t.scopes, u.email AS created_by, {} AS created_at, {} AS last_used_at, {} AS revoked_at
         FROM io_api_token t LEFT JOIN io_user u ON u.id = t.created_by
         WHERE t.org_id = $1 ORDER BY t.created_at DESC",
        stamp("created_at"),
        stamp("last_used_at"),
        stamp("revoked_at")
    ))
    .bind(org_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ApiTokenSummary { id: r.id, name: r.name, prefix: r.prefix, scopes: scopes(&r.scopes), created_by: r.created_by, created_at: r.created_at, last_used_at: r.last_used_at, revoked_at: r.revoked_at })
        .collect())
}

/// Revokes a live token of the org; its name, or `None` when there is no such live token.
pub async fn revoke(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("UPDATE io_api_token SET revoked_at = now() WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING name")
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The live token with this hash, marked as used now; `None` for an unknown or revoked token.
pub async fn authenticate(pool: &PgPool, hash: &str) -> Result<Option<TokenIdentity>, sqlx::Error> {
    let row: Option<(Uuid, Uuid, String, Vec<String>)> = sqlx::query_as(
        "UPDATE io_api_token SET last_used_at = now() WHERE token_hash = $1 AND revoked_at IS NULL
         RETURNING id, org_id, name, scopes",
    )
    .bind(hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id, org_id, name, texts)| TokenIdentity { id, org_id, name, scopes: scopes(&texts) }))
}
