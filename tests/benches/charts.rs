//! Chart benchmarks in headless Chromium against a real daemon (see docs/benchmarks.md, "Charts"):
//!
//! 1. first full paint of one ~1200-px panel of 100 runs × 100k steps, from the data request;
//! 2. zoom (Ctrl + wheel events) and pan frames: p50/p95/max of `tl:panel:frame`;
//! 3. one live point appended to each of the 100 runs: main-thread draw work per append
//!    (`tl:panel:live-append`) and whether history was redrawn;
//! 4. JS heap + WASM memory with that panel;
//! 5. scrolling a workspace of 50 panels × 20 runs: frames per second.
//!
//! The page records `performance.measure` entries (docs/frontend.md); this reads them with
//! WebDriver `execute`. Figures are printed next to their goals and never asserted.
//!
//! Run: `cargo bench -p trackline-tests --bench charts` (needs chromium and chromedriver;
//! `-- --quick` uses 20 runs × 20k steps and 10 panels; `-- --busy` keeps one core busy with a
//! spinning thread of this program the whole time, as when the dashboard shares the machine that
//! trains).

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]

use anyhow::Context;
use fantoccini::Client;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use trackline_tests::chart_page::{
    LOSS_PANEL, durations, js, measures, page_now, repaints, select_all, show_loss_panel,
    shown_frames, start_daemon, verdict, wait_js, wheel_zoom,
};
use trackline_tests::chrome::{session, start_driver};
use trackline_tests::machine::{BusyCore, load_average};
use trackline_tests::synthetic::{SyntheticRun, pct, unix_now, write_runs};

const DAEMON: &str = env!("CARGO_BIN_EXE_trackline-under-test");

const GOAL_FIRST_PAINT_MS: f64 = 300.0;
const GOAL_FRAME_P95_MS: f64 = 16.7;
const GOAL_APPEND_MS: f64 = 4.0;
const GOAL_MEMORY_MB: f64 = 200.0;
/// The first chart over the big project after a daemon restart (issue 8, cold start).
const GOAL_COLD_CHART_MS: f64 = 500.0;

