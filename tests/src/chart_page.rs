//! What the chart benchmarks (`benches/charts.rs`, `benches/scale.rs`) do to a page: run
//! scripts, wait for a condition, read the chart's `performance.measure` marks, select every
//! run, wheel-zoom the `loss` panel, time a reset's refetch and paint, and start the daemon
//! under test on a free port.

use crate::chrome::Proc;
use anyhow::{Context, bail};
use fantoccini::Client;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The canvas of the workspace's `loss` panel.
pub const LOSS_PANEL: &str = "[data-testid=panel][data-key=loss] canvas[data-testid=chart]";

/// Runs `script` (a function body; `arguments[0..]` are `args`) and answers its value.
pub async fn js(c: &Client, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(c.execute(script, args).await?)
}

/// The numbers of a JSON array (NaN for anything else).
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

/// The page's `performance.now()`.
pub async fn page_now(c: &Client) -> anyhow::Result<f64> {
    Ok(js(c, "return performance.now();", vec![])
        .await?
        .as_f64()
        .unwrap_or(0.0))
}

/// The durations of the `name` measures taken since `since` (page time).
pub async fn measures(c: &Client, name: &str, since: f64) -> anyhow::Result<Vec<f64>> {
    let v = js(
        c,
        "return performance.getEntriesByName(arguments[0], 'measure')
            .filter(e => e.startTime >= arguments[1]).map(e => e.duration);",
        vec![json!(name), json!(since)],
    )
    .await?;
    Ok(floats(&v))
}

/// Polls `script` until it answers something other than `null` or `false`; after `timeout`
/// fails with the page's errors and the `loss` panel's attributes.
pub async fn wait_js(
    c: &Client,
    what: &str,
    script: &str,
    timeout: Duration,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let v = js(c, script, vec![]).await?;
        if !(v.is_null() || v == json!(false)) {
            return Ok(v);
        }
        if Instant::now() > deadline {
            let errors = js(c, "return window.__tl_errors || [];", vec![]).await?;
            let panel = js(
                c,
                "const e = document.querySelector(arguments[0]);
                 return e ? JSON.stringify(e.dataset) : null;",
                vec![json!(LOSS_PANEL)],
            )
            .await?;
            bail!("timed out waiting for {what}; page errors: {errors}; loss panel: {panel}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Selects all `runs` runs with the table's select-all box.
pub async fn select_all(c: &Client, runs: u64) -> anyhow::Result<()> {
    wait_js(
        c,
        "the runs table",
        "return document.querySelector('[data-testid=select-all]') != null;",
        Duration::from_secs(120),
    )
    .await?;
    wait_js(
        c,
        "all selected",
        &format!(
            "const b = document.querySelector('[data-testid=select-all]');
             const n = document.querySelector('[data-testid=selected-count]');
             if (n && n.textContent.startsWith('{runs} ')) return true;
             if (!b.checked) b.click(); return false;"
        ),
        Duration::from_secs(120),
    )
    .await?;
    Ok(())
}

/// The frames a panel showed since `since` (page ms): its full frames (`tl:panel:frame`) and its
/// previews (`tl:panel:preview`, drawn while a slow panel is zoomed or panned), in time order.
pub async fn shown_frames(c: &Client, since: f64) -> anyhow::Result<Vec<Shown>> {
    let v = js(
        c,
        "return ['tl:panel:frame', 'tl:panel:preview'].flatMap(n =>
            performance.getEntriesByName(n, 'measure').filter(e => e.startTime >= arguments[0])
              .map(e => [e.startTime, e.duration, n === 'tl:panel:preview' ? 1 : 0]))
            .sort((a, b) => a[0] - b[0]);",
        vec![json!(since)],
    )
    .await?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    let f = floats(e);
                    Shown {
                        start: f[0],
                        ms: f[1],
                        preview: f[2] == 1.0,
                    }
                })
                .collect()
        })
        .unwrap_or_default())
}

/// One frame a panel showed: when it started (page ms), what it took, whether it was a preview.
#[derive(Clone, Copy, Debug)]
pub struct Shown {
    pub start: f64,
    pub ms: f64,
    pub preview: bool,
}

/// The durations of `frames`, and how many of them were previews.
pub fn durations(frames: &[Shown]) -> (Vec<f64>, usize) {
    (
        frames.iter().map(|f| f.ms).collect(),
        frames.iter().filter(|f| f.preview).count(),
    )
}

