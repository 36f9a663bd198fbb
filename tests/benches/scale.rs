//! Charts and daemon at team scale (issue 8), in headless Chromium against a real daemon:
//!
//! 1. `big`: one ~1200-px `loss` panel of 1,000 runs × 100k steps (the series query's cap of
//!    runs): first full paint from the data request, the frames shown while the wheel turns
//!    (previews of the last exact image, and any full frames) and those drawn once it rests, the
//!    daemon's first query and its resident memory;
//! 2. `keys`: a project of 50 runs × 500 metric keys × 2,000 steps: navigation → first panel
//!    painted and → workspace interactive, how many series requests were made before scrolling,
//!    JS heap + WASM memory and the daemon's resident memory;
//! 3. `table`: the runs table of a project of 10,000 runs: filtering and sorting
//!    (`tl:table:filter`, `tl:table:sort`, docs/frontend.md) and scrolling its virtualised grid;
//! 4. `live`: 1,000 running runs, each appended 10 rows a second, all on one `loss` panel for 30 s:
//!    the page's CPU (its Chromium renderer processes) and the daemon's, as % of one core, and the
//!    WebSocket subscriptions the page opened.
//!
//! Each section writes its runs under a temp dir on /tmp (deleted at its end) and starts its own
//! daemon (a child process) and browser. Figures are printed next to their goals and never
//! asserted; the load average is printed at the start and with each section.
//!
//! Run: `TRACKLINE_REQUIRE_WEB=1 cargo bench -p trackline-tests --bench scale -- [--quick] [--busy]
//! [big] [keys] [table] [live]` (needs chromium and chromedriver, and the web app built into the
//! daemon: see docs/benchmarks.md, "Charts"; no section named runs them all). `--quick` is a small
//! smoke version (200 runs × 20k steps, 20 runs × 100 keys, 1,000 runs in the table, 100 live
//! runs for 10 s); `--busy` keeps one core busy with a spinning thread of this program the whole
//! time, as when the dashboard shares the machine that trains. The full `big` section writes
//! ~7.5 GB of history.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]

use anyhow::{Context, bail};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use trackline_tests::chart_page::{
    LOSS_PANEL, durations, floats, js, measures, page_now, repaints, select_all, show_loss_panel,
    shown_frames, start_daemon, verdict, wait_js, wheel_zoom,
};
use trackline_tests::chrome::{Proc, session, start_driver};
use trackline_tests::machine::{BusyCore, load_average, quick};
use trackline_tests::synthetic::{SyntheticRun, pct, unix_now, write_runs};

const DAEMON: &str = env!("CARGO_BIN_EXE_trackline-under-test");

const GOAL_BIG_PAINT_MS: f64 = 1000.0;
const GOAL_BIG_FRAME_P95_MS: f64 = 33.0;
const GOAL_KEYS_OPEN_MS: f64 = 1000.0;
const GOAL_TABLE_MS: f64 = 100.0;
const GOAL_TABLE_FPS: f64 = 60.0;
const GOAL_LIVE_CPU_PCT: f64 = 50.0;

const SECTIONS: [&str; 4] = ["big", "keys", "table", "live"];

fn main() -> anyhow::Result<()> {
    let quick = quick();
    let busy = std::env::args().any(|a| a == "--busy");
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for n in &named {
        if !SECTIONS.contains(&n.as_str()) {
            bail!("unknown section {n:?}: the sections are {SECTIONS:?}");
        }
    }
    let _busy = if busy { Some(BusyCore::start()?) } else { None };
    println!(
        "trackline scale benchmarks{}{} ({} CPUs; load average {})",
        if quick { " [quick]" } else { "" },
        if busy { " [one core kept busy]" } else { "" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut failed = 0;
    for s in SECTIONS {
        if !named.is_empty() && !named.iter().any(|n| n == s) {
            continue;
        }
        println!("\n== {s} (load average {})", load_average());
        let res = rt.block_on(async {
            match s {
                "big" => big(quick).await,
                "keys" => keys(quick).await,
                "table" => table(quick).await,
                _ => live(quick).await,
            }
        });
        if let Err(e) = res {
            failed += 1;
            println!("  section {s} FAILED: {e:#}");
        }
        println!("  (load average at the end of {s}: {})", load_average());
    }
    if failed > 0 {
        bail!("{failed} section(s) failed");
    }
    Ok(())
}

// ---- data, daemon, browser ----

/// A temp dir on /tmp for one section's runs (deleted when dropped).
fn data_dir() -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new()
        .prefix("trackline-scale-")
        .tempdir_in("/tmp")?)
}

/// The run id of run `i`.
fn run_id(i: u64) -> String {
    format!("r{i:05}")
}

