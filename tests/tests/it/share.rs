//! Share links against the real daemon (issue 9): `serve --public-url` turns sharing on, so every
//! API request needs a link's token (bearer) or the session cookie traded for it, loopback
//! included; scopes are enforced, foreign origins refused, and `trackline share revoke` from
//! another process refuses the link's next request and closes its open WebSocket within a second.

use crate::common::*;
use futures_util::StreamExt;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Runs `trackline share <args> --dir <dir>`; answers its stdout.
fn share(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("share")
        .args(args)
        .arg("--dir")
        .arg(dir)
        .env("TRACKLINE_LOG", "warn")
        .output()
        .expect("run trackline share");
    assert!(out.status.success(), "share {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Makes a link of `scope`; answers (its id, its token, the printed link).
fn new_link(dir: &std::path::Path, scope: &str) -> (String, String, String) {
    let out = share(dir, &["--scope", scope, "--label", scope]);
    let link = out.lines().find(|l| l.contains("#t=")).unwrap().to_owned();
    let token = link.split("#t=").nth(1).unwrap().to_owned();
    let id = out
        .split(" link ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    (id.to_owned(), token, link)
}

#[tokio::test]
async fn a_shared_daemon_wants_a_live_link_of_enough_scope_and_a_trusted_origin() {
    let root = tempfile::tempdir().unwrap();
    let mut run = RunWriter::create(root.path(), "p", "r1");
    run.log_rows(3, |s| s.to_string());
    let d = Daemon::start_with(root.path(), &["--public-url", "https://team.example/t"]);
    let own_origin = format!("http://127.0.0.1:{}", d.port);
    let client = reqwest::Client::new();

    let (viewer_id, viewer, link) = new_link(root.path(), "viewer");
    assert_eq!(link, format!("http://127.0.0.1:{}/#t={viewer}", d.port));
    let (_, annotator, _) = new_link(root.path(), "annotator");
    let listed = share(root.path(), &["list"]);
    assert!(
        !listed.contains(&viewer) && !listed.contains(&annotator),
        "{listed}"
    );

    // No token, loopback or not: 401 telling a person what to do. The page itself loads.
    let resp = client.get(d.url("/api/projects")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("link"),
        "{body}"
    );
    assert_eq!(client.get(d.url("/")).send().await.unwrap().status(), 200);
    let get = |token: &str| client.get(d.url("/api/projects")).bearer_auth(token).send();
    assert_eq!(get(&viewer).await.unwrap().status(), 200);
    assert_eq!(get("tl_0000").await.unwrap().status(), 401);

    // Scope: a viewer may not save the workspace; an annotator may, from a trusted origin only.
    let put = |token: &str, origin: Option<&str>| {
        let mut request = client
            .put(d.url("/api/projects/p/workspace"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(r#"{"layout": {"a": 1}}"#);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let refused = put(&viewer, Some(&own_origin)).await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(
        put(&annotator, Some(&own_origin)).await.unwrap().status(),
        200
    );
    assert_eq!(
        put(&annotator, Some("https://team.example"))
            .await
            .unwrap()
            .status(),
        200
    );
    for evil in ["https://evil.example", "null", "http://127.0.0.1:1"] {
        let resp = put(&annotator, Some(evil)).await.unwrap();
        assert_eq!(resp.status(), 403, "{evil}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "forbidden_origin", "{evil}");
    }

    // The page's trade: the token for an HttpOnly, SameSite=Strict session cookie.
    let traded = client
        .post(d.url("/api/session"))
        .header("origin", &own_origin)
        .header("content-type", "application/json")
        .body(serde_json::json!({ "token": viewer }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(traded.status(), 200);
    let cookie = traded.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("tl_session_"), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(
        !cookie.contains(&viewer),
        "the cookie is not the token: {cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let with_cookie = || {
        client
            .get(d.url("/api/projects"))
            .header("cookie", &pair)
            .send()
    };
    assert_eq!(with_cookie().await.unwrap().status(), 200);

    // An open WebSocket of the viewer link, then `share revoke` from another process.
    let mut request = format!("ws://127.0.0.1:{}/api/ws", d.port)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {viewer}").parse().unwrap());
    request
        .headers_mut()
        .insert("origin", own_origin.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let hello = ws.next().await.unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains("hello"), "{hello:?}");
    let mut evil_ws = format!("ws://127.0.0.1:{}/api/ws", d.port)
        .into_client_request()
        .unwrap();
    evil_ws
        .headers_mut()
        .insert("authorization", format!("Bearer {viewer}").parse().unwrap());
    evil_ws
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(evil_ws).await.is_err());

    let revoked_at = Instant::now();
    assert!(share(root.path(), &["revoke", &viewer_id]).contains("revoked"));
    assert_eq!(get(&viewer).await.unwrap().status(), 401);
    assert_eq!(with_cookie().await.unwrap().status(), 401);
    assert!(revoked_at.elapsed() < Duration::from_secs(1));
    let closed = tokio::time::timeout(Duration::from_millis(1500), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the revoked link's WebSocket stays open");
    assert_eq!(closed, Some(4401));
    assert!(revoked_at.elapsed() < Duration::from_millis(1500));
    // The other link still works.
    assert_eq!(get(&annotator).await.unwrap().status(), 200);
}

#[tokio::test]
async fn an_unshared_daemon_needs_no_token() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    d.get_ok("/api/projects").await;
    let (status, _) = d.get("/api/health").await;
    assert_eq!(status, 200);
}
