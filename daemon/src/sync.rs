//! `trackline sync DIR`: uploads runs written offline to a daemon as remote-ingest batches.
//!
//! Resumable and idempotent: it first asks the daemon how much of each file it has (an empty
//! append at offset 0 answers with the daemon's lengths) and sends only the rest, so running it
//! twice uploads once. Artifact versions go after the runs ([`artifacts`]): missing blobs in
//! resumable chunks, then each live version committed (equal content makes a retry a no-op).

mod artifacts;

use crate::format::files::{parse_lenient, read_run_file};
use crate::format::{
    APPEND_FILES, CONFIG_FILE, METRICS_FILE, RUN_FILE, SUMMARY_FILE, UPLOAD_DIRS, is_hidden,
    is_line_file,
};
use crate::ingest::remote::{Append, Batch};
use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Largest chunk of file data per batch (the request body cap is 1 MiB; JSON escaping adds some).
const CHUNK_BYTES: usize = 512 * 1024;

/// What a sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub runs: usize,
    /// Artifact versions committed (or found there already).
    pub versions: usize,
    pub bytes_uploaded: u64,
}

/// A run folder to upload.
#[derive(Debug, Clone)]
struct LocalRun {
    project: String,
    run: String,
    dir: PathBuf,
}

pub async fn sync(
    dir: &Path,
    url: &str,
    token: &str,
    progress: &mut dyn Write,
) -> anyhow::Result<Report> {
    let runs = find_runs(dir)?;
    let stores = artifacts::find_stores(dir)?;
    if runs.is_empty() && stores.is_empty() {
        bail!(
            "no run folders (with a {RUN_FILE}) and no artifacts under {}",
            dir.display()
        );
    }
    let base = url.trim_end_matches('/');
    let endpoint = format!("{base}/api/ingest/v1/batch");
    let file_endpoint = format!("{base}/api/ingest/v1/file");
    let client = reqwest::Client::new();
    let mut report = Report::default();
    for (i, r) in runs.iter().enumerate() {
        let label = format!("[{}/{}] {}/{}", i + 1, runs.len(), r.project, r.run);
        let ends = Endpoints {
            batch: &endpoint,
            file: &file_endpoint,
        };
        let sent = sync_run(&client, ends, token, r, &label, progress)
            .await
            .with_context(|| format!("syncing {}", r.dir.display()))?;
        report.runs += 1;
        report.bytes_uploaded += sent;
    }
    let artifacts = artifacts::Remote {
        client: &client,
        base,
        token,
    };
    for store in &stores {
        let done = artifacts::sync_store(&artifacts, store, progress)
            .await
            .with_context(|| format!("syncing the artifacts of {}", store.project))?;
        report.versions += done.versions;
        report.bytes_uploaded += done.bytes;
    }
    Ok(report)
}

#[derive(Debug, Clone, Copy)]
struct Endpoints<'a> {
    batch: &'a str,
    file: &'a str,
}

