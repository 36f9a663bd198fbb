//! The accept loop: serves each connection with hyper's HTTP/1 under a header read deadline (which
//! also ends idle keep-alive connections) and a send timeout (a client that stops reading its
//! answer), caps open connections (WebSockets included) and refuses the overflow with a `503`, and
//! shuts down gracefully.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;
use trackline_shared::{ErrorBody, ErrorDetail};

#[cfg(test)]
mod tests;

/// How long a refused connection is given to take its `503` and hang up.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);
/// Refusals being written at once; past this a connection over the cap is closed unanswered.
const MAX_REFUSALS_IN_FLIGHT: usize = 64;
/// Least time between two log lines about refused connections.
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// What the accept loop enforces on every connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time to send a request's headers, counted from the connection's start or its last answer.
    pub header_read_timeout: Duration,
    /// Open connections at once, upgraded WebSockets included.
    pub max_connections: usize,
    /// A connection whose client takes no byte of what is written to it for this long is closed.
    pub send_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets each
/// connection finish its request in flight, and returns once they have all closed. Each request
/// carries the peer's address as [`ConnectInfo<SocketAddr>`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS_IN_FLIGHT));
    let refusal: Arc<[u8]> = refusal_response(limits.max_connections).into();
    let mut refused_since_log = 0u64;
    let mut last_refusal_log: Option<Instant> = None;
    // Dropping the receiver tells every connection to finish; each connection holds a `close`
    // receiver until it ends.
    let (signal_tx, signal_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(signal_rx);
    });
    let (close_tx, close_rx) = watch::channel(());

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = signal_tx.closed() => break,
        };
        set_socket_options(&stream, peer);
        match open.clone().try_acquire_owned() {
            Ok(permit) => {
                let io = ClientStream {
                    stream,
                    _permit: permit,
                    send_timeout: limits.send_timeout,
                    stalled: None,
                };
                let (signal_tx, close_rx) = (signal_tx.clone(), close_rx.clone());
                let app = app.clone();
                tokio::spawn(async move {
                    serve_connection(io, peer, app, limits.header_read_timeout, signal_tx).await;
                    drop(close_rx);
                });
            }
            Err(_) => {
                refused_since_log += 1;
                if last_refusal_log.is_none_or(|at| at.elapsed() >= REFUSAL_LOG_INTERVAL) {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        refused = refused_since_log,
                        "connection cap reached: refusing new connections with 503"
                    );
                    refused_since_log = 0;
                    last_refusal_log = Some(Instant::now());
                }
                refuse(stream, refusal.clone(), &refusals);
            }
        }
    }

    drop(close_rx);
    drop(listener);
    tracing::debug!(
        connections = close_tx.receiver_count(),
        "waiting for open connections to finish"
    );
    close_tx.closed().await;
}

/// Without `TCP_NODELAY` a response written in two parts (headers, then a file's bytes) waits for
/// the peer's delayed ACK: ~40 ms on every request of a kept-alive connection after its first
/// (docs/benchmarks.md, "Media").
fn set_socket_options(stream: &TcpStream, peer: SocketAddr) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(%peer, "could not set TCP_NODELAY: {e}");
    }
}

/// One HTTP/1 connection, upgrades included, until it closes or the server shuts down.
async fn serve_connection(
    io: ClientStream,
    peer: SocketAddr,
    app: Router,
    header_read_timeout: Duration,
    signal_tx: watch::Sender<()>,
) {
    let service = app.map_request(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request.map(Body::new)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let mut conn = pin!(
        builder
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
            .with_upgrades()
    );
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
                break;
            }
            () = signal_tx.closed(), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// A connection over the cap: answered `503` in the JSON error body and closed, within
/// [`REFUSAL_TIMEOUT`]; with too many refusals already in flight it is closed at once.
fn refuse(stream: TcpStream, refusal: Arc<[u8]>, refusals: &Arc<Semaphore>) {
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let _ = tokio::time::timeout(REFUSAL_TIMEOUT, write_refusal(stream, &refusal)).await;
    });
}

async fn write_refusal(mut stream: TcpStream, refusal: &[u8]) -> io::Result<()> {
    stream.write_all(refusal).await?;
    stream.shutdown().await?;
    // Reading what the client sent until it hangs up keeps the close from resetting the
    // connection before the client has read the answer.
    let mut sink = [0u8; 1024];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}

/// The whole `503 too_many_connections` answer, as bytes on the wire, with the security headers
/// the router's answers carry (`api::security::edge`).
fn refusal_response(max_connections: usize) -> Vec<u8> {
    let body = ErrorBody {
        error: ErrorDetail {
            code: "too_many_connections".to_owned(),
            message: format!(
                "the daemon already has {max_connections} open connections; retry shortly"
            ),
        },
    };
    let body = serde_json::to_string(&body).unwrap_or_default();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\n\
         content-type: application/json\r\n\
         x-content-type-options: nosniff\r\n\
         content-security-policy: {csp}\r\n\
         x-frame-options: DENY\r\n\
         referrer-policy: no-referrer\r\n\
         cache-control: no-store\r\n\
         retry-after: 1\r\n\
         connection: close\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len(),
        csp = crate::api::security::CONTENT_SECURITY_POLICY_VALUE,
    )
    .into_bytes()
}

/// A failed accept: a connection that died in the queue is skipped; anything else (out of file
/// descriptors) is logged and waited out for a second, as hyper and axum do.
async fn accept_failed(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept failed: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// A connection's socket. It holds the connection's place under the cap, given back when the socket
/// closes (for an upgraded WebSocket, when the WebSocket ends), and fails a write that the client
/// has not taken for `send_timeout`, which closes the connection.
struct ClientStream {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    send_timeout: Duration,
    /// Armed while a write waits for the client to read.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl ClientStream {
    /// A write's outcome, with the send timeout applied while it waits.
    fn timed<T>(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if written.is_ready() {
            self.stalled = None;
            return written;
        }
        let send_timeout = self.send_timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(send_timeout)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading its answer",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.timed(cx, written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.timed(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