/// Writes project `project`: `runs` runs of `steps` rows of `keys` (a noisy decay with one spike),
/// running or finished, with `config(i)`.
fn make_project(
    root: &Path,
    project: &str,
    runs: u64,
    steps: u64,
    keys: &[String],
    finished: bool,
    config: impl Fn(u64) -> Value + Sync,
) -> anyhow::Result<()> {
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    write_runs(runs, |i| {
        SyntheticRun {
            project,
            id: &run_id(i),
            name: format!("run-{i:05}"),
            steps,
            keys: &keys,
            seed: i,
            config: config(i),
            finished,
        }
        .write(root)
    })
}

fn lr_config(i: u64) -> Value {
    let lr = [0.1, 0.01, 0.001][(i % 3) as usize];
    json!({"lr": lr, "seed": i})
}

/// Bytes of the `history.jsonl` files of `project`.
fn history_bytes(root: &Path, project: &str) -> u64 {
    std::fs::read_dir(root.join(project))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| std::fs::metadata(e.path().join("history.jsonl")).ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Makes the `loss` panel span the row (its plot about 1200 px wide in a 1340-px window).
async fn wide_loss(http: &reqwest::Client, base: &str, project: &str) -> anyhow::Result<()> {
    http.put(format!("{base}/api/projects/{project}/workspace"))
        .json(&json!({"layout": {"workspace": {"panels": {"loss": {"wide": true}}}}}))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Installed in every page before its own scripts: page errors, long tasks, and the WebSocket
/// messages the page sends (subscriptions by topic kind) and receives.
const INIT_SCRIPT: &str = r#"
(() => {
  window.__tl_errors = [];
  const e = console.error.bind(console);
  console.error = (...a) => { window.__tl_errors.push(a.map(String).join(' ')); e(...a); };
  window.addEventListener('error', ev => window.__tl_errors.push(String(ev.message)));
  window.__tl_long = [];
  try {
    new PerformanceObserver(l => { for (const x of l.getEntries()) window.__tl_long.push([x.startTime, x.duration]); })
      .observe({type: 'longtask', buffered: true});
  } catch (err) {}
  const st = window.__tl_ws = {subscribes: 0, unsubscribes: 0, kinds: {}, active: {}, recv: 0, recv_bytes: 0, recv_types: {}, sockets: 0};
  const W = window.WebSocket;
  const send = W.prototype.send;
  W.prototype.send = function (d) {
    try {
      const m = JSON.parse(d);
      if (m.type === 'subscribe') {
        const k = m.topic && m.topic.kind; st.subscribes++; st.kinds[k] = (st.kinds[k] || 0) + 1; st.active[m.id] = k;
      } else if (m.type === 'unsubscribe') { st.unsubscribes++; delete st.active[m.id]; }
    } catch (err) {}
    return send.call(this, d);
  };
  window.WebSocket = class extends W {
    constructor(...a) {
      super(...a); st.sockets++;
      this.addEventListener('message', ev => { st.recv++; st.recv_bytes += typeof ev.data === 'string' ? ev.data.length : (ev.data.byteLength || ev.data.size || 0);
        const t = typeof ev.data === 'string' ? ((ev.data.match(/"type":"([a-z_]+)"/) || [])[1] || 'other') : 'binary'; st.recv_types[t] = (st.recv_types[t] || 0) + 1; });
    }
  };
})();
"#;

/// A headless Chromium (`width` × 1000 window) through its own chromedriver, with
/// [`INIT_SCRIPT`] added to every page through the DevTools protocol (chromedriver's
/// `goog/cdp/execute`).
struct Browser {
    c: Client,
    driver: Proc,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn open(width: u32) -> anyhow::Result<Browser> {
        let (driver, dport) = start_driver()?;
        let profile = tempfile::tempdir()?;
        let window = format!("--window-size={width},1000");
        let c = session(
            dport,
            profile.path(),
            &["--enable-precise-memory-info", &window],
            None,
        )
        .await?;
        let sid = c.session_id().await?.context("no session id")?;
        reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{dport}/session/{sid}/goog/cdp/execute"
            ))
            .json(&json!({"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source": INIT_SCRIPT}}))
            .send()
            .await?
            .error_for_status()
            .context("Page.addScriptToEvaluateOnNewDocument")?;
        Ok(Browser {
            c,
            driver,
            _profile: profile,
        })
    }

    async fn close(self) {
        let _ = self.c.clone().close().await;
    }

    /// The processes chromedriver started (the browser and its children), with their
    /// command lines.
    fn processes(&self) -> Vec<(u32, String)> {
        descendants(self.driver.0.id())
    }
}

/// JS heap + WASM memory of the page, MB.
async fn page_memory(c: &Client) -> anyhow::Result<(f64, f64)> {
    let m = floats(
        &js(
            c,
            "const m = performance.memory ? performance.memory.usedJSHeapSize : NaN;
             const w = window.__trackline_wasm_memory ? window.__trackline_wasm_memory.buffer.byteLength : NaN;
             return [m, w];",
            vec![],
        )
        .await?,
    );
    Ok((m[0] / 1e6, m[1] / 1e6))
}

