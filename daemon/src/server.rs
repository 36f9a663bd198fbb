//! Wires the layers together: initial scan, ingest thread, optional demo writer, HTTP server;
//! and shuts them down in order.

use crate::api::{self, AppState, security};
use crate::auth::WriteToken;
use crate::auth::sharing::Sharing;
use crate::config::Config;
use crate::db::Db;
use crate::db::workspaces::Workspaces;
use crate::ingest::{Ingest, watch};
use crate::lock::DaemonLock;
use crate::store::{Store, StoreSettings};
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tokio::net::TcpListener;

/// A bound, scanned, watching daemon, ready to serve.
#[derive(Debug)]
pub struct Server {
    config: Config,
    store: Arc<Store>,
    /// Taken by [`Server::run`].
    listener: Option<TcpListener>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    token: Arc<WriteToken>,
    workspaces: Workspaces,
    annotations: crate::db::annotations::Annotations,
    run_index: crate::db::index::RunIndex,
    /// Sharing mode (`--public-url`), if on.
    sharing: Option<Arc<Sharing>>,
    /// The share links, for a public URL added after binding ([`Server::add_public_url`]).
    share_links: crate::db::share_links::ShareLinks,
    /// Sweeps and their agents (`sweeps::controller`).
    sweeps: Arc<crate::sweeps::controller::Controller>,
    addr: SocketAddr,
    /// This daemon's hold on the data directory: released when the server is dropped.
    lock: DaemonLock,
}

impl Server {
    /// Scans the data directory, starts following it, and binds the listening socket.
    pub async fn bind(mut config: Config) -> anyhow::Result<Server> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
        config.data_dir = config
            .data_dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", config.data_dir.display()))?;
        // Before anything is read or written: a second daemon on this directory stops here.
        let mut lock = DaemonLock::acquire(&config.state_dir(), &config.data_dir)?;
        let db = Db::open_in(&config.state_dir()).with_context(|| {
            format!(
                "cannot open the index database in {}",
                config.state_dir().display()
            )
        })?;
        let token = WriteToken::load_or_create(&config.state_dir())
            .context("cannot create the write token")?;
        let sharing = if config.public_urls.is_empty() {
            None
        } else {
            let sharing = Sharing::new(db.share_links(), config.public_urls.clone())
                .context("cannot read the share links")?;
            Some(Arc::new(sharing))
        };
        let store = Arc::new(Store::new(StoreSettings {
            heartbeat_timeout: config.heartbeat_timeout,
            hostname: crate::util::local_hostname(),
            memory_limit_bytes: config.memory_limit_bytes,
            max_keys_per_run: config.max_keys_per_run,
            max_line_bytes: config.max_line_bytes,
            cache_dir: Some(config.state_dir()),
        }));

        // Before the scan: runs are listed with the names and tags owners gave them from the start.
        let overlays = db
            .annotations()
            .run_overlays()
            .context("cannot read the run names and tags set in the web app")?;
        for (project, overlay) in overlays {
            store.set_overlay(&project, overlay);
        }

        let started = Instant::now();
        let mut ingest = Ingest::new(config.data_dir.clone(), store.clone(), db.run_index());
        ingest.scan(true).context("initial scan failed")?;
        tracing::info!(
            runs = store.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            data_dir = %config.data_dir.display(),
            "indexed run directories"
        );

        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        if config.demo {
            threads.push(crate::demo::spawn(config.data_dir.clone(), stop.clone())?);
        }
        threads.push(watch::spawn(ingest, config.rescan_interval, stop.clone())?);
        threads.push(crate::store::warm::spawn(store.clone(), stop.clone())?);
        threads.push(crate::store::cache_saves::spawn(
            store.clone(),
            stop.clone(),
        )?);

