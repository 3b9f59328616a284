//! The model registry: versioned analytical models whose runs raise recommendations.
//! Types here cross the wire; built-in implementations and runs are in `builtin` and `service`.

pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod builtin;
#[cfg(feature = "ssr")]
pub mod service;

use serde::{Deserialize, Serialize};

use crate::analytics::text_enum;

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

/// What a model change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelAction {
    Activate,
    Deprecate,
}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelsPage {
    pub models: Vec<ModelSummary>,
    pub executions: Vec<ExecutionSummary>,
}
