//! The three templates that ship with the app, over the demo metrics. A copy keeps the widgets
//! whose metric the org has; the others fall back to the org's first KPI.

use super::{BuiltinTemplate, ChartType, DashboardSpec, WidgetSpec, WidgetType};

struct Widget(WidgetType, Option<ChartType>, &'static str, &'static str, [i32; 4]);

struct Template {
    key: &'static str,
    name: &'static str,
    template_type: &'static str,
    description: &'static str,
    default_query: &'static str,
    widgets: &'static [Widget],
}

use ChartType::*;
use WidgetType::*;

const TEMPLATES: [Template; 3] = [
    Template {
        key: "sales-weekly",
        name: "Sales weekly",
        template_type: "sales weekly",
        description: "Revenue, orders and order value over the last weeks, by region.",
        default_query: "range=30d",
        widgets: &[
            Widget(MetricCard, None, "Revenue", "metric=revenue", [0, 0, 4, 2]),
            Widget(MetricCard, None, "Orders", "metric=orders", [4, 0, 4, 2]),
            Widget(MetricCard, None, "Average order value", "metric=avg_order_value", [8, 0, 4, 2]),
            Widget(Chart, Some(Line), "Revenue by day", "metric=revenue", [0, 2, 8, 4]),
            Widget(Chart, Some(Pie), "Revenue by region", "metric=revenue", [8, 2, 4, 4]),
            Widget(Table, None, "Orders by region", "metric=orders", [0, 6, 12, 4]),
        ],
    },
    Template {
        key: "board-monthly",
        name: "Board monthly",
        template_type: "board monthly",
        description: "The numbers a board reads each month: revenue, customers, churn and NPS.",
        default_query: "range=90d",
        widgets: &[
            Widget(MetricCard, None, "Revenue", "metric=revenue", [0, 0, 3, 2]),
            Widget(MetricCard, None, "New customers", "metric=new_customers", [3, 0, 3, 2]),
            Widget(MetricCard, None, "Churn rate", "metric=churn_rate", [6, 0, 3, 2]),
            Widget(MetricCard, None, "NPS", "metric=nps", [9, 0, 3, 2]),
            Widget(Chart, Some(Area), "Revenue, last 90 days", "metric=revenue", [0, 2, 12, 4]),
        ],
    },
    Template {
        key: "growth",
        name: "Growth and marketing",
        template_type: "marketing",
        description: "Spend against new customers and conversion, by channel.",
        default_query: "range=90d",
        widgets: &[
            Widget(Chart, Some(Bar), "New customers by region", "metric=new_customers", [0, 0, 6, 4]),
            Widget(Chart, Some(Scatter), "Conversion against active users", "metric=conversion_rate&vs=active_users", [6, 0, 6, 4]),
            Widget(MetricCard, None, "Active users", "metric=active_users", [0, 4, 6, 2]),
            Widget(MetricCard, None, "Conversion rate", "metric=conversion_rate", [6, 4, 6, 2]),
        ],
    },
];

pub fn list() -> Vec<BuiltinTemplate> {
    TEMPLATES
        .iter()
        .map(|t| BuiltinTemplate { key: t.key.into(), name: t.name.into(), template_type: t.template_type.into(), description: t.description.into() })
        .collect()
}

/// The template's dashboard, with `metric=` dropped from widgets whose metric `has` says the org lacks.
pub fn spec(key: &str, has: impl Fn(&str) -> bool) -> Option<DashboardSpec> {
    let t = TEMPLATES.iter().find(|t| t.key == key)?;
    let widgets = t
        .widgets
        .iter()
        .map(|Widget(widget_type, chart_type, title, query, [x, y, w, h])| {
            let query: Vec<&str> = query.split('&').filter(|pair| pair.strip_prefix("metric=").or_else(|| pair.strip_prefix("vs=")).is_none_or(&has)).collect();
            WidgetSpec { id: None, widget_type: *widget_type, chart_type: *chart_type, title: title.to_string(), query: query.join("&"), pinned: false, body: String::new(), x: *x, y: *y, w: *w, h: *h }
        })
        .collect();
    Some(DashboardSpec {
        name: t.name.into(),
        description: t.description.into(),
        default_query: t.default_query.into(),
        refresh: "off".into(),
        is_template: false,
        template_type: None,
        widgets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fit_the_grid_and_drop_metrics_the_org_lacks() {
        for t in list() {
            let spec = spec(&t.key, |_| true).expect("template");
            crate::domain::dashboards::check_layout(&spec.widgets).expect("layout");
        }
        let without_nps = spec("board-monthly", |m| m != "nps").expect("template");
        assert_eq!(without_nps.widgets[3].query, "");
        assert_eq!(without_nps.widgets[0].query, "metric=revenue");
        assert!(spec("nope", |_| true).is_none());
    }
}
