//! Reading a project's artifact store (docs/format.md, "Artifacts"): the names under
//! `<project>/.artifacts/`, each name's live versions and tombstones, its alias log folded (the last
//! line per alias wins, lines naming a missing or deleted version are ignored, torn lines as in
//! `history.jsonl`), `latest` and the automatic `best`, and the resolution of `v<N>|alias|latest`.
//!
//! Everything is opened beneath the data directory ([`crate::format::beneath`]): no symbolic link
//! is followed and only regular files are read, each under a size cap. What was read is cached per
//! name and keyed on the folder's and the alias log's stat, so an unchanged name costs two opens and
//! two `fstat`s per request, and a version file (never changed once written) is parsed once.

use super::files::{
    ALIASES_FILE, ARTIFACTS_DIR, AliasLine, VersionFile, VersionFileName, parse_version_file_name,
};
use crate::format::FormatError;
use crate::format::beneath::{Dir, HeldDir, report_refusal};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use trackline_shared::artifacts::{
    AliasTarget, ArtifactCollection, ArtifactFile, ArtifactVersionInfo, BEST, LATEST,
    VersionMetric, check_alias, check_entry_path, check_name, parse_version_ref,
};

/// Largest version file read; a larger one is reported and left out.
pub const MAX_VERSION_FILE_BYTES: u64 = 64 << 20;
/// Bytes of an alias log read, from its end (older lines beyond are not seen).
pub const MAX_ALIAS_LOG_BYTES: u64 = 16 << 20;

/// What identifies one state of a folder or file: it changes whenever an entry is added, renamed
/// or removed (a folder) or a line is appended (a file).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Stamp {
    mtime_ns: i128,
    ctime_ns: i128,
    size: u64,
    inode: u64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Stamp {
                mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
                ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
                size: meta.len(),
                inode: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128);
            Stamp {
                mtime_ns,
                ctime_ns: 0,
                size: meta.len(),
                inode: 0,
            }
        }
    }
}

/// One artifact name, read: its live versions, the numbers of deleted ones, and its aliases.
#[derive(Debug, Clone, Default)]
pub struct Artifact {
    pub name: String,
    /// Live versions by number.
    pub versions: BTreeMap<u64, Arc<VersionFile>>,
    /// Numbers of deleted versions (tombstones).
    pub deleted: BTreeSet<u64>,
    /// The user aliases after the fold: alias → live version.
    pub user_aliases: BTreeMap<String, u64>,
    /// Whether any line of the alias log ever named `best` (then it is never automatic).
    pub best_is_user_set: bool,
}

impl Artifact {
    /// The `latest` version's number: the largest live one.
    pub fn latest(&self) -> Option<u64> {
        self.versions.keys().next_back().copied()
    }

    /// The version `best` names: the user's, or the automatic one while no line named it.
    pub fn best(&self) -> Option<u64> {
        if self.best_is_user_set {
            self.user_aliases.get(BEST).copied()
        } else {
            automatic_best(&self.versions)
        }
    }

    /// Every alias with its version (`latest`, user aliases, the automatic `best`), by name.
    pub fn aliases(&self) -> BTreeMap<String, u64> {
        let mut out = self.user_aliases.clone();
        if let Some(latest) = self.latest() {
            out.insert(LATEST.to_string(), latest);
        }
        if let Some(best) = self.best() {
            out.insert(BEST.to_string(), best);
        }
        out
    }

    /// The version a reference names: `v<N>` (live), `latest`, or an alias.
    pub fn resolve(&self, reference: &str) -> Option<u64> {
        if let Some(n) = parse_version_ref(reference) {
            return self.versions.contains_key(&n).then_some(n);
        }
        self.aliases().get(reference).copied()
    }

    /// The version of number `n` as lists show it.
    pub fn info(&self, n: u64) -> Option<ArtifactVersionInfo> {
        let file = self.versions.get(&n)?;
        let aliases = self
            .aliases()
            .into_iter()
            .filter(|(_, v)| *v == n)
            .map(|(alias, _)| alias)
            .collect();
        Some(version_info(file, aliases))
    }

