//! Questions on seeded data: the question set answered and its main number checked against SQL
//! over the stored facts (the share correct is printed for the README), visibility for a board
//! member, and the asker's history with feedback.

use chrono::NaiveDate;
use insightops::ask::{Answer, Intent, Parsed};
use insightops::auth::server::Scope;
use insightops::auth::{AccessPolicy, Role};
use insightops::domain::Dimension;
use insightops::seed::{run, SeedOptions};
use sqlx::PgPool;

use crate::support;

/// The parser's test set (src/ask/parse.rs), asked of the demo data ending 2026-11-15.
const QUESTIONS: [&str; 63] = [
    "What was revenue last week?", "Revenue yesterday", "How many orders yesterday?", "orders last month", "What were sales this month?",
    "Revenue in EMEA last month", "Orders for SMB on web last week", "What was the average order value in Q3?", "AOV in APAC this quarter",
    "conversion rate last 14 days", "Active users on mobile yesterday", "new customers since March", "How many new customers in March?",
    "churn rate last quarter", "NPS this year", "net promoter score last year", "support tickets in December", "Marketing spend in Q1 2026",
    "revenue", "Revenue for the pro product in the last 7 days", "turnover for Enterprise in Q2", "traffic via partner this week",
    "How did orders change last week?", "Did revenue drop in NA last month?", "Has churn increased this quarter?", "orders up or down since September?",
    "How much did sales grow in Q3?", "conversion rate change for SMB last 30 days", "Did support tickets rise yesterday?",
    "Why did revenue fall in EMEA last week?", "Why did orders drop last month?", "why is revenue up this month",
    "Why did new customers fall for SMB on web in Q3?", "why did tickets increase last week", "Is revenue trending up?", "orders trend this year",
    "What is the trend of active users in APAC since June?", "NPS trajectory last quarter", "Forecast orders for next week",
    "What will revenue be next month?", "predict support tickets", "expected new customers in EMEA", "Compare revenue and orders last month",
    "revenue vs marketing spend in Q3", "orders versus active users this week", "conversion rate and churn rate last year",
    "compare AOV with orders in NA", "Top regions by revenue this quarter", "Which region had the most orders last month?",
    "best segment for new customers in Q3", "highest channel by sessions last week", "revenue by product last month",
    "Bottom regions by conversion rate", "lowest segment by orders this year", "worst channel for revenue last quarter",
    "Any anomalies in orders last month?", "unusual days for revenue in EMEA", "spikes in support tickets this quarter",
    "outliers in active users since August", "anomalous churn rate days in Q3 2026", "Were there any anomalies in sales yesterday?", "revenue in Q4",
    "Compare revenue in EMEA and NA last month",
];

async fn seeded(pool: &PgPool) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 15).expect("date");
    run(pool, &SeedOptions { days: 420, scale: 1, end, only_if_empty: false }).await.expect("seed");
}

async fn scope(pool: &PgPool, role: Role) -> Scope {
    Scope::for_org(pool, "acme", role, &AccessPolicy::default()).await.expect("acme")
}

/// The SQL conditions of the parsed period and slices (values are the catalogue's own).
fn conditions(p: &Parsed) -> String {
    let mut sql = format!("kpi_date BETWEEN '{}' AND '{}'", p.period.start, p.period.end);
    for d in Dimension::ALL {
        let values = p.filter.values(d);
        if !values.is_empty() {
            let list: Vec<String> = values.iter().map(|v| format!("'{}'", v.replace('\'', "''"))).collect();
            sql.push_str(&format!(" AND {} IN ({})", d.as_str(), list.join(", ")));
        }
    }
    sql
}

/// The number the answer should hold, by the metric's rule, straight from `io_kpi_daily`.
async fn expected(pool: &PgPool, org: uuid::Uuid, p: &Parsed) -> Option<f64> {
    let metric = p.metrics.first()?;
    // One metric in two slices: the answer's number is the first slice's.
    let mut p = p.clone();
    if p.intent == Intent::Compare && p.metrics.len() == 1 {
        if let Some((d, values)) = insightops::ask::service::compared_slices(&p) {
            *p.filter.values_mut(d) = values[..1].to_vec();
        }
    }
    let p = &p;
    let rule: String = sqlx::query_scalar("SELECT aggregation FROM io_metric WHERE org_id = $1 AND key = $2").bind(org).bind(metric).fetch_one(pool).await.ok()?;
    let base = format!("FROM io_kpi_daily WHERE org_id = '{org}' AND metric_key = '{metric}' AND {}", conditions(p));
    let by_day = |day_value: &str| format!("SELECT kpi_date, {day_value} AS v {base} GROUP BY kpi_date");
    let day_value = if rule == "avg" { "avg(value)" } else { "sum(value)" };
    let sql = match p.intent {
        Intent::Top | Intent::Bottom => {
            let dim = p.dimension.unwrap_or(Dimension::Region).as_str();
            let order = if p.intent == Intent::Top { "DESC" } else { "ASC" };
            let per_member = match rule.as_str() {
                "avg" => format!("SELECT m, avg(v) AS t FROM (SELECT {dim} AS m, kpi_date, avg(value) AS v {base} GROUP BY 1, 2) x GROUP BY m"),
                "last" => format!("SELECT {dim} AS m, sum(value) AS t {base} AND kpi_date = (SELECT max(kpi_date) {base}) GROUP BY 1"),
                _ => format!("SELECT {dim} AS m, sum(value) AS t {base} GROUP BY 1"),
            };
            format!("SELECT t::float8 FROM ({per_member}) y WHERE m IS NOT NULL ORDER BY t {order} LIMIT 1")
        }
        _ => match rule.as_str() {
            "avg" => format!("SELECT avg(v)::float8 FROM ({}) x", by_day(day_value)),
            "last" => format!("SELECT v::float8 FROM ({}) x ORDER BY kpi_date DESC LIMIT 1", by_day(day_value)),
            _ => format!("SELECT sum(value)::float8 {base}"),
        },
    };
    sqlx::query_scalar::<_, Option<f64>>(&sql).fetch_one(pool).await.ok().flatten()
}

