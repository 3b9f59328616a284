//! Domain vocabulary shared by server and browser: the four dimensions, a multi-value filter over
//! them, and the drill order a dashboard walks (total → region → segment → channel → product).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Region,
    Segment,
    Channel,
    Product,
}

impl Dimension {
    /// The drill order, also the column order of the fact tables.
    pub const ALL: [Dimension; 4] = [Dimension::Region, Dimension::Segment, Dimension::Channel, Dimension::Product];

    /// The fact tables' column (and URL parameter) name: fixed identifiers, safe to splice into SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Region => "region",
            Dimension::Segment => "segment",
            Dimension::Channel => "channel",
            Dimension::Product => "product",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Dimension::Region => "Region",
            Dimension::Segment => "Segment",
            Dimension::Channel => "Channel",
            Dimension::Product => "Product",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Dimension::Region => "regions",
            Dimension::Segment => "segments",
            Dimension::Channel => "channels",
            Dimension::Product => "products",
        }
    }

    /// The level below this one in the drill order.
    pub fn next(self) -> Option<Dimension> {
        Self::ALL.iter().position(|d| *d == self).and_then(|i| Self::ALL.get(i + 1).copied())
    }
}

/// A selection of dimension values; an empty list means "every value" of that dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionFilter {
    pub region: Vec<String>,
    pub segment: Vec<String>,
    pub channel: Vec<String>,
    pub product: Vec<String>,
}

impl DimensionFilter {
    pub fn values(&self, dimension: Dimension) -> &Vec<String> {
        match dimension {
            Dimension::Region => &self.region,
            Dimension::Segment => &self.segment,
            Dimension::Channel => &self.channel,
            Dimension::Product => &self.product,
        }
    }

    pub fn values_mut(&mut self, dimension: Dimension) -> &mut Vec<String> {
        match dimension {
            Dimension::Region => &mut self.region,
            Dimension::Segment => &mut self.segment,
            Dimension::Channel => &mut self.channel,
            Dimension::Product => &mut self.product,
        }
    }

    /// This filter narrowed to one value of `dimension`. Narrowing to a value the filter excludes
    /// gives `None`: the combination has no rows by definition.
    pub fn narrowed(&self, dimension: Dimension, value: &str) -> Option<DimensionFilter> {
        let current = self.values(dimension);
        if !current.is_empty() && !current.iter().any(|v| v == value) {
            return None;
        }
        let mut next = self.clone();
        *next.values_mut(dimension) = vec![value.to_string()];
        Some(next)
    }

    /// This filter without one value: where that value's filter chip links to.
    pub fn without(&self, dimension: Dimension, value: &str) -> DimensionFilter {
        let mut next = self.clone();
        next.values_mut(dimension).retain(|v| v != value);
        next
    }

    pub fn is_empty(&self) -> bool {
        Dimension::ALL.iter().all(|d| self.values(*d).is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drill_order_and_names() {
        assert_eq!(Dimension::Region.next(), Some(Dimension::Segment));
        assert_eq!(Dimension::Product.next(), None);
        for d in Dimension::ALL {
            assert_eq!(Dimension::parse(d.as_str()), Some(d));
        }
        assert_eq!(Dimension::parse("country"), None);
    }

    #[test]
    fn narrowing_keeps_other_filters_and_refuses_excluded_values() {
        let filter = DimensionFilter { region: vec!["NA".into(), "EMEA".into()], channel: vec!["web".into()], ..Default::default() };
        let emea = filter.narrowed(Dimension::Region, "EMEA").expect("allowed");
        assert_eq!(emea.region, vec!["EMEA".to_string()]);
        assert_eq!(emea.channel, vec!["web".to_string()]);
        assert_eq!(filter.narrowed(Dimension::Region, "APAC"), None);
        assert!(DimensionFilter::default().narrowed(Dimension::Segment, "SMB").is_some());
    }
}
