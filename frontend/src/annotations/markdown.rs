//! The safe markdown renderer, which lives in `trackline_shared::markdown` so report exports
//! render notes and text blocks exactly as the page does.

pub use trackline_shared::markdown::*;
