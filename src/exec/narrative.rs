//! The board and manager narratives. Their facts come from the board summary as the audience's
//! role sees it, so a stored narrative holds only what its audience may see; the environment's
//! writer writes them; each period's is stored once (when the period closes, or on first view) and
//! shown as stored, with a note when today's facts differ. A viewer is shown only the sentences
//! whose facts they may see.

use std::collections::HashMap;

use chrono::Duration;
use sqlx::PgPool;

use super::summarizer::{self, NarrativeRequest, Written};
use super::{ExecQuery, ExecSummary, NarrativeView, ViewFact, ViewParagraph, ViewSentence};
use crate::analytics::calendar::{next_period, Granularity, Period};
use crate::analytics::narrative::Fact;
use crate::analytics::story::{compose, number_facts, period_forecast_fact, Audience, Author, CitedFact, Decision, Narrative, PeriodLabels, StoredBy, StoryFacts};
use crate::auth::server::Scope;
use crate::auth::{MetricAccess, Role};
use crate::config::Config;
use crate::db;
use crate::db::metrics::MetricKind;
use crate::db::narratives::{NewNarrative, StoredNarrative};
use crate::db::recommendations::VisibleMetrics;
use crate::domain::recommendations::{Recommendation, RecommendationStatus};
use crate::error::AppError;

/// Flagged days a narrative's facts hold at most.
const MAX_FINDINGS: usize = 8;

/// The role whose view of the data an audience's narrative is made from.
pub fn audience_role(audience: Audience) -> Role {
    match audience {
        Audience::Board => Role::Board,
        Audience::Manager => Role::Manager,
    }
}

/// Today's facts of a period, as `scope` sees them.
#[derive(Clone)]
pub struct Gathered {
    pub summary: ExecSummary,
    pub labels: PeriodLabels,
    pub facts: StoryFacts,
}

pub async fn gather(pool: &PgPool, config: &Config, scope: &Scope, query: &ExecQuery) -> Result<Gathered, AppError> {
    let summary = super::service::exec_summary(pool, scope, query).await?;
    let current = Period { start: summary.period_start, end: summary.period_end, label: summary.period_label.clone() };
    let next = next_period(&current, query.grain);
    let labels = PeriodLabels {
        current: current.label.clone(),
        previous: summary.previous_label.clone(),
        last_year: summary.last_year_label.clone(),
        next: next.as_ref().map_or_else(|| "the next period".to_string(), |p| p.label.clone()),
    };
    let cited = |fact: Fact, href: &str| CitedFact { id: String::new(), fact, href: href.to_string(), decision: None, names_slice: false };
    let mut facts = StoryFacts::default();
    for card in &summary.cards {
        let metric = crate::analytics::narrative::MetricRef { key: card.metric_key.clone(), label: card.label.clone(), unit: card.unit.clone() };
        for (delta, baseline, list) in [(&card.vs_previous, &labels.previous, &mut facts.vs_previous), (&card.vs_last_year, &labels.last_year, &mut facts.vs_last_year)] {
            if let (Some(current), Some(previous), Some(absolute)) = (delta.current, delta.previous, delta.absolute) {
                let fact = Fact::Change {
                    metric: metric.clone(),
                    period: labels.current.clone(),
                    baseline: baseline.clone(),
                    current,
                    previous,
                    absolute,
                    relative: delta.relative,
                    assessment: delta.assessment,
                };
                list.push(cited(fact, &card.dashboard_href));
            }
        }
    }
    for linked in &summary.what_changed {
        facts.movements.push(CitedFact { names_slice: matches!(linked.fact, Fact::Driver { .. }), ..cited(linked.fact.clone(), &linked.href) });
    }
    facts.anomalies = findings(pool, scope, &summary, &current).await?;
    if let Some(next) = next {
        facts.outlook = outlook(pool, config, scope, &summary, &current, &next).await?;
    }
    number_facts(&mut facts);
    Ok(Gathered { summary, labels, facts })
}

