//! Remote ingest throughput and latency against a real daemon process (see docs/benchmarks.md):
//! many clients POST `/api/ingest/v1/batch` over keep-alive HTTP/1.1 connections on 127.0.0.1,
//! one tokio task and one connection per client, each streaming its own run.
//!
//! a. 32 clients × 1-row batches (many small writers: group commit must share the fsyncs);
//! b. 8 clients × 5,000-row batches (few large writers).
//!
//! A row is a training step as the Python client writes it: `_step`, `_timestamp`, `_runtime` and
//! [`METRICS`] metrics; a **point is one metric value of one row** (the three `_` fields are not
//! counted), so a row is [`METRICS`] points. Each section runs idle and then with one core kept busy
//! by a spinning thread of this program, and prints the load average. An acknowledged batch is
//! durable, so every figure includes the fsyncs; at the end every run's `history.jsonl` must hold
//! exactly the rows acknowledged.
//!
//! Run with `TRACKLINE_SKIP_WEB=1 cargo bench -p trackline-tests --bench remote`; `-- --quick` for
//! shorter sections; `TRACKLINE_BENCH_DAEMON=<path>` measures another build of `trackline`.
//! Nothing about timings is asserted.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]

use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use trackline_tests::daemon::Daemon;
use trackline_tests::machine::{BusyCore, load_average};

const DAEMON: &str = env!("CARGO_BIN_EXE_trackline-under-test");

/// Metrics per row besides `_step`, `_timestamp` and `_runtime`: the points of one row.
const METRICS: usize = 8;

/// Goal: small batches, points/s over all clients.
const GOAL_SMALL_POINTS_PER_SEC: f64 = 100_000.0;
/// Goal: small batches, p99 of one batch's round trip.
const GOAL_SMALL_P99_MS: f64 = 100.0;
/// Goal: large batches, points/s over all clients.
const GOAL_LARGE_POINTS_PER_SEC: f64 = 1_500_000.0;

/// One section: clients × rows per batch, for a while.
#[derive(Debug, Clone, Copy)]
struct Section {
    name: &'static str,
    clients: usize,
    rows_per_batch: usize,
    duration: Duration,
    goal_points_per_sec: f64,
    goal_p99_ms: Option<f64>,
}

fn main() -> anyhow::Result<()> {
    let quick = trackline_tests::machine::quick();
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let secs = if quick { 3 } else { 8 };
    println!(
        "trackline remote ingest benchmark{} ({} CPUs available; load average {}; daemon: {})",
        if quick { " [quick]" } else { "" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        Daemon::binary(DAEMON).display()
    );
    println!(
        "a point is one metric value of one row; a row is `_step`, `_timestamp`, `_runtime` and \
         {METRICS} metrics ({METRICS} points)"
    );
    let sections = [
        Section {
            name: "small",
            clients: 32,
            rows_per_batch: 1,
            duration: Duration::from_secs(secs),
            goal_points_per_sec: GOAL_SMALL_POINTS_PER_SEC,
            goal_p99_ms: Some(GOAL_SMALL_P99_MS),
        },
        Section {
            name: "large",
            clients: 8,
            rows_per_batch: 5_000,
            duration: Duration::from_secs(secs),
            goal_points_per_sec: GOAL_LARGE_POINTS_PER_SEC,
            goal_p99_ms: None,
        },
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for section in sections.iter().filter(|s| wanted(s.name)) {
        for busy in [false, true] {
            rt.block_on(run_section(*section, busy))?;
        }
    }
    Ok(())
}

/// CPU time (user + system) of the calling thread so far, in seconds: the clients' runtime runs
/// on the main thread only, so this is the benchmark client's own cost (0 where `/proc` is absent).
fn client_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0.0;
    };
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The machine's CPU time, busy and in all, from the first line of `/proc/stat` (Linux).
#[derive(Debug, Clone, Copy)]
struct MachineCpu {
    busy: u64,
    total: u64,
}

impl MachineCpu {
    fn read() -> Option<MachineCpu> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let ticks: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
        let total: u64 = ticks.iter().take(8).sum();
        let idle = ticks.get(3)? + ticks.get(4).unwrap_or(&0);
        Some(MachineCpu {
            busy: total - idle,
            total,
        })
    }

    /// The share of all cores' time that was busy since `before`.
    fn busy_since(self, before: Option<MachineCpu>) -> Option<f64> {
        let before = before?;
        let total = self.total.checked_sub(before.total)?;
        (total > 0).then(|| self.busy.saturating_sub(before.busy) as f64 / total as f64)
    }
}

