//! UI pieces shared by every feature's pages: the error panel and the filter controls.

mod error_panel;
mod filters;

pub use error_panel::ErrorPanel;
pub use filters::{DimensionPicker, FilterChips};
