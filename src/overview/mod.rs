//! The executive overview on `/`: one KPI card per metric for a 7/30/90-day period.
//! Types shared by server and browser live here; the server function, service and views beside.

pub mod api;
mod kpi_card;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::analytics::delta::PeriodComparison;
use crate::analytics::{DailyValue, Direction};
use crate::error::AppError;

/// The periods the overview offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeriodPreset {
    Last7Days,
    Last30Days,
    Last90Days,
}

impl PeriodPreset {
    pub const ALL: [PeriodPreset; 3] = [Self::Last7Days, Self::Last30Days, Self::Last90Days];

    pub fn days(self) -> u32 {
        match self {
            Self::Last7Days => 7,
            Self::Last30Days => 30,
            Self::Last90Days => 90,
        }
    }

    pub fn from_days(days: u32) -> Result<Self, AppError> {
        Self::ALL
            .into_iter()
            .find(|p| p.days() == days)
            .ok_or_else(|| AppError::BadRequest(format!("period must be 7, 30 or 90 days, not {days}")))
    }

    /// Reads the `period` query parameter; absent means 30 days.
    pub fn from_query(value: Option<&str>) -> Result<Self, AppError> {
        match value {
            None | Some("") => Ok(Self::Last30Days),
            Some(text) => {
                let days = text
                    .parse::<u32>()
                    .map_err(|_| AppError::BadRequest(format!("period must be 7, 30 or 90 days, not {text:?}")))?;
                Self::from_days(days)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecOverview {
    pub org_name: String,
    /// Last day with data; `None` when the org has no data yet.
    pub as_of: Option<NaiveDate>,
    pub period: PeriodPreset,
    pub cards: Vec<KpiCard>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiCard {
    pub metric_key: String,
    pub label: String,
    pub unit: String,
    pub direction: Direction,
    pub comparison: PeriodComparison,
    /// Daily values of the current period, for the chart and its data table.
    pub series: Vec<DailyValue>,
    /// One sentence from the narrative: value, change and judgement.
    pub summary: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_query_accepts_only_the_presets() {
        assert_eq!(PeriodPreset::from_query(None), Ok(PeriodPreset::Last30Days));
        assert_eq!(PeriodPreset::from_query(Some("7")), Ok(PeriodPreset::Last7Days));
        assert_eq!(PeriodPreset::from_query(Some("90")), Ok(PeriodPreset::Last90Days));
        assert!(matches!(PeriodPreset::from_query(Some("14")), Err(AppError::BadRequest(_))));
        assert!(matches!(PeriodPreset::from_query(Some("abc")), Err(AppError::BadRequest(_))));
    }
}
