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
/// Default seconds a client has to send a request's headers; also how long an idle keep-alive
/// connection stays open.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// Default seconds a client has to send a whole request body.
pub const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 30;
/// Default seconds a client may take no byte of an answer before its connection is closed.
pub const DEFAULT_SEND_TIMEOUT_SECS: u64 = 60;
/// Default open connections (WebSockets included); past it a new connection is refused with a 503.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default bytes of remote-ingest bodies one client address may send per second (0 = no limit).
pub const DEFAULT_MAX_INGEST_BYTES_PER_SEC: u64 = 256 << 20;
/// Default wrong write tokens one client address may send in a window before it is refused.
pub const DEFAULT_AUTH_FAILURE_LIMIT: u32 = 10;
/// Default seconds of that window, and of the refusal that follows it.
pub const DEFAULT_AUTH_FAILURE_WINDOW_SECS: u64 = 60;

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
    /// Where people reach this daemon (`--public-url`, repeatable). Any at all turns sharing mode
    /// on: every API route needs a share link, loopback included. Default: none.
    pub public_urls: Vec<crate::auth::sharing::PublicUrl>,
    /// The path prefix the web app is served under, with and without it (`--base-path`, else the
    /// public URLs' path; see `BasePath::resolve`). Default: the root.
    pub base_path: crate::api::base_path::BasePath,
    /// Write a live demo project into `data_dir`.
    pub demo: bool,
    /// How often the ingest loop rescans everything as a safety net for missed file events.
    pub rescan_interval: Duration,
    /// A running run whose heartbeat is older than this is shown as crashed.
    pub heartbeat_timeout: Duration,
    /// Bytes of run histories held in memory before cold runs are evicted (reloaded on demand).
    pub memory_limit_bytes: usize,
    /// Distinct metric keys read per run; more are reported once and dropped.
    pub max_keys_per_run: usize,
    /// Longest history line read; a longer one is reported once and skipped.
    pub max_line_bytes: usize,
    /// Messages queued for one WebSocket client.
    pub ws_queue: usize,
    /// A client whose queue stays full this long is dropped as a slow consumer.
    pub ws_send_timeout: Duration,
    /// A presence peer not heard from this long is dropped (its peers get `peer_left`).
    pub presence_timeout: Duration,
    /// Seconds between a sweep agent's heartbeats (6 missed ones and it is gone).
    pub sweep_heartbeat_secs: u64,
    /// A client that has not sent a request's headers this long after starting (or after its last
    /// answer, on a keep-alive connection) is disconnected.
    pub header_read_timeout: Duration,
    /// A request body that has not fully arrived this long after the handler started reading it
    /// is answered `408`.
    pub body_read_timeout: Duration,
    /// A connection whose client takes no byte of an answer (or of WebSocket messages) this long
    /// is closed: a client that stops reading cannot hold it.
    pub send_timeout: Duration,
    /// Open connections (WebSockets included); a new one past this gets a `503` and is closed.
    pub max_connections: usize,
    /// Bytes of remote-ingest bodies one client address may send per second, judged from
    /// `Content-Length` before the body is read (0 = no limit).
    pub max_ingest_bytes_per_sec: u64,
    /// Wrong write tokens one client address may send within `auth_failure_window`; past it, every
    /// write from that address is answered `429` for one window.
    pub auth_failure_limit: u32,
    pub auth_failure_window: Duration,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            host: IpAddr::from([127, 0, 0, 1]),
            port: DEFAULT_PORT,
            allowed_hosts: Vec::new(),
            public_urls: Vec::new(),
            base_path: Default::default(),
            demo: false,
            rescan_interval: Duration::from_secs(DEFAULT_RESCAN_INTERVAL_SECS),
            heartbeat_timeout: Duration::from_secs(DEFAULT_HEARTBEAT_TIMEOUT_SECS),
            memory_limit_bytes: crate::store::DEFAULT_MEMORY_LIMIT_BYTES,
            max_keys_per_run: crate::store::DEFAULT_MAX_KEYS_PER_RUN,
            max_line_bytes: crate::store::DEFAULT_MAX_LINE_BYTES,
            ws_queue: DEFAULT_WS_QUEUE,
            ws_send_timeout: Duration::from_millis(DEFAULT_WS_SEND_TIMEOUT_MS),
            presence_timeout: Duration::from_secs(trackline_shared::presence::TIMEOUT_SECS),
            sweep_heartbeat_secs: crate::sweeps::controller::DEFAULT_HEARTBEAT_SECS,
            header_read_timeout: Duration::from_secs(DEFAULT_HEADER_READ_TIMEOUT_SECS),
            body_read_timeout: Duration::from_secs(DEFAULT_BODY_READ_TIMEOUT_SECS),
            send_timeout: Duration::from_secs(DEFAULT_SEND_TIMEOUT_SECS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_ingest_bytes_per_sec: DEFAULT_MAX_INGEST_BYTES_PER_SEC,
            auth_failure_limit: DEFAULT_AUTH_FAILURE_LIMIT,
            auth_failure_window: Duration::from_secs(DEFAULT_AUTH_FAILURE_WINDOW_SECS),
        }
    }

    /// Where the daemon keeps what it writes itself (index database, tokens): hidden from the scan.
    pub fn state_dir(&self) -> PathBuf {
        self.data_dir.join(".trackline")
    }
}