/// What one client did.
#[derive(Debug, Default)]
struct ClientReport {
    rows: u64,
    latencies_us: Vec<u64>,
}

async fn run_section(section: Section, busy: bool) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("data");
    std::fs::create_dir_all(&root)?;
    let daemon = Daemon::start(
        &Daemon::binary(DAEMON),
        &root,
        0,
        &tmp.path().join("daemon.log"),
    )?;
    let token = std::fs::read_to_string(root.join(".trackline/api_key"))
        .context("reading the daemon's write token")?
        .trim()
        .to_owned();
    let _busy = if busy { Some(BusyCore::start()?) } else { None };
    println!(
        "\n== {}: {} clients × {}-row batches, {} s{} (load average before: {})",
        section.name,
        section.clients,
        section.rows_per_batch,
        section.duration.as_secs(),
        if busy {
            ", one core kept busy"
        } else {
            ", idle"
        },
        load_average()
    );
    let cpu_before = daemon.cpu_seconds().unwrap_or(0.0);
    let threads_before = daemon.thread_cpu_seconds().unwrap_or_default();
    let client_cpu_before = client_cpu_seconds();
    let machine_before = MachineCpu::read();
    let started = Instant::now();
    let deadline = started + section.duration;
    let mut tasks = Vec::new();
    for client in 0..section.clients {
        let token = token.clone();
        let port = daemon.port;
        tasks.push(tokio::spawn(async move {
            run_client(port, &token, client, section.rows_per_batch, deadline).await
        }));
    }
    let mut reports = Vec::new();
    for t in tasks {
        reports.push(t.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = daemon.cpu_seconds().unwrap_or(0.0) - cpu_before;
    let threads = daemon.thread_cpu_seconds().unwrap_or_default();
    let client_cpu = client_cpu_seconds() - client_cpu_before;
    let machine_busy = MachineCpu::read().and_then(|now| now.busy_since(machine_before));
    let rows: u64 = reports.iter().map(|r| r.rows).sum();
    let mut latencies: Vec<u64> = reports.into_iter().flat_map(|r| r.latencies_us).collect();
    latencies.sort_unstable();
    let points_per_sec = rows as f64 * METRICS as f64 / elapsed;
    let ms = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    let points = rows * METRICS as u64;
    println!(
        "  {} batches, {rows} rows, {points} points in {elapsed:.1} s",
        latencies.len(),
    );
    println!(
        "  CPU: daemon {:.0}% of a core ({:.2} CPU-s per million points), this client {:.0}% \
         ({:.2} CPU-s per million points); all cores {}",
        cpu / elapsed * 100.0,
        cpu / points as f64 * 1e6,
        client_cpu / elapsed * 100.0,
        client_cpu / points as f64 * 1e6,
        machine_busy.map_or("unknown".into(), |busy| format!(
            "{:.0}% busy",
            busy * 100.0
        )),
    );
    println!(
        "  daemon CPU per batch by thread: {}; the whole process {:.1} µs (the rest in threads \
         that ended meanwhile)",
        per_batch_by_thread(&threads_before, &threads, latencies.len()),
        cpu / latencies.len().max(1) as f64 * 1e6
    );
    println!(
        "  throughput {:.0} points/s ({:.0} batches/s)   goal ≥ {:.0} points/s: {}",
        points_per_sec,
        latencies.len() as f64 / elapsed,
        section.goal_points_per_sec,
        verdict(points_per_sec >= section.goal_points_per_sec)
    );
    let p99 = ms(0.99);
    println!(
        "  batch round trip p50 {:.2} ms, p99 {p99:.2} ms, max {:.2} ms{}",
        ms(0.5),
        ms(1.0),
        section.goal_p99_ms.map_or(String::new(), |goal| format!(
            "   goal p99 ≤ {goal:.0} ms: {}",
            verdict(p99 <= goal)
        ))
    );
    println!("  load average after: {}", load_average());
    // Every acknowledged row is in its run's history, once.
    let mut on_disk = 0u64;
    for client in 0..section.clients {
        let history = root
            .join("bench")
            .join(run_id(client))
            .join("history.jsonl");
        on_disk += std::fs::read(&history)
            .with_context(|| format!("reading {}", history.display()))?
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
    }
    if on_disk != rows {
        bail!("{rows} rows acknowledged but {on_disk} in history.jsonl");
    }
    println!("  {rows} rows acknowledged, {on_disk} in the runs' history.jsonl");
    Ok(())
}

/// Each daemon thread's CPU time per batch over the section (threads of one name summed, busiest
/// first; threads that ended meanwhile are not seen), e.g. `tokio-rt-worker 55.1 µs, …`.
fn per_batch_by_thread(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
    batches: usize,
) -> String {
    let mut used: Vec<(&String, f64)> = after
        .iter()
        .map(|(name, s)| (name, s - before.get(name).copied().unwrap_or(0.0)))
        .filter(|(_, s)| *s > 0.0)
        .collect();
    used.sort_by(|a, b| b.1.total_cmp(&a.1));
    let per_batch = |s: f64| s / batches.max(1) as f64 * 1e6;
    let parts: Vec<String> = used
        .iter()
        .map(|(name, s)| format!("{name} {:.1} µs", per_batch(*s)))
        .collect();
    format!(
        "{} (all {:.1} µs)",
        parts.join(", "),
        per_batch(used.iter().map(|(_, s)| s).sum())
    )
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

fn run_id(client: usize) -> String {
    format!("client-{client:03}")
}

/// One client: its own connection and run; sends batches back to back until `deadline`.
async fn run_client(
    port: u16,
    token: &str,
    client: usize,
    rows_per_batch: usize,
    deadline: Instant,
) -> anyhow::Result<ClientReport> {
    let mut conn = Conn::open(port, token).await?;
    let run = run_id(client);
    let run_file = serde_json::json!({
        "format_version": 1, "id": run, "project": "bench", "name": run,
        "state": "running", "created_at": 1.7e9, "heartbeat_at": 1.7e9, "tags": []
    });
    let mut report = ClientReport::default();
    let mut offset = 0u64;
    let mut step = 0u64;
    let begun = Instant::now();
    let mut data = String::with_capacity(rows_per_batch * 160);
    let mut body = Vec::with_capacity(rows_per_batch * 200 + 512);
    while Instant::now() < deadline {
        data.clear();
        for _ in 0..rows_per_batch {
            push_row(&mut data, step, begun.elapsed().as_secs_f64());
            step += 1;
        }
        body.clear();
        serde_json::to_writer(
            &mut body,
            &BatchBody {
                project: "bench",
                run: &run,
                append: AppendBody {
                    history: Chunk {
                        offset,
                        data: &data,
                    },
                },
                files: (offset == 0).then_some(RunFileBody {
                    run_file: &run_file,
                }),
            },
        )?;
        if body.len() > 1 << 20 {
            bail!(
                "a batch of {} bytes is over the daemon's 1 MiB cap",
                body.len()
            );
        }
        let sent = Instant::now();
        let status = conn.post("/api/ingest/v1/batch", &body).await?;
        report.latencies_us.push(sent.elapsed().as_micros() as u64);
        if status != 200 {
            bail!("HTTP {status}: {}", String::from_utf8_lossy(conn.answer()));
        }
        offset += data.len() as u64;
        report.rows += rows_per_batch as u64;
    }
    Ok(report)
}

/// A batch body as a remote client sends it (docs/api.md), written without building a JSON tree.
#[derive(serde::Serialize)]
struct BatchBody<'a> {
    project: &'a str,
    run: &'a str,
    append: AppendBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<RunFileBody<'a>>,
}

#[derive(serde::Serialize)]
struct AppendBody<'a> {
    #[serde(rename = "history.jsonl")]
    history: Chunk<'a>,
}

