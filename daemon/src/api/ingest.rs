//! `POST /api/ingest/v1/batch`: remote clients stream runs through the daemon (docs/api.md).

use super::AppState;
use super::extract::{BodyBytes, QueryParams};
use crate::error::{Error, Result};
use crate::format::files::parse_lenient;
use crate::ingest::remote::{self, Applied, Batch};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The conflict code of a write whose offset is not the file's length (the body says the lengths).
pub const OFFSET_MISMATCH: &str = "offset_mismatch";

pub async fn batch(
    State(s): State<AppState>,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes,
) -> Result<Response> {
    s.token.check(&headers)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| Error::BadRequest("the body is not UTF-8".into()))?;
    let value = parse_lenient(text).map_err(|e| Error::BadRequest(format!("invalid JSON: {e}")))?;
    let batch: Batch = serde_json::from_value(value)
        .map_err(|e| Error::BadRequest(format!("not a batch: {e}")))?;
    remote::validate(&batch)?;
    // Answers once the batch's data is durable (group commit), so a 200 means on disk.
    let ingest = s.remote_ingest.clone();
    let applied = ingest.apply_async(s.data_dir.clone(), batch).await?;
    match applied {
        Applied::Ok(lengths) => Ok(Json(json!({"ok": true, "lengths": lengths})).into_response()),
        Applied::Conflict(lengths) => Err(Error::conflict(
            OFFSET_MISMATCH,
            "a file's length does not match the batch's offset; resend from `lengths`",
            json!({ "lengths": lengths }),
        )),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct FileChunk {
    project: String,
    run: String,
    path: String,
    #[serde(default)]
    offset: u64,
}

/// `POST /api/ingest/v1/file?project=&run=&path=files/…&offset=N`, raw bytes (≤ 1 MiB a chunk):
/// uploads saved files and media, idempotent by offset like appends.
pub async fn file(
    State(s): State<AppState>,
    headers: HeaderMap,
    QueryParams(q): QueryParams<FileChunk>,
    BodyBytes(body): BodyBytes,
) -> Result<Response> {
    s.token.check(&headers)?;
    let (data_dir, ingest) = (s.data_dir.clone(), s.remote_ingest.clone());
    let written = super::blocking(move || {
        ingest.write_file_chunk(&data_dir, &q.project, &q.run, &q.path, q.offset, &body)
    })
    .await?;
    match written {
        Ok(length) => Ok(Json(json!({"ok": true, "length": length})).into_response()),
        Err(length) => Err(Error::conflict(
            OFFSET_MISMATCH,
            "the file's length does not match the offset; resend from `length`",
            json!({ "length": length }),
        )),
    }
}
