//! Crash safety: kill -9 the training script mid-run, and the daemon mid-ingest. After a restart
//! every flushed line is present exactly once and the dead run is shown as crashed.

use crate::common::*;
use crate::python::python;
use std::time::{Duration, Instant};

/// Complete lines in a history file, and their steps.
fn flushed_steps(path: &std::path::Path) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["_step"].as_f64().unwrap())
        .collect()
}

async fn all_steps(d: &Daemon, project: &str, run: &str, n: usize) -> Vec<f64> {
    let path = format!("/api/projects/{project}/series?runs={run}&key=loss&width=16384");
    let s = d
        .wait_for(&path, Duration::from_secs(15), |s| {
            s["runs"][0]["total_points"].as_u64() == Some(n as u64)
        })
        .await;
    let b = &s["runs"][0]["buckets"];
    assert!(
        b["count"].as_array().unwrap().iter().all(|c| c == 1),
        "need one point per column"
    );
    b["x_first"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn killed_script_loses_nothing_flushed_and_shows_crashed() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let script = r#"
import time, trackline
run = trackline.init(project="crash", name="doomed")
for i in range(100000):
    trackline.log({"loss": 1.0 / (i + 1)})
    time.sleep(0.0005)
"#;
    let mut child = Proc(python(root.path()).args(["-c", script]).spawn().unwrap());
    // Let it log and flush for a while, then kill it without warning.
    let deadline = Instant::now() + Duration::from_secs(20);
    let history = loop {
        let found = std::fs::read_dir(root.path().join("crash"))
            .ok()
            .and_then(|mut it| it.next())
            .map(|e| e.unwrap().path().join("history.jsonl"));
        if let Some(h) = found
            && flushed_steps(&h).len() > 500
        {
            break h;
        }
        assert!(Instant::now() < deadline, "the script never flushed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    child.0.kill().unwrap();
    child.wait();

    let steps = flushed_steps(&history);
    let run_id = history
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        steps,
        (0..steps.len()).map(|s| s as f64).collect::<Vec<_>>()
    );
    let got = all_steps(&d, "crash", &run_id, steps.len()).await;
    assert_eq!(
        got, steps,
        "the daemon holds every flushed line exactly once"
    );
    // Same host, process gone: crashed without waiting for the heartbeat timeout.
    d.wait_for(
        &format!("/api/projects/crash/runs/{run_id}"),
        Duration::from_secs(10),
        |r| r["state"] == "crashed",
    )
    .await;
}

#[tokio::test]
async fn killed_daemon_restarts_with_every_line_exactly_once() {
    let root = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(root.path());
    let mut w = RunWriter::create(root.path(), "p", "r1");
    // Write while the daemon ingests, kill it in the middle, keep writing, restart it.
    for i in 0..200 {
        w.log_rows(50, |s| s.to_string());
        if i == 100 {
            d.kill9();
        }
        if i % 20 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // A torn last line, as a crashed writer leaves it: not counted.
    w.append_raw("{\"_step\": 10000, \"lo");
    let d = Daemon::start(root.path());
    let got = all_steps(&d, "p", "r1", 10_000).await;
    assert_eq!(got, (0..10_000).map(|s| s as f64).collect::<Vec<_>>());
    // A heartbeat that went stale marks a running run crashed even for another host.
    w.meta["created_at"] = serde_json::json!(now_secs() - 7200.0);
    w.set("heartbeat_at", serde_json::json!(now_secs() - 3600.0));
    d.wait_for("/api/projects/p/runs/r1", Duration::from_secs(10), |r| {
        r["state"] == "crashed"
    })
    .await;
}
