//! `trackline sync`'s artifacts: each project's live versions, in number order, carried to the
//! daemon through the artifact ingest routes (docs/api.md): the blobs it lacks uploaded in
//! resumable chunks (one chunk in memory at a time), then the version committed with the aliases
//! that point at it. A version whose content the daemon has is found there (`reused`), so syncing
//! again commits nothing new.

use super::{draw, send_patiently};
use crate::artifacts::commit::{list_names, read_aliases, read_folder};
use crate::artifacts::files::{ARTIFACTS_DIR, LineageLine, RUN_ARTIFACTS_FILE, VersionFile};
use crate::blobs::local::LocalBlobs;
use crate::blobs::{BlobHash, BlobStore};
use crate::format::beneath::Dir;
use crate::format::{RUN_FILE, is_hidden};
use anyhow::{Context, bail};
use serde_json::json;
use std::collections::{BTreeSet, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Bytes of a blob per upload request (the daemon's limit).
const BLOB_CHUNK_BYTES: usize = 8 << 20;
/// Hashes per `blobs/missing` question (the daemon's limit).
const MISSING_BATCH: usize = 10_000;

/// One project's artifact store to carry.
#[derive(Debug, Clone)]
pub struct Store {
    pub project: String,
    project_dir: PathBuf,
    data_dir: PathBuf,
    /// Only these (name, digest) versions: those a synced run folder logged or used.
    only: Option<HashSet<(String, String)>>,
}

/// The daemon to carry them to.
#[derive(Debug, Clone, Copy)]
pub struct Remote<'a> {
    pub client: &'a reqwest::Client,
    pub base: &'a str,
    pub token: &'a str,
}

/// What one store's sync did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Done {
    pub versions: usize,
    pub bytes: u64,
}

/// The artifact stores under `dir`, which may be a data directory (every project's), a project
/// folder (its own) or a run folder (the versions its `artifacts.jsonl` names in its project).
pub fn find_stores(dir: &Path) -> anyhow::Result<Vec<Store>> {
    let folder_name = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_owned);
    if dir.join(RUN_FILE).is_file() {
        let (Some(project_dir), Some(data_dir)) =
            (dir.parent(), dir.parent().and_then(Path::parent))
        else {
            return Ok(Vec::new());
        };
        let Some(project) = folder_name(project_dir) else {
            return Ok(Vec::new());
        };
        let only = lineage_of(dir, &project)?;
        if only.is_empty() {
            return Ok(Vec::new());
        }
        return Ok(vec![Store {
            project,
            project_dir: project_dir.to_owned(),
            data_dir: data_dir.to_owned(),
            only: Some(only),
        }]);
    }
    if dir.join(ARTIFACTS_DIR).is_dir() {
        let (Some(project), Some(data_dir)) = (folder_name(dir), dir.parent()) else {
            return Ok(Vec::new());
        };
        return Ok(vec![Store {
            project,
            project_dir: dir.to_owned(),
            data_dir: data_dir.to_owned(),
            only: None,
        }]);
    }
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut projects: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    projects.sort();
    for project_dir in projects {
        let Some(project) = folder_name(&project_dir) else {
            continue;
        };
        if is_hidden(&project) || !project_dir.join(ARTIFACTS_DIR).is_dir() {
            continue;
        }
        out.push(Store {
            project,
            project_dir,
            data_dir: dir.to_owned(),
            only: None,
        });
    }
    Ok(out)
}

/// The (name, digest) of each version of `project` a run's lineage file names.
fn lineage_of(run_dir: &Path, project: &str) -> anyhow::Result<HashSet<(String, String)>> {
    let text = match std::fs::read_to_string(run_dir.join(RUN_ARTIFACTS_FILE)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(e).context("reading the run's artifacts.jsonl"),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<LineageLine>(line).ok())
        .filter(|line| line.project == project)
        .map(|line| (line.name, line.digest))
        .collect())
}

/// Carries one store's live versions, name by name, each in number order.
pub async fn sync_store(
    remote: &Remote<'_>,
    store: &Store,
    progress: &mut dyn Write,
) -> anyhow::Result<Done> {
    let mut done = Done::default();
    let root = Dir::open_root(&store.project_dir)?;
    let Some(artifacts) = root.open_dir(ARTIFACTS_DIR)? else {
        return Ok(done);
    };
    let blobs = LocalBlobs::in_data_dir(&store.data_dir);
    for name in list_names(&artifacts)? {
        if is_hidden(&name) {
            continue;
        }
        let Ok(Some(dir)) = artifacts.open_dir(&name) else {
            continue;
        };
        let folder = read_folder(&dir)?;
        let (aliases, _) = read_aliases(&dir, &folder.live)?;
        for version in &folder.live {
            let wanted = store
                .only
                .as_ref()
                .is_none_or(|only| only.contains(&(name.clone(), version.digest.clone())));
            if !wanted {
                continue;
            }
            let label = format!("{}/{}:v{}", store.project, name, version.version);
            done.bytes += upload_blobs(remote, &blobs, version, &label, progress).await?;
            let pointing: Vec<&String> = aliases
                .iter()
                .filter(|(_, n)| **n == version.version)
                .map(|(alias, _)| alias)
                .collect();
            commit(remote, &store.project, version, &pointing).await?;
            let _ = writeln!(progress);
            done.versions += 1;
        }
    }
    Ok(done)
}

