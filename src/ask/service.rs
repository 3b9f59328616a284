//! Answers a question: reads it against the asker's catalogue (only metrics the role may see),
//! takes the numbers from the dashboard service (so every visibility rule applies), writes the
//! answer with the analytics module's wording, rates its confidence, and keeps it in the asker's
//! history.

use sqlx::PgPool;
use uuid::Uuid;

use super::parse::{parse, Catalogue};
use super::{Answer, AnswerFact, HistoryItem, Intent, Parsed};
use crate::analytics::drivers::{decompose, main_driver, SliceTotals};
use crate::analytics::Aggregation;
use crate::auth::server::Scope;
use crate::config::Config;
use crate::dashboard::{DashboardData, DashboardQuery, RangePreset};
use crate::db;
use crate::db::metrics::MetricKind;
use crate::domain::Dimension;
use crate::error::AppError;
use crate::format::format_value;

/// Longest question taken.
pub const MAX_QUESTION_CHARS: usize = 300;
/// Entries of the history shown.
const HISTORY: i64 = 20;

/// Answers `question` for `scope`'s user and keeps it in their history.
pub async fn ask(pool: &PgPool, config: &Config, scope: &Scope, user_id: Uuid, question: &str) -> Result<Answer, AppError> {
    let question = question.trim();
    if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
        return Err(AppError::BadRequest(format!("a question has 1 to {MAX_QUESTION_CHARS} characters")));
    }
    if question.chars().any(char::is_control) {
        return Err(AppError::BadRequest("a question is one line of text, without control characters".into()));
    }
    let mut answer = answer(pool, config, scope, question).await?;
    let headline = answer.sentences.first().cloned().unwrap_or_default();
    let response = serde_json::to_value(&answer).map_err(|e| AppError::Internal(format!("encoding an answer: {e}")))?;
    let mut conn = pool.acquire().await?;
    let insight = db::insights::NewInsight {
        org_id: scope.org_id,
        user_id,
        question,
        intent: answer.parsed.as_ref().map(|p| p.intent.as_str()),
        headline: &headline,
        response,
        confidence: answer.confidence,
    };
    answer.insight_id = Some(db::insights::insert(&mut conn, &insight).await?);
    Ok(answer)
}

/// The answer without storing it (the test set and the history share this).
pub async fn answer(pool: &PgPool, config: &Config, scope: &Scope, question: &str) -> Result<Answer, AppError> {
    let (metrics, _) = scope.metrics(pool, MetricKind::Kpi).await?;
    let names: Vec<(String, String)> = metrics.iter().map(|m| (m.key.clone(), m.label.clone())).collect();
    let mut dimension_values: Vec<(Dimension, Vec<String>)> = Dimension::ALL.iter().map(|d| (*d, Vec::new())).collect();
    for (d, v) in db::kpi::dimension_values(pool, scope.org_id).await? {
        if let Some(slot) = dimension_values.iter_mut().find(|(x, _)| *x == d) {
            slot.1.push(v);
        }
    }
    let Some(as_of) = db::kpi::latest_day(pool, scope.org_id).await? else {
        return Ok(not_understood(question, "this org has no KPI data yet", &names, &dimension_values));
    };
    let parsed = match parse(question, &Catalogue { metrics: &names, dimension_values: &dimension_values }, as_of) {
        Ok(parsed) => parsed,
        Err(reason) => return Ok(not_understood(question, &reason, &names, &dimension_values)),
    };
    match compose(pool, config, scope, question, &parsed).await {
        Ok(answer) => Ok(answer),
        // A rule of the asker's role (an anonymised metric with a filter): said, not hidden.
        Err(AppError::AccessDenied(why)) => Ok(Answer { sentences: vec![why], reasons: vec!["refused by the visibility rules of your role".into()], ..empty(question, Some(parsed)) }),
        Err(other) => Err(other),
    }
}

