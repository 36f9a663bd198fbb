//! `trackline report new|list|export`. `new` generates a report from a run set
//! ([`super::generate`]) and prints its id and URL; `list` prints a project's reports; `export` is
//! `super::export::cli`'s. With a daemon serving the data dir (its lock file names its URL) they
//! go through its API, with the owner token of `.trackline/owner-token` when it is shared, so the
//! web app sees a new report at once; with none, they work on the data dir's database directly
//! (the runs read from their folders into a store here), holding the data dir's lock meanwhile
//! so no daemon starts half-way.

use super::generate::{self, Generated, Request};
use crate::config::Config;
use crate::db::Db;
use crate::db::annotations::{Actor, Applied};
use crate::error::Error;
use crate::ingest::Ingest;
use crate::lock::{DaemonLock, Holder, LOCK_FILE};
use crate::store::{Store, StoreSettings};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use trackline_shared::annotations::{Author, Op, OpOutcome, OpRequest, ProjectAnnotations};
use trackline_shared::reports::{Report, RunSort};
use trackline_shared::{MetricKey, RunInfo};

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub action: ReportAction,
    /// Data directory the daemon serves [env: TRACKLINE_DIR] [default: ./trackline]
    #[arg(long = "dir", global = true)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ReportAction {
    /// Generate a report from the runs a filter selects (e.g. at the end of a sweep): an intro,
    /// line charts of their metrics, the runs table, a comparison, and their notes. Prints its
    /// id and URL.
    New(NewArgs),
    /// List a project's reports: id, title, published or draft, blocks, last change.
    List {
        #[arg(long)]
        project: String,
    },
    /// Export a report as one self-contained HTML file (--html FILE) or Markdown with SVG charts
    /// (--md DIR).
    Export(super::export::cli::ExportArgs),
}

#[derive(Args, Debug, Clone)]
pub struct NewArgs {
    #[arg(long)]
    pub project: String,
    /// The runs table's filter language, e.g. 'config.lr < 0.01 and state = finished' ('' for
    /// every run).
    #[arg(long = "from-runs")]
    pub from_runs: String,
    /// The report's title [default: "Runs where FILTER"].
    #[arg(long)]
    pub title: Option<String>,
    /// A metric to chart (repeatable) [default: the runs' metrics, not system/, at most 12].
    #[arg(long = "metric")]
    pub metrics: Vec<String>,
    /// Sort the runs by this column (config.lr, summary.loss, created, …); prefix - for
    /// descending [default: newest first].
    #[arg(long, allow_hyphen_values = true)]
    pub sort: Option<String>,
    /// At most this many runs.
    #[arg(long)]
    pub limit: Option<u32>,
}

