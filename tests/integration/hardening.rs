//! The security review's findings, each through the real router (or the service it calls) on real
//! PostgreSQL: what a role must not see, crash paths from a request, sign-in floods and lockouts,
//! caps, and the org's last admin.

use axum::http::{header, StatusCode};
use chrono::NaiveDate;
use insightops::auth::server::Scope;
use insightops::auth::{AccessPolicy, Role};
use insightops::db::recommendations::NewFinding;
use insightops::recommendations::{Category, Evidence, RecommendationFilter, Severity};
use insightops::seed::{run, SeedOptions};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{form, router_with, Client};

async fn seed(pool: &PgPool) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    run(pool, &SeedOptions { days: 120, scale: 1, end, only_if_empty: false }).await.expect("seed");
}

fn demo(role: &str) -> (String, String) {
    (format!("{role}@acme.example"), format!("{role}-acme-demo"))
}

async fn signed_in(pool: &PgPool, role: &str) -> Client {
    let (email, password) = demo(role);
    Client::signed_in(pool, &email, &password).await
}

fn dashboard_body(query: &str) -> String {
    form(&[("query", query)])
}

#[sqlx::test]
async fn the_comparison_metric_obeys_the_totals_only_rule(pool: PgPool) {
    seed(&pool).await;
    let board = signed_in(&pool, "board").await;
    for query in ["metric=revenue&vs=churn_rate", "metric=revenue&vs=churn_rate&drill=EMEA", "metric=revenue&vs=marketing_spend"] {
        let reply = board.post("/api/dashboard", &dashboard_body(query)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{query}: {}", reply.body);
        assert!(!reply.body.contains("\"versus\""), "no per-slice numbers of the other metric: {}", reply.body);
    }
    let reply = board.post("/api/dashboard", &dashboard_body("metric=revenue&vs=churn_rate")).await;
    assert!(reply.body.contains("Churn") && reply.body.contains("anonymised"), "{}", reply.body);
    let manager = signed_in(&pool, "manager").await;
    let reply = manager.post("/api/dashboard", &dashboard_body("metric=revenue&vs=churn_rate")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.json()["breakdown"].as_array().is_some_and(|rows| rows.iter().any(|r| r["versus"].is_number())));
}

/// A stored finding on `metric` for acme, tied to a real model run.
async fn store_finding(pool: &PgPool, org: Uuid, key: &str, f: NewFinding) -> Uuid {
    let model: Uuid = sqlx::query_scalar("SELECT id FROM io_analytical_model WHERE org_id = $1 LIMIT 1").bind(org).fetch_one(pool).await.expect("model");
    let run: Uuid = sqlx::query_scalar("INSERT INTO io_model_execution (org_id, model_id, status, triggered_by) VALUES ($1, $2, 'success', 'test') RETURNING id")
        .bind(org)
        .bind(model)
        .fetch_one(pool)
        .await
        .expect("run");
    let mut conn = pool.acquire().await.expect("connection");
    insightops::db::recommendations::insert(&mut conn, org, run, "test_model", &NewFinding { finding_key: key.into(), ..f }).await.expect("insert")
}

fn finding(metric: &str, dimensions: &[(&str, &str)], severity: Severity) -> NewFinding {
    let day = NaiveDate::from_ymd_opt(2026, 10, 20).expect("date");
    NewFinding {
        finding_key: String::new(),
        metric_key: metric.into(),
        title: format!("{metric} finding"),
        description: format!("Something happened to {metric}."),
        category: Category::Anomaly,
        severity,
        magnitude: 4.0,
        evidence: Evidence {
            metric_key: metric.into(),
            metric_label: metric.into(),
            unit: String::new(),
            dimensions: dimensions.iter().map(|(d, v)| (d.to_string(), v.to_string())).collect(),
            period_start: day,
            period_end: day,
            observed: Some(1.0),
            expected: Some(2.0),
            band: None,
            series: Vec::new(),
            chart_href: String::new(),
            level_shift: None,
        },
        also_references: Vec::new(),
        names_other_slices: false,
    }
}

async fn titles(pool: &PgPool, role: Role, filter: &RecommendationFilter) -> (Vec<String>, i64) {
    let scope = Scope::for_org(pool, "acme", role, &AccessPolicy::default()).await.expect("scope");
    let list = insightops::recommendations::service::list(pool, &scope, filter).await.expect("list");
    (list.items.into_iter().map(|i| i.title).collect(), list.open_count)
}

#[sqlx::test]
async fn findings_show_only_when_every_metric_they_name_is_visible(pool: PgPool) {
    seed(&pool).await;
    let acme = insightops::db::orgs::by_slug(&pool, "acme").await.expect("query").expect("org").id;
    sqlx::query("DELETE FROM io_recommendation").execute(&pool).await.expect("clear");
    let restricted_input = NewFinding { title: "revenue quoting spend".into(), also_references: vec!["marketing_spend".into()], ..finding("revenue", &[], Severity::Warning) };
    store_finding(&pool, acme, "a", restricted_input).await;
    let naming_slices = NewFinding { title: "churn total naming slices".into(), names_other_slices: true, ..finding("churn_rate", &[], Severity::Warning) };
    store_finding(&pool, acme, "b", naming_slices).await;
    store_finding(&pool, acme, "c", NewFinding { title: "churn total".into(), ..finding("churn_rate", &[], Severity::Warning) }).await;
    store_finding(&pool, acme, "d", NewFinding { title: "churn in EMEA".into(), ..finding("churn_rate", &[("region", "EMEA")], Severity::Warning) }).await;
    store_finding(&pool, acme, "e", NewFinding { title: "a metric nobody catalogued".into(), ..finding("ghost_metric", &[], Severity::Warning) }).await;
    store_finding(&pool, acme, "f", NewFinding { title: "plain revenue".into(), ..finding("revenue", &[], Severity::Warning) }).await;

    let all = RecommendationFilter { status: None, ..RecommendationFilter::default() };
    let (board, board_open) = titles(&pool, Role::Board, &all).await;
    assert_eq!(board.iter().map(String::as_str).collect::<std::collections::BTreeSet<_>>(), ["churn total", "plain revenue"].into_iter().collect());
    assert_eq!(board_open, 2, "the open count counts only what the board sees");
    let (manager, manager_open) = titles(&pool, Role::Manager, &all).await;
    assert_eq!(manager.len(), 5, "everything but the uncatalogued metric: {manager:?}");
    assert_eq!(manager_open, 5);

    // Through the router, the board's page agrees, metric filter included.
    let client = signed_in(&pool, "board").await;
    let reply = client.post("/api/recommendations", &form(&[("query", "status=all")])).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.body.contains("EMEA") && !reply.body.contains("marketing_spend") && !reply.body.contains("ghost"), "{}", reply.body);
    assert_eq!(reply.json()["open_count"], 2);
}

