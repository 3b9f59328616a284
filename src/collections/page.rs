//! `/data/collections`: the org's backfill and weekly collections with their progress, a form to
//! start one, and (`?id=`) one collection's weeks with their status, rows, checksum and error,
//! refreshed every two seconds while a week waits or runs. Pause, resume, re-run, retry a week.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::{get_collection, list_collections, ChangeCollection, CreateCollection};
use super::{CollectionDetail, CollectionStatus, CollectionSummary, WeekStatus, WeekSummary};
use crate::ui::ErrorPanel;

/// Seconds between refreshes while a collection's weeks run.
const REFRESH_SECS: u64 = 2;

fn href(id: uuid::Uuid) -> String {
    format!("/data/collections?id={id}")
}

#[component]
pub fn CollectionsPage() -> impl IntoView {
    let query = use_query_map();
    let selected = move || query.with(|q| q.get("id")).filter(|id| !id.is_empty());
    let create = ServerAction::<CreateCollection>::new();
    let change = ServerAction::<ChangeCollection>::new();
    let list = Resource::new(move || (create.version().get(), change.version().get()), |_| list_collections());
    let detail = Resource::new(move || (selected(), change.version().get()), |(id, _)| async move {
        match id {
            Some(id) => get_collection(id).await.map(Some),
            None => Ok(None),
        }
    });
    // While the shown collection still has weeks to load, poll it (and the list) in place.
    Effect::new(move |previous: Option<Option<leptos::leptos_dom::helpers::IntervalHandle>>| {
        if let Some(Some(handle)) = previous {
            handle.clear();
        }
        let active = detail.get().and_then(|r| r.ok()).flatten().is_some_and(|d| d.is_active());
        active
            .then(|| {
                set_interval_with_handle(
                    move || {
                        detail.refetch();
                        list.refetch();
                    },
                    std::time::Duration::from_secs(REFRESH_SECS),
                )
                .ok()
            })
            .flatten()
    });
    view! {
        <Title text="Collections · InsightOps"/>
        <h1>"Collections"</h1>
        <p class="page-intro">"A collection loads history week by week from a folder of CSV files (one file a week, named by its Monday: 2026-11-23.csv) or from an HTTP address that answers a JSON array of rows for {week_start} to {week_end}. Each week is checked and loaded all or nothing; a week whose data has not changed since its last load is skipped. A weekly update adds the week just ended every Monday."</p>
        <CreateForm create/>
        {move || create.value().get().map(|r| match r {
            Ok(d) => view! { <p class="form-ok" role="status" data-testid="collection-message">{format!("{} created with {} weeks. ", d.collection.name, d.weeks.len())}<a href=href(d.collection.id)>"Follow it"</a></p> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert" data-testid="collection-message">{e.to_string()}</p> }.into_any(),
        })}
        {move || change.value().get().map(|r| match r {
            Ok(d) => view! { <p class="form-ok" role="status" data-testid="collection-message">{format!("{} is {}.", d.collection.name, d.collection.status.as_str())}</p> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert" data-testid="collection-message">{e.to_string()}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || detail.get().map(|result| match result {
                Ok(Some(d)) => view! { <DetailView detail=d change/> }.into_any(),
                Ok(None) => ().into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
        <h2>"All collections"</h2>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || list.get().map(|result| match result {
                Ok(items) => view! { <CollectionTable items/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn CreateForm(create: ServerAction<CreateCollection>) -> impl IntoView {
    view! {
        <ActionForm action=create>
            <fieldset class="filters">
                <legend>"New collection"</legend>
                <label>"Name" <input type="text" name="name" required maxlength="80" placeholder="Sales history 2025"/></label>
                <label>"Type"
                    <select name="collection_type">
                        <option value="backfill" selected>"Backfill (past weeks, once)"</option>
                        <option value="weekly_update">"Weekly update (every Monday)"</option>
                    </select>
                </label>
                <label>"Data"
                    <select name="target">
                        <option value="kpi" selected>"KPIs"</option>
                        <option value="signal">"Engagement signals"</option>
                    </select>
                </label>
                <label>"Source"
                    <select name="source_kind">
                        <option value="csv_dir" selected>"Folder of weekly CSV files"</option>
                        <option value="http_json">"HTTP JSON address"</option>
                    </select>
                </label>
                <label>"Folder or URL template" <input type="text" name="source" required maxlength="2000" placeholder="sales or https://erp.example/rows?from={week_start}&to={week_end}"/></label>
                <label>"First week (any day of it)" <input type="date" name="start_date" required/></label>
                <label>"Weeks (backfill)" <input type="number" name="weeks" min="1" max="1040" value="52"/></label>
                <button type="submit">"Start collection"</button>
            </fieldset>
        </ActionForm>
    }
}

#[component]
fn CollectionTable(items: Vec<CollectionSummary>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p role="status">"No collections yet."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="data-table" data-testid="collections">
                <caption class="visually-hidden">"Collections of this organisation"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Type"</th><th scope="col">"Source"</th><th scope="col">"Weeks"</th>
                    <th scope="col">"Status"</th><th scope="col">"Progress"</th><th scope="col">"Updated"</th>
                </tr></thead>
                <tbody>
                    {items.into_iter().map(|c| view! {
                        <tr data-collection=c.name.clone()>
                            <td><a href=href(c.id)>{c.name.clone()}</a></td>
                            <td>{c.collection_type.as_str()}</td>
                            <td><code>{c.source.clone()}</code></td>
                            <td>{format!("{} to {} ({} weeks)", c.start_date, c.end_date, c.target_weeks)}</td>
                            <td>{c.status.as_str()}{c.error_message.clone().map(|e| format!(": {e}"))}</td>
                            <td>{format!("{} of {} weeks · {} %", c.weeks_completed, c.target_weeks, c.progress_percentage)}</td>
                            <td>{c.updated_at.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// One action button posting `action` for the collection (and a week).
#[component]
fn ActionButton(change: ServerAction<ChangeCollection>, collection_id: String, action: &'static str, label: String, #[prop(optional)] week_id: String) -> impl IntoView {
    view! {
        <ActionForm action=change>
            <input type="hidden" name="collection_id" value=collection_id/>
            <input type="hidden" name="action" value=action/>
            <input type="hidden" name="week_id" value=week_id/>
            <button type="submit">{label}</button>
        </ActionForm>
    }
}

#[component]
fn DetailView(detail: CollectionDetail, change: ServerAction<ChangeCollection>) -> impl IntoView {
    let c = detail.collection;
    let id = c.id.to_string();
    let actions = match c.status {
        CollectionStatus::Pending | CollectionStatus::Running => vec![("pause", "Pause")],
        CollectionStatus::Paused => vec![("resume", "Resume")],
        CollectionStatus::Completed | CollectionStatus::Failed => vec![("rerun", "Re-run every week")],
    };
    let summary = format!("{} of {} weeks done ({} %), status {}.", c.weeks_completed, c.target_weeks, c.progress_percentage, c.status.as_str());
    view! {
        <section aria-labelledby="collection-title" data-testid="collection-detail">
            <h2 id="collection-title">{c.name.clone()}</h2>
            <p role="status" data-testid="collection-progress">{summary}</p>
            <progress max="100" value=c.progress_percentage aria-label="Weeks done">{format!("{} %", c.progress_percentage)}</progress>
            <div class="actions">
                {actions.into_iter().map(|(action, label)| view! { <ActionButton change collection_id=id.clone() action label=label.to_string()/> }).collect_view()}
            </div>
            <WeekTable weeks=detail.weeks collection_id=id change/>
        </section>
    }
}

#[component]
fn WeekTable(weeks: Vec<WeekSummary>, collection_id: String, change: ServerAction<ChangeCollection>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="data-table" data-testid="collection-weeks">
                <caption class="visually-hidden">"Weeks of this collection"</caption>
                <thead><tr>
                    <th scope="col">"Week"</th><th scope="col">"Status"</th><th scope="col">"Rows"</th><th scope="col">"Attempts"</th>
                    <th scope="col">"Checksum"</th><th scope="col">"Loaded"</th><th scope="col">"Error"</th><th scope="col">"Actions"</th>
                </tr></thead>
                <tbody>
                    {weeks.into_iter().map(|w| {
                        let retry = (w.status == WeekStatus::Failed).then(|| view! {
                            <ActionButton change collection_id=collection_id.clone() action="retry_week" label=format!("Retry week of {}", w.week_start) week_id=w.id.to_string()/>
                        });
                        view! {
                            <tr data-week=w.week_start.to_string()>
                                <td>{format!("{} to {}", w.week_start, w.week_end)}</td>
                                <td data-testid="week-status">{w.status.as_str()}</td>
                                <td>{w.row_count.map(|n| n.to_string()).unwrap_or_default()}</td>
                                <td>{w.attempts}</td>
                                <td><code>{w.data_checksum.as_deref().map(|s| s.chars().take(12).collect::<String>()).unwrap_or_default()}</code></td>
                                <td>{w.executed_at.clone().unwrap_or_default()}</td>
                                <td>{w.error_message.clone().unwrap_or_default()}</td>
                                <td class="actions">{retry}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
