//! The vocabulary of loading data: API token scopes and summaries, one row of a load as validated,
//! a row's error, and what a load did (inserted, updated, unchanged, rejected).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::measure::{Aggregation, Direction};

/// What an API token may do; stored in `io_api_token.scopes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    Ingest,
    Read,
}

text_enum!(TokenScope { TokenScope::Ingest => "ingest", TokenScope::Read => "read" });

impl TokenScope {
    pub const ALL: [TokenScope; 2] = [TokenScope::Ingest, TokenScope::Read];
}

/// One API token as the admin page lists it; the token itself is never stored or shown again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiTokenSummary {
    pub id: uuid::Uuid,
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub scopes: Vec<TokenScope>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Which fact table a load writes.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestTarget {
    Kpi,
    Signal,
}

text_enum!(IngestTarget { IngestTarget::Kpi => "kpi", IngestTarget::Signal => "signal" });

/// All or nothing (the default): one bad row and nothing is written. Partial: the good rows are
/// written and the bad ones reported.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestMode {
    AllOrNothing,
    Partial,
}

text_enum!(IngestMode { IngestMode::AllOrNothing => "all_or_nothing", IngestMode::Partial => "partial" });

/// How the rows arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadChannel {
    Api,
    Upload,
    /// A week of a backfill or weekly collection.
    Collection,
}

text_enum!(LoadChannel { LoadChannel::Api => "api", LoadChannel::Upload => "upload", LoadChannel::Collection => "collection" });

/// The source a row without one is stored under; part of the row's key.
pub const DEFAULT_SOURCE: &str = "default";

/// One validated row of a load.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestRow {
    pub date: NaiveDate,
    pub metric: String,
    pub value: f64,
    pub unit: Option<String>,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub channel: Option<String>,
    pub product: Option<String>,
    pub source: String,
    /// Only used when the metric is created by this load (`create_metrics=true`).
    pub label: Option<String>,
    pub direction: Option<Direction>,
    pub aggregation: Option<Aggregation>,
}

impl IngestRow {
    /// The row's key within its org: metric, date, dimensions and source.
    pub fn key(&self) -> (&str, NaiveDate, [Option<&str>; 4], &str) {
        let dims = [self.region.as_deref(), self.segment.as_deref(), self.channel.as_deref(), self.product.as_deref()];
        (self.metric.as_str(), self.date, dims, self.source.as_str())
    }
}

/// Why one row was refused: its 1-based number among the data rows, the field, the reason.
/// CSV rows also carry their line in the file.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub row: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub field: String,
    pub error: String,
}

/// What a load did. `written` is false when an all-or-nothing load was refused.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestReport {
    pub target: IngestTarget,
    pub mode: IngestMode,
    pub written: bool,
    pub rows: usize,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: usize,
    pub created_metrics: Vec<String>,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    /// Every row error (the load history keeps the first hundred).
    pub errors: Vec<RowError>,
}

/// One load of the history on `/data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSummary {
    pub id: uuid::Uuid,
    pub target: IngestTarget,
    pub channel: LoadChannel,
    pub actor: String,
    pub mode: IngestMode,
    pub inserted: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub rejected: i32,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub error_count: i32,
    pub loaded_at: String,
}
