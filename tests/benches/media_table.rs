//! The logged-table view on a 100,000-row table, in a real browser against a real daemon process
//! (issue 12; see docs/benchmarks.md, "Media"). One run logged `preds` (id, label, class, score,
//! loss, and an image in every 100th row) as W&B writes a `table-file`. The workspace shows it;
//! then, timed in the page from the user's action until the changed rows are on screen (the
//! latency a user sees):
//! - `sort`: a click on a column header (score, then label), cycling ascending → descending →
//!   unsorted, until the first rendered row holds the expected value;
//! - `filter`: an expression typed into the filter box (the runs table's language) until the row
//!   count shows the expected number of kept rows;
//! - `scroll`: a jump of the scroll box to the end until the last row is rendered.
//!
//! Beside each, the view's own compute time from its `performance.measure` entries
//! (`tl:media-table:sort`, `tl:media-table:filter`) and the table's parse time
//! (`tl:media-table:parse`). Goal: sort and filter ≤ 200 ms. Runs idle and then with one core
//! kept busy; every figure is printed with the load average. Nothing is asserted. Run with
//! `TRACKLINE_REQUIRE_WEB=1 cargo bench -p trackline-tests --bench media_table` (`-- --quick`:
//! 20,000 rows, fewer rounds).

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]

use anyhow::{Context, bail};
use fantoccini::Client;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use trackline_shared::media_table::format_number;
use trackline_tests::chrome::{BrowserOnDaemon, wait_until};
use trackline_tests::daemon::Daemon;
use trackline_tests::machine::{BusyCore, load_average};
use trackline_tests::png;
use trackline_tests::synthetic::{pct, unix_now};

const DAEMON: &str = env!("CARGO_BIN_EXE_trackline-under-test");
const GOAL_MS: f64 = 200.0;
const PROJECT: &str = "tables";
const RUN: &str = "big";
const VIEW: &str = "[data-testid=media-row][data-run=big] [data-testid=media-table]";
const CLASSES: u64 = 10;

/// One row of the generated table.
struct Row {
    id: u64,
    label: String,
    class: String,
    score: f64,
}

fn main() -> anyhow::Result<()> {
    let quick = trackline_tests::machine::quick();
    let (nrows, rounds) = if quick { (20_000, 2) } else { (100_000, 5) };
    let dir = tempfile::tempdir()?;
    let rows = write_project(dir.path(), nrows)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut report = Vec::new();
    for busy in [false, true] {
        let _spin = busy.then(BusyCore::start).transpose()?;
        let label = if busy { "one core busy" } else { "idle" };
        let (figures, load) = rt.block_on(measure(dir.path(), &rows, rounds))?;
        for f in figures {
            let (p50, p95) = (pct(&f.ms, 0.5), pct(&f.ms, 0.95));
            let compute = if f.compute.is_empty() {
                "-".to_string()
            } else {
                format!(
                    "{:.1} / {:.1} ms",
                    pct(&f.compute, 0.5),
                    pct(&f.compute, 0.95)
                )
            };
            println!(
                "{label}, {}: {} times on {nrows} rows: p50 {p50:.1} ms, p95 {p95:.1} ms, max {:.1} ms; the view's own compute p50/p95 {compute}{}; load {load}",
                f.kind,
                f.ms.len(),
                f.ms.iter().copied().fold(0.0, f64::max),
                if f.goal {
                    format!(" (goal ≤ {GOAL_MS} ms)")
                } else {
                    String::new()
                },
            );
            let goal = if f.goal {
                format!("≤ {GOAL_MS} ms")
            } else {
                "-".to_string()
            };
            report.push((label, f.kind, p50, p95, compute, goal, load.clone()));
        }
    }
    println!("\n| table of {nrows} rows | action | p50 | p95 | compute p50 / p95 | goal | load |");
    println!("|---|---|---|---|---|---|---|");
    for (label, kind, p50, p95, compute, goal, load) in report {
        println!("| {label} | {kind} | {p50:.1} ms | {p95:.1} ms | {compute} | {goal} | {load} |");
    }
    Ok(())
}

