//! The model registry's vocabulary: model types, statuses, implementations, runs, and the
//! summaries the registry page lists.

use serde::{Deserialize, Serialize};


#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelType {
    RuleBased,
    Statistical,
    Ml,
}

text_enum!(ModelType { ModelType::RuleBased => "rule_based", ModelType::Statistical => "statistical", ModelType::Ml => "ml" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    Draft,
    Active,
    Deprecated,
}

text_enum!(ModelStatus { ModelStatus::Draft => "draft", ModelStatus::Active => "active", ModelStatus::Deprecated => "deprecated" });

/// Which built-in code runs a model; a new version changes its config, not its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Implementation {
    RobustAnomaly,
    TrendBreak,
    ForecastRisk,
    OptimisationRules,
}

text_enum!(Implementation {
    Implementation::RobustAnomaly => "robust_anomaly",
    Implementation::TrendBreak => "trend_break",
    Implementation::ForecastRisk => "forecast_risk",
    Implementation::OptimisationRules => "optimisation_rules",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    Running,
    Success,
    Failed,
}

text_enum!(ExecutionStatus { ExecutionStatus::Running => "running", ExecutionStatus::Success => "success", ExecutionStatus::Failed => "failed" });

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub id: uuid::Uuid,
    pub name: String,
    pub version: i32,
    pub model_type: ModelType,
    pub implementation: Implementation,
    pub status: ModelStatus,
    pub description: String,
    /// Pretty-printed JSON, for the registration form.
    pub config: String,
    pub input_schema: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionSummary {
    pub id: uuid::Uuid,
    pub model_name: String,
    pub model_version: i32,
    pub status: ExecutionStatus,
    pub started_at: String,
    pub duration_ms: Option<i32>,
    pub error: Option<String>,
    /// Counts from the run's output: created, refreshed, reopened, kept.
    pub output: String,
    pub triggered_by: String,
}

impl ExecutionSummary {
    /// The run's counts in words, e.g. "18 findings: 0 new, 14 refreshed, 0 reopened, 4 left as decided".
    pub fn result_text(&self) -> String {
        if let Some(error) = &self.error {
            return format!("failed: {error}");
        }
        let parsed: serde_json::Value = serde_json::from_str(&self.output).unwrap_or_default();
        let n = |key: &str| parsed["counts"][key].as_u64().unwrap_or(0);
        match parsed.get("counts") {
            Some(_) => format!(
                "{} findings: {} new, {} refreshed, {} reopened, {} left as decided",
                n("findings"), n("created"), n("refreshed"), n("reopened"), n("kept")
            ),
            None => self.output.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_results_read_as_words() {
        let mut run = ExecutionSummary {
            id: uuid::Uuid::nil(),
            model_name: "m".into(),
            model_version: 1,
            status: ExecutionStatus::Success,
            started_at: String::new(),
            duration_ms: Some(3),
            error: None,
            output: r#"{"counts":{"created":2,"findings":5,"kept":1,"refreshed":2,"reopened":0},"input":{}}"#.into(),
            triggered_by: "seed".into(),
        };
        assert_eq!(run.result_text(), "5 findings: 2 new, 2 refreshed, 0 reopened, 1 left as decided");
        run.error = Some("config: unknown metric \"x\"".into());
        assert!(run.result_text().starts_with("failed: config"));
    }
}
