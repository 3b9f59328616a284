//! One saved widget as a viewer sees it: a metric card, a chart (line with the forecast band and
//! anomaly markers, area, bar, pie, scatter), a breakdown table or Markdown text; each chart with
//! its summary sentence and "Show data" table, as on `/dashboard`. Bars, slices and points open
//! `/dashboard` drilled into what was clicked, except behind a public link.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use super::{ChartType, WidgetContent, WidgetType, WidgetView};
use crate::analytics::Aggregation;
use crate::charts::options::{bar_chart, pie_chart, scatter_chart, stacked_area_chart, trend_chart};
use crate::charts::EChart;
use crate::dashboard::{BreakdownRow, DashboardData};
use crate::format::{format_relative, format_value};

/// `index` makes the widget's element ids unique on the page; `public` drops links into the app.
#[component]
pub fn SavedWidget(widget: WidgetView, index: usize, public: bool) -> impl IntoView {
    let title_id = format!("w{index}-title");
    let labelled_by = title_id.clone();
    let spec = widget.spec.clone();
    let style = format!("grid-column: {} / span {}; grid-row: {} / span {}; --h: {};", spec.x + 1, spec.w, spec.y + 1, spec.h, spec.h);
    let body = match widget.content {
        WidgetContent::Withheld(message) => view! { <p class="notice" role="note" data-testid="widget-withheld">{message}</p> }.into_any(),
        WidgetContent::Failed(message) => view! { <p class="notice" role="note">{format!("This widget cannot be shown: {message}")}</p> }.into_any(),
        WidgetContent::Text(html) => view! { <div class="markdown" inner_html=html></div> }.into_any(),
        WidgetContent::Data(data) => data_view(spec.widget_type, spec.chart_type, *data, index, public),
    };
    view! {
        <section class="widget saved-widget" style=style aria-labelledby=labelled_by
            data-testid="saved-widget" data-type=spec.widget_type.as_str() data-x=spec.x data-y=spec.y data-w=spec.w data-h=spec.h>
            <h2 id=title_id>{spec.title.clone()}</h2>
            {body}
        </section>
    }
}

fn data_view(kind: WidgetType, chart: Option<ChartType>, data: DashboardData, index: usize, public: bool) -> AnyView {
    let open = (!public).then(|| data.query.href());
    let body = match (kind, chart) {
        (WidgetType::MetricCard, _) => metric_card(&data).into_any(),
        (WidgetType::Table, _) => breakdown_table(&data, public).into_any(),
        (_, Some(ChartType::Bar | ChartType::Pie | ChartType::Scatter)) if data.level.is_none() || data.anonymised => {
            view! { <p class="notice" role="note">{data.breakdown_summary.clone()}</p> }.into_any()
        }
        (_, Some(chart)) => chart_view(chart, data, index, public),
        (_, None) => metric_card(&data).into_any(),
    };
    view! {
        {body}
        {open.map(|href| view! { <p class="widget-open"><a href=href>"Open in the dashboard"</a></p> })}
    }
    .into_any()
}

fn metric_card(data: &DashboardData) -> impl IntoView + use<> {
    let d = &data.total;
    let tone = d.assessment.tone();
    view! {
        <p class="kpi-value" data-testid="widget-value" data-raw=d.current.map(|v| v.to_string())>
            {d.current.map(|v| format_value(v, &data.metric.unit)).unwrap_or_else(|| "No data".into())}
        </p>
        <p class=format!("kpi-delta {tone}")>
            {format_relative(d.relative)}
            <span class="kpi-delta-base">{format!(" vs {} to {}", data.previous_start, data.previous_end)}</span>
            <span class="visually-hidden">{format!(" ({tone})")}</span>
        </p>
        <p class="hint">{format!("{} to {}", data.start, data.end)}</p>
    }
}

fn member_rows(rows: &[BreakdownRow], unit: &str) -> impl IntoView + use<> {
    rows.iter()
        .map(|r| view! { <tr><td>{r.member.clone()}</td><td class="num">{r.value.map(|v| format_value(v, unit)).unwrap_or_default()}</td></tr> })
        .collect_view()
}