/// Uploads the blobs of `version` the daemon lacks; answers the bytes sent.
async fn upload_blobs(
    remote: &Remote<'_>,
    blobs: &LocalBlobs,
    version: &VersionFile,
    label: &str,
    progress: &mut dyn Write,
) -> anyhow::Result<u64> {
    let hashes: BTreeSet<BlobHash> = version
        .manifest
        .contents
        .values()
        .filter(|e| e.reference.is_none())
        .map(|e| BlobHash::parse(&e.digest))
        .collect::<Result<_, _>>()?;
    let hashes: Vec<BlobHash> = hashes.into_iter().collect();
    let mut missing = Vec::new();
    for batch in hashes.chunks(MISSING_BATCH) {
        missing.extend(ask_missing(remote, batch).await?);
    }
    let mut files = Vec::new();
    for hash in missing {
        let file = blobs
            .open(&hash)?
            .with_context(|| format!("blob {hash} of {label} is not in the local store"))?;
        let size = file.metadata()?.len();
        files.push((hash, file, size));
    }
    let total: u64 = files.iter().map(|(_, _, size)| size).sum();
    let mut sent = 0u64;
    draw(progress, label, sent, total);
    let mut buf = vec![0u8; BLOB_CHUNK_BYTES];
    for (hash, mut file, size) in files {
        let (mut at, mut complete) = post_chunk(remote, &hash, size, 0, &[]).await?;
        let mut stalls = 0;
        while !complete {
            file.seek(SeekFrom::Start(at))?;
            let want = (size - at).min(BLOB_CHUNK_BYTES as u64) as usize;
            file.read_exact(&mut buf[..want])
                .with_context(|| format!("reading blob {hash}"))?;
            let (length, whole) = post_chunk(remote, &hash, size, at, &buf[..want]).await?;
            if length <= at && !whole {
                stalls += 1;
                if stalls > 3 {
                    bail!("the daemon keeps answering length {length} for blob {hash}");
                }
            } else {
                sent += length.saturating_sub(at);
            }
            (at, complete) = (length, whole);
            draw(progress, label, sent, total);
        }
    }
    draw(progress, label, total, total);
    Ok(sent)
}

/// POSTs `body` as JSON to `endpoint` with the write token, patiently (see [`send_patiently`]).
async fn post_json(
    remote: &Remote<'_>,
    endpoint: &str,
    body: &serde_json::Value,
) -> anyhow::Result<reqwest::Response> {
    send_patiently(endpoint, || {
        remote
            .client
            .post(endpoint)
            .bearer_auth(remote.token)
            .json(body)
    })
    .await
}

async fn ask_missing(remote: &Remote<'_>, hashes: &[BlobHash]) -> anyhow::Result<Vec<BlobHash>> {
    let endpoint = format!("{}/api/ingest/v1/blobs/missing", remote.base);
    let body = json!({ "hashes": hashes.iter().map(BlobHash::as_str).collect::<Vec<_>>() });
    let resp = post_json(remote, &endpoint, &body).await?;
    let status = resp.status();
    let answer: serde_json::Value = resp.json().await.unwrap_or_default();
    let Some(missing) = answer["missing"].as_array().filter(|_| status.is_success()) else {
        let message = answer["error"]["message"].as_str().unwrap_or("no details");
        bail!("the daemon refused a blob query ({status}): {message}");
    };
    missing
        .iter()
        .map(|h| Ok(BlobHash::parse(h.as_str().unwrap_or_default())?))
        .collect()
}

/// Posts one chunk of a blob; answers the daemon's length of it and whether it is stored whole
/// (also on an offset conflict, to resume from).
async fn post_chunk(
    remote: &Remote<'_>,
    hash: &BlobHash,
    size: u64,
    offset: u64,
    chunk: &[u8],
) -> anyhow::Result<(u64, bool)> {
    let endpoint = format!("{}/api/ingest/v1/blob", remote.base);
    let (size_text, offset_text) = (size.to_string(), offset.to_string());
    let resp = send_patiently(&endpoint, || {
        remote
            .client
            .post(&endpoint)
            .query(&[
                ("hash", hash.as_str()),
                ("size", &size_text),
                ("offset", &offset_text),
            ])
            .bearer_auth(remote.token)
            .body(chunk.to_vec())
    })
    .await?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    match body["length"].as_u64() {
        Some(length) if status.is_success() || status.as_u16() == 409 => {
            Ok((length, body["complete"].as_bool().unwrap_or(false)))
        }
        _ => {
            let message = body["error"]["message"].as_str().unwrap_or("no details");
            bail!("the daemon refused blob {hash} ({status}): {message}")
        }
    }
}

/// Commits `version` (its content, metadata and the producing run's figures) with `aliases`.
async fn commit(
    remote: &Remote<'_>,
    project: &str,
    version: &VersionFile,
    aliases: &[&String],
) -> anyhow::Result<()> {
    let endpoint = format!("{}/api/ingest/v1/artifacts", remote.base);
    let body = json!({
        "project": project,
        "run": version.run,
        "name": version.name,
        "type": version.kind,
        "description": version.description,
        "metadata": version.metadata,
        "aliases": aliases,
        "manifest": {"contents": version.manifest.contents},
        "step": version.step,
        "metrics": version.metrics,
        "ttl_secs": version.ttl_secs,
        "linked_from": version.linked_from,
        "incremental": false,
    });
    let resp = post_json(remote, &endpoint, &body).await?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let answer: serde_json::Value = resp.json().await.unwrap_or_default();
    let message = answer["error"]["message"].as_str().unwrap_or("no details");
    bail!(
        "the daemon refused {}:v{} ({status}): {message}",
        version.name,
        version.version
    )
}
