//! The app's runtime configuration: `Leptos.toml`, overridden by environment variables.
//! Every bad value stops start-up with a message naming the key and what is allowed.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

pub mod ingest;
pub mod jobs;
pub mod narrative;
pub mod ops;

pub use ingest::IngestConfig;
pub use jobs::{EnvProfile, JobsConfig};
pub use ops::{LogFormat, Ops, OpsConfig, OtlpExport};

/// Where the app runs; mirrors the seeds' ENVIRONMENT enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Dev,
    Staging,
    Prod,
    Offline,
}

impl Environment {
    pub const ALLOWED: &'static str = "dev, staging, prod, offline";

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "dev" => Some(Self::Dev),
            "staging" => Some(Self::Staging),
            "prod" => Some(Self::Prod),
            "offline" => Some(Self::Offline),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Staging => "staging",
            Self::Prod => "prod",
            Self::Offline => "offline",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub environment: Environment,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub access: crate::auth::AccessPolicy,
    pub analytics: crate::analytics::AnalyticsConfig,
    pub jobs: JobsConfig,
    pub ingest: IngestConfig,
    pub ops: Ops,
    /// The chosen environment's profile (`[env.NAME]` over the seeds' defaults).
    pub profile: EnvProfile,
    /// Who writes the narratives here (`[narrative]` and the profile's `narrative_writer`).
    pub narrative: narrative::Writer,
}

impl Config {
    /// `offline` runs no jobs at all: no workers, no scheduler.
    pub fn runs_jobs(&self) -> bool {
        self.environment != Environment::Offline
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub address: SocketAddr,
    /// Folder holding the built site (`pkg/`, public assets); cargo-leptos writes it.
    pub site_root: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseConfig {
    pub url: String,
    pub pool_size: u32,
    pub migrate_on_start: bool,
    /// A streaming replica for dashboard and board reads (`database.read_url`, `DATABASE_READ_URL`).
    /// Unset: every read goes to `url`.
    pub read_url: Option<String>,
}

/// `[auth]`: sessions, sign-in throttling, and where client addresses come from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// A session ends after this long without a request.
    pub session_idle_minutes: u32,
    /// A session ends this long after sign-in, however active it is.
    pub session_absolute_hours: u32,
    /// Mark the session cookie Secure (sent over https only). Unset: on in staging and prod.
    pub secure_cookie: Option<bool>,
    /// Failed sign-ins for one account from one address within the window before that pair waits
    /// (one minute, doubling with each further failure, at most the window).
    pub max_failed_logins: u32,
    /// Failed sign-ins from one address, over all accounts, within the window before it waits
    /// until the oldest leaves the window (password spraying).
    pub max_failed_logins_per_address: u32,
    pub failed_login_window_minutes: u32,
    /// Password checks (argon2, 19 MiB each) running at once. 0: the core count.
    pub max_concurrent_password_checks: u32,
    /// How long a sign-in waits for a free password check before it gets 503.
    pub password_check_wait_ms: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed; from anyone else the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_idle_minutes: 480,
            session_absolute_hours: 24,
            secure_cookie: None,
            max_failed_logins: 5,
            max_failed_logins_per_address: 30,
            failed_login_window_minutes: 15,
            max_concurrent_password_checks: 0,
            password_check_wait_ms: 2000,
            trusted_proxies: Vec::new(),
        }
    }
}

/// `key` (e.g. `auth.max_failed_logins`) holds `value` within `range`, or the message says so.
fn in_range(key: &str, value: u32, range: std::ops::RangeInclusive<u32>) -> Result<(), String> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(format!("`{key}` = {value} is out of range; allowed: {} to {}", range.start(), range.end()))
    }
}

impl AuthConfig {
    fn validate(&self) -> Result<(), String> {
        let in_range = |key: &str, value: u32, range| in_range(&format!("auth.{key}"), value, range);
        in_range("session_idle_minutes", self.session_idle_minutes, 5..=43_200)?;
        in_range("session_absolute_hours", self.session_absolute_hours, 1..=720)?;
        in_range("max_failed_logins", self.max_failed_logins, 1..=100)?;
        in_range("max_failed_logins_per_address", self.max_failed_logins_per_address, 1..=10_000)?;
        in_range("failed_login_window_minutes", self.failed_login_window_minutes, 1..=1440)?;
        in_range("max_concurrent_password_checks", self.max_concurrent_password_checks, 0..=256)?;
        in_range("password_check_wait_ms", self.password_check_wait_ms, 0..=30_000)?;
        if self.session_absolute_hours * 60 < self.session_idle_minutes {
            return Err(format!(
                "`auth.session_absolute_hours` = {} is shorter than `auth.session_idle_minutes` = {}",
                self.session_absolute_hours, self.session_idle_minutes
            ));
        }
        Ok(())
    }

