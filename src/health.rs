//! `GET /api/health`: 200 when the app and its database answer, 503 when the database does not.
//! Load balancers and the run script poll it.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use sqlx::PgPool;

pub async fn health(State(pool): State<PgPool>) -> (StatusCode, Json<Value>) {
    if crate::db::ping(&pool, Duration::from_secs(2)).await {
        (StatusCode::OK, Json(json!({ "status": "ok", "db": "ok" })))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "db": "error" })))
    }
}
