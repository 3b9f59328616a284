//! Report templates and generation: who sees which template, saving one (validated, audited in
//! the same transaction), asking for a report (row and job in one transaction), the scheduler's
//! due templates, and the job that generates a report as its owner would see it.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::export::{plan, to_bytes, ExportRequest};
use super::{ReportsPage, ReportsQuery};
use crate::admin::AuditAction;
use crate::auth::server::{Principal, Scope};
use crate::auth::{MetricAccess, Role};
use crate::config::jobs::parse_cron;
use crate::config::Config;
use crate::dashboard::DashboardQuery;
use crate::db;
use crate::db::jobs::NewJob;
use crate::db::metrics::MetricKind;
use crate::db::reports::{ReportFile, TemplateRecord};
use crate::domain::jobs::JobKind;
use crate::domain::reports::{ReportFormat, ReportSchedule, ReportTrigger, TemplateForm, TemplateStatus, TemplateSummary};
use crate::error::AppError;
use crate::exec::ExecQuery;

/// History rows the page lists.
const HISTORY_LIMIT: i64 = 50;
/// Templates the scheduler turns into reports per tick.
const DUE_PER_TICK: i64 = 50;

/// Which templates a user sees: admins every one in the org, managers their own, board members
/// the PDF board packs.
fn visible(principal: &Principal) -> (Option<Uuid>, Vec<ReportFormat>) {
    match principal.role {
        Role::Admin => (None, ReportFormat::ALL.to_vec()),
        Role::Manager => (Some(principal.user_id), ReportFormat::ALL.to_vec()),
        Role::Board => (None, vec![ReportFormat::Pdf]),
    }
}

fn can_see(principal: &Principal, t: &TemplateRecord) -> bool {
    let (owner, formats) = visible(principal);
    formats.contains(&t.format) && owner.is_none_or(|o| t.owner_id == Some(o))
}

/// A template this user may see, or 404 (whether it exists elsewhere is not theirs to know).
async fn template_for(pool: &PgPool, principal: &Principal, id: Uuid) -> Result<TemplateRecord, AppError> {
    db::reports::template_by_id(pool, principal.org_id, id)
        .await?
        .filter(|t| can_see(principal, t))
        .ok_or_else(|| AppError::NotFound("report template".into()))
}

/// A template this user may see, locked for the rest of the transaction, or 404.
async fn locked_template(conn: &mut sqlx::PgConnection, principal: &Principal, id: Uuid) -> Result<TemplateRecord, AppError> {
    db::reports::template_for_update(conn, principal.org_id, id)
        .await?
        .filter(|t| can_see(principal, t))
        .ok_or_else(|| AppError::NotFound("report template".into()))
}

/// Up to `count` runs of a stored schedule after `after`; none for `once` or text that no longer parses.
fn runs_after(schedule: &str, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
    ReportSchedule::parse(schedule).ok().and_then(|s| s.cron()).and_then(|e| parse_cron(&e).ok()).map(|c| c.iter_after(after).take(count).collect()).unwrap_or_default()
}

/// The next runs of a schedule after `now`; `once` runs at once.
pub fn next_runs(schedule: &ReportSchedule, now: DateTime<Utc>, count: usize) -> Result<Vec<DateTime<Utc>>, AppError> {
    match schedule.cron() {
        None => Ok(vec![now]),
        Some(expr) => {
            let cron = parse_cron(&expr).map_err(|e| AppError::BadRequest(format!("the schedule {expr:?} is not a valid cron expression: {e}")))?;
            let runs: Vec<DateTime<Utc>> = cron.iter_after(now).take(count).collect();
            if runs.is_empty() {
                return Err(AppError::BadRequest(format!("the schedule {expr:?} never runs (no such date)")));
            }
            Ok(runs)
        }
    }
}

fn summary(t: TemplateRecord) -> TemplateSummary {
    let now = Utc::now();
    let next_runs = match (t.status, t.next_run_at) {
        (TemplateStatus::Active, Some(first)) => {
            std::iter::once(first).chain(runs_after(&t.schedule, first.max(now), 2)).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).collect()
        }
        _ => Vec::new(),
    };
    TemplateSummary {
        id: t.id,
        name: t.name,
        description: t.description,
        query: t.query,
        grain: t.grain,
        format: t.format,
        schedule: t.schedule,
        status: t.status,
        owner_email: t.owner_email,
        next_runs,
    }
}

