//! `/recommendations`: the review queue. Filters live in the URL; admins accept or dismiss (with a
//! note) one item or a selection, shown at once and rolled back if the server refuses.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;
use uuid::Uuid;

use super::api::{decide_recommendations, format_items, list_recommendations};
use super::{Category, Decision, Recommendation, RecommendationFilter, RecommendationList, RecommendationStatus, Severity};
use crate::charts::options::evidence_chart;
use crate::charts::EChart;
use crate::format::format_value;
use crate::ui::ErrorPanel;

/// A decision for some items: which (id, version seen), what, and the note.
type Request = (Vec<(Uuid, i32)>, Decision, String);

#[component]
pub fn RecommendationsPage() -> impl IntoView {
    let location = use_location();
    let data = Resource::new(move || location.search.get(), list_recommendations);
    view! {
        <Title text="Recommendations · InsightOps"/>
        <h1>"Recommendations"</h1>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || data.get().map(|result| match result {
                Ok(list) => view! { <Queue list/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/><p><a href="/recommendations">"Show the open queue"</a></p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Queue(list: RecommendationList) -> impl IntoView {
    let location = use_location();
    let filter = RecommendationFilter::from_query_string(&location.search.get_untracked()).unwrap_or_default();
    let can_decide = list.can_decide;
    let detail = filter.id.is_some();
    let items = RwSignal::new(list.items);
    let selected = RwSignal::new(HashSet::<Uuid>::new());
    let pending = RwSignal::new(HashSet::<Uuid>::new());
    let message = RwSignal::new(None::<(bool, String)>);

    // Optimistic: the new status shows at once; the server's answer replaces it, or the old list
    // comes back with the reason if the server refuses (403, 409, …).
    let decide = Callback::new(move |(targets, decision, note): Request| {
        if let Err(error) = decision.check_note(&note) {
            message.set(Some((false, error.to_string())));
            return;
        }
        let before = items.get_untracked();
        let ids: HashSet<Uuid> = targets.iter().map(|t| t.0).collect();
        items.update(|list| {
            for item in list.iter_mut().filter(|i| ids.contains(&i.id)) {
                item.status = decision.resulting_status();
            }
        });
        pending.update(|p| p.extend(ids.iter().copied()));
        message.set(None);
        leptos::task::spawn_local(async move {
            let result = decide_recommendations(format_items(&targets), decision.as_str().to_string(), note).await;
            pending.update(|p| p.retain(|id| !ids.contains(id)));
            match result {
                Ok(updated) => {
                    items.update(|list| {
                        for fresh in updated {
                            if let Some(slot) = list.iter_mut().find(|i| i.id == fresh.id) {
                                *slot = fresh;
                            }
                        }
                    });
                    selected.update(|s| s.retain(|id| !ids.contains(id)));
                    let what = RecommendationStatus::as_str(decision.resulting_status());
                    message.set(Some((true, format!("{} recommendation(s) {what}.", ids.len()))));
                }
                Err(error) => {
                    items.set(before);
                    message.set(Some((false, format!("Not saved: {error}"))));
                }
            }
        });
    });

    let metric_options = list.metrics.clone();
    view! {
        <p class="page-intro">
            {format!("{} open. ", list.open_count)}
            {if can_decide { "Accept what you will act on; dismiss the rest with a note saying why. A dismissed finding comes back only if it gets materially worse (a higher severity, or 1.5 times the size)." } else { "Read-only: admins accept or dismiss." }}
        </p>
        <Form method="GET" action="/recommendations">
            <fieldset class="filters">
                <legend class="visually-hidden">"Filter recommendations"</legend>
                <label>"Status"
                    <select name="status">
                        {RecommendationStatus::ALL.iter().map(|s| view! { <option value=s.as_str() selected=filter.status == Some(*s)>{s.as_str()}</option> }).collect_view()}
                        <option value="all" selected=filter.status.is_none()>"all"</option>
                    </select>
                </label>
                <label>"Category"
                    <select name="category">
                        <option value="">"any"</option>
                        {Category::ALL.iter().map(|c| view! { <option value=c.as_str() selected=filter.category == Some(*c)>{c.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Severity"
                    <select name="severity">
                        <option value="">"any"</option>
                        {[Severity::Critical, Severity::Warning, Severity::Info].iter().map(|s| view! { <option value=s.as_str() selected=filter.severity == Some(*s)>{s.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Metric"
                    <select name="metric">
                        <option value="">"any"</option>
                        {metric_options.into_iter().map(|(key, label)| {
                            let chosen = filter.metric.as_deref() == Some(key.as_str());
                            view! { <option value=key selected=chosen>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit">"Filter"</button>
            </fieldset>
        </Form>
        {move || message.get().map(|(ok, text)| if ok {
            view! { <p class="form-ok" role="status" data-testid="decision-message">{text}</p> }.into_any()
        } else {
            view! { <p class="form-error" role="alert" data-testid="decision-message">{text}</p> }.into_any()
        })}
        {can_decide.then(|| view! { <BulkBar items selected decide/> })}
        {detail.then(|| view! { <p><a href="/recommendations">"Back to the open queue"</a></p> })}
        {move || items.with(|list| list.is_empty()).then(|| view! { <p class="empty" role="status">"Nothing matches these filters."</p> })}
        <div class="rec-list">
            <For each=move || items.get() key=|item| (item.id, item.status, item.version) let:item>
                <RecommendationCard item can_decide selected pending decide detail/>
            </For>
        </div>
    }
}

#[component]
fn BulkBar(items: RwSignal<Vec<Recommendation>>, selected: RwSignal<HashSet<Uuid>>, decide: Callback<Request>) -> impl IntoView {
    let note = RwSignal::new(String::new());
    let chosen = move || {
        let ids = selected.get();
        items.with(|list| list.iter().filter(|i| ids.contains(&i.id)).map(|i| (i.id, i.version)).collect::<Vec<_>>())
    };
    let count = move || selected.with(HashSet::len);
    view! {
        <section class="bulk-bar" aria-label="Decide on the selected recommendations">
            <span data-testid="selected-count">{move || format!("{} selected", count())}</span>
            <label>"Note" <input type="text" prop:value=note on:input=move |ev| note.set(event_target_value(&ev)) placeholder="required to dismiss"/></label>
            <button type="button" disabled=move || count() == 0 on:click=move |_| decide.run((chosen(), Decision::Accept, note.get_untracked()))>"Accept selected"</button>
            <button type="button" disabled=move || count() == 0 on:click=move |_| decide.run((chosen(), Decision::Dismiss, note.get_untracked()))>"Dismiss selected"</button>
        </section>
    }
}

#[component]
fn RecommendationCard(
    item: Recommendation,
    can_decide: bool,
    selected: RwSignal<HashSet<Uuid>>,
    pending: RwSignal<HashSet<Uuid>>,
    decide: Callback<Request>,
    /// The detail view: history open.
    detail: bool,
) -> impl IntoView {
    let id = item.id;
    let version = item.version;
    let status = item.status;
    let note = RwSignal::new(String::new());
    let e = item.evidence.clone();
    let slice = if e.dimensions.is_empty() { "all".to_string() } else { e.dimensions.iter().map(|(d, v)| format!("{d} {v}")).collect::<Vec<_>>().join(", ") };
    let numbers = match (e.observed, e.expected) {
        (Some(o), Some(x)) => format!("Observed {} against {} expected", format_value(o, &e.unit), format_value(x, &e.unit)),
        _ => String::new(),
    };
    let rows = e
        .series
        .iter()
        .map(|p| {
            let cell = |v: Option<f64>| v.map(|v| format_value(v, &e.unit)).unwrap_or_default();
            view! { <tr><td>{p.date.to_string()}</td><td class="num">{format_value(p.value, &e.unit)}</td><td class="num">{cell(p.expected)}</td><td class="num">{cell(p.low)}</td><td class="num">{cell(p.high)}</td></tr> }
        })
        .collect_view();
    let history = item.history.clone();
    let option = evidence_chart(&e);
    let summary = format!("{} ({slice}), {} to {}. {numbers}", e.metric_label, e.period_start, e.period_end);
    let caption = format!("{} ({slice})", e.metric_label);
    let chart_href = e.chart_href.clone();
    let label = item.title.clone();
    let busy = move || pending.with(|p| p.contains(&id));
    view! {
        <article class=format!("rec-card severity-{}", item.severity.as_str()) data-testid="recommendation" data-id=id.to_string() data-status=status.as_str() aria-busy=move || busy().to_string()>
            <header class="rec-head">
                {can_decide.then(|| view! {
                    <input type="checkbox" aria-label=format!("Select: {label}")
                        prop:checked=move || selected.with(|s| s.contains(&id))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            selected.update(|s| { if on { s.insert(id); } else { s.remove(&id); } });
                        }/>
                })}
                <span class=format!("badge severity-{}", item.severity.as_str())>{item.severity.as_str()}</span>
                <span class="badge">{item.category.as_str()}</span>
                <span class=format!("badge status-{}", status.as_str()) data-testid="status">{status.as_str()}</span>
                <h2><a href=format!("/recommendations?status=all&id={id}")>{item.title.clone()}</a></h2>
            </header>
            <p class="why">{item.description.clone()}</p>
            <EChart id=format!("rec-{id}") option summary>
                <table>
                    <caption>{caption}</caption>
                    <thead><tr><th scope="col">"Date"</th><th scope="col">"Observed"</th><th scope="col">"Expected"</th><th scope="col">"Low"</th><th scope="col">"High"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </EChart>
            <p class="rec-meta">
                <a href=chart_href>"Open in the dashboard"</a>
                {format!(" · {} v{} · raised {}", item.model_name, item.model_version, crate::format::utc_time(&item.created_at))}
            </p>
            <details class="rec-history" open=detail>
                <summary>{format!("History ({})", history.len())}</summary>
                <ol>
                    {history.into_iter().map(|h| view! {
                        <li>{format!("{} · {} by {}", crate::format::utc_time(&h.at), h.kind, h.actor)}{(!h.note.is_empty()).then(|| format!(": “{}”", h.note))}</li>
                    }).collect_view()}
                </ol>
            </details>
            {can_decide.then(|| view! {
                <div class="rec-decide">
                    <label>"Note" <input type="text" prop:value=note on:input=move |ev| note.set(event_target_value(&ev)) placeholder="why (required to dismiss)"/></label>
                    {if status == RecommendationStatus::Open {
                        view! {
                            <button type="button" disabled=busy on:click=move |_| decide.run((vec![(id, version)], Decision::Accept, note.get_untracked()))>"Accept"</button>
                            <button type="button" disabled=busy on:click=move |_| decide.run((vec![(id, version)], Decision::Dismiss, note.get_untracked()))>"Dismiss"</button>
                        }.into_any()
                    } else {
                        view! { <button type="button" disabled=busy on:click=move |_| decide.run((vec![(id, version)], Decision::Reopen, note.get_untracked()))>"Reopen"</button> }.into_any()
                    }}
                </div>
            })}
        </article>
    }
}
