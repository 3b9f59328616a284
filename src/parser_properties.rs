//! Property tests over every page's URL parser: no query string, however hostile, makes one panic,
//! and a parsed date is always within the years the date arithmetic is checked for.

use chrono::Datelike;
use proptest::prelude::*;

use crate::dashboard::DashboardQuery;
use crate::domain::audit::AuditFilter;
use crate::domain::date::{MAX_YEAR, MIN_YEAR};
use crate::domain::recommendations::RecommendationFilter;
use crate::exec::ExecQuery;
use crate::overview::PeriodPreset;

const KEYS: [&str; 16] = [
    "metric", "vs", "range", "from", "to", "drill", "refresh", "region", "segment", "channel", "product", "grain", "period", "action", "page", "status",
];

/// Values that have broken parsers elsewhere: signed wide years, control characters, huge numbers.
fn nasty_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-262143-01-01".to_string()),
        Just("+262142-12-15".to_string()),
        Just("9999-12-31".to_string()),
        Just("0000-01-01".to_string()),
        Just("1899-12-31".to_string()),
        Just("2200-12-31".to_string()),
        Just("2026-02-29".to_string()),
        Just("18446744073709551616".to_string()),
        Just("%0A%09".to_string()),
        "[0-9+-]{1,12}-[0-9]{1,3}-[0-9]{1,3}",
        "\\PC{0,24}",
    ]
}

fn query_string() -> impl Strategy<Value = String> {
    let pair = (prop_oneof![proptest::sample::select(KEYS.to_vec()).prop_map(str::to_string), "\\PC{0,8}"], nasty_value());
    proptest::collection::vec(pair, 0..8).prop_map(|pairs| {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            out.append_pair(k, v);
        }
        out.finish()
    })
}

fn in_years(day: chrono::NaiveDate) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&day.year())
}

proptest! {
    #[test]
    fn no_query_string_panics_a_page_parser(query in query_string(), raw in "\\PC{0,60}") {
        for text in [query.as_str(), raw.as_str()] {
            if let Ok(q) = DashboardQuery::from_query_string(text) {
                prop_assert!(q.from.is_none_or(in_years) && q.to.is_none_or(in_years), "{q:?}");
            }
            if let Ok(f) = AuditFilter::from_query_string(text) {
                prop_assert!(f.from.is_none_or(in_years) && f.to.is_none_or(in_years));
            }
            let _ = RecommendationFilter::from_query_string(text);
            let pairs: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes()).into_owned().collect();
            let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
            if let Ok(q) = ExecQuery::parse(get("grain"), get("period")) {
                prop_assert!(q.period.is_none_or(in_years));
                let _ = q.href();
            }
            let _ = PeriodPreset::from_query(get("period"));
            let _ = crate::recommendations::api::parse_items(text);
            let _ = crate::auth::safe_next(text);
        }
    }
}
