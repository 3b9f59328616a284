//! Stopping without failing a request. On SIGTERM or SIGINT, `/api/health/ready` turns 503 for the
//! drain period while every request is still served, so a load balancer takes the instance out;
//! then the listener closes and in-flight requests (and running jobs) get the grace period. A
//! second signal during the drain skips the rest of it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Whether this instance is on its way out; shared by the readiness probe and the shutdown.
#[derive(Clone, Default)]
pub struct Lifecycle {
    draining: Arc<AtomicBool>,
}

impl Lifecycle {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }
}

/// Resolves on SIGTERM (how orchestrators stop a process) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// Resolves when the listener should stop accepting: a signal, then the drain period (or a second signal).
pub async fn drained(lifecycle: Lifecycle, drain: Duration) {
    shutdown_signal().await;
    lifecycle.start_draining();
    tracing::info!(drain_seconds = drain.as_secs(), "stopping: readiness answers 503; requests are still served while load balancers drain");
    tokio::select! {
        _ = tokio::time::sleep(drain) => {}
        _ = shutdown_signal() => tracing::info!("second signal: drain cut short"),
    }
    tracing::info!("no longer accepting connections; in-flight requests and running jobs get the grace period");
}
