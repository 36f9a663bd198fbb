//! `serve --demo`: a background writer that keeps a demo project logging live, through the same
//! run-directory format v1 every client uses (written by the format's one writer), so a new user
//! sees a moving dashboard at once.
//!
//! The demo project is `trackline-demo` in the data directory, marked by a `.trackline-demo` file;
//! its old runs are cleared at start. It never touches any other folder.

use crate::format::writer::{Appender, RunWriter, write_atomic};
use crate::format::{CONFIG_FILE, FormatError, HISTORY_FILE, RUN_FILE, SUMMARY_FILE};
use crate::util::now_secs;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const DEMO_PROJECT: &str = "trackline-demo";
const MARKER: &str = ".trackline-demo";
const RUNS_AT_ONCE: usize = 4;
const STEPS_PER_RUN: u64 = 3_000;
const TICK: Duration = Duration::from_millis(50);

pub fn spawn(dir: PathBuf, stop: Arc<AtomicBool>) -> std::io::Result<std::thread::JoinHandle<()>> {
    let project = dir.join(DEMO_PROJECT);
    if project.exists() && !project.join(MARKER).exists() {
        return Err(std::io::Error::other(format!(
            "{} exists and was not made by --demo; not touching it",
            project.display()
        )));
    }
    if project.exists() {
        std::fs::remove_dir_all(&project)?;
    }
    std::fs::create_dir_all(&project)?;
    write_atomic(
        &project.join(MARKER),
        b"written by trackline serve --demo\n",
    )
    .map_err(std::io::Error::other)?;
    std::thread::Builder::new()
        .name("trackline-demo".into())
        .spawn(move || {
            if let Err(e) = run(&dir, &stop) {
                tracing::warn!("demo writer stopped: {e}");
            }
        })
}

struct DemoRun {
    writer: RunWriter,
    meta: Value,
    step: u64,
    lr: f64,
    seed: u64,
    history: Appender,
    last_heartbeat: f64,
}

/// Keeps the demo runs under data directory `data_dir` logging until `stop` is set.
fn run(data_dir: &Path, stop: &AtomicBool) -> Result<(), FormatError> {
    let mut counter = 0u64;
    let mut live: Vec<DemoRun> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        while live.len() < RUNS_AT_ONCE {
            counter += 1;
            live.push(start_run(data_dir, counter)?);
        }
        for r in &mut live {
            log_step(r)?;
        }
        let mut i = 0;
        while i < live.len() {
            if live[i].step >= STEPS_PER_RUN {
                let r = live.swap_remove(i);
                finish(r)?;
            } else {
                i += 1;
            }
        }
        std::thread::sleep(TICK);
    }
    for r in live {
        finish(r)?;
    }
    Ok(())
}

fn start_run(data_dir: &Path, n: u64) -> Result<DemoRun, FormatError> {
    let seed = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let id = format!("demo{n:04}");
    let writer = RunWriter::new(data_dir, DEMO_PROJECT, &id)?;
    writer.create_dir()?;
    let lrs = [0.1, 0.03, 0.01, 0.003];
    let lr = lrs[(n as usize) % lrs.len()];
    let optimizer = if n.is_multiple_of(2) { "adam" } else { "sgd" };
    let now = now_secs();
    let meta = json!({
        "format_version": 1,
        "id": id,
        "name": format!("{optimizer}-lr{lr}-{n}"),
        "project": DEMO_PROJECT,
        "group": optimizer,
        "tags": ["demo"],
        "notes": "written by trackline serve --demo",
        "job_type": "train",
        "state": "running",
        "created_at": now,
        "heartbeat_at": now,
        "finished_at": null,
        "exit_code": null,
        "host": crate::util::local_hostname(),
        "command": ["trackline", "serve", "--demo"],
        "pid": std::process::id(),
        "client": format!("trackline-demo {}", crate::VERSION),
    });
    writer.replace(
        CONFIG_FILE,
        &json!({
            "lr": lr, "optimizer": optimizer, "batch_size": 32 << (n % 3), "epochs": 3, "model": "mlp"
        }),
    )?;
    writer.replace(RUN_FILE, &meta)?;
    let history = writer.appender(HISTORY_FILE)?;
    Ok(DemoRun {
        writer,
        meta,
        step: 0,
        lr,
        seed,
        history,
        last_heartbeat: now,
    })
}

/// A deterministic pseudo-random number in [0, 1).
fn noise(seed: u64, step: u64) -> f64 {
    let mut x = seed ^ step.wrapping_mul(0xD1B5_4A32_D192_ED03);
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn log_step(r: &mut DemoRun) -> Result<(), FormatError> {
    let now = now_secs();
    let created = r.meta["created_at"].as_f64().unwrap_or(now);
    let t = r.step as f64;
    let rate = r.lr * 3.0;
    let loss = 2.3 * (-rate * t / 100.0).exp() + 0.1 + 0.08 * (noise(r.seed, r.step) - 0.5);
    // A rare one-step spike: exactly what decimation must never hide.
    let loss = if r.step % 997 == 500 {
        loss * 6.0
    } else {
        loss
    };
    let mut row = format!(
        "{{\"_step\": {}, \"_timestamp\": {now}, \"_runtime\": {}, \"train/loss\": {loss}, \"train/lr\": {}",
        r.step,
        now - created,
        r.lr * (1.0 - t / STEPS_PER_RUN as f64)
    );
    if r.step % 100 == 99 {
        let val = loss * 1.1 + 0.05 * noise(r.seed ^ 7, r.step);
        let acc = 1.0 - val / 2.5;
        row.push_str(&format!(
            ", \"val/loss\": {val}, \"val/accuracy\": {acc}, \"epoch\": {}",
            r.step / 1000
        ));
    }
    row.push_str("}\n");
    r.history.append(row.as_bytes())?;
    r.step += 1;
    if now - r.last_heartbeat > 5.0 {
        r.meta["heartbeat_at"] = json!(now);
        r.last_heartbeat = now;
        r.writer
            .replace(SUMMARY_FILE, &json!({"train/loss": loss}))?;
        r.writer.replace(RUN_FILE, &r.meta)?;
    }
    Ok(())
}

fn finish(mut r: DemoRun) -> Result<(), FormatError> {
    r.history.sync()?;
    let now = now_secs();
    r.meta["state"] = json!("finished");
    r.meta["finished_at"] = json!(now);
    r.meta["heartbeat_at"] = json!(now);
    r.meta["exit_code"] = json!(0);
    r.writer.replace(RUN_FILE, &r.meta)
}
