//! `trackline import`: runs recorded by other trackers, into run format v1 (docs/format.md).
//! `import wandb PATH…` reads W&B run folders (`wandb.rs`, on its record log `wandb_log.rs`, the
//! protobuf wire format `proto.rs`, its records `wandb_records.rs` and key paths
//! `wandb_tree.rs`); `import tensorboard LOGDIR…` reads TensorBoard event files (`tensorboard.rs`,
//! on their TFRecord framing `tfrecord.rs`), one run per folder of event files; `import mlflow
//! PATH…` reads MLflow's file store and SQLite store (`mlflow.rs`, `mlflow_files.rs`,
//! `mlflow_sqlite.rs`, `mlflow_convert.rs`), one run per MLflow run.
//!
//! Each run is converted into a staging folder under `.trackline/import/` and moved into
//! `<project>/<run id>/` with one rename, so a daemon never sees half an import and a killed
//! import leaves nothing behind but staging. The source's SHA-256 is kept in the run's hidden
//! `.imported.json`: importing the same source again does nothing; a source that changed (a run
//! that went on) replaces the earlier import, which goes to the trash.

pub mod follow;
pub mod mlflow;
pub mod mlflow_convert;
pub mod mlflow_files;
pub mod mlflow_sqlite;
pub mod proto;
pub mod tensorboard;
pub mod tensorboard_hparams;
pub mod tfrecord;
pub mod wandb;
pub mod wandb_artifacts;
pub mod wandb_log;
pub mod wandb_records;
pub mod wandb_tree;

use crate::progress::Progress;
use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The hidden file of an imported run naming its source.
pub const IMPORTED_FILE: &str = ".imported.json";
/// Where runs are converted before they are moved into place, relative to the data directory.
const STAGING_DIR: &str = ".trackline/import";

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

#[derive(clap::Subcommand, Debug)]
pub enum ImportSource {
    /// W&B runs: a `wandb/` folder, run folders (`run-…`, `offline-run-…`) or `run-<id>.wandb`
    /// files. Safe to run again: a run already imported from the same file is skipped.
    Wandb(ImportPaths),
    /// TensorBoard runs: a log folder; every folder in it holding `events.out.tfevents.*` files is
    /// one run. Safe to run again: a run whose event files did not change is skipped.
    Tensorboard(ImportPaths),
    /// MLflow runs: a file store (`mlruns/`, an experiment or a run folder), a SQLite store
    /// (`mlflow.db` or `sqlite:///mlflow.db`), or a folder holding them. Safe to run again: an
    /// unchanged run is skipped, a changed one replaced; deleted runs are skipped.
    Mlflow(ImportPaths),
}

