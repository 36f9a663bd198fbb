//! The image panel against a real daemon process (issue 12; see docs/benchmarks.md, "Media"): a
//! project of 8 runs that each logged one 32×32 image at every one of 1,000 steps, shown in the
//! workspace (one image panel, a row per run). A scrub moves the panel's step slider (as an
//! `input` event, the way a drag or an arrow key moves it) and times, in the page, from the event
//! until every row's image of the new step is loaded and decoded (`img.complete`,
//! `naturalWidth`, `decode()`): the latency a user sees. Two kinds: `drag`, consecutive steps at
//! a drag's pace (30 ms apart), and `jump`, distinct steps spread over the run (nothing near them
//! shown before: every image is fetched). Goal: p95 ≤ 50 ms.
//!
//! Runs idle and then with one core kept busy by a spinning thread of this program; every figure
//! is printed with the load average, and a table at the end. Nothing is asserted. Run with
//! `TRACKLINE_REQUIRE_WEB=1 cargo bench -p trackline-tests --bench media` (`-- --quick`: 200
//! steps, fewer scrubs); `TRACKLINE_BENCH_DAEMON=<path>` measures another build.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]

use anyhow::{Context, bail};
use fantoccini::Client;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use trackline_tests::chrome::{session, start_driver};
use trackline_tests::daemon::Daemon;
use trackline_tests::machine::{BusyCore, load_average};
use trackline_tests::png;
use trackline_tests::synthetic::{pct, unix_now};

const DAEMON: &str = env!("CARGO_BIN_EXE_trackline-under-test");
const GOAL_SCRUB_P95_MS: f64 = 50.0;
const PROJECT: &str = "media";
const RUNS: u32 = 8;
const PANEL: &str = "[data-testid=media-panel][data-key=samples]";

fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick")
        || std::env::var("TRACKLINE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let (steps, scrubs) = if quick { (200, 40) } else { (1_000, 150) };
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    write_project(dir.path(), steps)?;
    println!(
        "wrote {RUNS} runs × {steps} images in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    for busy in [false, true] {
        let _spin = busy.then(BusyCore::start).transpose()?;
        let label = if busy { "one core busy" } else { "idle" };
        let (scrubs, load) = rt.block_on(scrub(dir.path(), steps, scrubs))?;
        for (kind, ms) in scrubs {
            let (p50, p95) = (pct(&ms, 0.5), pct(&ms, 0.95));
            println!(
                "{label}, {kind}: {} scrubs over {RUNS} runs × {steps} steps: p50 {p50:.1} ms, p95 {p95:.1} ms, max {:.1} ms (goal p95 ≤ {GOAL_SCRUB_P95_MS} ms); load {load}",
                ms.len(),
                ms.iter().copied().fold(0.0, f64::max)
            );
            rows.push((label, kind, p50, p95, load.clone()));
        }
    }
    println!(
        "\n| image panel, {RUNS} runs × {steps} steps | scrub | p50 | p95 | goal p95 | load |"
    );
    println!("|---|---|---|---|---|---|");
    for (label, kind, p50, p95, load) in rows {
        println!(
            "| {label} | {kind} | {p50:.1} ms | {p95:.1} ms | ≤ {GOAL_SCRUB_P95_MS} ms | {load} |"
        );
    }
    Ok(())
}

/// `RUNS` finished runs, each with an image (its colour from the run and the step) at every step.
fn write_project(root: &Path, steps: u64) -> anyhow::Result<()> {
    for run in 0..RUNS {
        let id = format!("run{run}");
        let dir = root.join(PROJECT).join(&id);
        std::fs::create_dir_all(dir.join("media/images"))?;
        let now = unix_now();
        let meta = json!({"format_version": 1, "id": id, "name": id, "project": PROJECT,
            "state": "finished", "created_at": now, "heartbeat_at": now, "finished_at": now,
            "exit_code": 0, "tags": [], "config": {}});
        std::fs::write(dir.join("run.json"), serde_json::to_vec(&meta)?)?;
        let mut history =
            std::io::BufWriter::new(std::fs::File::create(dir.join("history.jsonl"))?);
        for step in 0..steps {
            let color = [
                (run * 30) as u8,
                (step % 256) as u8,
                (step / 256 * 40) as u8,
                255,
            ];
            let bytes = png::solid(32, 32, color);
            let rel = format!(
                "media/images/samples_{step}_{:020x}.png",
                u64::from(run) << 32 | step
            );
            std::fs::write(dir.join(&rel), &bytes)?;
            let row = json!({"_step": step, "_timestamp": now, "loss": 1.0 / (step + 1) as f64,
                "samples": {"_type": "image-file", "path": rel, "size": bytes.len(),
                    "format": "png", "width": 32, "height": 32}});
            writeln!(history, "{row}")?;
        }
        history.flush()?;
    }
    Ok(())
}

