//! The manager dashboard on `/dashboard`: filters and drill path live in the URL query string, the
//! server function returns every widget's data, the page draws charts that drill on click.

pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;
mod widgets;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::analytics::anomaly::AnomalyScore;
use crate::analytics::calendar::PeriodAggregate;
use crate::analytics::delta::Delta;
use crate::analytics::forecast::Forecast;
use crate::analytics::{Aggregation, DailyValue, Direction};
use crate::error::AppError;
use crate::domain::{Dimension, DimensionFilter};

/// Date ranges offered as presets; all end on the last day with data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangePreset {
    Last7Days,
    Last30Days,
    Last90Days,
    Last365Days,
    Custom,
}

impl RangePreset {
    pub const ALL: [RangePreset; 5] = [Self::Last7Days, Self::Last30Days, Self::Last90Days, Self::Last365Days, Self::Custom];

    pub fn token(self) -> &'static str {
        match self {
            Self::Last7Days => "7d",
            Self::Last30Days => "30d",
            Self::Last90Days => "90d",
            Self::Last365Days => "365d",
            Self::Custom => "custom",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Last7Days => "Last 7 days",
            Self::Last30Days => "Last 30 days",
            Self::Last90Days => "Last 90 days",
            Self::Last365Days => "Last 365 days",
            Self::Custom => "Custom range",
        }
    }

    pub fn days(self) -> Option<i64> {
        match self {
            Self::Last7Days => Some(7),
            Self::Last30Days => Some(30),
            Self::Last90Days => Some(90),
            Self::Last365Days => Some(365),
            Self::Custom => None,
        }
    }
}

/// How often the page refetches its data in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AutoRefresh {
    Off,
    Every30Seconds,
    Every5Minutes,
}

impl AutoRefresh {
    pub const ALL: [AutoRefresh; 3] = [Self::Off, Self::Every30Seconds, Self::Every5Minutes];

    pub fn token(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Every30Seconds => "30s",
            Self::Every5Minutes => "5m",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Off => "Off",
            Self::Every30Seconds => "Every 30 s",
            Self::Every5Minutes => "Every 5 min",
        }
    }

    pub fn seconds(self) -> Option<u64> {
        match self {
            Self::Off => None,
            Self::Every30Seconds => Some(30),
            Self::Every5Minutes => Some(300),
        }
    }
}

/// Everything a dashboard view is, as read from and written to the URL query string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardQuery {
    /// `None`: the org's first KPI.
    pub metric: Option<String>,
    pub range: RangePreset,
    /// Only for `Custom`.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub filter: DimensionFilter,
    /// Values picked along the drill order: `["EMEA", "SMB"]` is region EMEA, segment SMB.
    pub drill: Vec<String>,
    /// Second metric of the scatter chart.
    pub versus: Option<String>,
    pub refresh: AutoRefresh,
}

impl Default for DashboardQuery {
    fn default() -> Self {
        Self {
            metric: None,
            range: RangePreset::Last90Days,
            from: None,
            to: None,
            filter: DimensionFilter::default(),
            drill: Vec::new(),
            versus: None,
            refresh: AutoRefresh::Off,
        }
    }
}

/// The longest custom range a page draws, in days.
pub const MAX_RANGE_DAYS: i64 = 3 * 366;

fn bad(message: String) -> AppError {
    AppError::BadRequest(message)
}

