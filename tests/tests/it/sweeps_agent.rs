//! `trackline sweep`, `trackline agent` and `trackline optimize` as a user runs them: the blog's
//! training script under two agents in parallel with the daemon restarted in the middle, a cancel
//! that stops a run, and ask/tell over pipes.

use crate::common::{BIN, Daemon, repo_root};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The blog's script in short: argparse defaults, `config.update(args)`, a loss per epoch.
const TRAIN: &str = r#"
import argparse, os, signal, sys, time
import trackline as wandb

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.5)
parser.add_argument("--batch_size", type=int, default=999)
parser.add_argument("--epochs", type=int, default=4)
args = parser.parse_args()

run = wandb.init(project="sweepy")
wandb.config.update(args)   # the sweep's values stay: they are locked
for epoch in range(args.epochs):
    time.sleep(float(os.environ.get("EPOCH_SECS", "0.3")))
    wandb.log({"val_loss": args.lr * args.batch_size / (epoch + 1)})
wandb.finish()
"#;

fn trackline(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .arg("--dir")
        .arg(dir)
        .env("PYTHONPATH", repo_root().join("python"))
        .env("TRACKLINE_LOG", "warn")
        .env_remove("TRACKLINE_URL");
    c
}

fn create_sweep(dir: &Path, config: &str) -> String {
    let path = dir.join("sweep.yaml");
    std::fs::write(&path, config).unwrap();
    let out = trackline(dir, &["sweep", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Created sweep with ID: "))
        .unwrap_or_else(|| panic!("no id in {stdout}"))
        .to_string();
    assert!(
        stdout.contains(&format!("trackline agent sweepy/{id}")),
        "{stdout}"
    );
    id
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn two_agents_run_the_blog_script_across_a_daemon_restart() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("train.py");
    std::fs::write(&script, TRAIN).unwrap();
    let mut daemon = Daemon::start(dir.path());
    let sweep = create_sweep(
        dir.path(),
        &format!(
            "program: {}\nmethod: grid\nrun_cap: 6\nproject: sweepy\n\
             metric: {{name: val_loss, goal: minimize}}\n\
             command: [\"${{env}}\", python3, \"${{program}}\", \"${{args}}\"]\n\
             parameters:\n  lr: {{values: [0.1, 0.01]}}\n  batch_size: {{values: [16, 32, 64, 128]}}\n",
            script.display()
        ),
    );
    let agents: Vec<Child> = (0..2)
        .map(|_| {
            trackline(dir.path(), &["agent", &sweep])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // Restart the daemon once a couple of runs exist.
    daemon
        .wait_for(
            &format!("/api/sweeps/{sweep}"),
            Duration::from_secs(60),
            |b| b["info"]["run_count"].as_u64() >= Some(2),
        )
        .await;
    daemon.kill9();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let daemon = Daemon::start(dir.path());
    for mut agent in agents {
        let started = Instant::now();
        loop {
            if let Some(status) = agent.try_wait().unwrap() {
                assert!(status.success(), "an agent failed: {status}");
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "an agent never ended"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let detail = daemon
        .wait_for(
            &format!("/api/sweeps/{sweep}"),
            Duration::from_secs(30),
            |b| b["info"]["state"] == "finished",
        )
        .await;
    let runs = detail["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6, "run_cap: {detail}");
    let mut seen = HashSet::new();
    for run in runs {
        assert_eq!(run["state"], "finished", "{run}");
        assert!(
            seen.insert(run["params"].to_string()),
            "params twice: {}",
            run["params"]
        );
        let folder = dir.path().join("sweepy").join(run["run"].as_str().unwrap());
        // The sweep's values are locked: argparse's defaults did not replace them.
        let config = read_json(&folder.join("config.json"));
        assert_eq!(config["lr"], run["params"]["lr"], "{config}");
        assert_eq!(
            config["batch_size"], run["params"]["batch_size"],
            "{config}"
        );
        assert_eq!(config["epochs"], json!(4));
        assert_eq!(
            read_json(&folder.join("run.json"))["sweep_id"],
            json!(sweep)
        );
        let metric = run["metric"].as_f64().unwrap();
        let expected = run["params"]["lr"].as_f64().unwrap()
            * run["params"]["batch_size"].as_f64().unwrap()
            / 4.0;
        assert!((metric - expected).abs() < 1e-9, "{run}");
    }
    // Grid order (keys sorted, the last fastest) under run_cap 6: batch sizes 16, 32, 64, each
    // with lr 0.1 and 0.01; the best val_loss is 0.01 × 16 / 4.
    let best = detail["info"]["best"]["value"].as_f64().unwrap();
    assert!((best - 0.04).abs() < 1e-12, "{detail}");
}

#[tokio::test]
async fn a_cancel_stops_the_running_program() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("train.py");
    std::fs::write(&script, TRAIN).unwrap();
    let _daemon = Daemon::start_with(dir.path(), &["--sweep-heartbeat-secs", "1"]);
    let sweep = create_sweep(
        dir.path(),
        &format!(
            "program: {}\nmethod: random\nproject: sweepy\n\
             command: [\"${{env}}\", python3, \"${{program}}\", \"--epochs=1000\", \"${{args}}\"]\n\
             parameters:\n  lr: {{min: 0.1, max: 0.2}}\n",
            script.display()
        ),
    );
    let mut agent = trackline(dir.path(), &["agent", &sweep, "--grace-secs", "2"])
        .env("EPOCH_SECS", "0.05")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = agent.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    while !rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap()
        .contains("starting run")
    {}
    std::thread::sleep(Duration::from_secs(2));
    let out = trackline(dir.path(), &["sweep", "--cancel", &sweep])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("cancelled"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    loop {
        if let Some(status) = agent.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the agent kept running"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let lines: Vec<String> = rx.try_iter().collect();
    assert!(
        lines.iter().any(|l| l.contains("the sweep stops run")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("the sweep was cancelled")),
        "{lines:?}"
    );
}

#[test]
fn optimize_speaks_ask_tell_over_pipes_and_repeats_with_a_seed() {
    let session = |seed: u64| -> Vec<Value> {
        let mut child = Command::new(BIN)
            .arg("optimize")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut ask = |line: &str| -> Value {
            writeln!(stdin, "{line}").unwrap();
            stdin.flush().unwrap();
            let mut answer = String::new();
            out.read_line(&mut answer).unwrap();
            serde_json::from_str(&answer).unwrap()
        };
        let mut answers = vec![
            ask("{broken"),
            ask(r#"{"op":"ask"}"#),
            ask(&format!(
                r#"{{"op":"init","sweep":{{"method":"random","parameters":{{"x":{{"min":-5.0,"max":5.0}}}}}},"seed":{seed}}}"#
            )),
        ];
        for _ in 0..5 {
            let params = ask(r#"{"op":"ask"}"#);
            let x = params["params"]["x"].as_f64().unwrap();
            answers.push(params.clone());
            answers.push(ask(
                &json!({"op": "tell", "params": params["params"], "value": x * x}).to_string(),
            ));
        }
        answers.push(ask(r#"{"op":"close"}"#));
        drop(stdin);
        assert!(child.wait().unwrap().success());
        answers
    };
    let a = session(3);
    assert!(a[0]["error"].is_string() && a[1]["error"].is_string());
    assert_eq!(a[2], json!({"ok": true}));
    assert_eq!(a.last().unwrap(), &json!({"ok": true}));
    assert_eq!(a, session(3), "the same seed gives the same suggestions");
    assert_ne!(a, session(4));
}
