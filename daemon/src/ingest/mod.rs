//! Ingest: discovers run directories under the data directory and follows their files into the
//! store, reading them through a [`RunSource`]. [`Ingest::scan`] walks everything (at start-up and
//! as a periodic safety net); [`watch`] turns the source's changes into targeted updates within
//! milliseconds; [`remote`] writes remote clients' batches into run folders.

pub mod commit;
pub mod remote;
pub mod watch;

use crate::db::index::RunIndex;
use crate::error::Result;
use crate::format::files::{RunFile, parse_object};
use crate::format::{
    CONFIG_FILE, FormatError, METADATA_FILES, METRICS_FILE, RUN_FILE, SUMMARY_FILE,
};
use crate::source::disk::DiskSource;
use crate::source::{RunSource, read_whole};
use crate::store::history::SeriesFile;
use crate::store::{RunKey, RunMeta, Store};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;
use trackline_shared::{RunInfo, RunState};

/// Follows one data directory into one store. Owned by the ingest thread.
#[derive(Debug)]
pub struct Ingest {
    /// The data directory: run `<project>/<run>` is the folder `data_dir/<project>/<run>`.
    data_dir: PathBuf,
    source: Arc<dyn RunSource>,
    store: Arc<Store>,
    index: RunIndex,
    /// Fingerprint of the metadata files each known run was last read from.
    fingerprints: HashMap<RunKey, String>,
    /// Runs whose files failed to parse, with the fingerprint that failed (reported once).
    broken: HashMap<RunKey, String>,
}

impl Ingest {
    pub fn new(data_dir: PathBuf, store: Arc<Store>, index: RunIndex) -> Self {
        Ingest {
            source: Arc::new(DiskSource::new(data_dir.clone())),
            data_dir,
            store,
            index,
            fingerprints: HashMap::new(),
            broken: HashMap::new(),
        }
    }

    /// Where the runs are read from.
    pub fn source(&self) -> &dyn RunSource {
        self.source.as_ref()
    }

