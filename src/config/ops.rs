//! `[ops]`: what an operator tunes on a running instance: where Prometheus scrapes `/metrics`, how
//! a stop drains (readiness first, then in-flight requests), the log format, and where (if
//! anywhere) the tracing spans are exported over OTLP.

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
    /// An OpenTelemetry collector's OTLP/HTTP traces URL (e.g. "http://otel-collector:4318/v1/traces").
    /// Unset: spans go to the logs only and nothing is exported.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` the exported spans carry.
    pub otlp_service_name: String,
    /// The share of traces exported (0.0-1.0); a request inside a sampled trace keeps its parent's decision.
    pub otlp_sample_ratio: f64,
    /// How long one export may take before the batch is dropped (the app never waits for it).
    pub otlp_timeout_seconds: u32,
}

impl Default for OpsConfig {
    fn default() -> Self {
        OpsConfig {
            metrics_address: None,
            drain_seconds: 5,
            grace_seconds: 20,
            log_format: None,
            otlp_endpoint: None,
            otlp_service_name: "insightops".into(),
            otlp_sample_ratio: 1.0,
            otlp_timeout_seconds: 10,
        }
    }
}

impl OpsConfig {
    pub fn validate(&self) -> Result<(), String> {
        super::in_range("ops.drain_seconds", self.drain_seconds, 0..=300)?;
        super::in_range("ops.grace_seconds", self.grace_seconds, 1..=3600)?;
        if let Some(address) = &self.metrics_address {
            super::parse_address(address).map_err(|m| format!("`ops.metrics_address` {m}"))?;
        }
        super::in_range("ops.otlp_timeout_seconds", self.otlp_timeout_seconds, 1..=120)?;
        if !(0.0..=1.0).contains(&self.otlp_sample_ratio) {
            return Err(format!("`ops.otlp_sample_ratio` = {} is out of range; allowed: 0.0 to 1.0", self.otlp_sample_ratio));
        }
        if self.otlp_service_name.trim().is_empty() {
            return Err("`ops.otlp_service_name` is empty; name the service its spans belong to".into());
        }
        Ok(())
    }
}

/// Where spans are exported: an OTLP/HTTP (protobuf) traces endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpExport {
    pub endpoint: String,
    pub service_name: String,
    pub sample_ratio: f64,
    pub timeout: std::time::Duration,
}

/// An OTLP endpoint must be an http(s) URL with a host; anything else is refused at start-up.
pub fn check_otlp_endpoint(value: &str) -> Result<String, String> {
    let rest = value.strip_prefix("http://").or_else(|| value.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !value.chars().any(char::is_whitespace) => Ok(value.to_string()),
        _ => Err(format!("= {value:?} is not an http(s) URL; expected e.g. http://otel-collector:4318/v1/traces")),
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
    /// `INSIGHTOPS_OTLP_ENDPOINT` or `ops.otlp_endpoint`: spans exported there, or not at all.
    pub otlp: Option<OtlpExport>,
}