        let addr = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local_addr = listener
            .local_addr()
            .context("the bound socket has no address")?;
        lock.record_url(
            &format!("http://{local_addr}"),
            &public_url_texts(&config.public_urls),
        )?;
        if !config.host.is_loopback() {
            tracing::warn!(
                "listening on {addr}: anyone who can reach this address can read your runs"
            );
        }
        let sweeps = crate::sweeps::controller::Controller::new(
            &db,
            store.clone(),
            config.sweep_heartbeat_secs,
        );
        Ok(Server {
            config,
            store,
            listener: Some(listener),
            stop,
            threads,
            token: Arc::new(token),
            workspaces: db.workspaces(),
            annotations: db.annotations(),
            run_index: db.run_index(),
            sharing,
            share_links: db.share_links(),
            sweeps,
            addr: local_addr,
            lock,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The data directory being served (canonical).
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// Where the write token for remote clients is stored.
    pub fn token_path(&self) -> &Path {
        &self.token.path
    }

    /// Sharing mode's state, when the daemon was given a public URL.
    pub fn sharing(&self) -> Option<&Arc<Sharing>> {
        self.sharing.as_ref()
    }

    /// Adds a public URL learnt after binding (a tunnel's, `serve --share`), before the server
    /// runs: sharing mode turns on, or takes one more URL (its Host, Origin and path).
    pub fn add_public_url(&mut self, url: crate::auth::sharing::PublicUrl) -> anyhow::Result<()> {
        self.config.public_urls.push(url);
        self.lock.record_url(
            &format!("http://{}", self.addr),
            &public_url_texts(&self.config.public_urls),
        )?;
        let sharing = Sharing::new(self.share_links.clone(), self.config.public_urls.clone())
            .context("cannot read the share links")?;
        self.sharing = Some(Arc::new(sharing));
        Ok(())
    }

    pub fn store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// Serves until `shutdown` completes, then stops the background threads.
    pub async fn run(
        mut self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr();
        let state = AppState {
            store: self.store.clone(),
            security: Arc::new(match &self.sharing {
                Some(sharing) => {
                    security::Policy::shared(&self.config.allowed_hosts, sharing.clone())
                }
                None => security::Policy::new(&self.config.allowed_hosts),
            }),
            ws_queue: self.config.ws_queue,
            ws_send_timeout: self.config.ws_send_timeout,
            shutdown: tokio_util::sync::CancellationToken::new(),
            token: self.token.clone(),
            data_dir: self.config.data_dir.clone(),
            remote_ingest: Arc::default(),
            workspaces: self.workspaces.clone(),
            annotations: self.annotations.clone(),
            run_index: self.run_index.clone(),
            limits: Arc::new(api::limits::Limits::new(&self.config)),
            base_path: self.config.base_path.clone(),
            presence: crate::push::PresenceHub::new(crate::push::PresenceSettings {
                timeout: self.config.presence_timeout,
                ..Default::default()
            }),
            sweeps: self.sweeps.clone(),
        };
        tokio::spawn(state.presence.clone().run(state.shutdown.clone()));
        tokio::spawn(state.sweeps.clone().run(state.shutdown.clone()));
        if let Some(sharing) = &self.sharing {
            tokio::spawn(sharing.clone().poll_dead(state.shutdown.clone()));
        }
        let token = state.shutdown.clone();
        let shutdown = async move {
            shutdown.await;
            // Open WebSockets would otherwise keep graceful shutdown waiting forever.
            token.cancel();
        };
        let app = api::app(state);
        let listener = self.listener.take().expect("a server runs once");
        tracing::info!(addr = %addr, "serving");
        let limits = crate::listen::ConnectionLimits {
            header_read_timeout: self.config.header_read_timeout,
            max_connections: self.config.max_connections,
            send_timeout: self.config.send_timeout,
        };
        crate::listen::serve(listener, app, limits, shutdown).await;
        self.stop.store(true, Ordering::Relaxed);
        for t in std::mem::take(&mut self.threads) {
            let _ = t.join();
        }
        Ok(())
    }
}

impl Drop for Server {
    /// A server dropped without running (or after) stops its ingest and demo threads.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The public URLs as the lock file records them.
fn public_url_texts(urls: &[crate::auth::sharing::PublicUrl]) -> Vec<String> {
    urls.iter().map(|url| url.url.clone()).collect()
}