async fn sync_run(
    client: &reqwest::Client,
    ends: Endpoints<'_>,
    token: &str,
    r: &LocalRun,
    label: &str,
    progress: &mut dyn Write,
) -> anyhow::Result<u64> {
    let mut probe = Batch {
        project: r.project.clone(),
        run: r.run.clone(),
        ..Batch::default()
    };
    for name in APPEND_FILES {
        probe.append.insert(
            name.into(),
            Append {
                offset: 0,
                data: String::new(),
            },
        );
    }
    let endpoint = ends.batch;
    let mut remote = post(client, endpoint, token, &probe).await?;

    // What to send: each file's complete part (whole lines for *.jsonl) beyond the daemon's length.
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    for name in APPEND_FILES {
        let bytes = match std::fs::read(r.dir.join(name)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {name}")),
        };
        let complete = if is_line_file(name) {
            bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
        } else {
            bytes.len()
        };
        let have = remote.get(name).copied().unwrap_or(0) as usize;
        if have > complete {
            bail!("the daemon has more of {name} ({have} bytes) than this copy ({complete})");
        }
        files.push((name, bytes[..complete].to_vec()));
    }
    // Saved files and media: ask the daemon how much of each it has (an empty chunk at 0).
    let mut uploads: Vec<(String, Vec<u8>, u64)> = Vec::new();
    for rel in upload_files(&r.dir)? {
        let bytes = std::fs::read(r.dir.join(&rel)).with_context(|| format!("reading {rel}"))?;
        let have = post_chunk(client, ends.file, token, r, &rel, 0, &[]).await?;
        if have > bytes.len() as u64 {
            bail!(
                "the daemon has more of {rel} ({have} bytes) than this copy ({})",
                bytes.len()
            );
        }
        uploads.push((rel, bytes, have));
    }
    let total: u64 = files
        .iter()
        .map(|(n, b)| (b.len() as u64).saturating_sub(remote.get(*n).copied().unwrap_or(0)))
        .chain(uploads.iter().map(|(_, b, have)| b.len() as u64 - have))
        .sum();
    let mut sent = 0u64;
    for (name, bytes) in &files {
        loop {
            let at = remote.get(*name).copied().unwrap_or(0) as usize;
            if at >= bytes.len() {
                break;
            }
            let end = chunk_end(bytes, at, is_line_file(name));
            let data = String::from_utf8_lossy(&bytes[at..end]).into_owned();
            let mut batch = Batch {
                project: r.project.clone(),
                run: r.run.clone(),
                ..Batch::default()
            };
            batch.append.insert(
                (*name).into(),
                Append {
                    offset: at as u64,
                    data,
                },
            );
            remote = post(client, endpoint, token, &batch).await?;
            sent += (end - at) as u64;
            draw(progress, label, sent, total);
        }
    }
    for (rel, bytes, mut at) in uploads {
        while (at as usize) < bytes.len() {
            let end = (at as usize + CHUNK_BYTES).min(bytes.len());
            let chunk = &bytes[at as usize..end];
            at = post_chunk(client, ends.file, token, r, &rel, at, chunk).await?;
            sent += chunk.len() as u64;
            draw(progress, label, sent, total);
        }
    }
    // The small files last: run.json says "finished" only once the data is there.
    let mut batch = Batch {
        project: r.project.clone(),
        run: r.run.clone(),
        ..Batch::default()
    };
    for name in [CONFIG_FILE, SUMMARY_FILE, METRICS_FILE, RUN_FILE] {
        let path = r.dir.join(name);
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {name}"))?;
            let value = parse_lenient(&text).with_context(|| format!("{name} is not JSON"))?;
            batch.files.insert(name.into(), value);
        }
    }
    post(client, endpoint, token, &batch).await?;
    draw(progress, label, total, total);
    let _ = writeln!(progress);
    Ok(sent)
}

/// End of a chunk starting at `at`: at most [`CHUNK_BYTES`], cut after a newline for line files.
fn chunk_end(bytes: &[u8], at: usize, lines: bool) -> usize {
    let max = (at + CHUNK_BYTES).min(bytes.len());
    if !lines || max == bytes.len() {
        return max;
    }
    match bytes[at..max].iter().rposition(|&b| b == b'\n') {
        Some(i) => at + i + 1,
        // One line longer than a chunk: send it whole.
        None => bytes[max..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| max + i + 1),
    }
}

/// Posts a batch; answers the daemon's file lengths (also on an offset conflict, to resume from).
async fn post(
    client: &reqwest::Client,
    endpoint: &str,
    token: &str,
    batch: &Batch,
) -> anyhow::Result<BTreeMap<String, u64>> {
    let resp = send_patiently(endpoint, || {
        client.post(endpoint).bearer_auth(token).json(batch)
    })
    .await?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if status.is_success() || status.as_u16() == 409 {
        let lengths = body["lengths"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                    .collect()
            })
            .unwrap_or_default();
        return Ok(lengths);
    }
    let message = body["error"]["message"].as_str().unwrap_or("no details");
    bail!("the daemon refused a batch ({status}): {message}")
}

/// Longest single wait a `Retry-After` can ask of `trackline sync`, and the wait without one.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);
/// How long `trackline sync` keeps waiting out a busy or full daemon before it gives up.
const MAX_WAITING: Duration = Duration::from_secs(600);

