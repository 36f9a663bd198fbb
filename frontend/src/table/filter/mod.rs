//! The runs table's filter language, which lives in `trackline_shared::filter` so the daemon
//! evaluates a report's run set exactly as the table does.

pub use trackline_shared::filter::{Filter, FilterError};
