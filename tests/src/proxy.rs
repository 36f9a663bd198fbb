//! A reverse proxy for tests, standing in for a tunnel or a path-prefix proxy (nginx's `location
//! /a/b/`, Tailscale's `--set-path`) in front of a daemon. It answers only paths under its prefix
//! (`404` otherwise, as such a proxy would) and forwards them with the prefix taken off
//! ([`Mode::Strip`]) or kept ([`Mode::Keep`]); passes `Host` through as a tunnel does (cloudflared
//! sends the public name by default) and adds no `X-Forwarded-*`; streams bodies both ways;
//! forwards WebSocket upgrades (a byte copy both ways after the `101`); and records every path it
//! was asked for, so a test can check that a page never left the prefix.

use anyhow::Context;
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{CONNECTION, CONTENT_TYPE, UPGRADE};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Headers that describe one hop, not the request: not forwarded (but for an upgrade, whose
/// `Connection: upgrade` and `Upgrade` are what the daemon must see).
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// What the proxy does with its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `/a/b/x` reaches the daemon as `/x` (and `/a/b` as `/`).
    Strip,
    /// `/a/b/x` reaches the daemon as `/a/b/x`.
    Keep,
}

/// A proxy's socket, bound before the daemon behind it starts (whose `--public-url` names it).
#[derive(Debug)]
pub struct ProxyListener {
    listener: TcpListener,
    pub port: u16,
}

impl ProxyListener {
    /// Binds `127.0.0.1:0`.
    pub async fn bind() -> anyhow::Result<ProxyListener> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind the proxy")?;
        let port = listener.local_addr()?.port();
        Ok(ProxyListener { listener, port })
    }

    /// Forwards what arrives under `prefix` (`/a/b`, or `""` for everything) to the daemon on
    /// `127.0.0.1:upstream`.
    pub fn start(self, upstream: u16, prefix: &str, mode: Mode) -> Proxy {
        let (stop, stopped) = watch::channel(());
        let shared = Arc::new(Shared {
            upstream,
            prefix: prefix.trim_end_matches('/').to_owned(),
            mode,
            seen: Mutex::default(),
            stopped,
        });
        tokio::spawn(accept(self.listener, shared.clone()));
        Proxy {
            port: self.port,
            shared,
            _stop: stop,
        }
    }
}

/// A running proxy; stops (with every connection and WebSocket it forwards) when dropped.
#[derive(Debug)]
pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
    /// Dropped with the proxy: every task of it sees its channel close and ends.
    _stop: watch::Sender<()>,
}

