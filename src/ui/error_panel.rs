//! The panel a page shows instead of its data when a server function fails.

use leptos::prelude::*;

use crate::error::AppError;

/// Explains why a view failed; a session that ended sends the user to sign in and back here.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let signed_out = error == AppError::Unauthorized;
    let location = leptos_router::hooks::use_location();
    let login = move || {
        // The router's `search` comes without its '?'.
        let search = location.search.get_untracked();
        let here = match search.trim_start_matches('?') {
            "" => location.pathname.get_untracked(),
            query => format!("{}?{query}", location.pathname.get_untracked()),
        };
        format!("/login?next={}", form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>())
    };
    view! {
        <div class="error-panel" role="alert">
            <h2>{if signed_out { "Your session has ended" } else { "This view cannot be shown" }}</h2>
            <p>{error.to_string()}</p>
            {signed_out.then(|| view! {
                <p><a href=login()>"Sign in again"</a></p>
                <leptos_router::components::Redirect path=login()/>
            })}
        </div>
    }
}
