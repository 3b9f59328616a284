//! InsightOps: self-hosted KPI analytics that says what changed in the numbers, why, and what to do.
//! The library holds the app (shared by server and browser); `main.rs` is the server CLI.
#![recursion_limit = "256"]


pub mod admin;
pub mod analytics;
pub mod app;
pub mod ask;
pub mod auth;
pub mod charts;
pub mod collections;
pub mod dashboard;
pub mod overview;
pub mod patterns;
pub mod jobs;
pub mod error;
pub mod exec;
pub mod format;
pub mod ingest;
pub mod domain;
/// Dimensions used to live here; the path stays for callers outside the crate.
pub use domain::dimension as model;
pub mod models;
pub mod recommendations;
pub mod reports;
pub mod saved_dashboards;
pub mod tokens;
pub mod ui;

#[cfg(test)]
mod parser_properties;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod health;
#[cfg(feature = "ssr")]
pub mod ops;
#[cfg(feature = "ssr")]
pub mod seed;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