    /// The collection row of this name; `None` when it has no live version.
    pub fn collection(&self) -> Option<ArtifactCollection> {
        let latest = self.latest()?;
        let newest = &self.versions[&latest];
        let aliases = self
            .aliases()
            .into_iter()
            .map(|(alias, version)| AliasTarget { alias, version })
            .collect();
        Some(ArtifactCollection {
            name: self.name.clone(),
            kind: newest.kind.clone(),
            version_count: self.versions.len() as u64,
            latest,
            aliases,
            size: newest.size,
            updated_at: self
                .versions
                .values()
                .map(|v| v.created_at)
                .fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

/// A version file as lists show it, with the aliases naming it.
pub fn version_info(file: &VersionFile, mut aliases: Vec<String>) -> ArtifactVersionInfo {
    aliases.sort();
    ArtifactVersionInfo {
        name: file.name.clone(),
        version: file.version,
        kind: file.kind.clone(),
        digest: file.digest.clone(),
        size: file.size,
        file_count: file.file_count,
        created_at: file.created_at,
        run: file.run.clone(),
        step: file.step,
        metrics: file
            .metrics
            .iter()
            .map(|m| {
                (
                    m.name.clone(),
                    VersionMetric {
                        value: m.value,
                        goal: m.goal.clone(),
                    },
                )
            })
            .collect(),
        aliases,
        description: file.description.clone(),
    }
}

/// The files of a version, in path order (reference entries included, with their URI).
pub fn version_files(file: &VersionFile) -> Vec<ArtifactFile> {
    file.manifest
        .contents
        .iter()
        .map(|(path, entry)| ArtifactFile {
            path: path.clone(),
            digest: entry.digest.clone(),
            size: entry.size,
            reference: entry.reference.clone(),
        })
        .collect()
}

/// The automatic `best`: among live versions of type `model` whose first metric has the same name
/// and goal as the newest such version's, the one whose value is best by that goal; ties go to the
/// newer. `None` without such a version with a finite value.
pub fn automatic_best(versions: &BTreeMap<u64, Arc<VersionFile>>) -> Option<u64> {
    let models = || versions.iter().rev().filter(|(_, v)| v.kind == "model");
    let decider = models().find_map(|(_, v)| v.metrics.first())?;
    let maximize = match decider.goal.as_str() {
        "maximize" => true,
        "minimize" => false,
        _ => return None,
    };
    let mut best: Option<(u64, f64)> = None;
    // Newest first: a later candidate replaces the held one only when strictly better.
    for (n, v) in models() {
        let Some(first) = v.metrics.first() else {
            continue;
        };
        if first.name != decider.name || first.goal != decider.goal {
            continue;
        }
        let Some(value) = first.value.filter(|x| x.is_finite()) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((_, held)) if maximize => value > held,
            Some((_, held)) => value < held,
        };
        if better {
            best = Some((*n, value));
        }
    }
    best.map(|(n, _)| n)
}

/// Folds alias lines (oldest first) over the live versions: the last line per alias that names a
/// live version or removes it wins. Answers the aliases and whether any line named `best`.
pub fn fold_aliases(
    lines: &[AliasLine],
    live: &BTreeMap<u64, Arc<VersionFile>>,
) -> (BTreeMap<String, u64>, bool) {
    let mut last: HashMap<&str, Option<u64>> = HashMap::new();
    let mut best_named = false;
    for line in lines {
        if check_alias(&line.alias).is_err() {
            continue;
        }
        best_named |= line.alias == BEST;
        match line.version {
            Some(n) if !live.contains_key(&n) => {}
            target => {
                last.insert(&line.alias, target);
            }
        }
    }
    let aliases = last
        .into_iter()
        .filter_map(|(alias, v)| Some((alias.to_string(), v?)))
        .collect();
    (aliases, best_named)
}

/// Parses the committed lines of an alias log (the bytes up to its last `\n`); a torn line keeps
/// the whole object at its end, as `history.jsonl` does; anything else unparsable is skipped.
pub fn parse_alias_lines(bytes: &[u8]) -> Vec<AliasLine> {
    let committed = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(end) => &bytes[..end],
        None => return Vec::new(),
    };
    committed
        .split(|&b| b == b'\n')
        .filter_map(parse_json_line::<AliasLine>)
        .collect()
}

/// One JSON line as `T`; a torn line yields the object that starts at a later `{` and runs to its
/// end ([`crate::format::line::torn_suffix`]).
pub fn parse_json_line<T: serde::de::DeserializeOwned>(line: &[u8]) -> Option<T> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return None;
    }
    if let Ok(value) = serde_json::from_slice(line) {
        return Some(value);
    }
    let start = crate::format::line::torn_suffix(line)?;
    serde_json::from_slice(&line[start..]).ok()
}

