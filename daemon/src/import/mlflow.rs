//! `trackline import mlflow PATH…`: MLflow runs into runs of format v1, one per MLflow run, from
//! its file store (`mlruns/`, read by `mlflow_files.rs`) or its SQLite store (`mlflow.db`, read
//! by `mlflow_sqlite.rs`); both are read into one [`MlRun`], which `mlflow_convert.rs` writes.
//! Its fingerprint is the SHA-256 of what was read (and of each artifact's path, size and
//! modification time), so importing again skips unchanged runs and replaces changed ones.

use super::mlflow_files::MetaKind;
use super::wandb_log::Skipped;
use super::{Converted, Labelled, Outcome, Source, Totals, import_each, import_source};
use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One MLflow run as read from either store.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MlRun {
    pub run_id: String,
    pub experiment_id: String,
    pub experiment_name: String,
    /// The run's own name field (`run_name` in `meta.yaml`, `runs.name`); the `mlflow.runName`
    /// tag wins over it.
    pub run_name: Option<String>,
    pub user: Option<String>,
    /// `RUNNING`, `SCHEDULED`, `FINISHED`, `FAILED` or `KILLED`.
    pub status: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// The run (or its experiment) is deleted (`lifecycle_stage: deleted`).
    pub deleted: bool,
    pub artifact_uri: Option<String>,
    /// Params and tags as MLflow stored them, by key.
    pub params: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    /// Metric keys; points name them by index.
    pub keys: Vec<String>,
    /// Every metric point, in the order it was logged (as far as the store tells).
    pub points: Vec<Point>,
    /// The local folder holding the run's artifacts, if there is one.
    pub artifacts: Option<PathBuf>,
    /// Damaged parts of the source that were skipped.
    pub skipped: Vec<Skipped>,
}

/// One logged metric value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub key: u32,
    pub step: i64,
    pub timestamp_ms: i64,
    pub value: f64,
}

impl MlRun {
    /// The index of metric `key`, added if new.
    pub fn key_index(&mut self, key: &str) -> u32 {
        match self.keys.iter().position(|k| k == key) {
            Some(i) => i as u32,
            None => {
                self.keys.push(key.to_string());
                (self.keys.len() - 1) as u32
            }
        }
    }

    /// The value of tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// SHA-256 (hex) of everything read, and a size: the run's bytes as read plus its artifacts'.
    fn fingerprint(&self) -> anyhow::Result<(u64, String)> {
        let mut h = Sha256::new();
        let mut size = 0u64;
        let text = |h: &mut Sha256, s: &str| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        text(&mut h, "trackline-mlflow-v1");
        for s in [
            &self.run_id,
            &self.experiment_id,
            &self.experiment_name,
            &self.status,
        ] {
            text(&mut h, s);
        }
        for s in [&self.run_name, &self.user, &self.artifact_uri] {
            text(&mut h, s.as_deref().unwrap_or("\0none"));
        }
        for t in [self.start_ms, self.end_ms] {
            h.update(t.map_or(i64::MIN, |t| t).to_le_bytes());
        }
        h.update([u8::from(self.deleted)]);
        for list in [&self.params, &self.tags] {
            h.update((list.len() as u64).to_le_bytes());
            for (k, v) in list {
                text(&mut h, k);
                text(&mut h, v);
            }
        }
        h.update((self.keys.len() as u64).to_le_bytes());
        for k in &self.keys {
            text(&mut h, k);
        }
        for p in &self.points {
            h.update(p.key.to_le_bytes());
            h.update(p.step.to_le_bytes());
            h.update(p.timestamp_ms.to_le_bytes());
            h.update(p.value.to_bits().to_le_bytes());
        }
        size += self.points.len() as u64 * 28
            + (self.params.iter().chain(&self.tags))
                .map(|(k, v)| (k.len() + v.len()) as u64)
                .sum::<u64>();
        if let Some(dir) = &self.artifacts {
            for file in artifact_files(dir)? {
                let meta = std::fs::metadata(&file.path)
                    .with_context(|| format!("reading {}", file.path.display()))?;
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                text(&mut h, &file.rel);
                h.update(meta.len().to_le_bytes());
                h.update(mtime.to_le_bytes());
                size += meta.len();
            }
        }
        let hex = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok((size, hex))
    }
}

