//! Collaboration against a real daemon process (issue 9; see docs/benchmarks.md): presence and
//! annotations over the WebSocket, on 127.0.0.1.
//!
//! a. presence traffic per viewer: bytes/s one viewer receives while N peers of its project move
//!    their cursors at 10 Hz (N = 1, 5, 20);
//! b. 200 viewers on one share link of a live project (a run logging 3 metrics at 20 rows/s),
//!    each subscribed as the web app is (the project's runs, 3 series of the live run, the
//!    annotations topic) with presence and its heartbeat: the daemon's CPU and peak RSS;
//! c. pin/comment round trip with 20 clients connected: one client POSTs a `thread_create` or
//!    `comment_add` op to `/api/projects/p/annotations/ops`, timed until every other client got
//!    the `annotations` event (p50/p99 against the 500 ms goal).
//!
//! Each section runs idle and then with one core kept busy by a spinning thread of this program,
//! and prints load averages. Run with `TRACKLINE_SKIP_WEB=1 cargo bench -p trackline-tests --bench
//! collab`; `-- --quick` for shorter sections, `-- a` (or b, c) for one section;
//! `TRACKLINE_BENCH_DAEMON=<path>` measures another build. Nothing about timings is asserted.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use trackline_shared::annotations::{Anchor, Op, OpRequest};
use trackline_shared::presence::{Cursor, PresenceState, View};
use trackline_shared::{ClientMsg, ServerMsg, Topic};
use trackline_tests::daemon::{Daemon, Started};
use trackline_tests::machine::{BusyCore, load_average};

const DAEMON: &str = env!("CARGO_BIN_EXE_trackline-under-test");

