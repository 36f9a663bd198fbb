//! `trackline sweep`, `trackline agent` and `trackline optimize`: create and control sweeps,
//! run their programs, and ask/tell from any process.

use super::agent::{self, AgentOptions};
use super::client::{As, DaemonLink};
use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use trackline_shared::sweeps::{NewSweep, SweepControl, SweepInfo};

/// `trackline sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The W&B sweep config (YAML or JSON), or with --pause/--resume/--stop/--cancel/--run-cap
    /// the sweep id (`ID`, `project/ID` or `entity/project/ID`).
    pub target: String,
    /// The project (default: the config's `project`, then $WANDB_PROJECT/$TRACKLINE_PROJECT,
    /// then `uncategorized`).
    #[arg(long)]
    pub project: Option<String>,
    /// A name for the sweep (overrides the config's `name`).
    #[arg(long)]
    pub name: Option<String>,
    /// Data directory [env: TRACKLINE_DIR] [default: ./trackline]
    #[arg(long = "dir")]
    pub data_dir: Option<PathBuf>,
    /// Agents wait (no new runs) until --resume.
    #[arg(long, conflicts_with_all = ["resume", "stop", "cancel", "run_cap"])]
    pub pause: bool,
    #[arg(long, conflicts_with_all = ["stop", "cancel", "run_cap"])]
    pub resume: bool,
    /// No new runs; running ones finish.
    #[arg(long, conflicts_with_all = ["cancel", "run_cap"])]
    pub stop: bool,
    /// No new runs, and running ones are stopped.
    #[arg(long, conflicts_with = "run_cap")]
    pub cancel: bool,
    /// Set the sweep's run cap.
    #[arg(long)]
    pub run_cap: Option<u64>,
}

/// `trackline agent`.
#[derive(Args, Debug)]
pub struct AgentArgs {
    /// The sweep id (`ID`, `project/ID` or `entity/project/ID`).
    pub sweep: String,
    /// Run at most this many runs.
    #[arg(long)]
    pub count: Option<u64>,
    /// Data directory [env: TRACKLINE_DIR] [default: ./trackline]
    #[arg(long = "dir")]
    pub data_dir: Option<PathBuf>,
    /// Seconds a run ordered to stop has between SIGTERM and SIGKILL.
    #[arg(long, default_value_t = 30, hide = true)]
    pub grace_secs: u64,
}

/// The last segment of `entity/project/ID`.
pub fn sweep_id(text: &str) -> anyhow::Result<String> {
    let id = text.rsplit('/').next().unwrap_or(text).trim();
    if !trackline_shared::sweeps::is_sweep_id(id) {
        bail!("'{text}' is not a sweep id (8 characters of a-z and 0-9)");
    }
    Ok(id.to_string())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// `trackline sweep …`.
pub fn sweep(args: &SweepArgs, data_dir: &Path, out: &mut impl Write) -> anyhow::Result<()> {
    let control = if args.pause {
        Some(SweepControl::Pause)
    } else if args.resume {
        Some(SweepControl::Resume)
    } else if args.stop {
        Some(SweepControl::Stop)
    } else if args.cancel {
        Some(SweepControl::Cancel)
    } else {
        args.run_cap
            .map(|n| SweepControl::RunCap { run_cap: Some(n) })
    };
    runtime()?.block_on(async {
        let mut link = DaemonLink::connect(data_dir).await?;
        if let Some(control) = control {
            let id = sweep_id(&args.target)?;
            let info: SweepInfo = link
                .post(&format!("/api/sweeps/{id}/control"), &control, As::Owner)
                .await?;
            writeln!(out, "sweep {id} is {}", info.state.as_str())?;
            return Ok(());
        }
        let text = std::fs::read_to_string(&args.target)
            .with_context(|| format!("cannot read the sweep config {}", args.target))?;
        let mut config: serde_json::Value = serde_yaml_ng::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: not valid YAML or JSON: {e}", args.target))?;
        if let (Some(name), Some(map)) = (&args.name, config.as_object_mut()) {
            map.insert("name".into(), json!(name));
        }
        let project = args
            .project
            .clone()
            .or_else(|| config["project"].as_str().map(str::to_string))
            .or_else(|| {
                std::env::var("TRACKLINE_PROJECT")
                    .ok()
                    .filter(|p| !p.is_empty())
            })
            .or_else(|| {
                std::env::var("WANDB_PROJECT")
                    .ok()
                    .filter(|p| !p.is_empty())
            })
            .unwrap_or_else(|| "uncategorized".to_string());
        let new = NewSweep {
            config: Some(config),
            config_yaml: None,
        };
        let info: SweepInfo = link
            .post(&format!("/api/projects/{project}/sweeps"), &new, As::Owner)
            .await?;
        writeln!(out, "Created sweep with ID: {}", info.id)?;
        writeln!(
            out,
            "View sweep at: {}/projects/{project}/sweeps/{}",
            link.url, info.id
        )?;
        writeln!(
            out,
            "Run sweep agent with: trackline agent {project}/{}",
            info.id
        )?;
        Ok(())
    })
}

/// `trackline agent …`.
pub fn agent(args: &AgentArgs, data_dir: &Path) -> anyhow::Result<()> {
    let options = AgentOptions {
        sweep: sweep_id(&args.sweep)?,
        count: args.count,
        data_dir: data_dir.to_owned(),
        grace: Duration::from_secs(args.grace_secs),
    };
    runtime()?.block_on(agent::run(options))
}

/// `trackline optimize`.
pub fn optimize() -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    super::optimize::serve(stdin.lock(), std::io::stdout().lock())
        .context("ask/tell on stdin and stdout")
}
