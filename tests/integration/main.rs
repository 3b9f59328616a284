//! Integration tests against real PostgreSQL (each `#[sqlx::test]` gets its own database) and the
//! real binary. One test crate, so the app is linked once.

mod access;
mod aggregates;
mod ask;
mod cli_analytics;
mod collections;
mod config_startup;
mod dashboard;
mod detection;
mod exec_overview;
mod hardening;
mod ingest;
mod health;
mod jobs;
mod migrations;
mod narratives;
mod ops;
mod recommendations;
mod reports;
mod saved_dashboards;
mod seeding;
mod support;
