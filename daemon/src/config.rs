//! Daemon settings, resolved once from the command line and environment (CLI > env > default).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Environment variable naming the data directory (shared with the Python client).
pub const ENV_DIR: &str = "TRACKLINE_DIR";
/// Default data directory, relative to the current directory (like W&B's `./wandb`).
pub const DEFAULT_DIR: &str = "trackline";
pub const DEFAULT_PORT: u16 = 8765;

/// Everything `run` needs; built by the CLI or by tests.
#[derive(Clone, Debug)]
pub struct Config {
    /// Root of the run directories (`<dir>/<project>/<run>/`).
    pub dir: PathBuf,
    pub host: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// Extra `Host` names allowed besides localhost (tunnels, reverse proxies).
    pub allowed_hosts: Vec<String>,
    /// Write a live demo project into `dir`.
    pub demo: bool,
    /// How often the ingest loop rescans everything as a safety net for missed file events.
    pub rescan_interval: Duration,
    /// A running run whose heartbeat is older than this is shown as crashed.
    pub heartbeat_timeout: Duration,
    /// Points kept in memory before cold series are evicted (reloaded from disk on demand).
    pub max_resident_points: usize,
    /// Messages queued for one WebSocket client.
    pub ws_queue: usize,
    /// A client whose queue stays full this long is dropped as a slow consumer.
    pub ws_send_timeout: Duration,
}

impl Config {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Config {
            dir: dir.into(),
            host: IpAddr::from([127, 0, 0, 1]),
            port: DEFAULT_PORT,
            allowed_hosts: Vec::new(),
            demo: false,
            rescan_interval: Duration::from_secs(2),
            heartbeat_timeout: Duration::from_secs(60),
            max_resident_points: 200_000_000,
            ws_queue: 256,
            ws_send_timeout: Duration::from_secs(10),
        }
    }

    /// Where the daemon keeps what it writes itself (index database, tokens): hidden from the scan.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join(".trackline")
    }
}
