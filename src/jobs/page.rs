//! `/admin/jobs`: the org's queued, running, failed and finished jobs with their attempts, timings
//! and errors (retry or cancel, audited), and the schedules with their next three runs. The list
//! refreshes itself every few seconds so a running job's state is seen as it changes.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;

use super::api::{list_jobs, ChangeJob};
use super::{JobStatus, JobSummary, JobsPage, ScheduleSummary};
use crate::ui::ErrorPanel;

/// Seconds between refreshes of the list.
const REFRESH_SECS: u64 = 3;

#[component]
pub fn JobsAdminPage() -> impl IntoView {
    let location = use_location();
    let change = ServerAction::<ChangeJob>::new();
    let data = Resource::new(move || (location.search.get(), change.version().get()), |(search, _)| list_jobs(search));
    // Refetch in place; the handle is dropped with the page.
    Effect::new(move |previous: Option<Option<leptos::leptos_dom::helpers::IntervalHandle>>| {
        if let Some(Some(handle)) = previous {
            handle.clear();
        }
        set_interval_with_handle(move || data.refetch(), std::time::Duration::from_secs(REFRESH_SECS)).ok()
    });
    view! {
        <Title text="Jobs · InsightOps"/>
        <h1>"Jobs"</h1>
        <p class="page-intro">"Background work: detection after new data, model runs, pattern reviews, retention and cache warm-up. A failed attempt is retried with a growing delay; after the last attempt the job stays failed with its error until someone retries it."</p>
        {move || change.value().get().map(|r| match r {
            Ok(job) => view! { <p class="form-ok" role="status" data-testid="job-message">{format!("{} is now {}.", job.kind.label(), job.status.as_str())}</p> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert" data-testid="job-message">{e.to_string()}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || data.get().map(|result| match result {
                Ok(page) => view! { <JobsBody page change/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn JobsBody(page: JobsPage, change: ServerAction<ChangeJob>) -> impl IntoView {
    let count = page.jobs.len();
    let status = page.status;
    view! {
        <p class="as-of">{format!("Environment {} · {} worker(s) in this server", page.environment, page.workers_here)}</p>
        <Form method="GET" action="/admin/jobs">
            <fieldset class="filters">
                <legend class="visually-hidden">"Filter jobs"</legend>
                <label>"Status"
                    <select name="status">
                        <option value="all">"Any"</option>
                        {JobStatus::ALL.iter().map(|s| view! { <option value=s.as_str() selected=status == Some(*s)>{s.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit">"Filter"</button>
            </fieldset>
        </Form>
        <p role="status">{if count == 0 { "No jobs match.".to_string() } else { format!("{count} job(s), newest first.") }}</p>
        <div class="table-scroll">
            <table class="data-table" data-testid="jobs">
                <caption class="visually-hidden">"Jobs"</caption>
                <thead><tr>
                    <th scope="col">"Kind"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th><th scope="col">"Created (UTC)"</th>
                    <th scope="col">"Runs at"</th><th scope="col">"Took"</th><th scope="col">"Result or error"</th><th scope="col">"Actions"</th>
                </tr></thead>
                <tbody>{page.jobs.into_iter().map(|job| view! { <JobRow job change/> }).collect_view()}</tbody>
            </table>
        </div>
        <h2>"Schedules"</h2>
        <ScheduleTable schedules=page.schedules/>
    }
}

#[component]
fn JobRow(job: JobSummary, change: ServerAction<ChangeJob>) -> impl IntoView {
    let id = job.id.to_string();
    let action = move |verb: &'static str, label: &'static str| {
        let id = id.clone();
        view! { <ActionForm action=change><input type="hidden" name="job_id" value=id/><input type="hidden" name="action" value=verb/><button type="submit">{label}</button></ActionForm> }
    };
    let outcome = job.last_error.clone().filter(|_| job.status != JobStatus::Succeeded).unwrap_or_else(|| job.progress.clone());
    view! {
        <tr data-kind=job.kind.as_str() data-status=job.status.as_str()>
            <td>{job.kind.label()}</td>
            <td data-testid="job-status">{job.status.as_str()}</td>
            <td class="num">{format!("{} of {}", job.attempts, job.max_attempts)}</td>
            <td>{crate::format::utc_time(&job.created_at)}</td>
            <td>{crate::format::utc_time(&job.run_at)}</td>
            <td class="num">{job.duration_ms.map(|d| format!("{d} ms")).unwrap_or_default()}</td>
            <td><code>{outcome}</code></td>
            <td class="actions">
                {job.status.can_retry().then(|| action("retry", "Retry"))}
                {job.status.can_cancel().then(|| action("cancel", "Cancel"))}
            </td>
        </tr>
    }
}

#[component]
fn ScheduleTable(schedules: Vec<ScheduleSummary>) -> impl IntoView {
    view! {
        <table class="data-table" data-testid="schedules">
            <caption class="visually-hidden">"Scheduled jobs and their next runs"</caption>
            <thead><tr><th scope="col">"Schedule"</th><th scope="col">"Job"</th><th scope="col">"Cron (UTC)"</th><th scope="col">"Runs here"</th><th scope="col">"Next three runs (UTC)"</th></tr></thead>
            <tbody>
                {schedules.into_iter().map(|s| view! {
                    <tr data-schedule=s.name.clone()>
                        <td>{s.name.clone()}</td>
                        <td>{s.kind.label()}</td>
                        <td><code>{s.cron.clone()}</code></td>
                        <td>{if s.enabled { "yes" } else { "no (not in this environment)" }}</td>
                        <td>{s.next_runs.iter().map(|t| crate::format::utc_time(t)).collect::<Vec<_>>().join(" · ")}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
