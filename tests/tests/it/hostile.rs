//! Hostile input against the real daemon process: headers and Host forms an attacker sends, slow
//! sockets, FIFOs and symlinks in the data directory, history lines that used to hide rows or take
//! memory, a second daemon on one directory. Each case says what an attacker saw before the
//! hardening (issue 15) in its name's terms; the unit tests of each module go deeper.

use crate::common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(15);

/// Sends `request` on a fresh connection and reads the whole answer (until the daemon closes or
/// `within` passes).
async fn raw(port: u16, request: &str, within: Duration) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(within, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let client = reqwest::Client::new();
    for path in [
        "/",
        "/runs/p",
        "/api/projects",
        "/api/nope",
        "/assets/boot.js",
    ] {
        let resp = client.get(d.url(path)).send().await.unwrap();
        let h = resp.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_else(|| panic!("{path}: no script-src in {csp}"));
        assert!(!script_src.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
    }
    // The page itself loads no inline script.
    let page = client
        .get(d.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for tag in page.split("<script").skip(1) {
        let head = &tag[..tag.find('>').unwrap()];
        assert!(
            head.contains("src="),
            "an inline script in the page: <script{head}>"
        );
    }
}

#[tokio::test]
async fn a_second_host_header_and_a_foreign_absolute_form_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let p = d.port;
    let w = Duration::from_secs(5);
    let ok = raw(
        p,
        &format!("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nConnection: close\r\n\r\n"),
        w,
    )
    .await;
    assert_eq!(status_of(&ok), 200, "{ok}");
    let two = raw(
        p,
        &format!("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nHost: evil.com\r\nConnection: close\r\n\r\n"),
        w,
    )
    .await;
    assert_eq!(status_of(&two), 400, "{two}");
    assert!(two.contains("\"error\""), "not the JSON error body: {two}");
    let absolute = raw(
        p,
        &format!("GET http://evil.com/api/health HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nConnection: close\r\n\r\n"),
        w,
    )
    .await;
    assert_eq!(status_of(&absolute), 403, "{absolute}");
}

#[tokio::test]
async fn slow_headers_are_cut_at_the_deadline() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start_with(root.path(), &["--header-read-timeout-secs", "1"]);
    let started = Instant::now();
    // Half a request line, then nothing: the daemon must close the socket, not wait forever.
    let answer = raw(
        d.port,
        "GET /api/health HTTP/1.1\r\n",
        Duration::from_secs(20),
    )
    .await;
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(10), "held for {waited:?}");
    assert!(!answer.contains(" 200 "), "{answer}");
}

#[tokio::test]
async fn wrong_tokens_get_401_without_paths_then_429() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut last_401 = String::new();
    let mut retry_after = None;
    for _ in 0..12 {
        let resp = client
            .post(d.url("/api/ingest/v1/batch"))
            .bearer_auth("tl_wrong")
            .body(r#"{"project":"p","run":"r"}"#)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        if status == 429 {
            retry_after = resp.headers().get("retry-after").cloned();
        }
        let body = resp.text().await.unwrap();
        if status == 401 {
            last_401 = body;
        }
        statuses.push(status);
    }
    assert_eq!(statuses[0], 401, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(retry_after.is_some(), "a 429 without Retry-After");
    let root_text = root.path().canonicalize().unwrap();
    assert!(
        !last_401.contains(root_text.to_str().unwrap()),
        "the 401 shows the data dir: {last_401}"
    );
}

/// Starts a daemon on `dir` on a thread, so a start-up that blocks fails the test instead of
/// hanging it.
fn start_within(dir: &Path, limit: Duration) -> Daemon {
    let dir = dir.to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Daemon::start(&dir));
    });
    rx.recv_timeout(limit)
        .expect("the daemon did not start listening (blocked on a file?)")
}

#[cfg(unix)]
#[tokio::test]
async fn fifos_and_symlinks_in_the_data_dir_are_skipped_not_followed() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "SECRET").unwrap();
    let mkfifo = |p: &Path| {
        let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
        assert!(ok, "mkfifo {}", p.display());
    };
    // A run whose config.json is a named pipe: it used to block the scan, so the daemon never
    // listened.
    let mut piped = RunWriter::create(root.path(), "p", "piped");
    piped.log_rows(3, |s| s.to_string());
    std::fs::remove_file(piped.dir.join("config.json")).unwrap();
    mkfifo(&piped.dir.join("config.json"));
    // A good run with a saved file that is a link out of the data dir.
    let mut good = RunWriter::create(root.path(), "p", "good");
    good.log_rows(5, |s| s.to_string());
    std::fs::create_dir_all(good.dir.join("files")).unwrap();
    std::fs::write(good.dir.join("files/real.txt"), "real").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        good.dir.join("files/link.txt"),
    )
    .unwrap();
    // A run folder that is a link to a run outside the data dir.
    let mut away = RunWriter::create(outside.path(), "p", "away");
    away.log_rows(2, |s| s.to_string());
    std::fs::create_dir_all(away.dir.join("files")).unwrap();
    std::fs::write(away.dir.join("files/secret.txt"), "SECRET").unwrap();
    std::os::unix::fs::symlink(&away.dir, root.path().join("p/linked")).unwrap();

    let d = start_within(root.path(), T);
    d.wait_for("/api/projects/p/runs/good/keys", T, |k| k[0]["points"] == 5)
        .await;
    let (status, body) = d
        .get("/api/projects/p/runs/good/files/files/real.txt")
        .await;
    assert_eq!(status, 200, "{body}");
    let resp = reqwest::get(d.url("/api/projects/p/runs/good/files/files/link.txt"))
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert!(!resp.text().await.unwrap().contains("SECRET"));
    assert_eq!(status, 404);
    let resp = reqwest::get(d.url("/api/projects/p/runs/linked/files/files/secret.txt"))
        .await
        .unwrap();
    assert!(!resp.text().await.unwrap().contains("SECRET"));
    let runs = d.get_ok("/api/projects/p/runs").await;
    let ids: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(
        !ids.contains(&"linked"),
        "a linked run folder is listed: {ids:?}"
    );

    // A pipe appearing while the daemon runs does not stop ingest of other runs.
    mkfifo(&good.dir.join("summary.json"));
    good.log_rows(5, |s| s.to_string());
    d.wait_for("/api/projects/p/runs/good/keys", T, |k| {
        k[0]["points"] == 10
    })
    .await;
}