impl ImportSource {
    pub fn paths(&self) -> &ImportPaths {
        match self {
            ImportSource::Wandb(paths)
            | ImportSource::Tensorboard(paths)
            | ImportSource::Mlflow(paths) => paths,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct ImportPaths {
    /// What to import.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Data directory to import into [env: TRACKLINE_DIR] [default: ./trackline]
    #[arg(long = "dir")]
    pub data_dir: Option<PathBuf>,
    /// Put every run in this project instead of its own (TensorBoard: the log folder's name;
    /// MLflow: the experiment's name).
    #[arg(long)]
    pub project: Option<String>,
    /// TensorBoard: keep following the runs, appending each step as it completes, until Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// TensorBoard with --follow: seconds between two looks at the event files.
    #[arg(long, default_value_t = 2.0)]
    pub interval: f64,
}

/// How one run's import ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Imported(Converted),
    /// The same source was imported before.
    Unchanged {
        project: String,
        run_id: String,
    },
    Failed(String),
    /// Not imported, on purpose (an MLflow run deleted there), and why.
    Skipped(String),
}

/// What an import did, for its summary line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Totals {
    pub imported: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub rows: u64,
    pub skipped_records: usize,
    /// Runs left out on purpose (see [`Outcome::Skipped`]).
    pub skipped_runs: usize,
}

/// Runs `source` (W&B, TensorBoard or MLflow) into `data_dir`.
pub fn import(source: &ImportSource, data_dir: &Path) -> anyhow::Result<Totals> {
    let args = source.paths();
    if let Some(project) = args
        .project
        .as_deref()
        .filter(|p| !crate::format::valid_project_name(p))
    {
        bail!("'{project}' is not a valid project name");
    }
    if args.follow && !matches!(source, ImportSource::Tensorboard(_)) {
        bail!("--follow is for TensorBoard event files");
    }
    std::fs::create_dir_all(data_dir).with_context(|| data_dir.display().to_string())?;
    let project = args.project.as_deref();
    match source {
        ImportSource::Wandb(_) => {
            let mut files = Vec::new();
            for path in &args.paths {
                find_wandb_files(path, 0, &mut files)
                    .with_context(|| format!("looking for W&B runs in {}", path.display()))?;
            }
            files.sort();
            files.dedup();
            if files.is_empty() {
                bail!("no W&B run files (run-<id>.wandb) found");
            }
            Ok(import_each("import wandb", &files, |file| {
                import_one(file, data_dir, project)
            }))
        }
        ImportSource::Mlflow(_) => mlflow::import(&args.paths, data_dir, project),
        ImportSource::Tensorboard(_) if args.follow => {
            let stop = follow::stop_on_signal();
            let interval = std::time::Duration::from_secs_f64(args.interval.clamp(0.1, 3600.0));
            let rows = follow::follow(&args.paths, data_dir, project, interval, &stop)?;
            let _ = writeln!(std::io::stderr(), "appended {rows} rows");
            Ok(Totals {
                rows,
                ..Totals::default()
            })
        }
        ImportSource::Tensorboard(_) => {
            let mut runs = Vec::new();
            for logdir in &args.paths {
                find_event_folders(logdir, logdir, 0, &mut runs).with_context(|| {
                    format!("looking for TensorBoard runs in {}", logdir.display())
                })?;
            }
            if runs.is_empty() {
                bail!("no TensorBoard event files (events.out.tfevents.*) found");
            }
            Ok(import_each("import tensorboard", &runs, |run| {
                import_tensorboard_run(run, data_dir, project)
            }))
        }
    }
}

/// Imports each source with `one`, drawing progress and logging what was skipped.
fn import_each<T: Labelled>(
    label: &str,
    sources: &[T],
    one: impl Fn(&T) -> anyhow::Result<Outcome>,
) -> Totals {
    let mut progress = Progress::new(label, sources.len() as u64);
    let mut totals = Totals::default();
    for source in sources {
        let outcome = one(source).unwrap_or_else(|e| Outcome::Failed(format!("{e:#}")));
        let line = match &outcome {
            Outcome::Imported(c) => {
                totals.imported += 1;
                totals.rows += c.rows;
                totals.skipped_records += c.skipped.len();
                for skipped in &c.skipped {
                    tracing::warn!(
                        "{}: skipped {} at byte {}",
                        source.label(),
                        skipped.why,
                        skipped.offset
                    );
                }
                let damaged = if c.skipped.is_empty() {
                    String::new()
                } else {
                    format!(", {} damaged parts skipped", c.skipped.len())
                };
                format!(
                    "{}/{}: {} rows, {} files{damaged}",
                    c.project, c.run_id, c.rows, c.files
                )
            }
            Outcome::Unchanged { project, run_id } => {
                totals.unchanged += 1;
                format!("{project}/{run_id}: already imported")
            }
            Outcome::Failed(why) => {
                totals.failed += 1;
                tracing::error!("{}: {why}", source.label());
                format!("{}: failed", source.label())
            }
            Outcome::Skipped(why) => {
                totals.skipped_runs += 1;
                format!("{}: skipped, {why}", source.label())
            }
        };
        progress.advance(&line);
    }
    let left_out = if totals.skipped_runs > 0 {
        format!(", {} runs left out (deleted)", totals.skipped_runs)
    } else {
        String::new()
    };
    progress.finish(&format!(
        "imported {} runs ({} rows), {} already imported, {} failed, {} damaged parts skipped{left_out}",
        totals.imported, totals.rows, totals.unchanged, totals.failed, totals.skipped_records
    ));
    totals
}

/// A source as progress lines and logs name it.
trait Labelled {
    fn label(&self) -> String;
}

impl Labelled for PathBuf {
    fn label(&self) -> String {
        self.display().to_string()
    }
}

/// A TensorBoard run: its folder, its event files, and its name (the folder's path in the log
/// folder) and the log folder's name (the default project).
pub struct EventFolder {
    dir: PathBuf,
    events: Vec<PathBuf>,
    name: String,
    logdir_name: String,
}

impl Labelled for EventFolder {
    fn label(&self) -> String {
        self.dir.display().to_string()
    }
}

/// Folders at or under `dir` (at most 8 deep, links not followed) holding event files.
fn find_event_folders(
    logdir: &Path,
    dir: &Path,
    depth: usize,
    out: &mut Vec<EventFolder>,
) -> anyhow::Result<()> {
    if depth > 8 || !std::fs::symlink_metadata(dir)?.is_dir() {
        return Ok(());
    }
    let mut events = Vec::new();
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        if kind.is_file() && tensorboard::is_event_file(&name) {
            events.push(entry.path());
        } else if kind.is_dir() && !crate::format::is_hidden(&name) {
            folders.push(entry.path());
        }
    }
    let logdir_abs = std::path::absolute(logdir)?;
    let logdir_name = logdir_abs.file_name().map_or_else(
        || "tensorboard".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    if !events.is_empty() {
        events.sort();
        let rel = dir
            .strip_prefix(logdir)
            .unwrap_or(dir)
            .to_string_lossy()
            .into_owned();
        let name = if rel.is_empty() {
            logdir_name.clone()
        } else {
            rel
        };
        out.push(EventFolder {
            dir: dir.to_path_buf(),
            events,
            name,
            logdir_name,
        });
    }
    folders.sort();
    for folder in folders {
        find_event_folders(logdir, &folder, depth + 1, out)?;
    }
    Ok(())
}

/// A run id for a TensorBoard run named `name`: its characters that a run id may hold, and 8 hex
/// digits of its SHA-256 so two names that read alike stay apart.
fn tensorboard_run_id(name: &str) -> String {
    let readable: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(48)
        .collect();
    let hash: String = Sha256::digest(name.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}-{hash}", readable.trim_matches('-'))
}

fn import_tensorboard_run(
    run: &EventFolder,
    data_dir: &Path,
    project: Option<&str>,
) -> anyhow::Result<Outcome> {
    // The fingerprint covers every event file's name and bytes.
    let mut hasher = Sha256::new();
    let mut size = 0;
    for path in &run.events {
        let (len, sha) = sha256_of(path)?;
        hasher.update(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        hasher.update(sha.as_bytes());
        size += len;
    }
    // And the `add_hparams` sessions below the folder, which become this run's config: a
    // session added since the last import makes it import again.
    for session in tensorboard_hparams::sessions_below(&run.dir) {
        for (key, value) in session {
            hasher.update([0u8]);
            hasher.update(key.as_bytes());
            hasher.update([1u8]);
            hasher.update(value.as_bytes());
        }
    }
    let sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let run_id = tensorboard_run_id(&run.name);
    let project = project.unwrap_or(&run.logdir_name).to_string();
    let source = Source {
        path: &run.dir,
        size,
        sha256,
        run_id: Some(&run_id),
        tracker: "TensorBoard",
    };
    import_source(data_dir, source, |staging| {
        let names = tensorboard::RunNames {
            run_id: &run_id,
            name: &run.name,
            project: &project,
        };
        let c = tensorboard::convert(&run.events, staging, &names)?;
        Ok(Converted {
            project: project.clone(),
            run_id: run_id.clone(),
            rows: c.rows,
            files: c.media,
            skipped: c.skipped,
        })
    })
}

/// `run-*.wandb` files at or under `path` (a file, a run folder, or a `wandb/` folder), at most
/// three folders deep; links are not followed.
fn find_wandb_files(path: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_file() {
        if wandb::id_from_file_name(path).is_some() {
            out.push(path.to_path_buf());
        } else if depth == 0 {
            bail!("{} is not a W&B run file (run-<id>.wandb)", path.display());
        }
        return Ok(());
    }
    if !meta.is_dir() || depth > 3 {
        return Ok(());
    }
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type()?;
        let wanted_file = kind.is_file() && name.ends_with(".wandb");
        let wanted_dir =
            kind.is_dir() && !crate::format::is_hidden(&name) && name != "files" && name != "logs";
        if wanted_file || wanted_dir {
            find_wandb_files(&entry.path(), depth + 1, out)?;
        }
    }
    Ok(())
}

/// What `.imported.json` records of a source.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct ImportedFrom {
    source: String,
    size: u64,
    sha256: String,
    imported_at: f64,
}

