//! Server side of sign-in: password hashing, the session's user, throttled login, and the one
//! authorisation helper every server function calls before it touches data.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Utc;
use sqlx::PgPool;
use tower_sessions::Session;
use uuid::Uuid;

use super::{AccessPolicy, Capability, MetricAccess, Role};
use crate::db::metrics::{MetricDef, MetricKind};
use crate::admin::AuditAction;
use crate::config::AuthConfig;
use crate::db;
use crate::db::audit::NewAuditEvent;
use crate::db::users::UserRecord;
use crate::error::AppError;

const USER_ID_KEY: &str = "user_id";
/// Milliseconds since the epoch at sign-in; a password reset voids older sessions.
const SIGNED_IN_AT_KEY: &str = "signed_in_at";
/// Seconds since the epoch of the last request that extended the idle expiry.
const SEEN_AT_KEY: &str = "seen_at";
/// The idle expiry is extended at most this often, so a page view is not a session write.
const TOUCH_EVERY_SECS: i64 = 60;
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The signed-in user a request acts for: who, in which org, with which role.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub org_id: Uuid,
    pub org_slug: String,
    pub org_name: String,
}

impl From<UserRecord> for Principal {
    fn from(u: UserRecord) -> Self {
        Principal { user_id: u.id, email: u.email, display_name: u.display_name, role: u.role, org_id: u.org_id, org_slug: u.org_slug, org_name: u.org_name }
    }
}

impl Principal {
    /// An audit event of something this user did.
    pub fn audit<'a>(&'a self, action: AuditAction, target: &'a str, detail: serde_json::Value) -> NewAuditEvent<'a> {
        NewAuditEvent { org_id: Some(self.org_id), actor_user_id: Some(self.user_id), actor: &self.email, action, target, detail, ip: None }
    }
}

/// What one request may read: its org, and how much of each metric its role sees. Services take
/// this instead of an org, so no query can forget the org or the visibility rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub org_id: Uuid,
    pub org_name: String,
    pub role: Role,
    pub policy: AccessPolicy,
}

impl Scope {
    pub fn new(principal: &Principal, policy: &AccessPolicy) -> Scope {
        Scope { org_id: principal.org_id, org_name: principal.org_name.clone(), role: principal.role, policy: policy.clone() }
    }

    /// The scope of `role` in the org with this slug (tests and operator commands).
    pub async fn for_org(pool: &PgPool, slug: &str, role: Role, policy: &AccessPolicy) -> Result<Scope, AppError> {
        let org = db::orgs::by_slug(pool, slug).await?.ok_or_else(|| AppError::NotFound(format!("org {slug:?}")))?;
        Ok(Scope { org_id: org.id, org_name: org.name, role, policy: policy.clone() })
    }

    pub fn access(&self, metric: &MetricDef) -> MetricAccess {
        self.policy.metric_access(self.role, metric.visibility)
    }

    /// The org's metrics of `kind` that this role may see at all, in catalogue order.
    pub async fn metrics(&self, pool: &PgPool, kind: MetricKind) -> Result<Vec<MetricDef>, AppError> {
        let mut metrics = db::metrics::for_org(pool, self.org_id, kind).await?;
        metrics.retain(|m| self.access(m) != MetricAccess::Hidden);
        Ok(metrics)
    }
}

/// Who the request is from, put into the request by [`super::guard::identify`].
#[derive(Debug, Clone)]
pub struct Identity(pub Option<Principal>);

fn session_error(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %err, "session store");
    AppError::Internal("session store failed".into())
}

/// The user of this session, if it is still valid: the account exists and no password reset
/// happened since sign-in. Extends the idle expiry.
pub async fn principal_from_session(pool: &PgPool, session: &Session) -> Result<Option<Principal>, AppError> {
    let Some(user_id) = session.get::<Uuid>(USER_ID_KEY).await.map_err(session_error)? else {
        return Ok(None);
    };
    let signed_in_at = session.get::<i64>(SIGNED_IN_AT_KEY).await.map_err(session_error)?.unwrap_or(0);
    let user = match db::users::by_id(pool, user_id).await? {
        Some(user) if signed_in_at >= user.sessions_valid_after.timestamp_millis() => user,
        _ => {
            session.flush().await.map_err(session_error)?;
            return Ok(None);
        }
    };
    let now = Utc::now().timestamp();
    let seen = session.get::<i64>(SEEN_AT_KEY).await.map_err(session_error)?.unwrap_or(0);
    if now - seen >= TOUCH_EVERY_SECS {
        session.insert(SEEN_AT_KEY, now).await.map_err(session_error)?;
    }
    Ok(Some(Principal::from(user)))
}

