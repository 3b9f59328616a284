//! The overview page: period switcher in the URL (`?period=7|30|90`), cards rendered on the server
//! and refreshed in place after hydration when the period changes.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::get_exec_overview;
use super::kpi_card::KpiCardView;
use super::{ExecOverview, PeriodPreset};
use crate::ui::ErrorPanel;

#[component]
pub fn ExecOverviewPage() -> impl IntoView {
    let query = use_query_map();
    let period_param = Memo::new(move |_| query.read().get("period"));
    let overview = Resource::new(
        move || period_param.get(),
        |param| async move {
            let period = PeriodPreset::from_query(param.as_deref())?;
            get_exec_overview(period.days()).await
        },
    );
    let selected = move || PeriodPreset::from_query(period_param.get().as_deref()).ok();

    view! {
        <Title text="Overview · InsightOps"/>
        <section class="page-head">
            <h1>"Executive overview"</h1>
            <nav class="period-switcher" aria-label="Period">
                {PeriodPreset::ALL
                    .into_iter()
                    .map(|preset| {
                        let days = preset.days();
                        view! {
                            // A plain link: the router still navigates in place, and unlike <A>
                            // it does not mark every option as the current page.
                            <a
                                href=format!("/?period={days}")
                                class="period-option"
                                data-period=days
                                aria-current=move || (selected() == Some(preset)).then_some("true")
                            >
                                {format!("{days} days")}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
        </section>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || overview.get().map(|result| match result {
                Ok(data) => view! { <OverviewBody data/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn OverviewBody(data: ExecOverview) -> impl IntoView {
    let days = data.period.days();
    let as_of = data.as_of.map(|d| d.format("%e %B %Y").to_string());
    if data.cards.is_empty() || as_of.is_none() {
        return view! {
            <p class="empty" role="status">
                {format!("{} has no KPI data yet. Load data or run `insightops seed`.", data.org_name)}
            </p>
        }
        .into_any();
    }
    view! {
        <p class="as-of" data-testid="as-of">
            {format!("{} · last {days} days to {}", data.org_name, as_of.unwrap_or_default().trim())}
        </p>
        <div class="kpi-grid">
            {data.cards.into_iter().map(|card| view! { <KpiCardView card period_days=days/> }).collect_view()}
        </div>
    }
    .into_any()
}
