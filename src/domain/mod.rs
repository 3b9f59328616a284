//! The domain vocabulary every layer shares: dimensions, how metrics combine, roles and visibility,
//! audit actions, model and recommendation statuses. It sits below `db` and the features and
//! imports none of them, so data flows one way: features -> db -> domain.

macro_rules! text_enum {
    ($ty:ty { $($variant:path => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The token stored in the database's TEXT column.
            pub fn as_str(self) -> &'static str {
                match self { $($variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($variant),)+ _ => None }
            }
        }
    };
}
pub(crate) use text_enum;

pub mod access;
pub mod audit;
pub mod collections;
pub mod dashboards;
pub mod date;
pub mod ingest;
pub mod dimension;
pub mod jobs;
pub mod measure;
pub mod models;
pub mod recommendations;
pub mod reports;

pub use dimension::{Dimension, DimensionFilter};
