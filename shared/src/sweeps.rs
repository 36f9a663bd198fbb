//! Sweeps (hyperparameter searches): the wire types of a sweep, its runs, the agent protocol and
//! parameter importance (docs/api.md, "Sweeps"), shared by the daemon, the web app and the tests.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Length of a sweep id: 8 characters of `[a-z0-9]`, as W&B's (unique across the daemon).
pub const SWEEP_ID_LEN: usize = 8;

/// Whether `id` is a well-formed sweep id.
pub fn is_sweep_id(id: &str) -> bool {
    id.len() == SWEEP_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A sweep's lifecycle, as W&B's `wandb sweep --pause|--resume|--stop|--cancel`.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug, Hash, Default)]
#[serde(rename_all = "lowercase")]
pub enum SweepState {
    /// Agents get new runs.
    #[default]
    Running,
    /// Agents wait (no new runs); running runs go on.
    Paused,
    /// No new runs; running runs finish on their own. Becomes `finished` when the last one ends.
    Stopped,
    /// No new runs, and running runs are told to stop (SIGTERM, then kill after the grace period).
    Cancelled,
    /// Nothing more to run: the grid is exhausted or `run_cap` runs were made, and none is running.
    Finished,
}

impl SweepState {
    pub fn as_str(self) -> &'static str {
        match self {
            SweepState::Running => "running",
            SweepState::Paused => "paused",
            SweepState::Stopped => "stopped",
            SweepState::Cancelled => "cancelled",
            SweepState::Finished => "finished",
        }
    }
}

/// The metric a sweep optimises (`metric:` of the config).
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct SweepMetric {
    pub name: String,
    /// `minimize` or `maximize`.
    pub goal: String,
    /// Stop making runs once a run reaches it.
    #[serde(default)]
    pub target: Option<f64>,
}

/// The best run so far by the sweep's metric.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct SweepBest {
    pub run: String,
    pub value: f64,
}

/// One sweep, as lists show it: `GET /api/projects/{p}/sweeps` and the `sweeps` topic.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct SweepInfo {
    pub id: String,
    pub project: String,
    /// `name:` of the config (the id when it has none).
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `grid`, `random` or `bayes`.
    pub method: String,
    #[serde(default)]
    pub metric: Option<SweepMetric>,
    pub state: SweepState,
    #[serde(default)]
    pub run_cap: Option<u64>,
    /// Runs handed out so far (every state).
    pub run_count: u64,
    /// Runs handed out that have not ended.
    pub running_count: u64,
    /// Agents that asked or reported within the last minute.
    pub agent_count: u64,
    /// For grid: how many parameter sets the grid has in all.
    #[serde(default)]
    pub grid_size: Option<u64>,
    #[serde(default)]
    pub best: Option<SweepBest>,
    /// Unix seconds.
    pub created_at: f64,
    pub updated_at: f64,
}

/// Where a run of a sweep stands, from the sweep's side.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[serde(rename_all = "snake_case")]
pub enum SweepRunState {
    /// Handed to an agent; its run folder has not been seen yet.
    Assigned,
    Running,
    Finished,
    /// The program exited non-zero, the run crashed, or its agent vanished before it started.
    Failed,
    /// Stopped early: by hyperband (`early_terminated`), or by a cancel.
    Stopped,
}

/// One run of a sweep.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct SweepRun {
    pub run: String,
    /// The parameters the sweep chose, nested as the config's `parameters` are
    /// (`{"lr": 0.01, "optimizer": {"momentum": 0.9}}`).
    pub params: Map<String, Value>,
    pub state: SweepRunState,
    /// Stopped by the sweep's `early_terminate` rule.
    #[serde(default)]
    pub early_terminated: bool,
    /// The run's value of the sweep metric (its summary value), when it has a finite one.
    #[serde(default)]
    pub metric: Option<f64>,
    /// The agent it was handed to.
    pub agent: String,
    /// Unix seconds.
    pub assigned_at: f64,
    #[serde(default)]
    pub ended_at: Option<f64>,
}

/// One sweep whole: `GET /api/projects/{p}/sweeps/{id}`, `GET /api/sweeps/{id}` and the `sweep` topic.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct SweepDetail {
    pub info: SweepInfo,
    /// The W&B sweep config as given (YAML is converted to JSON), after validation.
    pub config: Value,
    /// Oldest first.
    pub runs: Vec<SweepRun>,
}

