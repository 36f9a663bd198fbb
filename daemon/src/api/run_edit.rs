//! An owner's edits of a finished run, W&B's `Api().run(path).update()` through a daemon: its
//! notes, group and job type (`PATCH`), its config and its summary (`PUT`). A finished run has no
//! writer left, so the daemon replaces its small files atomically, as the Python client does on a
//! data directory it can reach (`python/trackline/_public_edit.py`); a running run is refused,
//! its writer owns them. Names and tags are the run overlay's (`run_rename`/`run_retag` ops).

use super::extract::PathParams;
use super::{AppState, blocking};
use crate::auth::sharing::Principal;
use crate::error::{Error, Result};
use crate::format::writer::RunWriter;
use crate::query;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use trackline_shared::RunState;

/// The run.json fields `PATCH` sets: each given one replaces the stored value (`null` clears).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaEdit {
    #[serde(default, deserialize_with = "given")]
    notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    group: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    job_type: Option<Option<String>>,
}

/// A field that is present, `null` included (absent stays `None`).
fn given<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `PATCH /api/projects/{project}/runs/{run}`: replaces the run's notes, group or job type.
pub async fn patch_meta(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    PathParams((project, run)): PathParams<(String, String)>,
    body: Bytes,
) -> Result<StatusCode> {
    let edit: MetaEdit = serde_json::from_slice(&body).map_err(|e| {
        Error::BadRequest(format!(
            "a run edit is a JSON object of notes, group and job_type (strings or null): {e}"
        ))
    })?;
    let writer = finished_run(&s, principal.as_deref(), &project, &run)?;
    blocking(move || {
        let mut meta = read_object(&writer, crate::format::RUN_FILE)?.unwrap_or_default();
        for (field, value) in [
            ("notes", edit.notes),
            ("group", edit.group),
            ("job_type", edit.job_type),
        ] {
            if let Some(value) = value {
                meta.insert(field.into(), value.map_or(Value::Null, Value::String));
            }
        }
        writer.replace(crate::format::RUN_FILE, &Value::Object(meta))?;
        Ok(())
    })
    .await?;
    tracing::info!(%project, %run, "run notes, group or job type edited");
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/projects/{project}/runs/{run}/config`: the body (a JSON object) becomes the run's
/// config; the client's own keys (`_wandb`, …) it does not name are kept.
pub async fn put_config(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    PathParams((project, run)): PathParams<(String, String)>,
    body: Bytes,
) -> Result<StatusCode> {
    let new = object_body(&body, "config")?;
    let writer = finished_run(&s, principal.as_deref(), &project, &run)?;
    blocking(move || {
        let old = read_object(&writer, crate::format::CONFIG_FILE)?.unwrap_or_default();
        let kept: Vec<_> = old
            .into_iter()
            .filter(|(k, _)| k.starts_with('_') && !new.contains_key(k))
            .collect();
        if kept.is_empty() {
            // As sent: non-finite numbers stay literals.
            writer.replace_text(crate::format::CONFIG_FILE, &body)?;
        } else {
            let mut merged = Map::from_iter(kept);
            merged.extend(new);
            writer.replace(crate::format::CONFIG_FILE, &Value::Object(merged))?;
        }
        Ok(())
    })
    .await?;
    tracing::info!(%project, %run, "run config edited");
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/projects/{project}/runs/{run}/summary`: the body (a JSON object) becomes the run's
/// summary, byte for byte.
pub async fn put_summary(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    PathParams((project, run)): PathParams<(String, String)>,
    body: Bytes,
) -> Result<StatusCode> {
    object_body(&body, "summary")?;
    let writer = finished_run(&s, principal.as_deref(), &project, &run)?;
    blocking(move || {
        writer.replace_text(crate::format::SUMMARY_FILE, &body)?;
        Ok(())
    })
    .await?;
    tracing::info!(%project, %run, "run summary edited");
    Ok(StatusCode::NO_CONTENT)
}

/// The writer of run `run`, once the caller may edit it (an owner, when shared) and it has
/// finished.
fn finished_run(
    s: &AppState,
    principal: Option<&Principal>,
    project: &str,
    run: &str,
) -> Result<RunWriter> {
    super::session::require_owner(s, principal, "edits runs")?;
    let found = query::run(&s.store, project, run)?;
    if found.info().state == RunState::Running {
        return Err(Error::conflict(
            "run_running",
            format!(
                "run '{run}' is still running: its writer owns its notes, config and summary \
                 until it finishes"
            ),
            Value::Null,
        ));
    }
    Ok(RunWriter::new(&s.data_dir, project, run)?)
}

/// The body as a JSON object (non-finite literals allowed), or why not.
fn object_body(body: &[u8], what: &str) -> Result<Map<String, Value>> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::BadRequest(format!("the {what} is not UTF-8 text")))?;
    match crate::format::json::parse_lenient(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::BadRequest(format!(
            "the {what} must be a JSON object"
        ))),
        Err(e) => Err(Error::BadRequest(format!("the {what} is not JSON: {e}"))),
    }
}

/// One of the run's small JSON files as an object; `None` when missing.
fn read_object(writer: &RunWriter, name: &str) -> Result<Option<Map<String, Value>>> {
    let Some(bytes) = writer.read(name)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    match crate::format::json::parse_lenient(&text) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        _ => Err(Error::Internal(format!(
            "the run's {name} is not a JSON object: it is left as it is"
        ))),
    }
}
