//! `trackline report export ID (--html FILE | --md DIR) [--version draft|published]`: with a
//! daemon running on the data dir, the export comes from its route (so it is what the web app
//! shows, owner token from `.trackline/owner-token` when the daemon is shared); with none, the
//! project's runs are read from disk into a store here and exported directly, holding the data
//! dir's lock meanwhile so no daemon starts half-way.

use super::{Export, Version, collect, html, md, zip};
use crate::config::Config;
use crate::db::Db;
use crate::error::Error;
use crate::ingest::Ingest;
use crate::lock::{DaemonLock, Holder, LOCK_FILE};
use crate::reports::cli::answer;
use crate::store::{Store, StoreSettings};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use trackline_shared::reports::ReportSnapshot;

#[derive(clap::Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("format").required(true).args(["html", "md"])))]
pub struct ExportArgs {
    /// The report's id (as in its URL).
    pub id: String,
    /// Write one self-contained HTML file here (opens from disk, no network).
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Write `report.md` and its SVG charts (`charts/`) into this folder.
    #[arg(long)]
    pub md: Option<PathBuf>,
    /// Which copy: the draft or the last published one [default: draft].
    #[arg(long, value_enum)]
    pub version: Option<Version>,
}

/// Runs the export of `args` on the data dir `data_dir`; prints the written path.
pub fn run(data_dir: &Path, args: &ExportArgs) -> anyhow::Result<()> {
    let version = args.version.unwrap_or(Version::Draft);
    if !data_dir.is_dir() {
        bail!("no data directory {}", data_dir.display());
    }
    let state_dir = Config::new(data_dir).state_dir();
    let started = Instant::now();
    match DaemonLock::acquire(&state_dir, data_dir) {
        Ok(lock) => {
            let export = offline(data_dir, &state_dir, &args.id, version)?;
            drop(lock);
            write_out(args, &export)?;
        }
        Err(Error::DataDirInUse { .. }) => {
            let holder = std::fs::read_to_string(state_dir.join(LOCK_FILE))
                .ok()
                .and_then(|text| serde_json::from_str::<Holder>(&text).ok());
            let Some(url) = holder.and_then(|h| h.url) else {
                bail!(
                    "a daemon is starting on {}: try again in a moment",
                    data_dir.display()
                );
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(from_daemon(&url, &state_dir, args, version))?;
        }
        Err(e) => return Err(e.into()),
    }
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "report exported"
    );
    if let Some(written) = args.html.as_ref().or(args.md.as_ref()) {
        writeln!(std::io::stdout(), "{}", written.display())?;
    }
    Ok(())
}

/// The export made here: the report from the database, the runs scanned from disk.
fn offline(
    data_dir: &Path,
    state_dir: &Path,
    id: &str,
    version: Version,
) -> anyhow::Result<Export> {
    let db = Db::open_in(state_dir)
        .with_context(|| format!("cannot open the database in {}", state_dir.display()))?;
    let snapshot = db
        .annotations()
        .report(id)?
        .filter(|s| !s.report.deleted)
        .with_context(|| format!("no report '{id}' in {}", data_dir.display()))?;
    let store = Arc::new(Store::new(StoreSettings::default()));
    for (project, overlay) in db.annotations().run_overlays()? {
        store.set_overlay(&project, overlay);
    }
    let started = Instant::now();
    let mut ingest = Ingest::new(data_dir.to_path_buf(), store.clone(), db.run_index());
    ingest.scan(true).context("cannot read the runs")?;
    if started.elapsed().as_secs() >= 2 {
        tracing::info!(runs = store.len(), "read the data dir's runs");
    }
    Ok(collect(
        &store,
        &snapshot,
        version,
        crate::util::now_secs(),
    )?)
}

/// The export from the running daemon at `url`.
async fn from_daemon(
    url: &str,
    state_dir: &Path,
    args: &ExportArgs,
    version: Version,
) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let token = std::fs::read_to_string(state_dir.join(crate::auth::owner::OWNER_TOKEN_FILE))
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let get = |path: String| {
        let mut request = client.get(format!("{}{path}", url.trim_end_matches('/')));
        if let Some(t) = &token {
            request = request.bearer_auth(t);
        }
        request
    };
    let id = percent(&args.id);
    let snapshot: ReportSnapshot = answer(get(format!("/api/reports/{id}")).send().await?)
        .await?
        .json()
        .await
        .context("the daemon's report is not a report")?;
    let project = percent(&snapshot.report.project);
    let version = match version {
        Version::Draft => "draft",
        Version::Published => "published",
    };
    let kind = if args.html.is_some() { "html" } else { "zip" };
    let bytes = answer(
        get(format!(
            "/api/projects/{project}/reports/{id}/export.{kind}?version={version}"
        ))
        .send()
        .await?,
    )
    .await?
    .bytes()
    .await?;
    if let Some(path) = &args.html {
        write_file(path, &bytes)
    } else if let Some(dir) = &args.md {
        let files = zip::read(&bytes).context("the daemon's zip does not read back")?;
        write_dir(dir, &files)
    } else {
        Ok(())
    }
}

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn write_out(args: &ExportArgs, export: &Export) -> anyhow::Result<()> {
    if let Some(path) = &args.html {
        write_file(path, html::render_page(export).as_bytes())
    } else if let Some(dir) = &args.md {
        write_dir(dir, &md::render_files(export))
    } else {
        Ok(())
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs_err::create_dir_all(parent)?;
    }
    fs_err::write(path, bytes)?;
    Ok(())
}

/// Writes `files` (relative paths) under `dir`; a path that would leave it is refused.
fn write_dir(dir: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    for (name, bytes) in files {
        let rel = Path::new(name);
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            bail!("refusing to write '{name}' outside {}", dir.display());
        }
        write_file(&dir.join(rel), bytes)?;
    }
    Ok(())
}
