//! Reports and exports (issue 14) through the real router and workers: a CSV's totals equal the
//! dashboard's, the row and parallel limits refuse with their numbers, PII is masked, a board
//! member cannot export a restricted metric by any path, the PDF pack holds the period's values,
//! and a generation whose worker dies is retried and finishes once.

use chrono::Duration;
use insightops::auth::Role;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{config, day, form, insert_kpi, insert_metric, insert_org, insert_user, refresh_rollups, router_with, run_workers_until, Client};

const FAST_JOBS: &str = "[jobs]\nmax_attempts = 2\npoll_ms = 20\nlease_seconds = 5\ngrace_seconds = 1\nconcurrency = 2\ndetect_delay_seconds = 3600\nbackoff_base_seconds = 1\n";

/// An org with 60 days of four metrics in two regions: revenue (internal), churn (anonymised),
/// payroll (restricted) and new customers (PII). Returns the org.
async fn fixture(pool: &PgPool, slug: &str) -> Uuid {
    let org = insert_org(pool, slug).await;
    for (i, (key, agg)) in [("revenue", "sum"), ("churn", "avg"), ("payroll", "sum"), ("new_customers", "sum")].iter().enumerate() {
        insert_metric(pool, org, key, "USD", "higher_is_better", agg, i as i32).await;
    }
    for (key, visibility) in [("churn", "ANONYMISED"), ("payroll", "RESTRICTED")] {
        sqlx::query("UPDATE io_metric SET visibility = $3 WHERE org_id = $1 AND key = $2").bind(org).bind(key).bind(visibility).execute(pool).await.expect("visibility");
    }
    sqlx::query("UPDATE io_metric SET pii = true WHERE org_id = $1 AND key = 'new_customers'").bind(org).execute(pool).await.expect("pii");
    let start = day("2026-09-01");
    for d in 0..60 {
        let date = start + Duration::days(d);
        for (r, region) in ["EMEA", "AMER"].iter().enumerate() {
            let base = 100.0 + d as f64 * 1.5 + r as f64 * 40.0;
            insert_kpi(pool, org, "revenue", date, region, base + 0.25).await;
            insert_kpi(pool, org, "churn", date, region, 2.0 + r as f64 * 0.5).await;
            insert_kpi(pool, org, "payroll", date, region, 5000.0).await;
            insert_kpi(pool, org, "new_customers", date, region, 10.0 + r as f64).await;
        }
    }
    refresh_rollups(pool, org).await;
    let mut conn = pool.acquire().await.expect("connection");
    insightops::db::kpi::record_dimension_values(&mut conn, org, insightops::db::kpi::DimensionSource::Facts).await.expect("dimension values");
    org
}

async fn signed_in(pool: &PgPool, org: Uuid, role: Role, toml: &str) -> (Uuid, Client) {
    let (id, email, password) = insert_user(pool, org, role).await;
    let mut client = Client::of_router(router_with(pool.clone(), toml), [10, 0, 0, 30]);
    let reply = client.login(&email, &password).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    (id, client)
}

/// The data rows of a CSV export (comment lines dropped) as (region, value).
fn csv_rows(body: &str) -> Vec<(String, f64)> {
    let data: String = body.split_inclusive('\n').filter(|l| !l.starts_with('#')).collect();
    let mut reader = csv::Reader::from_reader(data.as_bytes());
    reader.records().map(|r| r.expect("a CSV record")).map(|r| (r[3].to_string(), r[8].parse().expect("a number"))).collect()
}

