//! The dashboard page: a GET filter form and the drill breadcrumb write the URL; the URL drives one
//! server call; charts drill on click by navigating to the deeper URL, so back/forward just work.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use super::api::get_dashboard;
use super::widgets::{BreakdownCharts, BreakdownTable, DetailTable, TrendWidget};
use super::{AutoRefresh, DashboardData, DashboardQuery, RangePreset};
use crate::format::{format_relative, format_value};
use crate::ui::{DimensionPicker, ErrorPanel, FilterChips};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let params = use_query_map();
    let query_string = Memo::new(move |_| params.read().to_query_string());
    let data = Resource::new(
        move || query_string.get(),
        |text| async move {
            // Parse here too, so a malformed URL is explained without a round trip.
            DashboardQuery::from_query_string(&text)?;
            get_dashboard(text.trim_start_matches('?').to_string()).await
        },
    );
    let refresh = Memo::new(move |_| {
        DashboardQuery::from_query_string(&query_string.get()).map(|q| q.refresh).unwrap_or(AutoRefresh::Off)
    });
    // Auto-refresh refetches the data in place; the interval is replaced when the choice changes.
    #[cfg(feature = "hydrate")]
    Effect::new(move |previous: Option<Option<leptos::leptos_dom::helpers::IntervalHandle>>| {
        if let Some(Some(handle)) = previous {
            handle.clear();
        }
        refresh.get().seconds().and_then(|s| {
            set_interval_with_handle(move || data.refetch(), std::time::Duration::from_secs(s)).ok()
        })
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = refresh;

    view! {
        <Title text="Dashboard · InsightOps"/>
        <section class="page-head">
            <h1>"Dashboard"</h1>
        </section>
        <crate::ask::page::AskBox value=Signal::derive(String::new)/>
        <details class="manager-summary no-print" data-testid="manager-summary">
            <summary>"Last month in brief"</summary>
            <crate::exec::narrative_page::Narrative audience="manager" grain=Signal::derive(|| "month".to_string())
                period=Signal::derive(String::new) current=Signal::derive(|| false) toggle=None/>
        </details>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || data.get().map(|result| match result {
                Ok(data) => view! { <DashboardBody data/> }.into_any(),
                Err(error) => view! {
                    <ErrorPanel error/>
                    <p><a href="/dashboard">"Reset the dashboard"</a></p>
                }.into_any(),
            })}
        </Transition>
    }
}

/// Downloads of the view as shown, and "Save as report" with the view filled in.
#[component]
fn ExportLinks(query: DashboardQuery) -> impl IntoView {
    let view_query = DashboardQuery { refresh: AutoRefresh::Off, ..query }.to_query_string();
    let save = format!("/reports?{}", form_urlencoded::Serializer::new(String::new()).append_pair("view", &view_query).finish());
    let export = move |format: &str| {
        let joiner = if view_query.is_empty() { "" } else { "&" };
        format!("/export/dashboard?{view_query}{joiner}format={format}")
    };
    view! {
        <nav class="export-links no-print" aria-label="Export this view">
            <a href=export("csv") download="" rel="external" data-testid="export-csv">"Export CSV"</a>
            <a href=export("json") download="" rel="external" data-testid="export-json">"Export JSON"</a>
            <a href=save data-testid="save-as-report">"Save as report"</a>
        </nav>
    }
}

#[component]
fn DashboardBody(data: DashboardData) -> impl IntoView {
    let navigate = use_navigate();
    let query = data.query.clone();
    let drill = Callback::new(move |member: String| {
        if query.level().is_some() {
            navigate(&query.drilled_into(&member).href(), NavigateOptions::default());
        }
    });
    let empty = data.daily.is_empty();
    view! {
        <FilterBar data=data.clone()/>
        <Breadcrumb data=data.clone()/>
        <p class="as-of" data-testid="as-of">
            {format!(
                "{} · {} to {} · data as of {} · loaded {}",
                data.org_name,
                data.start,
                data.end,
                data.as_of,
                crate::format::utc_time(&data.generated_at),
            )}
            " UTC"
        </p>
        {if data.metric.signal {
            view! { <p class="hint no-print">"Exports cover KPIs; engagement signals are charted here but not exported."</p> }.into_any()
        } else {
            view! { <ExportLinks query=data.query.clone()/> }.into_any()
        }}
        {if empty {
            view! {
                <p class="empty" role="status" data-testid="no-data">
                    "No data for this combination of filters and dates. Widen the date range or remove a filter."
                </p>
            }.into_any()
        } else {
            view! {
                <TotalCard data=data.clone()/>
                {data.anonymised.then(|| view! { <p class="notice" role="note" data-testid="anonymised">{data.breakdown_summary.clone()}</p> })}
                <div class="dashboard-grid">
                    <TrendWidget data=data.clone()/>
                    {match data.level {
                        Some(_) => view! {
                            <BreakdownCharts data=data.clone() on_select=drill/>
                            <BreakdownTable data=data.clone()/>
                        }.into_any(),
                        None => view! { <DetailTable data=data.clone()/> }.into_any(),
                    }}
                </div>
            }.into_any()
        }}
    }
}