/// A failed `report` command: a bad filter (exit status 2, nothing written) or anything else.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("bad --from-runs filter: {0}")]
    BadFilter(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl ReportError {
    /// The process exit status for it.
    pub fn exit_code(&self) -> u8 {
        match self {
            ReportError::BadFilter(_) => 2,
            ReportError::Failed(_) => 1,
        }
    }
}

type Outcome<T> = Result<T, ReportError>;

/// Runs `trackline report …` on data directory `data_dir`, writing its lines to `out`.
pub fn run(action: &ReportAction, data_dir: &Path, out: &mut impl Write) -> Outcome<()> {
    match action {
        ReportAction::Export(args) => Ok(super::export::cli::run(data_dir, args)?),
        ReportAction::New(args) => {
            let request = request(args);
            let (id, url) = with_daemon_or_db(data_dir, |to| to.create(&request))?;
            writeln!(out, "{id}").context("writing the report id")?;
            writeln!(out, "{url}").context("writing the report URL")?;
            Ok(())
        }
        ReportAction::List { project } => {
            let reports = with_daemon_or_db(data_dir, |to| to.list(project))?;
            for report in &reports {
                writeln!(out, "{}", list_line(report)).context("writing the list")?;
            }
            Ok(())
        }
    }
}

fn request(args: &NewArgs) -> Request {
    let sort = args.sort.as_deref().map(|key| match key.strip_prefix('-') {
        Some(key) => RunSort {
            key: key.to_owned(),
            desc: true,
        },
        None => RunSort {
            key: key.to_owned(),
            desc: false,
        },
    });
    Request {
        project: args.project.clone(),
        filter: args.from_runs.clone(),
        title: args.title.clone(),
        metrics: args.metrics.clone(),
        sort,
        limit: args.limit,
    }
}

/// `id  title  state  N blocks  updated <time>`, tab-separated.
fn list_line(report: &Report) -> String {
    let state = match &report.published {
        Some(p) => format!("published rev {}", p.rev),
        None => "draft".to_owned(),
    };
    format!(
        "{}\t{}\t{state}\t{} blocks\tupdated {}",
        report.id,
        report.title.replace(['\t', '\n', '\r'], " "),
        report.blocks.len(),
        crate::util::utc(report.updated_ms / 1000.0)
    )
}

/// Where a command's reads and writes go.
enum Target {
    /// The daemon serving the data dir, at `url` (`base` is where people open it).
    Daemon {
        url: String,
        base: String,
        token: Option<String>,
        runtime: tokio::runtime::Runtime,
        client: reqwest::Client,
    },
    /// The data dir itself, its lock held.
    Db {
        data_dir: PathBuf,
        db: Arc<Db>,
        base: String,
        /// Its runs, read on first need.
        store: std::cell::OnceCell<Arc<Store>>,
    },
}

/// Runs `f` against the daemon of `data_dir` if one serves it, else against its database (with
/// the data dir's lock held until `f` returns).
fn with_daemon_or_db<T>(data_dir: &Path, f: impl FnOnce(&Target) -> Outcome<T>) -> Outcome<T> {
    let state_dir = Config::new(data_dir).state_dir();
    let holder = || {
        std::fs::read_to_string(state_dir.join(LOCK_FILE))
            .ok()
            .and_then(|text| serde_json::from_str::<Holder>(&text).ok())
            .unwrap_or_default()
    };
    match DaemonLock::acquire(&state_dir, data_dir) {
        Ok(lock) => {
            let db = Db::open_in(&state_dir)
                .with_context(|| format!("cannot open the database in {}", state_dir.display()))?;
            let target = Target::Db {
                data_dir: data_dir.to_owned(),
                db,
                base: base_url(&holder()),
                store: std::cell::OnceCell::new(),
            };
            let result = f(&target);
            drop(lock);
            result
        }
        Err(Error::DataDirInUse { .. }) => {
            let holder = holder();
            let Some(url) = holder.url.clone() else {
                return Err(anyhow::anyhow!(
                    "a daemon is starting on {}: try again in a moment",
                    data_dir.display()
                )
                .into());
            };
            let token =
                std::fs::read_to_string(state_dir.join(crate::auth::owner::OWNER_TOKEN_FILE))
                    .ok()
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty());
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            f(&Target::Daemon {
                url: url.trim_end_matches('/').to_owned(),
                base: base_url(&holder),
                token,
                runtime,
                client: reqwest::Client::new(),
            })
        }
        Err(e) => Err(anyhow::Error::from(e).into()),
    }
}

/// Where people open the daemon: its first public URL, else its local address (the last one
/// recorded, or the default port).
fn base_url(holder: &Holder) -> String {
    let url = holder.public_urls.first().or(holder.url.as_ref()).cloned();
    url.unwrap_or_else(|| format!("http://127.0.0.1:{}", crate::config::DEFAULT_PORT))
        .trim_end_matches('/')
        .to_owned()
}