#[tokio::test]
async fn hostile_history_lines_lose_no_later_rows() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "p", "r");
    // Beyond f64 range in config (Python's json writes 10**400 as its 401 digits).
    let huge = format!("1{}", "0".repeat(400));
    std::fs::write(
        w.dir.join("config.json"),
        format!("{{\"lr\": 0.01, \"huge\": {huge}, \"tiny\": -1e400}}"),
    )
    .unwrap();
    w.log_rows(3, |s| s.to_string()); // steps 0..3
    w.append_raw("{\"_step\": Infinity, \"loss\": 1}\n");
    w.append_raw("{\"_step\": NaN, \"loss\": 1}\n");
    w.append_raw("{\"_step\": 3.5, \"loss\": 1}\n");
    w.append_raw("{\"_step\": 1e300, \"loss\": 1}\n");
    // A torn line (a client killed mid-write), then a whole row appended raw.
    w.append_raw("{\"_step\": 3, \"loss\": 0.");
    w.append_raw("{\"_step\": 3, \"loss\": 3}\n");
    // A line of far more keys than the cap, then more good rows.
    let many: Vec<String> = (0..5_000).map(|i| format!("\"k{i}\": {i}")).collect();
    w.append_raw(&format!("{{\"_step\": 4, {}}}\n", many.join(", ")));
    w.step = 5;
    w.log_rows(5, |s| s.to_string()); // steps 5..10
    // An over-long line (cap set to 64 KiB below), still unfinished, then finished, then a row.
    let long = "x".repeat(200_000);
    w.append_raw(&format!("{{\"_step\": 10, \"note\": \"{long}"));

    let d = Daemon::start_with(
        root.path(),
        &["--max-keys-per-run", "100", "--max-line-bytes", "64KiB"],
    );
    let runs = d.get_ok("/api/projects/p/runs").await;
    assert_eq!(runs[0]["id"], "r", "the run is hidden: {runs}");
    let config = &runs[0]["config"];
    assert_eq!(config["huge"], Value::String(huge.clone()), "{config}");
    assert_eq!(config["tiny"], "-1e400", "{config}");
    assert_eq!(config["lr"], 0.01);

    let keys_path = "/api/projects/p/runs/r/keys";
    // loss at steps 0, 1, 2, 3 (the row after the torn bytes), 5..10.
    d.wait_for(keys_path, T, |k| {
        k.as_array()
            .unwrap()
            .iter()
            .any(|k| k["key"] == "loss" && k["points"] == 9)
    })
    .await;
    w.append_raw("\"}\n");
    w.step = 11;
    w.log_rows(1, |s| s.to_string());
    let keys = d
        .wait_for(keys_path, T, |k| {
            k.as_array()
                .unwrap()
                .iter()
                .any(|k| k["key"] == "loss" && k["points"] == 10)
        })
        .await;
    let n = keys.as_array().unwrap().len();
    assert!(n <= 100, "{n} keys kept past a cap of 100");
    let s = d
        .get_ok("/api/projects/p/series?runs=r&key=loss&x=step&width=1000")
        .await;
    let xs: Vec<f64> = s["runs"][0]["buckets"]["x_first"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(xs, [0., 1., 2., 3., 5., 6., 7., 8., 9., 11.]);
}

#[tokio::test]
async fn a_second_daemon_on_the_same_dir_is_refused_naming_the_first() {
    let root = tempfile::tempdir().unwrap();
    let first = Daemon::start(root.path());
    let mut second = Command::new(BIN)
        .args(["serve", "--port", "0", "--dir"])
        .arg(root.path())
        .env("TRACKLINE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + T;
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the second daemon kept running");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut err = String::new();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let mut out = String::new();
    BufReader::new(second.stdout.take().unwrap())
        .read_line(&mut out)
        .unwrap();
    assert!(out.is_empty(), "the second daemon served: {out}");
    assert!(
        err.contains(&first.child.id().to_string()),
        "the refusal does not name the first daemon: {err}"
    );
    // The first is unharmed.
    first.get_ok("/api/health").await;
}