/// Every finding of the period on the summary's KPIs, with what was decided about it.
async fn findings(pool: &PgPool, scope: &Scope, summary: &ExecSummary, period: &Period) -> Result<Vec<CitedFact>, AppError> {
    let access = scope.access_map(pool).await?;
    let kpis: Vec<String> = summary.cards.iter().map(|c| c.metric_key.clone()).collect();
    let items = super::service::period_findings(pool, scope.org_id, &VisibleMetrics::from(&access), period, &kpis, None).await?;
    Ok(items
        .into_iter()
        .take(MAX_FINDINGS)
        .map(|r| {
            let decision = Some(decision_of(&r));
            let names_slice = !r.evidence.dimensions.is_empty();
            let linked = super::service::anomaly_fact(r);
            CitedFact { id: String::new(), fact: linked.fact, href: linked.href, decision, names_slice }
        })
        .collect())
}

/// The finding's status and the note of the decision that set it.
fn decision_of(r: &Recommendation) -> Decision {
    let note = match r.status {
        RecommendationStatus::Open => None,
        status => r.history.iter().rev().find(|e| e.kind == status.as_str()).map(|e| e.note.clone()).filter(|n| !n.trim().is_empty()),
    };
    Decision { status: r.status, note }
}

/// Each KPI's forecast for the whole next period, fitted on the year up to the period's end.
async fn outlook(pool: &PgPool, config: &Config, scope: &Scope, summary: &ExecSummary, current: &Period, next: &Period) -> Result<Vec<CitedFact>, AppError> {
    let (metrics, _) = scope.metrics(pool, MetricKind::Kpi).await?;
    let history_start = current.end - Duration::days(config.analytics.forecast.fit_days.max(364) as i64);
    let mut series: HashMap<String, Vec<crate::analytics::DailyValue>> = HashMap::new();
    for row in db::kpi::daily_totals(pool, scope.org_id, history_start, current.end).await? {
        series.entry(row.metric_key.clone()).or_default().push(crate::analytics::DailyValue::new(row.day, row.value));
    }
    let mut forecast_config = config.analytics.forecast;
    forecast_config.horizon = (next.end - current.end).num_days().max(1) as usize;
    let mut out = Vec::new();
    for card in &summary.cards {
        let (Some(metric), Some(baseline), Some(history)) = (metrics.iter().find(|m| m.key == card.metric_key), card.vs_previous.current, series.get(&card.metric_key)) else {
            continue;
        };
        let Some((first, values)) = crate::analytics::anomaly::dense(history) else { continue };
        let span = tracing::info_span!("analytics", work = "period_forecast", points = values.len());
        let Ok(forecast) = span.in_scope(|| crate::analytics::forecast::forecast(first, &values, &forecast_config)) else { continue };
        let metric_ref = super::service::metric_ref(metric);
        if let Some(fact) = period_forecast_fact(metric_ref, next, &forecast.points, metric.aggregation, metric.direction, (&current.label, baseline)) {
            out.push(CitedFact { id: String::new(), fact, href: card.dashboard_href.clone(), decision: None, names_slice: false });
        }
    }
    Ok(out)
}

/// [`gather`] through the cache: reused while the data and the org's findings are unchanged.
async fn gather_cached(pool: &PgPool, config: &Config, cache: Option<&super::cache::ExecCache>, scope: &Scope, query: &ExecQuery) -> Result<std::sync::Arc<Gathered>, AppError> {
    let Some(cache) = cache else { return Ok(std::sync::Arc::new(gather(pool, config, scope, query).await?)) };
    let (as_of, version) = db::kpi::data_stamp(pool, scope.org_id).await?;
    let (findings, changed) = db::recommendations::change_stamp(pool, scope.org_id).await?;
    let stamp = (as_of, version, findings, changed);
    let viewer = (scope.org_id, scope.role);
    if let Some(hit) = cache.facts(viewer, query, &stamp) {
        return Ok(hit);
    }
    let built = std::sync::Arc::new(gather(pool, config, scope, query).await?);
    cache.put_facts(viewer, query, stamp, built.clone());
    Ok(built)
}

