//! `trackline import`: runs recorded by other trackers, into run format v1 (docs/format.md).
//! `import wandb PATH…` reads W&B run folders (`wandb.rs`, on its record log `wandb_log.rs`, the
//! protobuf wire format `proto.rs`, its records `wandb_records.rs` and key paths
//! `wandb_tree.rs`).
//!
//! Each run is converted into a staging folder under `.trackline/import/` and moved into
//! `<project>/<run id>/` with one rename, so a daemon never sees half an import and a killed
//! import leaves nothing behind but staging. The source's SHA-256 is kept in the run's hidden
//! `.imported.json`: importing the same source again does nothing; a source that changed (a run
//! that went on) replaces the earlier import, which goes to the trash.

pub mod proto;
pub mod wandb;
pub mod wandb_log;
pub mod wandb_records;
pub mod wandb_tree;

use crate::progress::Progress;
use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use std::io::Read;
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
    Wandb(WandbArgs),
}

#[derive(clap::Args, Debug)]
pub struct WandbArgs {
    /// What to import.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Data directory to import into [env: TRACKLINE_DIR] [default: ./trackline]
    #[arg(long = "dir")]
    pub data_dir: Option<PathBuf>,
    /// Put every run in this project instead of its own.
    #[arg(long)]
    pub project: Option<String>,
}

/// How one run's import ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Imported(wandb::Converted),
    /// The same source was imported before.
    Unchanged {
        project: String,
        run_id: String,
    },
    Failed(String),
}

/// What an import did, for its summary line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Totals {
    pub imported: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub rows: u64,
    pub skipped_records: usize,
}

/// Imports every W&B run found under `paths` into `data_dir`.
pub fn import_wandb(args: &WandbArgs, data_dir: &Path) -> anyhow::Result<Totals> {
    if let Some(project) = args
        .project
        .as_deref()
        .filter(|p| !crate::format::valid_project_name(p))
    {
        bail!("'{project}' is not a valid project name");
    }
    let mut sources = Vec::new();
    for path in &args.paths {
        find_wandb_files(path, 0, &mut sources)
            .with_context(|| format!("looking for W&B runs in {}", path.display()))?;
    }
    sources.sort();
    sources.dedup();
    if sources.is_empty() {
        bail!("no W&B run files (run-<id>.wandb) found");
    }
    std::fs::create_dir_all(data_dir).with_context(|| data_dir.display().to_string())?;
    let mut progress = Progress::new("import wandb", sources.len() as u64);
    let mut totals = Totals::default();
    for source in &sources {
        let outcome = import_one(source, data_dir, args.project.as_deref())
            .unwrap_or_else(|e| Outcome::Failed(format!("{e:#}")));
        let line = match &outcome {
            Outcome::Imported(c) => {
                totals.imported += 1;
                totals.rows += c.rows;
                totals.skipped_records += c.skipped.len();
                for skipped in &c.skipped {
                    tracing::warn!(
                        "{}: skipped {} at byte {}",
                        source.display(),
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
                tracing::error!("{}: {why}", source.display());
                format!("{}: failed", source.display())
            }
        };
        progress.advance(&line);
    }
    progress.finish(&format!(
        "imported {} runs ({} rows), {} already imported, {} failed, {} damaged parts skipped",
        totals.imported, totals.rows, totals.unchanged, totals.failed, totals.skipped_records
    ));
    Ok(totals)
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

fn import_one(source: &Path, data_dir: &Path, project: Option<&str>) -> anyhow::Result<Outcome> {
    let (size, sha256) = sha256_of(source)?;
    let staging_root = data_dir.join(STAGING_DIR);
    std::fs::create_dir_all(&staging_root)?;
    let staging = Staging::new(&staging_root)?;
    let converted = wandb::convert(source, &staging.0, project)?;
    let (project, run_id) = (converted.project.clone(), converted.run_id.clone());
    if !crate::format::valid_project_name(&project) || !crate::format::valid_run_id(&run_id) {
        bail!("project '{project}' or run id '{run_id}' cannot name a folder (use --project)");
    }
    let project_dir = data_dir.join(&project);
    let target = project_dir.join(&run_id);
    let mut replaced = false;
    if std::fs::symlink_metadata(&target).is_ok() {
        match imported_from(&target) {
            Some(earlier) if earlier.sha256 == sha256 => {
                return Ok(Outcome::Unchanged { project, run_id });
            }
            Some(_) => replaced = true,
            None => bail!(
                "a run {project}/{run_id} exists that was not imported from W&B; it is left alone"
            ),
        }
    }
    let marker = ImportedFrom {
        source: std::path::absolute(source)?.display().to_string(),
        size,
        sha256,
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
