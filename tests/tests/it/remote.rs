//! Remote ingest over a real socket: token, idempotent offset-based batches, and `trackline sync`
//! run twice uploading once.

use crate::common::*;
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn token(daemon_dir: &std::path::Path) -> String {
    std::fs::read_to_string(daemon_dir.join(".trackline/api_key"))
        .unwrap()
        .trim()
        .to_owned()
}

async fn post(d: &Daemon, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(d.url("/api/ingest/v1/batch"))
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn batches_need_the_token_and_are_idempotent() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let t = token(root.path());
    let run_json = json!({"format_version": 1, "id": "rem1", "name": "remote", "project": "rp",
        "state": "running", "created_at": now_secs(), "heartbeat_at": now_secs()});
    let batch = |offset: u64, data: &str| {
        json!({"project": "rp", "run": "rem1", "files": {"run.json": run_json},
               "append": {"history.jsonl": {"offset": offset, "data": data}}})
    };
    let (status, body) = post(&d, None, &batch(0, "{\"_step\": 0, \"loss\": 1}\n")).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = post(&d, Some("tl_wrong"), &batch(0, "x\n")).await;
    assert_eq!(status, 401);

    let first = "{\"_step\": 0, \"loss\": 1}\n{\"_step\": 1, \"loss\": NaN}\n";
    let (status, body) = post(&d, Some(&t), &batch(0, first)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["lengths"]["history.jsonl"], first.len());
    // The same batch again (its answer was lost, say): nothing is duplicated.
    let (status, _) = post(&d, Some(&t), &batch(0, first)).await;
    assert_eq!(status, 200);
    // A batch from the wrong offset is a conflict that says where to resume.
    let (status, body) = post(&d, Some(&t), &batch(5, "{\"_step\": 9}\n")).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "offset_mismatch");
    assert_eq!(body["lengths"]["history.jsonl"], first.len());
    let (status, body) = post(&d, Some(&t), &json!({"project": "rp", "run": "../x"})).await;
    assert_eq!(status, 400, "{body}");

    // Files go up in chunks, by offset, with the same token and the same idempotence.
    let client = reqwest::Client::new();
    let chunk = |offset: u64, body: &'static [u8], token: &str, path: &str| {
        client
            .post(d.url("/api/ingest/v1/file"))
            .query(&[
                ("project", "rp"),
                ("run", "rem1"),
                ("path", path),
                ("offset", &offset.to_string()),
            ])
            .bearer_auth(token)
            .body(body)
            .send()
    };
    assert_eq!(
        chunk(0, b"abc", "nope", "files/a.txt")
            .await
            .unwrap()
            .status(),
        401
    );
    for _ in 0..2 {
        let resp = chunk(0, b"abc", &t, "files/a.txt").await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.json::<Value>().await.unwrap()["length"], 3);
    }
    let resp = chunk(7, b"x", &t, "files/a.txt").await.unwrap();
    assert_eq!(resp.status(), 409);
    assert_eq!(resp.json::<Value>().await.unwrap()["length"], 3);
    for bad in ["files/../run.json", "run.json", "files/.x"] {
        assert_eq!(
            chunk(0, b"x", &t, bad).await.unwrap().status(),
            400,
            "{bad}"
        );
    }
    let served = reqwest::get(d.url("/api/projects/rp/runs/rem1/files/files/a.txt"))
        .await
        .unwrap();
    assert_eq!(served.text().await.unwrap(), "abc");

    let keys = d
        .wait_for(
            "/api/projects/rp/runs/rem1/keys",
            Duration::from_secs(10),
            |k| k[0]["points"] == 2,
        )
        .await;
    assert_eq!(keys[0]["key"], "loss");
    let written = std::fs::read_to_string(root.path().join("rp/rem1/history.jsonl")).unwrap();
    assert_eq!(written, first);
}

