//! Reports against a real daemon process (issue 10; see docs/benchmarks.md, "Reports"): a project
//! of 100 finished runs × N steps × 4 metrics (plus 10 short runs its filter leaves out), one
//! report made through `POST /api/projects/{p}/annotations/ops` (a markdown block and a panel
//! grid over `config.lr < 1`: 4 line panels, a runs table, a comparison), then:
//!
//! - `html`: `GET …/reports/{id}/export.html`, time (p50/p95) and size (goals ≤ 1.0 s, ≤ 8 MB),
//!   beside the daemon's series queries of the same 4 charts (the decimation part of it);
//! - `zip`: `GET …/reports/{id}/export.zip` (Markdown + SVG charts), time and size (≤ 1.0 s);
//! - `cli`: `trackline report new --from-runs …` against the running daemon, wall time (≤ 1 s);
//! - `ops`: a `block_set` op POSTed until a second client's `annotations` topic event, p50/p99
//!   (≤ 50 ms);
//! - `browser`: the exported HTML opened from disk in headless Chromium (every request sent to a
//!   dead proxy) until every chart has `data-drawn` (≤ 1.0 s).
//!
//! Each section runs idle and then with one core kept busy by a spinning thread of this program;
//! every figure is printed with the load average when it was taken, and a table at the end.
//! Nothing about timings is asserted. Run with `TRACKLINE_SKIP_WEB=1 cargo bench -p
//! trackline-tests --bench reports`; `-- --quick` (or `TRACKLINE_BENCH_QUICK=1`) for 100 runs ×
//! 5,000 steps and fewer repetitions; section names (`-- html browser`) pick sections;
//! `TRACKLINE_BENCH_DAEMON=<path>` measures another build.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]

use anyhow::{Context, bail};
use fantoccini::Client;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use trackline_shared::annotations::{Op, OpRequest};
use trackline_shared::chart::ChartSettings;
use trackline_shared::reports::{BlockContent, NewBlock, Panel, PanelGrid, RunSet};
use trackline_shared::{ClientMsg, Topic};
use trackline_tests::chrome::{OFFLINE_ARGS, Proc, session, start_driver};
use trackline_tests::daemon::{Daemon, Started};
use trackline_tests::machine::{BusyCore, load_average};
use trackline_tests::synthetic::{SyntheticRun, pct, write_runs};

const DAEMON: &str = env!("CARGO_BIN_EXE_trackline-under-test");

const GOAL_HTML_MS: f64 = 1000.0;
const GOAL_HTML_MB: f64 = 8.0;
const GOAL_ZIP_MS: f64 = 1000.0;
const GOAL_CLI_MS: f64 = 1000.0;
const GOAL_ROUND_TRIP_MS: f64 = 50.0;
const GOAL_OPEN_MS: f64 = 1000.0;

const PROJECT: &str = "sweep";
const REPORT: &str = "bench";
/// The metrics every run logs; the report charts all four.
const KEYS: [&str; 4] = ["loss", "acc", "grad_norm", "lr_now"];
/// Runs the report's filter selects, and short runs it leaves out (`config.lr` = 3).
const RUNS: u64 = 100;
const OTHER_RUNS: u64 = 10;
const FILTER: &str = "config.lr < 1";

