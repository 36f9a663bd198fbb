//! Sorting runs by a column, which lives in `trackline_shared::columns` so a report's run set
//! sorts exactly like the table.

pub use trackline_shared::columns::{Key, base_order, cmp_keys, key, natural_cmp, sort};
