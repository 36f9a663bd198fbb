//! Daemon settings, resolved once from the command line and environment (CLI > env > default).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Environment variable naming the data directory (shared with the Python client).
pub const ENV_DIR: &str = "TRACKLINE_DIR";
/// Default data directory, relative to the current directory (like W&B's `./wandb`).
pub const DEFAULT_DIR: &str = "trackline";
pub const DEFAULT_PORT: u16 = 8765;
/// Default seconds without a heartbeat before a running run is shown as crashed.
pub const DEFAULT_HEARTBEAT_TIMEOUT_SECS: u64 = 60;
/// Default messages queued for one WebSocket client.
pub const DEFAULT_WS_QUEUE: usize = 256;
/// Default milliseconds a WebSocket client may leave its queue full before it is dropped.
pub const DEFAULT_WS_SEND_TIMEOUT_MS: u64 = 10_000;
/// Default seconds between safety-net rescans of the whole data directory.
pub const DEFAULT_RESCAN_INTERVAL_SECS: u64 = 2;
/// Default points kept in memory before cold series are evicted.
pub const DEFAULT_MAX_RESIDENT_POINTS: usize = 200_000_000;

/// Everything `run` needs; built by the CLI or by tests.
#[derive(Clone, Debug)]
pub struct Config {
    /// The data directory: root of the run directories (`<data_dir>/<project>/<run>/`).
    pub data_dir: PathBuf,
    pub host: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// Extra `Host` names allowed besides localhost (tunnels, reverse proxies).
    pub allowed_hosts: Vec<String>,
    /// Write a live demo project into `data_dir`.
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
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            host: IpAddr::from([127, 0, 0, 1]),
            port: DEFAULT_PORT,
            allowed_hosts: Vec::new(),
            demo: false,
            rescan_interval: Duration::from_secs(DEFAULT_RESCAN_INTERVAL_SECS),
            heartbeat_timeout: Duration::from_secs(DEFAULT_HEARTBEAT_TIMEOUT_SECS),
            max_resident_points: DEFAULT_MAX_RESIDENT_POINTS,
            ws_queue: DEFAULT_WS_QUEUE,
            ws_send_timeout: Duration::from_millis(DEFAULT_WS_SEND_TIMEOUT_MS),
        }
    }

    /// Where the daemon keeps what it writes itself (index database, tokens): hidden from the scan.
    pub fn state_dir(&self) -> PathBuf {
        self.data_dir.join(".trackline")
    }
}