    fn run_dir(&self, key: &RunKey) -> PathBuf {
        self.data_dir.join(&key.project).join(&key.run)
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
        for key in self.source.discover() {
            let dir = self.run_dir(&key);
            seen.insert(key.clone());
            let fp = fingerprint(self.source.as_ref(), &key);
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
                self.store.upsert(
                    key.clone(),
                    dir,
                    self.source.clone(),
                    meta,
                    crate::util::now_secs(),
                );
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
        if !matches!(self.source.stat(&key, RUN_FILE), Ok(Some(_))) {
            if !self.source.run_exists(&key) {
                self.forget(&key);
            }
            return;
        }
        let dir = self.run_dir(&key);
        let fp = fingerprint(self.source.as_ref(), &key);
        if self.fingerprints.get(&key) == Some(&fp) {
            return;
        }
        if let Some(changed) = self.read_run(&key, &dir, fp, true) {
            self.write_index(&[changed]);
        }
    }

    /// Reads what was appended to the series files `files` of a known, loaded-or-live run (after
    /// a change to them).
    pub fn refresh_history(&mut self, project: &str, run: &str, files: &[SeriesFile]) {
        let key = RunKey {
            project: project.into(),
            run: run.into(),
        };
        if !self.fingerprints.contains_key(&key) {
            self.refresh_run(project, run);
        }
        if self.fingerprints.contains_key(&key)
            && let Some(r) = self.store.get(project, run)
            && let Err(e) = self.store.sync_series(&r, files)
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
        match read_meta(self.source.as_ref(), key, dir) {
            Ok(meta) => {
                self.broken.remove(key);
                let state = meta.reported_state;
                let run = self.store.upsert(
                    key.clone(),
                    dir.to_owned(),
                    self.source.clone(),
                    meta,
                    crate::util::now_secs(),
                );
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

/// Reads a run's metadata files from `source` into what the store keeps; `dir` (the run's folder)
/// names the files in errors.
pub fn read_meta(source: &dyn RunSource, key: &RunKey, dir: &Path) -> Result<RunMeta> {
    let run_path = dir.join(RUN_FILE);
    let bytes = read_whole(source, key, RUN_FILE)?.ok_or_else(|| FormatError::NotARun {
        dir: dir.to_owned(),
    })?;
    let file = RunFile::parse(&bytes, &run_path)?;
    let reported_state = file.reported_state(key, dir)?;
    let object = |name: &str| -> Result<_> {
        Ok(match read_whole(source, key, name)? {
            Some(bytes) => parse_object(&bytes, &dir.join(name))?,
            None => serde_json::Map::new(),
        })
    };
    let (config, summary, metrics) = (
        object(CONFIG_FILE)?,
        object(SUMMARY_FILE)?,
        object(METRICS_FILE)?,
    );
    Ok(RunMeta {
        info: file.into_info(key, reported_state, config, summary, metrics),
        reported_state,
    })
}

/// `mtime:len` of each metadata file: equal fingerprints mean nothing to re-read.
fn fingerprint(source: &dyn RunSource, key: &RunKey) -> String {
    let mut out = String::with_capacity(96);
    for name in METADATA_FILES {
        match source.stat(key, name) {
            Ok(Some(m)) => {
                let mtime = m
                    .modified
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                out.push_str(&format!("{mtime}:{};", m.len));
            }
            Ok(None) | Err(_) => out.push_str("-;"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_read_through_the_source() {
        let root = tempfile::tempdir().unwrap();
        let source = DiskSource::new(root.path().to_owned());
        let key = RunKey {
            project: "p".into(),
            run: "r1".into(),
        };
        let dir = source.run_dir(&key);
        std::fs::create_dir_all(&dir).unwrap();
        let err = read_meta(&source, &key, &dir).unwrap_err().to_string();
        assert_eq!(err, format!("{}: no {RUN_FILE}", dir.display()));
        std::fs::write(
            dir.join(RUN_FILE),
            r#"{"id": "r1", "name": "first", "created_at": 5, "state": "finished"}"#,
        )
        .unwrap();
        std::fs::write(dir.join(CONFIG_FILE), r#"{"lr": Infinity}"#).unwrap();
        let meta = read_meta(&source, &key, &dir).unwrap();
        assert_eq!(meta.reported_state, RunState::Finished);
        assert_eq!(meta.info.name, "first");
        assert_eq!(meta.info.config["lr"], "Infinity");
        assert!(meta.info.summary.is_empty());
        let before = fingerprint(&source, &key);
        assert!(before.ends_with("-;-;"), "{before}");
        std::fs::write(dir.join(SUMMARY_FILE), "[]").unwrap();
        assert_ne!(fingerprint(&source, &key), before);
        let err = read_meta(&source, &key, &dir).unwrap_err().to_string();
        assert!(
            err.ends_with(&format!("{SUMMARY_FILE}: expected a JSON object")),
            "{err}"
        );
    }
    /// What Python writes for `config.x = 10**400` (its 401 digits) and `1e400`: the run still
    /// shows, with the exact text of each value, and so does a remote batch carrying them.
    #[test]
    fn numbers_beyond_f64_never_hide_a_run() {
        let root = tempfile::tempdir().unwrap();
        let source = DiskSource::new(root.path().to_owned());
        let key = RunKey {
            project: "p".into(),
            run: "r1".into(),
        };
        let dir = source.run_dir(&key);
        std::fs::create_dir_all(&dir).unwrap();
        let big = format!("1{}", "0".repeat(400));
        std::fs::write(dir.join(RUN_FILE), r#"{"id": "r1", "created_at": 1e400}"#).unwrap();
        std::fs::write(
            dir.join(CONFIG_FILE),
            format!(r#"{{"x": {big}, "neg": -{big}, "e": 1e400, "inf": Infinity, "lr": 0.001}}"#),
        )
        .unwrap();
        std::fs::write(dir.join(SUMMARY_FILE), r#"{"best": -1E+999}"#).unwrap();
        let err = read_meta(&source, &key, &dir).unwrap_err().to_string();
        // run.json's own fields are typed: a creation time beyond range is refused, and said so.
        assert!(
            err.contains("run.json") && err.contains("\"1e400\""),
            "{err}"
        );
        std::fs::write(dir.join(RUN_FILE), r#"{"id": "r1", "created_at": 5}"#).unwrap();
        let info = read_meta(&source, &key, &dir).unwrap().info;
        assert_eq!(info.config["x"], big.as_str());
        assert_eq!(info.config["neg"], format!("-{big}").as_str());
        assert_eq!(info.config["e"], "1e400");
        assert_eq!(info.config["inf"], "Infinity");
        assert_eq!(info.config["lr"], 0.001);
        assert_eq!(info.summary["best"], "-1E+999");

        let body = format!(
            r#"{{"project": "p", "run": "r2", "files": {{"config.json": {{"x": {big}}}}}, "append": {{"history.jsonl": {{"offset": 0, "data": "{{\"_step\": 0, \"a\": 1e400}}\n"}}}}}}"#
        );
        let batch: remote::Batch =
            serde_json::from_value(crate::format::files::parse_lenient(&body).unwrap()).unwrap();
        assert_eq!(batch.files["config.json"]["x"], big.as_str());
        assert_eq!(
            batch.append["history.jsonl"].data,
            "{\"_step\": 0, \"a\": 1e400}\n"
        );
    }
}
