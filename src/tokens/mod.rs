//! `/admin/tokens`: the org's API tokens for the ingest API. Admins create a token (shown once,
//! only its hash is kept) and revoke it; both are audited.

pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

use serde::{Deserialize, Serialize};

pub use crate::domain::ingest::{ApiTokenSummary, TokenScope};

/// A token just created: its row, and the token itself, which is never shown again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub summary: ApiTokenSummary,
    pub token: String,
}