fn empty(question: &str, parsed: Option<Parsed>) -> Answer {
    Answer {
        question: question.to_string(),
        parsed,
        sentences: Vec::new(),
        value: None,
        facts: Vec::new(),
        chart: None,
        dashboard_href: None,
        confidence: 0.0,
        reasons: Vec::new(),
        suggestions: Vec::new(),
        insight_id: None,
    }
}

/// No answer, and questions over this org's own catalogue that can be asked instead.
fn not_understood(question: &str, reason: &str, metrics: &[(String, String)], dimensions: &[(Dimension, Vec<String>)]) -> Answer {
    let label = |i: usize| metrics.get(i).map_or("revenue".to_string(), |m| m.1.to_lowercase());
    let region = dimensions.iter().find(|(d, _)| *d == Dimension::Region).and_then(|(_, v)| v.first().cloned()).unwrap_or_else(|| "EMEA".into());
    let suggestions = vec![
        format!("What was {} last week?", label(0)),
        format!("Why did {} change in {region} last month?", label(0)),
        format!("Top regions by {} this quarter", label(1)),
        format!("Compare {} and {} last month", label(0), label(1)),
        format!("Any anomalies in {} in the last 30 days?", label(1)),
    ];
    Answer { sentences: vec![format!("I could not answer that: {reason}.")], reasons: vec![reason.to_string()], suggestions, ..empty(question, None) }
}

/// The dashboard's view of `metric` over the parsed period and slices.
async fn view(pool: &PgPool, config: &Config, scope: &Scope, metric: &str, parsed: &Parsed) -> Result<DashboardData, AppError> {
    let query = DashboardQuery {
        metric: Some(metric.to_string()),
        range: RangePreset::Custom,
        from: Some(parsed.period.start),
        to: Some(parsed.period.end),
        filter: parsed.filter.clone(),
        ..DashboardQuery::default()
    };
    crate::dashboard::service::dashboard(pool, scope, query, &config.analytics).await
}

fn slice_words(parsed: &Parsed) -> String {
    let values: Vec<&str> = Dimension::ALL.iter().flat_map(|d| parsed.filter.values(*d).iter().map(String::as_str)).collect();
    if values.is_empty() { String::new() } else { format!(" in {}", values.join(" / ")) }
}

/// "Revenue was $1.20M in last week (2026-11-09 to 2026-11-15) in EMEA", then with the change
/// the analytics module's own wording: ", up 4.5% on the 7 days before (good)."
fn value_sentence(d: &DashboardData, parsed: &Parsed, with_change: bool) -> String {
    let (label, unit) = (&d.metric.label, &d.metric.unit);
    let range = format!("{} ({} to {}){}", parsed.period.label, d.start, d.end, slice_words(parsed));
    if with_change {
        let days = (d.end - d.start).num_days() + 1;
        return crate::analytics::narrative::range_change_sentence(label, unit, &range, &format!("the {days} days before"), &d.total, 0);
    }
    match d.total.current {
        Some(value) => format!("{label} was {} in {range}.", format_value(value, unit)),
        None => format!("{label} has no data in {range}."),
    }
}

async fn compose(pool: &PgPool, config: &Config, scope: &Scope, question: &str, parsed: &Parsed) -> Result<Answer, AppError> {
    let metric = parsed.metrics.first().cloned().unwrap_or_default();
    let d = view(pool, config, scope, &metric, parsed).await?;
    let mut answer = empty(question, Some(parsed.clone()));
    answer.value = d.total.current;
    answer.dashboard_href = Some(d.query.href());
    answer.chart = Some((d.metric.label.clone(), d.metric.unit.clone(), d.daily.clone()));
    answer.facts.push(AnswerFact { text: value_sentence(&d, parsed, true), href: d.query.href() });
    match parsed.intent {
        Intent::Value => answer.sentences.push(value_sentence(&d, parsed, false)),
        Intent::Change => answer.sentences.push(value_sentence(&d, parsed, true)),
        Intent::Why => why(pool, scope, &d, parsed, &mut answer).await?,
        Intent::Trend => answer.sentences.extend([value_sentence(&d, parsed, false), d.trend_summary.clone()]),
        Intent::Forecast => forecast(&d, question, &mut answer),
        Intent::Compare => compare(pool, config, scope, &d, parsed, &mut answer).await?,
        Intent::Top | Intent::Bottom => rank(pool, scope, &d, parsed, &mut answer).await?,
        Intent::Anomalies => anomalies(&d, parsed, &mut answer),
    }
    let previous = if matches!(parsed.intent, Intent::Change | Intent::Why) { previous_days(pool, config, scope, &d, parsed).await? } else { Vec::new() };
    rate(&d, parsed, &previous, &mut answer);
    Ok(answer)
}

