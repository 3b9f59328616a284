//! The board and manager narratives on seeded data: stored once per period with the facts it
//! cites, the same words from the same data, a "data changed since" note after a correction,
//! visibility per viewer, the scheduled job; and the optional model writer against a local stub
//! chat API that answers well, invents numbers, replies in prose, or too slowly.

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use insightops::analytics::guard;
use insightops::analytics::narrative::Fact;
use insightops::analytics::story::{compose, Audience, Author, StoredBy};
use insightops::auth::server::Scope;
use insightops::auth::{AccessPolicy, Role};
use insightops::exec::narrative;
use insightops::exec::ExecQuery;
use insightops::seed::{run, SeedOptions};
use sqlx::PgPool;

use crate::support;

async fn seeded(pool: &PgPool) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 15).expect("date");
    run(pool, &SeedOptions { days: 420, scale: 1, end, only_if_empty: false }).await.expect("seed");
}

async fn scope(pool: &PgPool, role: Role) -> Scope {
    Scope::for_org(pool, "acme", role, &AccessPolicy::default()).await.expect("acme")
}

/// Revenue's October as SQL adds it up from the stored facts.
async fn october_revenue(pool: &PgPool, org: uuid::Uuid) -> f64 {
    sqlx::query_scalar("SELECT sum(value)::float8 FROM io_kpi_daily WHERE org_id = $1 AND metric_key = 'revenue' AND kpi_date BETWEEN '2026-10-01' AND '2026-10-31'")
        .bind(org)
        .fetch_one(pool)
        .await
        .expect("sum")
}

#[sqlx::test]
async fn the_board_narrative_is_stored_once_cites_its_numbers_and_notes_a_later_correction(pool: PgPool) {
    seeded(&pool).await;
    let config = support::config("");
    let board = scope(&pool, Role::Board).await;
    let query = ExecQuery::default();
    let first = narrative::view(&pool, &config, None, &board, (Audience::Board, &query), false).await.expect("narrative");
    assert_eq!(first.period_label, "2026-10");
    assert_eq!((first.stored_by, first.changed_since, first.withheld), (Some(StoredBy::FirstView), false, 0));
    assert!((3..=6).contains(&first.paragraphs.len()), "{:#?}", first.paragraphs);
    assert!(first.headline.text.starts_with("2026-10: "), "{}", first.headline.text);

    let stored = insightops::db::narratives::find(&pool, board.org_id, Audience::Board, query.grain, support::day("2026-10-01")).await.expect("query").expect("stored");
    assert_eq!(stored.author, Author::Deterministic);
    // Every number of every sentence is one its cited facts show.
    let gathered = narrative::gather(&pool, &config, &board, &query).await.expect("facts");
    let outcome = guard::check(&stored.narrative, &stored.facts, &gathered.labels);
    assert_eq!(outcome.dropped, Vec::new());
    // The same data gives the same words.
    assert_eq!(compose(&gathered.labels, &gathered.facts), stored.narrative);
    // The facts' numbers are the data's: revenue's October change holds SQL's sum of the month.
    let sql = october_revenue(&pool, board.org_id).await;
    let revenue = stored.facts.iter().find_map(|f| match &f.fact {
        Fact::Change { metric, baseline, current, .. } if metric.key == "revenue" && baseline == "2026-09" => Some(*current),
        _ => None,
    });
    let revenue = revenue.expect("a revenue change against September");
    assert!((revenue - sql).abs() < 1e-6 * sql.abs(), "{revenue} against SQL's {sql}");
    // The board never holds a restricted metric, in its facts or its words.
    assert!(stored.facts.iter().all(|f| f.fact.metric().key != "marketing_spend"));
    assert!(!stored.narrative.plain_text().contains("Marketing spend"));

    // A correction of October's revenue: the stored text stays, and says the data changed.
    sqlx::query("UPDATE io_kpi_daily SET value = value + 50000 WHERE org_id = $1 AND metric_key = 'revenue' AND kpi_date = '2026-10-10' AND region = 'EMEA'")
        .bind(board.org_id)
        .execute(&pool)
        .await
        .expect("correct");
    let mut conn = pool.acquire().await.expect("connection");
    insightops::db::kpi::refresh_rollups(&mut conn, board.org_id).await.expect("rollups");
    insightops::db::aggregates::refresh(&mut conn, board.org_id, None).await.expect("aggregates");
    drop(conn);
    let after = narrative::view(&pool, &config, None, &board, (Audience::Board, &query), false).await.expect("narrative");
    assert_eq!((after.headline.clone(), after.paragraphs.clone()), (first.headline.clone(), first.paragraphs.clone()), "the board sees what it was shown");
    assert!(after.changed_since && !after.showing_current);
    let today = narrative::view(&pool, &config, None, &board, (Audience::Board, &query), true).await.expect("narrative");
    assert!(today.showing_current && today.written_at.is_none());
    assert_ne!(today.facts, first.facts, "today's text cites today's numbers");
    let stored_again = insightops::db::narratives::find(&pool, board.org_id, Audience::Board, query.grain, support::day("2026-10-01")).await.expect("query").expect("stored");
    assert_eq!(stored_again.id, stored.id, "still one stored narrative for the period");
}

