//! Reads a plain question over the org's catalogue: which metrics (labels, keys and synonyms),
//! which period ("yesterday", "last week", "Q3", "since March", "last 14 days"), which slices
//! ("in EMEA", "for SMB on web"), and what is asked (value, change, why, trend, forecast, compare,
//! top or bottom slices, anomalies). Pure: the catalogue and the last day with data come in.
//! A question without a metric it knows is not understood, never guessed.

use chrono::{Datelike, Duration, NaiveDate};

use super::{Intent, Parsed, ResolvedPeriod};
use crate::analytics::calendar::{period_containing, previous_period, Granularity};
use crate::domain::{Dimension, DimensionFilter};

/// What the parser knows of the org.
pub struct Catalogue<'a> {
    /// (key, label) of every metric the asker may see, in catalogue order.
    pub metrics: &'a [(String, String)],
    pub dimension_values: &'a [(Dimension, Vec<String>)],
}

/// Words that name a metric besides its label and key (the demo's and common BI words).
const SYNONYMS: [(&str, &str); 16] = [
    ("sales", "revenue"),
    ("turnover", "revenue"),
    ("income", "revenue"),
    ("aov", "avg_order_value"),
    ("basket", "avg_order_value"),
    ("conversion", "conversion_rate"),
    ("users", "active_users"),
    ("signups", "new_customers"),
    ("customers", "new_customers"),
    ("churn", "churn_rate"),
    ("tickets", "support_tickets"),
    ("spend", "marketing_spend"),
    ("marketing", "marketing_spend"),
    ("visits", "sessions"),
    ("traffic", "sessions"),
    ("promoter", "nps"),
];

/// Words that carry no meaning of their own here.
const STOPWORDS: [&str; 52] = [
    "what", "was", "were", "is", "are", "the", "a", "an", "of", "in", "for", "on", "by", "to", "how", "much", "many", "did", "do", "does",
    "and", "with", "me", "show", "tell", "our", "we", "my", "it", "its", "at", "from", "which", "has", "have", "had", "be", "been", "there",
    "any", "this", "that", "last", "past", "since", "days", "day", "so", "far", "than", "per", "get",
];

const MONTHS: [&str; 12] = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