/// Right when the main number matches SQL (anomalies and forecasts: when one is given).
async fn correct(pool: &PgPool, org: uuid::Uuid, a: &Answer) -> bool {
    let (Some(p), Some(value)) = (&a.parsed, a.value) else { return false };
    if matches!(p.intent, Intent::Anomalies | Intent::Forecast) {
        return true;
    }
    expected(pool, org, p).await.is_some_and(|sql| (sql - value).abs() <= 1e-6 * sql.abs().max(1.0))
}

#[sqlx::test]
async fn the_question_set_is_answered_with_the_numbers_sql_gives(pool: PgPool) {
    seeded(&pool).await;
    let config = support::config("");
    let admin = scope(&pool, Role::Admin).await;
    let mut wrong = Vec::new();
    for q in QUESTIONS {
        let answer = insightops::ask::service::answer(&pool, &config, &admin, q).await.unwrap_or_else(|e| panic!("{q}: {e}"));
        if !correct(&pool, admin.org_id, &answer).await {
            wrong.push(format!("{q}: {:?} value {:?}, sentences {:?}", answer.parsed.as_ref().map(|p| (p.intent, &p.metrics)), answer.value, answer.sentences));
        }
        assert!(!answer.sentences.is_empty(), "{q}: an answer always says something");
        if answer.parsed.as_ref().is_some_and(|p| matches!(p.intent, Intent::Change | Intent::Why)) {
            assert!(answer.reasons.iter().any(|r| r.contains("Welch") || r.contains("too few days")), "{q}: {:?}", answer.reasons);
        }
    }
    let share = 1.0 - wrong.len() as f64 / QUESTIONS.len() as f64;
    println!("question set: {} of {} answered correctly ({:.1}%); wrong: {wrong:#?}", QUESTIONS.len() - wrong.len(), QUESTIONS.len(), share * 100.0);
    assert!(share >= 0.9, "{share}: {wrong:#?}");
}

#[sqlx::test]
async fn a_board_member_gets_no_restricted_numbers_and_the_history_keeps_feedback(pool: PgPool) {
    seeded(&pool).await;
    let config = support::config("");
    let board = scope(&pool, Role::Board).await;
    let board_user: uuid::Uuid = sqlx::query_scalar("SELECT id FROM io_user WHERE email = 'board@acme.example'").fetch_one(&pool).await.expect("board user");
    let restricted = insightops::ask::service::ask(&pool, &config, &board, board_user, "What was marketing spend last month?").await.expect("answer");
    assert!(restricted.parsed.is_none() && restricted.value.is_none(), "{restricted:?}");
    assert!(!restricted.suggestions.is_empty());
    let compare = insightops::ask::service::ask(&pool, &config, &board, board_user, "Compare revenue and marketing spend last month").await.expect("answer");
    let text = compare.sentences.join(" ") + &compare.facts.iter().map(|f| f.text.clone()).collect::<String>();
    assert!(!text.contains("Marketing"), "{text}");
    // Churn is anonymised for the board: totals only, so a slice of it is refused in words.
    let anonymised = insightops::ask::service::answer(&pool, &config, &board, "churn rate in EMEA last month").await.expect("answer");
    assert!(anonymised.value.is_none() && anonymised.sentences[0].contains("anonymised"), "{anonymised:?}");

    let history = insightops::ask::service::history(&pool, &board, board_user).await.expect("history");
    assert_eq!(history.iter().map(|h| h.question.as_str()).collect::<Vec<_>>(), vec!["Compare revenue and marketing spend last month", "What was marketing spend last month?"]);
    let id = compare.insight_id.expect("stored");
    insightops::ask::service::feedback(&pool, &board, board_user, id, true).await.expect("feedback");
    let history = insightops::ask::service::history(&pool, &board, board_user).await.expect("history");
    assert_eq!(history[0].useful, Some(true));
    let admin = scope(&pool, Role::Admin).await;
    let admin_user: uuid::Uuid = sqlx::query_scalar("SELECT id FROM io_user WHERE email = 'admin@acme.example'").fetch_one(&pool).await.expect("admin");
    assert!(insightops::ask::service::feedback(&pool, &admin, admin_user, id, false).await.is_err(), "only the asker marks an answer");
    assert!(insightops::ask::service::history(&pool, &admin, admin_user).await.expect("history").is_empty(), "histories are per user");
}
