//! End-to-end latency benchmarks against a real daemon process (see docs/benchmarks.md):
//!
//! a. a line appended to `history.jsonl` → the WebSocket `points` delta carrying it;
//! b. Python `trackline.log()` → that delta (client buffering and flush interval included).
//!
//! Run with `TRACKLINE_SKIP_WEB=1 cargo bench -p trackline-tests --bench latency`; add
//! `-- --quick` (or set `TRACKLINE_BENCH_QUICK=1`) for fewer samples. Figures are printed next to
//! their goals; nothing is asserted about timings, since machines are noisy.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use trackline_shared::ServerMsg;
use trackline_tests::daemon::Daemon;
use trackline_tests::machine::load_average;

/// The daemon binary, built by cargo for this package (the same one the end-to-end tests spawn).
/// `TRACKLINE_BENCH_DAEMON=<path>` measures another build of `trackline` instead.
const DAEMON: &str = env!("CARGO_BIN_EXE_trackline-under-test");

/// Goal: p99 of file append → WebSocket delta.
const GOAL_APPEND_P99_MS: f64 = 20.0;
/// Goal: p99 of Python `log()` → WebSocket delta.
const GOAL_PYTHON_P99_MS: f64 = 200.0;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn main() -> anyhow::Result<()> {
    let quick = trackline_tests::machine::quick();
    let (appends, logs) = if quick { (100, 100) } else { (500, 300) };
    // Positional arguments pick sections (`append`, `python`); none means all.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    println!(
        "trackline latency benchmarks{} ({} CPUs available; load average {}; daemon: {})",
        if quick { " [quick]" } else { "" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        Daemon::binary(DAEMON).display()
    );
    let total = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if wanted("append") {
        rt.block_on(append_to_delta(appends, 0))?;
        // The same with a data directory that has history: a daemon's work must not grow with it.
        rt.block_on(append_to_delta(
            appends / 2,
            if quick { 500 } else { 2_000 },
        ))?;
    }
    if wanted("python") {
        rt.block_on(python_to_delta(logs))?;
    }
    println!(
        "\ntotal bench time {:.1} s (load average {})",
        total.elapsed().as_secs_f64(),
        load_average()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// a. File append → WebSocket delta

async fn append_to_delta(appends: u64, other_runs: usize) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("trackline");
    std::fs::create_dir_all(&root)?;
    println!(
        "\n== a. append to history.jsonl -> WebSocket points delta ({appends} appends, one line \
         each, ~10 ms apart; {other_runs} other runs in the data directory)"
    );
    if other_runs > 0 {
        let t = Instant::now();
        make_finished_runs(&root, other_runs)?;
        println!(
            "  created the other runs in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let daemon = Daemon::start(
        &Daemon::binary(DAEMON),
        &root,
        0,
        &tmp.path().join("daemon.log"),
    )?;

    // A run appears while the daemon watches: run.json first, then history.jsonl.
    let run_dir = root.join("p").join("r");
    std::fs::create_dir_all(&run_dir)?;
    let created = unix_now();
    write_atomic(
        &run_dir.join("run.json"),
        &format!(
            r#"{{"format_version": 1, "id": "r", "name": "latency", "project": "p", "state": "running", "created_at": {created}, "heartbeat_at": {created}, "tags": []}}"#
        ),
    )?;
    let mut history = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(run_dir.join("history.jsonl"))?;
    history.write_all(row(0, created).as_bytes())?;

    let mut ws = connect(&daemon).await?;
    subscribe_series(&mut ws, "p", "r", "loss").await?;
    // The snapshot (or the first delta) carries step 0.
    wait_for_step(&mut ws, 0, Duration::from_secs(10))
        .await?
        .context("step 0 never arrived")?;

    // Nothing is being written now: an idle daemon should use next to no CPU.
    let idle = daemon.cpu_seconds()?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = (daemon.cpu_seconds()? - idle) / 2.0;
    println!(
        "  daemon CPU while nothing is written: {:.0}% of one core{}",
        idle * 100.0,
        if idle > 0.05 { " (expected ~0)" } else { "" }
    );

    let warmup = 5;
    let mut latencies = Vec::with_capacity(appends as usize);
    let mut lost = 0;
    let period = Duration::from_millis(10);
    let mut next = Instant::now() + period;
    for step in 1..=appends + warmup {
        tokio::time::sleep_until(next.into()).await;
        next += period;
        let line = row(step, unix_now());
        let sent = Instant::now();
        history.write_all(line.as_bytes())?; // one write(2) of one whole line
        match wait_for_step(&mut ws, step, Duration::from_secs(2)).await? {
            Some(_) if step <= warmup => {}
            Some(_) => latencies.push(sent.elapsed()),
            None => lost += 1,
        }
        if Instant::now() > next {
            next = Instant::now() + period;
        }
    }
    report(&latencies, lost, GOAL_APPEND_P99_MS);
    check_alive(daemon)?;
    Ok(())
}

/// A history row as the Python client formats it.
fn row(step: u64, t: f64) -> String {
    format!(
        "{{\"_step\": {step}, \"_timestamp\": {t:.6}, \"_runtime\": {:.6}, \"loss\": {}}}\n",
        step as f64 * 0.01,
        1.0 / (1.0 + step as f64)
    )
}

/// Reads messages until a `points` message covering `step` arrives; `None` on timeout.
async fn wait_for_step(ws: &mut Ws, step: u64, timeout: Duration) -> anyhow::Result<Option<()>> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let msg = match tokio::time::timeout_at(deadline, next_msg(ws)).await {
            Ok(msg) => msg?,
            Err(_) => return Ok(None),
        };
        if let ServerMsg::Points { step: steps, .. } = msg
            && steps.iter().any(|&s| s >= step as f64)
        {
            return Ok(Some(()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// b. Python log() → WebSocket delta

/// The Python side: waits for a line on stdin, then logs `n` rows 20 ms apart, printing the wall
/// time of each `log()` call (`<step> <time>`). To split the latency into client and daemon parts,
/// it also reports each append the client makes to history.jsonl (`w <lines> <time after write>`)
/// when the client's writer class (`AppendFile`, formerly `HistoryFile`) has the expected shape
/// (skipped otherwise).
const PY_SCRIPT: &str = r#"
import sys, threading, time
import trackline
out_lock = threading.Lock()
def say(text):
    with out_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
try:
    from trackline import _writer
    cls = getattr(_writer, "AppendFile", None) or getattr(_writer, "HistoryFile")
    _write_lines = cls.write_lines
    def write_lines(self, lines):
        ok = _write_lines(self, lines)
        if lines and str(getattr(self, "path", "")).endswith("history.jsonl"):
            say("w %d %r" % (len(lines), time.time()))
        return ok
    cls.write_lines = write_lines
except (ImportError, AttributeError):
    pass
n = int(sys.argv[2])
run = trackline.init(project="p", dir=sys.argv[1])
say("run " + run.id)
sys.stdin.readline()
for i in range(n):
    t = time.time()
    trackline.log({"loss": i})
    say("%d %r" % (i, t))
    time.sleep(0.02)
trackline.finish()
say("done")
"#;

async fn python_to_delta(logs: u64) -> anyhow::Result<()> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the tests crate lives in the workspace")?
        .to_owned();
    let pythonpath = workspace.join("python");
    println!(
        "\n== b. Python trackline.log() -> WebSocket points delta ({logs} calls, 20 ms apart)"
    );
    let probe = Command::new("python3")
        .args(["-c", "import trackline"])
        .env("PYTHONPATH", &pythonpath)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        println!(
            "  skipped: python client not available (python3 cannot import trackline from {})",
            pythonpath.display()
        );
        return Ok(());
    }

    // init(dir=X) writes under X/trackline: the daemon watches that root.
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("trackline");
    std::fs::create_dir_all(&root)?;
    let daemon = Daemon::start(
        &Daemon::binary(DAEMON),
        &root,
        0,
        &tmp.path().join("daemon.log"),
    )?;
    let default_interval = "client default (TRACKLINE_FLUSH_INTERVAL unset)";
    for (label, interval) in [
        (default_interval, None),
        ("TRACKLINE_FLUSH_INTERVAL=0.05", Some("0.05")),
    ] {
        println!("  flush interval: {label}");
        let r = python_run(&daemon, tmp.path(), &pythonpath, logs, interval).await?;
        report(&r.total, r.lost, GOAL_PYTHON_P99_MS);
        if r.writes > 0 {
            println!(
                "    of which log() -> line written by the client: {}",
                spread(&r.client)
            );
            println!(
                "    of which line written -> delta received:       {}",
                spread(&r.daemon)
            );
            println!(
                "    the client appended {} times; gap between appends: {}",
                r.writes,
                spread(&r.write_gaps)
            );
        }
    }
    check_alive(daemon)?;
    Ok(())
}

/// What one run of the Python script measured.
struct PyRun {
    /// `log()` → delta, per logged step.
    total: Vec<Duration>,
    /// Logged steps whose delta never arrived.
    lost: usize,
    /// `log()` → the client's append of that line to history.jsonl returned.
    client: Vec<Duration>,
    /// That append → delta.
    daemon: Vec<Duration>,
    /// Appends with at least one line, and the time between consecutive ones.
    writes: usize,
    write_gaps: Vec<Duration>,
}

/// Runs the script once against the daemon.
async fn python_run(
    daemon: &Daemon,
    dir: &Path,
    pythonpath: &Path,
    logs: u64,
    flush_interval: Option<&str>,
) -> anyhow::Result<PyRun> {
    let mut cmd = tokio::process::Command::new("python3");
    cmd.arg("-c")
        .arg(PY_SCRIPT)
        .arg(dir)
        .arg(logs.to_string())
        .env("PYTHONPATH", pythonpath)
        .env_remove("TRACKLINE_DIR")
        .env_remove("TRACKLINE_FLUSH_INTERVAL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    if let Some(interval) = flush_interval {
        cmd.env("TRACKLINE_FLUSH_INTERVAL", interval);
    }
    let mut child = cmd.spawn().context("cannot start python3")?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().context("no stdout")?).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .context("the Python script did not start within 30 s")??
        .context("the Python script exited before init()")?;
    let run_id = first
        .strip_prefix("run ")
        .with_context(|| format!("unexpected first line from the script: {first:?}"))?
        .to_owned();

    let mut ws = connect(daemon).await?;
    subscribe_series(&mut ws, "p", &run_id, "loss").await?;
    stdin.write_all(b"go\n").await?;
    stdin.flush().await?;

    // Both clocks are this machine's wall clock: the script prints time.time() before each
    // log() and after each append, and a delta's arrival is stamped with SystemTime here.
    let mut logged: HashMap<u64, f64> = HashMap::new();
    let mut writes: Vec<(u64, f64)> = Vec::new();
    let mut arrived: HashMap<u64, f64> = HashMap::new();
    let mut script_done = false;
    let mut deadline = tokio::time::Instant::now() + Duration::from_secs(30 + logs / 20);
    while !(script_done && arrived.len() as u64 >= logs) {
        tokio::select! {
            line = lines.next_line(), if !script_done => {
                let line = line?;
                match line.as_deref().map(|l| l.split(' ').collect::<Vec<_>>()).as_deref() {
                    Some(["done"]) | None => {
                        script_done = true;
                        // The last flush arrives within moments; don't wait for more.
                        deadline =
                            deadline.min(tokio::time::Instant::now() + Duration::from_secs(3));
                    }
                    Some(["w", n, t]) => writes.push((n.parse()?, t.parse()?)),
                    Some([step, t]) => {
                        logged.insert(step.parse()?, t.parse()?);
                    }
                    _ => bail!("unexpected line from the script: {line:?}"),
                }
            }
            msg = next_msg(&mut ws) => {
                let now = unix_now();
                if let ServerMsg::Points { step, .. } = msg? {
                    for s in step {
                        arrived.entry(s as u64).or_insert(now);
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    let _ = child.wait().await;
    if logged.len() as u64 != logs {
        bail!("the script reported {} of {logs} log() calls", logged.len());
    }
    let secs = |s: f64| Duration::from_secs_f64(s.max(0.0));
    // Steps are 0, 1, 2, … in order, and each append writes the next `n` of them.
    let mut write_of_step = Vec::with_capacity(logs as usize);
    for &(n, t) in &writes {
        write_of_step.extend(std::iter::repeat_n(t, n as usize));
    }
    let mut r = PyRun {
        total: Vec::new(),
        lost: 0,
        client: Vec::new(),
        daemon: Vec::new(),
        writes: writes.len(),
        write_gaps: writes.windows(2).map(|w| secs(w[1].1 - w[0].1)).collect(),
    };
    for step in 0..logs {
        let t = logged[&step];
        let Some(&a) = arrived.get(&step) else {
            r.lost += 1;
            continue;
        };
        r.total.push(secs(a - t));
        if let Some(&w) = write_of_step.get(step as usize) {
            r.client.push(secs(w - t));
            r.daemon.push(secs(a - w));
        }
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// The daemon process and the WebSocket client

/// A WebSocket to the daemon's `/api/ws`.
async fn connect(daemon: &Daemon) -> anyhow::Result<Ws> {
    let url = format!("ws://127.0.0.1:{}/api/ws", daemon.port);
    let (ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    Ok(ws)
}

/// Fails if the daemon exited on its own during the benchmark (it is killed when dropped).
fn check_alive(mut daemon: Daemon) -> anyhow::Result<()> {
    if !daemon.alive() {
        bail!("the daemon exited during the benchmark; see its log in the benchmark's temp dir");
    }
    Ok(())
}

/// Subscribes to a series as id 1, retrying while the daemon has not discovered the run yet.
async fn subscribe_series(ws: &mut Ws, project: &str, run: &str, key: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let request = serde_json::json!({
        "type": "subscribe",
        "id": 1,
        "topic": {"kind": "series", "project": project, "run": run, "key": key, "from": 0},
    })
    .to_string();
    loop {
        ws.send(Message::Text(request.clone().into())).await?;
        loop {
            match next_msg(ws).await? {
                ServerMsg::Subscribed { id: 1 } => return Ok(()),
                ServerMsg::Error { message, .. } => {
                    if Instant::now() > deadline {
                        bail!("cannot subscribe to {project}/{run}/{key}: {message}");
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    break;
                }
                _ => {}
            }
        }
    }
}

async fn next_msg(ws: &mut Ws) -> anyhow::Result<ServerMsg> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str())
                    .with_context(|| format!("bad server message {text}"));
            }
            Some(Ok(Message::Close(frame))) => bail!("the daemon closed the WebSocket: {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => bail!("the WebSocket ended"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// `n` finished runs with a short history each, in projects of 500 (besides project `p`).
fn make_finished_runs(root: &Path, n: usize) -> anyhow::Result<()> {
    let created0 = unix_now() - 86_400.0 * 30.0;
    for i in 0..n {
        let (project, id) = (format!("old-{:02}", i / 500), format!("run{i:05}"));
        let dir = root.join(&project).join(&id);
        std::fs::create_dir_all(&dir)?;
        let created = created0 + i as f64 * 60.0;
        std::fs::write(
            dir.join("run.json"),
            format!(
                r#"{{"format_version": 1, "id": "{id}", "name": "{id}", "project": "{project}", "state": "finished", "created_at": {created:.3}, "heartbeat_at": {:.3}, "finished_at": {:.3}, "exit_code": 0, "tags": []}}"#,
                created + 50.0,
                created + 50.0
            ),
        )?;
        std::fs::write(
            dir.join("config.json"),
            r#"{"lr": 0.001, "batch_size": 64}"#,
        )?;
        std::fs::write(dir.join("summary.json"), r#"{"loss": 0.05, "_step": 19}"#)?;
        let history: String = (0..20).map(|s| row(s, created + s as f64)).collect();
        std::fs::write(dir.join("history.jsonl"), history)?;
    }
    Ok(())
}

/// Replaces a small JSON file the way clients must: temp file in the same folder, then rename.
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let name = path.file_name().context("a file path")?.to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp-bench"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Nearest-rank percentile, in ms, of sorted durations.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

/// "p50 … ms, p99 … ms, max … ms" of some durations.
fn spread(times: &[Duration]) -> String {
    if times.is_empty() {
        return "no samples".into();
    }
    let mut sorted = times.to_vec();
    sorted.sort();
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(&sorted, 50.0),
        pct(&sorted, 99.0),
        pct(&sorted, 100.0)
    )
}

fn report(latencies: &[Duration], lost: usize, goal_p99_ms: f64) {
    if latencies.is_empty() {
        println!("  no samples ({lost} lost)");
        return;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let mean = sorted.iter().map(Duration::as_secs_f64).sum::<f64>() / sorted.len() as f64 * 1e3;
    let p99 = pct(&sorted, 99.0);
    println!(
        "  {} samples{}: p50 {:.2} ms, mean {mean:.2} ms, p90 {:.2} ms, p99 {p99:.2} ms, max {:.2} ms",
        sorted.len(),
        if lost > 0 {
            format!(" ({lost} never arrived)")
        } else {
            String::new()
        },
        pct(&sorted, 50.0),
        pct(&sorted, 90.0),
        pct(&sorted, 100.0),
    );
    println!(
        "  goal p99 <= {goal_p99_ms:.0} ms: {:.2}x the goal ({})",
        p99 / goal_p99_ms,
        if p99 <= goal_p99_ms && lost == 0 {
            "meets it"
        } else {
            "MISSES it"
        }
    );
}
