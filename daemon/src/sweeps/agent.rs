//! `trackline agent SWEEP_ID`: asks the daemon for runs and runs the sweep's program for each,
//! one at a time, as W&B's agent does: the parameters go to the program as arguments (the
//! command's macros) and as a file named by `WANDB_SWEEP_PARAM_PATH` (the client locks them in
//! the run's config), with the run's id, sweep and project in its environment. A heartbeat
//! reports the run; a run the daemon orders stopped gets SIGTERM, then SIGKILL after the grace
//! period. Several agents may run side by side, here or on other machines (`TRACKLINE_URL`).

use super::Params;
use super::client::{As, DaemonLink};
use super::command::{CommandContext, build};
use super::config::SweepConfig;
use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use trackline_shared::sweeps::{
    AgentCommand, AgentHeartbeat, AgentHello, AgentOrders, AgentRunExit, AgentWelcome,
};

/// W&B's agent gives up when its first runs all fail, this many of them.
const MAX_INITIAL_FAILURES: u32 = 5;

/// What the agent was asked to do.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    pub sweep: String,
    /// Runs at most this many.
    pub count: Option<u64>,
    pub data_dir: PathBuf,
    /// Seconds between SIGTERM and SIGKILL for a run ordered to stop.
    pub grace: Duration,
}

fn say(line: std::fmt::Arguments) {
    let _ = writeln!(std::io::stderr(), "trackline: {line}");
}

/// Runs the agent until the sweep says it is done, `count` runs were made, or it is interrupted.
pub async fn run(options: AgentOptions) -> anyhow::Result<()> {
    let mut link = DaemonLink::connect(&options.data_dir).await?;
    let sweep = &options.sweep;
    let hello = AgentHello {
        host: hostname(),
        pid: Some(std::process::id()),
    };
    let welcome: AgentWelcome = link
        .post(&format!("/api/sweeps/{sweep}/agents"), &hello, As::Agent)
        .await?;
    let config = SweepConfig::from_json(&welcome.config)
        .map_err(|e| anyhow::anyhow!("the sweep's config: {e}"))?;
    say(format_args!(
        "agent {} of sweep {sweep} (project {}) starting",
        welcome.agent, welcome.project
    ));
    let heartbeat = Duration::from_secs(welcome.heartbeat_secs.max(1));
    let agent_path = format!("/api/sweeps/{sweep}/agents/{}", welcome.agent);
    let (mut made, mut failures, mut successes) = (0u64, 0u32, 0u32);
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        if options.count.is_some_and(|count| made >= count) {
            say(format_args!("made {made} runs (--count): done"));
            return Ok(());
        }
        let command: AgentCommand = link
            .post(&format!("{agent_path}/next"), &json!({}), As::Agent)
            .await?;
        match command {
            AgentCommand::Done { reason } => {
                say(format_args!("{reason}: done"));
                return Ok(());
            }
            AgentCommand::Wait { secs } => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(secs.max(1))) => {}
                    _ = &mut interrupted => return Ok(()),
                }
            }
            AgentCommand::Run {
                run,
                project,
                params,
            } => {
                made += 1;
                let env = link_env(&link, &options.data_dir);
                let exit = run_one(
                    &mut link,
                    &agent_path,
                    &options,
                    &config,
                    &env,
                    (&run, &project, &params),
                    heartbeat,
                    &mut interrupted,
                )
                .await?;
                match exit {
                    Exit::Code(0) => successes += 1,
                    Exit::Interrupted => {
                        say(format_args!("interrupted: run {run} was stopped"));
                        return Ok(());
                    }
                    _ => failures += 1,
                }
                if successes == 0 && failures >= MAX_INITIAL_FAILURES {
                    bail!(
                        "the first {failures} runs all failed: stopping this agent (is the \
                         program right? see the runs' console output above)"
                    );
                }
            }
        }
    }
}

/// How a run's program ended.
enum Exit {
    Code(i32),
    Signal,
    Interrupted,
}

/// Environment that tells a program where its run goes.
fn link_env(link: &DaemonLink, data_dir: &Path) -> Vec<(String, String)> {
    if std::env::var("TRACKLINE_URL").is_ok_and(|u| !u.is_empty()) {
        let mut env = vec![("TRACKLINE_URL".to_string(), link.url.clone())];
        if let Some(token) = &link.write_token {
            env.push(("TRACKLINE_API_KEY".to_string(), token.clone()));
        }
        env
    } else {
        let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
        vec![("TRACKLINE_DIR".to_string(), dir.display().to_string())]
    }
}

/// The parameters as W&B's agent writes its param file: `{"key": {"value": v}}`.
fn param_file(params: &Params) -> Value {
    Value::Object(
        params
            .iter()
            .map(|(k, v)| (k.clone(), json!({ "value": v })))
            .collect::<Map<String, Value>>(),
    )
}

