//! Weekly, monthly and quarterly aggregates (issue 13) are a pure function of the facts: after
//! any sequence of loads (new rows, re-sends, changed values) every stored aggregate equals the
//! one computed here from the raw rows with the analytics rules, and none is missing or extra.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};
use insightops::analytics::aggregate::combine;
use insightops::analytics::calendar::{period_containing, Granularity};
use insightops::analytics::Aggregation;
use insightops::domain::ingest::{IngestMode, IngestTarget, LoadChannel};
use insightops::ingest::parse::parse_csv;
use insightops::ingest::service::{load, LoadRequest};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{config, day, insert_metric, insert_org};

const METRICS: [&str; 3] = ["revenue", "conversion_rate", "active_users"];
const REGIONS: [&str; 3] = ["EMEA", "AMER", "APAC"];

/// (day offset, metric, region or none, product or none, value in cents)
type Row = (i64, usize, usize, usize, i64);

fn csv(rows: &[Row]) -> String {
    let mut out = String::from("date,metric,value,region,product\n");
    let first = day("2026-01-01");
    for (offset, metric, region, product, cents) in rows {
        let region = REGIONS.get(*region).copied().unwrap_or("");
        let product = if *product == 0 { "widget" } else { "" };
        out.push_str(&format!("{},{},{},{region},{product}\n", first + Duration::days(*offset), METRICS[*metric], *cents as f64 / 100.0));
    }
    out
}

type Key = (String, &'static str, NaiveDate, String, String);

/// Every aggregate computed from the raw facts: per grain, metric, period and slice, the day
/// values (Σ or mean of the rows) combined by the metric's rule.
async fn expected(pool: &PgPool, org: Uuid) -> BTreeMap<Key, (f64, i32)> {
    let facts: Vec<(NaiveDate, String, f64, Option<String>, Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT kpi_date, metric_key, value::float8, region, segment, channel, product FROM io_kpi_daily WHERE org_id = $1",
    )
    .bind(org)
    .fetch_all(pool)
    .await
    .expect("facts");
    let rules: HashMap<String, Aggregation> = [("revenue", Aggregation::Sum), ("conversion_rate", Aggregation::Avg), ("active_users", Aggregation::Last)]
        .into_iter()
        .map(|(k, r)| (k.to_string(), r))
        .collect();
    let mut days: BTreeMap<Key, BTreeMap<NaiveDate, (f64, u32)>> = BTreeMap::new();
    for (date, metric, value, region, segment, channel, product) in &facts {
        let slices = [("total", Some(String::new())), ("region", region.clone()), ("segment", segment.clone()), ("channel", channel.clone()), ("product", product.clone())];
        for (grain, g) in [("week", Granularity::Week), ("month", Granularity::Month), ("quarter", Granularity::Quarter)] {
            let start = period_containing(*date, g).start;
            for (dimension, member) in &slices {
                let key = (metric.clone(), grain, start, dimension.to_string(), member.clone().unwrap_or_default());
                let cell = days.entry(key).or_default().entry(*date).or_insert((0.0, 0));
                cell.0 += value;
                cell.1 += 1;
            }
        }
    }
    days.into_iter()
        .map(|(key, by_day)| {
            let rule = rules[&key.0];
            let values: Vec<f64> = by_day.values().map(|(sum, n)| if rule == Aggregation::Avg { sum / f64::from(*n) } else { *sum }).collect();
            let value = combine(rule, &values).expect("a value");
            (key, (value, by_day.len() as i32))
        })
        .collect()
}

async fn stored(pool: &PgPool, org: Uuid) -> BTreeMap<Key, (f64, i32)> {
    let rows: Vec<(String, String, NaiveDate, String, String, f64, i32)> =
        sqlx::query_as("SELECT metric_key, grain, period_start, dimension, member, value, days_present FROM io_kpi_period WHERE org_id = $1")
            .bind(org)
            .fetch_all(pool)
            .await
            .expect("aggregates");
    rows.into_iter()
        .map(|(metric, grain, start, dimension, member, value, days)| {
            let grain: &'static str = match grain.as_str() {
                "week" => "week",
                "month" => "month",
                _ => "quarter",
            };
            ((metric, grain, start, dimension, member), (value, days))
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

#[sqlx::test]
async fn aggregates_equal_the_raw_computation_after_any_loads_resends_and_updates(pool: PgPool) {
    let org = insert_org(&pool, "acme").await;
    insert_metric(&pool, org, "revenue", "USD", "higher_is_better", "sum", 1).await;
    insert_metric(&pool, org, "conversion_rate", "%", "higher_is_better", "avg", 2).await;
    insert_metric(&pool, org, "active_users", "count", "higher_is_better", "last", 3).await;
    let cfg = config("[jobs]\ndetect_delay_seconds = 3600");
    let request = LoadRequest { org_id: org, target: IngestTarget::Kpi, mode: IngestMode::Partial, create_metrics: false, channel: LoadChannel::Api, actor: "test".into() };
    // New rows over two quarters, and picks of earlier rows to re-send unchanged or changed.
    let new_rows = proptest::collection::vec((0i64..200, 0usize..3, 0usize..4, 0usize..2, -50_000i64..50_000), 1..40);
    let resends = proptest::collection::vec((any::<prop::sample::Index>(), any::<bool>(), -50_000i64..50_000), 0..15);
    let mut runner = TestRunner::deterministic();
    let mut sent: Vec<Row> = Vec::new();
    let (mut inserted, mut updated, mut unchanged) = (0, 0, 0);
    for round in 0..25 {
        let fresh = new_rows.new_tree(&mut runner).expect("rows").current();
        let mut rows = fresh.clone();
        if !sent.is_empty() {
            for (pick, change, cents) in resends.new_tree(&mut runner).expect("resends").current() {
                let mut row = sent[pick.index(sent.len())];
                if change {
                    row.4 = cents;
                }
                rows.push(row);
            }
        }
        let parsed = parse_csv(csv(&rows).as_bytes(), 10_000).expect("parsed");
        let report = load(&pool, &cfg, &request, &parsed).await.expect("load");
        (inserted, updated, unchanged) = (inserted + report.inserted, updated + report.updated, unchanged + report.unchanged);
        sent.extend(fresh);
        let (want, have) = (expected(&pool, org).await, stored(&pool, org).await);
        assert!(!want.is_empty());
        assert_eq!(want.keys().collect::<Vec<_>>(), have.keys().collect::<Vec<_>>(), "round {round}: the same periods and slices");
        for (key, (value, days)) in &want {
            let (stored_value, stored_days) = have[key];
            assert!(close(*value, stored_value) && *days == stored_days, "round {round} {key:?}: raw {value} over {days} days, stored {stored_value} over {stored_days}");
        }
    }
    // The rounds did what they claim: new rows, changed values and unchanged re-sends.
    assert!(inserted > 300 && updated > 20 && unchanged > 20, "inserted {inserted}, updated {updated}, unchanged {unchanged}");
}