#[sqlx::test]
async fn a_csv_export_totals_what_the_dashboard_shows_for_the_same_view(pool: PgPool) {
    let org = fixture(&pool, "acme").await;
    let (_, manager) = signed_in(&pool, org, Role::Manager, "").await;
    for view in ["metric=revenue&range=30d", "metric=revenue&range=30d&region=EMEA", "metric=revenue&from=2026-09-10&to=2026-10-09&drill=AMER"] {
        let dashboard = manager.post("/api/dashboard", &form(&[("query", view)])).await.json();
        let shown = dashboard["total"]["current"].as_f64().unwrap_or_else(|| panic!("a dashboard total for {view}: {dashboard}"));
        for grain in ["day", "week", "month"] {
            let reply = manager.get(&format!("/export/dashboard?{view}&format=csv&grain={grain}")).await;
            assert_eq!(reply.status.as_u16(), 200, "{view} {grain}: {}", reply.body);
            assert_eq!(reply.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("text/csv; charset=utf-8"));
            assert!(reply.headers.get("content-disposition").and_then(|v| v.to_str().ok()).is_some_and(|d| d.starts_with("attachment; filename=\"insightops-export-")));
            assert!(reply.body.starts_with("# org: Org acme\n"), "the file names its org");
            assert!(reply.body.contains(&format!("# view: {}", insightops::dashboard::DashboardQuery::from_query_string(view).expect("view").to_query_string())));
            let total: f64 = csv_rows(&reply.body).iter().map(|r| r.1).sum();
            assert!((total - shown).abs() < 1e-6, "{view} at {grain} grain: the CSV sums to {total}, the dashboard shows {shown}");
        }
        let json = manager.get(&format!("/export/dashboard?{view}&format=json")).await.json();
        let total: f64 = json["rows"].as_array().expect("rows").iter().map(|r| r["value"].as_f64().expect("numeric value")).sum();
        assert!((total - shown).abs() < 1e-6);
        assert_eq!(json["meta"]["rows"].as_u64(), Some(json["rows"].as_array().map_or(0, |r| r.len()) as u64));
    }
    let audited: Vec<(serde_json::Value,)> = sqlx::query_as("SELECT detail FROM io_audit_event WHERE action = 'data_exported' AND org_id = $1").bind(org).fetch_all(&pool).await.expect("audit");
    assert_eq!(audited.len(), 12, "every export is audited");
    assert!(audited.iter().all(|(d,)| d["rows"].as_i64().is_some_and(|n| n > 0)));
}

#[sqlx::test]
async fn the_row_limit_and_the_parallel_limit_refuse_with_their_numbers(pool: PgPool) {
    let org = fixture(&pool, "acme").await;
    let toml = "[env.dev]\nexport_max_rows = 100\nexports_per_user = 1\n";
    let (manager_id, manager) = signed_in(&pool, org, Role::Manager, toml).await;
    // 30 days x 2 regions = 60 rows fit; 60 days x 2 = 120 do not.
    assert_eq!(manager.get("/export/dashboard?metric=revenue&range=30d").await.status.as_u16(), 200);
    let refused = manager.get("/export/dashboard?metric=revenue&from=2026-09-01&to=2026-10-30").await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.body);
    assert!(refused.body.contains("120 rows") && refused.body.contains("limit is 100"), "{}", refused.body);
    // Weekly rows of the same range are few enough.
    assert_eq!(manager.get("/export/dashboard?metric=revenue&from=2026-09-01&to=2026-10-30&grain=week").await.status.as_u16(), 200);

    // One export running (its slot held) makes the next one wait with 429 and the limit.
    let state = insightops::server::app_state(config(toml), pool.clone());
    let held = state.export_slots.acquire(manager_id, 1).expect("a first slot");
    let mut client = Client::of_router(insightops::server::router_for(state.clone()), [10, 0, 0, 31]);
    client.cookie = manager.cookie.clone();
    let busy = client.get("/export/dashboard?metric=revenue&range=7d").await;
    assert_eq!(busy.status.as_u16(), 429, "{}", busy.body);
    assert!(busy.body.contains("limit is 1"), "{}", busy.body);
    assert_eq!(busy.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    drop(held);
    assert_eq!(client.get("/export/dashboard?metric=revenue&range=7d").await.status.as_u16(), 200);
    assert_eq!(state.export_slots.running(manager_id), 0, "a finished export frees its slot");
}

#[sqlx::test]
async fn personal_data_is_masked_unless_masking_is_off(pool: PgPool) {
    let org = fixture(&pool, "acme").await;
    let (_, manager) = signed_in(&pool, org, Role::Manager, "").await;
    let masked = manager.get("/export/dashboard?metric=new_customers&range=7d").await;
    assert_eq!(masked.status.as_u16(), 200, "{}", masked.body);
    let rows = csv_rows(&masked.body);
    assert_eq!(rows.len(), 14);
    assert!(rows.iter().all(|(region, _)| region.starts_with("masked-")), "{rows:?}");
    assert_eq!(rows.iter().map(|r| r.0.clone()).collect::<std::collections::BTreeSet<_>>().len(), 2, "masks keep members apart");
    assert!(!masked.body.contains("EMEA") && masked.body.contains("# masked (personal data): new_customers"));
    let (_, plain) = signed_in(&pool, org, Role::Admin, "[env.dev]\npii_masking = false\n").await;
    assert!(plain.get("/export/dashboard?metric=new_customers&range=7d").await.body.contains(",EMEA,"));
}

