//! All SQL lives here: the pool, migrations, and one module of queries per table family.
//! Every query that reads tenant data takes the org id.

pub mod aggregates;
pub mod audit;
pub mod collections;
pub mod dashboards;
pub mod exports;
pub mod ingest;
pub mod insights;
pub mod jobs;
pub mod kpi;
pub mod logins;
pub mod metrics;
pub mod narratives;
pub mod models;
pub mod recommendations;
pub mod reports;
pub mod retention;
pub mod orgs;
pub mod patterns;
pub mod tokens;
pub mod users;

use std::time::Duration;

use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::config::DatabaseConfig;

/// A TEXT status column read back into its enum; an unknown token is a decode error naming the
/// column (`io_job.kind has unknown value "x"`), never a silent default.
pub(crate) fn decode<T>(column: &str, value: &str, parsed: Option<T>) -> Result<T, sqlx::Error> {
    parsed.ok_or_else(|| sqlx::Error::Decode(format!("{column} has unknown value {value:?}").into()))
}

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Creates the database named in `url` when it does not exist yet.
pub async fn ensure_database(url: &str) -> Result<(), sqlx::Error> {
    if !sqlx::Postgres::database_exists(url).await? {
        sqlx::Postgres::create_database(url).await?;
    }
    Ok(())
}

/// A pool sized by configuration; connections are opened lazily so the app can start (and report
/// itself unhealthy) while the database is down.
pub fn pool(config: &DatabaseConfig) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(config.pool_size)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy(&config.url)
}

/// The pool for reads that may lag the primary by a moment (dashboards, the board): a streaming
/// replica when `database.read_url` names one, else the primary's own pool. Never for a read
/// that must see the request's own writes.
#[derive(Clone, Debug)]
pub struct ReadPool {
    pub pool: PgPool,
    /// False when reads go to the primary.
    pub is_replica: bool,
}

impl ReadPool {
    pub fn new(config: &DatabaseConfig, primary: &PgPool) -> Result<ReadPool, sqlx::Error> {
        match &config.read_url {
            Some(url) => Ok(ReadPool { pool: pool(&DatabaseConfig { url: url.clone(), read_url: None, ..config.clone() })?, is_replica: true }),
            None => Ok(ReadPool::primary(primary)),
        }
    }

    pub fn primary(primary: &PgPool) -> ReadPool {
        ReadPool { pool: primary.clone(), is_replica: false }
    }
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// The versions of this build's migrations that the database has not applied (all of them for an
/// empty database); `Err` when the database cannot be asked.
pub async fn pending_migrations(pool: &PgPool) -> Result<Vec<i64>, sqlx::Error> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text").fetch_one(pool).await?;
    let applied: Vec<i64> = match table {
        Some(_) => sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(pool).await?,
        None => Vec::new(),
    };
    Ok(MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version)).map(|m| m.version).collect())
}

/// Answers whether the database responds within `timeout`.
pub async fn ping(pool: &PgPool, timeout: Duration) -> bool {
    let probe = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(pool);
    matches!(tokio::time::timeout(timeout, probe).await, Ok(Ok(1)))
}
