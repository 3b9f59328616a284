//! The HTML shell and the root component with its routes and role-aware navigation.
//! Pages live in their feature folders; this file only wires them together.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::use_location;
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use crate::admin::page::{AuditLogPage, UsersPage};
use crate::ask::page::AskPage;
use crate::auth::api::current_user;
use crate::auth::page::{AccountMenu, LoginPage};
use crate::auth::{Capability, Role};
use crate::dashboard::page::DashboardPage;
use crate::exec::page::ExecPage;
use crate::jobs::page::JobsAdminPage;
use crate::tokens::page::TokensAdminPage;
use crate::collections::page::CollectionsPage;
use crate::ingest::page::DataUploadPage;
use crate::models::page::ModelsAdminPage;
use crate::recommendations::page::RecommendationsPage;
use crate::saved_dashboards::page::{DashboardEditorPage, DashboardsPage, PublicDashboardPage, SavedDashboardPage};
use crate::reports::page::ReportsPage;
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

/// Every page in the navigation with the capability it needs; the menu shows only what the
/// signed-in role may open.
const NAV: [(&str, &str, Capability); 14] = [
    ("/", "Overview", Capability::ViewOverview),
    ("/exec", "Board summary", Capability::ViewBoardSummary),
    ("/dashboard", "Dashboard", Capability::ViewDashboards),
    ("/dashboards", "Saved dashboards", Capability::ViewDashboards),
    ("/ask", "Ask", Capability::AskQuestions),
    ("/recommendations", "Recommendations", Capability::ViewRecommendations),
    ("/reports", "Reports", Capability::ViewReports),
    ("/data", "Load data", Capability::LoadData),
    ("/data/collections", "Collections", Capability::ManageCollections),
    ("/admin/models", "Models", Capability::ManageModels),
    ("/admin/users", "Users", Capability::ManageUsers),
    ("/admin/audit", "Audit log", Capability::ViewAuditLog),
    ("/admin/jobs", "Jobs", Capability::ManageJobs),
    ("/admin/tokens", "API tokens", Capability::ManageTokens),
];

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // `data-hydrated` turns "true" once the browser has taken the page over (effects run there
    // only): tests wait for it before using what needs the wasm, as a person waits for a page.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <Stylesheet id="leptos" href="/pkg/insightops.css"/>
        <Title text="InsightOps"/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <TopBar/>
            <main id="main" tabindex="-1" data-hydrated=move || hydrated.get().to_string()>
                <Routes fallback=|| view! { <NotFound/> }>
                    // Async: the whole page, numbers included, is in the first HTML response.
                    <Route path=StaticSegment("") view=ExecOverviewPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("exec") view=ExecPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("dashboard") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("dashboards") view=DashboardsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("dashboards"), ParamSegment("id")) view=SavedDashboardPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("dashboards"), ParamSegment("id"), StaticSegment("edit")) view=DashboardEditorPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("public"), StaticSegment("dashboards"), ParamSegment("token")) view=PublicDashboardPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("ask") view=AskPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("recommendations") view=RecommendationsPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("reports") view=ReportsPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("data") view=DataUploadPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("data"), StaticSegment("collections")) view=CollectionsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("models")) view=ModelsAdminPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("users")) view=UsersPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("audit")) view=AuditLogPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("jobs")) view=JobsAdminPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("tokens")) view=TokensAdminPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Brand, the role's navigation and the account menu; asked again on every navigation so a
/// sign-in, sign-out or ended session shows at once.
#[component]
fn TopBar() -> impl IntoView {
    let location = use_location();
    let user = Resource::new(move || location.pathname.get(), |_| current_user());
    // On a phone the navigation folds behind a menu button; following a link folds it again.
    let menu_open = RwSignal::new(false);
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    view! {
        <header class="topbar" class:menu-open=move || menu_open.get()>
            <a href="/" class="brand">"InsightOps"</a>
            <Transition fallback=|| ()>
                {move || user.get().map(|result| match result {
                    Ok(Some(user)) => view! {
                        <button type="button" class="menu-button" aria-controls="main-nav" data-testid="menu-button"
                            aria-expanded=move || menu_open.get().to_string() on:click=move |_| menu_open.update(|open| *open = !*open)>
                            "Menu"
                        </button>
                        <MainNav role=user.role/>
                        <AccountMenu user/>
                    }.into_any(),
                    _ => view! { <a href="/login" class="sign-in-link">"Sign in"</a> }.into_any(),
                })}
            </Transition>
        </header>
    }
}

#[component]
fn MainNav(role: Role) -> impl IntoView {
    view! {
        <nav id="main-nav" aria-label="Main" data-testid="main-nav">
            {NAV.iter()
                .filter(|(_, _, capability)| role.can(*capability))
                .map(|(href, label, _)| view! { <A href=*href>{*label}</A> })
                .collect_view()}
        </nav>
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
