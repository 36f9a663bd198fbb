//! The edge against a real daemon on 127.0.0.1, driven with raw sockets: header and body deadlines,
//! the connection cap, auth before the body, and the 429s. Deadlines are short (1 s) and the
//! bounds generous, so a slow machine does not fail them and a missing limit does.

use crate::config::Config;
use crate::server::Server;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// Longer than any deadline under test: a limit that does not act is caught by this.
const WAIT: Duration = Duration::from_secs(8);
const SHORT: Duration = Duration::from_secs(1);

/// A daemon serving a temporary data directory until [`Daemon::stop`].
struct Daemon {
    addr: SocketAddr,
    token: String,
    stop: oneshot::Sender<()>,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
    _data_dir: tempfile::TempDir,
}

impl Daemon {
    async fn start(tune: impl FnOnce(&mut Config)) -> Daemon {
        Daemon::start_in(tempfile::tempdir().unwrap(), tune).await
    }

    async fn start_in(data_dir: tempfile::TempDir, tune: impl FnOnce(&mut Config)) -> Daemon {
        let mut config = Config::new(data_dir.path());
        config.port = 0;
        tune(&mut config);
        let server = Server::bind(config).await.unwrap();
        let addr = server.local_addr();
        let token = std::fs::read_to_string(server.token_path())
            .unwrap()
            .trim()
            .to_owned();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Daemon {
            addr,
            token,
            stop,
            served,
            _data_dir: data_dir,
        }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.unwrap()
    }

    /// Shuts down and waits for `run` to return.
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(WAIT, self.served)
            .await
            .expect("the server stops with connections open")
            .unwrap()
            .unwrap();
    }
}

/// One answer read off a socket: status, head (lowercased) and JSON body.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            (n.trim() == name).then(|| v.trim())
        })
    }
}

async fn read_answer(stream: &mut (impl AsyncRead + Unpin)) -> Answer {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        assert!(
            n > 0,
            "closed before a whole answer: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head[9..12].parse().unwrap();
    let mut answer = Answer {
        status,
        head,
        body: Value::Null,
    };
    let length: usize = answer
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        assert!(n > 0, "closed inside the body");
        buf.extend_from_slice(&chunk[..n]);
    }
    answer.body = serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or(Value::Null);
    answer
}

/// An answer within [`WAIT`].
async fn answer(stream: &mut (impl AsyncRead + Unpin)) -> Answer {
    tokio::time::timeout(WAIT, read_answer(stream))
        .await
        .expect("an answer in time")
}

