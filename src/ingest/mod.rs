//! Real data in: the ingest API (`rest`), the parser of JSON and CSV loads (`parse`) and the load
//! itself (`service`). Wire types are the domain's: a load's report and the load history.

#[cfg(feature = "ssr")]
pub mod openapi;
#[cfg(feature = "ssr")]
pub mod parse;
#[cfg(feature = "ssr")]
pub mod rest;
#[cfg(feature = "ssr")]
pub mod service;

pub use crate::domain::ingest::{IngestMode, IngestReport, IngestRow, IngestTarget, LoadChannel, LoadSummary, RowError};

pub mod api;
pub mod page;

use serde::{Deserialize, Serialize};

/// The answer to a load or a dry run: the report (its fields at the top level) and the first rows
/// as their columns were read, for the upload page's preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UploadResult {
    #[serde(flatten)]
    pub report: IngestReport,
    pub preview: Vec<IngestRow>,
}

/// The upload page's data: the org's recent loads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataPage {
    pub loads: Vec<LoadSummary>,
    pub max_rows: u32,
    pub max_body_bytes: u32,
}