// ---- processes ----

/// (resident, peak resident) memory of process `pid`, MB.
fn rss_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time (user + system) of process `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state (field 3) … utime (14), stime (15).
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(11) + get(12)
}

fn clock_ticks_per_sec() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Every live descendant of `root`, with its command line.
fn descendants(root: u32) -> Vec<(u32, String)> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.filter_map(Result::ok) {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        for &c in children.get(&p).into_iter().flatten() {
            let cmd = std::fs::read(format!("/proc/{c}/cmdline"))
                .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                .unwrap_or_default();
            out.push((c, cmd));
            todo.push(c);
        }
    }
    out
}

// ---- 1. big ----

async fn big(quick: bool) -> anyhow::Result<()> {
    let (runs, steps) = if quick {
        (200, 20_000)
    } else {
        (1000, 100_000)
    };
    let tmp = data_dir()?;
    let root = tmp.path().join("data");
    let t = Instant::now();
    make_project(
        &root,
        "big",
        runs,
        steps,
        &["loss".into()],
        false,
        lr_config,
    )?;
    println!(
        "  wrote {runs} runs × {steps} steps of loss ({:.2} GB of history) in {:.1} s",
        history_bytes(&root, "big") as f64 / 1e9,
        t.elapsed().as_secs_f64()
    );
    let (daemon, port) = start_daemon(DAEMON, &root)?;
    let pid = daemon.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    wide_loss(&http, &base, "big").await?;
    let ids: Vec<String> = (0..runs).map(run_id).collect();
    let query = |width: u32| {
        http.get(format!(
            "{base}/api/projects/big/series?runs={}&key=loss&width={width}",
            ids.join(",")
        ))
        .header("Accept", "application/vnd.trackline.series")
        .send()
    };
    let (rss0, _) = rss_mb(pid);
    let t = Instant::now();
    let answer = query(1200).await?.error_for_status()?.bytes().await?;
    let first_ms = t.elapsed().as_secs_f64() * 1000.0;
    let (rss1, hwm1) = rss_mb(pid);
    let t = Instant::now();
    query(1201).await?.bytes().await?;
    let warm_ms = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "  daemon: first series query of {runs} runs (binary, loads the histories) {first_ms:.0} ms, warm {warm_ms:.0} ms ({:.1} MB answer); RSS {rss0:.0} MB at start → {rss1:.0} MB after (peak {hwm1:.0} MB) (load {})",
        answer.len() as f64 / 1e6,
        load_average()
    );

    let b = Browser::open(1340).await?;
    let res = big_page(&b.c, &base, runs).await;
    let mem = page_memory(&b.c).await;
    b.close().await;
    res?;
    if let Ok((heap, wasm)) = mem {
        println!("  page memory: JS heap {heap:.1} MB + WASM {wasm:.1} MB");
    }
    let (rss, hwm) = rss_mb(pid);
    println!("  daemon RSS with the page's queries: {rss:.0} MB (peak {hwm:.0} MB)");
    drop(daemon);
    let t = Instant::now();
    drop(tmp);
    println!("  deleted the data in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}

async fn big_page(c: &Client, base: &str, runs: u64) -> anyhow::Result<()> {
    c.goto(&format!("{base}/projects/big")).await?;
    let t = Instant::now();
    let plot_w = show_loss_panel(c, runs, Duration::from_secs(600)).await?;
    println!(
        "  page: all {runs} runs drawn {:.1} s after they were selected; plot {plot_w} px wide",
        t.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Each reset refetches the decimated window and draws it: request start → frame end.
    let reset = repaints(c, 5, Duration::from_millis(500), Duration::from_secs(120)).await?;
    let requests: Vec<f64> = reset.iter().map(|r| r.request).collect();
    let paints: Vec<f64> = reset.iter().map(|r| r.painted).collect();
    let frames: Vec<f64> = reset.iter().map(|r| r.frame).collect();
    let decodes = measures(c, "tl:series:decode", 0.0).await?;
    println!(
        "  first full paint, {runs} runs: data request (fetch + decode) p50 {:.0} ms, of which decoding p50 {:.0} ms · one frame {:.1} ms · request start → painted p50 {:.0} ms, max {:.0} ms (goal ≤ {GOAL_BIG_PAINT_MS} ms: {}) (load {})",
        pct(&requests, 0.5),
        pct(&decodes, 0.5),
        pct(&frames, 0.5),
        pct(&paints, 0.5),
        pct(&paints, 1.0),
        verdict(pct(&paints, 0.5) <= GOAL_BIG_PAINT_MS),
        load_average()
    );

    let since = page_now(c).await?;
    let fps = wheel_zoom(c).await?;
    // The exact frame when the wheel rests, then the refetched window's frame.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let wheel_end = js(c, "return window.__tl_wheel_end;", vec![])
        .await?
        .as_f64()
        .unwrap_or(f64::NAN);
    let shown = shown_frames(c, since).await?;
    // Frames shown while the wheel turned: every one that started before the last event's frame
    // was over (16.7 ms after it).
    let (during, previews) = durations(
        &shown
            .iter()
            .copied()
            .filter(|f| f.start <= wheel_end + 16.7)
            .collect::<Vec<_>>(),
    );
    println!(
        "  wheel zoom (60 Ctrl + wheel events): {} frames shown while the wheel turned ({previews} previews of the last exact image, {} full frames), p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (goal p95 ≤ {GOAL_BIG_FRAME_P95_MS} ms: {}); {fps:.0} wheel events/s delivered (load {})",
        during.len(),
        during.len() - previews,
        pct(&during, 0.5),
        pct(&during, 0.95),
        pct(&during, 1.0),
        verdict(pct(&during, 0.95) <= GOAL_BIG_FRAME_P95_MS),
        load_average()
    );
    let after: Vec<String> = shown
        .iter()
        .filter(|f| f.start > wheel_end + 16.7)
        .map(|f| {
            format!(
                "{} of {:.0} ms ending {:.0} ms after the last event",
                if f.preview { "preview" } else { "full frame" },
                f.ms,
                f.start + f.ms - wheel_end
            )
        })
        .collect();
    println!(
        "  after the wheel rests (exact frame of the held columns, then the refetched window): {}",
        if after.is_empty() {
            "none".to_string()
        } else {
            after.join("; ")
        }
    );
    Ok(())
}

// ---- 2. keys ----

async fn keys(quick: bool) -> anyhow::Result<()> {
    let (runs, nkeys, steps) = if quick {
        (20, 100, 500)
    } else {
        (50, 500, 2000)
    };
    let tmp = data_dir()?;
    let root = tmp.path().join("data");
    let keys: Vec<String> = (0..nkeys).map(|k| format!("m/k{k:03}")).collect();
    let t = Instant::now();
    make_project(&root, "keys", runs, steps, &keys, false, lr_config)?;
    println!(
        "  wrote {runs} runs × {nkeys} keys × {steps} steps ({:.2} GB of history) in {:.1} s",
        history_bytes(&root, "keys") as f64 / 1e9,
        t.elapsed().as_secs_f64()
    );
    let (daemon, port) = start_daemon(DAEMON, &root)?;
    let pid = daemon.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let b = Browser::open(1340).await?;
    let res = keys_page(&b.c, &base, runs, nkeys, pid).await;
    b.close().await;
    res?;
    drop(daemon);
    drop(tmp);
    Ok(())
}

/// Navigation → first panel painted and → interactive (the last panel paint or long task before
/// 1.5 s without either), the series requests made meanwhile.
async fn open_workspace(c: &Client, url: &str, what: &str) -> anyhow::Result<()> {
    c.goto(url).await?;
    let first = wait_js(
        c,
        "a panel painted",
        "const p = performance.getEntriesByName('tl:panel:first-paint', 'measure');
         return p.length ? Math.min(...p.map(e => e.startTime + e.duration)) : null;",
        Duration::from_secs(300),
    )
    .await?
    .as_f64()
    .unwrap_or(f64::NAN);
    // Quiet: no new panel paint, long task or request for 1.5 s.
    let state = "const p = performance.getEntriesByName('tl:panel:first-paint', 'measure');
         const l = window.__tl_long || [];
         const r = performance.getEntriesByType('resource');
         const last = Math.max(0, ...p.map(e => e.startTime + e.duration), ...l.map(x => x[0] + x[1]), ...r.map(e => e.responseEnd));
         return [performance.now(), last, p.length, l.length, Math.max(0, ...p.map(e => e.startTime + e.duration)), Math.max(0, ...l.map(x => x[0] + x[1]))];";
    let deadline = Instant::now() + Duration::from_secs(120);
    let s = loop {
        let s = floats(&js(c, state, vec![]).await?);
        if s[0] - s[1] >= 1500.0 || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let interactive = s[4].max(s[5]);
    let counts = floats(
        &js(
            c,
            "const r = performance.getEntriesByType('resource');
             const l = window.__tl_long || [];
             return [r.filter(e => e.name.includes('/series?')).length, r.filter(e => e.name.split('?')[0].endsWith('/keys')).length,
                     document.querySelectorAll('[data-testid=panel]').length,
                     document.querySelectorAll('[data-testid=panel] canvas[data-testid=chart]').length,
                     l.length, l.reduce((a, x) => a + x[1], 0), Math.max(0, ...l.map(x => x[1]))];",
            vec![],
        )
        .await?,
    );
    println!(
        "  {what}: first panel painted {first:.0} ms after navigation; interactive (last panel paint or long task before 1.5 s quiet) {interactive:.0} ms (goal ≤ {GOAL_KEYS_OPEN_MS} ms: {}) (load {})",
        verdict(interactive <= GOAL_KEYS_OPEN_MS),
        load_average()
    );
    println!(
        "    {} panels in the page, {} panels painted, {} charts; before scrolling: {} /series requests, {} /keys requests; {} long tasks ({:.0} ms in all, longest {:.0} ms)",
        counts[2], s[2], counts[3], counts[0], counts[1], counts[4], counts[5], counts[6]
    );
    // Where the time went: the app's own files and its API requests (start → first byte → end),
    // in ms after navigation.
    let timeline = js(
        c,
        "return performance.getEntriesByType('resource')
             .filter(e => { const p = e.name.split('?')[0]; return p.includes('/api/') || /[.](wasm|js)$/.test(p); })
             .map(e => `${e.name.split('?')[0].split('/').slice(-2).join('/')} ${e.startTime.toFixed(0)}→${e.responseStart.toFixed(0)}→${e.responseEnd.toFixed(0)}`)
             .join(', ');",
        vec![],
    )
    .await?;
    println!(
        "    requests (start → first byte → end, ms): {}",
        timeline.as_str().unwrap_or("")
    );
    let marks = js(
        c,
        "const m = performance.getEntriesByName('tl:workspace:keys', 'measure');
         const d = performance.getEntriesByName('tl:panel:data-request', 'measure');
         const l = window.__tl_long || [];
         return `runs' keys applied at ${m.map(e => e.startTime.toFixed(0) + (e.duration >= 1 ? '+' + e.duration.toFixed(0) : '') + ' (' + String(e.detail || '').split(',').length + ' runs)').join(', ')}; first data request ${d.length ? Math.min(...d.map(e => e.startTime)).toFixed(0) : '-'} ms; long tasks at ${l.map(x => x[0].toFixed(0) + '+' + x[1].toFixed(0)).join(', ')}`;",
        vec![],
    )
    .await?;
    println!("    {}", marks.as_str().unwrap_or(""));
    Ok(())
}

