//! `insightops user add|set-role|reset-password`: account management for operators.
//! Each change is written with its audit event (actor `cli`) in one transaction.

use rand::distributions::{Alphanumeric, DistString};
use sqlx::PgPool;

use crate::admin::AuditAction;
use crate::auth::server::{check_new_password, hash_password};
use crate::auth::Role;
use crate::db;
use crate::db::audit::NewAuditEvent;
use crate::error::AppError;

#[derive(Debug, thiserror::Error)]
pub enum UserCliError {
    #[error("no org with slug {0:?}")]
    UnknownOrg(String),
    #[error("no user with email {0:?}")]
    UnknownUser(String),
    #[error("a user with email {0:?} already exists")]
    EmailTaken(String),
    #[error("{0:?} is not an email address")]
    BadEmail(String),
    #[error("{0}")]
    App(#[from] AppError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What a command did, for the operator; `password` is set when one was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChange {
    pub email: String,
    pub message: String,
    pub generated_password: Option<String>,
}

/// The password to set: the operator's (checked) or a generated one.
fn choose_password(given: Option<String>) -> Result<(String, bool), UserCliError> {
    match given {
        Some(p) => {
            check_new_password(&p)?;
            Ok((p, false))
        }
        None => Ok((Alphanumeric.sample_string(&mut rand::thread_rng(), 20), true)),
    }
}

fn cli_event<'a>(org_id: uuid::Uuid, action: AuditAction, target: &'a str, detail: serde_json::Value) -> NewAuditEvent<'a> {
    NewAuditEvent { org_id: Some(org_id), actor_user_id: None, actor: "cli", action, target, detail, ip: None }
}

pub async fn add(pool: &PgPool, org_slug: &str, email: &str, name: Option<&str>, role: Role, password: Option<String>) -> Result<UserChange, UserCliError> {
    let email = email.trim();
    if !email.contains('@') || email.starts_with('@') {
        return Err(UserCliError::BadEmail(email.to_string()));
    }
    let org = db::orgs::by_slug(pool, org_slug).await?.ok_or_else(|| UserCliError::UnknownOrg(org_slug.to_string()))?;
    let (password, generated) = choose_password(password)?;
    let hash = hash_password(&password)?;
    let display_name = name.map(str::to_string).unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_string());
    let mut tx = pool.begin().await?;
    let id = db::users::insert(&mut tx, org.id, email, &display_name, role, &hash)
        .await?
        .ok_or_else(|| UserCliError::EmailTaken(email.to_string()))?;
    db::audit::record(&mut tx, cli_event(org.id, AuditAction::UserCreated, email, serde_json::json!({ "role": role.as_str(), "user_id": id }))).await?;
    tx.commit().await?;
    Ok(UserChange {
        email: email.to_string(),
        message: format!("added {email} to {} as {}", org.slug, role.as_str()),
        generated_password: generated.then_some(password),
    })
}

pub async fn set_role(pool: &PgPool, email: &str, role: Role) -> Result<UserChange, UserCliError> {
    let user = db::users::by_email(pool, email).await?.ok_or_else(|| UserCliError::UnknownUser(email.to_string()))?;
    let actor = crate::admin::service::Actor { user_id: None, name: "cli", ip: None };
    let change = crate::admin::service::set_role(pool, user.org_id, user.id, role, &actor)
        .await?
        .ok_or_else(|| UserCliError::UnknownUser(email.to_string()))?;
    Ok(UserChange { message: format!("{}: role {} -> {}", change.email, change.from.as_str(), change.to.as_str()), email: change.email, generated_password: None })
}

/// Sets a new password and signs the user out everywhere.
pub async fn reset_password(pool: &PgPool, email: &str, password: Option<String>) -> Result<UserChange, UserCliError> {
    let user = db::users::by_email(pool, email).await?.ok_or_else(|| UserCliError::UnknownUser(email.to_string()))?;
    let (password, generated) = choose_password(password)?;
    let hash = hash_password(&password)?;
    let mut tx = pool.begin().await?;
    db::users::set_password(&mut tx, user.id, &hash).await?;
    db::audit::record(&mut tx, cli_event(user.org_id, AuditAction::PasswordReset, &user.email, serde_json::json!({}))).await?;
    tx.commit().await?;
    Ok(UserChange {
        message: format!("{}: password reset; their sessions are signed out", user.email),
        email: user.email,
        generated_password: generated.then_some(password),
    })
}
