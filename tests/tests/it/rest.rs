//! REST over a real socket: listing, series decimation, robustness to bad files, security.

use crate::common::*;
use serde_json::Value;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn lists_projects_runs_keys_and_series() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "mnist", "abc123");
    w.log_rows(1000, |s| {
        if s == 500 {
            "1e6".into()
        } else if s == 7 {
            "NaN".into()
        } else {
            format!("{}", s % 10)
        }
    });
    let d = Daemon::start(root.path());

    let projects = d.get_ok("/api/projects").await;
    assert_eq!(projects[0]["name"], "mnist");
    assert_eq!(projects[0]["run_count"], 1);
    let runs = d.get_ok("/api/projects/mnist/runs").await;
    assert_eq!(runs[0]["id"], "abc123");
    assert_eq!(runs[0]["name"], "run abc123");
    assert_eq!(runs[0]["config"]["lr"], 0.01);
    assert_eq!(runs[0]["tags"][0], "t1");
    let keys = d
        .wait_for("/api/projects/mnist/runs/abc123/keys", T, |k| {
            k[0]["points"] == 1000
        })
        .await;
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");

    // Full zoom-out into 10 columns: the one-step spike and the NaN are both visible.
    let s = d
        .get_ok("/api/projects/mnist/series?runs=abc123&key=loss&x=step&width=10")
        .await;
    let b = &s["runs"][0]["buckets"];
    assert_eq!(s["runs"][0]["total_points"], 1000);
    assert_eq!(s["window"], serde_json::json!([0.0, 999.0]));
    let maxes: Vec<f64> = b["max"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(maxes.iter().cloned().fold(f64::MIN, f64::max), 1e6);
    assert_eq!(b["nonfinite"][0], 1);
    let counts: u64 = b["count"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(counts, 1000);

    // A zoomed window returns only points inside it.
    let s = d
        .get_ok("/api/projects/mnist/series?runs=abc123&key=loss&x_min=5&x_max=9&width=5")
        .await;
    let b = &s["runs"][0]["buckets"];
    assert_eq!(b["first"], serde_json::json!([5.0, 6.0, "NaN", 8.0, 9.0]));

    // Wall-time and relative-time axes work too.
    let s = d
        .get_ok("/api/projects/mnist/series?runs=abc123&key=loss&x=relative_time&width=100")
        .await;
    assert_eq!(s["x"], "relative_time");
    let pts: u64 = s["runs"][0]["buckets"]["count"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(pts, 1000);

    // Against another metric: val/loss every 100 steps, epoch every 250.
    let mut rows = String::new();
    for step in 1000..2000u64 {
        let mut row = format!("{{\"_step\": {step}");
        if step % 250 == 0 {
            row.push_str(&format!(", \"epoch\": {}", step / 250));
        }
        if step % 100 == 0 {
            row.push_str(&format!(", \"val/loss\": {}", 1.0 / step as f64));
        }
        rows.push_str(&row);
        rows.push_str("}\n");
    }
    w.append_raw(&rows);
    d.wait_for("/api/projects/mnist/runs/abc123/keys", T, |k| {
        k.as_array().unwrap().len() == 3
    })
    .await;
    let s = d
        .get_ok("/api/projects/mnist/series?runs=abc123&key=val/loss&x_key=epoch&width=1000")
        .await;
    assert_eq!(s["x_key"], "epoch");
    assert_eq!(s["window"], serde_json::json!([4.0, 7.0]));
    let b = &s["runs"][0]["buckets"];
    assert_eq!(s["runs"][0]["total_points"], 10);
    let xs: Vec<f64> = b["x_first"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(xs, vec![4.0, 5.0, 6.0, 7.0]);
    let counts: Vec<u64> = b["count"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(counts, vec![3, 2, 3, 2]);

    // A log x axis: columns equal in log10(step), from the first step above zero. Steps 1..=999
    // into 3 columns are the decades [1, 10), [10, 100), [100, 999].
    let s = d
        .get_ok("/api/projects/mnist/series?runs=abc123&key=loss&x_log=true&x_max=999&width=3")
        .await;
    assert_eq!(s["x_log"], true);
    assert_eq!(s["window"], serde_json::json!([1.0, 999.0]));
    let b = &s["runs"][0]["buckets"];
    assert_eq!(b["count"], serde_json::json!([9, 90, 900]));
    assert_eq!(b["x_first"], serde_json::json!([1.0, 10.0, 100.0]));
    let (status, body) = d
        .get("/api/projects/mnist/series?runs=abc123&key=loss&x_log=true&x_min=0&width=3")
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn bad_requests_get_clear_json_errors() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "p", "r1");
    w.log_rows(10, |s| s.to_string());
    let d = Daemon::start(root.path());
    for (path, status, code) in [
        ("/api/projects/nope/runs", 404, "not_found"),
        ("/api/projects/p/runs/nope", 404, "not_found"),
        (
            "/api/projects/p/series?runs=r1&key=loss&width=0",
            400,
            "bad_request",
        ),
        (
            "/api/projects/p/series?runs=r1&key=loss&width=abc",
            400,
            "bad_request",
        ),
        (
            "/api/projects/p/series?runs=r1&key=loss&width=10&x_min=5&x_max=1",
            400,
            "bad_request",
        ),
        (
            "/api/projects/p/series?runs=r1&key=loss&width=10&x=sideways",
            400,
            "bad_request",
        ),
        (
            "/api/projects/p/series?runs=nope&key=loss&width=10",
            404,
            "not_found",
        ),
        ("/api/nothing-here", 404, "not_found"),
    ] {
        let (got, body) = d.get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().len() > 5);
    }
    // The daemon is still fine.
    d.get_ok("/api/health").await;
}

#[tokio::test]
async fn survives_garbage_torn_lines_truncation_and_deletion() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "p", "r1");
    w.log_rows(5, |s| s.to_string());
    w.append_raw("this is not json\n{\"_step\": 99, \"loss\": }\n");
    w.step = 100;
    w.log_rows(5, |s| s.to_string());
    // A torn last line: no newline yet.
    w.append_raw("{\"_step\": 105, \"loss\"");
    // A broken run next to it must not hide the good one.
    std::fs::create_dir_all(root.path().join("p/broken")).unwrap();
    std::fs::write(root.path().join("p/broken/run.json"), "{not json").unwrap();
    let d = Daemon::start(root.path());
    let path = "/api/projects/p/runs/r1/keys";
    d.wait_for(path, T, |k| k[0]["points"] == 10).await;
    let runs = d.get_ok("/api/projects/p/runs").await;
    assert_eq!(runs.as_array().unwrap().len(), 1);

    // Completing the torn line makes it count, exactly once.
    w.append_raw(": 5.5}\n");
    d.wait_for(path, T, |k| k[0]["points"] == 11).await;

    // Truncation: the file is read again from the start.
    std::fs::write(w.dir.join("history.jsonl"), "{\"_step\": 0, \"loss\": 1}\n").unwrap();
    d.wait_for(path, T, |k| k[0]["points"] == 1).await;

    // Deleting the run removes it.
    std::fs::remove_dir_all(&w.dir).unwrap();
    d.wait_for("/api/projects", T, |p| {
        p.as_array().is_some_and(|a| a.is_empty())
    })
    .await;
}

