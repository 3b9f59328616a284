//! The PDF board pack, drawn on the server as vector output with krilla: a title page, the KPI
//! table against the previous period and last year, the "what changed" sentences, a line chart per
//! KPI, and page numbers. Layout is a pure pass over the summary into positioned drawing steps
//! (tested without a PDF); rendering turns those steps into pages with embedded, subset fonts.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::Document;
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use crate::exec::{ExecCard, ExecSummary};
use crate::format::{format_relative, format_value};

static REGULAR: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("fonts/DejaVuSans-Bold.ttf");

/// A4 in points, and the margins every page keeps.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;
const FOOTER_Y: f32 = PAGE_H - 28.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Align {
    Left,
    Right,
}

/// One thing drawn on a page, in points from the top left.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Text { x: f32, y: f32, size: f32, bold: bool, align: Align, grey: bool, text: String },
    Line { from: (f32, f32), to: (f32, f32), width: f32, grey: bool },
    Polyline { points: Vec<(f32, f32)>, width: f32 },
}

/// Text width in points, from the font's advances (what right alignment and wrapping need).
pub fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    let Ok(font) = FontRef::new(if bold { BOLD } else { REGULAR }) else { return 0.0 };
    let charmap = font.charmap();
    let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
    text.chars().map(|c| charmap.map(c).and_then(|g| metrics.advance_width(g)).unwrap_or(size * 0.6)).sum()
}

/// Splits `text` into lines no wider than `width`.
pub fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if !line.is_empty() && text_width(&candidate, size, false) > width {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pages being laid out, with a cursor that moves down and breaks pages.
struct Layout {
    pages: Vec<Vec<Step>>,
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        Layout { pages: vec![Vec::new()], y: MARGIN }
    }

    fn page(&mut self) -> &mut Vec<Step> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Breaks the page when `height` more points would run into the footer.
    fn need(&mut self, height: f32) -> bool {
        if self.y + height > FOOTER_Y - 20.0 {
            self.new_page();
            return true;
        }
        false
    }

    fn text(&mut self, x: f32, size: f32, bold: bool, align: Align, text: impl Into<String>) {
        let y = self.y;
        self.page().push(Step::Text { x, y, size, bold, align, grey: false, text: text.into() });
    }

    fn heading(&mut self, text: &str) {
        self.need(40.0);
        self.y += 22.0;
        self.text(MARGIN, 15.0, true, Align::Left, text);
        self.y += 10.0;
    }

    fn paragraph(&mut self, text: &str, size: f32) {
        for line in wrap(text, size, PAGE_W - 2.0 * MARGIN) {
            self.need(size * 1.5);
            self.y += size * 1.45;
            self.text(MARGIN, size, false, Align::Left, line);
        }
        self.y += size * 0.6;
    }
}

/// The KPI table's columns: (header, x of the left or right edge, alignment).
const COLUMNS: [(&str, f32, Align); 4] =
    [("KPI", MARGIN, Align::Left), ("Value", 320.0, Align::Right), ("vs previous", 430.0, Align::Right), ("vs last year", PAGE_W - MARGIN, Align::Right)];

fn table_header(layout: &mut Layout, previous: &str, last_year: &str) {
    layout.y += 16.0;
    for (i, (header, x, align)) in COLUMNS.iter().enumerate() {
        let text = match i {
            2 => format!("vs {previous}"),
            3 => format!("vs {last_year}"),
            _ => header.to_string(),
        };
        layout.text(*x, 8.5, true, *align, text);
    }
    layout.y += 5.0;
    let y = layout.y;
    layout.page().push(Step::Line { from: (MARGIN, y), to: (PAGE_W - MARGIN, y), width: 0.8, grey: false });
}

/// The value of a card in its unit, and the two changes as "+4.2 % (+1,200 USD)".
pub fn card_cells(card: &ExecCard) -> [String; 4] {
    let change = |d: &crate::analytics::delta::Delta| match (d.relative, d.absolute) {
        (Some(_), Some(abs)) => format!("{} ({}{})", format_relative(d.relative), if abs >= 0.0 { "+" } else { "" }, format_value(abs, &card.unit)),
        (None, Some(abs)) => format!("{}{}", if abs >= 0.0 { "+" } else { "" }, format_value(abs, &card.unit)),
        _ => "n/a".into(),
    };
    [
        card.label.clone(),
        card.vs_previous.current.map_or("no data".into(), |v| format_value(v, &card.unit)),
        change(&card.vs_previous),
        change(&card.vs_last_year),
    ]
}