/// The principal of the current server-function call or page render (`None` when anonymous).
pub fn current_principal() -> Option<Principal> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    parts.extensions.get::<Identity>().and_then(|identity| identity.0.clone())
}

/// The authorisation helper: the session's principal if its role has `capability`;
/// 401 when nobody is signed in, 403 when the role may not.
pub fn authorize(capability: Capability) -> Result<Principal, AppError> {
    let principal = current_principal().ok_or(AppError::Unauthorized)?;
    if principal.role.can(capability) {
        Ok(principal)
    } else {
        Err(AppError::Forbidden)
    }
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| AppError::Internal(format!("password salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("password hash: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A rule every new password meets; demo and generated passwords pass it.
pub fn check_new_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::BadRequest(format!("a password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

/// Unknown emails are verified against this hash, so a wrong email takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

/// Checks the password off the async threads: argon2 is deliberately slow.
async fn password_matches(password: String, hash: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(|e| AppError::Internal(format!("password check: {e}")))
}

/// Signs `email` in on `session`: refuses with 429 after too many recent failures for the account
/// or the address, records every outcome in the audit log, and rotates the session id.
pub async fn sign_in(pool: &PgPool, session: &Session, config: &AuthConfig, email: &str, password: &str, ip: &str) -> Result<Principal, AppError> {
    let email = email.trim();
    if email.is_empty() || password.is_empty() {
        return Err(AppError::BadRequest("enter your email and password".into()));
    }
    let user = db::users::by_email(pool, email).await?;
    let audit = |action: AuditAction, detail: serde_json::Value| NewAuditEvent {
        org_id: user.as_ref().map(|u| u.org_id),
        actor_user_id: user.as_ref().map(|u| u.id),
        actor: email,
        action,
        target: email,
        detail,
        ip: Some(ip),
    };
    let (failures, clears_at) = db::audit::recent_login_failures(pool, email, ip, config.failed_login_window_minutes).await?;
    if failures >= config.max_failed_logins as i64 {
        let retry_after_secs = clears_at.map_or(60, |t| (t - Utc::now()).num_seconds().max(1) as u64);
        let mut conn = pool.acquire().await?;
        db::audit::record(&mut conn, audit(AuditAction::LoginThrottled, serde_json::json!({ "recent_failures": failures }))).await?;
        return Err(AppError::TooManyRequests { retry_after_secs });
    }
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    if !password_matches(password.to_string(), hash).await? {
        let reason = if user.is_some() { "wrong password" } else { "unknown email" };
        let mut conn = pool.acquire().await?;
        db::audit::record(&mut conn, audit(AuditAction::LoginFailed, serde_json::json!({ "reason": reason }))).await?;
        return Err(AppError::InvalidCredentials);
    }
    let Some(user) = user.clone() else { return Err(AppError::InvalidCredentials) };
    // A new id at sign-in: an id planted before login (session fixation) is worth nothing after it.
    session.cycle_id().await.map_err(session_error)?;
    session.insert(USER_ID_KEY, user.id).await.map_err(session_error)?;
    session.insert(SIGNED_IN_AT_KEY, Utc::now().timestamp_millis()).await.map_err(session_error)?;
    session.insert(SEEN_AT_KEY, Utc::now().timestamp()).await.map_err(session_error)?;
    let mut conn = pool.acquire().await?;
    db::audit::record(&mut conn, audit(AuditAction::Login, serde_json::json!({ "role": user.role.as_str() }))).await?;
    Ok(Principal::from(user))
}

/// Ends the session and records it.
pub async fn sign_out(pool: &PgPool, session: &Session, principal: Option<&Principal>, ip: &str) -> Result<(), AppError> {
    if let Some(p) = principal {
        let mut conn = pool.acquire().await?;
        let event = NewAuditEvent { ip: Some(ip), ..p.audit(AuditAction::Logout, &p.email, serde_json::json!({})) };
        db::audit::record(&mut conn, event).await?;
    }
    session.flush().await.map_err(session_error)
}

/// The client's address as the socket saw it ("unknown" in tests that call the router directly).
pub async fn client_ip() -> String {
    use axum::extract::ConnectInfo;
    match leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>().await {
        Ok(ConnectInfo(addr)) => addr.ip().to_string(),
        Err(_) => "unknown".to_string(),
    }
}

/// The session of the current server-function call.
pub async fn current_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| AppError::Internal(format!("session missing: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password_and_are_salted() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert_ne!(hash, hash_password("correct horse battery").expect("hash"), "a fresh salt each time");
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("twelve chars").is_ok());
    }
}
