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
    // The link to hand out goes through the public URL; the local one follows.
    assert_eq!(link, format!("https://team.example/t/#t={viewer}"));
    let listed_first = share(root.path(), &["--scope", "viewer", "--label", "v2"]);
    let local = format!("http://127.0.0.1:{}", d.port);
    assert!(
        listed_first.contains(&format!("the same through {local}: {local}/#t=tl_")),
        "{listed_first}"
    );
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

/// A JSON request to the daemon from its own origin, with a bearer token.
async fn call(
    d: &Daemon,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .request(method, d.url(path))
        .bearer_auth(token)
        .header("origin", format!("http://127.0.0.1:{}", d.port));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

#[tokio::test]
async fn only_an_owner_manages_links_and_a_revoke_from_the_api_closes_that_link_at_once() {
    use reqwest::Method;
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start_with(root.path(), &["--public-url", "https://team.example/t"]);
    let (_, viewer, _) = new_link(root.path(), "viewer");
    let (_, annotator, _) = new_link(root.path(), "annotator");
    let (owner_id, owner, _) = new_link(root.path(), "owner");

    // Anyone with a link learns who they are.
    let (status, me) = call(&d, Method::GET, "/api/me", &viewer, None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["label"].as_str(), me["scope"].as_str()),
        (Some("viewer"), Some("viewer"))
    );
    assert_eq!(me["sharing"], true);
    assert_eq!(
        me["public_urls"],
        serde_json::json!(["https://team.example/t"])
    );
    let (_, me) = call(&d, Method::GET, "/api/me", &owner, None).await;
    assert_eq!(me["link_id"], owner_id.as_str());

    // Only an owner lists, makes or revokes links.
    let new_body = serde_json::json!({"scope": "viewer", "label": "bob", "expires": "1d"});
    for token in [&viewer, &annotator] {
        let (status, body) = call(&d, Method::GET, "/api/share/links", token, None).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "forbidden");
        assert!(
            body["error"]["message"].as_str().unwrap().contains("owner"),
            "{body}"
        );
        let (status, _) = call(
            &d,
            Method::POST,
            "/api/share/links",
            token,
            Some(new_body.clone()),
        )
        .await;
        assert_eq!(status, 403);
        let path = format!("/api/share/links/{owner_id}");
        assert_eq!(call(&d, Method::DELETE, &path, token, None).await.0, 403);
    }
    let (status, list) = call(&d, Method::GET, "/api/share/links", &owner, None).await;
    assert_eq!(status, 200);
    let text = list.to_string();
    // The three made here and the owner link `serve` made.
    assert_eq!(list.as_array().unwrap().len(), 4, "{text}");
    for secret in [&viewer, &annotator, &owner] {
        assert!(!text.contains(secret.as_str()), "{text}");
    }
    assert!(list[0]["created_at_secs"].as_f64().unwrap() > 0.0);
    assert_eq!(list[0]["live"], true);

    // A bad body is a 400 that says why; a good one answers the token once, with its links.
    let (status, body) = call(
        &d,
        Method::POST,
        "/api/share/links",
        &owner,
        Some(serde_json::json!({"scope": "admin", "label": "x"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = call(
        &d,
        Method::POST,
        "/api/share/links",
        &owner,
        Some(serde_json::json!({"label": " ", "expires": "7d"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, created) =
        call(&d, Method::POST, "/api/share/links", &owner, Some(new_body)).await;
    assert_eq!(status, 201, "{created}");
    let bob = created["token"].as_str().unwrap().to_owned();
    let bob_id = created["link"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["link"]["scope"], "viewer");
    assert!(created["link"]["expires_at_secs"].as_f64().is_some());
    assert_eq!(
        created["urls"],
        serde_json::json!([format!("https://team.example/t/#t={bob}")])
    );
    let (status, me) = call(&d, Method::GET, "/api/me", &bob, None).await;
    assert_eq!((status, me["label"].as_str()), (200, Some("bob")));
    let listed = share(root.path(), &["list"]);
    assert!(
        listed.contains("label 'bob'") && !listed.contains(&bob),
        "{listed}"
    );

    // Bob's open WebSocket closes (4401) within a second of the owner's revoke, and his next
    // request is refused.
    let mut request = format!("ws://127.0.0.1:{}/api/ws", d.port)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {bob}").parse().unwrap());
    request.headers_mut().insert(
        "origin",
        format!("http://127.0.0.1:{}", d.port).parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let hello = ws.next().await.unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains("hello"), "{hello:?}");
    let revoked_at = Instant::now();
    let path = format!("/api/share/links/{bob_id}");
    assert_eq!(call(&d, Method::DELETE, &path, &owner, None).await.0, 204);
    let closed = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the revoked link's WebSocket stayed open over a second");
    assert_eq!(closed, Some(4401));
    assert!(revoked_at.elapsed() < Duration::from_secs(1));
    assert_eq!(
        call(&d, Method::GET, "/api/projects", &bob, None).await.0,
        401
    );
    // Idempotent; an unknown id is a 404.
    assert_eq!(call(&d, Method::DELETE, &path, &owner, None).await.0, 204);
    assert_eq!(
        call(&d, Method::DELETE, "/api/share/links/nope", &owner, None)
            .await
            .0,
        404
    );
    let (_, list) = call(&d, Method::GET, "/api/share/links", &owner, None).await;
    let bob_row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == bob_id.as_str())
        .unwrap();
    assert_eq!(bob_row["live"], false);
    assert!(bob_row["revoked_at_secs"].as_f64().is_some());
}

#[tokio::test]
async fn an_unshared_daemon_s_local_user_is_its_owner_with_no_links_to_manage() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let me = d.get_ok("/api/me").await;
    assert_eq!(me["label"], "local");
    assert_eq!(me["scope"], "owner");
    assert_eq!(me["sharing"], false);
    let (status, body) = d.get("/api/share/links").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "not_shared");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--share cloudflared"),
        "{body}"
    );
}

/// Starts `serve --public-url …` on `dir`; answers the process and its owner link's token.
fn serve_for_owner_link(dir: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--port",
            "0",
            "--public-url",
            "https://team.example",
            "--dir",
        ])
        .arg(dir)
        .env("TRACKLINE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines
        .find(|l| l.as_ref().unwrap().contains("your owner link"))
        .unwrap()
        .unwrap();
    let token = line.rsplit("#t=").next().unwrap().to_owned();
    (child, token)
}

#[test]
fn the_owner_link_is_the_same_on_every_start_until_rotated() {
    let root = tempfile::tempdir().unwrap();
    let (mut first, token) = serve_for_owner_link(root.path());
    first.kill().unwrap();
    first.wait().unwrap();
    let (mut second, again) = serve_for_owner_link(root.path());
    assert_eq!(again, token);
    let listed = share(root.path(), &["list"]);
    assert_eq!(listed.matches("label 'owner'").count(), 1, "{listed}");
    // Rotated while the daemon runs: the next start prints the new one.
    let rotated = share(root.path(), &["rotate-owner"]);
    assert!(rotated.contains("revoked the owner link"), "{rotated}");
    let new = rotated
        .lines()
        .last()
        .unwrap()
        .rsplit("#t=")
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(new, token);
    second.kill().unwrap();
    second.wait().unwrap();
    let (mut third, printed) = serve_for_owner_link(root.path());
    assert_eq!(printed, new);
    third.kill().unwrap();
    third.wait().unwrap();
}

/// An open WebSocket of `token`'s link, from the daemon's own origin.
async fn open_ws(
    port: u16,
    token: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut request = format!("ws://127.0.0.1:{port}/api/ws")
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    headers.insert(
        "origin",
        format!("http://127.0.0.1:{port}").parse().unwrap(),
    );
    let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    ws
}

#[tokio::test]
async fn an_expired_link_closes_its_socket_within_a_second_and_its_next_request_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let mut run = RunWriter::create(root.path(), "p", "r1");
    run.log_rows(3, |s| s.to_string());
    let d = Daemon::start_with(root.path(), &["--public-url", "https://team.example"]);
    let out = share(
        root.path(),
        &["--scope", "viewer", "--label", "brief", "--expires", "3s"],
    );
    let made = Instant::now();
    let token = out
        .lines()
        .find_map(|l| l.split("#t=").nth(1))
        .unwrap()
        .to_owned();
    let (status, _) = call(&d, reqwest::Method::GET, "/api/projects", &token, None).await;
    assert_eq!(status, 200, "a live link reads");
    let mut ws = open_ws(d.port, &token).await;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the expired link's WebSocket stays open");
    let after = made.elapsed();
    assert_eq!(closed, Some(4401));
    // Expiry is counted in whole seconds from when the link was made; the poll runs every 500 ms.
    assert!(
        after >= Duration::from_secs(2) && after < Duration::from_millis(4500),
        "closed {after:?} after the link was made, which expires after 3 s"
    );
    let (status, body) = call(&d, reqwest::Method::GET, "/api/projects", &token, None).await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn no_token_or_session_secret_reaches_the_daemon_s_log() {
    let root = tempfile::tempdir().unwrap();
    let mut run = RunWriter::create(root.path(), "p", "r1");
    run.log_rows(3, |s| s.to_string());
    let log_path = root.path().join("daemon.log");
    let log = std::fs::File::create(&log_path).unwrap();
    // The most talkative level: every request and its URI is logged.
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--port",
            "0",
            "--public-url",
            "https://team.example",
        ])
        .arg("--dir")
        .arg(root.path())
        .env("TRACKLINE_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let port: u16 = first
        .trim()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let d = Daemon { child, port };
    let (_, annotator, _) = new_link(root.path(), "annotator");
    let own_origin = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    // A bearer read, a refused wrong token, the cookie trade, a cookie read, a write, a socket.
    let (status, _) = call(&d, reqwest::Method::GET, "/api/projects", &annotator, None).await;
    assert_eq!(status, 200);
    let wrong = format!("{annotator}x");
    let (status, _) = call(&d, reqwest::Method::GET, "/api/projects", &wrong, None).await;
    assert_eq!(status, 401);
    let traded = client
        .post(d.url("/api/session"))
        .header("origin", &own_origin)
        .header("content-type", "application/json")
        .body(serde_json::json!({ "token": annotator }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(traded.status(), 200);
    let cookie = traded.headers()["set-cookie"].to_str().unwrap().to_owned();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let session_secret = pair.split('=').nth(1).unwrap().to_owned();
    let read = client
        .get(d.url("/api/projects/p/runs"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let body = serde_json::json!({"client_id": "c", "op_id": "o", "op": {
        "kind": "note_set", "target": {"kind": "project"}, "text": "hi", "base_rev": 0}});
    let (status, _) = call(
        &d,
        reqwest::Method::POST,
        "/api/projects/p/annotations/ops",
        &annotator,
        Some(body),
    )
    .await;
    assert_eq!(status, 200);
    let mut ws = open_ws(port, &annotator).await;
    assert!(ws.next().await.unwrap().unwrap().is_text());
    drop(ws);
    drop(d);

    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logged.contains("/api/projects"),
        "the log holds the requests (else this test proves nothing): {logged}"
    );
    let secret = annotator.trim_start_matches("tl_");
    for (what, needle) in [
        ("the token", secret),
        ("the session secret", session_secret.as_str()),
    ] {
        assert!(
            !logged.contains(&needle[..needle.len().min(24)]),
            "{what} is in the daemon's log"
        );
    }
}