#[sqlx::test]
async fn a_board_member_cannot_export_a_restricted_metric_by_any_path(pool: PgPool) {
    let org = fixture(&pool, "acme").await;
    let (_, board) = signed_in(&pool, org, Role::Board, FAST_JOBS).await;
    let (_, manager) = signed_in(&pool, org, Role::Manager, FAST_JOBS).await;
    for path in ["/export/dashboard?metric=payroll", "/export/dashboard?metric=revenue&vs=payroll", "/export/dashboard?metric=payroll&format=json&grain=month"] {
        let reply = board.get(path).await;
        assert_eq!(reply.status.as_u16(), 403, "{path}: {}", reply.body);
        assert!(reply.body.contains("payroll"), "the refusal names the metric: {}", reply.body);
    }
    // Anonymised: totals only, and a filter is refused.
    let totals = board.get("/export/dashboard?metric=churn&range=7d").await;
    assert_eq!(totals.status.as_u16(), 200, "{}", totals.body);
    assert_eq!(csv_rows(&totals.body).len(), 7, "one org-wide row a day");
    assert!(csv_rows(&totals.body).iter().all(|r| r.0.is_empty()));
    assert_eq!(board.get("/export/dashboard?metric=churn&region=EMEA").await.status.as_u16(), 403);
    // Templates: a board member cannot make one, and cannot see or download a manager's CSV.
    let save = form(&[("name", "payroll"), ("view", "metric=payroll"), ("grain", "day"), ("format", "csv"), ("schedule", "once"), ("status", "active")]);
    assert_eq!(board.post("/api/report_template_save", &save).await.status.as_u16(), 403);
    let id = manager.post("/api/report_template_save", &save).await.json();
    let template = Uuid::parse_str(id.as_str().expect("an id")).expect("uuid");
    let cfg = config(FAST_JOBS);
    insightops::reports::service::enqueue_due(&pool, &cfg, chrono::Utc::now()).await.expect("due");
    run_workers_until(&pool, cfg, 1, || async { report_status(&pool, template).await.as_deref() == Some("ready") }).await;
    let report: Uuid = sqlx::query_scalar("SELECT id FROM io_report WHERE template_id = $1").bind(template).fetch_one(&pool).await.expect("report");
    assert_eq!(board.get(&format!("/reports/{report}/download")).await.status.as_u16(), 404);
    assert!(manager.get(&format!("/reports/{report}/download")).await.body.contains(",payroll,"));
    let page = board.post("/api/reports", "query=").await.json();
    assert_eq!(page["templates"].as_array().map(Vec::len), Some(0), "no CSV template is listed to the board");
    // A stored board pack from a manager's template is made as the board sees the data: every
    // board member can list and download it.
    let pack = form(&[("name", "Pack"), ("view", ""), ("grain", "day"), ("format", "pdf"), ("schedule", "once"), ("status", "active")]);
    let pack = Uuid::parse_str(manager.post("/api/report_template_save", &pack).await.json().as_str().expect("an id")).expect("uuid");
    let cfg = config(FAST_JOBS);
    insightops::reports::service::enqueue_due(&pool, &cfg, chrono::Utc::now()).await.expect("due");
    run_workers_until(&pool, cfg, 1, || async { report_status(&pool, pack).await.as_deref() == Some("ready") }).await;
    let stored: Uuid = sqlx::query_scalar("SELECT id FROM io_report WHERE template_id = $1").bind(pack).fetch_one(&pool).await.expect("report");
    let stored_text = pdf_text_of(&raw_get(&pool, &board, &format!("/reports/{stored}/download")).await);
    assert!(stored_text.contains("revenue") && !stored_text.contains("payroll"), "{stored_text}");
    // The board pack leaves the restricted metric out for the board, not for the manager.
    let board_pack = pdf_text_of(&raw_get(&pool, &board, "/export/board.pdf?grain=month&period=2026-09-15").await);
    let manager_pack = pdf_text_of(&raw_get(&pool, &manager, "/export/board.pdf?grain=month&period=2026-09-15").await);
    assert!(manager_pack.contains("payroll") && !board_pack.contains("payroll"), "{board_pack}");
}

