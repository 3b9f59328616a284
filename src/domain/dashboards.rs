//! The vocabulary of saved dashboards (seed 001): widget and chart types, share permissions, who
//! may do what with one dashboard, and the grid a layout must fit. Pure: the database, the
//! service and the browser's editor all check layouts with the same rules.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::access::Role;

/// Columns of the layout grid; a widget is 1–12 columns wide and 1–12 rows tall.
pub const GRID_COLUMNS: i32 = 12;
pub const MAX_ROWS: i32 = 12;
/// The lowest row a widget may start on.
pub const MAX_Y: i32 = 999;
/// Widgets per dashboard: more than a page can show usefully, and a bound on one render's queries.
pub const MAX_WIDGETS: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WidgetType {
    Chart,
    Table,
    MetricCard,
    Text,
}

text_enum!(WidgetType {
    WidgetType::Chart => "chart",
    WidgetType::Table => "table",
    WidgetType::MetricCard => "metric_card",
    WidgetType::Text => "text",
});

impl WidgetType {
    pub const ALL: [WidgetType; 4] = [WidgetType::Chart, WidgetType::Table, WidgetType::MetricCard, WidgetType::Text];

    pub fn label(self) -> &'static str {
        match self {
            WidgetType::Chart => "Chart",
            WidgetType::Table => "Table",
            WidgetType::MetricCard => "Metric card",
            WidgetType::Text => "Text",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartType {
    Line,
    Bar,
    Pie,
    Scatter,
    Area,
}

text_enum!(ChartType {
    ChartType::Line => "line",
    ChartType::Bar => "bar",
    ChartType::Pie => "pie",
    ChartType::Scatter => "scatter",
    ChartType::Area => "area",
});

impl ChartType {
    pub const ALL: [ChartType; 5] = [ChartType::Line, ChartType::Bar, ChartType::Pie, ChartType::Scatter, ChartType::Area];
}

/// What a share grants; stored as TEXT with a CHECK constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharePermission {
    View,
    Edit,
}

text_enum!(SharePermission { SharePermission::View => "view", SharePermission::Edit => "edit" });

/// How a viewer stands to one dashboard, most powerful first. Owners and admins manage shares
/// and the public link; editors change widgets and filters; viewers and the public link read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DashboardAccess {
    Owner,
    Admin,
    Edit,
    View,
    /// Through the public link, signed in or not: PUBLIC metrics only.
    PublicLink,
}

impl DashboardAccess {
    /// How a signed-in user of `role` stands to a dashboard of their org: owner, admin, the share's
    /// permission (board members only ever view), a reader of the org's templates, or nothing.
    pub fn of(is_owner: bool, role: Role, share: Option<SharePermission>, is_template: bool) -> Option<DashboardAccess> {
        match (is_owner, role, share) {
            (true, _, _) => Some(DashboardAccess::Owner),
            (_, Role::Admin, _) => Some(DashboardAccess::Admin),
            (_, Role::Board, Some(_)) | (_, _, Some(SharePermission::View)) => Some(DashboardAccess::View),
            (_, _, Some(SharePermission::Edit)) => Some(DashboardAccess::Edit),
            (_, _, None) => is_template.then_some(DashboardAccess::View),
        }
    }

    pub fn can_edit(self) -> bool {
        matches!(self, DashboardAccess::Owner | DashboardAccess::Admin | DashboardAccess::Edit)
    }

    pub fn can_manage(self) -> bool {
        matches!(self, DashboardAccess::Owner | DashboardAccess::Admin)
    }

    pub fn label(self) -> &'static str {
        match self {
            DashboardAccess::Owner => "Owner",
            DashboardAccess::Admin => "Admin",
            DashboardAccess::Edit => "Can edit",
            DashboardAccess::View => "Can view",
            DashboardAccess::PublicLink => "Public link",
        }
    }
}

/// One widget as stored and as the editor sends it. `query` is in the dashboard URL's vocabulary
/// (`metric=revenue&range=30d&region=EMEA`); `body` is the Markdown of a text widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidgetSpec {
    /// `None` for a widget the editor just added.
    pub id: Option<Uuid>,
    pub widget_type: WidgetType,
    pub chart_type: Option<ChartType>,
    pub title: String,
    pub query: String,
    /// Keeps its own filters instead of taking the dashboard's.
    pub pinned: bool,
    pub body: String,
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

/// A dashboard as saved: its settings and its widgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardSpec {
    pub name: String,
    pub description: String,
    /// Default filters in the dashboard URL's vocabulary (range, from, to, dimension values).
    pub default_query: String,
    /// `off`, `30s` or `5m`.
    pub refresh: String,
    pub is_template: bool,
    pub template_type: Option<String>,
    pub widgets: Vec<WidgetSpec>,
}

