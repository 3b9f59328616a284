//! Queries on organisations.
//! Orgs are found by slug (configuration, URLs) and carried by id everywhere else.

use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrgRow {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

pub async fn by_slug(pool: &PgPool, slug: &str) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query_as::<_, OrgRow>("SELECT id, slug, name FROM io_org WHERE slug = $1")
        .bind(slug)
        .fetch_optional(pool)
        .await
}

pub async fn by_id(pool: &PgPool, id: Uuid) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query_as::<_, OrgRow>("SELECT id, slug, name FROM io_org WHERE id = $1").bind(id).fetch_optional(pool).await
}

/// Inserts or renames the org with this slug and returns its id.
pub async fn upsert(
    conn: &mut sqlx::PgConnection,
    slug: &str,
    name: &str,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO io_org (slug, name) VALUES ($1, $2)
         ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name
         RETURNING id",
    )
    .bind(slug)
    .bind(name)
    .fetch_one(conn)
    .await
}

/// Every org, by slug (work that spans orgs: warm-up, reviews).
pub async fn all(pool: &PgPool) -> Result<Vec<OrgRow>, sqlx::Error> {
    sqlx::query_as::<_, OrgRow>("SELECT id, slug, name FROM io_org ORDER BY slug").fetch_all(pool).await
}
