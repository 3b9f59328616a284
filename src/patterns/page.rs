//! The "recurring" list the board page and the dashboard show.

use leptos::prelude::*;

use super::RecurringPattern;

/// Recurring patterns, newest first, each a sentence with its sources; nothing when there are none.
#[component]
pub fn RecurringPatterns(patterns: Vec<RecurringPattern>, heading: &'static str) -> impl IntoView {
    (!patterns.is_empty()).then(|| {
        view! {
            <section class="recurring" data-testid="recurring" aria-labelledby="recurring-heading">
                <h2 id="recurring-heading">{heading}</h2>
                <ul>
                    {patterns.into_iter().map(|p| {
                        let sources = (!p.sources.is_empty()).then(|| format!(" Sources: {}.", p.sources.join("; ")));
                        view! {
                            <li data-window=p.window.clone() data-metric=p.metric_key.clone()>
                                <span class="badge">{format!("recurring · {}", p.window)}</span>" "{p.sentence()}"."{sources}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        }
    })
}
