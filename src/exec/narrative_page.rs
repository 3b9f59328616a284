//! The narrative panel: the headline, the paragraphs with each sentence linked to the chart its
//! numbers come from and to the facts it cites, who wrote it and when, and a note when the data
//! changed since. The board page and the dashboard both show it.

use leptos::prelude::*;

use super::api::get_narrative;
use super::NarrativeView;
use crate::analytics::story::{Author, StoredBy};
use crate::ui::ErrorPanel;

/// Loads and shows the narrative of `audience` for `grain` and `period` (the dashboard's; the
/// board page loads its narrative with its summary).
#[component]
pub fn Narrative(audience: &'static str, grain: Signal<String>, period: Signal<String>, current: Signal<bool>, toggle: Option<Signal<String>>) -> impl IntoView {
    let narrative = Resource::new(
        move || (grain.get(), period.get(), current.get()),
        move |(grain, period, current)| get_narrative(audience.to_string(), grain, period, current),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the summary…"</p> }>
            {move || narrative.get().map(|result| match result {
                Ok(view) => view! { <NarrativePanel view toggle=toggle.map(|t| t.get())/> }.into_any(),
                Err(error) => view! { <section class="widget narrative"><ErrorPanel error/></section> }.into_any(),
            })}
        </Transition>
    }
}

fn byline(view: &NarrativeView) -> String {
    let by = match (&view.author, &view.model_name) {
        (Author::Llm, Some(model)) => format!("written by the model {model}, every number checked against the facts"),
        _ => "written from the facts below".to_string(),
    };
    match (&view.written_at, view.stored_by) {
        (Some(at), Some(StoredBy::Scheduled)) => format!("{} summary, {by}; stored {at} when the period closed.", view.period_label),
        (Some(at), _) => format!("{} summary, {by}; stored {at} when first opened.", view.period_label),
        (None, _) => format!("{} summary as of today's data, {by}.", view.period_label),
    }
}

/// The narrative as loaded; `toggle` is the page's own URL without `narrative=`.
#[component]
pub fn NarrativePanel(view: NarrativeView, toggle: Option<String>) -> impl IntoView {
    let byline = byline(&view);
    let sep = |href: &str| if href.contains('?') { '&' } else { '?' };
    let changed = match (&toggle, view.changed_since, view.showing_current) {
        (Some(href), true, false) => Some(view! {
            <p class="notice" role="note" data-testid="narrative-changed">
                {format!("The data changed since this summary was written ({}). ", view.written_at.clone().unwrap_or_default())}
                <a href=format!("{href}{}narrative=current", sep(href))>"Show it as of today"</a>
            </p>
        }.into_any()),
        (Some(href), _, true) => Some(view! {
            <p class="notice" role="note" data-testid="narrative-changed">
                "This text is written from today's data. "
                <a href=href.clone()>"Show the summary as it was stored"</a>
            </p>
        }.into_any()),
        (None, true, _) => Some(view! {
            <p class="notice" role="note" data-testid="narrative-changed">"The data changed since this summary was written."</p>
        }.into_any()),
        _ => None,
    };
    let withheld = (view.withheld > 0).then(|| view! {
        <p class="hint" data-testid="narrative-withheld">{format!("{} sentence(s) left out: they cite metrics your role may not see.", view.withheld)}</p>
    });
    let fact_count = view.facts.len();
    view! {
        <section class="widget narrative" aria-labelledby="narrative-title" data-testid="narrative">
            <h2 id="narrative-title" data-testid="narrative-headline">{sentence_view(view.headline.clone())}</h2>
            <p class="hint">{byline}</p>
            {changed}
            {view.paragraphs.into_iter().map(|p| view! {
                <h3 class="narrative-topic">{p.heading}</h3>
                <p class="narrative-paragraph">{p.sentences.into_iter().map(|s| view! { {sentence_view(s)}" " }).collect_view()}</p>
            }).collect_view()}
            {withheld}
            <details class="narrative-facts">
                <summary>{format!("Facts cited ({fact_count})")}</summary>
                <ol>
                    {view.facts.into_iter().map(|f| view! {
                        <li id=format!("fact-{}", f.id)><span class="fact-id">{f.id.clone()}</span>" "<a href=f.href>{f.text}</a></li>
                    }).collect_view()}
                </ol>
            </details>
        </section>
    }
}

/// A sentence linked to its first fact's chart, with its fact ids linked to the list below.
fn sentence_view(s: super::ViewSentence) -> impl IntoView {
    let text = match s.href {
        Some(href) => view! { <a href=href class="cited" title="Open the chart with these numbers">{s.text}</a> }.into_any(),
        None => view! { <span>{s.text}</span> }.into_any(),
    };
    let cites = s.cites.into_iter().map(|id| view! { <a class="cite" href=format!("#fact-{id}") aria-label=format!("fact {id}")>{id.clone()}</a> }).collect_view();
    view! { <span class="sentence">{text}<sup class="cites">{cites}</sup></span> }
}
