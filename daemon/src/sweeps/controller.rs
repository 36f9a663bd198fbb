//! The daemon's side of sweeps: sweeps, their runs and agents in the database
//! (`db/sweeps.rs`), the next run for an agent (`search::suggest` over the sweep's trials), stop
//! orders (hyperband, cancel), and each run's state and metric followed from the store. Calls for
//! one sweep take turns (a mutex per sweep), so parallel agents never get the same parameters and
//! a run id is stored before it is handed out. Every change is told to the store's subscribers as
//! [`Event::Sweeps`] (the `sweeps`/`sweep` topics).

use super::config::{Method, SweepConfig};
use super::hyperband::{self, RunHistory};
use super::search::{self, Suggestion};
use super::{Goal, Outcome, SweepError, Trial};
use crate::db::Db;
use crate::db::sweeps::{AgentRow, SweepRow, SweepRunRow, SweepTables};
use crate::error::{Error, Result};
use crate::store::{Event, Store};
use parking_lot::Mutex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use trackline_shared::RunState;
use trackline_shared::sweeps::{
    AgentCommand, AgentHeartbeat, AgentHello, AgentOrders, AgentWelcome, NewSweep, SweepBest,
    SweepControl, SweepDetail, SweepInfo, SweepMetric, SweepRun, SweepRunState, SweepState,
};

/// Default seconds between an agent's heartbeats.
pub const DEFAULT_HEARTBEAT_SECS: u64 = 5;
/// An agent silent for this many heartbeats is gone.
pub const MISSED_HEARTBEATS: u64 = 6;
/// An agent seen within this many seconds counts in `agent_count`.
const AGENT_RECENT_SECS: f64 = 60.0;
/// Seconds an agent waits before asking again (paused sweep).
const WAIT_SECS: u64 = 5;
/// Seconds a run whose program exited cleanly may take to show its folder before it is failed.
const UNSEEN_EXIT_SECS: f64 = 10.0;
/// Seconds a finished sweep is still followed, for its runs' last summaries.
const SETTLE_SECS: f64 = 120.0;
/// How often open sweeps are brought up to date with their runs.
pub const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// The sweeps of the daemon.
#[derive(Debug)]
pub struct Controller {
    tables: SweepTables,
    store: Arc<Store>,
    turns: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    heartbeat_secs: u64,
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A fresh id of 8 characters of `[a-z0-9]`.
fn fresh_id() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

fn sweep_error(e: SweepError) -> Error {
    match e {
        SweepError::Config { .. } => Error::BadRequest(e.to_string()),
        SweepError::Search(_) => Error::Internal(e.to_string()),
    }
}

fn not_found(sweep: &str) -> Error {
    Error::NotFound(format!("no sweep '{sweep}'"))
}

fn is_active(state: SweepRunState) -> bool {
    matches!(state, SweepRunState::Assigned | SweepRunState::Running)
}

/// A run's value of the metric from its summary: the number, or the goal's entry of a
/// `define_metric(summary=…)` object (`min`, `max`, `last`, …).
fn summary_metric(summary: &Map<String, Value>, name: &str, goal: Goal) -> Option<f64> {
    let value = summary.get(name)?;
    let number = match value {
        Value::Object(o) => {
            let preferred = match goal {
                Goal::Minimize => "min",
                Goal::Maximize => "max",
            };
            [preferred, "best", "last", "mean"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_f64))
        }
        other => other.as_f64(),
    }?;
    number.is_finite().then_some(number)
}

/// One run's parameters and its metric value.
pub type Observation = (Map<String, Value>, f64);

/// What a sweep is made of, read at once.
struct Loaded {
    row: SweepRow,
    config: SweepConfig,
    runs: Vec<SweepRunRow>,
    agents: Vec<AgentRow>,
}

impl Controller {
    pub fn new(db: &Arc<Db>, store: Arc<Store>, heartbeat_secs: u64) -> Arc<Controller> {
        Arc::new(Controller {
            tables: db.sweeps(),
            store,
            turns: Mutex::new(HashMap::new()),
            heartbeat_secs: heartbeat_secs.max(1),
        })
    }