#[sqlx::test]
async fn the_review_queue_filters_before_its_limit(pool: PgPool) {
    seed(&pool).await;
    let acme = insightops::db::orgs::by_slug(&pool, "acme").await.expect("query").expect("org").id;
    sqlx::query("DELETE FROM io_recommendation").execute(&pool).await.expect("clear");
    // 250 critical items the board may not see sort ahead of 3 it may.
    for n in 0..250 {
        store_finding(&pool, acme, &format!("hidden-{n}"), finding("marketing_spend", &[], Severity::Critical)).await;
    }
    for n in 0..3 {
        store_finding(&pool, acme, &format!("shown-{n}"), NewFinding { title: format!("shown {n}"), ..finding("revenue", &[], Severity::Info) }).await;
    }
    let (mut board, open) = titles(&pool, Role::Board, &RecommendationFilter::default()).await;
    board.sort();
    assert_eq!(board, vec!["shown 0".to_string(), "shown 1".into(), "shown 2".into()], "a full page of hidden items ahead does not empty it");
    assert_eq!(open, 3);
}

#[sqlx::test]
async fn extreme_dates_are_a_clear_400_never_a_panic(pool: PgPool) {
    seed(&pool).await;
    let manager = signed_in(&pool, "manager").await;
    for query in ["from=-262143-01-01&to=2026-01-01", "from=2026-01-01&to=+262142-12-15", "range=custom&from=1899-12-31&to=1900-01-05", "from=9999-01-01&to=9999-01-02"] {
        let reply = manager.post("/api/dashboard", &dashboard_body(query)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {}", reply.body);
        assert!(reply.body.contains("YYYY-MM-DD") || reply.body.contains("1900 to 2200"), "{}", reply.body);
    }
    for period in ["+262142-12-15", "-262143-01-01", "2201-01-01"] {
        let reply = manager.post("/api/exec_summary", &form(&[("grain", "month"), ("period", period)])).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{period}: {}", reply.body);
        let page = manager.get(&format!("/exec?grain=month&period={}", period.replace('+', "%2B"))).await;
        assert_eq!(page.status, StatusCode::OK, "the page shows the error: {}", page.status);
    }
    // The years at the edge of the range are accepted and answered, not refused or crashed.
    let reply = manager.post("/api/dashboard", &dashboard_body("from=1900-01-01&to=1900-12-31")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[sqlx::test]
async fn hostile_query_strings_never_crash_a_service(pool: PgPool) {
    seed(&pool).await;
    let board = signed_in(&pool, "board").await;
    let values = ["", "-1", "+262142-12-15", "2026-02-30", "%0A", "\u{0}", "EMEA,EMEA,EMEA", "churn_rate", "marketing_spend", "9999999999999999999999", "2026-11-01"];
    let keys = ["metric", "vs", "range", "from", "to", "drill", "region", "grain", "period", "status", "severity", "id"];
    let mut statuses = std::collections::BTreeSet::new();
    for (i, key) in keys.iter().enumerate() {
        for (j, value) in values.iter().enumerate() {
            let other = keys[(i + j + 1) % keys.len()];
            let query = form(&[(key, value), (other, values[(i * 3 + j) % values.len()])]);
            for (path, body) in [
                ("/api/dashboard", form(&[("query", &query)])),
                ("/api/recommendations", form(&[("query", &query)])),
                ("/api/exec_summary", form(&[("grain", value), ("period", value)])),
                ("/api/admin_audit", form(&[("query", &query)])),
            ] {
                let reply = board.post(path, &body).await;
                assert!(reply.status.as_u16() < 500, "{path} {query}: {} {}", reply.status, reply.body);
                statuses.insert(reply.status.as_u16());
            }
        }
    }
    assert!(statuses.contains(&200) && statuses.contains(&400), "{statuses:?}");
}

#[sqlx::test]
async fn a_next_with_control_characters_sends_the_user_home(pool: PgPool) {
    seed(&pool).await;
    let (email, password) = demo("manager");
    for next in ["/\n", "/\t/evil.example", "/\r\nSet-Cookie: a=b", "/%0A"] {
        let client = Client::anonymous(&pool);
        let reply = client.post("/api/login", &form(&[("email", &email), ("password", &password), ("next", next)])).await;
        assert!(reply.status.is_success() || reply.status.is_redirection(), "{next:?}: {} {}", reply.status, reply.body);
        let location = reply.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).expect("a redirect");
        let expected = if next == "/%0A" { "/%0A" } else { "/" };
        assert_eq!(location, expected, "{next:?}");
    }
}

#[sqlx::test]
async fn parallel_attempts_all_count_and_a_throttled_window_is_audited_once(pool: PgPool) {
    seed(&pool).await;
    let router = router_with(pool.clone(), "[auth]\nmax_concurrent_password_checks = 32");
    let (email, _) = demo("admin");
    let attacker = Client::of_router(router.clone(), [203, 0, 113, 9]);
    let body = form(&[("email", &email), ("password", "wrong-wrong-wrong"), ("next", "/")]);
    let replies = futures_join(12, || attacker.post("/api/login", &body)).await;
    let count = |s: StatusCode| replies.iter().filter(|r| r.status == s).count();
    assert_eq!(count(StatusCode::UNAUTHORIZED), 5, "only five attempts reach the password check: {:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(count(StatusCode::TOO_MANY_REQUESTS), 7);
    for _ in 0..3 {
        assert_eq!(attacker.post("/api/login", &body).await.status, StatusCode::TOO_MANY_REQUESTS);
    }
    let throttled: i64 = sqlx::query_scalar("SELECT count(*) FROM io_audit_event WHERE action = 'login_throttled'").fetch_one(&pool).await.expect("count");
    assert_eq!(throttled, 1, "one audit row per throttled window");
    let attempts: i64 = sqlx::query_scalar("SELECT count(*) FROM io_login_attempt").fetch_one(&pool).await.expect("count");
    assert_eq!(attempts, 5);
}

/// Runs `n` requests at once.
async fn futures_join<F, Fut>(n: usize, mut make: F) -> Vec<crate::support::Reply>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::support::Reply>,
{
    let futures: Vec<_> = (0..n).map(|_| make()).collect();
    let mut out = Vec::new();
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    // Poll all together: a hand-rolled join_all, to keep the test crate free of extra deps.
    std::future::poll_fn(|cx| {
        let mut pending = false;
        let mut i = 0;
        while i < pinned.len() {
            match pinned[i].as_mut().poll(cx) {
                std::task::Poll::Ready(reply) => {
                    out.push(reply);
                    drop(pinned.remove(i));
                }
                std::task::Poll::Pending => {
                    pending = true;
                    i += 1;
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out
}

#[sqlx::test]
async fn password_checks_beyond_the_bound_get_503_and_oversized_input_400(pool: PgPool) {
    seed(&pool).await;
    let router = router_with(pool.clone(), "[auth]\nmax_concurrent_password_checks = 1\npassword_check_wait_ms = 0");
    let (email, _) = demo("manager");
    let clients: Vec<Client> = (1..=6).map(|n| Client::of_router(router.clone(), [198, 51, 100, n])).collect();
    let body = form(&[("email", &email), ("password", "wrong-wrong-wrong"), ("next", "/")]);
    let mut next = clients.iter();
    let replies = futures_join(6, || next.next().expect("a client").post("/api/login", &body)).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.contains(&503) && statuses.contains(&401), "{statuses:?}");
    let busy = replies.iter().find(|r| r.status == StatusCode::SERVICE_UNAVAILABLE).expect("a 503");
    assert!(busy.headers.contains_key(header::RETRY_AFTER));

    let long_email = format!("{}@acme.example", "a".repeat(300));
    let reply = clients[0].post("/api/login", &form(&[("email", &long_email), ("password", "x"), ("next", "/")])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = clients[0].post("/api/login", &form(&[("email", &email), ("password", &"p".repeat(1025)), ("next", "/")])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("1024"), "{}", reply.body);
}

#[sqlx::test]
async fn behind_a_trusted_proxy_an_attacker_locks_out_only_themselves(pool: PgPool) {
    seed(&pool).await;
    let router = router_with(pool.clone(), "[auth]\ntrusted_proxies = [\"10.0.0.1\"]");
    let proxy = Client::of_router(router.clone(), [10, 0, 0, 1]);
    let (email, password) = demo("admin");
    let via = |client_ip: &str, password: &str| {
        let body = form(&[("email", &email), ("password", password), ("next", "/")]);
        let proxy = proxy.clone();
        let forwarded = client_ip.to_string();
        async move { proxy.post_with("/api/login", &body, &[("origin", "http://insightops.test"), ("x-forwarded-for", &forwarded)]).await }
    };
    for _ in 0..5 {
        assert_eq!(via("203.0.113.9", "not-the-password").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(via("203.0.113.9", &password).await.status, StatusCode::TOO_MANY_REQUESTS, "the attacker's address waits");
    assert_eq!(via("198.51.100.7", &password).await.status, StatusCode::OK, "the user elsewhere signs in");
    let ips: Vec<String> = sqlx::query_scalar("SELECT DISTINCT ip FROM io_audit_event WHERE action LIKE 'login%' ORDER BY 1").fetch_all(&pool).await.expect("ips");
    assert_eq!(ips, vec!["198.51.100.7".to_string(), "203.0.113.9".to_string()], "addresses come from the trusted proxy's header");

    // A client that is not the proxy cannot choose its address with the header.
    let direct = Client::of_router(router, [192, 0, 2, 50]);
    let body = form(&[("email", &email), ("password", "nope-nope-nope"), ("next", "/")]);
    direct.post_with("/api/login", &body, &[("origin", "http://insightops.test"), ("x-forwarded-for", "198.51.100.7")]).await;
    let last_ip: String = sqlx::query_scalar("SELECT ip FROM io_audit_event WHERE action = 'login_failed' ORDER BY at DESC LIMIT 1").fetch_one(&pool).await.expect("ip");
    assert_eq!(last_ip, "192.0.2.50");
}

#[sqlx::test]
async fn bulk_decisions_take_at_most_500_items(pool: PgPool) {
    seed(&pool).await;
    let admin = signed_in(&pool, "admin").await;
    let items: Vec<String> = (0..501).map(|n| format!("{}:1", Uuid::from_u128(n))).collect();
    let reply = admin.post("/api/recommendations_decide", &form(&[("items", &items.join(",")), ("decision", "accept"), ("note", "")])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("at most 500"), "{}", reply.body);
}

#[sqlx::test]
async fn an_org_always_keeps_an_admin(pool: PgPool) {
    seed(&pool).await;
    let acme = insightops::db::orgs::by_slug(&pool, "acme").await.expect("query").expect("org").id;
    // The only admin cannot be demoted, from the CLI either.
    let err = insightops::cli::user::set_role(&pool, "admin@acme.example", Role::Manager).await.expect_err("last admin");
    assert!(err.to_string().contains("last admin"), "{err}");

    // Two admins demoting each other at once: one wins, the org keeps an admin.
    let (second, _, _) = crate::support::insert_user(&pool, acme, Role::Admin).await;
    let first: Uuid = sqlx::query_scalar("SELECT id FROM io_user WHERE email = 'admin@acme.example'").fetch_one(&pool).await.expect("admin");
    for _ in 0..5 {
        let actor = |name: &'static str| insightops::admin::service::Actor { user_id: None, name, ip: None };
        let (a, b) = (actor("a"), actor("b"));
        let (one, two) = tokio::join!(
            insightops::admin::service::set_role(&pool, acme, first, Role::Manager, &a),
            insightops::admin::service::set_role(&pool, acme, second, Role::Manager, &b),
        );
        assert!(one.is_ok() != two.is_ok(), "exactly one demotion applies: {one:?} {two:?}");
        let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM io_user WHERE org_id = $1 AND role = 'admin'").bind(acme).fetch_one(&pool).await.expect("count");
        assert_eq!(admins, 1);
        sqlx::query("UPDATE io_user SET role = 'admin' WHERE id = ANY($1)").bind(vec![first, second]).execute(&pool).await.expect("reset");
    }
}

/// A server function whose arguments do not decode is the caller's mistake: 400 naming the field,
/// not 500 (found by the cluster check posting the sign-in form without `next`).
#[sqlx::test]
async fn a_server_function_call_missing_an_argument_is_a_400_that_names_it(pool: PgPool) {
    let client = Client::anonymous(&pool);
    let reply = client.post("/api/login", "email=someone%40example.com&password=x").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("missing field `next`"), "{}", reply.body);
    let reply = client.post("/api/exec_overview", "period_days=many").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
}
