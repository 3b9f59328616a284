//! Builds a dashboard view: validates the URL's choices against the org's catalogue, runs the
//! queries, and hands every number to the analytics module.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{BreakdownRow, Crumb, DashboardData, DashboardQuery, MetricOption, RangePreset};
use crate::analytics::aggregate::{aggregate_window, combine};
use crate::analytics::anomaly::{score_series, Severity};
use crate::analytics::calendar::{aggregate_by, Granularity, PeriodAggregate};
use crate::analytics::delta::delta;
use crate::analytics::forecast::forecast;
use crate::analytics::narrative::{breakdown_sentence, range_change_sentence};
use crate::analytics::{AnalyticsConfig, Aggregation, DailyValue};
use crate::auth::server::Scope;
use crate::auth::MetricAccess;
use crate::domain::access::MetricAccessMap;
use crate::db;
use crate::db::aggregates::Grain;
use crate::db::kpi::{DimensionFilter, FactTable, MemberDayValue};
use crate::db::metrics::{MetricDef, MetricKind};
use crate::error::AppError;
use crate::domain::Dimension;

/// Days of history fetched before the range, so the first day in it can be scored and forecast.
const HISTORY_DAYS: i64 = 182;

/// What every view of one org starts from, whatever its query: the KPIs the role may see with
/// their access, the last day with data and each dimension's values. A saved dashboard loads it
/// once for all its widgets instead of once per widget.
pub struct OrgContext {
    catalogue: Vec<MetricDef>,
    access: MetricAccessMap,
    as_of: NaiveDate,
    dimension_values: BTreeMap<Dimension, Vec<String>>,
}

impl OrgContext {
    pub async fn load(pool: &PgPool, scope: &Scope) -> Result<OrgContext, AppError> {
        // KPIs first (the default metric is the first), then the engagement signals.
        let (mut catalogue, access) = scope.metrics(pool, MetricKind::Kpi).await?;
        catalogue.extend(scope.metrics(pool, MetricKind::Signal).await?.0);
        let as_of = db::kpi::latest_day(pool, scope.org_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("{} has no KPI data yet", scope.org_name)))?;
        let mut dimension_values: BTreeMap<Dimension, Vec<String>> = BTreeMap::new();
        for (d, v) in db::kpi::dimension_values(pool, scope.org_id).await? {
            dimension_values.entry(d).or_default().push(v);
        }
        Ok(OrgContext { catalogue, access, as_of, dimension_values })
    }
}

/// A metric the role may not see is a 403 naming it; an ANONYMISED metric seen as totals only
/// refuses filters, drills and the scatter, and shows no breakdown.
pub async fn dashboard(pool: &PgPool, scope: &Scope, query: DashboardQuery, config: &AnalyticsConfig) -> Result<DashboardData, AppError> {
    let context = OrgContext::load(pool, scope).await?;
    dashboard_in(pool, scope, &context, query, config).await
}