/// Checks a layout against the grid: every widget inside the 12 columns, sizes in range, and no
/// two widgets covering the same cell. The message names the widget by its position and title.
pub fn check_layout(widgets: &[WidgetSpec]) -> Result<(), String> {
    if widgets.len() > MAX_WIDGETS {
        return Err(format!("a dashboard holds at most {MAX_WIDGETS} widgets; this one has {}", widgets.len()));
    }
    let name = |i: usize, w: &WidgetSpec| format!("widget {} ({:?})", i + 1, w.title);
    for (i, w) in widgets.iter().enumerate() {
        if !(1..=GRID_COLUMNS).contains(&w.w) || !(1..=MAX_ROWS).contains(&w.h) {
            return Err(format!("{}: size {}x{} is outside 1x1 to {GRID_COLUMNS}x{MAX_ROWS}", name(i, w), w.w, w.h));
        }
        if w.x < 0 || w.x + w.w > GRID_COLUMNS || !(0..=MAX_Y).contains(&w.y) {
            return Err(format!("{}: position ({}, {}) with width {} leaves the {GRID_COLUMNS}-column grid", name(i, w), w.x, w.y, w.w));
        }
    }
    for (i, a) in widgets.iter().enumerate() {
        for (j, b) in widgets.iter().enumerate().skip(i + 1) {
            let apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
            if !apart {
                return Err(format!("{} overlaps {}", name(i, a), name(j, b)));
            }
        }
    }
    Ok(())
}

/// The first free place for a new widget of size `w` x `h`: the top-most, then left-most cell
/// where it overlaps nothing.
pub fn first_free_slot(widgets: &[WidgetSpec], w: i32, h: i32) -> (i32, i32) {
    let w = w.clamp(1, GRID_COLUMNS);
    let fits = |x: i32, y: i32| widgets.iter().all(|o| x + w <= o.x || o.x + o.w <= x || y + h <= o.y || o.y + o.h <= y);
    for y in 0..=MAX_Y {
        for x in 0..=(GRID_COLUMNS - w) {
            if fits(x, y) {
                return (x, y);
            }
        }
    }
    (0, MAX_Y)
}

/// Where a widget is on the grid: column, row, width and height in cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl Cell {
    pub fn of(w: &WidgetSpec) -> Cell {
        Cell { x: w.x, y: w.y, w: w.w, h: w.h }
    }

    fn overlaps(self, o: Cell) -> bool {
        !(self.x + self.w <= o.x || o.x + o.w <= self.x || self.y + self.h <= o.y || o.y + o.h <= self.y)
    }

    /// The same cell kept inside the grid: sizes in range first, then the position.
    pub fn clamped(self) -> Cell {
        let (w, h) = (self.w.clamp(1, GRID_COLUMNS), self.h.clamp(1, MAX_ROWS));
        Cell { x: self.x.clamp(0, GRID_COLUMNS - w), y: self.y.clamp(0, MAX_Y), w, h }
    }
}

/// Puts widget `index` on `cell` (kept inside the grid) and pushes every widget it now covers
/// down until nothing overlaps, as a drag or an arrow key does in the editor. The others keep
/// their order, their columns and their sizes; only rows change, so a layout never breaks.
pub fn place(widgets: &[WidgetSpec], index: usize, cell: Cell) -> Vec<WidgetSpec> {
    let mut out = widgets.to_vec();
    let Some(moved) = out.get_mut(index) else { return out };
    let cell = cell.clamped();
    (moved.x, moved.y, moved.w, moved.h) = (cell.x, cell.y, cell.w, cell.h);
    let mut settled = vec![cell];
    // Top to bottom, so a widget pushed down pushes those below it in turn.
    let mut others: Vec<usize> = (0..out.len()).filter(|i| *i != index).collect();
    others.sort_by_key(|i| (out[*i].y, out[*i].x));
    for i in others {
        let mut c = Cell::of(&out[i]).clamped();
        while c.y < MAX_Y && settled.iter().any(|s| s.overlaps(c)) {
            // Straight below the lowest widget in its way: one step per obstacle, not per row.
            c.y = settled.iter().filter(|s| s.overlaps(c)).map(|s| s.y + s.h).max().unwrap_or(c.y + 1).min(MAX_Y);
        }
        (out[i].x, out[i].y, out[i].w, out[i].h) = (c.x, c.y, c.w, c.h);
        settled.push(c);
    }
    out
}

