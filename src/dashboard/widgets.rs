//! The dashboard's widgets: trend (daily or weekly, forecast band, anomaly markers), the level's
//! bar, pie, stacked area and scatter charts, a sortable breakdown table and the daily detail table.

use leptos::prelude::*;

use super::{BreakdownRow, DashboardData};
use crate::charts::options::{bar_chart, pie_chart, scatter_chart, stacked_area_chart, trend_chart, weekly_chart};
use crate::analytics::narrative::flagged_day_text;
use crate::charts::EChart;
use crate::format::{format_relative, format_value};

#[component]
pub fn TrendWidget(data: DashboardData) -> impl IntoView {
    let weekly = RwSignal::new(false);
    let label = data.metric.label.clone();
    let unit = data.metric.unit.clone();
    let summary = data.trend_summary.clone();
    let forecast_note = data.forecast.as_ref().and_then(|f| {
        let last = f.points.last()?;
        let trust = match (f.holdout_mape, f.beats_naive()) {
            (Some(m), Some(true)) => format!(" On the last 28 days it was off by {:.1}% on average.", m * 100.0),
            (Some(m), _) => format!(" On the last 28 days it was off by {:.1}% on average, no better than repeating last week.", m * 100.0),
            _ => String::new(),
        };
        Some(format!(
            "Forecast for {}: {} (between {} and {}).{trust}",
            last.date,
            format_value(last.value, &unit),
            format_value(last.low, &unit),
            format_value(last.high, &unit)
        ))
    });
    let chart_data = data.clone();
    view! {
        <section class="widget widget-wide" aria-labelledby="trend-title">
            <header class="widget-head">
                <h2 id="trend-title">{format!("{label} over time")}</h2>
                <div class="toggle" role="group" aria-label="Grain">
                    <button type="button" aria-pressed=move || (!weekly.get()).to_string() on:click=move |_| weekly.set(false)>"Daily"</button>
                    <button type="button" aria-pressed=move || weekly.get().to_string() on:click=move |_| weekly.set(true)>"Weekly"</button>
                </div>
            </header>
            {move || {
                let data = chart_data.clone();
                let unit = data.metric.unit.clone();
                let summary = match &forecast_note {
                    Some(note) => format!("{summary} {note}"),
                    None => summary.clone(),
                };
                if weekly.get() {
                    let weeks: Vec<(String, f64)> = data.weekly.iter().filter_map(|w| Some((w.period.label.clone(), w.aggregate.value?))).collect();
                    let rows = weeks.iter().map(|(w, v)| view! { <tr><td>{w.clone()}</td><td class="num">{format_value(*v, &unit)}</td></tr> }).collect_view();
                    view! {
                        <EChart id="chart-trend".to_string() option=weekly_chart(&data.metric.label, &unit, &weeks) summary testid="trend-chart">
                            <table><caption>{format!("{}, weekly", data.metric.label)}</caption>
                                <thead><tr><th scope="col">"Week"</th><th scope="col">{data.metric.label.clone()}</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </EChart>
                    }.into_any()
                } else {
                    let option = trend_chart(&data.metric.label, &unit, &data.daily, &data.anomalies, data.forecast.as_ref());
                    let rows = data.daily.iter().map(|p| {
                        let flagged = data.anomalies.iter().find(|a| a.date == p.date).and_then(|a| Some(if a.level_shift.is_some() { "level shift" } else { a.severity?.as_str() }));
                        view! { <tr><td>{p.date.to_string()}</td><td class="num">{format_value(p.value, &unit)}</td><td>{flagged.unwrap_or("")}</td></tr> }
                    }).collect_view();
                    view! {
                        <EChart id="chart-trend".to_string() option summary testid="trend-chart">
                            <table><caption>{format!("{}, daily", data.metric.label)}</caption>
                                <thead><tr><th scope="col">"Date"</th><th scope="col">{data.metric.label.clone()}</th><th scope="col">"Anomaly"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </EChart>
                    }.into_any()
                }
            }}
            {(!data.anomalies.is_empty()).then(|| view! {
                <ul class="anomaly-list" aria-label="Anomalous days">
                    {data.anomalies.iter().map(|a| view! {
                        <li class=format!("severity-{}", a.severity.map_or("info", |s| s.as_str()))>
                            {format!("{}.", flagged_day_text(a, &data.metric.unit))}
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <crate::patterns::page::RecurringPatterns patterns=data.recurring.clone() heading="Recurring for this metric"/>
        </section>
    }
}

fn members(rows: &[BreakdownRow]) -> Vec<(String, f64)> {
    rows.iter().filter_map(|r| Some((r.member.clone(), r.value?))).collect()
}

/// A "Show data" table of the level's members and their values.
fn member_table(caption: String, level: &str, label: &str, unit: &str, rows: &[BreakdownRow]) -> impl IntoView + use<> {
    let body = rows
        .iter()
        .map(|r| view! { <tr><td>{r.member.clone()}</td><td class="num">{r.value.map(|v| format_value(v, unit)).unwrap_or_default()}</td></tr> })
        .collect_view();
    view! {
        <table><caption>{caption}</caption>
            <thead><tr><th scope="col">{level.to_string()}</th><th scope="col">{label.to_string()}</th></tr></thead>
            <tbody>{body}</tbody>
        </table>
    }
}

/// Bar, pie, stacked area and scatter for the current level; bars, slices and points drill.
#[component]
pub fn BreakdownCharts(data: DashboardData, on_select: Callback<String>) -> impl IntoView {
    let Some(level) = data.level else {
        return ().into_any();
    };
    let unit = data.metric.unit.as_str();
    let label = data.metric.label.as_str();
    let by = level.as_str();
    let values = members(&data.breakdown);
    let table = |caption: String| member_table(caption, level.label(), label, unit, &data.breakdown);

    let bar_table = table(format!("{label} by {by}"));
    let bar = view! {
        <section class="widget" aria-labelledby="bar-title">
            <h2 id="bar-title">{format!("{label} by {by}")}</h2>
            <EChart id="chart-bar".to_string() option=bar_chart(label, unit, &values) summary=data.breakdown_summary.clone() on_select testid="bar-chart">
                {bar_table}
            </EChart>
            <p class="hint">"Click a bar, slice or point to drill down, or use the links in the table."</p>
        </section>
    };

    let shares = if data.metric.aggregation == crate::analytics::Aggregation::Sum {
        let (dates, stacked) = data.stacked_by_member();
        let composition_summary = format!("Daily {} stacked by {by}, {} to {}.", label.to_lowercase(), data.start, data.end);
        let pie_table = table(format!("Share of {label} by {by}"));
        let area_table = table(format!("{label} by {by}, range total"));
        Some(view! {
            <section class="widget" aria-labelledby="pie-title">
                <h2 id="pie-title">{format!("Share of {} by {by}", label.to_lowercase())}</h2>
                <EChart id="chart-pie".to_string() option=pie_chart(label, &values) summary=data.breakdown_summary.clone() on_select testid="pie-chart">
                    {pie_table}
                </EChart>
            </section>
            <section class="widget widget-wide" aria-labelledby="area-title">
                <h2 id="area-title">{format!("{label} composition over time")}</h2>
                <EChart id="chart-area".to_string() option=stacked_area_chart(unit, &dates, &stacked) summary=composition_summary testid="area-chart">
                    {area_table}
                </EChart>
            </section>
        })
    } else {
        None
    };

    let scatter = data.versus.as_ref().map(|versus| {
        let points: Vec<(String, f64, f64)> = data.breakdown.iter().filter_map(|r| Some((r.member.clone(), r.value?, r.versus?))).collect();
        let rows = points
            .iter()
            .map(|(m, x, y)| view! { <tr><td>{m.clone()}</td><td class="num">{format_value(*x, unit)}</td><td class="num">{format_value(*y, &versus.unit)}</td></tr> })
            .collect_view();
        let summary = format!(
            "{} against {label} for each {by}: {}.",
            versus.label,
            points.iter().map(|(m, x, y)| format!("{m} {} / {}", format_value(*x, unit), format_value(*y, &versus.unit))).collect::<Vec<_>>().join(", ")
        );
        let caption = format!("{label} and {} by {by}", versus.label);
        let (label_text, versus_text, level_text) = (label.to_string(), versus.label.clone(), level.label());
        view! {
            <section class="widget" aria-labelledby="scatter-title">
                <h2 id="scatter-title">{format!("{} vs {label} by {by}", versus.label)}</h2>
                <EChart id="chart-scatter".to_string() option=scatter_chart(label, &versus.label, &points) summary on_select testid="scatter-chart">
                    <table><caption>{caption}</caption>
                        <thead><tr><th scope="col">{level_text}</th><th scope="col">{label_text}</th><th scope="col">{versus_text}</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </EChart>
            </section>
        }
    });
    view! { {bar} {shares} {scatter} }.into_any()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Member,
    Value,
    Change,
    Share,
}

/// Every value of the level with its total, change and share; headers sort, names drill.
#[component]
pub fn BreakdownTable(data: DashboardData) -> impl IntoView {
    let Some(level) = data.level else {
        return ().into_any();
    };
    let sort = RwSignal::new((SortKey::Value, true));
    let unit = data.metric.unit.clone();
    let rows = data.breakdown.clone();
    let query = data.query.clone();
    let header = move |key: SortKey, text: String| {
        let aria = move || match sort.get() {
            (k, true) if k == key => "descending",
            (k, false) if k == key => "ascending",
            _ => "none",
        };
        view! {
            <th scope="col" aria-sort=aria>
                <button type="button" class="sort" on:click=move |_| sort.update(|(k, desc)| {
                    if *k == key { *desc = !*desc } else { *k = key; *desc = true }
                })>{text}</button>
            </th>
        }
    };
    view! {
        <section class="widget widget-wide" aria-labelledby="table-title">
            <h2 id="table-title">{format!("{} by {}", data.metric.label, level.label().to_lowercase())}</h2>
            <table class="breakdown-table" data-testid="breakdown-table">
                <thead><tr>
                    {header(SortKey::Member, level.label().to_string())}
                    {header(SortKey::Value, data.metric.label.clone())}
                    {header(SortKey::Change, "Change".to_string())}
                    {header(SortKey::Share, "Share".to_string())}
                </tr></thead>
                <tbody>
                    {move || {
                        let (key, desc) = sort.get();
                        let mut sorted = rows.clone();
                        let number = |r: &BreakdownRow| match key {
                            SortKey::Value => r.value,
                            SortKey::Change => r.delta.relative,
                            SortKey::Share => r.share,
                            SortKey::Member => None,
                        };
                        sorted.sort_by(|a, b| {
                            let order = match key {
                                SortKey::Member => a.member.cmp(&b.member),
                                _ => number(a).unwrap_or(f64::NEG_INFINITY).total_cmp(&number(b).unwrap_or(f64::NEG_INFINITY)),
                            };
                            if desc { order.reverse() } else { order }
                        });
                        sorted.into_iter().map(|r| {
                            let href = query.drilled_into(&r.member).href();
                            view! {
                                <tr data-member=r.member.clone()>
                                    <th scope="row"><a href=href aria-label=format!("Drill into {}", r.member)>{r.member.clone()}</a></th>
                                    <td class="num" data-testid="row-value" data-raw=r.value.map(|v| v.to_string())>{r.value.map(|v| format_value(v, &unit)).unwrap_or_default()}</td>
                                    <td class="num">{format_relative(r.delta.relative)}</td>
                                    <td class="num">{r.share.map(|s| format!("{:.1}%", s * 100.0)).unwrap_or_default()}</td>
                                </tr>
                            }
                        }).collect_view()
                    }}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

/// The bottom of the drill path: one row per day for the fully narrowed selection.
#[component]
pub fn DetailTable(data: DashboardData) -> impl IntoView {
    let unit = data.metric.unit.clone();
    view! {
        <section class="widget widget-wide" aria-labelledby="detail-title">
            <h2 id="detail-title">{format!("{}, daily detail", data.metric.label)}</h2>
            <p class="chart-summary">{data.breakdown_summary.clone()}</p>
            <table class="detail-table" data-testid="detail-table">
                <thead><tr><th scope="col">"Date"</th><th scope="col">{data.metric.label.clone()}</th></tr></thead>
                <tbody>
                    {data.daily.iter().map(|p| view! {
                        <tr><td>{p.date.to_string()}</td><td class="num" data-testid="detail-value" data-raw=p.value.to_string()>{format_value(p.value, &unit)}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
