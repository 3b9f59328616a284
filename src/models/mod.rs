//! The model registry: versioned analytical models whose runs raise recommendations.
//! Types here cross the wire; built-in implementations and runs are in `builtin` and `service`.

pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod builtin;
#[cfg(feature = "ssr")]
pub mod findings;
#[cfg(feature = "ssr")]
pub mod service;

use serde::{Deserialize, Serialize};

pub use crate::domain::models::{ExecutionStatus, ExecutionSummary, Implementation, ModelStatus, ModelSummary, ModelType};

/// What a model change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelAction {
    Activate,
    Deprecate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelsPage {
    pub models: Vec<ModelSummary>,
    pub executions: Vec<ExecutionSummary>,
}