/// Opens the workspace in a fresh daemon and browser, waits for the panel, then scrubs `n` times
/// as a drag does and `n` times by jumps; the page-measured latencies of each kind, and the load
/// average.
async fn scrub(
    root: &Path,
    steps: u64,
    n: usize,
) -> anyhow::Result<(Vec<(&'static str, Vec<f64>)>, String)> {
    let log = root.join("daemon.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let daemon = Daemon::start(&Daemon::binary(DAEMON), root, port, &log)?;
    let (_driver, driver_port) = start_driver()?;
    let profile = tempfile::tempdir()?;
    // Tall enough for the panel's 8 rows to be on screen.
    let c = session(
        driver_port,
        profile.path(),
        &["--window-size=1400,2600"],
        None,
    )
    .await?;
    c.goto(&daemon.url(&format!("/projects/{PROJECT}"))).await?;
    wait_for(
        &c,
        "every run's row at the newest step",
        Duration::from_secs(60),
        &format!(
            "return [...document.querySelectorAll('{PANEL} [data-testid=media-row]')]
            .filter(r => r.dataset.step === '{}').length === {RUNS};",
            steps - 1
        ),
    )
    .await?;
    c.execute(
        &format!("document.querySelector('{PANEL}').scrollIntoView(); return true;"),
        vec![],
    )
    .await?;
    // A drag from a third of the way on, one step at a time.
    let start = steps / 3;
    let drag: Vec<u64> = (0..n as u64).map(|i| (start + i) % steps).collect();
    // Distinct steps in a spread-out order (a stride coprime with the step count), away from the
    // drag's.
    let stride = (steps / 7) | 1;
    let jump: Vec<u64> = (1..=n as u64)
        .map(|i| (i * stride) % steps)
        .filter(|s| !(start.saturating_sub(8)..start + n as u64 + 8).contains(s))
        .collect();
    let mut out = Vec::new();
    for (kind, targets, pause) in [("drag", drag, 30), ("jump", jump, 0)] {
        let mut ms = Vec::with_capacity(targets.len());
        for target in targets {
            let v = c
                .execute_async(SCRUB, vec![json!(PANEL), json!(target), json!(RUNS)])
                .await
                .context("scrub")?;
            match v.as_f64() {
                Some(t) => ms.push(t),
                None => bail!("scrub to step {target} did not finish: {v}"),
            }
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        out.push((kind, ms));
    }
    let load = load_average();
    let _ = c.close().await;
    drop(daemon);
    Ok((out, load))
}

/// Moves the panel's slider to the index of step `arguments[1]` (steps are 0..n, so the index is
/// the step) and resolves with the milliseconds until every row shows that step's image,
/// loaded and decoded; `null` after 10 s.
const SCRUB: &str = r#"
const [panel, step, runs, done] = arguments;
const slider = document.querySelector(panel + ' [data-testid=media-slider]');
const t0 = performance.now();
slider.value = String(step);
slider.dispatchEvent(new Event('input', {bubbles: true}));
const want = '/samples_' + step + '_';
const check = async () => {
  const imgs = [...document.querySelectorAll(panel + ' [data-testid=media-image] img')];
  const ready = imgs.length === runs && imgs.every(i => i.src.includes(want) && i.complete && i.naturalWidth > 0);
  if (ready) {
    await Promise.all(imgs.map(i => i.decode().catch(() => null)));
    done(performance.now() - t0);
  } else if (performance.now() - t0 > 10000) {
    done(null);
  } else {
    requestAnimationFrame(check);
  }
};
requestAnimationFrame(check);
"#;

async fn wait_for(c: &Client, what: &str, timeout: Duration, script: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if c.execute(script, vec![]).await? == Value::Bool(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