impl Proxy {
    /// Binds and starts at once (when the daemon needs not know the proxy's port).
    pub async fn start(upstream: u16, prefix: &str, mode: Mode) -> anyhow::Result<Proxy> {
        Ok(ProxyListener::bind().await?.start(upstream, prefix, mode))
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every path asked for so far (without the query), as the client sent it, in order.
    pub fn paths(&self) -> Vec<String> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[derive(Debug)]
struct Shared {
    upstream: u16,
    prefix: String,
    mode: Mode,
    seen: Mutex<Vec<String>>,
    stopped: watch::Receiver<()>,
}

impl Shared {
    /// The path the daemon gets for `path`, if it is under the prefix.
    fn upstream_path(&self, path: &str) -> Option<String> {
        let rest = path.strip_prefix(self.prefix.as_str())?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        Some(match self.mode {
            Mode::Keep => path.to_owned(),
            Mode::Strip if rest.is_empty() => "/".to_owned(),
            Mode::Strip => rest.to_owned(),
        })
    }

    /// Resolves once the proxy is dropped.
    async fn stopped(&self) {
        let mut stopped = self.stopped.clone();
        while stopped.changed().await.is_ok() {}
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    // Dropped when this ends: every connection task ends with it.
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shared.stopped() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let for_service = shared.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = for_service.clone();
                async move { Ok::<_, Infallible>(forward(&shared, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

/// One request: recorded, refused outside the prefix, else sent on and its answer streamed back.
async fn forward(shared: &Arc<Shared>, mut request: Request<Incoming>) -> Response<ProxyBody> {
    let path = request.uri().path().to_owned();
    shared
        .seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.clone());
    let Some(upstream_path) = shared.upstream_path(&path) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("test proxy: {path} is outside {}/", shared.prefix),
        );
    };
    let target = match request.uri().query() {
        Some(query) => format!("{upstream_path}?{query}"),
        None => upstream_path,
    };
    match target.parse::<Uri>() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("test proxy: {e}")),
    }
    match send(shared, request).await {
        Ok(response) => response,
        Err(e) => text(StatusCode::BAD_GATEWAY, format!("test proxy: {e:#}")),
    }
}

/// Sends `request` to the daemon on a connection of its own; for a WebSocket handshake the daemon
/// accepts, joins the two upgraded connections.
async fn send(
    shared: &Arc<Shared>,
    mut request: Request<Incoming>,
) -> anyhow::Result<Response<ProxyBody>> {
    let upgrade = request.headers().contains_key(UPGRADE)
        && request
            .headers()
            .get(CONNECTION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("upgrade"));
    if !upgrade {
        for name in HOP_BY_HOP {
            request.headers_mut().remove(name);
        }
    }
    let client_side = upgrade.then(|| hyper::upgrade::on(&mut request));
    let stream = TcpStream::connect(("127.0.0.1", shared.upstream))
        .await
        .with_context(|| format!("cannot reach the daemon on port {}", shared.upstream))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let conn_shared = shared.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = connection.with_upgrades() => {}
            () = conn_shared.stopped() => {}
        }
    });
    let mut response = sender.send_request(request).await?;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_side) = client_side
    {
        let daemon_side = hyper::upgrade::on(&mut response);
        let tunnel_shared = shared.clone();
        tokio::spawn(async move {
            let (Ok(client), Ok(daemon)) = tokio::join!(client_side, daemon_side) else {
                return;
            };
            let (mut client, mut daemon) = (TokioIo::new(client), TokioIo::new(daemon));
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut daemon) => {}
                () = tunnel_shared.stopped() => {}
            }
        });
    }
    Ok(response.map(ProxyBody::Upstream))
}

fn text(status: StatusCode, message: String) -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::Text(Some(Bytes::from(message))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// An answer's body: the daemon's, streamed as it comes, or the proxy's own text.
#[derive(Debug)]
enum ProxyBody {
    Upstream(Incoming),
    Text(Option<Bytes>),
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            ProxyBody::Upstream(body) => Pin::new(body).poll_frame(cx),
            ProxyBody::Text(text) => Poll::Ready(text.take().map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Upstream(body) => body.is_end_stream(),
            ProxyBody::Text(text) => text.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Upstream(body) => body.size_hint(),
            ProxyBody::Text(text) => {
                SizeHint::with_exact(text.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(prefix: &str, mode: Mode) -> Shared {
        Shared {
            upstream: 1,
            prefix: prefix.to_owned(),
            mode,
            seen: Mutex::default(),
            stopped: watch::channel(()).1,
        }
    }

    #[test]
    fn only_paths_under_the_prefix_go_on_stripped_or_kept() {
        let strip = shared("/a/b", Mode::Strip);
        let keep = shared("/a/b", Mode::Keep);
        for (path, stripped, kept) in [
            ("/a/b/", Some("/"), Some("/a/b/")),
            ("/a/b", Some("/"), Some("/a/b")),
            ("/a/b/api/ws", Some("/api/ws"), Some("/a/b/api/ws")),
            ("/a/bc", None, None),
            ("/api/ws", None, None),
            ("/", None, None),
        ] {
            assert_eq!(strip.upstream_path(path).as_deref(), stripped, "{path}");
            assert_eq!(keep.upstream_path(path).as_deref(), kept, "{path}");
        }
        assert_eq!(
            shared("", Mode::Strip).upstream_path("/x").as_deref(),
            Some("/x")
        );
    }
}
