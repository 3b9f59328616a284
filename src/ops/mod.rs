//! What an operator relies on in a running instance: Prometheus metrics, one tracing span per
//! request with the log format of the environment (exported over OTLP when configured), and a stop
//! that drains before it closes.

pub mod lifecycle;
pub mod logging;
pub mod metrics;
pub mod otel;
