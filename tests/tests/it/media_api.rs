//! Logged media through the daemon: the media index read from history rows (W&B's reference
//! objects), its REST routes, the live `media` topic and the `run` topic's media keys, and how
//! media files are served (content types, immutable caching, HTML and SVG sandboxed).

use crate::common::*;
use serde_json::{Value, json};
use std::time::Duration;
use trackline_shared::{ServerMsg, Topic};

const T: Duration = Duration::from_secs(10);

fn image_row(step: u64) -> String {
    let path = format!("media/images/samples_{step}_{step:020x}.png");
    format!(
        "{}\n",
        json!({"_step": step, "_timestamp": now_secs(), "loss": 1.0 / (step + 1) as f64,
            "samples": {"_type": "image-file", "path": path, "sha256": "00", "size": 8,
                "format": "png", "width": 2, "height": 2, "caption": format!("step {step}")}})
    )
}

#[tokio::test]
async fn media_keys_and_entries_come_from_history_rows() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "p", "r1");
    for s in 0..3 {
        w.append_raw(&image_row(s));
    }
    // A histogram, a list that is not media, a value of another kind under an image key, and a
    // path that leaves media/: only the histogram joins.
    w.append_raw(&format!(
        "{}\n",
        json!({"_step": 3, "h": {"_type": "histogram", "bins": [0, 1, 2], "values": [5, 7]},
            "plain": [1, 2, 3],
            "samples": {"_type": "histogram", "bins": [0, 1], "values": [1]},
            "evil": {"_type": "image-file", "path": "media/../run.json"}})
    ));
    let d = Daemon::start(root.path());
    let keys = d
        .wait_for("/api/projects/p/runs/r1/media", T, |k| {
            k.as_array().is_some_and(|a| a.len() == 2)
        })
        .await;
    assert_eq!(
        keys,
        json!([{"key": "samples", "kind": "image", "count": 3, "first_step": 0.0, "last_step": 2.0},
               {"key": "h", "kind": "histogram", "count": 1, "first_step": 3.0, "last_step": 3.0}])
    );
    let entries = d
        .get_ok("/api/projects/p/runs/r1/media/entries?key=samples&from=1")
        .await;
    let steps: Vec<f64> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_f64().unwrap())
        .collect();
    assert_eq!(steps, vec![1.0, 2.0]);
    assert_eq!(entries[1]["value"]["caption"], "step 2");
    // The metric of the same rows still charts.
    let metric = d.get_ok("/api/projects/p/runs/r1/keys").await;
    assert_eq!(metric[0]["key"], "loss");
    let (status, _) = d
        .get("/api/projects/p/runs/r1/media/entries?key=nope")
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_media_topic_serves_the_backlog_then_each_new_value_live() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "p", "r1");
    for s in 0..2 {
        w.append_raw(&image_row(s));
    }
    let d = Daemon::start(root.path());
    d.wait_for("/api/projects/p/runs/r1/media", T, |k| k[0]["count"] == 2)
        .await;
    let mut ws = Ws::connect(d.port).await;
    ws.subscribe(1, run_topic("p", "r1")).await;
    ws.subscribe(
        2,
        Topic::Media {
            project: "p".into(),
            run: "r1".into(),
            key: "samples".into(),
            from: 1,
        },
    )
    .await;
    let mut got_keys = false;
    let mut steps = Vec::new();
    let deadline = tokio::time::Instant::now() + T;
    while (!got_keys || steps.is_empty()) && tokio::time::Instant::now() < deadline {
        match ws.recv().await {
            ServerMsg::MediaKeys { sub: 1, keys, .. } => {
                assert_eq!(keys[0].count, 2);
                got_keys = true;
            }
            ServerMsg::Media {
                sub: 2,
                start,
                entries,
                ..
            } => {
                assert_eq!(start, 1, "resumes from the offset asked for");
                steps.extend(entries.iter().map(|e| e.step));
            }
            _ => {}
        }
    }
    assert!(got_keys, "the run topic sent media keys");
    assert_eq!(steps, vec![1.0]);
    // A new value is pushed on both topics.
    w.append_raw(&image_row(2));
    let (mut pushed, mut keys_count) = (Vec::new(), 0);
    let deadline = tokio::time::Instant::now() + T;
    while (pushed.is_empty() || keys_count != 3) && tokio::time::Instant::now() < deadline {
        match ws.recv().await {
            ServerMsg::Media {
                sub: 2,
                start,
                entries,
                ..
            } => {
                assert_eq!(start, 2);
                pushed.extend(entries.iter().map(|e| e.value["caption"].clone()));
            }
            ServerMsg::MediaKeys { sub: 1, keys, .. } => keys_count = keys[0].count,
            _ => {}
        }
    }
    assert_eq!(pushed, vec![Value::from("step 2")]);
    assert_eq!(keys_count, 3);
}

#[tokio::test]
async fn media_files_are_typed_cached_and_html_is_sandboxed() {
    let root = tempfile::tempdir().unwrap();
    let w = RunWriter::create(root.path(), "p", "r1");
    let media = w.dir.join("media");
    std::fs::create_dir_all(media.join("images")).unwrap();
    std::fs::create_dir_all(media.join("html")).unwrap();
    std::fs::write(media.join("images/a_0_ff.png"), b"\x89PNG....").unwrap();
    std::fs::write(
        media.join("html/page_0_ee.html"),
        b"<script>fetch('/api/projects')</script>",
    )
    .unwrap();
    std::fs::write(media.join("images/pic_0_dd.svg"), b"<svg/>").unwrap();
    let d = Daemon::start(root.path());
    d.wait_for("/api/projects/p/runs", T, |r| r[0]["id"] == "r1")
        .await;
    let get = |path: &str| reqwest::get(d.url(&format!("/api/projects/p/runs/r1/files/{path}")));
    let png = get("media/images/a_0_ff.png").await.unwrap();
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(
        png.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    for page in ["media/html/page_0_ee.html", "media/images/pic_0_dd.svg"] {
        let resp = get(page).await.unwrap();
        assert_eq!(resp.status(), 200);
        let csp = resp.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("sandbox allow-scripts;"), "{page}: {csp}");
        assert!(!csp.contains("allow-same-origin"), "{csp}");
        assert!(csp.contains("connect-src 'none'"), "{csp}");
        assert_eq!(resp.headers()["x-frame-options"], "SAMEORIGIN");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    }
    // Everything else keeps the app's policy.
    let json = get("config.json").await.unwrap();
    let csp = json.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(json.headers()["cache-control"], "no-store");
}
