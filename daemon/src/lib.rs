//! Trackline daemon: follows run directories written by training scripts and serves them, live.
//!
//! Data flows one way through the modules, on top of [`format`] (the run-directory format: file
//! names, readers, the line parser and the one writer) and [`source`] (where run files are read
//! from: the local disk today); [`blobs`] stores whole files by content hash:
//! [`ingest`] (discover run folders, follow appended lines) → [`store`] (runs, columnar series,
//! level-of-detail pyramids) → [`query`] (pure functions to wire types) →
//! [`push`] (per-connection sessions turning store events into WebSocket deltas) → [`api`]
//! (axum router: REST, WebSocket, embedded web app, security checks). [`server`] wires them up;
//! [`cli`] is the command line. [`db`] is the daemon's own SQLite database (run index, saved
//! workspaces) with its numbered migrations.

pub mod api;
pub mod artifacts;
pub mod auth;
pub mod blobs;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod format;
pub mod import;
pub mod ingest;
pub mod listen;
pub mod lock;
pub mod logging;
pub mod progress;
pub mod push;
pub mod query;
pub mod reports;
pub mod server;
pub mod share;
pub mod source;
pub mod store;
pub mod sweeps;
pub mod sync;
pub mod tunnel;
pub mod util;

pub use config::Config;
pub use error::{Error, Result};
pub use server::Server;

/// The daemon's version (equal to the Python client's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
