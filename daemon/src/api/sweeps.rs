//! Sweeps over HTTP (docs/api.md "Sweeps"): reads for anyone who may read; creating and
//! controlling a sweep for an owner; the agent protocol (hello, next, heartbeat) with the write
//! token, like remote ingest. The work is `sweeps::controller`, on the blocking pool.

use super::extract::{JsonBody, PathParams};
use super::session::require_owner;
use super::{AppState, blocking};
use crate::auth::sharing::Principal;
use crate::error::{Error, Result};
use crate::sweeps::importance;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use trackline_shared::sweeps::{
    AgentCommand, AgentHeartbeat, AgentHello, AgentOrders, AgentWelcome, NewSweep, SweepControl,
    SweepDetail, SweepImportance, SweepInfo,
};

/// `GET /api/projects/{project}/sweeps`.
pub async fn list(
    State(s): State<AppState>,
    PathParams(project): PathParams<String>,
) -> Result<Json<Vec<SweepInfo>>> {
    let sweeps = s.sweeps.clone();
    Ok(Json(blocking(move || sweeps.list(&project)).await?))
}

/// `POST /api/projects/{project}/sweeps`.
pub async fn create(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    PathParams(project): PathParams<String>,
    JsonBody(body): JsonBody<NewSweep>,
) -> Result<(StatusCode, Json<SweepInfo>)> {
    require_owner(&s, principal.as_deref(), "creates sweeps")?;
    let sweeps = s.sweeps.clone();
    let info = blocking(move || sweeps.create(&project, body)).await?;
    Ok((StatusCode::CREATED, Json(info)))
}

/// `GET /api/projects/{project}/sweeps/{sweep}`.
pub async fn in_project(
    State(s): State<AppState>,
    PathParams((project, sweep)): PathParams<(String, String)>,
) -> Result<Json<SweepDetail>> {
    let sweeps = s.sweeps.clone();
    Ok(Json(
        blocking(move || sweeps.detail(Some(&project), &sweep)).await?,
    ))
}

/// `GET /api/sweeps/{sweep}`.
pub async fn by_id(
    State(s): State<AppState>,
    PathParams(sweep): PathParams<String>,
) -> Result<Json<SweepDetail>> {
    let sweeps = s.sweeps.clone();
    Ok(Json(blocking(move || sweeps.detail(None, &sweep)).await?))
}

/// `POST /api/sweeps/{sweep}/control`.
pub async fn control(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    PathParams(sweep): PathParams<String>,
    JsonBody(body): JsonBody<SweepControl>,
) -> Result<Json<SweepInfo>> {
    require_owner(&s, principal.as_deref(), "controls sweeps")?;
    let sweeps = s.sweeps.clone();
    Ok(Json(blocking(move || sweeps.control(&sweep, body)).await?))
}

/// `GET /api/projects/{project}/sweeps/{sweep}/importance`.
pub async fn importance(
    State(s): State<AppState>,
    PathParams((project, sweep)): PathParams<(String, String)>,
) -> Result<Json<SweepImportance>> {
    let sweeps = s.sweeps.clone();
    Ok(Json(
        blocking(move || {
            if sweeps.project_of(&sweep)? != project {
                return Err(Error::NotFound(format!("no sweep '{sweep}'")));
            }
            let (config, points) = sweeps.observations(&sweep)?;
            let metric = config
                .metric
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default();
            let params = if points.len() < 2 {
                Vec::new()
            } else {
                importance::importance(&config.space, &points)
            };
            Ok(SweepImportance {
                metric,
                run_count: if params.is_empty() {
                    0
                } else {
                    points.len() as u64
                },
                params,
            })
        })
        .await?,
    ))
}

/// `POST /api/sweeps/{sweep}/agents` (write token).
pub async fn hello(
    State(s): State<AppState>,
    PathParams(sweep): PathParams<String>,
    JsonBody(body): JsonBody<AgentHello>,
) -> Result<(StatusCode, Json<AgentWelcome>)> {
    let sweeps = s.sweeps.clone();
    let welcome = blocking(move || sweeps.hello(&sweep, body)).await?;
    Ok((StatusCode::CREATED, Json(welcome)))
}

/// `POST /api/sweeps/{sweep}/agents/{agent}/next` (write token).
pub async fn next(
    State(s): State<AppState>,
    PathParams((sweep, agent)): PathParams<(String, String)>,
) -> Result<Json<AgentCommand>> {
    let sweeps = s.sweeps.clone();
    Ok(Json(blocking(move || sweeps.next(&sweep, &agent)).await?))
}

/// `POST /api/sweeps/{sweep}/agents/{agent}/heartbeat` (write token).
pub async fn heartbeat(
    State(s): State<AppState>,
    PathParams((sweep, agent)): PathParams<(String, String)>,
    JsonBody(body): JsonBody<AgentHeartbeat>,
) -> Result<Json<AgentOrders>> {
    let sweeps = s.sweeps.clone();
    Ok(Json(
        blocking(move || sweeps.heartbeat(&sweep, &agent, body)).await?,
    ))
}