    /// How many password checks may run at once.
    pub fn password_check_slots(&self) -> usize {
        match self.max_concurrent_password_checks {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n as usize,
        }
    }
}

/// A configuration problem, worded for the operator who has to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub source: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration in {}: {}", self.source, self.message)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    environment: Option<String>,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    auth: AuthConfig,
    #[serde(default)]
    access: crate::auth::AccessPolicy,
    #[serde(default)]
    analytics: crate::analytics::AnalyticsConfig,
    #[serde(default)]
    jobs: JobsConfig,
    #[serde(default)]
    ingest: IngestConfig,
    #[serde(default)]
    ops: OpsConfig,
    #[serde(default)]
    narrative: narrative::NarrativeConfig,
    #[serde(default)]
    env: std::collections::BTreeMap<String, jobs::RawEnvProfile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    address: Option<String>,
    site_root: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<String>,
    pool_size: Option<i64>,
    migrate_on_start: Option<bool>,
    read_url: Option<String>,
}

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/insightops";
const POOL_SIZE_RANGE: std::ops::RangeInclusive<i64> = 1..=200;

/// Reads the variables this app honours; a seam so tests need not touch the process environment.
pub trait EnvSource {
    fn var(&self, key: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<const N: usize> EnvSource for [(&str, &str); N] {
    fn var(&self, key: &str) -> Option<String> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string())
    }
}

impl Config {
    /// Loads `path` (a missing file means all defaults) and applies environment overrides.
    pub fn load(path: &Path, env: &impl EnvSource) -> Result<Config, ConfigError> {
        let source = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(err) => {
                return Err(ConfigError { source, message: format!("cannot read the file: {err}") })
            }
        };
        Self::from_toml_str(&text, &source, env)
    }

    pub fn from_toml_str(
        text: &str,
        source: &str,
        env: &impl EnvSource,
    ) -> Result<Config, ConfigError> {
        let file_err = |message: String| ConfigError { source: source.to_string(), message };
        let env_err = |message: String| ConfigError {
            source: "the environment".to_string(),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| file_err(e.message().to_string()))?;

        let environment = match env.var("INSIGHTS_ENV") {
            Some(value) => parse_environment(&value).map_err(|m| env_err(format!("INSIGHTS_ENV {m}")))?,
            None => match raw.environment.as_deref() {
                Some(value) => {
                    parse_environment(value).map_err(|m| file_err(format!("`environment` {m}")))?
                }
                None => Environment::Dev,
            },
        };

        let address = match env.var("INSIGHTOPS_ADDR") {
            Some(value) => {
                parse_address(&value).map_err(|m| env_err(format!("INSIGHTOPS_ADDR {m}")))?
            }
            None => parse_address(raw.server.address.as_deref().unwrap_or("127.0.0.1:3000"))
                .map_err(|m| file_err(format!("`server.address` {m}")))?,
        };

        let site_root = env
            .var("LEPTOS_SITE_ROOT")
            .or(raw.server.site_root)
            .unwrap_or_else(|| "target/site".to_string());

        let url = match env.var("DATABASE_URL") {
            Some(value) => {
                check_database_url(&value).map_err(|m| env_err(format!("DATABASE_URL {m}")))?
            }
            None => check_database_url(raw.database.url.as_deref().unwrap_or(DEFAULT_DATABASE_URL))
                .map_err(|m| file_err(format!("`database.url` {m}")))?,
        };

        let read_url = match env.var("DATABASE_READ_URL") {
            Some(value) => Some(check_database_url(&value).map_err(|m| env_err(format!("DATABASE_READ_URL {m}")))?),
            None => match raw.database.read_url.as_deref().filter(|v| !v.trim().is_empty()) {
                Some(value) => Some(check_database_url(value).map_err(|m| file_err(format!("`database.read_url` {m}")))?),
                None => None,
            },
        };

        let pool_size = raw.database.pool_size.unwrap_or(10);
        if !POOL_SIZE_RANGE.contains(&pool_size) {
            return Err(file_err(format!(
                "`database.pool_size` = {pool_size} is out of range; allowed: {} to {}",
                POOL_SIZE_RANGE.start(),
                POOL_SIZE_RANGE.end()
            )));
        }

        raw.analytics.validate().map_err(file_err)?;
        raw.auth.validate().map_err(file_err)?;
        raw.access.validate().map_err(file_err)?;
        raw.jobs.validate().map_err(file_err)?;
        raw.ingest.validate().map_err(file_err)?;
        raw.ops.validate().map_err(file_err)?;
        raw.narrative.validate().map_err(file_err)?;
        let ops = settle_ops(raw.ops, environment, env).map_err(env_err)?;
        let longest_window = raw.analytics.patterns.windows().iter().map(|(_, w)| w.window_days).max().unwrap_or(0);
        let mut profiles = jobs::profiles(raw.env, longest_window).map_err(file_err)?;
        let profile = profiles.remove(environment.as_str()).ok_or_else(|| file_err(format!("no profile for {}", environment.as_str())))?;
        let writer_key = format!("env.{}.narrative_writer", environment.as_str());
        let narrative = narrative::settle(raw.narrative, profile.narrative_writer, &writer_key, env.var("INSIGHTOPS_LLM_API_KEY")).map_err(file_err)?;
        let mut auth = raw.auth;
        auth.secure_cookie = Some(auth.secure_cookie.unwrap_or(matches!(environment, Environment::Staging | Environment::Prod)));

        Ok(Config {
            analytics: raw.analytics,
            environment,
            server: ServerConfig { address, site_root },
            database: DatabaseConfig {
                url,
                pool_size: pool_size as u32,
                migrate_on_start: raw.database.migrate_on_start.unwrap_or(true),
                read_url,
            },
            auth,
            access: raw.access,
            jobs: raw.jobs,
            ingest: raw.ingest,
            ops,
            profile,
            narrative,
        })
    }
}

