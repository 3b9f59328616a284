//! The manager dashboard's service and server function on the demo data: drill levels add up,
//! URL mistakes are 400s with clear messages, and each org sees only its own numbers.

use axum::http::StatusCode;
use chrono::NaiveDate;
use insightops::analytics::AnalyticsConfig;
use insightops::dashboard::service::dashboard;
use insightops::dashboard::{DashboardData, DashboardQuery};
use insightops::error::AppError;
use insightops::model::Dimension;
use insightops::seed::{run, SeedOptions};
use sqlx::PgPool;

use crate::support::Client;
use insightops::auth::server::Scope;
use insightops::auth::{AccessPolicy, Role};

async fn scope(pool: &PgPool, slug: &str) -> Scope {
    Scope::for_org(pool, slug, Role::Admin, &AccessPolicy::default()).await.expect("org")
}

async fn seed(pool: &PgPool) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    run(pool, &SeedOptions { days: 200, scale: 1, end, only_if_empty: false }).await.expect("seed");
}

async fn view(pool: &PgPool, org: &str, query: &DashboardQuery) -> DashboardData {
    dashboard(pool, &scope(pool, org).await, query.clone(), &AnalyticsConfig::default()).await.expect("dashboard")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * (1.0 + a.abs())
}

#[sqlx::test]
async fn drill_levels_add_up_from_the_total_to_the_daily_detail(pool: PgPool) {
    seed(&pool).await;
    let mut query = DashboardQuery::from_query_string("metric=revenue&range=30d&channel=web,mobile").expect("valid");
    let mut parent_total = None;
    for depth in 0..=Dimension::ALL.len() {
        let data = view(&pool, "acme", &query).await;
        let total = data.total.current.expect("revenue has data");
        if let Some(parent) = parent_total {
            assert!(close(total, parent), "depth {depth}: the child's total {total} is the parent's row {parent}");
        }
        match data.level {
            Some(level) => {
                assert_eq!(level, Dimension::ALL[depth]);
                let children: f64 = data.breakdown.iter().filter_map(|r| r.value).sum();
                assert!(close(children, total), "depth {depth}: children sum {children} = total {total}");
                // The web/mobile filter holds at every level: no partner rows sneak in.
                if level == Dimension::Channel {
                    let names: Vec<&str> = data.breakdown.iter().map(|r| r.member.as_str()).collect();
                    assert_eq!(names.len(), 2, "{names:?}");
                    assert!(!names.contains(&"partner"));
                }
                // Drill into the largest child next.
                let largest = &data.breakdown[0];
                parent_total = largest.value;
                query = query.drilled_into(&largest.member);
                assert_eq!(data.breadcrumb.len(), depth + 1);
            }
            None => {
                let days: f64 = data.daily.iter().map(|p| p.value).sum();
                assert!(close(days, total), "detail rows {days} add up to the total {total}");
                assert_eq!(data.daily.len(), 30);
                assert_eq!(data.breadcrumb.len(), 5);
            }
        }
    }
}

#[sqlx::test]
async fn a_long_range_reads_its_whole_weeks_from_the_stored_aggregates(pool: PgPool) {
    seed(&pool).await;
    let query = DashboardQuery::from_query_string("metric=revenue&range=365d&region=EMEA").expect("valid");
    let data = view(&pool, "acme", &query).await;
    let whole: Vec<_> = data.weekly.iter().filter(|w| w.period.start >= data.start && w.period.end <= data.end).collect();
    assert!(whole.len() > 20, "{} whole weeks", whole.len());
    // The stored values are what is shown: they equal the days' combination...
    for w in &whole {
        let days: f64 = data.daily.iter().filter(|p| p.date >= w.period.start && p.date <= w.period.end).map(|p| p.value).sum();
        assert!(close(w.aggregate.value.expect("a value"), days), "{}: {:?} vs {days}", w.period.label, w.aggregate.value);
    }
    // ...and a stored value is read, not recomputed: change one and the view follows.
    let marked = whole[3].period.start;
    sqlx::query("UPDATE io_kpi_period SET value = 123456789 WHERE grain = 'week' AND dimension = 'region' AND member = 'EMEA' AND metric_key = 'revenue' AND period_start = $1")
        .bind(marked)
        .execute(&pool)
        .await
        .expect("mark");
    let again = view(&pool, "acme", &query).await;
    let shown = again.weekly.iter().find(|w| w.period.start == marked).and_then(|w| w.aggregate.value);
    assert_eq!(shown, Some(123456789.0));
    // A short range combines the days it shows.
    let short = view(&pool, "acme", &DashboardQuery::from_query_string("metric=revenue&range=30d&region=EMEA").expect("valid")).await;
    assert!(short.weekly.iter().all(|w| w.aggregate.value != Some(123456789.0)));
}