/// A regular file under an artifact folder and its `/`-separated path in it.
pub struct ArtifactFile {
    pub path: PathBuf,
    pub rel: String,
}

/// The regular files under `dir`, sorted by path; links are not followed.
pub fn artifact_files(dir: &Path) -> anyhow::Result<Vec<ArtifactFile>> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, rel)) = stack.pop() {
        let entries =
            std::fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))?;
        for entry in entries {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let inner = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push((entry.path(), inner));
            } else if kind.is_file() {
                out.push(ArtifactFile {
                    path: entry.path(),
                    rel: inner,
                });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// The local folder an artifact URI names, if it is one and exists: `file://[localhost]/path`
/// (percent-decoded), an absolute path, `mlflow-artifacts:/path` (a local `mlflow server`'s
/// default `./mlartifacts/path`) or a relative path, the last two taken from `base` (the folder
/// of the store). Remote stores (`s3://`, `gs://`, `dbfs:/`, …) are not read.
pub fn local_artifacts(uri: &str, base: &Path) -> Option<PathBuf> {
    let decode = |p: &str| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    };
    let path = if let Some(rest) = uri.strip_prefix("file://") {
        let rest = rest.strip_prefix("localhost").unwrap_or(rest);
        if !rest.starts_with('/') {
            return None;
        }
        PathBuf::from(decode(rest))
    } else if let Some(rest) = uri.strip_prefix("file:") {
        PathBuf::from(decode(rest))
    } else if let Some(rest) = uri.strip_prefix("mlflow-artifacts:") {
        let rest = rest.trim_start_matches('/');
        // `mlflow-artifacts://host:port/path` names a server: its path starts after the host.
        let rest = if uri.starts_with("mlflow-artifacts://") {
            rest.split_once('/').map_or("", |(_, p)| p)
        } else {
            rest
        };
        base.join("mlartifacts").join(decode(rest))
    } else if uri.contains("://") || uri.starts_with("dbfs:") {
        return None;
    } else {
        base.join(uri)
    };
    path.is_dir().then_some(path)
}

/// An experiment of a file store.
#[derive(Debug)]
pub struct Experiment {
    pub dir: PathBuf,
    /// `(id, name, deleted)`, or why its `meta.yaml` could not be read.
    pub meta: Result<(String, String, bool), String>,
}

/// One run to import.
pub enum RunSource {
    /// A run folder of a file store, in its experiment.
    Folder {
        dir: PathBuf,
        experiment: Arc<Experiment>,
    },
    /// A run of a SQLite store.
    Database { db: Arc<PathBuf>, run_id: String },
}

impl Labelled for RunSource {
    fn label(&self) -> String {
        match self {
            RunSource::Folder { dir, .. } => dir.display().to_string(),
            RunSource::Database { db, run_id } => format!("{} run {run_id}", db.display()),
        }
    }
}

impl RunSource {
    fn read(&self) -> anyhow::Result<MlRun> {
        match self {
            RunSource::Folder { dir, experiment } => super::mlflow_files::read_run(dir, experiment),
            RunSource::Database { db, run_id } => super::mlflow_sqlite::read_run(db, run_id),
        }
    }

    fn path(&self) -> &Path {
        match self {
            RunSource::Folder { dir, .. } => dir,
            RunSource::Database { db, .. } => db,
        }
    }
}

/// Imports every MLflow run found under `paths` into `data_dir`.
pub fn import(paths: &[PathBuf], data_dir: &Path, project: Option<&str>) -> anyhow::Result<Totals> {
    let mut runs = Vec::new();
    for path in paths {
        find_runs(path, &mut runs)
            .with_context(|| format!("looking for MLflow runs in {}", path.display()))?;
    }
    if runs.is_empty() {
        bail!("no MLflow runs found (an mlruns/ folder with <experiment>/meta.yaml, or mlflow.db)");
    }
    Ok(import_each("import mlflow", &runs, |run| {
        import_run(run, data_dir, project)
    }))
}

