//! Ingest: discovers run directories under the data directory and follows their files into the
//! store. [`Ingest::scan`] walks everything (at start-up and as a periodic safety net);
//! [`watch`] turns file-system events into targeted updates within milliseconds.

pub mod history;
pub mod meta;
pub mod remote;
pub mod watch;

use crate::error::{Error, Result};
use crate::store::index::Index;
use crate::store::{RunKey, RunMeta, Store};
use meta::{CONFIG_FILE, METRICS_FILE, RUN_FILE, RunFile, SUMMARY_FILE};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;
use trackline_shared::{RunInfo, RunState};

/// Follows one data directory into one store. Owned by the ingest thread.
#[derive(Debug)]
pub struct Ingest {
    root: PathBuf,
    store: Arc<Store>,
    index: Index,
    /// Fingerprint of the metadata files each known run was last read from.
    fingerprints: HashMap<RunKey, String>,
    /// Runs whose files failed to parse, with the fingerprint that failed (reported once).
    broken: HashMap<RunKey, String>,
}

impl Ingest {
    pub fn new(root: PathBuf, store: Arc<Store>, index: Index) -> Self {
        Ingest {
            root,
            store,
            index,
            fingerprints: HashMap::new(),
            broken: HashMap::new(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Walks the whole data directory: adds new runs, re-reads changed ones, drops deleted ones,
    /// catches up appended history of loaded runs, and re-derives crashed states.
    /// The first scan also reuses the index database for runs whose files are unchanged.
    pub fn scan(&mut self, first: bool) -> Result<()> {
        let cached = if first {
            self.index.load_all()?
        } else {
            HashMap::new()
        };
        let mut seen = HashSet::new();
        let mut changed: Vec<(String, RunInfo, RunState)> = Vec::new();
        for (project, run, dir) in list_runs(&self.root) {
            let key = RunKey { project, run };
            seen.insert(key.clone());
            let fp = fingerprint(&dir);
            if self.fingerprints.get(&key) == Some(&fp) {
                self.catch_up(&key);
                continue;
            }
            if let Some(hit) = cached.get(&(key.project.clone(), key.run.clone()))
                && hit.fingerprint == fp
            {
                let meta = RunMeta {
                    info: hit.info.clone(),
                    reported_state: hit.reported_state,
                };
                self.store
                    .upsert(key.clone(), dir, meta, crate::util::now_secs());
                self.fingerprints.insert(key, fp);
                continue;
            }
            // At start-up histories load lazily (on first view or append); later, a new or
            // changed run is live, so its history is followed at once.
            if let Some(changed_run) = self.read_run(&key, &dir, fp, !first) {
                changed.push(changed_run);
            }
        }
        let gone: Vec<RunKey> = self
            .fingerprints
            .keys()
            .filter(|k| !seen.contains(*k))
            .cloned()
            .collect();
        for key in gone {
            self.forget(&key);
        }
        for (project, run) in cached.keys() {
            let key = RunKey {
                project: project.clone(),
                run: run.clone(),
            };
            if !seen.contains(&key)
                && let Err(e) = self.index.remove(project, run)
            {
                tracing::warn!("index: {e}");
            }
        }
        self.write_index(&changed);
        self.store.refresh_states(crate::util::now_secs());
        Ok(())
    }

    /// Re-reads one run's metadata files (after a file event). Unknown runs are discovered.
    pub fn refresh_run(&mut self, project: &str, run: &str) {
        let key = RunKey {
            project: project.into(),
            run: run.into(),
        };
        let dir = self.root.join(project).join(run);
        if !dir.join(RUN_FILE).exists() {
            if !dir.exists() {
                self.forget(&key);
            }
            return;
        }
        let fp = fingerprint(&dir);
        if self.fingerprints.get(&key) == Some(&fp) {
            return;
        }
        if let Some(changed) = self.read_run(&key, &dir, fp, true) {
            self.write_index(&[changed]);
        }
    }

    /// Reads appended history of a known, loaded-or-live run (after a file event).
    pub fn refresh_history(&mut self, project: &str, run: &str) {
        let key = RunKey {
            project: project.into(),
            run: run.into(),
        };
        if !self.fingerprints.contains_key(&key) {
            self.refresh_run(project, run);
        }
        if self.fingerprints.contains_key(&key)
            && let Some(r) = self.store.get(project, run)
            && let Err(e) = self.store.sync_history(&r)
        {
            tracing::warn!(project, run, "history: {e}");
        }
    }

    fn catch_up(&self, key: &RunKey) {
        let Some(run) = self.store.get(&key.project, &key.run) else {
            return;
        };
        if !run.history.lock().is_loaded() {
            return;
        }
        if let Err(e) = self.store.sync_history(&run) {
            tracing::warn!(project = %key.project, run = %key.run, "history: {e}");
        }
    }

    fn forget(&mut self, key: &RunKey) {
        self.fingerprints.remove(key);
        self.broken.remove(key);
        self.store.remove(key);
        if let Err(e) = self.index.remove(&key.project, &key.run) {
            tracing::warn!("index: {e}");
        }
    }

    fn read_run(
        &mut self,
        key: &RunKey,
        dir: &Path,
        fp: String,
        follow_history: bool,
    ) -> Option<(String, RunInfo, RunState)> {
        match read_meta(key, dir) {
            Ok(meta) => {
                self.broken.remove(key);
                let state = meta.reported_state;
                let run =
                    self.store
                        .upsert(key.clone(), dir.to_owned(), meta, crate::util::now_secs());
                self.fingerprints.insert(key.clone(), fp.clone());
                if follow_history
                    && !run.history.lock().is_loaded()
                    && let Err(e) = self.store.sync_history(&run)
                {
                    tracing::warn!(project = %key.project, run = %key.run, "history: {e}");
                }
                Some((fp, run.info(), state))
            }
            Err(e) => {
                if self.broken.get(key) != Some(&fp) {
                    tracing::warn!(project = %key.project, run = %key.run, "skipping run: {e}");
                    self.broken.insert(key.clone(), fp);
                }
                None
            }
        }
    }

    fn write_index(&mut self, changed: &[(String, RunInfo, RunState)]) {
        if changed.is_empty() {
            return;
        }
        let rows = changed
            .iter()
            .map(|(fp, info, state)| (fp.as_str(), info, *state));
        if let Err(e) = self.index.upsert_many(rows) {
            tracing::warn!("index: {e}");
        }
    }
}

/// Reads a run's three metadata files into what the store keeps.
pub fn read_meta(key: &RunKey, dir: &Path) -> Result<RunMeta> {
    let file: RunFile = meta::read_run_file(dir)?
        .ok_or_else(|| Error::NotFound(format!("{}: no {RUN_FILE}", dir.display())))?;
    if file.id != key.run {
        return Err(Error::BadRequest(format!(
            "{}: id '{}' does not match the folder name",
            dir.join(RUN_FILE).display(),
            file.id
        )));
    }
    let reported_state = match file.state.as_deref() {
        None | Some("running") => RunState::Running,
        Some("finished") => RunState::Finished,
        Some("failed") => RunState::Failed,
        Some("crashed") => RunState::Crashed,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "{}: unknown state '{other}'",
                dir.join(RUN_FILE).display()
            )));
        }
    };
    let heartbeat = file
        .heartbeat_at
        .unwrap_or(file.created_at)
        .max(file.created_at);
    let end = file.finished_at.unwrap_or(heartbeat);
    let info = RunInfo {
        project: key.project.clone(),
        id: key.run.clone(),
        name: file
            .name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| key.run.clone()),
        group: file.group,
        tags: file.tags,
        notes: file.notes,
        job_type: file.job_type,
        state: reported_state,
        created_at_secs: file.created_at,
        heartbeat_at_secs: heartbeat,
        finished_at_secs: file.finished_at,
        runtime_secs: (end - file.created_at).max(0.0),
        host: file.host,
        command: file.command,
        pid: file.pid,
        exit_code: file.exit_code,
        os: file.os,
        python: file.python,
        git: file.git.filter(|g| g.is_object()),
        config: meta::read_object(&dir.join(CONFIG_FILE))?,
        summary: meta::read_object(&dir.join(SUMMARY_FILE))?,
        metrics: meta::read_object(&dir.join(METRICS_FILE))?,
        history_rows: None,
        version: 0,
    };
    Ok(RunMeta {
        info,
        reported_state,
    })
}

/// `mtime:len` of each metadata file: equal fingerprints mean nothing to re-read.
fn fingerprint(dir: &Path) -> String {
    let mut out = String::with_capacity(96);
    for name in [RUN_FILE, CONFIG_FILE, SUMMARY_FILE, METRICS_FILE] {
        match std::fs::metadata(dir.join(name)) {
            Ok(m) => {
                let mtime = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                out.push_str(&format!("{mtime}:{};", m.len()));
            }
            Err(_) => out.push_str("-;"),
        }
    }
    out
}

/// Project names as in docs/format.md: non-empty, ≤ 128 bytes, no separators or NUL, no leading dot.
pub fn valid_project_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
}

/// Run ids as in docs/format.md: `[A-Za-z0-9_-]{1,64}`.
pub fn valid_run_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Every `<project>/<run>/` folder that holds a `run.json`.
fn list_runs(root: &Path) -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    for (project, pdir) in subdirs(root) {
        if !valid_project_name(&project) {
            continue;
        }
        for (run, rdir) in subdirs(&pdir) {
            if valid_run_id(&run) && rdir.join(RUN_FILE).is_file() {
                out.push((project.clone(), run, rdir));
            }
        }
    }
    out
}

fn subdirs(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .collect()
}