#[sqlx::test]
async fn bad_urls_are_explained_and_orgs_are_isolated(pool: PgPool) {
    seed(&pool).await;
    let err = |text: &str| {
        let pool = pool.clone();
        let text = text.to_string();
        async move {
            let query = DashboardQuery::from_query_string(&text).expect("syntax is fine");
            dashboard(&pool, &scope(&pool, "acme").await, query, &AnalyticsConfig::default()).await.expect_err(&text)
        }
    };
    assert!(matches!(err("metric=profit").await, AppError::BadRequest(m) if m.contains("unknown metric \"profit\"")));
    assert!(matches!(err("region=Mars").await, AppError::BadRequest(m) if m.contains("Region \"Mars\" does not exist")));
    assert!(matches!(err("region=NA&drill=EMEA").await, AppError::BadRequest(m) if m.contains("excluded by the region filter")));

    // Globex is smaller (volume 0.4): the same view gives other numbers, from its own rows only.
    let query = DashboardQuery::from_query_string("metric=orders&range=7d").expect("valid");
    let acme = view(&pool, "acme", &query).await;
    let globex = view(&pool, "globex", &query).await;
    assert_eq!((acme.org_name.as_str(), globex.org_name.as_str()), ("Acme Retail", "Globex Online"));
    let (a, g) = (acme.total.current.expect("data"), globex.total.current.expect("data"));
    assert!(g < a * 0.6, "globex {g} vs acme {a}");

    // Through the router: 200 with data, 400 with the message for a malformed URL.
    let client = Client::signed_in(&pool, "manager@acme.example", "manager-acme-demo").await;
    let reply = client.post("/api/dashboard", "query=metric%3Dorders%26range%3D7d").await;
    let (status, json) = (reply.status, reply.json());
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["metric"]["key"], "orders");
    assert!(close(json["total"]["current"].as_f64().expect("number"), a));
    let reply = client.post("/api/dashboard", "query=from%3D2026-10-05%26to%3D2026-10-01").await;
    let (status, json) = (reply.status, reply.json());
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json["BadRequest"].as_str().unwrap_or_default().contains("before it starts"), "{json}");
}