/// `[ops]` with `INSIGHTOPS_METRICS_ADDR`, `INSIGHTOPS_METRICS_TOKEN`, `INSIGHTOPS_LOG_FORMAT` and
/// `INSIGHTOPS_OTLP_ENDPOINT` applied.
fn settle_ops(raw: OpsConfig, environment: Environment, env: &impl EnvSource) -> Result<Ops, String> {
    let metrics_address = match env.var("INSIGHTOPS_METRICS_ADDR").or(raw.metrics_address) {
        Some(value) => Some(parse_address(&value).map_err(|m| format!("INSIGHTOPS_METRICS_ADDR or `ops.metrics_address` {m}"))?),
        None => None,
    };
    let metrics_token = env.var("INSIGHTOPS_METRICS_TOKEN");
    if metrics_token.as_ref().is_some_and(|token| token.len() < 16) {
        return Err("INSIGHTOPS_METRICS_TOKEN is shorter than 16 characters; use a long random value".into());
    }
    let log_format = match env.var("INSIGHTOPS_LOG_FORMAT").as_deref() {
        Some("json") => LogFormat::Json,
        Some("pretty") => LogFormat::Pretty,
        Some(other) => return Err(format!("INSIGHTOPS_LOG_FORMAT = {other:?} is not allowed; allowed values: json, pretty")),
        None => raw.log_format.unwrap_or(match environment {
            Environment::Staging | Environment::Prod => LogFormat::Json,
            Environment::Dev | Environment::Offline => LogFormat::Pretty,
        }),
    };
    let otlp = match env.var("INSIGHTOPS_OTLP_ENDPOINT").or(raw.otlp_endpoint) {
        Some(endpoint) => Some(ops::OtlpExport {
            endpoint: ops::check_otlp_endpoint(&endpoint).map_err(|m| format!("INSIGHTOPS_OTLP_ENDPOINT or `ops.otlp_endpoint` {m}"))?,
            service_name: raw.otlp_service_name,
            sample_ratio: raw.otlp_sample_ratio,
            timeout: std::time::Duration::from_secs(raw.otlp_timeout_seconds.into()),
        }),
        None => None,
    };
    Ok(Ops {
        metrics_address,
        metrics_token,
        drain: std::time::Duration::from_secs(raw.drain_seconds.into()),
        grace: std::time::Duration::from_secs(raw.grace_seconds.into()),
        log_format,
        otlp,
    })
}