/// The daily values of the range before the asked one (same length), for the significance test.
async fn previous_days(pool: &PgPool, config: &Config, scope: &Scope, d: &DashboardData, parsed: &Parsed) -> Result<Vec<f64>, AppError> {
    let before = Parsed { period: super::ResolvedPeriod { start: d.previous_start, end: d.previous_end, label: String::new() }, ..parsed.clone() };
    Ok(view(pool, config, scope, &d.metric.key, &before).await?.daily.iter().map(|p| p.value).collect())
}

/// The change and its main driver across the four dimensions (additive metrics only).
async fn why(pool: &PgPool, scope: &Scope, d: &DashboardData, parsed: &Parsed, answer: &mut Answer) -> Result<(), AppError> {
    answer.sentences.push(value_sentence(d, parsed, true));
    if d.metric.aggregation != Aggregation::Sum || d.anonymised {
        answer.sentences.push(format!("{} is not a sum, so its change is not split into parts.", d.metric.label));
        return Ok(());
    }
    if !parsed.filter.is_empty() {
        answer.reasons.push("the split into parts covers the whole org: the question's slices are not applied to it".into());
    }
    let mut breakdowns = Vec::new();
    for dim in Dimension::ALL {
        let rows = db::kpi::member_period_totals(pool, scope.org_id, &d.metric.key, dim, d.previous_start, d.start, d.end).await?;
        let slices: Vec<SliceTotals> = rows.into_iter().map(|r| SliceTotals { value: r.member.unwrap_or_else(|| "(none)".into()), previous: r.previous, current: r.current }).collect();
        breakdowns.push(decompose(dim.as_str(), &slices));
    }
    match main_driver(&breakdowns) {
        Some((b, c)) => {
            let text = format!(
                "{} ({}) accounts for {} of the {} change across the org ({:.0}%).",
                c.value,
                b.dimension,
                format_value(c.change, &d.metric.unit),
                format_value(b.total_change, &d.metric.unit),
                c.share_of_change.unwrap_or(0.0) * 100.0
            );
            let mut filter = crate::domain::DimensionFilter::default();
            if let Some(dim) = Dimension::parse(&b.dimension) {
                filter.values_mut(dim).push(c.value.clone());
            }
            answer.facts.push(AnswerFact { text: text.clone(), href: DashboardQuery::range_href(&d.metric.key, d.previous_start, d.end, filter) });
            answer.sentences.push(text);
        }
        None => answer.sentences.push("No single region, segment, channel or product stands out in the change.".into()),
    }
    Ok(())
}

fn forecast(d: &DashboardData, question: &str, answer: &mut Answer) {
    let Some(f) = &d.forecast else {
        answer.sentences.push(format!("There is not enough history to forecast {}.", d.metric.label));
        return;
    };
    let days = if question.to_lowercase().contains("month") { 28 } else { 7 };
    let points: Vec<_> = f.points.iter().take(days).collect();
    let unit = &d.metric.unit;
    let sum = |pick: fn(&crate::analytics::forecast::ForecastPoint) -> f64| points.iter().map(|p| pick(p)).sum::<f64>();
    let (value, low, high) = match d.metric.aggregation {
        Aggregation::Sum => (sum(|p| p.value), sum(|p| p.low), sum(|p| p.high)),
        _ => {
            let n = points.len().max(1) as f64;
            (sum(|p| p.value) / n, sum(|p| p.low) / n, sum(|p| p.high) / n)
        }
    };
    let (first, last) = (points.first().map(|p| p.date), points.last().map(|p| p.date));
    answer.value = Some(value);
    answer.sentences.push(format!(
        "{} is forecast at {} over the next {} days ({} to {}), between {} and {}.",
        d.metric.label,
        format_value(value, unit),
        points.len(),
        first.map(|x| x.to_string()).unwrap_or_default(),
        last.map(|x| x.to_string()).unwrap_or_default(),
        format_value(low, unit),
        format_value(high, unit)
    ));
}