#[tokio::test]
async fn picks_up_new_runs_and_metadata_changes_live() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let mut w = RunWriter::create(root.path(), "live", "r1");
    w.log_rows(3, |s| s.to_string());
    d.wait_for("/api/projects/live/runs/r1/keys", T, |k| {
        k[0]["points"] == 3
    })
    .await;
    // System metrics (system.jsonl, no _step) become series too, drawn against time.
    let t0 = now_secs();
    let mut sys = String::new();
    for i in 0..5 {
        sys.push_str(&format!(
            "{{\"_timestamp\": {}, \"_runtime\": {i}, \"system/cpu_percent\": {}}}\n",
            t0 + i as f64,
            10 * i
        ));
    }
    std::fs::write(w.dir.join("system.jsonl"), sys).unwrap();
    let keys = d
        .wait_for("/api/projects/live/runs/r1/keys", T, |k| {
            k.as_array().unwrap().len() == 2
        })
        .await;
    assert_eq!(keys[1]["key"], "system/cpu_percent");
    assert_eq!(keys[1]["points"], 5);
    let s = d
        .get_ok("/api/projects/live/series?runs=r1&key=system/cpu_percent&x=wall_time&width=5")
        .await;
    assert_eq!(
        s["runs"][0]["buckets"]["max"]
            .as_array()
            .unwrap()
            .last()
            .unwrap(),
        40.0
    );
    w.set("name", Value::from("renamed"));
    d.wait_for("/api/projects/live/runs/r1", T, |r| r["name"] == "renamed")
        .await;
    w.set("state", Value::from("finished"));
    d.wait_for("/api/projects/live/runs/r1", T, |r| {
        r["state"] == "finished"
    })
    .await;
}