pub async fn page(pool: &PgPool, principal: &Principal, query: ReportsQuery) -> Result<ReportsPage, AppError> {
    let (owner, formats) = visible(principal);
    let templates = db::reports::templates(pool, principal.org_id, owner, &formats).await?;
    // A template named in the URL that is gone (deleted a moment ago) is simply not shown.
    let named = |id: Option<Uuid>| id.and_then(|id| templates.iter().find(|t| t.id == id).cloned());
    let editing = named(query.edit).map(summary);
    let ids: Vec<Uuid> = match named(query.template) {
        Some(t) => vec![t.id],
        None => templates.iter().map(|t| t.id).collect(),
    };
    let history = db::reports::history(pool, principal.org_id, &ids, HISTORY_LIMIT).await?;
    Ok(ReportsPage {
        templates: templates.into_iter().map(summary).collect(),
        history,
        can_manage: principal.role.can(crate::auth::Capability::ManageReports),
        editing,
        query,
    })
}

/// Checks a form against the catalogue as its owner sees it: the view parses, its metrics exist
/// and are visible, the schedule is valid.
pub async fn validate(pool: &PgPool, scope: &Scope, mut form: TemplateForm) -> Result<TemplateForm, AppError> {
    form.name = form.name.trim().to_string();
    form.description = form.description.trim().to_string();
    if form.name.is_empty() || form.name.chars().count() > 200 {
        return Err(AppError::BadRequest("a template needs a name of 1 to 200 characters".into()));
    }
    if form.description.chars().count() > 2000 {
        return Err(AppError::BadRequest("the description has more than 2000 characters".into()));
    }
    let view = DashboardQuery::from_query_string(form.query.trim().trim_start_matches("/dashboard"))?;
    form.query = view.to_query_string();
    let (catalogue, access) = scope.metrics(pool, MetricKind::Kpi).await?;
    for key in view.metric.iter().chain(view.versus.iter()) {
        if !catalogue.iter().any(|m| &m.key == key) || access.access(key) == MetricAccess::Hidden {
            return Err(AppError::BadRequest(format!("unknown metric {key:?} in the view")));
        }
    }
    next_runs(&form.schedule, Utc::now(), 1)?;
    Ok(form)
}

fn first_run(form: &TemplateForm) -> Result<Option<DateTime<Utc>>, AppError> {
    if form.status == TemplateStatus::Paused {
        return Ok(None);
    }
    Ok(next_runs(&form.schedule, Utc::now(), 1)?.into_iter().next())
}

/// Creates (`id` None) or rewrites a template; audited in the same transaction.
pub async fn save(pool: &PgPool, principal: &Principal, scope: &Scope, id: Option<Uuid>, form: TemplateForm) -> Result<Uuid, AppError> {
    let form = validate(pool, scope, form).await?;
    let next = first_run(&form)?;
    let clash = || AppError::Conflict(format!("a report template named {:?} exists already", form.name));
    let mut tx = pool.begin().await?;
    let (id, action) = match id {
        None => (db::reports::create_template(&mut tx, principal.org_id, (principal.user_id, &principal.email), &form, next).await?.ok_or_else(clash)?, AuditAction::ReportTemplateCreated),
        Some(id) => {
            let current = locked_template(&mut tx, principal, id).await?;
            if !db::reports::update_template(&mut tx, principal.org_id, current.id, &form, next).await? {
                return Err(clash());
            }
            (id, AuditAction::ReportTemplateUpdated)
        }
    };
    let detail = json!({ "template_id": id, "format": form.format.as_str(), "schedule": form.schedule.text(), "status": form.status.as_str(), "view": form.query });
    db::audit::record(&mut tx, principal.audit(action, &form.name, detail)).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete(pool: &PgPool, principal: &Principal, id: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let current = locked_template(&mut tx, principal, id).await?;
    db::reports::delete_template(&mut tx, principal.org_id, id).await?;
    db::audit::record(&mut tx, principal.audit(AuditAction::ReportTemplateDeleted, &current.name, json!({ "template_id": id }))).await?;
    tx.commit().await?;
    Ok(())
}

/// A `pending` report and its job, in the caller's transaction.
async fn enqueue_report(conn: &mut sqlx::PgConnection, config: &Config, template: &TemplateRecord, trigger: ReportTrigger, by: &str) -> Result<Uuid, AppError> {
    let report_id = db::reports::create_report(conn, template.org_id, template.id, trigger, by).await?;
    let job = NewJob { payload: json!({ "report_id": report_id }), max_attempts: config.jobs.max_attempts as i32, ..NewJob::new(JobKind::Report, Some(template.org_id)) };
    let job_id = db::jobs::enqueue(conn, &job).await?.id();
    db::reports::set_job(conn, report_id, job_id).await?;
    Ok(report_id)
}

/// "Generate now": a report of the template, queued; audited with it.
pub async fn generate(pool: &PgPool, config: &Config, principal: &Principal, template_id: Uuid) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    let template = locked_template(&mut tx, principal, template_id).await?;
    let id = enqueue_report(&mut tx, config, &template, ReportTrigger::Manual, &principal.email).await?;
    db::audit::record(&mut tx, principal.audit(AuditAction::ReportRequested, &template.name, json!({ "template_id": template.id, "report_id": id }))).await?;
    tx.commit().await?;
    Ok(id)
}

