//! Handler tests through the whole router (host check, extractors, error bodies), without a socket.

use super::{AppState, app, security};
use crate::auth::WriteToken;
use crate::db::Db;
use crate::source::disk::DiskSource;
use crate::store::{RunKey, RunMeta, Store, StoreSettings};
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use trackline_shared::{RunInfo, RunState};

/// A daemon's router over a temporary data directory holding one run, `p/r1`.
struct Fixture {
    _data_dir: tempfile::TempDir,
    state: AppState,
}

impl Fixture {
    fn new() -> Fixture {
        let data_dir = tempfile::tempdir().unwrap();
        let state_dir = data_dir.path().join(".trackline");
        let store = Arc::new(Store::new(StoreSettings {
            heartbeat_timeout: Duration::from_secs(60),
            hostname: None,
            ..StoreSettings::default()
        }));
        let source = Arc::new(DiskSource::new(data_dir.path().to_owned()));
        let key = RunKey {
            project: "p".into(),
            run: "r1".into(),
        };
        let meta = RunMeta {
            info: RunInfo {
                project: "p".into(),
                id: "r1".into(),
                ..RunInfo::default()
            },
            reported_state: RunState::Finished,
        };
        let dir = source.run_dir(&key);
        store.upsert(key, dir, source, meta, 1.0);
        let sweeps = crate::sweeps::controller::Controller::new(
            &Db::open_in(&state_dir).unwrap(),
            store.clone(),
            crate::sweeps::controller::DEFAULT_HEARTBEAT_SECS,
        );
        let state = AppState {
            store,
            security: Arc::new(security::Policy::new(&[])),
            ws_queue: 8,
            ws_send_timeout: Duration::from_secs(1),
            shutdown: tokio_util::sync::CancellationToken::new(),
            token: Arc::new(WriteToken::load_or_create(&state_dir).unwrap()),
            data_dir: data_dir.path().to_owned(),
            workspaces: Db::open_in(&state_dir).unwrap().workspaces(),
            annotations: Db::open_in(&state_dir).unwrap().annotations(),
            run_index: Db::open_in(&state_dir).unwrap().run_index(),
            remote_ingest: Arc::default(),
            base_path: Default::default(),
            presence: crate::push::PresenceHub::new(Default::default()),
            sweeps,
            limits: Arc::new(super::limits::Limits::new(&crate::config::Config::new(
                data_dir.path(),
            ))),
        };
        Fixture {
            _data_dir: data_dir,
            state,
        }
    }

    /// Sends one request; answers the status and the JSON body.
    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = app(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }
}

fn put_workspace(body: &str) -> Request<Body> {
    Request::put("/api/projects/p/workspace")
        .header(header::HOST, "127.0.0.1:8765")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn a_bad_json_body_is_a_bad_request_in_the_error_shape() {
    let fixture = Fixture::new();
    let (status, body) = fixture.send(put_workspace("{\"layout\": ")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(keys(&body), ["error"]);
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());

    let no_type = Request::put("/api/projects/p/workspace")
        .header(header::HOST, "127.0.0.1:8765")
        .body(Body::from("{\"layout\": {}}"))
        .unwrap();
    let (status, body) = fixture.send(no_type).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "bad_request");
}