#[tokio::test]
async fn refuses_foreign_hosts_and_paths_outside_the_run() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "p", "r1");
    w.log_rows(1, |s| s.to_string());
    std::fs::write(root.path().join("secret.txt"), "TOPSECRET-CONTENT").unwrap();
    std::os::unix::fs::symlink(root.path().join("secret.txt"), w.dir.join("link.txt")).unwrap();
    let d = Daemon::start(root.path());
    let client = reqwest::Client::new();

    let resp = client
        .get(d.url("/api/projects"))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden_host");
    let resp = client
        .get(d.url("/"))
        .header("Host", "attacker.test:8765")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = client
        .get(d.url("/api/projects"))
        .header("Host", "localhost:1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let ok = client
        .get(d.url("/api/projects/p/runs/r1/files/history.jsonl"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let whole = ok.text().await.unwrap();
    assert!(whole.contains("\"_step\": 0"));
    // Ranges let the web app tail a growing file (console.log) without refetching it.
    let url = d.url("/api/projects/p/runs/r1/files/history.jsonl");
    let part = client
        .get(&url)
        .header("Range", "bytes=2-")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    let len = whole.len();
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 2-{}/{len}", len - 1).as_str()
    );
    assert_eq!(part.text().await.unwrap(), whole[2..]);
    let at_end = client
        .get(&url)
        .header("Range", format!("bytes={len}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(at_end.status(), 206);
    assert_eq!(at_end.text().await.unwrap(), "");
    let beyond = client
        .get(&url)
        .header("Range", format!("bytes={}-", len + 5))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);
    for bad in [
        "/api/projects/p/runs/r1/files/..%2F..%2Fsecret.txt",
        "/api/projects/p/runs/r1/files/%2e%2e/%2e%2e/secret.txt",
        "/api/projects/p/runs/r1/files/link.txt",
        "/api/projects/p/runs/r1/files/%2Fetc%2Fpasswd",
        "/api/projects/p/runs/r1/files/.run.json.tmp",
    ] {
        let resp = client.get(d.url(bad)).send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert!(status == 404 || status == 400, "{bad}: {status}");
        assert!(!text.contains("TOPSECRET"), "{bad} leaked: {text}");
    }

    // A body over the cap is refused without harm, and without the daemon reading it: the answer
    // comes while the client has sent only the headers (a client still sending would see the
    // connection close under it, so this speaks HTTP by hand).
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", d.port))
            .await
            .unwrap();
        let head = format!(
            "PUT /api/projects/p/workspace HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            d.port,
            2 << 20
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut answer))
            .await
            .expect("no answer to a declared oversized body")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    }
    d.get_ok("/api/health").await;
}

#[tokio::test]
async fn serves_the_web_app_for_deep_links() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    for path in ["/", "/projects/x", "/projects/x/runs/y"] {
        let resp = reqwest::get(d.url(path)).await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert!(resp.text().await.unwrap().contains("<html"), "{path}");
    }
    let resp = reqwest::get(d.url("/assets/app.js")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = reqwest::get(d.url("/assets/../Cargo.toml")).await.unwrap();
    assert_ne!(resp.status(), 500);
}