async fn keys_page(
    c: &Client,
    base: &str,
    runs: u64,
    nkeys: usize,
    pid: u32,
) -> anyhow::Result<()> {
    let url = format!("{base}/projects/keys");
    open_workspace(
        c,
        &url,
        "first visit (daemon cold, the 10 newest runs selected)",
    )
    .await?;
    select_all(c, runs).await?;
    wait_js(
        c,
        "all panels",
        &format!("return document.querySelectorAll('[data-testid=panel]').length >= {nkeys};"),
        Duration::from_secs(120),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The choice is remembered by this browser: the next visit opens with all runs selected.
    open_workspace(
        c,
        &url,
        &format!("second visit (daemon warm, all {runs} runs selected, remembered)"),
    )
    .await?;
    let (heap, wasm) = page_memory(c).await?;
    let (rss, hwm) = rss_mb(pid);
    println!(
        "    memory: JS heap {heap:.1} MB + WASM {wasm:.1} MB = {:.1} MB; daemon RSS {rss:.0} MB (peak {hwm:.0} MB)",
        heap + wasm
    );
    // Scroll through every panel: each fetches as it comes near the viewport. At most 25 s, well
    // inside the driver's 30 s script timeout (a slow machine scrolled to it and failed).
    let r = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const gaps = []; let last = performance.now(); const t0 = last;
             const step = () => {
                 const now = performance.now(); gaps.push(now - last); last = now;
                 window.scrollBy(0, 120);
                 const max = document.documentElement.scrollHeight - innerHeight;
                 if (scrollY < max - 1 && now - t0 < 25000) requestAnimationFrame(step);
                 else done([gaps.length, now - t0, gaps]);
             };
             requestAnimationFrame(step);",
            vec![],
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let n = r[0].as_f64().unwrap_or(0.0);
    let ms = r[1].as_f64().unwrap_or(1.0);
    let gaps = floats(&r[2]);
    let series = js(
        c,
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('/series?')).length;",
        vec![],
    )
    .await?;
    let (heap, wasm) = page_memory(c).await?;
    let (rss, hwm) = rss_mb(pid);
    println!(
        "  scrolled to the bottom at 120 px a frame: {:.0} fps over {:.1} s (interval p95 {:.1} ms); /series requests by then {series}; memory JS {heap:.1} + WASM {wasm:.1} MB; daemon RSS {rss:.0} MB (peak {hwm:.0} MB) (load {})",
        n * 1000.0 / ms,
        ms / 1000.0,
        pct(&gaps, 0.95),
        load_average()
    );
    Ok(())
}

