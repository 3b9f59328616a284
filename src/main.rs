//! The `insightops` command line: serve the app, migrate, seed demo data, analyse a CSV, benchmark.
//! Start-up errors (bad configuration, unreachable database) print one clear line and exit 1.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use insightops::config::{Config, ProcessEnv};
use insightops::analytics::{Aggregation, Direction};
use insightops::cli::analyze::{self, AnalyzeError, AnalyzeOptions};
use insightops::auth::Role;
use insightops::cli::{self, bench};
use insightops::{db, seed, server};

#[derive(Parser)]
#[command(name = "insightops", version, about = "KPI analytics and reporting")]
struct Cli {
    /// Runtime configuration file.
    #[arg(long, global = true, default_value = "Leptos.toml", env = "INSIGHTOPS_CONFIG")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app (migrates first unless told not to).
    Serve {
        #[arg(long)]
        no_migrate: bool,
    },
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Load the deterministic demo data (idempotent).
    Seed {
        /// Multiply the data volume (more products) for benchmarks.
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// Days of history ending at --end-date.
        #[arg(long)]
        days: Option<u32>,
        /// Last day of data (default: today, UTC).
        #[arg(long, value_parser = parse_end_date)]
        end_date: Option<chrono::NaiveDate>,
        /// Only seed orgs that have no KPI data yet.
        #[arg(long)]
        if_empty: bool,
    },
    /// Analyse one daily series from a CSV file and print the results as JSON.
    Analyze {
        file: PathBuf,
        #[arg(long, default_value = "date")]
        date_col: String,
        #[arg(long, default_value = "value")]
        value_col: String,
        /// Season length in days.
        #[arg(long, default_value_t = 7)]
        season: usize,
        /// Days to forecast.
        #[arg(long, default_value_t = 28)]
        horizon: usize,
        /// How days combine into weeks, months, quarters and years: sum, avg or last.
        #[arg(long, default_value = "sum", value_parser = parse_aggregation)]
        aggregation: Aggregation,
        /// higher_is_better or lower_is_better: decides whether a change is good or bad.
        #[arg(long, default_value = "higher_is_better", value_parser = parse_direction)]
        direction: Direction,
    },
    /// Manage accounts: add a user, change a role, reset a password (all audited).
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Run background jobs (and the scheduler) without serving pages, until SIGTERM.
    Worker {
        /// Workers in this process (default: `jobs.workers`, at least 1).
        #[arg(long)]
        workers: Option<u32>,
    },
    /// Measure the job queue: no-op jobs claimed and finished per second by N workers.
    BenchJobs {
        #[arg(long, default_value_t = 20_000)]
        jobs: u32,
        #[arg(long, default_value_t = 2)]
        workers: u32,
    },
    /// Score the detector on a labelled synthetic set: recall and precision at each severity,
    /// false warnings by noise, forecast holdout MAPE. `--export FILE` writes the set as CSV instead.
    BenchDetection {
        #[arg(long, default_value_t = 60)]
        series: usize,
        #[arg(long, default_value_t = cli::labelled::DEFAULT_SEED)]
        seed: u64,
        #[arg(long)]
        export: Option<std::path::PathBuf>,
    },
    /// Time the anomaly scan and forecast over synthetic series on one core.
    BenchAnalytics {
        #[arg(long, default_value_t = 10_000)]
        series: usize,
        #[arg(long, default_value_t = 730)]
        days: usize,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user to an org. Without a password one is generated and printed.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read from the environment so it stays out of the shell history and `ps`.
        #[arg(long, env = "INSIGHTOPS_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Give a user another role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Set a new password (generated unless given) and end the user's sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, env = "INSIGHTOPS_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("{text:?} is not one of admin, manager, board"))
}

fn parse_aggregation(text: &str) -> Result<Aggregation, String> {
    Aggregation::parse(text).ok_or_else(|| format!("{text:?} is not one of sum, avg, last"))
}

fn parse_direction(text: &str) -> Result<Direction, String> {
    Direction::parse(text).ok_or_else(|| format!("{text:?} is not one of higher_is_better, lower_is_better"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("insightops: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = Arc::new(Config::load(&cli.config, &ProcessEnv).map_err(|e| e.to_string())?);
    let telemetry = insightops::ops::logging::init(&config.ops);
    let result = dispatch(cli.command, config).await;
    // The last batch is sent by a task on this runtime: shut down off it, not blocking a worker.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    result
}

async fn dispatch(command: Command, config: Arc<Config>) -> Result<(), String> {
    match command {
        Command::Migrate => {
            let pool = prepare_database(&config).await?;
            println!("migrations applied");
            pool.close().await;
            Ok(())
        }
        Command::Seed { scale, days, end_date, if_empty } => {
            let pool = prepare_database(&config).await?;
            let options = seed::SeedOptions {
                days: days.unwrap_or(730),
                scale,
                end: end_date.unwrap_or_else(|| chrono::Utc::now().date_naive()),
                only_if_empty: if_empty,
            };
            let started = std::time::Instant::now();
            let reports = seed::run(&pool, &options).await.map_err(|e| e.to_string())?;
            for r in &reports {
                if r.skipped {
                    println!("{}: already has data, skipped", r.slug);
                } else {
                    println!("{}: {} KPI rows and {} signal rows inserted", r.slug, r.kpi_rows_inserted, r.signal_rows_inserted);
                }
                for u in &r.users {
                    if u.created {
                        println!("  {:<8} {}  password: {}", u.role.as_str(), u.email, u.password);
                    } else {
                        println!("  {:<8} {}  (exists; password unchanged, demo default: {})", u.role.as_str(), u.email, u.password);
                    }
                }
            }
            println!("seeded in {:.1} s", started.elapsed().as_secs_f64());
            // A new org's review queue is filled at once: every active model runs on the fresh data.
            // New days for an org that had models already go to detection on the job queue.
            for r in reports.iter().filter(|r| !r.skipped || r.models_added > 0) {
                let org = db::orgs::by_slug(&pool, &r.slug).await.map_err(|e| e.to_string())?.ok_or("org vanished")?;
                if r.models_added == 0 && r.kpi_rows_inserted + r.signal_rows_inserted > 0 {
                    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
                    let queued = insightops::jobs::service::data_changed(&mut conn, org.id, &config).await.map_err(|e| e.to_string())?;
                    println!("{}: detection queued (job {})", r.slug, queued.id());
                    continue;
                }
                for run in insightops::models::service::run_active(&pool, org.id, "seed", &config.analytics).await.map_err(|e| e.to_string())? {
                    println!("{}: ran {} v{} in {} ms: {}", r.slug, run.model_name, run.model_version, run.duration_ms.unwrap_or(0), run.result_text());
                }
            }
            pool.close().await;
            Ok(())
        }
        Command::Analyze { file, date_col, value_col, season, horizon, aggregation, direction } => {
            let options = AnalyzeOptions { date_col, value_col, season, horizon, aggregation, direction };
            let input = std::fs::File::open(&file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
            let (series, rows) = analyze::read_series(input, &options).map_err(|e| analyze_error(&file, e))?;
            let report = analyze::analyze(&series, rows, &options, &config.analytics).map_err(|e| analyze_error(&file, e))?;
            let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
            println!("{json}");
            Ok(())
        }
        Command::User { action } => {
            let pool = prepare_database(&config).await?;
            let result = match action {
                UserCommand::Add { org, email, name, role, password } => cli::user::add(&pool, &org, &email, name.as_deref(), role, password).await,
                UserCommand::SetRole { email, role } => cli::user::set_role(&pool, &email, role).await,
                UserCommand::ResetPassword { email, password } => cli::user::reset_password(&pool, &email, password).await,
            };
            pool.close().await;
            let change = result.map_err(|e| e.to_string())?;
            println!("{}", change.message);
            if let Some(password) = change.generated_password {
                println!("password for {}: {password}", change.email);
            }
            Ok(())
        }
        Command::BenchDetection { series, seed, export } => {
            if let Some(path) = export {
                let file = std::fs::File::create(&path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                let mut out = std::io::BufWriter::new(file);
                cli::labelled::export_csv(seed, series, &mut out).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                return Ok(());
            }
            let report = cli::labelled::run(seed, series, &config.analytics.anomaly, &config.analytics.forecast);
            eprintln!("{}", cli::labelled::render(&report));
            println!("{}", serde_json::to_string(&report).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::BenchAnalytics { series, days } => {
            let report = bench::run(series, days, &config.analytics);
            eprintln!(
                "{} series x {} days: anomaly scan {:.2} s + forecast {:.2} s = {:.2} s on one core, {:.0} series/s",
                report.series, report.days, report.anomaly_seconds, report.forecast_seconds, report.total_seconds, report.series_per_second
            );
            println!("{}", serde_json::to_string(&report).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Worker { workers } => {
            let pool = prepare_database(&config).await?;
            let state = server::app_state(config.clone(), pool);
            // A worker has no pages, but Prometheus still wants its job metrics.
            let metrics = match config.ops.metrics_address {
                Some(address) => Some(server::serve_metrics(address, state.clone()).await.map_err(|e| format!("metrics listener on {address}: {e}"))?),
                None => None,
            };
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let count = workers.unwrap_or(config.jobs.workers).max(1);
            let tasks = server::start_background(&state, count, true, &stopped);
            eprintln!("insightops worker: {count} worker(s) and the scheduler running; SIGTERM stops them");
            server::shutdown_signal().await;
            let _ = stop.send(true);
            if tokio::time::timeout(config.ops.grace, futures::future::join_all(tasks)).await.is_err() {
                eprintln!("insightops worker: grace period over with jobs still running; their leases expire and another worker retries them");
            }
            if let Some(task) = metrics {
                task.abort();
            }
            Ok(())
        }
        Command::BenchJobs { jobs, workers } => {
            let pool = prepare_database(&config).await?;
            let report = bench::jobs(&pool, config.clone(), jobs, workers).await.map_err(|e| e.to_string())?;
            eprintln!("{report}");
            pool.close().await;
            Ok(())
        }
        Command::Serve { no_migrate } => {
            let pool = if no_migrate || !config.database.migrate_on_start {
                let pool = db::pool(&config.database).map_err(|e| format!("database: {e}"))?;
                refuse_pending_migrations(&pool).await?;
                pool
            } else {
                prepare_database(&config).await?
            };
            db::ReadPool::new(&config.database, &pool).map_err(|e| format!("database.read_url: {e}"))?;
            server::serve(config, pool).await.map_err(|e| format!("server: {e}"))
        }
    }
}

/// Serving against an older schema fails in odd places; say so at start-up instead. A database
/// that does not answer yet is not refused: the app starts and reports itself not ready.
async fn refuse_pending_migrations(pool: &sqlx::PgPool) -> Result<(), String> {
    match tokio::time::timeout(std::time::Duration::from_secs(10), db::pending_migrations(pool)).await {
        Ok(Ok(pending)) if pending.is_empty() => Ok(()),
        Ok(Ok(pending)) => Err(format!(
            "the database lacks {} migration(s) of this version (first: {}); run `insightops migrate` first, or serve without --no-migrate (and with database.migrate_on_start = true)",
            pending.len(),
            pending[0]
        )),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "could not check for pending migrations; serving anyway");
            Ok(())
        }
        Err(_) => {
            tracing::warn!("the database did not answer within 10 s; serving anyway (readiness reports it)");
            Ok(())
        }
    }
}

async fn prepare_database(config: &Config) -> Result<sqlx::PgPool, String> {
    let url = &config.database.url;
    db::ensure_database(url)
        .await
        .map_err(|e| format!("cannot reach the database at {} ({e})", redact(url)))?;
    let pool = db::pool(&config.database).map_err(|e| format!("database: {e}"))?;
    db::migrate(&pool).await.map_err(|e| format!("migration failed: {e}"))?;
    Ok(pool)
}

/// Every row error, one per line, so a user can fix the file in one pass.
fn analyze_error(file: &std::path::Path, error: AnalyzeError) -> String {
    match error {
        AnalyzeError::Rows(rows) => {
            let lines: Vec<String> = rows.iter().map(|r| format!("  {}:{}: {}", file.display(), r.line, r.message)).collect();
            format!("{} row(s) could not be read:\n{}", rows.len(), lines.join("\n"))
        }
        other => format!("{}: {other}", file.display()),
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `--end-date` takes the same days as every other date input (YYYY-MM-DD, years 1900 to 2200).
fn parse_end_date(text: &str) -> Result<chrono::NaiveDate, String> {
    insightops::domain::date::parse_day(text).map_err(|e| format!("{text:?} {e}"))
}