fn sha256_of(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 20];
    let mut size = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((size, hex))
}

/// The earlier import of a run, if its folder says it was imported.
fn imported_from(run_dir: &Path) -> Option<ImportedFrom> {
    let bytes = std::fs::read(run_dir.join(IMPORTED_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// What a converter made in a staging folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub project: String,
    pub run_id: String,
    pub rows: u64,
    /// Files copied or written besides the run files (media, saved files).
    pub files: u64,
    pub skipped: Vec<wandb_log::Skipped>,
}

/// A source to import: where it is, its fingerprint, the run id it will have if known before
/// converting, and which tracker wrote it (named in refusals).
struct Source<'a> {
    path: &'a Path,
    size: u64,
    sha256: String,
    run_id: Option<&'a str>,
    tracker: &'static str,
}

/// The project holding an earlier import of `source` (same run id, same fingerprint), if any.
fn earlier_import(data_dir: &Path, source: &Source) -> Option<String> {
    let run_id = source.run_id?;
    for entry in std::fs::read_dir(data_dir).ok()?.flatten() {
        let project = entry.file_name().to_string_lossy().into_owned();
        if crate::format::is_hidden(&project) || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if imported_from(&entry.path().join(run_id)).is_some_and(|e| e.sha256 == source.sha256) {
            return Some(project);
        }
    }
    None
}

/// Converts `source` into a staging folder with `convert` and moves the result into place (or
/// finds it imported already).
fn import_source(
    data_dir: &Path,
    source: Source,
    convert: impl FnOnce(&Path) -> anyhow::Result<Converted>,
) -> anyhow::Result<Outcome> {
    if let Some(project) = earlier_import(data_dir, &source) {
        let run_id = source.run_id.unwrap_or_default().to_string();
        return Ok(Outcome::Unchanged { project, run_id });
    }
    let staging_root = data_dir.join(STAGING_DIR);
    std::fs::create_dir_all(&staging_root)?;
    let staging = Staging::new(&staging_root)?;
    let converted = convert(&staging.0)?;
    let (project, run_id) = (converted.project.clone(), converted.run_id.clone());
    if !crate::format::valid_project_name(&project) || !crate::format::valid_run_id(&run_id) {
        bail!("project '{project}' or run id '{run_id}' cannot name a folder (use --project)");
    }
    let project_dir = data_dir.join(&project);
    let target = project_dir.join(&run_id);
    let mut replaced = false;
    if std::fs::symlink_metadata(&target).is_ok() {
        match imported_from(&target) {
            Some(earlier) if earlier.sha256 == source.sha256 => {
                return Ok(Outcome::Unchanged { project, run_id });
            }
            Some(_) => replaced = true,
            None => bail!(
                "a run {project}/{run_id} exists that was not imported from {}; it is left alone",
                source.tracker
            ),
        }
    }
    let marker = ImportedFrom {
        source: std::path::absolute(source.path)?.display().to_string(),
        size: source.size,
        sha256: source.sha256,
        imported_at: crate::util::now_secs(),
    };
    std::fs::write(
        staging.0.join(IMPORTED_FILE),
        serde_json::to_vec_pretty(&marker)?,
    )?;
    if std::fs::symlink_metadata(&project_dir).is_ok_and(|m| !m.is_dir()) {
        bail!("{} is not a folder", project_dir.display());
    }
    std::fs::create_dir_all(&project_dir)?;
    if replaced {
        let now = crate::util::now_secs() as u64;
        crate::format::trash::trash_run(data_dir, &project, &run_id, now)
            .context("moving the earlier import to the trash")?;
    }
    std::fs::rename(&staging.0, &target)
        .with_context(|| format!("moving the import into {}", target.display()))?;
    std::fs::File::open(&project_dir)?.sync_all()?;
    Ok(Outcome::Imported(converted))
}

fn import_one(source: &Path, data_dir: &Path, project: Option<&str>) -> anyhow::Result<Outcome> {
    let (size, sha256) = sha256_of(source)?;
    let run_id = wandb::id_from_file_name(source);
    let source_of = Source {
        path: source,
        size,
        sha256,
        run_id: run_id.as_deref(),
        tracker: "W&B",
    };
    import_source(data_dir, source_of, |staging| {
        let sink = wandb_artifacts::ArtifactSink::open(data_dir)?;
        let c = wandb::convert(source, staging, project, &sink)?;
        Ok(Converted {
            project: c.project,
            run_id: c.run_id,
            rows: c.rows,
            files: c.files + c.artifacts,
            skipped: c.skipped,
        })
    })
}

/// A staging folder, removed with what it holds unless it was moved into place.
struct Staging(PathBuf);

impl Staging {
    fn new(root: &Path) -> anyhow::Result<Staging> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = root.join(format!("wandb-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path).with_context(|| format!("making {}", path.display()))?;
        Ok(Staging(path))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.0.exists() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