// ---- 3. table ----

async fn table(quick: bool) -> anyhow::Result<()> {
    let runs = if quick { 1000 } else { 10_000 };
    let tmp = data_dir()?;
    let root = tmp.path().join("data");
    let t = Instant::now();
    make_project(
        &root,
        "tbl",
        runs,
        10,
        &["loss".into(), "acc".into()],
        true,
        |i| {
            let lr = [0.1, 0.03, 0.01, 0.003, 0.001][(i % 5) as usize];
            let batch = [32, 64, 128, 256][((i / 5) % 4) as usize];
            let optimizer = ["adam", "sgd", "adamw"][(i % 3) as usize];
            json!({"lr": lr, "batch": batch, "seed": i, "optimizer": optimizer})
        },
    )?;
    println!(
        "  wrote {runs} finished runs × 10 steps in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let (daemon, port) = start_daemon(DAEMON, &root)?;
    println!(
        "  daemon listening after {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let base = format!("http://127.0.0.1:{port}");
    let b = Browser::open(1340).await?;
    let res = table_page(&b.c, &base, runs).await;
    b.close().await;
    drop(daemon);
    drop(tmp);
    res
}

/// Runs `action` (JS, with `el` the element `selector`) and answers the ms from before it to
/// the next animation frame's tasks.
async fn act(c: &Client, selector: &str, action: &str) -> anyhow::Result<f64> {
    let v = c
        .execute_async(
            &format!(
                "const done = arguments[arguments.length - 1];
                 const el = document.querySelector(arguments[0]);
                 const t0 = performance.now();
                 {action}
                 requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0), 0));"
            ),
            vec![json!(selector)],
        )
        .await?;
    Ok(v.as_f64().unwrap_or(f64::NAN))
}

