//! Daemon performance benchmarks, through the `trackline` library API (see docs/benchmarks.md):
//!
//! 1. ingest throughput: bytes of `history.jsonl` on disk → points queryable in the store, for a
//!    whole file and for many small appends, plus a breakdown of where the time goes;
//! 2. start-up over many run directories: `Server::bind` without (cold) and with (warm) an index;
//! 3. decimation of a 1M-point series for a chart, full window and zoomed.
//!
//! Run with `TRACKLINE_SKIP_WEB=1 cargo bench -p trackline --bench ingest`; add `-- --quick` (or set
//! `TRACKLINE_BENCH_QUICK=1`) for a smaller, faster pass. Figures are printed next to their goals;
//! nothing is asserted about timings, since machines are noisy.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use trackline::config::Config;
use trackline::format::line::parse_line;
use trackline::format::{CONFIG_FILE, HISTORY_FILE, RUN_FILE, SUMMARY_FILE};
use trackline::ingest::read_meta;
use trackline::query::decimate::decimate;
use trackline::query::series::series;
use trackline::server::Server;
use trackline::source::RunSource;
use trackline::source::disk::DiskSource;
use trackline::store::history::History;
use trackline::store::series::Series;
use trackline::store::{RunKey, Store, StoreSettings};
use trackline_shared::{SeriesQuery, XAxis};

/// Goal: points per second from appended bytes to queryable, on one thread.
const GOAL_POINTS_PER_SEC: f64 = 2_000_000.0;
/// Goal: start-up (scan + index) over 10,000 runs.
const GOAL_STARTUP_MS: f64 = 2000.0;

struct Sizes {
    rows: usize,
    metrics: usize,
    full_reps: usize,
    chunks: usize,
    startup_runs: usize,
    decimate_points: usize,
}

fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick")
        || std::env::var("TRACKLINE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let sizes = if quick {
        Sizes {
            rows: 50_000,
            metrics: 10,
            full_reps: 2,
            chunks: 250,
            startup_runs: 2_000,
            decimate_points: 1_000_000,
        }
    } else {
        Sizes {
            rows: 200_000,
            metrics: 10,
            full_reps: 3,
            chunks: 1_000,
            startup_runs: 10_000,
            decimate_points: 1_000_000,
        }
    };
    // Positional arguments pick sections (`ingest`, `startup`, `decimate`); none means all.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    println!(
        "trackline ingest benchmarks{} ({} CPUs available; load average {})",
        if quick { " [quick]" } else { "" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let total = Instant::now();
    if wanted("ingest") {
        ingest_throughput(&sizes)?;
    }
    if wanted("startup") {
        startup(&sizes)?;
    }
    if wanted("decimate") {
        decimation(&sizes);
    }
    println!(
        "\ntotal bench time {:.1} s (load average {})",
        total.elapsed().as_secs_f64(),
        load_average()
    );
    Ok(())
}

/// The 1, 5 and 15 minute load averages (Linux), to judge how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

// ---------------------------------------------------------------------------------------------
// 1. Ingest throughput

