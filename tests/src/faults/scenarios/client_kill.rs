//! `client-kill`: a Python client killed with SIGKILL at a random moment, in local files mode (it
//! writes into the daemon's data dir) and in remote mode (it streams to the daemon). Every complete
//! line it flushed is present exactly once -- in remote mode what reached the daemon before the
//! kill is a prefix of it, and `trackline sync` of the spool brings the rest -- and the daemon shows
//! the run as crashed.

use crate::daemon::Daemon;
use crate::faults::Settings;
use crate::faults::ledger::{self, Row, Tally};
use crate::faults::outcome::{Outcome, Verdict};
use crate::faults::python::{self, Client, Mode};
use crate::faults::rng::Rng;
use std::process::Command;
use std::time::{Duration, Instant};

const LOCAL: &str = "killed-local";
const REMOTE: &str = "killed-remote";

pub async fn run(s: &Settings, out: &mut Outcome) -> anyhow::Result<()> {
    if !python::available(&s.repo_root) {
        out.verdict = Verdict::Skipped("python3 cannot import python/trackline".into());
        return Ok(());
    }
    let kills = s.count(50, 5);
    let tmp = super::scratch("client-kill")?;
    let (served, spool) = (tmp.path().join("served"), tmp.path().join("client"));
    std::fs::create_dir_all(&served)?;
    let d = Daemon::start(&s.daemon_bin, &served, 0, &tmp.path().join("daemon.log"))?;
    let token = d.token()?;
    let remote = Mode::Remote {
        url: d.url(""),
        token: token.clone(),
    };
    let http = reqwest::Client::new();
    let mut rng = Rng::new(s.seed ^ 0x5eed);
    let mut runs: Vec<(&str, String)> = Vec::new();
    let (mut before_sync, mut remote_flushed) = (0u64, 0u64);
    println!("  {kills} kills of a local-mode client, then {kills} of a remote-mode client");
    for (project, mode, dir) in [(LOCAL, &Mode::Local, &served), (REMOTE, &remote, &spool)] {
        let mut tally = Tally::default();
        for _ in 0..kills {
            let mut c = Client::start(
                &s.repo_root,
                dir,
                mode,
                python::UNTIL_KILLED,
                &[project],
                &tmp.path().join("client.log"),
            )
            .await?;
            tokio::time::sleep(rng.millis(200, 1500)).await;
            c.kill9().await;
            let flushed = ledger::read_file(&c.history());
            if flushed.unreadable > 0 {
                out.fail(format!(
                    "run {}: {} unreadable complete lines in the client's file",
                    c.run_id, flushed.unreadable
                ));
            }
            let logged: Vec<Row> = flushed.rows;
            if !Tally::of(&ledger::logged(logged.len() as u64), &logged).exact() {
                out.fail(format!(
                    "run {}: the client's lines are not steps 0..n",
                    c.run_id
                ));
            }
            if project == REMOTE {
                // Before any sync: the daemon holds a prefix, each line once.
                let path = served.join(project).join(&c.run_id).join("history.jsonl");
                let got = ledger::read_file(&path).rows;
                let prefix = Tally::of(&logged[..got.len().min(logged.len())], &got);
                if !prefix.exact() {
                    out.fail(format!(
                        "run {}: before sync the daemon's copy is not a prefix: {}",
                        c.run_id,
                        prefix.line()
                    ));
                }
                before_sync += got.len() as u64;
                remote_flushed += logged.len() as u64;
                let sync = Command::new(&s.daemon_bin)
                    .arg("sync")
                    .arg(&c.run_dir)
                    .args(["--url", &d.url(""), "--api-key", &token])
                    .output()?;
                if !sync.status.success() {
                    out.fail(format!(
                        "sync of {} failed: {}",
                        c.run_id,
                        String::from_utf8_lossy(&sync.stderr).trim()
                    ));
                }
            }
            let t = ledger::rest_tally(
                &http,
                &d,
                project,
                &c.run_id,
                &logged,
                Duration::from_secs(15),
            )
            .await?;
            if !t.exact() {
                println!("  run {} ({project}): {}", c.run_id, t.line());
            }
            tally.add(t);
            runs.push((project, c.run_id.clone()));
        }
        println!("  {project}: {}", tally.line());
        out.tally.add(tally);
    }
    // Same host, process gone: every run should be shown crashed.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut not_crashed = Vec::new();
    for (project, run) in &runs {
        loop {
            let (_, info) = d
                .get(&http, &format!("/api/projects/{project}/runs/{run}"))
                .await?;
            if info["state"] == "crashed" {
                break;
            }
            if Instant::now() > deadline {
                not_crashed.push(format!("{project}/{run}: {}", info["state"]));
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    println!(
        "  remote mode: the daemon held {before_sync} of {remote_flushed} flushed lines before \
         `trackline sync`, all of them after; {} of {} runs shown crashed",
        runs.len() - not_crashed.len(),
        runs.len()
    );
    if !not_crashed.is_empty() {
        out.fail(format!(
            "runs not shown crashed: {}",
            not_crashed.join(", ")
        ));
    }
    out.peak(d.peak_rss_kib());
    out.figures = format!(
        "{} kills; remote: {before_sync}/{remote_flushed} lines before sync; {}/{} shown crashed",
        runs.len(),
        runs.len() - not_crashed.len(),
        runs.len()
    );
    Ok(())
}
