//! Sign-in, roles and org isolation through the real router: the role matrix over every server
//! function and page, CSRF, login throttling, session voiding, visibility levels and the audit log.

use std::collections::BTreeSet;

use axum::http::{header, StatusCode};
use chrono::NaiveDate;
use insightops::auth::Role;
use insightops::seed::{run, SeedOptions};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{form, Client};

async fn seed(pool: &PgPool) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    run(pool, &SeedOptions { days: 120, scale: 1, end, only_if_empty: false }).await.expect("seed");
}

/// The demo accounts `insightops seed` creates (see the README).
fn demo(role: &str, org: &str) -> (String, String) {
    (format!("{role}@{org}.example"), format!("{role}-{org}-demo"))
}

async fn client(pool: &PgPool, who: Who) -> Client {
    let (role, org) = match who {
        Who::Anonymous => return Client::anonymous(pool),
        Who::Board => ("board", "acme"),
        Who::Manager => ("manager", "acme"),
        Who::Admin => ("admin", "acme"),
        Who::OtherOrgAdmin => ("admin", "globex"),
    };
    let (email, password) = demo(role, org);
    Client::signed_in(pool, &email, &password).await
}

#[derive(Debug, Clone, Copy)]
enum Who {
    Anonymous,
    Board,
    Manager,
    Admin,
    OtherOrgAdmin,
}

const EVERYONE: [Who; 5] = [Who::Anonymous, Who::Board, Who::Manager, Who::Admin, Who::OtherOrgAdmin];

async fn user_id(pool: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM io_user WHERE email = $1").bind(email).fetch_one(pool).await.expect("user")
}