fn ingest_throughput(sizes: &Sizes) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (project, run_id) = ("bench", "ingest01");
    let dir = tmp.path().join(project).join(run_id);
    std::fs::create_dir_all(&dir)?;
    write_run_json(&dir, run_id, project, "running", None, 1_764_430_000.0)?;

    let started = Instant::now();
    let history = Generated::generate(sizes.rows, sizes.metrics, 1_764_430_000.0);
    let points = history.points;
    let bytes = history.text.len();
    let history_path = dir.join(HISTORY_FILE);
    std::fs::write(&history_path, &history.text)?;
    println!(
        "\n== 1. ingest throughput: history.jsonl of {} rows x {} metrics = {} points, {:.1} MB \
         ({:.0} bytes/row; generated in {:.2} s)",
        sizes.rows,
        sizes.metrics,
        points,
        mb(bytes),
        bytes as f64 / sizes.rows as f64,
        started.elapsed().as_secs_f64()
    );
    let key = RunKey {
        project: project.into(),
        run: run_id.into(),
    };

    let source: Arc<dyn RunSource> = Arc::new(DiskSource::new(tmp.path().to_owned()));

    // a. The whole file at once: a fresh store each time, as when a run is first opened.
    let mut times = Vec::new();
    for _ in 0..sizes.full_reps {
        let store = new_store();
        let meta = read_meta(source.as_ref(), &key, &dir)?;
        let run = store.upsert(key.clone(), dir.clone(), source.clone(), meta, now_secs());
        let t = Instant::now();
        store.sync_history(&run)?;
        times.push(t.elapsed());
        let h = run.history.lock();
        anyhow::ensure!(
            h.rows_if_loaded() == Some(sizes.rows as u64) && h.resident_points() == points,
            "sync_history read {:?} rows, {} points; expected {} rows, {points} points",
            h.rows_if_loaded(),
            h.resident_points(),
            sizes.rows
        );
        if times.len() == 1 {
            let mem: usize = (0..h.keys().len())
                .map(|i| h.series(i).memory_bytes())
                .sum();
            println!(
                "  resident after load: {:.1} MB for {points} points ({:.1} bytes/point, columns + pyramid)",
                mb(mem),
                mem as f64 / points as f64
            );
        }
    }
    let best = min(&times);
    let rate = points as f64 / best.as_secs_f64();
    println!(
        "  whole file, Store::sync_history ({} reps): best {:.0} ms, median {:.0} ms -> {} points/s, {:.0} MB/s",
        times.len(),
        ms(best),
        ms(median(&times)),
        mega(rate),
        mb(bytes) / best.as_secs_f64()
    );
    println!("  {}", vs_goal_min(rate, GOAL_POINTS_PER_SEC, "points/s"));

    // b. Incremental: append a chunk of rows, sync, repeat (what a live run looks like, batched).
    let inc_dir = tmp.path().join(project).join("ingest02");
    std::fs::create_dir_all(&inc_dir)?;
    write_run_json(
        &inc_dir,
        "ingest02",
        project,
        "running",
        None,
        1_764_430_000.0,
    )?;
    let inc_key = RunKey {
        project: project.into(),
        run: "ingest02".into(),
    };
    let store = new_store();
    let run = store.upsert(
        inc_key.clone(),
        inc_dir.clone(),
        source.clone(),
        read_meta(source.as_ref(), &inc_key, &inc_dir)?,
        now_secs(),
    );
    store.sync_history(&run)?; // no history.jsonl yet: loads empty
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(inc_dir.join(HISTORY_FILE))?;
    let rows_per_chunk = sizes.rows / sizes.chunks;
    let mut syncs = Vec::with_capacity(sizes.chunks);
    let mut writes = Duration::ZERO;
    for c in 0..sizes.chunks {
        let lo = history.row_starts[c * rows_per_chunk];
        let hi = history.row_starts[(c + 1) * rows_per_chunk];
        let t = Instant::now();
        file.write_all(&history.text[lo..hi])?;
        writes += t.elapsed();
        let t = Instant::now();
        store.sync_history(&run)?;
        syncs.push(t.elapsed());
    }
    let inc_points = run.history.lock().resident_points();
    let inc_rows = run.history.lock().rows_if_loaded().unwrap_or(0);
    anyhow::ensure!(
        inc_rows == (rows_per_chunk * sizes.chunks) as u64,
        "incremental sync read {inc_rows} rows"
    );
    let sync_total: Duration = syncs.iter().sum();
    let inc_rate = inc_points as f64 / sync_total.as_secs_f64();
    println!(
        "  incremental, {} appends of {rows_per_chunk} rows, sync after each: sync total {:.0} ms \
         (appends {:.0} ms) -> {} points/s; per sync p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        sizes.chunks,
        ms(sync_total),
        ms(writes),
        mega(inc_rate),
        ms(percentile(&syncs, 50.0)),
        ms(percentile(&syncs, 99.0)),
        ms(max(&syncs)),
    );
    println!(
        "  {}",
        vs_goal_min(inc_rate, GOAL_POINTS_PER_SEC, "points/s")
    );

    // c. Where the time goes: each stage of the pipeline on the bytes in memory, no I/O.
    breakdown(&history);
    Ok(())
}

