//! The ingest endpoints. The API: `POST /api/v1/kpis`, `/api/v1/kpis.csv`, `/api/v1/signals` and
//! `/api/v1/signals.csv`, authenticated by an org's API token (`Authorization: Bearer …`) and
//! nothing else: a session cookie is ignored there, which is why those routes are exempt from the
//! browser same-origin check (a cross-site page cannot make a browser send a bearer token). The
//! upload page's `POST /api/upload/{kpis,signals}` takes a CSV body from a signed-in admin or
//! manager instead, same-origin checked like every browser request.

use axum::body::{to_bytes, Body};
use axum::extract::{Extension, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::parse::{parse_csv, parse_json, BodyError, Parsed};
use super::service::{load, preview, LoadRequest};
use super::UploadResult;
use crate::auth::server::Identity;
use crate::auth::Capability;
use crate::db;
use crate::db::tokens::TokenIdentity;
use crate::domain::ingest::{IngestMode, IngestTarget, LoadChannel, TokenScope};
use crate::state::AppState;

/// The routes of the ingest API, to merge into the app's router outside the session guard.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/kpis", post(|s: State<AppState>, h: HeaderMap, q: RawQuery, b: Body| ingest(s, h, q, b, IngestTarget::Kpi, Format::Json)))
        .route("/api/v1/kpis.csv", post(|s: State<AppState>, h: HeaderMap, q: RawQuery, b: Body| ingest(s, h, q, b, IngestTarget::Kpi, Format::Csv)))
        .route("/api/v1/signals", post(|s: State<AppState>, h: HeaderMap, q: RawQuery, b: Body| ingest(s, h, q, b, IngestTarget::Signal, Format::Json)))
        .route("/api/v1/signals.csv", post(|s: State<AppState>, h: HeaderMap, q: RawQuery, b: Body| ingest(s, h, q, b, IngestTarget::Signal, Format::Csv)))
        .route("/api/v1/openapi.json", axum::routing::get(|| async { Json(super::openapi::document()) }))
}

/// The upload page's routes; they need the session's principal, so they go inside the session guard.
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/api/upload/kpis", post(|s: State<AppState>, i: Extension<Identity>, h: HeaderMap, q: RawQuery, b: Body| upload(s, i, h, q, b, IngestTarget::Kpi)))
        .route("/api/upload/signals", post(|s: State<AppState>, i: Extension<Identity>, h: HeaderMap, q: RawQuery, b: Body| upload(s, i, h, q, b, IngestTarget::Signal)))
}

#[derive(Clone, Copy)]
enum Format {
    Json,
    Csv,
}

/// An API error: the status and a JSON body `{"error": …}` with any extra fields.
fn refuse(status: StatusCode, error: String, extra: serde_json::Value) -> Response {
    let mut body = json!({ "error": error });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    }
    response
}

/// SHA-256 of a token, hex: what `io_api_token.token_hash` holds.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The live token the request presents, with the scope it needs.
async fn authenticate(state: &AppState, headers: &HeaderMap, scope: TokenScope) -> Result<TokenIdentity, Response> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = presented else {
        return Err(refuse(StatusCode::UNAUTHORIZED, "send an API token: Authorization: Bearer <token> (session cookies are not accepted here)".into(), json!({})));
    };
    let identity = db::tokens::authenticate(&state.pool, &token_hash(token)).await.map_err(|e| {
        // The detail goes to the log (by the conversion), never to an unauthenticated caller.
        let e = crate::error::AppError::from(e);
        refuse(StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE), e.to_string(), json!({}))
    })?;
    let Some(identity) = identity else {
        return Err(refuse(StatusCode::UNAUTHORIZED, "the API token is unknown or revoked".into(), json!({})));
    };
    if !identity.scopes.contains(&scope) {
        return Err(refuse(StatusCode::FORBIDDEN, format!("the token {:?} lacks the {} scope", identity.name, scope.as_str()), json!({})));
    }
    Ok(identity)
}

/// What the query string asks of a load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LoadOptions {
    mode: IngestMode,
    create_metrics: bool,
    /// Check and report, write nothing.
    dry_run: bool,
}

/// `mode=partial|all`, `create_metrics=true|false` and `dry_run=true|false`; anything else is
/// refused by name.
fn options(query: Option<&str>) -> Result<LoadOptions, String> {
    let mut o = LoadOptions { mode: IngestMode::AllOrNothing, create_metrics: false, dry_run: false };
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("mode", "partial") => o.mode = IngestMode::Partial,
            ("mode", "all" | "all_or_nothing") => o.mode = IngestMode::AllOrNothing,
            ("create_metrics", flag @ ("true" | "false")) => o.create_metrics = flag == "true",
            ("dry_run", flag @ ("true" | "false")) => o.dry_run = flag == "true",
            ("mode" | "create_metrics" | "dry_run", v) => return Err(format!("{key}={v:?} is not allowed; use mode=partial|all, create_metrics=true|false, dry_run=true|false")),
            (k, _) => return Err(format!("unknown parameter {k:?}; the parameters are mode, create_metrics and dry_run")),
        }
    }
    Ok(o)
}