/// Turns due templates into queued reports and moves each to its next run; a template is
/// claimed by one instance (row locks, skip locked).
pub async fn enqueue_due(pool: &PgPool, config: &Config, now: DateTime<Utc>) -> Result<usize, AppError> {
    // Reports whose job ended without them (a worker died on the last attempt, an admin
    // cancelled the job) are failed with the job's error, so no page waits on them forever.
    db::reports::fail_orphans(pool).await?;
    let mut tx = pool.begin().await?;
    let due = db::reports::due_templates(&mut tx, now, DUE_PER_TICK).await?;
    for template in &due {
        enqueue_report(&mut tx, config, template, ReportTrigger::Schedule, "schedule").await?;
        let next = runs_after(&template.schedule, now, 1).into_iter().next();
        db::reports::set_next_run(&mut tx, template.id, next).await?;
    }
    tx.commit().await?;
    Ok(due.len())
}

/// The job: generates the report as its template's owner would see it and stores the file.
/// An error is kept on the report; the queue retries it, and the last attempt fails it for good.
pub async fn run(pool: &PgPool, config: &Config, org_id: Uuid, payload: &Value, attempt: (i32, i32)) -> Result<Value, String> {
    let report_id = payload.get("report_id").and_then(Value::as_str).and_then(|t| Uuid::parse_str(t).ok()).ok_or("the payload names no report_id")?;
    let final_attempt = attempt.0 >= attempt.1;
    let Some(template_id) = db::reports::start(pool, org_id, report_id).await.map_err(|e| e.to_string())? else {
        return Ok(json!({ "report_id": report_id, "skipped": "the report is finished or gone" }));
    };
    let started = Instant::now();
    let outcome = async {
        let (bytes, rows, name, content_type) = produce(pool, config, org_id, template_id).await?;
        let file = ReportFile { bytes: &bytes, row_count: rows, file_name: &name, content_type, duration_ms: started.elapsed().as_millis() as i64 };
        let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
        let stored = db::reports::finish(&mut tx, report_id, &file).await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok::<Value, String>(json!({ "report_id": report_id, "rows": rows, "bytes": bytes.len(), "stored": stored }))
    }
    .await;
    if let Err(error) = &outcome {
        db::reports::record_error(pool, report_id, error, final_attempt).await.map_err(|e| e.to_string())?;
    }
    outcome
}

