//! The deterministic demo-data model: each cell's value is a pure function of the seed and the
//! cell's keys (org, series, dimension values, date), so any date range regenerates identically.

use std::f64::consts::PI;

use chrono::{Datelike, NaiveDate};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::spec::{AnomalySpec, DemoSpec, OrgSpec, SeriesKind, SeriesSpec};
use crate::analytics::Aggregation;

/// One combination of dimension values; `None` means the series is not split by that dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub region: Option<String>,
    pub segment: Option<String>,
    pub channel: Option<String>,
    pub product: Option<String>,
}

/// The product list at `scale`: the base products, then `core-2, pro-2, …` up to `core-N, pro-N`.
pub fn products(demo: &DemoSpec, scale: u32) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for copy in 1..=scale.max(1) {
        for name in &demo.dimensions.product {
            let weight = demo.weights.product.get(name).copied().unwrap_or(1.0);
            let label = if copy == 1 { name.clone() } else { format!("{name}-{copy}") };
            out.push((label, weight));
        }
    }
    out
}

/// Every cell of a KPI (all four dimensions) or a signal (region × channel), with its share of
/// the org total (weights normalised per dimension, so shares add up to 1).
pub fn cells(demo: &DemoSpec, kind: SeriesKind, scale: u32) -> Vec<(Cell, f64)> {
    let share = |values: &[(String, f64)]| -> Vec<(Option<String>, f64)> {
        let total: f64 = values.iter().map(|(_, w)| w).sum();
        values.iter().map(|(v, w)| (Some(v.clone()), w / total)).collect()
    };
    let weighted = |values: &[String], weights: &std::collections::BTreeMap<String, f64>| -> Vec<(String, f64)> {
        values.iter().map(|v| (v.clone(), weights.get(v).copied().unwrap_or(1.0))).collect()
    };
    let regions = share(&weighted(&demo.dimensions.region, &demo.weights.region));
    let channels = share(&weighted(&demo.dimensions.channel, &demo.weights.channel));
    let (segments, prods) = match kind {
        SeriesKind::Kpi => (
            share(&weighted(&demo.dimensions.segment, &demo.weights.segment)),
            share(&products(demo, scale)),
        ),
        SeriesKind::Signal => (vec![(None, 1.0)], vec![(None, 1.0)]),
    };
    let mut out = Vec::new();
    for (region, wr) in &regions {
        for (segment, ws) in &segments {
            for (channel, wc) in &channels {
                for (product, wp) in &prods {
                    let cell = Cell {
                        region: region.clone(),
                        segment: segment.clone(),
                        channel: channel.clone(),
                        product: product.clone(),
                    };
                    out.push((cell, wr * ws * wc * wp));
                }
            }
        }
    }
    out
}

/// Years since 2024-01-01, the fixed origin of every trend (so values do not depend on the window).
fn years_since_origin(date: NaiveDate) -> f64 {
    let origin = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or(NaiveDate::MIN);
    (date - origin).num_days() as f64 / 365.25
}

fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= byte as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// A standard-normal draw that depends only on (seed, keys, date).
fn noise(seed: u64, keys: &[&str], date: NaiveDate) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ fnv1a(keys));
    // Each day reads its own region of the stream, so a day's noise ignores every other day.
    rng.set_word_pos(date.num_days_from_ce() as u128 * 64);
    StandardNormal.sample(&mut rng)
}

fn round_to(value: f64, decimals: u32) -> f64 {
    let factor = 10f64.powi(decimals as i32);
    (value * factor).round() / factor
}

/// Does `anomaly` hit this cell on this day? `end` is the last seeded day.
fn hits(a: &AnomalySpec, org: &str, kind: SeriesKind, key: &str, cell: &Cell, date: NaiveDate, end: NaiveDate) -> bool {
    let dim_ok = |want: &Option<String>, have: &Option<String>| match want {
        None => true,
        // A scaled product `pro-3` belongs to the base product `pro`.
        Some(w) => have.as_deref().is_some_and(|h| h == w || h.strip_prefix(w.as_str()).is_some_and(|s| s.starts_with('-'))),
    };
    a.org == org
        && a.kind == kind
        && a.metric == key
        && (end - date).num_days() == a.days_ago as i64
        && dim_ok(&a.region, &cell.region)
        && dim_ok(&a.segment, &cell.segment)
        && dim_ok(&a.channel, &cell.channel)
        && dim_ok(&a.product, &cell.product)
}