    /// Brings every open sweep up to date every [`REFRESH_EVERY`] until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: tokio_util::sync::CancellationToken) {
        let mut ticks = tokio::time::interval(REFRESH_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let me = self.clone();
            match tokio::task::spawn_blocking(move || me.refresh_open()).await {
                Ok(Err(e)) => tracing::warn!(error = %e, "refreshing sweeps"),
                Err(e) => tracing::warn!(error = %e, "refreshing sweeps"),
                Ok(Ok(())) => {}
            }
        }
    }

    fn refresh_open(&self) -> Result<()> {
        for id in self.tables.open_sweep_ids(now() - SETTLE_SECS)? {
            let turn = self.turn(&id);
            let _held = turn.lock();
            if let Some(mut loaded) = self.load(&id)? {
                self.refresh(&mut loaded)?;
            }
        }
        Ok(())
    }

    fn turn(&self, sweep: &str) -> Arc<Mutex<()>> {
        self.turns
            .lock()
            .entry(sweep.to_string())
            .or_default()
            .clone()
    }

    fn load(&self, sweep: &str) -> Result<Option<Loaded>> {
        let Some(row) = self.tables.sweep(sweep)? else {
            return Ok(None);
        };
        let config = SweepConfig::from_json(&row.config).map_err(sweep_error)?;
        let runs = self.tables.runs(sweep)?;
        let agents = self.tables.agents(sweep)?;
        Ok(Some(Loaded {
            row,
            config,
            runs,
            agents,
        }))
    }

    fn load_known(&self, sweep: &str) -> Result<Loaded> {
        if !trackline_shared::sweeps::is_sweep_id(sweep) {
            return Err(not_found(sweep));
        }
        self.load(sweep)?.ok_or_else(|| not_found(sweep))
    }

    fn changed(&self, project: &str, sweep: &str) {
        self.store.emit(Event::Sweeps {
            project: project.to_string(),
            sweep: sweep.to_string(),
        });
    }

    // -- reads -------------------------------------------------------------------------------

    /// A project's sweeps, newest first.
    pub fn list(&self, project: &str) -> Result<Vec<SweepInfo>> {
        let rows = self.tables.sweeps_of(project)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let Ok(config) = SweepConfig::from_json(&row.config) else {
                continue;
            };
            let runs = self.tables.runs(&row.id)?;
            let agents = self.tables.agents(&row.id)?;
            out.push(info(&Loaded {
                row,
                config,
                runs,
                agents,
            }));
        }
        Ok(out)
    }

    /// One sweep whole; `project`, when given, must be its project.
    pub fn detail(&self, project: Option<&str>, sweep: &str) -> Result<SweepDetail> {
        let loaded = self.load_known(sweep)?;
        if project.is_some_and(|p| p != loaded.row.project) {
            return Err(not_found(sweep));
        }
        Ok(detail(&loaded))
    }

    /// The project a sweep belongs to.
    pub fn project_of(&self, sweep: &str) -> Result<String> {
        Ok(self.load_known(sweep)?.row.project)
    }

    /// The parameters and metric values of the runs with a finite metric (for importance).
    pub fn observations(&self, sweep: &str) -> Result<(SweepConfig, Vec<Observation>)> {
        let loaded = self.load_known(sweep)?;
        let points = loaded
            .runs
            .iter()
            .filter_map(|r| r.metric.map(|m| (r.params.clone(), m)))
            .collect();
        Ok((loaded.config, points))
    }

    // -- writes ------------------------------------------------------------------------------

    /// A new sweep of `project` from its config.
    pub fn create(&self, project: &str, new: NewSweep) -> Result<SweepInfo> {
        if !crate::format::valid_project_name(project) {
            return Err(Error::BadRequest(format!(
                "'{project}' is not a valid project name"
            )));
        }
        let config = match (new.config, new.config_yaml) {
            (Some(json), None) => SweepConfig::from_json(&json),
            (None, Some(yaml)) => SweepConfig::from_yaml(&yaml),
            _ => {
                return Err(Error::BadRequest(
                    "give the sweep config as `config` (JSON) or `config_yaml` (text), one of them"
                        .into(),
                ));
            }
        }
        .map_err(sweep_error)?;
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
        let t = now();
        let row = SweepRow {
            id: fresh_id()?,
            project: project.to_string(),
            config: config.raw.clone(),
            state: SweepState::Running,
            run_cap: config.run_cap,
            seed: u64::from_le_bytes(seed),
            created_at: t,
            updated_at: t,
        };
        self.tables.insert_sweep(&row)?;
        tracing::info!(sweep = %row.id, project = %project, method = config.method.as_str(), "created a sweep");
        self.changed(project, &row.id);
        Ok(info(&Loaded {
            row,
            config,
            runs: Vec::new(),
            agents: Vec::new(),
        }))
    }

    /// Pauses, resumes, stops or cancels a sweep, or sets its run cap.
    pub fn control(&self, sweep: &str, control: SweepControl) -> Result<SweepInfo> {
        let turn = self.turn(sweep);
        let _held = turn.lock();
        let mut loaded = self.load_known(sweep)?;
        let t = now();
        let state = loaded.row.state;
        let ended = matches!(state, SweepState::Finished | SweepState::Cancelled);
        let refuse = |what: &str| Error::Conflict {
            code: "sweep_ended",
            message: format!("the sweep is {}: it cannot be {what}", state.as_str()),
            extra: Map::new(),
        };
        match control {
            SweepControl::Pause | SweepControl::Resume | SweepControl::Stop if ended => {
                return Err(refuse(match control {
                    SweepControl::Pause => "paused",
                    SweepControl::Resume => "resumed",
                    _ => "stopped",
                }));
            }
            SweepControl::Pause => loaded.row.state = SweepState::Paused,
            SweepControl::Resume => loaded.row.state = SweepState::Running,
            SweepControl::Stop => loaded.row.state = SweepState::Stopped,
            SweepControl::Cancel => {
                if state == SweepState::Finished {
                    return Err(refuse("cancelled"));
                }
                loaded.row.state = SweepState::Cancelled;
                for run in loaded.runs.iter_mut().filter(|r| is_active(r.state)) {
                    if !run.stop_ordered {
                        run.stop_ordered = true;
                        self.tables.update_run(sweep, run)?;
                    }
                }
            }
            SweepControl::RunCap { run_cap } => {
                if run_cap == Some(0) {
                    return Err(Error::BadRequest("run_cap must be above 0".into()));
                }
                loaded.row.run_cap = run_cap;
                self.tables.set_run_cap(sweep, run_cap, t)?;
            }
        }
        if loaded.row.state != state {
            self.tables.set_state(sweep, loaded.row.state, t)?;
            tracing::info!(sweep = %sweep, state = loaded.row.state.as_str(), "sweep state changed");
        }
        loaded.row.updated_at = t;
        self.refresh(&mut loaded)?;
        self.changed(&loaded.row.project, sweep);
        Ok(info(&loaded))
    }

    /// An agent introduces itself.
    pub fn hello(&self, sweep: &str, hello: AgentHello) -> Result<AgentWelcome> {
        let loaded = self.load_known(sweep)?;
        let t = now();
        let agent = AgentRow {
            id: fresh_id()?,
            sweep: sweep.to_string(),
            host: hello.host.map(|h| h.chars().take(255).collect()),
            pid: hello.pid,
            created_at: t,
            last_seen: t,
        };
        self.tables.insert_agent(&agent)?;
        tracing::info!(sweep = %sweep, agent = %agent.id, "an agent joined");
        self.changed(&loaded.row.project, sweep);
        Ok(AgentWelcome {
            agent: agent.id,
            config: loaded.row.config,
            project: loaded.row.project,
            heartbeat_secs: self.heartbeat_secs,
        })
    }

    fn seen(&self, sweep: &str, agent: &str) -> Result<()> {
        if self.tables.touch_agent(sweep, agent, now())? {
            Ok(())
        } else {
            Err(Error::NotFound(format!(
                "no agent '{agent}' of sweep '{sweep}': introduce it first (POST /api/sweeps/{sweep}/agents)"
            )))
        }
    }

    /// What `agent` does next: a run with its parameters, wait, or stop.
    pub fn next(&self, sweep: &str, agent: &str) -> Result<AgentCommand> {
        let turn = self.turn(sweep);
        let _held = turn.lock();
        let mut loaded = self.load_known(sweep)?;
        self.seen(sweep, agent)?;
        self.refresh(&mut loaded)?;
        let done = |reason: &str| {
            Ok(AgentCommand::Done {
                reason: reason.to_string(),
            })
        };
        match loaded.row.state {
            SweepState::Paused => return Ok(AgentCommand::Wait { secs: WAIT_SECS }),
            SweepState::Stopped => return done("the sweep was stopped"),
            SweepState::Cancelled => return done("the sweep was cancelled"),
            SweepState::Finished => return done("the sweep is finished"),
            SweepState::Running => {}
        }
        if let Some(cap) = loaded.row.run_cap
            && loaded.runs.len() as u64 >= cap
        {
            return done(&format!("the sweep made its {cap} runs (run_cap)"));
        }
        if target_reached(&loaded) {
            return done("a run reached the metric's target");
        }
        let trials: Vec<Trial> = loaded.runs.iter().map(trial).collect();
        let suggestion =
            search::suggest(&loaded.config, &trials, loaded.row.seed).map_err(sweep_error)?;
        let Suggestion::Next(params) = suggestion else {
            return done("every parameter set of the grid was handed out");
        };
        let run = SweepRunRow {
            run: fresh_id()?,
            ordinal: loaded.runs.len() as u64,
            params: params.clone(),
            agent: agent.to_string(),
            state: SweepRunState::Assigned,
            stop_ordered: false,
            early_terminated: false,
            metric: None,
            assigned_at: now(),
            ended_at: None,
        };
        self.tables.insert_run(sweep, &run)?;
        tracing::info!(sweep = %sweep, agent = %agent, run = %run.run, "handed out a run");
        self.changed(&loaded.row.project, sweep);
        Ok(AgentCommand::Run {
            run: run.run,
            project: loaded.row.project,
            params,
        })
    }

    /// An agent's report of its runs; answers which to stop.
    pub fn heartbeat(&self, sweep: &str, agent: &str, beat: AgentHeartbeat) -> Result<AgentOrders> {
        let turn = self.turn(sweep);
        let _held = turn.lock();
        let mut loaded = self.load_known(sweep)?;
        self.seen(sweep, agent)?;
        let t = now();
        let mut changed = false;
        for exit in &beat.exited {
            let Some(run) = loaded
                .runs
                .iter_mut()
                .find(|r| r.run == exit.run && r.agent == agent && is_active(r.state))
            else {
                continue;
            };
            let in_store = self.store.get(&loaded.row.project, &run.run);
            // A clean exit whose run folder the daemon has not read yet stays open (with its
            // exit time) until the folder shows up, or [`UNSEEN_EXIT_SECS`] pass without it.
            run.state = if run.stop_ordered {
                SweepRunState::Stopped
            } else if exit.exit_code != Some(0) {
                SweepRunState::Failed
            } else if in_store.is_some() {
                SweepRunState::Finished
            } else {
                run.state
            };
            if let Some(found) = in_store {
                let info = found.info();
                if let Some(m) = loaded.config.metric.as_ref() {
                    run.metric = summary_metric(&info.summary, &m.name, m.goal).or(run.metric);
                }
            }
            run.ended_at = Some(t);
            self.tables.update_run(sweep, run)?;
            changed = true;
        }
        self.refresh(&mut loaded)?;
        let stop = loaded
            .runs
            .iter()
            .filter(|r| r.agent == agent && r.stop_ordered && is_active(r.state))
            .map(|r| r.run.clone())
            .collect();
        if changed {
            self.changed(&loaded.row.project, sweep);
        }
        Ok(AgentOrders {
            stop,
            state: loaded.row.state,
        })
    }

    /// Follows each unfinished run from the store, orders early stops, moves the sweep's state.
    fn refresh(&self, loaded: &mut Loaded) -> Result<()> {
        let t = now();
        let sweep = loaded.row.id.clone();
        let project = loaded.row.project.clone();
        let gone_after = (self.heartbeat_secs * MISSED_HEARTBEATS) as f64;
        let last_seen: HashMap<&str, f64> = loaded
            .agents
            .iter()
            .map(|a| (a.id.as_str(), a.last_seen))
            .collect();
        let metric = loaded.config.metric.clone();
        let mut changed = false;
        for run in loaded.runs.iter_mut() {
            let before = run.clone();
            let agent_gone = last_seen
                .get(run.agent.as_str())
                .is_none_or(|seen| t - seen > gone_after);
            match self.store.get(&project, &run.run) {
                Some(found) => {
                    let info = found.info();
                    if let Some(m) = &metric
                        && let Some(v) = summary_metric(&info.summary, &m.name, m.goal)
                    {
                        run.metric = Some(v);
                    }
                    if is_active(run.state) && run.ended_at.is_some() {
                        // Its program exited cleanly before the folder was read.
                        run.state = if run.stop_ordered {
                            SweepRunState::Stopped
                        } else {
                            SweepRunState::Finished
                        };
                    } else if is_active(run.state) {
                        run.state = match info.state {
                            RunState::Running if agent_gone && run.stop_ordered => {
                                SweepRunState::Stopped
                            }
                            RunState::Running => SweepRunState::Running,
                            _ if run.stop_ordered => SweepRunState::Stopped,
                            RunState::Finished => SweepRunState::Finished,
                            RunState::Failed | RunState::Crashed => SweepRunState::Failed,
                        };
                        if !is_active(run.state) {
                            run.ended_at = Some(info.finished_at_secs.unwrap_or(t));
                        }
                    }
                }
                None if run.state == SweepRunState::Assigned
                    && (agent_gone || run.ended_at.is_some_and(|e| t - e > UNSEEN_EXIT_SECS)) =>
                {
                    run.state = SweepRunState::Failed;
                    run.ended_at.get_or_insert(t);
                }
                None => {}
            }
            if *run != before {
                self.tables.update_run(&sweep, run)?;
                changed = true;
            }
        }
        if let (Some(rule), Some(m)) = (&loaded.config.early_terminate, &metric) {
            let histories = self.histories(&project, &loaded.runs, &m.name, m.goal);
            for stopped in hyperband::runs_to_stop(rule, &histories) {
                if let Some(run) = loaded
                    .runs
                    .iter_mut()
                    .find(|r| r.run == stopped && !r.stop_ordered && is_active(r.state))
                {
                    run.stop_ordered = true;
                    run.early_terminated = true;
                    self.tables.update_run(&sweep, run)?;
                    tracing::info!(sweep = %sweep, run = %run.run, "hyperband stops a run");
                    changed = true;
                }
            }
        }
        let active = loaded.runs.iter().any(|r| is_active(r.state));
        let nothing_left = match loaded.row.run_cap {
            Some(cap) if loaded.runs.len() as u64 >= cap => true,
            _ => {
                (loaded.config.method == Method::Grid
                    && search::grid::size(&loaded.config.space)
                        .is_some_and(|n| loaded.runs.len() as u64 >= n))
                    || target_reached(loaded)
            }
        };
        let finished = !active
            && match loaded.row.state {
                SweepState::Stopped => true,
                SweepState::Running => nothing_left,
                _ => false,
            };
        if finished {
            loaded.row.state = SweepState::Finished;
            loaded.row.updated_at = t;
            self.tables.set_state(&sweep, SweepState::Finished, t)?;
            tracing::info!(sweep = %sweep, "sweep finished");
            changed = true;
        }
        if changed {
            self.changed(&project, &sweep);
        }
        Ok(())
    }

    /// Each run's history of the metric as losses, for hyperband (runs not in memory are loaded).
    fn histories(
        &self,
        project: &str,
        runs: &[SweepRunRow],
        metric: &str,
        goal: Goal,
    ) -> Vec<RunHistory> {
        let mut out = Vec::new();
        for run in runs {
            let Some(found) = self.store.get(project, &run.run) else {
                continue;
            };
            if self.store.ensure_loaded(&found).is_err() {
                continue;
            }
            let history = found.history.lock();
            let losses: Vec<f64> = history
                .series_by_key(metric)
                .map(|s| {
                    s.values()
                        .iter()
                        .filter(|v| v.is_finite())
                        .map(|v| goal.as_loss(*v))
                        .collect()
                })
                .unwrap_or_default();
            out.push(RunHistory {
                run: run.run.clone(),
                losses,
                running: is_active(run.state) && !run.stop_ordered,
            });
        }
        out
    }
}