/// The file of a template's report: (bytes, rows, file name, content type).
async fn produce(pool: &PgPool, config: &Config, org_id: Uuid, template_id: Uuid) -> Result<(Vec<u8>, i64, String, &'static str), String> {
    let template = db::reports::template_by_id(pool, org_id, template_id).await.map_err(|e| e.to_string())?.ok_or("the template was deleted")?;
    let owner_id = template.owner_id.ok_or("the template's owner no longer has an account")?;
    let owner = db::users::by_id(pool, owner_id).await.map_err(|e| e.to_string())?.filter(|u| u.org_id == org_id).ok_or("the template's owner no longer has an account")?;
    let principal = Principal::from(owner);
    let scope = Scope::new(&principal, &config.access);
    let stem = slug(&template.name);
    match template.format {
        ReportFormat::Pdf => {
            // A stored pack is listed to every board member, so it holds what the board may see,
            // whoever owns its template.
            let board = Scope { role: Role::Board, ..scope.clone() };
            let summary = crate::exec::service::exec_summary(pool, &board, &ExecQuery::default()).await.map_err(|e| e.to_string())?;
            let summary = without_personal_data(pool, &config.profile, org_id, summary).await.map_err(|e| e.to_string())?;
            let narrative = crate::exec::narrative::view(pool, config, None, &board, (crate::analytics::story::Audience::Board, &ExecQuery::default()), false).await.map_err(|e| e.to_string())?;
            let narrative = narrative_without_personal_data(pool, &config.profile, org_id, narrative).await.map_err(|e| e.to_string())?;
            let rows = summary.cards.len() as i64;
            let generated_at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let bytes = tokio::task::spawn_blocking(move || super::pdf::board_pack(&summary, Some(&narrative), &generated_at)).await.map_err(|e| e.to_string())??;
            Ok((bytes, rows, format!("{stem}.pdf"), ReportFormat::Pdf.content_type()))
        }
        format => {
            let query = DashboardQuery::from_query_string(&template.query).map_err(|e| e.to_string())?;
            let request = ExportRequest { query, grain: template.grain, format };
            let plan = plan(pool, &scope, &config.profile, &request, &format!("report {} for {}", template.name, principal.email)).await.map_err(|e| e.to_string())?;
            let (bytes, rows) = to_bytes(pool, &plan).await?;
            Ok((bytes, rows as i64, plan.file_name(&stem), format.content_type()))
        }
    }
}

/// The pack's sentences without the members of metrics marked as personal data (when masking is
/// on): a driver sentence names a region or product, which for such a metric may name a person.
pub async fn without_personal_data(pool: &PgPool, profile: &crate::config::jobs::EnvProfile, org_id: Uuid, mut summary: crate::exec::ExecSummary) -> Result<crate::exec::ExecSummary, AppError> {
    if !profile.pii_masking {
        return Ok(summary);
    }
    let pii = db::exports::pii_metrics(pool, org_id).await?;
    summary.what_changed.retain(|f| !matches!(&f.fact, crate::analytics::narrative::Fact::Driver { metric, .. } if pii.contains(&metric.key)));
    Ok(summary)
}

/// The narrative for a file that leaves the app: without the sentences naming slices of PII metrics.
pub async fn narrative_without_personal_data(pool: &PgPool, profile: &crate::config::jobs::EnvProfile, org_id: Uuid, view: crate::exec::NarrativeView) -> Result<crate::exec::NarrativeView, AppError> {
    if !profile.pii_masking {
        return Ok(view);
    }
    let pii: Vec<String> = db::exports::pii_metrics(pool, org_id).await?.into_iter().collect();
    Ok(view.without_slices_of(&pii))
}

/// A file-name-safe form of a template's name.
pub fn slug(name: &str) -> String {
    let text: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let text = text.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    if text.is_empty() {
        "report".into()
    } else {
        text.chars().take(60).collect()
    }
}

/// A ready report's file, if this user may see its template.
pub async fn download(pool: &PgPool, principal: &Principal, report_id: Uuid) -> Result<(String, String, Vec<u8>), AppError> {
    let (template_id, name, content_type, bytes) = db::reports::file(pool, principal.org_id, report_id).await?.ok_or_else(|| AppError::NotFound("ready report".into()))?;
    template_for(pool, principal, template_id).await?;
    Ok((name, content_type, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_give_their_next_runs_and_bad_cron_is_named() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z").expect("time").with_timezone(&Utc);
        let weekly = next_runs(&ReportSchedule::Weekly, now, 3).expect("runs");
        assert_eq!(weekly[0].to_rfc3339(), "2026-11-30T06:00:00+00:00", "next Monday 06:00");
        assert_eq!(weekly.len(), 3);
        assert_eq!(next_runs(&ReportSchedule::Once, now, 3).expect("once"), vec![now]);
        let bad = next_runs(&ReportSchedule::Cron("61 * * * *".into()), now, 1).unwrap_err();
        assert!(bad.to_string().contains("61 * * * *"));
        assert!(next_runs(&ReportSchedule::Cron("0 0 30 2 *".into()), now, 1).unwrap_err().to_string().contains("never runs"));
        assert_eq!(slug("Weekly revenue: EMEA / SMB"), "weekly-revenue-emea-smb");
        assert_eq!(slug("///"), "report");
    }
}
