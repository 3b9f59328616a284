//! Creating and revoking API tokens, each audited in the same transaction.

use rand::RngCore;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ApiTokenSummary, CreatedToken, TokenScope};
use crate::auth::server::Principal;
use crate::db;
use crate::db::tokens::NewToken;
use crate::domain::audit::AuditAction;
use crate::error::AppError;

/// Tokens start with this, so a leaked one is recognisable (and scannable) as ours.
pub const TOKEN_PREFIX: &str = "iot_";

/// 256 random bits from the operating system, hex, behind the prefix.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{TOKEN_PREFIX}{hex}")
}

/// Checks a name and scopes as an admin typed them.
pub fn validate(name: &str, scopes: &[String]) -> Result<(String, Vec<TokenScope>), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(AppError::BadRequest("give the token a name of 1 to 80 characters, e.g. the script that will use it".into()));
    }
    let mut parsed = Vec::new();
    for s in scopes {
        let scope = TokenScope::parse(s.trim()).ok_or_else(|| AppError::BadRequest(format!("{s:?} is not a scope; use ingest or read")))?;
        if !parsed.contains(&scope) {
            parsed.push(scope);
        }
    }
    if parsed.is_empty() {
        return Err(AppError::BadRequest("choose at least one scope".into()));
    }
    Ok((name.to_string(), parsed))
}

pub async fn list(pool: &PgPool, p: &Principal) -> Result<Vec<ApiTokenSummary>, AppError> {
    Ok(db::tokens::for_org(pool, p.org_id).await?)
}

pub async fn create(pool: &PgPool, p: &Principal, name: &str, scopes: &[TokenScope]) -> Result<CreatedToken, AppError> {
    let token = new_token();
    let hash = crate::ingest::rest::token_hash(&token);
    let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let mut tx = pool.begin().await?;
    let id = db::tokens::create(&mut tx, &NewToken { org_id: p.org_id, name, hash: &hash, prefix: &prefix, scopes, created_by: p.user_id }).await?;
    let scope_names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    db::audit::record(&mut tx, p.audit(AuditAction::TokenCreated, name, json!({ "token_id": id, "scopes": scope_names, "prefix": prefix }))).await?;
    tx.commit().await?;
    let summary = find(pool, p, id).await?;
    Ok(CreatedToken { summary, token })
}

async fn find(pool: &PgPool, p: &Principal, id: Uuid) -> Result<ApiTokenSummary, AppError> {
    db::tokens::for_org(pool, p.org_id).await?.into_iter().find(|t| t.id == id).ok_or_else(|| AppError::NotFound("token".into()))
}

pub async fn revoke(pool: &PgPool, p: &Principal, id: Uuid) -> Result<ApiTokenSummary, AppError> {
    let mut tx = pool.begin().await?;
    let name = db::tokens::revoke(&mut tx, p.org_id, id).await?.ok_or_else(|| AppError::NotFound("live token".into()))?;
    db::audit::record(&mut tx, p.audit(AuditAction::TokenRevoked, &name, json!({ "token_id": id }))).await?;
    tx.commit().await?;
    find(pool, p, id).await
}