/// Widget `index` moved by (`dx`, `dy`) cells and resized by (`dw`, `dh`): the arrow keys' and the
/// buttons' step. `None` when the change is blocked by the grid's edge or size limits.
pub fn nudged(widgets: &[WidgetSpec], index: usize, dx: i32, dy: i32, dw: i32, dh: i32) -> Option<Vec<WidgetSpec>> {
    let old = Cell::of(widgets.get(index)?);
    let wanted = Cell { x: old.x + dx, y: old.y + dy, w: old.w + dw, h: old.h + dh };
    (wanted.clamped() == wanted && wanted != old).then(|| place(widgets, index, wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widget(title: &str, x: i32, y: i32, w: i32, h: i32) -> WidgetSpec {
        WidgetSpec { id: None, widget_type: WidgetType::MetricCard, chart_type: None, title: title.into(), query: String::new(), pinned: false, body: String::new(), x, y, w, h }
    }

    #[test]
    fn layouts_stay_on_the_grid_without_overlaps() {
        assert!(check_layout(&[widget("a", 0, 0, 6, 2), widget("b", 6, 0, 6, 2), widget("c", 0, 2, 12, 3)]).is_ok());
        let overlap = check_layout(&[widget("a", 0, 0, 6, 2), widget("b", 5, 1, 3, 2)]).expect_err("overlap");
        assert_eq!(overlap, "widget 1 (\"a\") overlaps widget 2 (\"b\")");
        assert!(check_layout(&[widget("wide", 8, 0, 6, 2)]).expect_err("off grid").contains("leaves the 12-column grid"));
        assert!(check_layout(&[widget("flat", 0, 0, 4, 0)]).expect_err("no height").contains("size 4x0"));
        let many: Vec<WidgetSpec> = (0..25).map(|i| widget("w", 0, i * 2, 1, 1)).collect();
        assert!(check_layout(&many).expect_err("too many").contains("at most 24 widgets"));
    }

    #[test]
    fn a_new_widget_goes_to_the_first_free_slot() {
        let layout = [widget("a", 0, 0, 6, 2), widget("b", 6, 0, 3, 2)];
        assert_eq!(first_free_slot(&layout, 3, 2), (9, 0));
        assert_eq!(first_free_slot(&layout, 4, 2), (0, 2));
        assert_eq!(first_free_slot(&[], 12, 1), (0, 0));
    }

    #[test]
    fn access_levels_say_who_edits_and_who_manages() {
        assert!(DashboardAccess::Edit.can_edit() && !DashboardAccess::Edit.can_manage());
        assert!(!DashboardAccess::View.can_edit() && !DashboardAccess::PublicLink.can_edit());
        assert!(DashboardAccess::Admin.can_manage() && DashboardAccess::Owner.can_manage());
        let of = DashboardAccess::of;
        assert_eq!(of(false, Role::Board, Some(SharePermission::Edit), false), Some(DashboardAccess::View), "board members only view");
        assert_eq!(of(false, Role::Manager, Some(SharePermission::Edit), false), Some(DashboardAccess::Edit));
        assert_eq!(of(false, Role::Manager, None, true), Some(DashboardAccess::View), "the org's templates");
        assert_eq!(of(false, Role::Manager, None, false), None);
        assert_eq!(of(false, Role::Admin, None, false), Some(DashboardAccess::Admin));
        assert_eq!(of(true, Role::Board, None, false), Some(DashboardAccess::Owner));
        for t in WidgetType::ALL {
            assert_eq!(WidgetType::parse(t.as_str()), Some(t));
        }
        for c in ChartType::ALL {
            assert_eq!(ChartType::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn placing_a_widget_pushes_the_ones_it_covers_down() {
        let layout = [widget("a", 0, 0, 4, 2), widget("b", 4, 0, 4, 2), widget("c", 0, 2, 12, 3)];
        // b onto a's place: a goes below b, c below a.
        let moved = place(&layout, 1, Cell { x: 0, y: 0, w: 4, h: 2 });
        assert_eq!(moved.iter().map(|w| (w.x, w.y)).collect::<Vec<_>>(), vec![(0, 2), (0, 0), (0, 4)]);
        assert!(check_layout(&moved).is_ok());
        // Off the grid is clamped back onto it.
        assert_eq!(Cell::of(&place(&layout, 0, Cell { x: 11, y: -3, w: 4, h: 2 })[0]), Cell { x: 8, y: 0, w: 4, h: 2 });
        assert_eq!(nudged(&layout, 0, -1, 0, 0, 0), None, "already at the left edge");
        assert_eq!(nudged(&layout, 2, 0, 0, 1, 0), None, "already 12 wide");
        let wider = nudged(&layout, 0, 0, 0, 1, 0).expect("room to grow");
        assert_eq!((wider[0].w, wider[1].y), (5, 2), "b is pushed below the wider a");
    }

    proptest::proptest! {
        /// However a person drags, nudges and resizes, the layout stays valid.
        #[test]
        fn any_sequence_of_moves_keeps_the_layout_valid(
            start in proptest::collection::vec((0..12i32, 0..6i32), 1..10),
            steps in proptest::collection::vec((0..10usize, -14..14i32, -20..20i32, -3..13i32, -3..13i32), 0..30),
        ) {
            let mut layout: Vec<WidgetSpec> = Vec::new();
            for (w, h) in start {
                let (x, y) = first_free_slot(&layout, w.max(1), h.max(1));
                layout.push(widget("w", x, y, w.max(1), h.max(1)));
            }
            proptest::prop_assert!(check_layout(&layout).is_ok());
            for (i, x, y, w, h) in steps {
                layout = place(&layout, i % layout.len(), Cell { x, y, w, h });
                proptest::prop_assert!(check_layout(&layout).is_ok(), "{:?}", layout.iter().map(Cell::of).collect::<Vec<_>>());
            }
        }
    }
}