#[sqlx::test]
async fn viewers_see_only_sentences_on_metrics_they_may_see_and_the_schedule_stores_each_period_once(pool: PgPool) {
    seeded(&pool).await;
    let config = support::config("");
    let (board, manager) = (scope(&pool, Role::Board).await, scope(&pool, Role::Manager).await);
    let query = ExecQuery::default();
    let for_managers = narrative::view(&pool, &config, None, &manager, (Audience::Manager, &query), false).await.expect("manager narrative");
    assert_eq!(for_managers.withheld, 0);
    assert!(for_managers.facts.iter().any(|f| f.text.contains("Marketing spend")), "managers see marketing spend");
    let seen_by_board = narrative::view(&pool, &config, None, &board, (Audience::Manager, &query), false).await.expect("as the board");
    assert!(seen_by_board.withheld > 0, "sentences citing marketing spend are left out");
    let shown: Vec<&str> = std::iter::once(&seen_by_board.headline).chain(seen_by_board.paragraphs.iter().flat_map(|p| p.sentences.iter())).map(|s| s.text.as_str()).collect();
    assert!(shown.iter().all(|t| !t.contains("Marketing spend")), "{shown:?}");
    assert!(seen_by_board.facts.iter().all(|f| !f.text.contains("Marketing spend")));

    // The scheduled job: the last complete month, quarter and year of each org, both audiences,
    // stored once however often it runs (the manager's October was stored on view above).
    let first = narrative::store_closed_periods(&pool, &config).await.expect("job");
    assert_eq!(first["stored"], 11, "{first}");
    let again = narrative::store_closed_periods(&pool, &config).await.expect("job");
    assert_eq!(again["stored"], 0);
    let rows: Vec<(String, String, String)> = sqlx::query_as("SELECT audience, grain, trigger FROM io_exec_summary WHERE org_id = $1 ORDER BY 1, 2")
        .bind(board.org_id)
        .fetch_all(&pool)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert!(rows.contains(&("manager".into(), "month".into(), "first_view".into())));
    assert!(rows.contains(&("board".into(), "quarter".into(), "scheduled".into())));
}

