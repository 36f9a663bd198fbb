//! The artifact routes of remote ingest (docs/api.md, "Artifacts" under "Remote ingest"): which
//! blobs the daemon lacks, a resumable upload of one blob in chunks (≤ 8 MiB each, this route's
//! own body limit), and the commit of a version. The write token is checked from the headers
//! before any body byte is read (the ingest guard); bodies are read within the body deadline.

use super::AppState;
use super::extract::QueryParams;
use super::limits::Limits;
use crate::artifacts::commit::{self, CommitError, CommitRequest};
use crate::auth::WriteToken;
use crate::blobs::local::LocalBlobs;
use crate::blobs::{BlobError, BlobHash, BlobStore, ChunkOutcome};
use crate::error::{Error, Result};
use crate::format::beneath::HeldDir;
use crate::format::files::parse_lenient;
use axum::Json;
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_LENGTH;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::Arc;

/// Largest chunk of a blob upload.
pub const MAX_CHUNK_BYTES: usize = 8 << 20;
/// Largest commit body (a manifest of tens of thousands of files).
pub const MAX_COMMIT_BYTES: usize = 32 << 20;
/// Most hashes asked about at once.
pub const MAX_MISSING_QUERY: usize = 10_000;
/// The conflict code of a commit whose blobs are not all stored.
pub const BLOBS_MISSING: &str = "blobs_missing";

/// What the artifact routes need of the daemon's state.
#[derive(Debug, Clone)]
pub struct ArtifactIngesting {
    token: Arc<WriteToken>,
    limits: Arc<Limits>,
    root: Arc<HeldDir>,
    blobs: Arc<LocalBlobs>,
}

impl FromRef<AppState> for ArtifactIngesting {
    fn from_ref(s: &AppState) -> ArtifactIngesting {
        ArtifactIngesting {
            token: s.token.clone(),
            limits: s.limits.clone(),
            root: s.remote_ingest.held_root(&s.data_dir),
            blobs: LocalBlobs::shared(&s.data_dir),
        }
    }
}

/// Reads a body of at most `max` bytes within the body deadline: a declared length over it is
/// refused before any byte is read, a longer body while reading.
async fn read_body(
    limits: &Limits,
    headers: &HeaderMap,
    body: Body,
    max: usize,
) -> Result<Vec<u8>> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large =
        || Error::TooLarge(format!("the request body is over the limit of {max} bytes"));
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let deadline = limits.body_read_timeout;
    let read = async {
        let mut out = Vec::with_capacity(declared.unwrap_or(0) as usize);
        let mut stream = body.into_data_stream();
        while let Some(frame) = stream.next().await {
            let frame = frame.map_err(|e| {
                Error::BadRequest(format!("the request body could not be read: {e}"))
            })?;
            if out.len() + frame.len() > max {
                return Err(too_large());
            }
            out.extend_from_slice(&frame);
        }
        Ok(out)
    };
    tokio::time::timeout(deadline, read).await.map_err(|_| {
        Error::RequestTimeout(format!(
            "the request body did not arrive within {} s",
            deadline.as_secs_f64()
        ))
    })?
}

fn blob_error(e: BlobError) -> Error {
    match e {
        BlobError::Io { path, source } => Error::Io { path, source },
        BlobError::Write(f) => Error::Format(f),
        BlobError::BadHash(_) | BlobError::BadChunk(_) => Error::BadRequest(e.to_string()),
    }
}

#[derive(Debug, serde::Deserialize)]
struct MissingQuery {
    hashes: Vec<String>,
}

