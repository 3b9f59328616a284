//! Saved dashboards through the real router: create from a template, share for viewing and
//! editing, the stale save (409), widget query validation, the public link (PUBLIC metrics only,
//! dead once revoked), org isolation and the audit trail.

use axum::http::StatusCode;
use chrono::NaiveDate;
use insightops::auth::Role;
use insightops::seed::{run, SeedOptions};
use sqlx::PgPool;

use crate::support::{form, insert_user, Client};

async fn seed(pool: &PgPool) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    run(pool, &SeedOptions { days: 120, scale: 1, end, only_if_empty: false }).await.expect("seed");
}

async fn demo(pool: &PgPool, role: &str, org: &str) -> Client {
    Client::signed_in(pool, &format!("{role}@{org}.example"), &format!("{role}-{org}-demo")).await
}

/// The widget contents' kinds in order: `Data`, `Withheld`, `Text` or `Failed`.
fn kinds(view: &serde_json::Value) -> Vec<String> {
    view["widgets"].as_array().expect("widgets").iter().map(|w| w["content"].as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default()).collect()
}

#[sqlx::test]
async fn a_dashboard_is_built_shared_saved_once_and_published_read_only(pool: PgPool) {
    seed(&pool).await;
    let acme: uuid::Uuid = sqlx::query_scalar("SELECT id FROM io_org WHERE slug = 'acme'").fetch_one(&pool).await.expect("org");
    let manager = demo(&pool, "manager", "acme").await;
    let board = demo(&pool, "board", "acme").await;
    let (_, editor_email, editor_password) = insert_user(&pool, acme, Role::Manager).await;
    let editor = Client::signed_in(&pool, &editor_email, &editor_password).await;

    // New from a built-in template: the owner's, version 1, six widgets on the grid.
    let created = manager.post("/api/saved_dashboard_create", &form(&[("template", "sales-weekly")])).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let dashboard = created.json();
    let id = dashboard["id"].as_str().expect("id").to_string();
    assert_eq!((dashboard["version"].as_i64(), dashboard["access"].as_str()), (Some(1), Some("Owner")));
    assert_eq!(dashboard["spec"]["widgets"].as_array().map(Vec::len), Some(6));
    assert_eq!(board.post("/api/saved_dashboard_create", &form(&[("template", "sales-weekly")])).await.status, StatusCode::FORBIDDEN);

    // Nobody else sees it until it is shared.
    let view_body = form(&[("dashboard_id", &id), ("filters", "range=30d&region=EMEA")]);
    assert_eq!(board.post("/api/saved_dashboard_view", &view_body).await.status, StatusCode::NOT_FOUND);
    assert_eq!(demo(&pool, "admin", "globex").await.post("/api/saved_dashboard_view", &view_body).await.status, StatusCode::NOT_FOUND, "another org's admin");
    let listed = board.post("/api/saved_dashboards", "").await.json();
    assert!(listed["dashboards"].as_array().expect("list").is_empty());
    assert_eq!(listed["builtin_templates"].as_array().map(Vec::len), Some(3));

    // Shared for viewing with the board member: every widget answered with the page's filters.
    let share = |email: &str, permission: &str| form(&[("dashboard_id", &id), ("email", email), ("permission", permission)]);
    assert_eq!(board.post("/api/saved_dashboard_share", &share("board@acme.example", "view")).await.status, StatusCode::FORBIDDEN);
    let shared = manager.post("/api/saved_dashboard_share", &share("board@acme.example", "view")).await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.body);
    let seen = board.post("/api/saved_dashboard_view", &view_body).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    let seen = seen.json();
    assert_eq!(kinds(&seen), vec!["Data"; 6]);
    assert_eq!(seen["dashboard"]["access"], "View");
    assert!(seen["dashboard"]["shares"].as_array().expect("shares").is_empty(), "a viewer does not see who else has it");
    let first = &seen["widgets"][0];
    assert_eq!(first["effective_query"], "metric=revenue&range=30d&region=EMEA", "the dashboard's filters apply");
    assert_eq!(first["content"]["Data"]["query"]["filter"]["region"], serde_json::json!(["EMEA"]));
    // The card, line and pie of revenue ask one question and get one answer; orders another.
    let answer = |i: usize| seen["widgets"][i]["content"]["Data"].clone();
    assert_eq!((answer(0)["query"]["metric"].as_str(), answer(3)["query"]["metric"].as_str()), (Some("revenue"), Some("revenue")));
    assert!(answer(0) == answer(3) && answer(0) == answer(4), "the same query, the same answer");
    assert!(answer(1) == answer(5) && answer(0) != answer(1), "orders' card and table share theirs, not revenue's");
    let spec = seen["dashboard"]["spec"].to_string();
    let save = |who: &Client, version: i64, spec: String| {
        let body = form(&[("dashboard_id", &id), ("version", &version.to_string()), ("spec", &spec)]);
        let who = who.clone();
        async move { who.post("/api/saved_dashboard_save", &body).await }
    };
    assert_eq!(save(&board, 1, spec.clone()).await.status, StatusCode::FORBIDDEN, "board members never edit");

    // An editor saves; the owner's save from the version they opened is refused, not merged.
    assert_eq!(save(&editor, 1, spec.clone()).await.status, StatusCode::NOT_FOUND, "not shared yet");
    assert_eq!(manager.post("/api/saved_dashboard_share", &share(&editor_email, "view")).await.status, StatusCode::OK);
    assert_eq!(save(&editor, 1, spec.clone()).await.status, StatusCode::FORBIDDEN, "view only");
    assert_eq!(manager.post("/api/saved_dashboard_share", &share(&editor_email, "edit")).await.status, StatusCode::OK);
    let renamed = spec.replace("Sales weekly", "Sales weekly (EMEA)");
    let saved = save(&editor, 1, renamed).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["version"].as_i64(), Some(2));
    let stale = save(&manager, 1, spec.clone()).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("saved by someone else"), "{}", stale.body);
    let name: String = sqlx::query_scalar("SELECT name FROM io_dashboard").fetch_one(&pool).await.expect("name");
    assert_eq!(name, "Sales weekly (EMEA)", "the stale save changed nothing");

    // Widget queries go through the dashboard URL's parser and the catalogue; the field is named.
    for (bad_query, expected) in [("metric=nope", "widget 1 (\"Revenue\") `query`: unknown metric \"nope\""), ("metric=revenue&range=week", "widget 1 (\"Revenue\") `query`: `range` = \"week\"")] {
        let broken = spec.replacen("metric=revenue", bad_query, 1);
        let reply = save(&manager, 2, broken).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad_query}");
        assert!(reply.json()["BadRequest"].as_str().is_some_and(|m| m.contains(expected)), "{bad_query}: {}", reply.body);
    }
    let overlapping = spec.replacen("\"x\":4", "\"x\":3", 1);
    assert!(save(&manager, 2, overlapping).await.body.contains("overlaps"));

    // The public link: no sign-in, PUBLIC metrics only, unguessable, dead once revoked.
    let board_pack = manager.post("/api/saved_dashboard_create", &form(&[("template", "board-monthly")])).await.json();
    let pack_id = board_pack["id"].as_str().expect("id").to_string();
    let published = manager.post("/api/saved_dashboard_public", &form(&[("dashboard_id", &pack_id), ("public", "true")])).await.json();
    let path = published["public_path"].as_str().expect("a public path").to_string();
    let token = path.trim_start_matches("/public/dashboards/").to_string();
    assert!(token.len() >= 64 && !token.contains(&pack_id), "{token}");
    let anonymous = Client::anonymous(&pool);
    let public = anonymous.post("/api/public_dashboard_view", &form(&[("token", &token)])).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);
    let public = public.json();
    // Revenue, new customers and churn are not PUBLIC; NPS is.
    assert_eq!(kinds(&public), vec!["Withheld", "Withheld", "Withheld", "Data", "Withheld"]);
    let text = public.to_string();
    for key in ["metric=revenue", "churn_rate", "new_customers", "marketing_spend"] {
        assert!(!text.contains(key), "a withheld metric is named: {key}");
    }
    assert!(public["dashboard"]["shares"].as_array().expect("shares").is_empty() && public["dashboard"]["public_path"].is_null());
    manager.post("/api/saved_dashboard_public", &form(&[("dashboard_id", &pack_id), ("public", "false")])).await;
    assert_eq!(anonymous.post("/api/public_dashboard_view", &form(&[("token", &token)])).await.status, StatusCode::NOT_FOUND);

    // Copy, then delete: the copy is the copier's; deleting is the owner's or an admin's.
    let copy = editor.post("/api/saved_dashboard_create", &form(&[("copy_of", &id)])).await.json();
    assert_eq!((copy["spec"]["name"].as_str(), copy["access"].as_str()), (Some("Copy of Sales weekly (EMEA)"), Some("Owner")));
    assert_eq!(editor.post("/api/saved_dashboard_delete", &form(&[("dashboard_id", &id)])).await.status, StatusCode::FORBIDDEN);
    assert_eq!(manager.post("/api/saved_dashboard_delete", &form(&[("dashboard_id", &id)])).await.status, StatusCode::OK);
    assert_eq!(board.post("/api/saved_dashboard_view", &view_body).await.status, StatusCode::NOT_FOUND);

    let audited: Vec<String> = sqlx::query_scalar("SELECT action FROM io_audit_event WHERE action LIKE 'dashboard_%' ORDER BY at")
        .fetch_all(&pool)
        .await
        .expect("audit");
    assert_eq!(audited, ["dashboard_shared", "dashboard_shared", "dashboard_shared", "dashboard_published", "dashboard_unpublished", "dashboard_deleted"]);
}

