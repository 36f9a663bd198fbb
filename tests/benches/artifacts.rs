//! Artifact remote ingest against a real daemon process (see docs/benchmarks.md):
//!
//! a. upload: one 1 GB blob (`--quick`: 128 MiB) in 8 MiB chunks through
//!    `POST /api/ingest/v1/blob` (each chunk fdatasynced before its answer, the whole verified by
//!    SHA-256 and linked to its hash), against the same bytes POSTed to a trivial sink in this
//!    program that reads and drops them (raw HTTP over the same loopback) and written with an
//!    fdatasync per chunk to a file on the same disk (raw durable write); the daemon's peak RSS;
//! b. commit: a 10,000-file manifest (`--quick`: 2,000) through `POST /api/ingest/v1/artifacts`
//!    (every blob checked present, the version file written, fsynced and linked), after one
//!    `blobs/missing` question for all its hashes; then the same content again (reused).
//!
//! Each section runs idle and then with one core kept busy by a spinning thread of this program,
//! and prints the load average beside its figures.
//!
//! Run with `TRACKLINE_SKIP_WEB=1 cargo bench -p trackline-tests --bench artifacts`; `-- --quick`
//! for less data; `-- upload` or `-- commit` for one section; `TRACKLINE_BENCH_DAEMON=<path>`
//! measures another build of `trackline`. Nothing about timings is asserted.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]

