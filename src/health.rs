//! Health probes. `GET /api/health/live`: the process answers (cheap, no database), for liveness.
//! `GET /api/health/ready` (and `/api/health`): 200 when the database answers and the instance
//! is not stopping; 503 otherwise, so load balancers send requests elsewhere.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::db::ReadPool;
use crate::ops::lifecycle::Lifecycle;

pub async fn health(State(pool): State<PgPool>) -> (StatusCode, Json<Value>) {
    if crate::db::ping(&pool, Duration::from_secs(2)).await {
        (StatusCode::OK, Json(json!({ "status": "ok", "db": "ok" })))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "db": "error" })))
    }
}

/// Ready: not stopping, and the primary (and the read replica, when there is one) answers.
pub async fn ready(State(lifecycle): State<Lifecycle>, pool: State<PgPool>, State(read): State<ReadPool>) -> (StatusCode, Json<Value>) {
    if lifecycle.is_draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "draining" })));
    }
    let (status, mut body) = health(pool).await;
    if read.is_replica {
        let replica_ok = crate::db::ping(&read.pool, Duration::from_secs(2)).await;
        body.0["db_read"] = json!(if replica_ok { "ok" } else { "error" });
        if !replica_ok {
            body.0["status"] = json!("unavailable");
            return (StatusCode::SERVICE_UNAVAILABLE, body);
        }
    }
    (status, body)
}

/// Live: the process answers; no database, so a slow database never gets a healthy pod restarted.
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