/// Goal: a pin or comment reaches every other client within this, at p99.
const GOAL_ROUND_TRIP_MS: f64 = 500.0;
/// Metrics the live run logs per row.
const LIVE_KEYS: [&str; 3] = ["loss", "acc", "lr"];

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn main() -> anyhow::Result<()> {
    let quick = trackline_tests::machine::quick();
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    println!(
        "trackline collaboration benchmark{} ({} CPUs available; load average {}; daemon: {})",
        if quick { " [quick]" } else { "" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        Daemon::binary(DAEMON).display()
    );
    let secs = if quick { 3 } else { 8 };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for busy in [false, true] {
        let _busy = if busy { Some(BusyCore::start()?) } else { None };
        let how = if busy { ", one core kept busy" } else { "" };
        if wanted("a") {
            for peers in [1, 5, 20] {
                rt.block_on(presence_traffic(peers, Duration::from_secs(secs), how))?;
            }
        }
        if wanted("b") {
            rt.block_on(many_viewers(200, Duration::from_secs(secs * 2), how))?;
        }
        if wanted("c") {
            rt.block_on(round_trip(20, if quick { 40 } else { 150 }, how))?;
        }
    }
    Ok(())
}

/// A daemon on a fresh data dir holding project `p` with run `live`; with `--public-url` when
/// `shared` (then also a viewer link's token).
fn start_daemon(dir: &Path, shared: bool, scope: &str) -> anyhow::Result<(Daemon, Option<String>)> {
    let data = dir.join("data");
    write_run(&data, "live")?;
    let log = dir.join("daemon.log");
    let extra: &[&str] = if shared {
        &[
            "--public-url",
            "https://team.example",
            "--max-connections",
            "1024",
        ]
    } else {
        &["--max-connections", "1024"]
    };
    let daemon = match Daemon::spawn_with(&Daemon::binary(DAEMON), &data, 0, &log, extra)? {
        Started::Serving(d) => d,
        Started::Exited { status, stderr } => {
            bail!("the daemon did not start ({status}): {stderr}")
        }
    };
    let token = if shared {
        let out = std::process::Command::new(Daemon::binary(DAEMON))
            .args(["share", "--scope", scope, "--label", "team", "--dir"])
            .arg(&data)
            .env("TRACKLINE_LOG", "warn")
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let token = text
            .split("#t=")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .with_context(|| format!("no link printed by trackline share: {text}"))?;
        Some(token.to_owned())
    } else {
        None
    };
    Ok((daemon, token))
}

fn write_run(data: &Path, id: &str) -> anyhow::Result<()> {
    let dir = data.join("p").join(id);
    std::fs::create_dir_all(&dir)?;
    let now = now_secs();
    let meta = serde_json::json!({
        "format_version": 1, "id": id, "name": id, "project": "p", "state": "running",
        "created_at": now, "heartbeat_at": now, "host": "bench", "pid": std::process::id(),
    });
    std::fs::write(dir.join("run.json"), serde_json::to_vec(&meta)?)?;
    std::fs::write(dir.join("history.jsonl"), "")?;
    Ok(())
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Appends `rows_per_sec` rows of [`LIVE_KEYS`] to the live run until `stop`.
fn log_live(data: &Path, rows_per_sec: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let path = data.join("p/live/history.jsonl");
    std::thread::spawn(move || {
        let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(&path) else {
            return;
        };
        let mut step = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let line = format!(
                "{{\"_step\": {step}, \"_timestamp\": {}, \"_runtime\": 0.1, \"loss\": {}, \"acc\": {}, \"lr\": 0.001}}\n",
                now_secs(),
                1.0 / (step as f64 + 1.0),
                step as f64 / (step as f64 + 10.0)
            );
            if f.write_all(line.as_bytes()).is_err() {
                return;
            }
            step += 1;
            std::thread::sleep(Duration::from_secs(1) / rows_per_sec);
        }
    })
}

async fn connect(port: u16, token: Option<&str>) -> anyhow::Result<Socket> {
    let mut request = format!("ws://127.0.0.1:{port}/api/ws").into_client_request()?;
    if let Some(token) = token {
        let h = request.headers_mut();
        h.insert("authorization", format!("Bearer {token}").parse()?);
        h.insert("origin", format!("http://127.0.0.1:{port}").parse()?);
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    match ws.next().await {
        Some(Ok(Message::Text(t))) if t.as_str().contains("\"hello\"") => Ok(ws),
        other => bail!("expected a hello, got {other:?}"),
    }
}

async fn send(ws: &mut Socket, msg: &ClientMsg) -> anyhow::Result<()> {
    ws.send(Message::Text(serde_json::to_string(msg)?.into()))
        .await?;
    Ok(())
}

fn presence(route: &str, cursor: Option<f64>) -> ClientMsg {
    ClientMsg::Presence(PresenceState {
        view: View {
            route: route.into(),
            project: Some("p".into()),
            runs: vec!["live".into()],
            panel: None,
        },
        cursor: cursor.map(|x| Cursor {
            key: "loss".into(),
            x_axis: "step".into(),
            x,
            y: 0.5,
        }),
        editing: None,
    })
}

/// Subscribes as the web app's run page does: the project's runs, the live run's series, the
/// annotations topic; then its presence.
async fn subscribe_like_the_app(ws: &mut Socket) -> anyhow::Result<()> {
    let mut topics = vec![
        Topic::Project {
            project: "p".into(),
            since: 0,
        },
        Topic::Annotations {
            project: "p".into(),
            since: 0,
        },
    ];
    topics.extend(LIVE_KEYS.iter().map(|k| Topic::Series {
        project: "p".into(),
        run: "live".into(),
        key: (*k).into(),
        from: 0,
        x_key: None,
    }));
    for (id, topic) in topics.into_iter().enumerate() {
        send(
            ws,
            &ClientMsg::Subscribe {
                id: id as u64 + 1,
                topic,
            },
        )
        .await?;
    }
    send(ws, &presence("/projects/p/runs/live", None)).await
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// a. One viewer, `peers` others moving cursors at 10 Hz: what the viewer receives.
async fn presence_traffic(peers: usize, duration: Duration, how: &str) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (daemon, _) = start_daemon(tmp.path(), false, "viewer")?;
    let mut viewer = connect(daemon.port, None).await?;
    send(&mut viewer, &presence("/projects/p", None)).await?;
    let mut movers = Vec::new();
    for _ in 0..peers {
        let mut ws = connect(daemon.port, None).await?;
        send(&mut ws, &presence("/projects/p/runs/live", None)).await?;
        movers.push(ws);
    }
    // Settle: the joins' snapshots are not part of the steady traffic.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while tokio::time::timeout(Duration::from_millis(50), viewer.next())
        .await
        .is_ok()
    {}
    let cpu_before = daemon.cpu_seconds()?;
    let started = Instant::now();
    let moving = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let mut i = 0u64;
        while started.elapsed() < duration {
            tick.tick().await;
            for (n, ws) in movers.iter_mut().enumerate() {
                let x = (i * 7 + n as u64) as f64;
                // Movers also drain what they are sent, as a page would.
                while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, ws.next()).await {}
                if send(ws, &presence("/projects/p/runs/live", Some(x)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            i += 1;
        }
    });
    let (mut bytes, mut msgs, mut upserts) = (0u64, 0u64, 0u64);
    while started.elapsed() < duration {
        match tokio::time::timeout(Duration::from_millis(100), viewer.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                bytes += t.len() as u64;
                msgs += 1;
                if let Ok(ServerMsg::Presence { peers }) = serde_json::from_str(t.as_str()) {
                    upserts += peers.len() as u64;
                }
            }
            Ok(Some(Ok(_))) | Err(_) => {}
            _ => bail!("the viewer's socket closed"),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let _ = moving.await;
    let cpu = daemon.cpu_seconds()? - cpu_before;
    println!(
        "a. presence, {peers:>2} peers moving at 10 Hz{how}: the viewer received {:.1} KiB/s in \
         {:.0} messages/s ({:.1} peer updates/s; at most {} allowed); daemon CPU {:.1}% of a core; \
         load average {}",
        bytes as f64 / secs / 1024.0,
        msgs as f64 / secs,
        upserts as f64 / secs,
        peers * 10,
        cpu / secs * 100.0,
        load_average()
    );
    Ok(())
}

/// b. `viewers` WebSocket clients on one share link of a live project.
async fn many_viewers(viewers: usize, duration: Duration, how: &str) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (daemon, token) = start_daemon(tmp.path(), true, "viewer")?;
    let token = token.context("a share link")?;
    let stop = Arc::new(AtomicBool::new(false));
    let logger = log_live(&tmp.path().join("data"), 20, stop.clone());
    let cpu_before = daemon.cpu_seconds()?;
    let connecting = Instant::now();
    let received = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..viewers {
        let mut ws = connect(daemon.port, Some(&token)).await?;
        subscribe_like_the_app(&mut ws).await?;
        let (received, bytes) = (received.clone(), bytes.clone());
        tasks.push(tokio::spawn(async move {
            let mut heartbeat = tokio::time::interval(Duration::from_secs(15));
            heartbeat.reset();
            let end = connecting + duration + Duration::from_secs(30);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(end.into()) => return,
                    _ = heartbeat.tick() => {
                        // The same state again: a heartbeat, forwarded to nobody.
                        if send(&mut ws, &presence("/projects/p/runs/live", None)).await.is_err() {
                            return;
                        }
                    }
                    frame = ws.next() => match frame {
                        Some(Ok(Message::Text(t))) => {
                            received.fetch_add(1, Ordering::Relaxed);
                            bytes.fetch_add(t.len() as u64, Ordering::Relaxed);
                        }
                        Some(Ok(_)) => {}
                        _ => return,
                    },
                }
            }
        }));
    }
    let connect_secs = connecting.elapsed().as_secs_f64();
    let cpu_connect = daemon.cpu_seconds()? - cpu_before;
    let (cpu_start, msgs_start, bytes_start) = (
        daemon.cpu_seconds()?,
        received.load(Ordering::Relaxed),
        bytes.load(Ordering::Relaxed),
    );
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    let secs = started.elapsed().as_secs_f64();
    let cpu = daemon.cpu_seconds()? - cpu_start;
    let msgs = received.load(Ordering::Relaxed) - msgs_start;
    let got = bytes.load(Ordering::Relaxed) - bytes_start;
    let peak = daemon.peak_rss_kib();
    stop.store(true, Ordering::Relaxed);
    let _ = logger.join();
    for t in &tasks {
        t.abort();
    }
    println!(
        "b. {viewers} viewers on one share link, a run logging {} metrics at 20 rows/s{how}: \
         connecting and subscribing took {connect_secs:.1} s and {cpu_connect:.2} CPU-s; then \
         daemon CPU {:.1}% of a core over {secs:.0} s, {:.0} messages/s ({:.0} KiB/s) delivered \
         in all; peak RSS {:.1} MiB; load average {}",
        LIVE_KEYS.len(),
        cpu / secs * 100.0,
        msgs as f64 / secs,
        got as f64 / secs / 1024.0,
        peak as f64 / 1024.0,
        load_average()
    );
    Ok(())
}