/// The value of one cell on one day, rounded as the series says.
#[allow(clippy::too_many_arguments)]
pub fn cell_value(
    demo: &DemoSpec,
    org: &OrgSpec,
    kind: SeriesKind,
    series: &SeriesSpec,
    cell: &Cell,
    share: f64,
    date: NaiveDate,
    end: NaiveDate,
    anomalies: &[AnomalySpec],
) -> f64 {
    // Additive series split their org total by share; rates vary mildly around the base instead.
    let level = match series.aggregation {
        Aggregation::Sum | Aggregation::Last => series.base * org.volume * share,
        Aggregation::Avg => series.base * (0.9 + 0.2 * (share * 7.3).fract()),
    };
    let trend = 1.0 + series.trend_per_year * years_since_origin(date);
    let weekly = series.weekly[date.weekday().num_days_from_monday() as usize];
    let yearly = 1.0 + series.yearly_amplitude * (2.0 * PI * date.ordinal() as f64 / 365.25).sin();
    let keys = [
        org.slug.as_str(),
        series.key.as_str(),
        cell.region.as_deref().unwrap_or("-"),
        cell.segment.as_deref().unwrap_or("-"),
        cell.channel.as_deref().unwrap_or("-"),
        cell.product.as_deref().unwrap_or("-"),
    ];
    let jitter = 1.0 + series.noise * noise(demo.seed, &keys, date);
    let mut value = level * trend * weekly * yearly * jitter;
    for a in anomalies {
        if hits(a, &org.slug, kind, &series.key, cell, date, end) {
            value *= 1.0 + a.size;
        }
    }
    round_to(value.max(0.0), series.decimals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::spec::load;

    #[test]
    fn shares_of_a_kpi_add_up_to_one() {
        let (demo, _) = load().expect("spec");
        for scale in [1, 3] {
            let cells = cells(&demo, SeriesKind::Kpi, scale);
            assert_eq!(cells.len(), 3 * 2 * 3 * 2 * scale as usize);
            let total: f64 = cells.iter().map(|(_, s)| s).sum();
            assert!((total - 1.0).abs() < 1e-9, "shares sum to {total}");
        }
        assert_eq!(cells(&demo, SeriesKind::Signal, 5).len(), 9);
    }

    #[test]
    fn a_cell_value_is_independent_of_when_it_is_generated() {
        let (demo, anomalies) = load().expect("spec");
        let (cell, share) = cells(&demo, SeriesKind::Kpi, 1).remove(0);
        let date = NaiveDate::from_ymd_opt(2026, 6, 15).expect("date");
        let end = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
        let v1 = cell_value(&demo, &demo.orgs[0], SeriesKind::Kpi, &demo.metrics[0], &cell, share, date, end, &anomalies);
        let v2 = cell_value(&demo, &demo.orgs[0], SeriesKind::Kpi, &demo.metrics[0], &cell, share, date, end, &anomalies);
        assert_eq!(v1, v2);
        assert!(v1 > 0.0);
        let other_day = cell_value(&demo, &demo.orgs[0], SeriesKind::Kpi, &demo.metrics[0], &cell, share, date.succ_opt().expect("date"), end, &anomalies);
        assert_ne!(v1, other_day);
    }

    #[test]
    fn an_injected_anomaly_moves_its_cell_by_its_size() {
        let (demo, anomalies) = load().expect("spec");
        let a = anomalies.iter().find(|a| a.org == "acme" && a.metric == "revenue").expect("revenue anomaly");
        let series = demo.metrics.iter().find(|m| m.key == "revenue").expect("revenue");
        let (cell, share) = cells(&demo, SeriesKind::Kpi, 1)
            .into_iter()
            .find(|(c, _)| a.region.is_none() || c.region == a.region)
            .expect("a matching cell");
        let end = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
        let date = end - chrono::Duration::days(a.days_ago as i64);
        let with = cell_value(&demo, &demo.orgs[0], SeriesKind::Kpi, series, &cell, share, date, end, &anomalies);
        let without = cell_value(&demo, &demo.orgs[0], SeriesKind::Kpi, series, &cell, share, date, end, &[]);
        assert!((with / without - (1.0 + a.size)).abs() < 0.01, "{with} vs {without}");
    }
}