/// A new random report id: `r` and 16 hex digits.
fn new_report_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(format!(
        "r{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// `s` as one URL path segment: RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) stay
/// as they are, so a project `my-proj` reads as itself in the printed link.
fn percent(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

impl Target {
    fn base(&self) -> &str {
        match self {
            Target::Daemon { base, .. } | Target::Db { base, .. } => base,
        }
    }

    /// Generates and creates the report `request` asks for; answers its id and URL.
    fn create(&self, request: &Request) -> Outcome<(String, String)> {
        let project = &request.project;
        let (runs, annotations) = self.runs_and_notes(project)?;
        if runs.is_empty() {
            return Err(anyhow::anyhow!("no project '{project}' (it has no runs)").into());
        }
        let now_secs = crate::util::now_secs();
        let chosen = trackline_shared::runset::select(&runs, &generate::run_set(request), now_secs)
            .map_err(|e| ReportError::BadFilter(e.to_string()))?;
        let keys = if request.metrics.is_empty() {
            chosen
                .iter()
                .map(|r| self.metric_keys(project, &r.id))
                .collect::<anyhow::Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        let Generated { title, blocks } =
            generate::generate(request, &chosen, &keys, &annotations, now_secs);
        let id = new_report_id()?;
        let op = OpRequest {
            client_id: format!("cli-{id}"),
            op_id: "report-new".into(),
            op: Op::ReportCreate {
                report: id.clone(),
                title,
                blocks,
            },
        };
        self.apply(project, &op)?;
        let url = format!(
            "{}/projects/{}/reports/{}",
            self.base(),
            percent(project),
            id
        );
        Ok((id, url))
    }

    fn list(&self, project: &str) -> Outcome<Vec<Report>> {
        Ok(match self {
            Target::Daemon { .. } => {
                self.get(&format!("/api/projects/{}/reports", percent(project)))?
            }
            Target::Db { db, .. } => {
                db.annotations()
                    .reports(project)
                    .map_err(anyhow::Error::from)?
                    .1
            }
        })
    }

    /// The project's runs (as the daemon shows them) and its annotations (for the notes).
    fn runs_and_notes(&self, project: &str) -> anyhow::Result<(Vec<RunInfo>, ProjectAnnotations)> {
        match self {
            Target::Daemon { .. } => {
                let p = percent(project);
                let runs: Vec<RunInfo> = self.get(&format!("/api/projects/{p}/runs"))?;
                if runs.is_empty() {
                    return Ok((runs, ProjectAnnotations::default()));
                }
                Ok((runs, self.get(&format!("/api/projects/{p}/annotations"))?))
            }
            Target::Db { db, .. } => {
                let store = self.store()?;
                let runs = store
                    .project_runs(project)
                    .iter()
                    .map(|r| r.info())
                    .collect();
                Ok((runs, db.annotations().snapshot(project)?))
            }
        }
    }

    /// The metric keys the store knows for a run (with points).
    fn metric_keys(&self, project: &str, run: &str) -> anyhow::Result<Vec<String>> {
        let keys: Vec<MetricKey> = match self {
            Target::Daemon { .. } => self.get(&format!(
                "/api/projects/{}/runs/{}/keys",
                percent(project),
                percent(run)
            ))?,
            Target::Db { .. } => {
                let store = self.store()?;
                let found = store
                    .get(project, run)
                    .with_context(|| format!("no run '{run}' in project '{project}'"))?;
                crate::query::metric_keys(&store, &found)?
            }
        };
        Ok(keys.into_iter().map(|k| k.key).collect())
    }

    /// The data dir's runs read into a store (once per command), with the names and tags owners
    /// set shown over `run.json` as the daemon shows them.
    fn store(&self) -> anyhow::Result<Arc<Store>> {
        let Target::Db {
            data_dir,
            db,
            store: read,
            ..
        } = self
        else {
            bail!("no store when a daemon serves the data dir");
        };
        if let Some(store) = read.get() {
            return Ok(store.clone());
        }
        let store = Arc::new(Store::new(StoreSettings::default()));
        for (project, overlay) in db.annotations().run_overlays()? {
            store.set_overlay(&project, overlay);
        }
        let mut ingest = Ingest::new(data_dir.clone(), store.clone(), db.run_index());
        ingest.scan(true).context("cannot read the runs")?;
        Ok(read.get_or_init(|| store).clone())
    }

    /// Applies `op` to `project`: POSTed to the daemon, or written to the database as the local
    /// user (who owns everything).
    fn apply(&self, project: &str, op: &OpRequest) -> anyhow::Result<()> {
        let outcome = match self {
            Target::Daemon {
                url,
                token,
                runtime,
                client,
                ..
            } => runtime.block_on(async {
                let path = format!("{url}/api/projects/{}/annotations/ops", percent(project));
                let mut post = client.post(path).json(op);
                if let Some(t) = token {
                    post = post.bearer_auth(t);
                }
                let response = answer(post.send().await?).await?;
                anyhow::Ok(response.json::<OpOutcome>().await?)
            })?,
            Target::Db { db, .. } => {
                let store = self.store()?;
                let actor = Actor {
                    author: Author {
                        id: LOCAL_AUTHOR.into(),
                        label: LOCAL_AUTHOR.into(),
                    },
                    is_owner: true,
                };
                let now_ms = (crate::util::now_secs() * 1000.0).round();
                let run_exists = |run: &str| store.get(project, run).is_some();
                match db
                    .annotations()
                    .apply(project, &actor, op, now_ms, &run_exists)?
                {
                    Ok(Applied { outcome, .. }) => outcome,
                    Err(refusal) => bail!("the report was refused: {refusal}"),
                }
            }
        };
        match outcome {
            OpOutcome::Committed { .. } => Ok(()),
            OpOutcome::Conflict { .. } => {
                bail!("the report's id was taken meanwhile; run it again")
            }
        }
    }

    /// GETs `path` from the daemon as JSON.
    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let Target::Daemon {
            url,
            token,
            runtime,
            client,
            ..
        } = self
        else {
            bail!("no daemon to ask for {path}");
        };
        runtime.block_on(async {
            let mut get = client.get(format!("{url}{path}"));
            if let Some(t) = token {
                get = get.bearer_auth(t);
            }
            let response = answer(get.send().await?).await?;
            response
                .json::<T>()
                .await
                .with_context(|| format!("the daemon's answer to {path} does not read"))
        })
    }
}

/// The author of what the CLI writes without a daemon: the local user, as the daemon names it
/// when it is not shared.
const LOCAL_AUTHOR: &str = "local";

/// The response when it is a success, else its error message as the error.
pub(crate) async fn answer(response: reqwest::Response) -> anyhow::Result<reqwest::Response> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let message = body["error"]["message"].as_str().unwrap_or("no message");
    bail!("the daemon answered {status}: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_takes_a_minus_for_descending_and_ids_are_report_ids() {
        let args = NewArgs {
            project: "p".into(),
            from_runs: "".into(),
            title: None,
            metrics: vec![],
            sort: Some("-summary.loss".into()),
            limit: Some(3),
        };
        let r = request(&args);
        assert_eq!(
            r.sort,
            Some(RunSort {
                key: "summary.loss".into(),
                desc: true
            })
        );
        let id = new_report_id().unwrap();
        assert_eq!(id.len(), 17);
        assert_ne!(id, new_report_id().unwrap());
        let holder = Holder {
            pid: 1,
            url: Some("http://127.0.0.1:9/".into()),
            public_urls: vec![],
        };
        assert_eq!(base_url(&holder), "http://127.0.0.1:9");
    }

    #[test]
    fn a_path_segment_keeps_unreserved_characters() {
        assert_eq!(percent("trackline-demo_1.x~"), "trackline-demo_1.x~");
        assert_eq!(percent("a b/c?#%"), "a%20b%2Fc%3F%23%25");
    }
}
