//! `[ops]`: what an operator tunes on a running instance: where Prometheus scrapes `/metrics`, how
//! a stop drains (readiness first, then in-flight requests), and the log format.

use std::net::SocketAddr;

use serde::Deserialize;

/// How log lines are written: JSON objects for a log pipeline, or text for a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsConfig {
    /// A second listener serving only `GET /metrics` (e.g. "127.0.0.1:9464"); keep it off the
    /// public network. Unset: no second listener.
    pub metrics_address: Option<String>,
    /// After SIGTERM or SIGINT, `/api/health/ready` answers 503 for this long while requests are
    /// still served, so a load balancer takes the instance out before it stops accepting.
    pub drain_seconds: u32,
    /// Then in-flight requests (and running jobs) get this long to finish before the process exits.
    pub grace_seconds: u32,
    /// Unset: JSON in staging and prod, pretty in dev and offline.
    pub log_format: Option<LogFormat>,
}

impl Default for OpsConfig {
    fn default() -> Self {
        OpsConfig { metrics_address: None, drain_seconds: 5, grace_seconds: 20, log_format: None }
    }
}

impl OpsConfig {
    pub fn validate(&self) -> Result<(), String> {
        super::in_range("ops.drain_seconds", self.drain_seconds, 0..=300)?;
        super::in_range("ops.grace_seconds", self.grace_seconds, 1..=3600)?;
        if let Some(address) = &self.metrics_address {
            super::parse_address(address).map_err(|m| format!("`ops.metrics_address` {m}"))?;
        }
        Ok(())
    }
}

/// The settled `[ops]` values, with the environment's overrides applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Ops {
    pub metrics_address: Option<SocketAddr>,
    /// `INSIGHTOPS_METRICS_TOKEN`: when set, the app's own address also serves `/metrics` to
    /// requests bearing it. Never read from the file: a secret belongs in the environment.
    pub metrics_token: Option<String>,
    pub drain: std::time::Duration,
    pub grace: std::time::Duration,
    pub log_format: LogFormat,
}
