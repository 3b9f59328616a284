//! Filter controls every dashboard page shares. A dimension's values are a dropdown of
//! checkboxes (a disclosure, so it opens by keyboard and works before the page hydrates) with a
//! search box when the list is long and "All"/"None"; the checkboxes submit with their page's GET
//! form, one pair per value, so the filters stay in the URL. The chips name the active filters,
//! each a link to the same view without it.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::domain::{Dimension, DimensionFilter};

/// More values than this and the dropdown offers a search box.
const SEARCH_FROM: usize = 8;

#[component]
pub fn DimensionPicker(dimension: Dimension, values: Vec<String>, chosen: Vec<String>) -> impl IntoView {
    let name = dimension.as_str();
    let checked = RwSignal::new(values.iter().map(|v| chosen.contains(v)).collect::<Vec<bool>>());
    let search = RwSignal::new(String::new());
    let total = values.len();
    let shown = move || {
        let n = checked.with(|c| c.iter().filter(|b| **b).count());
        match n {
            0 => "any".to_string(),
            n if n == total => "all".to_string(),
            n => format!("{n} of {total}"),
        }
    };
    let set_all = move |on: bool| checked.update(|c| c.iter_mut().for_each(|b| *b = on));
    let details = NodeRef::<leptos::html::Details>::new();
    // Escape closes the dropdown and gives focus back to its toggle, as a menu does.
    let close_on_escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            if let Some(el) = details.get() {
                el.set_open(false);
                if let Some(summary) = el.first_element_child() {
                    let _ = summary.unchecked_into::<leptos::web_sys::HtmlElement>().focus();
                }
            }
        }
    };
    // A click anywhere else closes it, as a dropdown does. The page keeps this element across
    // navigations (it is patched in place), so without this it would stay open over the page.
    #[cfg(feature = "hydrate")]
    {
        let listener = window_event_listener(leptos::ev::click, move |ev| {
            let Some(el) = details.get_untracked() else { return };
            let inside = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::Node>().ok()).is_some_and(|n| el.contains(Some(&n)));
            if !inside {
                el.set_open(false);
            }
        });
        on_cleanup(move || listener.remove());
    }
    let options = values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let lower = value.to_lowercase();
            let visible = move || search.with(|s| s.is_empty() || lower.contains(&s.to_lowercase()));
            let initially = checked.with_untracked(|c| c[i]);
            view! {
                <li class:hidden=move || !visible()>
                    <label>
                        <input type="checkbox" name=name value=value.clone() checked=initially
                            prop:checked=move || checked.with(|c| c[i])
                            on:change=move |ev| checked.update(|c| c[i] = event_target_checked(&ev))/>
                        {value.clone()}
                    </label>
                </li>
            }
        })
        .collect_view();
    view! {
        <details class="picker" node_ref=details on:keydown=close_on_escape data-testid=format!("filter-{name}")>
            <summary>
                <span class="picker-label">{dimension.label()}</span>
                <span class="picker-value">{shown}</span>
            </summary>
            <div class="picker-panel">
                {(total > SEARCH_FROM).then(|| view! {
                    <input type="search" class="picker-search" placeholder="Search…"
                        aria-label=format!("Search {}", dimension.plural().to_lowercase())
                        prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev))/>
                })}
                <div class="picker-actions">
                    <button type="button" on:click=move |_| set_all(true)>{format!("All {}", dimension.plural().to_lowercase())}</button>
                    <button type="button" on:click=move |_| set_all(false)>"None"</button>
                </div>
                <fieldset>
                    <legend class="visually-hidden">{dimension.plural()}</legend>
                    <ul>{options}</ul>
                </fieldset>
            </div>
        </details>
    }
}

/// The active dimension filters as removable chips; `href` makes the link of a view with a filter.
#[component]
pub fn FilterChips(filter: DimensionFilter, href: Callback<DimensionFilter, String>) -> impl IntoView {
    let chips: Vec<(String, String)> = Dimension::ALL
        .into_iter()
        .flat_map(|d| filter.values(d).iter().map(move |v| (d, v.clone())))
        .map(|(d, v)| (format!("{}: {v}", d.label()), href.run(filter.without(d, &v))))
        .collect();
    if chips.is_empty() {
        return ().into_any();
    }
    let clear = href.run(DimensionFilter::default());
    view! {
        <ul class="chips" aria-label="Active filters" data-testid="filter-chips">
            {chips.into_iter().map(|(label, link)| {
                let aria = format!("Remove filter {label}");
                view! { <li><a href=link aria-label=aria>{label}<span aria-hidden="true">" ×"</span></a></li> }
            }).collect_view()}
            <li><a href=clear class="chips-clear">"Clear filters"</a></li>
        </ul>
    }
    .into_any()
}
