//! Download routes, signed in by session: `/export/dashboard` (CSV or JSON of a dashboard view,
//! streamed), `/export/board.pdf` (the board pack of a period) and `/reports/{id}/download`.
//! Each checks the role, takes one of the user's parallel export slots, and audits the export.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;

use super::export::{audit, plan, write, ExportRequest};
use crate::auth::server::{authorize_principal, Identity, Principal, Scope};
use crate::auth::Capability;
use crate::error::AppError;
use crate::exec::ExecQuery;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/export/dashboard", get(dashboard_export))
        .route("/export/board.pdf", get(board_pack))
        .route("/reports/{id}/download", get(report_download))
}

fn allowed(identity: &Identity, capability: Capability) -> Result<Principal, AppError> {
    authorize_principal(identity.0.clone(), capability)
}

fn error_response(error: AppError) -> Response {
    let retry = match &error {
        AppError::RateLimited { retry_after_secs, .. } => Some(*retry_after_secs),
        _ => None,
    };
    let mut response = error.into_response();
    if let Some(secs) = retry {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// A file response that the browser saves under `name`.
fn attachment(content_type: &str, name: &str, body: Body) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", name.replace(['"', '\\', '\r', '\n'], "_"));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    for (key, value) in [(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition), (header::CACHE_CONTROL, "no-store".to_string())] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(key, value);
        }
    }
    response
}

async fn dashboard_export(State(state): State<AppState>, Extension(identity): Extension<Identity>, RawQuery(query): RawQuery) -> Response {
    match start_dashboard_export(&state, &identity, query.as_deref().unwrap_or("")).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

async fn start_dashboard_export(state: &AppState, identity: &Identity, query: &str) -> Result<Response, AppError> {
    let principal = allowed(identity, Capability::ExportData)?;
    let request = ExportRequest::from_query_string(query)?;
    let slot = state.export_slots.acquire(principal.user_id, state.config.profile.exports_per_user)?;
    let scope = Scope::new(&principal, &state.config.access);
    let plan = plan(&state.pool, &scope, &state.config.profile, &request, &principal.email).await?;
    let detail = json!({ "format": request.format.as_str(), "grain": request.grain.as_str(), "view": plan.meta.query, "rows": plan.meta.rows,
                         "masked": plan.meta.masked_metrics, "from": plan.meta.from, "to": plan.meta.to });
    audit(&state.pool, &principal, "dashboard export", detail).await?;
    let (tx, rx) = mpsc::channel::<Result<Vec<u8>, String>>(4);
    let (pool, name) = (state.pool.clone(), plan.file_name("insightops-export"));
    let content_type = request.format.content_type();
    tokio::spawn(async move {
        // The slot is held until the last byte is handed over (or the reader goes away).
        let _slot = slot;
        if let Err(error) = write(&pool, &plan, &tx).await {
            tracing::warn!(%error, "export stopped");
            let _ = tx.send(Err(error)).await;
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item.map_err(std::io::Error::other), rx)) });
    Ok(attachment(content_type, &name, Body::from_stream(stream.boxed())))
}

async fn board_pack(State(state): State<AppState>, Extension(identity): Extension<Identity>, RawQuery(query): RawQuery) -> Response {
    match render_board_pack(&state, &identity, query.as_deref().unwrap_or("")).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

async fn render_board_pack(state: &AppState, identity: &Identity, query: &str) -> Result<Response, AppError> {
    let principal = allowed(identity, Capability::ViewBoardSummary)?;
    allowed(identity, Capability::ExportData)?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    if let Some((key, _)) = pairs.iter().find(|(k, _)| k != "grain" && k != "period") {
        return Err(AppError::BadRequest(format!("unknown parameter `{key}`")));
    }
    let exec_query = ExecQuery::parse(get("grain"), get("period"))?;
    let _slot = state.export_slots.acquire(principal.user_id, state.config.profile.exports_per_user)?;
    let scope = Scope::new(&principal, &state.config.access);
    let summary = crate::exec::service::cached_exec_summary(&state.pool, &state.exec_cache, &scope, &exec_query).await?;
    let summary = super::service::without_personal_data(&state.pool, &state.config.profile, principal.org_id, summary).await?;
    let narrative = crate::exec::narrative::view(&state.pool, &state.config, Some(&state.exec_cache), &scope, (crate::analytics::story::Audience::Board, &exec_query), false).await?;
    let narrative = super::service::narrative_without_personal_data(&state.pool, &state.config.profile, principal.org_id, narrative).await?;
    let generated_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let name = format!("board-pack-{}-{}.pdf", super::service::slug(&summary.org_name), summary.period_start);
    let (period, cards) = (summary.period_label.clone(), summary.cards.len());
    let bytes = tokio::task::spawn_blocking(move || super::pdf::board_pack(&summary, Some(&narrative), &generated_at))
        .await
        .map_err(|e| AppError::Internal(format!("the PDF task failed: {e}")))?
        .map_err(AppError::Internal)?;
    audit(&state.pool, &principal, "board pack", json!({ "format": "pdf", "period": period, "rows": cards, "bytes": bytes.len() })).await?;
    Ok(attachment("application/pdf", &name, Body::from(bytes)))
}

async fn report_download(State(state): State<AppState>, Extension(identity): Extension<Identity>, Path(id): Path<String>) -> Response {
    let result = async {
        let principal = allowed(&identity, Capability::ViewReports)?;
        let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::BadRequest(format!("{id:?} is not a report id")))?;
        let (name, content_type, bytes) = super::service::download(&state.pool, &principal, id).await?;
        audit(&state.pool, &principal, "report download", json!({ "report_id": id, "file": name, "bytes": bytes.len() })).await?;
        Ok::<Response, AppError>(attachment(&content_type, &name, Body::from(bytes)))
    }
    .await;
    result.unwrap_or_else(error_response)
}