#[component]
fn TotalCard(data: DashboardData) -> impl IntoView {
    let d = data.total;
    let tone = d.assessment.tone();
    view! {
        <article class="kpi-card total-card" aria-labelledby="total-label">
            <h2 id="total-label" class="kpi-label">{format!("{}, selection total", data.metric.label)}</h2>
            <p class="kpi-value" data-testid="total-value" data-raw=d.current.map(|v| v.to_string())>
                {d.current.map(|v| format_value(v, &data.metric.unit)).unwrap_or_else(|| "No data".into())}
            </p>
            <p class=format!("kpi-delta {tone}") data-testid="total-delta">
                {format_relative(d.relative)}
                <span class="kpi-delta-base">{format!(" vs {} to {}", data.previous_start, data.previous_end)}</span>
                <span class="visually-hidden">{format!(" ({tone})")}</span>
            </p>
        </article>
    }
}

#[component]
fn Breadcrumb(data: DashboardData) -> impl IntoView {
    let last = data.breadcrumb.len() - 1;
    let level_text = match data.level {
        Some(d) => format!("by {}", d.label().to_lowercase()),
        None => "daily detail".to_string(),
    };
    view! {
        <nav class="breadcrumb" aria-label="Drill path" data-testid="breadcrumb">
            <ol>
                {data.breadcrumb.iter().enumerate().map(|(i, crumb)| {
                    let href = data.query.drilled_to(crumb.depth).href();
                    if i == last {
                        view! { <li><span aria-current="location">{crumb.label.clone()}</span></li> }.into_any()
                    } else {
                        view! { <li><a href=href>{crumb.label.clone()}</a></li> }.into_any()
                    }
                }).collect_view()}
            </ol>
            <span class="breadcrumb-level">{level_text}</span>
        </nav>
    }
}

/// Plain GET form: submitting navigates to the new URL in place (the router intercepts it).
/// Changing filters starts again at the top of the drill path.
#[component]
fn FilterBar(data: DashboardData) -> impl IntoView {
    let q = data.query.clone();
    let metric_key = data.metric.key.clone();
    let versus_key = data.versus.as_ref().map(|m| m.key.clone()).unwrap_or_default();
    let custom = q.range == RangePreset::Custom;
    let chip_base = q.clone();
    view! {
        <Form method="GET" action="/dashboard" noscroll=true>
            <fieldset class="filters">
                <legend class="visually-hidden">"Filters"</legend>
                <label>"Metric"
                    <select name="metric">
                        {data.metrics.iter().map(|m| view! {
                            <option value=m.key.clone() selected=m.key == metric_key>{m.picker_label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Dates"
                    <select name="range">
                        {RangePreset::ALL.into_iter().map(|r| view! {
                            <option value=r.token() selected=r == q.range>{r.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"From" <input type="date" name="from" value=custom.then(|| data.start.to_string())/></label>
                <label>"To" <input type="date" name="to" value=custom.then(|| data.end.to_string())/></label>
                {data.dimension_values.iter().map(|(d, values)| view! {
                    <DimensionPicker dimension=*d values=values.clone() chosen=q.filter.values(*d).clone()/>
                }).collect_view()}
                <label>"Compare with"
                    <select name="vs">
                        <option value="" selected=versus_key.is_empty()>"(none)"</option>
                        {data.metrics.iter().filter(|m| m.key != metric_key).map(|m| view! {
                            <option value=m.key.clone() selected=m.key == versus_key>{m.picker_label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Auto-refresh"
                    <select name="refresh">
                        {AutoRefresh::ALL.into_iter().map(|r| view! {
                            <option value=r.token() selected=r == q.refresh>{r.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit">"Apply"</button>
                <a class="reset" href="/dashboard">"Reset"</a>
            </fieldset>
        </Form>
        <FilterChips filter=data.query.filter.clone() href=Callback::new(move |filter| DashboardQuery { filter, ..chip_base.clone() }.href())/>
    }
}