/// Each member's total, change and share; names open `/dashboard` one level deeper.
fn breakdown_table(data: &DashboardData, public: bool) -> AnyView {
    let Some(level) = data.level.filter(|_| !data.anonymised) else {
        return view! { <p class="chart-summary">{data.breakdown_summary.clone()}</p> }.into_any();
    };
    let unit = data.metric.unit.clone();
    let rows = data
        .breakdown
        .iter()
        .map(|r| {
            let href = data.query.drilled_into(&r.member).href();
            let name = if public { r.member.clone().into_any() } else { view! { <a href=href>{r.member.clone()}</a> }.into_any() };
            view! {
                <tr>
                    <th scope="row">{name}</th>
                    <td class="num" data-raw=r.value.map(|v| v.to_string())>{r.value.map(|v| format_value(v, &unit)).unwrap_or_default()}</td>
                    <td class="num">{format_relative(r.delta.relative)}</td>
                    <td class="num">{r.share.map(|s| format!("{:.1}%", s * 100.0)).unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="chart-summary">{data.breakdown_summary.clone()}</p>
        <div class="table-scroll">
            <table class="breakdown-table">
                <thead><tr>
                    <th scope="col">{level.label()}</th>
                    <th scope="col">{data.metric.label.clone()}</th>
                    <th scope="col">"Change"</th>
                    <th scope="col">"Share"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn trend_summary(data: &DashboardData) -> String {
    match data.forecast.as_ref().and_then(|f| f.points.last()) {
        Some(last) => format!(
            "{} Forecast for {}: {} (between {} and {}).",
            data.trend_summary,
            last.date,
            format_value(last.value, &data.metric.unit),
            format_value(last.low, &data.metric.unit),
            format_value(last.high, &data.metric.unit)
        ),
        None => data.trend_summary.clone(),
    }
}

fn chart_view(chart: ChartType, data: DashboardData, index: usize, public: bool) -> AnyView {
    let id = format!("w{index}-chart");
    let label = data.metric.label.clone();
    let unit = data.metric.unit.clone();
    let navigate = use_navigate();
    let query = data.query.clone();
    let drill = (!public && query.level().is_some()).then(|| {
        Callback::new(move |member: String| navigate(&query.drilled_into(&member).href(), NavigateOptions::default()))
    });
    let by = data.level.map(|l| l.label()).unwrap_or_default();
    let values: Vec<(String, f64)> = data.breakdown.iter().filter_map(|r| Some((r.member.clone(), r.value?))).collect();
    let member_table = |caption: String| view! {
        <table><caption>{caption}</caption>
            <thead><tr><th scope="col">{by}</th><th scope="col">{label.clone()}</th></tr></thead>
            <tbody>{member_rows(&data.breakdown, &unit)}</tbody>
        </table>
    };
    match chart {
        ChartType::Bar => {
            let table = member_table(format!("{label} by {}", by.to_lowercase()));
            view! { <EChart id option=bar_chart(&label, &unit, &values) summary=data.breakdown_summary.clone() on_select=drill.unwrap_or_else(noop)>{table}</EChart> }.into_any()
        }
        ChartType::Pie => {
            let table = member_table(format!("Share of {label} by {}", by.to_lowercase()));
            view! { <EChart id option=pie_chart(&label, &values) summary=data.breakdown_summary.clone() on_select=drill.unwrap_or_else(noop)>{table}</EChart> }.into_any()
        }
        ChartType::Scatter => scatter_view(id, &data, drill),
        ChartType::Area if data.metric.aggregation == Aggregation::Sum && !data.breakdown.is_empty() => {
            let (dates, stacked) = data.stacked_by_member();
            let summary = format!("{} Daily {} stacked by {}.", data.trend_summary, label.to_lowercase(), by.to_lowercase());
            let table = member_table(format!("{label} by {}, range total", by.to_lowercase()));
            view! { <EChart id option=stacked_area_chart(&unit, &dates, &stacked) summary>{table}</EChart> }.into_any()
        }
        ChartType::Line | ChartType::Area => {
            let option = trend_chart(&label, &unit, &data.daily, &data.anomalies, data.forecast.as_ref());
            let rows = data
                .daily
                .iter()
                .map(|p| {
                    let flagged = data.anomalies.iter().find(|a| a.date == p.date).map(|a| if a.level_shift.is_some() { "level shift" } else { a.severity.map_or("", |s| s.as_str()) });
                    view! { <tr><td>{p.date.to_string()}</td><td class="num">{format_value(p.value, &unit)}</td><td>{flagged.unwrap_or("")}</td></tr> }
                })
                .collect_view();
            view! {
                <EChart id option summary=trend_summary(&data)>
                    <table><caption>{format!("{label}, daily")}</caption>
                        <thead><tr><th scope="col">"Date"</th><th scope="col">{label.clone()}</th><th scope="col">"Anomaly"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </EChart>
            }
            .into_any()
        }
    }
}

fn noop() -> Callback<String> {
    Callback::new(|_: String| ())
}

fn scatter_view(id: String, data: &DashboardData, drill: Option<Callback<String>>) -> AnyView {
    let Some(versus) = data.versus.as_ref() else {
        return view! { <p class="notice" role="note">"A scatter compares two metrics: give this widget a second metric to compare with."</p> }.into_any();
    };
    let (label, unit, versus_label) = (data.metric.label.clone(), data.metric.unit.clone(), versus.label.clone());
    let by = data.level.map(|l| l.label()).unwrap_or_default();
    let caption = format!("{label} and {versus_label} by {}", by.to_lowercase());
    let points: Vec<(String, f64, f64)> = data.breakdown.iter().filter_map(|r| Some((r.member.clone(), r.value?, r.versus?))).collect();
    let summary = format!(
        "{} against {label} for each {}: {}.",
        versus.label,
        by.to_lowercase(),
        points.iter().map(|(m, x, y)| format!("{m} {} / {}", format_value(*x, &unit), format_value(*y, &versus.unit))).collect::<Vec<_>>().join(", ")
    );
    let rows = points
        .iter()
        .map(|(m, x, y)| view! { <tr><td>{m.clone()}</td><td class="num">{format_value(*x, &unit)}</td><td class="num">{format_value(*y, &versus.unit)}</td></tr> })
        .collect_view();
    view! {
        <EChart id option=scatter_chart(&label, &versus.label, &points) summary on_select=drill.unwrap_or_else(noop)>
            <table><caption>{caption}</caption>
                <thead><tr><th scope="col">{by}</th><th scope="col">{label.clone()}</th><th scope="col">{versus_label}</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </EChart>
    }
    .into_any()
}
