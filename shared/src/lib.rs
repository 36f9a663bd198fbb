//! Wire types spoken between the Trackline daemon and its clients (web app, tests, tools), and
//! the pure logic both ends of a report need.
//!
//! No axum, tokio or leptos here, so the WASM frontend and the daemon compile the very same
//! definitions. `api` holds the REST bodies, `ws` the WebSocket messages, `annotations` notes,
//! threads and pins with their op log, `reports` report blocks and run sets, `chart` a chart's
//! settings, `presence` who else is here, `media` logged media values and their reference objects, `artifacts` artifact versions, files and lineage, `sweeps` sweeps, their runs and the agent protocol, `num` the encoding of non-finite floats (JSON has no
//! NaN, metrics do). Pure logic: `columns` a run's value in a runs-table column and the table's
//! sort, `filter` the runs table's filter language (also over a logged table's rows),
//! `media_table` a logged table as typed columns (sorted, filtered, grouped, compared), `runset` a report's run set evaluated
//! against runs, `markdown` the safe markdown renderer (notes, comments, report text).

pub mod annotations;
pub mod api;
pub mod artifacts;
pub mod chart;
pub mod columns;
pub mod filter;
pub mod markdown;
pub mod media;
pub mod media_table;
pub mod num;
pub mod presence;
pub mod reports;
pub mod runset;
pub mod series_wire;
pub mod share;
pub mod smooth;
pub mod sweeps;
pub mod ws;

pub use api::*;
pub use ws::*;

/// Version of the on-disk run directory format (`docs/format.md`).
pub const FORMAT_VERSION: u32 = 1;

/// Version of the WebSocket protocol (`docs/api.md`); sent in [`ws::ServerMsg::Hello`].
pub const PROTOCOL_VERSION: u32 = 1;