impl DashboardQuery {
    /// Reads URL parameters. Checks what can be checked without the catalogue (dates, presets,
    /// names); the service checks metric keys and dimension values against the org's data.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, AppError> {
        let mut q = DashboardQuery::default();
        let list = |text: &str| -> Vec<String> {
            text.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_string).collect()
        };
        let date = |key: &str, text: &str| -> Result<Option<NaiveDate>, AppError> {
            if text.is_empty() {
                return Ok(None);
            }
            crate::domain::date::parse_day(text).map(Some).map_err(|e| bad(format!("`{key}` = {text:?} {e}")))
        };
        let mut explicit_range = false;
        for (key, value) in pairs {
            let value = value.trim();
            match key {
                // A stray `&` (or a browser's empty pair) carries nothing.
                "" => {}
                "metric" => q.metric = (!value.is_empty()).then(|| value.to_string()),
                "vs" => q.versus = (!value.is_empty()).then(|| value.to_string()),
                "range" => {
                    explicit_range = true;
                    q.range = RangePreset::ALL.into_iter().find(|r| r.token() == value).ok_or_else(|| {
                        bad(format!("`range` = {value:?} is not one of 7d, 30d, 90d, 365d, custom"))
                    })?
                }
                "from" => q.from = date("from", value)?,
                "to" => q.to = date("to", value)?,
                "drill" => q.drill = list(value),
                "refresh" => {
                    q.refresh = AutoRefresh::ALL
                        .into_iter()
                        .find(|r| r.token() == value)
                        .ok_or_else(|| bad(format!("`refresh` = {value:?} is not one of off, 30s, 5m")))?
                }
                // A multi-select submits one pair per value; links use one comma-joined pair.
                other => match Dimension::parse(other) {
                    Some(d) => q.filter.values_mut(d).extend(list(value)),
                    None => return Err(bad(format!("unknown parameter `{other}`"))),
                },
            }
        }
        // Dates alone mean a custom range; next to a preset (a form submits both) they are ignored.
        if !explicit_range && (q.from.is_some() || q.to.is_some()) {
            q.range = RangePreset::Custom;
        }
        if q.range != RangePreset::Custom {
            (q.from, q.to) = (None, None);
        }
        for d in Dimension::ALL {
            let values = q.filter.values_mut(d);
            values.sort();
            values.dedup();
        }
        if q.range == RangePreset::Custom {
            let (Some(from), Some(to)) = (q.from, q.to) else {
                return Err(bad("a custom range needs both `from` and `to`".into()));
            };
            if to < from {
                return Err(bad(format!("the range ends ({to}) before it starts ({from})")));
            }
            if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
                return Err(bad(format!("the range is longer than {MAX_RANGE_DAYS} days")));
            }
        }
        if q.drill.len() > Dimension::ALL.len() {
            return Err(bad(format!("the drill path has {} steps; there are only 4 dimensions", q.drill.len())));
        }
        Ok(q)
    }

    pub fn from_query_string(text: &str) -> Result<Self, AppError> {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(text.trim_start_matches('?').as_bytes()).into_owned().collect();
        Self::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The canonical query string (without `?`): only non-default parts, in a fixed order.
    pub fn to_query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        if let Some(m) = &self.metric {
            out.append_pair("metric", m);
        }
        if self.range == RangePreset::Custom {
            if let (Some(from), Some(to)) = (self.from, self.to) {
                out.append_pair("from", &from.to_string());
                out.append_pair("to", &to.to_string());
            }
        } else if self.range != RangePreset::Last90Days {
            out.append_pair("range", self.range.token());
        }
        for d in Dimension::ALL {
            let values = self.filter.values(d);
            if !values.is_empty() {
                out.append_pair(d.as_str(), &values.join(","));
            }
        }
        if !self.drill.is_empty() {
            out.append_pair("drill", &self.drill.join(","));
        }
        if let Some(v) = &self.versus {
            out.append_pair("vs", v);
        }
        if self.refresh != AutoRefresh::Off {
            out.append_pair("refresh", self.refresh.token());
        }
        out.finish()
    }

    /// The dashboard of `metric` over `from`..=`to` with `filter`: where a sentence or a finding
    /// sends the reader to see its numbers.
    pub fn range_href(metric: &str, from: NaiveDate, to: NaiveDate, filter: DimensionFilter) -> String {
        DashboardQuery { metric: Some(metric.to_string()), range: RangePreset::Custom, from: Some(from), to: Some(to), filter, ..DashboardQuery::default() }.href()
    }

    pub fn href(&self) -> String {
        let query = self.to_query_string();
        if query.is_empty() {
            "/dashboard".to_string()
        } else {
            format!("/dashboard?{query}")
        }
    }

    /// The days the view covers when the data ends on `as_of`: a preset ends there, a custom
    /// range is its own.
    pub fn range_for(&self, as_of: NaiveDate) -> Result<(NaiveDate, NaiveDate), AppError> {
        match (self.range.days(), self.from, self.to) {
            (Some(days), _, _) => Ok((as_of - chrono::Duration::days(days - 1), as_of)),
            (None, Some(from), Some(to)) => Ok((from, to)),
            _ => Err(bad("a custom range needs both `from` and `to`".into())),
        }
    }

    /// The filters with the drill path applied: each step fixes the next dimension's value.
    pub fn selection(&self) -> Result<DimensionFilter, AppError> {
        let mut selection = self.filter.clone();
        for (step, value) in self.drill.iter().enumerate() {
            let d = Dimension::ALL[step.min(Dimension::ALL.len() - 1)];
            selection = selection
                .narrowed(d, value)
                .ok_or_else(|| bad(format!("{} {value:?} is excluded by the {} filter", d.label(), d.as_str())))?;
        }
        Ok(selection)
    }

    /// The dimension the current drill level breaks down by; `None` when every dimension is
    /// fixed and the page shows the daily detail table.
    pub fn level(&self) -> Option<Dimension> {
        Dimension::ALL.get(self.drill.len()).copied()
    }

    /// One level deeper into `value` of the current level.
    pub fn drilled_into(&self, value: &str) -> DashboardQuery {
        let mut next = self.clone();
        if next.level().is_some() {
            next.drill.push(value.to_string());
        }
        next
    }

    /// Back up to `depth` drill steps (0: the total).
    pub fn drilled_to(&self, depth: usize) -> DashboardQuery {
        let mut next = self.clone();
        next.drill.truncate(depth);
        next
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricOption {
    pub key: String,
    pub label: String,
    pub unit: String,
    pub direction: Direction,
    pub aggregation: Aggregation,
    /// An engagement signal rather than a KPI: read from the signal facts, not exported.
    #[serde(default)]
    pub signal: bool,
}

impl MetricOption {
    /// The label a metric picker shows: signals are marked as such.
    pub fn picker_label(&self) -> String {
        if self.signal {
            format!("{} (engagement signal)", self.label)
        } else {
            self.label.clone()
        }
    }
}

/// One step of the breadcrumb; `depth` is the drill depth its link goes back to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crumb {
    pub label: String,
    pub depth: usize,
}