/// The ingest pipeline stage by stage, on the same bytes in memory, best of a few passes each.
fn breakdown(history: &Generated) {
    let text = &history.text;
    let points = history.points as f64;
    let reps = 3;
    println!(
        "  breakdown, in memory (best of {reps}; rates in points/s of the same {} points):",
        history.points
    );
    let stage = |name: &str, f: &mut dyn FnMut() -> usize| {
        let mut best = Duration::MAX;
        let mut out = 0;
        for _ in 0..reps {
            let t = Instant::now();
            out = black_box(f());
            best = best.min(t.elapsed());
        }
        println!(
            "    {name:<54} {:>7.1} ms  {:>6} points/s  {:>6.0} MB/s",
            ms(best),
            mega(points / best.as_secs_f64()),
            mb(text.len()) / best.as_secs_f64()
        );
        out
    };
    // The newline search exactly as store/history.rs does it (`iter().position`)…
    let lines = stage(
        "split lines: iter().position (as store::history)",
        &mut || {
            let mut n = 0;
            let mut at = 0;
            while let Some(nl) = text[at..].iter().position(|&b| b == b'\n') {
                at += nl + 1;
                n += 1;
            }
            n
        },
    );
    // …and a word-at-a-time search, to show what a vectorised memchr would buy.
    let lines_swar = stage(
        "split lines: 8 bytes at a time (for comparison)",
        &mut || {
            let mut n = 0;
            let mut at = 0;
            while let Some(nl) = find_byte_swar(b'\n', &text[at..]) {
                at += nl + 1;
                n += 1;
            }
            n
        },
    );
    assert_eq!(lines, lines_swar);
    stage("split + parse_line (callback counts points)", &mut || {
        let mut n = 0;
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let _ = parse_line(line, |_, v| {
                black_box(v);
                n += 1;
            });
        }
        n
    });
    stage(
        "split + parse_line + key lookup (HashMap<String,_>)",
        &mut || {
            let mut index: HashMap<String, usize> = HashMap::new();
            let mut scratch: Vec<(usize, f64)> = Vec::new();
            let mut n = 0;
            for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                scratch.clear();
                let _ = parse_line(line, |k, v| {
                    let next = index.len();
                    let i = match index.get(k.as_ref()) {
                        Some(&i) => i,
                        None => *index.entry(k.into_owned()).or_insert(next),
                    };
                    scratch.push((i, v));
                });
                n += scratch.len();
            }
            n
        },
    );
    stage("Series::push only (columns + pyramid)", &mut || {
        let mut series: Vec<Series> = (0..history.metrics).map(|_| Series::new()).collect();
        for r in 0..history.rows {
            for (m, s) in series.iter_mut().enumerate() {
                s.push(r as f64, 1.7e9 + r as f64, (r * 31 + m) as f64);
            }
        }
        series.iter().map(Series::len).sum()
    });
    stage(
        "History::ingest of the whole buffer (no file I/O)",
        &mut || {
            let mut h = History::default();
            h.ingest(text, 1.7e9, "bench");
            h.resident_points()
        },
    );
}

/// Index of the first `needle` in `haystack`, testing 8 bytes per step (SWAR), safe code only.
fn find_byte_swar(needle: u8, haystack: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(needle);
    let mut chunks = haystack.chunks_exact(8);
    for (i, chunk) in chunks.by_ref().enumerate() {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ pattern;
        let found = word.wrapping_sub(LO) & !word & HI;
        if found != 0 {
            return Some(i * 8 + (found.trailing_zeros() / 8) as usize);
        }
    }
    let rest = chunks.remainder();
    rest.iter()
        .position(|&b| b == needle)
        .map(|p| haystack.len() - rest.len() + p)
}

/// A generated `history.jsonl`, written the way the Python client writes it.
struct Generated {
    text: Vec<u8>,
    /// Byte offset of the start of each row, plus the end of the text.
    row_starts: Vec<usize>,
    rows: usize,
    metrics: usize,
    points: usize,
}

const METRIC_NAMES: [&str; 12] = [
    "train/loss",
    "train/acc",
    "val/loss",
    "val/acc",
    "lr",
    "grad_norm",
    "epoch",
    "samples_per_sec",
    "gpu/mem_alloc_gb",
    "Train Loss",
    "weight_decay",
    "eval/perplexity",
];

