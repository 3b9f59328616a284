//! The anomaly detector against the truth: the demo data's injected anomalies (seeds/anomalies.toml).
//! Recall must reach 0.9 and precision 0.7 at `warning`; the figures are printed.

use chrono::NaiveDate;
use insightops::analytics::anomaly::{score_series, AnomalyConfig, Severity};
use insightops::analytics::DailyValue;
use insightops::db::kpi::{daily_by, DimensionFilter, FactTable};
use insightops::db::orgs;
use insightops::seed::spec::{load, AnomalySpec, SeriesKind};
use insightops::seed::{run, SeedOptions};
use sqlx::PgPool;

fn filter_of(a: &AnomalySpec) -> DimensionFilter {
    let list = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
    DimensionFilter { region: list(&a.region), segment: list(&a.segment), channel: list(&a.channel), product: list(&a.product) }
}

/// Does anomaly `b` touch cells of `a`'s slice? True when no dimension pins them to different values.
fn overlaps(a: &AnomalySpec, b: &AnomalySpec) -> bool {
    let compatible = |x: &Option<String>, y: &Option<String>| x.is_none() || y.is_none() || x == y;
    a.org == b.org
        && a.kind == b.kind
        && a.metric == b.metric
        && compatible(&a.region, &b.region)
        && compatible(&a.segment, &b.segment)
        && compatible(&a.channel, &b.channel)
        && compatible(&a.product, &b.product)
}

#[sqlx::test]
async fn the_detector_finds_the_injected_anomalies(pool: PgPool) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    run(&pool, &SeedOptions { days: 730, scale: 1, end, only_if_empty: false }).await.expect("seed demo data");
    let (demo, anomalies) = load().expect("spec");
    let config = AnomalyConfig::default();
    let date_of = |a: &AnomalySpec| end - chrono::Duration::days(i64::from(a.days_ago));

    let (mut found, mut flagged_total, mut flagged_explained) = (0, 0, 0);
    let mut seen_slices: Vec<&AnomalySpec> = Vec::new();
    println!("{:<8} {:<16} {:<28} {:>10} {:>9} {:>9}", "org", "metric", "slice", "date", "z", "severity");
    for a in &anomalies {
        let org = orgs::by_slug(&pool, &a.org).await.expect("query").expect("seeded org");
        let table = match a.kind {
            SeriesKind::Kpi => FactTable::Kpi,
            SeriesKind::Signal => FactTable::Signal,
        };
        let series_spec = demo.metrics.iter().chain(&demo.signals).find(|m| m.key == a.metric).expect("a defined metric");
        let rows = daily_by(&pool, org.id, table, &a.metric, series_spec.aggregation, &filter_of(a), None, end - chrono::Duration::days(729), end)
            .await
            .expect("slice query");
        assert_eq!(rows.len(), 730, "{} {} has every day", a.org, a.metric);
        let series: Vec<DailyValue> = rows.iter().map(|r| DailyValue::new(r.day, r.value)).collect();
        let scores = score_series(&series, &config);
        let hit = scores.iter().find(|s| s.date == date_of(a));
        let detected = hit.is_some_and(|s| s.severity >= Some(Severity::Warning));
        found += usize::from(detected);
        let slice = [&a.region, &a.segment, &a.channel, &a.product].iter().filter_map(|d| d.as_deref()).collect::<Vec<_>>().join("/");
        println!(
            "{:<8} {:<16} {:<28} {:>10} {:>9} {:>9}",
            a.org,
            a.metric,
            if slice.is_empty() { "(all)".to_string() } else { slice },
            date_of(a),
            hit.and_then(|s| s.score).map_or("-".into(), |z| format!("{z:.1}")),
            hit.and_then(|s| s.severity).map_or("none", |s| s.as_str())
        );

        // Precision: every warning-or-worse point of each distinct slice, explained when an injected
        // anomaly touching this slice falls on that day.
        let same_slice = |b: &&AnomalySpec| b.org == a.org && b.kind == a.kind && b.metric == a.metric && filter_of(b) == filter_of(a);
        if seen_slices.iter().any(same_slice) {
            continue;
        }
        seen_slices.push(a);
        for s in scores.iter().filter(|s| s.severity >= Some(Severity::Warning)) {
            flagged_total += 1;
            if anomalies.iter().any(|b| overlaps(a, b) && date_of(b) == s.date) {
                flagged_explained += 1;
            } else {
                println!("  false alarm: {} {} {} z={:.2}", a.org, a.metric, s.date, s.score.unwrap_or(f64::NAN));
            }
        }
    }
    let recall = found as f64 / anomalies.len() as f64;
    let precision = if flagged_total == 0 { 0.0 } else { flagged_explained as f64 / flagged_total as f64 };
    println!(
        "recall {found}/{} = {recall:.3}; precision at warning {flagged_explained}/{flagged_total} = {precision:.3} over {} series",
        anomalies.len(),
        seen_slices.len()
    );
    assert!(recall >= 0.9, "recall {recall:.3} < 0.9");
    assert!(precision >= 0.7, "precision {precision:.3} < 0.7");
}
