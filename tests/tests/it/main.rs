//! One integration-test binary, one module per area. Every test runs real processes on
//! 127.0.0.1: the daemon binary, Python scripts, and (in `browser`) headless Chromium.

mod common;
mod web;

mod annotate;
mod annotations;
mod artifacts_api;
mod artifacts_ingest;
mod artifacts_ui;
mod browser;
mod charts;
mod charts_scale;
mod crash;
mod hostile;
mod media_api;
mod media_table_ui;
mod media_ui;
mod media_views_ui;
mod prefix;
mod presence;
mod python;
mod remote;
mod report_export;
mod reports_api;
mod reports_collab;
mod reports_ui;
mod rest;
mod run_delete;
mod runpage;
mod share;
mod share_ui;
mod sweeps_agent;
mod sweeps_api;
mod sweeps_ui;
mod table;
mod tunnel;
mod ws;
