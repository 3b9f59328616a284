//! Builds the executive overview from the catalogue and daily totals via the analytics module.
//! No math here beyond grouping rows: windows, deltas and sentences come from `analytics`.

use std::collections::HashMap;

use chrono::Duration;
use sqlx::PgPool;

use super::{ExecOverview, KpiCard, PeriodPreset};
use crate::analytics::aggregate::trailing_window;
use crate::analytics::delta::last_n_vs_previous_n;
use crate::analytics::narrative::period_change_sentence;
use crate::analytics::DailyValue;
use crate::auth::server::Scope;
use crate::db;
use crate::db::metrics::MetricKind;
use crate::error::AppError;

/// Totals only, so ANONYMISED metrics are shown to every role that may see them at all.
pub async fn exec_overview(pool: &PgPool, scope: &Scope, period: PeriodPreset) -> Result<ExecOverview, AppError> {
    let (metrics, _) = scope.metrics(pool, MetricKind::Kpi).await?;
    let org_name = scope.org_name.clone();
    let Some(as_of) = db::kpi::latest_day(pool, scope.org_id).await? else {
        return Ok(ExecOverview { org_name, as_of: None, period, cards: Vec::new() });
    };

    let days = period.days();
    let (current_start, _) = trailing_window(as_of, days);
    let previous_start = current_start - Duration::days(days as i64);
    let rows = db::kpi::daily_totals(pool, scope.org_id, previous_start, as_of).await?;

    let mut by_metric: HashMap<String, Vec<DailyValue>> = HashMap::new();
    for row in rows {
        by_metric.entry(row.metric_key).or_default().push(DailyValue::new(row.day, row.value));
    }

    let cards = metrics
        .into_iter()
        .map(|metric| {
            let series = by_metric.remove(&metric.key).unwrap_or_default();
            let comparison = last_n_vs_previous_n(&series, as_of, days, metric.aggregation, metric.direction);
            let summary = period_change_sentence(&metric.label, &metric.unit, days, &comparison);
            let current: Vec<DailyValue> = series.into_iter().filter(|p| p.date >= current_start).collect();
            KpiCard {
                metric_key: metric.key,
                label: metric.label,
                unit: metric.unit,
                direction: metric.direction,
                comparison,
                series: current,
                summary,
            }
        })
        .collect();

    Ok(ExecOverview { org_name, as_of: Some(as_of), period, cards })
}
