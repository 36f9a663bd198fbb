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
        let state = AppState {
            store,
            security: Arc::new(security::Policy::new(&[])),
            ws_queue: 8,
            ws_send_timeout: Duration::from_secs(1),
            shutdown: tokio_util::sync::CancellationToken::new(),
            token: Arc::new(WriteToken::load_or_create(&state_dir).unwrap()),
            data_dir: data_dir.path().to_owned(),
            workspaces: Db::open_in(&state_dir).unwrap().workspaces(),
            remote_ingest: Arc::default(),
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
