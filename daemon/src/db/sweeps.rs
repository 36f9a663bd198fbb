//! Sweeps: each sweep's config and state, the runs it handed out (parameters, agent, state, stop
//! orders, metric) and its agents, so a sweep survives a daemon restart (`sweeps/controller.rs`
//! is the only user). This table group holds user data: its migrations keep every row.

use super::{Db, DbResult};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde_json::{Map, Value};
use std::sync::Arc;
use trackline_shared::sweeps::{SweepRunState, SweepState};

/// Migration 7: `sweeps`, `sweep_runs`, `sweep_agents`.
pub(super) fn migrate(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE sweeps (
             id TEXT PRIMARY KEY,
             project TEXT NOT NULL,
             config_json TEXT NOT NULL,
             state TEXT NOT NULL,
             run_cap INTEGER,
             seed INTEGER NOT NULL,
             created_at REAL NOT NULL,
             updated_at REAL NOT NULL
         );
         CREATE INDEX sweeps_by_project ON sweeps (project, created_at);
         CREATE TABLE sweep_runs (
             sweep TEXT NOT NULL,
             run TEXT NOT NULL,
             ordinal INTEGER NOT NULL,
             params_json TEXT NOT NULL,
             agent TEXT NOT NULL,
             state TEXT NOT NULL,
             stop_ordered INTEGER NOT NULL DEFAULT 0,
             early_terminated INTEGER NOT NULL DEFAULT 0,
             metric REAL,
             assigned_at REAL NOT NULL,
             ended_at REAL,
             PRIMARY KEY (sweep, run)
         );
         CREATE TABLE sweep_agents (
             id TEXT PRIMARY KEY,
             sweep TEXT NOT NULL,
             host TEXT,
             pid INTEGER,
             created_at REAL NOT NULL,
             last_seen REAL NOT NULL
         );
         CREATE INDEX sweep_agents_by_sweep ON sweep_agents (sweep);",
    )
}

/// One sweep as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    pub id: String,
    pub project: String,
    pub config: Value,
    pub state: SweepState,
    pub run_cap: Option<u64>,
    /// The search's seed (fixed at creation, so a restart suggests the same).
    pub seed: u64,
    pub created_at: f64,
    pub updated_at: f64,
}

/// One run a sweep handed out.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRunRow {
    pub run: String,
    /// 0, 1, 2, … in the order handed out.
    pub ordinal: u64,
    pub params: Map<String, Value>,
    pub agent: String,
    pub state: SweepRunState,
    /// The agent was told to stop it (early termination or a cancel).
    pub stop_ordered: bool,
    pub early_terminated: bool,
    pub metric: Option<f64>,
    pub assigned_at: f64,
    pub ended_at: Option<f64>,
}

/// One agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRow {
    pub id: String,
    pub sweep: String,
    pub host: Option<String>,
    pub pid: Option<u32>,
    pub created_at: f64,
    pub last_seen: f64,
}

/// The sweep tables.
#[derive(Debug, Clone)]
pub struct SweepTables {
    db: Arc<Db>,
}

impl Db {
    pub fn sweeps(self: &Arc<Self>) -> SweepTables {
        SweepTables { db: self.clone() }
    }
}

fn sweep_state(text: &str) -> SweepState {
    match text {
        "paused" => SweepState::Paused,
        "stopped" => SweepState::Stopped,
        "cancelled" => SweepState::Cancelled,
        "finished" => SweepState::Finished,
        _ => SweepState::Running,
    }
}

fn run_state(text: &str) -> SweepRunState {
    match text {
        "running" => SweepRunState::Running,
        "finished" => SweepRunState::Finished,
        "failed" => SweepRunState::Failed,
        "stopped" => SweepRunState::Stopped,
        _ => SweepRunState::Assigned,
    }
}

/// The stored name of a run state.
pub fn run_state_name(state: SweepRunState) -> &'static str {
    match state {
        SweepRunState::Assigned => "assigned",
        SweepRunState::Running => "running",
        SweepRunState::Finished => "finished",
        SweepRunState::Failed => "failed",
        SweepRunState::Stopped => "stopped",
    }
}

fn sweep_row(r: &Row) -> rusqlite::Result<(SweepRow, String)> {
    let config: String = r.get(2)?;
    let state: String = r.get(3)?;
    let cap: Option<i64> = r.get(4)?;
    let seed: i64 = r.get(5)?;
    Ok((
        SweepRow {
            id: r.get(0)?,
            project: r.get(1)?,
            config: Value::Null,
            state: sweep_state(&state),
            run_cap: cap.map(|c| c as u64),
            seed: seed as u64,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        },
        config,
    ))
}

