//! Raw files of a run (`history.jsonl`, `console.log`, saved files), never anything outside the
//! run's own folder: no `..`, no absolute or hidden paths, no symlink that leads out.

use super::AppState;
use super::extract::P;
use crate::error::{Error, Result};
use crate::query;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};

pub async fn file(
    State(s): State<AppState>,
    P((project, run, path)): P<(String, String, String)>,
) -> Result<Response> {
    let run = query::run(&s.store, &project, &run)?;
    let full = resolve(&run.dir, &path)?;
    let file = tokio::fs::File::open(&full)
        .await
        .map_err(|_| Error::NotFound(format!("no file '{path}' in this run")))?;
    let content_type = match full.extension().and_then(|e| e.to_str()) {
        Some("json") => "application/json",
        Some("jsonl" | "log" | "txt" | "yaml" | "yml" | "csv" | "md" | "py") => {
            "text/plain; charset=utf-8"
        }
        _ => "application/octet-stream",
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [
            (CONTENT_TYPE, content_type),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response())
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
