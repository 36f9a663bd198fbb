//! An owner deletes a finished run (issue 9): viewer and annotator links are refused, a running
//! run is refused with 409 and stays, a finished one moves to `.trackline/trash/<project>/`,
//! leaves the run list, reaches `project` subscribers as `run_removed`, and a restart does not
//! bring it back. Without sharing, the local user is the owner.

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use trackline_shared::{ClientMsg, ServerMsg, Topic};

const PUBLIC: &str = "https://team.example";

/// `method path` with `token`, from the daemon's own origin; answers the status and the body.
async fn call(d: &Daemon, method: reqwest::Method, path: &str, token: &str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .request(method, d.url(path))
        .bearer_auth(token)
        .header("origin", format!("http://127.0.0.1:{}", d.port))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn run_ids(d: &Daemon, token: &str) -> Vec<String> {
    let (status, body) = call(d, reqwest::Method::GET, "/api/projects/p/runs", token).await;
    assert_eq!(status, 200, "{body}");
    let runs: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    runs.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next protocol message (panics after 10 s).
async fn next_msg(ws: &mut Socket) -> ServerMsg {
    let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a message within 10 s")
        .unwrap()
        .unwrap();
    serde_json::from_str(frame.to_text().unwrap()).unwrap()
}

#[tokio::test]
async fn only_an_owner_deletes_a_finished_run_and_it_goes_to_the_trash() {
    let root = tempfile::tempdir().unwrap();
    let mut done = RunWriter::create(root.path(), "p", "done");
    done.log_rows(3, |s| s.to_string());
    done.set("state", "finished".into());
    done.set("finished_at", now_secs().into());
    let mut busy = RunWriter::create(root.path(), "p", "busy");
    busy.log_rows(2, |s| s.to_string());
    let d = Daemon::start_with(root.path(), &["--public-url", PUBLIC]);
    let (viewer, annotator, owner) = (
        share_token(root.path(), "viewer", "viewer"),
        share_token(root.path(), "annotator", "annotator"),
        share_token(root.path(), "owner", "owner"),
    );
    let delete = reqwest::Method::DELETE;

    for refused in [&viewer, &annotator] {
        let (status, body) = call(&d, delete.clone(), "/api/projects/p/runs/done", refused).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("forbidden"), "{body}");
    }
    let (status, body) = call(&d, delete.clone(), "/api/projects/p/runs/busy", &owner).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("stop it first"), "{body}");
    assert!(busy.dir.join("run.json").exists());
    let (status, body) = call(&d, delete.clone(), "/api/projects/p/runs/nope", &owner).await;
    assert_eq!(status, 404, "{body}");

    // A subscriber of the project topic sees the run leave.
    let mut request = format!("ws://127.0.0.1:{}/api/ws", d.port)
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert("authorization", format!("Bearer {viewer}").parse().unwrap());
    headers.insert(
        "origin",
        format!("http://127.0.0.1:{}", d.port).parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let subscribe = ClientMsg::Subscribe {
        id: 1,
        topic: Topic::Project {
            project: "p".into(),
            since: 0,
        },
    };
    ws.send(Message::Text(
        serde_json::to_string(&subscribe).unwrap().into(),
    ))
    .await
    .unwrap();
    // Subscribed once the snapshot of runs arrived.
    loop {
        if let ServerMsg::Runs { .. } = next_msg(&mut ws).await {
            break;
        }
    }

    let (status, body) = call(&d, delete.clone(), "/api/projects/p/runs/done", &owner).await;
    assert_eq!(status, 204, "{body}");
    loop {
        match next_msg(&mut ws).await {
            ServerMsg::RunRemoved { run, .. } if run == "done" => break,
            _ => continue,
        }
    }
    assert_eq!(run_ids(&d, &owner).await, ["busy"]);
    assert!(!done.dir.exists());
    let trash = root.path().join(".trackline/trash/p");
    let trashed: Vec<String> = std::fs::read_dir(&trash)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(trashed.len(), 1, "{trashed:?}");
    assert!(trashed[0].starts_with("done-"), "{trashed:?}");
    assert!(trash.join(&trashed[0]).join("run.json").exists());

    drop(ws);
    drop(d);
    let d = Daemon::start_with(root.path(), &["--public-url", PUBLIC]);
    assert_eq!(run_ids(&d, &owner).await, ["busy"]);
}

#[tokio::test]
async fn without_sharing_the_local_user_is_the_owner_who_deletes() {
    let root = tempfile::tempdir().unwrap();
    let mut done = RunWriter::create(root.path(), "p", "solo");
    done.set("state", "crashed".into());
    let d = Daemon::start(root.path());
    let resp = reqwest::Client::new()
        .delete(d.url("/api/projects/p/runs/solo"))
        .header("origin", format!("http://127.0.0.1:{}", d.port))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert!(!done.dir.exists());
    assert!(
        root.path()
            .join(".trackline/trash/p")
            .read_dir()
            .unwrap()
            .count()
            == 1
    );
    assert_eq!(d.get("/api/projects/p/runs/solo").await.0, 404);
}