/// Reads and parses a load's body within the configured limits.
async fn read_body(state: &AppState, headers: &HeaderMap, body: Body, format: Format) -> Result<Parsed, Response> {
    let limits = &state.config.ingest;
    let max_bytes = limits.max_body_bytes as usize;
    let too_large = || refuse(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is larger than the limit of {max_bytes} bytes"), json!({ "limit_bytes": max_bytes }));
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_bytes) {
        return Err(too_large());
    }
    let Ok(bytes) = to_bytes(body, max_bytes).await else { return Err(too_large()) };
    let max_rows = limits.max_rows as usize;
    let parsed = match format {
        Format::Json => parse_json(&bytes, max_rows),
        Format::Csv => parse_csv(&bytes, max_rows),
    };
    parsed.map_err(|e| match e {
        BodyError::TooManyRows { limit } => refuse(StatusCode::PAYLOAD_TOO_LARGE, e.to_string(), json!({ "limit_rows": limit })),
        BodyError::Malformed(_) => refuse(StatusCode::BAD_REQUEST, e.to_string(), json!({})),
    })
}

/// Runs (or, for a dry run, checks) the load; 422 when an all-or-nothing load was refused.
async fn run_load(state: &AppState, request: LoadRequest, parsed: &Parsed, dry_run: bool) -> Response {
    let result = if dry_run { preview(&state.pool, &request, parsed).await } else { load(&state.pool, &state.config, &request, parsed).await };
    match result {
        Ok(report) => {
            let refused = !dry_run && !report.written;
            let status = if refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            let rows = parsed.rows.iter().take(PREVIEW_ROWS).map(|(_, _, r)| r.clone()).collect();
            (status, Json(UploadResult { report, preview: rows })).into_response()
        }
        Err(e) => refuse(StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), e.to_string(), json!({})),
    }
}

/// Rows of a load echoed back, as the columns were read.
const PREVIEW_ROWS: usize = 10;

async fn ingest(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery, body: Body, target: IngestTarget, format: Format) -> Response {
    let identity = match authenticate(&state, &headers, TokenScope::Ingest).await {
        Ok(identity) => identity,
        Err(response) => return response,
    };
    let o = match options(query.as_deref()) {
        Ok(o) => o,
        Err(error) => return refuse(StatusCode::BAD_REQUEST, error, json!({})),
    };
    let parsed = match read_body(&state, &headers, body, format).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let request = LoadRequest { org_id: identity.org_id, target, mode: o.mode, create_metrics: o.create_metrics, channel: LoadChannel::Api, actor: format!("token {}", identity.name) };
    run_load(&state, request, &parsed, o.dry_run).await
}

async fn upload(State(state): State<AppState>, Extension(identity): Extension<Identity>, headers: HeaderMap, RawQuery(query): RawQuery, body: Body, target: IngestTarget) -> Response {
    let Some(principal) = identity.0 else {
        return refuse(StatusCode::UNAUTHORIZED, "sign in to upload data".into(), json!({}));
    };
    if !principal.role.can(Capability::LoadData) {
        return refuse(StatusCode::FORBIDDEN, "only admins and managers load data".into(), json!({}));
    }
    let o = match options(query.as_deref()) {
        Ok(o) => o,
        Err(error) => return refuse(StatusCode::BAD_REQUEST, error, json!({})),
    };
    let parsed = match read_body(&state, &headers, body, Format::Csv).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let request = LoadRequest { org_id: principal.org_id, target, mode: o.mode, create_metrics: o.create_metrics, channel: LoadChannel::Upload, actor: principal.email.clone() };
    run_load(&state, request, &parsed, o.dry_run).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read_strictly() {
        assert_eq!(options(None), Ok(LoadOptions { mode: IngestMode::AllOrNothing, create_metrics: false, dry_run: false }));
        assert_eq!(options(Some("mode=partial&create_metrics=true&dry_run=true")), Ok(LoadOptions { mode: IngestMode::Partial, create_metrics: true, dry_run: true }));
        assert!(options(Some("mode=some")).unwrap_err().contains("mode"));
        assert!(options(Some("org=globex")).unwrap_err().contains("\"org\""));
    }

    #[test]
    fn token_hashes_are_sha256_hex() {
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
