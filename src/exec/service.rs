//! Builds the board summary: period totals and deltas (read from the stored monthly and quarterly
//! aggregates, years composed from months), the biggest movements with their main driver, and
//! anomalous days, computed by the analytics module.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};
use sqlx::PgPool;

use super::{ExecCard, ExecQuery, ExecSummary, LinkedFact};
use crate::analytics::aggregate::{combine_parts, PartValue, WindowAggregate};
use crate::analytics::calendar::{next_period, period_containing, previous_period, same_period_last_year, Granularity, Period, PeriodAggregate};
use crate::analytics::delta::delta;
use crate::analytics::drivers::{decompose, DriverBreakdown, SliceTotals};
use crate::analytics::narrative::{metric_facts, Fact, FactInputs, MetricRef};
use crate::analytics::Aggregation;
use crate::auth::server::Scope;
use crate::auth::MetricAccess;
use crate::domain::access::MetricAccessMap;
use crate::dashboard::DashboardQuery;
use crate::db;
use crate::db::aggregates::Grain;
use crate::db::kpi::DimensionFilter;
use crate::db::recommendations::VisibleMetrics;
use crate::db::metrics::{MetricDef, MetricKind};
use crate::domain::recommendations::{Category, Recommendation, RecommendationFilter, RecommendationStatus};
use crate::error::AppError;
use crate::domain::Dimension;

/// Periods in a card's sparkline.
const SPARKLINE_PERIODS: usize = 12;
/// Movements the "what changed" list explains.
const TOP_MOVEMENTS: usize = 3;
/// Anomalous days listed at most.
const MAX_ANOMALIES: usize = 8;

/// [`exec_summary`] through the cache: reused while younger than a minute and built from data
/// ending on the org's current last day.
pub async fn cached_exec_summary(
    pool: &PgPool,
    cache: &super::cache::ExecCache,
    scope: &Scope,
    query: &ExecQuery,
) -> Result<ExecSummary, AppError> {
    // Keyed by role too: what a summary holds depends on what the role may see.
    let key = (scope.org_id, scope.role);
    let (as_of, version) = db::kpi::data_stamp(pool, scope.org_id).await?;
    let visible = crate::recommendations::service::visible_metrics(pool, scope).await?;
    let mut summary = match as_of.and_then(|day| cache.get(key, query, day, version)) {
        // Decisions change which anomalies are open at any moment: they are never served from the cache.
        Some(mut hit) => {
            let current = Period { start: hit.period_start, end: hit.period_end, label: hit.period_label.clone() };
            let kpis: Vec<String> = hit.cards.iter().map(|c| c.metric_key.clone()).collect();
            hit.anomalies = stored_anomalies(pool, scope.org_id, &visible, &current, &kpis).await?;
            hit
        }
        None => {
            let built = exec_summary(pool, scope, query).await?;
            cache.put(key, query, version, &built);
            built
        }
    };
    // Decisions change the count at any moment: it is never served from the cache.
    summary.open_recommendations = Some(db::recommendations::open_count(pool, scope.org_id, Some(&visible)).await? as u32);
    Ok(summary)
}