/// Sends a request, waiting out the daemon's "not now" answers — `429` (rate limited), `503` (too
/// many connections) and `507` (disk full) — for as long as their `Retry-After` says (1–60 s),
/// up to [`MAX_WAITING`] in all. Nothing is lost meanwhile: the run stays on disk, and offsets make
/// the retried request idempotent.
pub(crate) async fn send_patiently(
    endpoint: &str,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> anyhow::Result<reqwest::Response> {
    let mut waited = Duration::ZERO;
    loop {
        let resp = request()
            .send()
            .await
            .with_context(|| format!("cannot reach {endpoint}"))?;
        let status = resp.status().as_u16();
        if !matches!(status, 429 | 503 | 507) || waited >= MAX_WAITING {
            return Ok(resp);
        }
        let wait = retry_after(resp.headers());
        let why = match status {
            429 => "asks to slow down",
            503 => "is busy",
            _ => "has a full disk",
        };
        tracing::warn!(
            "the daemon {why} ({status}); waiting {} s before retrying",
            wait.as_secs()
        );
        tokio::time::sleep(wait).await;
        waited += wait;
    }
}

/// The `Retry-After` of an answer in whole seconds, held between 1 s and [`MAX_RETRY_AFTER`].
fn retry_after(headers: &reqwest::header::HeaderMap) -> Duration {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_RETRY_AFTER, |secs| {
            Duration::from_secs(secs).clamp(DEFAULT_RETRY_AFTER, MAX_RETRY_AFTER)
        })
}

/// Posts one chunk of an uploaded file; answers the daemon's length of it (also on a conflict).
async fn post_chunk(
    client: &reqwest::Client,
    endpoint: &str,
    token: &str,
    r: &LocalRun,
    rel: &str,
    offset: u64,
    chunk: &[u8],
) -> anyhow::Result<u64> {
    let offset_text = offset.to_string();
    let resp = send_patiently(endpoint, || {
        client
            .post(endpoint)
            .query(&[
                ("project", r.project.as_str()),
                ("run", &r.run),
                ("path", rel),
                ("offset", &offset_text),
            ])
            .bearer_auth(token)
            .body(chunk.to_vec())
    })
    .await?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    match body["length"].as_u64() {
        Some(len) if status.is_success() || status.as_u16() == 409 => Ok(len),
        _ => {
            let message = body["error"]["message"].as_str().unwrap_or("no details");
            bail!("the daemon refused {rel} ({status}): {message}")
        }
    }
}

/// Regular files under the run's `files/` and `media/` folders (relative paths, `/`-separated),
/// skipping hidden entries and symlinks.
fn upload_files(run_dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack: Vec<(PathBuf, String)> = UPLOAD_DIRS
        .iter()
        .map(|root| (run_dir.join(root), (*root).to_owned()))
        .collect();
    while let Some((dir, rel)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.filter_map(|e| e.ok()) {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let Ok(kind) = e.file_type() else { continue };
            if is_hidden(&name) || kind.is_symlink() {
                continue;
            }
            let child = format!("{rel}/{name}");
            if kind.is_dir() {
                stack.push((e.path(), child));
            } else if kind.is_file() {
                out.push(child);
            }
        }
    }
    out.sort();
    Ok(out)
}

pub(crate) fn draw(out: &mut dyn Write, label: &str, done: u64, total: u64) {
    let frac = if total == 0 {
        1.0
    } else {
        done as f64 / total as f64
    };
    let filled = (frac * 30.0).round() as usize;
    let _ = write!(
        out,
        "\r{label} [{}{}] {:>3.0}% {:.1}/{:.1} MB",
        "#".repeat(filled),
        " ".repeat(30 - filled.min(30)),
        frac * 100.0,
        done as f64 / 1e6,
        total as f64 / 1e6
    );
    let _ = out.flush();
}

/// `dir` may be a run folder, a project folder, or a data directory.
fn find_runs(dir: &Path) -> anyhow::Result<Vec<LocalRun>> {
    let run_of = |project: &str, dir: &Path| -> anyhow::Result<Option<LocalRun>> {
        let Some(file) = read_run_file(dir)? else {
            return Ok(None);
        };
        let project = file.project.clone().unwrap_or_else(|| project.to_owned());
        Ok(Some(LocalRun {
            project,
            run: file.id,
            dir: dir.to_owned(),
        }))
    };
    let name = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned()
    };
    let parent_name = dir.parent().map(name).unwrap_or_default();
    if let Some(r) = run_of(&parent_name, dir)? {
        return Ok(vec![r]);
    }
    let mut out = Vec::new();
    for level1 in sorted_subdirs(dir)? {
        if let Some(r) = run_of(&name(dir), &level1)? {
            out.push(r);
            continue;
        }
        for level2 in sorted_subdirs(&level1)? {
            if let Some(r) = run_of(&name(&level1), &level2)? {
                out.push(r);
            }
        }
    }
    Ok(out)
}

fn sorted_subdirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| !is_hidden(p.file_name().and_then(|n| n.to_str()).unwrap_or(".")))
        .collect();
    out.sort();
    Ok(out)
}