impl Generated {
    /// `rows` rows of `metrics` metrics (at most 12) with values like a training run's, formatted
    /// like the Python client: `'{"_step": %d, "_timestamp": %.6f, "_runtime": %.6f, '` and then
    /// `json.dumps` of the metrics (`repr` floats, `NaN` allowed, `", "` and `": "` separators).
    fn generate(rows: usize, metrics: usize, created_at: f64) -> Generated {
        let metrics = metrics.min(METRIC_NAMES.len());
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut text = String::with_capacity(rows * (80 + metrics * 32));
        let mut row_starts = Vec::with_capacity(rows + 1);
        let mut points = 0;
        for step in 0..rows {
            row_starts.push(text.len());
            let runtime = 0.9 + step as f64 * 0.0473 + rng.unit() * 0.003;
            let _ = write!(
                text,
                "{{\"_step\": {step}, \"_timestamp\": {:.6}, \"_runtime\": {runtime:.6}",
                created_at + runtime
            );
            let progress = step as f64 / rows as f64;
            for (m, name) in METRIC_NAMES.iter().take(metrics).enumerate() {
                text.push_str(", \"");
                text.push_str(name);
                text.push_str("\": ");
                let noise = rng.unit() - 0.5;
                let v = match m {
                    0 | 9 => 2.3 * (-4.0 * progress).exp() + 0.05 + 0.08 * noise,
                    1 | 3 => (0.1 + 0.85 * (1.0 - (-5.0 * progress).exp()) + 0.02 * noise).min(1.0),
                    2 => 2.3 * (-3.5 * progress).exp() + 0.12 + 0.05 * noise,
                    // A cosine schedule: values below 1e-4 are written as `9.87e-05`.
                    4 => 3e-4 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()) + 1e-7,
                    5 if rng.unit() < 1e-4 => f64::NAN, // the odd overflow
                    5 => 0.5 + 2.0 * rng.unit() * rng.unit(),
                    6 => {
                        // An int, as `json.dumps` writes it.
                        let _ = write!(text, "{}", step * 10 / rows.max(1));
                        points += 1;
                        continue;
                    }
                    7 => 1800.0 + 150.0 * noise,
                    8 => 11.5 + (rng.unit() * 64.0).floor() / 64.0,
                    10 => 0.01,
                    _ => (2.3 * (-4.0 * progress).exp() + 0.05).exp() + noise,
                };
                py_float(v, &mut text);
                points += 1;
            }
            text.push_str("}\n");
        }
        row_starts.push(text.len());
        Generated {
            text: text.into_bytes(),
            row_starts,
            rows,
            metrics,
            points,
        }
    }
}

