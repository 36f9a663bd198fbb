//! Raw files of a run (`history.jsonl`, `console.log`, saved files, media): regular files inside the run's
//! own folder only. No `..`, absolute or hidden paths; the file is opened beneath the data directory
//! with no symbolic link followed (see `format::beneath`), and the handle that was checked is the
//! one served, so swapping a file for a link between a check and an open gains nothing.

use super::AppState;
use super::extract::PathParams;
use crate::error::{Error, Result};
use crate::format::beneath::{Dir, report_refusal};
use crate::format::{FormatError, RunKey};
use crate::query;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_SECURITY_POLICY,
    CONTENT_TYPE, RANGE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Serves a run's file; `Range: bytes=N-` (or `N-M`) answers `206` with just those bytes, which is
/// how the web app live-tails `console.log` without refetching it.
pub async fn file(
    State(s): State<AppState>,
    PathParams((project, run, path)): PathParams<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let run = query::run(&s.store, &project, &run)?;
    let data_dir = s.data_dir.clone();
    let rel = path.clone();
    let (file, len) = tokio::task::spawn_blocking(move || open_run_file(&data_dir, &run.key, &rel))
        .await
        .map_err(|e| Error::Internal(format!("opening a run file: {e}")))??;
    serve_ranged(file, len, &headers, ServedAs::of(&path), &path).await
}

/// Answers an open file of `len` bytes as `served` says, streamed; `Range: bytes=N-` (or `N-M`)
/// answers `206` with just those bytes. `name` names the file in errors. Shared by run files and
/// artifact files.
pub(super) async fn serve_ranged(
    file: std::fs::File,
    len: u64,
    headers: &HeaderMap,
    served: ServedAs,
    name: &str,
) -> Result<Response> {
    let mut file = tokio::fs::File::from_std(file);
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
        .map_err(|e| Error::io(Path::new(name), e))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file.take(end - start)));
    let mut resp = (
        status,
        [
            (CONTENT_TYPE, served.content_type),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (ACCEPT_RANGES, "bytes"),
            (CACHE_CONTROL, served.cache),
        ],
        body,
    )
        .into_response();
    if served.sandboxed {
        // Our own policy instead of the app's: the safety layer keeps a handler's choice.
        let h = resp.headers_mut();
        h.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(SANDBOXED_DOCUMENT_POLICY),
        );
        h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    }
    // The length up front: a download shows its progress and a client knows a cut body.
    resp.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(end - start));
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

/// How a logged HTML page or SVG is served: in a sandbox without `allow-same-origin`, so its
/// scripts run in an opaque origin and cannot read the dashboard, its cookies or the API (nor
/// fetch anything: `connect-src 'none'`); framed only by the dashboard itself.
pub const SANDBOXED_DOCUMENT_POLICY: &str = "sandbox allow-scripts; default-src * data: blob: \
     'unsafe-inline' 'unsafe-eval'; connect-src 'none'; form-action 'none'; \
     frame-ancestors 'self'; base-uri 'none'";

/// The headers a file is served with, by its path.
pub(super) struct ServedAs {
    pub content_type: &'static str,
    pub cache: &'static str,
    /// HTML and SVG: served under [`SANDBOXED_DOCUMENT_POLICY`].
    pub sandboxed: bool,
}

impl ServedAs {
    /// A run file: media files (named by their content) cached for good, the rest not at all.
    fn of(path: &str) -> ServedAs {
        // Media files are named by their content's hash: the same name is the same bytes for
        // good. Everything else may still grow (a live run's files).
        let cache = if path.starts_with("media/") {
            "private, max-age=31536000, immutable"
        } else {
            "no-store"
        };
        ServedAs::typed(path, cache)
    }

    /// A file typed by its name's extension, with `cache` as its `Cache-Control`.
    pub(super) fn typed(path: &str, cache: &'static str) -> ServedAs {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let content_type = match ext.as_str() {
            "json" => "application/json",
            "jsonl" | "log" | "txt" | "yaml" | "yml" | "csv" | "md" | "py" | "obj" => {
                "text/plain; charset=utf-8"
            }
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "bmp" => "image/bmp",
            "svg" => "image/svg+xml",
            "wav" => "audio/wav",
            "mp3" => "audio/mpeg",
            "ogg" => "audio/ogg",
            "flac" => "audio/flac",
            "mp4" => "video/mp4",
            "webm" => "video/webm",
            "html" | "htm" => "text/html; charset=utf-8",
            "gltf" => "model/gltf+json",
            "glb" => "model/gltf-binary",
            "stl" => "model/stl",
            _ => "application/octet-stream",
        };
        ServedAs {
            content_type,
            cache,
            sandboxed: matches!(ext.as_str(), "html" | "htm" | "svg"),
        }
    }
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

