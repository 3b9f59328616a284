//! `/reports`: the templates this user sees (with schedule and next runs), a form to create or
//! edit one (`?edit=`, or `?view=` from the dashboard's "Save as report"), "Generate now", and
//! the history of generated reports, refreshed every two seconds while one is being made.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::{get_reports, DeleteReportTemplate, GenerateReport, SaveReportTemplate};
use super::{ExportGrain, ReportFormat, ReportStatus, ReportSummary, ReportsPage as PageData, TemplateStatus, TemplateSummary};
use crate::format::utc_time;
use crate::ui::ErrorPanel;

/// Seconds between refreshes while a report is pending or generating.
const REFRESH_SECS: u64 = 2;

#[component]
pub fn ReportsPage() -> impl IntoView {
    let params = use_query_map();
    let query_string = Memo::new(move |_| params.read().to_query_string());
    let save = ServerAction::<SaveReportTemplate>::new();
    let generate = ServerAction::<GenerateReport>::new();
    let delete = ServerAction::<DeleteReportTemplate>::new();
    let data = Resource::new(
        move || (query_string.get(), save.version().get(), generate.version().get(), delete.version().get()),
        |(text, ..)| get_reports(text.trim_start_matches('?').to_string()),
    );
    // While a report waits or runs, poll the page's data in place; leaving the page stops it.
    let timer = StoredValue::new(None::<leptos::leptos_dom::helpers::IntervalHandle>);
    let stop = move || {
        if let Some(handle) = timer.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    Effect::new(move |_| {
        stop();
        let waiting = data.get().and_then(|r| r.ok()).is_some_and(|d| d.is_waiting());
        if waiting {
            timer.set_value(set_interval_with_handle(move || data.refetch(), std::time::Duration::from_secs(REFRESH_SECS)).ok());
        }
    });
    on_cleanup(stop);
    view! {
        <Title text="Reports · InsightOps"/>
        <h1>"Reports"</h1>
        <p class="page-intro">"A report template is a saved dashboard view with a format and a schedule. Each run makes a file kept here: CSV or JSON rows of the view, or the PDF board pack of the last complete month. Times are UTC."</p>
        {move || save.value().get().map(|r| message(r.map(|_| "Template saved.".to_string()), "template-message"))}
        {move || generate.value().get().map(|r| message(r.map(|_| "Report queued: its status below updates by itself.".to_string()), "generate-message"))}
        {move || delete.value().get().map(|r| message(r.map(|_| "Template deleted.".to_string()), "delete-message"))}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || data.get().map(|result| match result {
                Ok(page) => view! { <Body page save generate delete/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

/// The outcome of one kind of action, under its own test id.
fn message(result: Result<String, crate::error::AppError>, testid: &'static str) -> impl IntoView {
    match result {
        Ok(text) => view! { <p class="form-ok" role="status" data-testid=testid>{text}</p> }.into_any(),
        Err(e) => view! { <p class="form-error" role="alert" data-testid=testid>{e.to_string()}</p> }.into_any(),
    }
}

#[component]
fn Body(page: PageData, save: ServerAction<SaveReportTemplate>, generate: ServerAction<GenerateReport>, delete: ServerAction<DeleteReportTemplate>) -> impl IntoView {
    let form = page.can_manage.then(|| view! { <TemplateFormView editing=page.editing.clone() view=page.query.view.clone() save/> });
    let history_title = match page.query.template.and_then(|id| page.templates.iter().find(|t| t.id == id)) {
        Some(t) => format!("History of {}", t.name),
        None => "History".to_string(),
    };
    view! {
        {form}
        <h2>"Templates"</h2>
        <TemplateTable templates=page.templates can_manage=page.can_manage generate delete/>
        <h2 id="history-title">{history_title}</h2>
        {page.query.template.map(|_| view! { <p><a href="/reports">"Show every template's reports"</a></p> })}
        <HistoryTable reports=page.history/>
    }
}

#[component]
fn TemplateFormView(editing: Option<TemplateSummary>, view: Option<String>, save: ServerAction<SaveReportTemplate>) -> impl IntoView {
    let legend = if editing.is_some() { "Edit template" } else { "New report template" };
    let t = editing.clone();
    let value = move |pick: fn(&TemplateSummary) -> String| t.as_ref().map(pick).unwrap_or_default();
    let query = editing.as_ref().map(|t| t.query.clone()).or(view).unwrap_or_default();
    let schedule = editing.as_ref().map_or("weekly".to_string(), |t| t.schedule.clone());
    let (format, grain, status) = editing.as_ref().map_or((ReportFormat::Csv, ExportGrain::Day, TemplateStatus::Active), |t| (t.format, t.grain, t.status));
    let option = |value: &'static str, label: &'static str, selected: bool| view! { <option value=value selected=selected>{label}</option> };
    view! {
        <ActionForm action=save>
            <fieldset class="filters" data-testid="template-form">
                <legend>{legend}</legend>
                <input type="hidden" name="template_id" value=editing.as_ref().map(|t| t.id.to_string()).unwrap_or_default()/>
                <label>"Name" <input type="text" name="name" required maxlength="200" value=value(|t| t.name.clone()) placeholder="Weekly revenue EMEA"/></label>
                <label>"Description" <input type="text" name="description" maxlength="2000" value=value(|t| t.description.clone())/></label>
                <label>"Dashboard view" <input type="text" name="view" maxlength="4000" value=query placeholder="metric=revenue&range=30d&region=EMEA"/></label>
                <label>"Format"
                    <select name="format">
                        {ReportFormat::ALL.into_iter().map(|f| option(f.as_str(), f.label(), f == format)).collect_view()}
                    </select>
                </label>
                <label>"Rows per"
                    <select name="grain">
                        {ExportGrain::ALL.into_iter().map(|g| option(g.as_str(), g.as_str(), g == grain)).collect_view()}
                    </select>
                </label>
                <label>"Schedule" <input type="text" name="schedule" required maxlength="128" value=schedule list="schedules" aria-describedby="schedule-help"/></label>
                <datalist id="schedules"><option value="once"/><option value="daily"/><option value="weekly"/><option value="monthly"/><option value="0 7 * * 1-5"/></datalist>
                <label>"Status"
                    <select name="status">
                        {option("active", "Active", status == TemplateStatus::Active)}
                        {option("paused", "Paused", status == TemplateStatus::Paused)}
                    </select>
                </label>
                <p id="schedule-help" class="hint">"once (right away), daily, weekly (Mondays) or monthly (the 1st), at 06:00 UTC, or a cron expression: minute hour day month weekday."</p>
                <button type="submit">"Save template"</button>
            </fieldset>
        </ActionForm>
    }
}

#[component]
fn TemplateTable(templates: Vec<TemplateSummary>, can_manage: bool, generate: ServerAction<GenerateReport>, delete: ServerAction<DeleteReportTemplate>) -> impl IntoView {
    if templates.is_empty() {
        return view! { <p role="status">"No report templates yet. On the dashboard, “Save as report” starts one from the view you see."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="data-table" data-testid="report-templates">
                <caption class="visually-hidden">"Report templates"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Format"</th><th scope="col">"Schedule"</th><th scope="col">"Next runs (UTC)"</th>
                    <th scope="col">"Status"</th><th scope="col">"Owner"</th>{can_manage.then(|| view! { <th scope="col">"Actions"</th> })}
                </tr></thead>
                <tbody>
                    {templates.into_iter().map(|t| {
                        let id = t.id.to_string();
                        let actions = can_manage.then(|| {
                            let (edit, delete_id) = (format!("/reports?edit={id}"), id.clone());
                            let (generate_label, edit_label, delete_label) = (format!("Generate now {}", t.name), format!("Edit {}", t.name), format!("Delete {}", t.name));
                            let generate_id = id.clone();
                            view! {
                                <td class="actions">
                                    <ActionForm action=generate>
                                        <input type="hidden" name="template_id" value=generate_id/>
                                        <button type="submit" aria-label=generate_label>"Generate now"</button>
                                    </ActionForm>
                                    <a href=edit aria-label=edit_label>"Edit"</a>
                                    <ActionForm action=delete>
                                        <input type="hidden" name="template_id" value=delete_id/>
                                        <button type="submit" class="danger" aria-label=delete_label>"Delete"</button>
                                    </ActionForm>
                                </td>
                            }
                        });
                        view! {
                            <tr data-template=t.name.clone()>
                                <td><a href=format!("/reports?template={id}")>{t.name.clone()}</a>{(!t.description.is_empty()).then(|| view! { <br/><small>{t.description.clone()}</small> })}</td>
                                <td>{t.format.label()}</td>
                                <td><code>{t.schedule.clone()}</code></td>
                                <td>{if t.next_runs.is_empty() { "none".to_string() } else { t.next_runs.iter().map(|r| utc_time(r)).collect::<Vec<_>>().join(", ") }}</td>
                                <td>{t.status.as_str()}</td>
                                <td>{t.owner_email.clone()}</td>
                                {actions}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

fn size_text(bytes: Option<i64>) -> String {
    match bytes {
        Some(b) if b >= 1_048_576 => format!("{:.1} MB", b as f64 / 1_048_576.0),
        Some(b) if b >= 1024 => format!("{:.1} kB", b as f64 / 1024.0),
        Some(b) => format!("{b} B"),
        None => String::new(),
    }
}

#[component]
fn HistoryTable(reports: Vec<ReportSummary>) -> impl IntoView {
    if reports.is_empty() {
        return view! { <p role="status" data-testid="report-history-empty">"No reports generated yet."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="data-table" data-testid="report-history" aria-labelledby="history-title">
                <thead><tr>
                    <th scope="col">"Template"</th><th scope="col">"Status"</th><th scope="col">"Requested"</th><th scope="col">"Rows"</th>
                    <th scope="col">"Size"</th><th scope="col">"Took"</th><th scope="col">"File"</th>
                </tr></thead>
                <tbody>
                    {reports.into_iter().map(|r| {
                        let status = match (&r.status, &r.error) {
                            (ReportStatus::Failed, Some(e)) => format!("failed after {} attempts: {e}", r.attempts),
                            (ReportStatus::Pending, Some(e)) => format!("waiting to retry: {e}"),
                            (s, _) => s.as_str().to_string(),
                        };
                        let file = (r.status == ReportStatus::Ready).then(|| view! {
                            <a href=r.download_href() download="" data-testid="report-download">{format!("Download {}", r.format.as_str().to_uppercase())}</a>
                        });
                        view! {
                            <tr data-report-status=r.status.as_str() data-template=r.template_name.clone()>
                                <td>{r.template_name.clone()}</td>
                                <td>{status}</td>
                                <td>{format!("{} by {} ({})", utc_time(&r.created_at), r.requested_by, r.trigger.as_str())}</td>
                                <td>{r.row_count.map(|n| n.to_string()).unwrap_or_default()}</td>
                                <td>{size_text(r.size_bytes)}</td>
                                <td>{r.duration_ms.map(|ms| format!("{ms} ms")).unwrap_or_default()}</td>
                                <td>{file}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
