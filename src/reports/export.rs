//! Exports of a dashboard view as CSV or JSON, under the export governance of the environment:
//! the visibility rules on every metric touched, PII masking, the row limit (checked before a byte
//! is sent) and the parallel exports per user. Rows stream from the database through the encoder
//! in chunks, so memory stays flat however many rows there are.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, Utc};
use futures::StreamExt;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::encode::{mask, number_text, Encoder, ExportMeta, ExportRow};
use crate::analytics::calendar::{aggregate_by, Granularity};
use crate::analytics::DailyValue;
use crate::auth::server::{Principal, Scope};
use crate::auth::MetricAccess;
use crate::config::jobs::EnvProfile as Profile;
use crate::dashboard::DashboardQuery;
use crate::db;
use crate::db::exports::{FactExportRow, FactSelection};
use crate::db::kpi::FactTable;
use crate::db::metrics::{MetricDef, MetricKind};
use crate::domain::reports::{ExportGrain, ReportFormat};
use crate::domain::DimensionFilter;
use crate::error::AppError;

/// What to export: a dashboard view (its URL query), a grain and a row format.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRequest {
    pub query: DashboardQuery,
    pub grain: ExportGrain,
    pub format: ReportFormat,
}

impl ExportRequest {
    /// Reads `/export/dashboard?…`: the dashboard's own parameters plus `format` and `grain`.
    pub fn from_query_string(text: &str) -> Result<ExportRequest, AppError> {
        let mut view = form_urlencoded::Serializer::new(String::new());
        let (mut format, mut grain) = (ReportFormat::Csv, ExportGrain::Day);
        for (key, value) in form_urlencoded::parse(text.trim_start_matches('?').as_bytes()) {
            match key.as_ref() {
                "format" => {
                    format = ReportFormat::parse(&value)
                        .filter(|f| *f != ReportFormat::Pdf)
                        .ok_or_else(|| AppError::BadRequest(format!("`format` = {value:?} is not csv or json (the PDF pack is /export/board.pdf)")))?
                }
                "grain" => grain = ExportGrain::parse(&value).ok_or_else(|| AppError::BadRequest(format!("`grain` = {value:?} is not day, week or month")))?,
                _ => {
                    view.append_pair(&key, &value);
                }
            }
        }
        Ok(ExportRequest { query: DashboardQuery::from_query_string(&view.finish())?, grain, format })
    }
}

/// A checked export, ready to write: its header, its rows' sources and the masking to apply.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    pub meta: ExportMeta,
    pub format: ReportFormat,
    /// Stored fact rows streamed from the database (metrics seen in full, at day grain).
    pub facts: Option<FactSelection>,
    /// Rows computed here: totals-only metrics, and every metric at week or month grain.
    pub computed: Vec<ComputedRow>,
    pub masked: HashSet<String>,
    pub org_id: Uuid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ComputedRow {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub metric: String,
    pub value: String,
}

impl ExportPlan {
    pub fn file_name(&self, stem: &str) -> String {
        format!("{stem}-{}-{}.{}", self.meta.from, self.meta.to, self.format.as_str())
    }
}

/// The metrics a view touches, each checked: hidden ones refuse the whole export, naming it.
fn touched_metrics(catalogue: &[MetricDef], access: &crate::domain::access::MetricAccessMap, query: &DashboardQuery, role: &str) -> Result<Vec<(MetricDef, MetricAccess)>, AppError> {
    let first = catalogue.first().map(|m| m.key.clone());
    let keys: Vec<String> = query.metric.clone().or(first).into_iter().chain(query.versus.clone()).collect();
    keys.iter()
        .map(|key| {
            if access.access(key) == MetricAccess::Hidden && access.contains(key) {
                return Err(AppError::AccessDenied(format!("the metric {key:?} is restricted: your role ({role}) may not export it")));
            }
            let def = catalogue.iter().find(|m| &m.key == key).cloned().ok_or_else(|| AppError::BadRequest(format!("unknown metric {key:?}")))?;
            Ok((def, access.access(key)))
        })
        .collect()
}