fn main() -> anyhow::Result<()> {
    let quick = trackline_tests::machine::quick();
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let sizes = if quick {
        Sizes {
            steps: 5_000,
            repeats: 3,
            ops: 50,
        }
    } else {
        Sizes {
            steps: 100_000,
            repeats: 7,
            ops: 200,
        }
    };
    println!(
        "trackline reports benchmark{} ({} CPUs available; load average {}; daemon: {})",
        if quick { " [quick]" } else { "" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        Daemon::binary(DAEMON).display()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let mut table = Vec::new();
    rt.block_on(bench(&sizes, &wanted, &mut table))?;
    print_table(&table);
    Ok(())
}

struct Sizes {
    steps: u64,
    /// Timed repetitions of the exports, the CLI and the browser's open.
    repeats: usize,
    /// Ops of the round-trip section.
    ops: usize,
}

/// One printed figure: idle and busy, each with its load average.
struct Row {
    measure: String,
    goal: String,
    idle: Option<(String, String, bool)>,
    busy: Option<(String, String, bool)>,
}

fn record(table: &mut Vec<Row>, busy: bool, measure: &str, goal: &str, figure: String, met: bool) {
    let load = load_average();
    println!(
        "  {measure}: {figure} (goal {goal}: {}); load average {load}",
        if met { "met" } else { "NOT met" }
    );
    let entry = Some((figure, load, met));
    match table.iter_mut().find(|r| r.measure == measure) {
        Some(row) if busy => row.busy = entry,
        Some(row) => row.idle = entry,
        None => table.push(Row {
            measure: measure.to_string(),
            goal: goal.to_string(),
            idle: if busy { None } else { entry.clone() },
            busy: if busy { entry } else { None },
        }),
    }
}

fn print_table(table: &[Row]) {
    println!("\n| measure | idle | one core busy | goal |\n|---|---|---|---|");
    let cell = |c: &Option<(String, String, bool)>| match c {
        Some((figure, load, met)) => format!(
            "{figure}{} (load {load})",
            if *met { "" } else { " — NOT met" }
        ),
        None => "–".to_string(),
    };
    for r in table {
        println!(
            "| {} | {} | {} | {} |",
            r.measure,
            cell(&r.idle),
            cell(&r.busy),
            r.goal
        );
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Writes a finished run of `steps` rows of [`KEYS`] as benches/charts.rs does (a noisy decay
/// with one spike, values to 5 decimals), with its config and summary.
fn write_run(root: &Path, index: u64, steps: u64, lr: f64) -> anyhow::Result<()> {
    let optimizer = ["adam", "sgd"][(index % 2) as usize];
    SyntheticRun {
        project: PROJECT,
        id: &format!("r{index:03}"),
        name: format!("run-{index:03}"),
        steps,
        keys: &KEYS,
        seed: index,
        config: json!({"lr": lr, "seed": index, "batch": 32 << (index % 3), "optimizer": optimizer}),
        finished: true,
    }
    .write(root)
}

/// [`RUNS`] runs of `steps` steps (lr 0.1, 0.01, 0.001 in turn) and [`OTHER_RUNS`] runs of 100
/// steps with lr 3, on two threads (the machine has two cores).
fn make_project(root: &Path, steps: u64) -> anyhow::Result<()> {
    write_runs(RUNS + OTHER_RUNS, |i| {
        if i < RUNS {
            write_run(root, i, steps, [0.1, 0.01, 0.001][(i % 3) as usize])
        } else {
            write_run(root, i, 100, 3.0)
        }
    })
}

/// The report: a markdown block, then a grid over [`FILTER`] with a line panel per metric, the
/// runs table and the comparison.
fn report_op() -> Op {
    let mut panels: Vec<Panel> = KEYS
        .iter()
        .map(|k| Panel::Line {
            key: (*k).into(),
            settings: ChartSettings::default(),
            wide: false,
        })
        .collect();
    panels.push(Panel::RunsTable { columns: vec![] });
    panels.push(Panel::Compare { keys: vec![] });
    Op::ReportCreate {
        report: REPORT.into(),
        title: "Sweep results".into(),
        blocks: vec![
            NewBlock {
                id: "intro".into(),
                content: BlockContent::Markdown {
                    text: "# Sweep results\n\nThe learning-rate sweep: **100 runs**, their \
                           curves, config and final values.\n\n## Curves"
                        .into(),
                },
            },
            NewBlock {
                id: "grid".into(),
                content: BlockContent::PanelGrid(PanelGrid {
                    runset: RunSet {
                        filter: FILTER.into(),
                        ..Default::default()
                    },
                    panels,
                }),
            },
        ],
    }
}

async fn post_op(http: &reqwest::Client, d: &Daemon, op_id: &str, op: Op) -> anyhow::Result<Value> {
    let body = OpRequest {
        client_id: "bench".into(),
        op_id: op_id.into(),
        op,
    };
    let answer: Value = http
        .post(d.url(&format!("/api/projects/{PROJECT}/annotations/ops")))
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    if answer["outcome"] != "committed" {
        bail!("op {op_id} not committed: {answer}");
    }
    Ok(answer)
}

/// GETs `path` `n` times: the times (ms) and the last body.
async fn timed_get(
    http: &reqwest::Client,
    d: &Daemon,
    path: &str,
    n: usize,
) -> anyhow::Result<(Vec<f64>, Vec<u8>)> {
    let mut times = Vec::with_capacity(n);
    let mut body = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let resp = http.get(d.url(path)).send().await?.error_for_status()?;
        body = resp.bytes().await?.to_vec();
        times.push(ms(t));
    }
    Ok((times, body))
}

async fn bench(
    sizes: &Sizes,
    wanted: &dyn Fn(&str) -> bool,
    table: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("data");
    let t = Instant::now();
    make_project(&root, sizes.steps)?;
    println!(
        "\nwrote {RUNS} runs × {} steps × {} metrics (and {OTHER_RUNS} short runs the filter leaves out) in {:.1} s",
        sizes.steps,
        KEYS.len(),
        t.elapsed().as_secs_f64()
    );
    let log = tmp.path().join("daemon.log");
    let d = match Daemon::spawn_with(&Daemon::binary(DAEMON), &root, 0, &log, &[])? {
        Started::Serving(d) => d,
        Started::Exited { status, stderr } => {
            bail!("the daemon did not start ({status}): {stderr}")
        }
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, runs) = d
            .get(&http, &format!("/api/projects/{PROJECT}/runs"))
            .await?;
        if runs.as_array().map_or(0, Vec::len) as u64 == RUNS + OTHER_RUNS {
            break;
        }
        if Instant::now() > deadline {
            bail!("the daemon did not list the runs: {runs}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    post_op(&http, &d, "create", report_op()).await?;
    let html_path = format!("/api/projects/{PROJECT}/reports/{REPORT}/export.html");
    let zip_path = format!("/api/projects/{PROJECT}/reports/{REPORT}/export.zip");

    // The first export loads the runs' histories from disk; the figures below are warm.
    let (cold, page) = timed_get(&http, &d, &html_path, 1).await?;
    println!(
        "first export.html (loads {RUNS} histories from disk): {:.0} ms, {:.2} MB; daemon peak RSS {:.0} MiB",
        cold[0],
        page.len() as f64 / 1e6,
        d.peak_rss_kib() as f64 / 1024.0
    );
    let out = tempfile::tempdir()?;
    let file = out.path().join("report.html");
    std::fs::write(&file, &page)?;
    describe_page(&page);

    let driver = if wanted("browser") {
        match start_driver() {
            Ok(d) => Some(d),
            Err(e) => {
                println!("browser: skipped ({e:#})");
                None
            }
        }
    } else {
        None
    };

    for busy in [false, true] {
        let _busy = if busy { Some(BusyCore::start()?) } else { None };
        println!(
            "\n== {} (load average {})",
            if busy { "one core kept busy" } else { "idle" },
            load_average()
        );
        if wanted("html") {
            let (times, body) = timed_get(&http, &d, &html_path, sizes.repeats).await?;
            let mb = body.len() as f64 / 1e6;
            record(
                table,
                busy,
                "export.html, time",
                &format!("≤ {:.1} s", GOAL_HTML_MS / 1000.0),
                format!(
                    "p50 {:.0} ms, p95 {:.0} ms ({} runs)",
                    pct(&times, 0.5),
                    pct(&times, 0.95),
                    times.len()
                ),
                pct(&times, 0.95) <= GOAL_HTML_MS,
            );
            record(
                table,
                busy,
                "export.html, size",
                &format!("≤ {GOAL_HTML_MB} MB"),
                format!("{mb:.2} MB"),
                mb <= GOAL_HTML_MB,
            );
            series_part(&http, &d, sizes.repeats).await?;
        }
        if wanted("zip") {
            let (times, body) = timed_get(&http, &d, &zip_path, sizes.repeats).await?;
            record(
                table,
                busy,
                "export.zip (Markdown + SVG), time",
                &format!("≤ {:.1} s", GOAL_ZIP_MS / 1000.0),
                format!(
                    "p50 {:.0} ms, p95 {:.0} ms; {:.2} MB",
                    pct(&times, 0.5),
                    pct(&times, 0.95),
                    body.len() as f64 / 1e6
                ),
                pct(&times, 0.95) <= GOAL_ZIP_MS,
            );
        }
        if wanted("cli") {
            let times = report_new(&root, sizes.repeats)?;
            record(
                table,
                busy,
                "trackline report new --from-runs, wall",
                &format!("≤ {:.1} s", GOAL_CLI_MS / 1000.0),
                format!(
                    "p50 {:.0} ms, max {:.0} ms ({} runs)",
                    pct(&times, 0.5),
                    pct(&times, 1.0),
                    times.len()
                ),
                pct(&times, 1.0) <= GOAL_CLI_MS,
            );
        }
        if wanted("ops") {
            let (times, post) = round_trip(&http, &d, sizes.ops, busy).await?;
            let p99 = pct(&times, 0.99);
            record(
                table,
                busy,
                "block_set → second client's annotations event",
                &format!("p99 ≤ {GOAL_ROUND_TRIP_MS} ms"),
                format!(
                    "p50 {:.1} ms, p99 {p99:.1} ms, max {:.1} ms ({} ops; POST answer alone p50 {:.1} ms)",
                    pct(&times, 0.5),
                    pct(&times, 1.0),
                    times.len(),
                    pct(&post, 0.5)
                ),
                p99 <= GOAL_ROUND_TRIP_MS,
            );
        }
        if let Some(driver) = &driver {
            // The page as the route answers it now (its footer's time differs, nothing else).
            let (_, page) = timed_get(&http, &d, &html_path, 1).await?;
            std::fs::write(&file, &page)?;
            let (wall, in_page, charts) = open_in_browser(driver, &file, sizes.repeats).await?;
            record(
                table,
                busy,
                "export.html opened from disk in Chromium until every chart is drawn",
                &format!("≤ {:.1} s", GOAL_OPEN_MS / 1000.0),
                format!(
                    "p50 {:.0} ms, max {:.0} ms ({charts} charts; in the page, navigation → charts drawn p50 {:.0} ms)",
                    pct(&wall, 0.5),
                    pct(&wall, 1.0),
                    pct(&in_page, 0.5)
                ),
                pct(&wall, 1.0) <= GOAL_OPEN_MS,
            );
        }
    }
    println!(
        "\ndaemon peak RSS {:.0} MiB; load average {}",
        d.peak_rss_kib() as f64 / 1024.0,
        load_average()
    );
    Ok(())
}

/// Where the export file's bytes go: the chart data (JSON) against the rest of the page.
fn describe_page(page: &[u8]) {
    let text = String::from_utf8_lossy(page);
    let data = text
        .split_once("id=\"report-data\">")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map_or(0, |(json, _)| json.len());
    println!(
        "  the page: {:.2} MB, of which the charts' JSON {:.2} MB",
        page.len() as f64 / 1e6,
        data as f64 / 1e6
    );
}

/// The daemon's series queries of the report's 4 charts (the decimation that collecting does),
/// as the web app asks them: for comparison with the export's time.
async fn series_part(http: &reqwest::Client, d: &Daemon, n: usize) -> anyhow::Result<()> {
    let ids: Vec<String> = (0..RUNS).map(|i| format!("r{i:03}")).collect();
    let mut times = Vec::with_capacity(n);
    let mut bytes = 0;
    for _ in 0..n {
        let t = Instant::now();
        bytes = 0;
        for key in KEYS {
            let body = http
                .get(d.url(&format!(
                    "/api/projects/{PROJECT}/series?runs={}&key={key}&width=1000",
                    ids.join(",")
                )))
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            bytes += body.len();
        }
        times.push(ms(t));
    }
    println!(
        "  for comparison, the series queries of the same {} charts (1000 columns, JSON answers of {:.1} MB): p50 {:.0} ms",
        KEYS.len(),
        bytes as f64 / 1e6,
        pct(&times, 0.5)
    );
    Ok(())
}

/// `trackline report new --project sweep --from-runs FILTER` through the running daemon, `n`
/// times: the wall times (ms).
fn report_new(root: &Path, n: usize) -> anyhow::Result<Vec<f64>> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let out = Command::new(Daemon::binary(DAEMON))
            .args(["report", "new", "--project", PROJECT, "--from-runs", FILTER])
            .args(["--title", &format!("Generated {i}"), "--dir"])
            .arg(root)
            .env("TRACKLINE_LOG", "warn")
            .env_remove("TRACKLINE_DIR")
            .output()?;
        times.push(ms(t));
        if !out.status.success() {
            bail!(
                "trackline report new failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let printed = String::from_utf8_lossy(&out.stdout);
        if !printed.contains("http://127.0.0.1:") {
            bail!("trackline report new did not go through the daemon: {printed}");
        }
    }
    Ok(times)
}

/// `ops` `block_set`s of the markdown block, each timed from the POST until a second client,
/// subscribed to the project's `annotations` topic, got its event. Answers the round trips and
/// the POSTs' answers alone (ms).
async fn round_trip(
    http: &reqwest::Client,
    d: &Daemon,
    ops: usize,
    busy: bool,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/api/ws", d.port)).await?;
    match ws.next().await {
        Some(Ok(Message::Text(t))) if t.as_str().contains("\"hello\"") => {}
        other => bail!("expected a hello, got {other:?}"),
    }
    let (_, snapshot) = d
        .get(http, &format!("/api/projects/{PROJECT}/reports/{REPORT}"))
        .await?;
    let seq = snapshot["seq"].as_u64().context("no seq in the snapshot")?;
    let mut rev = snapshot["report"]["blocks"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["id"] == "intro"))
        .and_then(|b| b["rev"].as_u64())
        .context("no intro block")?;
    for (id, topic) in [
        Topic::Project {
            project: PROJECT.into(),
            since: 0,
        },
        Topic::Annotations {
            project: PROJECT.into(),
            since: seq,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let msg = ClientMsg::Subscribe {
            id: id as u64 + 1,
            topic,
        };
        ws.send(Message::Text(serde_json::to_string(&msg)?.into()))
            .await?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(5), ws.next()).await {}
    let mut times = Vec::with_capacity(ops);
    let mut post = Vec::with_capacity(ops);
    let tag = if busy { "busy" } else { "idle" };
    for i in 0..ops {
        let marker = format!("edit-{tag}-{i}");
        let op = Op::BlockSet {
            report: REPORT.into(),
            block: "intro".into(),
            content: BlockContent::Markdown {
                text: format!("# Sweep results\n\nRevised text ({marker}).\n\n## Curves"),
            },
            base_rev: rev,
        };
        let t = Instant::now();
        let answer = post_op(http, d, &format!("set-{tag}-{i}"), op).await?;
        post.push(ms(t));
        rev = answer["event"]["change"]["blocks"]
            .as_array()
            .and_then(|b| b.iter().find(|b| b["id"] == "intro"))
            .and_then(|b| b["rev"].as_u64())
            .with_context(|| format!("no block rev in the answer: {answer}"))?;
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match ws.next().await {
                    Some(Ok(Message::Text(t)))
                        if t.as_str().contains("\"annotations\"")
                            && t.as_str().contains(&marker) =>
                    {
                        return Ok(());
                    }
                    Some(Ok(_)) => {}
                    _ => bail!("the second client's socket closed"),
                }
            }
        })
        .await
        .context("an op's event did not arrive within 10 s")??;
        times.push(ms(t));
        // Spaced as a person types and pauses, not back to back.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = ws.close(None).await;
    Ok((times, post))
}

/// Headless Chromium that can reach nothing (`OFFLINE_ARGS`), as tests/tests/it/report_export.rs
/// opens the export.
async fn offline_browser(port: u16, profile: &Path) -> anyhow::Result<Client> {
    session(port, profile, &OFFLINE_ARGS, None).await
}

/// Every chart of the page, once all have `data-drawn`: their count; `null` before.
const ALL_DRAWN: &str = "const c = document.querySelectorAll('.chart[data-chart]');
    if (!c.length || ![...c].every((e) => e.dataset.drawn === '1')) return null;
    const nav = performance.getEntriesByType('navigation')[0];
    return [c.length, nav ? nav.domContentLoadedEventEnd : null];";

/// Opens `file` `n` times in a fresh navigation: wall time from the navigation's start until the
/// page answered that every chart is drawn, and the page's own time from navigation start to
/// DOMContentLoaded (report.js draws every chart synchronously before it).
async fn open_in_browser(
    driver: &(Proc, u16),
    file: &Path,
    n: usize,
) -> anyhow::Result<(Vec<f64>, Vec<f64>, u64)> {
    let profile = tempfile::tempdir()?;
    let c = offline_browser(driver.1, profile.path()).await?;
    let url = format!("file://{}", file.display());
    let result = async {
        let (mut wall, mut in_page, mut charts) = (Vec::new(), Vec::new(), 0);
        // One untimed open first: Chromium's own start-up is not the page's.
        for i in 0..=n {
            c.goto("about:blank").await?;
            let t = Instant::now();
            c.goto(&url).await?;
            let deadline = Instant::now() + Duration::from_secs(30);
            let got = loop {
                let v = c.execute(ALL_DRAWN, vec![]).await?;
                if !v.is_null() {
                    break v;
                }
                if Instant::now() > deadline {
                    bail!("the exported charts were not all drawn within 30 s");
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            };
            let elapsed = ms(t);
            if i > 0 {
                wall.push(elapsed);
                in_page.push(got[1].as_f64().unwrap_or(f64::NAN));
                charts = got[0].as_u64().unwrap_or(0);
            }
        }
        // Where the page's time goes, in the last open: the file read, the HTML parsed and
        // report.js run (parse the data, draw every chart), and the data's JSON.parse alone.
        let parts = c
            .execute(
                "const nav = performance.getEntriesByType('navigation')[0];
                 const text = document.getElementById('report-data').textContent;
                 const t = performance.now(); JSON.parse(text); const parse = performance.now() - t;
                 return [nav.responseEnd, nav.domInteractive, parse];",
                vec![],
            )
            .await?;
        let part = |i: usize| parts[i].as_f64().unwrap_or(f64::NAN);
        // The same page without report.js (its last script): the HTML parse alone.
        let page = std::fs::read_to_string(file)?;
        let bare_file = file.with_file_name("report-without-script.html");
        if let Some(at) = page.rfind("<script>") {
            let end = page[at..].find("</script>").map_or(page.len(), |e| at + e + 9);
            std::fs::write(&bare_file, format!("{}{}", &page[..at], &page[end..]))?;
        }
        c.goto(&format!("file://{}", bare_file.display())).await?;
        let bare = c
            .execute(
                "return performance.getEntriesByType('navigation')[0].domInteractive;",
                vec![],
            )
            .await?
            .as_f64()
            .unwrap_or(f64::NAN);
        println!(
            "  in the page: file read by {:.0} ms, HTML parsed and report.js done (data parsed, charts drawn) by {:.0} ms; JSON.parse of the data alone {:.0} ms; the page without report.js parsed by {bare:.0} ms",
            part(0),
            part(1),
            part(2)
        );
        Ok((wall, in_page, charts))
    }
    .await;
    let _ = c.close().await;
    result
}
