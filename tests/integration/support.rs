//! Fixtures shared by the integration tests: a small org with hand-checkable daily numbers.

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use chrono::NaiveDate;
use insightops::auth::Role;
use sqlx::PgPool;
use uuid::Uuid;

pub fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("fixture dates are valid")
}

pub async fn insert_org(pool: &PgPool, slug: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO io_org (slug, name) VALUES ($1, $2) RETURNING id")
        .bind(slug)
        .bind(format!("Org {slug}"))
        .fetch_one(pool)
        .await
        .expect("insert org")
}

pub async fn insert_metric(pool: &PgPool, org: Uuid, key: &str, unit: &str, direction: &str, aggregation: &str, order: i32) {
    sqlx::query(
        "INSERT INTO io_metric (org_id, key, label, unit, direction, aggregation, sort_order)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org)
    .bind(key)
    .bind(key.replace('_', " "))
    .bind(unit)
    .bind(direction)
    .bind(aggregation)
    .bind(order)
    .execute(pool)
    .await
    .expect("insert metric");
}

pub async fn insert_kpi(pool: &PgPool, org: Uuid, key: &str, date: NaiveDate, region: &str, value: f64) {
    sqlx::query(
        "INSERT INTO io_kpi_daily (org_id, kpi_date, metric_key, value, region, source)
         VALUES ($1, $2, $3, $4::float8::numeric, $5, 'test')",
    )
    .bind(org)
    .bind(date)
    .bind(key)
    .bind(value)
    .bind(region)
    .execute(pool)
    .await
    .expect("insert kpi");
}

/// The app's router as the server builds it (the pool is the test's database).
pub fn router(pool: PgPool) -> axum::Router {
    let env = [("DATABASE_URL", "postgres://unused@127.0.0.1:1/x")];
    let config = insightops::config::Config::from_toml_str("", "test", &env).expect("config");
    insightops::server::router(std::sync::Arc::new(config), app_pool(&pool))
}

/// The app's own pool on the test's database. A `#[sqlx::test]` pool borrows each connection's
/// permit from one master pool that every running test shares; the app opens real connections
/// of its own instead, so a page running several server functions at once never waits on other
/// tests' idle ones. They close when the router is dropped.
pub fn app_pool(pool: &PgPool) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .idle_timeout(Some(std::time::Duration::from_secs(2)))
        .connect_lazy_with((*pool.connect_options()).clone())
}

/// Adds a user with a password to `org` and returns (id, email, password).
pub async fn insert_user(pool: &PgPool, org: Uuid, role: Role) -> (Uuid, String, String) {
    let slug: String = sqlx::query_scalar("SELECT slug FROM io_org WHERE id = $1").bind(org).fetch_one(pool).await.expect("org");
    let email = format!("{}@{slug}.test", role.as_str());
    let password = format!("{}-password-{slug}", role.as_str());
    let hash = insightops::auth::server::hash_password(&password).expect("hash");
    let mut conn = pool.acquire().await.expect("connection");
    let id = insightops::db::users::insert(&mut conn, org, &email, &email, role, &hash).await.expect("insert").expect("new email");
    (id, email, password)
}

/// A browser-like client of the router: same-origin headers, a client address, and the session
/// cookie it was given.
#[derive(Clone)]
pub struct Client {
    router: axum::Router,
    pub cookie: Option<String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub const HOST: &str = "insightops.test";

impl Client {
    /// An anonymous client whose requests come from `ip`.
    pub fn from_ip(pool: &PgPool, ip: [u8; 4]) -> Client {
        let addr = std::net::SocketAddr::from((ip, 40000));
        Client { router: router(pool.clone()).layer(MockConnectInfo(addr)), cookie: None }
    }

    pub fn anonymous(pool: &PgPool) -> Client {
        Client::from_ip(pool, [10, 0, 0, 1])
    }

    /// A client signed in as `email`; panics when the sign-in fails.
    pub async fn signed_in(pool: &PgPool, email: &str, password: &str) -> Client {
        let mut client = Client::anonymous(pool);
        let reply = client.login(email, password).await;
        assert_eq!(reply.status, StatusCode::OK, "sign-in as {email}: {}", reply.body);
        client
    }