#[derive(serde::Serialize)]
struct Chunk<'a> {
    offset: u64,
    data: &'a str,
}

#[derive(serde::Serialize)]
struct RunFileBody<'a> {
    #[serde(rename = "run.json")]
    run_file: &'a serde_json::Value,
}

/// A row the way the Python client writes one: `_step`, `_timestamp`, `_runtime` first.
fn push_row(out: &mut String, step: u64, runtime: f64) {
    use std::fmt::Write;
    let x = step as f64;
    let _ = write!(
        out,
        r#"{{"_step": {step}, "_timestamp": {:.6}, "_runtime": {runtime:.6}"#,
        1.7e9 + runtime
    );
    let names = ["loss", "acc", "lr", "gn", "vl", "va", "tp", "mem"];
    for (i, name) in names.iter().enumerate().take(METRICS) {
        let _ = write!(
            out,
            r#", "{name}": {:.3}"#,
            (x * 0.001 + i as f64).sin().abs()
        );
    }
    out.push_str("}\n");
}

/// One keep-alive HTTP/1.1 connection. A request goes out in one write (head and body), and of
/// an answer only the status line and `Content-Length` are read, as a lean client would.
struct Conn {
    stream: TcpStream,
    token: String,
    /// The request being sent.
    out: Vec<u8>,
    /// Bytes read and not yet taken: the start of the next answer, if any.
    buf: Vec<u8>,
    /// The last answer's body, in `buf[answer.0..answer.1]` until the next request.
    answer: (usize, usize),
}