#[sqlx::test]
async fn every_server_function_answers_each_role_with_the_exact_status(pool: PgPool) {
    seed(&pool).await;
    let acme_manager = user_id(&pool, "manager@acme.example").await;
    let acme = insightops::db::orgs::by_slug(&pool, "acme").await.expect("query").expect("org").id;
    let model: Uuid = sqlx::query_scalar("SELECT id FROM io_analytical_model WHERE org_id = $1 AND name = 'robust_anomaly_detector'")
        .bind(acme)
        .fetch_one(&pool)
        .await
        .expect("built-in model");
    insightops::models::service::execute(&pool, acme, model, "test", &insightops::analytics::AnalyticsConfig::default()).await.expect("run");
    let (item, version): (Uuid, i32) = sqlx::query_as("SELECT id, version FROM io_recommendation WHERE org_id = $1 LIMIT 1").bind(acme).fetch_one(&pool).await.expect("a recommendation");
    let decide_body = form(&[("items", &format!("{item}:{version}")), ("decision", "accept"), ("note", "")]);
    let job: Uuid = sqlx::query_scalar("INSERT INTO io_job (kind, org_id, status, attempts, finished_at, last_error) VALUES ('detect', $1, 'failed', 5, now(), 'boom') RETURNING id")
        .bind(acme)
        .fetch_one(&pool)
        .await
        .expect("a failed job");
    let token_id = {
        let mut conn = pool.acquire().await.expect("connection");
        let admin = user_id(&pool, "admin@acme.example").await;
        let token = insightops::db::tokens::NewToken { org_id: acme, name: "matrix", hash: &"a".repeat(64), prefix: "iot_aaaaaa", scopes: &[insightops::domain::ingest::TokenScope::Ingest], created_by: admin };
        insightops::db::tokens::create(&mut conn, &token).await.expect("token")
    };
    let collection_id = {
        let mut conn = pool.acquire().await.expect("connection");
        let admin = user_id(&pool, "admin@acme.example").await;
        let weeks = insightops::domain::collections::backfill_weeks(NaiveDate::from_ymd_opt(2026, 1, 5).expect("date"), 2);
        let new = insightops::db::collections::NewCollection {
            org_id: acme,
            name: "matrix",
            collection_type: insightops::domain::collections::CollectionType::Backfill,
            target: insightops::domain::ingest::IngestTarget::Kpi,
            source_kind: insightops::domain::collections::SourceKind::HttpJson,
            source: "http://127.0.0.1:9/rows?from={week_start}",
            weeks: &weeks,
            start_date: weeks[0].0,
            created_by: admin,
        };
        insightops::db::collections::create(&mut conn, &new).await.expect("collection").expect("new name").to_string()
    };
    let create_collection_body = form(&[
        ("name", "nightly"),
        ("collection_type", "backfill"),
        ("target", "kpi"),
        ("source_kind", "http_json"),
        ("source", "http://127.0.0.1:9/rows?from={week_start}"),
        ("start_date", "2026-01-05"),
        ("weeks", "2"),
    ]);
    // Two report templates of the admin: one the matrix edits and generates, one it deletes.
    let template_body = |name: &str, id: &str| form(&[("template_id", id), ("name", name), ("view", "metric=revenue&range=30d"), ("grain", "day"), ("format", "csv"), ("schedule", "weekly"), ("status", "active")]);
    let (matrix_template, doomed_template) = {
        let admin = user_id(&pool, "admin@acme.example").await;
        let mut ids = Vec::new();
        for name in ["matrix", "doomed"] {
            let form = insightops::domain::reports::TemplateForm {
                name: name.into(),
                description: String::new(),
                query: "metric=revenue".into(),
                grain: insightops::domain::reports::ExportGrain::Day,
                format: insightops::domain::reports::ReportFormat::Csv,
                schedule: insightops::domain::reports::ReportSchedule::Weekly,
                status: insightops::domain::reports::TemplateStatus::Active,
            };
            let mut conn = pool.acquire().await.expect("connection");
            ids.push(insightops::db::reports::create_template(&mut conn, acme, (admin, "admin@acme.example"), &form, None).await.expect("template").expect("new").to_string());
        }
        (ids[0].clone(), ids[1].clone())
    };
    // Two dashboards of the admin: one the matrix reads, saves, shares and publishes, one it deletes.
    let (matrix_dashboard, doomed_dashboard, dashboard_spec) = {
        let admin = user_id(&pool, "admin@acme.example").await;
        let spec = insightops::saved_dashboards::service::parse_spec(
            r#"{"name": "matrix", "description": "", "default_query": "range=30d", "refresh": "off", "is_template": false, "template_type": null,
                "widgets": [{"id": null, "widget_type": "metric_card", "chart_type": null, "title": "Revenue", "query": "metric=revenue", "pinned": false, "body": "", "x": 0, "y": 0, "w": 4, "h": 2}]}"#,
        )
        .expect("spec");
        let mut ids = Vec::new();
        for _ in 0..2 {
            let mut conn = pool.acquire().await.expect("connection");
            ids.push(insightops::db::dashboards::insert(&mut conn, acme, admin, &spec).await.expect("dashboard").to_string());
        }
        (ids[0].clone(), ids[1].clone(), serde_json::to_string(&spec).expect("json"))
    };
    let dashboard_body = |extra: &[(&str, &str)]| form(&[&[("dashboard_id", matrix_dashboard.as_str())][..], extra].concat());
    let job_body = |extra: &[(&str, &str)]| form(&[&[("job_id", job.to_string().as_str())][..], extra].concat());
    let model_body = |extra: (&str, &str)| form(&[("model_id", &model.to_string()), extra]);
    let config = r#"{ "lookback_days": 30, "min_severity": "critical", "dimensions": [], "metrics": [] }"#;
    let set_role_body = form(&[("user_id", &acme_manager.to_string()), ("role", "manager")]);
    let (board_email, board_password) = demo("board", "acme");
    let login_body = form(&[("email", &board_email), ("password", &board_password), ("next", "/exec")]);
    // Columns: anonymous, board, manager, admin, admin of the other org.
    let matrix: Vec<(&str, String, [u16; 5])> = vec![
        ("/api/current_user", String::new(), [200, 200, 200, 200, 200]),
        ("/api/login", login_body, [200, 200, 200, 200, 200]),
        ("/api/logout", String::new(), [200, 200, 200, 200, 200]),
        ("/api/exec_overview", "period_days=30".into(), [401, 200, 200, 200, 200]),
        ("/api/exec_summary", "grain=month&period=".into(), [401, 200, 200, 200, 200]),
        ("/api/narrative", "audience=board&grain=month&period=&current=false".into(), [401, 200, 200, 200, 200]),
        ("/api/narrative", "audience=manager&grain=month&period=&current=true".into(), [401, 200, 200, 200, 200]),
        ("/api/narrative", "audience=everyone&grain=month&period=&current=false".into(), [401, 400, 400, 400, 400]),
        ("/api/ask", form(&[("question", "What was revenue last week?")]), [401, 200, 200, 200, 200]),
        ("/api/ask_history", String::new(), [401, 200, 200, 200, 200]),
        // Nobody may mark another's answer: an unknown id is not found for every role.
        ("/api/ask_feedback", form(&[("insight_id", &Uuid::nil().to_string()), ("useful", "true")]), [401, 404, 404, 404, 404]),
        ("/api/dashboard", "query=metric%3Drevenue%26drill%3DEMEA".into(), [401, 200, 200, 200, 200]),
        ("/api/admin_users", String::new(), [401, 403, 403, 200, 200]),
        ("/api/admin_audit", "query=".into(), [401, 403, 403, 200, 200]),
        // The other org's admin cannot reach an acme user: it does not exist for them.
        ("/api/admin_set_role", set_role_body, [401, 403, 403, 200, 404]),
        ("/api/recommendations", "query=status%3Dall".into(), [401, 200, 200, 200, 200]),
        ("/api/recommendations_decide", decide_body, [401, 403, 403, 200, 404]),
        ("/api/models", String::new(), [401, 403, 403, 200, 200]),
        ("/api/models_register", model_body(("config", config)), [401, 403, 403, 200, 404]),
        ("/api/models_status", model_body(("action", "activate")), [401, 403, 403, 200, 404]),
        ("/api/models_run", model_body(("x", "")), [401, 403, 403, 200, 404]),
        ("/api/admin_jobs", "query=".into(), [401, 403, 403, 200, 200]),
        ("/api/admin_job", job_body(&[]), [401, 403, 403, 200, 404]),
        ("/api/admin_job_change", job_body(&[("action", "cancel")]), [401, 403, 403, 200, 404]),
        ("/api/admin_tokens", String::new(), [401, 403, 403, 200, 200]),
        ("/api/data_loads", String::new(), [401, 403, 200, 200, 200]),
        ("/api/admin_token_create", form(&[("name", "nightly"), ("scopes[]", "ingest")]), [401, 403, 403, 200, 200]),
        ("/api/admin_token_revoke", form(&[("token_id", &token_id.to_string())]), [401, 403, 403, 200, 404]),
        ("/api/collections", String::new(), [401, 403, 403, 200, 200]),
        ("/api/collection", form(&[("collection_id", &collection_id)]), [401, 403, 403, 200, 404]),
        ("/api/collection_create", create_collection_body, [401, 403, 403, 200, 200]),
        ("/api/collection_change", form(&[("collection_id", &collection_id), ("action", "pause")]), [401, 403, 403, 200, 404]),
        ("/api/reports", "query=".into(), [401, 200, 200, 200, 200]),
        // Managers change only their own templates: the admin's is not found for them.
        ("/api/report_template_save", template_body("matrix renamed", &matrix_template), [401, 403, 404, 200, 404]),
        ("/api/report_generate", form(&[("template_id", &matrix_template)]), [401, 403, 404, 200, 404]),
        ("/api/report_template_delete", form(&[("template_id", &doomed_template)]), [401, 403, 404, 200, 404]),
        ("/api/saved_dashboards", String::new(), [401, 200, 200, 200, 200]),
        ("/api/saved_dashboard_create", form(&[("template", "board-monthly")]), [401, 403, 200, 200, 200]),
        // Not shared with the board member or the manager: it does not exist for them.
        ("/api/saved_dashboard", dashboard_body(&[]), [401, 404, 404, 200, 404]),
        ("/api/saved_dashboard_view", dashboard_body(&[("filters", "")]), [401, 404, 404, 200, 404]),
        ("/api/saved_dashboard_save", dashboard_body(&[("version", "1"), ("spec", &dashboard_spec)]), [401, 403, 404, 200, 404]),
        ("/api/saved_dashboard_public", dashboard_body(&[("public", "true")]), [401, 403, 404, 200, 404]),
        ("/api/saved_dashboard_share", dashboard_body(&[("email", "board@acme.example"), ("permission", "view")]), [401, 403, 404, 200, 404]),
        ("/api/saved_dashboard_delete", form(&[("dashboard_id", &doomed_dashboard)]), [401, 403, 404, 200, 404]),
        // The token is the credential: an unknown one is not found for everyone, signed in or not.
        ("/api/public_dashboard_view", form(&[("token", &"0".repeat(64))]), [404, 404, 404, 404, 404]),
    ];

    // Forgetting to add a new server function to the matrix fails here.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.to_string()).collect();
    let covered: BTreeSet<String> = matrix.iter().map(|(path, _, _)| path.to_string()).collect();
    assert_eq!(registered, covered, "every registered server function must be in the role matrix");

    for (path, body, expected) in &matrix {
        for (who, status) in EVERYONE.iter().zip(expected) {
            let reply = client(&pool, *who).await.post(path, body).await;
            assert_eq!(reply.status.as_u16(), *status, "{path} as {who:?}: {}", reply.body);
        }
    }
    // Every admin mutation that went through is in the audit log, once.
    for action in ["role_changed", "recommendation_accepted", "model_registered", "model_activated", "model_executed", "job_cancelled", "token_revoked", "collection_paused", "report_template_updated", "report_requested", "report_template_deleted", "dashboard_published", "dashboard_shared", "dashboard_deleted"] {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM io_audit_event WHERE action = $1").bind(action).fetch_one(&pool).await.expect("count");
        assert_eq!(n, 1, "{action}");
    }
}