#[allow(clippy::too_many_arguments)]
async fn run_one(
    link: &mut DaemonLink,
    agent_path: &str,
    options: &AgentOptions,
    config: &SweepConfig,
    env: &[(String, String)],
    (run, project, params): (&str, &str, &Params),
    heartbeat: Duration,
    interrupted: &mut std::pin::Pin<&mut impl Future<Output = std::io::Result<()>>>,
) -> anyhow::Result<Exit> {
    let sweep = &options.sweep;
    let files = std::env::temp_dir().join(format!("trackline-sweep-{sweep}"));
    std::fs::create_dir_all(&files)
        .with_context(|| format!("cannot create {}", files.display()))?;
    let param_path = files.join(format!("config-{run}.json"));
    std::fs::write(&param_path, serde_json::to_vec_pretty(&param_file(params))?)
        .with_context(|| format!("cannot write {}", param_path.display()))?;
    let json_path = files.join(format!("args-{run}.json"));
    let ctx = CommandContext {
        interpreter: "python".into(),
        program: config.program.clone(),
        args_json_file: json_path.display().to_string(),
        env: std::env::vars().collect(),
    };
    let built = build(config.command.as_deref(), params, &ctx);
    if let Some(json) = &built.args_json {
        std::fs::write(&json_path, json)
            .with_context(|| format!("cannot write {}", json_path.display()))?;
    }
    let Some((program, args)) = built.argv.split_first() else {
        bail!("the sweep's command is empty");
    };
    say(format_args!("starting run {run}: {}", built.argv.join(" ")));
    let mut child: Child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("WANDB_SWEEP_ID", sweep)
        .env("TRACKLINE_SWEEP_ID", sweep)
        .env("WANDB_RUN_ID", run)
        .env("TRACKLINE_RUN_ID", run)
        .env("WANDB_PROJECT", project)
        .env("TRACKLINE_PROJECT", project)
        .env("WANDB_SWEEP_PARAM_PATH", &param_path)
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let mut term_sent: Option<Instant> = None;
    let mut next_beat = Instant::now() + heartbeat;
    let exit = loop {
        if let Some(status) = child.try_wait()? {
            break match status.code() {
                Some(code) => Exit::Code(code),
                None => Exit::Signal,
            };
        }
        if Instant::now() >= next_beat {
            next_beat = Instant::now() + heartbeat;
            let beat = AgentHeartbeat {
                running: vec![run.to_string()],
                exited: Vec::new(),
            };
            match link
                .post::<_, AgentOrders>(&format!("{agent_path}/heartbeat"), &beat, As::Agent)
                .await
            {
                Ok(orders) if orders.stop.iter().any(|r| r == run) && term_sent.is_none() => {
                    say(format_args!("the sweep stops run {run}"));
                    terminate(&child);
                    term_sent = Some(Instant::now());
                }
                Ok(_) => {}
                Err(e) => say(format_args!("heartbeat failed: {e:#}")),
            }
        }
        if term_sent.is_some_and(|t| t.elapsed() >= options.grace) {
            say(format_args!(
                "run {run} did not stop within the grace period: killing it"
            ));
            let _ = child.kill();
            term_sent = Some(Instant::now() + Duration::from_secs(3600));
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = interrupted.as_mut() => {
                terminate(&child);
                let deadline = Instant::now() + options.grace;
                while child.try_wait()?.is_none() && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let _ = child.kill();
                let _ = child.wait();
                let beat = AgentHeartbeat {
                    running: Vec::new(),
                    exited: vec![AgentRunExit { run: run.to_string(), exit_code: None }],
                };
                let _ = link
                    .post::<_, AgentOrders>(&format!("{agent_path}/heartbeat"), &beat, As::Agent)
                    .await;
                return Ok(Exit::Interrupted);
            }
        }
    };
    let exit_code = match exit {
        Exit::Code(code) => Some(code),
        _ => None,
    };
    say(format_args!(
        "run {run} ended ({})",
        exit_code.map_or("killed by a signal".to_string(), |c| format!(
            "exit code {c}"
        ))
    ));
    let beat = AgentHeartbeat {
        running: Vec::new(),
        exited: vec![AgentRunExit {
            run: run.to_string(),
            exit_code,
        }],
    };
    link.post::<_, AgentOrders>(&format!("{agent_path}/heartbeat"), &beat, As::Agent)
        .await?;
    let _ = std::fs::remove_file(&param_path);
    let _ = std::fs::remove_file(&json_path);
    Ok(exit)
}

/// SIGTERM on Unix (the program may save a checkpoint); elsewhere a kill.
fn terminate(child: &Child) {
    #[cfg(unix)]
    {
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = child;
    }
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
}
