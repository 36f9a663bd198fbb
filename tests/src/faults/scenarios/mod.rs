//! The scenarios, one file each; `run` times one and turns a harness error into a failed outcome.

pub mod client_kill;
pub mod daemon_kill;
pub mod disk_full;
pub mod load;
pub mod torn_tail;
pub mod two_daemons;

use crate::faults::Settings;
use crate::faults::outcome::Outcome;
use std::time::Instant;

/// Every scenario, in the order a full run takes them.
pub const ALL: &[&str] = &[
    "daemon-kill",
    "client-kill",
    "torn-tail",
    "disk-full",
    "two-daemons",
    "load",
];

/// Runs the scenario called `name`.
pub async fn run(name: &'static str, s: &Settings) -> Outcome {
    println!(
        "\n== {name} (load average {})",
        crate::faults::load_average()
    );
    let started = Instant::now();
    let mut out = Outcome::new(name);
    let result = match name {
        "daemon-kill" => daemon_kill::run(s, &mut out).await,
        "client-kill" => client_kill::run(s, &mut out).await,
        "torn-tail" => torn_tail::run(s, &mut out).await,
        "disk-full" => disk_full::run(s, &mut out).await,
        "two-daemons" => two_daemons::run(s, &mut out).await,
        "load" => load::run(s, &mut out).await,
        other => Err(anyhow::anyhow!("no scenario called {other}")),
    };
    if let Err(e) = result {
        out.fail(format!("{e:#}"));
    }
    out.secs = started.elapsed().as_secs_f64();
    out.finish();
    out
}

/// A scratch directory for one scenario, removed when the scenario ends.
pub fn scratch(name: &str) -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new()
        .prefix(&format!("trackline-faults-{name}-"))
        .tempdir()?)
}
