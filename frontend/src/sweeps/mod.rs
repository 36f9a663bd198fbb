//! Sweeps (issue 13): a project's sweeps ([`list`]), a new one from selected runs ([`new`]), and one sweep's page ([`page`]: its state
//! and the owner's controls, the agent command, the runs, parallel coordinates with brushing
//! ([`parcoords`]), parameter importance, the metric over time and each parameter against the
//! metric ([`plots`])), live on the `sweeps`/`sweep` topics. Data comes
//! from the sweep routes (docs/api.md "Sweeps").

pub mod list;
pub mod new;
pub mod page;
pub mod parcoords;
pub mod plots;

pub use list::SweepsPage;
pub use new::NewSweepPage;
pub use page::SweepPage;

use crate::api::ApiError;
use crate::util::encode;
use trackline_shared::sweeps::{SweepControl, SweepInfo};

/// `/projects/{p}/sweeps`.
pub fn sweeps_path(project: &str) -> String {
    format!("/projects/{}/sweeps", encode(project))
}

/// `/projects/{p}/sweeps/{id}`.
pub fn sweep_path(project: &str, sweep: &str) -> String {
    format!("{}/{}", sweeps_path(project), encode(sweep))
}

pub fn list_url(project: &str) -> String {
    format!("api/projects/{}/sweeps", encode(project))
}

pub fn detail_url(project: &str, sweep: &str) -> String {
    format!("{}/{}", list_url(project), encode(sweep))
}

pub fn importance_url(project: &str, sweep: &str) -> String {
    format!("{}/importance", detail_url(project, sweep))
}

/// Pauses, resumes, stops or cancels a sweep, or sets its run cap (owners only).
pub async fn control(sweep: &str, body: &SweepControl) -> Result<SweepInfo, ApiError> {
    crate::api::post_json(&format!("api/sweeps/{}/control", encode(sweep)), body).await
}

/// A metric value as the pages show it.
pub fn fmt_metric(value: Option<f64>) -> String {
    match value {
        Some(v) if v.abs() >= 1e4 || (v != 0.0 && v.abs() < 1e-3) => format!("{v:.3e}"),
        Some(v) => format!("{v:.4}"),
        None => "—".into(),
    }
}

const STYLE_ID: &str = "sweeps-style";

/// The sweep pages' CSS (a fixed text, nothing user-written).
const CSS: &str = "
.sw-state { display: inline-block; padding: 0 8px; border-radius: 9px; font-size: 12px;
  background: #eef1f6; color: #334; }
.sw-state.running { background: #e6f4ea; color: #1e7b34; }
.sw-state.paused { background: #fff4d6; color: #8a6100; }
.sw-state.cancelled, .sw-state.stopped { background: #fcebec; color: #a12a35; }
.sw-controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
.sw-controls input { width: 80px; padding: 3px 6px; }
.sw-cmd { font: 13px ui-monospace, monospace; background: #f4f6fa; padding: 4px 8px;
  border-radius: 4px; user-select: all; }
.sw-grid { display: grid; grid-template-columns: minmax(0, 2fr) minmax(260px, 1fr); gap: 14px;
  align-items: start; }
.sw-pc { width: 100%; height: auto; user-select: none; touch-action: none; }
.sw-pc .axis line { stroke: #8892a6; }
.sw-pc .axis text { font-size: 11px; fill: #334; }
.sw-pc .axis .hit { fill: transparent; cursor: ns-resize; }
.sw-pc .brush { fill: rgba(47, 95, 208, .18); stroke: #2f5fd0; }
.sw-pc polyline { fill: none; stroke-width: 1.6; }
.sw-pc polyline.dim { stroke: #d5d9e2 !important; stroke-width: 1; }
.sw-bar { height: 8px; background: #2f5fd0; border-radius: 4px; }
.sw-corr.pos { color: #1e7b34; }
.sw-corr.neg { color: #a12a35; }
.sw-early { font-size: 11px; color: #8a6100; }
";

pub fn ensure_style() {
    crate::browser::ensure_style(STYLE_ID, CSS);
}