/// The first dimension the question names two or more values of, with those values.
pub fn compared_slices(parsed: &Parsed) -> Option<(Dimension, Vec<String>)> {
    Dimension::ALL.into_iter().find_map(|d| {
        let values = parsed.filter.values(d);
        (values.len() >= 2).then(|| (d, values.clone()))
    })
}

/// Two metrics side by side, or one metric in two slices ("revenue in EMEA vs NA").
async fn compare(pool: &PgPool, config: &Config, scope: &Scope, d: &DashboardData, parsed: &Parsed, answer: &mut Answer) -> Result<(), AppError> {
    if let (None, Some((dimension, values))) = (parsed.metrics.get(1), compared_slices(parsed)) {
        for (i, value) in values.iter().take(2).enumerate() {
            let mut one = parsed.clone();
            *one.filter.values_mut(dimension) = vec![value.clone()];
            let e = view(pool, config, scope, &d.metric.key, &one).await?;
            if i == 0 {
                answer.value = e.total.current;
                answer.dashboard_href = Some(e.query.href());
                answer.chart = Some((format!("{} in {value}", e.metric.label), e.metric.unit.clone(), e.daily.clone()));
            }
            let text = value_sentence(&e, &one, true);
            answer.facts.push(AnswerFact { text: text.clone(), href: e.query.href() });
            answer.sentences.push(text);
        }
        return Ok(());
    }
    answer.sentences.push(value_sentence(d, parsed, true));
    match parsed.metrics.get(1) {
        Some(other) => {
            let e = view(pool, config, scope, other, parsed).await?;
            let text = value_sentence(&e, parsed, true);
            answer.facts.push(AnswerFact { text: text.clone(), href: e.query.href() });
            answer.sentences.push(text);
        }
        None => answer.sentences.push("Name a second metric to compare with, e.g. \"revenue vs orders\".".into()),
    }
    Ok(())
}

/// Top or bottom slices: by region through the dashboard (filters kept), by another dimension
/// from the member totals (sums only).
async fn rank(pool: &PgPool, scope: &Scope, d: &DashboardData, parsed: &Parsed, answer: &mut Answer) -> Result<(), AppError> {
    let dimension = parsed.dimension.unwrap_or(Dimension::Region);
    let mut rows: Vec<(String, f64)> = if dimension == Dimension::Region && d.level == Some(Dimension::Region) {
        d.breakdown.iter().filter_map(|r| Some((r.member.clone(), r.value?))).collect()
    } else if d.metric.aggregation == Aggregation::Sum && !d.anonymised {
        let rows = db::kpi::member_period_totals(pool, scope.org_id, &d.metric.key, dimension, d.start, d.start, d.end).await?;
        if !parsed.filter.is_empty() {
            answer.reasons.push(format!("the ranking by {} covers the whole org: filters are not applied to it", dimension.as_str()));
        }
        rows.into_iter().filter_map(|r| Some((r.member?, r.current))).collect()
    } else {
        answer.sentences.push(format!("{} can be ranked by region only.", d.metric.label));
        return Ok(());
    };
    let top = parsed.intent == Intent::Top;
    rows.sort_by(|a, b| if top { b.1.total_cmp(&a.1) } else { a.1.total_cmp(&b.1) });
    rows.truncate(3);
    answer.value = rows.first().map(|r| r.1);
    let listed: Vec<String> = rows.iter().map(|(m, v)| format!("{m} {}", format_value(*v, &d.metric.unit))).collect();
    let which = if top { "Top" } else { "Bottom" };
    answer.sentences.push(format!("{which} {} by {} in {}: {}.", dimension.plural(), d.metric.label, parsed.period.label, listed.join(", ")));
    Ok(())
}

