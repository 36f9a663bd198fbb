//! The browser side of the tests and benchmarks: a child process killed when dropped, chromedriver
//! on a free port (Debian's `chromium-driver`), and one way to open a headless Chromium session.

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder};
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every session's flags (the workplace's known-good set), with a 1400×1000 window.
const BASE_ARGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
];

/// Flags for a browser that can reach nothing: every request goes to a proxy on a closed port,
/// loopback included (an exported report must work offline).
pub const OFFLINE_ARGS: [&str; 2] = [
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
];

/// Debian's Chromium, or another Chromium-based browser where that is not installed.
pub fn chromium_binary() -> &'static str {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .unwrap_or("/usr/bin/chromium")
}

/// A headless Chromium session through the chromedriver on `driver_port`, with its own
/// `profile` directory, [`BASE_ARGS`] and then `extra` flags (a later flag wins, so `extra` may
/// set another `--window-size`), keeping the page's log at `log_level` (`SEVERE`, `ALL`) if given.
pub async fn session(
    driver_port: u16,
    profile: &Path,
    extra: &[&str],
    log_level: Option<&str>,
) -> anyhow::Result<Client> {
    let args: Vec<String> = BASE_ARGS
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "args": args, "binary": chromium_binary() }),
    );
    if let Some(level) = log_level {
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": level }));
    }
    ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .context("connect to chromedriver")
}

/// A child process, killed and reaped on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver on a free port, once it accepts connections; its port.
pub fn start_driver() -> anyhow::Result<(Proc, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("chromedriver (apt-get install chromium chromium-driver)")?;
    let driver = Proc(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("chromedriver did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((driver, port))
}

/// Polls `script` (which returns a boolean) in the page every 100 ms until it returns `true`;
/// an error naming `what` after `timeout`.
pub async fn wait_until(
    c: &Client,
    what: &str,
    timeout: Duration,
    script: &str,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if c.execute(script, vec![]).await? == serde_json::Value::Bool(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A daemon on a free port over `root` and a fresh headless Chromium (its own profile, `extra`
/// flags) already at `page` of it: what a browser benchmark measures. Dropping it stops both.
pub struct BrowserOnDaemon {
    pub client: Client,
    pub daemon: crate::daemon::Daemon,
    _driver: Proc,
    _profile: tempfile::TempDir,
}

impl BrowserOnDaemon {
    pub async fn open(
        daemon_binary: &Path,
        root: &Path,
        page: &str,
        extra: &[&str],
    ) -> anyhow::Result<BrowserOnDaemon> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let daemon =
            crate::daemon::Daemon::start(daemon_binary, root, port, &root.join("daemon.log"))?;
        let (driver, driver_port) = start_driver()?;
        let profile = tempfile::tempdir()?;
        let client = session(driver_port, profile.path(), extra, None).await?;
        client.goto(&daemon.url(page)).await?;
        Ok(BrowserOnDaemon {
            client,
            daemon,
            _driver: driver,
            _profile: profile,
        })
    }

    /// Closes the browser session, then stops the daemon and chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}
