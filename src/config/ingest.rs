//! `[ingest]`: the limits of one ingest request (API or upload), a request over a limit being
//! refused whole with 413 and the limit it broke; and where collections may read from.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Largest request body, in bytes.
    pub max_body_bytes: u32,
    /// Most rows in one request.
    pub max_rows: u32,
    /// The only directory CSV collections read from: a collection names a folder inside it, so an
    /// admin cannot point the server at arbitrary files.
    pub collections_dir: String,
    /// How long one week's HTTP fetch may take.
    pub fetch_timeout_seconds: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig { max_body_bytes: 256 * 1024 * 1024, max_rows: 2_000_000, collections_dir: "data/collections".into(), fetch_timeout_seconds: 30 }
    }
}

impl IngestConfig {
    pub fn validate(&self) -> Result<(), String> {
        super::in_range("ingest.max_body_bytes", self.max_body_bytes, 1024..=1024 * 1024 * 1024)?;
        super::in_range("ingest.max_rows", self.max_rows, 1..=20_000_000)?;
        super::in_range("ingest.fetch_timeout_seconds", self.fetch_timeout_seconds, 1..=3600)?;
        if self.collections_dir.trim().is_empty() {
            return Err("`ingest.collections_dir` must name a directory".into());
        }
        Ok(())
    }
}