    /// Posts the login form; keeps the session cookie it sets.
    pub async fn login(&mut self, email: &str, password: &str) -> Reply {
        let body = form(&[("email", email), ("password", password), ("next", "/dashboard")]);
        let reply = self.post("/api/login", &body).await;
        if let Some(cookie) = reply.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()) {
            self.cookie = cookie.split(';').next().map(str::to_string);
        }
        reply
    }

    /// A same-origin form POST, as the app's own pages send it.
    pub async fn post(&self, path: &str, body: &str) -> Reply {
        self.post_with(path, body, &[("origin", &format!("http://{HOST}"))]).await
    }

    pub async fn post_with(&self, path: &str, body: &str, extra: &[(&str, &str)]) -> Reply {
        let mut request = Request::post(path).header(header::HOST, HOST).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        self.send(request, Body::from(body.to_string())).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[]).await
    }

    /// A GET with extra headers (e.g. a bearer token).
    pub async fn get_with(&self, path: &str, extra: &[(&str, &str)]) -> Reply {
        let mut request = Request::get(path).header(header::HOST, HOST).header(header::ACCEPT, "text/html");
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        self.send(request, Body::empty()).await
    }

    async fn send(&self, mut request: axum::http::request::Builder, body: Body) -> Reply {
        use tower::ServiceExt;
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = self.router.clone().oneshot(request.body(body).expect("request")).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 32 << 20).await.expect("body");
        Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, v);
    }
    out.finish()
}

/// Loaders refresh the KPI rollups in their transaction; fixtures that insert facts directly do it here.
pub async fn refresh_rollups(pool: &PgPool, org: Uuid) {
    let mut conn = pool.acquire().await.expect("connection");
    insightops::db::kpi::refresh_rollups(&mut conn, org).await.expect("refresh rollups");
}

/// The app's router with `toml` as its Leptos.toml (the pool is the test's database).
pub fn router_with(pool: PgPool, toml: &str) -> axum::Router {
    let env = [("DATABASE_URL", "postgres://unused@127.0.0.1:1/x")];
    let config = insightops::config::Config::from_toml_str(toml, "test", &env).expect("config");
    insightops::server::router(std::sync::Arc::new(config), app_pool(&pool))
}

impl Client {
    /// An anonymous client of `router` whose requests come from `ip`.
    pub fn of_router(router: axum::Router, ip: [u8; 4]) -> Client {
        let addr = std::net::SocketAddr::from((ip, 40000));
        Client { router: router.layer(MockConnectInfo(addr)), cookie: None }
    }
}

impl Client {
    /// A script's POST to the ingest API: no Origin, the token (if any) as a bearer, and whatever
    /// cookie the client holds (the API must ignore it).
    pub async fn post_api(&self, path: &str, token: Option<&str>, content_type: &str, body: &str) -> Reply {
        let mut request = Request::post(path).header(header::HOST, HOST).header(header::CONTENT_TYPE, content_type);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request, Body::from(body.to_string())).await
    }
}

/// The app's configuration from `toml` (a Leptos.toml), as the server would read it.
pub fn config(toml: &str) -> std::sync::Arc<insightops::config::Config> {
    let env = [("DATABASE_URL", "postgres://unused@127.0.0.1:1/x")];
    std::sync::Arc::new(insightops::config::Config::from_toml_str(toml, "test", &env).expect("config"))
}

pub fn context(pool: &PgPool, config: std::sync::Arc<insightops::config::Config>) -> insightops::jobs::handlers::JobContext {
    insightops::jobs::handlers::JobContext { pool: pool.clone(), config, exec_cache: Default::default() }
}

/// Runs workers until `done` holds or 30 s pass, then stops them.
pub async fn run_workers_until<F, Fut>(pool: &PgPool, config: std::sync::Arc<insightops::config::Config>, count: usize, done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tasks: Vec<_> = (0..count).map(|i| tokio::spawn(insightops::jobs::worker::Worker::new(context(pool, config.clone()), config.jobs.clone(), i).run(stopped.clone()))).collect();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "the workers did not get there in 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    for t in tasks {
        t.await.expect("worker");
    }
}

