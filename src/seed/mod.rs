//! `insightops seed`: writes the demo orgs, catalogue and daily data idempotently.
//! Rows go through COPY into a staging table, then one INSERT … ON CONFLICT DO NOTHING per org.

pub mod generate;
pub mod spec;

use std::fmt::Write as _;

use chrono::{Duration, NaiveDate};
use sqlx::PgPool;

use crate::admin::AuditAction;
use crate::analytics::Aggregation;
use crate::auth::server::hash_password;
use crate::auth::Role;
use crate::db::audit::NewAuditEvent;
use crate::db;
use crate::db::metrics::{MetricDef, MetricKind};
use generate::{cell_value, cells};
use spec::{DemoSpec, SeriesKind};

#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Days of history ending at `end` (inclusive).
    pub days: u32,
    /// Multiplies the product list, and so the row count, for benchmarks.
    pub scale: u32,
    pub end: NaiveDate,
    /// Skip an org that already has KPI rows.
    pub only_if_empty: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSeedReport {
    pub slug: String,
    pub kpi_rows_inserted: u64,
    pub signal_rows_inserted: u64,
    pub skipped: bool,
    pub users: Vec<DemoUser>,
    /// Built-in models registered now (an org that already had data may still lack them).
    pub models_added: usize,
}

/// A demo account: one per role per org. The password is printed by `insightops seed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub email: String,
    pub password: String,
    pub role: Role,
    /// False when the account already existed: its password was left as it was.
    pub created: bool,
}

