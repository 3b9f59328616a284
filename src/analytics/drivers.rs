//! Drivers of a change: splits an additive metric's change between two periods into the
//! contributions of each value of a dimension (region, segment, channel, product) and ranks them.

use serde::{Deserialize, Serialize};

/// One dimension value's totals in the two periods being compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceTotals {
    /// The dimension value; rows without one are reported as "(none)" so the parts still add up.
    pub value: String,
    pub previous: f64,
    pub current: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub value: String,
    pub previous: f64,
    pub current: f64,
    /// current − previous: the slice's part of the total change.
    pub change: f64,
    /// change / total change; `None` when the total did not change.
    pub share_of_change: Option<f64>,
    /// previous / total previous: the slice's weight before the change.
    pub share_of_base: Option<f64>,
    /// share_of_change − share_of_base: how much more of the change the slice carries than its
    /// size explains. A slice that moved in proportion scores 0; the culprit scores high.
    pub excess_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverBreakdown {
    pub dimension: String,
    pub total_previous: f64,
    pub total_current: f64,
    pub total_change: f64,
    /// Largest |change| first.
    pub contributions: Vec<Contribution>,
}

/// Σ contributionᵢ = Σ (currentᵢ − previousᵢ) = total change, exactly what a sum metric needs;
/// ratio metrics (rates, averages) do not decompose this way and are not passed here.
pub fn decompose(dimension: &str, slices: &[SliceTotals]) -> DriverBreakdown {
    let total_previous: f64 = slices.iter().map(|s| s.previous).sum();
    let total_current: f64 = slices.iter().map(|s| s.current).sum();
    let total_change = total_current - total_previous;
    let ratio = |part: f64, whole: f64| (whole != 0.0).then(|| part / whole);
    let mut contributions: Vec<Contribution> = slices
        .iter()
        .map(|s| {
            let change = s.current - s.previous;
            let share_of_change = ratio(change, total_change);
            let share_of_base = ratio(s.previous, total_previous);
            Contribution {
                value: s.value.clone(),
                previous: s.previous,
                current: s.current,
                change,
                share_of_change,
                share_of_base,
                excess_share: share_of_change.zip(share_of_base).map(|(c, b)| c - b),
            }
        })
        .collect();
    contributions.sort_by(|a, b| b.change.abs().total_cmp(&a.change.abs()).then_with(|| a.value.cmp(&b.value)));
    DriverBreakdown { dimension: dimension.to_string(), total_previous, total_current, total_change, contributions }
}

/// The single best answer to "why": across all dimensions, the slice that moved with the total and
/// carries the most change beyond its size. `None` when nothing changed or no slice stands out.
pub fn main_driver(breakdowns: &[DriverBreakdown]) -> Option<(&DriverBreakdown, &Contribution)> {
    breakdowns
        .iter()
        .flat_map(|b| b.contributions.iter().map(move |c| (b, c)))
        .filter(|(b, c)| b.total_change != 0.0 && c.change.signum() == b.total_change.signum())
        .filter(|(_, c)| c.excess_share.is_some_and(|e| e > 0.0))
        .max_by(|(_, a), (_, b)| a.excess_share.unwrap_or(0.0).total_cmp(&b.excess_share.unwrap_or(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn slice(value: &str, previous: f64, current: f64) -> SliceTotals {
        SliceTotals { value: value.into(), previous, current }
    }

    #[test]
    fn an_outage_in_one_region_is_the_driver() {
        // Revenue 100 → 85. NA 45 → 44, EMEA 35 → 21, APAC 20 → 20.
        // Changes −1, −14, 0 sum to −15. EMEA carries 14/15 = 93.3 % of the drop with 35 % of
        // the base: excess 0.583.
        let regions = decompose("region", &[slice("NA", 45.0, 44.0), slice("EMEA", 35.0, 21.0), slice("APAC", 20.0, 20.0)]);
        assert_eq!(regions.total_change, -15.0);
        assert_eq!(regions.contributions[0].value, "EMEA");
        assert_eq!(regions.contributions[0].change, -14.0);
        let emea = &regions.contributions[0];
        assert!((emea.share_of_change.expect("changed") - 14.0 / 15.0).abs() < 1e-12);
        assert!((emea.excess_share.expect("both shares") - (14.0 / 15.0 - 0.35)).abs() < 1e-12);

        // Segments moved in proportion (60/40 before, 60/40 of the change): no excess.
        let segments = decompose("segment", &[slice("SMB", 60.0, 51.0), slice("Enterprise", 40.0, 34.0)]);
        let both = [regions, segments];
        let (dimension, driver) = main_driver(&both).expect("a driver");
        assert_eq!((dimension.dimension.as_str(), driver.value.as_str()), ("region", "EMEA"));
    }

    #[test]
    fn no_change_has_no_driver_and_no_shares() {
        let flat = decompose("channel", &[slice("web", 10.0, 12.0), slice("mobile", 10.0, 8.0)]);
        assert_eq!(flat.total_change, 0.0);
        assert!(flat.contributions.iter().all(|c| c.share_of_change.is_none()));
        assert!(main_driver(&[flat]).is_none());
    }

    proptest! {
        #[test]
        fn contributions_add_up_to_the_total_change(
            parts in proptest::collection::vec((0.0f64..1e6, 0.0f64..1e6), 1..12),
        ) {
            let slices: Vec<SliceTotals> = parts.iter().enumerate().map(|(i, (p, c))| slice(&format!("v{i}"), *p, *c)).collect();
            let breakdown = decompose("d", &slices);
            let sum: f64 = breakdown.contributions.iter().map(|c| c.change).sum();
            prop_assert!((sum - breakdown.total_change).abs() <= 1e-6 * (1.0 + breakdown.total_change.abs() + breakdown.total_previous));
            if breakdown.total_change != 0.0 {
                let shares: f64 = breakdown.contributions.iter().filter_map(|c| c.share_of_change).sum();
                prop_assert!((shares - 1.0).abs() < 1e-6 || breakdown.total_change.abs() < 1e-3);
            }
            // Ranked by the size of the change.
            prop_assert!(breakdown.contributions.windows(2).all(|w| w[0].change.abs() >= w[1].change.abs()));
        }
    }
}
