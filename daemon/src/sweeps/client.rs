//! How `trackline sweep`/`agent` reach the daemon: `TRACKLINE_URL` (with `TRACKLINE_API_KEY`) when
//! set; else the daemon serving the data directory, as its lock file names it; else one started
//! for it (`trackline serve --dir D --port 0`, detached, its output in `.trackline/daemon.log`),
//! which is left running as the sweep's dashboard. Requests are retried while the connection
//! fails and wait out `429`/`503`/`507` as `Retry-After` says; an error answer is its message.

use crate::config::Config;
use crate::lock::{DaemonLock, Holder, LOCK_FILE};
use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Seconds to wait for a started daemon to listen.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Waits between the tries of a request whose connection failed.
const CONNECT_RETRIES: [u64; 8] = [250, 500, 1000, 2000, 4000, 4000, 4000, 4000];

/// A daemon and the tokens to talk to it.
#[derive(Debug, Clone)]
pub struct DaemonLink {
    /// Its base URL (`http://127.0.0.1:8765`, or `TRACKLINE_URL`).
    pub url: String,
    /// The state directory whose lock file named the daemon: a daemon restarted there (on
    /// another port) is found again when the connection fails.
    state_dir: Option<std::path::PathBuf>,
    /// The write token (agent routes).
    pub write_token: Option<String>,
    /// The owner token of a shared daemon (create and control).
    pub owner_token: Option<String>,
    http: reqwest::Client,
}

/// Which token a request carries.
#[derive(Debug, Clone, Copy)]
pub enum As {
    Agent,
    Owner,
}

fn read_token(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn holder(state_dir: &Path) -> Holder {
    std::fs::read_to_string(state_dir.join(LOCK_FILE))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

impl DaemonLink {
    /// The daemon for `data_dir` (see the module's doc), started if need be.
    pub async fn connect(data_dir: &Path) -> anyhow::Result<DaemonLink> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("cannot make an HTTP client")?;
        if let Some(url) = std::env::var("TRACKLINE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            return Ok(DaemonLink {
                url: url.trim_end_matches('/').to_string(),
                write_token: std::env::var("TRACKLINE_API_KEY")
                    .ok()
                    .filter(|t| !t.is_empty()),
                owner_token: None,
                state_dir: None,
                http,
            });
        }
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        let state_dir = Config::new(data_dir).state_dir();
        let url = match running_url(&state_dir, data_dir)? {
            Some(url) => url,
            None => start(data_dir, &state_dir).await?,
        };
        Ok(DaemonLink {
            url,
            write_token: read_token(&state_dir.join(crate::auth::TOKEN_FILE)),
            owner_token: read_token(&state_dir.join(crate::auth::owner::OWNER_TOKEN_FILE)),
            state_dir: Some(state_dir),
            http,
        })
    }

    /// `POST {url}{path}` with `body`, as `who`; the answer's JSON.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &mut self,
        path: &str,
        body: &B,
        who: As,
    ) -> anyhow::Result<T> {
        self.send(reqwest::Method::POST, path, Some(body), who)
            .await
    }

    /// `GET {url}{path}`.
    pub async fn get<T: DeserializeOwned>(&mut self, path: &str) -> anyhow::Result<T> {
        self.send::<(), T>(reqwest::Method::GET, path, None, As::Owner)
            .await
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        who: As,
    ) -> anyhow::Result<T> {
        let token = match who {
            As::Agent => self.write_token.as_ref(),
            As::Owner => self.owner_token.as_ref(),
        };
        let mut connect_tries = CONNECT_RETRIES.iter();
        let mut waited = Duration::ZERO;
        loop {
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.url));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if e.is_connect() || e.is_timeout() => match connect_tries.next() {
                    Some(ms) => {
                        tokio::time::sleep(Duration::from_millis(*ms)).await;
                        if let Some(url) = self.state_dir.as_deref().and_then(|d| holder(d).url) {
                            self.url = url.trim_end_matches('/').to_string();
                        }
                        continue;
                    }
                    None => bail!("cannot reach the daemon at {}: {e}", self.url),
                },
                Err(e) => bail!("request to {} failed: {e}", self.url),
            };
            let status = response.status();
            if matches!(status.as_u16(), 429 | 503 | 507) && waited < Duration::from_secs(120) {
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1)
                    .clamp(1, 60);
                waited += Duration::from_secs(wait);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            let bytes = response
                .bytes()
                .await
                .context("reading the daemon's answer")?;
            if !status.is_success() {
                let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                    .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
                bail!("the daemon answered {}: {message}", status.as_u16());
            }
            return serde_json::from_slice(&bytes).with_context(|| {
                format!("the daemon's answer to {path} is not what was expected")
            });
        }
    }
}

/// The URL of the daemon serving `data_dir`, if one does.
fn running_url(state_dir: &Path, data_dir: &Path) -> anyhow::Result<Option<String>> {
    match DaemonLock::acquire(state_dir, data_dir) {
        Ok(lock) => {
            drop(lock);
            Ok(None)
        }
        Err(crate::error::Error::DataDirInUse { .. }) => {
            // The holder writes its URL once it listens.
            for _ in 0..60 {
                if let Some(url) = holder(state_dir).url {
                    return Ok(Some(url.trim_end_matches('/').to_string()));
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            bail!(
                "a daemon holds {} but never said where it listens",
                data_dir.display()
            )
        }
        Err(e) => Err(anyhow!(e)),
    }
}

/// Starts a daemon for `data_dir`, detached, and waits for it to listen.
async fn start(data_dir: &Path, state_dir: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(state_dir)
        .with_context(|| format!("cannot create {}", state_dir.display()))?;
    let log_path = state_dir.join("daemon.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let exe = std::env::current_exe().context("cannot find this program to start a daemon")?;
    let mut command = std::process::Command::new(exe);
    command
        .args(["serve", "--port", "0", "--dir"])
        .arg(data_dir)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: Ctrl-C in the agent's terminal does not stop the dashboard.
        command.process_group(0);
    }
    let child = command.spawn().context("cannot start a daemon")?;
    let started = std::time::Instant::now();
    while started.elapsed() < START_TIMEOUT {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(url) = holder(state_dir).url {
            let _ = writeln!(
                std::io::stderr(),
                "trackline: started a daemon for {} at {url} (pid {})",
                data_dir.display(),
                child.id()
            );
            return Ok(url.trim_end_matches('/').to_string());
        }
    }
    bail!(
        "the daemon started for {} did not listen within {} s; see {}",
        data_dir.display(),
        START_TIMEOUT.as_secs(),
        log_path.display()
    )
}
