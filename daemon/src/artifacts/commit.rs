//! Commits an artifact version exactly as docs/format.md ("Artifacts") says a writer does: checks
//! the name, type, aliases and paths, requires every stored (non-reference) file's blob, reuses a
//! live version of equal content, else numbers a new `v<N>.json` by hard-linking a fsynced temp file
//! (a taken number moves on to the next), and appends the alias moves. Every file is opened beneath
//! the data directory's handle; a commit answered is durable.

use super::files::{
    ALIASES_FILE, ARTIFACTS_DIR, AliasLine, Manifest, ManifestEntry, MetricAtLog, STORAGE_POLICY,
    VERSION_FILE_FORMAT, VersionFile, VersionFileName, manifest_digest, parse_version_file_name,
    tombstone_file_name, version_file_name,
};
use crate::blobs::local::temp_name;
use crate::blobs::{BlobError, BlobHash, BlobStore};
use crate::format::beneath::Dir;
use crate::format::{FormatError, valid_project_name, valid_run_id};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use trackline_shared::artifacts::{
    BEST, LATEST, LinkedFrom, check_alias, check_entry_path, check_name, check_type,
};

/// A version to commit: the body of `POST /api/ingest/v1/artifacts` (docs/api.md).
#[derive(Deserialize, Debug, Clone)]
pub struct CommitRequest {
    pub project: String,
    #[serde(default)]
    pub run: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub manifest: ManifestChanges,
    #[serde(default)]
    pub step: Option<u64>,
    #[serde(default)]
    pub metrics: Vec<MetricAtLog>,
    #[serde(default)]
    pub ttl_secs: Option<f64>,
    #[serde(default)]
    pub linked_from: Option<LinkedFrom>,
    /// The manifest holds only changes to the latest version's (`null` removes a path).
    #[serde(default)]
    pub incremental: bool,
}

/// A manifest as a client sends it (W&B's shape; only `contents` is read). An entry is `null`
/// only in an incremental commit: that path is removed.
#[derive(Deserialize, Debug, Clone, Default)]
pub struct ManifestChanges {
    #[serde(default)]
    pub contents: BTreeMap<String, Option<ManifestEntry>>,
}

/// The answer of a commit.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub name: String,
    pub version: u64,
    pub digest: String,
    /// An equal live version existed; no new one was made.
    pub reused: bool,
}

/// Why a commit made nothing.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("{0}")]
    Invalid(String),
    #[error("{} file(s) of the version are not in the blob store", .0.len())]
    BlobsMissing(Vec<BlobHash>),
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

/// One artifact name's folder as it stands: its live versions in number order, the largest
/// number ever taken (live or deleted), and its alias moves.
#[derive(Debug, Default)]
pub struct NameFolder {
    pub live: Vec<VersionFile>,
    pub max_number: Option<u64>,
    pub tombstones: Vec<u64>,
}

/// Tries at most this many numbers before giving up on a folder that keeps being written.
const MAX_NUMBER_TRIES: u64 = 100_000;

