//! Server functions of sign-in: who am I, log in, log out.
//! The only server functions that anonymous visitors may call.

use leptos::prelude::*;

use super::SignedInUser;
use crate::error::AppError;

/// The signed-in user, or `None`; never an error for anonymous visitors.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
    Ok(super::server::current_principal().map(|p| SignedInUser { email: p.email, display_name: p.display_name, role: p.role, org_name: p.org_name }))
}

/// Signs in and redirects to `next` (a local path) on success.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String, next: String) -> Result<(), AppError> {
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let state = AppState::current()?;
            let session = super::server::current_session().await?;
            let ip = super::server::client_ip().await;
            let cx = super::server::SignInContext { config: &state.config.auth, password_checks: &state.password_checks, ip: &ip };
            match super::server::sign_in(&state.pool, &session, &cx, &email, &password).await {
                Ok(_) => leptos_axum::redirect(super::safe_next(&next)),
                // A form posted before the page was interactive gets the login page back with why,
                // not the bare error the JavaScript client would read.
                Err(error) if super::server::posted_without_javascript().await => {
                    let problem = super::LoginProblem::of(&error);
                    let next: String = form_urlencoded::byte_serialize(super::safe_next(&next).as_bytes()).collect();
                    leptos_axum::redirect(&format!("/login?next={next}&error={}", problem.as_str()));
                }
                Err(error) => return Err(error),
            }
            Ok(())
        }
        .await,
    )
}

/// Ends the session and goes to the login page.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::error::with_status;
    use crate::state::AppState;

    with_status(
        async {
            let state = AppState::current()?;
            let session = super::server::current_session().await?;
            let ip = super::server::client_ip().await;
            let principal = super::server::current_principal();
            super::server::sign_out(&state.pool, &session, principal.as_ref(), &ip).await?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}
