//! echarts options for each chart kind, built with charming from plain analytics data.
//! Pure functions: the browser renders them, native tests check their content.

use charming::component::{Axis, Grid, Legend};
use charming::datatype::{CompositeValue, DataPoint, DataPointItem};
use charming::element::{AreaStyle, AxisType, ItemStyle, LineStyle, LineStyleType, Symbol, Tooltip, Trigger};
use charming::series::{Bar, Line, Pie, Scatter};
use charming::Chart;

use crate::analytics::anomaly::AnomalyScore;
use crate::analytics::forecast::Forecast;
use crate::analytics::narrative::flagged_day_text;
use crate::analytics::DailyValue;

/// Colours shared with the stylesheet: actual, forecast, band, anomaly.
const ACTUAL: &str = "#1f5fa8";
const FORECAST: &str = "#7a4fb0";
const ANOMALY: &str = "#c62828";

fn gap() -> DataPoint {
    DataPoint::Value(CompositeValue::OptionalNumber(None))
}

fn grid() -> Grid {
    Grid::new().left(8).right(28).top(36).bottom(8).contain_label(true)
}

/// A compact daily line: dates on x, values on y (not forced to start at zero), axis tooltip.
pub fn daily_line(label: &str, unit: &str, series: &[DailyValue]) -> Chart {
    let dates: Vec<String> = series.iter().map(|p| p.date.format("%Y-%m-%d").to_string()).collect();
    let values: Vec<f64> = series.iter().map(|p| p.value).collect();
    Chart::new()
        .grid(Grid::new().left(4).right(28).top(12).bottom(4).contain_label(true))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(Axis::new().type_(AxisType::Category).data(dates))
        .y_axis(Axis::new().type_(AxisType::Value).scale(true).name(unit))
        .series(Line::new().name(label).show_symbol(false).data(values))
}

/// Daily actuals, then the forecast with its band, with anomalous days marked in red; each marker's
/// tooltip carries the explanation (observed, expected, band, severity).
pub fn trend_chart(label: &str, unit: &str, daily: &[DailyValue], anomalies: &[AnomalyScore], forecast: Option<&Forecast>) -> Chart {
    let future = forecast.map(|f| f.points.as_slice()).unwrap_or_default();
    let dates: Vec<String> = daily.iter().map(|p| p.date.to_string()).chain(future.iter().map(|p| p.date.to_string())).collect();
    let pad = |n: usize| std::iter::repeat_with(gap).take(n);
    let actual: Vec<DataPoint> = daily.iter().map(|p| DataPoint::from(p.value)).chain(pad(future.len())).collect();
    let markers: Vec<DataPoint> = daily
        .iter()
        .map(|p| match anomalies.iter().find(|a| a.date == p.date) {
            Some(a) => DataPointItem::new(a.observed).name(flagged_day_text(a, unit)).into(),
            None => gap(),
        })
        .chain(pad(future.len()))
        .collect();
    // The band's two helper series stay out of the legend.
    let legend: Vec<&str> = if future.is_empty() { vec![label, "Anomaly"] } else { vec![label, "Forecast", "Anomaly"] };
    let mut chart = Chart::new()
        .grid(grid())
        .legend(Legend::new().top(0).data(legend))
        .tooltip(Tooltip::new().trigger(Trigger::Item))
        .x_axis(Axis::new().type_(AxisType::Category).data(dates))
        .y_axis(Axis::new().type_(AxisType::Value).scale(true).name(unit))
        .series(Line::new().name(label).show_symbol(false).item_style(ItemStyle::new().color(ACTUAL)).data(actual));
    if !future.is_empty() {
        let lead = || pad(daily.len());
        chart = chart
            .series(
                Line::new()
                    .name("Forecast low")
                    .stack("band")
                    .show_symbol(false)
                    .silent(true)
                    .line_style(LineStyle::new().opacity(0))
                    .data(lead().chain(future.iter().map(|p| DataPoint::from(p.low))).collect::<Vec<_>>()),
            )
            .series(
                Line::new()
                    .name("Forecast band")
                    .stack("band")
                    .show_symbol(false)
                    .silent(true)
                    .line_style(LineStyle::new().opacity(0))
                    .area_style(AreaStyle::new().color(FORECAST).opacity(0.15))
                    .data(lead().chain(future.iter().map(|p| DataPoint::from(p.high - p.low))).collect::<Vec<_>>()),
            )
            .series(
                Line::new()
                    .name("Forecast")
                    .show_symbol(false)
                    .item_style(ItemStyle::new().color(FORECAST))
                    .line_style(LineStyle::new().type_(LineStyleType::Dashed))
                    .data(lead().chain(future.iter().map(|p| DataPoint::from(p.value))).collect::<Vec<_>>()),
            );
    }
    chart.series(
        Scatter::new()
            .name("Anomaly")
            .symbol(Symbol::Circle)
            .symbol_size(11)
            .item_style(ItemStyle::new().color(ANOMALY))
            .data(markers),
    )
}