/// Commits `request` beneath the data directory `root`, with blobs in `blobs`, at `now` (Unix
/// seconds). Commits of one name in this process take turns, so equal content committed twice at
/// once makes one version; other writers (other processes) are kept apart by the hard link.
pub fn commit(
    root: &Dir,
    blobs: &dyn BlobStore,
    request: CommitRequest,
    now: f64,
) -> Result<Committed, CommitError> {
    let aliases = check_request(&request)?;
    let project = request.project.clone();
    let _turn = turn_of(&request.project, &request.name).lock();
    let folder_rel = format!("{}/{ARTIFACTS_DIR}/{}", request.project, request.name);
    let dir = root.create_dirs(&folder_rel)?;
    let folder = read_folder(&dir)?;
    let latest = folder.live.last();
    if let Some(latest) = latest
        && latest.kind != request.kind
    {
        return Err(CommitError::Invalid(format!(
            "artifact '{}' has type '{}', not '{}'",
            request.name, latest.kind, request.kind
        )));
    }
    let contents = resolve_contents(&request, latest)?;
    check_blobs(blobs, &contents)?;
    let digest = manifest_digest(&contents);
    if let Some(same) = folder.live.iter().rev().find(|v| v.digest == digest) {
        let version = same.version;
        // Aliases already there are not written again (a retried or repeated sync).
        let (current, _) = read_aliases(&dir, &folder.live)?;
        let moved: Vec<String> = aliases
            .into_iter()
            .filter(|a| current.get(a) != Some(&version))
            .collect();
        append_aliases(&dir, &moved, version, now)?;
        sync_dir(&dir)?;
        return Ok(Committed {
            name: request.name,
            version,
            digest,
            reused: true,
        });
    }
    let first = folder.max_number.map_or(0, |n| n + 1);
    let mut file = VersionFile {
        format: VERSION_FILE_FORMAT,
        name: request.name.clone(),
        version: first,
        kind: request.kind,
        description: request.description,
        metadata: request.metadata.unwrap_or_default(),
        digest: digest.clone(),
        size: contents.values().filter_map(|e| e.size).sum(),
        file_count: contents.len() as u64,
        created_at: now,
        run: request.run,
        step: request.step,
        metrics: request.metrics,
        ttl_secs: request.ttl_secs,
        linked_from: request.linked_from,
        manifest: Manifest {
            version: 1,
            storage_policy: STORAGE_POLICY.into(),
            storage_policy_config: [("digestAlgo".to_string(), Value::from("sha256"))]
                .into_iter()
                .collect(),
            contents,
        },
    };
    let version = link_version(&dir, first, |n| {
        file.version = n;
        let mut bytes = serde_json::to_vec(&file).expect("a version file serializes");
        bytes.push(b'\n');
        bytes
    })?;
    append_aliases(&dir, &aliases, version, now)?;
    sync_dir(&dir)?;
    if folder.max_number.is_none() {
        // A new name: its folder (and maybe `.artifacts/`) must survive a crash too.
        sync_parents(root, &project)?;
    }
    Ok(Committed {
        name: file.name,
        version,
        digest,
        reused: false,
    })
}

/// Checks everything a client names; answers the aliases to move (`latest` is automatic and
/// dropped).
fn check_request(request: &CommitRequest) -> Result<Vec<String>, CommitError> {
    let invalid = |e: trackline_shared::artifacts::NameError| CommitError::Invalid(e.0);
    if !valid_project_name(&request.project) {
        return Err(CommitError::Invalid(format!(
            "'{}' is not a project name",
            request.project.chars().take(140).collect::<String>()
        )));
    }
    if let Some(run) = &request.run
        && !valid_run_id(run)
    {
        return Err(CommitError::Invalid(format!("'{run}' is not a run id")));
    }
    check_name(&request.name).map_err(invalid)?;
    check_type(&request.kind).map_err(invalid)?;
    let mut aliases = Vec::new();
    for alias in &request.aliases {
        if alias == LATEST {
            continue;
        }
        check_alias(alias).map_err(invalid)?;
        if !aliases.contains(alias) {
            aliases.push(alias.clone());
        }
    }
    for metric in &request.metrics {
        if metric.goal != "minimize" && metric.goal != "maximize" {
            return Err(CommitError::Invalid(format!(
                "metric '{}' has goal '{}' (want minimize or maximize)",
                metric.name, metric.goal
            )));
        }
    }
    if let Some(ttl) = request.ttl_secs
        && !(ttl.is_finite() && ttl >= 0.0)
    {
        return Err(CommitError::Invalid(
            "ttl_secs must be a number of seconds".into(),
        ));
    }
    for (path, entry) in &request.manifest.contents {
        check_entry_path(path).map_err(invalid)?;
        match entry {
            None if !request.incremental => {
                return Err(CommitError::Invalid(format!(
                    "'{path}' has no entry (null removes a path only in an incremental commit)"
                )));
            }
            None => {}
            Some(entry) => check_entry(path, entry)?,
        }
    }
    Ok(aliases)
}

