//! Artifacts over REST (docs/api.md): a project's artifact names, an artifact's versions, one
//! version with its files and lineage, one file's bytes and a whole version as a zip (both streamed
//! from the blob store, read by content hash, never by path), a run's lineage, and an owner's
//! edits (move or remove an alias, delete a version).

use super::extract::{JsonBody, PathParams, QueryParams};
use super::files::{ServedAs, serve_ranged};
use super::session::require_owner;
use super::{AppState, blocking};
use crate::artifacts::edit;
use crate::artifacts::files::VersionFile;
use crate::artifacts::lineage::{Lineage, run_links};
use crate::artifacts::store::{Artifact, ArtifactStore, version_files, version_info};
use crate::artifacts::zip_stream::{ZipWriter, archive_len};
use crate::auth::sharing::Principal;
use crate::blobs::local::LocalBlobs;
use crate::blobs::{BlobError, BlobHash, BlobStore};
use crate::error::{Error, Result};
use crate::format::FormatError;
use crate::format::beneath::report_refusal;
use crate::query;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use std::sync::Arc;
use trackline_shared::artifacts::{
    ArtifactCollection, ArtifactRunRef, ArtifactVersion, ArtifactVersionInfo, RunArtifactLink,
    check_entry_path, check_name, parse_version_ref,
};

/// `Cache-Control` of a file or zip named by `v<N>`: a version never changes.
const IMMUTABLE: &str = "private, max-age=31536000, immutable";
/// Bytes of zip output handed to the connection at a time.
const ZIP_CHUNK_BYTES: usize = 256 * 1024;
/// Zip chunks queued ahead of the connection.
const ZIP_QUEUE: usize = 8;

fn artifacts(s: &AppState) -> Arc<ArtifactStore> {
    ArtifactStore::shared(&s.data_dir)
}

/// Artifact `name` of `project`: `400` for a bad name, `404` for an unknown one.
fn find(store: &ArtifactStore, project: &str, name: &str) -> Result<Arc<Artifact>> {
    check_name(name).map_err(|e| Error::BadRequest(e.to_string()))?;
    store
        .artifact(project, name)?
        .ok_or_else(|| Error::NotFound(format!("no artifact '{name}' in project '{project}'")))
}

/// The version `reference` (`v<N>`, an alias or `latest`) names.
fn resolve(artifact: &Artifact, reference: &str) -> Result<(u64, Arc<VersionFile>)> {
    let n = artifact.resolve(reference).ok_or_else(|| {
        Error::NotFound(format!(
            "artifact '{}' has no version '{reference}'",
            artifact.name
        ))
    })?;
    Ok((n, artifact.versions[&n].clone()))
}

/// `GET /api/projects/{project}/artifacts`.
pub async fn list(
    State(s): State<AppState>,
    PathParams(project): PathParams<String>,
) -> Result<Json<Vec<ArtifactCollection>>> {
    let store = artifacts(&s);
    blocking(move || Ok(store.collections(&project)?))
        .await
        .map(Json)
}

/// `GET /api/projects/{project}/artifacts/{name}/versions`: newest first.
pub async fn versions(
    State(s): State<AppState>,
    PathParams((project, name)): PathParams<(String, String)>,
) -> Result<Json<Vec<ArtifactVersionInfo>>> {
    let store = artifacts(&s);
    blocking(move || {
        let artifact = find(&store, &project, &name)?;
        Ok(artifact
            .versions
            .keys()
            .rev()
            .filter_map(|n| artifact.info(*n))
            .collect())
    })
    .await
    .map(Json)
}

/// `GET /api/projects/{project}/artifacts/{name}/versions/{ref}`: one version whole, with who
/// logged it and every run that used it.
pub async fn version(
    State(s): State<AppState>,
    PathParams((project, name, reference)): PathParams<(String, String, String)>,
) -> Result<Json<ArtifactVersion>> {
    let store = artifacts(&s);
    let runs: Vec<_> = s.store.runs().iter().map(|r| r.key.clone()).collect();
    blocking(move || {
        let artifact = find(&store, &project, &name)?;
        let (n, file) = resolve(&artifact, &reference)?;
        let info = artifact
            .info(n)
            .unwrap_or_else(|| version_info(&file, Vec::new()));
        let used_by = Lineage::shared().used_by(&store, runs, &project, &file)?;
        Ok(ArtifactVersion {
            info,
            metadata: file.metadata.clone(),
            ttl_secs: file.ttl_secs,
            linked_from: file.linked_from.clone(),
            files: version_files(&file),
            logged_by: file.run.clone().map(|run| ArtifactRunRef {
                project: project.clone(),
                run,
            }),
            used_by,
        })
    })
    .await
    .map(Json)
}