fn anomalies(d: &DashboardData, parsed: &Parsed, answer: &mut Answer) {
    let n = d.anomalies.len();
    answer.value = Some(n as f64);
    let mut text = match n {
        0 => format!("No unusual days in {} for {}{}.", parsed.period.label, d.metric.label, slice_words(parsed)),
        1 => format!("1 unusual day in {} for {}{}:", parsed.period.label, d.metric.label, slice_words(parsed)),
        n => format!("{n} unusual days in {} for {}{}:", parsed.period.label, d.metric.label, slice_words(parsed)),
    };
    let listed: Vec<String> = d.anomalies.iter().take(5).map(|a| crate::analytics::narrative::flagged_day_text(a, &d.metric.unit)).collect();
    if !listed.is_empty() {
        text.push(' ');
        text.push_str(&listed.join("; "));
        text.push('.');
    }
    answer.sentences.push(text);
}

/// Confidence: the share of the question understood, lowered when the data has gaps or a change
/// cannot be told from the days' own noise (Welch's t-test of the asked range's daily values
/// against the range before, p above 0.05); each reason said.
fn rate(d: &DashboardData, parsed: &Parsed, previous: &[f64], answer: &mut Answer) {
    let mut confidence = parsed.understood;
    answer.reasons.push(match parsed.unknown.as_slice() {
        [] => "every word of the question was understood".to_string(),
        unknown => format!("{:.0}% of the question was understood (not: {})", parsed.understood * 100.0, unknown.join(", ")),
    });
    answer.reasons.push(format!("period: {} ({} to {})", parsed.period.label, d.start, d.end));
    let expected = (d.end - d.start).num_days() + 1;
    let present = d.daily.iter().filter(|p| p.date >= d.start && p.date <= d.end).count() as i64;
    if present < expected {
        confidence *= present as f64 / expected.max(1) as f64;
        answer.reasons.push(format!("{present} of {expected} days have data"));
    }
    if matches!(parsed.intent, Intent::Change | Intent::Why) {
        let current: Vec<f64> = d.daily.iter().map(|p| p.value).collect();
        match crate::analytics::stats::welch_p_value(&current, previous) {
            Some(p) if p <= 0.05 => answer.reasons.push(format!("the change is significant: p = {p:.3} (Welch's t-test on the daily values)")),
            Some(p) => {
                confidence *= 0.6;
                answer.reasons.push(format!("the change may be noise: p = {p:.2} (Welch's t-test on the daily values)"));
            }
            None => {
                confidence *= 0.6;
                answer.reasons.push("too few days to tell the change from noise".into());
            }
        }
    }
    answer.confidence = (confidence * 100.0).round() / 100.0;
}

/// The asker's history, newest first.
pub async fn history(pool: &PgPool, scope: &Scope, user_id: Uuid) -> Result<Vec<HistoryItem>, AppError> {
    let rows = db::insights::history(pool, scope.org_id, user_id, HISTORY).await?;
    Ok(rows
        .into_iter()
        .map(|(id, question, intent, headline, confidence, created_at, useful)| HistoryItem {
            id,
            question,
            intent: intent.as_deref().and_then(Intent::parse),
            headline,
            confidence,
            created_at,
            useful,
        })
        .collect())
}

/// "Was this useful": only on the asker's own entries.
pub async fn feedback(pool: &PgPool, scope: &Scope, user_id: Uuid, id: Uuid, useful: bool) -> Result<(), AppError> {
    if db::insights::set_useful(pool, scope.org_id, user_id, id, useful).await? {
        Ok(())
    } else {
        Err(AppError::NotFound("question in your history".into()))
    }
}
