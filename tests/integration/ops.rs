//! Operations: Prometheus metrics behind a token, health probes, start-up against a database with
//! pending migrations, and a stop under load that fails no request (the real binary, real SIGTERM).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use insightops::auth::Role;
use insightops::config::Config;
use sqlx::PgPool;

use crate::support::{self, Client};

const TOKEN: &str = "metrics-token-for-the-tests-0123456789";

fn config_with_token(toml: &str) -> Arc<Config> {
    let env = [("DATABASE_URL", "postgres://unused@127.0.0.1:1/x"), ("INSIGHTOPS_METRICS_TOKEN", TOKEN)];
    Arc::new(Config::from_toml_str(toml, "test", &env).expect("config"))
}

/// The value of the sample `line_start` (metric name and labels exactly) in a scrape.
fn sample(scrape: &str, line_start: &str) -> Option<f64> {
    scrape.lines().find_map(|line| line.strip_prefix(line_start)?.strip_prefix(' ')?.trim().parse().ok())
}

#[sqlx::test]
async fn metrics_count_requests_errors_and_the_job_queue_behind_a_token(pool: PgPool) {
    let org = support::insert_org(&pool, "metrics-org").await;
    let (_, email, _) = support::insert_user(&pool, org, Role::Manager).await;
    let router = insightops::server::router(config_with_token(""), pool.clone());
    let mut client = Client::of_router(router, [10, 0, 0, 9]);
    assert_eq!(client.get("/login").await.status, StatusCode::OK);
    assert_eq!(client.login(&email, "not-the-password").await.status, StatusCode::UNAUTHORIZED);
    let mut conn = pool.acquire().await.expect("connection");
    let noop = insightops::db::jobs::NewJob { delay_secs: -30.0, ..insightops::db::jobs::NewJob::new(insightops::domain::jobs::JobKind::Noop, None) };
    insightops::db::jobs::enqueue(&mut conn, &noop).await.expect("enqueue");

    assert_eq!(client.get("/metrics").await.status, StatusCode::UNAUTHORIZED, "no token");
    let wrong = client.get_with("/metrics", &[("authorization", "Bearer metrics-token-for-the-tests-0123456780")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "a token one character off");
    let reply = client.get_with("/metrics", &[("authorization", &format!("Bearer {TOKEN}"))]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.headers["content-type"].to_str().unwrap_or("").starts_with("text/plain; version=0.0.4"));
    let scrape = reply.body;
    // The process's counters are shared with tests running beside this one: at least ours are there.
    assert!(sample(&scrape, r#"insightops_http_requests_total{method="GET",route="/login",status="200"}"#).is_some_and(|n| n >= 1.0), "{scrape}");
    assert!(sample(&scrape, r#"insightops_http_requests_total{method="GET",route="/metrics",status="401"}"#).is_some_and(|n| n >= 2.0), "{scrape}");
    assert!(sample(&scrape, r#"insightops_http_requests_total{method="POST",route="/api/login",status="401"}"#).is_some_and(|n| n >= 1.0), "{scrape}");
    assert!(sample(&scrape, r#"insightops_server_fn_errors_total{kind="invalid_credentials"}"#).is_some_and(|n| n >= 1.0), "{scrape}");
    assert!(scrape.contains(r#"insightops_http_request_duration_seconds_bucket{method="GET",route="/login",status="200",le="1"}"#), "{scrape}");
    // Gauges read from this test's database at scrape time.
    assert_eq!(sample(&scrape, r#"insightops_jobs_queued{kind="noop"}"#), Some(1.0), "{scrape}");
    assert_eq!(sample(&scrape, r#"insightops_jobs_queued{kind="detect"}"#), Some(0.0), "{scrape}");
    assert!(sample(&scrape, r#"insightops_jobs_oldest_due_seconds{kind="noop"}"#).is_some_and(|s| (29.0..120.0).contains(&s)), "{scrape}");
    assert_eq!(sample(&scrape, r#"insightops_db_pool_connections{state="max"}"#), Some(f64::from(pool.options().get_max_connections())), "{scrape}");
    assert!(sample(&scrape, r#"insightops_db_pool_connections{state="in_use"}"#).is_some(), "{scrape}");
    assert!(scrape.contains("# HELP insightops_http_requests_total"), "metrics carry their descriptions");
    assert!(!scrape.contains(&email), "no user's email in metrics");
}

#[sqlx::test]
async fn metrics_are_not_served_on_the_app_address_without_a_configured_token(pool: PgPool) {
    let client = Client::anonymous(&pool);
    let reply = client.get_with("/metrics", &[("authorization", &format!("Bearer {TOKEN}"))]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let short = Config::from_toml_str("", "test", &[("INSIGHTOPS_METRICS_TOKEN", "short")]).unwrap_err().to_string();
    assert!(short.contains("16 characters"), "{short}");
}

#[sqlx::test]
async fn readiness_turns_503_while_draining_and_liveness_never_touches_the_database(pool: PgPool) {
    let state = insightops::server::app_state(support::config(""), pool.clone());
    let client = Client::of_router(insightops::server::router_for(state.clone()), [10, 0, 0, 8]);
    assert_eq!(client.get("/api/health/ready").await.status, StatusCode::OK);
    assert_eq!(client.get("/api/health").await.status, StatusCode::OK);
    state.lifecycle.start_draining();
    let ready = client.get("/api/health/ready").await;
    assert_eq!((ready.status, ready.json()["status"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("draining")));
    assert_eq!(client.get("/api/health").await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(client.get("/login").await.status, StatusCode::OK, "requests are still served while draining");
    pool.close().await;
    assert_eq!(client.get("/api/health/live").await.status, StatusCode::OK, "liveness answers with the database gone");
}

/// The URL of the test's own database (sqlx::test made it on the server of DATABASE_URL).
fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let name = pool.connect_options().get_database().expect("a named database").to_string();
    let server = base.rsplit_once('/').map_or(base.as_str(), |(server, _)| server);
    format!("{server}/{name}")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn binary(config: &str, name: &str) -> std::process::Command {
    let path = std::env::temp_dir().join(format!("insightops-ops-{name}-{}.toml", std::process::id()));
    std::fs::write(&path, config).expect("write config");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_insightops"));
    command.arg("--config").arg(path).env_remove("DATABASE_URL").env_remove("INSIGHTOPS_ADDR").env_remove("INSIGHTS_ENV").env_remove("RUST_LOG");
    command
}

#[sqlx::test(migrations = false)]
async fn serving_refuses_a_database_with_pending_migrations_until_migrated(pool: PgPool) {
    let url = database_url(&pool);
    let config = format!("environment = \"offline\"\n[server]\naddress = \"127.0.0.1:{}\"\n[database]\nurl = \"{url}\"\nmigrate_on_start = false\n", free_port());
    let output = binary(&config, "pending").args(["serve"]).output().expect("run insightops");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "served with pending migrations: {stderr}");
    assert!(stderr.contains("migration(s)") && stderr.contains("insightops migrate"), "{stderr}");
    let pending = insightops::db::pending_migrations(&pool).await.expect("asked");
    assert_eq!(pending.len(), insightops::db::MIGRATOR.iter().count(), "an empty database lacks them all");
    insightops::db::migrate(&pool).await.expect("migrate");
    assert_eq!(insightops::db::pending_migrations(&pool).await.expect("asked"), Vec::<i64>::new());
}

/// Keeps `workers` clients requesting pages until `stop`; returns (answered, failures).
fn load(base: &str, workers: usize, stop: Arc<AtomicBool>) -> Vec<tokio::task::JoinHandle<(u32, Vec<String>)>> {
    (0..workers)
        .map(|i| {
            let (base, stop) = (base.to_string(), stop.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
                let (mut answered, mut failures) = (0, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    let path = if i % 2 == 0 { "/login" } else { "/api/health/live" };
                    match client.get(format!("{base}{path}")).send().await {
                        Ok(reply) if reply.status().is_success() => answered += 1,
                        Ok(reply) => failures.push(format!("{path}: {}", reply.status())),
                        Err(err) => failures.push(format!("{path}: {err}")),
                    }
                }
                (answered, failures)
            })
        })
        .collect()
}

async fn status_of(client: &reqwest::Client, url: &str) -> Option<u16> {
    client.get(url).send().await.ok().map(|r| r.status().as_u16())
}

/// The real binary serving on `port` with `[ops]` settings `ops`, its stderr in the returned log,
/// once `/api/health/ready` answers 200.
async fn serve(pool: &PgPool, port: u16, ops: &str, name: &str) -> (std::process::Child, std::path::PathBuf) {
    let config = format!(
        "environment = \"offline\"\n[server]\naddress = \"127.0.0.1:{port}\"\n[database]\nurl = \"{}\"\nmigrate_on_start = false\n[ops]\n{ops}",
        database_url(pool)
    );
    let log = std::env::temp_dir().join(format!("insightops-ops-{name}-{port}.log"));
    let child = binary(&config, name).arg("serve").stderr(std::fs::File::create(&log).expect("log")).spawn().expect("start insightops");
    let probe = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().expect("client");
    let started = Instant::now();
    while status_of(&probe, &format!("http://127.0.0.1:{port}/api/health/ready")).await != Some(200) {
        assert!(started.elapsed() < Duration::from_secs(30), "not ready in 30 s: {}", std::fs::read_to_string(&log).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, log)
}

/// Waits for `child` to exit, at most `within`; returns its status and its log.
async fn exited(child: &mut std::process::Child, log: &std::path::Path, within: Duration) -> (std::process::ExitStatus, String) {
    let waiting = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(waiting.elapsed() < within, "did not exit within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    (status, std::fs::read_to_string(log).unwrap_or_default())
}

#[sqlx::test]
async fn sigterm_under_load_drains_then_finishes_in_flight_requests_and_exits_0(pool: PgPool) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (mut child, log) = serve(&pool, port, "drain_seconds = 2\ngrace_seconds = 10\nlog_format = \"json\"\n", "sigterm").await;
    let probe = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().expect("client");
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(&base, 4, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A request whose body is still arriving when the listener closes: the server has begun it.
    let mut in_flight = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let body = support::form(&[("email", "nobody@example.com"), ("password", "wrong"), ("next", "/dashboard")]);
    let head = format!(
        "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {base}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).and_then(|_| in_flight.write_all(&body.as_bytes()[..10])).expect("send the first part");

    let signalled = Instant::now();
    let kill = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(kill.success());
    while status_of(&probe, &format!("{base}/api/health/ready")).await != Some(503) {
        assert!(signalled.elapsed() < Duration::from_secs(1), "readiness did not turn 503 within 1 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A load balancer polling readiness stops sending soon after it turns; the drain (2 s) covers it.
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut answered, failures) = (0, Arc::new(Mutex::new(Vec::new())));
    for client in clients {
        let (n, failed) = client.await.expect("load task");
        answered += n;
        failures.lock().expect("lock").extend(failed);
    }
    assert!(answered > 50, "only {answered} requests answered under load");
    assert_eq!(*failures.lock().expect("lock"), Vec::<String>::new(), "requests failed during the stop");

    // After the drain the listener is closed, but the request begun before still gets its answer.
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(signalled.elapsed() < Duration::from_secs(5), "still accepting 5 s after SIGTERM (drain is 2 s)");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    in_flight.write_all(&body.as_bytes()[10..]).expect("send the rest");
    in_flight.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut reply = String::new();
    let _ = in_flight.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 401"), "the in-flight sign-in got: {reply:?}");

    let (status, logged) = exited(&mut child, &log, Duration::from_secs(15)).await;
    assert!(status.success(), "exit status {status}: {logged}");
    assert!(logged.contains("readiness answers 503") && logged.contains("stopped"), "{logged}");
    json_logs_carry_the_request_span(&logged);
}

/// Every line is a JSON object; the access lines name route and status inside the request span,
/// and no email (the in-flight sign-in's included) reaches the log.
fn json_logs_carry_the_request_span(logged: &str) {
    let lines: Vec<serde_json::Value> = logged.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))).collect();
    let login_page = lines.iter().find(|l| l["target"] == "access" && l["span"]["route"] == "/login").expect("an access line for /login");
    assert_eq!(login_page["fields"]["status"], 200, "{login_page}");
    assert_eq!((login_page["span"]["method"].as_str(), login_page["span"]["name"].as_str()), (Some("GET"), Some("request")), "{login_page}");
    assert!(login_page["fields"]["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{login_page}");
    assert!(!logged.contains("nobody@example.com"), "an email reached the log");
}

/// With `database.read_url` naming a replica that is down, the dashboard, board and overview fail
/// (they read there) while sign-in (the primary) works, and readiness names the replica.
#[sqlx::test]
async fn dashboard_board_and_overview_read_from_the_replica_and_nothing_else_does(pool: PgPool) {
    let org = support::insert_org(&pool, "replica-org").await;
    support::insert_metric(&pool, org, "orders", "count", "higher_is_better", "sum", 1).await;
    support::insert_kpi(&pool, org, "orders", support::day("2026-11-20"), "EMEA", 10.0).await;
    support::refresh_rollups(&pool, org).await;
    let (_, email, password) = support::insert_user(&pool, org, Role::Manager).await;
    let reads = [("/api/dashboard", "query=metric%3Dorders"), ("/api/exec_summary", "grain=month&period="), ("/api/exec_overview", "period_days=30")];

    let on_primary = support::router_with(pool.clone(), "");
    let mut client = Client::of_router(on_primary, [10, 0, 0, 7]);
    assert_eq!(client.login(&email, &password).await.status, StatusCode::OK);
    for (path, body) in reads {
        let reply = client.post(path, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{path} without a replica: {}", reply.body);
    }

    let replica_down = support::router_with(pool.clone(), "[database]\nread_url = \"postgres://postgres@127.0.0.1:1/replica\"\n");
    let mut client = Client::of_router(replica_down, [10, 0, 0, 7]);
    assert_eq!(client.login(&email, &password).await.status, StatusCode::OK, "sign-in reads and writes the primary");
    let ready = client.get("/api/health/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!((ready.json()["db"].as_str(), ready.json()["db_read"].as_str()), (Some("ok"), Some("error")), "{}", ready.body);
    let replies = futures::future::join_all(reads.iter().map(|(path, body)| client.post(path, body))).await;
    for ((path, _), reply) in reads.iter().zip(replies) {
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{path} must read from the replica: {}", reply.body);
    }
    assert_eq!(client.get("/api/health/live").await.status, StatusCode::OK);
}

/// A stub OpenTelemetry collector on loopback: keeps every OTLP/HTTP body posted to /v1/traces.
async fn stub_collector() -> (String, Arc<Mutex<Vec<axum::body::Bytes>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let keep = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let keep = keep.clone();
            async move {
                keep.lock().expect("lock").push(body);
                ([(axum::http::header::CONTENT_TYPE, "application/x-protobuf")], Vec::<u8>::new())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/v1/traces"), received)
}

/// One exported span, flattened: name, ids as hex, and its string/int attributes as text.
#[derive(Debug)]
struct ExportedSpan {
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    attributes: std::collections::BTreeMap<String, String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes the collector's bodies; also returns every resource's `service.name`.
fn exported_spans(bodies: &[axum::body::Bytes]) -> (Vec<ExportedSpan>, Vec<String>) {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use prost::Message;
    let text = |value: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>| match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    };
    let (mut spans, mut services) = (Vec::new(), Vec::new());
    for body in bodies {
        let request = ExportTraceServiceRequest::decode(body.as_ref()).expect("an OTLP protobuf body");
        for resource_spans in request.resource_spans {
            let resource = resource_spans.resource.unwrap_or_default();
            services.extend(resource.attributes.iter().filter(|a| a.key == "service.name").map(|a| text(&a.value)));
            for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
                spans.push(ExportedSpan {
                    name: span.name.clone(),
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    attributes: span.attributes.iter().map(|a| (a.key.clone(), text(&a.value))).collect(),
                });
            }
        }
    }
    (spans, services)
}

/// With `ops.otlp_endpoint` set, the real binary exports its spans to a collector: the request
/// span with method, route, status and org id (never the email), the caller's `traceparent`
/// continued, the dashboard's SQL and analytics as children, and the last batch flushed at SIGTERM.
#[sqlx::test]
async fn spans_are_exported_over_otlp_with_request_fields_and_children(pool: PgPool) {
    let org = support::insert_org(&pool, "otel-org").await;
    support::insert_metric(&pool, org, "orders", "count", "higher_is_better", "sum", 1).await;
    for offset in 0..60 {
        let date = support::day("2026-09-01") + chrono::Duration::days(offset);
        support::insert_kpi(&pool, org, "orders", date, "EMEA", 100.0 + (offset % 7) as f64).await;
    }
    support::refresh_rollups(&pool, org).await;
    let (_, email, password) = support::insert_user(&pool, org, Role::Manager).await;
    let (endpoint, received) = stub_collector().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let ops = format!("drain_seconds = 0\ngrace_seconds = 5\notlp_endpoint = \"{endpoint}\"\notlp_service_name = \"insightops-test\"\n");
    let (mut child, log) = serve(&pool, port, &ops, "otel").await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");

    let (caller_trace, caller_span) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let login_page = client.get(format!("{base}/login")).header("traceparent", format!("00-{caller_trace}-{caller_span}-01")).send().await.expect("GET /login");
    assert_eq!(login_page.status(), 200);
    let signed_in = client
        .post(format!("{base}/api/login"))
        .header("Origin", &base)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(support::form(&[("email", &email), ("password", &password), ("next", "/dashboard")]))
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 200);
    let cookie = signed_in.headers().get("set-cookie").and_then(|v| v.to_str().ok()).and_then(|c| c.split(';').next()).expect("a session cookie").to_string();
    let dashboard = client
        .post(format!("{base}/api/dashboard"))
        .header("Origin", &base)
        .header("Cookie", cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("query=metric%3Dorders")
        .send()
        .await
        .expect("dashboard");
    assert_eq!(dashboard.status(), 200, "{}", dashboard.text().await.unwrap_or_default());

    let kill = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(kill.success());
    let (status, logged) = exited(&mut child, &log, Duration::from_secs(20)).await;
    assert!(status.success(), "exit status {status}: {logged}");

    let bodies = received.lock().expect("lock").clone();
    let (spans, services) = exported_spans(&bodies);
    assert!(!spans.is_empty() && services.iter().all(|s| s == "insightops-test"), "{services:?} {logged}");
    let request = |route: &str| spans.iter().find(|s| s.name == "request" && s.attributes.get("route").map(String::as_str) == Some(route));
    let login = request("/login").unwrap_or_else(|| panic!("no request span for /login: {spans:#?}"));
    assert_eq!((login.trace_id.as_str(), login.parent_span_id.as_str()), (caller_trace, caller_span), "the caller's trace is continued");
    assert_eq!((login.attributes.get("method").map(String::as_str), login.attributes.get("status").map(String::as_str)), (Some("GET"), Some("200")));

    let request = request("/api/dashboard").unwrap_or_else(|| panic!("no request span for the dashboard: {spans:#?}"));
    assert_eq!(request.attributes.get("org_id"), Some(&org.to_string()), "{request:?}");
    let dashboard = spans.iter().find(|s| s.name == "dashboard" && s.parent_span_id == request.span_id).expect("the dashboard span is the request's child");
    let children: Vec<&ExportedSpan> = spans.iter().filter(|s| s.parent_span_id == dashboard.span_id).collect();
    assert!(children.iter().any(|s| s.name == "sql" && s.attributes.get("query").is_some_and(|q| q.starts_with("kpi::"))), "{children:#?}");
    assert!(children.iter().any(|s| s.name == "analytics" && s.attributes.get("work").map(String::as_str) == Some("anomaly_scan")), "{children:#?}");
    assert!(spans.iter().all(|s| s.attributes.values().all(|v| !v.contains(&email))), "an email reached an exported span");
}