impl Conn {
    async fn open(port: u16, token: &str) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            token: token.to_owned(),
            out: Vec::with_capacity(4096),
            buf: Vec::with_capacity(4096),
            answer: (0, 0),
        })
    }

    /// POSTs `body` (JSON) to `path`; the answer's status. Its body is [`Conn::answer`].
    async fn post(&mut self, path: &str, body: &[u8]) -> anyhow::Result<u16> {
        use std::io::Write;
        self.buf.drain(..self.answer.1);
        self.answer = (0, 0);
        self.out.clear();
        write!(
            self.out,
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.token,
            body.len()
        )?;
        self.out.extend_from_slice(body);
        self.stream.write_all(&self.out).await?;
        // Read the head, then as many body bytes as Content-Length says.
        let end = loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            self.read_more().await?;
        };
        let head = std::str::from_utf8(&self.buf[..end]).context("a head that is not UTF-8")?;
        let status: u16 = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("not an HTTP answer: {head:?}"))?;
        let length: usize = head
            .split("\r\n")
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .context("an answer without Content-Length")?;
        while self.buf.len() < end + 4 + length {
            self.read_more().await?;
        }
        self.answer = (end + 4, end + 4 + length);
        Ok(status)
    }

    /// The body of the last answer.
    fn answer(&self) -> &[u8] {
        &self.buf[self.answer.0..self.answer.1]
    }

    async fn read_more(&mut self) -> anyhow::Result<()> {
        self.buf.reserve(8192);
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            bail!("the daemon closed the connection");
        }
        Ok(())
    }
}
