//! UI pieces shared by every feature's pages.

mod error_panel;

pub use error_panel::ErrorPanel;