/// Writes the run and its table file; returns the table's rows.
fn write_project(root: &Path, nrows: u64) -> anyhow::Result<Vec<Row>> {
    let dir = root.join(PROJECT).join(RUN);
    std::fs::create_dir_all(dir.join("media/table"))?;
    std::fs::create_dir_all(dir.join("media/images"))?;
    let image = png::solid(16, 16, [200, 40, 40, 255]);
    let image_rel = "media/images/0123456789abcdef0123.png";
    std::fs::write(dir.join(image_rel), &image)?;
    let image_ref = json!({"_type": "image-file", "path": image_rel, "sha256": "0".repeat(64),
        "size": image.len(), "format": "png", "width": 16, "height": 16});
    let animals = ["cat", "dog", "bird", "fish", "frog", "horse", "deer"];
    let mut rows = Vec::with_capacity(nrows as usize);
    let mut data = Vec::with_capacity(nrows as usize);
    for id in 0..nrows {
        // A scrambled but reproducible score with three decimals, as a model's output reads.
        let score = ((id.wrapping_mul(2_654_435_761) >> 7) % 1000) as f64 / 1000.0;
        let row = Row {
            id,
            label: format!("{} {}", animals[(id % 7) as usize], id % 1009),
            class: format!("c{}", (id * 7 + id / 13) % CLASSES),
            score,
        };
        let img = if id.is_multiple_of(100) {
            image_ref.clone()
        } else {
            Value::Null
        };
        data.push(json!([
            row.id,
            row.label,
            row.class,
            row.score,
            1.0 - score / 2.0,
            img
        ]));
        rows.push(row);
    }
    let body = serde_json::to_vec(&json!({
        "columns": ["id", "label", "class", "score", "loss", "img"], "data": data}))?;
    let rel = "media/table/preds_1_0123456789abcdef0123.table.json";
    std::fs::write(dir.join(rel), &body)?;
    let now = unix_now();
    let meta = json!({"format_version": 1, "id": RUN, "name": RUN, "project": PROJECT,
        "state": "finished", "created_at": now, "heartbeat_at": now, "finished_at": now,
        "exit_code": 0, "tags": [], "config": {}});
    std::fs::write(dir.join("run.json"), serde_json::to_vec(&meta)?)?;
    let history = json!({"_step": 1, "_timestamp": now, "loss": 0.5,
        "preds": {"_type": "table-file", "path": rel, "sha256": "0".repeat(64),
            "size": body.len(), "ncols": 6, "nrows": nrows, "log_mode": "IMMUTABLE"}});
    std::fs::write(dir.join("history.jsonl"), format!("{history}\n"))?;
    println!(
        "wrote a table of {nrows} rows ({:.1} MB)",
        body.len() as f64 / 1e6
    );
    Ok(rows)
}

/// The latencies of one kind of action, and the view's own compute times for it.
struct Figure {
    kind: &'static str,
    ms: Vec<f64>,
    compute: Vec<f64>,
    /// Whether the issue sets a goal for it (sort and filter).
    goal: bool,
}