use anyhow::{Context, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use trackline_tests::daemon::Daemon;
use trackline_tests::machine::{BusyCore, load_average};

const DAEMON: &str = env!("CARGO_BIN_EXE_trackline-under-test");

/// Bytes of one upload chunk (the daemon's limit).
const CHUNK: usize = 8 << 20;
/// Goal: upload throughput through the daemon, as a share of the slower of raw HTTP POSTs of the
/// same bytes and a raw durable write of them (each chunk written and fdatasynced to a file on the
/// same disk): the daemon does both, and hashes.
const GOAL_UPLOAD_SHARE_OF_RAW: f64 = 0.5;
/// Goal: the daemon's peak resident memory while it takes a 1 GB upload.
const GOAL_PEAK_RSS_MB: f64 = 100.0;
/// Goal: one commit of a 10,000-file manifest.
const GOAL_COMMIT_MS: f64 = 500.0;

fn main() -> anyhow::Result<()> {
    let quick = trackline_tests::machine::quick();
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    println!(
        "trackline artifacts benchmark{} ({} CPUs available; load average {}; daemon: {})",
        if quick { " [quick]" } else { "" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        Daemon::binary(DAEMON).display()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let blob_bytes: u64 = if quick { 128 << 20 } else { 1_000_000_000 };
    let files = if quick { 2_000 } else { 10_000 };
    for busy in [false, true] {
        if wanted("upload") {
            rt.block_on(upload(blob_bytes, busy))?;
        }
        if wanted("commit") {
            rt.block_on(commit(files, busy))?;
        }
    }
    Ok(())
}

/// The chunk at `offset` of the benchmark blob: a fixed pattern with the offset written in, so
/// every chunk differs and nothing needs holding but one chunk.
fn chunk_at(pattern: &[u8], offset: u64, len: usize) -> Vec<u8> {
    let mut out = pattern[..len].to_vec();
    let stamp = offset.to_le_bytes();
    out[..stamp.len().min(len)].copy_from_slice(&stamp[..stamp.len().min(len)]);
    out
}

fn pattern() -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..CHUNK)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn start_daemon(tmp: &Path) -> anyhow::Result<(Daemon, String)> {
    let root = tmp.join("data");
    std::fs::create_dir_all(&root)?;
    let daemon = Daemon::start(&Daemon::binary(DAEMON), &root, 0, &tmp.join("daemon.log"))?;
    let token = daemon.token()?;
    Ok((daemon, token))
}

fn section_title(name: &str, what: String, busy: bool) {
    println!(
        "\n== {name}: {what}{} (load average before: {})",
        if busy {
            ", one core kept busy"
        } else {
            ", idle"
        },
        load_average()
    );
}

async fn upload(size: u64, busy: bool) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (daemon, token) = start_daemon(tmp.path())?;
    let pattern = pattern();
    let mut hasher = Sha256::new();
    let mut at = 0u64;
    while at < size {
        let len = (size - at).min(CHUNK as u64) as usize;
        hasher.update(chunk_at(&pattern, at, len));
        at += len as u64;
    }
    let hash = hex(&hasher.finalize());
    let sink = Sink::start()?;
    let _busy = if busy { Some(BusyCore::start()?) } else { None };
    section_title(
        "upload",
        format!("{:.0} MB in {} MiB chunks", size as f64 / 1e6, CHUNK >> 20),
        busy,
    );
    let http = reqwest::Client::new();
    let raw_http = send_all(&http, &sink.url(), None, &pattern, size, None).await?;
    let raw_disk = write_durably(&tmp.path().join("raw.bin"), &pattern, size)?;
    let raw = raw_http.max(raw_disk);
    let url = daemon.url("/api/ingest/v1/blob");
    let through = send_all(&http, &url, Some(&token), &pattern, size, Some(&hash)).await?;
    let stored = tmp
        .path()
        .join("data/.trackline/blobs")
        .join(&hash[..2])
        .join(&hash[2..]);
    let stored_len = std::fs::metadata(&stored)
        .context("the blob is not stored under its hash")?
        .len();
    if stored_len != size {
        bail!("the stored blob has {stored_len} bytes, not {size}");
    }
    let mbps = |d: Duration| size as f64 / 1e6 / d.as_secs_f64();
    let share = raw.as_secs_f64() / through.as_secs_f64();
    let rss_mb = daemon.peak_rss_kib() as f64 / 1024.0;
    println!(
        "raw HTTP POST to a sink:  {:>8.1} MB/s ({:.2} s)",
        mbps(raw_http),
        raw_http.as_secs_f64()
    );
    println!(
        "raw durable file write:   {:>8.1} MB/s ({:.2} s)",
        mbps(raw_disk),
        raw_disk.as_secs_f64()
    );
    println!(
        "daemon blob upload:       {:>8.1} MB/s ({:.2} s) = {:.2}× the slower raw (goal ≥ {GOAL_UPLOAD_SHARE_OF_RAW}×) {}",
        mbps(through),
        through.as_secs_f64(),
        share,
        verdict(share >= GOAL_UPLOAD_SHARE_OF_RAW)
    );
    println!(
        "daemon peak RSS:          {rss_mb:>8.1} MB (goal ≤ {GOAL_PEAK_RSS_MB} MB) {}",
        verdict(rss_mb <= GOAL_PEAK_RSS_MB)
    );
    println!("load average after: {}", load_average());
    Ok(())
}

/// Writes the benchmark blob to `path` chunk by chunk, each fdatasynced; answers the time it took.
fn write_durably(path: &Path, pattern: &[u8], size: u64) -> anyhow::Result<Duration> {
    use std::io::Write;
    let started = Instant::now();
    let mut file = std::fs::File::create(path)?;
    let mut at = 0u64;
    while at < size {
        let len = (size - at).min(CHUNK as u64) as usize;
        file.write_all(&chunk_at(pattern, at, len))?;
        file.sync_data()?;
        at += len as u64;
    }
    let took = started.elapsed();
    drop(file);
    std::fs::remove_file(path)?;
    Ok(took)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// POSTs the benchmark blob in chunks to `url` (as a blob upload when `hash` is given), one
/// request at a time on one keep-alive connection; answers the time it took.
async fn send_all(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    pattern: &[u8],
    size: u64,
    hash: Option<&str>,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut at = 0u64;
    while at < size {
        let len = (size - at).min(CHUNK as u64) as usize;
        let mut req = http.post(url).body(chunk_at(pattern, at, len));
        if let Some(hash) = hash {
            req = req.query(&[
                ("hash", hash.to_string()),
                ("size", size.to_string()),
                ("offset", at.to_string()),
            ]);
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        if !status.is_success() {
            bail!(
                "{url} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        at += len as u64;
    }
    Ok(started.elapsed())
}

async fn commit(files: usize, busy: bool) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (daemon, token) = start_daemon(tmp.path())?;
    // The blobs are laid in the store directly (not timed): this section measures the commit.
    let blobs = tmp.path().join("data/.trackline/blobs");
    let mut contents = serde_json::Map::new();
    let mut hashes = Vec::with_capacity(files);
    for i in 0..files {
        let bytes = format!("file {i} of the benchmark manifest\n").into_bytes();
        let hash = hex(&Sha256::digest(&bytes));
        let fan = blobs.join(&hash[..2]);
        std::fs::create_dir_all(&fan)?;
        std::fs::write(fan.join(&hash[2..]), &bytes)?;
        contents.insert(
            format!("shards/{:03}/part-{i:06}.txt", i % 100),
            json!({"digest": hash, "size": bytes.len()}),
        );
        hashes.push(hash);
    }
    let body = json!({"project": "bench", "name": "dataset-10k", "type": "dataset",
                      "aliases": ["prod"], "manifest": {"contents": contents}});
    let body_bytes = serde_json::to_vec(&body)?;
    let _busy = if busy { Some(BusyCore::start()?) } else { None };
    section_title(
        "commit",
        format!(
            "a {files}-file manifest ({:.1} MB of JSON)",
            body_bytes.len() as f64 / 1e6
        ),
        busy,
    );
    let http = reqwest::Client::new();
    let post = |path: &str, bytes: Vec<u8>| {
        http.post(daemon.url(path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(bytes)
            .send()
    };
    let started = Instant::now();
    let resp = post(
        "/api/ingest/v1/blobs/missing",
        serde_json::to_vec(&json!({ "hashes": hashes }))?,
    )
    .await?;
    let missing: Value = resp.json().await?;
    let asked = started.elapsed();
    if missing["missing"].as_array().is_none_or(|m| !m.is_empty()) {
        bail!("the daemon lacks blobs it was given: {missing}");
    }
    let mut times = Vec::new();
    for expect_reused in [false, true] {
        let started = Instant::now();
        let resp = post("/api/ingest/v1/artifacts", body_bytes.clone()).await?;
        let status = resp.status();
        let answer: Value = resp.json().await?;
        times.push(started.elapsed());
        if !status.is_success() || answer["reused"] != expect_reused {
            bail!("the commit answered {status}: {answer}");
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("blobs/missing of {files} hashes: {:>8.1} ms", ms(asked));
    println!(
        "commit (new version):        {:>8.1} ms (goal ≤ {GOAL_COMMIT_MS} ms) {}",
        ms(times[0]),
        verdict(ms(times[0]) <= GOAL_COMMIT_MS)
    );
    println!("commit (equal content):      {:>8.1} ms", ms(times[1]));
    println!("load average after: {}", load_average());
    Ok(())
}

/// A trivial HTTP/1.1 sink on its own thread: reads each request's body and drops it, answers
/// `200 ok`; keep-alive.
struct Sink {
    port: u16,
}

impl Sink {
    fn start() -> anyhow::Result<Sink> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        std::thread::Builder::new()
            .name("raw-sink".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
                    while let Ok((stream, _)) = listener.accept().await {
                        tokio::spawn(serve_sink(stream));
                    }
                });
            })?;
        Ok(Sink { port })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/sink", self.port)
    }
}

async fn serve_sink(mut stream: tokio::net::TcpStream) {
    let mut buf = vec![0u8; 1 << 20];
    let mut held = 0usize;
    loop {
        // Headers: up to the blank line.
        let head_end = loop {
            if let Some(i) = buf[..held].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut buf[held..]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => held += n,
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body_left = length.saturating_sub(held - head_end);
        let extra = (held - head_end).saturating_sub(length);
        buf.copy_within(held - extra..held, 0);
        held = extra;
        while body_left > 0 {
            match stream.read(&mut buf[held..]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let used = n.min(body_left);
                    body_left -= used;
                    // Bytes past this body belong to the next request.
                    buf.copy_within(held + used..held + n, held);
                    held += n - used;
                }
            }
        }
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        if stream.write_all(answer).await.is_err() {
            return;
        }
    }
}