/// The `data-raw` numbers of the widgets' values on a rendered page, in page order.
fn raw_values(html: &str) -> Vec<f64> {
    html.split("data-testid=\"widget-value\" data-raw=\"").skip(1).filter_map(|rest| rest.split('"').next()?.parse().ok()).collect()
}

/// The pages as the first HTML response: the list, a dashboard's widgets with the database's
/// numbers, a text widget's Markdown made safe, the editor for its editors only, and the public
/// link without a session (PUBLIC metrics only, gone once revoked).
#[sqlx::test]
async fn dashboard_pages_render_on_the_server_for_each_reader(pool: PgPool) {
    seed(&pool).await;
    let manager = demo(&pool, "manager", "acme").await;
    let board = demo(&pool, "board", "acme").await;
    let spec = serde_json::json!({
        "name": "Weekly numbers", "description": "", "default_query": "range=30d", "refresh": "off", "is_template": false, "template_type": null,
        "widgets": [
            {"id": null, "widget_type": "metric_card", "chart_type": null, "title": "Revenue", "query": "metric=revenue", "pinned": false, "body": "", "x": 0, "y": 0, "w": 4, "h": 2},
            {"id": null, "widget_type": "metric_card", "chart_type": null, "title": "NPS", "query": "metric=nps", "pinned": false, "body": "", "x": 4, "y": 0, "w": 4, "h": 2},
            {"id": null, "widget_type": "text", "chart_type": null, "title": "Notes", "query": "", "pinned": false,
             "body": "**Read me** <script>alert(1)</script> [bad](javascript:alert(1)) [ok](https://example.com)", "x": 8, "y": 0, "w": 4, "h": 2},
            {"id": null, "widget_type": "metric_card", "chart_type": null, "title": "Sessions", "query": "metric=sessions", "pinned": false, "body": "", "x": 0, "y": 2, "w": 4, "h": 2},
            {"id": null, "widget_type": "chart", "chart_type": "bar", "title": "Sessions by region", "query": "metric=sessions", "pinned": false, "body": "", "x": 4, "y": 2, "w": 8, "h": 4}
        ]
    });
    let created = manager.post("/api/saved_dashboard_create", &form(&[("spec", &spec.to_string())])).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.json()["id"].as_str().expect("id").to_string();

    let list = manager.get("/dashboards").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Weekly numbers") && list.body.contains("Sales weekly"), "the list and the built-in templates");

    let page = manager.get(&format!("/dashboards/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let revenue: f64 = sqlx::query_scalar(
        "WITH o AS (SELECT id FROM io_org WHERE slug = 'acme'), last AS (SELECT max(kpi_date) AS d FROM io_kpi_daily WHERE org_id = (SELECT id FROM o))
         SELECT sum(value)::float8 FROM io_kpi_daily, last WHERE org_id = (SELECT id FROM o) AND metric_key = 'revenue' AND kpi_date > last.d - 30 AND kpi_date <= last.d",
    )
    .fetch_one(&pool)
    .await
    .expect("revenue");
    // An engagement signal is charted too, from the signal facts.
    let sessions: f64 = sqlx::query_scalar(
        "WITH o AS (SELECT id FROM io_org WHERE slug = 'acme'), last AS (SELECT max(kpi_date) AS d FROM io_kpi_daily WHERE org_id = (SELECT id FROM o))
         SELECT sum(value)::float8 FROM io_engagement_signal_daily, last WHERE org_id = (SELECT id FROM o) AND signal_key = 'sessions' AND signal_date > last.d - 30 AND signal_date <= last.d",
    )
    .fetch_one(&pool)
    .await
    .expect("sessions");
    let shown = raw_values(&page.body);
    assert_eq!(shown.len(), 3, "three metric cards");
    assert!((shown[0] - revenue).abs() <= 1e-6 * revenue.abs(), "page {} vs SQL {revenue}", shown[0]);
    assert!((shown[2] - sessions).abs() <= 1e-6 * sessions.abs(), "page {} vs SQL {sessions}", shown[2]);
    let view = manager.post("/api/saved_dashboard_view", &form(&[("dashboard_id", &id)])).await.json();
    assert_eq!(kinds(&view), ["Data", "Data", "Text", "Data", "Data"]);
    let regions = view["widgets"][4]["content"]["Data"]["breakdown"].as_array().expect("the signal's breakdown").len();
    assert!(regions >= 3, "sessions by region: {regions} rows");
    assert!(page.body.contains("<strong>Read me</strong>") && page.body.contains("&lt;script&gt;"), "Markdown rendered, raw HTML shown as text");
    assert!(!page.body.contains("<script>alert") && !page.body.contains("href=\"javascript:"), "nothing executable");
    assert!(page.body.contains("href=\"https://example.com\" rel=\"noopener noreferrer nofollow\""));

    // The editor is for those who may edit: not found before a share, read-only after a view share.
    assert_eq!(manager.get(&format!("/dashboards/{id}/edit")).await.status, StatusCode::OK);
    assert_eq!(board.get(&format!("/dashboards/{id}")).await.status, StatusCode::NOT_FOUND);
    manager.post("/api/saved_dashboard_share", &form(&[("dashboard_id", &id), ("email", "board@acme.example"), ("permission", "view")])).await;
    let as_board = board.get(&format!("/dashboards/{id}")).await;
    assert_eq!(as_board.status, StatusCode::OK);
    assert!(!as_board.body.contains("data-testid=\"edit-dashboard\""), "no edit link for a viewer");
    assert!(board.get(&format!("/dashboards/{id}/edit")).await.body.contains("read-only for you"));

    // The public link opens without a session and shows only the PUBLIC metric.
    let published = manager.post("/api/saved_dashboard_public", &form(&[("dashboard_id", &id), ("public", "true")])).await.json();
    let path = published["public_path"].as_str().expect("public path").to_string();
    let anonymous = Client::anonymous(&pool);
    let public = anonymous.get(&path).await;
    assert_eq!(public.status, StatusCode::OK, "no redirect to the login page");
    assert!(public.body.contains("not visible to you") && !public.body.contains("Revenue"), "revenue is withheld and not named");
    assert_eq!(raw_values(&public.body).len(), 1, "NPS only (sessions are INTERNAL)");
    assert!(!public.body.contains("Open in the dashboard"), "no links into the app");
    manager.post("/api/saved_dashboard_public", &form(&[("dashboard_id", &id), ("public", "false")])).await;
    assert_eq!(anonymous.get(&path).await.status, StatusCode::NOT_FOUND);
}