/// `?download=1`.
#[derive(Deserialize, Debug, Default)]
pub struct DownloadQuery {
    #[serde(default)]
    download: Option<String>,
}

/// `GET /api/projects/{project}/artifacts/{name}/versions/{ref}/files/{path}`: the file's bytes
/// from the blob store, streamed, with `Range`; typed by extension, HTML and SVG sandboxed as run
/// files are; an attachment with `?download=1`.
pub async fn file(
    State(s): State<AppState>,
    PathParams((project, name, reference, path)): PathParams<(String, String, String, String)>,
    QueryParams(query): QueryParams<DownloadQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    check_entry_path(&path).map_err(|e| Error::BadRequest(e.to_string()))?;
    let cache = cache_for(&reference);
    let store = artifacts(&s);
    let data_dir = s.data_dir.clone();
    let rel = path.clone();
    let (blob, len) = blocking(move || {
        let artifact = find(&store, &project, &name)?;
        let (n, version) = resolve(&artifact, &reference)?;
        let entry = version
            .manifest
            .contents
            .get(&rel)
            .ok_or_else(|| Error::NotFound(format!("no file '{rel}' in v{n} of '{name}'")))?;
        if entry.reference.is_some() {
            return Err(Error::NotFound(format!(
                "'{rel}' is a reference: its bytes are not stored"
            )));
        }
        open_blob(&LocalBlobs::in_data_dir(&data_dir), &entry.digest)?.ok_or_else(|| {
            Error::NotFound(format!(
                "the bytes of '{rel}' are missing from the blob store"
            ))
        })
    })
    .await?;
    let mut resp = serve_ranged(blob, len, &headers, ServedAs::typed(&path, cache), &path).await?;
    if is_set(query.download.as_deref()) {
        resp.headers_mut()
            .insert(CONTENT_DISPOSITION, attachment(base_name(&path)));
    }
    Ok(resp)
}

/// `Cache-Control` for what `reference` names: `v<N>` never changes; an alias may move.
fn cache_for(reference: &str) -> &'static str {
    if parse_version_ref(reference).is_some() {
        IMMUTABLE
    } else {
        "no-store"
    }
}

