//! echarts options for each chart kind, built with charming from plain analytics data.
//! Pure functions: the browser renders them, native tests check their content.

use charming::component::{Axis, Grid};
use charming::element::{AxisType, Tooltip, Trigger};
use charming::series::Line;
use charming::Chart;

use crate::analytics::DailyValue;

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
}