fn parse_environment(value: &str) -> Result<Environment, String> {
    Environment::parse(value)
        .ok_or_else(|| format!("= {value:?} is not allowed; allowed values: {}", Environment::ALLOWED))
}

fn parse_address(value: &str) -> Result<SocketAddr, String> {
    value
        .parse()
        .map_err(|_| format!("= {value:?} is not a socket address; expected HOST:PORT such as 127.0.0.1:3000"))
}

fn check_database_url(value: &str) -> Result<String, String> {
    if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        Ok(value.to_string())
    } else {
        Err(format!("= {value:?} is not a PostgreSQL URL; expected postgres://USER@HOST:PORT/DB"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_ENV: [(&str, &str); 0] = [];

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml_str(text, "Leptos.toml", &NO_ENV)
    }

    #[test]
    fn empty_file_gives_documented_defaults() {
        let config = parse("").expect("defaults are valid");
        assert_eq!(config.environment, Environment::Dev);
        assert_eq!(config.server.address.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database.url, DEFAULT_DATABASE_URL);
        assert_eq!(config.database.pool_size, 10);
        assert!(config.database.migrate_on_start);
        assert_eq!(config.auth.session_idle_minutes, 480);
        assert_eq!(config.auth.secure_cookie, Some(false), "plain http in dev");
        assert_eq!(config.auth.max_failed_logins, 5);
        assert_eq!(config.access, crate::auth::AccessPolicy::default());
    }

    #[test]
    fn the_shipped_leptos_toml_is_valid() {
        let text = include_str!("../../Leptos.toml");
        let config = parse(text).expect("Leptos.toml in the repo must parse");
        assert_eq!(config.server.address.port(), 3000);
    }

    #[test]
    fn environment_profiles_take_the_seeds_defaults_and_check_their_invariants() {
        let prod = parse("environment = \"prod\"").expect("valid");
        assert_eq!((prod.profile.aggregated_retention_days, prod.profile.pattern_retention_days, prod.profile.export_max_rows), (3650, 1825, 50_000));
        assert!(prod.profile.scheduled_jobs.contains(&"pattern_review_yearly".to_string()));
        let dev = parse("").expect("valid");
        assert_eq!((dev.profile.aggregated_retention_days, dev.profile.board_cache_ttl_seconds, dev.profile.exports_per_user), (90, 60, 5));
        let offline = parse("environment = \"offline\"").expect("valid");
        assert!(!offline.runs_jobs());
        let text = parse("[env.prod]\nraw_retention_days = 365").unwrap_err().to_string();
        assert!(text.contains("env.prod.raw_retention_days") && text.contains("730"), "{text}");
        let text = parse("[env.offline]\nscheduled_jobs = [\"retention\"]").unwrap_err().to_string();
        assert!(text.contains("offline runs no jobs"), "{text}");
        let text = parse("[env.qa]\nexport_max_rows = 5").unwrap_err().to_string();
        assert!(text.contains("[env.qa]"), "{text}");
        let text = parse("[env.dev]\nscheduled_jobs = [\"daily_load\"]").unwrap_err().to_string();
        assert!(text.contains("daily_load"), "{text}");
        let text = parse("[jobs.schedules]\ncache_warmup = \"every 15 minutes\"").unwrap_err().to_string();
        assert!(text.contains("jobs.schedules.cache_warmup"), "{text}");
        let text = parse("[jobs]\nbackoff_cap_seconds = 1\nbackoff_base_seconds = 10").unwrap_err().to_string();
        assert!(text.contains("backoff_cap_seconds"), "{text}");
        assert_eq!(prod.jobs.backoff_secs(1), 10.0);
        assert_eq!(prod.jobs.backoff_secs(3), 40.0);
        assert_eq!(prod.jobs.backoff_secs(40), 3600.0);
    }

    #[test]
    fn ops_settings_take_environment_overrides_and_name_bad_values() {
        let dev = parse("").expect("valid");
        assert_eq!((dev.ops.log_format, dev.ops.metrics_address, dev.ops.drain.as_secs(), dev.ops.grace.as_secs()), (LogFormat::Pretty, None, 5, 20));
        assert_eq!(parse("environment = \"prod\"").expect("valid").ops.log_format, LogFormat::Json);
        let env = [("INSIGHTOPS_METRICS_ADDR", "127.0.0.1:9464"), ("INSIGHTOPS_LOG_FORMAT", "pretty"), ("DATABASE_READ_URL", "postgres://r@127.0.0.1:5433/x")];
        let overridden = Config::from_toml_str("environment = \"prod\"", "Leptos.toml", &env).expect("valid");
        assert_eq!(overridden.ops.metrics_address.map(|a| a.port()), Some(9464));
        assert_eq!(overridden.ops.log_format, LogFormat::Pretty);
        assert_eq!(overridden.database.read_url.as_deref(), Some("postgres://r@127.0.0.1:5433/x"));
        let text = parse("[ops]\ngrace_seconds = 0").unwrap_err().to_string();
        assert!(text.contains("`ops.grace_seconds` = 0") && text.contains("1 to 3600"), "{text}");
        let text = parse("[ops]\nmetrics_address = \"everywhere\"").unwrap_err().to_string();
        assert!(text.contains("ops.metrics_address") && text.contains("HOST:PORT"), "{text}");
        let text = parse("[database]\nread_url = \"mysql://x\"").unwrap_err().to_string();
        assert!(text.contains("database.read_url"), "{text}");
        let text = Config::from_toml_str("", "Leptos.toml", &[("INSIGHTOPS_LOG_FORMAT", "xml")]).unwrap_err().to_string();
        assert!(text.contains("INSIGHTOPS_LOG_FORMAT") && text.contains("json, pretty"), "{text}");
    }

    #[test]
    fn otlp_export_is_off_by_default_and_its_settings_are_checked() {
        assert_eq!(parse("environment = \"prod\"").expect("valid").ops.otlp, None);
        let on = parse("[ops]\notlp_endpoint = \"http://collector:4318/v1/traces\"\notlp_sample_ratio = 0.25").expect("valid");
        let otlp = on.ops.otlp.expect("export on");
        assert_eq!((otlp.endpoint.as_str(), otlp.service_name.as_str(), otlp.sample_ratio, otlp.timeout.as_secs()), ("http://collector:4318/v1/traces", "insightops", 0.25, 10));
        let env = [("INSIGHTOPS_OTLP_ENDPOINT", "https://otel.example:4318/v1/traces")];
        let from_env = Config::from_toml_str("", "Leptos.toml", &env).expect("valid");
        assert_eq!(from_env.ops.otlp.map(|o| o.endpoint), Some("https://otel.example:4318/v1/traces".to_string()));
        for (toml, key) in [
            ("[ops]\notlp_endpoint = \"collector:4318\"", "ops.otlp_endpoint"),
            ("[ops]\notlp_endpoint = \"http://\"", "ops.otlp_endpoint"),
            ("[ops]\notlp_sample_ratio = 1.5", "ops.otlp_sample_ratio"),
            ("[ops]\notlp_timeout_seconds = 0", "ops.otlp_timeout_seconds"),
            ("[ops]\notlp_service_name = \" \"", "ops.otlp_service_name"),
        ] {
            let text = parse(toml).unwrap_err().to_string();
            assert!(text.contains(key), "{toml}: {text}");
        }
    }

    /// The Leptos.toml that deploy/k8s/configmap.yaml mounts into every pod.
    #[test]
    fn the_kubernetes_config_map_holds_a_valid_prod_config() {
        let manifest = include_str!("../../deploy/k8s/configmap.yaml");
        let (_, block) = manifest.split_once("Leptos.toml: |\n").expect("the ConfigMap holds Leptos.toml");
        let text: String = block.lines().take_while(|l| l.is_empty() || l.starts_with("    ")).map(|l| format!("{}\n", l.get(4..).unwrap_or(""))).collect();
        let config = parse(&text).expect("the ConfigMap's Leptos.toml is valid");
        assert_eq!(config.environment, Environment::Prod);
        assert!(!config.database.migrate_on_start, "the migration Job migrates, not the pods");
        assert_eq!(config.ops.metrics_address.map(|a| a.port()), Some(9464));
        assert_eq!(config.ops.log_format, LogFormat::Json);
    }

    #[test]
    fn bad_environment_names_key_and_allowed_values() {
        let err = parse("environment = \"qa\"").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Leptos.toml"), "{text}");
        assert!(text.contains("`environment`"), "{text}");
        assert!(text.contains("dev, staging, prod, offline"), "{text}");
    }

    #[test]
    fn bad_pool_size_names_key_and_range() {
        let text = parse("[database]\npool_size = 0").unwrap_err().to_string();
        assert!(text.contains("`database.pool_size` = 0"), "{text}");
        assert!(text.contains("1 to 200"), "{text}");
    }

    #[test]
    fn unknown_key_is_rejected_with_its_name() {
        let text = parse("[server]\nadress = \"127.0.0.1:1\"").unwrap_err().to_string();
        assert!(text.contains("adress"), "{text}");
    }

    #[test]
    fn bad_address_and_url_are_named() {
        let text = parse("[server]\naddress = \"localhost\"").unwrap_err().to_string();
        assert!(text.contains("`server.address`"), "{text}");
        let text = parse("[database]\nurl = \"mysql://x\"").unwrap_err().to_string();
        assert!(text.contains("`database.url`"), "{text}");
    }

    #[test]
    fn environment_variables_override_the_file() {
        let env = [
            ("INSIGHTS_ENV", "prod"),
            ("INSIGHTOPS_ADDR", "0.0.0.0:8080"),
            ("DATABASE_URL", "postgres://u@db:5432/x"),
        ];
        let config =
            Config::from_toml_str("environment = \"dev\"", "Leptos.toml", &env).expect("valid");
        assert_eq!(config.environment, Environment::Prod);
        assert_eq!(config.server.address.to_string(), "0.0.0.0:8080");
        assert_eq!(config.database.url, "postgres://u@db:5432/x");
    }

    #[test]
    fn bad_environment_variable_is_named() {
        let env = [("INSIGHTS_ENV", "production")];
        let text = Config::from_toml_str("", "Leptos.toml", &env).unwrap_err().to_string();
        assert!(text.contains("INSIGHTS_ENV"), "{text}");
        assert!(text.contains("allowed values"), "{text}");
    }

    #[test]
    fn analytics_thresholds_come_from_the_file() {
        let text = "[analytics.anomaly]\nwarning_z = 4.0\n[analytics.patterns.weekly]\nwindow_days = 14\nmin_events = 2\nmin_distinct_sources = 1\n[analytics.forecast]\nhorizon = 14";
        let config = parse(text).expect("valid");
        assert_eq!(config.analytics.anomaly.warning_z, 4.0);
        assert_eq!(config.analytics.anomaly.critical_z, 5.0, "unset keys keep their defaults");
        assert_eq!(config.analytics.patterns.weekly.window_days, 14);
        assert_eq!(config.analytics.patterns.monthly.window_days, 180);
        assert_eq!(config.analytics.forecast.horizon, 14);
    }

    #[test]
    fn access_roles_and_auth_limits_are_checked() {
        let config = parse("environment = \"prod\"\n[access]\nrestricted_roles = [\"admin\"]").expect("valid");
        assert_eq!(config.access.restricted_roles, vec![crate::auth::Role::Admin]);
        assert_eq!(config.auth.secure_cookie, Some(true), "https in prod");
        let text = parse("[access]\nrestricted_roles = [\"ceo\"]").unwrap_err().to_string();
        assert!(text.contains("ceo"), "{text}");
        let text = parse("[access]\ninternal_roles = [\"board\"]").unwrap_err().to_string();
        assert!(text.contains("internal_roles") && text.contains("admin"), "{text}");
        let text = parse("[auth]\nmax_failed_logins = 0").unwrap_err().to_string();
        assert!(text.contains("`auth.max_failed_logins` = 0"), "{text}");
        let text = parse("[auth]\nsession_absolute_hours = 2\nsession_idle_minutes = 480").unwrap_err().to_string();
        assert!(text.contains("session_absolute_hours"), "{text}");
        let text = parse("[auth]\ntrusted_proxies = [\"not-an-ip\"]").unwrap_err().to_string();
        assert!(text.contains("trusted_proxies") || text.contains("invalid IP"), "{text}");
        let config = parse("[auth]\ntrusted_proxies = [\"127.0.0.1\", \"::1\"]").expect("valid");
        assert_eq!(config.auth.trusted_proxies.len(), 2);
        assert!(config.auth.password_check_slots() >= 1);
    }

    #[test]
    fn bad_analytics_settings_are_named() {
        let text = parse("[analytics.anomaly]\ncritical_z = 3.0").unwrap_err().to_string();
        assert!(text.contains("[analytics.anomaly]") && text.contains("critical_z (3)"), "{text}");
        let text = parse("[analytics.anomaly]\nwarning = 3.0").unwrap_err().to_string();
        assert!(text.contains("unknown field `warning`"), "{text}");
    }
}