async fn report_status(pool: &PgPool, template: Uuid) -> Option<String> {
    sqlx::query_scalar("SELECT status FROM io_report WHERE template_id = $1 ORDER BY created_at DESC LIMIT 1").bind(template).fetch_optional(pool).await.expect("status")
}

/// The text of a PDF through poppler's `pdftotext`, after checking its page count and size with `pdfinfo`.
fn pdf_text_of(bytes: &[u8]) -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!("io-pack-{}-{n}.pdf", std::process::id()));
    std::fs::write(&path, bytes).expect("write pdf");
    let info = std::process::Command::new("pdfinfo").arg(&path).output().expect("pdfinfo (poppler-utils)");
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    let pages: usize = info.lines().find_map(|l| l.strip_prefix("Pages:")).and_then(|n| n.trim().parse().ok()).expect("a page count");
    assert!(pages >= 3, "title, table and charts: {info}");
    assert!(info.contains("595 x 842"), "A4: {info}");
    let text = std::process::Command::new("pdftotext").arg("-layout").arg(&path).arg("-").output().expect("pdftotext");
    let _ = std::fs::remove_file(&path);
    String::from_utf8_lossy(&text.stdout).to_string()
}

#[sqlx::test]
async fn the_pdf_pack_holds_the_periods_kpi_values_with_page_numbers(pool: PgPool) {
    let org = fixture(&pool, "acme").await;
    let (_, admin) = signed_in(&pool, org, Role::Admin, "").await;
    let summary = admin.post("/api/exec_summary", "grain=month&period=2026-09-15").await.json();
    let reply = admin.get("/export/board.pdf?grain=month&period=2026-09-15").await;
    assert_eq!(reply.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/pdf"));
    // The reply body went through a lossy UTF-8 conversion; fetch the bytes again without it.
    let bytes = raw_get(&pool, &admin, "/export/board.pdf?grain=month&period=2026-09-15").await;
    let text = pdf_text_of(&bytes);
    let period = summary["period_label"].as_str().expect("a period label");
    assert!(text.contains("Board pack") && text.contains(period), "{period} in {text}");
    let cards = summary["cards"].as_array().expect("cards");
    assert!(!cards.is_empty());
    for card in cards {
        let value = card["vs_previous"]["current"].as_f64().expect("a value");
        let shown = insightops::format::format_value(value, card["unit"].as_str().unwrap_or(""));
        assert!(text.contains(&shown), "{} = {shown} is in the pack", card["label"]);
    }
    assert!(text.contains("Page 1 of") && text.contains("Page 3 of"), "page numbers");
    // The pack opens with the board's narrative of the period, as stored.
    let narrative = admin.post("/api/narrative", "audience=board&grain=month&period=2026-09-15&current=false").await.json();
    let headline = narrative["headline"]["text"].as_str().expect("a headline");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("Summary") && flat.contains(headline), "{headline} in {flat}");
    assert!(admin.get("/export/board.pdf?grain=week").await.status.as_u16() == 400);
}

/// A GET through the router keeping the body's bytes (PDFs are not UTF-8).
async fn raw_get(pool: &PgPool, client: &Client, path: &str) -> Vec<u8> {
    use tower::ServiceExt;
    let router = insightops::server::router(config(""), pool.clone()).layer(axum::extract::connect_info::MockConnectInfo(std::net::SocketAddr::from(([10, 0, 0, 32], 40000))));
    let request = axum::http::Request::get(path)
        .header("host", crate::support::HOST)
        .header("cookie", client.cookie.clone().unwrap_or_default())
        .body(axum::body::Body::empty())
        .expect("request");
    let response = router.oneshot(request).await.expect("response");
    assert_eq!(response.status().as_u16(), 200);
    axum::body::to_bytes(response.into_body(), 64 << 20).await.expect("body").to_vec()
}