/// Reads until the daemon closes the connection; how long after `since` that was, or `None` if it
/// was still open after [`WAIT`]. Bytes read on the way are returned too.
async fn closed(stream: &mut TcpStream, since: Instant) -> (Option<Duration>, Vec<u8>) {
    let mut seen = Vec::new();
    let read_to_end = async {
        let mut chunk = [0u8; 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let ended = tokio::time::timeout(WAIT, read_to_end).await.is_ok();
    (ended.then(|| since.elapsed()), seen)
}

/// Writes `bytes` one every `every`, until they run out or the daemon hangs up.
fn trickle(mut writer: tokio::net::tcp::OwnedWriteHalf, bytes: Vec<u8>, every: Duration) {
    tokio::spawn(async move {
        for b in bytes {
            if writer.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(every).await;
        }
    });
}

fn get_health() -> &'static [u8] {
    b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
}

/// The head of a remote-ingest batch upload declaring `length` body bytes.
fn batch_head(token: &str, length: usize) -> Vec<u8> {
    format!(
        "POST /api/ingest/v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_sent_slowly_or_never_are_cut_at_the_header_deadline() {
    let daemon = Daemon::start(|c| c.header_read_timeout = SHORT).await;

    let started = Instant::now();
    let mut silent = daemon.connect().await;
    let (took, seen) = closed(&mut silent, started).await;
    let took = took.expect("a silent connection is closed");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(seen.is_empty());

    let started = Instant::now();
    let (mut reader, writer) = daemon.connect().await.into_split();
    let head = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    trickle(writer, head.to_vec(), Duration::from_millis(100));
    let mut seen = Vec::new();
    let ended = tokio::time::timeout(WAIT, reader.read_to_end(&mut seen)).await;
    let took = started.elapsed();
    assert!(ended.is_ok(), "a header trickle is cut");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(
        !String::from_utf8_lossy(&seen).contains("200 OK"),
        "the trickled request was never served"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_deadline() {
    let daemon = Daemon::start(|c| c.header_read_timeout = SHORT).await;
    let mut stream = daemon.connect().await;
    stream.write_all(get_health()).await.unwrap();
    assert_eq!(answer(&mut stream).await.status, 200);
    let answered = Instant::now();
    // A second request on the same connection is still served.
    stream.write_all(get_health()).await.unwrap();
    assert_eq!(answer(&mut stream).await.status, 200);
    let (took, _) = closed(&mut stream, answered).await;
    let took = took.expect("an idle keep-alive connection is closed");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_trickle_is_answered_408_and_closed_at_the_body_deadline() {
    let daemon = Daemon::start(|c| c.body_read_timeout = SHORT).await;
    let body = br#"{"layout": {"a": 1}, "version": 0}"#;
    let head = format!(
        "PUT /api/projects/p/workspace HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let (mut reader, mut writer) = daemon.connect().await.into_split();
    writer.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    // 34 bytes at 5 a second would take 7 s.
    trickle(writer, body.to_vec(), Duration::from_millis(200));
    let answer = answer(&mut reader).await;
    let took = started.elapsed();
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(answer.body["error"]["code"], "request_timeout");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(3), reader.read_to_end(&mut rest))
        .await
        .expect("the connection closes after the 408")
        .ok();
    daemon.stop().await;
}

/// A connection upgraded to a WebSocket (answered 101), held open by the caller.
async fn open_websocket(daemon: &Daemon) -> TcpStream {
    let mut socket = daemon.connect().await;
    socket
        .write_all(
            b"GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
              Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .await
        .unwrap();
    assert_eq!(answer(&mut socket).await.status, 101);
    socket
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_get_a_503_and_websockets_count() {
    let daemon = Daemon::start(|c| c.max_connections = 2).await;
    let mut first = daemon.connect().await;
    first.write_all(get_health()).await.unwrap();
    assert_eq!(answer(&mut first).await.status, 200);
    let socket = open_websocket(&daemon).await;

    let mut over = daemon.connect().await;
    over.write_all(get_health()).await.unwrap();
    let refused = answer(&mut over).await;
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.header("connection"), Some("close"));
    assert_eq!(refused.body["error"]["code"], "too_many_connections");
    assert!(refused.body["error"]["message"].is_string());
    let (took, _) = closed(&mut over, Instant::now()).await;
    assert!(took.is_some(), "a refused connection is closed");

    // The WebSocket's place is given back when it closes.
    drop(socket);
    let served = async {
        loop {
            let mut next = daemon.connect().await;
            next.write_all(get_health()).await.unwrap();
            if read_answer(&mut next).await.status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(WAIT, served)
        .await
        .expect("a closed WebSocket frees its place");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_without_the_token_is_refused_before_its_body_is_sent() {
    let daemon = Daemon::start(|c| c.body_read_timeout = SHORT).await;
    for token in ["", "wrong"] {
        let mut stream = daemon.connect().await;
        // Only the head of a 100 MB upload: the answer must come without the body.
        stream
            .write_all(&batch_head(token, 100_000_000))
            .await
            .unwrap();
        let refused = answer(&mut stream).await;
        assert_eq!(refused.status, 401, "{refused:?}");
        assert_eq!(refused.body["error"]["code"], "unauthorized");
        let (took, _) = closed(&mut stream, Instant::now()).await;
        assert!(took.is_some(), "the refused upload's connection is closed");
    }
    // With the token the daemon waits for the body instead (and times it out).
    let mut stream = daemon.connect().await;
    stream
        .write_all(&batch_head(&daemon.token, 1000))
        .await
        .unwrap();
    assert_eq!(answer(&mut stream).await.status, 408);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_tokens_get_a_429_with_retry_after_even_for_the_right_token() {
    let daemon = Daemon::start(|_| {}).await;
    let attempt = |token: String| {
        let addr = daemon.addr;
        async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(&batch_head(&token, 0)).await.unwrap();
            answer(&mut stream).await
        }
    };
    for _ in 0..10 {
        assert_eq!(attempt("wrong".into()).await.status, 401);
    }
    for token in ["wrong".to_owned(), daemon.token.clone()] {
        let limited = attempt(token).await;
        assert_eq!(limited.status, 429, "{limited:?}");
        assert_eq!(limited.body["error"]["code"], "rate_limited");
        let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    }
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_beyond_the_byte_rate_gets_a_429_before_the_body_is_sent() {
    let daemon = Daemon::start(|c| c.max_ingest_bytes_per_sec = 1000).await;
    // The allowance holds one largest body (1 MiB): the first upload spends most of it.
    let mut stream = daemon.connect().await;
    stream
        .write_all(&batch_head(&daemon.token, 900_000))
        .await
        .unwrap();
    stream.write_all(&vec![b' '; 900_000]).await.unwrap();
    let first = answer(&mut stream).await;
    assert_ne!(first.status, 429, "{first:?}");

    let mut stream = daemon.connect().await;
    stream
        .write_all(&batch_head(&daemon.token, 900_000))
        .await
        .unwrap();
    let limited = answer(&mut stream).await;
    assert_eq!(limited.status, 429, "{limited:?}");
    assert_eq!(limited.body["error"]["code"], "rate_limited");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(
        retry >= 100,
        "refilling 800 kB at 1 kB/s takes minutes: {retry}"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_websockets_and_idle_connections() {
    let daemon = Daemon::start(|_| {}).await;
    let mut idle = daemon.connect().await;
    idle.write_all(get_health()).await.unwrap();
    assert_eq!(answer(&mut idle).await.status, 200);
    let mut socket = open_websocket(&daemon).await;
    daemon.stop().await;
    let (took, _) = closed(&mut idle, Instant::now()).await;
    assert!(took.is_some(), "the idle connection is closed at shutdown");
    let (took, _) = closed(&mut socket, Instant::now()).await;
    assert!(took.is_some(), "the WebSocket is closed at shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_its_answer_is_disconnected_at_the_send_timeout() {
    // A file far larger than both sockets' buffers, so the daemon's writes must wait for the
    // client.
    const FILE_BYTES: usize = 32 << 20;
    let data_dir = tempfile::tempdir().unwrap();
    let run = data_dir.path().join("p").join("r1");
    std::fs::create_dir_all(&run).unwrap();
    let meta = json!({
        "format_version": 1, "id": "r1", "name": "r1", "project": "p", "state": "finished",
        "created_at": 1.0, "heartbeat_at": 1.0, "finished_at": 2.0, "exit_code": 0,
    });
    std::fs::write(run.join("run.json"), meta.to_string()).unwrap();
    std::fs::write(run.join("console.log"), vec![b'x'; FILE_BYTES]).unwrap();
    let daemon = Daemon::start_in(data_dir, |c| c.send_timeout = SHORT).await;

    let mut stream = daemon.connect().await;
    stream
        .write_all(
            b"GET /api/projects/p/runs/r1/files/console.log HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        )
        .await
        .unwrap();
    // Not reading: the daemon's writes stall past its send timeout.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut got = Vec::new();
    let drained = tokio::time::timeout(WAIT, stream.read_to_end(&mut got)).await;
    assert!(drained.is_ok(), "the stalled connection is closed");
    assert!(got.starts_with(b"HTTP/1.1 200"), "the answer had begun");
    assert!(
        got.len() < FILE_BYTES,
        "the answer was cut ({} of {FILE_BYTES} bytes)",
        got.len()
    );
    daemon.stop().await;
}

/// The connection cap's refusal is written outside the router, so it sets the security headers
/// itself.
#[test]
fn the_refusal_carries_the_security_headers() {
    let refusal = String::from_utf8(super::refusal_response(4)).unwrap();
    let head = refusal.split("\r\n\r\n").next().unwrap();
    for header in [
        format!(
            "content-security-policy: {}",
            crate::api::security::CONTENT_SECURITY_POLICY_VALUE
        ),
        "x-frame-options: DENY".to_owned(),
        "referrer-policy: no-referrer".to_owned(),
        "x-content-type-options: nosniff".to_owned(),
    ] {
        assert!(head.lines().any(|line| line == header), "{header}: {head}");
    }
}

/// Every accepted connection answers without waiting for delayed ACKs.
#[tokio::test]
async fn accepted_sockets_send_without_nagle_delay() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _client = TcpStream::connect(addr).await.unwrap();
    let (accepted, peer) = listener.accept().await.unwrap();
    assert!(!accepted.nodelay().unwrap());
    super::set_socket_options(&accepted, peer);
    assert!(accepted.nodelay().unwrap());
}