/// Opens the workspace in a fresh daemon and browser, waits for the table, then sorts, filters
/// and scrolls `rounds` times each.
async fn measure(
    root: &Path,
    rows: &[Row],
    rounds: usize,
) -> anyhow::Result<(Vec<Figure>, String)> {
    let browser = BrowserOnDaemon::open(
        &Daemon::binary(DAEMON),
        root,
        &format!("/projects/{PROJECT}"),
        &["--window-size=1400,1000"],
    )
    .await?;
    let c = &browser.client;
    let total = rows.len().to_string();
    wait_until(
        c,
        "the whole table",
        Duration::from_secs(120),
        &format!(
            "const v = document.querySelector('{VIEW}'); return !!v && v.dataset.total === '{total}';"
        ),
    )
    .await?;
    let parse = measures(c, "tl:media-table:parse").await?;
    c.execute(
        &format!("document.querySelector('{VIEW}').scrollIntoView(); return true;"),
        vec![],
    )
    .await?;

    let mut sort = Figure {
        kind: "sort",
        ms: Vec::new(),
        compute: Vec::new(),
        goal: true,
    };
    let first = |f: fn(&Row) -> String, pick_max: bool, text: bool| -> String {
        let it = rows.iter();
        let best = if text {
            let cmp =
                |a: &&Row, b: &&Row| trackline_shared::columns::natural_cmp(&a.label, &b.label);
            if pick_max {
                it.max_by(cmp)
            } else {
                it.min_by(cmp)
            }
        } else {
            let cmp = |a: &&Row, b: &&Row| a.score.total_cmp(&b.score);
            if pick_max {
                it.max_by(cmp)
            } else {
                it.min_by(cmp)
            }
        };
        best.map(f).unwrap_or_default()
    };
    let score_text = |r: &Row| format_number(r.score);
    let label_text = |r: &Row| r.label.clone();
    let cycles = [
        (
            "score",
            [
                first(score_text, false, false),
                first(score_text, true, false),
                score_text(&rows[0]),
            ],
        ),
        (
            "label",
            [
                first(label_text, false, true),
                first(label_text, true, true),
                label_text(&rows[0]),
            ],
        ),
    ];
    for _ in 0..rounds {
        for (col, expected) in &cycles {
            for want in expected {
                clear_measures(c).await?;
                sort.ms.push(
                    timed(
                        c,
                        &script(SORT, "firstCell() === want"),
                        vec![json!(VIEW), json!(col), json!(want)],
                    )
                    .await?,
                );
                sort.compute
                    .extend(measures(c, "tl:media-table:sort").await?);
            }
        }
    }

    let mut filter = Figure {
        kind: "filter",
        ms: Vec::new(),
        compute: Vec::new(),
        goal: true,
    };
    let count = |keep: &dyn Fn(&Row) -> bool| rows.iter().filter(|r| keep(r)).count();
    let filters: Vec<(&str, usize)> = vec![
        ("score > 0.5", count(&|r| r.score > 0.5)),
        (r#"label =~ "^cat""#, count(&|r| r.label.starts_with("cat"))),
        (
            r#"class == "c3" and score < 0.2"#,
            count(&|r| r.class == "c3" && r.score < 0.2),
        ),
        (
            "id >= 1000 and id < 2000",
            count(&|r| r.id >= 1000 && r.id < 2000),
        ),
        ("", rows.len()),
    ];
    for _ in 0..rounds {
        for (expr, kept) in &filters {
            clear_measures(c).await?;
            filter.ms.push(
                timed(
                    c,
                    &script(FILTER, "v.dataset.rows === want"),
                    vec![json!(VIEW), json!(expr), json!(kept.to_string())],
                )
                .await?,
            );
            filter
                .compute
                .extend(measures(c, "tl:media-table:filter").await?);
        }
    }

    let mut scroll = Figure {
        kind: "scroll to the end and back",
        ms: Vec::new(),
        compute: Vec::new(),
        goal: false,
    };
    let last = (rows.len() - 1).to_string();
    for _ in 0..rounds {
        for (to_end, want) in [(true, last.as_str()), (false, "0")] {
            scroll.ms.push(
                timed(
                    c,
                    &script(
                        SCROLL,
                        "!!v.querySelector('[data-testid=media-table-row][data-row=\"' + want + '\"]')",
                    ),
                    vec![json!(VIEW), json!(to_end), json!(want)],
                )
                .await?,
            );
        }
    }
    let load = load_average();
    browser.close().await;
    let parsed = Figure {
        kind: "parse (first load)",
        ms: parse.clone(),
        compute: parse,
        goal: false,
    };
    Ok((vec![parsed, sort, filter, scroll], load))
}

/// Runs an action script that resolves with its milliseconds (or `null` after 10 s).
async fn timed(c: &Client, script: &str, args: Vec<Value>) -> anyhow::Result<f64> {
    let v = c.execute_async(script, args).await.context("action")?;
    match v.as_f64() {
        Some(ms) => Ok(ms),
        None => bail!("the action did not finish within 10 s: {v}"),
    }
}

async fn clear_measures(c: &Client) -> anyhow::Result<()> {
    c.execute("performance.clearMeasures(); return true;", vec![])
        .await?;
    Ok(())
}

/// The durations of the `performance.measure` entries named `name`.
async fn measures(c: &Client, name: &str) -> anyhow::Result<Vec<f64>> {
    let v = c
        .execute(
            "return performance.getEntriesByName(arguments[0], 'measure').map(e => e.duration);",
            vec![json!(name)],
        )
        .await?;
    Ok(v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default())
}

/// Shared by the action scripts: resolves `done` with the time since `t0` once `ready()` holds on
/// an animation frame (the frame after the DOM changed: what the user sees), `null` after 10 s.
const UNTIL: &str = r#"
const until = (t0, ready, done) => {
  const check = () => {
    if (ready()) {
      requestAnimationFrame(() => done(performance.now() - t0));
    } else if (performance.now() - t0 > 10000) {
      done(null);
    } else {
      requestAnimationFrame(check);
    }
  };
  check();
};
"#;

/// An action script: `action` (which sets `t0` and acts), then waiting until `ready` holds.
fn script(action: &str, ready: &str) -> String {
    format!("{UNTIL}\n{action}\nuntil(t0, () => {ready}, done);")
}

/// Clicks column `arguments[1]`'s header; ready when the first rendered row's cell of that column
/// reads `arguments[2]`.
const SORT: &str = r#"
const [view, col, want, done] = arguments;
const v = document.querySelector(view);
const header = v.querySelector('[data-testid=media-table-header-' + col + ']');
const firstCell = () => {
  const row = v.querySelector('[data-testid=media-table-row]');
  const cell = row && row.querySelector('[data-testid=media-table-cell][data-col=' + col + '] .mt-text');
  return cell ? cell.textContent.trim() : null;
};
const t0 = performance.now();
header.click();
"#;

/// Types expression `arguments[1]` into the filter box; ready when the view keeps
/// `arguments[2]` rows.
const FILTER: &str = r#"
const [view, expr, want, done] = arguments;
const v = document.querySelector(view);
const box = v.querySelector('[data-testid=media-table-filter]');
const t0 = performance.now();
box.value = expr;
box.dispatchEvent(new Event('input', {bubbles: true}));
"#;

/// Scrolls the rows to the end (`arguments[1]`) or the start; ready when row `arguments[2]` is
/// rendered.
const SCROLL: &str = r#"
const [view, toEnd, want, done] = arguments;
const v = document.querySelector(view);
const s = v.querySelector('[data-testid=media-table-scroll]');
const t0 = performance.now();
s.scrollTop = toEnd ? s.scrollHeight : 0;
s.dispatchEvent(new Event('scroll'));
"#;
