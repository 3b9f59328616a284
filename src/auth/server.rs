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
use crate::domain::access::MetricAccessMap;
use crate::db::metrics::{MetricDef, MetricKind};
use crate::admin::AuditAction;
use crate::config::AuthConfig;
use crate::db;
use crate::db::audit::NewAuditEvent;
use crate::db::logins::LoginCounts;
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

    /// What a public dashboard link may read: PUBLIC metrics of its org and nothing else, through
    /// the same access map as every signed-in read (a policy that admits one level only).
    pub fn public_link(org_id: Uuid, org_name: String) -> Scope {
        let policy = AccessPolicy { public_roles: vec![Role::Board], internal_roles: Vec::new(), restricted_roles: Vec::new(), anonymised_roles: Vec::new() };
        Scope { org_id, org_name, role: Role::Board, policy }
    }

    /// The scope of `role` in the org with this slug (tests and operator commands).
    pub async fn for_org(pool: &PgPool, slug: &str, role: Role, policy: &AccessPolicy) -> Result<Scope, AppError> {
        let org = db::orgs::by_slug(pool, slug).await?.ok_or_else(|| AppError::NotFound(format!("org {slug:?}")))?;
        Ok(Scope { org_id: org.id, org_name: org.name, role, policy: policy.clone() })
    }

    /// How much of each of the org's metrics this role sees, from the catalogue: the one check
    /// every feature applies, to every metric a response touches. Unknown keys are hidden.
    pub async fn access_map(&self, pool: &PgPool) -> Result<MetricAccessMap, AppError> {
        let catalogue = db::metrics::visibilities(pool, self.org_id).await?;
        Ok(MetricAccessMap::new(&self.policy, self.role, catalogue.iter().map(|(k, v)| (k.as_str(), *v))))
    }

    /// The org's metrics of `kind` that this role may see at all, in catalogue order, with the map.
    pub async fn metrics(&self, pool: &PgPool, kind: MetricKind) -> Result<(Vec<MetricDef>, MetricAccessMap), AppError> {
        let access = self.access_map(pool).await?;
        let mut metrics = db::metrics::for_org(pool, self.org_id, kind).await?;
        metrics.retain(|m| access.access(&m.key) != MetricAccess::Hidden);
        Ok((metrics, access))
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
pub async fn principal_from_session(pool: &PgPool, session: &Session, config: &AuthConfig) -> Result<Option<Principal>, AppError> {
    let Some(user_id) = session.get::<Uuid>(USER_ID_KEY).await.map_err(session_error)? else {
        return Ok(None);
    };
    let signed_in_at = session.get::<i64>(SIGNED_IN_AT_KEY).await.map_err(session_error)?.unwrap_or(0);
    let outlived = session_outlived(signed_in_at, Utc::now().timestamp_millis(), config.session_absolute_hours);
    let user = match db::users::by_id(pool, user_id).await? {
        Some(user) if !outlived && signed_in_at >= user.sessions_valid_after.timestamp_millis() => user,
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

/// Whether a session signed in at `signed_in_at_ms` has passed its absolute lifetime: activity
/// extends the idle expiry, never this.
pub fn session_outlived(signed_in_at_ms: i64, now_ms: i64, absolute_hours: u32) -> bool {
    now_ms.saturating_sub(signed_in_at_ms) > i64::from(absolute_hours) * 3_600_000
}

/// The principal of the current server-function call or page render (`None` when anonymous).
pub fn current_principal() -> Option<Principal> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    parts.extensions.get::<Identity>().and_then(|identity| identity.0.clone())
}

/// The authorisation helper: the session's principal if its role has `capability`;
/// 401 when nobody is signed in, 403 when the role may not.
pub fn authorize(capability: Capability) -> Result<Principal, AppError> {
    authorize_principal(current_principal(), capability)
}

/// [`authorize`] for handlers outside server functions (downloads), given the request's identity.
pub fn authorize_principal(principal: Option<Principal>, capability: Capability) -> Result<Principal, AppError> {
    let principal = principal.ok_or(AppError::Unauthorized)?;
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

/// Longest email a sign-in accepts (RFC 5321's path limit), and longest password, in bytes: the
/// hash of a megabyte password is work nobody legitimate needs.
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What a sign-in needs besides the form: where it comes from and what bounds it.
pub struct SignInContext<'a> {
    pub config: &'a AuthConfig,
    /// Bounds the password checks running at once (argon2 takes 19 MiB each).
    pub password_checks: &'a tokio::sync::Semaphore,
    pub ip: &'a str,
}

/// Seconds this attempt must wait, if any: the (account, address) pair waits after
/// `max_failed_logins` failures, one minute doubling with each further failure up to the window;
/// the address waits after `max_failed_logins_per_address` failures over all accounts until the
/// oldest leaves the window. Another address of the same account is never made to wait.
pub fn throttle_wait(counts: &LoginCounts, config: &AuthConfig) -> Option<u64> {
    let window = i64::from(config.failed_login_window_minutes) * 60;
    let since = |t: Option<chrono::DateTime<Utc>>| t.map(|t| (counts.now - t).num_seconds());
    let mut wait = 0;
    let over = counts.pair_failures - i64::from(config.max_failed_logins);
    if over >= 0 {
        let lock = 60i64.checked_shl(over.min(30) as u32).unwrap_or(window).min(window);
        wait = wait.max(lock - since(counts.pair_last_failure).unwrap_or(0));
    }
    if counts.address_failures >= i64::from(config.max_failed_logins_per_address) {
        wait = wait.max(window - since(counts.address_oldest_failure).unwrap_or(0));
    }
    (wait > 0).then_some(wait as u64)
}

/// Signs `email` in on `session`. In order: refuses oversized input (400) and, when the password
/// checks stay busy for `password_check_wait_ms`, answers 503; then, under a lock on the address, refuses a throttled
/// attempt (429, one audit row per throttled window) or records it as an attempt before the slow
/// check. Every outcome is audited; success rotates the session id.
pub async fn sign_in(pool: &PgPool, session: &Session, cx: &SignInContext<'_>, email: &str, password: &str) -> Result<Principal, AppError> {
    let email = email.trim();
    if email.is_empty() || password.is_empty() {
        return Err(AppError::BadRequest("enter your email and password".into()));
    }
    if email.chars().count() > MAX_EMAIL_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::BadRequest(format!("an email has at most {MAX_EMAIL_CHARS} characters and a password at most {MAX_PASSWORD_BYTES} bytes")));
    }
    // A short burst waits its turn; a flood is turned away rather than queued without bound.
    let wait = std::time::Duration::from_millis(cx.config.password_check_wait_ms.into());
    let _permit = match tokio::time::timeout(wait, cx.password_checks.acquire()).await {
        Ok(Ok(permit)) => permit,
        _ => return Err(AppError::Overloaded { retry_after_secs: 1 }),
    };
    let user = db::users::by_email(pool, email).await?;
    let audit = |action: AuditAction, detail: serde_json::Value| NewAuditEvent {
        org_id: user.as_ref().map(|u| u.org_id),
        actor_user_id: user.as_ref().map(|u| u.id),
        actor: email,
        action,
        target: email,
        detail,
        ip: Some(cx.ip),
    };
    let window = cx.config.failed_login_window_minutes;
    let mut tx = pool.begin().await?;
    let counts = db::logins::lock_and_count(&mut tx, email, cx.ip, window).await?;
    if let Some(retry_after_secs) = throttle_wait(&counts, cx.config) {
        if !db::audit::recorded_recently(&mut tx, AuditAction::LoginThrottled, email, cx.ip, window).await? {
            let detail = serde_json::json!({ "recent_failures": counts.pair_failures, "address_failures": counts.address_failures });
            db::audit::record(&mut tx, audit(AuditAction::LoginThrottled, detail)).await?;
        }
        tx.commit().await?;
        return Err(AppError::TooManyRequests { retry_after_secs });
    }
    let attempt = db::logins::record_attempt(&mut tx, email, cx.ip).await?;
    tx.commit().await?;

    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    if !password_matches(password.to_string(), hash).await? {
        let reason = if user.is_some() { "wrong password" } else { "unknown email" };
        let mut conn = pool.acquire().await?;
        db::audit::record(&mut conn, audit(AuditAction::LoginFailed, serde_json::json!({ "reason": reason }))).await?;
        return Err(AppError::InvalidCredentials);
    }
    let Some(user) = user.clone() else { return Err(AppError::InvalidCredentials) };
    let signed_in_at = db::logins::mark_succeeded(pool, attempt).await?;
    // A new id at sign-in: an id planted before login (session fixation) is worth nothing after it.
    session.cycle_id().await.map_err(session_error)?;
    session.insert(USER_ID_KEY, user.id).await.map_err(session_error)?;
    session.insert(SIGNED_IN_AT_KEY, signed_in_at.timestamp_millis()).await.map_err(session_error)?;
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

/// The client's address: the socket's peer, or, when the peer is a configured trusted proxy, the
/// address that proxy saw ("unknown" in tests that call the router without one).
/// A plain HTML form post (the page was not hydrated yet, or scripts are off) asks for HTML;
/// the server-function client asks for its own encoding.
pub async fn posted_without_javascript() -> bool {
    let headers = leptos_axum::extract::<axum::http::HeaderMap>().await.unwrap_or_default();
    headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

pub async fn client_ip() -> String {
    use axum::extract::ConnectInfo;
    let Ok(ConnectInfo(addr)) = leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>().await else {
        return "unknown".to_string();
    };
    let trusted = crate::state::AppState::current().map(|s| s.config.auth.trusted_proxies.clone()).unwrap_or_default();
    let headers = leptos_axum::extract::<axum::http::HeaderMap>().await.unwrap_or_default();
    let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    client_address(addr.ip(), Some(forwarded.as_str()).filter(|f| !f.is_empty()), &trusted).to_string()
}

/// Walks `X-Forwarded-For` from the right (the hop nearest to us) past trusted proxies: the first
/// address that is not one of ours is the client. From an untrusted peer the header is ignored, so
/// nobody can pick the address their failures are counted against.
pub fn client_address(peer: std::net::IpAddr, forwarded_for: Option<&str>, trusted: &[std::net::IpAddr]) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.unwrap_or("").rsplit(',') {
        match hop.trim().parse::<std::net::IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip,
            // A hop we cannot read: stop at the last address we could vouch for.
            Err(_) => return client,
        }
    }
    client
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
    fn sessions_end_after_their_absolute_lifetime_however_active() {
        let hour = 3_600_000;
        assert!(!session_outlived(0, 23 * hour, 24));
        assert!(session_outlived(0, 24 * hour + 1, 24));
        assert!(session_outlived(0, i64::MAX, 24), "no overflow");
        assert!(session_outlived(i64::MIN, 0, 24), "a session without a sign-in time is over");
    }

    fn counts(pair: i64, pair_ago: i64, address: i64, oldest_ago: i64) -> LoginCounts {
        let now = Utc::now();
        LoginCounts {
            pair_failures: pair,
            pair_last_failure: Some(now - chrono::Duration::seconds(pair_ago)),
            address_failures: address,
            address_oldest_failure: Some(now - chrono::Duration::seconds(oldest_ago)),
            now,
        }
    }

    #[test]
    fn the_throttle_backs_off_per_account_and_address_and_caps_at_the_window() {
        let config = AuthConfig::default();
        assert_eq!(throttle_wait(&counts(4, 1, 4, 100), &config), None, "under the limit");
        assert_eq!(throttle_wait(&counts(5, 10, 5, 100), &config), Some(50), "one minute after the fifth failure");
        assert_eq!(throttle_wait(&counts(5, 61, 5, 100), &config), None, "the minute has passed");
        assert_eq!(throttle_wait(&counts(6, 10, 6, 100), &config), Some(110), "doubles");
        assert_eq!(throttle_wait(&counts(7, 0, 7, 100), &config), Some(240));
        assert_eq!(throttle_wait(&counts(60, 0, 60, 100), &config), Some(15 * 60), "never more than the window");
        assert_eq!(throttle_wait(&counts(0, 0, 30, 600), &config), Some(300), "an address spraying accounts waits for its oldest failure");
        assert_eq!(throttle_wait(&counts(0, 0, 29, 600), &config), None);
    }

    #[test]
    fn forwarded_addresses_are_believed_from_trusted_proxies_only() {
        let ip = |t: &str| t.parse::<std::net::IpAddr>().expect("ip");
        let proxy = [ip("127.0.0.1")];
        assert_eq!(client_address(ip("203.0.113.9"), Some("198.51.100.1"), &proxy), ip("203.0.113.9"), "untrusted peer: header ignored");
        assert_eq!(client_address(ip("127.0.0.1"), Some("198.51.100.1"), &proxy), ip("198.51.100.1"));
        assert_eq!(client_address(ip("127.0.0.1"), Some("6.6.6.6, 198.51.100.1"), &proxy), ip("198.51.100.1"), "a spoofed left entry is not taken");
        assert_eq!(client_address(ip("127.0.0.1"), Some("198.51.100.1, 127.0.0.1"), &proxy), ip("198.51.100.1"), "chained trusted proxies are skipped");
        assert_eq!(client_address(ip("127.0.0.1"), Some("garbage"), &proxy), ip("127.0.0.1"));
        assert_eq!(client_address(ip("127.0.0.1"), None, &proxy), ip("127.0.0.1"));
        assert_eq!(client_address(ip("::1"), Some("2001:db8::7"), &[ip("::1")]), ip("2001:db8::7"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("twelve chars").is_ok());
    }
}