/// [`dashboard`] with the org's context already loaded.
#[tracing::instrument(name = "dashboard", skip_all, fields(metric = query.metric.as_deref().unwrap_or("")))]
pub async fn dashboard_in(pool: &PgPool, scope: &Scope, context: &OrgContext, query: DashboardQuery, config: &AnalyticsConfig) -> Result<DashboardData, AppError> {
    let OrgContext { catalogue, access, as_of, dimension_values } = context;
    let as_of = *as_of;
    let metrics: Vec<MetricOption> = catalogue
        .iter()
        .map(|m| MetricOption {
            key: m.key.clone(),
            label: m.label.clone(),
            unit: m.unit.clone(),
            direction: m.direction,
            aggregation: m.aggregation,
            signal: m.kind == MetricKind::Signal,
        })
        .collect();

    let find_metric = |key: &str| {
        if access.contains(key) && access.access(key) == MetricAccess::Hidden {
            return Err(AppError::AccessDenied(format!("the metric {key:?} is restricted: your role ({}) may not see it", scope.role.as_str())));
        }
        metrics.iter().find(|m| m.key == key).cloned().ok_or_else(|| {
            AppError::BadRequest(format!(
                "unknown metric {key:?}; this org has: {}",
                metrics.iter().map(|m| m.key.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })
    };
    let metric = match &query.metric {
        Some(key) => find_metric(key)?,
        None => metrics.first().cloned().ok_or_else(|| AppError::NotFound("no KPIs are defined".into()))?,
    };
    let versus = query.versus.as_deref().map(find_metric).transpose()?;
    // The totals-only rule covers every metric the request touches: the scatter shows the
    // comparison metric per slice, so an anonymised one there is refused like a drill on it.
    let totals_only = std::iter::once(&metric).chain(versus.as_ref()).find(|m| access.access(&m.key) == MetricAccess::TotalsOnly);
    let anonymised = totals_only.is_some();
    if let Some(m) = totals_only.filter(|_| !query.filter.is_empty() || !query.drill.is_empty() || versus.is_some()) {
        return Err(AppError::AccessDenied(format!(
            "{} is anonymised for your role: only org-wide totals are shown, without filters, drill-down or comparison",
            m.label
        )));
    }
    let known = |d: Dimension, value: &str| dimension_values.get(&d).is_some_and(|vs| vs.iter().any(|v| v == value));
    for d in Dimension::ALL {
        if let Some(unknown) = query.filter.values(d).iter().find(|v| !known(d, v)) {
            return Err(AppError::BadRequest(format!("{} {unknown:?} does not exist in this org's data", d.label())));
        }
    }
    // The drill path narrows the filters one dimension at a time, keeping every other filter.
    let mut selection = query.filter.clone();
    let mut breadcrumb = vec![Crumb { label: format!("All {}", Dimension::Region.plural()), depth: 0 }];
    for (step, value) in query.drill.iter().enumerate() {
        let d = Dimension::ALL[step];
        if !known(d, value) {
            return Err(AppError::BadRequest(format!("{} {value:?} does not exist in this org's data", d.label())));
        }
        selection = selection
            .narrowed(d, value)
            .ok_or_else(|| AppError::BadRequest(format!("{} {value:?} is excluded by the {} filter", d.label(), d.as_str())))?;
        breadcrumb.push(Crumb { label: value.clone(), depth: step + 1 });
    }

    let (start, end) = query.range_for(as_of)?;
    let length = (end - start).num_days() + 1;
    let (previous_start, previous_end) = (start - Duration::days(length), start - Duration::days(1));
    let history_start = previous_start.min(start - Duration::days(HISTORY_DAYS));

    let totals = db::kpi::daily_by(pool, scope.org_id, fact_table(&metric), &metric.key, metric.aggregation, &selection, None, history_start, end).await?;
    let history: Vec<DailyValue> = totals.iter().map(|r| DailyValue::new(r.day, r.value)).collect();
    let in_range = |d: NaiveDate| d >= start && d <= end;
    let total = delta(
        aggregate_window(&history, start, end, metric.aggregation).value,
        aggregate_window(&history, previous_start, previous_end, metric.aggregation).value,
        metric.direction,
    );
    let daily: Vec<DailyValue> = history.iter().copied().filter(|p| in_range(p.date)).collect();

    let anomalies: Vec<crate::analytics::anomaly::AnomalyScore> = tracing::info_span!("analytics", work = "anomaly_scan", points = history.len())
        .in_scope(|| score_series(&history, &config.anomaly))
        .into_iter()
        .filter(|s| in_range(s.date) && s.severity >= Some(Severity::Warning))
        .collect();
    let forecast = (end == as_of)
        .then(|| crate::analytics::anomaly::dense(&history))
        .flatten()
        .and_then(|(first, values)| tracing::info_span!("analytics", work = "forecast", points = values.len()).in_scope(|| forecast(first, &values, &config.forecast).ok()));

    let level = if anonymised { None } else { query.level() };
    let breakdown = match level {
        Some(d) => {
            breakdown(pool, scope.org_id, &metric, versus.as_ref(), &selection, d, (start, end), (previous_start, previous_end)).await?
        }
        None => Vec::new(),
    };
    let range_label = match query.range {
        RangePreset::Custom => format!("{start} to {end}"),
        preset => format!("the {}", preset.label().to_lowercase()),
    };
    let previous_label = format!("the {length} days before");
    let trend_summary = range_change_sentence(&metric.label, &metric.unit, &range_label, &previous_label, &total, anomalies.len());
    let breakdown_summary = match level {
        Some(d) => breakdown_sentence(
            &metric.label,
            &metric.unit,
            d.plural(),
            &breakdown.iter().map(|r| (r.member.clone(), r.value)).collect::<Vec<_>>(),
        ),
        None if anonymised => format!("{} is anonymised for your role: org-wide daily totals only, no breakdown.", metric.label),
        None => format!("{} by day for the selected {}.", metric.label, breadcrumb.iter().skip(1).map(|c| c.label.as_str()).collect::<Vec<_>>().join(" / ")),
    };

    let recurring = crate::patterns::service::recurring(pool, scope.org_id, catalogue, access, Some(std::slice::from_ref(&metric.key)), 10).await?;
    Ok(DashboardData {
        recurring,
        org_name: scope.org_name.clone(),
        anonymised,
        as_of,
        generated_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        weekly: weekly_view(pool, scope.org_id, &metric, &selection, &daily, (start, end)).await?,
        query,
        metrics,
        dimension_values: dimension_values.clone().into_iter().collect(),
        metric,
        versus,
        start,
        end,
        previous_start,
        previous_end,
        total,
        daily,
        anomalies,
        forecast,
        breadcrumb,
        level,
        breakdown,
        trend_summary,
        breakdown_summary,
    })
}

/// Where a metric's daily facts are.
fn fact_table(metric: &MetricOption) -> FactTable {
    if metric.signal {
        FactTable::Signal
    } else {
        FactTable::Kpi
    }
}

/// Ranges at least this long read their whole weeks from the stored weekly aggregates.
const LONG_RANGE_DAYS: i64 = 180;

/// The stored aggregate slice a selection is, if any: the total, or one value of one dimension.
fn stored_slice(selection: &DimensionFilter) -> Option<(&'static str, String)> {
    let chosen: Vec<(Dimension, &Vec<String>)> = Dimension::ALL.iter().map(|d| (*d, selection.values(*d))).filter(|(_, v)| !v.is_empty()).collect();
    match chosen.as_slice() {
        [] => Some(("total", String::new())),
        [(d, values)] if values.len() == 1 => Some((d.as_str(), values[0].clone())),
        _ => None,
    }
}

/// The weekly view of the trend. In a long range its whole weeks are the stored weekly aggregates
/// (the numbers every load maintains); the partial weeks at either end, short ranges and
/// selections no aggregate holds (several values, several dimensions) combine the days shown.
async fn weekly_view(
    pool: &PgPool,
    org_id: Uuid,
    metric: &MetricOption,
    selection: &DimensionFilter,
    daily: &[DailyValue],
    (start, end): (NaiveDate, NaiveDate),
) -> Result<Vec<PeriodAggregate>, AppError> {
    let mut weeks = aggregate_by(daily, Granularity::Week, metric.aggregation);
    // Period aggregates are kept for KPIs only.
    let Some((dimension, member)) = stored_slice(selection).filter(|_| !metric.signal && (end - start).num_days() + 1 >= LONG_RANGE_DAYS) else {
        return Ok(weeks);
    };
    let stored: HashMap<NaiveDate, (f64, i32)> = db::aggregates::slice(pool, org_id, Grain::Week, &metric.key, (dimension, &member), start, end)
        .await?
        .into_iter()
        .map(|p| (p.period_start, (p.value, p.days_present)))
        .collect();
    for week in weeks.iter_mut().filter(|w| w.period.start >= start && w.period.end <= end) {
        let found = stored.get(&week.period.start);
        week.aggregate.value = found.map(|p| p.0);
        week.aggregate.days_present = found.map_or(0, |p| p.1.max(0) as u32);
    }
    Ok(weeks)
}

/// One row per value of `by` within `selection`: the range total, the previous range's, the
/// change, the share of the total (additive metrics), the daily values, and the scatter metric.
#[allow(clippy::too_many_arguments)]
async fn breakdown(
    pool: &PgPool,
    org_id: Uuid,
    metric: &MetricOption,
    versus: Option<&MetricOption>,
    selection: &DimensionFilter,
    by: Dimension,
    (start, end): (NaiveDate, NaiveDate),
    (previous_start, previous_end): (NaiveDate, NaiveDate),
) -> Result<Vec<BreakdownRow>, AppError> {
    let rows = db::kpi::daily_by(pool, org_id, fact_table(metric), &metric.key, metric.aggregation, selection, Some(by), previous_start, end).await?;
    let members = group_by_member(&rows);
    let versus_totals: BTreeMap<String, f64> = match versus {
        Some(v) => {
            let rows = db::kpi::daily_by(pool, org_id, fact_table(v), &v.key, v.aggregation, selection, Some(by), start, end).await?;
            group_by_member(&rows)
                .into_iter()
                .filter_map(|(member, days)| Some((member, combine(v.aggregation, &days.iter().map(|p| p.value).collect::<Vec<_>>())?)))
                .collect()
        }
        None => BTreeMap::new(),
    };
    let mut out: Vec<BreakdownRow> = members
        .into_iter()
        .map(|(member, days)| {
            let value = aggregate_window(&days, start, end, metric.aggregation).value;
            let previous = aggregate_window(&days, previous_start, previous_end, metric.aggregation).value;
            BreakdownRow {
                versus: versus_totals.get(&member).copied(),
                daily: days.into_iter().filter(|p| p.date >= start && p.date <= end).collect(),
                delta: delta(value, previous, metric.direction),
                member,
                value,
                previous,
                share: None,
            }
        })
        .collect();
    if metric.aggregation == Aggregation::Sum {
        let total: f64 = out.iter().filter_map(|r| r.value).sum();
        for row in &mut out {
            row.share = row.value.filter(|_| total != 0.0).map(|v| v / total);
        }
    }
    out.sort_by(|a, b| b.value.unwrap_or(f64::NEG_INFINITY).total_cmp(&a.value.unwrap_or(f64::NEG_INFINITY)));
    Ok(fold_tail(out, MAX_BREAKDOWN_MEMBERS, metric))
}

/// The largest members listed one by one; a dimension with more values than this shows the rest
/// as one "Other" row, so a response stays small whatever the data holds.
pub const MAX_BREAKDOWN_MEMBERS: usize = 25;

/// Keeps the first `limit` rows (already sorted, largest first) and folds the rest into one
/// "Other (N)" row: summed for additive metrics and stocks, averaged for rates. Its daily values
/// are left out and it has no share of its own beyond its value's.
fn fold_tail(mut rows: Vec<BreakdownRow>, limit: usize, metric: &MetricOption) -> Vec<BreakdownRow> {
    if rows.len() <= limit {
        return rows;
    }
    let tail = rows.split_off(limit);
    let rule = if metric.aggregation == Aggregation::Avg { Aggregation::Avg } else { Aggregation::Sum };
    let fold = |pick: fn(&BreakdownRow) -> Option<f64>| combine(rule, &tail.iter().filter_map(pick).collect::<Vec<_>>());
    let value = fold(|r| r.value);
    let previous = fold(|r| r.previous);
    let total_share: Option<f64> = tail.iter().map(|r| r.share).sum();
    rows.push(BreakdownRow {
        member: format!("Other ({} more)", tail.len()),
        value,
        previous,
        delta: delta(value, previous, metric.direction),
        share: total_share,
        daily: Vec::new(),
        versus: None,
    });
    rows
}

fn group_by_member(rows: &[MemberDayValue]) -> BTreeMap<String, Vec<DailyValue>> {
    let mut members: BTreeMap<String, Vec<DailyValue>> = BTreeMap::new();
    for r in rows {
        let name = r.member.clone().unwrap_or_else(|| "(none)".to_string());
        members.entry(name).or_default().push(DailyValue::new(r.day, r.value));
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::Direction;

    fn row(member: &str, value: f64) -> BreakdownRow {
        BreakdownRow {
            member: member.into(),
            value: Some(value),
            previous: Some(value / 2.0),
            delta: delta(Some(value), Some(value / 2.0), Direction::HigherIsBetter),
            share: Some(0.01),
            daily: vec![DailyValue::new(NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"), value)],
            versus: None,
        }
    }

    #[test]
    fn breakdowns_keep_the_largest_members_and_fold_the_rest_into_other() {
        let metric = MetricOption { key: "revenue".into(), label: "Revenue".into(), unit: "USD".into(), direction: Direction::HigherIsBetter, aggregation: Aggregation::Sum, signal: false };
        let rows: Vec<BreakdownRow> = (0..40).map(|i| row(&format!("m{i}"), 100.0 - i as f64)).collect();
        let folded = fold_tail(rows, MAX_BREAKDOWN_MEMBERS, &metric);
        assert_eq!(folded.len(), MAX_BREAKDOWN_MEMBERS + 1);
        let other = folded.last().expect("other row");
        assert_eq!(other.member, "Other (15 more)");
        let expected: f64 = (25..40).map(|i| 100.0 - i as f64).sum();
        assert_eq!(other.value, Some(expected));
        assert_eq!(other.previous, Some(expected / 2.0));
        assert!(other.daily.is_empty());
        let rate = MetricOption { aggregation: Aggregation::Avg, ..metric.clone() };
        let folded = fold_tail((0..30).map(|i| row(&format!("m{i}"), 10.0)).collect(), MAX_BREAKDOWN_MEMBERS, &rate);
        assert_eq!(folded.last().and_then(|r| r.value), Some(10.0), "rates average");
        assert_eq!(fold_tail(vec![row("a", 1.0)], MAX_BREAKDOWN_MEMBERS, &metric).len(), 1);
    }
}
