//! Charts: echarts options built with charming (pure, testable natively) and one component that
//! renders them in the browser, always with a text summary and a data-table fallback.

pub mod options;
#[cfg(feature = "hydrate")]
mod echarts_js;

use leptos::prelude::*;

use crate::analytics::DailyValue;
use crate::format::format_value;

/// A line chart of a daily series. The server renders the summary and data table; the browser
/// draws the canvas after hydration.
#[component]
pub fn DailyLineChart(
    /// DOM id of the canvas; unique on the page.
    id: String,
    label: String,
    unit: String,
    series: Vec<DailyValue>,
    /// One sentence saying what the chart shows, read by screen readers and shown below it.
    summary: String,
) -> impl IntoView {
    let rows = series
        .iter()
        .map(|p| {
            let value = format_value(p.value, &unit);
            view! { <tr><td>{p.date.to_string()}</td><td class="num">{value}</td></tr> }
        })
        .collect_view();

    #[cfg(feature = "hydrate")]
    {
        let chart = options::daily_line(&label, &unit, &series);
        let canvas_id = id.clone();
        Effect::new(move |_| echarts_js::draw(&canvas_id, &chart, None));
    }

    view! {
        <figure class="chart">
            <div id=id class="chart-canvas" role="img" aria-label=summary.clone() data-points=series.len()></div>
            <figcaption class="chart-summary">{summary}</figcaption>
            <details class="chart-data">
                <summary>"Show data"</summary>
                <table>
                    <caption>{format!("{label}, daily")}</caption>
                    <thead><tr><th scope="col">"Date"</th><th scope="col">{label.clone()}</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

/// Any chart: the canvas (drawn after hydration), its one-sentence summary, and a "Show data"
/// table the caller passes as children. With `on_select`, clicking an item reports its name.
#[component]
pub fn EChart(
    id: String,
    option: charming::Chart,
    summary: String,
    #[prop(optional)] on_select: Option<Callback<String>>,
    #[prop(optional)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let canvas_id = id.clone();
        Effect::new(move |_| echarts_js::draw(&canvas_id, &option, on_select));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (&option, on_select);
    view! {
        <figure class="chart" data-testid=testid>
            <div id=id class="chart-canvas" role="img" aria-label=summary.clone()></div>
            <figcaption class="chart-summary">{summary}</figcaption>
            <details class="chart-data">
                <summary>"Show data"</summary>
                {children()}
            </details>
        </figure>
    }
}