fn with_config((mut row, config): (SweepRow, String)) -> DbResult<SweepRow> {
    row.config = serde_json::from_str(&config)?;
    Ok(row)
}

const SWEEP_COLUMNS: &str =
    "id, project, config_json, state, run_cap, seed, created_at, updated_at";

impl SweepTables {
    pub fn insert_sweep(&self, row: &SweepRow) -> DbResult<()> {
        let config = serde_json::to_string(&row.config)?;
        self.db.with(|conn| {
            conn.execute(
                "INSERT INTO sweeps (id, project, config_json, state, run_cap, seed, created_at, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    row.id,
                    row.project,
                    config,
                    row.state.as_str(),
                    row.run_cap.map(|c| c as i64),
                    row.seed as i64,
                    row.created_at,
                    row.updated_at
                ],
            )?;
            Ok(())
        })
    }

    pub fn sweep(&self, id: &str) -> DbResult<Option<SweepRow>> {
        let found = self.db.with(|conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {SWEEP_COLUMNS} FROM sweeps WHERE id = ?1"),
                    [id],
                    sweep_row,
                )
                .optional()?)
        })?;
        found.map(with_config).transpose()
    }

    /// A project's sweeps, newest first.
    pub fn sweeps_of(&self, project: &str) -> DbResult<Vec<SweepRow>> {
        let rows = self.db.with(|conn| {
            Ok(conn
                .prepare(&format!(
                    "SELECT {SWEEP_COLUMNS} FROM sweeps WHERE project = ?1 \
                     ORDER BY created_at DESC, id"
                ))?
                .query_map([project], sweep_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        rows.into_iter().map(with_config).collect()
    }

    /// Every sweep that may still change: not finished, or changed or with a run ended since
    /// `since` (a run's last summary may arrive after its program ended).
    pub fn open_sweep_ids(&self, since: f64) -> DbResult<Vec<String>> {
        self.db.with(|conn| {
            Ok(conn
                .prepare(
                    "SELECT id FROM sweeps WHERE state != 'finished' OR updated_at > ?1 \
                     OR id IN (SELECT sweep FROM sweep_runs WHERE ended_at > ?1)",
                )?
                .query_map([since], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    pub fn set_state(&self, id: &str, state: SweepState, now: f64) -> DbResult<()> {
        self.db.with(|conn| {
            conn.execute(
                "UPDATE sweeps SET state = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, state.as_str(), now],
            )?;
            Ok(())
        })
    }

    pub fn set_run_cap(&self, id: &str, run_cap: Option<u64>, now: f64) -> DbResult<()> {
        self.db.with(|conn| {
            conn.execute(
                "UPDATE sweeps SET run_cap = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, run_cap.map(|c| c as i64), now],
            )?;
            Ok(())
        })
    }

    /// The sweep's runs in the order handed out.
    pub fn runs(&self, sweep: &str) -> DbResult<Vec<SweepRunRow>> {
        let rows = self.db.with(|conn| {
            Ok(conn
                .prepare(
                    "SELECT run, ordinal, params_json, agent, state, stop_ordered, \
                     early_terminated, metric, assigned_at, ended_at FROM sweep_runs \
                     WHERE sweep = ?1 ORDER BY ordinal",
                )?
                .query_map([sweep], |r| {
                    let state: String = r.get(4)?;
                    let params: String = r.get(2)?;
                    let ordinal: i64 = r.get(1)?;
                    Ok((
                        SweepRunRow {
                            run: r.get(0)?,
                            ordinal: ordinal as u64,
                            params: Map::new(),
                            agent: r.get(3)?,
                            state: run_state(&state),
                            stop_ordered: r.get(5)?,
                            early_terminated: r.get(6)?,
                            metric: r.get(7)?,
                            assigned_at: r.get(8)?,
                            ended_at: r.get(9)?,
                        },
                        params,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        rows.into_iter()
            .map(|(mut row, params)| {
                row.params = serde_json::from_str(&params)?;
                Ok(row)
            })
            .collect()
    }

    pub fn insert_run(&self, sweep: &str, row: &SweepRunRow) -> DbResult<()> {
        let params = serde_json::to_string(&row.params)?;
        self.db.with(|conn| {
            conn.execute(
                "INSERT INTO sweep_runs (sweep, run, ordinal, params_json, agent, state, \
                 stop_ordered, early_terminated, metric, assigned_at, ended_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    sweep,
                    row.run,
                    row.ordinal as i64,
                    params,
                    row.agent,
                    run_state_name(row.state),
                    row.stop_ordered,
                    row.early_terminated,
                    row.metric,
                    row.assigned_at,
                    row.ended_at
                ],
            )?;
            Ok(())
        })
    }

    /// Stores what changed about a run (its state, orders, metric, end).
    pub fn update_run(&self, sweep: &str, row: &SweepRunRow) -> DbResult<()> {
        self.db.with(|conn| {
            conn.execute(
                "UPDATE sweep_runs SET state = ?3, stop_ordered = ?4, early_terminated = ?5, \
                 metric = ?6, ended_at = ?7 WHERE sweep = ?1 AND run = ?2",
                params![
                    sweep,
                    row.run,
                    run_state_name(row.state),
                    row.stop_ordered,
                    row.early_terminated,
                    row.metric,
                    row.ended_at
                ],
            )?;
            Ok(())
        })
    }

    pub fn insert_agent(&self, row: &AgentRow) -> DbResult<()> {
        self.db.with(|conn| {
            conn.execute(
                "INSERT INTO sweep_agents (id, sweep, host, pid, created_at, last_seen) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    row.id,
                    row.sweep,
                    row.host,
                    row.pid,
                    row.created_at,
                    row.last_seen
                ],
            )?;
            Ok(())
        })
    }

    /// Marks the agent seen now; false when there is no such agent of this sweep.
    pub fn touch_agent(&self, sweep: &str, id: &str, now: f64) -> DbResult<bool> {
        self.db.with(|conn| {
            Ok(conn.execute(
                "UPDATE sweep_agents SET last_seen = ?3 WHERE id = ?1 AND sweep = ?2",
                params![id, sweep, now],
            )? == 1)
        })
    }

    pub fn agents(&self, sweep: &str) -> DbResult<Vec<AgentRow>> {
        self.db.with(|conn| {
            Ok(conn
                .prepare(
                    "SELECT id, sweep, host, pid, created_at, last_seen FROM sweep_agents \
                     WHERE sweep = ?1 ORDER BY created_at",
                )?
                .query_map([sweep], |r| {
                    Ok(AgentRow {
                        id: r.get(0)?,
                        sweep: r.get(1)?,
                        host: r.get(2)?,
                        pid: r.get(3)?,
                        created_at: r.get(4)?,
                        last_seen: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sweeps_runs_and_agents_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let tables = Db::open_in(dir.path()).unwrap().sweeps();
        let sweep = SweepRow {
            id: "ab12cd34".into(),
            project: "p".into(),
            config: json!({"method": "grid"}),
            state: SweepState::Running,
            run_cap: Some(4),
            seed: u64::MAX - 3,
            created_at: 1.0,
            updated_at: 1.0,
        };
        tables.insert_sweep(&sweep).unwrap();
        let mut run = SweepRunRow {
            run: "r1".into(),
            ordinal: 0,
            params: json!({"lr": 0.1}).as_object().unwrap().clone(),
            agent: "a1".into(),
            state: SweepRunState::Assigned,
            stop_ordered: false,
            early_terminated: false,
            metric: None,
            assigned_at: 2.0,
            ended_at: None,
        };
        tables.insert_run("ab12cd34", &run).unwrap();
        run.state = SweepRunState::Stopped;
        run.early_terminated = true;
        run.metric = Some(0.5);
        tables.update_run("ab12cd34", &run).unwrap();
        tables
            .insert_agent(&AgentRow {
                id: "a1".into(),
                sweep: "ab12cd34".into(),
                host: Some("h".into()),
                pid: Some(7),
                created_at: 1.0,
                last_seen: 1.0,
            })
            .unwrap();
        assert!(tables.touch_agent("ab12cd34", "a1", 9.0).unwrap());
        assert!(!tables.touch_agent("ab12cd34", "nope", 9.0).unwrap());
        tables
            .set_state("ab12cd34", SweepState::Paused, 3.0)
            .unwrap();

        let reopened = Db::open_in(dir.path()).unwrap().sweeps();
        let got = reopened.sweep("ab12cd34").unwrap().unwrap();
        assert_eq!(
            (got.state, got.seed, got.run_cap),
            (SweepState::Paused, u64::MAX - 3, Some(4))
        );
        assert_eq!(reopened.runs("ab12cd34").unwrap(), vec![run]);
        assert_eq!(reopened.agents("ab12cd34").unwrap()[0].last_seen, 9.0);
        assert_eq!(reopened.sweeps_of("p").unwrap().len(), 1);
        assert!(reopened.sweeps_of("q").unwrap().is_empty());
    }
}
