//! The WebSocket protocol with a real tokio-tungstenite client: snapshots, live deltas,
//! reconnect-resume without gap or duplicate, origin checks, slow consumers.

use crate::common::*;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use trackline_shared::{ServerMsg, Topic};

#[tokio::test]
async fn series_snapshot_then_live_deltas() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "p", "r1");
    w.log_rows(100, |s| s.to_string());
    let d = Daemon::start(root.path());
    let mut ws = Ws::connect(d.port).await;
    ws.subscribe(1, series_topic("p", "r1", "loss", 0)).await;
    assert_eq!(ws.recv().await, ServerMsg::Subscribed { id: 1 });
    let snapshot = ws.collect_points(1, 0, 100).await;
    assert_eq!(snapshot, (0..100).map(|s| s as f64).collect::<Vec<_>>());
    for _ in 0..5 {
        w.log_rows(10, |s| {
            if s == 123 {
                "Infinity".into()
            } else {
                s.to_string()
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let live = ws.collect_points(1, 100, 50).await;
    assert_eq!(live, (100..150).map(|s| s as f64).collect::<Vec<_>>());
}

/// A client asking for batches gets every message, in order, however they were framed.
#[tokio::test]
async fn a_batching_client_gets_every_point_in_order() {
    let root = tempfile::tempdir().unwrap();
    let mut writers: Vec<RunWriter> = (0..12)
        .map(|i| {
            let mut w = RunWriter::create(root.path(), "p", &format!("r{i}"));
            w.log_rows(40, |s| s.to_string());
            w
        })
        .collect();
    let d = Daemon::start(root.path());
    let mut ws = Ws::connect_batched(d.port).await;
    for i in 0..12 {
        ws.subscribe(i, series_topic("p", &format!("r{i}"), "loss", 0))
            .await;
    }
    // Every subscription's snapshot, then live rows written to all runs in bursts.
    let mut got: Vec<Vec<f64>> = vec![Vec::new(); 12];
    let mut next = [0u64; 12];
    let mut take = |ws_msg: ServerMsg, got: &mut Vec<Vec<f64>>| {
        if let ServerMsg::Points {
            sub, start, step, ..
        } = ws_msg
        {
            let k = sub as usize;
            assert_eq!(start, next[k], "gap or duplicate in sub {sub}");
            next[k] += step.len() as u64;
            got[k].extend(step);
        }
    };
    for round in 0..5 {
        for w in &mut writers {
            w.log_rows(10, |s| s.to_string());
        }
        let want = 40 + 10 * (round + 1);
        while got.iter().any(|g| g.len() < want) {
            let msg = ws.recv().await;
            take(msg, &mut got);
        }
    }
    for (k, g) in got.iter().enumerate() {
        assert_eq!(g, &(0..90).map(|s| s as f64).collect::<Vec<_>>(), "sub {k}");
    }
    assert!(ws.try_recv(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn reconnect_resumes_without_gap_or_duplicate() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "p", "r1");
    w.log_rows(50, |s| s.to_string());
    let d = Daemon::start(root.path());

    let mut ws = Ws::connect(d.port).await;
    ws.subscribe(7, series_topic("p", "r1", "loss", 0)).await;
    let mut seen = ws.collect_points(7, 0, 50).await;
    drop(ws);

    // Points keep arriving while the client is away.
    w.log_rows(30, |s| s.to_string());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut ws = Ws::connect(d.port).await;
    ws.subscribe(7, series_topic("p", "r1", "loss", seen.len() as u64))
        .await;
    w.log_rows(20, |s| s.to_string());
    seen.extend(ws.collect_points(7, 50, 50).await);
    assert_eq!(seen, (0..100).map(|s| s as f64).collect::<Vec<_>>());
    // Nothing more (no duplicate) arrives.
    if let Some(ServerMsg::Points { start, .. }) = ws.try_recv(Duration::from_millis(500)).await {
        panic!("unexpected extra points from offset {start}");
    }
}

#[tokio::test]
async fn project_topic_pushes_new_runs_and_changes_and_resumes_by_version() {
    let root = tempfile::tempdir().unwrap();
    RunWriter::create(root.path(), "p", "r1");
    let d = Daemon::start(root.path());
    let mut ws = Ws::connect(d.port).await;
    ws.subscribe(
        2,
        Topic::Project {
            project: "p".into(),
            since: 0,
        },
    )
    .await;
    assert_eq!(ws.recv().await, ServerMsg::Subscribed { id: 2 });
    let since = match ws.recv().await {
        ServerMsg::Runs { runs, .. } => {
            assert_eq!(runs.len(), 1);
            runs[0].version
        }
        other => panic!("{other:?}"),
    };
    let mut w2 = RunWriter::create(root.path(), "p", "r2");
    let got = loop {
        if let ServerMsg::Runs { runs, .. } = ws.recv().await
            && let Some(r) = runs.iter().find(|r| r.id == "r2")
        {
            break r.clone();
        }
    };
    assert_eq!(got.name, "run r2");
    w2.set("name", "renamed".into());
    loop {
        if let ServerMsg::Runs { runs, .. } = ws.recv().await
            && runs.iter().any(|r| r.id == "r2" && r.name == "renamed")
        {
            break;
        }
    }
    // Resuming with the first version seen yields only r2, not r1 again.
    let mut ws = Ws::connect(d.port).await;
    ws.subscribe(
        3,
        Topic::Project {
            project: "p".into(),
            since,
        },
    )
    .await;
    ws.recv().await;
    match ws.recv().await {
        ServerMsg::Runs { runs, .. } => {
            assert_eq!(
                runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
                vec!["r2"]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn run_topic_announces_new_keys() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "p", "r1");
    w.log_rows(3, |s| s.to_string());
    let d = Daemon::start(root.path());
    let mut ws = Ws::connect(d.port).await;
    ws.subscribe(4, run_topic("p", "r1")).await;
    let mut keys_seen = Vec::new();
    while keys_seen.is_empty() {
        if let ServerMsg::Keys { keys, .. } = ws.recv().await {
            keys_seen = keys;
        }
    }
    assert_eq!(keys_seen, vec!["loss"]);
    w.append_raw("{\"_step\": 3, \"loss\": 1, \"val/acc\": 0.5}\n");
    loop {
        if let ServerMsg::Keys { keys, .. } = ws.recv().await {
            assert_eq!(keys, vec!["loss", "val/acc"]);
            break;
        }
    }
}

#[tokio::test]
async fn bad_messages_get_errors_and_unknown_runs_are_reported() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let mut ws = Ws::connect(d.port).await;
    use futures_util::SinkExt;
    ws.stream.send("{\"type\":\"dance\"}".into()).await.unwrap();
    assert!(matches!(
        ws.recv().await,
        ServerMsg::Error { sub: None, .. }
    ));
    ws.subscribe(9, series_topic("p", "missing", "loss", 0))
        .await;
    assert!(matches!(
        ws.recv().await,
        ServerMsg::Error { sub: Some(9), .. }
    ));
    ws.send(&trackline_shared::ClientMsg::Ping { nonce: 42 })
        .await;
    assert_eq!(ws.recv().await, ServerMsg::Pong { nonce: 42 });
}

#[tokio::test]
async fn refuses_cross_origin_handshakes() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let mut req = format!("ws://127.0.0.1:{}/api/ws", d.port)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Origin", "http://evil.example".parse().unwrap());
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    let mut req = format!("ws://127.0.0.1:{}/api/ws", d.port)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Origin",
        format!("http://127.0.0.1:{}", d.port).parse().unwrap(),
    );
    tokio_tungstenite::connect_async(req)
        .await
        .expect("same origin is fine");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "p", "r1");
    w.log_rows(1, |s| s.to_string());
    let d = Daemon::start_with(
        root.path(),
        &["--ws-queue", "4", "--ws-send-timeout-ms", "1000"],
    );
    let mut slow = Ws::connect(d.port).await;
    slow.subscribe(1, series_topic("p", "r1", "loss", 0)).await;
    // A healthy client on the same daemon keeps reading throughout.
    let mut good = Ws::connect(d.port).await;
    good.subscribe(1, series_topic("p", "r1", "loss", 0)).await;
    let reader = tokio::spawn(async move {
        let mut received = 0usize;
        while let Some(msg) = good.try_recv(Duration::from_secs(3)).await {
            if let ServerMsg::Points { step, .. } = msg {
                received += step.len();
            }
        }
        received
    });

    // Keep appending until the slow client's socket buffers and queue are full.
    for _ in 0..400 {
        w.log_rows(2000, |s| s.to_string());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Now read the slow client: after what was buffered, the server has closed it.
    let mut closed = false;
    for _ in 0..100_000 {
        if slow.try_recv(Duration::from_secs(5)).await.is_none() {
            closed = true;
            break;
        }
    }
    assert!(closed, "the slow client was never dropped");
    assert_eq!(
        reader.await.unwrap(),
        w.step as usize,
        "the healthy client got every point"
    );
    d.get_ok("/api/health").await;
}