/// A stub chat API: `/{mode}/v1/chat/completions`. It keeps each request's body.
async fn stub_model() -> (String, Arc<Mutex<Vec<(String, serde_json::Value)>>>) {
    use axum::extract::Path;
    use axum::http::HeaderMap;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    let app = axum::Router::new().route(
        "/{mode}/v1/chat/completions",
        axum::routing::post(move |Path(mode): Path<String>, headers: HeaderMap, body: String| {
            let keep = keep.clone();
            async move {
                let request: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                keep.lock().expect("lock").push((auth, request.clone()));
                let input: serde_json::Value = request["messages"][1]["content"].as_str().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
                let content = match mode.as_str() {
                    "slow" => {
                        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                        String::new()
                    }
                    "prose" => "Sure! October was a good month for revenue.".to_string(),
                    other => model_reply(&input, other).to_string(),
                };
                axum::Json(serde_json::json!({ "choices": [{ "message": { "role": "assistant", "content": content } }] }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), seen)
}

/// A reply in the contract: each fact's own text as a sentence citing it ("good"); with one
/// invented number ("one-invented"); or with every number invented ("invented").
fn model_reply(input: &serde_json::Value, mode: &str) -> serde_json::Value {
    let facts = input["facts"].as_array().cloned().unwrap_or_default();
    let sentence = |i: usize, f: &serde_json::Value| {
        let text = f["text"].as_str().unwrap_or_default().to_string();
        let text = match mode {
            "invented" => "Revenue grew 37.5% to $9.99M.".to_string(),
            "one-invented" if i == 1 => format!("{text} That is 12.3% better than planned."),
            _ => text,
        };
        serde_json::json!({ "text": text, "facts": [f["id"]] })
    };
    let mut sentences: Vec<serde_json::Value> = facts.iter().enumerate().map(|(i, f)| sentence(i, f)).collect();
    if mode == "uncited" {
        sentences.push(serde_json::json!({ "text": "Marketing spend was USD420000 in 2026-10.", "facts": [] }));
    }
    let headline = match mode {
        "invented" => serde_json::json!({ "text": "Revenue up 37.5%.", "facts": [facts.first().map(|f| f["id"].clone())] }),
        _ => serde_json::json!({ "text": "2026-10: the month in brief.", "facts": [] }),
    };
    serde_json::json!({ "headline": headline, "paragraphs": [{ "topic": "performance", "sentences": sentences }] })
}

fn llm_config(base: &str, mode: &str, timeout: u32) -> Arc<insightops::config::Config> {
    let toml = format!("[narrative.llm]\nbase_url = \"{base}/{mode}/v1\"\nmodel = \"stub-7b\"\ntimeout_seconds = {timeout}\n[env.dev]\nnarrative_writer = \"llm\"\n");
    let env = [("DATABASE_URL", "postgres://unused@127.0.0.1:1/x"), ("INSIGHTOPS_LLM_API_KEY", "sk-test-key")];
    Arc::new(insightops::config::Config::from_toml_str(&toml, "test", &env).expect("config"))
}

#[sqlx::test]
async fn a_model_writes_only_what_the_facts_say_and_anything_else_falls_back_to_the_deterministic_text(pool: PgPool) {
    seeded(&pool).await;
    let board = scope(&pool, Role::Board).await;
    let gathered = narrative::gather(&pool, &support::config(""), &board, &ExecQuery::default()).await.expect("facts");
    let deterministic = compose(&gathered.labels, &gathered.facts);
    let (base, seen) = stub_model().await;

    let good = narrative::write(&llm_config(&base, "good", 5), Audience::Board, &gathered).await;
    assert_eq!((good.author, good.model_name.as_deref(), good.prompt_version), (Author::Llm, Some("stub-7b"), Some("narrative-v1")));
    assert_eq!(good.notes, Vec::<String>::new());
    assert_eq!(good.narrative.paragraphs[0].sentences.len(), gathered.facts.all().len());
    let (auth, request) = seen.lock().expect("lock").last().cloned().expect("the stub was asked");
    assert_eq!((auth.as_str(), request["model"].as_str()), ("Bearer sk-test-key", Some("stub-7b")));
    let sent = request["messages"][1]["content"].as_str().expect("user message");
    assert!(sent.contains("\"audience\":\"board\"") && !sent.contains("Marketing spend"), "the model gets only the board's facts");

    let uncited = narrative::write(&llm_config(&base, "uncited", 5), Audience::Board, &gathered).await;
    assert_eq!(uncited.author, Author::Llm);
    assert!(!uncited.narrative.plain_text().contains("USD420000"), "a number citing no fact is dropped");
    assert!(uncited.notes.iter().any(|n| n.contains("NoCitation")), "{:?}", uncited.notes);

    let one_invented = narrative::write(&llm_config(&base, "one-invented", 5), Audience::Board, &gathered).await;
    assert_eq!(one_invented.author, Author::Llm);
    assert_eq!(one_invented.narrative.paragraphs[0].sentences.len(), gathered.facts.all().len() - 1, "the sentence with 12.3% is dropped");
    assert!(one_invented.notes.iter().any(|n| n.contains("12.3%")), "{:?}", one_invented.notes);

    for (mode, timeout, why) in [("invented", 5, "guard"), ("prose", 5, "contract"), ("slow", 1, "within 1 s")] {
        let started = std::time::Instant::now();
        let written = narrative::write(&llm_config(&base, mode, timeout), Audience::Board, &gathered).await;
        assert_eq!((written.author, &written.narrative), (Author::Deterministic, &deterministic), "{mode}");
        assert!(written.notes.iter().any(|n| n.contains(why)), "{mode}: {:?}", written.notes);
        assert!(started.elapsed() < std::time::Duration::from_secs(4), "{mode} took {:?}", started.elapsed());
    }
}

/// A decision on a finding of the period changes its facts: a cached narrative is rebuilt, and
/// today's text says what was decided, with the note.
#[sqlx::test]
async fn a_decision_on_a_finding_of_the_period_reaches_the_narrative_through_the_cache(pool: PgPool) {
    seeded(&pool).await;
    let config = support::config("");
    let board = scope(&pool, Role::Board).await;
    insightops::models::service::run_active(&pool, board.org_id, "test", &config.analytics).await.expect("models");
    let query = ExecQuery::default();
    let cache = insightops::exec::cache::ExecCache::default();
    let before = narrative::view(&pool, &config, Some(&cache), &board, (Audience::Board, &query), true).await.expect("narrative");
    let (id, version): (uuid::Uuid, i32) = sqlx::query_as(
        "SELECT id, version FROM io_recommendation WHERE org_id = $1 AND status = 'open' AND category = 'anomaly'
           AND (evidence->>'period_end')::date BETWEEN '2026-10-01' AND '2026-10-31'
           AND metric_keys <@ ARRAY['revenue', 'orders', 'avg_order_value', 'conversion_rate', 'active_users', 'new_customers', 'support_tickets', 'nps']
         ORDER BY severity DESC LIMIT 1",
    )
    .bind(board.org_id)
    .fetch_one(&pool)
    .await
    .expect("an open finding in October on a board metric");
    let admin = insightops::db::users::by_email(&pool, "admin@acme.example").await.expect("query").expect("admin");
    let principal = insightops::auth::server::Principal::from(admin);
    insightops::recommendations::service::decide(&pool, &principal, &[(id, version)], insightops::recommendations::Decision::Accept, "Supplier outage")
        .await
        .expect("accept");
    let after = narrative::view(&pool, &config, Some(&cache), &board, (Audience::Board, &query), true).await.expect("narrative");
    assert!(after.changed_since && after.showing_current, "the decision changed a fact of the period");
    assert!(after.facts.iter().any(|f| f.text.contains("Decision: accepted (Supplier outage)")), "{:#?}", after.facts);
    assert!(!before.facts.iter().any(|f| f.text.contains("Supplier outage")));
}
