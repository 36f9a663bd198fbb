//! `POST /api/ingest/v1/batch`: remote clients stream runs through the daemon (docs/api.md).

use super::AppState;
use super::extract::{BodyBytes, QueryParams};
use crate::auth::WriteToken;
use crate::error::{Error, Result};
use crate::format::beneath::HeldDir;
use crate::format::files::parse_lenient;
use crate::ingest::remote::{self, Applied, Batch, RemoteIngest};
use crate::store::Store;
use axum::Json;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The conflict code of a write whose offset is not the file's length (the body says the lengths).
pub const OFFSET_MISMATCH: &str = "offset_mismatch";

pub async fn batch(
    State(s): State<Ingesting>,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes,
) -> Result<Response> {
    s.token.check(&headers)?;
    let batch = parse_batch(&body)?;
    remote::validate(&batch)?;
    // Answers once the batch's data is durable (group commit), so a 200 means on disk. The rows
    // go to the store as they are written, not read back from disk.
    let applied = (s.ingest)
        .apply_async(&s.root, batch, Some(&s.store))
        .await?;
    match applied {
        Applied::Ok(lengths) => Ok(Json(Answer { ok: true, lengths }).into_response()),
        Applied::Conflict(lengths) => Err(Error::conflict(
            OFFSET_MISMATCH,
            "a file's length does not match the batch's offset; resend from `lengths`",
            json!({ "lengths": lengths }),
        )),
    }
}

/// What a batch needs of the daemon's state: a few handles, taken for each request without
/// copying the rest of [`AppState`] (the data directory's path, for one).
#[derive(Debug, Clone)]
pub struct Ingesting {
    token: Arc<WriteToken>,
    store: Arc<Store>,
    ingest: Arc<RemoteIngest>,
    /// The data directory, held open by remote ingest.
    root: Arc<HeldDir>,
}

impl FromRef<AppState> for Ingesting {
    fn from_ref(s: &AppState) -> Ingesting {
        Ingesting {
            token: s.token.clone(),
            store: s.store.clone(),
            ingest: s.remote_ingest.clone(),
            root: s.remote_ingest.held_root(&s.data_dir),
        }
    }
}

/// A batch's answer: `{"ok": true, "lengths": {file: length}}`.
#[derive(Debug, serde::Serialize)]
struct Answer {
    ok: bool,
    lengths: BTreeMap<String, u64>,
}

/// Reads a batch body straight into a [`Batch`]; a body serde_json refuses as it is (a number it
/// cannot hold, a repeated key) is read as lenient JSON first, as the run format's files are.
fn parse_batch(body: &[u8]) -> Result<Batch> {
    let text =
        std::str::from_utf8(body).map_err(|_| Error::BadRequest("the body is not UTF-8".into()))?;
    if let Ok(batch) = serde_json::from_str::<Batch>(text) {
        return Ok(batch);
    }
    let value = parse_lenient(text).map_err(|e| Error::BadRequest(format!("invalid JSON: {e}")))?;
    serde_json::from_value(value).map_err(|e| Error::BadRequest(format!("not a batch: {e}")))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A body read straight into a batch gives what reading it as lenient JSON first gave, and
    /// one serde_json refuses as it is still reads that way.
    #[test]
    fn batches_parse_as_lenient_json_would() {
        let lenient =
            |body: &str| -> Batch { serde_json::from_value(parse_lenient(body).unwrap()).unwrap() };
        let same = |body: &str| {
            let direct = parse_batch(body.as_bytes()).unwrap();
            let via_value = lenient(body);
            assert_eq!(
                serde_json::to_value(&direct).unwrap(),
                serde_json::to_value(&via_value).unwrap(),
                "{body}"
            );
            direct
        };
        let rows = r#"{\"_step\": 0, \"loss\": NaN, \"x\": 1e400}\n"#;
        let b = same(&format!(
            r#"{{"project": "p", "run": "r", "append": {{"history.jsonl": {{"offset": 7, "data": "{rows}"}}}}}}"#
        ));
        assert_eq!(b.append["history.jsonl"].offset, 7);
        assert!(b.append["history.jsonl"].data.contains("NaN"));
        // Numbers serde_json cannot hold, and a repeated key: read through the lenient path.
        let b = same(
            r#"{"project": "p", "run": "r", "files": {"config.json": {"lr": Infinity, "big": 1e400, "tiny": 1e-400}}}"#,
        );
        assert_eq!(b.files["config.json"]["lr"], "Infinity");
        assert_eq!(b.files["config.json"]["big"], "1e400");
        let b = same(r#"{"project": "old", "project": "p", "run": "r"}"#);
        assert_eq!(b.project, "p");
        for bad in [&b"\xff"[..], b"[]", b"{\"project\": 1}", b"{"] {
            assert!(matches!(parse_batch(bad), Err(Error::BadRequest(_))));
        }
    }
}
