//! The login page and the header's account menu (who is signed in, sign out).
//! Both work before hydration: they are plain forms posting to server functions.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::{Login, Logout};
use super::SignedInUser;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || super::safe_next(&query.read().get("next").unwrap_or_default()).to_string();
    let login = ServerAction::<Login>::new();
    // The action's error once hydrated; before that, the code the server put in the URL.
    let error = move || {
        login.value().get().and_then(|result| result.err()).map(|e| e.to_string()).or_else(|| {
            query.read().get("error").and_then(|code| super::LoginProblem::parse(&code)).map(super::LoginProblem::message)
        })
    };
    view! {
        <Title text="Sign in · InsightOps"/>
        <section class="login-panel">
            <h1>"Sign in to InsightOps"</h1>
            <ActionForm action=login>
                <input type="hidden" name="next" value=next/>
                <label>"Email"
                    <input type="email" name="email" autocomplete="username" required autofocus/>
                </label>
                <label>"Password"
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <button type="submit" disabled=move || login.pending().get()>"Sign in"</button>
            </ActionForm>
            {move || error().map(|e| view! { <p class="form-error" role="alert" data-testid="login-error">{e}</p> })}
        </section>
    }
}

/// The signed-in user's name, role and a sign-out button.
#[component]
pub fn AccountMenu(user: SignedInUser) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <div class="account" data-testid="account">
            <span class="who">{format!("{} · {} · {}", user.display_name, user.role.label(), user.org_name)}</span>
            <ActionForm action=logout>
                <button type="submit" class="link-button">"Sign out"</button>
            </ActionForm>
        </div>
    }
}