#[sqlx::test]
async fn the_rollups_agree_with_the_facts(pool: PgPool) {
    use insightops::db::kpi::{daily_by_from, DimensionFilter, FactTable, ReadSource};
    seed(&pool).await;
    let org = insightops::db::orgs::by_slug(&pool, "acme").await.expect("query").expect("org").id;
    let (start, end) = (NaiveDate::from_ymd_opt(2026, 9, 1).expect("date"), NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"));
    let emea_web = DimensionFilter { region: vec!["EMEA".into()], channel: vec!["web".into(), "mobile".into()], ..Default::default() };
    use insightops::analytics::Aggregation;
    for (metric, rule) in [("revenue", Aggregation::Sum), ("conversion_rate", Aggregation::Avg), ("active_users", Aggregation::Last)] {
        for (filter, by, rollup) in [
            (DimensionFilter::default(), None, ReadSource::Totals),
            (DimensionFilter::default(), Some(Dimension::Segment), ReadSource::Members),
            (DimensionFilter::default(), Some(Dimension::Product), ReadSource::Members),
            (emea_web.clone(), Some(Dimension::Segment), ReadSource::Cube),
            (emea_web.clone(), Some(Dimension::Channel), ReadSource::Cube),
        ] {
            assert_eq!(ReadSource::for_query(FactTable::Kpi, &filter, by), rollup);
            let fast = daily_by_from(&pool, org, FactTable::Kpi, rollup, metric, rule, &filter, by, start, end).await.expect("rollup query");
            let slow = daily_by_from(&pool, org, FactTable::Kpi, ReadSource::Facts, metric, rule, &filter, by, start, end).await.expect("fact query");
            assert_eq!(fast.len(), slow.len(), "{metric} {by:?}");
            assert!(!fast.is_empty());
            for (a, b) in fast.iter().zip(&slow) {
                assert_eq!((a.day, &a.member), (b.day, &b.member));
                assert!(close(a.value, b.value), "{metric} {by:?} {}: {} vs {}", a.day, a.value, b.value);
            }
        }
    }
    // The board page's period totals per member match the facts, day by day summed.
    let split = NaiveDate::from_ymd_opt(2026, 10, 1).expect("date");
    let periods = insightops::db::kpi::member_period_totals(&pool, org, "revenue", Dimension::Product, start, split, end).await.expect("periods");
    let facts = daily_by_from(&pool, org, FactTable::Kpi, ReadSource::Facts, "revenue", Aggregation::Sum, &DimensionFilter::default(), Some(Dimension::Product), start, end)
        .await
        .expect("facts");
    assert_eq!(periods.len(), 2, "core and pro");
    for p in &periods {
        let sum = |keep: &dyn Fn(NaiveDate) -> bool| -> f64 {
            facts.iter().filter(|r| r.member == p.member && keep(r.day)).map(|r| r.value).sum()
        };
        assert!(close(p.previous, sum(&|d| d < split)), "{:?} previous", p.member);
        assert!(close(p.current, sum(&|d| d >= split)), "{:?} current", p.member);
    }

    // Product is not in the cube: a product filter reads the facts.
    let pro = DimensionFilter { product: vec!["pro".into()], ..Default::default() };
    assert_eq!(ReadSource::for_query(FactTable::Kpi, &pro, None), ReadSource::Facts);
    assert_eq!(ReadSource::for_query(FactTable::Kpi, &pro, Some(Dimension::Region)), ReadSource::Facts);
}

/// A model run reads each metric once: its total and every slice in one query. The result is the
/// same, slice by slice and day by day, as one `daily_by` read per slice, for KPIs (rollups) and
/// signals (grouping sets over the facts, whose rows leave some dimensions empty).
#[sqlx::test]
async fn one_read_per_metric_gives_every_slice_of_the_per_slice_reads(pool: PgPool) {
    use insightops::analytics::Aggregation;
    use insightops::db::kpi::{daily_by, metric_slices, DimensionFilter, FactTable};
    seed(&pool).await;
    let org = insightops::db::orgs::by_slug(&pool, "acme").await.expect("query").expect("org").id;
    let (start, end) = (NaiveDate::from_ymd_opt(2026, 9, 1).expect("date"), NaiveDate::from_ymd_opt(2026, 10, 15).expect("date"));
    let signal: String = sqlx::query_scalar("SELECT key FROM io_metric WHERE org_id = $1 AND kind = 'signal' ORDER BY key LIMIT 1").bind(org).fetch_one(&pool).await.expect("a signal");
    for (table, metric, rule) in [(FactTable::Kpi, "revenue", Aggregation::Sum), (FactTable::Kpi, "conversion_rate", Aggregation::Avg), (FactTable::Signal, signal.as_str(), Aggregation::Sum), (FactTable::Signal, signal.as_str(), Aggregation::Avg)] {
        let rows = metric_slices(&pool, org, table, metric, rule, &Dimension::ALL, start, end).await.expect("one read");
        let mut compared = 0;
        for by in std::iter::once(None).chain(Dimension::ALL.into_iter().map(Some)) {
            let each = daily_by(&pool, org, table, metric, rule, &DimensionFilter::default(), by, start, end).await.expect("per-slice read");
            let mut expected: Vec<_> = each.iter().filter(|r| by.is_none() || r.member.is_some()).collect();
            expected.sort_by(|a, b| (&a.member, a.day).cmp(&(&b.member, b.day)));
            let got: Vec<_> = rows.iter().filter(|r| r.dimension.as_deref() == by.map(|d| d.as_str())).collect();
            assert_eq!(got.len(), expected.len(), "{metric} {by:?}");
            for (a, b) in got.iter().zip(&expected) {
                assert_eq!((a.day, &a.member), (b.day, &b.member), "{metric} {by:?}");
                assert!(close(a.value, b.value), "{metric} {by:?} {}: {} vs {}", a.day, a.value, b.value);
            }
            compared += got.len();
        }
        assert_eq!(compared, rows.len(), "{metric}: no row outside a slice");
        assert!(rows.iter().any(|r| r.dimension.is_some()), "{metric} has slices");
        let totals_only = metric_slices(&pool, org, table, metric, rule, &[], start, end).await.expect("totals");
        assert!(!totals_only.is_empty() && totals_only.iter().all(|r| r.dimension.is_none() && r.member.is_none()));
    }
}

#[sqlx::test]
async fn board_anomalies_link_to_the_days_they_describe(pool: PgPool) {
    use insightops::analytics::calendar::Granularity;
    use insightops::analytics::narrative::Fact;
    use insightops::exec::service::exec_summary;
    use insightops::exec::ExecQuery;
    seed(&pool).await;
    // The board lists the open anomaly findings the models stored, not a live rescoring.
    let acme = insightops::db::orgs::by_slug(&pool, "acme").await.expect("query").expect("org").id;
    insightops::models::service::run_active(&pool, acme, "test", &AnalyticsConfig::default()).await.expect("models run");
    let query = ExecQuery { grain: Granularity::Month, period: None };
    let summary = exec_summary(&pool, &scope(&pool, "acme").await, &query).await.expect("summary");
    assert_eq!(summary.period_label, "2026-10");
    assert!(!summary.anomalies.is_empty(), "the injected October anomalies show on the board");
    for linked in &summary.anomalies {
        let Fact::Anomaly { date, .. } = linked.fact else { panic!("not an anomaly fact: {:?}", linked.fact) };
        let link = DashboardQuery::from_query_string(linked.href.trim_start_matches("/dashboard?")).expect("a dashboard link");
        let (from, to) = (link.from.expect("from"), link.to.expect("to"));
        assert!(from <= date && date <= to, "{date} outside {from}..{to}");
        assert!(linked.sentence.contains(&date.to_string()));
    }
    // A dismissed finding leaves the board at once.
    let open: i64 = sqlx::query_scalar("SELECT count(*) FROM io_recommendation WHERE org_id = $1 AND status = 'open' AND category = 'anomaly'").bind(acme).fetch_one(&pool).await.expect("count");
    assert!(open > 0);
    sqlx::query("UPDATE io_recommendation SET status = 'dismissed' WHERE org_id = $1 AND category = 'anomaly'").bind(acme).execute(&pool).await.expect("dismiss");
    let summary = exec_summary(&pool, &scope(&pool, "acme").await, &query).await.expect("summary");
    assert!(summary.anomalies.is_empty(), "{:?}", summary.anomalies);
}