/// Opens the regular file `rel` (already percent-decoded) of run `key`, beneath the data directory
/// `data_dir`, and returns it with its length; anything that could leave the run's folder, a hidden
/// part, a symbolic link anywhere on the way, or a file that is not regular is "not found" (a
/// refused file is reported once in the log).
pub fn open_run_file(data_dir: &Path, key: &RunKey, rel: &str) -> Result<(std::fs::File, u64)> {
    let not_found = || Error::NotFound(format!("no file '{rel}' in this run"));
    if rel.is_empty() || rel.contains(['\\', '\0']) || rel.starts_with('/') {
        return Err(not_found());
    }
    if rel
        .split('/')
        .any(|part| part.is_empty() || part.starts_with('.'))
    {
        return Err(not_found());
    }
    let beneath = format!("{}/{}/{rel}", key.project, key.run);
    let opened = Dir::open_root(data_dir).and_then(|root| root.open_read(&beneath));
    let file = match opened {
        Ok(Some(file)) => file,
        Ok(None) => return Err(not_found()),
        Err(e @ FormatError::NotRegular { .. }) => {
            report_refusal(&e);
            return Err(not_found());
        }
        Err(FormatError::Refused(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let len = file
        .metadata()
        .map_err(|e| Error::io(data_dir.join(&beneath), e))?
        .len();
    Ok((file, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn key() -> RunKey {
        RunKey {
            project: "p".into(),
            run: "r".into(),
        }
    }

    fn read(root: &Path, rel: &str) -> Result<String> {
        let (mut file, len) = open_run_file(root, &key(), rel)?;
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        assert_eq!(text.len() as u64, len);
        Ok(text)
    }

    #[test]
    fn refuses_escapes() {
        let root = tempfile::tempdir().unwrap();
        let run = root.path().join("p/r");
        std::fs::create_dir_all(run.join("files")).unwrap();
        std::fs::write(run.join("files/a.txt"), "a").unwrap();
        std::fs::write(root.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(root.path().join("secret"), run.join("files/link")).unwrap();
        std::os::unix::fs::symlink(root.path().join("p/r/files"), run.join("dirlink")).unwrap();
        assert_eq!(read(root.path(), "files/a.txt").unwrap(), "a");
        for bad in [
            "../../secret",
            "files/../../../secret",
            "/etc/passwd",
            "files/link",
            "dirlink/a.txt",
            "files",
            ".x",
            "files//a.txt",
            "files\\a.txt",
            "",
        ] {
            assert!(
                matches!(read(root.path(), bad), Err(Error::NotFound(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_linked_run_or_project_folder_is_not_served() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(outside.path().join("r/files")).unwrap();
        std::fs::write(outside.path().join("r/files/a.txt"), "outside").unwrap();
        // The project folder is a link to a folder outside the data directory.
        std::os::unix::fs::symlink(outside.path(), root.path().join("p")).unwrap();
        assert!(matches!(
            read(root.path(), "files/a.txt"),
            Err(Error::NotFound(_))
        ));
        // The project is real, the run folder is a link.
        std::fs::remove_file(root.path().join("p")).unwrap();
        std::fs::create_dir(root.path().join("p")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("r"), root.path().join("p/r")).unwrap();
        assert!(matches!(
            read(root.path(), "files/a.txt"),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn a_named_pipe_is_not_served_and_does_not_block() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("p/r")).unwrap();
        crate::format::beneath::make_fifo(&root.path().join("p/r/console.log"));
        let data_dir = root.path().to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(matches!(
                read(&data_dir, "console.log"),
                Err(Error::NotFound(_))
            ));
        });
        let refused = rx.recv_timeout(std::time::Duration::from_secs(5));
        assert_eq!(refused, Ok(true), "opening the pipe blocked or was served");
    }

    /// One thread swaps a served file for a link to a secret outside the data directory as fast
    /// as it can; the other opens and reads it thousands of times (while hundreds of swaps happen)
    /// and never gets the secret.
    #[test]
    fn swapping_a_file_for_a_link_never_serves_its_target() {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret");
        std::fs::write(&secret, "SECRET").unwrap();
        let run = root.path().join("p/r");
        std::fs::create_dir_all(&run).unwrap();
        let file = run.join("console.log");
        let (plain, link) = (run.join(".plain"), run.join(".link"));
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let swaps = std::sync::Arc::new(AtomicU64::new(0));
        let swapper = {
            let (stop, swaps) = (stop.clone(), swaps.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::fs::write(&plain, "plain").unwrap();
                    std::fs::rename(&plain, &file).unwrap();
                    let _ = std::fs::remove_file(&link);
                    std::os::unix::fs::symlink(&secret, &link).unwrap();
                    std::fs::rename(&link, &file).unwrap();
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        let (mut served, mut refused) = (0, 0);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while (served + refused < 5_000 || swaps.load(Ordering::Relaxed) < 500)
            && std::time::Instant::now() < deadline
        {
            match read(root.path(), "console.log") {
                Ok(text) => {
                    assert_eq!(text, "plain", "served something other than the run's file");
                    served += 1;
                }
                Err(Error::NotFound(_)) => refused += 1,
                Err(e) => panic!("{e}"),
            }
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
        let swaps = swaps.load(Ordering::Relaxed);
        assert!(swaps >= 500, "only {swaps} swaps in a minute");
        assert!(
            served > 0 && refused > 0,
            "served {served}, refused {refused}"
        );
    }
}