/// A bare line for a KPI card: no axes or labels, the card and its table carry the numbers.
pub fn sparkline(label: &str, series: &[DailyValue]) -> Chart {
    let dates: Vec<String> = series.iter().map(|p| p.date.to_string()).collect();
    Chart::new()
        .grid(Grid::new().left(4).right(4).top(6).bottom(6))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(Axis::new().type_(AxisType::Category).show(false).data(dates))
        .y_axis(Axis::new().type_(AxisType::Value).scale(true).show(false))
        .series(Line::new().name(label).show_symbol(false).item_style(ItemStyle::new().color(ACTUAL)).data(series.iter().map(|p| p.value).collect()))
}

/// Weekly totals (or averages) as columns.
pub fn weekly_chart(label: &str, unit: &str, weeks: &[(String, f64)]) -> Chart {
    Chart::new()
        .grid(grid())
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(Axis::new().type_(AxisType::Category).data(weeks.iter().map(|w| w.0.clone()).collect()))
        .y_axis(Axis::new().type_(AxisType::Value).name(unit))
        .series(Bar::new().name(label).item_style(ItemStyle::new().color(ACTUAL)).data(weeks.iter().map(|w| w.1).collect()))
}

/// One column per member; clicking a column drills into it (the click handler reads `name`).
pub fn bar_chart(label: &str, unit: &str, members: &[(String, f64)]) -> Chart {
    Chart::new()
        .grid(grid())
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(Axis::new().type_(AxisType::Category).data(members.iter().map(|m| m.0.clone()).collect()))
        .y_axis(Axis::new().type_(AxisType::Value).name(unit))
        .series(
            Bar::new()
                .name(label)
                .item_style(ItemStyle::new().color(ACTUAL))
                .data(members.iter().map(|(name, v)| DataPoint::from(DataPointItem::new(*v).name(name.clone()))).collect()),
        )
}

pub fn pie_chart(label: &str, members: &[(String, f64)]) -> Chart {
    Chart::new()
        .tooltip(Tooltip::new().trigger(Trigger::Item))
        .legend(Legend::new().top(0))
        .series(
            Pie::new()
                .name(label)
                .radius(vec!["35%", "68%"])
                .center(vec!["50%", "58%"])
                .data(members.iter().map(|(name, v)| DataPoint::from(DataPointItem::new(*v).name(name.clone()))).collect()),
        )
}

/// Daily values per member stacked: the composition of the total over time.
pub fn stacked_area_chart(unit: &str, dates: &[String], members: &[(String, Vec<Option<f64>>)]) -> Chart {
    let mut chart = Chart::new()
        .grid(grid())
        .legend(Legend::new().top(0))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(Axis::new().type_(AxisType::Category).boundary_gap(false).data(dates.to_vec()))
        .y_axis(Axis::new().type_(AxisType::Value).name(unit));
    for (name, values) in members {
        chart = chart.series(
            Line::new()
                .name(name.as_str())
                .stack("total")
                .show_symbol(false)
                .area_style(AreaStyle::new())
                .data(values.iter().map(|v| DataPoint::from(*v)).collect()),
        );
    }
    chart
}

/// One point per member: x the metric, y the second metric; the point's name is the member.
pub fn scatter_chart(x_label: &str, y_label: &str, points: &[(String, f64, f64)]) -> Chart {
    Chart::new()
        .grid(grid())
        .tooltip(Tooltip::new().trigger(Trigger::Item))
        .x_axis(Axis::new().type_(AxisType::Value).scale(true).name(x_label))
        .y_axis(Axis::new().type_(AxisType::Value).scale(true).name(y_label))
        .series(
            Scatter::new()
                .name(format!("{y_label} vs {x_label}"))
                .symbol_size(16)
                .item_style(ItemStyle::new().color(ACTUAL))
                .data(points.iter().map(|(name, x, y)| DataPoint::from(DataPointItem::new(vec![*x, *y]).name(name.clone()))).collect()),
        )
}