/// `POST /api/projects/{p}/sweeps`: exactly one of the two.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct NewSweep {
    /// The config as a JSON object.
    #[serde(default)]
    pub config: Option<Value>,
    /// The config as YAML text (what `trackline sweep config.yaml` sends).
    #[serde(default)]
    pub config_yaml: Option<String>,
}

/// `POST /api/sweeps/{id}/control`.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum SweepControl {
    Pause,
    Resume,
    Stop,
    Cancel,
    /// Set (or with `null` lift) the run cap.
    RunCap {
        run_cap: Option<u64>,
    },
}

/// `POST /api/sweeps/{id}/agents`: an agent introduces itself.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct AgentHello {
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub pid: Option<u32>,
}

/// The answer to [`AgentHello`].
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct AgentWelcome {
    /// The agent's id, used in its later requests.
    pub agent: String,
    /// The sweep's config (the agent builds the command line from `program`/`command`).
    pub config: Value,
    pub project: String,
    /// Seconds between heartbeats the daemon expects; an agent silent for 6 of them is gone and
    /// its assigned runs that never started become `failed`.
    pub heartbeat_secs: u64,
}

/// `POST /api/sweeps/{id}/agents/{agent}/next`: what the agent does now.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "lowercase", tag = "action")]
pub enum AgentCommand {
    /// Start run `run` (its id is fixed: the agent passes it as `WANDB_RUN_ID`) with `params`.
    Run {
        run: String,
        project: String,
        params: Map<String, Value>,
    },
    /// Ask again after `secs` (the sweep is paused, or a bayes search waits for results).
    Wait { secs: u64 },
    /// Nothing more for this agent: the sweep is finished, stopped, cancelled, or at its cap.
    Done { reason: String },
}

/// `POST /api/sweeps/{id}/agents/{agent}/heartbeat`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct AgentHeartbeat {
    /// Runs whose program is still running.
    #[serde(default)]
    pub running: Vec<String>,
    /// Runs whose program exited since the last heartbeat.
    #[serde(default)]
    pub exited: Vec<AgentRunExit>,
}

/// A run's program exited.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct AgentRunExit {
    pub run: String,
    /// `None` when killed by a signal.
    #[serde(default)]
    pub exit_code: Option<i32>,
}

/// The answer to [`AgentHeartbeat`].
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct AgentOrders {
    /// Runs to stop now (early termination or a cancel): SIGTERM, then kill after the grace period.
    #[serde(default)]
    pub stop: Vec<String>,
    pub state: SweepState,
}

/// `GET /api/projects/{p}/sweeps/{id}/importance`: how much each parameter matters to the metric.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct SweepImportance {
    pub metric: String,
    /// Runs with a finite metric value that were used.
    pub run_count: u64,
    /// Most important first.
    pub params: Vec<ParamImportance>,
}

/// One parameter's importance.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct ParamImportance {
    /// Dotted path of a nested parameter (`optimizer.lr`).
    pub name: String,
    /// Random-forest impurity decrease, normalised so the parameters sum to 1.
    pub importance: f64,
    /// Pearson correlation with the metric (categorical parameters: `None`).
    #[serde(default)]
    pub correlation: Option<f64>,
    /// Spearman rank correlation with the metric (categorical parameters: `None`).
    #[serde(default)]
    pub spearman: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_ids_are_eight_lowercase_alphanumerics() {
        assert!(is_sweep_id("ab12cd34"));
        assert!(!is_sweep_id("AB12cd34"));
        assert!(!is_sweep_id("ab12cd3"));
        assert!(!is_sweep_id("ab12cd3/"));
    }

    #[test]
    fn commands_and_controls_are_tagged_by_action() {
        let wait: AgentCommand = serde_json::from_str(r#"{"action":"wait","secs":5}"#).unwrap();
        assert_eq!(wait, AgentCommand::Wait { secs: 5 });
        let cap: SweepControl =
            serde_json::from_str(r#"{"action":"run_cap","run_cap":10}"#).unwrap();
        assert_eq!(cap, SweepControl::RunCap { run_cap: Some(10) });
    }
}
