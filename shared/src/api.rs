//! REST bodies under `/api` (documented in `docs/api.md`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Lifecycle of a run. `Crashed` is decided by the daemon: the run says `running` but its heartbeat
/// went stale or its process is gone.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug, Hash, Default)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    #[default]
    Running,
    Finished,
    Failed,
    Crashed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Finished => "finished",
            RunState::Failed => "failed",
            RunState::Crashed => "crashed",
        }
    }
}

/// `GET /api/projects` item.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct ProjectInfo {
    pub name: String,
    pub run_count: u64,
    pub running_count: u64,
    /// Newest heartbeat or creation time among its runs, unix seconds.
    pub last_activity_secs: f64,
}

/// One run as listed and pushed. Config and summary values are JSON; a non-finite number in them
/// arrives as the strings of [`crate::num`].
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct RunInfo {
    pub project: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub job_type: Option<String>,
    /// The sweep that made the run (run.json's `sweep_id`).
    #[serde(default)]
    pub sweep_id: Option<String>,
    pub state: RunState,
    pub created_at_secs: f64,
    pub heartbeat_at_secs: f64,
    #[serde(default)]
    pub finished_at_secs: Option<f64>,
    /// Seconds from creation to finish, or to the last heartbeat while running.
    pub runtime_secs: f64,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Operating system and Python version of the training process, when the client reports them.
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub python: Option<String>,
    /// `{"commit", "branch", "dirty", "remote"}` when the run started inside a git repository.
    #[serde(default)]
    pub git: Option<Value>,
    #[serde(default)]
    pub config: Map<String, Value>,
    #[serde(default)]
    pub summary: Map<String, Value>,
    /// Metric definitions from `metrics.json` (`define_metric`): name or glob → `{step_metric,
    /// summary, goal, hidden}`. A chart uses `step_metric` as the metric's default x axis.
    #[serde(default)]
    pub metrics: Map<String, Value>,
    /// Committed history rows the daemon has indexed, when known.
    #[serde(default)]
    pub history_rows: Option<u64>,
    /// Daemon-wide change counter of the last change to this run; see `ws::Topic::Project`.
    pub version: u64,
}

/// `GET /api/projects/{project}/runs/{run}/keys`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct MetricKey {
    pub key: String,
    /// Points stored for this key; also the offset the next appended point will have.
    pub points: u64,
}

/// The x axis a series is drawn against.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum XAxis {
    #[default]
    Step,
    /// Unix seconds.
    WallTime,
    /// Seconds since the run was created.
    RelativeTime,
}

impl XAxis {
    pub fn as_str(self) -> &'static str {
        match self {
            XAxis::Step => "step",
            XAxis::WallTime => "wall_time",
            XAxis::RelativeTime => "relative_time",
        }
    }
}

/// Most runs one [`SeriesQuery`] may name ("1 to 1000" in docs/api.md): the daemon refuses more,
/// and a chart never asks for more.
pub const MAX_SERIES_RUNS: usize = 1_000;

/// `GET /api/projects/{project}/series?runs=a,b&key=loss&x=step&x_min=&x_max=&width=1200`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct SeriesQuery {
    /// Comma-separated run ids.
    pub runs: String,
    pub key: String,
    #[serde(default)]
    pub x: XAxis,
    #[serde(default)]
    pub x_min: Option<f64>,
    #[serde(default)]
    pub x_max: Option<f64>,
    /// Pixel columns to decimate into (1..=16384).
    pub width: u32,
    /// Plot against this metric's value instead (e.g. `epoch`): each point takes the value the
    /// metric had at the same step or the latest step before it. `x` is then ignored.
    #[serde(default)]
    pub x_key: Option<String>,
    /// Columns equal in log10(x) (a log-scaled x axis), so the decimation stays exact per pixel
    /// there. Only points with x > 0 are included; `x_min`, when given, must be above zero.
    #[serde(default)]
    pub x_log: bool,
}

/// The answer to a [`SeriesQuery`]: one [`Buckets`] per run, all over the same x window.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct SeriesResponse {
    pub key: String,
    pub x: XAxis,
    /// The metric used as x axis, when one was asked for.
    #[serde(default)]
    pub x_key: Option<String>,
    /// The window actually decimated (the union of the runs' extents when none was asked for).
    /// `None` when no run has a point.
    pub window: Option<(f64, f64)>,
    pub width: u32,
    /// Whether the columns are equal in log10(x) (`x_log` of the query).
    #[serde(default)]
    pub x_log: bool,
    pub runs: Vec<RunSeries>,
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct RunSeries {
    pub run: String,
    /// Points in the whole series; a live subscription resumes from this offset.
    pub total_points: u64,
    pub buckets: Buckets,
}

/// Exact per-pixel-column decimation, columnar. Column `i` covers the x interval
/// `[x0 + i*w, x0 + (i+1)*w)` of the window (`w = (x1-x0)/width`, the last column closed); only
/// non-empty columns are listed. `min`/`max` range over the finite values (`None` if a column has
/// only non-finite ones); `first`/`last` are the raw first and last points, NaN and ±Inf included.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct Buckets {
    pub column: Vec<u32>,
    pub count: Vec<u32>,
    /// Non-finite points in the column; the chart marks them.
    pub nonfinite: Vec<u32>,
    pub x_first: Vec<f64>,
    pub x_last: Vec<f64>,
    #[serde(with = "crate::num::vec")]
    pub first: Vec<f64>,
    #[serde(with = "crate::num::vec")]
    pub last: Vec<f64>,
    pub min: Vec<Option<f64>>,
    pub max: Vec<Option<f64>>,
    /// The x of the column's first point holding `min` / `max` (NaN when there is none): where a
    /// one-pixel spike really is, so a wheel zoom can keep it under the pointer.
    #[serde(default, with = "crate::num::vec")]
    pub x_of_min: Vec<f64>,
    #[serde(default, with = "crate::num::vec")]
    pub x_of_max: Vec<f64>,
}

impl Buckets {
    /// No columns, with room for `columns` of them in every column vector.
    pub fn with_capacity(columns: usize) -> Buckets {
        Buckets {
            column: Vec::with_capacity(columns),
            count: Vec::with_capacity(columns),
            nonfinite: Vec::with_capacity(columns),
            x_first: Vec::with_capacity(columns),
            x_last: Vec::with_capacity(columns),
            first: Vec::with_capacity(columns),
            last: Vec::with_capacity(columns),
            min: Vec::with_capacity(columns),
            max: Vec::with_capacity(columns),
            x_of_min: Vec::with_capacity(columns),
            x_of_max: Vec::with_capacity(columns),
        }
    }

    pub fn len(&self) -> usize {
        self.column.len()
    }
    pub fn is_empty(&self) -> bool {
        self.column.is_empty()
    }
    /// Raw points represented.
    pub fn points(&self) -> u64 {
        self.count.iter().map(|&c| u64::from(c)).sum()
    }
}

/// Every error body: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `bad_request`, `forbidden_host`.
    pub code: String,
    pub message: String,
}

/// `GET /api/health`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Health {
    pub ok: bool,
    pub version: String,
    pub format_version: u32,
    pub protocol_version: u32,
    pub runs: u64,
}