/// Awaits `work`, failing the test with `what` if it takes over a minute (a hang names itself).
async fn within<T>(what: String, work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(60), work).await.unwrap_or_else(|_| panic!("{what} did not answer within 60 s"))
}

#[sqlx::test]
async fn pages_redirect_anonymous_visitors_and_refuse_roles_without_access(pool: PgPool) {
    seed(&pool).await;
    // Columns: board, manager, admin, admin of the other org.
    let pages: [(&str, [u16; 4]); 14] = [
        ("/", [200, 200, 200, 200]),
        ("/exec", [200, 200, 200, 200]),
        ("/ask?q=revenue%20last%20week", [200, 200, 200, 200]),
        ("/dashboard?metric=revenue", [200, 200, 200, 200]),
        ("/dashboard?metric=marketing_spend", [403, 200, 200, 200]),
        ("/admin/users", [403, 403, 200, 200]),
        ("/admin/audit", [403, 403, 200, 200]),
        ("/recommendations", [200, 200, 200, 200]),
        ("/admin/models", [403, 403, 200, 200]),
        ("/admin/jobs", [403, 403, 200, 200]),
        ("/admin/tokens", [403, 403, 200, 200]),
        ("/data", [403, 200, 200, 200]),
        ("/data/collections", [403, 403, 200, 200]),
        ("/reports", [200, 200, 200, 200]),
    ];
    let anonymous = Client::anonymous(&pool);
    for (page, expected) in pages {
        let reply = within(format!("{page} anonymously"), anonymous.get(page)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{page}");
        let location = reply.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let next: String = form_urlencoded::byte_serialize(page.as_bytes()).collect();
        assert_eq!(location, format!("/login?next={next}"));
        for (who, status) in [Who::Board, Who::Manager, Who::Admin, Who::OtherOrgAdmin].iter().zip(expected) {
            let signed_in = within(format!("sign-in as {who:?}"), client(&pool, *who)).await;
            let reply = within(format!("{page} as {who:?}"), signed_in.get(page)).await;
            assert_eq!(reply.status.as_u16(), status, "{page} as {who:?}");
        }
    }
    assert_eq!(anonymous.get("/login").await.status, StatusCode::OK);
}

#[sqlx::test]
async fn cross_origin_posts_are_refused_and_change_nothing(pool: PgPool) {
    seed(&pool).await;
    let admin = client(&pool, Who::Admin).await;
    let manager = user_id(&pool, "manager@acme.example").await;
    let body = form(&[("user_id", &manager.to_string()), ("role", "board")]);
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("referer", "https://evil.example/page")],
        vec![("origin", "http://insightops.test"), ("sec-fetch-site", "cross-site")],
        vec![],
    ] {
        let reply = admin.post_with("/api/admin_set_role", &body, &headers).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(reply.body.contains("CrossOriginRefused"), "{}", reply.body);
    }
    let role: String = sqlx::query_scalar("SELECT role FROM io_user WHERE id = $1").bind(manager).fetch_one(&pool).await.expect("role");
    assert_eq!(role, "manager", "no refused request changed anything");
    let reply = admin.post_with("/api/admin_set_role", &body, &[("referer", "http://insightops.test/admin/users")]).await;
    assert_eq!(reply.status, StatusCode::OK, "a same-origin Referer is enough: {}", reply.body);
}

