//! Request middleware: who is asking (from the session), sign-in redirects for pages, and the
//! same-origin rule that stops other sites from posting to our server functions (CSRF).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::server_fn::error::FromServerFnError;
use tower_sessions::Session;

use super::server::{principal_from_session, Identity};
use crate::error::AppError;
use crate::state::AppState;

/// Pages anyone may open.
const OPEN_PAGES: [&str; 1] = ["/login"];
/// Page paths anyone may open: a public dashboard link is its own credential (its token).
const OPEN_PREFIXES: [&str; 1] = ["/public/dashboards/"];

/// Puts the session's principal into the request for the authorisation helper, and sends an
/// anonymous visitor of a page to the login page, which returns them here afterwards.
pub async fn identify(State(state): State<AppState>, session: Session, mut request: Request, next: Next) -> Response {
    let principal = match principal_from_session(&state.pool, &session, &state.config.auth).await {
        Ok(principal) => principal,
        Err(err) => return error_response(err),
    };
    let path = request.uri().path();
    let open = OPEN_PAGES.contains(&path) || OPEN_PREFIXES.iter().any(|p| path.starts_with(p));
    let is_page = request.method() == Method::GET && !path.starts_with("/api/") && !open;
    if principal.is_none() && is_page {
        let here = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    if let (Some(principal), Some(span)) = (&principal, request.extensions().get::<crate::ops::logging::RequestSpan>()) {
        span.0.record("org_id", tracing::field::display(principal.org_id));
    }
    request.extensions_mut().insert(Identity(principal));
    next.run(request).await
}

/// Refuses a state-changing request that does not come from one of our own pages.
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The ingest API takes a bearer token and ignores cookies: nothing a cross-site page could make
    // a browser send would authenticate there, so it needs no same-origin check (scripts have no Origin).
    let token_api = request.uri().path().starts_with("/api/v1/");
    if !safe && !token_api {
        if let Err(reason) = check_same_origin(request.headers()) {
            tracing::warn!(%reason, path = %request.uri().path(), "cross-origin request refused");
            return error_response(AppError::CrossOriginRefused);
        }
    }
    next.run(request).await
}

/// Same origin means: the browser's Origin (or, failing that, Referer) names the host the request
/// was sent to. A request with neither is refused: every browser sends Origin on a POST.
pub fn check_same_origin(headers: &HeaderMap) -> Result<(), String> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return Err(format!("Sec-Fetch-Site is {site}"));
        }
    }
    let host = text(header::HOST).ok_or("no Host header")?;
    let claimed = match text(header::ORIGIN).filter(|o| *o != "null") {
        Some(origin) => origin,
        None => text(header::REFERER).ok_or("neither Origin nor Referer")?,
    };
    match authority(claimed) {
        Some(authority) if authority.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(format!("{claimed} is not {host}")),
    }
}

/// `host[:port]` of an absolute http(s) URL.
fn authority(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|a| !a.is_empty())
}

/// The error in the encoding server functions use, with its status.
fn error_response(err: AppError) -> Response {
    let status = StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], err.ser()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn same_origin_posts_pass() {
        assert!(check_same_origin(&headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")])).is_ok());
        assert!(check_same_origin(&headers(&[("host", "app.example"), ("referer", "https://app.example/dashboard?x=1")])).is_ok());
        assert!(check_same_origin(&headers(&[("host", "a.example"), ("origin", "https://a.example"), ("sec-fetch-site", "same-origin")])).is_ok());
    }

    #[test]
    fn cross_origin_or_unmarked_posts_are_refused() {
        assert!(check_same_origin(&headers(&[("host", "app.example"), ("origin", "https://evil.example")])).is_err());
        assert!(check_same_origin(&headers(&[("host", "app.example"), ("origin", "https://app.example.evil.example")])).is_err());
        assert!(check_same_origin(&headers(&[("host", "app.example")])).is_err());
        assert!(check_same_origin(&headers(&[("host", "app.example"), ("origin", "null")])).is_err());
        assert!(check_same_origin(&headers(&[("host", "a.example"), ("origin", "https://a.example"), ("sec-fetch-site", "cross-site")])).is_err());
        assert!(check_same_origin(&headers(&[("host", "app.example"), ("referer", "javascript:alert(1)")])).is_err());
    }
}