fn is_set(flag: Option<&str>) -> bool {
    matches!(flag, Some("1" | "true"))
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `attachment` with `file_name`: an ASCII fallback and the exact name (RFC 6266, RFC 8187).
fn attachment(file_name: &str) -> HeaderValue {
    let plain: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact =
        percent_encoding::utf8_percent_encode(file_name, percent_encoding::NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{plain}\"; filename*=UTF-8''{exact}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The blob whose hash is `digest`, opened (no link followed, a regular file only), with its
/// length; `Ok(None)` when there is none, the digest is no hash, or the file is refused.
fn open_blob(blobs: &LocalBlobs, digest: &str) -> Result<Option<(std::fs::File, u64)>> {
    let Ok(hash) = BlobHash::parse(digest) else {
        return Ok(None);
    };
    let file = match blobs.open(&hash) {
        Ok(Some(file)) => file,
        Ok(None) => return Ok(None),
        Err(BlobError::Write(e @ FormatError::NotRegular { .. })) => {
            report_refusal(&e);
            return Ok(None);
        }
        Err(BlobError::Write(FormatError::Refused(_))) => return Ok(None),
        Err(e) => return Err(Error::Internal(format!("reading a blob: {e}"))),
    };
    let len = file
        .metadata()
        .map_err(|e| Error::Internal(format!("reading blob {hash}: {e}")))?
        .len();
    Ok(Some((file, len)))
}

/// `GET /api/projects/{project}/artifacts/{name}/versions/{ref}/zip`: the version's stored files
/// as a zip, streamed from a blocking thread through a short queue (reference entries left out).
pub async fn zip(
    State(s): State<AppState>,
    PathParams((project, name, reference)): PathParams<(String, String, String)>,
) -> Result<Response> {
    let cache = cache_for(&reference);
    let store = artifacts(&s);
    let data_dir = s.data_dir.clone();
    let (n, name, entries) = blocking(move || {
        let artifact = find(&store, &project, &name)?;
        let (n, version) = resolve(&artifact, &reference)?;
        let blobs = LocalBlobs::in_data_dir(&data_dir);
        // Every blob is looked at first, so a missing one is a 404, not a cut archive.
        let mut entries = Vec::new();
        for (path, entry) in &version.manifest.contents {
            if entry.reference.is_some() {
                continue;
            }
            let Some((_, len)) = open_blob(&blobs, &entry.digest)? else {
                return Err(Error::NotFound(format!(
                    "the bytes of '{path}' are missing from the blob store"
                )));
            };
            entries.push((path.clone(), entry.digest.clone(), len));
        }
        Ok((n, name, entries))
    })
    .await?;
    let zip_len = archive_len(entries.iter().map(|(path, _, len)| (path.as_str(), *len)));
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(ZIP_QUEUE);
    let blobs = LocalBlobs::in_data_dir(&s.data_dir);
    tokio::task::spawn_blocking(move || {
        let out = ChunkSender {
            tx: tx.clone(),
            buf: Vec::with_capacity(ZIP_CHUNK_BYTES),
        };
        if let Err(e) = write_zip(&blobs, &entries, out) {
            tracing::warn!("artifact zip cut short: {e}");
            let _ = tx.blocking_send(Err(e));
        }
    });
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let mut resp = (
        StatusCode::OK,
        [
            (CONTENT_TYPE, "application/zip"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(CONTENT_DISPOSITION, attachment(&format!("{name}-v{n}.zip")));
    h.insert(CONTENT_LENGTH, HeaderValue::from(zip_len));
    Ok(resp)
}

/// Writes the zip of `entries` (path, blob hash, length) to `out`, one blob open at a time.
fn write_zip(
    blobs: &LocalBlobs,
    entries: &[(String, String, u64)],
    out: ChunkSender,
) -> std::io::Result<()> {
    let mut zip = ZipWriter::new(out);
    for (path, digest, len) in entries {
        let opened = open_blob(blobs, digest).map_err(|e| std::io::Error::other(e.to_string()))?;
        let Some((file, now)) = opened else {
            return Err(std::io::Error::other(format!(
                "blob of '{path}' went missing"
            )));
        };
        if now != *len {
            return Err(std::io::Error::other(format!(
                "blob of '{path}' changed size"
            )));
        }
        zip.add(path, *len, file)?;
    }
    zip.finish()?;
    Ok(())
}

/// A `Write` that hands the zip to the connection in chunks; fails once the client is gone.
struct ChunkSender {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChunkSender {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(ZIP_CHUNK_BYTES),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

impl std::io::Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= ZIP_CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The body of an alias move (owner edits are the owner's: `session::require_owner`).
#[derive(Deserialize, Debug)]
pub struct AliasBody {
    version: u64,
}

/// `PUT /api/projects/{project}/artifacts/{name}/aliases/{alias}`: body `{"version": N}`.
pub async fn put_alias(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    PathParams((project, name, alias)): PathParams<(String, String, String)>,
    JsonBody(body): JsonBody<AliasBody>,
) -> Result<StatusCode> {
    require_owner(&s, principal.as_deref(), "moves aliases")?;
    let store = artifacts(&s);
    blocking(move || edit::set_alias(&store, &project, &name, &alias, Some(body.version))).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/projects/{project}/artifacts/{name}/aliases/{alias}`.
pub async fn delete_alias(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    PathParams((project, name, alias)): PathParams<(String, String, String)>,
) -> Result<StatusCode> {
    require_owner(&s, principal.as_deref(), "removes aliases")?;
    let store = artifacts(&s);
    blocking(move || edit::set_alias(&store, &project, &name, &alias, None)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?force=1`.
#[derive(Deserialize, Debug, Default)]
pub struct ForceQuery {
    #[serde(default)]
    force: Option<String>,
}

/// `DELETE /api/projects/{project}/artifacts/{name}/versions/{version}` (`v<N>` or `N`).
pub async fn delete_version(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    PathParams((project, name, version)): PathParams<(String, String, String)>,
    QueryParams(query): QueryParams<ForceQuery>,
) -> Result<StatusCode> {
    require_owner(&s, principal.as_deref(), "deletes artifact versions")?;
    let n = parse_version_ref(&version)
        .or_else(|| parse_version_ref(&format!("v{version}")))
        .ok_or_else(|| Error::BadRequest(format!("'{version}' is not a version (v<N>)")))?;
    let force = is_set(query.force.as_deref());
    let store = artifacts(&s);
    blocking(move || edit::delete_version(&store, &project, &name, n, force)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/projects/{project}/runs/{run}/artifacts`: the run's lineage, resolved.
pub async fn run_artifacts(
    State(s): State<AppState>,
    PathParams((project, run)): PathParams<(String, String)>,
) -> Result<Json<Vec<RunArtifactLink>>> {
    let found = query::run(&s.store, &project, &run)?;
    let store = artifacts(&s);
    blocking(move || Ok(run_links(&store, &Lineage::shared(), &found.key)?))
        .await
        .map(Json)
}
