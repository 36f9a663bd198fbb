//! A daemon process under measurement, shared by the benchmark programs: started on a data dir and
//! port, killed with SIGKILL and started again on the same port, with its CPU time and peak
//! resident memory (`VmHWM`) read from `/proc`.

use anyhow::{Context, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A `serve` process; killed when dropped.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

/// What happened to a daemon that was started.
#[derive(Debug)]
pub enum Started {
    Serving(Daemon),
    /// It exited before it listened (a refusal, a port in use, a crash), with its stderr.
    Exited {
        status: ExitStatus,
        stderr: String,
    },
}

impl Daemon {
    /// Starts once: `--port 0` picks a free port. Its stderr is appended to `log`.
    pub fn spawn(bin: &Path, dir: &Path, port: u16, log: &Path) -> anyhow::Result<Started> {
        Daemon::spawn_with(bin, dir, port, log, &[])
    }

    /// [`Daemon::spawn`] with more `serve` flags (e.g. `--public-url`).
    pub fn spawn_with(
        bin: &Path,
        dir: &Path,
        port: u16,
        log: &Path,
        extra: &[&str],
    ) -> anyhow::Result<Started> {
        let log_start = std::fs::metadata(log).map_or(0, |m| m.len());
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("open {}", log.display()))?;
        let mut child = Command::new(bin)
            .args(["serve", "--port", &port.to_string(), "--dir"])
            .arg(dir)
            .args(extra)
            .env("TRACKLINE_LOG", "warn")
            .env_remove("TRACKLINE_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        // It prints "trackline: serving <dir> at http://127.0.0.1:PORT/" once listening; the
        // thread keeps draining stdout so the daemon never blocks on it.
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("daemon-stdout".into())
            .spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                if let Some(Ok(first)) = lines.next() {
                    let _ = tx.send(first);
                }
                for _ in lines {}
            })?;
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                let port = line
                    .rsplit_once(':')
                    .and_then(|(_, rest)| rest.trim_end_matches('/').parse().ok())
                    .with_context(|| format!("no port in the daemon's line {line:?}"))?;
                Ok(Started::Serving(Daemon {
                    child,
                    port,
                    dir: dir.to_owned(),
                }))
            }
            Err(_) => {
                let deadline = Instant::now() + Duration::from_secs(5);
                let status = loop {
                    if let Some(status) = child.try_wait()? {
                        break status;
                    }
                    if Instant::now() > deadline {
                        let _ = child.kill();
                        break child.wait()?;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                };
                let text = std::fs::read(log).unwrap_or_default();
                let stderr = String::from_utf8_lossy(&text[(log_start as usize).min(text.len())..])
                    .trim()
                    .to_owned();
                Ok(Started::Exited { status, stderr })
            }
        }
    }

    /// Starts on `port`, retrying for up to 20 s while a killed predecessor's port is not free.
    pub fn start(bin: &Path, dir: &Path, port: u16, log: &Path) -> anyhow::Result<Daemon> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match Daemon::spawn(bin, dir, port, log)? {
                Started::Serving(d) => return Ok(d),
                Started::Exited { status, stderr } => {
                    if Instant::now() > deadline || !stderr.contains("in use") {
                        bail!("the daemon did not start ({status}): {stderr}");
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// The binary the benchmarks measure: `TRACKLINE_BENCH_DAEMON`, else `default` (the
    /// `trackline-under-test` binary cargo built with the benchmark).
    pub fn binary(default: &str) -> PathBuf {
        std::env::var_os("TRACKLINE_BENCH_DAEMON")
            .map_or_else(|| PathBuf::from(default), PathBuf::from)
    }

    /// CPU time (user + system) the process has used so far, in seconds (`/proc/<pid>/stat`).
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .context("reading the daemon's CPU time needs Linux /proc")?;
        Ok(parse_stat(&stat)?.1)
    }

    /// CPU time (user + system) each of the process's live threads has used so far, in seconds,
    /// summed by thread name (`/proc/<pid>/task/*/stat`; the pools' threads share a name).
    pub fn thread_cpu_seconds(&self) -> anyhow::Result<BTreeMap<String, f64>> {
        let tasks = format!("/proc/{}/task", self.pid());
        let mut by_name = BTreeMap::new();
        for task in std::fs::read_dir(&tasks).with_context(|| format!("listing {tasks}"))? {
            // A thread that ended since the listing has no stat any more: it is left out.
            let Ok(stat) = std::fs::read_to_string(task?.path().join("stat")) else {
                continue;
            };
            let (name, seconds) = parse_stat(&stat)?;
            *by_name.entry(name).or_insert(0.0) += seconds;
        }
        Ok(by_name)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory of this process so far, in KiB (`VmHWM` of `/proc/<pid>/status`).
    pub fn peak_rss_kib(&self) -> u64 {
        peak_rss_kib(self.pid())
    }

    /// Whether the process is still running (false once it exited on its own).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL; returns the peak RSS read just before.
    pub fn kill9(&mut self) -> u64 {
        let peak = self.peak_rss_kib();
        let _ = self.child.kill();
        let _ = self.child.wait();
        peak
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The write token the daemon created in its data dir.
    pub fn token(&self) -> anyhow::Result<String> {
        let path = self.dir.join(".trackline/api_key");
        Ok(std::fs::read_to_string(&path)
            .with_context(|| format!("read {}", path.display()))?
            .trim()
            .to_owned())
    }

    /// GET `path`: status and JSON body (`Null` when it is not JSON).
    pub async fn get(&self, http: &reqwest::Client, path: &str) -> anyhow::Result<(u16, Value)> {
        let resp = http
            .get(self.url(path))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The name and CPU time (user + system, in seconds) in a `/proc/…/stat` line.
fn parse_stat(stat: &str) -> anyhow::Result<(String, f64)> {
    let (head, rest) = stat.rsplit_once(") ").context("odd /proc/<pid>/stat")?;
    let name = head.split_once(" (").map_or("", |(_, name)| name);
    let rest: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(rest
            .get(i)
            .context("odd /proc/<pid>/stat")?
            .parse::<f64>()?)
    };
    Ok((name.to_owned(), (ticks(11)? + ticks(12)?) / 100.0))
}

/// `VmHWM` of a process in KiB, 0 when it cannot be read.
pub fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}