/// A stored entry names a blob by its SHA-256 and has a size; a reference has a URI this
/// format allows.
fn check_entry(path: &str, entry: &ManifestEntry) -> Result<(), CommitError> {
    match &entry.reference {
        Some(uri) => {
            let scheme_ok = ["file://", "http://", "https://"]
                .iter()
                .any(|s| uri.starts_with(s));
            if !scheme_ok || entry.digest.is_empty() {
                return Err(CommitError::Invalid(format!(
                    "'{path}': a reference needs a file://, http:// or https:// URI and a digest"
                )));
            }
        }
        None => {
            let hash_ok = entry.digest.len() == 64
                && entry
                    .digest
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hash_ok || entry.size.is_none() {
                return Err(CommitError::Invalid(format!(
                    "'{path}': a stored file needs its SHA-256 (64 lowercase hex digits) and size"
                )));
            }
        }
    }
    Ok(())
}

/// The version's contents: the request's, or for an incremental commit the latest version's
/// with the request's changes applied.
fn resolve_contents(
    request: &CommitRequest,
    latest: Option<&VersionFile>,
) -> Result<BTreeMap<String, ManifestEntry>, CommitError> {
    let mut contents = match (request.incremental, latest) {
        (true, Some(latest)) => latest.manifest.contents.clone(),
        _ => BTreeMap::new(),
    };
    for (path, entry) in &request.manifest.contents {
        match entry {
            Some(entry) => {
                contents.insert(path.clone(), entry.clone());
            }
            None => {
                contents.remove(path);
            }
        }
    }
    Ok(contents)
}

/// Every stored entry's blob must exist before the version does.
fn check_blobs(
    blobs: &dyn BlobStore,
    contents: &BTreeMap<String, ManifestEntry>,
) -> Result<(), CommitError> {
    let mut hashes = Vec::new();
    for entry in contents.values().filter(|e| e.reference.is_none()) {
        hashes.push(BlobHash::parse(&entry.digest)?);
    }
    let missing = blobs.missing(&hashes)?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CommitError::BlobsMissing(missing))
    }
}