/// c. `clients` connected; ops posted one at a time, each timed until every other client got it.
async fn round_trip(clients: usize, ops: usize, how: &str) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (daemon, token) = start_daemon(tmp.path(), true, "annotator")?;
    let token = token.context("a share link")?;
    let mut listeners = Vec::new();
    for _ in 0..clients - 1 {
        let mut ws = connect(daemon.port, Some(&token)).await?;
        subscribe_like_the_app(&mut ws).await?;
        listeners.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for ws in &mut listeners {
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(5), ws.next()).await {}
    }
    let http = reqwest::Client::new();
    let url = daemon.url("/api/projects/p/annotations/ops");
    let mut times_ms = Vec::with_capacity(ops);
    let mut post_ms = Vec::with_capacity(ops);
    for i in 0..ops {
        let op = if i % 2 == 0 {
            Op::ThreadCreate {
                thread: format!("t{i}"),
                anchor: Anchor::Pin {
                    run: "live".into(),
                    key: "loss".into(),
                    x_axis: "_step".into(),
                    x0: 1200.0 + i as f64,
                    x1: None,
                    y: None,
                },
                comment: format!("c{i}"),
                text: format!("pin {i}"),
            }
        } else {
            Op::CommentAdd {
                thread: format!("t{}", i - 1),
                comment: format!("c{i}"),
                text: format!("reply {i}"),
            }
        };
        let body = OpRequest {
            client_id: "bench".into(),
            op_id: format!("op{i}"),
            op,
        };
        let started = Instant::now();
        let resp = http
            .post(&url)
            .bearer_auth(&token)
            .header("origin", format!("http://127.0.0.1:{}", daemon.port))
            .json(&body)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("op {i}: {} {}", resp.status(), resp.text().await?);
        }
        post_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let comment = format!("\"c{i}\"");
        let waits = listeners.iter_mut().map(|ws| {
            let comment = comment.clone();
            async move {
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(t)))
                            if t.as_str().contains("\"annotations\"")
                                && t.as_str().contains(&comment) =>
                        {
                            return Ok(());
                        }
                        Some(Ok(_)) => {}
                        _ => bail!("a client's socket closed"),
                    }
                }
            }
        });
        tokio::time::timeout(
            Duration::from_secs(10),
            futures_util::future::try_join_all(waits),
        )
        .await
        .context("an op did not reach every client within 10 s")??;
        times_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times_ms.sort_by(f64::total_cmp);
    post_ms.sort_by(f64::total_cmp);
    let p99 = percentile(&times_ms, 0.99);
    println!(
        "c. pin/comment round trip, {clients} clients, {ops} ops{how}: POST to every other client \
         p50 {:.1} ms, p99 {p99:.1} ms, max {:.1} ms (goal p99 ≤ {GOAL_ROUND_TRIP_MS} ms: {}); \
         the POST's answer alone p50 {:.1} ms; load average {}",
        percentile(&times_ms, 0.5),
        times_ms.last().copied().unwrap_or(f64::NAN),
        if p99 <= GOAL_ROUND_TRIP_MS {
            "met"
        } else {
            "NOT met"
        },
        percentile(&post_ms, 0.5),
        load_average()
    );
    Ok(())
}
