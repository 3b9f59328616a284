//! `/ask?q=…`: the question box, the answer (sentences, a chart with its summary and data
//! table, the facts used with their dashboard links, the confidence and its reasons, or
//! suggestions), "was this useful", and the asker's history. The question is in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::api::{ask_history, ask_question, AskFeedback};
use super::{Answer, HistoryItem};
use crate::charts::options::daily_line;
use crate::charts::EChart;
use crate::format::format_value;
use crate::ui::ErrorPanel;

/// The question box; `/dashboard` shows it too.
#[component]
pub fn AskBox(#[prop(into)] value: Signal<String>) -> impl IntoView {
    view! {
        <Form method="GET" action="/ask">
            <div class="ask-box" role="search">
                <label for="ask-q">"Ask a question about your numbers"</label>
                <input id="ask-q" name="q" type="search" maxlength="300" required=true value=move || value.get()
                    placeholder="e.g. Why did revenue fall in EMEA last week?"/>
                <button type="submit">"Ask"</button>
            </div>
        </Form>
    }
}

#[component]
pub fn AskPage() -> impl IntoView {
    let params = use_query_map();
    let question = Memo::new(move |_| params.read().get("q").unwrap_or_default());
    // The answer and the history it joins, in one resource (so the history always holds it);
    // after a "was this useful" the history alone is read again.
    let answer = Resource::new(
        move || question.get(),
        |q| async move {
            let answer = if q.trim().is_empty() { None } else { Some(ask_question(q).await?) };
            Ok::<_, crate::error::AppError>((answer, ask_history().await?))
        },
    );
    let feedback = ServerAction::<AskFeedback>::new();
    let after_feedback = Resource::new(move || feedback.version().get(), |version| async move {
        if version == 0 { Ok(None) } else { ask_history().await.map(Some) }
    });
    let history = move || match (after_feedback.get(), answer.get()) {
        (Some(Ok(Some(items))), _) => Some(Ok(items)),
        (_, Some(Ok((_, items)))) => Some(Ok(items)),
        (_, Some(Err(error))) | (Some(Err(error)), _) => Some(Err(error)),
        _ => None,
    };
    view! {
        <Title text="Ask · InsightOps"/>
        <section class="page-head"><h1>"Ask a question"</h1></section>
        <AskBox value=question/>
        <Transition fallback=|| view! { <p class="loading" role="status">"Working it out…"</p> }>
            {move || answer.get().map(|result| match result {
                Ok((Some(a), _)) => view! { <AnswerView answer=a feedback/> }.into_any(),
                Ok((None, _)) => view! { <p class="hint">"Ask about a metric, a period and a slice: \"What was revenue last week?\", \"Top regions by orders this quarter\"."</p> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
        <section class="widget" aria-labelledby="history-title">
            <h2 id="history-title">"Your questions"</h2>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || history().map(|result| match result {
                    Ok(items) => view! { <History items/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

fn ask_href(question: &str) -> String {
    format!("/ask?q={}", form_urlencoded::byte_serialize(question.as_bytes()).collect::<String>())
}

#[component]
fn AnswerView(answer: Answer, feedback: ServerAction<AskFeedback>) -> impl IntoView {
    let understood = answer.parsed.is_some();
    let chart = answer.chart.clone().filter(|(_, _, series)| !series.is_empty()).map(|(label, unit, series)| {
        let summary = match (series.first(), series.last()) {
            (Some(a), Some(b)) => format!("{label} from {} ({}) to {} ({}), {} days.", a.date, format_value(a.value, &unit), b.date, format_value(b.value, &unit), series.len()),
            _ => format!("{label} has no data to draw."),
        };
        let rows = series.iter().map(|p| view! { <tr><td>{p.date.to_string()}</td><td class="num">{format_value(p.value, &unit)}</td></tr> }).collect_view();
        view! {
            <EChart id="chart-answer".to_string() option=daily_line(&label, &unit, &series) summary>
                <table><caption>{format!("{label} by day")}</caption>
                    <thead><tr><th scope="col">"Day"</th><th scope="col">{label.clone()}</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </EChart>
        }
    });
    let id = answer.insight_id.map(|i| i.to_string()).unwrap_or_default();
    view! {
        <section class="widget answer" aria-labelledby="answer-title" data-testid="answer">
            <h2 id="answer-title">{if understood { "Answer" } else { "Not understood" }}</h2>
            {answer.sentences.iter().map(|s| view! { <p class="answer-sentence">{s.clone()}</p> }).collect_view()}
            {answer.dashboard_href.clone().map(|href| view! { <p><a href=href data-testid="answer-link">"Open this view in the dashboard"</a></p> })}
            {chart}
            {(!answer.facts.is_empty()).then(|| view! {
                <h3>"Numbers used"</h3>
                <ul class="fact-list">{answer.facts.iter().map(|f| view! { <li><a href=f.href.clone()>{f.text.clone()}</a></li> }).collect_view()}</ul>
            })}
            {understood.then(|| view! {
                <p data-testid="confidence"><strong>{format!("Confidence {:.0}%", answer.confidence * 100.0)}</strong></p>
                <ul class="hint-list">{answer.reasons.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul>
            })}
            {(!answer.suggestions.is_empty()).then(|| view! {
                <h3>"Try asking"</h3>
                <ul data-testid="suggestions">{answer.suggestions.iter().map(|s| view! { <li><a href=ask_href(s)>{s.clone()}</a></li> }).collect_view()}</ul>
            })}
            {(!id.is_empty()).then(|| view! {
                <ActionForm action=feedback>
                    <fieldset class="feedback">
                        <legend>"Was this useful?"</legend>
                        <input type="hidden" name="insight_id" value=id.clone()/>
                        <button type="submit" name="useful" value="true">"Yes"</button>
                        <button type="submit" name="useful" value="false">"No"</button>
                    </fieldset>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn History(items: Vec<HistoryItem>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="empty">"No questions yet."</p> }.into_any();
    }
    view! {
        <ul class="fact-list" data-testid="ask-history">
            {items.into_iter().map(|item| {
                let mark = match item.useful { Some(true) => " · useful", Some(false) => " · not useful", None => "" };
                view! {
                    <li>
                        <a href=ask_href(&item.question)>{item.question.clone()}</a>
                        <span class="hint">{format!(" {} · confidence {:.0}%{mark}", item.created_at, item.confidence * 100.0)}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