fn import_run(
    source: &RunSource,
    data_dir: &Path,
    project: Option<&str>,
) -> anyhow::Result<Outcome> {
    let run = source.read()?;
    if run.deleted {
        return Ok(Outcome::Skipped(format!(
            "run {} is deleted in MLflow",
            run.run_id
        )));
    }
    if !crate::format::valid_run_id(&run.run_id) {
        bail!("MLflow run id '{}' cannot name a run folder", run.run_id);
    }
    let (size, sha256) = run.fingerprint()?;
    let project = project.map_or_else(|| project_name(&run.experiment_name), str::to_string);
    let src = Source {
        path: source.path(),
        size,
        sha256,
        run_id: Some(&run.run_id),
        tracker: "MLflow",
    };
    import_source(data_dir, src, |staging| {
        let c = super::mlflow_convert::convert(&run, &project, staging)?;
        Ok(Converted {
            project: project.clone(),
            run_id: run.run_id.clone(),
            rows: c.rows,
            files: c.files,
            skipped: run.skipped.clone(),
        })
    })
}

/// A project name (docs/format.md) for an MLflow experiment name: `/`, `\` and NUL become `_`,
/// leading `/` (Databricks' `/Users/…` names) and a leading `.` are dropped, at most 128 bytes;
/// `Default` for an empty name.
pub fn project_name(experiment: &str) -> String {
    let mut name: String = experiment
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    while name.starts_with('.') {
        name.remove(0);
    }
    let mut cut = name.len().min(128);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    name.truncate(cut);
    if name.trim().is_empty() {
        "Default".into()
    } else {
        name
    }
}

/// `sqlite:///x.db` as the path `x.db` (`sqlite:////abs.db` as `/abs.db`).
fn sqlite_uri_path(path: &Path) -> Option<PathBuf> {
    let text = path.to_str()?;
    let rest = text.strip_prefix("sqlite:///")?;
    Some(PathBuf::from(rest))
}

/// Runs at or under `path`: a SQLite store file, a file store (`mlruns/`), one experiment folder,
/// one run folder, or a folder holding any of these (at most three levels down). Links are not
/// followed; hidden folders (`.trash`: deleted experiments) are not searched.
fn find_runs(path: &Path, out: &mut Vec<RunSource>) -> anyhow::Result<()> {
    let path = sqlite_uri_path(path).unwrap_or_else(|| path.to_path_buf());
    let meta = std::fs::metadata(&path)?;
    if meta.is_file() {
        if !super::mlflow_sqlite::is_sqlite(&path) {
            bail!("{} is not an MLflow SQLite store", path.display());
        }
        return add_database(&path, out);
    }
    let yaml = path.join(super::mlflow_files::META_FILE);
    if yaml.is_file() {
        return match super::mlflow_files::meta_kind(&yaml) {
            MetaKind::Other => search(&path, 0, out),
            MetaKind::Run => {
                let exp_dir = path.parent().unwrap_or(Path::new("."));
                let experiment = Arc::new(super::mlflow_files::read_experiment(exp_dir));
                out.push(RunSource::Folder {
                    dir: path.clone(),
                    experiment,
                });
                Ok(())
            }
            _ => add_experiment(&path, out),
        };
    }
    search(&path, 0, out)
}

fn search(dir: &Path, depth: usize, out: &mut Vec<RunSource>) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_file() && super::mlflow_sqlite::looks_like_store(&path) {
            add_database(&path, out)?;
        } else if kind.is_dir() && !crate::format::is_hidden(&name) {
            let yaml = path.join(super::mlflow_files::META_FILE);
            if yaml.is_file() {
                // A damaged experiment is listed, so that each of its runs is reported.
                let kind = super::mlflow_files::meta_kind(&yaml);
                if matches!(kind, MetaKind::Experiment | MetaKind::Unreadable) {
                    add_experiment(&path, out)?;
                }
            } else if depth < 3 {
                search(&path, depth + 1, out)?;
            }
        }
    }
    Ok(())
}

fn add_experiment(dir: &Path, out: &mut Vec<RunSource>) -> anyhow::Result<()> {
    let experiment = Arc::new(super::mlflow_files::read_experiment(dir));
    for run_dir in super::mlflow_files::run_dirs(dir)? {
        out.push(RunSource::Folder {
            dir: run_dir,
            experiment: experiment.clone(),
        });
    }
    Ok(())
}