/// Writes the bytes `bytes_for(n)` to a fresh fsynced temp file and hard-links it to
/// `v<n>.json` from `n = first` on: a number that is taken (a live file, or a deleted version's
/// tombstone) moves on to the next. Answers the number it got; the temp file is removed.
pub fn link_version(
    dir: &Dir,
    first: u64,
    mut bytes_for: impl FnMut(u64) -> Vec<u8>,
) -> Result<u64, CommitError> {
    let mut n = first;
    while n < first + MAX_NUMBER_TRIES {
        if dir.stat(&tombstone_file_name(n))?.is_some() {
            n += 1;
            continue;
        }
        let tmp = temp_name();
        let tmp_path = dir.path().join(&tmp);
        let written = dir.create_new(&tmp).and_then(|mut f| {
            let io = |e| FormatError::io(&tmp_path, e);
            f.write_all(&bytes_for(n)).map_err(io)?;
            f.sync_all().map_err(io)
        });
        let linked = written.and_then(|()| dir.link_into(&tmp, dir, &version_file_name(n)));
        let _ = dir.remove_file(&tmp);
        match linked {
            Ok(()) => return Ok(n),
            Err(FormatError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                n += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(CommitError::Invalid(format!(
        "no free version number in {} after {MAX_NUMBER_TRIES} tries",
        dir.path().display()
    )))
}

/// Appends one line per alias to `aliases.jsonl` (one `write` each, `O_APPEND`), pointing it at
/// `version` (`None` removes it), and fsyncs the file.
pub fn append_aliases(
    dir: &Dir,
    aliases: &[String],
    version: impl Into<Option<u64>>,
    now: f64,
) -> Result<(), FormatError> {
    if aliases.is_empty() {
        return Ok(());
    }
    let version = version.into();
    let path = dir.path().join(ALIASES_FILE);
    let io = |e| FormatError::io(&path, e);
    let mut file = dir.open_append(ALIASES_FILE, false)?;
    for alias in aliases {
        let line = AliasLine {
            alias: alias.clone(),
            version,
            at: now,
        };
        let mut bytes = serde_json::to_vec(&line).expect("an alias line serializes");
        bytes.push(b'\n');
        file.write_all(&bytes).map_err(io)?;
    }
    file.sync_data().map_err(io)
}

/// Reads an artifact name's folder: live versions (unreadable ones are reported and skipped),
/// tombstones, and the largest number taken.
pub fn read_folder(dir: &Dir) -> Result<NameFolder, FormatError> {
    let mut folder = NameFolder::default();
    for name in list_names(dir)? {
        let Some(kind) = parse_version_file_name(&name) else {
            continue;
        };
        let n = match kind {
            VersionFileName::Live(n) | VersionFileName::Deleted(n) => n,
        };
        folder.max_number = folder.max_number.max(Some(n));
        match kind {
            VersionFileName::Deleted(n) => folder.tombstones.push(n),
            VersionFileName::Live(n) => match read_version(dir, &name) {
                Ok(Some(v)) if v.version == n => folder.live.push(v),
                Ok(Some(_)) => tracing::warn!(
                    "{}: its \"version\" is not {n}; skipped",
                    dir.path().join(&name).display()
                ),
                Ok(None) => {}
                Err(e) => tracing::warn!("skipped: {e}"),
            },
        }
    }
    folder.live.sort_by_key(|v| v.version);
    folder.tombstones.sort_unstable();
    Ok(folder)
}

fn read_version(dir: &Dir, name: &str) -> Result<Option<VersionFile>, FormatError> {
    let Some(bytes) = dir.read(name)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| FormatError::Invalid {
            path: dir.path().join(name),
            message: format!("not a version file: {e}"),
        })
}

/// The user aliases of a name's folder that point at a live version now: the last line for an
/// alias wins, and a line naming a version that is not live is ignored (docs/format.md). Also
/// answers whether any line ever named `best` (then there is no automatic one).
pub fn read_aliases(
    dir: &Dir,
    live: &[VersionFile],
) -> Result<(BTreeMap<String, u64>, bool), FormatError> {
    let mut out = BTreeMap::new();
    let mut best_named = false;
    let Some(bytes) = dir.read(ALIASES_FILE)? else {
        return Ok((out, best_named));
    };
    let is_live = |n: u64| live.iter().any(|v| v.version == n);
    // Only whole lines: a torn last line is a writer still writing (or killed).
    let whole = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(&bytes[..0], |i| &bytes[..=i]);
    for line in whole.split(|&b| b == b'\n') {
        let Ok(line) = serde_json::from_slice::<AliasLine>(line) else {
            continue;
        };
        best_named |= line.alias == BEST;
        match line.version {
            Some(n) if is_live(n) => {
                out.insert(line.alias, n);
            }
            Some(_) => {}
            None => {
                out.remove(&line.alias);
            }
        }
    }
    Ok((out, best_named))
}

/// The names in a folder held as a [`Dir`] (read from its handle, so nothing is resolved again).
pub fn list_names(dir: &Dir) -> Result<Vec<String>, FormatError> {
    let handle = dir.open_to_sync()?;
    let mut out = Vec::new();
    #[cfg(unix)]
    {
        let io = |e: rustix::io::Errno| FormatError::io(dir.path(), e.into());
        for entry in rustix::fs::Dir::read_from(&handle).map_err(io)? {
            let entry = entry.map_err(io)?;
            if let Ok(name) = entry.file_name().to_str()
                && name != "."
                && name != ".."
            {
                out.push(name.to_owned());
            }
        }
    }
    #[cfg(not(unix))]
    {
        drop(handle);
        let entries = std::fs::read_dir(dir.path()).map_err(|e| FormatError::io(dir.path(), e))?;
        for entry in entries.flatten() {
            if let Ok(name) = entry.file_name().into_string() {
                out.push(name);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// fsyncs a folder so the names made in it survive a crash.
pub fn sync_dir(dir: &Dir) -> Result<(), FormatError> {
    dir.open_to_sync()?
        .sync_all()
        .map_err(|e| FormatError::io(dir.path(), e))
}

/// fsyncs `<project>/.artifacts/`, `<project>/` and the data directory, after a name's folder
/// was made.
fn sync_parents(root: &Dir, project: &str) -> Result<(), FormatError> {
    if let Some(artifacts) = root.open_dir(&format!("{project}/{ARTIFACTS_DIR}"))? {
        sync_dir(&artifacts)?;
    }
    if let Some(project_dir) = root.open_dir(project)? {
        sync_dir(&project_dir)?;
    }
    sync_dir(root)
}

/// The lock that gives commits of one (project, name) turns within this process.
fn turn_of(project: &str, name: &str) -> &'static parking_lot::Mutex<()> {
    use std::hash::{Hash, Hasher};
    const STRIPES: usize = 64;
    static TURNS: [parking_lot::Mutex<()>; STRIPES] =
        [const { parking_lot::Mutex::new(()) }; STRIPES];
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (project, name).hash(&mut hasher);
    &TURNS[(hasher.finish() % STRIPES as u64) as usize]
}

/// Unix seconds now.
pub fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobs::local::LocalBlobs;

    fn setup() -> (tempfile::TempDir, Dir, LocalBlobs) {
        let data = tempfile::tempdir().unwrap();
        let root = Dir::open_root(data.path()).unwrap();
        let blobs = LocalBlobs::in_data_dir(data.path());
        (data, root, blobs)
    }

    fn stored(blobs: &LocalBlobs, bytes: &[u8]) -> ManifestEntry {
        ManifestEntry {
            digest: blobs.put(bytes).unwrap().to_string(),
            size: Some(bytes.len() as u64),
            reference: None,
            extra: None,
        }
    }

    fn request(contents: Vec<(&str, Option<ManifestEntry>)>) -> CommitRequest {
        CommitRequest {
            project: "p".into(),
            run: Some("r1".into()),
            name: "model-r1".into(),
            kind: "model".into(),
            description: None,
            metadata: None,
            aliases: vec!["best".into(), "latest".into()],
            manifest: ManifestChanges {
                contents: contents
                    .into_iter()
                    .map(|(p, e)| (p.to_string(), e))
                    .collect(),
            },
            step: Some(10),
            metrics: vec![],
            ttl_secs: None,
            linked_from: None,
            incremental: false,
        }
    }

    #[test]
    fn versions_are_numbered_reused_and_aliased() {
        let (data, root, blobs) = setup();
        let a = stored(&blobs, b"weights a");
        let first = commit(
            &root,
            &blobs,
            request(vec![("w.bin", Some(a.clone()))]),
            5.0,
        )
        .unwrap();
        assert_eq!((first.version, first.reused), (0, false));
        let folder = data.path().join("p/.artifacts/model-r1");
        let written: VersionFile =
            serde_json::from_slice(&std::fs::read(folder.join("v0.json")).unwrap()).unwrap();
        assert_eq!(written.digest, first.digest);
        assert_eq!((written.size, written.file_count), (9, 1));
        assert_eq!(written.manifest.storage_policy, STORAGE_POLICY);
        assert_eq!(written.run.as_deref(), Some("r1"));
        // Equal content: the same version, aliases moved to it.
        let again = commit(
            &root,
            &blobs,
            request(vec![("w.bin", Some(a.clone()))]),
            6.0,
        )
        .unwrap();
        assert_eq!((again.version, again.reused), (0, true));
        let b = stored(&blobs, b"weights b");
        let second = commit(&root, &blobs, request(vec![("w.bin", Some(b))]), 7.0).unwrap();
        assert_eq!(second.version, 1);
        let dir = root.open_dir("p/.artifacts/model-r1").unwrap().unwrap();
        let folder_read = read_folder(&dir).unwrap();
        assert_eq!(read_aliases(&dir, &folder_read.live).unwrap().0["best"], 1);
        let log = std::fs::read_to_string(folder.join(ALIASES_FILE)).unwrap();
        // best (v0), best again at reuse: not written twice; best (v1).
        assert_eq!(log.lines().count(), 2, "{log}");
        assert!(!log.contains("latest"));
        // A deleted version's number is never reused.
        std::fs::rename(folder.join("v1.json"), folder.join("v1.deleted.json")).unwrap();
        let c = stored(&blobs, b"weights c");
        let third = commit(&root, &blobs, request(vec![("w.bin", Some(c))]), 8.0).unwrap();
        assert_eq!(third.version, 2);
        let names = list_names(&dir).unwrap();
        assert!(names.iter().all(|n| !n.starts_with(".tmp-")), "{names:?}");
    }

    #[test]
    fn incremental_changes_apply_to_the_latest() {
        let (_data, root, blobs) = setup();
        let (a, b, c) = (
            stored(&blobs, b"a"),
            stored(&blobs, b"b"),
            stored(&blobs, b"c"),
        );
        commit(
            &root,
            &blobs,
            request(vec![("a", Some(a.clone())), ("b", Some(b))]),
            1.0,
        )
        .unwrap();
        let mut changes = request(vec![("b", None), ("c", Some(c.clone()))]);
        changes.incremental = true;
        let next = commit(&root, &blobs, changes, 2.0).unwrap();
        let dir = root.open_dir("p/.artifacts/model-r1").unwrap().unwrap();
        let latest = read_folder(&dir).unwrap().live.pop().unwrap();
        assert_eq!(latest.version, next.version);
        let paths: Vec<&String> = latest.manifest.contents.keys().collect();
        assert_eq!(paths, ["a", "c"]);
        // A null entry outside an incremental commit is refused.
        let bad = request(vec![("a", None)]);
        assert!(matches!(
            commit(&root, &blobs, bad, 3.0),
            Err(CommitError::Invalid(_))
        ));
    }

    #[test]
    fn missing_blobs_and_bad_names_make_nothing() {
        let (data, root, blobs) = setup();
        let absent = BlobHash::of(b"never uploaded");
        let entry = ManifestEntry {
            digest: absent.to_string(),
            size: Some(14),
            reference: None,
            extra: None,
        };
        let reference = ManifestEntry {
            digest: "https://example.com/x".into(),
            size: None,
            reference: Some("https://example.com/x".into()),
            extra: None,
        };
        match commit(
            &root,
            &blobs,
            request(vec![("x", Some(entry)), ("r", Some(reference))]),
            1.0,
        ) {
            Err(CommitError::BlobsMissing(missing)) => assert_eq!(missing, vec![absent]),
            other => panic!("{other:?}"),
        }
        let folder = data.path().join("p/.artifacts/model-r1");
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
        for (name, kind, path) in [
            ("a/b", "model", "x"),
            ("ok", "a:b", "x"),
            ("ok", "model", "../x"),
        ] {
            let mut r = request(vec![(path, Some(stored(&blobs, b"x")))]);
            r.name = name.into();
            r.kind = kind.into();
            assert!(
                matches!(commit(&root, &blobs, r, 1.0), Err(CommitError::Invalid(_))),
                "{name} {kind} {path}"
            );
        }
        let mut other_type = request(vec![("x", Some(stored(&blobs, b"x")))]);
        commit(&root, &blobs, other_type.clone(), 1.0).unwrap();
        other_type.kind = "dataset".into();
        assert!(matches!(
            commit(&root, &blobs, other_type, 1.0),
            Err(CommitError::Invalid(_))
        ));
    }

    #[test]
    fn a_taken_number_moves_on() {
        let (data, root, _blobs) = setup();
        let dir = root.create_dirs("p/.artifacts/n").unwrap();
        std::fs::write(data.path().join("p/.artifacts/n/v3.json"), "{}").unwrap();
        std::fs::write(data.path().join("p/.artifacts/n/v4.deleted.json"), "{}").unwrap();
        let got = link_version(&dir, 3, |n| format!("{n}").into_bytes()).unwrap();
        assert_eq!(got, 5);
        assert_eq!(
            std::fs::read_to_string(data.path().join("p/.artifacts/n/v5.json")).unwrap(),
            "5"
        );
        assert_eq!(
            list_names(&dir).unwrap(),
            ["v3.json", "v4.deleted.json", "v5.json"]
        );
    }
}