#[sqlx::test]
async fn five_failures_lock_the_account_out_from_that_address_only(pool: PgPool) {
    seed(&pool).await;
    let (email, password) = demo("admin", "acme");
    let mut attacker = Client::from_ip(&pool, [203, 0, 113, 9]);
    for attempt in 1..=5 {
        let reply = attacker.login(&email, "not-the-password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert!(reply.body.contains("InvalidCredentials"));
    }
    // The right password does not help the sixth attempt from this address: it waits a minute.
    let reply = Client::from_ip(&pool, [203, 0, 113, 9]).login(&email, &password).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.body);
    let retry: u64 = reply.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse().ok()).expect("Retry-After seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // The user signing in from elsewhere is not locked out by someone else's failures.
    assert_eq!(Client::from_ip(&pool, [198, 51, 100, 7]).login(&email, &password).await.status, StatusCode::OK);
    let (manager, manager_password) = demo("manager", "acme");
    assert_eq!(Client::from_ip(&pool, [198, 51, 100, 7]).login(&manager, &manager_password).await.status, StatusCode::OK);

    // Thirty failures from one address over many accounts (password spraying) lock that address out.
    let mut sprayer = Client::from_ip(&pool, [192, 0, 2, 1]);
    for n in 0..30 {
        assert_eq!(sprayer.login(&format!("nobody{n}@acme.example"), "guess-guess-guess").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(sprayer.login(&manager, &manager_password).await.status, StatusCode::TOO_MANY_REQUESTS);

    let counts: Vec<(String, i64)> = sqlx::query_as("SELECT action, count(*) FROM io_audit_event WHERE action LIKE 'login%' GROUP BY action ORDER BY action")
        .fetch_all(&pool)
        .await
        .expect("audit");
    assert_eq!(counts, vec![("login".into(), 2), ("login_failed".into(), 35), ("login_throttled".into(), 2)]);
}

#[sqlx::test]
async fn sign_in_rotates_the_session_and_sign_out_or_a_reset_ends_it(pool: PgPool) {
    seed(&pool).await;
    let (email, password) = demo("board", "acme");
    // Signing in gives a new session id, and the id held before it is worthless afterwards.
    let mut visitor = client(&pool, Who::Manager).await;
    let before = visitor.clone();
    visitor.login(&email, &password).await;
    assert!(visitor.cookie.is_some());
    assert_ne!(visitor.cookie, before.cookie);
    assert_eq!(before.post("/api/exec_overview", "period_days=7").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(visitor.post("/api/current_user", "").await.json()["role"], "board");
    let reply = visitor.post("/api/login", &form(&[("email", &email), ("password", &password), ("next", "/")])).await;
    let set_cookie = reply.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax") && set_cookie.contains("Max-Age="), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain http in dev");

    let user = client(&pool, Who::Manager).await;
    assert_eq!(user.post("/api/exec_overview", "period_days=7").await.status, StatusCode::OK);
    assert_eq!(user.post("/api/logout", "").await.status, StatusCode::OK);
    assert_eq!(user.post("/api/exec_overview", "period_days=7").await.status, StatusCode::UNAUTHORIZED, "the old cookie is dead");

    let board = client(&pool, Who::Board).await;
    insightops::cli::user::reset_password(&pool, &email, Some("a-brand-new-password".into())).await.expect("reset");
    assert_eq!(board.post("/api/exec_overview", "period_days=7").await.status, StatusCode::UNAUTHORIZED, "a reset signs the user out");
    Client::signed_in(&pool, &email, "a-brand-new-password").await;
}

#[sqlx::test]
async fn role_changes_apply_at_once_and_are_audited(pool: PgPool) {
    seed(&pool).await;
    let admin = client(&pool, Who::Admin).await;
    let board = client(&pool, Who::Board).await;
    assert_eq!(board.post("/api/admin_users", "").await.status, StatusCode::FORBIDDEN);
    let board_id = user_id(&pool, "board@acme.example").await;
    let reply = admin.post("/api/admin_set_role", &form(&[("user_id", &board_id.to_string()), ("role", "admin")])).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["role"], "admin");
    assert_eq!(board.post("/api/admin_users", "").await.status, StatusCode::OK, "the same session, the new role");

    // An admin cannot change their own role (so an org never loses its acting admin), nor give an unknown role.
    let own = user_id(&pool, "admin@acme.example").await;
    let reply = admin.post("/api/admin_set_role", &form(&[("user_id", &own.to_string()), ("role", "board")])).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let reply = admin.post("/api/admin_set_role", &form(&[("user_id", &board_id.to_string()), ("role", "owner")])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let reply = admin.post("/api/admin_audit", &form(&[("query", "action=role_changed")])).await;
    let entries = reply.json()["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{}", reply.body);
    assert_eq!(entries[0]["actor"], "admin@acme.example");
    assert_eq!(entries[0]["target"], "board@acme.example");
    assert!(entries[0]["detail"].as_str().unwrap_or_default().contains(r#""from":"board""#));
    let reply = admin.post("/api/admin_audit", &form(&[("query", "action=login&actor=board@")])).await;
    assert_eq!(reply.json()["entries"].as_array().map(Vec::len), Some(1), "the board member's sign-in");
}

#[sqlx::test]
async fn an_org_never_receives_a_row_of_another_org(pool: PgPool) {
    seed(&pool).await;
    let reads = [
        ("/api/current_user", ""),
        ("/api/exec_overview", "period_days=90"),
        ("/api/exec_summary", "grain=quarter&period="),
        ("/api/dashboard", "query=metric%3Drevenue%26range%3D90d"),
        ("/api/dashboard", "query=metric%3Dorders%26drill%3DEMEA%2CSMB%2Cweb%2Ccore"),
        ("/api/admin_users", ""),
        ("/api/admin_audit", "query="),
        ("/api/recommendations", "query=status%3Dall"),
        ("/api/models", ""),
    ];
    for (mine, theirs, their_name) in [("acme", "globex", "Globex"), ("globex", "acme", "Acme")] {
        let (email, password) = demo("admin", mine);
        let me = Client::signed_in(&pool, &email, &password).await;
        let mut totals = Vec::new();
        for (path, body) in reads {
            let reply = me.post(path, body).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            assert!(!reply.body.contains(theirs) && !reply.body.contains(their_name), "{mine} got {theirs}'s data from {path}");
            if path == "/api/dashboard" {
                totals.push(reply.json()["total"]["current"].as_f64().expect("total"));
            }
        }
        // The numbers are each org's own: compare with SQL over that org's rows only.
        let revenue: f64 = sqlx::query_scalar(
            "SELECT sum(value)::float8 FROM io_kpi_daily k JOIN io_org o ON o.id = k.org_id
             WHERE o.slug = $1 AND metric_key = 'revenue' AND kpi_date > DATE '2026-11-01' - 90",
        )
        .bind(mine)
        .fetch_one(&pool)
        .await
        .expect("sum");
        assert!((totals[0] - revenue).abs() < 1e-6 * revenue, "{mine}: {} vs {revenue}", totals[0]);
    }
}

#[sqlx::test]
async fn visibility_levels_shape_what_each_role_sees(pool: PgPool) {
    seed(&pool).await;
    let board = client(&pool, Who::Board).await;
    let manager = client(&pool, Who::Manager).await;
    let keys = |json: serde_json::Value| -> Vec<String> {
        json["cards"].as_array().into_iter().flatten().filter_map(|c| c["metric_key"].as_str().map(str::to_string)).collect()
    };
    let board_cards = keys(board.post("/api/exec_summary", "grain=month&period=").await.json());
    let manager_cards = keys(manager.post("/api/exec_summary", "grain=month&period=").await.json());
    assert!(!board_cards.contains(&"marketing_spend".to_string()), "RESTRICTED: hidden from the board");
    assert!(manager_cards.contains(&"marketing_spend".to_string()));
    assert!(board_cards.contains(&"churn_rate".to_string()), "ANONYMISED: totals for the board");
    assert_eq!(manager_cards.len(), board_cards.len() + 1);

    // Anonymised for the board: totals, no breakdown, and no filter or drill that singles out a slice.
    let reply = board.post("/api/dashboard", "query=metric%3Dchurn_rate").await;
    assert_eq!(reply.status, StatusCode::OK);
    let json = reply.json();
    assert_eq!(json["anonymised"], true);
    assert_eq!(json["breakdown"].as_array().map(Vec::len), Some(0));
    let reply = board.post("/api/dashboard", "query=metric%3Dchurn_rate%26drill%3DAPAC").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("anonymised"), "{}", reply.body);
    let reply = manager.post("/api/dashboard", "query=metric%3Dchurn_rate%26drill%3DAPAC").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["anonymised"], false);
    // Restricted: named in the refusal, absent from the board's metric picker.
    let reply = board.post("/api/dashboard", "query=metric%3Dmarketing_spend").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("restricted"), "{}", reply.body);
    let picker = board.post("/api/dashboard", "query=").await.json();
    assert!(!picker["metrics"].to_string().contains("marketing_spend"));
}

#[sqlx::test]
async fn operators_manage_accounts_from_the_cli_with_an_audit_trail(pool: PgPool) {
    use insightops::cli::user;
    seed(&pool).await;
    let added = user::add(&pool, "acme", "new.person@acme.example", Some("New Person"), Role::Manager, None).await.expect("add");
    let generated = added.generated_password.expect("a generated password");
    assert!(generated.len() >= 20);
    Client::signed_in(&pool, "new.person@acme.example", &generated).await;
    assert!(user::add(&pool, "acme", "NEW.PERSON@acme.example", None, Role::Board, None).await.is_err(), "emails are unique, any case");
    assert!(user::add(&pool, "nowhere", "x@y.example", None, Role::Board, None).await.is_err());
    assert!(user::add(&pool, "acme", "short@acme.example", None, Role::Board, Some("short".into())).await.is_err());
    let changed = user::set_role(&pool, "new.person@acme.example", Role::Board).await.expect("set role");
    assert!(changed.message.contains("manager -> board"), "{}", changed.message);
    let actions: Vec<(String, String)> = sqlx::query_as("SELECT actor, action FROM io_audit_event WHERE target = 'new.person@acme.example' AND actor = 'cli' ORDER BY at")
        .fetch_all(&pool)
        .await
        .expect("audit");
    assert_eq!(actions, vec![("cli".into(), "user_created".into()), ("cli".into(), "role_changed".into())]);
}

/// Building a router (another test's, or a second app in the process) while a page renders
/// must not stall the page: leptos walks the app for its route list with resource loading
/// switched off for the whole process, and a resource created meanwhile never loaded, so the
/// page waited forever (the full suite hung on `/exec` and `/reports` so, one run in several).
#[sqlx::test]
async fn pages_answer_while_other_routers_are_built(pool: PgPool) {
    seed(&pool).await;
    let signed_in = client(&pool, Who::Manager).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let builder = std::thread::spawn({
        let (pool, stop) = (pool.clone(), stop.clone());
        move || {
            // A router's pool needs a runtime to open connections on.
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let _inside = runtime.enter();
            let mut built = 0_u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                drop(crate::support::router(pool.clone()));
                built += 1;
            }
            built
        }
    });
    for round in 0..10 {
        for page in ["/", "/exec", "/reports", "/dashboard?metric=revenue"] {
            let reply = tokio::time::timeout(std::time::Duration::from_secs(15), signed_in.get(page)).await;
            if reply.is_err() {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            let reply = reply.unwrap_or_else(|_| panic!("round {round}: {page} did not answer within 15 s while routers were built"));
            assert_eq!(reply.status, StatusCode::OK, "{page}");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let built = builder.join().expect("the router builder");
    assert!(built > 0, "routers were built while the pages rendered");
}
