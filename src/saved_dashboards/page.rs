//! Pages of saved dashboards: the list with "new", "new from template", duplicate and delete
//! (`/dashboards`), one dashboard's widgets on its grid for the filters in the URL
//! (`/dashboards/:id`, and read-only without signing in behind `/public/dashboards/:token`).
//! The editor is `editor.rs`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::NavigateOptions;

use super::api::{create_saved_dashboard, delete_saved_dashboard, list_saved_dashboards, view_public_dashboard, view_saved_dashboard};
use super::widgets::SavedWidget;
use super::{DashboardList, DashboardSpec, DashboardSummary, SavedView, WidgetContent};
use crate::dashboard::{AutoRefresh, DashboardQuery, RangePreset};
use crate::error::AppError;
use crate::ui::{DimensionPicker, ErrorPanel, FilterChips};

pub use super::editor::DashboardEditorPage;

/// The path of a dashboard's page, and of its editor.
pub fn dashboard_path(id: &impl std::fmt::Display) -> String {
    format!("/dashboards/{id}")
}

#[component]
pub fn DashboardsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| list_saved_dashboards());
    view! {
        <Title text="Dashboards · InsightOps"/>
        <section class="page-head"><h1>"Dashboards"</h1></section>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || list.get().map(|result| match result {
                Ok(data) => view! { <ListBody data refetch=Callback::new(move |_| list.refetch())/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

/// Creates a dashboard (from a spec, a template or a copy) and opens it in the editor.
fn create_and_edit(spec: String, template: String, copy_of: String, failure: RwSignal<Option<String>>) {
    let navigate = use_navigate();
    leptos::task::spawn_local(async move {
        match create_saved_dashboard(spec, template, copy_of).await {
            Ok(created) => navigate(&format!("{}/edit", dashboard_path(&created.id)), NavigateOptions::default()),
            Err(e) => failure.set(Some(e.to_string())),
        }
    });
}

#[component]
fn ListBody(data: DashboardList, refetch: Callback<()>) -> impl IntoView {
    let failure = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let new_blank = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let spec = DashboardSpec {
            name: name.get_untracked(),
            description: String::new(),
            default_query: "range=30d".into(),
            refresh: AutoRefresh::Off.token().into(),
            is_template: false,
            template_type: None,
            widgets: Vec::new(),
        };
        create_and_edit(serde_json::to_string(&spec).unwrap_or_default(), String::new(), String::new(), failure);
    };
    let (templates, dashboards): (Vec<DashboardSummary>, Vec<DashboardSummary>) = data.dashboards.into_iter().partition(|d| d.is_template);
    let can_build = data.can_build;
    view! {
        {move || failure.get().map(|message| view! { <p class="error-panel" role="alert">{message}</p> })}
        {can_build.then(|| view! {
            <section class="widget new-dashboard" aria-labelledby="new-title">
                <h2 id="new-title">"New dashboard"</h2>
                <form class="filters" on:submit=new_blank>
                    <label>"Name" <input type="text" required maxlength="120" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></label>
                    <button type="submit">"Create and edit"</button>
                </form>
                <h3>"Or start from a template"</h3>
                <ul class="template-list">
                    {data.builtin_templates.into_iter().map(|t| {
                        let key = t.key.clone();
                        view! {
                            <li>
                                <strong>{t.name.clone()}</strong>" "<span class="hint">{t.description.clone()}</span>" "
                                <button type="button" data-testid=format!("template-{}", t.key)
                                    on:click=move |_| create_and_edit(String::new(), key.clone(), String::new(), failure)>
                                    {format!("New from “{}”", t.name)}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                    {templates.iter().map(|t| {
                        let id = t.id.to_string();
                        view! {
                            <li>
                                <strong>{t.name.clone()}</strong>" "<span class="hint">{t.template_type.clone().unwrap_or_default()}</span>" "
                                <button type="button" on:click=move |_| create_and_edit(String::new(), String::new(), id.clone(), failure)>
                                    {format!("New from “{}”", t.name)}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })}
        <DashboardTable dashboards title="Your dashboards and those shared with you" can_build refetch failure/>
        {(!templates.is_empty()).then(|| view! { <DashboardTable dashboards=templates title="Your org's templates" can_build refetch failure/> })}
    }
}

#[component]
fn DashboardTable(dashboards: Vec<DashboardSummary>, title: &'static str, can_build: bool, refetch: Callback<()>, failure: RwSignal<Option<String>>) -> impl IntoView {
    // The row whose delete waits for its confirmation.
    let confirming = RwSignal::new(None::<uuid::Uuid>);
    let delete = move |id: uuid::Uuid| {
        leptos::task::spawn_local(async move {
            match delete_saved_dashboard(id.to_string()).await {
                Ok(()) => refetch.run(()),
                Err(e) => failure.set(Some(e.to_string())),
            }
            confirming.set(None);
        })
    };
    let empty = dashboards.is_empty();
    view! {
        <section class="widget" aria-label=title>
            <h2>{title}</h2>
            {empty.then(|| view! { <p class="empty">"None yet."</p> })}
            <div class="table-scroll">
            <table class="breakdown-table" data-testid="dashboard-list" class:hidden=empty>
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Owner"</th><th scope="col">"You"</th><th scope="col" class="num">"Widgets"</th><th scope="col">"Updated"</th><th scope="col">"Actions"</th></tr></thead>
                <tbody>
                    {dashboards.into_iter().map(|d| {
                        let id = d.id;
                        let copy = d.id.to_string();
                        let name = d.name.clone();
                        view! {
                            <tr data-dashboard=d.id.to_string()>
                                <th scope="row">
                                    <a href=dashboard_path(&d.id)>{d.name.clone()}</a>
                                    {d.is_public.then(|| view! { " " <span class="badge">"public link"</span> })}
                                    <div class="hint">{d.description.clone()}</div>
                                </th>
                                <td>{d.owner_name.clone().unwrap_or_else(|| "(removed)".into())}</td>
                                <td>{d.access.label()}</td>
                                <td class="num">{d.widget_count}</td>
                                <td>{crate::format::utc_time(&d.updated_at)}</td>
                                <td class="row-actions">
                                    {d.access.can_edit().then(|| view! { <a href=format!("{}/edit", dashboard_path(&id))>"Edit"</a> })}
                                    {can_build.then(|| view! {
                                        <button type="button" on:click=move |_| create_and_edit(String::new(), String::new(), copy.clone(), failure)>"Duplicate"</button>
                                    })}
                                    {d.access.can_manage().then(|| view! {
                                        <Show when=move || confirming.get() == Some(id)
                                            fallback=move || view! { <button type="button" on:click=move |_| confirming.set(Some(id))>"Delete…"</button> }>
                                            <span role="alert">{format!("Delete “{name}” for everyone?")}</span>
                                            <button type="button" class="danger" on:click=move |_| delete(id)>"Yes, delete"</button>
                                            <button type="button" on:click=move |_| confirming.set(None)>"Cancel"</button>
                                        </Show>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </section>
    }
}

/// Refetches `resource` on the dashboard's refresh interval (the URL's `refresh`, else its own);
/// the timer stops when the page is left.
fn auto_refresh(resource: Resource<Result<SavedView, AppError>>, seconds: Memo<Option<u64>>) {
    #[cfg(feature = "hydrate")]
    {
        let timer = StoredValue::new(None::<leptos::leptos_dom::helpers::IntervalHandle>);
        let stop = move || {
            if let Some(handle) = timer.try_update_value(|t| t.take()).flatten() {
                handle.clear();
            }
        };
        Effect::new(move |_| {
            stop();
            let handle = seconds.get().and_then(|s| set_interval_with_handle(move || resource.refetch(), std::time::Duration::from_secs(s)).ok());
            timer.set_value(handle);
        });
        on_cleanup(stop);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (resource, seconds);
}

/// The refresh in effect: the URL's when it names one (`refresh=off` included), else the dashboard's.
fn refresh_in_effect(filters: &str, own: &str) -> AutoRefresh {
    let named = filters.split('&').any(|pair| pair.trim_start_matches('?').starts_with("refresh="));
    match DashboardQuery::from_query_string(filters) {
        Ok(q) if named => q.refresh,
        _ => AutoRefresh::ALL.into_iter().find(|r| r.token() == own).unwrap_or(AutoRefresh::Off),
    }
}

fn refresh_seconds(filters: &str, own: &str) -> Option<u64> {
    refresh_in_effect(filters, own).seconds()
}

/// A dashboard's view for `key` (its id or token, and the URL's query), refetched on its refresh.
fn live_view<Fut>(key: Memo<(String, String)>, fetch: fn(String, String) -> Fut) -> Resource<Result<SavedView, AppError>>
where
    Fut: std::future::Future<Output = Result<SavedView, AppError>> + Send + 'static,
{
    let view = Resource::new(move || key.get(), move |(id, filters)| fetch(id, filters.trim_start_matches('?').to_string()));
    let seconds = Memo::new(move |_| {
        let own = view.with(|v| v.as_ref().and_then(|r| r.as_ref().ok()).map(|v| v.dashboard.spec.refresh.clone())).unwrap_or_default();
        refresh_seconds(&key.get().1, &own)
    });
    auto_refresh(view, seconds);
    view
}

#[component]
pub fn SavedDashboardPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = Memo::new(move |_| (params.read().get("id").unwrap_or_default(), query.read().to_query_string()));
    let view = live_view(key, view_saved_dashboard);
    view! {
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || view.get().map(|result| match result {
                Ok(data) => {
                    let base = dashboard_path(&data.dashboard.id);
                    let url = key.get_untracked().1;
                    view! { <SavedDashboardView data base url public=false/> }.into_any()
                }
                Err(error) => view! { <Title text="Dashboard · InsightOps"/><ErrorPanel error/><p><a href="/dashboards">"All dashboards"</a></p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
pub fn PublicDashboardPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = Memo::new(move |_| (params.read().get("token").unwrap_or_default(), query.read().to_query_string()));
    let view = live_view(key, view_public_dashboard);
    view! {
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || view.get().map(|result| match result {
                Ok(data) => {
                    let (token, url) = key.get_untracked();
                    let base = format!("/public/dashboards/{token}");
                    view! { <SavedDashboardView data base url public=true/> }.into_any()
                }
                Err(error) => view! { <Title text="Dashboard · InsightOps"/><ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

/// A dashboard with its widgets on the grid (`url`: the page's query string), in reading order (row, then column) so a phone,
/// where they stack, and a screen reader take them top to bottom.
#[component]
fn SavedDashboardView(data: SavedView, base: String, url: String, public: bool) -> impl IntoView {
    let d = &data.dashboard;
    let filters = DashboardQuery::from_query_string(&data.filters).unwrap_or_default();
    let mut widgets: Vec<(usize, super::WidgetView)> = data.widgets.into_iter().enumerate().collect();
    widgets.sort_by_key(|(_, w)| (w.spec.y, w.spec.x));
    let dimension_values = widgets
        .iter()
        .find_map(|(_, w)| match &w.content {
            WidgetContent::Data(data) => Some(data.dimension_values.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let who = match (&d.owner_name, public) {
        (_, true) => "Read-only public link".to_string(),
        (Some(owner), _) => format!("By {owner} · you: {}", d.access.label().to_lowercase()),
        (None, _) => format!("You: {}", d.access.label().to_lowercase()),
    };
    let edit = (!public && d.access.can_edit()).then(|| format!("{}/edit", dashboard_path(&d.id)));
    let refresh = refresh_in_effect(&url, &d.spec.refresh);
    view! {
        <Title text=format!("{} · InsightOps", d.spec.name)/>
        <section class="page-head">
            <h1 data-testid="dashboard-name">{d.spec.name.clone()}</h1>
            <nav class="export-links" aria-label="This dashboard">
                {edit.map(|href| view! { <a href=href data-testid="edit-dashboard">"Edit"</a> })}
                {(!public).then(|| view! { <a href="/dashboards">"All dashboards"</a> })}
            </nav>
        </section>
        <p class="as-of">{who}{(!d.spec.description.is_empty()).then(|| format!(" · {}", d.spec.description))}</p>
        <DashboardFilters filters base dimension_values refresh/>
        {widgets.is_empty().then(|| view! { <p class="empty" role="status">"This dashboard has no widgets yet."</p> })}
        <div class="saved-grid" data-testid="saved-grid">
            {widgets.into_iter().map(|(index, widget)| view! { <SavedWidget widget index public/> }).collect_view()}
        </div>
    }
}

/// The dashboard's range, dimension values and refresh as a GET form on its own path.
#[component]
fn DashboardFilters(filters: DashboardQuery, base: String, dimension_values: Vec<(crate::domain::Dimension, Vec<String>)>, refresh: AutoRefresh) -> impl IntoView {
    let custom = filters.range == RangePreset::Custom;
    let chip_base = filters.clone();
    let chip_filter = filters.filter.clone();
    let chip_path = base.clone();
    // Chip links always name the range: a bare path would bring the dashboard's default filters back.
    let href = Callback::new(move |filter| {
        let view = DashboardQuery { filter, ..chip_base.clone() };
        let query = view.to_query_string();
        match view.range {
            RangePreset::Custom => format!("{chip_path}?{query}"),
            range if query.is_empty() => format!("{chip_path}?range={}", range.token()),
            range if !query.contains("range=") => format!("{chip_path}?range={}&{query}", range.token()),
            _ => format!("{chip_path}?{query}"),
        }
    });
    view! {
        <Form method="GET" action=base.clone() noscroll=true>
            <fieldset class="filters">
                <legend class="visually-hidden">"Filters"</legend>
                <label>"Dates"
                    <select name="range">
                        {RangePreset::ALL.into_iter().map(|r| view! { <option value=r.token() selected=r == filters.range>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"From" <input type="date" name="from" value=custom.then(|| filters.from.map(|d| d.to_string()).unwrap_or_default())/></label>
                <label>"To" <input type="date" name="to" value=custom.then(|| filters.to.map(|d| d.to_string()).unwrap_or_default())/></label>
                {dimension_values.into_iter().map(|(d, values)| view! {
                    <DimensionPicker dimension=d values chosen=filters.filter.values(d).clone()/>
                }).collect_view()}
                <label>"Auto-refresh"
                    <select name="refresh">
                        {AutoRefresh::ALL.into_iter().map(|r| view! { <option value=r.token() selected=r == refresh>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit">"Apply"</button>
                <a class="reset" href=base.clone()>"Reset"</a>
            </fieldset>
        </Form>
        <FilterChips filter=chip_filter href/>
    }
}