fn main() -> anyhow::Result<()> {
    let quick = trackline_tests::machine::quick();
    let busy = std::env::args().any(|a| a == "--busy");
    let _busy = if busy { Some(BusyCore::start()?) } else { None };
    let (runs, steps, panels, panel_runs, panel_steps) = if quick {
        (20, 20_000, 10, 10, 1_000)
    } else {
        (100, 100_000, 50, 20, 2_000)
    };
    println!(
        "trackline chart benchmarks{}{} ({} CPUs; load average {})",
        if quick { " [quick]" } else { "" },
        if busy { " [one core kept busy]" } else { "" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(bench(runs, steps, panels, panel_runs, panel_steps))
}

/// Writes project `project`: `runs` running runs of `steps` rows of `keys` (a noisy decay with one
/// spike; `config.lr` 0.1, 0.01, 0.001 in turn).
fn make_project(
    root: &Path,
    project: &str,
    runs: u64,
    steps: u64,
    keys: &[String],
) -> anyhow::Result<()> {
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    write_runs(runs, |i| {
        let lr = [0.1, 0.01, 0.001][(i % 3) as usize];
        SyntheticRun {
            project,
            id: &format!("r{i:03}"),
            name: format!("run-{i:03}"),
            steps,
            keys: &keys,
            seed: i,
            config: json!({"lr": lr, "seed": i}),
            finished: false,
        }
        .write(root)
    })
}

async fn browser(port: u16, profile: &Path, width: u32) -> anyhow::Result<Client> {
    let window = format!("--window-size={width},1000");
    session(
        port,
        profile,
        &["--enable-precise-memory-info", &window],
        None,
    )
    .await
}

async fn bench(
    runs: u64,
    steps: u64,
    panels: usize,
    panel_runs: u64,
    panel_steps: u64,
) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("data");
    let t = Instant::now();
    make_project(&root, "big", runs, steps, &["loss".to_string()])?;
    let keys: Vec<String> = (0..panels)
        .map(|i| {
            if i == 0 {
                "loss".to_string()
            } else {
                format!("m/k{i:02}")
            }
        })
        .collect();
    make_project(&root, "wide", panel_runs, panel_steps, &keys)?;
    println!(
        "\nwrote {runs} runs × {steps} steps and {panel_runs} runs × {panel_steps} steps × {panels} keys in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let (daemon, port) = start_daemon(DAEMON, &root)?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    // The loss panel spans the row (its plot about 1200 px wide in a 1340-px window).
    for p in ["big", "wide"] {
        http.put(format!("{base}/api/projects/{p}/workspace"))
            .json(&json!({"layout": {"workspace": {"panels": {"loss": {"wide": true}}}}}))
            .send()
            .await?
            .error_for_status()?;
    }
    // Warm the daemon (it loads histories on first use) so the browser measures the page.
    let ids: Vec<String> = (0..runs).map(|i| format!("r{i:03}")).collect();
    let t = Instant::now();
    let warm = http
        .get(format!(
            "{base}/api/projects/big/series?runs={}&key=loss&width=1200",
            ids.join(",")
        ))
        .send()
        .await?
        .bytes()
        .await?;
    println!(
        "daemon: first series query of {runs} runs {:.0} ms (loads the histories), answer {:.1} MB",
        t.elapsed().as_secs_f64() * 1000.0,
        warm.len() as f64 / 1e6
    );

    // The page asks for the binary answer: timed warm here, and cold after each restart below.
    let binary_query = |port: u16, width: u32| {
        http.get(format!(
            "http://127.0.0.1:{port}/api/projects/big/series?runs={}&key=loss&width={width}",
            ids.join(",")
        ))
        .header("Accept", "application/vnd.trackline.series")
        .send()
    };
    let t = Instant::now();
    http.get(format!(
        "{base}/api/projects/big/series?runs={}&key=loss&width=1207",
        ids.join(",")
    ))
    .send()
    .await?
    .bytes()
    .await?;
    let warm_json_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let bytes = binary_query(port, 1201).await?.bytes().await?;
    let warm_binary_ms = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "daemon: the same query warm {warm_json_ms:.0} ms as JSON, {warm_binary_ms:.0} ms binary ({:.1} MB; answer sent and read by reqwest)",
        bytes.len() as f64 / 1e6
    );

    // The loaded runs are saved to the series cache by a thread of their own after answering:
    // wait for all of them, as a daemon that ran a while would have (a restart before then reads
    // the runs not yet saved from their files, and the figure below measured that race).
    let saved = Instant::now();
    let cache = root.join(".trackline/cache/series/big");
    let cached = || {
        std::fs::read_dir(&cache).map_or(0, |d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".tlsc"))
                .count()
        })
    };
    while cached() < runs as usize && saved.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "daemon: {} of {runs} runs in the series cache {:.1} s after the warm queries",
        cached(),
        saved.elapsed().as_secs_f64()
    );

    // Cold start: the daemon restarted, reading its series cache, and again without it; the
    // query is the page's (binary), sent as soon as the daemon listens.
    drop(daemon);
    let mut daemon = None;
    let mut cold_answer_ms = f64::NAN;
    for (label, delete_cache) in [("with its series cache", false), ("cache deleted", true)] {
        // One daemon per data dir: the previous one stops first (before the cache is deleted:
        // its cache-save thread may still be writing into it).
        drop(daemon.take());
        if delete_cache {
            std::fs::remove_dir_all(root.join(".trackline/cache/series"))?;
        }
        let t = Instant::now();
        let (d, p) = start_daemon(DAEMON, &root)?;
        let listening = t.elapsed().as_secs_f64() * 1000.0;
        binary_query(p, 1200).await?.bytes().await?;
        let answered = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "daemon restarted ({label}): listening after {listening:.0} ms, first series query of {runs} runs answered {answered:.0} ms after the start ({:.0} ms more than warm)",
            answered - warm_binary_ms
        );
        if !delete_cache {
            cold_answer_ms = answered;
        }
        daemon = Some((d, p));
    }
    let (_daemon, port) = daemon.context("a daemon")?;
    let base = format!("http://127.0.0.1:{port}");

    let (_driver, dport) = start_driver()?;
    let profile = tempfile::tempdir()?;
    let c = browser(dport, profile.path(), 1340).await?;
    let res = measure_big(&c, &base, &root, runs).await;
    let res2 = match &res {
        Ok(_) => measure_scroll(&c, &base, panels, panel_runs).await,
        Err(_) => Ok(()),
    };
    let _ = c.close().await;
    let paint_ms = res?;
    // The page's request → painted, plus what the cold daemon took longer than a warm one.
    let cold = paint_ms + (cold_answer_ms - warm_binary_ms);
    println!(
        "\n== cold start: first chart of {runs} runs after a restart ≈ request → painted p50 {paint_ms:.0} ms + ({cold_answer_ms:.0} − {warm_binary_ms:.0}) ms the cold daemon's answer took longer = {cold:.0} ms (goal ≤ {GOAL_COLD_CHART_MS} ms: {})",
        verdict(cold <= GOAL_COLD_CHART_MS)
    );
    res2
}

