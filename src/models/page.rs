//! `/admin/models`: the registry. Every version with its status, activate/deprecate/run now, a
//! form to register a new version (schema errors shown inline), and the run history.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::api::{list_models, ChangeModelStatus, RegisterModelVersion, RunModel};
use super::{ModelStatus, ModelSummary, ModelsPage};
use crate::domain::jobs::{JobStatus, JobSummary};
use crate::jobs::api::job_status;
use crate::ui::ErrorPanel;

#[component]
pub fn ModelsAdminPage() -> impl IntoView {
    let status = ServerAction::<ChangeModelStatus>::new();
    let register = ServerAction::<RegisterModelVersion>::new();
    let run = ServerAction::<RunModel>::new();
    let data = Resource::new(move || (status.version().get(), register.version().get(), run.version().get()), |_| list_models());
    // The queued run the page follows (job id, model label) and its latest state, re-read every
    // second in the browser until it ends; then the run history is reloaded.
    let following = RwSignal::new(None::<(String, String)>);
    let followed = RwSignal::new(None::<(Result<JobSummary, crate::error::AppError>, String)>);
    Effect::new(move |_| {
        if let Some(Ok((job, label))) = run.value().get() {
            following.set(Some((job.id.to_string(), label.clone())));
            followed.set(Some((Ok(job), label)));
        }
    });
    Effect::new(move |previous: Option<Option<leptos::leptos_dom::helpers::IntervalHandle>>| {
        if let Some(Some(handle)) = previous {
            handle.clear();
        }
        let poll = move || {
            let Some((id, label)) = following.get_untracked() else { return };
            leptos::task::spawn_local(async move {
                let state = job_status(id).await;
                let ended = state.as_ref().map_or(true, |j| !matches!(j.status, JobStatus::Queued | JobStatus::Running));
                followed.set(Some((state, label)));
                if ended {
                    following.set(None);
                    data.refetch();
                }
            });
        };
        set_interval_with_handle(poll, std::time::Duration::from_secs(1)).ok()
    });
    let run_message = move || -> Option<Result<String, String>> {
        if let Some(Err(e)) = run.value().get() {
            return Some(Err(e.to_string()));
        }
        followed.get().map(|(job, label)| match job {
            Ok(job) => run_text(&job, &label),
            Err(e) => Err(e.to_string()),
        })
    };
    let outcome = move || {
        run_message().or_else(|| status.value().get().map(|r| r.map(|m| format!("{} v{} is now {}.", m.name, m.version, m.status.as_str())).map_err(|e| e.to_string())))
    };
    view! {
        <Title text="Models · InsightOps"/>
        <h1>"Models"</h1>
        <p class="page-intro">"Each model runs code from the analytics module with the config of its active version. Runs raise recommendations; the same finding is never raised twice. \"Run now\" queues a run; it also runs by itself after new data arrives."</p>
        {move || outcome().map(|r| match r {
            Ok(text) => view! { <p class="form-ok" role="status" data-testid="model-message">{text}</p> }.into_any(),
            Err(text) => view! { <p class="form-error" role="alert" data-testid="model-message">{text}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || data.get().map(|result| match result {
                Ok(page) => view! { <Registry page status register run/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

/// A followed run in words: queued, running, how it ended.
fn run_text(job: &JobSummary, label: &str) -> Result<String, String> {
    let progress: serde_json::Value = serde_json::from_str(&job.progress).unwrap_or_default();
    match job.status {
        JobStatus::Queued => Ok(format!("{label}: queued (attempt {} of {})…", job.attempts + 1, job.max_attempts)),
        JobStatus::Running => Ok(format!("{label}: running…")),
        JobStatus::Succeeded if progress["status"] == "failed" => Err(format!("{label} failed: {}", progress["result"].as_str().unwrap_or_default())),
        JobStatus::Succeeded => Ok(format!("{label} ran in {} ms: {}", progress["duration_ms"].as_i64().unwrap_or(0), progress["result"].as_str().unwrap_or_default())),
        JobStatus::Failed | JobStatus::Cancelled => Err(format!("{label} did not run: {}", job.last_error.clone().unwrap_or_else(|| job.status.as_str().to_string()))),
    }
}

#[component]
fn Registry(
    page: ModelsPage,
    status: ServerAction<ChangeModelStatus>,
    register: ServerAction<RegisterModelVersion>,
    run: ServerAction<RunModel>,
) -> impl IntoView {
    let latest: Vec<ModelSummary> = {
        let mut seen = std::collections::HashSet::new();
        page.models.iter().filter(|m| seen.insert(m.name.clone())).cloned().collect()
    };
    view! {
        <table class="data-table" data-testid="models">
            <caption class="visually-hidden">"Model versions"</caption>
            <thead><tr><th scope="col">"Model"</th><th scope="col">"Version"</th><th scope="col">"Type"</th><th scope="col">"Status"</th><th scope="col">"Actions"</th></tr></thead>
            <tbody>
                {page.models.into_iter().map(|m| {
                    let id = m.id;
                    view! {
                        <tr data-model=m.name.clone() data-version=m.version.to_string()>
                            <td title=m.description.clone()>{m.name.clone()}</td>
                            <td class="num">{m.version}</td>
                            <td>{m.model_type.as_str()}</td>
                            <td>{m.status.as_str()}</td>
                            <td class="actions">
                                {(m.status != ModelStatus::Active).then(|| view! {
                                    <ActionForm action=status><input type="hidden" name="model_id" value=id.to_string()/><input type="hidden" name="action" value="activate"/><button type="submit">"Activate"</button></ActionForm>
                                })}
                                {(m.status != ModelStatus::Deprecated).then(|| view! {
                                    <ActionForm action=status><input type="hidden" name="model_id" value=id.to_string()/><input type="hidden" name="action" value="deprecate"/><button type="submit">"Deprecate"</button></ActionForm>
                                })}
                                {(m.status == ModelStatus::Active).then(|| view! {
                                    <ActionForm action=run><input type="hidden" name="model_id" value=id.to_string()/><button type="submit" disabled=move || run.pending().get()>"Run now"</button></ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <h2>"Register a new version"</h2>
        {latest.into_iter().map(|m| {
            let field = format!("config-{}", m.name);
            view! {
                <details class="model-register">
                    <summary>{format!("{} (latest v{})", m.name, m.version)}</summary>
                    <ActionForm action=register>
                        <input type="hidden" name="model_id" value=m.id.to_string()/>
                        <label for=field.clone()>"Config (JSON, checked against the model's input schema)"</label>
                        <textarea id=field name="config" rows="8" cols="70">{m.config.clone()}</textarea>
                        <button type="submit">"Register as a draft"</button>
                    </ActionForm>
                    <details><summary>"Input schema"</summary><pre>{m.input_schema.clone()}</pre></details>
                </details>
            }
        }).collect_view()}
        {move || register.value().get().map(|r| match r {
            Ok(m) => view! { <p class="form-ok" role="status">{format!("Registered {} v{} as a draft; activate it to use it.", m.name, m.version)}</p> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert" data-testid="config-error">{e.to_string()}</p> }.into_any(),
        })}
        <h2>"Runs"</h2>
        <table class="data-table" data-testid="executions">
            <caption class="visually-hidden">"Recent model runs"</caption>
            <thead><tr><th scope="col">"Started (UTC)"</th><th scope="col">"Model"</th><th scope="col">"Status"</th><th scope="col">"Duration"</th><th scope="col">"Result"</th><th scope="col">"By"</th></tr></thead>
            <tbody>
                {page.executions.into_iter().map(|e| view! {
                    <tr>
                        <td>{crate::format::utc_time(&e.started_at)}</td>
                        <td>{format!("{} v{}", e.model_name, e.model_version)}</td>
                        <td>{e.status.as_str()}</td>
                        <td class="num">{e.duration_ms.map(|d| format!("{d} ms")).unwrap_or_default()}</td>
                        <td>{e.result_text()}</td>
                        <td>{e.triggered_by}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