/// Writes the narrative of `gathered` with the environment's writer.
pub async fn write(config: &Config, audience: Audience, gathered: &Gathered) -> Written {
    let writer = summarizer::for_config(&config.narrative);
    writer.write(&NarrativeRequest { audience, labels: &gathered.labels, facts: &gathered.facts }).await
}

/// The stored narrative of the period, writing and storing it first when there is none yet.
async fn stored_or_write(pool: &PgPool, config: &Config, org_id: uuid::Uuid, (audience, query): (Audience, &ExecQuery), gathered: &Gathered, stored_by: StoredBy) -> Result<(StoredNarrative, bool), AppError> {
    let s = &gathered.summary;
    if let Some(stored) = db::narratives::find(pool, org_id, audience, query.grain, s.period_start).await? {
        return Ok((stored, false));
    }
    let written = write(config, audience, gathered).await;
    let facts = gathered.facts.all();
    let new = NewNarrative {
        org_id,
        audience,
        grain: query.grain,
        period_start: s.period_start,
        period_end: s.period_end,
        narrative: &written.narrative,
        facts: &facts,
        author: written.author,
        model_name: written.model_name.as_deref(),
        prompt_version: written.prompt_version,
        stored_by,
    };
    let mut conn = pool.acquire().await?;
    let stored_now = db::narratives::insert_if_absent(&mut conn, &new).await?;
    drop(conn);
    // Another instance may have stored the period first: its text is the one kept.
    let stored = db::narratives::find(pool, org_id, audience, query.grain, s.period_start)
        .await?
        .ok_or_else(|| AppError::Internal("a stored narrative vanished".into()))?;
    Ok((stored, stored_now))
}

/// What `viewer` is shown of the `audience` narrative of `query`'s period: the stored text (or
/// today's when `current` asks for it and the data changed), without the sentences citing a
/// metric the viewer may not see, or a slice of one the viewer sees only as totals.
pub async fn view(pool: &PgPool, config: &Config, cache: Option<&super::cache::ExecCache>, viewer: &Scope, (audience, query): (Audience, &ExecQuery), current: bool) -> Result<NarrativeView, AppError> {
    let scope = Scope { role: audience_role(audience), ..viewer.clone() };
    let gathered = gather_cached(pool, config, cache, &scope, query).await?;
    let access = viewer.access_map(pool).await?;
    let visible = |f: &CitedFact| match access.access(&f.fact.metric().key) {
        MetricAccess::Full => true,
        MetricAccess::TotalsOnly => !f.names_slice,
        MetricAccess::Hidden => false,
    };
    let today = gathered.facts.all();
    let period_label = gathered.summary.period_label.clone();
    // A period without data (not loaded yet, or long before it) is written but never stored, so
    // it cannot keep its empty text once the data arrives.
    if gathered.summary.cards.iter().all(|c| c.vs_previous.current.is_none()) {
        let mut view = render(&compose(&gathered.labels, &gathered.facts), &today, visible, (Author::Deterministic, None), None);
        (view.audience, view.period_label) = (audience, period_label);
        return Ok(view);
    }
    let (stored, _) = stored_or_write(pool, config, viewer.org_id, (audience, query), &gathered, StoredBy::FirstView).await?;
    let changed_since = stored.facts != today;
    // A model's words are checked against facts, not against what this viewer may see: a viewer
    // for whom any of its facts is withheld reads the deterministic text instead.
    let model_text_withheld = stored.author == Author::Llm && stored.facts.iter().any(|f| !visible(f));
    let mut view = if (current && changed_since) || model_text_withheld {
        let narrative = compose(&gathered.labels, &gathered.facts);
        render(&narrative, &today, visible, (Author::Deterministic, None), None)
    } else {
        let meta = (stored.author, stored.model_name.clone());
        render(&stored.narrative, &stored.facts, visible, meta, Some((stored.written_at.clone(), stored.stored_by)))
    };
    view.audience = audience;
    view.period_label = period_label;
    view.changed_since = changed_since;
    view.showing_current = (current && changed_since) || model_text_withheld;
    Ok(view)
}