fn kpi_table(layout: &mut Layout, summary: &ExecSummary) {
    layout.heading(&format!("Key figures: {}", summary.period_label));
    table_header(layout, &summary.previous_label, &summary.last_year_label);
    for card in &summary.cards {
        if layout.need(18.0) {
            // A table that runs on repeats its header on the new page.
            layout.text(MARGIN, 9.0, false, Align::Left, format!("Key figures: {} (continued)", summary.period_label));
            table_header(layout, &summary.previous_label, &summary.last_year_label);
        }
        layout.y += 15.0;
        for (cell, (_, x, align)) in card_cells(card).into_iter().zip(COLUMNS) {
            layout.text(x, 9.0, false, align, cell);
        }
        layout.y += 3.0;
        let y = layout.y;
        layout.page().push(Step::Line { from: (MARGIN, y), to: (PAGE_W - MARGIN, y), width: 0.3, grey: true });
    }
}

/// A line chart of a card's periods in a `w` by `h` box at the cursor: axis, line, first and
/// last labels, and the range of values.
fn chart(layout: &mut Layout, card: &ExecCard, x: f32, w: f32, h: f32) {
    let top = layout.y;
    let title = format!("{} ({})", card.label, card.unit);
    layout.page().push(Step::Text { x, y: top + 10.0, size: 9.0, bold: true, align: Align::Left, grey: false, text: title });
    let values: Vec<(usize, f64)> = card.history.iter().enumerate().filter_map(|(i, p)| p.aggregate.value.map(|v| (i, v))).collect();
    let (plot_top, plot_bottom) = (top + 22.0, top + h - 14.0);
    let page = layout.page();
    page.push(Step::Line { from: (x, plot_bottom), to: (x + w, plot_bottom), width: 0.5, grey: true });
    let (Some(min), Some(max)) = (values.iter().map(|v| v.1).reduce(f64::min), values.iter().map(|v| v.1).reduce(f64::max)) else {
        page.push(Step::Text { x, y: plot_bottom - 10.0, size: 8.0, bold: false, align: Align::Left, grey: true, text: "no data".into() });
        return;
    };
    let span = if max > min { max - min } else { 1.0 };
    let count = card.history.len().max(2) - 1;
    let points: Vec<(f32, f32)> = values
        .iter()
        .map(|(i, v)| (x + w * (*i as f32 / count as f32), plot_bottom - ((v - min) / span) as f32 * (plot_bottom - plot_top)))
        .collect();
    page.push(Step::Polyline { points, width: 1.4 });
    let grey_text = |x: f32, y: f32, align: Align, text: String| Step::Text { x, y, size: 7.0, bold: false, align, grey: true, text };
    page.push(grey_text(x + w, plot_top - 2.0, Align::Right, format!("max {}", format_value(max, &card.unit))));
    page.push(grey_text(x + w, plot_bottom + 9.0, Align::Right, format!("min {}", format_value(min, &card.unit))));
    if let (Some(first), Some(last)) = (card.history.first(), card.history.last()) {
        page.push(grey_text(x, plot_bottom + 9.0, Align::Left, format!("{} to {}", first.period.label, last.period.label)));
    }
}

fn charts(layout: &mut Layout, summary: &ExecSummary) {
    layout.heading("Trends: the last periods of each KPI");
    let (w, h, gap) = ((PAGE_W - 2.0 * MARGIN - 30.0) / 2.0, 120.0, 30.0);
    for pair in summary.cards.chunks(2) {
        layout.need(h + 16.0);
        layout.y += 8.0;
        for (i, card) in pair.iter().enumerate() {
            chart(layout, card, MARGIN + i as f32 * (w + gap), w, h);
        }
        layout.y += h;
    }
}

/// Lays the pack out: pages of drawing steps, page numbers included.
/// The narrative's headline and paragraphs, as text (the links stay on the page).
fn narrative(layout: &mut Layout, view: &crate::exec::NarrativeView) {
    layout.heading("Summary");
    layout.paragraph(&view.headline.text, 12.0);
    for p in &view.paragraphs {
        let text: Vec<&str> = p.sentences.iter().map(|s| s.text.as_str()).collect();
        layout.paragraph(&format!("{}: {}", p.heading, text.join(" ")), 10.0);
    }
}