/// The cached reading of one name.
#[derive(Debug)]
struct CachedName {
    dir: Stamp,
    log: Option<Stamp>,
    artifact: Arc<Artifact>,
    /// The alias log's lines as last read.
    lines: Arc<Vec<AliasLine>>,
    /// Versions, manifest entries and alias lines held: what the cache's bound counts.
    weight: usize,
    /// When it was last read (the cache's clock), to drop the least recently read first.
    used: u64,
}

/// Versions, manifest entries and alias lines the name cache holds at most (~100 bytes and more
/// each); past it the least recently read names are dropped and read again from their files
/// when asked for.
pub const MAX_CACHED_ENTRIES: usize = 1_000_000;

/// The cached readings of names, bounded by [`MAX_CACHED_ENTRIES`].
#[derive(Debug, Default)]
struct NameCache {
    names: HashMap<(String, String), CachedName>,
    weight: usize,
    clock: u64,
}

impl NameCache {
    fn get(&mut self, key: &(String, String)) -> Option<&CachedName> {
        self.clock += 1;
        let clock = self.clock;
        let cached = self.names.get_mut(key)?;
        cached.used = clock;
        Some(cached)
    }

    fn remove(&mut self, key: &(String, String)) {
        if let Some(old) = self.names.remove(key) {
            self.weight -= old.weight;
        }
    }

    fn insert(&mut self, key: (String, String), mut cached: CachedName, limit: usize) {
        self.remove(&key);
        self.clock += 1;
        cached.used = self.clock;
        self.weight += cached.weight;
        self.names.insert(key.clone(), cached);
        while self.weight > limit && self.names.len() > 1 {
            let Some(oldest) = self
                .names
                .iter()
                .filter(|(k, _)| **k != key)
                .min_by_key(|(_, c)| c.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.remove(&oldest);
        }
    }
}

/// The cached listing of one project's `.artifacts/` folder.
#[derive(Debug)]
struct CachedProject {
    dir: Stamp,
    names: Vec<String>,
}

/// A data directory's artifact stores, read through a cache.
#[derive(Debug)]
pub struct ArtifactStore {
    root: HeldDir,
    projects: Mutex<HashMap<String, CachedProject>>,
    names: Mutex<NameCache>,
    /// [`MAX_CACHED_ENTRIES`] but in tests.
    cache_limit: usize,
}

impl ArtifactStore {
    pub fn new(data_dir: PathBuf) -> ArtifactStore {
        ArtifactStore {
            root: HeldDir::new(data_dir),
            projects: Mutex::new(HashMap::new()),
            names: Mutex::new(NameCache::default()),
            cache_limit: MAX_CACHED_ENTRIES,
        }
    }

    /// The one store of `data_dir` in this process (its cache shared by every request).
    pub fn shared(data_dir: &Path) -> Arc<ArtifactStore> {
        static STORES: std::sync::OnceLock<Mutex<HashMap<PathBuf, Arc<ArtifactStore>>>> =
            std::sync::OnceLock::new();
        STORES
            .get_or_init(Default::default)
            .lock()
            .entry(data_dir.to_owned())
            .or_insert_with(|| Arc::new(ArtifactStore::new(data_dir.to_owned())))
            .clone()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.root.path()
    }

    /// The data directory held open.
    pub fn root(&self) -> Result<&Dir, FormatError> {
        self.root.get()
    }

    /// The artifact names of `project` (real folders with a valid name), sorted.
    pub fn names(&self, project: &str) -> Result<Vec<String>, FormatError> {
        if !crate::format::valid_project_name(project) {
            return Ok(Vec::new());
        }
        let Some(dir) = open_dir(self.root()?, &format!("{project}/{ARTIFACTS_DIR}"))? else {
            self.projects.lock().remove(project);
            return Ok(Vec::new());
        };
        let stamp = dir_stamp(&dir)?;
        if let Some(cached) = self.projects.lock().get(project)
            && cached.dir == stamp
        {
            return Ok(cached.names.clone());
        }
        let mut names: Vec<String> = list_dir(&dir)?
            .into_iter()
            .filter(|(name, kind)| *kind == EntryKind::Dir && check_name(name).is_ok())
            .map(|(name, _)| name)
            .collect();
        names.sort();
        self.projects.lock().insert(
            project.to_string(),
            CachedProject {
                dir: stamp,
                names: names.clone(),
            },
        );
        Ok(names)
    }

