//! The ingest API (issue 13): JSON and CSV loads with API tokens; insert, update and unchanged
//! counts; rollups that follow an updated value; all-or-nothing and partial loads with per-row
//! errors; limits; tokens scoped to their org, revocable, and the only way in.

use axum::http::StatusCode;
use insightops::auth::Role;
use insightops::domain::ingest::TokenScope;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{day, form, insert_metric, insert_org, insert_user, router_with, Client};

/// An org with two KPIs and a signal, its admin, and a live token with `scopes`.
async fn org_with_token(pool: &PgPool, slug: &str, scopes: &[TokenScope]) -> (Uuid, String) {
    let org = insert_org(pool, slug).await;
    insert_metric(pool, org, "revenue", "USD", "higher_is_better", "sum", 1).await;
    insert_metric(pool, org, "conversion_rate", "%", "higher_is_better", "avg", 2).await;
    sqlx::query("INSERT INTO io_metric (org_id, key, kind, label, unit, direction, aggregation) VALUES ($1, 'sessions', 'signal', 'Sessions', 'count', 'higher_is_better', 'sum')")
        .bind(org)
        .execute(pool)
        .await
        .expect("signal");
    let (admin, _, _) = insert_user(pool, org, Role::Admin).await;
    let token = format!("iot_test_{slug}_{}", scopes.len());
    let mut conn = pool.acquire().await.expect("connection");
    let hash = insightops::ingest::rest::token_hash(&token);
    let new = insightops::db::tokens::NewToken { org_id: org, name: slug, hash: &hash, prefix: "iot_test", scopes, created_by: admin };
    insightops::db::tokens::create(&mut conn, &new).await.expect("token");
    (org, token)
}

fn client(pool: &PgPool) -> Client {
    Client::of_router(router_with(pool.clone(), "[ingest]\nmax_rows = 50\nmax_body_bytes = 4096"), [10, 0, 0, 9])
}

async fn total(pool: &PgPool, org: Uuid, metric: &str, on: &str) -> Option<f64> {
    sqlx::query_scalar("SELECT value_sum FROM io_kpi_total_daily WHERE org_id = $1 AND metric_key = $2 AND kpi_date = $3")
        .bind(org)
        .bind(metric)
        .bind(day(on))
        .fetch_optional(pool)
        .await
        .expect("total")
}

async fn data_version(pool: &PgPool, org: Uuid) -> i64 {
    sqlx::query_scalar("SELECT data_version FROM io_org WHERE id = $1").bind(org).fetch_one(pool).await.expect("version")
}

fn counts(reply: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| reply[k].as_u64().unwrap_or(u64::MAX);
    (n("inserted"), n("updated"), n("unchanged"), n("rejected"))
}