fn trial(run: &SweepRunRow) -> Trial {
    let outcome = if is_active(run.state) {
        Outcome::Pending
    } else {
        match run.metric {
            Some(v) if run.state != SweepRunState::Failed => Outcome::Value(v),
            _ => Outcome::Failed,
        }
    };
    Trial {
        params: run.params.clone(),
        outcome,
    }
}

fn best(loaded: &Loaded) -> Option<SweepBest> {
    let goal = loaded.config.metric.as_ref()?.goal;
    loaded
        .runs
        .iter()
        .filter_map(|r| r.metric.map(|m| (r, m)))
        .min_by(|a, b| goal.as_loss(a.1).total_cmp(&goal.as_loss(b.1)))
        .map(|(r, value)| SweepBest {
            run: r.run.clone(),
            value,
        })
}

fn target_reached(loaded: &Loaded) -> bool {
    let Some(m) = &loaded.config.metric else {
        return false;
    };
    let (Some(target), Some(best)) = (m.target, best(loaded)) else {
        return false;
    };
    m.goal.as_loss(best.value) <= m.goal.as_loss(target)
}

fn info(loaded: &Loaded) -> SweepInfo {
    let t = now();
    let config = &loaded.config;
    SweepInfo {
        id: loaded.row.id.clone(),
        project: loaded.row.project.clone(),
        name: config.name.clone().unwrap_or_else(|| loaded.row.id.clone()),
        description: config.description.clone(),
        method: config.method.as_str().to_string(),
        metric: config.metric.as_ref().map(|m| SweepMetric {
            name: m.name.clone(),
            goal: m.goal.as_str().to_string(),
            target: m.target,
        }),
        state: loaded.row.state,
        run_cap: loaded.row.run_cap,
        run_count: loaded.runs.len() as u64,
        running_count: loaded.runs.iter().filter(|r| is_active(r.state)).count() as u64,
        agent_count: loaded
            .agents
            .iter()
            .filter(|a| t - a.last_seen <= AGENT_RECENT_SECS)
            .count() as u64,
        grid_size: (config.method == Method::Grid)
            .then(|| search::grid::size(&config.space))
            .flatten(),
        best: best(loaded),
        created_at: loaded.row.created_at,
        updated_at: loaded.row.updated_at,
    }
}

fn detail(loaded: &Loaded) -> SweepDetail {
    SweepDetail {
        info: info(loaded),
        config: loaded.row.config.clone(),
        runs: loaded
            .runs
            .iter()
            .map(|r| SweepRun {
                run: r.run.clone(),
                params: r.params.clone(),
                state: r.state,
                early_terminated: r.early_terminated,
                metric: r.metric,
                agent: r.agent.clone(),
                assigned_at: r.assigned_at,
                ended_at: r.ended_at,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_metric_is_read_from_a_number_or_a_summary_object() {
        let summary = json!({"loss": 0.5, "acc": {"max": 0.9, "last": 0.8}, "bad": "NaN"});
        let s = summary.as_object().unwrap();
        assert_eq!(summary_metric(s, "loss", Goal::Minimize), Some(0.5));
        assert_eq!(summary_metric(s, "acc", Goal::Maximize), Some(0.9));
        assert_eq!(summary_metric(s, "acc", Goal::Minimize), Some(0.8));
        assert_eq!(summary_metric(s, "bad", Goal::Minimize), None);
        assert_eq!(summary_metric(s, "nope", Goal::Minimize), None);
    }
}
