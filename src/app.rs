//! The HTML shell and the root component with its routes.
//! Pages live in their feature folders; this file only wires them together.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{SsrMode, StaticSegment};

use crate::dashboard::page::DashboardPage;
use crate::exec::page::ExecPage;
use crate::overview::page::ExecOverviewPage;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <script src="/echarts.min.js"></script>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/insightops.css"/>
        <Title text="InsightOps"/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a href="/" class="brand">"InsightOps"</a>
                <nav aria-label="Main">
                    <A href="/">"Overview"</A>
                    <A href="/exec">"Board summary"</A>
                    <A href="/dashboard">"Dashboard"</A>
                </nav>
            </header>
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! { <NotFound/> }>
                    // Async: the whole page, numbers included, is in the first HTML response.
                    <Route path=StaticSegment("") view=ExecOverviewPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("exec") view=ExecPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("dashboard") view=DashboardPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="error-panel" role="alert">
            <h1>"Page not found"</h1>
            <p><A href="/">"Go to the overview"</A></p>
        </section>
    }
}
