//! Sweeps: W&B sweep configs run locally. Data flows config → space → search → controller → agents:
//!
//! - [`config`] parses and checks a W&B sweep config (YAML or JSON) into a [`config::SweepConfig`],
//!   with an error naming the bad key;
//! - [`space`] is the search space it describes: one [`space::Dim`] per leaf parameter, each with
//!   its [`space::Distribution`]; [`sample`] draws from them;
//! - [`search`] picks the next parameters from the trials so far ([`search::suggest`]): grid, random
//!   or bayes (a Matérn-5/2 GP with per-dimension length scales and log-EI, constant liar for
//!   parallel agents);
//! - [`hyperband`] decides which running runs W&B's `early_terminate` rule stops;
//! - [`importance`] ranks parameters by their effect on the metric (random-forest impurity
//!   decrease, Pearson and Spearman correlation);
//! - [`controller`] is the daemon's side: sweeps, their runs and agents in `db/sweeps.rs`, the
//!   next run for an agent, stop orders, the `sweeps`/`sweep` push topics' snapshots;
//! - [`command`] builds a run's command line from `program`/`command` and its macros; [`agent`]
//!   runs programs for a sweep (`trackline agent`); [`optimize`] is `trackline optimize`, ask/tell
//!   in JSON lines; [`cli`] the `trackline sweep`/`agent`/`optimize` commands.

pub mod agent;
pub mod cli;
pub mod client;
pub mod command;
pub mod config;
pub mod controller;
pub mod hyperband;
pub mod importance;
pub mod optimize;
pub mod sample;
pub mod search;
pub mod space;

use serde_json::{Map, Value};

/// One parameter set, nested as the config's `parameters` are:
/// `{"lr": 0.01, "optimizer": {"momentum": 0.9}}`.
pub type Params = Map<String, Value>;

/// A sweep failure, with the config key it is about when there is one.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The config is wrong: `key` is the dotted path of the bad key (`parameters.lr.min`).
    #[error("sweep config: {key}: {message}")]
    Config { key: String, message: String },
    /// The search could not produce parameters (e.g. a degenerate space).
    #[error("sweep search: {0}")]
    Search(String),
}

impl SweepError {
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        SweepError::Config {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Whether the metric is minimised or maximised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    Minimize,
    Maximize,
}

impl Goal {
    pub fn as_str(self) -> &'static str {
        match self {
            Goal::Minimize => "minimize",
            Goal::Maximize => "maximize",
        }
    }

    /// The value as a loss (smaller is better): the value itself, or its negation.
    pub fn as_loss(self, value: f64) -> f64 {
        match self {
            Goal::Minimize => value,
            Goal::Maximize => -value,
        }
    }
}

/// What became of one trial (a run of the sweep) so far, for the search.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Handed out or running, no final value yet.
    Pending,
    /// Ended with this value of the metric, as logged (the goal is applied by the search).
    Value(f64),
    /// Ended without a finite metric value (failed, crashed, stopped before logging it).
    Failed,
}

/// One trial: the parameters a run got and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub params: Params,
    pub outcome: Outcome,
}