/// `POST /api/ingest/v1/blobs/missing` `{"hashes": [...]}` → `{"missing": [...]}`.
pub async fn missing(
    State(s): State<ArtifactIngesting>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    s.token.check(&headers)?;
    let bytes = read_body(&s.limits, &headers, body, super::MAX_BODY_BYTES).await?;
    let query: MissingQuery = serde_json::from_slice(&bytes)
        .map_err(|e| Error::BadRequest(format!("want {{\"hashes\": [...]}}: {e}")))?;
    if query.hashes.len() > MAX_MISSING_QUERY {
        return Err(Error::BadRequest(format!(
            "at most {MAX_MISSING_QUERY} hashes a query"
        )));
    }
    let hashes = query
        .hashes
        .iter()
        .map(|h| BlobHash::parse(h))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(blob_error)?;
    let blobs = s.blobs.clone();
    let missing = super::blocking(move || blobs.missing(&hashes).map_err(blob_error)).await?;
    let missing: Vec<&str> = missing.iter().map(BlobHash::as_str).collect();
    Ok(Json(json!({ "missing": missing })).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct BlobChunk {
    hash: String,
    size: u64,
    #[serde(default)]
    offset: u64,
}

/// `POST /api/ingest/v1/blob?hash=H&size=S&offset=N`, raw bytes: one chunk of a resumable upload.
pub async fn blob(
    State(s): State<ArtifactIngesting>,
    headers: HeaderMap,
    QueryParams(q): QueryParams<BlobChunk>,
    body: Body,
) -> Result<Response> {
    s.token.check(&headers)?;
    let hash = BlobHash::parse(&q.hash).map_err(blob_error)?;
    let data = read_body(&s.limits, &headers, body, MAX_CHUNK_BYTES).await?;
    let blobs = s.blobs.clone();
    let outcome = super::blocking(move || {
        blobs
            .write_chunk(&hash, q.size, q.offset, &data)
            .map_err(blob_error)
    })
    .await?;
    match outcome {
        ChunkOutcome::Accepted { length, complete } => {
            Ok(Json(json!({"ok": true, "length": length, "complete": complete})).into_response())
        }
        ChunkOutcome::OffsetMismatch { length } => Err(Error::conflict(
            super::ingest::OFFSET_MISMATCH,
            "the blob's held length does not match the offset; resend from `length`",
            json!({ "length": length }),
        )),
        ChunkOutcome::HashMismatch => Err(Error::BadRequest(
            "content does not match its hash; the upload was dropped".into(),
        )),
    }
}

/// `POST /api/ingest/v1/artifacts`: commits a version (docs/format.md, "Artifacts").
pub async fn commit(
    State(s): State<ArtifactIngesting>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    s.token.check(&headers)?;
    let bytes = read_body(&s.limits, &headers, body, MAX_COMMIT_BYTES).await?;
    let request = parse_commit(&bytes)?;
    let (root, blobs) = (s.root.clone(), s.blobs.clone());
    let committed = super::blocking(move || {
        let dir = root.get()?;
        commit::commit(dir, blobs.as_ref(), request, commit::now_secs()).map_err(|e| match e {
            CommitError::Invalid(message) => Error::BadRequest(message),
            CommitError::BlobsMissing(missing) => {
                let missing: Vec<&str> = missing.iter().map(BlobHash::as_str).collect();
                Error::conflict(
                    BLOBS_MISSING,
                    format!(
                        "{} file(s) of the version are not stored; upload them first",
                        missing.len()
                    ),
                    json!({ "missing": missing }),
                )
            }
            CommitError::Format(f) => Error::Format(f),
            CommitError::Blob(b) => blob_error(b),
        })
    })
    .await?;
    Ok(Json(committed).into_response())
}

/// A commit body as JSON; one serde_json refuses as it is (metadata with `NaN`, say) is read as
/// lenient JSON first, as batches are.
fn parse_commit(body: &[u8]) -> Result<CommitRequest> {
    if let Ok(request) = serde_json::from_slice::<CommitRequest>(body) {
        return Ok(request);
    }
    let text =
        std::str::from_utf8(body).map_err(|_| Error::BadRequest("the body is not UTF-8".into()))?;
    let value = parse_lenient(text).map_err(|e| Error::BadRequest(format!("invalid JSON: {e}")))?;
    serde_json::from_value(value).map_err(|e| Error::BadRequest(format!("not a commit: {e}")))
}
