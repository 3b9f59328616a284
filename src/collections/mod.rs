//! `/data/collections`: backfill and weekly collections (seed 001). An admin points a collection at
//! a folder of weekly CSV files or an HTTP JSON source; every week is one job that loads the week
//! through the ingest path, skips it when its bytes are unchanged, and can be retried alone.

pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

use serde::{Deserialize, Serialize};

pub use crate::domain::collections::{CollectionDetail, CollectionStatus, CollectionSummary, CollectionType, SourceKind, WeekStatus, WeekSummary};

/// The create form as typed: checked by `service::validate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCollectionForm {
    pub name: String,
    /// `backfill` or `weekly_update`.
    pub collection_type: String,
    /// `kpi` or `signal`.
    pub target: String,
    /// `csv_dir` or `http_json`.
    pub source_kind: String,
    /// A folder inside the collections directory, or a URL template.
    pub source: String,
    /// Any day of the first week.
    pub start_date: String,
    /// How many weeks a backfill covers (a weekly update runs to last week).
    #[serde(default)]
    pub weeks: u32,
}