/// 60 Ctrl + wheel events on the `loss` panel, one an animation frame (30 in, 30 out, the
/// pointer moving over the middle of the plot); answers the events delivered a second. The page
/// time of the last event is left in `window.__tl_wheel_end`.
pub async fn wheel_zoom(c: &Client) -> anyhow::Result<f64> {
    let fps = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const cv = document.querySelector(arguments[0]); const r = cv.getBoundingClientRect();
             let i = 0; const t0 = performance.now();
             const step = () => {
                 const dy = i < 30 ? -60 : 60;
                 cv.dispatchEvent(new WheelEvent('wheel', {bubbles: true, cancelable: true, ctrlKey: true, deltaY: dy,
                     clientX: r.left + 56 + (r.width - 68) * (0.3 + 0.4 * (i % 10) / 10), clientY: r.top + r.height / 2}));
                 window.__tl_wheel_end = performance.now();
                 if (++i < 60) requestAnimationFrame(step); else done(60000 / (performance.now() - t0));
             };
             requestAnimationFrame(step);",
            vec![json!(LOSS_PANEL)],
        )
        .await?;
    Ok(fps.as_f64().unwrap_or(0.0))
}

/// Selects all `runs` runs, scrolls the `loss` panel into view and waits until it drew them
/// all; answers its plot's width (CSS px).
pub async fn show_loss_panel(c: &Client, runs: u64, timeout: Duration) -> anyhow::Result<f64> {
    select_all(c, runs).await?;
    c.wait()
        .at_most(timeout)
        .for_element(fantoccini::Locator::Css(LOSS_PANEL))
        .await?;
    js(
        c,
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'}); return true;",
        vec![json!(LOSS_PANEL)],
    )
    .await?;
    wait_js(
        c,
        "all runs drawn",
        &format!(
            "const e = document.querySelector('{LOSS_PANEL}'); return e && e.dataset.runs === '{runs}';"
        ),
        timeout,
    )
    .await?;
    let plot_w = js(
        c,
        "return document.querySelector(arguments[0]).getBoundingClientRect().width - 68;",
        vec![json!(LOSS_PANEL)],
    )
    .await?;
    Ok(plot_w.as_f64().unwrap_or(0.0).round())
}

/// What one reset of the `loss` panel (a double-click: the whole window refetched) took, in
/// ms: the data request, request start → painted, and the frame.
pub struct Repaint {
    pub request: f64,
    pub painted: f64,
    pub frame: f64,
}

/// Resets the `loss` panel `times` times, `pause` apart, each waited for up to `timeout`.
pub async fn repaints(
    c: &Client,
    times: usize,
    pause: Duration,
    timeout: Duration,
) -> anyhow::Result<Vec<Repaint>> {
    let mut out = Vec::new();
    for _ in 0..times {
        let since = page_now(c).await?;
        js(
            c,
            "const cv = document.querySelector(arguments[0]); const r = cv.getBoundingClientRect();
             cv.dispatchEvent(new MouseEvent('dblclick', {bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2}));
             return true;",
            vec![json!(LOSS_PANEL)],
        )
        .await?;
        let got = wait_js(
            c,
            "refetch and paint",
            &format!(
                "const rq = performance.getEntriesByName('tl:panel:data-request', 'measure').filter(e => e.startTime >= {since} && e.detail === 'loss');
                 if (!rq.length) return null;
                 const q = rq[rq.length - 1];
                 const f = performance.getEntriesByName('tl:panel:frame', 'measure').filter(e => e.startTime >= q.startTime + q.duration && e.detail === 'loss');
                 if (!f.length) return null;
                 return [q.startTime, q.duration, f[0].startTime + f[0].duration - q.startTime, f[0].duration];"
            ),
            timeout,
        )
        .await?;
        let a = floats(&got);
        out.push(Repaint {
            request: a[1],
            painted: a[2],
            frame: a[3],
        });
        tokio::time::sleep(pause).await;
    }
    Ok(out)
}

/// "✓ meets the goal" or "✗ MISSES the goal".
pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "✓ meets the goal"
    } else {
        "✗ MISSES the goal"
    }
}

/// Starts `trackline serve` of the binary `daemon` on `dir`, on a free port (read from its
/// first line of output).
pub fn start_daemon(daemon: &str, dir: &Path) -> anyhow::Result<(Proc, u16)> {
    let mut child = Command::new(daemon)
        .args(["serve", "--port", "0", "--dir"])
        .arg(dir)
        // `TRACKLINE_BENCH_LOG=trackline=debug` to see what the daemon did meanwhile.
        .env(
            "TRACKLINE_LOG",
            std::env::var("TRACKLINE_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("spawn the daemon")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .with_context(|| format!("no port in {line:?}"))?;
    Ok((Proc(child), port))
}