/// Per metric, its stored period values of `grain` from the period holding `from` to `to`, keyed
/// by period start: months and quarters as stored, years composed from their months.
async fn stored_periods(
    pool: &PgPool,
    org_id: uuid::Uuid,
    grain: Granularity,
    metrics: &[MetricDef],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<String, BTreeMap<NaiveDate, PartValue>>, AppError> {
    let stored_grain = match grain {
        Granularity::Week => Grain::Week,
        Granularity::Quarter => Grain::Quarter,
        Granularity::Month | Granularity::Year => Grain::Month,
    };
    let from = period_containing(from, grain).start;
    let mut out: HashMap<String, BTreeMap<NaiveDate, PartValue>> = HashMap::new();
    for row in db::aggregates::totals(pool, org_id, stored_grain, from, to).await? {
        let part = PartValue { value: row.value, days_present: row.days_present.max(0) as u32 };
        out.entry(row.metric_key).or_default().insert(row.period_start, part);
    }
    if grain != Granularity::Year {
        return Ok(out);
    }
    let rules: HashMap<&str, Aggregation> = metrics.iter().map(|m| (m.key.as_str(), m.aggregation)).collect();
    Ok(out
        .into_iter()
        .map(|(key, months)| {
            let rule = rules.get(key.as_str()).copied().unwrap_or(Aggregation::Sum);
            let mut years: BTreeMap<NaiveDate, Vec<PartValue>> = BTreeMap::new();
            for (start, part) in months {
                years.entry(period_containing(start, Granularity::Year).start).or_default().push(part);
            }
            let years = years
                .into_iter()
                .filter_map(|(start, parts)| {
                    let days_present = parts.iter().map(|p| p.days_present).sum();
                    Some((start, PartValue { value: combine_parts(rule, &parts)?, days_present }))
                })
                .collect();
            (key, years)
        })
        .collect())
}

/// A card's sparkline: every period from the first with data (not before `first`) to `current`,
/// a period without data shown as a gap.
fn sparkline(periods: &BTreeMap<NaiveDate, PartValue>, first: &Period, current: &Period, grain: Granularity) -> Vec<PeriodAggregate> {
    let Some(first_with_data) = periods.range(first.start..=current.start).next().map(|(start, _)| *start) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut next = Some(period_containing(first_with_data, grain));
    while let Some(period) = next.filter(|p| p.start <= current.start) {
        let part = periods.get(&period.start);
        let days_expected = (period.end - period.start).num_days() as u32 + 1;
        let aggregate = WindowAggregate {
            start: period.start,
            end: period.end,
            value: part.map(|p| p.value),
            days_present: part.map_or(0, |p| p.days_present),
            days_expected,
            missing_days: Vec::new(),
        };
        next = next_period(&period, grain);
        out.push(PeriodAggregate { period, aggregate });
    }
    out
}

/// Restricted metrics the role may not see are left out; anonymised ones keep their totals but
/// get no driver breakdown.
#[tracing::instrument(name = "exec_summary", skip_all, fields(grain = ?query.grain))]
pub async fn exec_summary(pool: &PgPool, scope: &Scope, query: &ExecQuery) -> Result<ExecSummary, AppError> {
    let (metrics, access) = scope.metrics(pool, MetricKind::Kpi).await?;
    let as_of = db::kpi::latest_day(pool, scope.org_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{} has no KPI data yet", scope.org_name)))?;
    let grain = query.grain;
    let last_complete = {
        let containing = period_containing(as_of, grain);
        if containing.end == as_of { containing } else { previous_period(&containing, grain) }
    };
    let current = match query.period {
        None => last_complete.clone(),
        Some(day) => {
            let chosen = period_containing(day, grain);
            if chosen.end > as_of {
                return Err(AppError::BadRequest(format!("{} is not complete yet: data runs to {as_of}", chosen.label)));
            }
            chosen
        }
    };
    let previous = previous_period(&current, grain);
    let last_year = same_period_last_year(&current, grain);
    let mut first = current.clone();
    for _ in 1..SPARKLINE_PERIODS {
        first = previous_period(&first, grain);
    }
    let history_start = first.start.min(last_year.start).min(current.start - Duration::days(120));
    let stored = stored_periods(pool, scope.org_id, grain, &metrics, history_start, current.end).await?;
    let mut cards = Vec::new();
    for m in &metrics {
        let periods = stored.get(&m.key);
        let value_of = |p: &Period| periods.and_then(|ps| ps.get(&p.start)).map(|v| v.value);
        let now = value_of(&current);
        cards.push(ExecCard {
            metric_key: m.key.clone(),
            label: m.label.clone(),
            unit: m.unit.clone(),
            direction: m.direction,
            vs_previous: delta(now, value_of(&previous), m.direction),
            vs_last_year: delta(now, value_of(&last_year), m.direction),
            history: periods.map(|ps| sparkline(ps, &first, &current, grain)).unwrap_or_default(),
            dashboard_href: DashboardQuery::range_href(&m.key, current.start, current.end, DimensionFilter::default()),
        });
    }

    let what_changed = what_changed(pool, scope, &access, &metrics, &cards, &current, &previous).await?;
    let mut choices = Vec::new();
    let mut p = last_complete;
    while p.end >= history_start && choices.len() < 24 {
        choices.push((p.label.clone(), p.start));
        p = previous_period(&p, grain);
    }
    Ok(ExecSummary {
        org_name: scope.org_name.clone(),
        as_of,
        query: query.clone(),
        period_label: current.label.clone(),
        period_start: current.start,
        period_end: current.end,
        previous_label: previous.label,
        last_year_label: last_year.label,
        choices,
        cards,
        what_changed,
        anomalies: stored_anomalies(pool, scope.org_id, &VisibleMetrics::from(&access), &current, &metrics.iter().map(|m| m.key.clone()).collect::<Vec<_>>()).await?,
        recurring: crate::patterns::service::recurring(pool, scope.org_id, &metrics, &access, None, MAX_RECURRING).await?,
        open_recommendations: None,
    })
}

/// Recurring patterns listed at most.
const MAX_RECURRING: i64 = 6;

/// The open anomaly findings on the board's KPIs in the period that the viewer may see, most
/// severe and largest first: what the models stored and nobody has accepted or dismissed yet.
async fn stored_anomalies(pool: &PgPool, org_id: uuid::Uuid, visible: &VisibleMetrics, period: &Period, kpis: &[String]) -> Result<Vec<LinkedFact>, AppError> {
    let items = period_findings(pool, org_id, visible, period, kpis, Some(RecommendationStatus::Open)).await?;
    Ok(items.into_iter().take(MAX_ANOMALIES).map(anomaly_fact).collect())
}

/// The anomaly findings dated in `period` on `kpis` that `visible` allows, in `status` (any when
/// `None`), most severe and largest first.
pub async fn period_findings(
    pool: &PgPool,
    org_id: uuid::Uuid,
    visible: &VisibleMetrics,
    period: &Period,
    kpis: &[String],
    status: Option<RecommendationStatus>,
) -> Result<Vec<Recommendation>, AppError> {
    let filter = RecommendationFilter { status, category: Some(Category::Anomaly), ..RecommendationFilter::default() };
    let mut items: Vec<Recommendation> = db::recommendations::list_visible(pool, org_id, &filter, None, 500, Some(visible))
        .await?
        .into_iter()
        .filter(|r| r.evidence.period_end >= period.start && r.evidence.period_end <= period.end && kpis.contains(&r.evidence.metric_key))
        .collect();
    items.sort_by(|a, b| b.severity.cmp(&a.severity).then(relative_miss(b).total_cmp(&relative_miss(a))));
    Ok(items)
}

fn relative_miss(r: &Recommendation) -> f64 {
    match (r.evidence.observed, r.evidence.expected) {
        (Some(o), Some(e)) if e != 0.0 => ((o - e) / e).abs(),
        _ => 0.0,
    }
}

/// A stored finding as a board fact: the slice goes in the label ("Revenue in EMEA").
pub fn anomaly_fact(r: Recommendation) -> LinkedFact {
    let e = r.evidence;
    let slice: Vec<&str> = e.dimensions.iter().map(|(_, v)| v.as_str()).collect();
    let label = if slice.is_empty() { e.metric_label.clone() } else { format!("{} in {}", e.metric_label, slice.join(" / ")) };
    let (observed, expected) = (e.observed.unwrap_or(0.0), e.expected.unwrap_or(0.0));
    let (band_low, band_high) = e.band.unwrap_or((expected, expected));
    let metric = MetricRef { key: e.metric_key, label, unit: e.unit };
    let fact = match e.level_shift {
        Some(shift) => Fact::LevelShift { metric, date: e.period_end, shift, severity: r.severity },
        None => Fact::Anomaly { metric, date: e.period_end, observed, expected, band_low, band_high, severity: r.severity },
    };
    LinkedFact { sentence: fact.sentence(), href: e.chart_href, fact }
}

pub fn metric_ref(m: &MetricDef) -> MetricRef {
    MetricRef { key: m.key.clone(), label: m.label.clone(), unit: m.unit.clone() }
}

/// The largest relative movements against the previous period, each with its main driver across
/// the four dimensions (additive metrics only: rates do not split into parts).
async fn what_changed(
    pool: &PgPool,
    scope: &Scope,
    access: &MetricAccessMap,
    metrics: &[MetricDef],
    cards: &[ExecCard],
    current: &Period,
    previous: &Period,
) -> Result<Vec<LinkedFact>, AppError> {
    let mut ranked: Vec<(&MetricDef, &ExecCard)> = metrics.iter().zip(cards).filter(|(_, c)| c.vs_previous.relative.is_some()).collect();
    ranked.sort_by(|a, b| {
        let size = |c: &ExecCard| c.vs_previous.relative.map_or(0.0, f64::abs);
        size(b.1).total_cmp(&size(a.1))
    });
    let mut out = Vec::new();
    for (m, card) in ranked.into_iter().take(TOP_MOVEMENTS) {
        let mut drivers: Vec<DriverBreakdown> = Vec::new();
        if m.aggregation == Aggregation::Sum && access.access(&m.key) == MetricAccess::Full {
            for d in Dimension::ALL {
                let rows = db::kpi::member_period_totals(pool, scope.org_id, &m.key, d, previous.start, current.start, current.end).await?;
                let slices: Vec<SliceTotals> = rows
                    .into_iter()
                    .map(|r| SliceTotals { value: r.member.unwrap_or_else(|| "(none)".into()), previous: r.previous, current: r.current })
                    .collect();
                drivers.push(decompose(d.as_str(), &slices));
            }
        }
        let facts = metric_facts(&FactInputs {
            metric: metric_ref(m),
            change: Some((&current.label, &previous.label, &card.vs_previous)),
            drivers: &drivers,
            anomalies: &[],
            trend: None,
            forecast: None,
        });
        for fact in facts {
            let href = match &fact {
                Fact::Driver { dimension, value, .. } => {
                    let mut filter = DimensionFilter::default();
                    if let Some(d) = Dimension::parse(dimension) {
                        filter.values_mut(d).push(value.clone());
                    }
                    DashboardQuery::range_href(&m.key, previous.start, current.end, filter)
                }
                _ => DashboardQuery::range_href(&m.key, previous.start, current.end, DimensionFilter::default()),
            };
            out.push(LinkedFact { sentence: fact.sentence(), href, fact });
        }
    }
    Ok(out)
}