pub fn layout(summary: &ExecSummary, story: Option<&crate::exec::NarrativeView>, generated_at: &str) -> Vec<Vec<Step>> {
    let mut l = Layout::new();
    l.y = 260.0;
    l.text(MARGIN, 28.0, true, Align::Left, "Board pack");
    l.y += 40.0;
    l.text(MARGIN, 18.0, false, Align::Left, summary.org_name.clone());
    l.y += 30.0;
    l.text(MARGIN, 14.0, false, Align::Left, format!("{} ({} to {})", summary.period_label, summary.period_start, summary.period_end));
    l.y += 24.0;
    l.text(MARGIN, 10.0, false, Align::Left, format!("Compared with {} and {}. Data up to {}.", summary.previous_label, summary.last_year_label, summary.as_of));
    l.y += 16.0;
    l.text(MARGIN, 10.0, false, Align::Left, format!("Generated {generated_at}"));
    l.new_page();
    if let Some(view) = story {
        narrative(&mut l, view);
    }
    kpi_table(&mut l, summary);
    l.heading("What changed");
    if summary.what_changed.is_empty() {
        l.paragraph("Nothing changed beyond the usual variation.", 10.0);
    }
    for fact in &summary.what_changed {
        l.paragraph(&format!("• {}", fact.sentence), 10.0);
    }
    if !summary.anomalies.is_empty() {
        l.heading("Unusual days");
        for fact in &summary.anomalies {
            l.paragraph(&format!("• {}", fact.sentence), 10.0);
        }
    }
    l.new_page();
    charts(&mut l, summary);
    let total = l.pages.len();
    for (i, page) in l.pages.iter_mut().enumerate() {
        page.push(Step::Text { x: PAGE_W - MARGIN, y: FOOTER_Y, size: 8.0, bold: false, align: Align::Right, grey: true, text: format!("Page {} of {total}", i + 1) });
        page.push(Step::Text { x: MARGIN, y: FOOTER_Y, size: 8.0, bold: false, align: Align::Left, grey: true, text: format!("{}: {}", summary.org_name, summary.period_label) });
    }
    l.pages
}

fn colour(grey: bool) -> rgb::Color {
    if grey {
        rgb::Color::new(110, 110, 110)
    } else {
        rgb::Color::new(20, 20, 20)
    }
}

/// Renders the laid-out pages into a PDF.
pub fn render(pages: &[Vec<Step>], title: &str) -> Result<Vec<u8>, String> {
    let regular = Font::new(REGULAR.into(), 0).ok_or("the bundled regular font does not load")?;
    let bold = Font::new(BOLD.into(), 0).ok_or("the bundled bold font does not load")?;
    let mut document = Document::new();
    document.set_metadata(Metadata::new().title(title.to_string()).creator("InsightOps".into()).language("en".into()));
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("bad page size")?;
    for steps in pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        for step in steps {
            match step {
                Step::Text { x, y, size, bold: is_bold, align, grey, text } => {
                    let x = match align {
                        Align::Left => *x,
                        Align::Right => x - text_width(text, *size, *is_bold),
                    };
                    surface.set_fill(Some(Fill { paint: colour(*grey).into(), ..Default::default() }));
                    let font = if *is_bold { bold.clone() } else { regular.clone() };
                    surface.draw_text(Point::from_xy(x, *y), font, *size, text, false, TextDirection::Auto);
                }
                Step::Line { from, to, width, grey } => stroke(&mut surface, &[*from, *to], *width, colour(*grey)),
                Step::Polyline { points, width } => stroke(&mut surface, points, *width, rgb::Color::new(31, 95, 170)),
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| format!("the PDF could not be written: {e:?}"))
}

fn stroke(surface: &mut krilla::surface::Surface<'_>, points: &[(f32, f32)], width: f32, color: rgb::Color) {
    let mut path = PathBuilder::new();
    let Some(first) = points.first() else { return };
    path.move_to(first.0, first.1);
    for p in &points[1..] {
        path.line_to(p.0, p.1);
    }
    let Some(path) = path.finish() else { return };
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke { paint: color.into(), width, ..Default::default() }));
    surface.draw_path(&path);
    surface.set_stroke(None);
}