impl DemoUser {
    pub fn for_org(slug: &str, role: Role) -> DemoUser {
        DemoUser { email: format!("{}@{slug}.example", role.as_str()), password: format!("{}-{slug}-demo", role.as_str()), role, created: false }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("seed definition: {0}")]
    Definition(String),
    #[error("option {0}")]
    Option(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub async fn run(pool: &PgPool, options: &SeedOptions) -> Result<Vec<OrgSeedReport>, SeedError> {
    if options.days == 0 || options.days > 3660 {
        return Err(SeedError::Option(format!("--days must be 1 to 3660, not {}", options.days)));
    }
    if options.scale == 0 || options.scale > 1000 {
        return Err(SeedError::Option(format!("--scale must be 1 to 1000, not {}", options.scale)));
    }
    let (demo, anomalies) = spec::load().map_err(SeedError::Definition)?;
    let mut reports = Vec::new();
    for org in &demo.orgs {
        if options.only_if_empty {
            if let Some(existing) = db::orgs::by_slug(pool, &org.slug).await? {
                if db::kpi::count_for_org(pool, existing.id).await? > 0 {
                    let users = seed_users(pool, existing.id, &org.slug, &org.name).await?;
                    let mut conn = pool.acquire().await?;
                    let models_added = crate::models::service::register_builtins(&mut conn, existing.id).await?;
                    reports.push(OrgSeedReport {
                        slug: org.slug.clone(),
                        kpi_rows_inserted: 0,
                        signal_rows_inserted: 0,
                        skipped: true,
                        users,
                        models_added,
                    });
                    continue;
                }
            }
        }
        let mut tx = pool.begin().await?;
        let org_id = db::orgs::upsert(&mut tx, &org.slug, &org.name).await?;
        for (kind, list) in [(MetricKind::Kpi, &demo.metrics), (MetricKind::Signal, &demo.signals)] {
            for (order, series) in list.iter().enumerate() {
                let def = MetricDef {
                    key: series.key.clone(),
                    kind,
                    label: series.label.clone(),
                    unit: series.unit.clone(),
                    direction: series.direction,
                    aggregation: series.aggregation,
                    description: describe(series.aggregation),
                    sort_order: order as i32,
                    visibility: series.visibility,
                };
                db::metrics::upsert(&mut tx, org_id, &def).await?;
                db::metrics::set_pii(&mut tx, org_id, &def.key, series.pii).await?;
            }
        }
        let mut inserted = [0u64; 2];
        for (slot, kind) in [SeriesKind::Kpi, SeriesKind::Signal].into_iter().enumerate() {
            db::kpi::begin_staging(&mut tx).await?;
            let list = if kind == SeriesKind::Kpi { &demo.metrics } else { &demo.signals };
            for series in list {
                let csv = series_csv(&demo, org, kind, series, options, &anomalies, org_id);
                db::kpi::copy_into_staging(&mut tx, csv.into_bytes()).await?;
            }
            let table = match kind {
                SeriesKind::Kpi => db::kpi::FactTable::Kpi,
                SeriesKind::Signal => db::kpi::FactTable::Signal,
            };
            inserted[slot] = db::kpi::merge_staging(&mut tx, table).await?;
        }
        db::kpi::record_dimension_values(&mut tx, org_id, db::kpi::DimensionSource::Facts).await?;
        db::kpi::refresh_rollups(&mut tx, org_id).await?;
        let models_added = crate::models::service::register_builtins(&mut tx, org_id).await?;
        tx.commit().await?;
        let users = seed_users(pool, org_id, &org.slug, &org.name).await?;
        reports.push(OrgSeedReport {
            slug: org.slug.clone(),
            kpi_rows_inserted: inserted[0],
            signal_rows_inserted: inserted[1],
            skipped: false,
            users,
            models_added,
        });
    }
    Ok(reports)
}

/// Creates the org's demo accounts that do not exist yet; existing ones keep their password.
async fn seed_users(pool: &PgPool, org_id: uuid::Uuid, slug: &str, org_name: &str) -> Result<Vec<DemoUser>, SeedError> {
    let mut out = Vec::new();
    for role in Role::ALL {
        let mut user = DemoUser::for_org(slug, role);
        let hash = hash_password(&user.password).map_err(|e| SeedError::Definition(e.to_string()))?;
        let mut tx = pool.begin().await?;
        let name = format!("{org_name} {}", role.label());
        if let Some(id) = db::users::insert(&mut tx, org_id, &user.email, &name, role, &hash).await? {
            let event = NewAuditEvent {
                org_id: Some(org_id),
                actor_user_id: None,
                actor: "seed",
                action: AuditAction::UserCreated,
                target: &user.email,
                detail: serde_json::json!({ "role": role.as_str(), "user_id": id }),
                ip: None,
            };
            db::audit::record(&mut tx, event).await?;
            user.created = true;
        }
        tx.commit().await?;
        out.push(user);
    }
    Ok(out)
}

fn describe(rule: Aggregation) -> String {
    match rule {
        Aggregation::Sum => "Summed over days and dimensions.".into(),
        Aggregation::Avg => "Averaged over dimension values and days.".into(),
        Aggregation::Last => "Summed over dimensions; a period shows its last day.".into(),
    }
}

/// The CSV (COPY format) of one series of one org over the seeded days.
fn series_csv(
    demo: &DemoSpec,
    org: &spec::OrgSpec,
    kind: SeriesKind,
    series: &spec::SeriesSpec,
    options: &SeedOptions,
    anomalies: &[spec::AnomalySpec],
    org_id: uuid::Uuid,
) -> String {
    let mut csv = String::new();
    let start = options.end - Duration::days(options.days as i64 - 1);
    let field = |v: &Option<String>| v.clone().unwrap_or_default();
    for (cell, share) in cells(demo, kind, options.scale) {
        for offset in 0..options.days {
            let date = start + Duration::days(offset as i64);
            let value = cell_value(demo, org, kind, series, &cell, share, date, options.end, anomalies);
            // Empty unquoted CSV fields are NULL in COPY: an unsplit dimension stays NULL.
            let _ = writeln!(
                csv,
                "{org_id},{date},{},{value},{},{},{},{},{},demo-seed",
                series.key,
                series.unit,
                field(&cell.region),
                field(&cell.segment),
                field(&cell.channel),
                field(&cell.product),
            );
        }
    }
    csv
}