#[sqlx::test]
async fn a_generation_whose_worker_dies_is_retried_and_finishes_once(pool: PgPool) {
    let org = fixture(&pool, "acme").await;
    let (_, admin) = signed_in(&pool, org, Role::Admin, FAST_JOBS).await;
    let save = form(&[("name", "Revenue weekly"), ("view", "metric=revenue&range=30d"), ("grain", "week"), ("format", "json"), ("schedule", "weekly"), ("status", "active")]);
    let template = Uuid::parse_str(admin.post("/api/report_template_save", &save).await.json().as_str().expect("id")).expect("uuid");
    let generated = admin.post("/api/report_generate", &form(&[("template_id", &template.to_string())])).await;
    assert_eq!(generated.status.as_u16(), 200, "{}", generated.body);
    // A worker takes the job, starts the report and dies: its lease runs out.
    let claimed = insightops::db::jobs::claim(&pool, "doomed", 1, 0.2).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    let report = Uuid::parse_str(generated.json().as_str().expect("report id")).expect("uuid");
    insightops::db::reports::start(&pool, org, report).await.expect("start").expect("startable");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    insightops::db::jobs::reap_expired(&pool).await.expect("reap");
    run_workers_until(&pool, config(FAST_JOBS), 2, || async { report_status(&pool, template).await.as_deref() == Some("ready") }).await;
    let (attempts, rows, files): (i32, i64, i64) = sqlx::query_as(
        "SELECT r.attempts, r.row_count, (SELECT count(*) FROM io_report_file f WHERE f.report_id = r.id) FROM io_report r WHERE r.id = $1",
    )
    .bind(report)
    .fetch_one(&pool)
    .await
    .expect("report");
    assert_eq!((attempts, files), (2, 1), "the second attempt made the one file");
    assert!(rows >= 4, "weekly rows of 30 days");
    let page = admin.post("/api/reports", &form(&[("query", &format!("template={template}"))])).await.json();
    assert_eq!(page["history"][0]["status"], "ready");
    assert!(page["templates"][0]["next_runs"].as_array().is_some_and(|r| r.len() == 3), "{}", page["templates"][0]);
    let file = admin.get(&format!("/reports/{report}/download")).await.json();
    assert_eq!(file["meta"]["grain"], "week");
}

#[sqlx::test]
async fn a_report_that_keeps_failing_shows_its_error_and_due_templates_run_once(pool: PgPool) {
    let org = fixture(&pool, "acme").await;
    let toml = format!("{FAST_JOBS}[env.dev]\nexport_max_rows = 10\n");
    let (_, manager) = signed_in(&pool, org, Role::Manager, &toml).await;
    let save = form(&[("name", "Too big"), ("view", "metric=revenue&range=30d"), ("grain", "day"), ("format", "csv"), ("schedule", "once"), ("status", "active")]);
    let template = Uuid::parse_str(manager.post("/api/report_template_save", &save).await.json().as_str().expect("id")).expect("uuid");
    let cfg = config(&toml);
    let now = chrono::Utc::now();
    // Two schedulers tick at once: the template is turned into one report.
    let (a, b) = tokio::join!(
        insightops::reports::service::enqueue_due(&pool, &cfg, now),
        insightops::reports::service::enqueue_due(&pool, &cfg, now)
    );
    assert_eq!(a.expect("tick") + b.expect("tick"), 1);
    assert_eq!(insightops::reports::service::enqueue_due(&pool, &cfg, now + Duration::days(1)).await.expect("tick"), 0, "once runs once");
    run_workers_until(&pool, cfg, 1, || async { report_status(&pool, template).await.as_deref() == Some("failed") }).await;
    let (error, size): (Option<String>, Option<i64>) = sqlx::query_as("SELECT error, size_bytes FROM io_report WHERE template_id = $1").bind(template).fetch_one(&pool).await.expect("report");
    assert!(error.as_deref().is_some_and(|e| e.contains("60 rows") && e.contains("limit is 10")), "{error:?}");
    assert_eq!(size, None, "no file, never an empty one");
    let page = manager.post("/api/reports", "query=").await.json();
    assert_eq!(page["history"][0]["status"], "failed");
    assert_eq!(page["history"][0]["attempts"], 2);
    // Bad forms are refused with what is wrong.
    let bad_cron = form(&[("name", "x"), ("view", "metric=revenue"), ("grain", "day"), ("format", "csv"), ("schedule", "61 * * * *"), ("status", "active")]);
    let reply = manager.post("/api/report_template_save", &bad_cron).await;
    assert_eq!(reply.status.as_u16(), 400);
    assert!(reply.body.contains("61 * * * *"), "{}", reply.body);
    let hidden = form(&[("name", "y"), ("view", "metric=nope"), ("grain", "day"), ("format", "csv"), ("schedule", "daily"), ("status", "active")]);
    assert!(manager.post("/api/report_template_save", &hidden).await.body.contains("nope"));
}
