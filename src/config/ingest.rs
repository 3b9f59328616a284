//! `[ingest]`: the limits of one ingest request (API or upload). A request over a limit is
//! refused whole with 413 and the limit it broke.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Largest request body, in bytes.
    pub max_body_bytes: u32,
    /// Most rows in one request.
    pub max_rows: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig { max_body_bytes: 256 * 1024 * 1024, max_rows: 2_000_000 }
    }
}

impl IngestConfig {
    pub fn validate(&self) -> Result<(), String> {
        super::in_range("ingest.max_body_bytes", self.max_body_bytes, 1024..=1024 * 1024 * 1024)?;
        super::in_range("ingest.max_rows", self.max_rows, 1..=20_000_000)
    }
}
