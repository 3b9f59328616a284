//! The vocabulary of reports and exports (seed 004): formats, grains, schedules and statuses of
//! report templates and generated reports, and the rows `/reports` lists.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Json,
    Csv,
    /// The board pack: title page, KPI table, what changed, charts.
    Pdf,
}

text_enum!(ReportFormat { ReportFormat::Json => "json", ReportFormat::Csv => "csv", ReportFormat::Pdf => "pdf" });

impl ReportFormat {
    pub const ALL: [ReportFormat; 3] = [ReportFormat::Csv, ReportFormat::Json, ReportFormat::Pdf];

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Json => "application/json",
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Pdf => "application/pdf",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportFormat::Json => "JSON rows",
            ReportFormat::Csv => "CSV rows",
            ReportFormat::Pdf => "PDF board pack",
        }
    }
}

/// The period each exported row covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportGrain {
    Day,
    Week,
    Month,
}

text_enum!(ExportGrain { ExportGrain::Day => "day", ExportGrain::Week => "week", ExportGrain::Month => "month" });

impl ExportGrain {
    pub const ALL: [ExportGrain; 3] = [ExportGrain::Day, ExportGrain::Week, ExportGrain::Month];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    Active,
    Paused,
}

text_enum!(TemplateStatus { TemplateStatus::Active => "active", TemplateStatus::Paused => "paused" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Pending,
    Generating,
    Ready,
    Failed,
}

text_enum!(ReportStatus {
    ReportStatus::Pending => "pending",
    ReportStatus::Generating => "generating",
    ReportStatus::Ready => "ready",
    ReportStatus::Failed => "failed",
});

impl ReportStatus {
    /// Whether the page should keep polling for a change.
    pub fn is_waiting(self) -> bool {
        matches!(self, ReportStatus::Pending | ReportStatus::Generating)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportTrigger {
    Schedule,
    Manual,
}

text_enum!(ReportTrigger { ReportTrigger::Schedule => "schedule", ReportTrigger::Manual => "manual" });

/// When a template generates reports (UTC). The named ones are cron expressions with a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportSchedule {
    /// One report, as soon as the template is saved.
    Once,
    Daily,
    Weekly,
    Monthly,
    /// A five-field cron expression, checked by the server.
    Cron(String),
}

/// Longest schedule text accepted (the column's limit).
pub const MAX_SCHEDULE_CHARS: usize = 128;

impl ReportSchedule {
    pub fn parse(text: &str) -> Result<ReportSchedule, String> {
        let text = text.trim();
        Ok(match text {
            "" => return Err("a schedule is needed: once, daily, weekly, monthly or a cron expression".into()),
            "once" => ReportSchedule::Once,
            "daily" => ReportSchedule::Daily,
            "weekly" => ReportSchedule::Weekly,
            "monthly" => ReportSchedule::Monthly,
            cron if cron.chars().count() > MAX_SCHEDULE_CHARS => return Err(format!("a cron expression has at most {MAX_SCHEDULE_CHARS} characters")),
            cron if cron.split_whitespace().count() != 5 => {
                return Err(format!("{cron:?} is not once, daily, weekly, monthly or a five-field cron expression (minute hour day month weekday)"))
            }
            cron => ReportSchedule::Cron(cron.split_whitespace().collect::<Vec<_>>().join(" ")),
        })
    }

    /// The text stored and shown.
    pub fn text(&self) -> String {
        match self {
            ReportSchedule::Once => "once".into(),
            ReportSchedule::Daily => "daily".into(),
            ReportSchedule::Weekly => "weekly".into(),
            ReportSchedule::Monthly => "monthly".into(),
            ReportSchedule::Cron(expr) => expr.clone(),
        }
    }

    /// The cron expression of a recurring schedule: named ones run at 06:00 UTC, weekly on
    /// Mondays, monthly on the 1st (after the nightly loads, before the working day).
    pub fn cron(&self) -> Option<String> {
        match self {
            ReportSchedule::Once => None,
            ReportSchedule::Daily => Some("0 6 * * *".into()),
            ReportSchedule::Weekly => Some("0 6 * * 1".into()),
            ReportSchedule::Monthly => Some("0 6 1 * *".into()),
            ReportSchedule::Cron(expr) => Some(expr.clone()),
        }
    }
}

/// A template as `/reports` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateSummary {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// The dashboard URL query the report reads.
    pub query: String,
    pub grain: ExportGrain,
    pub format: ReportFormat,
    pub schedule: String,
    pub status: TemplateStatus,
    pub owner_email: String,
    /// The next three runs (UTC, RFC 3339); empty when paused or once and done.
    pub next_runs: Vec<String>,
}

/// One generated report (times UTC, RFC 3339).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub id: Uuid,
    pub template_id: Uuid,
    pub template_name: String,
    pub format: ReportFormat,
    pub status: ReportStatus,
    pub trigger: ReportTrigger,
    pub requested_by: String,
    pub attempts: i32,
    pub row_count: Option<i64>,
    pub size_bytes: Option<i64>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

impl ReportSummary {
    pub fn download_href(&self) -> String {
        format!("/reports/{}/download", self.id)
    }
}

/// What a template form submits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateForm {
    pub name: String,
    pub description: String,
    pub query: String,
    pub grain: ExportGrain,
    pub format: ReportFormat,
    pub schedule: ReportSchedule,
    pub status: TemplateStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_named_and_cron_forms_and_name_what_is_wrong() {
        assert_eq!(ReportSchedule::parse(" weekly "), Ok(ReportSchedule::Weekly));
        assert_eq!(ReportSchedule::parse("30  7 * *  1-5"), Ok(ReportSchedule::Cron("30 7 * * 1-5".into())));
        assert_eq!(ReportSchedule::Monthly.cron().as_deref(), Some("0 6 1 * *"));
        assert_eq!(ReportSchedule::Once.cron(), None);
        assert!(ReportSchedule::parse("").is_err());
        assert!(ReportSchedule::parse("every day").unwrap_err().contains("five-field"));
        assert!(ReportSchedule::parse(&"* ".repeat(100)).unwrap_err().contains("128"));
        for s in ["once", "daily", "weekly", "monthly", "0 6 * * 1"] {
            assert_eq!(ReportSchedule::parse(s).map(|p| p.text()), Ok(s.to_string()));
        }
    }

    #[test]
    fn tokens_round_trip() {
        for f in ReportFormat::ALL {
            assert_eq!(ReportFormat::parse(f.as_str()), Some(f));
        }
        for g in ExportGrain::ALL {
            assert_eq!(ExportGrain::parse(g.as_str()), Some(g));
        }
        for s in [ReportStatus::Pending, ReportStatus::Generating, ReportStatus::Ready, ReportStatus::Failed] {
            assert_eq!(ReportStatus::parse(s.as_str()), Some(s));
        }
        assert!(ReportStatus::Generating.is_waiting() && !ReportStatus::Failed.is_waiting());
    }
}