    /// Artifact `name` of `project`; `Ok(None)` when there is no such folder.
    pub fn artifact(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<Arc<Artifact>>, FormatError> {
        if !crate::format::valid_project_name(project) || check_name(name).is_err() {
            return Ok(None);
        }
        let key = (project.to_string(), name.to_string());
        let Some(dir) = open_dir(self.root()?, &format!("{project}/{ARTIFACTS_DIR}/{name}"))?
        else {
            self.names.lock().remove(&key);
            return Ok(None);
        };
        let dir_stamp = dir_stamp(&dir)?;
        let log_stamp = file_stamp(&dir, ALIASES_FILE)?;
        let previous = self
            .names
            .lock()
            .get(&key)
            .map(|c| (c.dir, c.log, c.artifact.clone(), c.lines.clone()));
        if let Some((d, l, artifact, _)) = &previous
            && *d == dir_stamp
            && *l == log_stamp
        {
            return Ok(Some(artifact.clone()));
        }
        let (versions, deleted) = match &previous {
            Some((d, _, artifact, _)) if *d == dir_stamp => {
                (artifact.versions.clone(), artifact.deleted.clone())
            }
            _ => read_versions(&dir, name, previous.as_ref().map(|p| &p.2.versions))?,
        };
        let lines = match &previous {
            Some((_, l, _, lines)) if *l == log_stamp => lines.clone(),
            _ => Arc::new(read_alias_log(&dir)?),
        };
        let (user_aliases, best_is_user_set) = fold_aliases(&lines, &versions);
        let artifact = Arc::new(Artifact {
            name: name.to_string(),
            versions,
            deleted,
            user_aliases,
            best_is_user_set,
        });
        let weight = artifact.versions.len()
            + artifact
                .versions
                .values()
                .map(|v| v.manifest.contents.len())
                .sum::<usize>()
            + lines.len();
        self.names.lock().insert(
            key,
            CachedName {
                dir: dir_stamp,
                log: log_stamp,
                artifact: artifact.clone(),
                lines,
                weight,
                used: 0,
            },
            self.cache_limit,
        );
        Ok(Some(artifact))
    }

    /// Every artifact name of `project` with a live version, newest first.
    pub fn collections(&self, project: &str) -> Result<Vec<ArtifactCollection>, FormatError> {
        let mut out = Vec::new();
        for name in self.names(project)? {
            if let Some(row) = self.artifact(project, &name)?.and_then(|a| a.collection()) {
                out.push(row);
            }
        }
        out.sort_by(|a, b| {
            b.updated_at
                .total_cmp(&a.updated_at)
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(out)
    }

    /// What identifies the present state of `project`'s artifacts (the stats the cache is keyed
    /// on): it changes when a version, a tombstone, a name or an alias line appears.
    pub fn project_stamp(
        &self,
        project: &str,
    ) -> Result<Vec<(String, Stamp, Option<Stamp>)>, FormatError> {
        let mut out = Vec::new();
        if !crate::format::valid_project_name(project) {
            return Ok(out);
        }
        let Some(dir) = open_dir(self.root()?, &format!("{project}/{ARTIFACTS_DIR}"))? else {
            return Ok(out);
        };
        out.push((String::new(), dir_stamp(&dir)?, None));
        for name in self.names(project)? {
            if let Some(sub) = open_dir(&dir, &name)? {
                out.push((name, dir_stamp(&sub)?, file_stamp(&sub, ALIASES_FILE)?));
            }
        }
        Ok(out)
    }
}

/// Opens folder `rel` beneath `dir`; a link or a non-folder on the way is reported and missing.
fn open_dir(dir: &Dir, rel: &str) -> Result<Option<Dir>, FormatError> {
    missing_if_refused(dir.open_dir(rel))
}

/// Opens the regular file `rel` beneath `dir` to read; a link, pipe or device is reported and
/// missing.
pub fn open_file(dir: &Dir, rel: &str) -> Result<Option<std::fs::File>, FormatError> {
    missing_if_refused(dir.open_read(rel))
}

/// An open refused because of what was found (a link, a pipe, a device) is reported once and
/// counts as nothing there.
fn missing_if_refused<T>(opened: Result<Option<T>, FormatError>) -> Result<Option<T>, FormatError> {
    match opened {
        Ok(found) => Ok(found),
        Err(e @ FormatError::NotRegular { .. }) => {
            report_refusal(&e);
            Ok(None)
        }
        Err(FormatError::Refused(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn dir_stamp(dir: &Dir) -> Result<Stamp, FormatError> {
    let handle = dir.open_to_sync()?;
    let meta = handle
        .metadata()
        .map_err(|e| FormatError::io(dir.path(), e))?;
    Ok(Stamp::of(&meta))
}

fn file_stamp(dir: &Dir, name: &str) -> Result<Option<Stamp>, FormatError> {
    match dir.stat(name) {
        Ok(meta) => Ok(meta.as_ref().map(Stamp::of)),
        Err(e @ FormatError::NotRegular { .. }) => {
            report_refusal(&e);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum EntryKind {
    Dir,
    File,
    Other,
}

/// The entries of an open folder, read from its handle (no path is resolved again).
#[cfg(unix)]
fn list_dir(dir: &Dir) -> Result<Vec<(String, EntryKind)>, FormatError> {
    use rustix::fs::FileType;
    let handle = dir.open_to_sync()?;
    let io = |e: rustix::io::Errno| FormatError::io(dir.path(), std::io::Error::from(e));
    let mut out = Vec::new();
    for entry in rustix::fs::Dir::read_from(&handle).map_err(io)? {
        let entry = entry.map_err(io)?;
        let Ok(name) = entry.file_name().to_str() else {
            continue;
        };
        if name == "." || name == ".." {
            continue;
        }
        let kind = match entry.file_type() {
            FileType::Directory => EntryKind::Dir,
            FileType::RegularFile => EntryKind::File,
            // A file system that does not say: the open beneath decides later.
            FileType::Unknown => EntryKind::File,
            _ => EntryKind::Other,
        };
        out.push((name.to_string(), kind));
    }
    Ok(out)
}

#[cfg(not(unix))]
fn list_dir(dir: &Dir) -> Result<Vec<(String, EntryKind)>, FormatError> {
    let entries = std::fs::read_dir(dir.path()).map_err(|e| FormatError::io(dir.path(), e))?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let kind = match e.file_type().ok()? {
                t if t.is_dir() => EntryKind::Dir,
                t if t.is_file() => EntryKind::File,
                _ => EntryKind::Other,
            };
            Some((e.file_name().into_string().ok()?, kind))
        })
        .collect())
}

type Versions = (BTreeMap<u64, Arc<VersionFile>>, BTreeSet<u64>);

/// Reads the version files of artifact `name` in `dir`, reusing `known` ones (a version file is
/// never changed once written): live versions and the numbers of tombstones.
fn read_versions(
    dir: &Dir,
    name: &str,
    known: Option<&BTreeMap<u64, Arc<VersionFile>>>,
) -> Result<Versions, FormatError> {
    let mut live = BTreeMap::new();
    let mut deleted = BTreeSet::new();
    for (file_name, kind) in list_dir(dir)? {
        if kind == EntryKind::Dir {
            continue;
        }
        match parse_version_file_name(&file_name) {
            Some(VersionFileName::Deleted(n)) => {
                deleted.insert(n);
            }
            Some(VersionFileName::Live(n)) => {
                if let Some(file) = known.and_then(|k| k.get(&n)) {
                    live.insert(n, file.clone());
                } else if let Some(file) = read_version_file(dir, &file_name, name, n)? {
                    live.insert(n, Arc::new(file));
                }
            }
            None => {}
        }
    }
    // A version renamed to its tombstone between the listing's entries is deleted.
    live.retain(|n, _| !deleted.contains(n));
    Ok((live, deleted))
}

/// One version file, checked: within the size cap, of format 1, naming this artifact and number,
/// every path inside it a safe one. Anything else is logged and left out (`Ok(None)`).
fn read_version_file(
    dir: &Dir,
    file_name: &str,
    name: &str,
    n: u64,
) -> Result<Option<VersionFile>, FormatError> {
    let Some(file) = open_file(dir, file_name)? else {
        return Ok(None);
    };
    let path = dir.path().join(file_name);
    let mut bytes = Vec::new();
    file.take(MAX_VERSION_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FormatError::io(&path, e))?;
    if bytes.len() as u64 > MAX_VERSION_FILE_BYTES {
        tracing::warn!(path = %path.display(), "artifact version file over {MAX_VERSION_FILE_BYTES} bytes: left out");
        return Ok(None);
    }
    let mut version: VersionFile = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(path = %path.display(), "artifact version file unreadable, left out: {e}");
            return Ok(None);
        }
    };
    if version.format != super::files::VERSION_FILE_FORMAT
        || version.version != n
        || version.name != name
    {
        tracing::warn!(path = %path.display(), "artifact version file of another format, name or number: left out");
        return Ok(None);
    }
    let before = version.manifest.contents.len();
    version
        .manifest
        .contents
        .retain(|entry_path, _| check_entry_path(entry_path).is_ok());
    if version.manifest.contents.len() != before {
        tracing::warn!(path = %path.display(), "artifact version names unsafe paths: those entries are left out");
    }
    Ok(Some(version))
}

/// The committed lines of `aliases.jsonl` in `dir`, at most [`MAX_ALIAS_LOG_BYTES`] from its end.
fn read_alias_log(dir: &Dir) -> Result<Vec<AliasLine>, FormatError> {
    let Some(mut file) = open_file(dir, ALIASES_FILE)? else {
        return Ok(Vec::new());
    };
    let path = dir.path().join(ALIASES_FILE);
    let io = |e| FormatError::io(&path, e);
    let len = file.metadata().map_err(io)?.len();
    let start = len.saturating_sub(MAX_ALIAS_LOG_BYTES);
    file.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_ALIAS_LOG_BYTES)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if start > 0 {
        // The first line was cut by the cap: it starts after the first newline.
        let cut = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        bytes.drain(..cut);
    }
    Ok(parse_alias_lines(&bytes))
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    use crate::artifacts::files::{Manifest, ManifestEntry, MetricAtLog};

    /// Version `n` of artifact `name` with one file and, optionally, a first goal metric.
    pub fn version(
        name: &str,
        n: u64,
        kind: &str,
        metric: Option<(&str, Option<f64>, &str)>,
    ) -> VersionFile {
        let mut contents = BTreeMap::new();
        contents.insert(
            "a.txt".to_string(),
            ManifestEntry {
                digest: format!("{n:064x}"),
                size: Some(1),
                reference: None,
                extra: None,
            },
        );
        VersionFile {
            format: 1,
            name: name.into(),
            version: n,
            kind: kind.into(),
            description: None,
            metadata: Default::default(),
            digest: format!("d{n}"),
            size: 1,
            file_count: 1,
            created_at: 1000.0 + n as f64,
            run: None,
            step: None,
            metrics: metric
                .map(|(name, value, goal)| MetricAtLog {
                    name: name.into(),
                    value,
                    goal: goal.into(),
                })
                .into_iter()
                .collect(),
            ttl_secs: None,
            linked_from: None,
            manifest: Manifest {
                version: 1,
                storage_policy: "trackline-cas-v1".into(),
                storage_policy_config: Default::default(),
                contents,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::version;
    use super::*;

    fn live(ns: &[u64]) -> BTreeMap<u64, Arc<VersionFile>> {
        ns.iter()
            .map(|&n| (n, Arc::new(version("m", n, "model", None))))
            .collect()
    }

    fn line(alias: &str, version: Option<u64>) -> AliasLine {
        AliasLine {
            alias: alias.into(),
            version,
            at: 0.0,
        }
    }

    #[test]
    fn the_last_line_per_alias_wins_and_lines_naming_gone_versions_are_ignored() {
        let versions = live(&[0, 1, 3]);
        let lines = [
            line("prod", Some(0)),
            line("prod", Some(1)),
            line("prod", Some(2)), // v2 is deleted: ignored, prod stays at v1
            line("staging", Some(3)),
            line("staging", None),
            line("old", Some(9)),    // never existed
            line("latest", Some(0)), // reserved: not a user alias
            line("v1", Some(0)),
        ];
        let (aliases, best) = fold_aliases(&lines, &versions);
        assert_eq!(
            aliases.into_iter().collect::<Vec<_>>(),
            [("prod".to_string(), 1)]
        );
        assert!(!best);
        let (aliases, best) = fold_aliases(&[line("best", Some(1)), line("best", None)], &versions);
        assert!(aliases.is_empty());
        assert!(best, "a removed best is still the user's");
    }

    #[test]
    fn torn_and_unfinished_alias_lines() {
        let text = b"{\"alias\":\"a\",\"version\":1,\"at\":1}\n{\"alias\":\"b\",\"ver{\"alias\":\"c\",\"version\":2,\"at\":2}\nnot json\n{\"alias\":\"d\",\"version\":3,\"at\":3}";
        let lines = parse_alias_lines(text);
        let names: Vec<&str> = lines.iter().map(|l| l.alias.as_str()).collect();
        assert_eq!(
            names,
            ["a", "c"],
            "the torn line keeps its tail; the unfinished one waits"
        );
    }

    #[test]
    fn automatic_best_follows_the_goal_and_prefers_the_newer_on_ties() {
        let mk = |items: &[(u64, &str, Option<f64>, &str)]| -> BTreeMap<u64, Arc<VersionFile>> {
            items
                .iter()
                .map(|&(n, kind, value, goal)| {
                    (
                        n,
                        Arc::new(version("m", n, kind, Some(("val/loss", value, goal)))),
                    )
                })
                .collect()
        };
        let v = mk(&[
            (0, "model", Some(0.5), "minimize"),
            (1, "model", Some(0.2), "minimize"),
            (2, "model", Some(0.3), "minimize"),
        ]);
        assert_eq!(automatic_best(&v), Some(1));
        let v = mk(&[
            (0, "model", Some(0.5), "maximize"),
            (1, "model", Some(0.9), "maximize"),
            (2, "model", Some(0.9), "maximize"),
        ]);
        assert_eq!(automatic_best(&v), Some(2), "a tie goes to the newer");
        let v = mk(&[
            (0, "model", Some(0.1), "minimize"),
            (1, "model", None, "minimize"),
            (2, "dataset", Some(0.0), "minimize"),
        ]);
        assert_eq!(
            automatic_best(&v),
            Some(0),
            "no value and not a model are not candidates"
        );
        let v = mk(&[(0, "dataset", Some(0.1), "minimize")]);
        assert_eq!(automatic_best(&v), None);
        assert_eq!(
            automatic_best(&live(&[0, 1])),
            None,
            "no goal metric, no best"
        );
    }

    #[test]
    fn references_resolve_to_live_versions() {
        let mut versions = live(&[0, 1, 2]);
        versions.insert(
            1,
            Arc::new(version(
                "m",
                1,
                "model",
                Some(("acc", Some(0.9), "maximize")),
            )),
        );
        versions.insert(
            2,
            Arc::new(version(
                "m",
                2,
                "model",
                Some(("acc", Some(0.5), "maximize")),
            )),
        );
        let (user_aliases, best_is_user_set) = fold_aliases(&[line("prod", Some(0))], &versions);
        let mut artifact = Artifact {
            name: "m".into(),
            versions,
            deleted: [3].into(),
            user_aliases,
            best_is_user_set,
        };
        assert_eq!(artifact.resolve("latest"), Some(2));
        assert_eq!(artifact.resolve("v0"), Some(0));
        assert_eq!(artifact.resolve("v3"), None, "deleted");
        assert_eq!(artifact.resolve("v9"), None);
        assert_eq!(artifact.resolve("prod"), Some(0));
        assert_eq!(artifact.resolve("best"), Some(1));
        assert_eq!(artifact.resolve("nope"), None);
        assert_eq!(artifact.info(1).unwrap().aliases, ["best"]);
        assert_eq!(artifact.info(2).unwrap().aliases, ["latest"]);
        // Once the user sets best, it is theirs.
        let (user_aliases, set) = fold_aliases(&[line("best", Some(2))], &artifact.versions);
        artifact.user_aliases = user_aliases;
        artifact.best_is_user_set = set;
        assert_eq!(artifact.resolve("best"), Some(2));
        let c = artifact.collection().unwrap();
        assert_eq!(c.latest, 2);
        assert_eq!(c.version_count, 3);
    }

    #[test]
    fn the_store_reads_folders_and_caches_until_they_change() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("p/.artifacts/m");
        std::fs::create_dir_all(&dir).unwrap();
        let write = |n: u64| {
            std::fs::write(
                dir.join(format!("v{n}.json")),
                serde_json::to_vec(&version("m", n, "model", None)).unwrap(),
            )
            .unwrap()
        };
        write(0);
        write(1);
        std::fs::write(dir.join("v2.deleted.json"), b"{}").unwrap();
        std::fs::write(dir.join(".tmp-x"), b"half").unwrap();
        std::fs::create_dir_all(root.path().join("p/.artifacts/bad name")).unwrap();
        let store = ArtifactStore::new(root.path().to_owned());
        assert_eq!(store.names("p").unwrap(), ["m"]);
        let a = store.artifact("p", "m").unwrap().unwrap();
        assert_eq!(a.versions.keys().copied().collect::<Vec<_>>(), [0, 1]);
        assert_eq!(a.deleted, [2].into());
        let again = store.artifact("p", "m").unwrap().unwrap();
        assert!(
            Arc::ptr_eq(&a, &again),
            "an unchanged name is served from the cache"
        );
        std::fs::write(
            dir.join("aliases.jsonl"),
            b"{\"alias\":\"prod\",\"version\":0,\"at\":1}\n",
        )
        .unwrap();
        let b = store.artifact("p", "m").unwrap().unwrap();
        assert_eq!(b.user_aliases.get("prod"), Some(&0));
        assert!(Arc::ptr_eq(&a.versions[&0], &b.versions[&0]));
        write(3);
        let c = store.artifact("p", "m").unwrap().unwrap();
        assert_eq!(c.latest(), Some(3));
        assert!(store.artifact("p", "nope").unwrap().is_none());
        assert!(store.artifact("p", "..").unwrap().is_none());
        assert!(store.artifact("../x", "m").unwrap().is_none());
    }

    #[test]
    fn the_name_cache_is_bounded_and_drops_the_least_recently_read_name() {
        let root = tempfile::tempdir().unwrap();
        for name in ["a", "b", "c"] {
            let dir = root.path().join(format!("p/.artifacts/{name}"));
            std::fs::create_dir_all(&dir).unwrap();
            for n in 0..2 {
                std::fs::write(
                    dir.join(format!("v{n}.json")),
                    serde_json::to_vec(&version(name, n, "model", None)).unwrap(),
                )
                .unwrap();
            }
        }
        let mut store = ArtifactStore::new(root.path().to_owned());
        let weight = |store: &ArtifactStore| store.names.lock().weight;
        let one = {
            let a = store.artifact("p", "a").unwrap().unwrap();
            weight(&store).max(a.versions.len())
        };
        store.cache_limit = 2 * one;
        store.names.lock().remove(&("p".into(), "a".into()));
        let a = store.artifact("p", "a").unwrap().unwrap();
        let b = store.artifact("p", "b").unwrap().unwrap();
        assert!(Arc::ptr_eq(&a, &store.artifact("p", "a").unwrap().unwrap()));
        // "b" is now the least recently read: reading "c" drops it, not "a".
        store.artifact("p", "c").unwrap().unwrap();
        assert!(weight(&store) <= 2 * one);
        assert!(Arc::ptr_eq(&a, &store.artifact("p", "a").unwrap().unwrap()));
        let b_again = store.artifact("p", "b").unwrap().unwrap();
        assert!(!Arc::ptr_eq(&b, &b_again), "b was dropped and read again");
        assert_eq!(b_again.versions.len(), 2);
    }

    #[test]
    fn linked_folders_and_version_files_are_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(outside.path().join("m")).unwrap();
        std::fs::write(
            outside.path().join("m/v0.json"),
            serde_json::to_vec(&version("m", 0, "model", None)).unwrap(),
        )
        .unwrap();
        std::fs::create_dir_all(root.path().join("p")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("p/.artifacts")).unwrap();
        let store = ArtifactStore::new(root.path().to_owned());
        assert!(store.names("p").unwrap().is_empty());
        assert!(store.artifact("p", "m").unwrap().is_none());
        std::fs::remove_file(root.path().join("p/.artifacts")).unwrap();
        std::fs::create_dir_all(root.path().join("p/.artifacts/m")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("m/v0.json"),
            root.path().join("p/.artifacts/m/v0.json"),
        )
        .unwrap();
        let a = store.artifact("p", "m").unwrap().unwrap();
        assert!(a.versions.is_empty(), "a linked version file is left out");
    }
}
