//! HTTP surface: `app(state)` builds the router. One module per resource; handlers are thin and
//! call into `query` (blocking work on the blocking pool).

mod annotations;
mod artifacts;
mod assets;
pub mod base_path;
pub mod error;
mod extract;
mod files;
mod ingest;
mod ingest_artifacts;
pub mod limits;
mod media;
mod report_export;
mod reports;
mod run_edit;
mod runs;
pub mod security;
mod session;
mod share_links;
mod sweeps;
#[cfg(test)]
mod tests;
mod workspace;
mod ws;

use crate::error::{Error, Result};
use crate::store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use error::error_response;
use std::sync::Arc;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub security: Arc<security::Policy>,
    pub ws_queue: usize,
    /// How long a WebSocket client may leave its queue full before it is dropped.
    pub ws_send_timeout: std::time::Duration,
    /// Cancelled when the server shuts down; long-lived connections end on it.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Remote clients must present this to write.
    pub token: Arc<crate::auth::WriteToken>,
    /// The data directory remote batches are written into.
    pub data_dir: std::path::PathBuf,
    /// Saved workspaces.
    pub workspaces: crate::db::workspaces::Workspaces,
    /// Notes, threads and comments, and their op log.
    pub annotations: crate::db::annotations::Annotations,
    /// The run index (a deleted run leaves it at once).
    pub run_index: crate::db::index::RunIndex,
    /// Writes remote batches: per-run turns (offset checks must not interleave) and group commit.
    pub remote_ingest: Arc<crate::ingest::remote::RemoteIngest>,
    /// The body deadline and what is remembered about each client (bad tokens, ingest bytes).
    pub limits: Arc<limits::Limits>,
    /// The path prefix the web app is served under (`--base-path`, `--public-url`'s path).
    pub base_path: base_path::BasePath,
    /// Who is here (per project, in memory only): each WebSocket joins it.
    pub presence: Arc<crate::push::PresenceHub>,
    /// Sweeps: their runs, agents and searches.
    pub sweeps: Arc<crate::sweeps::controller::Controller>,
}

pub fn app(state: AppState) -> Router {
    // Writes are refused from their headers alone, before any body byte is read.
    let ingest = Router::new()
        .route("/ingest/v1/batch", axum::routing::post(ingest::batch))
        .route("/ingest/v1/file", axum::routing::post(ingest::file))
        .route(
            "/ingest/v1/blobs/missing",
            axum::routing::post(ingest_artifacts::missing),
        )
        .route(
            "/ingest/v1/blob",
            axum::routing::post(ingest_artifacts::blob),
        )
        .route(
            "/ingest/v1/artifacts",
            axum::routing::post(ingest_artifacts::commit),
        )
        // Sweep agents hold the write token, as remote ingest does.
        .route("/sweeps/{sweep}/agents", axum::routing::post(sweeps::hello))
        .route(
            "/sweeps/{sweep}/agents/{agent}/next",
            axum::routing::post(sweeps::next),
        )
        .route(
            "/sweeps/{sweep}/agents/{agent}/heartbeat",
            axum::routing::post(sweeps::heartbeat),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            limits::Guarding::new(&state),
            limits::ingest_guard,
        ));
    let api = Router::new()
        .route("/health", get(runs::health))
        .route("/projects", get(runs::projects))
        .route("/projects/{project}/runs", get(runs::project_runs))
        .route(
            "/projects/{project}/runs/{run}",
            get(runs::run)
                .delete(runs::delete)
                .patch(run_edit::patch_meta),
        )
        .route(
            "/projects/{project}/runs/{run}/config",
            axum::routing::put(run_edit::put_config),
        )
        .route(
            "/projects/{project}/runs/{run}/summary",
            axum::routing::put(run_edit::put_summary),
        )
        .route("/projects/{project}/runs/{run}/keys", get(runs::keys))
        .route("/projects/{project}/runs/{run}/media", get(media::keys))
        .route(
            "/projects/{project}/runs/{run}/media/entries",
            get(media::entries),
        )
        .route(
            "/projects/{project}/runs/{run}/files/{*path}",
            get(files::file),
        )
        .route(
            "/projects/{project}/runs/{run}/artifacts",
            get(artifacts::run_artifacts),
        )
        .route("/projects/{project}/artifacts", get(artifacts::list))
        .route(
            "/projects/{project}/artifacts/{name}/versions",
            get(artifacts::versions),
        )
        .route(
            "/projects/{project}/artifacts/{name}/versions/{reference}",
            get(artifacts::version).delete(artifacts::delete_version),
        )
        .route(
            "/projects/{project}/artifacts/{name}/versions/{reference}/files/{*path}",
            get(artifacts::file),
        )
        .route(
            "/projects/{project}/artifacts/{name}/versions/{reference}/zip",
            get(artifacts::zip),
        )
        .route(
            "/projects/{project}/artifacts/{name}/aliases/{alias}",
            axum::routing::put(artifacts::put_alias).delete(artifacts::delete_alias),
        )
        .route("/projects/{project}/series", get(runs::series))
        .route(
            "/projects/{project}/workspace",
            get(workspace::get).put(workspace::put),
        )
        .route(
            "/projects/{project}/annotations",
            get(annotations::snapshot),
        )
        .route(
            "/projects/{project}/annotations/ops",
            axum::routing::post(annotations::op),
        )
        .route("/projects/{project}/reports", get(reports::list))
        .route(
            "/projects/{project}/reports/{report}",
            get(reports::in_project),
        )
        .route(
            "/projects/{project}/reports/{report}/export.html",
            get(report_export::html_file),
        )
        .route(
            "/projects/{project}/reports/{report}/export.zip",
            get(report_export::zip_file),
        )
        .route("/reports/{report}", get(reports::by_id))
        .route(
            "/projects/{project}/sweeps",
            get(sweeps::list).post(sweeps::create),
        )
        .route(
            "/projects/{project}/sweeps/{sweep}",
            get(sweeps::in_project),
        )
        .route(
            "/projects/{project}/sweeps/{sweep}/importance",
            get(sweeps::importance),
        )
        .route("/sweeps/{sweep}", get(sweeps::by_id))
        .route(
            "/sweeps/{sweep}/control",
            axum::routing::post(sweeps::control),
        )
        .route("/me", get(share_links::me))
        .route(
            "/share/links",
            get(share_links::list).post(share_links::create),
        )
        .route(
            "/share/links/{id}",
            axum::routing::delete(share_links::revoke),
        )
        .route("/ws", get(ws::upgrade))
        // Sharing mode: a share link of enough scope for everything above (no-op otherwise).
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::guard,
        ))
        .route("/session", axum::routing::post(session::trade))
        .merge(ingest)
        .fallback(|| async { Error::NotFound("no such API endpoint".into()) });
    let routes = Router::new()
        .nest("/api", api)
        .route("/assets/{file}", get(assets::asset))
        .fallback(get(assets::index).fallback(|| async {
            error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "bad_request",
                "method not allowed".into(),
            )
        }))
        .layer(axum::middleware::from_fn_with_state(
            state.security.clone(),
            security::check_host,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(security::edge))
        .with_state(state.clone());
    // The prefix comes off before routing, so every layer above sees the app's own paths.
    base_path::serve_under(state.base_path, routes)
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("task failed: {e}")))?
}