/// Answers the first-paint p50 (request start → painted).
async fn measure_big(c: &Client, base: &str, root: &Path, runs: u64) -> anyhow::Result<f64> {
    c.goto(&format!("{base}/projects/big")).await?;
    // Page errors (a WASM panic is logged with console.error) are kept for the report of a failed
    // wait.
    js(
        c,
        "window.__tl_errors = []; const e = console.error.bind(console);
         console.error = (...a) => { window.__tl_errors.push(a.map(String).join(' ')); e(...a); };
         window.addEventListener('error', ev => window.__tl_errors.push(String(ev.message)));
         return true;",
        vec![],
    )
    .await?;
    let plot_w = show_loss_panel(c, runs, Duration::from_secs(120)).await?;
    println!("\n== 1. first full paint: one panel, {runs} runs, plot {plot_w} px wide");

    // Each reset refetches the decimated window and draws it: request start → frame end.
    let reset = repaints(c, 5, Duration::from_millis(300), Duration::from_secs(60)).await?;
    let requests: Vec<f64> = reset.iter().map(|r| r.request).collect();
    let paints: Vec<f64> = reset.iter().map(|r| r.painted).collect();
    let frames: Vec<f64> = reset.iter().map(|r| r.frame).collect();
    let first = js(c, "const e = performance.getEntriesByName('tl:panel:first-paint', 'measure').filter(e => e.detail === 'loss'); return e.length ? e[0].duration : null;", vec![]).await?;
    println!(
        "  data request (fetch + parse) p50 {:.0} ms · draw {:.1} ms · request start → painted p50 {:.0} ms, max {:.0} ms (goal ≤ {GOAL_FIRST_PAINT_MS} ms: {})",
        pct(&requests, 0.5),
        pct(&frames, 0.5),
        pct(&paints, 0.5),
        pct(&paints, 1.0),
        verdict(pct(&paints, 0.5) <= GOAL_FIRST_PAINT_MS)
    );
    println!("  page's first panel paint (10 default-selected runs, cold page): {first} ms");

    // 2. Zoom with Ctrl + wheel at the pointer, one event per animation frame, then pan.
    println!("\n== 2. zoom and pan frames");
    let since = page_now(c).await?;
    let fps = wheel_zoom(c).await?;
    // Every frame shown counts: full frames and previews (a panel draws previews only when its
    // full frames take longer than two animation frames; none are expected here).
    let (zoom_frames, previews) = durations(&shown_frames(c, since).await?);
    println!(
        "  wheel zoom: {} frames drawn ({previews} previews), frame p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (goal p95 ≤ {GOAL_FRAME_P95_MS} ms: {}); {:.0} wheel events/s delivered",
        zoom_frames.len(),
        pct(&zoom_frames, 0.5),
        pct(&zoom_frames, 0.95),
        pct(&zoom_frames, 1.0),
        verdict(pct(&zoom_frames, 0.95) <= GOAL_FRAME_P95_MS),
        fps
    );
    plot_share(c, since).await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let since = page_now(c).await?;
    c.execute_async(
        &format!(
            "const done = arguments[arguments.length - 1];
             const cv = document.querySelector('{LOSS_PANEL}'); const r = cv.getBoundingClientRect();
             const y = r.top + r.height / 2; let x = r.left + r.width * 0.7; let i = 0;
             const ev = (t) => new PointerEvent(t, {{bubbles: true, clientX: x, clientY: y, button: 0, buttons: 1, shiftKey: true, pointerId: 1, pointerType: 'mouse'}});
             cv.dispatchEvent(ev('pointerdown'));
             const step = () => {{
                 x -= 8; cv.dispatchEvent(ev('pointermove'));
                 if (++i < 60) requestAnimationFrame(step); else {{ cv.dispatchEvent(ev('pointerup')); done(true); }}
             }};
             requestAnimationFrame(step);"
        ),
        vec![],
    )
    .await?;
    let (pan_frames, previews) = durations(&shown_frames(c, since).await?);
    println!(
        "  shift-drag pan: {} frames ({previews} previews), p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({})",
        pan_frames.len(),
        pct(&pan_frames, 0.5),
        pct(&pan_frames, 0.95),
        pct(&pan_frames, 1.0),
        verdict(pct(&pan_frames, 0.95) <= GOAL_FRAME_P95_MS)
    );

    // The same wheel zoom with W&B's smoothing on: the goal holds "smoothing on and off".
    let kind = "[data-testid=workspace] > .cs-bar [data-testid=smoothing-kind]";
    let set_kind = |v: &'static str| {
        js(
            c,
            "const e = document.querySelector(arguments[0]); e.value = arguments[1];
             e.dispatchEvent(new Event('change', {bubbles: true})); return true;",
            vec![json!(kind), json!(v)],
        )
    };
    set_kind("twema").await?;
    wait_js(
        c,
        "smoothed lines",
        &format!("return !!document.querySelector('{LOSS_PANEL}').dataset.smoothedLast;"),
        Duration::from_secs(30),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let since = page_now(c).await?;
    wheel_zoom(c).await?;
    let (smooth_frames, previews) = durations(&shown_frames(c, since).await?);
    println!(
        "  wheel zoom with time-weighted EMA smoothing: {} frames ({previews} previews), p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (goal p95 ≤ {GOAL_FRAME_P95_MS} ms: {})",
        smooth_frames.len(),
        pct(&smooth_frames, 0.5),
        pct(&smooth_frames, 0.95),
        pct(&smooth_frames, 1.0),
        verdict(pct(&smooth_frames, 0.95) <= GOAL_FRAME_P95_MS)
    );
    plot_share(c, since).await?;
    set_kind("none").await?;
    tokio::time::sleep(Duration::from_millis(800)).await;

    // 3. Live points: reset the zoom, then one row appended to each run's history per round.
    println!("\n== 3. one live point appended to each of {runs} runs");
    js(
        c,
        &format!(
            "const cv = document.querySelector('{LOSS_PANEL}'); const r = cv.getBoundingClientRect();
             cv.dispatchEvent(new MouseEvent('dblclick', {{bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2}})); return true;"
        ),
        vec![],
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut appends = Vec::new();
    let mut full = Vec::new();
    let rounds = 12;
    for round in 0..rounds {
        let since = page_now(c).await?;
        let points_before = js(
            c,
            &format!("return +document.querySelector('{LOSS_PANEL}').dataset.points;"),
            vec![],
        )
        .await?
        .as_f64()
        .unwrap_or(0.0);
        for i in 0..runs {
            let path = root
                .join("big")
                .join(format!("r{i:03}"))
                .join("history.jsonl");
            let mut f = std::fs::OpenOptions::new().append(true).open(&path)?;
            let step = 100_000 + round;
            writeln!(
                f,
                "{{\"_step\":{step},\"_timestamp\":{:.3},\"_runtime\":1,\"loss\":{:.5}}}",
                unix_now(),
                0.5 + (i as f64) * 0.001
            )?;
        }
        wait_js(
            c,
            "live points drawn",
            &format!(
                "return +document.querySelector('{LOSS_PANEL}').dataset.points >= {};",
                points_before + runs as f64
            ),
            Duration::from_secs(30),
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(250)).await;
        let a = measures(c, "tl:panel:live-append", since).await?;
        let f = measures(c, "tl:panel:frame", since).await?;
        if round > 0 {
            appends.push(a.iter().sum::<f64>());
            full.push(f.len() as f64);
        } else {
            println!(
                "  round 1 (points past the fitted x range: one full redraw, head room added): {} full frames ({:.1} ms)",
                f.len(),
                f.iter().sum::<f64>()
            );
        }
    }
    println!(
        "  rounds 2–{rounds}: draw work per round (all {runs} appends) p50 {:.2} ms, max {:.2} ms (goal ≤ {GOAL_APPEND_MS} ms: {}); full redraws of history in those rounds: {}",
        pct(&appends, 0.5),
        pct(&appends, 1.0),
        verdict(pct(&appends, 0.5) <= GOAL_APPEND_MS),
        full.iter().sum::<f64>()
    );

    // 4. Memory of the page with this panel.
    let mem = js(
        c,
        "const m = performance.memory ? performance.memory.usedJSHeapSize : NaN;
         const w = window.__trackline_wasm_memory ? window.__trackline_wasm_memory.buffer.byteLength : NaN;
         return [m, w];",
        vec![],
    )
    .await?;
    let m: Vec<f64> = mem
        .as_array()
        .map(|a| a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default();
    let total = (m[0] + m[1]) / 1e6;
    println!(
        "\n== 4. memory: JS heap {:.1} MB + WASM memory {:.1} MB = {total:.1} MB (goal ≤ {GOAL_MEMORY_MB} MB: {})",
        m[0] / 1e6,
        m[1] / 1e6,
        verdict(total <= GOAL_MEMORY_MB)
    );
    Ok(pct(&paints, 0.5))
}

/// Prints the layout and rasterising part (`tl:panel:frame:plot`) of the frames since `since`:
/// the code `frontend/benches/frame.rs` runs natively and in Node; the rest of a frame is the
/// canvas upload and the axes.
async fn plot_share(c: &Client, since: f64) -> anyhow::Result<()> {
    let plot = measures(c, "tl:panel:frame:plot", since).await?;
    println!(
        "    of which layout + rasterising: p50 {:.1} ms, p95 {:.1} ms ({} frames)",
        pct(&plot, 0.5),
        pct(&plot, 0.95),
        plot.len()
    );
    Ok(())
}

async fn measure_scroll(c: &Client, base: &str, panels: usize, runs: u64) -> anyhow::Result<()> {
    println!("\n== 5. scrolling a workspace of {panels} panels × {runs} runs");
    c.goto(&format!("{base}/projects/wide")).await?;
    select_all(c, runs).await?;
    wait_js(
        c,
        "all panels",
        &format!("return document.querySelectorAll('[data-testid=panel]').length >= {panels};"),
        Duration::from_secs(60),
    )
    .await?;
    // Let the panels in view load and draw.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let since = page_now(c).await?;
    let r = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const gaps = []; let last = performance.now(); const t0 = last;
             const max = document.documentElement.scrollHeight - innerHeight;
             window.scrollTo(0, 0);
             const step = () => {
                 const now = performance.now(); gaps.push(now - last); last = now;
                 window.scrollBy(0, 30);
                 if (scrollY < max - 1 && now - t0 < 20000) requestAnimationFrame(step);
                 else done([gaps.length, now - t0, gaps]);
             };
             requestAnimationFrame(step);",
            vec![],
        )
        .await?;
    let n = r[0].as_f64().unwrap_or(0.0);
    let ms = r[1].as_f64().unwrap_or(1.0);
    let gaps: Vec<f64> = r[2]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    let frames = measures(c, "tl:panel:frame", since).await?;
    println!(
        "  {:.0} fps over {:.1} s of scrolling (frame interval p50 {:.1} ms, p95 {:.1} ms); {} panel frames drawn meanwhile, p95 {:.1} ms",
        n * 1000.0 / ms,
        ms / 1000.0,
        pct(&gaps, 0.5),
        pct(&gaps, 0.95),
        frames.len(),
        pct(&frames, 0.95)
    );
    Ok(())
}