#[tokio::test]
async fn a_stale_workspace_save_is_a_version_conflict_with_the_stored_layout() {
    let fixture = Fixture::new();
    let (status, body) = fixture
        .send(put_workspace(r#"{"layout": {"a": 1}, "version": 0}"#))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["version"], 1);
    let (status, body) = fixture
        .send(put_workspace(r#"{"layout": {"a": 2}, "version": 0}"#))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        keys(&body),
        ["error", "layout", "updated_at_secs", "version"]
    );
    assert_eq!(keys(&body["error"]), ["code", "message"]);
    assert_eq!(body["error"]["code"], "version_conflict");
    assert_eq!(body["layout"], json!({"a": 1}));
    assert_eq!(body["version"], 1);
    assert!(body["updated_at_secs"].is_f64());
}

#[tokio::test]
async fn an_upload_at_the_wrong_offset_is_an_offset_mismatch_with_the_length() {
    let fixture = Fixture::new();
    let token = std::fs::read_to_string(&fixture.state.token.path).unwrap();
    let request = Request::post("/api/ingest/v1/file?project=p&run=r1&path=files/a.txt&offset=5")
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, format!("Bearer {}", token.trim()))
        .body(Body::from("hello"))
        .unwrap();
    let (status, body) = fixture.send(request).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(keys(&body), ["error", "length"]);
    assert_eq!(body["error"]["code"], "offset_mismatch");
    assert_eq!(body["length"], 0);
}

#[tokio::test]
async fn unknown_endpoints_and_foreign_hosts_answer_in_the_error_shape() {
    let fixture = Fixture::new();
    let request = Request::get("/api/nope")
        .header(header::HOST, "localhost")
        .body(Body::empty())
        .unwrap();
    let (status, body) = fixture.send(request).await;
    assert_eq!(
        (status, keys(&body)),
        (StatusCode::NOT_FOUND, vec!["error"])
    );
    assert_eq!(body["error"]["code"], "not_found");
    let request = Request::get("/api/health")
        .header(header::HOST, "evil.example")
        .body(Body::empty())
        .unwrap();
    let (status, body) = fixture.send(request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden_host");
}

#[tokio::test]
async fn a_body_over_the_limit_is_too_large_in_the_error_shape() {
    let fixture = Fixture::new();
    // With the token: a write without it is refused before its body is read.
    let request = Request::post("/api/ingest/v1/batch")
        .header(header::HOST, "localhost")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", fixture.state.token.token()),
        )
        .body(Body::from(vec![b' '; super::MAX_BODY_BYTES + 1]))
        .unwrap();
    let (status, body) = fixture.send(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(keys(&body), ["error"]);
    assert_eq!(body["error"]["code"], "too_large");
}

/// The headers every answer must carry (`security::edge`).
fn assert_security_headers(what: &str, headers: &axum::http::HeaderMap) {
    let get = |name: header::HeaderName| {
        headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_owned()
    };
    assert_eq!(
        get(header::CONTENT_SECURITY_POLICY),
        security::CONTENT_SECURITY_POLICY_VALUE,
        "{what}"
    );
    assert_eq!(get(header::X_FRAME_OPTIONS), "DENY", "{what}");
    assert_eq!(get(header::REFERRER_POLICY), "no-referrer", "{what}");
    assert_eq!(get(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_api_answers_are_not_stored() {
    let fixture = Fixture::new();
    let request = |method: &str, uri: &str, host: &str, body: Vec<u8>| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, host)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let cases = [
        (
            "GET",
            "/api/health",
            "localhost",
            vec![],
            200,
            Some("no-store"),
        ),
        (
            "GET",
            "/api/nope",
            "localhost",
            vec![],
            404,
            Some("no-store"),
        ),
        ("GET", "/", "localhost", vec![], 200, Some("no-cache")),
        (
            "GET",
            "/projects/p",
            "localhost",
            vec![],
            200,
            Some("no-cache"),
        ),
        (
            "GET",
            "/assets/boot.js",
            "localhost",
            vec![],
            200,
            Some("no-cache"),
        ),
        (
            "GET",
            "/assets/app.js",
            "localhost",
            vec![],
            200,
            Some("no-cache"),
        ),
        (
            "GET",
            "/assets/nope.js",
            "localhost",
            vec![],
            404,
            Some("no-store"),
        ),
        (
            "GET",
            "/api/health",
            "evil.example",
            vec![],
            403,
            Some("no-store"),
        ),
        ("POST", "/", "localhost", vec![], 405, Some("no-store")),
        (
            "POST",
            "/api/health",
            "localhost",
            vec![],
            405,
            Some("no-store"),
        ),
        (
            "POST",
            "/api/ingest/v1/batch",
            "localhost",
            vec![],
            401,
            Some("no-store"),
        ),
        (
            "PUT",
            "/api/projects/p/workspace",
            "localhost",
            vec![b' '; super::MAX_BODY_BYTES + 1],
            413,
            Some("no-store"),
        ),
    ];
    for (method, uri, host, body, status, cache) in cases {
        let what = format!("{method} {uri} (Host {host})");
        let response = app(fixture.state.clone())
            .oneshot(request(method, uri, host, body))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert_security_headers(&what, response.headers());
        let cache_control = response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(cache_control.as_deref(), cache, "{what}");
        if status >= 400 {
            let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            let body: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{what}: not the JSON error body ({e}): {bytes:?}"));
            assert_eq!(keys(&body), ["error"], "{what}");
            assert_eq!(keys(&body["error"]), ["code", "message"], "{what}");
            assert!(
                !body["error"]["message"].as_str().unwrap().is_empty(),
                "{what}"
            );
        }
    }
}

#[tokio::test]
async fn the_page_loads_its_boot_script_from_a_file_not_inline() {
    let fixture = Fixture::new();
    let request = Request::get("/assets/boot.js")
        .header(header::HOST, "localhost")
        .body(Body::empty())
        .unwrap();
    let response = app(fixture.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
}

#[tokio::test]
async fn an_asset_the_browser_holds_is_revalidated_with_a_304() {
    let fixture = Fixture::new();
    let get = |tag: Option<&str>| {
        let mut r = Request::get("/assets/app.js").header(header::HOST, "localhost");
        if let Some(t) = tag {
            r = r.header(header::IF_NONE_MATCH, t);
        }
        app(fixture.state.clone()).oneshot(r.body(Body::empty()).unwrap())
    };
    let first = get(None).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
    let tag = first.headers()[header::ETAG].to_str().unwrap().to_string();
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34,
        "{tag}"
    );

    // The same tag (alone, in a list, weak or `*`): 304 with no body, still revalidated next time.
    for held in [
        tag.clone(),
        format!("\"other\", {tag}"),
        format!("W/{tag}"),
        "*".to_string(),
    ] {
        let again = get(Some(&held)).await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{held}");
        assert_eq!(again.headers()[header::ETAG], tag.as_str());
        assert_eq!(again.headers()[header::CACHE_CONTROL], "no-cache");
        let body = to_bytes(again.into_body(), usize::MAX).await.unwrap();
        assert!(body.is_empty(), "{held}");
    }
    // Another build's tag: the whole file.
    let stale = get(Some("\"0123\"")).await.unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(stale.headers()[header::ETAG], tag.as_str());
    // Each asset has its own tag.
    let boot = app(fixture.state.clone())
        .oneshot(
            Request::get("/assets/boot.js")
                .header(header::HOST, "localhost")
                .header(header::IF_NONE_MATCH, tag.as_str())
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(boot.status(), StatusCode::OK);
    assert_ne!(boot.headers()[header::ETAG], tag.as_str());
}

/// One request with the given headers, answered through the router.
async fn send_with_headers(
    fixture: &Fixture,
    uri: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, Value) {
    let mut request = Request::get(uri).body(Body::empty()).unwrap();
    for (name, value) in headers {
        request
            .headers_mut()
            .append(name.clone(), value.parse().unwrap());
    }
    fixture.send(request).await
}

#[tokio::test]
async fn exactly_one_host_is_accepted_and_an_absolute_request_line_is_checked_like_it() {
    let fixture = Fixture::new();
    let host = header::HOST;
    let (status, _) =
        send_with_headers(&fixture, "/api/health", &[(host.clone(), "localhost")]).await;
    assert_eq!(status, StatusCode::OK);

    for hosts in [["localhost", "evil.example"], ["localhost", "localhost"]] {
        let two = [(host.clone(), hosts[0]), (host.clone(), hosts[1])];
        let (status, body) = send_with_headers(&fixture, "/api/health", &two).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{hosts:?}");
        assert_eq!(body["error"]["code"], "bad_request");
        assert!(body["error"]["message"].as_str().unwrap().contains("Host"));
    }

    let one = [(host.clone(), "localhost:8765")];
    let (status, body) = send_with_headers(&fixture, "http://evil.example/api/health", &one).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden_host");
    let (status, body) =
        send_with_headers(&fixture, "http://127.0.0.1:8765/api/health", &one).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "differs from Host");
    assert_eq!(body["error"]["code"], "forbidden_host");
    let (status, _) = send_with_headers(&fixture, "http://LOCALHOST:8765/api/health", &one).await;
    assert_eq!(status, StatusCode::OK, "the same authority as Host");
    // HTTP/2 names the host only in the request line's authority.
    let (status, _) = send_with_headers(&fixture, "http://localhost:8765/api/health", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send_with_headers(&fixture, "http://evil.example/api/health", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send_with_headers(&fixture, "/api/health", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no host at all");
}

/// The router on a real socket, as the daemon serves it.
async fn serve(fixture: &Fixture) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service =
        app(fixture.state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    addr
}

/// Writes `request` as raw bytes and reads the whole answer (the request asks to close).
async fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").expect("a complete answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = serde_json::from_str(body.trim()).unwrap_or(Value::Null);
    (status, head.to_ascii_lowercase(), body)
}

#[tokio::test]
async fn host_forms_a_client_library_cannot_send_are_refused_on_the_wire() {
    let fixture = Fixture::new();
    let addr = serve(&fixture).await;
    let cases: [(&str, u16, &str); 5] = [
        (
            "GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            200,
            "",
        ),
        (
            "GET /api/health HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
            400,
            "bad_request",
        ),
        (
            "GET http://evil.example/api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            403,
            "forbidden_host",
        ),
        (
            "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
            403,
            "forbidden_host",
        ),
        (
            "GET http://localhost/api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            200,
            "",
        ),
    ];
    for (request, status, code) in cases {
        let (got, head, body) = raw_exchange(addr, request.as_bytes()).await;
        assert_eq!(got, status, "{request:?}");
        assert!(head.contains("content-security-policy:"), "{head}");
        assert!(head.contains("x-frame-options: deny"), "{head}");
        if !code.is_empty() {
            assert_eq!(body["error"]["code"], code, "{request:?}");
        }
    }
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_too_large_in_the_error_shape() {
    let fixture = Fixture::new();
    let token = fixture.state.token.token().to_owned();
    let addr = serve(&fixture).await;
    for path in [
        "/api/ingest/v1/batch",
        "/api/ingest/v1/file?project=p&run=r1&path=files/a&offset=0",
    ] {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{}}",
            super::MAX_BODY_BYTES + 1
        );
        let (status, head, body) = raw_exchange(addr, request.as_bytes()).await;
        assert_eq!(status, 413, "{path}: {head}");
        assert_eq!(body["error"]["code"], "too_large", "{path}");
    }
    let put = format!(
        "PUT /api/projects/p/workspace HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{}}",
        super::MAX_BODY_BYTES + 1
    );
    let (status, _, body) = raw_exchange(addr, put.as_bytes()).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "too_large");
}

#[tokio::test]
async fn the_unauthorized_answer_names_the_token_file_but_not_the_data_dir() {
    let fixture = Fixture::new();
    let request = Request::post("/api/ingest/v1/batch")
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, "Bearer wrong")
        .body(Body::from("{}"))
        .unwrap();
    let (status, body) = fixture.send(request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(".trackline/api_key"), "{message}");
    let data_dir = fixture.state.data_dir.display().to_string();
    assert!(!message.contains(&data_dir), "{message}");
    assert!(!message.contains("/tmp"), "{message}");
}

#[tokio::test]
async fn a_second_server_on_one_data_dir_is_refused_naming_the_first() {
    let data_dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut config = crate::Config::new(data_dir.path());
        config.port = 0;
        config
    };
    let first = crate::Server::bind(config()).await.unwrap();
    let refused = crate::Server::bind(config()).await.unwrap_err();
    let message = format!("{refused:#}");
    let expected = format!(
        "another trackline daemon (pid {}, http://{}) is serving {}; stop it or use another --dir",
        std::process::id(),
        first.local_addr(),
        first.data_dir().display()
    );
    assert_eq!(message, expected);
    drop(first);
    let again = crate::Server::bind(config()).await.unwrap();
    drop(again);
}

/// Sharing mode through the router: no link 401, a viewer may read but not save, and unknown
/// tokens count toward the wrong-token limit (429 after ten).
#[tokio::test]
async fn a_shared_router_wants_a_link_and_limits_unknown_tokens() {
    use crate::auth::scope::Scope;
    use crate::auth::sharing::{PublicUrl, Sharing, create_link};
    let mut fixture = Fixture::new();
    let state_dir = fixture._data_dir.path().join(".trackline");
    let links = Db::open_in(&state_dir).unwrap().share_links();
    let viewer = create_link(&links, Scope::Viewer, "v", None).unwrap().token;
    let public = PublicUrl::parse("https://team.example").unwrap();
    let sharing = Arc::new(Sharing::new(links, vec![public]).unwrap());
    fixture.state.security = Arc::new(security::Policy::shared(&[], sharing));
    let get = |token: Option<&str>| {
        let mut r = Request::get("/api/projects").header(header::HOST, "team.example");
        if let Some(t) = token {
            r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        r.body(Body::empty()).unwrap()
    };
    assert_eq!(fixture.send(get(None)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(fixture.send(get(Some(&viewer))).await.0, StatusCode::OK);
    let mut save = put_workspace(r#"{"layout": {}}"#);
    save.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {viewer}").parse().unwrap(),
    );
    save.headers_mut()
        .insert(header::ORIGIN, "https://team.example".parse().unwrap());
    let (status, body) = fixture.send(save).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let wrong = crate::auth::token::new_token().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(fixture.send(get(Some(&wrong))).await.0);
    }
    assert_eq!(statuses[..10], [StatusCode::UNAUTHORIZED; 10]);
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
    // The address is blocked for a right token too, for the window.
    assert_eq!(
        fixture.send(get(Some(&viewer))).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

fn edit(method: &str, path: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "127.0.0.1:8765")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn an_owner_edits_a_finished_runs_files_and_bad_edits_change_nothing() {
    let fixture = Fixture::new();
    let run_dir = fixture._data_dir.path().join("p").join("r1");
    std::fs::create_dir_all(&run_dir).unwrap();
    let read = |name: &str| std::fs::read_to_string(run_dir.join(name)).unwrap();
    std::fs::write(
        run_dir.join("run.json"),
        r#"{"id": "r1", "notes": "old", "group": "g"}"#,
    )
    .unwrap();
    std::fs::write(
        run_dir.join("config.json"),
        r#"{"_wandb": {"v": 1}, "lr": 0.1}"#,
    )
    .unwrap();
    std::fs::write(run_dir.join("summary.json"), r#"{"loss": 1}"#).unwrap();

    let runs = "/api/projects/p/runs/r1";
    for (method, path, body) in [
        ("PATCH", runs.to_owned(), r#"{"name": "x"}"#),
        ("PATCH", runs.to_owned(), r#"{"notes": 3}"#),
        ("PUT", format!("{runs}/summary"), "[1]"),
        ("PUT", format!("{runs}/config"), r#"{"lr": "#),
    ] {
        let (status, body) = fixture.send(edit(method, &path, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "bad_request");
    }
    assert!(read("run.json").contains("\"old\""));
    assert_eq!(read("summary.json"), r#"{"loss": 1}"#);

    let patch = edit("PATCH", runs, r#"{"notes": null, "job_type": "eval"}"#);
    let response = app(fixture.state.clone()).oneshot(patch).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let meta: Value = serde_json::from_str(&read("run.json")).unwrap();
    assert_eq!(
        meta,
        json!({"id": "r1", "notes": null, "group": "g", "job_type": "eval"})
    );

    let summary = r#"{"loss": NaN, "best": 0.5}"#;
    let put = edit("PUT", &format!("{runs}/summary"), summary);
    let response = app(fixture.state.clone()).oneshot(put).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        read("summary.json"),
        summary,
        "kept byte for byte, NaN a literal"
    );

    let put = edit("PUT", &format!("{runs}/config"), r#"{"lr": 0.01}"#);
    let response = app(fixture.state.clone()).oneshot(put).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let config: Value = serde_json::from_str(&read("config.json")).unwrap();
    assert_eq!(
        config,
        json!({"_wandb": {"v": 1}, "lr": 0.01}),
        "the client's own keys kept"
    );

    let (status, body) = fixture
        .send(edit(
            "PATCH",
            "/api/projects/p/runs/nope",
            r#"{"notes": "x"}"#,
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