/// Checks an export against the visibility rules and the row limit and says what it will hold.
pub async fn plan(pool: &PgPool, scope: &Scope, profile: &Profile, request: &ExportRequest, generated_by: &str) -> Result<ExportPlan, AppError> {
    let (catalogue, access) = scope.metrics(pool, MetricKind::Kpi).await?;
    let metrics = touched_metrics(&catalogue, &access, &request.query, scope.role.as_str())?;
    let as_of = db::kpi::latest_day(pool, scope.org_id).await?.ok_or_else(|| AppError::NotFound(format!("{} has no KPI data yet", scope.org_name)))?;
    let (start, end) = request.query.range_for(as_of)?;
    let selection = request.query.selection()?;
    let totals_only: Vec<&MetricDef> = metrics.iter().filter(|(_, a)| *a == MetricAccess::TotalsOnly).map(|(m, _)| m).collect();
    if let Some(m) = totals_only.first().filter(|_| !selection.is_empty()) {
        return Err(AppError::AccessDenied(format!("{} is anonymised for your role: only org-wide totals can be exported, without filters", m.label)));
    }
    let full: Vec<&MetricDef> = metrics.iter().filter(|(_, a)| *a == MetricAccess::Full).map(|(m, _)| m).collect();
    let pii: HashSet<String> = if profile.pii_masking { db::exports::pii_metrics(pool, scope.org_id).await?.into_iter().collect() } else { HashSet::new() };
    let mut computed = Vec::new();
    let mut facts = None;
    let mut rows = 0i64;
    for metric in metrics.iter().map(|(m, _)| m) {
        let whole = totals_only.iter().any(|t| t.key == metric.key);
        if request.grain == ExportGrain::Day && !whole {
            continue;
        }
        let filter = if whole { DimensionFilter::default() } else { selection.clone() };
        computed.extend(period_rows(pool, scope.org_id, metric, &filter, request.grain, (start, end)).await?);
    }
    if request.grain == ExportGrain::Day && !full.is_empty() {
        let mut selection = FactSelection { org_id: scope.org_id, metrics: full.iter().map(|m| m.key.clone()).collect(), filter: selection.clone(), start, end, limit: 0 };
        let counted = db::exports::count_facts(pool, &selection).await?;
        selection.limit = counted + 1;
        rows += counted;
        facts = Some(selection);
    }
    rows += computed.len() as i64;
    if rows > i64::from(profile.export_max_rows) {
        return Err(AppError::LimitExceeded(format!(
            "this export has {rows} rows; the limit is {} rows per export. Narrow the date range or add filters.",
            profile.export_max_rows
        )));
    }
    let masked: HashSet<String> = full.iter().filter(|m| pii.contains(&m.key)).map(|m| m.key.clone()).collect();
    let meta = ExportMeta {
        org: scope.org_name.clone(),
        query: request.query.to_query_string(),
        grain: request.grain.as_str().into(),
        from: start,
        to: end,
        metrics: metrics.iter().map(|(m, _)| m.key.clone()).collect(),
        generated_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        generated_by: generated_by.into(),
        rows,
        masked_metrics: { let mut v: Vec<String> = masked.iter().cloned().collect(); v.sort(); v },
        totals_only_metrics: totals_only.iter().map(|m| m.key.clone()).collect(),
    };
    Ok(ExportPlan { meta, format: request.format, facts, computed, masked, org_id: scope.org_id })
}

/// A metric's daily totals over the range, or its weeks or months: the dashboard's own numbers.
async fn period_rows(pool: &PgPool, org_id: Uuid, metric: &MetricDef, filter: &DimensionFilter, grain: ExportGrain, (start, end): (NaiveDate, NaiveDate)) -> Result<Vec<ComputedRow>, AppError> {
    let days = db::kpi::daily_by(pool, org_id, FactTable::Kpi, &metric.key, metric.aggregation, filter, None, start, end).await?;
    let series: Vec<DailyValue> = days.iter().map(|r| DailyValue::new(r.day, r.value)).collect();
    let row = |start: NaiveDate, end: NaiveDate, value: Option<f64>| {
        value.and_then(number_text).map(|value| ComputedRow { start, end, metric: metric.key.clone(), value })
    };
    let granularity = match grain {
        ExportGrain::Day => return Ok(series.iter().filter_map(|p| row(p.date, p.date, Some(p.value))).collect()),
        ExportGrain::Week => Granularity::Week,
        ExportGrain::Month => Granularity::Month,
    };
    Ok(aggregate_by(&series, granularity, metric.aggregation).into_iter().filter_map(|p| row(p.period.start, p.period.end, p.aggregate.value)).collect())
}

/// Chunks at least this big are handed to the response (or the report file) at once.
const CHUNK_BYTES: usize = 256 * 1024;

