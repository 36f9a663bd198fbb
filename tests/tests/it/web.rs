//! Shared browser-test helpers: a chromedriver process, a headless Chromium session (fantoccini),
//! and small queries by CSS selector.

use crate::common::Daemon;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A chromedriver process on a free port; killed on drop.
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Driver {
    pub fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver not found: apt-get install chromium chromium-driver (xtask/test.sh does)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session (1400×1000) with its own profile directory, keeping what the page
/// logs for `page_errors`.
pub async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    trackline_tests::chrome::session(driver.port, profile, &[], Some("SEVERE"))
        .await
        .expect("a Chromium session")
}

/// Fails unless the daemon embeds a real web build (not the placeholder of a failed build).
pub async fn require_web(d: &Daemon) {
    let wasm = reqwest::get(d.url("/assets/app_bg.wasm"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        wasm.len() > 1000,
        "the web app was not built into the daemon (TRACKLINE_SKIP_WEB set?)"
    );
}

/// What the page logged as an error (`console.error`, which a WASM panic writes to, and uncaught
/// exceptions) since the last call, read from chromedriver's log of the session. Failed requests
/// (network errors) are not included.
pub async fn page_errors(c: &Client, driver: &Driver) -> Vec<String> {
    let session = c.session_id().await.unwrap().expect("a session");
    let url = format!("http://127.0.0.1:{}/session/{session}/se/log", driver.port);
    let body: Value = reqwest::Client::new()
        .post(url)
        .json(&json!({ "type": "browser" }))
        .send()
        .await
        .expect("chromedriver log")
        .json()
        .await
        .expect("chromedriver log JSON");
    body["value"]
        .as_array()
        .expect("log entries")
        .iter()
        .filter(|e| e["level"] == "SEVERE" && e["source"] != "network")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// An attribute of the first element matching `css`.
pub async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    let el = c.find(Locator::Css(css)).await.ok()?;
    el.attr(name).await.ok()?
}

/// Runs `script` (a function body; `arguments[0..]` are `args`) and returns its value.
pub async fn js(c: &Client, script: &str, args: Vec<Value>) -> Value {
    c.execute(script, args).await.expect("execute script")
}

/// How many elements match `css`.
pub async fn count(c: &Client, css: &str) -> usize {
    js(
        c,
        "return document.querySelectorAll(arguments[0]).length;",
        vec![json!(css)],
    )
    .await
    .as_u64()
    .unwrap_or(0) as usize
}

/// An attribute of every element matching `css`, in document order.
pub async fn attrs(c: &Client, css: &str, name: &str) -> Vec<String> {
    let v = js(
        c,
        "return [...document.querySelectorAll(arguments[0])].map(e => e.getAttribute(arguments[1]));",
        vec![json!(css), json!(name)],
    )
    .await;
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The text of every element matching `css`, in document order.
pub async fn texts(c: &Client, css: &str) -> Vec<String> {
    let v = js(
        c,
        "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent.trim());",
        vec![json!(css)],
    )
    .await;
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Polls `probe` until `pred` holds on what it returns, or panics after `timeout` naming `what`
/// and the last value seen.
pub async fn eventually<T: std::fmt::Debug, F, Fut>(
    what: &str,
    timeout: Duration,
    mut probe: F,
    pred: impl Fn(&T) -> bool,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let v = probe().await;
        if pred(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last seen: {v:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sets an input's or select's value as a user would and fires `input` and `change`.
pub async fn set_value(c: &Client, css: &str, value: &str) {
    let ok = js(
        c,
        "const e = document.querySelector(arguments[0]); if (!e) return false;
         e.value = arguments[1];
         e.dispatchEvent(new Event('input', {bubbles: true}));
         e.dispatchEvent(new Event('change', {bubbles: true}));
         return true;",
        vec![json!(css), json!(value)],
    )
    .await;
    assert_eq!(ok, json!(true), "no element {css}");
}

/// Saves a screenshot to the temp dir (for a failing test) and says where.
pub async fn screenshot(c: &Client, name: &str) {
    if let Ok(png) = c.screenshot().await {
        let path = std::env::temp_dir().join(format!("trackline-{name}.png"));
        let _ = std::fs::write(&path, png);
        eprintln!("screenshot: {}", path.display());
    }
}

/// Opens a share link (the page trades it for its session cookie and drops it from the address
/// bar), waits for the projects page behind it, then goes to `path`.
pub async fn open_link(c: &Client, d: &Daemon, link: &str, path: &str) {
    c.goto(link).await.unwrap();
    eventually(
        "the link traded for a session",
        Duration::from_secs(30),
        || async { c.current_url().await.unwrap().to_string() },
        |u| !u.contains("#t="),
    )
    .await;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("[data-testid=project-link]"))
        .await
        .expect("the projects page behind the link");
    c.goto(&d.url(path)).await.unwrap();
}
