//! Projects, runs, metric keys and the series query.

use super::extract::{PathParams, QueryParams};
use super::{AppState, blocking};
use crate::error::Result;
use crate::query;
use axum::Json;
use axum::extract::State;
use trackline_shared::{Health, MetricKey, ProjectInfo, RunInfo, SeriesQuery, SeriesResponse};

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

pub async fn series(
    State(s): State<AppState>,
    PathParams(project): PathParams<String>,
    QueryParams(q): QueryParams<SeriesQuery>,
) -> Result<Json<SeriesResponse>> {
    let store = s.store.clone();
    blocking(move || query::series::series(&store, &project, &q))
        .await
        .map(Json)
}
