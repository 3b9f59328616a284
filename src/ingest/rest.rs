//! The ingest API: `POST /api/v1/kpis`, `/api/v1/kpis.csv`, `/api/v1/signals` and
//! `/api/v1/signals.csv`. Authenticated by an org's API token (`Authorization: Bearer …`) and
//! nothing else: a session cookie is ignored here, which is why these routes are exempt from the
//! browser same-origin check (a cross-site page cannot make a browser send a bearer token).

use axum::body::{to_bytes, Body};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::parse::{parse_csv, parse_json, BodyError, Parsed};
use super::service::{load, LoadRequest};
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
    let identity = db::tokens::authenticate(&state.pool, &token_hash(token)).await.map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, format!("the database is unavailable: {e}"), json!({})))?;
    let Some(identity) = identity else {
        return Err(refuse(StatusCode::UNAUTHORIZED, "the API token is unknown or revoked".into(), json!({})));
    };
    if !identity.scopes.contains(&scope) {
        return Err(refuse(StatusCode::FORBIDDEN, format!("the token {:?} lacks the {} scope", identity.name, scope.as_str()), json!({})));
    }
    Ok(identity)
}

/// `mode=partial|all` and `create_metrics=true|false`; anything else is refused by name.
fn options(query: Option<&str>) -> Result<(IngestMode, bool), String> {
    let (mut mode, mut create) = (IngestMode::AllOrNothing, false);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("mode", "partial") => mode = IngestMode::Partial,
            ("mode", "all" | "all_or_nothing") => mode = IngestMode::AllOrNothing,
            ("create_metrics", "true") => create = true,
            ("create_metrics", "false") => create = false,
            ("mode" | "create_metrics", v) => return Err(format!("{key}={v:?} is not allowed; use mode=partial|all, create_metrics=true|false")),
            (k, _) => return Err(format!("unknown parameter {k:?}; the parameters are mode and create_metrics")),
        }
    }
    Ok((mode, create))
}

async fn ingest(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery, body: Body, target: IngestTarget, format: Format) -> Response {
    let identity = match authenticate(&state, &headers, TokenScope::Ingest).await {
        Ok(identity) => identity,
        Err(response) => return response,
    };
    let (mode, create_metrics) = match options(query.as_deref()) {
        Ok(o) => o,
        Err(error) => return refuse(StatusCode::BAD_REQUEST, error, json!({})),
    };
    let limits = state.config.ingest;
    let max_bytes = limits.max_body_bytes as usize;
    let too_large = || refuse(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is larger than the limit of {max_bytes} bytes"), json!({ "limit_bytes": max_bytes }));
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_bytes) {
        return too_large();
    }
    let Ok(bytes) = to_bytes(body, max_bytes).await else { return too_large() };
    let max_rows = limits.max_rows as usize;
    let parsed: Parsed = match match format {
        Format::Json => parse_json(&bytes, max_rows),
        Format::Csv => parse_csv(&bytes, max_rows),
    } {
        Ok(parsed) => parsed,
        Err(BodyError::TooManyRows { limit }) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, BodyError::TooManyRows { limit }.to_string(), json!({ "limit_rows": limit })),
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string(), json!({})),
    };
    let request = LoadRequest { org_id: identity.org_id, target, mode, create_metrics, channel: LoadChannel::Api, actor: format!("token {}", identity.name) };
    match load(&state.pool, &state.config, &request, &parsed).await {
        Ok(report) if report.written => (StatusCode::OK, Json(report)).into_response(),
        Ok(report) => (StatusCode::UNPROCESSABLE_ENTITY, Json(report)).into_response(),
        Err(e) => refuse(StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), e.to_string(), json!({})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read_strictly() {
        assert_eq!(options(None), Ok((IngestMode::AllOrNothing, false)));
        assert_eq!(options(Some("mode=partial&create_metrics=true")), Ok((IngestMode::Partial, true)));
        assert!(options(Some("mode=some")).unwrap_err().contains("mode"));
        assert!(options(Some("org=globex")).unwrap_err().contains("\"org\""));
    }

    #[test]
    fn token_hashes_are_sha256_hex() {
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
