//! Shared test fixtures: a daemon process on a temp dir, a Rust writer of format-v1 run folders,
//! and a WebSocket client.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use trackline_shared::{ClientMsg, ServerMsg, Topic};

pub const BIN: &str = env!("CARGO_BIN_EXE_trackline-under-test");

/// The repository root (for `python/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// A daemon process serving `dir` on a free port; killed on drop.
pub struct Daemon {
    pub child: Child,
    pub port: u16,
}

impl Daemon {
    pub fn start(dir: &Path) -> Daemon {
        Daemon::start_with(dir, &[])
    }

    pub fn start_with(dir: &Path, extra: &[&str]) -> Daemon {
        let mut child = Command::new(BIN)
            .args(["serve", "--port", "0", "--dir"])
            .arg(dir)
            .args(extra)
            .env("TRACKLINE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the daemon");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the daemon's first line");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Daemon { child, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let resp = reqwest::get(self.url(path)).await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Polls `path` until `pred` holds on its body, or panics after `timeout`.
    pub async fn wait_for(
        &self,
        path: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let (status, body) = self.get(path).await;
            if status == 200 && pred(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting on {path}; last: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Writes a run folder the way format v1 says (a stand-in for any client).
pub struct RunWriter {
    pub dir: PathBuf,
    pub meta: Value,
    history: std::fs::File,
    pub step: u64,
}

impl RunWriter {
    pub fn create(root: &Path, project: &str, id: &str) -> RunWriter {
        let dir = root.join(project).join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let now = now_secs();
        let meta = json!({
            "format_version": 1, "id": id, "name": format!("run {id}"), "project": project,
            "group": null, "tags": ["t1"], "notes": null, "job_type": null, "state": "running",
            "created_at": now, "heartbeat_at": now, "finished_at": null, "exit_code": null,
            "host": "test-host", "command": ["train.py"], "pid": 1,
        });
        write_atomic(&dir.join("config.json"), &json!({"lr": 0.01, "bad": "NaN"}));
        write_atomic(&dir.join("run.json"), &meta);
        let history = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("history.jsonl"))
            .unwrap();
        RunWriter {
            dir,
            meta,
            history,
            step: 0,
        }
    }

    /// Appends raw bytes to history.jsonl.
    pub fn append_raw(&mut self, bytes: &str) {
        self.history.write_all(bytes.as_bytes()).unwrap();
        self.history.flush().unwrap();
    }

    /// Appends `n` rows of `loss` (value = step as f64 unless given by `value`).
    pub fn log_rows(&mut self, n: u64, value: impl Fn(u64) -> String) {
        let mut buf = String::new();
        for _ in 0..n {
            let s = self.step;
            buf.push_str(&format!(
                "{{\"_step\": {s}, \"_timestamp\": {}, \"_runtime\": 0.1, \"loss\": {}}}\n",
                now_secs(),
                value(s)
            ));
            self.step += 1;
        }
        self.append_raw(&buf);
    }

    pub fn set(&mut self, field: &str, value: Value) {
        self.meta[field] = value;
        write_atomic(&self.dir.join("run.json"), &self.meta);
    }
}

pub fn write_atomic(path: &Path, value: &Value) {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().unwrap().to_str().unwrap()
    ));
    std::fs::write(&tmp, serde_json::to_vec(value).unwrap()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

pub fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A protocol-speaking WebSocket client.
pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Messages of a `batch` not handed out yet.
    pending: std::collections::VecDeque<ServerMsg>,
}

impl Ws {
    pub async fn connect(port: u16) -> Ws {
        Ws::connect_to(&format!("ws://127.0.0.1:{port}/api/ws")).await
    }

    /// A client that asks for batches (`?batch=1`, as the web app does); [`Ws::recv`] hands
    /// out their messages one by one.
    pub async fn connect_batched(port: u16) -> Ws {
        Ws::connect_to(&format!("ws://127.0.0.1:{port}/api/ws?batch=1")).await
    }

    /// A client on a socket opened elsewhere (with headers of the test's own); no hello read.
    pub fn from_stream(stream: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Ws {
        Ws {
            stream,
            pending: Default::default(),
        }
    }

    async fn connect_to(url: &str) -> Ws {
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket handshake");
        let mut ws = Ws::from_stream(stream);
        match ws.recv().await {
            ServerMsg::Hello { protocol, .. } => {
                assert_eq!(protocol, trackline_shared::PROTOCOL_VERSION)
            }
            other => panic!("expected hello, got {other:?}"),
        }
        ws
    }

    pub async fn send(&mut self, msg: &ClientMsg) {
        let text = serde_json::to_string(msg).unwrap();
        self.stream.send(Message::Text(text.into())).await.unwrap();
    }

    pub async fn subscribe(&mut self, id: u64, topic: Topic) {
        self.send(&ClientMsg::Subscribe { id, topic }).await;
    }

    /// The next protocol message (panics after 10 s).
    pub async fn recv(&mut self) -> ServerMsg {
        self.try_recv(Duration::from_secs(10))
            .await
            .expect("a message within 10 s")
    }

    pub async fn try_recv(&mut self, timeout: Duration) -> Option<ServerMsg> {
        if let Some(msg) = self.pending.pop_front() {
            return Some(msg);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match frame {
                Ok(Message::Text(t)) => match serde_json::from_str(t.as_str()).unwrap() {
                    ServerMsg::Batch { msgs } => {
                        assert!(msgs.len() > 1, "a batch of {} message(s)", msgs.len());
                        self.pending.extend(msgs);
                        if let Some(msg) = self.pending.pop_front() {
                            return Some(msg);
                        }
                    }
                    msg => return Some(msg),
                },
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Collects `points` messages of subscription `sub` until `n` points arrived; returns the steps
    /// in arrival order, checking each message continues exactly where the last ended.
    pub async fn collect_points(&mut self, sub: u64, mut next: u64, n: usize) -> Vec<f64> {
        let mut steps = Vec::new();
        while steps.len() < n {
            match self.recv().await {
                ServerMsg::Points {
                    sub: s,
                    start,
                    step,
                    value,
                    ..
                } if s == sub => {
                    assert_eq!(
                        start, next,
                        "gap or duplicate: expected offset {next}, got {start}"
                    );
                    assert_eq!(step.len(), value.len());
                    next += step.len() as u64;
                    steps.extend(step);
                }
                _ => {}
            }
        }
        steps
    }
}

pub fn series_topic(project: &str, run: &str, key: &str, from: u64) -> Topic {
    Topic::Series {
        project: project.into(),
        run: run.into(),
        key: key.into(),
        from,
        x_key: None,
    }
}

pub fn run_topic(project: &str, run: &str) -> Topic {
    Topic::Run {
        project: project.into(),
        run: run.into(),
    }
}

/// A child process that is killed and reaped when dropped (also on a failed assertion).
pub struct Proc(pub Child);

impl Proc {
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.0.wait().expect("wait for the child")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `trackline share <args> --dir <dir>` (it must succeed); answers its stdout.
pub fn share(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("share")
        .args(args)
        .arg("--dir")
        .arg(dir)
        .env("TRACKLINE_LOG", "warn")
        .output()
        .expect("run trackline share");
    assert!(out.status.success(), "share {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A new share link of `scope` labelled `label`; answers its token.
pub fn share_token(dir: &Path, scope: &str, label: &str) -> String {
    let out = share(dir, &["--scope", scope, "--label", label]);
    let link = out.lines().find(|l| l.contains("#t=")).unwrap();
    link.split("#t=").nth(1).unwrap().to_owned()
}

/// A new share link of `scope` labelled `label` through the daemon's local address
/// (`http://127.0.0.1:{port}/#t=tl_…`; the first link printed is the public URL's, which a test
/// cannot reach).
pub fn local_share_link(dir: &Path, scope: &str, label: &str) -> String {
    share(dir, &["--scope", scope, "--label", label])
        .lines()
        .filter_map(|l| l.rsplit(' ').next())
        .find(|l| l.starts_with("http://127.0.0.1:") && l.contains("#t="))
        .expect("a link through the local address")
        .to_owned()
}
