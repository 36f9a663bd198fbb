//! The image panel against a real daemon process (issue 12; see docs/benchmarks.md, "Media"): a
//! project of 8 runs that each logged one 32×32 image at every one of 1,000 steps, shown in the
//! workspace (one image panel, a row per run). A scrub moves the panel's step slider (as an
//! `input` event, the way a drag or an arrow key moves it) and times, in the page, from the event
//! until every row's image of the new step is loaded and decoded (`img.complete`,
//! `naturalWidth`, `decode()`): the latency a user sees. Three kinds, each in a fresh daemon and
//! browser (nothing cached from another kind): `drag`, consecutive steps at a drag's pace (30 ms
//! apart: the scrub the goal is about); `click`, distinct steps spread over the run, 250 ms
//! apart, as clicks on the slider's track (nothing near them shown before: every image is
//! fetched); `jump`, the same back to back (each jump's images compete with the previous one's
//! prefetches). Goal: a scrub's p95 ≤ 50 ms. Beside each, the page's resource timing: when the last
//! of the step's images was asked for and when its bytes were in.
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
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use trackline_tests::chrome::{BrowserOnDaemon, wait_until};
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
    let quick = trackline_tests::machine::quick();
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
        for kind in [Kind::Drag, Kind::Click, Kind::Jump] {
            let (samples, load) = rt.block_on(scrub(dir.path(), steps, scrubs, kind))?;
            let kind = kind.name();
            let ms: Vec<f64> = samples.iter().map(|s| s.ms).collect();
            let of = |f: fn(&Scrub) -> f64| {
                let v: Vec<f64> = samples.iter().map(f).filter(|x| x.is_finite()).collect();
                if v.is_empty() {
                    "-".to_string()
                } else {
                    format!("{:.1} ms", pct(&v, 0.5))
                }
            };
            let (p50, p95) = (pct(&ms, 0.5), pct(&ms, 0.95));
            println!(
                "{label}, {kind}: {} scrubs over {RUNS} runs × {steps} steps: p50 {p50:.1} ms, p95 {p95:.1} ms, max {:.1} ms (goal p95 ≤ {GOAL_SCRUB_P95_MS} ms); p50 of the last image asked for {}, its bytes in {}; load {load}",
                ms.len(),
                ms.iter().copied().fold(0.0, f64::max),
                of(|s| s.asked),
                of(|s| s.fetched),
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

/// How the slider moves.
#[derive(Clone, Copy)]
enum Kind {
    Drag,
    Click,
    Jump,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Drag => "drag (30 ms apart)",
            Kind::Click => "click (250 ms apart)",
            Kind::Jump => "jump (back to back)",
        }
    }
}

/// Opens the workspace in a fresh daemon and browser, waits for the panel, then moves the slider
/// `n` times as `kind` does; the page-measured scrubs, and the load average.
async fn scrub(
    root: &Path,
    steps: u64,
    n: usize,
    kind: Kind,
) -> anyhow::Result<(Vec<Scrub>, String)> {
    let browser = BrowserOnDaemon::open(
        &Daemon::binary(DAEMON),
        root,
        &format!("/projects/{PROJECT}"),
        &["--window-size=1400,2600"],
    )
    .await?;
    let c = &browser.client;
    wait_until(
        c,
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
    let (targets, pause): (Vec<u64>, u64) = match kind {
        // From a third of the way on, one step at a time.
        Kind::Drag => ((0..n as u64).map(|i| (steps / 3 + i) % steps).collect(), 30),
        // Distinct steps in a spread-out order (a stride coprime with the step count).
        Kind::Click | Kind::Jump => {
            let stride = (steps / 7) | 1;
            let spread = (1..=n as u64).map(|i| (i * stride) % steps).collect();
            (spread, if matches!(kind, Kind::Click) { 250 } else { 0 })
        }
    };
    let mut out = Vec::with_capacity(targets.len());
    for target in targets {
        let v = c
            .execute_async(SCRUB, vec![json!(PANEL), json!(target), json!(RUNS)])
            .await
            .context("scrub")?;
        match v.get("ms").and_then(Value::as_f64) {
            Some(t) => {
                let at = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
                out.push(Scrub {
                    ms: t,
                    asked: at("asked"),
                    fetched: at("fetched"),
                });
            }
            None => bail!("scrub to step {target} did not finish: {v}"),
        }
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    let load = load_average();
    browser.close().await;
    Ok((out, load))
}

/// Moves the panel's slider to the index of step `arguments[1]` (steps are 0..n, so the index is
/// the step) and resolves with the milliseconds until every row shows that step's image,
/// loaded and decoded; `null` after 10 s.
/// One scrub: milliseconds from the slider's event until the images were shown, until the last
/// of them was requested, and until the last one's bytes had arrived (from the page's resource
/// timing).
struct Scrub {
    ms: f64,
    asked: f64,
    fetched: f64,
}

const SCRUB: &str = r#"
const [panel, step, runs, done] = arguments;
const slider = document.querySelector(panel + ' [data-testid=media-slider]');
performance.clearResourceTimings();
const t0 = performance.now();
slider.value = String(step);
slider.dispatchEvent(new Event('input', {bubbles: true}));
const want = '/samples_' + step + '_';
const check = async () => {
  const imgs = [...document.querySelectorAll(panel + ' [data-testid=media-image] img')];
  const ready = imgs.length === runs && imgs.every(i => i.src.includes(want) && i.complete && i.naturalWidth > 0);
  if (ready) {
    await Promise.all(imgs.map(i => i.decode().catch(() => null)));
    const ms = performance.now() - t0;
    const res = performance.getEntriesByType('resource').filter(e => e.name.includes(want) && e.startTime >= t0);
    const last = (f) => res.length ? Math.max(...res.map(f)) - t0 : null;
    done({ms, asked: last(e => e.startTime), fetched: last(e => e.responseEnd)});
  } else if (performance.now() - t0 > 10000) {
    done({ms: null});
  } else {
    requestAnimationFrame(check);
  }
};
requestAnimationFrame(check);
"#;
