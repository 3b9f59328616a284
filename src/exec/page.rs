//! The board page: grain and period pickers in the URL, KPI cards with both comparisons and a
//! sparkline, "what changed" sentences linking to their charts, open anomalies; prints on A4.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::api::{get_exec_summary, get_narrative};
use super::{ExecCard, ExecQuery, ExecSummary, LinkedFact};
use crate::analytics::delta::{ChangeAssessment, Delta};
use crate::charts::options::sparkline;
use crate::charts::EChart;
use crate::format::{format_relative, format_value};
use crate::ui::ErrorPanel;

#[component]
pub fn ExecPage() -> impl IntoView {
    let params = use_query_map();
    let choice = Memo::new(move |_| {
        let p = params.read();
        (p.get("grain").unwrap_or_default(), p.get("period").unwrap_or_default(), p.get("narrative").as_deref() == Some("current"))
    });
    // One resource for the summary and its narrative: a resource nested in another's rendering
    // is what the server-side render must otherwise wait for twice.
    let summary = Resource::new(
        move || choice.get(),
        |(grain, period, current)| async move {
            ExecQuery::parse(Some(&grain), Some(&period))?;
            let summary = get_exec_summary(grain.clone(), period.clone()).await?;
            let narrative = get_narrative("board".to_string(), grain, period, current).await;
            Ok::<_, crate::error::AppError>((summary, narrative))
        },
    );
    view! {
        <Title text="Board summary · InsightOps"/>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || summary.get().map(|result| match result {
                Ok((data, narrative)) => view! { <ExecBody data narrative/> }.into_any(),
                Err(error) => view! {
                    <h1>"Board summary"</h1>
                    <ErrorPanel error/>
                    <p><a href="/exec">"Show the last complete month"</a></p>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn ExecBody(data: ExecSummary, narrative: Result<super::NarrativeView, crate::error::AppError>) -> impl IntoView {
    let grain = data.query.grain;
    let period_options = data
        .choices
        .iter()
        .map(|(label, day)| view! { <option value=day.to_string() selected=*label == data.period_label>{label.clone()}</option> })
        .collect_view();
    view! {
        <section class="page-head">
            <h1>{format!("Board summary · {}", data.period_label)}</h1>
            <nav class="period-switcher no-print" aria-label="Period length">
                {ExecQuery::GRAINS.iter().map(|(g, token, label)| {
                    view! {
                        <a href=format!("/exec?grain={token}") class="period-option" aria-current=(*g == grain).then_some("true")>{*label}</a>
                    }
                }).collect_view()}
            </nav>
            <a class="button-link no-print" href=format!("/export/board.pdf?grain={}&period={}", ExecQuery::grain_token(grain), data.period_start)
                download="" rel="external" data-testid="board-pack">"Download PDF board pack"</a>
        </section>
        {match narrative {
            Ok(view) => view! { <super::narrative_page::NarrativePanel view toggle=Some(data.query.href())/> }.into_any(),
            Err(error) => view! { <section class="widget narrative"><ErrorPanel error/></section> }.into_any(),
        }}
        <Form method="GET" action="/exec">
            <fieldset class="filters no-print">
                <legend class="visually-hidden">"Period"</legend>
                <input type="hidden" name="grain" value=ExecQuery::grain_token(grain)/>
                <label>"Period"
                    <select name="period">{period_options}</select>
                </label>
                <button type="submit">"Show"</button>
            </fieldset>
        </Form>
        <p class="as-of" data-testid="as-of">
            {format!(
                "{} · {} ({} to {}) against {} and {} · data as of {}",
                data.org_name, data.period_label, data.period_start, data.period_end, data.previous_label, data.last_year_label, data.as_of
            )}
        </p>
        <div class="kpi-grid exec-grid">
            {data.cards.iter().map(|card| view! { <ExecCardView card=card.clone() previous=data.previous_label.clone() last_year=data.last_year_label.clone()/> }).collect_view()}
        </div>
        <div class="exec-columns">
            <section class="widget" aria-labelledby="changed-title">
                <h2 id="changed-title">"What changed"</h2>
                <FactList facts=data.what_changed.clone() empty="No metric moved against the previous period." testid="what-changed"/>
            </section>
            <section class="widget" aria-labelledby="anomalies-title">
                <h2 id="anomalies-title">"Open anomalies"</h2>
                <FactList facts=data.anomalies.clone() empty="No anomalous days in this period." testid="open-anomalies"/>
                <crate::patterns::page::RecurringPatterns patterns=data.recurring.clone() heading="Recurring"/>
                <p class="hint" data-testid="open-recommendations">
                    {match data.open_recommendations {
                        Some(n) => view! { <a href="/recommendations">{format!("{n} open recommendation(s) to review")}</a> }.into_any(),
                        None => view! { <span>"Recommendations are not available."</span> }.into_any(),
                    }}
                </p>
            </section>
        </div>
    }
}

#[component]
fn FactList(facts: Vec<LinkedFact>, empty: &'static str, testid: &'static str) -> impl IntoView {
    if facts.is_empty() {
        return view! { <p class="empty" data-testid=testid>{empty}</p> }.into_any();
    }
    view! {
        <ul class="fact-list" data-testid=testid>
            {facts.into_iter().map(|f| view! {
                <li><a href=f.href title="Open the chart with these numbers">{f.sentence}</a></li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// "Revenue, last 12 months: $2.88M in 2025-11 to $3.25M in 2026-10; high $3.65M in 2026-03."
fn sparkline_summary(card: &ExecCard) -> String {
    let known: Vec<(&str, f64)> = card.history.iter().filter_map(|p| Some((p.period.label.as_str(), p.aggregate.value?))).collect();
    let (Some(first), Some(last)) = (known.first(), known.last()) else {
        return format!("{} has no history to draw.", card.label);
    };
    let high = known.iter().copied().fold(*first, |best, p| if p.1 > best.1 { p } else { best });
    let v = |x: f64| format_value(x, &card.unit);
    format!(
        "{}, last {} periods: {} in {} to {} in {}; high {} in {}.",
        card.label,
        known.len(),
        v(first.1),
        first.0,
        v(last.1),
        last.0,
        v(high.1),
        high.0
    )
}

#[component]
fn ExecCardView(card: ExecCard, previous: String, last_year: String) -> impl IntoView {
    let value = card.vs_previous.current.map(|v| format_value(v, &card.unit)).unwrap_or_else(|| "No data".into());
    let points: Vec<crate::analytics::DailyValue> = card
        .history
        .iter()
        .filter_map(|p| Some(crate::analytics::DailyValue::new(p.period.start, p.aggregate.value?)))
        .collect();
    let spark_summary = sparkline_summary(&card);
    let rows = card
        .history
        .iter()
        .map(|p| view! { <tr><td>{p.period.label.clone()}</td><td class="num">{p.aggregate.value.map(|v| format_value(v, &card.unit)).unwrap_or_default()}</td></tr> })
        .collect_view();
    let heading = format!("exec-{}-label", card.metric_key);
    let labelled_by = heading.clone();
    let delta_line = |d: &Delta, against: &str| {
        let arrow = match d.relative {
            Some(r) if d.assessment != ChangeAssessment::Unchanged => if r >= 0.0 { "▲ " } else { "▼ " },
            _ => "",
        };
        view! {
            <p class=format!("kpi-delta {}", d.assessment.tone())>
                <span aria-hidden="true">{arrow}</span>
                {format_relative(d.relative)}
                <span class="visually-hidden">{format!(" ({})", d.assessment.tone())}</span>
                <span class="kpi-delta-base">{format!(" vs {against}")}</span>
            </p>
        }
    };
    view! {
        <article class="kpi-card" data-metric=card.metric_key.clone() aria-labelledby=labelled_by>
            <h2 id=heading class="kpi-label"><a href=card.dashboard_href.clone()>{card.label.clone()}</a></h2>
            <p class="kpi-value" data-testid="exec-value">{value}</p>
            <div data-testid="vs-previous">{delta_line(&card.vs_previous, &previous)}</div>
            <div data-testid="vs-last-year">{delta_line(&card.vs_last_year, &last_year)}</div>
            <EChart id=format!("spark-{}", card.metric_key) option=sparkline(&card.label, &points) summary=spark_summary>
                <table><caption>{format!("{} by period", card.label)}</caption>
                    <thead><tr><th scope="col">"Period"</th><th scope="col">{card.label.clone()}</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </EChart>
        </article>
    }
}
