//! Queries over the store: pure functions from store contents to wire types, no HTTP in sight.

pub mod decimate;
pub mod media;
pub mod series;

use crate::error::{Error, Result};
use crate::store::{Run, Store};
use std::sync::Arc;
use trackline_shared::{MetricKey, RunInfo};

/// A project's runs, newest first.
pub fn project_runs(store: &Store, project: &str) -> Result<Vec<RunInfo>> {
    let runs = store.project_runs(project);
    if runs.is_empty() {
        return Err(Error::NotFound(format!("no project '{project}'")));
    }
    let mut infos: Vec<RunInfo> = runs.iter().map(|r| r.info()).collect();
    infos.sort_by(|a, b| {
        b.created_at_secs
            .total_cmp(&a.created_at_secs)
            .then(a.id.cmp(&b.id))
    });
    Ok(infos)
}

pub fn run(store: &Store, project: &str, run: &str) -> Result<Arc<Run>> {
    store
        .get(project, run)
        .ok_or_else(|| Error::NotFound(format!("no run '{run}' in project '{project}'")))
}

/// A run's numeric metric keys with their point counts (loads the run's history if needed).
pub fn metric_keys(store: &Store, run: &Arc<Run>) -> Result<Vec<MetricKey>> {
    store.ensure_loaded(run)?;
    let h = run.history.lock();
    Ok(h.keys()
        .iter()
        .enumerate()
        .filter(|(i, _)| !h.series(*i).is_empty())
        .map(|(i, key)| MetricKey {
            key: key.clone(),
            points: h.series(i).len() as u64,
        })
        .collect())
}
