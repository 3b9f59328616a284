//! The demo-data definition (`seeds/demo.toml`) and injected anomalies (`seeds/anomalies.toml`),
//! parsed and checked. Both files are compiled in so `insightops seed` works from any directory.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::analytics::{Aggregation, Direction};

pub const DEMO_TOML: &str = include_str!("../../seeds/demo.toml");
pub const ANOMALIES_TOML: &str = include_str!("../../seeds/anomalies.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSpec {
    pub seed: u64,
    pub days: u32,
    pub dimensions: Dimensions,
    pub weights: Weights,
    pub orgs: Vec<OrgSpec>,
    pub metrics: Vec<SeriesSpec>,
    pub signals: Vec<SeriesSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimensions {
    pub region: Vec<String>,
    pub segment: Vec<String>,
    pub channel: Vec<String>,
    pub product: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub region: BTreeMap<String, f64>,
    pub segment: BTreeMap<String, f64>,
    pub channel: BTreeMap<String, f64>,
    pub product: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSpec {
    pub slug: String,
    pub name: String,
    pub volume: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesSpec {
    pub key: String,
    pub label: String,
    pub unit: String,
    pub direction: Direction,
    pub aggregation: Aggregation,
    pub base: f64,
    pub trend_per_year: f64,
    pub weekly: [f64; 7],
    pub yearly_amplitude: f64,
    pub noise: f64,
    pub decimals: u32,
    /// Who may see the metric (see `[access]` in Leptos.toml).
    #[serde(default = "internal")]
    pub visibility: crate::auth::Visibility,
    /// Personal data: exports mask its dimension values when `pii_masking` is on.
    #[serde(default)]
    pub pii: bool,
}

fn internal() -> crate::auth::Visibility {
    crate::auth::Visibility::Internal
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    #[default]
    Kpi,
    Signal,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalySpec {
    pub org: String,
    #[serde(default)]
    pub kind: SeriesKind,
    pub metric: String,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub channel: Option<String>,
    pub product: Option<String>,
    pub days_ago: u32,
    pub size: f64,
    pub note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnomalyFile {
    anomaly: Vec<AnomalySpec>,
}

/// Parses and cross-checks the compiled-in definition; an error names the offending entry.
pub fn load() -> Result<(DemoSpec, Vec<AnomalySpec>), String> {
    let demo: DemoSpec = toml::from_str(DEMO_TOML).map_err(|e| format!("seeds/demo.toml: {e}"))?;
    let anomalies: AnomalyFile =
        toml::from_str(ANOMALIES_TOML).map_err(|e| format!("seeds/anomalies.toml: {e}"))?;
    validate(&demo, &anomalies.anomaly)?;
    Ok((demo, anomalies.anomaly))
}

fn validate(demo: &DemoSpec, anomalies: &[AnomalySpec]) -> Result<(), String> {
    let dims = [
        ("region", &demo.dimensions.region, &demo.weights.region),
        ("segment", &demo.dimensions.segment, &demo.weights.segment),
        ("channel", &demo.dimensions.channel, &demo.weights.channel),
        ("product", &demo.dimensions.product, &demo.weights.product),
    ];
    for (name, values, weights) in dims {
        for value in values {
            match weights.get(value) {
                Some(w) if *w > 0.0 => {}
                _ => return Err(format!("seeds/demo.toml: weights.{name}.{value} must be a positive number")),
            }
        }
    }
    for a in anomalies {
        let series = match a.kind {
            SeriesKind::Kpi => &demo.metrics,
            SeriesKind::Signal => &demo.signals,
        };
        if !series.iter().any(|m| m.key == a.metric) {
            return Err(format!("seeds/anomalies.toml: unknown metric {:?} for org {:?}", a.metric, a.org));
        }
        if !demo.orgs.iter().any(|o| o.slug == a.org) {
            return Err(format!("seeds/anomalies.toml: unknown org {:?}", a.org));
        }
        if a.days_ago >= demo.days || a.size <= -1.0 {
            return Err(format!("seeds/anomalies.toml: {} on {} is out of range", a.metric, a.org));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_definition_is_valid_and_rich_enough() {
        let (demo, anomalies) = load().expect("seed definition parses");
        assert_eq!(demo.orgs.len(), 2);
        assert!(demo.metrics.len() >= 10);
        assert_eq!(demo.days, 730);
        assert!(anomalies.len() >= 10);
    }
}
