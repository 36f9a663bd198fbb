//! `GET`/`PUT /api/projects/{project}/workspace`: the project's shared workspace layout, saved with
//! optimistic concurrency. `GET` answers the layout with its `version`; a `PUT` that carries the
//! `version` it was based on is refused with `409 version_conflict` (and the stored layout and
//! version) if someone saved in between, so no teammate's save is silently overwritten. A `PUT`
//! without `version` (older clients) overwrites whatever is stored: last writer wins.

use super::extract::{JsonBody, PathParams};
use super::{AppState, blocking};
use crate::db::workspaces::{Saved, SavedWorkspace};
use crate::error::{Error, Result};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The conflict code of a save based on a version that is no longer the stored one (the body
/// carries the stored `layout`, `updated_at_secs` and `version`).
pub const VERSION_CONFLICT: &str = "version_conflict";

/// Largest layout accepted (panels, sections and settings; not data).
pub const MAX_LAYOUT_BYTES: usize = 256 * 1024;

/// The answer of `GET` and of a successful `PUT`.
#[derive(Debug, Serialize)]
pub struct Workspace {
    /// `null` when nothing was saved yet: the web app uses its default layout.
    pub layout: Value,
    pub updated_at_secs: Option<f64>,
    /// The stored layout's version: `0` while nothing is saved, then one more with every save.
    pub version: u64,
}

/// The body of a `PUT`.
#[derive(Debug, Deserialize)]
pub struct SaveWorkspace {
    pub layout: Value,
    /// The version this layout was based on (from a `GET`, or the answer to the last `PUT`); `0`
    /// if nothing was saved. Absent: save regardless of what is stored (last writer wins).
    #[serde(default)]
    pub version: Option<u64>,
}

impl Workspace {
    /// The body for a saved workspace, or for none yet (a null layout at version 0).
    fn from_saved(saved: Option<SavedWorkspace>) -> Workspace {
        match saved {
            Some(w) => Workspace {
                layout: w.layout,
                updated_at_secs: Some(w.updated_at),
                version: w.version,
            },
            None => Workspace {
                layout: Value::Null,
                updated_at_secs: None,
                version: 0,
            },
        }
    }
}

pub async fn get(
    State(s): State<AppState>,
    PathParams(project): PathParams<String>,
) -> Result<Json<Workspace>> {
    if s.store.project_runs(&project).is_empty() {
        return Err(Error::NotFound(format!("no project '{project}'")));
    }
    let workspaces = s.workspaces.clone();
    let saved = blocking(move || Ok(workspaces.workspace(&project)?)).await?;
    Ok(Json(Workspace::from_saved(saved)))
}

/// Requires `Content-Type: application/json`, so a cross-origin page cannot send it without a
/// CORS preflight (which this daemon never grants).
pub async fn put(
    State(s): State<AppState>,
    PathParams(project): PathParams<String>,
    JsonBody(ws): JsonBody<SaveWorkspace>,
) -> Result<Response> {
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
    let (workspaces, layout, based_on) = (s.workspaces.clone(), ws.layout.clone(), ws.version);
    let saved =
        blocking(move || Ok(workspaces.save_workspace(&project, &layout, now, based_on)?)).await?;
    match saved {
        Saved::Ok { version } => Ok(Json(Workspace {
            layout: ws.layout,
            updated_at_secs: Some(now),
            version,
        })
        .into_response()),
        Saved::Conflict(current) => {
            let stored = Workspace::from_saved(current);
            let version = stored.version;
            let message = format!(
                "the workspace was saved by someone else: this change is based on version {}, \
                 the stored one is version {version}; apply it to `layout` and save again \
                 with `version` {version}",
                based_on.unwrap_or_default()
            );
            let extra = serde_json::to_value(stored)
                .map_err(|e| Error::Internal(format!("cannot encode a workspace: {e}")))?;
            Err(Error::conflict(VERSION_CONFLICT, message, extra))
        }
    }
}