fn words(question: &str) -> Vec<String> {
    question
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .map(|w| w.trim_matches('-').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Reads `question`; `Err` holds nothing but the reason (the caller adds suggestions).
pub fn parse(question: &str, catalogue: &Catalogue<'_>, as_of: NaiveDate) -> Result<Parsed, String> {
    let words = words(question);
    if words.is_empty() {
        return Err("the question is empty".into());
    }
    let mut used = vec![false; words.len()];
    let metrics = find_metrics(&words, &mut used, catalogue);
    if metrics.is_empty() {
        return Err("no metric of this org is named in the question".into());
    }
    let filter = find_slices(&words, &mut used, catalogue);
    let period = find_period(&words, &mut used, as_of);
    let (intent, dimension) = find_intent(&words, &mut used, metrics.len());
    let content: Vec<usize> = (0..words.len()).filter(|&i| !STOPWORDS.contains(&words[i].as_str())).collect();
    let unknown: Vec<String> = content.iter().filter(|&&i| !used[i]).map(|&i| words[i].clone()).collect();
    let understood = if content.is_empty() { 1.0 } else { 1.0 - unknown.len() as f64 / content.len() as f64 };
    let period = period.unwrap_or_else(|| days_ending(as_of, 30, "the last 30 days"));
    if period.start > period.end {
        return Err(format!("{} has not begun yet: the data runs to {as_of}", period.label));
    }
    let max = crate::dashboard::MAX_RANGE_DAYS;
    if (period.end - period.start).num_days() + 1 > max {
        return Err(format!("{} is longer than {max} days, the longest range a question covers", period.label));
    }
    Ok(Parsed { intent, metrics, period, filter, dimension, understood, unknown })
}

/// Metrics by label (longest first), key, or synonym, in the order the question names them.
fn find_metrics(words: &[String], used: &mut [bool], catalogue: &Catalogue<'_>) -> Vec<String> {
    let mut names: Vec<(Vec<String>, &str)> = Vec::new();
    for (key, label) in catalogue.metrics {
        names.push((self::words(label), key));
        names.push((key.split('_').map(str::to_string).collect(), key));
    }
    for (word, key) in SYNONYMS {
        if catalogue.metrics.iter().any(|(k, _)| k == key) {
            names.push((vec![word.to_string()], key));
        }
    }
    names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    let mut found: Vec<(usize, String)> = Vec::new();
    for (name, key) in &names {
        let n = name.len();
        if n == 0 {
            continue;
        }
        for start in 0..words.len().saturating_sub(n - 1) {
            let matches = (0..n).all(|j| !used[start + j] && singular(&words[start + j]) == singular(&name[j]));
            if matches {
                used[start..start + n].iter_mut().for_each(|u| *u = true);
                if !found.iter().any(|(_, k)| k == key) {
                    found.push((start, key.to_string()));
                }
            }
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, k)| k).collect()
}

fn singular(word: &str) -> &str {
    word.strip_suffix('s').filter(|w| w.len() > 2).unwrap_or(word)
}

/// Dimension values named anywhere in the question ("in EMEA", "for SMB on web").
fn find_slices(words: &[String], used: &mut [bool], catalogue: &Catalogue<'_>) -> DimensionFilter {
    let mut filter = DimensionFilter::default();
    for (dimension, values) in catalogue.dimension_values {
        for value in values {
            let name = self::words(value);
            let n = name.len();
            if n == 0 {
                continue;
            }
            for start in 0..words.len().saturating_sub(n - 1) {
                if (0..n).all(|j| !used[start + j] && words[start + j] == name[j]) {
                    used[start..start + n].iter_mut().for_each(|u| *u = true);
                    if !filter.values(*dimension).contains(value) {
                        filter.values_mut(*dimension).push(value.clone());
                    }
                }
            }
        }
    }
    filter
}

fn days_ending(end: NaiveDate, days: i64, label: &str) -> ResolvedPeriod {
    ResolvedPeriod { start: end - Duration::days(days - 1), end, label: label.to_string() }
}

fn mark(used: &mut [bool], at: &[usize]) {
    for &i in at {
        if let Some(u) = used.get_mut(i) {
            *u = true;
        }
    }
}

/// The period the question names, relative to `as_of` (the last day with data).
fn find_period(words: &[String], used: &mut [bool], as_of: NaiveDate) -> Option<ResolvedPeriod> {
    let at = |i: usize| words.get(i).map(String::as_str);
    for i in 0..words.len() {
        let (word, next) = (words[i].as_str(), at(i + 1));
        let grain = |w: Option<&str>| match w {
            Some("week") => Some(Granularity::Week),
            Some("month") => Some(Granularity::Month),
            Some("quarter") => Some(Granularity::Quarter),
            Some("year") => Some(Granularity::Year),
            _ => None,
        };
        let found = match word {
            "yesterday" | "today" => Some((days_ending(as_of, 1, &format!("{word} ({as_of})")), vec![i])),
            "last" | "previous" | "past" if next.and_then(|n| n.parse::<i64>().ok()).is_some() && matches!(at(i + 2), Some("days" | "day" | "weeks" | "week")) => {
                let n = next.and_then(|n| n.parse::<i64>().ok()).unwrap_or(30).clamp(1, 3660);
                let (days, unit) = if matches!(at(i + 2), Some("weeks" | "week")) { (n * 7, "weeks") } else { (n, "days") };
                Some((days_ending(as_of, days, &format!("the last {n} {unit}")), vec![i, i + 1, i + 2]))
            }
            "last" | "previous" | "past" if grain(next).is_some() => grain(next).map(|g| {
                let containing = period_containing(as_of, g);
                let p = if containing.end == as_of { containing } else { previous_period(&containing, g) };
                (ResolvedPeriod { start: p.start, end: p.end, label: format!("last {} ({})", next.unwrap_or(""), p.label) }, vec![i, i + 1])
            }),
            "this" | "current" if grain(next).is_some() => grain(next).map(|g| {
                let p = period_containing(as_of, g);
                (ResolvedPeriod { start: p.start, end: as_of, label: format!("this {} so far ({})", next.unwrap_or(""), p.label) }, vec![i, i + 1])
            }),
            "q1" | "q2" | "q3" | "q4" => Some(quarter(word, i > 0 && words[i - 1] == "since", next, as_of, i)),
            _ => month(word, i > 0 && words[i - 1] == "since", next, as_of).map(|(p, with_year)| (p, if with_year { vec![i, i + 1] } else { vec![i] })),
        };
        if let Some((period, at)) = found {
            mark(used, &at);
            return Some(period);
        }
    }
    None
}

/// "Q3" (the latest Q3 that has begun) or "Q3 2025"; after "since", from its first day to `as_of`.
fn quarter(word: &str, since: bool, next: Option<&str>, as_of: NaiveDate, i: usize) -> (ResolvedPeriod, Vec<usize>) {
    let q: u32 = word[1..].parse().unwrap_or(1);
    let named_year = next.and_then(|n| n.parse::<i32>().ok()).filter(|y| (1900..=2200).contains(y));
    let start_in = |year: i32| NaiveDate::from_ymd_opt(year, (q - 1) * 3 + 1, 1);
    let year = named_year.unwrap_or(if start_in(as_of.year()).is_some_and(|s| s <= as_of) { as_of.year() } else { as_of.year() - 1 });
    let start = start_in(year).unwrap_or(as_of);
    let p = period_containing(start, Granularity::Quarter);
    let at = if named_year.is_some() { vec![i, i + 1] } else { vec![i] };
    if since {
        return (ResolvedPeriod { start: p.start, end: as_of, label: format!("since {}", p.label) }, at);
    }
    (ResolvedPeriod { start: p.start, end: p.end.min(as_of), label: p.label }, at)
}

/// "March" (that month, the latest one that has begun) or, after "since", March 1st to `as_of`.
fn month(word: &str, since: bool, next: Option<&str>, as_of: NaiveDate) -> Option<(ResolvedPeriod, bool)> {
    let m = MONTHS.iter().position(|name| *name == word || (word.len() >= 3 && word.len() < name.len() && name.starts_with(word)))? as u32 + 1;
    let named_year = next.and_then(|n| n.parse::<i32>().ok()).filter(|y| (1900..=2200).contains(y));
    let first = |year: i32| NaiveDate::from_ymd_opt(year, m, 1);
    let year = named_year.unwrap_or(if first(as_of.year()).is_some_and(|d| d <= as_of) { as_of.year() } else { as_of.year() - 1 });
    let start = first(year)?;
    if since {
        return Some((ResolvedPeriod { start, end: as_of, label: format!("since {}", start.format("%B %Y")) }, named_year.is_some()));
    }
    let p = period_containing(start, Granularity::Month);
    Some((ResolvedPeriod { start: p.start, end: p.end.min(as_of), label: start.format("%B %Y").to_string() }, named_year.is_some()))
}

/// What is asked, and for top/bottom/why the dimension to split by.
fn find_intent(words: &[String], used: &mut [bool], metrics: usize) -> (Intent, Option<Dimension>) {
    let has = |set: &[&str]| words.iter().position(|w| set.contains(&w.as_str()));
    let at = words.iter().position(|w| Dimension::ALL.iter().any(|d| singular(w) == d.as_str()));
    let dimension = at.map(|i| {
        used[i] = true;
        Dimension::ALL.into_iter().find(|d| singular(&words[i]) == d.as_str()).unwrap_or(Dimension::Region)
    });
    // "revenue by product", "which region": a ranking; "the pro product": only a slice.
    let ranked = at.is_some_and(|i| i > 0 && ["by", "per", "each", "every", "which"].contains(&words[i - 1].as_str()));
    let rules: [(&[&str], Intent); 8] = [
        (&["why"], Intent::Why),
        (&["anomaly", "anomalies", "anomalous", "unusual", "outlier", "outliers", "spike", "spikes"], Intent::Anomalies),
        (&["forecast", "predict", "projected", "will", "next", "expected"], Intent::Forecast),
        (&["top", "best", "highest", "most", "largest", "biggest"], Intent::Top),
        (&["bottom", "worst", "lowest", "least", "smallest", "weakest"], Intent::Bottom),
        (&["trend", "trending", "trajectory"], Intent::Trend),
        (&["compare", "vs", "versus", "against"], Intent::Compare),
        (&["change", "changed", "fall", "fell", "drop", "dropped", "rise", "rose", "grow", "grew", "increase", "increased", "decrease", "decreased", "up", "down", "move", "moved"], Intent::Change),
    ];
    for (set, intent) in rules {
        if let Some(i) = has(set) {
            used[i] = true;
            // "why ... fall": the movement word is understood too.
            if let Some(j) = has(rules[7].0) {
                used[j] = true;
            }
            return (intent, dimension);
        }
    }
    if metrics > 1 {
        return (Intent::Compare, dimension);
    }
    (if ranked { Intent::Top } else { Intent::Value }, dimension)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a test date")
    }

    fn catalogue() -> (Vec<(String, String)>, Vec<(Dimension, Vec<String>)>) {
        let metrics = [
            ("revenue", "Revenue"),
            ("orders", "Orders"),
            ("avg_order_value", "Average order value"),
            ("conversion_rate", "Conversion rate"),
            ("active_users", "Active users"),
            ("new_customers", "New customers"),
            ("churn_rate", "Churn rate"),
            ("nps", "Net promoter score"),
            ("support_tickets", "Support tickets"),
            ("marketing_spend", "Marketing spend"),
        ];
        let dims = vec![
            (Dimension::Region, vec!["NA".to_string(), "EMEA".into(), "APAC".into()]),
            (Dimension::Segment, vec!["SMB".into(), "Enterprise".into()]),
            (Dimension::Channel, vec!["web".into(), "mobile".into(), "partner".into()]),
            (Dimension::Product, vec!["core".into(), "pro".into()]),
        ];
        (metrics.iter().map(|(k, l)| (k.to_string(), l.to_string())).collect(), dims)
    }

    /// The last day with data: Sunday 15 November 2026.
    const AS_OF: &str = "2026-11-15";

    /// (question, intent, metrics, first day, last day, slices)
    #[rustfmt::skip]
    const SET: [(&str, Intent, &[&str], &str, &str, &[&str]); 63] = [
        ("What was revenue last week?", Intent::Value, &["revenue"], "2026-11-09", "2026-11-15", &[]),
        ("Revenue yesterday", Intent::Value, &["revenue"], "2026-11-15", "2026-11-15", &[]),
        ("How many orders yesterday?", Intent::Value, &["orders"], "2026-11-15", "2026-11-15", &[]),
        ("orders last month", Intent::Value, &["orders"], "2026-10-01", "2026-10-31", &[]),
        ("What were sales this month?", Intent::Value, &["revenue"], "2026-11-01", "2026-11-15", &[]),
        ("Revenue in EMEA last month", Intent::Value, &["revenue"], "2026-10-01", "2026-10-31", &["EMEA"]),
        ("Orders for SMB on web last week", Intent::Value, &["orders"], "2026-11-09", "2026-11-15", &["SMB", "web"]),
        ("What was the average order value in Q3?", Intent::Value, &["avg_order_value"], "2026-07-01", "2026-09-30", &[]),
        ("AOV in APAC this quarter", Intent::Value, &["avg_order_value"], "2026-10-01", "2026-11-15", &["APAC"]),
        ("conversion rate last 14 days", Intent::Value, &["conversion_rate"], "2026-11-02", "2026-11-15", &[]),
        ("Active users on mobile yesterday", Intent::Value, &["active_users"], "2026-11-15", "2026-11-15", &["mobile"]),
        ("new customers since March", Intent::Value, &["new_customers"], "2026-03-01", "2026-11-15", &[]),
        ("How many new customers in March?", Intent::Value, &["new_customers"], "2026-03-01", "2026-03-31", &[]),
        ("churn rate last quarter", Intent::Value, &["churn_rate"], "2026-07-01", "2026-09-30", &[]),
        ("NPS this year", Intent::Value, &["nps"], "2026-01-01", "2026-11-15", &[]),
        ("net promoter score last year", Intent::Value, &["nps"], "2025-01-01", "2025-12-31", &[]),
        ("support tickets in December", Intent::Value, &["support_tickets"], "2025-12-01", "2025-12-31", &[]),
        ("Marketing spend in Q1 2026", Intent::Value, &["marketing_spend"], "2026-01-01", "2026-03-31", &[]),
        ("revenue", Intent::Value, &["revenue"], "2026-10-17", "2026-11-15", &[]),
        ("Revenue for the pro product in the last 7 days", Intent::Value, &["revenue"], "2026-11-09", "2026-11-15", &["pro"]),
        ("turnover for Enterprise in Q2", Intent::Value, &["revenue"], "2026-04-01", "2026-06-30", &["Enterprise"]),
        ("traffic via partner this week", Intent::Value, &["sessions"], "2026-11-09", "2026-11-15", &["partner"]),
        ("How did orders change last week?", Intent::Change, &["orders"], "2026-11-09", "2026-11-15", &[]),
        ("Did revenue drop in NA last month?", Intent::Change, &["revenue"], "2026-10-01", "2026-10-31", &["NA"]),
        ("Has churn increased this quarter?", Intent::Change, &["churn_rate"], "2026-10-01", "2026-11-15", &[]),
        ("orders up or down since September?", Intent::Change, &["orders"], "2026-09-01", "2026-11-15", &[]),
        ("How much did sales grow in Q3?", Intent::Change, &["revenue"], "2026-07-01", "2026-09-30", &[]),
        ("conversion rate change for SMB last 30 days", Intent::Change, &["conversion_rate"], "2026-10-17", "2026-11-15", &["SMB"]),
        ("Did support tickets rise yesterday?", Intent::Change, &["support_tickets"], "2026-11-15", "2026-11-15", &[]),
        ("Why did revenue fall in EMEA last week?", Intent::Why, &["revenue"], "2026-11-09", "2026-11-15", &["EMEA"]),
        ("Why did orders drop last month?", Intent::Why, &["orders"], "2026-10-01", "2026-10-31", &[]),
        ("why is revenue up this month", Intent::Why, &["revenue"], "2026-11-01", "2026-11-15", &[]),
        ("Why did new customers fall for SMB on web in Q3?", Intent::Why, &["new_customers"], "2026-07-01", "2026-09-30", &["SMB", "web"]),
        ("why did tickets increase last week", Intent::Why, &["support_tickets"], "2026-11-09", "2026-11-15", &[]),
        ("Is revenue trending up?", Intent::Trend, &["revenue"], "2026-10-17", "2026-11-15", &[]),
        ("orders trend this year", Intent::Trend, &["orders"], "2026-01-01", "2026-11-15", &[]),
        ("What is the trend of active users in APAC since June?", Intent::Trend, &["active_users"], "2026-06-01", "2026-11-15", &["APAC"]),
        ("NPS trajectory last quarter", Intent::Trend, &["nps"], "2026-07-01", "2026-09-30", &[]),
        ("Forecast orders for next week", Intent::Forecast, &["orders"], "2026-10-17", "2026-11-15", &[]),
        ("What will revenue be next month?", Intent::Forecast, &["revenue"], "2026-10-17", "2026-11-15", &[]),
        ("predict support tickets", Intent::Forecast, &["support_tickets"], "2026-10-17", "2026-11-15", &[]),
        ("expected new customers in EMEA", Intent::Forecast, &["new_customers"], "2026-10-17", "2026-11-15", &["EMEA"]),
        ("Compare revenue and orders last month", Intent::Compare, &["revenue", "orders"], "2026-10-01", "2026-10-31", &[]),
        ("revenue vs marketing spend in Q3", Intent::Compare, &["revenue", "marketing_spend"], "2026-07-01", "2026-09-30", &[]),
        ("orders versus active users this week", Intent::Compare, &["orders", "active_users"], "2026-11-09", "2026-11-15", &[]),
        ("conversion rate and churn rate last year", Intent::Compare, &["conversion_rate", "churn_rate"], "2025-01-01", "2025-12-31", &[]),
        ("compare AOV with orders in NA", Intent::Compare, &["avg_order_value", "orders"], "2026-10-17", "2026-11-15", &["NA"]),
        ("Top regions by revenue this quarter", Intent::Top, &["revenue"], "2026-10-01", "2026-11-15", &[]),
        ("Which region had the most orders last month?", Intent::Top, &["orders"], "2026-10-01", "2026-10-31", &[]),
        ("best segment for new customers in Q3", Intent::Top, &["new_customers"], "2026-07-01", "2026-09-30", &[]),
        ("highest channel by sessions last week", Intent::Top, &["sessions"], "2026-11-09", "2026-11-15", &[]),
        ("revenue by product last month", Intent::Top, &["revenue"], "2026-10-01", "2026-10-31", &[]),
        ("Bottom regions by conversion rate", Intent::Bottom, &["conversion_rate"], "2026-10-17", "2026-11-15", &[]),
        ("lowest segment by orders this year", Intent::Bottom, &["orders"], "2026-01-01", "2026-11-15", &[]),
        ("worst channel for revenue last quarter", Intent::Bottom, &["revenue"], "2026-07-01", "2026-09-30", &[]),
        ("Any anomalies in orders last month?", Intent::Anomalies, &["orders"], "2026-10-01", "2026-10-31", &[]),
        ("unusual days for revenue in EMEA", Intent::Anomalies, &["revenue"], "2026-10-17", "2026-11-15", &["EMEA"]),
        ("spikes in support tickets this quarter", Intent::Anomalies, &["support_tickets"], "2026-10-01", "2026-11-15", &[]),
        ("outliers in active users since August", Intent::Anomalies, &["active_users"], "2026-08-01", "2026-11-15", &[]),
        ("anomalous churn rate days in Q3 2026", Intent::Anomalies, &["churn_rate"], "2026-07-01", "2026-09-30", &[]),
        ("Were there any anomalies in sales yesterday?", Intent::Anomalies, &["revenue"], "2026-11-15", "2026-11-15", &[]),
        ("revenue in Q4", Intent::Value, &["revenue"], "2026-10-01", "2026-11-15", &[]),
        ("Compare revenue in EMEA and NA last month", Intent::Compare, &["revenue"], "2026-10-01", "2026-10-31", &["EMEA", "NA"]),
    ];

    #[test]
    fn the_question_set_is_read_as_expected() {
        let (metrics, dims) = catalogue();
        let mut metrics = metrics;
        metrics.push(("sessions".into(), "Sessions".into()));
        let cat = Catalogue { metrics: &metrics, dimension_values: &dims };
        let mut wrong = Vec::new();
        for (question, intent, keys, start, end, slices) in SET {
            let got = match parse(question, &cat, day(AS_OF)) {
                Ok(p) => p,
                Err(e) => {
                    wrong.push(format!("{question}: not understood ({e})"));
                    continue;
                }
            };
            let named: Vec<&str> = Dimension::ALL.iter().flat_map(|d| got.filter.values(*d).iter().map(String::as_str)).collect();
            let mut want_slices: Vec<&str> = slices.to_vec();
            let mut got_slices = named.clone();
            want_slices.sort();
            got_slices.sort();
            let ok = got.intent == intent && got.metrics == keys && got.period.start == day(start) && got.period.end == day(end) && got_slices == want_slices;
            if !ok {
                wrong.push(format!("{question}: {:?} {:?} {}..{} {:?}", got.intent, got.metrics, got.period.start, got.period.end, named));
            }
        }
        assert_eq!(wrong, Vec::<String>::new());
    }

    #[test]
    fn top_and_bottom_name_their_dimension_and_nothing_is_made_up() {
        let (metrics, dims) = catalogue();
        let cat = Catalogue { metrics: &metrics, dimension_values: &dims };
        let top = parse("best segment for new customers in Q3", &cat, day(AS_OF)).expect("read");
        assert_eq!(top.dimension, Some(Dimension::Segment));
        assert_eq!(parse("Which region had the most orders?", &cat, day(AS_OF)).expect("read").dimension, Some(Dimension::Region));
        for nonsense in ["", "   ", "What's the weather like?", "hello there", "How are we doing?"] {
            assert!(parse(nonsense, &cat, day(AS_OF)).is_err(), "{nonsense:?}");
        }
        // A board member's catalogue has no marketing spend: the question is not understood.
        let board: Vec<(String, String)> = metrics.iter().filter(|(k, _)| k != "marketing_spend").cloned().collect();
        let board_cat = Catalogue { metrics: &board, dimension_values: &dims };
        assert!(parse("marketing spend last month", &board_cat, day(AS_OF)).is_err());
        let partly = parse("revenue blorp last week", &cat, day(AS_OF)).expect("read");
        assert_eq!(partly.unknown, vec!["blorp"]);
        // Content words: revenue, blorp, week; one of three is not understood.
        assert!((partly.understood - 2.0 / 3.0).abs() < 1e-9, "{}", partly.understood);
    }

    #[test]
    fn periods_that_have_not_begun_or_run_too_long_are_refused_and_since_reaches_today() {
        let (metrics, dims) = catalogue();
        let cat = Catalogue { metrics: &metrics, dimension_values: &dims };
        assert!(parse("revenue in Q1 2027", &cat, day(AS_OF)).is_err_and(|e| e.contains("has not begun")));
        assert!(parse("revenue since January 1900", &cat, day(AS_OF)).is_err_and(|e| e.contains("longer than")));
        let since = parse("orders since Q2", &cat, day(AS_OF)).expect("read");
        assert_eq!((since.period.start, since.period.end), (day("2026-04-01"), day(AS_OF)));
        let past = parse("orders past quarter", &cat, day(AS_OF)).expect("read");
        assert_eq!((past.period.start, past.period.end), (day("2026-07-01"), day("2026-09-30")));
        let weeks = parse("orders in the last 3 weeks", &cat, day(AS_OF)).expect("read");
        assert_eq!((weeks.period.start, weeks.period.end), (day("2026-10-26"), day(AS_OF)));
        let named = parse("revenue in March 2025", &cat, day(AS_OF)).expect("read");
        assert_eq!((named.period.start, named.understood), (day("2025-03-01"), 1.0));
    }

    proptest::proptest! {
        /// Any text is read without panicking.
        #[test]
        fn any_text_is_read_without_panicking(text in "\\PC{0,120}") {
            let (metrics, dims) = catalogue();
            let _ = parse(&text, &Catalogue { metrics: &metrics, dimension_values: &dims }, day(AS_OF));
        }
    }
}
