//! The dashboard editor (`/dashboards/:id/edit`). Widgets sit on the same 12-column grid as the
//! view; each moves and resizes by drag (its title bar and its corner), by arrow keys when it has
//! focus (Shift resizes) or by its buttons, and every step goes through `domain::dashboards::place`,
//! so a layout can never overlap. Changes stay local until "Save", which sends the version the
//! editor opened: a stale one is refused (409) and said. Undo walks back every local change.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;

use super::api::{delete_saved_dashboard, get_saved_dashboard, save_saved_dashboard, set_saved_dashboard_public, share_saved_dashboard};
use super::page::dashboard_path;
use super::{ChartType, DashboardSpec, SavedDashboard, ShareView, WidgetSpec, WidgetType};
use crate::dashboard::api::get_dashboard;
use crate::dashboard::{AutoRefresh, DashboardQuery, MetricOption};
use crate::domain::dashboards::{first_free_slot, nudged, place, Cell};
use crate::error::AppError;
use crate::ui::ErrorPanel;

/// Height of one grid row in the editor and the gap between cells, in CSS pixels (style/main.css).
const ROW_PX: f64 = 60.0;
const GAP_PX: f64 = 8.0;
/// Local changes undo can walk back.
const UNDO_DEPTH: usize = 50;

#[component]
pub fn DashboardEditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let data = Resource::new(
        move || id.get(),
        |id| async move {
            let dashboard = get_saved_dashboard(id).await?;
            if !dashboard.access.can_edit() {
                return Ok((dashboard, Vec::new()));
            }
            // The metrics as `/dashboard` offers them to this viewer; none yet in an empty org.
            let metrics = get_dashboard(String::new()).await.map(|d| d.metrics).unwrap_or_default();
            Ok::<_, AppError>((dashboard, metrics))
        },
    );
    view! {
        <Title text="Edit dashboard · InsightOps"/>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || data.get().map(|result| match result {
                Ok((dashboard, _)) if !dashboard.access.can_edit() => view! {
                    <div class="error-panel" role="alert">
                        <h2>"This dashboard is read-only for you"</h2>
                        <p>{format!("You can view “{}” but not edit it.", dashboard.spec.name)}</p>
                        <p><a href=dashboard_path(&dashboard.id)>"Open it"</a></p>
                    </div>
                }.into_any(),
                Ok((dashboard, metrics)) => view! { <EditorBody dashboard metrics/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

/// A drag in progress: which widget, moving or resizing, where the pointer and the widget began,
/// and the size of a grid step on screen.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Drag {
    index: usize,
    resize: bool,
    start: (i32, i32),
    origin: Cell,
    step: (f64, f64),
}

/// The editor's state; every handler shares it (signals are `Copy`).
#[derive(Clone, Copy)]
struct Editor {
    spec: RwSignal<DashboardSpec>,
    history: RwSignal<Vec<DashboardSpec>>,
    /// Said to screen readers (a polite live region) after every change.
    status: RwSignal<String>,
    dirty: RwSignal<bool>,
    /// The layout while a drag is under way; committed on release.
    preview: RwSignal<Option<Vec<WidgetSpec>>>,
    drag: RwSignal<Option<Drag>>,
    grid: NodeRef<leptos::html::Div>,
    /// The widget in the form. An index: cleared by whatever can shift the indices (remove,
    /// undo, save), so it never points at another widget.
    editing: RwSignal<Option<usize>>,
    saving: RwSignal<bool>,
}

fn describe(w: &WidgetSpec) -> String {
    format!("{}: column {}, row {}, {} wide, {} tall", w.title, w.x + 1, w.y + 1, w.w, w.h)
}

impl Editor {
    fn new(spec: DashboardSpec) -> Editor {
        Editor {
            spec: RwSignal::new(spec),
            history: RwSignal::new(Vec::new()),
            status: RwSignal::new(String::new()),
            dirty: RwSignal::new(false),
            preview: RwSignal::new(None),
            drag: RwSignal::new(None),
            grid: NodeRef::new(),
            editing: RwSignal::new(None),
            saving: RwSignal::new(false),
        }
    }

    /// Applies a local change, keeping the previous spec for undo.
    fn change(self, said: String, f: impl FnOnce(&mut DashboardSpec)) {
        let before = self.spec.get_untracked();
        let mut next = before.clone();
        f(&mut next);
        if next == before {
            return;
        }
        self.history.update(|h| {
            h.push(before);
            if h.len() > UNDO_DEPTH {
                h.remove(0);
            }
        });
        self.spec.set(next);
        self.dirty.set(true);
        self.status.set(said);
    }

    fn undo(self) {
        let Some(previous) = self.history.try_update(|h| h.pop()).flatten() else { return };
        self.editing.set(None);
        self.spec.set(previous);
        self.dirty.set(true);
        self.status.set("Undone.".into());
    }

    /// The widgets as drawn: the drag's preview while one is under way.
    fn layout(self) -> Vec<WidgetSpec> {
        self.preview.get().unwrap_or_else(|| self.spec.with(|s| s.widgets.clone()))
    }

    fn nudge(self, index: usize, dx: i32, dy: i32, dw: i32, dh: i32) {
        let widgets = self.spec.with_untracked(|s| s.widgets.clone());
        match nudged(&widgets, index, dx, dy, dw, dh) {
            Some(next) => {
                let said = next.get(index).map(describe).unwrap_or_default();
                self.change(said, |s| s.widgets = next);
            }
            None => self.status.set("The grid's edge or size limit stops that.".into()),
        }
    }

    fn remove(self, index: usize) {
        let title = self.spec.with_untracked(|s| s.widgets.get(index).map(|w| w.title.clone())).unwrap_or_default();
        self.editing.set(None);
        self.change(format!("Removed {title}. Undo brings it back."), |s| {
            if index < s.widgets.len() {
                s.widgets.remove(index);
            }
        });
    }

    #[cfg(feature = "hydrate")]
    fn start_drag(self, index: usize, resize: bool, ev: &leptos::ev::PointerEvent) {
        use wasm_bindgen::JsCast;
        if ev.button() != 0 {
            return;
        }
        let (Some(grid), Some(widget)) = (self.grid.get(), self.spec.with_untracked(|s| s.widgets.get(index).cloned())) else { return };
        ev.prevent_default();
        let width = grid.get_bounding_client_rect().width();
        let step = ((width + GAP_PX) / f64::from(crate::domain::dashboards::GRID_COLUMNS), ROW_PX + GAP_PX);
        if let Some(target) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok()) {
            let _ = target.set_pointer_capture(ev.pointer_id());
        }
        self.drag.set(Some(Drag { index, resize, start: (ev.client_x(), ev.client_y()), origin: Cell::of(&widget), step }));
    }

    #[cfg(not(feature = "hydrate"))]
    fn start_drag(self, _index: usize, _resize: bool, _ev: &leptos::ev::PointerEvent) {}

    fn drag_to(self, x: i32, y: i32) {
        let Some(d) = self.drag.get_untracked() else { return };
        let cells = |pixels: i32, step: f64| (f64::from(pixels) / step).round() as i32;
        let (dx, dy) = (cells(x - d.start.0, d.step.0), cells(y - d.start.1, d.step.1));
        let o = d.origin;
        // A resize stops at the right edge instead of pushing the widget left.
        let cell = if d.resize {
            Cell { w: (o.w + dx).clamp(1, crate::domain::dashboards::GRID_COLUMNS - o.x), h: o.h + dy, ..o }
        } else {
            Cell { x: o.x + dx, y: o.y + dy, ..o }
        };
        let layout = self.spec.with_untracked(|s| place(&s.widgets, d.index, cell));
        self.preview.set(Some(layout));
    }

    fn end_drag(self) {
        let (Some(d), Some(layout)) = (self.drag.get_untracked(), self.preview.get_untracked()) else {
            self.drag.set(None);
            return;
        };
        self.drag.set(None);
        self.preview.set(None);
        let said = layout.get(d.index).map(describe).unwrap_or_default();
        self.change(said, |s| s.widgets = layout);
    }
}

#[component]
fn EditorBody(dashboard: SavedDashboard, metrics: Vec<MetricOption>) -> AnyView {
    let editor = Editor::new(dashboard.spec.clone());
    let version = RwSignal::new(dashboard.version);
    let failure = RwSignal::new(None::<String>);
    let editing = editor.editing;
    let id = dashboard.id;
    let save = move |_| {
        let sent = editor.spec.get_untracked();
        let body = serde_json::to_string(&sent).unwrap_or_default();
        editor.saving.set(true);
        editor.status.set("Saving…".into());
        leptos::task::spawn_local(async move {
            match save_saved_dashboard(id.to_string(), version.get_untracked(), body).await {
                Ok(saved) => {
                    version.set(saved.version);
                    // The server's copy gives new widgets their ids (and its order shifts indices);
                    // a change made while the save was on its way is kept, to be saved next.
                    if editor.spec.with_untracked(|s| *s == sent) {
                        editor.editing.set(None);
                        editor.spec.set(saved.spec);
                        editor.dirty.set(false);
                    }
                    failure.set(None);
                    editor.status.set(format!("Saved (version {}).", saved.version));
                }
                Err(e) => {
                    editor.status.set("Not saved.".into());
                    failure.set(Some(e.to_string()));
                }
            }
            editor.saving.set(false);
        });
    };
    let manage = dashboard.access.can_manage();
    view! {
        <section class="page-head">
            <h1>{move || format!("Editing “{}”", editor.spec.with(|s| s.name.clone()))}</h1>
            <div class="editor-actions" role="toolbar" aria-label="Dashboard">
                <button type="button" on:click=move |_| editor.undo() disabled=move || editor.history.with(|h| h.is_empty())>"Undo"</button>
                <button type="button" class="primary" on:click=save data-testid="save-dashboard" disabled=move || editor.saving.get()>"Save"</button>
                <a href=dashboard_path(&id)>"View"</a>
            </div>
        </section>
        <p class="as-of">
            {move || if editor.dirty.get() { "Unsaved changes".to_string() } else { format!("Saved, version {}", version.get()) }}
        </p>
        <p class="visually-hidden" role="status" aria-live="polite" data-testid="editor-status">{move || editor.status.get()}</p>
        {move || failure.get().map(|message| view! {
            <div class="error-panel" role="alert" data-testid="save-error">
                <p>{message}</p>
                <p><a href=format!("{}/edit", dashboard_path(&id)) rel="external">"Reload the saved version"</a></p>
            </div>
        })}
        <EditorGrid editor editing/>
        <WidgetForm editor editing metrics/>
        <SettingsForm editor/>
        {manage.then(|| view! { <SharePanel dashboard=dashboard.clone()/> })}
    }
    .into_any()
}

#[component]
fn EditorGrid(editor: Editor, editing: RwSignal<Option<usize>>) -> AnyView {
    let count = move || editor.spec.with(|s| s.widgets.len());
    let rows = move || editor.layout().iter().map(|w| w.y + w.h).max().unwrap_or(0) + 3;
    view! {
        <p id="editor-keys" class="hint">
            "Drag a widget by its title bar, resize it by its corner, or focus it (Tab) and use the arrow keys to move it, Shift and the arrow keys to resize it, Delete to remove it."
        </p>
        <div class="editor-grid" node_ref=editor.grid data-testid="editor-grid"
            style=move || format!("min-height: {}px", f64::from(rows()) * (ROW_PX + GAP_PX))
            on:pointermove=move |ev| editor.drag_to(ev.client_x(), ev.client_y())
            on:pointerup=move |_| editor.end_drag()
            on:pointercancel=move |_| { editor.preview.set(None); editor.drag.set(None); }>
            <For each=move || 0..count() key=|i| *i let:index>
                <EditorTile editor index editing/>
            </For>
        </div>
        {move || (count() == 0).then(|| view! { <p class="empty">"No widgets yet: add one below."</p> })}
    }
    .into_any()
}

#[component]
fn EditorTile(editor: Editor, index: usize, editing: RwSignal<Option<usize>>) -> AnyView {
    // One read of the layout per tile and change, not one per attribute (a drag changes it often).
    let memo = Memo::new(move |_| match editor.preview.with(|p| p.as_ref().map(|l| l.get(index).cloned())) {
        Some(w) => w,
        None => editor.spec.with(|s| s.widgets.get(index).cloned()),
    });
    let widget = move || memo.get();
    let field = move |f: fn(&WidgetSpec) -> String| move || widget().map(|w| f(&w)).unwrap_or_default();
    let style = move || widget().map(|w| format!("grid-column: {} / span {}; grid-row: {} / span {};", w.x + 1, w.w, w.y + 1, w.h)).unwrap_or_default();
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        // Keys pressed on the tile's own buttons are theirs.
        if ev.target() != ev.current_target() {
            return;
        }
        let step = match ev.key().as_str() {
            "ArrowLeft" => (-1, 0),
            "ArrowRight" => (1, 0),
            "ArrowUp" => (0, -1),
            "ArrowDown" => (0, 1),
            "Delete" => {
                editor.remove(index);
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        match ev.shift_key() {
            true => editor.nudge(index, 0, 0, step.0, step.1),
            false => editor.nudge(index, step.0, step.1, 0, 0),
        }
    };
    // The visible text is part of each button's name (axe: label-content-name-mismatch).
    let tool = move |label: &'static str, text: &'static str, step: (i32, i32, i32, i32)| {
        let aria = move || format!("{label}: {}", widget().map(|w| w.title).unwrap_or_default());
        view! { <button type="button" aria-label=aria title=label on:click=move |_| editor.nudge(index, step.0, step.1, step.2, step.3)>{text}</button> }
    };
    // Each part is its own boxed view: one tile's nested tuples resolved on the server in a debug
    // build otherwise take more than a worker thread's 2 MiB stack (found by the page test).
    let handle = view! {
        <div class="tile-handle" on:pointerdown=move |ev| editor.start_drag(index, false, &ev) data-testid="tile-handle">
            <strong>{field(|w| w.title.clone())}</strong>
            <span class="hint">{field(|w| match w.chart_type { Some(c) => format!("{} · {}", w.widget_type.label(), c.as_str()), None => w.widget_type.label().to_string() })}</span>
        </div>
        <p class="hint tile-query">{field(|w| if w.widget_type == WidgetType::Text { "Markdown text".into() } else { w.query.clone() })}</p>
    }
    .into_any();
    let moves = view! { {tool("Move left", "←", (-1, 0, 0, 0))} {tool("Move right", "→", (1, 0, 0, 0))} {tool("Move up", "↑", (0, -1, 0, 0))} {tool("Move down", "↓", (0, 1, 0, 0))} }.into_any();
    let sizes = view! { {tool("Wider", "Wider", (0, 0, 1, 0))} {tool("Narrower", "Narrower", (0, 0, -1, 0))} {tool("Taller", "Taller", (0, 0, 0, 1))} {tool("Shorter", "Shorter", (0, 0, 0, -1))} }.into_any();
    let title = move || widget().map(|w| w.title).unwrap_or_default();
    let others = view! {
        <button type="button" on:click=move |_| editing.set(Some(index)) aria-label=move || format!("Edit {}", title())>"Edit"</button>
        <button type="button" on:click=move |_| editor.remove(index) aria-label=move || format!("Remove {}", title())>"Remove"</button>
    }
    .into_any();
    let tools = view! {
        <div class="tile-tools" role="toolbar" aria-label=move || format!("Arrange {}", title())>{moves}{sizes}{others}</div>
        <div class="tile-resize" aria-hidden="true" title="Drag to resize" data-testid="tile-resize"
            on:pointerdown=move |ev| editor.start_drag(index, true, &ev)></div>
    }
    .into_any();
    view! {
        <div class="editor-tile" tabindex="0" role="group" style=style on:keydown=keydown aria-describedby="editor-keys"
            aria-label=field(describe) data-testid="editor-tile"
            class:dragging=move || editor.drag.with(|d| d.is_some_and(|d| d.index == index))
            data-title=field(|w| w.title.clone()) data-x=field(|w| w.x.to_string()) data-y=field(|w| w.y.to_string())
            data-w=field(|w| w.w.to_string()) data-h=field(|w| w.h.to_string())>
            {handle}
            {tools}
        </div>
    }
    .into_any()
}

/// The add/edit form's fields; `query` is built from them in the dashboard URL's vocabulary.
#[derive(Debug, Clone, PartialEq)]
struct Draft {
    widget_type: WidgetType,
    chart_type: ChartType,
    title: String,
    metric: String,
    versus: String,
    pinned: bool,
    /// A pinned widget's own range and dimension values (`range=7d&region=EMEA`).
    own_filters: String,
    body: String,
}

impl Draft {
    fn blank(metric: &str) -> Draft {
        Draft {
            widget_type: WidgetType::MetricCard,
            chart_type: ChartType::Line,
            title: String::new(),
            metric: metric.to_string(),
            versus: String::new(),
            pinned: false,
            own_filters: String::new(),
            body: String::new(),
        }
    }

    fn of(w: &WidgetSpec) -> Draft {
        let q = DashboardQuery::from_query_string(&w.query).unwrap_or_default();
        let own = DashboardQuery { metric: None, versus: None, ..q.clone() }.to_query_string();
        Draft {
            widget_type: w.widget_type,
            chart_type: w.chart_type.unwrap_or(ChartType::Line),
            title: w.title.clone(),
            metric: q.metric.unwrap_or_default(),
            versus: q.versus.unwrap_or_default(),
            pinned: w.pinned,
            own_filters: own,
            body: w.body.clone(),
        }
    }

    /// The widget this draft describes at `cell`, or what is wrong with it (the field named).
    fn to_widget(&self, id: Option<uuid::Uuid>, cell: Cell) -> Result<WidgetSpec, String> {
        let title = self.title.trim().to_string();
        if title.is_empty() {
            return Err("Give the widget a title.".into());
        }
        let text = self.widget_type == WidgetType::Text;
        let query = if text {
            String::new()
        } else {
            let own = if self.pinned { self.own_filters.trim().trim_start_matches('?') } else { "" };
            let mut q = DashboardQuery::from_query_string(own).map_err(|e| format!("Own filters: {e}"))?;
            if q.metric.is_some() || q.versus.is_some() {
                return Err("Own filters: the metric is chosen above, not here.".into());
            }
            q.metric = Some(self.metric.clone()).filter(|m| !m.is_empty());
            let scatter = self.widget_type == WidgetType::Chart && self.chart_type == ChartType::Scatter;
            q.versus = Some(self.versus.clone()).filter(|m| !m.is_empty() && scatter);
            q.to_query_string()
        };
        let chart_type = (self.widget_type == WidgetType::Chart).then_some(self.chart_type);
        let body = if text { self.body.clone() } else { String::new() };
        Ok(WidgetSpec { id, widget_type: self.widget_type, chart_type, title, query, pinned: self.pinned && !text, body, x: cell.x, y: cell.y, w: cell.w, h: cell.h })
    }
}

/// The size a new widget of a type starts at.
fn default_size(t: WidgetType) -> (i32, i32) {
    match t {
        WidgetType::MetricCard | WidgetType::Text => (4, 2),
        WidgetType::Chart | WidgetType::Table => (6, 4),
    }
}

#[component]
fn WidgetForm(editor: Editor, editing: RwSignal<Option<usize>>, metrics: Vec<MetricOption>) -> AnyView {
    let first_metric = metrics.first().map(|m| m.key.clone()).unwrap_or_default();
    let draft = RwSignal::new(Draft::blank(&first_metric));
    let problem = RwSignal::new(None::<String>);
    // Choosing "Edit" on a tile loads it into the form.
    Effect::new(move |_| {
        if let Some(w) = editing.get().and_then(|i| editor.spec.with_untracked(|s| s.widgets.get(i).cloned())) {
            draft.set(Draft::of(&w));
        }
    });
    let blank_metric = first_metric.clone();
    let cancel_metric = first_metric.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let d = draft.get_untracked();
        let widgets = editor.spec.with_untracked(|s| s.widgets.clone());
        let result = match editing.get_untracked().and_then(|i| Some((i, widgets.get(i)?.clone()))) {
            Some((i, old)) => d.to_widget(old.id, Cell::of(&old)).map(|w| (Some(i), w)),
            None => {
                let (w, h) = default_size(d.widget_type);
                let (x, y) = first_free_slot(&widgets, w, h);
                d.to_widget(None, Cell { x, y, w, h }).map(|w| (None, w))
            }
        };
        match result {
            Err(message) => problem.set(Some(message)),
            Ok((slot, widget)) => {
                problem.set(None);
                let said = format!("{} {}.", if slot.is_some() { "Updated" } else { "Added" }, describe(&widget));
                editor.change(said, |s| match slot {
                    Some(i) => s.widgets[i] = widget,
                    None => s.widgets.push(widget),
                });
                editing.set(None);
                draft.set(Draft::blank(&blank_metric));
            }
        }
    };
    let set = move |f: fn(&mut Draft, String)| move |ev: leptos::ev::Event| draft.update(|d| f(d, event_target_value(&ev)));
    let is = move |t: WidgetType| move || draft.with(|d| d.widget_type == t);
    let metric_options = move |selected: fn(&Draft) -> String, allow_none: bool| {
        let metrics = metrics.clone();
        view! {
            {allow_none.then(|| view! { <option value="">"(none)"</option> })}
            {metrics.into_iter().map(|m| {
                let key = m.key.clone();
                view! { <option value=m.key.clone() selected=move || draft.with(|d| selected(d) == key)>{m.picker_label()}</option> }
            }).collect_view()}
        }
    };
    view! {
        <section class="widget" aria-labelledby="widget-form-title">
            <h2 id="widget-form-title">{move || if editing.get().is_some() { "Edit widget" } else { "Add a widget" }}</h2>
            <form class="filters" on:submit=submit data-testid="widget-form">
                <label>"Type"
                    <select aria-label="Type" prop:value=move || draft.with(|d| d.widget_type.as_str().to_string())
                        on:change=set(|d, v| d.widget_type = WidgetType::parse(&v).unwrap_or(WidgetType::MetricCard))>
                        {WidgetType::ALL.into_iter().map(|t| view! { <option value=t.as_str() selected=move || draft.with(|d| d.widget_type == t)>{t.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class:hidden=move || !is(WidgetType::Chart)()>"Chart"
                    <select aria-label="Chart" prop:value=move || draft.with(|d| d.chart_type.as_str().to_string())
                        on:change=set(|d, v| d.chart_type = ChartType::parse(&v).unwrap_or(ChartType::Line))>
                        {ChartType::ALL.into_iter().map(|c| view! { <option value=c.as_str() selected=move || draft.with(|d| d.chart_type == c)>{c.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Title" <input type="text" maxlength="120" prop:value=move || draft.with(|d| d.title.clone()) on:input=set(|d, v| d.title = v)/></label>
                <label class:hidden=is(WidgetType::Text)>"Metric"
                    <select aria-label="Metric" prop:value=move || draft.with(|d| d.metric.clone()) on:change=set(|d, v| d.metric = v)>{metric_options.clone()(|d| d.metric.clone(), false)}</select>
                </label>
                <label class:hidden=move || !(is(WidgetType::Chart)() && draft.with(|d| d.chart_type == ChartType::Scatter))>"Compare with"
                    <select aria-label="Compare with" prop:value=move || draft.with(|d| d.versus.clone()) on:change=set(|d, v| d.versus = v)>{metric_options(|d| d.versus.clone(), true)}</select>
                </label>
                <label class="check" class:hidden=is(WidgetType::Text)>
                    <input type="checkbox" prop:checked=move || draft.with(|d| d.pinned) on:change=move |ev| draft.update(|d| d.pinned = event_target_checked(&ev))/>
                    "Keep its own filters"
                </label>
                <label class:hidden=move || is(WidgetType::Text)() || !draft.with(|d| d.pinned)>"Own filters"
                    <input type="text" placeholder="range=7d&region=EMEA" prop:value=move || draft.with(|d| d.own_filters.clone()) on:input=set(|d, v| d.own_filters = v)/>
                </label>
                <label class="wide" class:hidden=move || !is(WidgetType::Text)()>"Text (Markdown)"
                    <textarea rows="4" prop:value=move || draft.with(|d| d.body.clone()) on:input=set(|d, v| d.body = v)></textarea>
                </label>
                <button type="submit">{move || if editing.get().is_some() { "Update widget" } else { "Add widget" }}</button>
                {move || editing.get().is_some().then(|| {
                    let metric = cancel_metric.clone();
                    view! { <button type="button" on:click=move |_| { editing.set(None); problem.set(None); draft.set(Draft::blank(&metric)); }>"Cancel"</button> }
                })}
            </form>
            {move || problem.get().map(|m| view! { <p class="error-panel" role="alert">{m}</p> })}
        </section>
    }
    .into_any()
}

#[component]
fn SettingsForm(editor: Editor) -> AnyView {
    let problem = RwSignal::new(None::<String>);
    // The server's first HTML has the values too (`prop:` is only set in the browser).
    let initial = editor.spec.get_untracked();
    let text = move |f: fn(&DashboardSpec) -> String| move || editor.spec.with(|s| f(s));
    let set = move |what: &'static str, f: fn(&mut DashboardSpec, String)| {
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            editor.change(format!("Changed the {what}."), |s| f(s, value));
        }
    };
    let set_filters = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        match DashboardQuery::from_query_string(&value) {
            Ok(q) if q.metric.is_none() && q.versus.is_none() && q.drill.is_empty() => {
                problem.set(None);
                editor.change("Changed the default filters.".into(), |s| s.default_query = q.to_query_string());
            }
            Ok(_) => problem.set(Some("Default filters are a range and dimension values; metrics belong to widgets.".into())),
            Err(e) => problem.set(Some(format!("Default filters: {e}"))),
        }
    };
    view! {
        <section class="widget" aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <div class="filters">
                <label>"Name" <input type="text" maxlength="120" value=initial.name prop:value=text(|s| s.name.clone()) on:change=set("name", |s, v| s.name = v)/></label>
                <label class="wide">"Description" <input type="text" maxlength="2000" value=initial.description prop:value=text(|s| s.description.clone()) on:change=set("description", |s, v| s.description = v)/></label>
                <label>"Default filters" <input type="text" placeholder="range=30d&region=EMEA" value=initial.default_query prop:value=text(|s| s.default_query.clone()) on:change=set_filters/></label>
                <label>"Auto-refresh"
                    <select prop:value=text(|s| s.refresh.clone()) on:change=set("auto-refresh", |s, v| s.refresh = v)>
                        {AutoRefresh::ALL.into_iter().map(|r| view! { <option value=r.token() selected=move || editor.spec.with(|s| s.refresh == r.token())>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" checked=initial.is_template prop:checked=move || editor.spec.with(|s| s.is_template)
                        on:change=move |ev| { let on = event_target_checked(&ev); editor.change("Changed the template setting.".into(), |s| s.is_template = on) }/>
                    "A template for the org"
                </label>
                <label class:hidden=move || !editor.spec.with(|s| s.is_template)>"Template type"
                    <input type="text" maxlength="60" placeholder="sales weekly" value=initial.template_type.unwrap_or_default() prop:value=text(|s| s.template_type.clone().unwrap_or_default())
                        on:change=set("template type", |s, v| s.template_type = Some(v))/>
                </label>
            </div>
            {move || problem.get().map(|m| view! { <p class="error-panel" role="alert">{m}</p> })}
        </section>
    }
    .into_any()
}

/// Shares with the org's people, the public link and deleting: the owner's and admins' part.
#[component]
fn SharePanel(dashboard: SavedDashboard) -> AnyView {
    let id = dashboard.id.to_string();
    let shares = RwSignal::new(dashboard.shares.clone());
    let public_path = RwSignal::new(dashboard.public_path.clone());
    let email = RwSignal::new(String::new());
    let permission = RwSignal::new("view".to_string());
    let message = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let apply = move |result: Result<SavedDashboard, AppError>, said: String| match result {
        Ok(saved) => {
            shares.set(saved.shares);
            public_path.set(saved.public_path);
            message.set(Some(said));
        }
        Err(e) => message.set(Some(e.to_string())),
    };
    let share_id = id.clone();
    let share = move |who: String, what: String| {
        let id = share_id.clone();
        leptos::task::spawn_local(async move {
            let said = if what == "none" { format!("{who} no longer has access.") } else { format!("Shared with {who} ({what}).") };
            apply(share_saved_dashboard(id, who, what).await, said);
        });
    };
    let submit_share = share.clone();
    let publish_id = id.clone();
    let publish = move |on: bool| {
        let id = publish_id.clone();
        leptos::task::spawn_local(async move {
            let said = if on { "The public link is on." } else { "The public link is revoked: it no longer opens." };
            apply(set_saved_dashboard_public(id, on).await, said.to_string());
        });
    };
    let navigate = use_navigate();
    let delete_id = id.clone();
    let delete = move |_| {
        let (id, navigate) = (delete_id.clone(), navigate.clone());
        leptos::task::spawn_local(async move {
            match delete_saved_dashboard(id).await {
                Ok(()) => navigate("/dashboards", NavigateOptions::default()),
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    let name = dashboard.spec.name.clone();
    view! {
        <section class="widget" aria-labelledby="share-title" data-testid="share-panel">
            <h2 id="share-title">"Sharing"</h2>
            <form class="filters" on:submit=move |ev| { ev.prevent_default(); submit_share(email.get_untracked(), permission.get_untracked()) }>
                <label>"Email of someone in your org" <input type="email" required prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/></label>
                <label>"Permission"
                    <select on:change=move |ev| permission.set(event_target_value(&ev))>
                        <option value="view" selected>"Can view"</option>
                        <option value="edit">"Can edit"</option>
                    </select>
                </label>
                <button type="submit">"Share"</button>
            </form>
            <ul class="share-list" data-testid="share-list">
                {move || shares.get().into_iter().map(|s: ShareView| {
                    let (who, share) = (s.email.clone(), share.clone());
                    view! {
                        <li>{format!("{} ({}) · {}", s.display_name, s.email, s.permission.as_str())}" "
                            <button type="button" on:click=move |_| share(who.clone(), "none".into())>{format!("Remove {}", s.email)}</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <h3>"Public link"</h3>
            {move || match public_path.get() {
                Some(path) => view! {
                    <p>"Anyone with this link sees the dashboard read-only, with public metrics only: "
                        <a href=path.clone() data-testid="public-link">{path.clone()}</a></p>
                    <button type="button" on:click={let publish = publish.clone(); move |_| publish(false)}>"Revoke the public link"</button>
                }.into_any(),
                None => view! {
                    <button type="button" on:click={let publish = publish.clone(); move |_| publish(true)}>"Create a public link"</button>
                }.into_any(),
            }}
            <p role="status" aria-live="polite">{move || message.get()}</p>
            <h3>"Delete"</h3>
            <Show when=move || confirming.get() fallback=move || view! { <button type="button" on:click=move |_| confirming.set(true)>"Delete this dashboard…"</button> }>
                <p role="alert">{format!("Delete “{name}” for everyone it is shared with? This cannot be undone.")}</p>
                <button type="button" class="danger" on:click=delete.clone()>"Yes, delete"</button>
                <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
            </Show>
        </section>
    }
    .into_any()
}
