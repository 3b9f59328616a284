//! One KPI card: value, change against the previous period (arrow, percentage, colour by
//! direction), and the daily line chart with its summary and data table.

use leptos::prelude::*;

use super::KpiCard;
use crate::analytics::delta::ChangeAssessment;
use crate::charts::DailyLineChart;
use crate::format::{format_relative, format_value};

#[component]
pub fn KpiCardView(card: KpiCard, period_days: u32) -> impl IntoView {
    let delta = card.comparison.delta;
    let value_text = delta.current.map(|v| format_value(v, &card.unit)).unwrap_or_else(|| "No data".into());
    let (arrow, tone, judgement) = match (delta.relative.or(delta.absolute), delta.assessment) {
        (_, ChangeAssessment::Unknown) => ("", "neutral", "no comparison"),
        (_, ChangeAssessment::Unchanged) => ("▬", "neutral", "unchanged"),
        (Some(r), assessment) => (
            if r >= 0.0 { "▲" } else { "▼" },
            if assessment == ChangeAssessment::Good { "good" } else { "bad" },
            if assessment == ChangeAssessment::Good { "good" } else { "bad" },
        ),
        (None, _) => ("", "neutral", "no comparison"),
    };
    let change_text = format_relative(delta.relative);
    let heading_id = format!("kpi-{}-label", card.metric_key);
    let labelled_by = heading_id.clone();
    view! {
        <article class="kpi-card" data-metric=card.metric_key.clone() aria-labelledby=labelled_by>
            <h2 id=heading_id class="kpi-label">{card.label.clone()}</h2>
            <p class="kpi-value" data-testid="kpi-value">{value_text}</p>
            <p class=format!("kpi-delta {tone}") data-testid="kpi-delta">
                <span aria-hidden="true">{arrow}" "</span>
                {change_text}
                <span class="visually-hidden">{format!(" ({judgement})")}</span>
                <span class="kpi-delta-base">{format!(" vs previous {period_days} days")}</span>
            </p>
            <DailyLineChart
                id=format!("chart-{}", card.metric_key)
                label=card.label
                unit=card.unit
                series=card.series
                summary=card.summary
            />
        </article>
    }
}
