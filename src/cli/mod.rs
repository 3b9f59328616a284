//! Offline commands that run the analytics module without the web app: `insightops analyze` on a
//! CSV file and `insightops bench-analytics` on synthetic series.

pub mod analyze;
pub mod bench;
pub mod labelled;
pub mod user;