/// One value of the current level's dimension over the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakdownRow {
    pub member: String,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub delta: Delta,
    /// value / total, for additive metrics.
    pub share: Option<f64>,
    /// Daily values over the range, for the stacked area.
    pub daily: Vec<DailyValue>,
    /// The second metric's value over the range (scatter).
    pub versus: Option<f64>,
}

impl DashboardData {
    /// The range's dates and each breakdown member's value on each of them (gaps as `None`):
    /// the stacked composition chart's series.
    pub fn stacked_by_member(&self) -> (Vec<String>, Vec<(String, Vec<Option<f64>>)>) {
        let dates = self.daily.iter().map(|p| p.date.to_string()).collect();
        let stacked = self
            .breakdown
            .iter()
            .map(|r| (r.member.clone(), self.daily.iter().map(|d| r.daily.iter().find(|p| p.date == d.date).map(|p| p.value)).collect()))
            .collect();
        (dates, stacked)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub org_name: String,
    /// Last day with data.
    pub as_of: NaiveDate,
    /// When the server built this response (RFC 3339, UTC).
    pub generated_at: String,
    pub query: DashboardQuery,
    pub metrics: Vec<MetricOption>,
    pub dimension_values: Vec<(Dimension, Vec<String>)>,
    pub metric: MetricOption,
    pub versus: Option<MetricOption>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub previous_start: NaiveDate,
    pub previous_end: NaiveDate,
    /// The metric over the range for the whole selection (filters and drill path), against the
    /// previous range of the same length.
    pub total: Delta,
    pub daily: Vec<DailyValue>,
    pub weekly: Vec<PeriodAggregate>,
    /// Warning-or-worse points inside the range.
    pub anomalies: Vec<AnomalyScore>,
    /// Only when the range ends on the last day with data.
    pub forecast: Option<Forecast>,
    pub breadcrumb: Vec<Crumb>,
    pub level: Option<Dimension>,
    /// The metric is ANONYMISED for this role: totals only, no breakdown.
    pub anonymised: bool,
    pub breakdown: Vec<BreakdownRow>,
    /// Sentences for the text summaries, all from `analytics::narrative`.
    pub trend_summary: String,
    pub breakdown_summary: String,
    /// Recurring patterns of this metric (newest first) from the pattern reviews.
    pub recurring: Vec<crate::patterns::RecurringPattern>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_round_trips_through_the_url() {
        let text = "metric=revenue&from=2026-08-01&to=2026-10-31&region=NA,EMEA&channel=web&drill=EMEA&vs=orders&refresh=30s";
        let q = DashboardQuery::from_query_string(text).expect("valid");
        assert_eq!(q.range, RangePreset::Custom);
        assert_eq!(q.filter.region, vec!["EMEA".to_string(), "NA".to_string()]);
        assert_eq!(q.level(), Some(Dimension::Segment));
        assert_eq!(DashboardQuery::from_query_string(&q.to_query_string()).expect("canonical form parses"), q);
        assert_eq!(DashboardQuery::default().href(), "/dashboard");
    }

    #[test]
    fn drilling_walks_the_dimension_order_and_back() {
        let q = DashboardQuery::default().drilled_into("EMEA").drilled_into("SMB");
        assert_eq!(q.drill, vec!["EMEA".to_string(), "SMB".to_string()]);
        assert_eq!(q.level(), Some(Dimension::Channel));
        let full = q.drilled_into("web").drilled_into("pro");
        assert_eq!(full.level(), None);
        assert_eq!(full.drilled_into("x").drill.len(), 4, "no level below product");
        assert_eq!(full.drilled_to(1).drill, vec!["EMEA".to_string()]);
        assert!(q.href().contains("drill=EMEA%2CSMB"), "{}", q.href());
    }

    #[test]
    fn malformed_urls_get_clear_messages() {
        let message = |text: &str| DashboardQuery::from_query_string(text).expect_err(text).to_string();
        assert!(message("from=2026-13-01&to=2026-12-01").contains("`from` = \"2026-13-01\" is not a date"));
        assert!(message("from=2026-10-01&to=2026-09-01").contains("ends (2026-09-01) before it starts (2026-10-01)"));
        assert!(message("range=week").contains("`range` = \"week\""));
        assert!(message("country=FR").contains("unknown parameter `country`"));
        assert!(message("from=2026-10-01").contains("needs both"));
        assert!(message("drill=a,b,c,d,e").contains("only 4 dimensions"));
        assert!(DashboardQuery::from_query_string("?&metric=orders&").is_ok());
    }

    #[test]
    fn form_submissions_with_repeated_keys_and_a_preset() {
        // A GET form sends every select value as its own pair, and the date inputs even when a
        // preset is chosen.
        let q = DashboardQuery::from_query_string("range=7d&from=2026-01-01&to=2026-01-31&region=NA&region=EMEA").expect("valid");
        assert_eq!(q.range, RangePreset::Last7Days);
        assert_eq!((q.from, q.to), (None, None));
        assert_eq!(q.filter.region, vec!["EMEA".to_string(), "NA".to_string()]);
        let custom = DashboardQuery::from_query_string("range=custom&from=2026-01-01&to=2026-01-31").expect("valid");
        assert_eq!(custom.range, RangePreset::Custom);
    }
}