async fn table_page(c: &Client, base: &str, runs: u64) -> anyhow::Result<()> {
    c.goto(&format!("{base}/projects/tbl")).await?;
    let up = wait_js(
        c,
        "all runs in the table",
        &format!(
            "const n = document.querySelector('[data-testid=runs-count]');
             return n && n.textContent === '{runs} runs' && document.querySelector('[data-testid=run-row]') ? performance.now() : null;"
        ),
        Duration::from_secs(120),
    )
    .await?;
    println!(
        "  table up with {runs} rows {:.0} ms after navigation",
        up.as_f64().unwrap_or(f64::NAN)
    );
    tokio::time::sleep(Duration::from_secs(3)).await;

    let input = "[data-testid=filter-input]";
    let filters = [
        "config.lr < 0.01",
        "",
        "config.batch >= 128 and summary.loss < 1",
        "",
        "name =~ \"run-0.*5$\"",
        "",
    ];
    let mut filter_ms = Vec::new();
    let mut filter_frame = Vec::new();
    for round in 0..2 {
        for f in filters {
            let since = page_now(c).await?;
            let frame = act(
                c,
                input,
                &format!(
                    "el.value = {}; el.dispatchEvent(new Event('input', {{bubbles: true}}));",
                    json!(f)
                ),
            )
            .await?;
            let m = wait_js(
                c,
                "tl:table:filter",
                &format!(
                    "const m = performance.getEntriesByName('tl:table:filter', 'measure').filter(e => e.startTime >= {since});
                     return m.length ? [m[0].duration, m[0].detail] : null;"
                ),
                Duration::from_secs(30),
            )
            .await?;
            if round == 1 {
                filter_ms.push(m[0].as_f64().unwrap_or(f64::NAN));
                filter_frame.push(frame);
                if !f.is_empty() {
                    println!(
                        "    filter {f:?}: {:.1} ms, {}",
                        m[0].as_f64().unwrap_or(f64::NAN),
                        m[1]
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    println!(
        "  filter all {runs} runs (`tl:table:filter`, input → rows recomputed, rendered and laid out): p50 {:.1} ms, max {:.1} ms (goal ≤ {GOAL_TABLE_MS} ms: {}); to the next frame p50 {:.0} ms (load {})",
        pct(&filter_ms, 0.5),
        pct(&filter_ms, 1.0),
        verdict(pct(&filter_ms, 0.5) <= GOAL_TABLE_MS),
        pct(&filter_frame, 0.5),
        load_average()
    );

    let cols = js(
        c,
        "return [...document.querySelectorAll('[data-testid=col-header]')].map(e => e.dataset.col);",
        vec![],
    )
    .await?;
    let cols: Vec<String> = cols
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let wanted: Vec<&str> = ["config.lr", "summary.loss", "config.batch", "name"]
        .into_iter()
        .filter(|c| cols.iter().any(|x| x == c))
        .collect();
    println!("  columns shown: {}", cols.join(", "));
    let mut sort_ms = Vec::new();
    let mut sort_frame = Vec::new();
    for round in 0..3 {
        for col in &wanted {
            let since = page_now(c).await?;
            let frame = act(
                c,
                &format!("[data-testid=col-header][data-col=\"{col}\"]"),
                "el.click();",
            )
            .await?;
            let m = wait_js(
                c,
                "tl:table:sort",
                &format!(
                    "const m = performance.getEntriesByName('tl:table:sort', 'measure').filter(e => e.startTime >= {since});
                     return m.length ? [m[0].duration, m[0].detail] : null;"
                ),
                Duration::from_secs(30),
            )
            .await?;
            if round > 0 {
                sort_ms.push(m[0].as_f64().unwrap_or(f64::NAN));
                sort_frame.push(frame);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    println!(
        "  sort all {runs} runs by a column (`tl:table:sort`, click → rows re-sorted, rendered and laid out; {} clicks on {}): p50 {:.1} ms, max {:.1} ms (goal ≤ {GOAL_TABLE_MS} ms: {}); to the next frame p50 {:.0} ms (load {})",
        sort_ms.len(),
        wanted.join(", "),
        pct(&sort_ms, 0.5),
        pct(&sort_ms, 1.0),
        verdict(pct(&sort_ms, 0.5) <= GOAL_TABLE_MS),
        pct(&sort_frame, 0.5),
        load_average()
    );

    // Scroll the grid 60 px (two rows) every animation frame for 3 s.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const el = document.querySelector('[data-testid=runs-scroll]');
             el.scrollTop = 0;
             const gaps = []; let last = performance.now(); const t0 = last;
             const step = () => {
                 const now = performance.now(); gaps.push(now - last); last = now;
                 el.scrollTop += 60;
                 if (now - t0 < 3000 && el.scrollTop < el.scrollHeight - el.clientHeight - 1) requestAnimationFrame(step);
                 else done([gaps.length, now - t0, gaps, el.scrollTop]);
             };
             requestAnimationFrame(step);",
            vec![],
        )
        .await?;
    let n = r[0].as_f64().unwrap_or(0.0);
    let ms = r[1].as_f64().unwrap_or(1.0);
    let gaps = floats(&r[2]);
    let fps = n * 1000.0 / ms;
    println!(
        "  scrolling the grid 60 px a frame: {fps:.0} fps over {:.1} s, {:.0} px (frame interval p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms) (goal {GOAL_TABLE_FPS} fps: {}) (load {})",
        ms / 1000.0,
        r[3].as_f64().unwrap_or(0.0),
        pct(&gaps, 0.5),
        pct(&gaps, 0.95),
        pct(&gaps, 1.0),
        verdict(fps >= GOAL_TABLE_FPS - 1.0),
        load_average()
    );
    Ok(())
}

// ---- 4. live ----

/// Appends one `loss` row to each run's history every `period` until stopped (timestamps now,
/// steps on from `first_step`); counts the rows written.
fn start_writer(
    paths: Vec<PathBuf>,
    first_step: u64,
    period: Duration,
    stop: Arc<AtomicBool>,
    rows: Arc<AtomicU64>,
) -> anyhow::Result<std::thread::JoinHandle<anyhow::Result<()>>> {
    let mut files = paths
        .iter()
        .map(|p| std::fs::OpenOptions::new().append(true).open(p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(std::thread::Builder::new()
        .name("live-writer".into())
        .spawn(move || {
            let start = Instant::now();
            let mut round = 0u64;
            let mut line = String::new();
            while !stop.load(Ordering::Relaxed) {
                let step = first_step + round;
                for (i, f) in files.iter_mut().enumerate() {
                    line.clear();
                    use std::fmt::Write as _;
                    let _ = writeln!(
                        line,
                        "{{\"_step\":{step},\"_timestamp\":{:.3},\"_runtime\":{:.3},\"loss\":{:.5}}}",
                        unix_now(),
                        step as f64 * 0.1,
                        0.3 + (i % 97) as f64 * 0.001 + (round % 13) as f64 * 0.002
                    );
                    f.write_all(line.as_bytes())?;
                    rows.fetch_add(1, Ordering::Relaxed);
                }
                round += 1;
                let next = start + period * round as u32;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            Ok(())
        })?)
}

async fn live(quick: bool) -> anyhow::Result<()> {
    let (runs, window_s) = if quick { (100, 10) } else { (1000, 30) };
    let steps = 1000;
    let tmp = data_dir()?;
    let root = tmp.path().join("data");
    make_project(
        &root,
        "live",
        runs,
        steps,
        &["loss".into()],
        false,
        lr_config,
    )?;
    let (daemon, port) = start_daemon(DAEMON, &root)?;
    let pid = daemon.0.id();
    let base = format!("http://127.0.0.1:{port}");
    wide_loss(&reqwest::Client::new(), &base, "live").await?;
    let paths: Vec<PathBuf> = (0..runs)
        .map(|i| root.join("live").join(run_id(i)).join("history.jsonl"))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let rows = Arc::new(AtomicU64::new(0));
    let writer = start_writer(
        paths,
        steps,
        Duration::from_millis(100),
        stop.clone(),
        rows.clone(),
    )?;
    println!("  {runs} running runs of {steps} steps, each appended 10 rows a second from now on");
    let b = Browser::open(1340).await?;
    let res = live_page(&b, &base, runs, pid, window_s, &rows).await;
    stop.store(true, Ordering::Relaxed);
    let w = writer.join();
    b.close().await;
    drop(daemon);
    drop(tmp);
    res?;
    w.map_err(|_| anyhow::anyhow!("the writer panicked"))??;
    Ok(())
}

async fn live_page(
    b: &Browser,
    base: &str,
    runs: u64,
    pid: u32,
    window_s: u64,
    rows: &AtomicU64,
) -> anyhow::Result<()> {
    let c = &b.c;
    c.goto(&format!("{base}/projects/live")).await?;
    select_all(c, runs).await?;
    c.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css(LOSS_PANEL))
        .await?;
    js(
        c,
        &format!(
            "document.querySelector('{LOSS_PANEL}').scrollIntoView({{block: 'center'}}); return true;"
        ),
        vec![],
    )
    .await?;
    wait_js(
        c,
        "all runs drawn",
        &format!(
            "const e = document.querySelector('{LOSS_PANEL}'); return e && e.dataset.runs === '{runs}';"
        ),
        Duration::from_secs(300),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let tick = clock_ticks_per_sec();
    let procs = b.processes();
    let renderers: Vec<u32> = procs
        .iter()
        .filter(|(_, cmd)| cmd.contains("--type=renderer"))
        .map(|(p, _)| *p)
        .collect();
    let all: Vec<u32> = procs.iter().map(|(p, _)| *p).collect();
    let sum = |pids: &[u32]| pids.iter().map(|&p| cpu_ticks(p)).sum::<u64>();
    let page_state = format!(
        "return [performance.now(), +document.querySelector('{LOSS_PANEL}').dataset.points, +document.querySelector('{LOSS_PANEL}').dataset.frames];"
    );
    let s0 = floats(&js(c, &page_state, vec![]).await?);
    let (d0, r0, a0, rows0) = (
        cpu_ticks(pid),
        sum(&renderers),
        sum(&all),
        rows.load(Ordering::Relaxed),
    );
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(window_s)).await;
    let (d1, r1, a1, rows1) = (
        cpu_ticks(pid),
        sum(&renderers),
        sum(&all),
        rows.load(Ordering::Relaxed),
    );
    let secs = t0.elapsed().as_secs_f64();
    let s1 = floats(&js(c, &page_state, vec![]).await?);
    let pct_of = |d: u64| d as f64 / tick / secs * 100.0;
    let (daemon_pct, page_pct, browser_pct) = (pct_of(d1 - d0), pct_of(r1 - r0), pct_of(a1 - a0));
    let appends = measures(c, "tl:panel:live-append", s0[0]).await?;
    let long = floats(
        &js(
            c,
            "const l = (window.__tl_long || []).filter(x => x[0] >= arguments[0]); return [l.length, l.reduce((a, x) => a + x[1], 0)];",
            vec![json!(s0[0])],
        )
        .await?,
    );
    println!(
        "  over {secs:.1} s with {runs} runs on one panel, {:.0} rows/s appended in all:",
        (rows1 - rows0) as f64 / secs
    );
    println!(
        "    page CPU (Chromium renderer processes' utime + stime from /proc, {} renderer(s)): {page_pct:.0} % of one core (goal ≤ {GOAL_LIVE_CPU_PCT} %: {}); all {} browser processes {browser_pct:.0} %",
        renderers.len(),
        verdict(page_pct <= GOAL_LIVE_CPU_PCT),
        all.len()
    );
    println!(
        "    daemon CPU (/proc/{pid}/stat): {daemon_pct:.0} % of one core (goal ≤ {GOAL_LIVE_CPU_PCT} %: {}); RSS {:.0} MB (load {})",
        verdict(daemon_pct <= GOAL_LIVE_CPU_PCT),
        rss_mb(pid).0,
        load_average()
    );
    println!(
        "    page: {:.0} points taken in ({:.0}/s), {} full frames, {} live-append draws ({:.0} ms in all, {:.1} % of the window); long tasks {} ({:.0} ms, {:.1} % of the window)",
        s1[1] - s0[1],
        (s1[1] - s0[1]) / secs,
        s1[2] - s0[2],
        appends.len(),
        appends.iter().sum::<f64>(),
        appends.iter().sum::<f64>() / secs / 10.0,
        long[0],
        long[1],
        long[1] / secs / 10.0
    );
    let ws = js(c, "return window.__tl_ws || null;", vec![]).await?;
    let active: HashMap<String, u64> =
        ws["active"]
            .as_object()
            .into_iter()
            .flatten()
            .fold(HashMap::new(), |mut m, (_, k)| {
                *m.entry(k.as_str().unwrap_or("?").to_string()).or_default() += 1;
                m
            });
    println!(
        "    WebSocket (send wrapped in the page): {} socket(s), {} subscribe messages by topic {}, {} unsubscribes, active at the end {active:?}; {} messages received ({:.1} MB), by type {}",
        ws["sockets"],
        ws["subscribes"],
        ws["kinds"],
        ws["unsubscribes"],
        ws["recv"],
        ws["recv_bytes"].as_f64().unwrap_or(0.0) / 1e6,
        ws["recv_types"]
    );
    Ok(())
}