#[tokio::test]
async fn workspace_layout_is_shared_through_the_daemon() {
    let root = tempfile::tempdir().unwrap();
    RunWriter::create(root.path(), "p", "r1");
    let d = Daemon::start(root.path());
    let url = d.url("/api/projects/p/workspace");
    let ws = d.get_ok("/api/projects/p/workspace").await;
    assert_eq!(ws["layout"], Value::Null);
    let client = reqwest::Client::new();
    let layout =
        serde_json::json!({"layout": {"sections": [{"prefix": "train/", "collapsed": false}]}});
    let resp = client.put(&url).json(&layout).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    // A teammate (another client) sees it.
    let ws = d.get_ok("/api/projects/p/workspace").await;
    assert_eq!(ws["layout"]["sections"][0]["prefix"], "train/");
    // Not JSON (what a cross-origin form could send) or not an object: refused.
    let resp = client
        .put(&url)
        .body(layout.to_string())
        .header("Content-Type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = client
        .put(&url)
        .json(&serde_json::json!({"layout": [1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = client
        .put(d.url("/api/projects/nope/workspace"))
        .json(&layout)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    // It survives a restart.
    drop(d);
    let d = Daemon::start(root.path());
    let ws = d.get_ok("/api/projects/p/workspace").await;
    assert_eq!(ws["layout"]["sections"][0]["prefix"], "train/");
}

#[tokio::test]
async fn workspace_saves_are_versioned_so_no_update_is_lost() {
    let root = tempfile::tempdir().unwrap();
    RunWriter::create(root.path(), "p", "r1");
    let d = Daemon::start(root.path());
    let url = d.url("/api/projects/p/workspace");
    let client = reqwest::Client::new();
    let put = |body: Value| {
        let req = client.put(&url).json(&body);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    use serde_json::json;

    // Nothing saved yet: version 0, and a save based on it is the first version.
    let ws = d.get_ok("/api/projects/p/workspace").await;
    assert_eq!((&ws["layout"], &ws["version"]), (&Value::Null, &json!(0)));
    let (status, body) = put(json!({"layout": {"a": 1}, "version": 0})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 1);

    // Two teammates read version 1. The first to save makes version 2 ...
    let ws = d.get_ok("/api/projects/p/workspace").await;
    assert_eq!(ws["version"], 1);
    let (status, body) = put(json!({"layout": {"a": 1, "alice": true}, "version": 1})).await;
    assert_eq!((status, &body["version"]), (200, &json!(2)), "{body}");
    // ... and the second, still based on version 1, is refused with what is stored now.
    let (status, body) = put(json!({"layout": {"a": 1, "bob": true}, "version": 1})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "version_conflict");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("version 2"),
        "{body}"
    );
    assert_eq!(body["layout"], json!({"a": 1, "alice": true}));
    assert_eq!(body["version"], 2);
    assert!(body["updated_at_secs"].as_f64().unwrap() > 0.0);
    // Nothing was lost, nothing half-written.
    let ws = d.get_ok("/api/projects/p/workspace").await;
    assert_eq!(ws["layout"], json!({"a": 1, "alice": true}));
    assert_eq!(ws["version"], 2);
    // The second teammate applies the change on top and saves again: both are kept.
    let (status, body) =
        put(json!({"layout": {"a": 1, "alice": true, "bob": true}, "version": 2})).await;
    assert_eq!((status, &body["version"]), (200, &json!(3)), "{body}");
    // "Nothing saved" is stale once something is.
    let (status, body) = put(json!({"layout": {}, "version": 0})).await;
    assert_eq!((status, &body["version"]), (409, &json!(3)), "{body}");

    // Without a version (an older client): last writer wins; the version still moves on.
    let (status, body) = put(json!({"layout": {"old": 1}})).await;
    assert_eq!((status, &body["version"]), (200, &json!(4)), "{body}");
    // A version that is not a non-negative integer is a bad request.
    for v in [json!("4"), json!(-1), json!(4.5)] {
        let (status, body) = put(json!({"layout": {}, "version": v})).await;
        assert_eq!(status, 400, "{v}: {body}");
    }

    // Eight saves at once, all based on version 4: exactly one is stored.
    let answers = futures_util::future::join_all(
        (0..8).map(|i| put(json!({"layout": {"writer": i}, "version": 4}))),
    )
    .await;
    let won: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    assert!(
        answers.iter().all(|(s, _)| *s == 200 || *s == 409),
        "{answers:?}"
    );
    let winner = won[0]["layout"]["writer"].clone();
    for (_, b) in answers.iter().filter(|(s, _)| *s == 409) {
        assert_eq!(
            (&b["layout"]["writer"], &b["version"]),
            (&winner, &json!(5))
        );
    }

    // Versions survive a restart.
    drop(d);
    let d = Daemon::start(root.path());
    let ws = d.get_ok("/api/projects/p/workspace").await;
    assert_eq!(
        (&ws["layout"]["writer"], &ws["version"]),
        (&winner, &json!(5))
    );
}

/// The web app's binary series answer (`Accept: application/vnd.trackline.series`) carries the
/// very numbers of the JSON answer, bit for bit: full views, zoomed-in windows of one point per
/// column, another metric as x, wall time, a log axis, NaN, ±Infinity, a spike and an empty run.
#[tokio::test]
async fn binary_and_json_series_answers_agree_point_for_point() {
    use trackline_shared::{SeriesResponse, series_wire};
    let root = tempfile::tempdir().unwrap();
    let mut a = RunWriter::create(root.path(), "p", "a");
    a.log_rows(5000, |s| match s {
        7 => "NaN".into(),
        100 => "Infinity".into(),
        101 => "-Infinity".into(),
        2500 => "1e300".into(),
        _ => format!("{}", (s as f64 * 0.37).sin() / (1.0 + s as f64).sqrt()),
    });
    let mut b = RunWriter::create(root.path(), "p", "b");
    b.log_rows(1234, |s| format!("{}", 0.1 * s as f64 - 3e-7));
    // At b's steps: on a step axis its columns and x are b's, sent once (`same_x`).
    let mut b2 = RunWriter::create(root.path(), "p", "b2");
    b2.log_rows(1234, |s| format!("{}", (s as f64 * 0.01).cos()));
    let mut rows = String::new();
    for s in 0..300 {
        rows.push_str(&format!(
            "{{\"_step\": {}, \"_timestamp\": {}, \"val/acc\": {}, \"epoch\": {}}}\n",
            5000 + s,
            now_secs(),
            f64::from(s) / 299.0,
            s / 30
        ));
    }
    a.append_raw(&rows);
    let _empty = RunWriter::create(root.path(), "p", "empty");
    let d = Daemon::start(root.path());
    d.wait_for("/api/projects/p/runs/a/keys", T, |k| {
        k.as_array().is_some_and(|k| k.len() == 3) && k[0]["points"] != 0
    })
    .await;
    d.wait_for("/api/projects/p/runs/b/keys", T, |k| k[0]["points"] == 1234)
        .await;
    d.wait_for("/api/projects/p/runs/b2/keys", T, |k| {
        k[0]["points"] == 1234
    })
    .await;

    let http = reqwest::Client::new();
    let queries = [
        "key=loss&width=1207",
        "key=loss&width=7",
        "key=loss&width=1207&x_min=90&x_max=130",
        "key=loss&width=300&x=wall_time",
        "key=loss&width=64&x=relative_time",
        "key=loss&width=500&x_log=true",
        "key=val/acc&width=200&x_key=epoch",
        "key=missing&width=100",
    ];
    let bits = |r: &SeriesResponse| {
        let mut s = format!(
            "{} {:?} {:?} {:?} {} {}\n",
            r.key,
            r.x,
            r.x_key,
            r.window.map(|(a, b)| (a.to_bits(), b.to_bits())),
            r.width,
            r.x_log
        );
        for run in &r.runs {
            let k = &run.buckets;
            let f = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let o = |v: &[Option<f64>]| v.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
            s.push_str(&format!(
                "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}\n",
                run.run,
                run.total_points,
                k.column,
                k.count,
                k.nonfinite,
                f(&k.x_first),
                f(&k.x_last),
                f(&k.first),
                f(&k.last),
                o(&k.min),
                o(&k.max),
                f(&k.x_of_min),
                f(&k.x_of_max)
            ));
        }
        s
    };
    let mut columns = 0;
    for q in queries {
        let url = d.url(&format!("/api/projects/p/series?runs=a,b,b2,empty&{q}"));
        let json = http.get(&url).send().await.unwrap();
        assert_eq!(json.status(), 200, "{q}");
        assert_eq!(json.headers()["content-type"], "application/json", "{q}");
        let json: SeriesResponse = json.json().await.unwrap();
        let bin = http
            .get(&url)
            .header("Accept", series_wire::CONTENT_TYPE)
            .send()
            .await
            .unwrap();
        assert_eq!(bin.status(), 200, "{q}");
        assert_eq!(
            bin.headers()["content-type"],
            series_wire::CONTENT_TYPE,
            "{q}"
        );
        assert_eq!(bin.headers()["vary"], "Accept", "{q}");
        let bin = series_wire::decode(&bin.bytes().await.unwrap()).unwrap();
        assert_eq!(bits(&json), bits(&bin), "{q}");
        columns += json.runs.iter().map(|r| r.buckets.len()).sum::<usize>();
    }
    assert!(
        columns > 2000,
        "the queries cover real data: {columns} columns"
    );

    // An error stays the JSON error shape whatever was asked for.
    let bad = http
        .get(d.url("/api/projects/p/series?runs=a&key=loss&width=0"))
        .header("Accept", series_wire::CONTENT_TYPE)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
}
