//! Queries on accounts (`io_user`): sign-in lookups, the admin's user list, role and password changes.
//! Every read that serves a page is scoped by org; sign-in is the one lookup by email alone.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::access::Role;

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_slug: String,
    pub org_name: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: Option<String>,
    /// Sessions that began before this instant are void (set by a password reset).
    pub sessions_valid_after: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    org_id: Uuid,
    org_slug: String,
    org_name: String,
    email: String,
    display_name: String,
    role: String,
    password_hash: Option<String>,
    sessions_valid_after: DateTime<Utc>,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = sqlx::Error;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        let role = Role::parse(&row.role)
            .ok_or_else(|| sqlx::Error::Decode(format!("io_user.role has unknown value {:?}", row.role).into()))?;
        Ok(UserRecord {
            id: row.id,
            org_id: row.org_id,
            org_slug: row.org_slug,
            org_name: row.org_name,
            email: row.email,
            display_name: row.display_name,
            role,
            password_hash: row.password_hash,
            sessions_valid_after: row.sessions_valid_after,
        })
    }
}

const SELECT_USER: &str = "SELECT u.id, u.org_id, o.slug AS org_slug, o.name AS org_name, u.email, u.display_name,
            u.role, u.password_hash, u.sessions_valid_after
     FROM io_user u JOIN io_org o ON o.id = u.org_id";

pub async fn by_email(pool: &PgPool, email: &str) -> Result<Option<UserRecord>, sqlx::Error> {
    let row = sqlx::query_as::<_, UserRow>(&format!("{SELECT_USER} WHERE lower(u.email) = lower($1)"))
        .bind(email.trim())
        .fetch_optional(pool)
        .await?;
    row.map(UserRecord::try_from).transpose()
}

pub async fn by_id(pool: &PgPool, id: Uuid) -> Result<Option<UserRecord>, sqlx::Error> {
    let row = sqlx::query_as::<_, UserRow>(&format!("{SELECT_USER} WHERE u.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(UserRecord::try_from).transpose()
}

/// The org's users, admins first.
pub async fn for_org(pool: &PgPool, org_id: Uuid) -> Result<Vec<UserRecord>, sqlx::Error> {
    let rows = sqlx::query_as::<_, UserRow>(&format!(
        "{SELECT_USER} WHERE u.org_id = $1
         ORDER BY CASE u.role WHEN 'admin' THEN 0 WHEN 'manager' THEN 1 ELSE 2 END, lower(u.email)"
    ))
    .bind(org_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(UserRecord::try_from).collect()
}

/// Inserts an account; `None` when the email is already taken (emails are unique across orgs).
pub async fn insert(
    conn: &mut PgConnection,
    org_id: Uuid,
    email: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO io_user (org_id, email, display_name, role, password_hash)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT ((lower(email))) DO NOTHING
         RETURNING id",
    )
    .bind(org_id)
    .bind(email.trim())
    .bind(display_name)
    .bind(role.as_str())
    .bind(password_hash)
    .fetch_optional(conn)
    .await
}

/// Locks the org's row for this transaction: role changes of one org then happen one at a time,
/// so two admins demoting each other cannot both see "another admin remains".
pub async fn lock_org(conn: &mut PgConnection, org_id: Uuid) -> Result<bool, sqlx::Error> {
    let found: Option<Uuid> = sqlx::query_scalar("SELECT id FROM io_org WHERE id = $1 FOR UPDATE").bind(org_id).fetch_optional(conn).await?;
    Ok(found.is_some())
}

/// How many admins the org has (as this transaction sees it).
pub async fn admin_count(conn: &mut PgConnection, org_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM io_user WHERE org_id = $1 AND role = 'admin'").bind(org_id).fetch_one(conn).await
}

/// Changes one user's role in that org and returns the old role and the email; `None` when the
/// user is not in the org (another org's id looks exactly like a missing one).
pub async fn set_role(conn: &mut PgConnection, org_id: Uuid, user_id: Uuid, role: Role) -> Result<Option<(Role, String)>, sqlx::Error> {
    let old: Option<(String, String)> = sqlx::query_as("SELECT role, email FROM io_user WHERE id = $1 AND org_id = $2 FOR UPDATE")
        .bind(user_id)
        .bind(org_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((old, email)) = old else { return Ok(None) };
    sqlx::query("UPDATE io_user SET role = $3 WHERE id = $1 AND org_id = $2")
        .bind(user_id)
        .bind(org_id)
        .bind(role.as_str())
        .execute(&mut *conn)
        .await?;
    let old = Role::parse(&old).ok_or_else(|| sqlx::Error::Decode(format!("io_user.role has unknown value {old:?}").into()))?;
    Ok(Some((old, email)))
}

/// Sets a new password hash and voids every session the user had.
pub async fn set_password(conn: &mut PgConnection, user_id: Uuid, password_hash: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE io_user SET password_hash = $2, sessions_valid_after = now() WHERE id = $1")
        .bind(user_id)
        .bind(password_hash)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
