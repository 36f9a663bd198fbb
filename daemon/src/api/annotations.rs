//! `GET /api/projects/{project}/annotations` (the snapshot: notepad, run notes, threads, reports
//! (a viewer link gets only published ones, as their published copy), and the op-log `seq` it
//! includes) and `POST /api/projects/{project}/annotations/ops` (one op in, its
//! [`OpOutcome`] out: `200` both when committed and when refused for a stale `base_rev`).
//!
//! The author of an op is the request's share link (sharing mode: its id and label; an owner
//! link may delete anyone's comment and rename or retag runs) or, without sharing, the local
//! user, who owns everything. A committed rename or retag also goes to the store, which shows it
//! wherever the run is served and announces the run with a new version.
//! A committed op is announced on the store's event bus, and every `annotations` subscription of
//! the project then reads it from the op log.

use super::extract::{JsonBody, PathParams};
use super::{AppState, blocking};
use crate::auth::scope::Scope;
use crate::auth::sharing::Principal;
use crate::db::annotations::{Actor, Applied, Refusal};
use crate::error::{Error, Result};
use crate::store::Event;
use axum::Json;
use axum::extract::{Extension, State};
use trackline_shared::annotations::{Author, Change, OpOutcome, OpRequest, ProjectAnnotations};

/// The author id and label of the local user when the daemon is not shared.
pub const LOCAL_AUTHOR: &str = "local";

pub async fn snapshot(
    State(s): State<AppState>,
    PathParams(project): PathParams<String>,
    principal: Option<Extension<Principal>>,
) -> Result<Json<ProjectAnnotations>> {
    known_project(&s, &project)?;
    let drafts = crate::reports::sees_drafts(principal.as_deref());
    let annotations = s.annotations.clone();
    let snapshot = blocking(move || Ok(annotations.snapshot(&project)?)).await?;
    Ok(Json(if drafts {
        snapshot
    } else {
        crate::reports::viewer_annotations(snapshot)
    }))
}

/// Requires `Content-Type: application/json` (no cross-origin form can send it).
pub async fn op(
    State(s): State<AppState>,
    PathParams(project): PathParams<String>,
    principal: Option<Extension<Principal>>,
    JsonBody(request): JsonBody<OpRequest>,
) -> Result<Json<OpOutcome>> {
    known_project(&s, &project)?;
    let actor = match principal {
        Some(Extension(p)) => Actor {
            author: Author {
                id: p.link_id,
                label: p.label,
            },
            is_owner: p.scope == Scope::Owner,
        },
        None => Actor {
            author: Author {
                id: LOCAL_AUTHOR.into(),
                label: LOCAL_AUTHOR.into(),
            },
            is_owner: true,
        },
    };
    let (annotations, store, at) = (s.annotations.clone(), s.store.clone(), project.clone());
    // Whole milliseconds: they read back from the stored JSON exactly, whatever the JSON parser.
    let now_ms = (crate::util::now_secs() * 1000.0).round();
    let applied = blocking(move || {
        let run_exists = |run: &str| store.get(&at, run).is_some();
        Ok(annotations.apply(&at, &actor, &request, now_ms, &run_exists)?)
    })
    .await?;
    let Applied { outcome, fresh } = applied.map_err(refused)?;
    if let (true, OpOutcome::Committed { event }) = (fresh, &outcome) {
        if let Change::Run(overlay) = &event.change {
            s.store.set_overlay(&project, overlay.clone());
        }
        s.store.emit(Event::Annotations {
            project,
            seq: event.seq,
        });
    }
    Ok(Json(outcome))
}

fn known_project(s: &AppState, project: &str) -> Result<()> {
    if s.store.project_runs(project).is_empty() {
        return Err(Error::NotFound(format!("no project '{project}'")));
    }
    Ok(())
}

/// How a refused op is answered: `400`, `404`, `403 forbidden`, or `409` with code `id_taken`
/// or `deleted`.
fn refused(refusal: Refusal) -> Error {
    match refusal {
        Refusal::Invalid(m) => Error::BadRequest(m),
        Refusal::NotFound(m) => Error::NotFound(m),
        Refusal::Forbidden(m) => Error::Forbidden(m),
        Refusal::IdTaken(m) => Error::conflict("id_taken", m, serde_json::Value::Null),
        Refusal::Deleted(m) => Error::conflict("deleted", m, serde_json::Value::Null),
    }
}
