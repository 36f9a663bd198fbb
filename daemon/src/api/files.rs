//! Raw files of a run (`history.jsonl`, `console.log`, saved files), never anything outside the
//! run's own folder: no `..`, no absolute or hidden paths, no symlink that leads out.

use super::AppState;
use super::extract::PathParams;
use crate::error::{Error, Result};
use crate::query;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_RANGE, CONTENT_TYPE, RANGE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Serves a run's file; `Range: bytes=N-` (or `N-M`) answers `206` with just those bytes, which is
/// how the web app live-tails `console.log` without refetching it.
pub async fn file(
    State(s): State<AppState>,
    PathParams((project, run, path)): PathParams<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let run = query::run(&s.store, &project, &run)?;
    let full = resolve(&run.dir, &path)?;
    let mut file = tokio::fs::File::open(&full)
        .await
        .map_err(|_| Error::NotFound(format!("no file '{path}' in this run")))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| Error::io(&full, e))?
        .len();
    let content_type = match full.extension().and_then(|e| e.to_str()) {
        Some("json") => "application/json",
        Some("jsonl" | "log" | "txt" | "yaml" | "yml" | "csv" | "md" | "py") => {
            "text/plain; charset=utf-8"
        }
        _ => "application/octet-stream",
    };
    let range = headers
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .map(parse_range);
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, len),
        Some(Some((start, end))) if start <= len => (
            StatusCode::PARTIAL_CONTENT,
            start,
            end.map_or(len, |e| (e + 1).min(len)).max(start),
        ),
        Some(_) => {
            let mut resp =
                Error::BadRequest(format!("unsatisfiable range for a file of {len} bytes"))
                    .into_response();
            *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            resp.headers_mut().insert(
                CONTENT_RANGE,
                format!("bytes */{len}").parse().expect("ascii"),
            );
            return Ok(resp);
        }
    };
    file.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(|e| Error::io(&full, e))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file.take(end - start)));
    let mut resp = (
        status,
        [
            (CONTENT_TYPE, content_type),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (ACCEPT_RANGES, "bytes"),
            // Run files grow while a run is live: never answer from a cache.
            (CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response();
    if status == StatusCode::PARTIAL_CONTENT {
        let value = if end > start {
            format!("bytes {start}-{}/{len}", end - 1)
        } else {
            format!("bytes */{len}")
        };
        resp.headers_mut()
            .insert(CONTENT_RANGE, value.parse().expect("ascii"));
    }
    Ok(resp)
}

/// `bytes=N-` or `bytes=N-M` (one range); `None` for anything else.
fn parse_range(value: &str) -> Option<(u64, Option<u64>)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let start = a.trim().parse().ok()?;
    let end = match b.trim() {
        "" => None,
        e => Some(e.parse().ok()?),
    };
    match end {
        Some(e) if e < start => None,
        _ => Some((start, end)),
    }
}

/// Resolves `rel` (already percent-decoded) inside `base`, refusing anything that could leave it.
pub fn resolve(base: &Path, rel: &str) -> Result<PathBuf> {
    let refuse = || Error::NotFound(format!("no file '{rel}' in this run"));
    if rel.is_empty() || rel.contains(['\\', '\0']) || rel.starts_with('/') {
        return Err(refuse());
    }
    let mut out = base.to_path_buf();
    for part in rel.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.starts_with('.') {
            return Err(refuse());
        }
        out.push(part);
    }
    let canonical_base = base.canonicalize().map_err(|_| refuse())?;
    let canonical = out.canonicalize().map_err(|_| refuse())?;
    if !canonical.starts_with(&canonical_base) || !canonical.is_file() {
        return Err(refuse());
    }
    Ok(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes() {
        let root = tempfile::tempdir().unwrap();
        let run = root.path().join("p/r");
        std::fs::create_dir_all(run.join("files")).unwrap();
        std::fs::write(run.join("files/a.txt"), "a").unwrap();
        std::fs::write(root.path().join("secret"), "s").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.path().join("secret"), run.join("files/link")).unwrap();
        assert!(resolve(&run, "files/a.txt").is_ok());
        for bad in [
            "../../secret",
            "files/../../../secret",
            "/etc/passwd",
            "files/link",
            ".x",
            "files//a.txt",
            "files\\a.txt",
            "",
        ] {
            assert!(resolve(&run, bad).is_err(), "{bad}");
        }
    }
}