/// The board pack of `summary` as PDF bytes.
pub fn board_pack(summary: &ExecSummary, story: Option<&crate::exec::NarrativeView>, generated_at: &str) -> Result<Vec<u8>, String> {
    render(&layout(summary, story, generated_at), &format!("Board pack: {} {}", summary.org_name, summary.period_label))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::analytics::calendar::{aggregate_by, Granularity};
    use crate::analytics::delta::delta;
    use crate::analytics::{Aggregation, DailyValue, Direction};
    use chrono::{Duration, NaiveDate};

    fn summary(cards: usize) -> ExecSummary {
        let start = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
        let series: Vec<DailyValue> = (0..400).map(|d| DailyValue::new(start + Duration::days(d), 100.0 + d as f64)).collect();
        let history = aggregate_by(&series, Granularity::Month, Aggregation::Sum);
        ExecSummary {
            org_name: "Acme Retail".into(),
            as_of: start + Duration::days(399),
            query: crate::exec::ExecQuery::default(),
            period_label: "2026-01".into(),
            period_start: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            period_end: NaiveDate::from_ymd_opt(2026, 1, 31).expect("date"),
            previous_label: "2025-12".into(),
            last_year_label: "2025-01".into(),
            choices: vec![],
            cards: (0..cards)
                .map(|i| ExecCard {
                    metric_key: format!("m{i}"),
                    label: format!("Metric {i}"),
                    unit: "USD".into(),
                    direction: Direction::HigherIsBetter,
                    vs_previous: delta(Some(1000.0 + i as f64), Some(900.0), Direction::HigherIsBetter),
                    vs_last_year: delta(Some(1000.0 + i as f64), None, Direction::HigherIsBetter),
                    history: history.clone(),
                    dashboard_href: String::new(),
                })
                .collect(),
            what_changed: vec![],
            anomalies: vec![],
            open_recommendations: None,
            recurring: vec![],
        }
    }

    fn texts(page: &[Step]) -> Vec<String> {
        page.iter().filter_map(|s| if let Step::Text { text, .. } = s { Some(text.clone()) } else { None }).collect()
    }

    #[test]
    fn a_long_table_repeats_its_header_and_every_page_is_numbered() {
        let pages = layout(&summary(60), None, "2026-02-01T06:00:00Z");
        let total = pages.len();
        assert!(total >= 5, "title, a table over two pages or more, charts: {total}");
        for (i, page) in pages.iter().enumerate() {
            assert!(texts(page).contains(&format!("Page {} of {total}", i + 1)));
            assert!(page.iter().all(|s| match s {
                Step::Text { y, .. } => *y <= PAGE_H - 20.0,
                Step::Line { from, to, .. } => from.1 <= FOOTER_Y && to.1 <= FOOTER_Y,
                Step::Polyline { points, .. } => points.iter().all(|p| p.1 <= FOOTER_Y),
            }), "nothing runs off page {}", i + 1);
        }
        let headers = pages.iter().filter(|p| texts(p).iter().any(|t| t == "KPI")).count();
        assert!(headers >= 2, "the header is repeated on each page of the table");
        let all: Vec<String> = pages.iter().flat_map(|p| texts(p)).collect();
        for i in 0..60 {
            assert!(all.contains(&format!("Metric {i}")), "every KPI is in the table");
        }
        assert!(all.iter().any(|t| t.starts_with("+11.1 %") || t.contains("11.1")), "the change vs the previous period: {:?}", &all[..20]);
        let pdf = render(&pages, "test").expect("a PDF");
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn text_is_measured_and_wrapped_to_the_width() {
        assert!(text_width("WWWW", 10.0, false) > text_width("iiii", 10.0, false));
        assert!(text_width("Revenue", 10.0, true) > text_width("Revenue", 10.0, false));
        let long = "Revenue rose by 4.2 % against the previous month, driven by EMEA and the web channel, while orders fell slightly.";
        let lines = wrap(long, 10.0, 200.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| text_width(l, 10.0, false) <= 200.0));
        assert_eq!(lines.join(" "), long);
    }
}