#[tokio::test]
async fn sync_uploads_offline_runs_once() {
    let offline = tempfile::tempdir().unwrap();
    let served = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(offline.path(), "off", "o1");
    w.log_rows(20_000, |s| format!("{}", s as f64 / 7.0));
    w.set("state", "finished".into());
    // Metric definitions, alerts, saved files (a checkpoint larger than one chunk) and media.
    write_atomic(
        &w.dir.join("metrics.json"),
        &json!({"val/loss": {"step_metric": "epoch"}}),
    );
    std::fs::write(w.dir.join("alerts.jsonl"), "{\"title\": \"diverged\"}\n").unwrap();
    std::fs::create_dir_all(w.dir.join("files/ckpt")).unwrap();
    std::fs::create_dir_all(w.dir.join("media/images")).unwrap();
    let ckpt: Vec<u8> = (0..1_500_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(w.dir.join("files/ckpt/model.pt"), &ckpt).unwrap();
    std::fs::write(w.dir.join("media/images/sample_0.png"), b"\x89PNG fake").unwrap();
    w.append_raw(
        "{\"_step\": 20000, \"sample\": {\"_type\": \"image-file\", \"path\": \"media/images/sample_0.png\"}}\n",
    );
    w.step += 1;
    std::fs::write(w.dir.join("files/.hidden"), b"not uploaded").unwrap();
    let mut w2 = RunWriter::create(offline.path(), "off", "o2");
    w2.log_rows(10, |s| s.to_string());
    let d = Daemon::start(served.path());
    let t = token(served.path());
    let sync = || {
        Command::new(BIN)
            .args(["sync"])
            .arg(offline.path())
            .args(["--url", &d.url(""), "--api-key", &t])
            .output()
            .unwrap()
    };
    let out = sync();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("synced 2 run(s)"), "{stdout}");
    let local = std::fs::read(offline.path().join("off/o1/history.jsonl")).unwrap();
    assert_eq!(
        std::fs::read(served.path().join("off/o1/history.jsonl")).unwrap(),
        local
    );
    let run = d
        .wait_for("/api/projects/off/runs/o1", Duration::from_secs(10), |r| {
            r["state"] == "finished"
        })
        .await;
    assert_eq!(run["metrics"]["val/loss"]["step_metric"], "epoch");
    let served_run = served.path().join("off/o1");
    assert_eq!(
        std::fs::read(served_run.join("files/ckpt/model.pt")).unwrap(),
        ckpt
    );
    assert_eq!(
        std::fs::read(served_run.join("media/images/sample_0.png")).unwrap(),
        b"\x89PNG fake"
    );
    let media = d.get_ok("/api/projects/off/runs/o1/media").await;
    assert_eq!(media[0]["key"], "sample", "{media}");
    assert_eq!(media[0]["last_step"], 20000.0);
    let (status, _) = d
        .get("/api/projects/off/runs/o1/files/media/images/sample_0.png")
        .await;
    assert_eq!(status, 200);
    assert!(
        std::fs::read_to_string(served_run.join("alerts.jsonl"))
            .unwrap()
            .contains("diverged")
    );
    assert!(!served_run.join("files/.hidden").exists());

    // Again: nothing new to upload, nothing duplicated.
    let out = sync();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("uploaded 0 bytes"));
    assert_eq!(
        std::fs::read(served.path().join("off/o1/history.jsonl")).unwrap(),
        local
    );

    // More offline data later: only the new part goes up.
    w.log_rows(5, |s| s.to_string());
    let out = sync();
    assert!(out.status.success());
    let served_copy = std::fs::read_to_string(served.path().join("off/o1/history.jsonl")).unwrap();
    assert_eq!(served_copy.lines().count(), 20_006);

    // A wrong token is a clear failure.
    let out = Command::new(BIN)
        .args(["sync"])
        .arg(offline.path())
        .args(["--url", &d.url(""), "--api-key", "nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));

    // An https URL (what cloudflared or ngrok hand out) is spoken with TLS: the first bytes to
    // reach that address are a TLS handshake record (0x16, version 3.x), not a refusal to try.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let _sync = Proc(
        Command::new(BIN)
            .args(["sync"])
            .arg(offline.path())
            .args([
                "--url",
                &format!("https://127.0.0.1:{port}"),
                "--api-key",
                "k",
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + T;
    let mut conn = loop {
        match listener.accept() {
            Ok((c, _)) => break c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(std::time::Instant::now() < deadline, "sync never connected");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(T)).unwrap();
    let mut hello = [0u8; 2];
    std::io::Read::read_exact(&mut conn, &mut hello).unwrap();
    assert_eq!(hello, [0x16, 0x03], "a TLS ClientHello");
}

#[tokio::test]
async fn sync_waits_out_a_rate_limit_and_loses_nothing() {
    let offline = tempfile::tempdir().unwrap();
    let served = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(offline.path(), "off", "slow");
    // ~3 MB of history: three or more 1 MiB batches against a 1 MiB/s allowance.
    w.log_rows(40_000, |s| format!("{}", s as f64 / 7.0));
    let d = Daemon::start_with(served.path(), &["--max-ingest-rate", "1048576"]);
    let t = token(served.path());
    let out = Command::new(BIN)
        .args(["sync"])
        .arg(offline.path())
        .args(["--url", &d.url(""), "--api-key", &t])
        .env("TRACKLINE_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("asks to slow down (429)"),
        "the rate limit was never hit, so this tests nothing: {stderr}"
    );
    assert_eq!(
        std::fs::read(served.path().join("off/slow/history.jsonl")).unwrap(),
        std::fs::read(offline.path().join("off/slow/history.jsonl")).unwrap()
    );
}
