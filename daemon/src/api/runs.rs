//! Projects, runs, metric keys and the series query, and an owner's deletion of a finished run
//! (moved to the trash, never destroyed).

use super::extract::{PathParams, QueryParams};
use super::{AppState, blocking};
use crate::auth::sharing::Principal;
use crate::error::{Error, Result};
use crate::query;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use trackline_shared::{Health, MetricKey, ProjectInfo, RunInfo, SeriesQuery};
use trackline_shared::{RunState, series_wire};

pub async fn health(State(s): State<AppState>) -> Json<Health> {
    Json(Health {
        ok: true,
        version: crate::VERSION.into(),
        format_version: trackline_shared::FORMAT_VERSION,
        protocol_version: trackline_shared::PROTOCOL_VERSION,
        runs: s.store.len() as u64,
    })
}

pub async fn projects(State(s): State<AppState>) -> Json<Vec<ProjectInfo>> {
    Json(s.store.projects())
}

pub async fn project_runs(
    State(s): State<AppState>,
    PathParams(project): PathParams<String>,
) -> Result<Json<Vec<RunInfo>>> {
    query::project_runs(&s.store, &project).map(Json)
}

pub async fn run(
    State(s): State<AppState>,
    PathParams((project, run)): PathParams<(String, String)>,
) -> Result<Json<RunInfo>> {
    Ok(Json(query::run(&s.store, &project, &run)?.info()))
}

pub async fn keys(
    State(s): State<AppState>,
    PathParams((project, run)): PathParams<(String, String)>,
) -> Result<Json<Vec<MetricKey>>> {
    let run = query::run(&s.store, &project, &run)?;
    let store = s.store.clone();
    blocking(move || query::metric_keys(&store, &run))
        .await
        .map(Json)
}

enum SeriesBody {
    Json(trackline_shared::SeriesResponse),
    /// The binary answer's parts, sent one after the other.
    Binary(Vec<Vec<u8>>),
}

/// The series query: JSON, or the binary columns of `trackline_shared::series_wire` when the
/// request's `Accept` names that media type (the web app's; decimated and encoded on every core,
/// off the async threads).
pub async fn series(
    State(s): State<AppState>,
    PathParams(project): PathParams<String>,
    QueryParams(q): QueryParams<SeriesQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    let binary = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(series_wire::CONTENT_TYPE));
    let store = s.store.clone();
    let answer = blocking(move || {
        if binary && let Some(parts) = query::series::series_binary(&store, &project, &q)? {
            return Ok(SeriesBody::Binary(parts));
        }
        query::series::series(&store, &project, &q).map(SeriesBody::Json)
    })
    .await?;
    let vary = [(header::VARY, HeaderValue::from_static("Accept"))];
    Ok(match answer {
        SeriesBody::Json(json) => (vary, Json(json)).into_response(),
        SeriesBody::Binary(parts) => {
            let length = parts.iter().map(Vec::len).sum::<usize>();
            let body = Body::from_stream(futures_util::stream::iter(
                parts
                    .into_iter()
                    .map(|part| Ok::<_, std::convert::Infallible>(Bytes::from(part))),
            ));
            (
                vary,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(series_wire::CONTENT_TYPE),
                    ),
                    (header::CONTENT_LENGTH, HeaderValue::from(length)),
                ],
                body,
            )
                .into_response()
        }
    })
}

/// `DELETE /api/projects/{project}/runs/{run}`: an owner (the local user when the daemon is not
/// shared) moves a run that is not running to the trash; it leaves the store (subscribers of the
/// project get `run_removed`) and the run index.
pub async fn delete(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    PathParams((project, run)): PathParams<(String, String)>,
) -> Result<StatusCode> {
    super::session::require_owner(&s, principal.as_deref(), "deletes runs")?;
    let found = query::run(&s.store, &project, &run)?;
    if found.info().state == RunState::Running {
        return Err(Error::conflict(
            "run_running",
            format!("run '{run}' is still running: stop it first, then delete it"),
            serde_json::Value::Null,
        ));
    }
    let (data_dir, index) = (s.data_dir.clone(), s.run_index.clone());
    let moved = blocking(move || {
        let now = crate::util::now_secs() as u64;
        let moved = crate::format::trash::trash_run(&data_dir, &project, &run, now)?;
        if let Err(e) = index.remove(&project, &run) {
            tracing::warn!("index: {e}");
        }
        Ok(moved)
    })
    .await?;
    tracing::info!(run = %found.key.run, project = %found.key.project, to = %moved.display(), "run moved to the trash");
    s.store.remove(&found.key);
    Ok(StatusCode::NO_CONTENT)
}
