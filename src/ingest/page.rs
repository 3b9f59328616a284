//! `/data`: upload a CSV of KPIs or signals. "Check file" sends it as a dry run and shows the first
//! rows as their columns were read and every error with its line; "Load" writes it (all or nothing
//! unless "skip bad rows" is ticked) with a progress bar while the file goes up. Below, the org's
//! recent loads: who, when, how many rows, how many errors.

use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;

use super::api::data_overview;
use super::{DataPage, IngestReport, IngestRow, UploadResult};
use crate::ui::ErrorPanel;

/// What the upload area shows: nothing yet, a file going up (percent), or the server's answer.
#[derive(Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum UploadState {
    Idle,
    Sending(Option<f64>),
    Done { dry_run: bool, result: Result<UploadResult, String> },
}

/// The upload's address: target, mode, whether new metrics may be created, dry run or not.
fn upload_url(target: &str, partial: bool, create_metrics: bool, dry_run: bool) -> String {
    let target = if target == "signals" { "signals" } else { "kpis" };
    format!("/api/upload/{target}?mode={}&create_metrics={create_metrics}&dry_run={dry_run}", if partial { "partial" } else { "all" })
}

#[component]
pub fn DataUploadPage() -> impl IntoView {
    let state = RwSignal::new(UploadState::Idle);
    // Loads finished on this page: the history is fetched again after each.
    let loaded = RwSignal::new(0u32);
    let loads = Resource::new(move || loaded.get(), |_| data_overview());
    let file: NodeRef<html::Input> = NodeRef::new();
    let target: NodeRef<html::Select> = NodeRef::new();
    let partial: NodeRef<html::Input> = NodeRef::new();
    let create: NodeRef<html::Input> = NodeRef::new();
    let send = move |dry_run: bool| {
        let checked = |r: NodeRef<html::Input>| r.get().is_some_and(|i| i.checked());
        let url = upload_url(&target.get().map(|s| s.value()).unwrap_or_default(), checked(partial), checked(create), dry_run);
        start_upload(file, url, dry_run, Progress { state, loaded });
    };
    view! {
        <Title text="Load data · InsightOps"/>
        <h1>"Load data"</h1>
        <p class="page-intro">"Upload a CSV with a header row: date (YYYY-MM-DD), metric, value, and optionally unit, region, segment, channel, product and source. A row with the same date, metric, dimensions and source as a stored one replaces its value. Check the file first: nothing is written until you load it, and a load with any bad row writes nothing unless you choose to skip bad rows."</p>
        <form class="filters upload" on:submit=move |ev| { ev.prevent_default(); send(false); }>
            <label>"File" <input type="file" name="file" accept=".csv,text/csv" required node_ref=file data-testid="upload-file"/></label>
            <label>"Data"
                <select name="target" node_ref=target>
                    <option value="kpis" selected>"KPIs"</option>
                    <option value="signals">"Engagement signals"</option>
                </select>
            </label>
            <label class="check"><input type="checkbox" name="partial" node_ref=partial/>"Skip bad rows (load the good ones)"</label>
            <label class="check"><input type="checkbox" name="create_metrics" node_ref=create/>"Create new metrics (rows give direction and aggregation)"</label>
            <button type="button" on:click=move |_| send(true) data-testid="upload-check">"Check file"</button>
            <button type="submit" data-testid="upload-load">"Load"</button>
        </form>
        {move || match state.get() {
            UploadState::Idle => ().into_any(),
            UploadState::Sending(percent) => view! { <UploadProgress percent/> }.into_any(),
            UploadState::Done { dry_run, result: Ok(result) } => view! { <UploadOutcome dry_run result/> }.into_any(),
            UploadState::Done { result: Err(message), .. } => view! { <p class="form-error" role="alert" data-testid="upload-message">{message}</p> }.into_any(),
        }}
        <h2>"Recent loads"</h2>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || loads.get().map(|result| match result {
                Ok(page) => view! { <LoadHistory page/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn UploadProgress(percent: Option<f64>) -> impl IntoView {
    let text = percent.map_or_else(|| "Sending…".to_string(), |p| format!("Sending: {p:.0} %"));
    view! {
        <p role="status" data-testid="upload-progress">
            <label>{text.clone()}" "<progress max="100" value=percent.unwrap_or(0.0) aria-valuetext=text></progress></label>
        </p>
    }
}

fn summary(dry_run: bool, r: &IngestReport) -> String {
    let good = r.rows.saturating_sub(r.rejected);
    if dry_run {
        return format!("Checked {} rows: {good} can be loaded, {} have errors. Nothing was written.", r.rows, r.rejected);
    }
    if !r.written {
        return format!("Nothing was loaded: {} of {} rows have errors. Fix them, or tick \"Skip bad rows\".", r.rejected, r.rows);
    }
    format!("Loaded {} rows: {} new, {} updated, {} unchanged, {} rejected.", r.rows, r.inserted, r.updated, r.unchanged, r.rejected)
}

#[component]
fn UploadOutcome(dry_run: bool, result: UploadResult) -> impl IntoView {
    let report = result.report;
    let ok = report.rejected == 0 || report.written;
    let created = (!report.created_metrics.is_empty()).then(|| format!("New metrics: {}.", report.created_metrics.join(", ")));
    view! {
        <section aria-labelledby="upload-result">
            <h2 id="upload-result">{if dry_run { "Check" } else { "Load" }}</h2>
            <p class=if ok { "form-ok" } else { "form-error" } role="status" data-testid="upload-message">{summary(dry_run, &report)}</p>
            {created.map(|c| view! { <p>{c}</p> })}
            <PreviewTable rows=result.preview/>
            {(!report.errors.is_empty()).then(|| view! {
                <div class="table-scroll">
                    <table class="data-table" data-testid="upload-errors">
                        <caption>{format!("{} row error(s)", report.errors.len())}</caption>
                        <thead><tr><th scope="col">"Line"</th><th scope="col">"Row"</th><th scope="col">"Field"</th><th scope="col">"Error"</th></tr></thead>
                        <tbody>{report.errors.into_iter().take(500).map(|e| view! {
                            <tr><td class="num">{e.line.map(|l| l.to_string()).unwrap_or_default()}</td><td class="num">{e.row}</td><td>{e.field}</td><td>{e.error}</td></tr>
                        }).collect_view()}</tbody>
                    </table>
                </div>
            })}
        </section>
    }
}

#[component]
fn PreviewTable(rows: Vec<IngestRow>) -> impl IntoView {
    if rows.is_empty() {
        return ().into_any();
    }
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    view! {
        <div class="table-scroll">
            <table class="data-table" data-testid="upload-preview">
                <caption>"The first rows, as their columns were read"</caption>
                <thead><tr>
                    <th scope="col">"Date"</th><th scope="col">"Metric"</th><th scope="col">"Value"</th><th scope="col">"Unit"</th><th scope="col">"Region"</th>
                    <th scope="col">"Segment"</th><th scope="col">"Channel"</th><th scope="col">"Product"</th><th scope="col">"Source"</th>
                </tr></thead>
                <tbody>{rows.iter().map(|r| view! {
                    <tr>
                        <td>{r.date.to_string()}</td><td>{r.metric.clone()}</td><td class="num">{r.value.to_string()}</td><td>{opt(&r.unit)}</td>
                        <td>{opt(&r.region)}</td><td>{opt(&r.segment)}</td><td>{opt(&r.channel)}</td><td>{opt(&r.product)}</td><td>{r.source.clone()}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn LoadHistory(page: DataPage) -> impl IntoView {
    let limits = format!("One upload holds at most {} rows and {} MB.", page.max_rows, page.max_body_bytes / (1024 * 1024));
    if page.loads.is_empty() {
        return view! { <p role="status">"No loads yet. "{limits}</p> }.into_any();
    }
    view! {
        <p>{limits}</p>
        <div class="table-scroll">
            <table class="data-table" data-testid="loads">
                <caption class="visually-hidden">"Recent loads, newest first"</caption>
                <thead><tr>
                    <th scope="col">"When (UTC)"</th><th scope="col">"Who"</th><th scope="col">"How"</th><th scope="col">"Data"</th><th scope="col">"Days"</th>
                    <th scope="col">"New"</th><th scope="col">"Updated"</th><th scope="col">"Unchanged"</th><th scope="col">"Rejected"</th><th scope="col">"Written"</th>
                </tr></thead>
                <tbody>{page.loads.into_iter().map(|l| {
                    let days = match (l.first_day, l.last_day) {
                        (Some(a), Some(b)) if a == b => a.to_string(),
                        (Some(a), Some(b)) => format!("{a} to {b}"),
                        _ => String::new(),
                    };
                    let written = l.inserted + l.updated + l.unchanged > 0 || l.rejected == 0;
                    view! {
                        <tr>
                            <td>{l.loaded_at}</td><td>{l.actor}</td><td>{l.channel.as_str()}</td><td>{l.target.as_str()}</td><td>{days}</td>
                            <td class="num">{l.inserted}</td><td class="num">{l.updated}</td><td class="num">{l.unchanged}</td><td class="num">{l.rejected}</td>
                            <td>{if written { "yes" } else { "no" }}</td>
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Where an upload reports: its state, and the count of finished loads.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Progress {
    state: RwSignal<UploadState>,
    loaded: RwSignal<u32>,
}

/// Sends the chosen file as the body of `url` and follows the upload's progress.
#[cfg(feature = "hydrate")]
fn start_upload(file: NodeRef<html::Input>, url: String, dry_run: bool, progress: Progress) {
    let state = progress.state;
    let chosen = file.get().and_then(|input| input.files()).and_then(|files| files.get(0));
    let Some(chosen) = chosen else {
        state.set(UploadState::Done { dry_run, result: Err("Choose a CSV file first.".into()) });
        return;
    };
    state.set(UploadState::Sending(None));
    if let Err(message) = send_file(&url, &chosen, dry_run, progress) {
        state.set(UploadState::Done { dry_run, result: Err(message) });
    }
}

#[cfg(not(feature = "hydrate"))]
fn start_upload(_file: NodeRef<html::Input>, _url: String, _dry_run: bool, _progress: Progress) {}

#[cfg(feature = "hydrate")]
fn send_file(url: &str, file: &web_sys::File, dry_run: bool, progress: Progress) -> Result<(), String> {
    let Progress { state, loaded } = progress;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let fail = |e: wasm_bindgen::JsValue| format!("the upload could not start: {e:?}");
    let xhr = web_sys::XmlHttpRequest::new().map_err(fail)?;
    xhr.open("POST", url).map_err(fail)?;
    xhr.set_request_header("Content-Type", "text/csv").map_err(fail)?;
    // Called many times while the file goes up: kept for the page's life (one per upload).
    let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
        if e.length_computable() && e.total() > 0.0 {
            state.set(UploadState::Sending(Some(100.0 * e.loaded() / e.total())));
        }
    });
    xhr.upload().map_err(fail)?.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    on_progress.forget();
    let answered = xhr.clone();
    let on_done = Closure::once_into_js(move || {
        let status = answered.status().unwrap_or(0);
        let text = answered.response_text().ok().flatten().unwrap_or_default();
        let result = serde_json::from_str::<UploadResult>(&text).map_err(|_| {
            let reason = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v["error"].as_str().map(str::to_string));
            reason.unwrap_or_else(|| format!("The upload failed (HTTP {status}); nothing was written."))
        });
        if !dry_run {
            loaded.update(|n| *n += 1);
        }
        state.set(UploadState::Done { dry_run, result });
    });
    xhr.set_onloadend(Some(on_done.unchecked_ref()));
    xhr.send_with_opt_blob(Some(file)).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upload_url_carries_the_choices() {
        assert_eq!(upload_url("kpis", false, false, true), "/api/upload/kpis?mode=all&create_metrics=false&dry_run=true");
        assert_eq!(upload_url("signals", true, true, false), "/api/upload/signals?mode=partial&create_metrics=true&dry_run=false");
        assert_eq!(upload_url("anything", false, false, false), "/api/upload/kpis?mode=all&create_metrics=false&dry_run=false");
    }
}
