//! The Python client against a real daemon: the seed's W&B script, unchanged but for its import,
//! shows up with its name, config, curves and final state.

use crate::common::*;
use std::process::Command;
use std::time::Duration;

/// The pattern of `../shared/seed/`: argparse args, init, run.name, run.save(), config.update(args),
/// nested loops logging "Train Loss" per batch and "Valid Loss" per epoch.
pub const SEED_SCRIPT: &str = r#"
import argparse, math, sys, time
import trackline as wandb

def valid(epoch):
    return 1.0 / (epoch + 1)

def train(args):
    for epoch in range(args.epochs):
        total_loss = 0
        batch = 0
        for idx in range(args.batches):
            total_loss += math.exp(-0.01 * (epoch * args.batches + idx))
            batch += 1
            wandb.log({"Train Loss": total_loss / batch})
            if args.sleep:
                time.sleep(args.sleep)
        wandb.log({"Valid Loss": valid(epoch)})

def main(args):
    wandb.init(project=args.project)
    wandb.run.name = args.name
    wandb.run.save()
    wandb.config.update(args)
    train(args)

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--project", default="seed")
    p.add_argument("--name", default="exp_name")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batches", type=int, default=50)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--model", default="DeepCoNN")
    main(p.parse_args())
"#;

/// A `python3` command that imports the repository's client, writing runs under `data_dir`.
pub fn python(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONPATH", repo_root().join("python"))
        .env("TRACKLINE_DIR", data_dir)
        .env("PYTHONUNBUFFERED", "1");
    cmd
}

#[tokio::test]
async fn seed_script_runs_unchanged_and_shows_up() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let script = root.path().join("main.py");
    std::fs::write(&script, SEED_SCRIPT).unwrap();
    let out = python(root.path())
        .arg(&script)
        .args(["--epochs", "3", "--batches", "50"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let runs = d
        .wait_for("/api/projects/seed/runs", Duration::from_secs(10), |r| {
            r[0]["state"] == "finished" && r[0]["name"] == "exp_name"
        })
        .await;
    let run = &runs[0];
    assert_eq!(run["config"]["epochs"], 3);
    assert_eq!(run["config"]["model"], "DeepCoNN");
    let id = run["id"].as_str().unwrap();
    let keys = d
        .wait_for(
            &format!("/api/projects/seed/runs/{id}/keys"),
            Duration::from_secs(10),
            |k| k.as_array().is_some_and(|a| a.len() == 2),
        )
        .await;
    let count = |name: &str| {
        keys.as_array()
            .unwrap()
            .iter()
            .find(|k| k["key"] == name)
            .map(|k| k["points"].as_u64().unwrap())
    };
    assert_eq!(count("Train Loss"), Some(150));
    assert_eq!(count("Valid Loss"), Some(3));
    // Valid Loss sits on the steps after each epoch's batches: W&B's separate-log-call semantics.
    let s = d
        .get_ok(&format!(
            "/api/projects/seed/series?runs={id}&key=Valid%20Loss&width=3"
        ))
        .await;
    assert_eq!(s["runs"][0]["buckets"]["x_first"][0], 50.0);
}
