//! Real data in: the ingest API (`rest`), the parser of JSON and CSV loads (`parse`) and the load
//! itself (`service`). Wire types are the domain's: a load's report and the load history.

#[cfg(feature = "ssr")]
pub mod parse;
#[cfg(feature = "ssr")]
pub mod rest;
#[cfg(feature = "ssr")]
pub mod service;

pub use crate::domain::ingest::{IngestMode, IngestReport, IngestRow, IngestTarget, LoadChannel, LoadSummary, RowError};