/// Appends `v` the way Python's `repr(float)` (and so `json.dumps`) writes it: shortest round-trip
/// digits, scientific notation below 1e-4 and from 1e16 on (`1e-05`, `1.5e+16`), `.0` on integers.
fn py_float(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e16) {
        let s = format!("{v:e}");
        let (mantissa, exp) = s.split_once('e').expect("{:e} has an exponent");
        let exp: i32 = exp.parse().expect("an integer exponent");
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}e{sign}{:02}", exp.abs());
    } else {
        let start = out.len();
        let _ = write!(out, "{v}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Start-up over many runs

fn startup(sizes: &Sizes) -> anyhow::Result<()> {
    let runs = sizes.startup_runs;
    println!(
        "\n== 2. start-up: Server::bind over {runs} run directories (projects of 500 runs; each \
         run.json, config.json, summary.json and a history.jsonl of 20 rows x 4 metrics)"
    );
    println!(
        "  (files are in the page cache: 'cold' means no index database, not a cold disk cache)"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // A quarter of the runs first: start-up should scale linearly with the number of runs.
    // Runs `0..runs/4` in one root, then moved (cheap renames) into the full root.
    let tmp = tempfile::tempdir()?;
    let (small_root, root) = (tmp.path().join("small"), tmp.path().join("trackline"));
    let quarter = runs / 4;
    let t = Instant::now();
    let bytes = make_runs(&small_root, 0..quarter)?;
    println!(
        "  {quarter} runs ({:.1} MB, created in {:.1} s):",
        mb(bytes),
        t.elapsed().as_secs_f64()
    );
    let small = bind_rounds(&rt, &small_root, quarter, &[true, false])?;
    std::fs::remove_dir_all(small_root.join(".trackline"))?;
    std::fs::rename(&small_root, &root)?;
    let t = Instant::now();
    let bytes = bytes + make_runs(&root, quarter..runs)?;
    println!(
        "  {runs} runs ({:.1} MB, {} more created in {:.1} s):",
        mb(bytes),
        runs - quarter,
        t.elapsed().as_secs_f64()
    );
    let full = bind_rounds(&rt, &root, runs, &[true, false, false, true])?;
    for (name, i) in [("cold", 0), ("warm", 1)] {
        let (a, b) = (ms(small[i]), ms(full[i]));
        let ratio = b / a;
        println!(
            "  {name}: {} runs {a:.0} ms, {runs} runs {b:.0} ms: x{ratio:.1} for x4 the runs ({})",
            runs / 4,
            if ratio > 6.0 {
                "superlinear: something is quadratic"
            } else {
                "about linear"
            }
        );
        if runs == 10_000 {
            println!("  {name}: {}", vs_goal_max(b, GOAL_STARTUP_MS, "ms"));
        } else {
            println!(
                "  {name}: ~{:.0} ms scaled linearly to 10,000 runs (goal <= {GOAL_STARTUP_MS:.0} ms)",
                b * 10_000.0 / runs as f64
            );
        }
    }
    Ok(())
}

/// Binds a server on `root` (holding `runs` runs) once per round (`true`: cold, without the
/// index database; `false`: warm). Returns the best cold and the best warm time.
fn bind_rounds(
    rt: &tokio::runtime::Runtime,
    root: &Path,
    runs: usize,
    rounds: &[bool],
) -> anyhow::Result<[Duration; 2]> {
    let mut best = [Duration::MAX; 2];
    for (round, &is_cold) in rounds.iter().enumerate() {
        if is_cold {
            // No index: every run's files are read and parsed, and the index is written.
            let state = root.join(".trackline");
            if state.exists() {
                std::fs::remove_dir_all(&state)?;
            }
        }
        // Defaults otherwise (a rescan every 2 s, as shipped); each round's threads are stopped
        // before the next round starts.
        let mut config = Config::new(root);
        config.port = 0;
        let t = Instant::now();
        let server = rt.block_on(Server::bind(config))?;
        let elapsed = t.elapsed();
        let found = server.store().len();
        anyhow::ensure!(found == runs, "bind found {found} runs, expected {runs}");
        let loaded = server
            .store()
            .runs()
            .iter()
            .filter(|r| r.history.lock().is_loaded())
            .count();
        println!(
            "    {} bind: {:>6.0} ms  ({loaded} of {runs} histories loaded)",
            if is_cold { "cold" } else { "warm" },
            ms(elapsed)
        );
        if !is_cold {
            first_chart(&server)?;
        }
        if round + 1 == rounds.len() {
            // Nothing changes on disk now: the ingest thread should sleep until the next rescan.
            std::thread::sleep(Duration::from_secs(1)); // let the watcher finish setting up
            let before = process_cpu_seconds();
            std::thread::sleep(Duration::from_secs(2));
            let used = (process_cpu_seconds() - before) / 2.0;
            println!(
                "      then idle for 2 s (nothing written; the default rescan every {} s): the \
                 daemon's threads used {:.0}% of one core{}",
                Config::new(root).rescan_interval.as_secs(),
                used * 100.0,
                if used > 0.1 { " (expected ~0)" } else { "" }
            );
        }
        let slot = &mut best[usize::from(!is_cold)];
        *slot = (*slot).min(elapsed);
        // Stop the ingest thread before the next round: `run` with a shutdown that is already
        // due serves nothing, then joins the background threads. (Merely dropping a `Server`
        // leaves its ingest thread running.)
        rt.block_on(server.run(std::future::ready(())))?;
    }
    Ok(best)
}

/// After a warm start no history is in memory: the first chart over a project's runs loads them.
fn first_chart(server: &Server) -> anyhow::Result<()> {
    let store = server.store();
    let project = "project-00";
    let ids: Vec<String> = store
        .project_runs(project)
        .iter()
        .map(|r| r.key.run.clone())
        .collect();
    // Built from JSON, as the API does, so optional fields keep their defaults.
    let query: SeriesQuery = serde_json::from_value(serde_json::json!({
        "runs": ids.join(","),
        "key": "train/loss",
        "x": "step",
        "width": 1200,
    }))?;
    let t = Instant::now();
    let first = series(&store, project, &query)?;
    let first_time = t.elapsed();
    let t = Instant::now();
    let again = series(&store, project, &query)?;
    let again_time = t.elapsed();
    anyhow::ensure!(first == again && first.runs.len() == ids.len());
    println!(
        "      then a series query over the {} runs of {project}: first {:.0} ms (loads their \
         histories), again {:.1} ms",
        ids.len(),
        ms(first_time),
        ms(again_time)
    );
    Ok(())
}

/// Creates runs number `range` in projects of 500, like a long-used data directory; returns the
/// bytes written.
fn make_runs(root: &Path, range: std::ops::Range<usize>) -> anyhow::Result<usize> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ range.start as u64);
    let mut bytes = 0;
    let created0 = now_secs() - 86_400.0 * 90.0;
    for i in range {
        let project = format!("project-{:02}", i / 500);
        let run_id = base36_id(i as u64 * 7_919 + 12_345);
        let dir = root.join(&project).join(&run_id);
        std::fs::create_dir_all(&dir)?;
        let created = created0 + i as f64 * 600.0;
        // Mostly finished runs; some failed; some left "running" by a crashed process elsewhere.
        let (state, exit) = match i % 20 {
            0 => ("failed", Some(1)),
            1 | 2 => ("running", None),
            _ => ("finished", Some(0)),
        };
        bytes += write_run_json(&dir, &run_id, &project, state, exit, created)?;
        let config = format!(
            r#"{{"lr": {}, "batch_size": {}, "epochs": 10, "seed": {i}, "model": {{"name": "resnet{}", "width": {}, "dropout": 0.1}}, "optimizer": {{"name": "adamw", "betas": [0.9, 0.999], "weight_decay": 0.01}}, "dataset": "cifar10", "augment": true, "_wandb": {{"cli_version": "0.1.0"}}}}"#,
            3e-4 * (1.0 + rng.unit()),
            [32, 64, 128, 256][i % 4],
            [18, 34, 50][i % 3],
            64 << (i % 3)
        );
        std::fs::write(dir.join(CONFIG_FILE), &config)?;
        let mut history = String::new();
        let mut last = String::new();
        for step in 0..20 {
            let loss = 2.3 * (-0.2 * step as f64).exp() + 0.05 * rng.unit();
            let acc = 1.0 - loss / 2.5;
            last.clear();
            let _ = write!(
                last,
                r#""_step": {step}, "_timestamp": {:.6}, "_runtime": {:.6}, "train/loss": "#,
                created + 30.0 * step as f64,
                30.0 * step as f64
            );
            py_float(loss, &mut last);
            last.push_str(r#", "train/acc": "#);
            py_float(acc, &mut last);
            let _ = write!(last, r#", "lr": 0.0003, "epoch": {}"#, step / 2);
            let _ = writeln!(history, "{{{last}}}");
        }
        let summary = format!(r#"{{{last}, "best/acc": 0.91, "notes": "ok"}}"#);
        std::fs::write(dir.join(SUMMARY_FILE), &summary)?;
        std::fs::write(dir.join(HISTORY_FILE), &history)?;
        bytes += config.len() + summary.len() + history.len();
    }
    Ok(bytes)
}

/// A run id of 8 lowercase base-36 characters, like the Python client's.
fn base36_id(mut x: u64) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut id = vec![b'0'; 8];
    for slot in id.iter_mut().rev() {
        *slot = digits[(x % 36) as usize];
        x /= 36;
    }
    String::from_utf8(id).expect("ASCII")
}

// ---------------------------------------------------------------------------------------------
// 3. Decimation

fn decimation(sizes: &Sizes) {
    let n = sizes.decimate_points;
    let mut rng = Rng(0x853c_49e6_748f_ea9b);
    let t = Instant::now();
    let mut series = Series::new();
    let t0 = 1_764_430_000.0;
    for i in 0..n {
        let p = i as f64 / n as f64;
        let mut v = 2.3 * (-4.0 * p).exp() + 0.05 + 0.1 * (rng.unit() - 0.5);
        if i % 50_000 == 49_999 {
            v = 40.0; // a spike decimation must not hide
        } else if i % 200_000 == 199_999 {
            v = f64::NAN;
        }
        series.push(i as f64, t0 + i as f64 * 0.05, v);
    }
    let built = t.elapsed();
    println!(
        "\n== 3. decimation: one series of {n} points (built by Series::push in {:.0} ms, {} points/s)",
        ms(built),
        mega(n as f64 / built.as_secs_f64())
    );
    let last = (n - 1) as f64;
    let width = 1200;
    let cases: [(&str, XAxis, (f64, f64)); 5] = [
        ("full window, x = step", XAxis::Step, (0.0, last)),
        (
            "full window, x = wall time",
            XAxis::WallTime,
            (t0, t0 + last * 0.05),
        ),
        (
            "zoom 10% (100k points)",
            XAxis::Step,
            (0.45 * last, 0.55 * last),
        ),
        (
            "zoom 1% (10k points)",
            XAxis::Step,
            (0.5 * last, 0.51 * last),
        ),
        (
            "zoom 0.05% (500 points < width)",
            XAxis::Step,
            (0.5 * last, 0.5005 * last),
        ),
    ];
    for (name, axis, window) in cases {
        // Repeat for ~0.3 s to get a stable figure.
        let mut times = Vec::new();
        let start = Instant::now();
        let mut columns = 0;
        while times.len() < 10
            || (start.elapsed() < Duration::from_millis(300) && times.len() < 5000)
        {
            let t = Instant::now();
            let b = black_box(decimate(&series, axis, t0, window, width));
            times.push(t.elapsed());
            columns = b.len();
            assert!(columns <= width as usize);
        }
        println!(
            "  {name:<34} width {width}: median {:>7.3} ms, min {:>7.3} ms ({columns} columns, {} calls)",
            ms(median(&times)),
            ms(min(&times)),
            times.len()
        );
    }
    // What the pyramid saves: one pass over every point, column by column (no first/last/counts).
    let t = Instant::now();
    let values = series.values();
    let mut mins = vec![f64::INFINITY; width as usize];
    let mut maxs = vec![f64::NEG_INFINITY; width as usize];
    for (i, &v) in values.iter().enumerate() {
        let c = ((i as f64 / last * f64::from(width)) as usize).min(width as usize - 1);
        if v.is_finite() {
            mins[c] = mins[c].min(v);
            maxs[c] = maxs[c].max(v);
        }
    }
    black_box((&mins, &maxs));
    println!(
        "  for reference, a naive O(points) min/max scan of the full window: {:.3} ms",
        ms(t.elapsed())
    );
    println!("  (one 60 Hz frame is 16.7 ms)");
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn new_store() -> Arc<Store> {
    Arc::new(Store::new(StoreSettings {
        heartbeat_timeout: Duration::from_secs(60),
        hostname: None,
        ..StoreSettings::default()
    }))
}

/// Writes `run.json` (format v1) and returns its size.
fn write_run_json(
    dir: &Path,
    id: &str,
    project: &str,
    state: &str,
    exit_code: Option<i32>,
    created: f64,
) -> anyhow::Result<usize> {
    let running = state == "running";
    let finished = if running {
        "null".to_owned()
    } else {
        format!("{:.3}", created + 600.0)
    };
    let exit = exit_code.map_or("null".to_owned(), |c| c.to_string());
    let text = format!(
        r#"{{"format_version": 1, "id": "{id}", "name": "{id}-name", "project": "{project}", "group": null, "tags": ["baseline", "bench"], "notes": null, "job_type": "train", "state": "{state}", "created_at": {created:.3}, "heartbeat_at": {:.3}, "finished_at": {finished}, "exit_code": {exit}, "host": "gpu-box-7", "command": ["train.py", "--lr", "0.0003"], "pid": 41233, "client": "trackline-python 0.1.0"}}"#,
        created + 590.0
    );
    std::fs::write(dir.join(RUN_FILE), &text)?;
    Ok(text.len())
}

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// CPU time (user + system) of this whole process so far, from `/proc/self/stat` (0 elsewhere).
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0.0;
    };
    let fields: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    fields.iter().sum::<f64>() / 100.0 // USER_HZ
}

fn now_secs() -> f64 {
    trackline::util::now_secs()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// "3.27 M" for 3,270,000.
fn mega(x: f64) -> String {
    format!("{:.2} M", x / 1e6)
}

fn min(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn max(times: &[Duration]) -> Duration {
    times.iter().copied().max().unwrap_or_default()
}

fn median(times: &[Duration]) -> Duration {
    percentile(times, 50.0)
}

/// Nearest-rank percentile.
fn percentile(times: &[Duration], p: f64) -> Duration {
    if times.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A figure against a goal it must reach.
fn vs_goal_min(value: f64, goal: f64, unit: &str) -> String {
    format!(
        "goal >= {goal_s} {unit}: {ratio:.2}x the goal ({verdict})",
        goal_s = mega(goal),
        ratio = value / goal,
        verdict = if value >= goal {
            "meets it"
        } else {
            "BELOW the goal"
        }
    )
}

/// A figure against a goal it must stay under.
fn vs_goal_max(value: f64, goal: f64, unit: &str) -> String {
    format!(
        "{value:.0} {unit}, goal <= {goal:.0} {unit}: {:.2}x the goal ({})",
        value / goal,
        if value <= goal {
            "meets it"
        } else {
            "OVER the goal"
        }
    )
}