#[sqlx::test]
async fn a_load_inserts_a_resend_changes_nothing_and_a_new_value_moves_the_rollups(pool: PgPool) {
    let (org, token) = org_with_token(&pool, "acme", &[TokenScope::Ingest]).await;
    let api = client(&pool);
    let rows = json!([
        { "date": "2026-11-20", "metric": "revenue", "value": 100.5, "region": "EMEA" },
        { "date": "2026-11-20", "metric": "revenue", "value": 200, "region": "AMER", "unit": "USD" },
        { "date": "2026-11-21", "metric": "conversion_rate", "value": 3.5 }
    ])
    .to_string();
    let reply = api.post_api("/api/v1/kpis", Some(&token), "application/json", &rows).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(counts(&reply.json()), (3, 0, 0, 0));
    assert_eq!(total(&pool, org, "revenue", "2026-11-20").await, Some(300.5));
    let version = data_version(&pool, org).await;
    let detect: i64 = sqlx::query_scalar("SELECT count(*) FROM io_job WHERE kind = 'detect' AND org_id = $1 AND status = 'queued'").bind(org).fetch_one(&pool).await.expect("jobs");
    assert_eq!(detect, 1, "the load queued detection");

    // The same rows again: nothing written, the data version stays.
    let reply = api.post_api("/api/v1/kpis", Some(&token), "application/json", &rows).await;
    assert_eq!(counts(&reply.json()), (0, 0, 3, 0), "{}", reply.body);
    assert_eq!(data_version(&pool, org).await, version);

    // One value changed, sent as CSV with a new day: the rollup of that day follows.
    let csv = "date,metric,value,region\n2026-11-20,revenue,150.5,EMEA\n2026-11-20,revenue,200,AMER\n2026-11-22,revenue,10,EMEA\n";
    let reply = api.post_api("/api/v1/kpis.csv", Some(&token), "text/csv", csv).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(counts(&reply.json()), (1, 1, 1, 0));
    assert_eq!(total(&pool, org, "revenue", "2026-11-20").await, Some(350.5));
    assert_eq!(total(&pool, org, "revenue", "2026-11-22").await, Some(10.0));
    assert!(data_version(&pool, org).await > version, "every instance's board cache sees the change");
    let emea: f64 = sqlx::query_scalar("SELECT value_sum FROM io_kpi_member_daily WHERE org_id = $1 AND metric_key = 'revenue' AND kpi_date = '2026-11-20' AND dimension = 'region' AND member = 'EMEA'")
        .bind(org)
        .fetch_one(&pool)
        .await
        .expect("member rollup");
    assert_eq!(emea, 150.5);
    let loads: i64 = sqlx::query_scalar("SELECT count(*) FROM io_ingest_load WHERE org_id = $1").bind(org).fetch_one(&pool).await.expect("loads");
    assert_eq!(loads, 3);

    // Signals go to their own table and endpoint.
    let reply = api.post_api("/api/v1/signals", Some(&token), "application/json", r#"[{"date": "2026-11-20", "metric": "sessions", "value": 5000, "channel": "web"}]"#).await;
    assert_eq!(counts(&reply.json()), (1, 0, 0, 0), "{}", reply.body);
    let reply = api.post_api("/api/v1/signals", Some(&token), "application/json", r#"[{"date": "2026-11-20", "metric": "revenue", "value": 1}]"#).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.json()["errors"][0]["error"].as_str().unwrap_or_default().contains("/api/v1/kpis"), "{}", reply.body);
}

#[sqlx::test]
async fn one_bad_row_refuses_the_load_with_every_error_unless_partial(pool: PgPool) {
    let (org, token) = org_with_token(&pool, "acme", &[TokenScope::Ingest]).await;
    let api = client(&pool);
    let rows = json!([
        { "date": "2026-11-20", "metric": "revenue", "value": 1 },
        { "date": "2026-13-01", "metric": "revenue", "value": 1 },
        { "date": "2026-11-21", "metric": "revenue", "value": "lots" },
        { "date": "2026-11-22", "metric": "refunds", "value": 1 },
        { "date": "2026-11-20", "metric": "revenue", "value": 2 }
    ])
    .to_string();
    let reply = api.post_api("/api/v1/kpis", Some(&token), "application/json", &rows).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["written"], false);
    let errors: Vec<(u64, String)> = body["errors"].as_array().expect("errors").iter().map(|e| (e["row"].as_u64().unwrap_or(0), e["field"].as_str().unwrap_or("").to_string())).collect();
    assert_eq!(errors, vec![(2, "date".into()), (3, "value".into()), (4, "metric".into()), (5, "row".into())]);
    assert_eq!(body["errors"][0]["error"], "not a date: 2026-13-01 (is not a date; use YYYY-MM-DD)");
    let facts: i64 = sqlx::query_scalar("SELECT count(*) FROM io_kpi_daily WHERE org_id = $1").bind(org).fetch_one(&pool).await.expect("facts");
    assert_eq!(facts, 0, "nothing written");

    let reply = api.post_api("/api/v1/kpis?mode=partial", Some(&token), "application/json", &rows).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(counts(&reply.json()), (1, 0, 0, 4));

    // A new metric is created (internal) only when asked, with its rules.
    let new = r#"[{"date": "2026-11-20", "metric": "refunds", "value": 7, "direction": "lower_is_better", "aggregation": "sum", "unit": "USD"}]"#;
    let reply = api.post_api("/api/v1/kpis?create_metrics=true", Some(&token), "application/json", new).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["created_metrics"], json!(["refunds"]));
    let visibility: String = sqlx::query_scalar("SELECT visibility FROM io_metric WHERE org_id = $1 AND key = 'refunds'").bind(org).fetch_one(&pool).await.expect("metric");
    assert_eq!(visibility, "INTERNAL");

    // Values that are not finite and unknown parameters are refused by name.
    let reply = api.post_api("/api/v1/kpis.csv", Some(&token), "text/csv", "date,metric,value\n2026-11-20,revenue,inf\n").await;
    assert!(reply.json()["errors"][0]["error"].as_str().unwrap_or_default().contains("finite"), "{}", reply.body);
    let reply = api.post_api("/api/v1/kpis?org=globex", Some(&token), "application/json", "[]").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = api.post_api("/api/v1/kpis", Some(&token), "application/json", r#"{"rows": []}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.json()["error"].as_str().unwrap_or_default().contains("JSON array"));
}

#[sqlx::test]
async fn limits_answer_413_with_the_limit(pool: PgPool) {
    let (_, token) = org_with_token(&pool, "acme", &[TokenScope::Ingest]).await;
    let api = client(&pool);
    let many: String = std::iter::once("date,metric,value".to_string()).chain((0..51).map(|i| format!("2026-10-{:02},revenue,{i}", i % 28 + 1))).collect::<Vec<_>>().join("\n");
    let reply = api.post_api("/api/v1/kpis.csv", Some(&token), "text/csv", &many).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", reply.body);
    assert_eq!(reply.json()["limit_rows"], 50);
    let big = format!("[{}]", vec![r#"{"date": "2026-11-20", "metric": "revenue", "value": 1, "source": "padding-padding"}"#; 60].join(","));
    let reply = api.post_api("/api/v1/kpis", Some(&token), "application/json", &big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", reply.body);
    assert_eq!(reply.json()["limit_bytes"], 4096);
}

#[sqlx::test]
async fn a_token_writes_only_to_its_org_and_nothing_else_gets_in(pool: PgPool) {
    let (acme, acme_token) = org_with_token(&pool, "acme", &[TokenScope::Ingest]).await;
    let (globex, read_only) = org_with_token(&pool, "globex", &[TokenScope::Read]).await;
    let api = client(&pool);
    let row = r#"[{"date": "2026-11-20", "metric": "revenue", "value": 42}]"#;
    let reply = api.post_api("/api/v1/kpis", Some(&acme_token), "application/json", row).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(total(&pool, acme, "revenue", "2026-11-20").await, Some(42.0));
    assert_eq!(total(&pool, globex, "revenue", "2026-11-20").await, None, "the other org is untouched");

    // No token, a wrong token, a token without the ingest scope.
    assert_eq!(api.post_api("/api/v1/kpis", None, "application/json", row).await.status, StatusCode::UNAUTHORIZED);
    let reply = api.post_api("/api/v1/kpis", Some("iot_not_a_token"), "application/json", row).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers.get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
    assert_eq!(api.post_api("/api/v1/kpis", Some(&read_only), "application/json", row).await.status, StatusCode::FORBIDDEN);

    // A signed-in admin's session cookie is not a credential here.
    let (_, email, password) = insert_user(&pool, acme, Role::Manager).await;
    let browser = Client::signed_in(&pool, &email, &password).await;
    assert_eq!(browser.post_api("/api/v1/kpis", None, "application/json", row).await.status, StatusCode::UNAUTHORIZED);

    // Revoked through the admin page's server function: refused from then on.
    let admin_email = "admin@acme.test";
    let admin = Client::signed_in(&pool, admin_email, "admin-password-acme").await;
    let id: Uuid = sqlx::query_scalar("SELECT id FROM io_api_token WHERE org_id = $1").bind(acme).fetch_one(&pool).await.expect("token id");
    let reply = admin.post("/api/admin_token_revoke", &form(&[("token_id", &id.to_string())])).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(api.post_api("/api/v1/kpis", Some(&acme_token), "application/json", row).await.status, StatusCode::UNAUTHORIZED);

    // A token made on the page works at once; the response held it, the database holds its hash only.
    let reply = admin.post("/api/admin_token_create", &form(&[("name", "nightly"), ("scopes[]", "ingest")])).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = reply.json()["token"].as_str().expect("token").to_string();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM io_api_token WHERE token_hash = $1 AND prefix = left($2, 10)").bind(insightops::ingest::rest::token_hash(&token)).bind(&token).fetch_one(&pool).await.expect("hash");
    assert_eq!(stored, 1);
    let plain: i64 = sqlx::query_scalar("SELECT count(*) FROM io_api_token WHERE token_hash = $1 OR name = $1").bind(&token).fetch_one(&pool).await.expect("plain");
    assert_eq!(plain, 0, "the token itself is stored nowhere");
    let reply = api.post_api("/api/v1/kpis", Some(&token), "application/json", r#"[{"date": "2026-11-21", "metric": "revenue", "value": 1}]"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let audited: Vec<String> = sqlx::query_scalar("SELECT action FROM io_audit_event WHERE org_id = $1 AND action LIKE 'token_%' ORDER BY at").bind(acme).fetch_all(&pool).await.expect("audit");
    assert_eq!(audited, vec!["token_revoked", "token_created"]);
}

#[sqlx::test]
async fn the_upload_endpoint_takes_a_csv_from_a_signed_in_manager_and_the_api_is_documented(pool: PgPool) {
    let (org, _) = org_with_token(&pool, "acme", &[TokenScope::Ingest]).await;
    let (_, manager, manager_password) = insert_user(&pool, org, Role::Manager).await;
    let (_, board, board_password) = insert_user(&pool, org, Role::Board).await;
    let csv = "date,metric,value,region\n2026-11-20,revenue,5,EMEA\n2026-11-20,revenue,oops,AMER\n";
    let upload = |client: Client, query: &'static str| async move {
        client.post_with(&format!("/api/upload/kpis?{query}"), csv, &[("origin", &format!("http://{}", crate::support::HOST)), ("content-type", "text/csv")]).await
    };
    let browser = Client::signed_in(&pool, &manager, &manager_password).await;

    // A dry run reports and writes nothing; the first rows come back as read.
    let reply = upload(browser.clone(), "dry_run=true").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    assert_eq!((body["rows"].as_u64(), body["rejected"].as_u64(), body["written"].as_bool()), (Some(2), Some(1), Some(false)));
    assert_eq!(body["errors"][0]["line"], 3);
    assert_eq!(body["preview"][0]["region"], "EMEA");
    assert_eq!(total(&pool, org, "revenue", "2026-11-20").await, None);

    let reply = upload(browser.clone(), "mode=partial").await;
    assert_eq!(counts(&reply.json()), (1, 0, 0, 1), "{}", reply.body);
    let actor: String = sqlx::query_scalar("SELECT actor FROM io_ingest_load WHERE org_id = $1 AND channel = 'upload' ORDER BY loaded_at DESC LIMIT 1").bind(org).fetch_one(&pool).await.expect("load");
    assert_eq!(actor, manager);

    // Board members and visitors cannot; another site cannot make a browser do it.
    let board_client = Client::signed_in(&pool, &board, &board_password).await;
    assert_eq!(upload(board_client, "").await.status, StatusCode::FORBIDDEN);
    assert_eq!(upload(Client::anonymous(&pool), "").await.status, StatusCode::UNAUTHORIZED);
    let cross = browser.post_with("/api/upload/kpis", csv, &[("origin", "https://evil.example"), ("content-type", "text/csv")]).await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);

    let doc = Client::anonymous(&pool).get("/api/v1/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json();
    assert!(doc["paths"]["/api/v1/kpis.csv"]["post"].is_object(), "{doc}");
    assert_eq!(doc["components"]["schemas"]["RowError"]["required"], json!(["row", "field", "error"]));
}

/// Loads into one org run one after another: two at once on the same day (each rebuilding that
/// day's rollups, both creating the same new metric) both succeed and the totals hold both.
#[sqlx::test]
async fn two_loads_at_once_into_one_org_both_land(pool: PgPool) {
    let (org, token) = org_with_token(&pool, "acme", &[TokenScope::Ingest]).await;
    let rows = |source: &str| json!([
        { "date": "2026-11-20", "metric": "revenue", "value": 10, "source": source },
        { "date": "2026-11-20", "metric": "refunds", "value": 1, "source": source, "direction": "lower_is_better", "aggregation": "sum" }
    ]).to_string();
    for round in 0..5 {
        let (a, b) = (rows(&format!("a{round}")), rows(&format!("b{round}")));
        let (x, y) = (client(&pool), client(&pool));
        let (first, second) = tokio::join!(
            x.post_api("/api/v1/kpis?create_metrics=true", Some(&token), "application/json", &a),
            y.post_api("/api/v1/kpis?create_metrics=true", Some(&token), "application/json", &b)
        );
        assert_eq!((first.status, second.status), (StatusCode::OK, StatusCode::OK), "{} / {}", first.body, second.body);
    }
    assert_eq!(total(&pool, org, "revenue", "2026-11-20").await, Some(100.0));
    assert_eq!(total(&pool, org, "refunds", "2026-11-20").await, Some(10.0));
}

/// Two app instances on one database: the board summary one of them cached shows a load made
/// through the other at once, even when the load only changes a past day of the period (the last
/// day of data stays the same; the org's data version moves).
#[sqlx::test]
async fn a_load_through_one_instance_refreshes_the_board_cache_of_another(pool: PgPool) {
    use insightops::seed::{run, SeedOptions};
    run(&pool, &SeedOptions { days: 120, scale: 1, end: day("2026-11-01"), only_if_empty: false }).await.expect("seed");
    let acme = insightops::db::orgs::by_slug(&pool, "acme").await.expect("query").expect("org").id;
    let admin: Uuid = sqlx::query_scalar("SELECT id FROM io_user WHERE email = 'admin@acme.example'").fetch_one(&pool).await.expect("admin");
    let token = "iot_two_instances";
    let hash = insightops::ingest::rest::token_hash(token);
    let mut conn = pool.acquire().await.expect("connection");
    let new = insightops::db::tokens::NewToken { org_id: acme, name: "loader", hash: &hash, prefix: "iot_two", scopes: &[TokenScope::Ingest], created_by: admin };
    insightops::db::tokens::create(&mut conn, &new).await.expect("token");

    // Instance A serves the board member; instance B takes the load. Each has its own cache.
    let mut board = Client::of_router(crate::support::router(pool.clone()), [10, 0, 0, 1]);
    let reply = board.login("board@acme.example", "board-acme-demo").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let revenue = |reply: &crate::support::Reply| {
        let json = reply.json();
        let card = json["cards"].as_array().and_then(|cards| cards.iter().find(|c| c["metric_key"] == "revenue").cloned()).expect("revenue card");
        (card["vs_previous"]["current"].as_f64().expect("current"), json["period_start"].as_str().unwrap_or_default().to_string())
    };
    let first = board.post("/api/exec_summary", "grain=month&period=").await;
    let (before, period_start) = revenue(&first);
    assert_eq!(revenue(&board.post("/api/exec_summary", "grain=month&period=").await).0, before, "served again, from the cache");

    let loader = client(&pool);
    let row = json!([{ "date": period_start, "metric": "revenue", "value": 1000000, "region": "EMEA", "source": "late-invoices" }]).to_string();
    let reply = loader.post_api("/api/v1/kpis", Some(token), "application/json", &row).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let (after, _) = revenue(&board.post("/api/exec_summary", "grain=month&period=").await);
    assert!((after - before - 1_000_000.0).abs() < 1e-6, "{before} -> {after}");
}
