//! `GET`/`PUT /api/projects/{project}/workspace`: the project's shared workspace layout.

use super::extract::P;
use super::{AppState, blocking};
use crate::error::{Error, Result};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest layout accepted (panels, sections and settings; not data).
pub const MAX_LAYOUT_BYTES: usize = 256 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub struct Workspace {
    /// `null` when nothing was saved yet: the web app uses its default layout.
    pub layout: Value,
    #[serde(default)]
    pub updated_at_secs: Option<f64>,
}

pub async fn get(State(s): State<AppState>, P(project): P<String>) -> Result<Json<Workspace>> {
    if s.store.project_runs(&project).is_empty() {
        return Err(Error::NotFound(format!("no project '{project}'")));
    }
    let views = s.views.clone();
    let saved = blocking(move || views.workspace(&project)).await?;
    Ok(Json(match saved {
        Some((layout, at)) => Workspace {
            layout,
            updated_at_secs: Some(at),
        },
        None => Workspace {
            layout: Value::Null,
            updated_at_secs: None,
        },
    }))
}

/// Requires `Content-Type: application/json`, so a cross-origin page cannot send it without a
/// CORS preflight (which this daemon never grants).
pub async fn put(
    State(s): State<AppState>,
    P(project): P<String>,
    body: std::result::Result<Json<Workspace>, JsonRejection>,
) -> Result<Json<Workspace>> {
    let Json(ws) = body.map_err(|e| Error::BadRequest(e.body_text()))?;
    if s.store.project_runs(&project).is_empty() {
        return Err(Error::NotFound(format!("no project '{project}'")));
    }
    if !ws.layout.is_object() {
        return Err(Error::BadRequest("layout must be a JSON object".into()));
    }
    if ws.layout.to_string().len() > MAX_LAYOUT_BYTES {
        return Err(Error::BadRequest(format!(
            "layout is larger than {MAX_LAYOUT_BYTES} bytes"
        )));
    }
    let now = crate::util::now_secs();
    let (views, layout) = (s.views.clone(), ws.layout.clone());
    blocking(move || views.save_workspace(&project, &layout, now)).await?;
    Ok(Json(Workspace {
        layout: ws.layout,
        updated_at_secs: Some(now),
    }))
}