fn render(
    narrative: &Narrative,
    facts: &[CitedFact],
    visible: impl Fn(&CitedFact) -> bool,
    (author, model_name): (Author, Option<String>),
    stored: Option<(String, StoredBy)>,
) -> NarrativeView {
    let by_id: HashMap<&str, &CitedFact> = facts.iter().map(|f| (f.id.as_str(), f)).collect();
    let shown = |s: &crate::analytics::story::Sentence| s.cites.iter().all(|id| by_id.get(id.as_str()).is_some_and(|f| visible(f)));
    let to_view = |s: &crate::analytics::story::Sentence| ViewSentence {
        text: s.text.clone(),
        href: s.cites.first().and_then(|id| by_id.get(id.as_str())).map(|f| f.href.clone()),
        cites: s.cites.clone(),
    };
    let mut withheld = 0;
    let mut paragraphs = Vec::new();
    for p in &narrative.paragraphs {
        let mut sentences = Vec::new();
        for s in &p.sentences {
            if shown(s) {
                sentences.push(to_view(s));
            } else {
                withheld += 1;
            }
        }
        if !sentences.is_empty() {
            paragraphs.push(ViewParagraph { heading: p.topic.heading().to_string(), sentences });
        }
    }
    let headline = if shown(&narrative.headline) {
        to_view(&narrative.headline)
    } else {
        withheld += 1;
        ViewSentence { text: "Summary of the period".into(), href: None, cites: Vec::new() }
    };
    let cited: std::collections::BTreeSet<&str> = headline.cites.iter().chain(paragraphs.iter().flat_map(|p| p.sentences.iter().flat_map(|s| s.cites.iter()))).map(String::as_str).collect();
    let facts = facts.iter().filter(|f| cited.contains(f.id.as_str())).map(|f| ViewFact { id: f.id.clone(), text: f.text(), href: f.href.clone(), metric_key: f.fact.metric().key.clone(), names_slice: f.names_slice }).collect();
    NarrativeView {
        audience: Audience::Board,
        period_label: String::new(),
        headline,
        paragraphs,
        facts,
        author,
        model_name,
        written_at: stored.as_ref().map(|s| s.0.clone()),
        stored_by: stored.map(|s| s.1),
        changed_since: false,
        showing_current: false,
        withheld,
    }
}

/// The scheduled job: every org's last complete month, quarter and year get their board and
/// manager narratives, once. Returns how many were stored by this run.
pub async fn store_closed_periods(pool: &PgPool, config: &Config) -> Result<serde_json::Value, AppError> {
    let mut stored = 0;
    for org in db::orgs::all(pool).await? {
        if db::kpi::latest_day(pool, org.id).await?.is_none() {
            continue;
        }
        for audience in [Audience::Board, Audience::Manager] {
            let scope = Scope::for_org(pool, &org.slug, audience_role(audience), &config.access).await?;
            for grain in [Granularity::Month, Granularity::Quarter, Granularity::Year] {
                let query = ExecQuery { grain, period: None };
                let gathered = match gather(pool, config, &scope, &query).await {
                    Ok(g) => g,
                    Err(AppError::NotFound(_)) => continue,
                    Err(other) => return Err(other),
                };
                if gathered.summary.cards.iter().all(|c| c.vs_previous.current.is_none()) {
                    continue;
                }
                if stored_or_write(pool, config, org.id, (audience, &query), &gathered, StoredBy::Scheduled).await?.1 {
                    stored += 1;
                }
            }
        }
    }
    Ok(serde_json::json!({ "stored": stored }))
}