/// A recommendation's evidence: the observed series, the expected value and its band where the
/// model computed them, and the finding's days marked.
pub fn evidence_chart(evidence: &crate::recommendations::Evidence) -> Chart {
    let points = &evidence.series;
    let dates: Vec<String> = points.iter().map(|p| p.date.to_string()).collect();
    let optional = |v: Option<f64>| v.map(DataPoint::from).unwrap_or_else(gap);
    let in_finding = |d: chrono::NaiveDate| d >= evidence.period_start && d <= evidence.period_end;
    let marked: Vec<DataPoint> = points.iter().map(|p| if in_finding(p.date) { DataPoint::from(p.value) } else { gap() }).collect();
    let has_band = points.iter().any(|p| p.low.is_some());
    let mut chart = Chart::new()
        .grid(grid())
        .legend(Legend::new().top(0).data(vec!["Observed", "Expected", "Finding"]))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(Axis::new().type_(AxisType::Category).data(dates))
        .y_axis(Axis::new().type_(AxisType::Value).scale(true).name(evidence.unit.as_str()))
        .series(Line::new().name("Observed").show_symbol(false).item_style(ItemStyle::new().color(ACTUAL)).data(points.iter().map(|p| DataPoint::from(p.value)).collect::<Vec<_>>()));
    if has_band {
        chart = chart
            .series(
                Line::new()
                    .name("Band low")
                    .stack("band")
                    .show_symbol(false)
                    .silent(true)
                    .line_style(LineStyle::new().opacity(0))
                    .data(points.iter().map(|p| optional(p.low)).collect::<Vec<_>>()),
            )
            .series(
                Line::new()
                    .name("Normal range")
                    .stack("band")
                    .show_symbol(false)
                    .silent(true)
                    .line_style(LineStyle::new().opacity(0))
                    .area_style(AreaStyle::new().color(FORECAST).opacity(0.15))
                    .data(points.iter().map(|p| optional(p.low.zip(p.high).map(|(l, h)| h - l))).collect::<Vec<_>>()),
            );
    }
    chart
        .series(
            Line::new()
                .name("Expected")
                .show_symbol(false)
                .item_style(ItemStyle::new().color(FORECAST))
                .line_style(LineStyle::new().type_(LineStyleType::Dashed))
                .data(points.iter().map(|p| optional(p.expected)).collect::<Vec<_>>()),
        )
        .series(Scatter::new().name("Finding").symbol(Symbol::Circle).symbol_size(11).item_style(ItemStyle::new().color(ANOMALY)).data(marked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn line_option_carries_every_point_in_order() {
        let start = NaiveDate::from_ymd_opt(2026, 3, 1).expect("valid date");
        let series: Vec<DailyValue> = (0..3)
            .map(|i| DailyValue::new(start + chrono::Duration::days(i), 10.0 * (i + 1) as f64))
            .collect();
        let json: serde_json::Value =
            serde_json::from_str(&daily_line("Revenue", "USD", &series).to_string()).expect("chart JSON");
        assert_eq!(json["xAxis"]["data"], serde_json::json!(["2026-03-01", "2026-03-02", "2026-03-03"]));
        assert_eq!(json["series"][0]["type"], "line");
        assert_eq!(json["series"][0]["name"], "Revenue");
        assert_eq!(json["series"][0]["data"], serde_json::json!([10.0, 20.0, 30.0]));
    }

    #[test]
    fn trend_chart_pads_series_and_names_anomalies() {
        use crate::analytics::anomaly::{Fired, Severity};
        let start = NaiveDate::from_ymd_opt(2026, 3, 1).expect("valid date");
        let daily: Vec<DailyValue> = (0..3).map(|i| DailyValue::new(start + chrono::Duration::days(i), 10.0)).collect();
        let spike = AnomalyScore {
            date: start + chrono::Duration::days(1),
            observed: 10.0,
            expected: 4.0,
            band_low: 3.0,
            band_high: 5.0,
            robust_z: None,
            residual_z: Some(6.0),
            volatility_ratio: None,
            slope_change: None,
            score: Some(6.0),
            severity: Some(Severity::Critical),
            fired: Fired::default(),
            level_shift: None,
        };
        let json: serde_json::Value = serde_json::from_str(&trend_chart("Orders", "count", &daily, &[spike], None).to_string()).expect("JSON");
        let markers = &json["series"][1]["data"];
        assert_eq!(markers[0], serde_json::Value::Null);
        assert_eq!(markers[1]["name"], "2026-03-02: 10 against an expected 4 (normal range 3 to 5), critical");
        assert_eq!(json["series"].as_array().map(Vec::len), Some(2), "no forecast, no band series");
        assert_eq!(json["legend"]["data"], serde_json::json!([{"name": "Orders"}, {"name": "Anomaly"}]));
    }

    #[test]
    fn drillable_charts_name_their_points() {
        let members = [("EMEA".to_string(), 5.0), ("NA".to_string(), 7.0)];
        let bar: serde_json::Value = serde_json::from_str(&bar_chart("Revenue", "USD", &members).to_string()).expect("JSON");
        assert_eq!(bar["series"][0]["data"][1]["name"], "NA");
        let scatter: serde_json::Value =
            serde_json::from_str(&scatter_chart("Revenue", "Orders", &[("EMEA".into(), 5.0, 2.0)]).to_string()).expect("JSON");
        assert_eq!(scatter["series"][0]["data"][0]["value"], serde_json::json!([5.0, 2.0]));
        assert_eq!(scatter["series"][0]["data"][0]["name"], "EMEA");
    }
}

