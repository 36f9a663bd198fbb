//! The fault-injection and soak program (`cargo bench -p trackline-tests --bench faults`): real
//! daemons and clients killed, starved of disk, doubled and flooded, each scenario ending with how
//! many logged points the daemon holds exactly once (see docs/benchmarks.md, "Faults and soak").

#![allow(
    clippy::print_stdout,
    reason = "the fault program's report is its standard output"
)]

pub mod ledger;
pub mod outcome;
pub mod python;
pub mod rng;
pub mod scenarios;
pub mod viewer;
pub mod writer;

use std::path::PathBuf;

/// What every scenario is given: the binaries, the size of the run, where to put its files.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The daemon binary (`trackline-under-test`).
    pub daemon_bin: PathBuf,
    /// The repository root (for `python/`).
    pub repo_root: PathBuf,
    /// Fewer kills, shorter runs: for development.
    pub quick: bool,
    /// Seed of the random kill moments and cut points, printed so a run can be repeated.
    pub seed: u64,
}

impl Settings {
    /// `full` normally, `quick` with `--quick`.
    pub fn count(&self, full: u64, quick: u64) -> u64 {
        if self.quick { quick } else { full }
    }
}

/// The 1, 5 and 15 minute load averages (Linux).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}
