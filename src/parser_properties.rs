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

/// A body that is nearly a load: the right fields with hostile values, in JSON or CSV.
#[cfg(feature = "ssr")]
fn load_cells() -> impl Strategy<Value = Vec<(String, String)>> {
    let field = proptest::sample::select(crate::ingest::parse::FIELDS.to_vec()).prop_map(str::to_string);
    proptest::collection::vec((prop_oneof![field, "\\PC{0,6}"], prop_oneof![nasty_value(), "-?[0-9]{1,400}(\\.[0-9]{0,5})?(e[0-9]{1,4})?"]), 0..10)
}

#[cfg(feature = "ssr")]
proptest! {
    #[test]
    fn no_load_body_panics_the_parsers_and_good_rows_are_sane(cells in load_cells(), raw in proptest::collection::vec(any::<u8>(), 0..200)) {
        use crate::ingest::parse::{parse_csv, parse_json};
        let object: serde_json::Map<String, serde_json::Value> = cells.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        let json = serde_json::to_vec(&serde_json::Value::Array(vec![serde_json::Value::Object(object)])).unwrap_or_default();
        let header: Vec<&str> = cells.iter().map(|(k, _)| k.as_str()).collect();
        let values: Vec<String> = cells.iter().map(|(_, v)| format!("\"{}\"", v.replace('"', "\"\""))).collect();
        let csv = format!("{}\n{}\n", header.join(","), values.join(","));
        for parsed in [parse_json(&json, 5), parse_json(&raw, 5), parse_csv(csv.as_bytes(), 5), parse_csv(&raw, 5)].into_iter().flatten() {
            // Every data row is either read or refused with one error.
            prop_assert_eq!(parsed.rows.len() + parsed.errors.len(), parsed.total);
            for (_, _, row) in &parsed.rows {
                prop_assert!(row.value.is_finite() && in_years(row.date) && crate::ingest::parse::is_metric_key(&row.metric));
            }
        }
    }
}