/// Writes the whole export into `out` chunk by chunk; returns the rows written. Stops with an
/// error (never a short file passed off as whole) when the database fails midway.
pub async fn write(pool: &PgPool, plan: &ExportPlan, out: &mpsc::Sender<Result<Vec<u8>, String>>) -> Result<u64, String> {
    let mut encoder = Encoder::new(plan.format, &plan.meta);
    let send = |bytes: Vec<u8>| async move { out.send(Ok(bytes)).await.map_err(|_| "the reader went away".to_string()) };
    for r in &plan.computed {
        encoder.row(&ExportRow { start: r.start, end: r.end, metric: &r.metric, dimensions: [None; 4], source: "", value: &r.value });
    }
    if let Some(selection) = &plan.facts {
        let salt = plan.org_id.as_bytes().to_vec();
        let mut masks: HashMap<String, String> = HashMap::new();
        let mut conn = pool.acquire().await.map_err(|e| format!("no database connection: {e}"))?;
        let mut rows = db::exports::facts(&mut conn, selection);
        let mut read = 0i64;
        while let Some(row) = rows.next().await {
            let row: FactExportRow = row.map_err(|e| format!("the export query failed: {e}"))?;
            read += 1;
            if read >= selection.limit {
                // More rows than counted against the limit: data arrived meanwhile.
                return Err("the data changed while it was being exported; export again".into());
            }
            let raw = [row.region.as_deref(), row.segment.as_deref(), row.channel.as_deref(), row.product.as_deref()];
            let hide = plan.masked.contains(&row.metric_key);
            if hide {
                // Each distinct value is hashed once; later rows only look it up.
                for value in raw.iter().flatten() {
                    if !masks.contains_key(*value) {
                        masks.insert(value.to_string(), mask(&salt, value));
                    }
                }
            }
            let dims = if hide { raw.map(|d| d.and_then(|v| masks.get(v).map(String::as_str))) } else { raw };
            encoder.row(&ExportRow { start: row.day, end: row.day, metric: &row.metric_key, dimensions: dims, source: &row.source, value: &row.value });
            if let Some(chunk) = encoder.take(CHUNK_BYTES) {
                send(chunk).await?;
            }
        }
    }
    let rows = encoder.rows();
    send(encoder.finish()).await?;
    Ok(rows)
}

/// The whole export in memory (report files, bounded by the row limit).
pub async fn to_bytes(pool: &PgPool, plan: &ExportPlan) -> Result<(Vec<u8>, u64), String> {
    let (tx, mut rx) = mpsc::channel(16);
    let (pool, plan) = (pool.clone(), plan.clone());
    let writer = tokio::spawn(async move { write(&pool, &plan, &tx).await });
    let mut bytes = Vec::new();
    while let Some(chunk) = rx.recv().await {
        bytes.extend(chunk?);
    }
    let rows = writer.await.map_err(|e| format!("the export task failed: {e}"))??;
    Ok((bytes, rows))
}

/// The parallel exports each user has running in this process.
#[derive(Clone, Default)]
pub struct ExportSlots(Arc<Mutex<HashMap<Uuid, u32>>>);

/// Held while an export runs; frees its slot when dropped (finished, failed or abandoned).
pub struct ExportSlot {
    slots: ExportSlots,
    user: Uuid,
}

impl ExportSlots {
    /// A slot for `user`, or 429 naming the limit when they already run `limit` exports.
    pub fn acquire(&self, user: Uuid, limit: u32) -> Result<ExportSlot, AppError> {
        let mut running = self.0.lock().map_err(|_| AppError::Internal("export slots poisoned".into()))?;
        let count = running.entry(user).or_insert(0);
        if *count >= limit {
            return Err(AppError::RateLimited { message: format!("you already have {count} exports running; the limit is {limit} at a time. Try again when one finishes."), retry_after_secs: 5 });
        }
        *count += 1;
        Ok(ExportSlot { slots: self.clone(), user })
    }

    pub fn running(&self, user: Uuid) -> u32 {
        self.0.lock().map(|m| m.get(&user).copied().unwrap_or(0)).unwrap_or(0)
    }
}

impl Drop for ExportSlot {
    fn drop(&mut self) {
        if let Ok(mut running) = self.slots.0.lock() {
            if let Some(count) = running.get_mut(&self.user) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    running.remove(&self.user);
                }
            }
        }
    }
}

/// Records an export in the audit log: who, what view, how many rows.
pub async fn audit(pool: &PgPool, principal: &Principal, target: &str, detail: serde_json::Value) -> Result<(), AppError> {
    let mut conn = pool.acquire().await?;
    db::audit::record(&mut conn, principal.audit(crate::admin::AuditAction::DataExported, target, detail)).await?;
    Ok(())
}