fn add_database(path: &Path, out: &mut Vec<RunSource>) -> anyhow::Result<()> {
    let db = Arc::new(path.to_path_buf());
    let known = out
        .iter()
        .any(|r| matches!(r, RunSource::Database { db: d, .. } if **d == *db));
    if known {
        return Ok(());
    }
    for run_id in super::mlflow_sqlite::run_ids(path)? {
        out.push(RunSource::Database {
            db: db.clone(),
            run_id,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experiment_names_become_project_names() {
        assert_eq!(project_name("mnist"), "mnist");
        assert_eq!(
            project_name("/Users/me@x.com/mnist"),
            "Users_me@x.com_mnist"
        );
        assert_eq!(project_name(".hidden\\a"), "hidden_a");
        assert_eq!(project_name(""), "Default");
        assert_eq!(project_name("///"), "Default");
        let long = "é".repeat(100);
        let name = project_name(&long);
        assert!(name.len() <= 128 && crate::format::valid_project_name(&name));
    }

    #[test]
    fn sqlite_uris_name_files() {
        assert_eq!(
            sqlite_uri_path(Path::new("sqlite:///mlflow.db")),
            Some(PathBuf::from("mlflow.db"))
        );
        assert_eq!(
            sqlite_uri_path(Path::new("sqlite:////tmp/m.db")),
            Some(PathBuf::from("/tmp/m.db"))
        );
        assert_eq!(sqlite_uri_path(Path::new("mlruns")), None);
    }

    #[test]
    fn runs_are_found_in_stores_experiments_and_run_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mlruns");
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("1/meta.yaml", "experiment_id: '1'\nname: a\n");
        write("1/r1/meta.yaml", "run_id: r1\n");
        write("1/r2/meta.yaml", "run_id: r2\n");
        write("1/tags/note", "x");
        write("1/models/m-1/meta.yaml", "model_id: m-1\n");
        write("2/meta.yaml", "experiment_id: [damaged\n");
        write("2/r3/meta.yaml", "run_id: r3\n");
        write(".trash/3/meta.yaml", "experiment_id: '3'\nname: gone\n");
        write(".trash/3/r4/meta.yaml", "run_id: r4\n");
        write("models/clf/meta.yaml", "name: clf\n");
        write("models/clf/version-1/meta.yaml", "version: 1\n");
        let labels = |path: &Path| -> Vec<String> {
            let mut out = Vec::new();
            find_runs(path, &mut out).unwrap();
            out.iter()
                .map(|r| match r {
                    RunSource::Folder { dir, .. } => {
                        dir.file_name().unwrap().to_string_lossy().into()
                    }
                    RunSource::Database { run_id, .. } => run_id.clone(),
                })
                .collect()
        };
        assert_eq!(labels(dir.path()), ["r1", "r2", "r3"]);
        assert_eq!(labels(&root.join("1")), ["r1", "r2"]);
        assert_eq!(labels(&root.join("1/r2")), ["r2"]);
        assert!(labels(&root.join("models")).is_empty());
    }

    #[test]
    fn artifact_uris_name_local_folders_only() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::create_dir_all(base.join("my art/x")).unwrap();
        std::fs::create_dir_all(base.join("mlartifacts/1/r/artifacts")).unwrap();
        let abs = base.join("my art/x");
        let uri = format!("file://{}", base.display()) + "/my%20art/x";
        assert_eq!(local_artifacts(&uri, base), Some(abs.clone()));
        assert_eq!(
            local_artifacts(abs.to_str().unwrap(), Path::new("/")),
            Some(abs)
        );
        assert_eq!(
            local_artifacts("my art/x", base),
            Some(base.join("my art/x"))
        );
        assert_eq!(
            local_artifacts("mlflow-artifacts:/1/r/artifacts", base),
            Some(base.join("mlartifacts/1/r/artifacts"))
        );
        assert_eq!(
            local_artifacts("mlflow-artifacts://host:5000/1/r/artifacts", base),
            Some(base.join("mlartifacts/1/r/artifacts"))
        );
        assert_eq!(local_artifacts("s3://bucket/1/r/artifacts", base), None);
        assert_eq!(local_artifacts("file:///nowhere/at/all", base), None);
    }

    #[test]
    fn fingerprints_change_with_any_point() {
        let mut run = MlRun {
            run_id: "abc".into(),
            ..MlRun::default()
        };
        let key = run.key_index("loss");
        run.points.push(Point {
            key,
            step: 0,
            timestamp_ms: 1,
            value: 1.0,
        });
        let first = run.fingerprint().unwrap();
        assert_eq!(first, run.fingerprint().unwrap());
        run.points[0].value = f64::NAN;
        assert_ne!(first.1, run.fingerprint().unwrap().1);
    }
}
