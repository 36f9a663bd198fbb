//! The daemon's in-memory store: every known run, its metadata, and its metric series with their
//! level-of-detail pyramids. Changes are announced on a broadcast channel of [`Event`]s, which the
//! push layer turns into WebSocket deltas.
//!
//! Run files stay the source of truth: the store can drop a run's series at any time (memory
//! bound) and rebuild them from the run's files, which it reads through the run's [`RunSource`].
//! The memory bound is a byte budget ([`StoreSettings::memory_limit_bytes`]) over what histories
//! really hold, keys included ([`History::memory_bytes`]).

pub mod cache_saves;
pub mod column;
pub mod history;
pub mod media;
pub mod series;
pub mod warm;

pub use crate::format::RunKey;
use crate::source::RunSource;
use history::History;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;
use trackline_shared::annotations::RunOverlay;
use trackline_shared::{ProjectInfo, RunInfo, RunState};

/// What changed; consumers read the new data from the store.
#[derive(Clone, Debug)]
pub enum Event {
    /// A run was added or its info changed.
    Run(Arc<Run>),
    Removed(RunKey),
    /// New metric keys appeared in a run.
    Keys(Arc<Run>),
    /// A run's history rows logged new media values.
    Media(Arc<Run>),
    /// Series of a run grew: `(key, len)` for each, the key an index into the run's keys and
    /// `len` its points now. One event per read of the run, however many keys grew.
    Points {
        run: Arc<Run>,
        grown: Arc<[(usize, u64)]>,
    },
    /// Annotation op `seq` of `project` was committed (the subscriptions read it from `db/`).
    Annotations {
        project: String,
        seq: u64,
    },
    /// The artifact store of `project` changed on disk (`push::topics::artifacts` polls it).
    Artifacts {
        project: String,
    },
    /// Sweep `sweep` of `project` changed (`sweeps::controller`; the `sweeps`/`sweep` topics).
    Sweeps {
        project: String,
        sweep: String,
    },
}

/// Metadata as reported by the run's files, plus what the daemon derives from it.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub info: RunInfo,
    /// The state `run.json` claims; `info.state` may say `crashed` instead.
    pub reported_state: RunState,
}

#[cfg(test)]
impl RunMeta {
    /// The metadata of run `key` whose files say it is `state`, and nothing more (tests).
    pub fn of(key: &RunKey, state: RunState) -> RunMeta {
        RunMeta {
            info: RunInfo {
                project: key.project.clone(),
                id: key.run.clone(),
                ..RunInfo::default()
            },
            reported_state: state,
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub key: RunKey,
    /// The run's folder on this machine (raw files are served from it).
    pub dir: PathBuf,
    /// Where the run's files are read from.
    pub source: Arc<dyn RunSource>,
    meta: RwLock<RunMeta>,
    pub history: Mutex<History>,
    /// Set once the run's history is read whole under its lock (by a request, or the ingest
    /// thread following a live run): the warm-up's read of the same run aside
    /// ([`history::load_aside`]) stops, or never starts, instead of doing the work twice. Never
    /// cleared: the warm-up only runs after a start, and a run read so and evicted by memory
    /// pressure since is better left out of it.
    pub(crate) read_under_lock: AtomicBool,
    /// The history's row count when last seen (`u64::MAX`: not loaded), for [`Run::info`] while
    /// the history is busy.
    rows_seen: AtomicU64,
}

impl Run {
    /// The run's info. Its history's row count is read without waiting: a history being read
    /// whole, or saved to the cache by a low-priority thread, holds its lock a while, and the
    /// async threads that list runs must not wait for it (a busy machine starves that thread,
    /// and every request of the daemon would wait with it). Then the count last seen is given.
    pub fn info(&self) -> RunInfo {
        let mut info = self.meta.read().info.clone();
        self.note_rows();
        info.history_rows = Some(self.rows_seen.load(Ordering::Relaxed)).filter(|&r| r != u64::MAX);
        info
    }

    /// Notes the history's row count for [`Run::info`], unless the history is busy.
    fn note_rows(&self) {
        if let Some(h) = self.history.try_lock() {
            let rows = h.rows_if_loaded().unwrap_or(u64::MAX);
            self.rows_seen.store(rows, Ordering::Relaxed);
        }
    }

    pub fn meta(&self) -> RunMeta {
        self.meta.read().clone()
    }
}

/// Puts the fields an owner set over what the run's files say.
fn overlay_info(info: &mut RunInfo, overlay: &RunOverlay) {
    if let Some(name) = &overlay.name {
        info.name.clone_from(name);
    }
    if let Some(tags) = &overlay.tags {
        info.tags.clone_from(tags);
    }
}

/// Most threads [`Store::ensure_loaded_all`] reads runs on.
pub const MAX_LOAD_THREADS: usize = 8;

/// Default of [`StoreSettings::memory_limit_bytes`]: 4 GiB, about 400M points at the ~10.7 bytes a
/// point measured by the ingest bench (packed columns and pyramid, after a whole load).
pub const DEFAULT_MEMORY_LIMIT_BYTES: usize = 4 << 30;
/// Default of [`StoreSettings::max_keys_per_run`]: W&B advises under 10,000 distinct metrics.
pub const DEFAULT_MAX_KEYS_PER_RUN: usize = 10_000;
/// Default of [`StoreSettings::max_line_bytes`]: 16 MiB, far beyond any one log call of a sane
/// client (W&B advises under 25 MB a call, media files apart, which live outside the line).
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

/// Settings the store needs to derive run states and to bound what it holds.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub heartbeat_timeout: Duration,
    /// This machine's host name, to check the pids of local runs.
    pub hostname: Option<String>,
    /// Bytes of histories held in memory (points, keys, unfinished lines) before the coldest
    /// unsubscribed runs are evicted (they reload from disk on demand).
    pub memory_limit_bytes: usize,
    /// Distinct metric keys per run; values of keys past the cap are dropped, reported once a run.
    pub max_keys_per_run: usize,
    /// Longest line of `history.jsonl`/`system.jsonl` read, without its newline; a longer one is
    /// reported once and skipped.
    pub max_line_bytes: usize,
    /// The daemon's state folder (`<data dir>/.trackline`), under which large runs' histories are
    /// saved as columns (`history::SeriesCache`) so they load fast after a restart; `None` keeps
    /// no cache.
    pub cache_dir: Option<PathBuf>,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            heartbeat_timeout: Duration::from_secs(crate::config::DEFAULT_HEARTBEAT_TIMEOUT_SECS),
            hostname: None,
            memory_limit_bytes: DEFAULT_MEMORY_LIMIT_BYTES,
            max_keys_per_run: DEFAULT_MAX_KEYS_PER_RUN,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            cache_dir: None,
        }
    }
}

impl StoreSettings {
    /// The caps each run's history is read under.
    pub fn history_limits(&self) -> history::Limits {
        history::Limits {
            max_keys: self.max_keys_per_run,
            max_line_bytes: self.max_line_bytes,
        }
    }
}

#[derive(Debug)]
pub struct Store {
    runs: RwLock<BTreeMap<RunKey, Arc<Run>>>,
    version: AtomicU64,
    events: broadcast::Sender<Event>,
    settings: StoreSettings,
    /// Bytes of histories held in memory across all runs ([`History::memory_bytes`]), kept current
    /// so the memory bound is O(1) to check.
    resident_bytes: AtomicUsize,
    /// The name and tags owners gave runs in the web app (from the database), shown over what
    /// `run.json` says, also after the client rewrites it.
    overlays: RwLock<HashMap<RunKey, RunOverlay>>,
    /// Large runs' histories saved as columns (see [`StoreSettings::cache_dir`]).
    cache: Option<history::SeriesCache>,
    /// Loaded histories waiting to be saved to `cache` ([`cache_saves`]).
    saves: cache_saves::SaveQueue,
}

impl Store {
    pub fn new(settings: StoreSettings) -> Self {
        let (events, _) = broadcast::channel(16 * 1024);
        Store {
            cache: settings.cache_dir.clone().map(history::SeriesCache::new),
            runs: RwLock::new(BTreeMap::new()),
            version: AtomicU64::new(0),
            events,
            settings,
            resident_bytes: AtomicUsize::new(0),
            overlays: RwLock::new(HashMap::new()),
            saves: cache_saves::SaveQueue::default(),
        }
    }

    /// Puts the overlay held for `key`, if any, over `info`.
    fn apply_overlay(&self, key: &RunKey, info: &mut RunInfo) {
        if let Some(overlay) = self.overlays.read().get(key) {
            overlay_info(info, overlay);
        }
    }

    /// Shows `overlay` over run `overlay.run` of `project` from now on, unless the overlay held
    /// is as new; a run already known is announced with a new version when its info changed.
    pub fn set_overlay(&self, project: &str, overlay: RunOverlay) {
        let key = RunKey {
            project: project.into(),
            run: overlay.run.clone(),
        };
        {
            // Two ops answered at once may arrive here out of order: revs only grow, so the
            // newer overlay has the larger sum.
            let mut overlays = self.overlays.write();
            let revs = |o: &RunOverlay| o.name_rev + o.tags_rev;
            if overlays
                .get(&key)
                .is_some_and(|held| revs(held) >= revs(&overlay))
            {
                return;
            }
            overlays.insert(key.clone(), overlay);
        }
        let Some(run) = self.runs.read().get(&key).cloned() else {
            return;
        };
        let changed = {
            let mut meta = run.meta.write();
            let before = (meta.info.name.clone(), meta.info.tags.clone());
            // The newest overlay held (another call may have stored a newer one meanwhile).
            self.apply_overlay(&key, &mut meta.info);
            let changed = (&meta.info.name, &meta.info.tags) != (&before.0, &before.1);
            if changed {
                meta.info.version = self.next_version();
            }
            changed
        };
        if changed {
            self.emit(Event::Run(run));
        }
    }

    /// Lowers the resident total, never below zero; returns the new total.
    fn release_bytes(&self, n: usize) -> usize {
        let prev = self
            .resident_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(n))
            })
            .unwrap_or(0);
        prev.saturating_sub(n)
    }

    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub(crate) fn emit(&self, event: Event) {
        // No receivers is fine: nobody is watching.
        let _ = self.events.send(event);
    }

    /// The newest change counter handed out.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    fn next_version(&self) -> u64 {
        self.version.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn get(&self, project: &str, run: &str) -> Option<Arc<Run>> {
        self.runs
            .read()
            .get(&RunKey {
                project: project.into(),
                run: run.into(),
            })
            .cloned()
    }

    pub fn runs(&self) -> Vec<Arc<Run>> {
        self.runs.read().values().cloned().collect()
    }

    pub fn project_runs(&self, project: &str) -> Vec<Arc<Run>> {
        let runs = self.runs.read();
        let start = RunKey {
            project: project.into(),
            run: String::new(),
        };
        runs.range(start..)
            .take_while(|(k, _)| k.project == project)
            .map(|(_, r)| r.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.runs.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a run (in folder `dir`, read through `source`) or replaces its metadata; announces it
    /// when anything visible changed.
    pub fn upsert(
        &self,
        key: RunKey,
        dir: PathBuf,
        source: Arc<dyn RunSource>,
        mut meta: RunMeta,
        now_secs: f64,
    ) -> Arc<Run> {
        meta.info.state = self.derive_state(&meta, now_secs);
        // The overlay is read under the run's meta lock (or the runs lock for a new run), the
        // locks `set_overlay` takes after storing one: neither can undo the other's newer value.
        let existing = self.runs.read().get(&key).cloned();
        let run = match existing {
            Some(run) => {
                {
                    let mut cur = run.meta.write();
                    self.apply_overlay(&key, &mut meta.info);
                    let mut cmp = meta.info.clone();
                    cmp.version = cur.info.version;
                    if cmp == cur.info && cur.reported_state == meta.reported_state {
                        return run.clone();
                    }
                    meta.info.version = self.next_version();
                    *cur = meta;
                }
                run
            }
            None => {
                let mut runs = self.runs.write();
                self.apply_overlay(&key, &mut meta.info);
                meta.info.version = self.next_version();
                let run = Arc::new(Run {
                    key: key.clone(),
                    dir,
                    source,
                    meta: RwLock::new(meta),
                    history: Mutex::new(History::new(self.settings.history_limits())),
                    read_under_lock: AtomicBool::new(false),
                    rows_seen: AtomicU64::new(u64::MAX),
                });
                runs.insert(key, run.clone());
                run
            }
        };
        self.emit(Event::Run(run.clone()));
        run
    }

    pub fn remove(&self, key: &RunKey) {
        if let Some(run) = self.runs.write().remove(key) {
            if let Some(cache) = &self.cache {
                cache.remove(key);
            }
            let freed = run.history.lock().unload();
            self.release_bytes(freed);
            self.next_version();
            self.emit(Event::Removed(key.clone()));
        }
    }

    /// Re-derives the state of every running run (stale heartbeat or dead process → crashed).
    pub fn refresh_states(&self, now_secs: f64) {
        for run in self.runs() {
            let changed = {
                let mut meta = run.meta.write();
                let state = self.derive_state(&meta, now_secs);
                if state != meta.info.state {
                    meta.info.state = state;
                    meta.info.version = self.next_version();
                    true
                } else {
                    false
                }
            };
            if changed {
                self.emit(Event::Run(run.clone()));
            }
        }
    }

    fn derive_state(&self, meta: &RunMeta, now_secs: f64) -> RunState {
        if meta.reported_state != RunState::Running {
            return meta.reported_state;
        }
        let info = &meta.info;
        let stale =
            now_secs - info.heartbeat_at_secs > self.settings.heartbeat_timeout.as_secs_f64();
        let local = info.host.is_some() && info.host == self.settings.hostname;
        let dead = local && info.pid.is_some_and(|pid| !crate::util::process_alive(pid));
        if stale || dead {
            RunState::Crashed
        } else {
            RunState::Running
        }
    }

    /// Projects with their run counts, newest activity first.
    pub fn projects(&self) -> Vec<ProjectInfo> {
        let mut out: Vec<ProjectInfo> = Vec::new();
        for run in self.runs.read().values() {
            let meta = run.meta.read();
            let activity = meta.info.heartbeat_at_secs.max(meta.info.created_at_secs);
            let running = u64::from(meta.info.state == RunState::Running);
            match out.last_mut() {
                Some(p) if p.name == run.key.project => {
                    p.run_count += 1;
                    p.running_count += running;
                    p.last_activity_secs = p.last_activity_secs.max(activity);
                }
                _ => out.push(ProjectInfo {
                    name: run.key.project.clone(),
                    run_count: 1,
                    running_count: running,
                    last_activity_secs: activity,
                }),
            }
        }
        out.sort_by(|a, b| b.last_activity_secs.total_cmp(&a.last_activity_secs));
        out
    }

    /// Loads (or catches up) a run's history from disk, announcing new points, then keeps memory
    /// within bounds by evicting cold runs.
    pub fn sync_history(&self, run: &Arc<Run>) -> crate::error::Result<()> {
        self.sync_series(run, &history::SERIES_FILES)
    }

    /// [`Store::sync_history`] of the series files a change was seen in only.
    pub fn sync_series(
        &self,
        run: &Arc<Run>,
        files: &[history::SeriesFile],
    ) -> crate::error::Result<()> {
        let outcome = history::sync_files(run, files, self.cache.as_ref())?;
        self.took_in(run, outcome);
        Ok(())
    }

    /// What follows a read of a run's files: its growth is announced, and the run is saved to
    /// the series cache when the cache is behind.
    fn took_in(&self, run: &Arc<Run>, outcome: history::SyncOutcome) {
        run.note_rows();
        let save = outcome.cache_behind;
        self.publish_growth(run, outcome);
        if save {
            self.save_to_cache_soon(run);
        }
    }

    /// [`Store::ensure_loaded`] for the warm-up: the run is read without holding its lock (see
    /// [`history::load_aside`]). Answers whether this call loaded it.
    pub fn load_aside(&self, run: &Arc<Run>) -> crate::error::Result<bool> {
        let Some(outcome) = history::load_aside(run, self.cache.as_ref())? else {
            return Ok(false);
        };
        self.took_in(run, outcome);
        Ok(true)
    }

    /// Feeds bytes the daemon itself has just appended at `offset` of a run's series file (remote
    /// ingest, right after writing them) straight into its history, when it has read exactly
    /// that far ([`history::feed_written`]); otherwise the ingest thread reads them from the
    /// file as usual.
    pub fn feed_written(
        &self,
        project: &str,
        run: &str,
        file: history::SeriesFile,
        offset: u64,
        bytes: &[u8],
    ) {
        let Some(run) = self.get(project, run) else {
            return;
        };
        if let Some(outcome) = history::feed_written(&run, file, offset, bytes) {
            self.publish_growth(&run, outcome);
        }
    }

    /// Announces what a history read, and keeps memory within bounds by evicting cold runs.
    fn publish_growth(&self, run: &Arc<Run>, outcome: history::SyncOutcome) {
        if !outcome.grown.is_empty() {
            self.emit(Event::Points {
                run: run.clone(),
                grown: outcome.grown.into(),
            });
        }
        if outcome.new_keys {
            self.emit(Event::Keys(run.clone()));
        }
        if outcome.media_grown {
            self.emit(Event::Media(run.clone()));
        }
        let total = if outcome.memory_after >= outcome.memory_before {
            let grew = outcome.memory_after - outcome.memory_before;
            self.resident_bytes.fetch_add(grew, Ordering::Relaxed) + grew
        } else {
            self.release_bytes(outcome.memory_before - outcome.memory_after)
        };
        if total > self.settings.memory_limit_bytes {
            self.enforce_memory_bound(run);
        }
    }

    /// Makes sure a run's series are in memory (they may have been evicted or never loaded).
    pub fn ensure_loaded(&self, run: &Arc<Run>) -> crate::error::Result<()> {
        let loaded = run.history.lock().is_loaded();
        if loaded {
            Ok(())
        } else {
            self.sync_history(run)
        }
    }

    /// [`Store::ensure_loaded`] of several runs, those not in memory read side by side (one thread
    /// per core, at most [`MAX_LOAD_THREADS`]): the first chart over many runs after a restart
    /// waits for the slowest share, not the sum. Answers the first error met.
    pub fn ensure_loaded_all(&self, runs: &[Arc<Run>]) -> crate::error::Result<()> {
        let unloaded: Vec<&Arc<Run>> = runs
            .iter()
            .filter(|r| !r.history.lock().is_loaded())
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_LOAD_THREADS)
            .min(unloaded.len());
        if threads <= 1 {
            return unloaded.into_iter().try_for_each(|r| self.ensure_loaded(r));
        }
        let next = AtomicUsize::new(0);
        let first_error = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    while let Some(run) = unloaded.get(next.fetch_add(1, Ordering::Relaxed)) {
                        if let Err(e) = self.ensure_loaded(run) {
                            first_error.lock().get_or_insert(e);
                        }
                    }
                });
            }
        });
        first_error.into_inner().map_or(Ok(()), Err)
    }

    /// The cache of large runs' histories, when the store keeps one.
    pub fn series_cache(&self) -> Option<&history::SeriesCache> {
        self.cache.as_ref()
    }

    /// Bytes of histories held in memory across all runs, as [`History::memory_bytes`] counts them.
    pub fn resident_bytes(&self) -> usize {
        self.resident_bytes.load(Ordering::Relaxed)
    }

    /// Evicts the least recently used unsubscribed runs until the total is within bounds.
    /// Only called when over the bound, so its walk over all runs is rare.
    fn enforce_memory_bound(&self, keep: &Arc<Run>) {
        let runs = self.runs();
        let mut resident = self.resident_bytes();
        let mut candidates: Vec<(std::time::Instant, Arc<Run>)> = runs
            .into_iter()
            .filter(|r| !Arc::ptr_eq(r, keep))
            .filter_map(|r| {
                let h = r.history.lock();
                (h.is_loaded() && h.subscribers == 0).then(|| (h.last_used, r.clone()))
            })
            .collect();
        candidates.sort_by_key(|(used, _)| *used);
        for (_, run) in candidates {
            if resident <= self.settings.memory_limit_bytes {
                break;
            }
            let mut h = run.history.lock();
            // Saved first when the cache lacks points, so the run comes back fast.
            if let Some(cache) = &self.cache
                && h.has_unsaved_points()
                && h.resident_points() >= history::MIN_CACHED_POINTS
            {
                history::save_to_cache(&run, &mut h, cache);
            }
            let freed = h.unload();
            drop(h);
            resident = self.release_bytes(freed);
            tracing::debug!(run = %run.key.run, freed, "evicted cold series");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{HISTORY_FILE, SYSTEM_FILE};
    use crate::source::disk::DiskSource;

    /// Writes run `p/<id>` with `rows` history rows; answers it with the metadata a reader would find.
    fn write_run(source: &DiskSource, id: &str, rows: usize) -> (RunKey, PathBuf, RunMeta) {
        let key = RunKey {
            project: "p".into(),
            run: id.into(),
        };
        let dir = source.run_dir(&key);
        std::fs::create_dir_all(&dir).unwrap();
        let mut h = String::new();
        for s in 0..rows {
            h.push_str(&format!(
                "{{\"_step\": {s}, \"_timestamp\": {s}, \"a\": {s}, \"b\": -{s}}}\n"
            ));
        }
        std::fs::write(dir.join(HISTORY_FILE), h).unwrap();
        let meta = RunMeta {
            info: RunInfo {
                project: key.project.clone(),
                id: key.run.clone(),
                created_at_secs: 1.0,
                heartbeat_at_secs: 1.0,
                ..RunInfo::default()
            },
            reported_state: RunState::Running,
        };
        (key, dir, meta)
    }

    /// A run's info never waits for its history: while the history is held (read whole, or
    /// saved by the low-priority thread), the row count last seen is given.
    #[test]
    fn info_does_not_wait_for_a_busy_history() {
        let root = tempfile::tempdir().unwrap();
        let source = Arc::new(DiskSource::new(root.path().to_owned()));
        let (key, dir, meta) = write_run(&source, "r1", 3);
        let store = Store::new(StoreSettings::default());
        let run = store.upsert(key, dir, source, meta, 2.0);
        assert_eq!(run.info().history_rows, None);
        store.ensure_loaded(&run).unwrap();
        let held = run.history.lock();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = run.clone();
        std::thread::spawn(move || tx.send(reader.info().history_rows));
        let rows = rx.recv_timeout(Duration::from_secs(10));
        drop(held);
        assert_eq!(rows, Ok(Some(3)), "info waited for the history");
    }

    #[test]
    fn an_overlay_shows_over_run_json_bumps_the_version_and_an_older_one_is_ignored() {
        let root = tempfile::tempdir().unwrap();
        let source = Arc::new(DiskSource::new(root.path().to_owned()));
        let (key, dir, mut meta) = write_run(&source, "r1", 1);
        meta.info.name = "from the client".into();
        let store = Store::new(StoreSettings::default());
        let run = store.upsert(key.clone(), dir.clone(), source.clone(), meta.clone(), 2.0);
        let before = run.info().version;
        let mut events = store.subscribe();
        let overlay = |name: &str, name_rev: u64| RunOverlay {
            run: "r1".into(),
            name: Some(name.into()),
            name_rev,
            tags: Some(vec!["best".into()]),
            tags_rev: 1,
            ..RunOverlay::default()
        };
        store.set_overlay("p", overlay("renamed", 2));
        assert!(matches!(events.try_recv(), Ok(Event::Run(_))));
        let info = run.info();
        assert_eq!(
            (info.name.as_str(), info.tags.as_slice()),
            ("renamed", &["best".to_string()][..])
        );
        assert!(info.version > before);
        // An older overlay arriving late changes nothing.
        store.set_overlay("p", overlay("older", 1));
        assert_eq!(run.info().name, "renamed");
        assert!(events.try_recv().is_err());
        // The client rewriting run.json keeps the overlay; its other fields still count.
        meta.info.notes = Some("new notes".into());
        store.upsert(key, dir, source, meta, 2.0);
        let info = run.info();
        assert_eq!(
            (info.name.as_str(), info.notes.as_deref()),
            ("renamed", Some("new notes"))
        );
    }

    #[test]
    fn cold_series_are_evicted_and_reloaded_on_demand() {
        let root = tempfile::tempdir().unwrap();
        let source = Arc::new(DiskSource::new(root.path().to_owned()));
        let mut written = Vec::new();
        for id in ["r1", "r2"] {
            written.push(write_run(&source, id, 1_000));
        }
        // What one run of 2,000 points costs, measured on a store without pressure.
        let one_run = {
            let store = Store::new(StoreSettings::default());
            let (key, dir, meta) = written[0].clone();
            let run = store.upsert(key, dir, source.clone(), meta, 2.0);
            store.ensure_loaded(&run).unwrap();
            assert_eq!(store.resident_bytes(), run.history.lock().memory_bytes());
            store.resident_bytes()
        };
        assert!(one_run >= 2_000 * size_of::<f64>(), "{one_run}");
        let store = Store::new(StoreSettings {
            memory_limit_bytes: one_run * 3 / 2,
            ..StoreSettings::default()
        });
        let runs: Vec<Arc<Run>> = written
            .into_iter()
            .map(|(key, dir, meta)| store.upsert(key, dir, source.clone(), meta, 2.0))
            .collect();
        let resident = |r: &Arc<Run>| r.history.lock().resident_points();
        store.ensure_loaded(&runs[0]).unwrap();
        assert_eq!(resident(&runs[0]), 2_000);
        assert_eq!(store.resident_bytes(), one_run);
        // Loading the second run goes over the bound: the colder first run is dropped.
        store.ensure_loaded(&runs[1]).unwrap();
        assert_eq!(resident(&runs[1]), 2_000);
        assert_eq!(resident(&runs[0]), 0);
        assert!(!runs[0].history.lock().is_loaded());
        assert_eq!(store.resident_bytes(), one_run);
        // A subscribed run is never evicted, and an evicted one comes back whole.
        runs[1].history.lock().subscribers = 1;
        store.ensure_loaded(&runs[0]).unwrap();
        assert_eq!(resident(&runs[0]), 2_000);
        assert_eq!(resident(&runs[1]), 2_000);
        assert_eq!(store.resident_bytes(), 2 * one_run);
        store.remove(&runs[1].key);
        assert_eq!(store.resident_bytes(), one_run);
        let h = runs[0].history.lock();
        let b = h.series_by_key("b").unwrap();
        assert_eq!(b.values()[999], -999.0);
        assert_eq!(b.steps().get(999), 999.0);
    }

    #[test]
    fn system_metrics_become_series_indexed_by_sample() {
        let root = tempfile::tempdir().unwrap();
        let source = Arc::new(DiskSource::new(root.path().to_owned()));
        let store = Store::new(StoreSettings::default());
        let (key, dir, meta) = write_run(&source, "r1", 3);
        std::fs::write(
            dir.join(SYSTEM_FILE),
            "{\"_timestamp\": 10, \"system/cpu_percent\": 50}\n{\"_timestamp\": 20, \"system/cpu_percent\": 70}\n{\"_timestamp\": 30, \"sys",
        )
        .unwrap();
        let run = store.upsert(key, dir.clone(), source, meta, 2.0);
        store.ensure_loaded(&run).unwrap();
        {
            let h = run.history.lock();
            let cpu = h.series_by_key("system/cpu_percent").unwrap();
            assert_eq!(cpu.steps().to_vec(), [0.0, 1.0]);
            assert_eq!(cpu.wall().to_vec(), [10.0, 20.0]);
            assert_eq!(h.series_by_key("a").unwrap().len(), 3);
            assert_eq!(h.rows_if_loaded(), Some(3));
        }
        // The torn sample completes later and is read once.
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join(SYSTEM_FILE))
            .unwrap();
        f.write_all(b"tem/cpu_percent\": 90}\n").unwrap();
        store.sync_history(&run).unwrap();
        let h = run.history.lock();
        assert_eq!(
            h.series_by_key("system/cpu_percent").unwrap().values(),
            &[50.0, 70.0, 90.0]
        );
    }

    #[test]
    fn states_are_derived_from_heartbeat_and_pid() {
        let store = Store::new(StoreSettings {
            heartbeat_timeout: Duration::from_secs(60),
            hostname: Some("here".into()),
            ..StoreSettings::default()
        });
        let meta = |host: &str, pid: u32, heartbeat: f64, reported: RunState| RunMeta {
            info: RunInfo {
                host: Some(host.into()),
                pid: Some(pid),
                heartbeat_at_secs: heartbeat,
                ..RunInfo::default()
            },
            reported_state: reported,
        };
        let me = std::process::id();
        assert_eq!(
            store.derive_state(&meta("here", me, 100.0, RunState::Running), 120.0),
            RunState::Running
        );
        assert_eq!(
            store.derive_state(&meta("here", me, 100.0, RunState::Running), 200.0),
            RunState::Crashed
        );
        assert_eq!(
            store.derive_state(&meta("here", u32::MAX, 100.0, RunState::Running), 101.0),
            RunState::Crashed
        );
        assert_eq!(
            store.derive_state(&meta("else", u32::MAX, 100.0, RunState::Running), 101.0),
            RunState::Running
        );
        assert_eq!(
            store.derive_state(&meta("here", u32::MAX, 0.0, RunState::Finished), 1e9),
            RunState::Finished
        );
    }

    /// The crash rule shared with the Python client: every case of
    /// `tests/fixtures/run_state_cases.json`, read from `run.json` text as ingest reads it.
    #[test]
    fn states_agree_with_the_shared_run_state_cases() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/run_state_cases.json"))
                .unwrap();
        let timeout = fixture["heartbeat_timeout_secs"].as_u64().unwrap();
        assert_eq!(timeout, crate::config::DEFAULT_HEARTBEAT_TIMEOUT_SECS);
        let here = crate::util::local_hostname();
        let store = Store::new(StoreSettings {
            heartbeat_timeout: Duration::from_secs(timeout),
            hostname: Some(here.clone().unwrap_or_else(|| "this-machine".into())),
            ..StoreSettings::default()
        });
        let key = RunKey {
            project: "p".into(),
            run: "r".into(),
        };
        let dir = PathBuf::from("p/r");
        let cases = fixture["cases"].as_array().unwrap();
        assert!(!cases.is_empty());
        for case in cases {
            let name = case["name"].as_str().unwrap();
            // The cases leave out the id every run.json carries: it is the folder's name.
            let mut run = case["run"].clone();
            run["id"] = key.run.clone().into();
            let text = run.to_string();
            let file = crate::format::files::RunFile::parse(text.as_bytes(), &dir.join("run.json"))
                .unwrap();
            assert_ne!(file.host, here, "{name}: the case's host is this machine");
            let reported_state = file.reported_state(&key, &dir).unwrap();
            let meta = RunMeta {
                info: file.into_info(
                    &key,
                    reported_state,
                    Default::default(),
                    Default::default(),
                    Default::default(),
                ),
                reported_state,
            };
            let now = case["now"].as_f64().unwrap();
            let expected = case["state"].as_str().unwrap();
            assert_eq!(store.derive_state(&meta, now).as_str(), expected, "{name}");
        }
    }
}

/// Hostile input through the whole store: what a run's files can cost in reads and memory.
#[cfg(test)]
mod bound_tests {
    use super::*;
    use crate::format::{FormatError, HISTORY_FILE};
    use crate::source::disk::DiskSource;
    use crate::source::{Change, FileStat, OpenFile, WatchGuard};
    use std::io::{Read, Write};
    use std::sync::mpsc;

    /// A disk source that counts the bytes read through it.
    #[derive(Debug)]
    struct CountingSource {
        disk: DiskSource,
        read: Arc<AtomicU64>,
    }

    struct CountingReader {
        inner: Box<dyn Read + Send>,
        read: Arc<AtomicU64>,
    }

    impl Read for CountingReader {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.fetch_add(n as u64, Ordering::Relaxed);
            Ok(n)
        }
    }

    impl RunSource for CountingSource {
        fn discover(&self) -> Vec<RunKey> {
            self.disk.discover()
        }
        fn run_exists(&self, run: &RunKey) -> bool {
            self.disk.run_exists(run)
        }
        fn stat(&self, run: &RunKey, name: &str) -> Result<Option<FileStat>, FormatError> {
            self.disk.stat(run, name)
        }
        fn open(
            &self,
            run: &RunKey,
            name: &str,
            offset: u64,
        ) -> Result<Option<OpenFile>, FormatError> {
            Ok(self.disk.open(run, name, offset)?.map(|f| OpenFile {
                reader: Box::new(CountingReader {
                    inner: f.reader,
                    read: self.read.clone(),
                }),
                ..f
            }))
        }
        fn watch(&self, changes: mpsc::Sender<Change>) -> std::io::Result<WatchGuard> {
            self.disk.watch(changes)
        }
    }

    /// A store with one run `p/r` read through a counting source; answers the run, its history
    /// file and the byte counter.
    fn counted_run(
        root: &std::path::Path,
        settings: StoreSettings,
    ) -> (Store, Arc<Run>, PathBuf, Arc<AtomicU64>) {
        let read = Arc::new(AtomicU64::new(0));
        let source = Arc::new(CountingSource {
            disk: DiskSource::new(root.to_owned()),
            read: read.clone(),
        });
        let key = RunKey {
            project: "p".into(),
            run: "r".into(),
        };
        let dir = source.disk.run_dir(&key);
        std::fs::create_dir_all(&dir).unwrap();
        let meta = RunMeta::of(&key, RunState::Running);
        let store = Store::new(settings);
        let run = store.upsert(key, dir.clone(), source, meta, 0.0);
        (store, run, dir.join(HISTORY_FILE), read)
    }

    fn append(path: &std::path::Path, bytes: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(bytes).unwrap();
    }

    /// A line that grows for a long time before its newline costs each appended byte once, not
    /// its whole length again on every change; so does one that grows past the line cap.
    #[test]
    fn a_growing_unfinished_line_is_read_once() {
        for (cap, kept) in [(DEFAULT_MAX_LINE_BYTES, true), (64 << 10, false)] {
            let root = tempfile::tempdir().unwrap();
            let settings = StoreSettings {
                max_line_bytes: cap,
                ..StoreSettings::default()
            };
            let (store, run, history, read) = counted_run(root.path(), settings);
            append(
                &history,
                b"{\"_step\": 0, \"a\": 1}\n{\"_step\": 1, \"a\": 2, \"s\": \"",
            );
            store.sync_history(&run).unwrap();
            let piece = vec![b'x'; 20 << 10];
            for _ in 0..100 {
                append(&history, &piece);
                store.sync_history(&run).unwrap();
            }
            append(&history, b"\"}\n{\"_step\": 2, \"a\": 3}\n");
            store.sync_history(&run).unwrap();
            let len = std::fs::metadata(&history).unwrap().len();
            assert_eq!(read.load(Ordering::Relaxed), len, "cap {cap}");
            let h = run.history.lock();
            let steps: &[f64] = if kept { &[0.0, 1.0, 2.0] } else { &[0.0, 2.0] };
            assert_eq!(
                h.series_by_key("a").unwrap().steps().to_vec(),
                steps,
                "cap {cap}"
            );
            assert_eq!(h.bad_lines(), u64::from(!kept));
            assert_eq!(store.resident_bytes(), h.memory_bytes());
        }
    }

    /// 17 MB of history naming 1.2M distinct keys: the run keeps the first 10,000 and the store's
    /// own count of its memory stays a few MB; a key it kept still ingests.
    #[test]
    fn a_flood_of_distinct_keys_stays_bounded() {
        let root = tempfile::tempdir().unwrap();
        let (store, run, history, _) = counted_run(root.path(), StoreSettings::default());
        let mut text = String::with_capacity(18 << 20);
        for row in 0..12_000 {
            text.push_str(&format!("{{\"_step\": {row}"));
            for k in 0..100 {
                text.push_str(&format!(", \"k{:07}\": 1", row * 100 + k));
            }
            text.push_str("}\n");
        }
        assert!(text.len() > 17_000_000, "{}", text.len());
        append(&history, text.as_bytes());
        store.sync_history(&run).unwrap();
        append(&history, b"{\"_step\": 12000, \"k0000007\": 2}\n");
        store.sync_history(&run).unwrap();
        let h = run.history.lock();
        assert_eq!(h.keys().len(), DEFAULT_MAX_KEYS_PER_RUN);
        assert_eq!(h.dropped_values(), 1_200_000 - 10_000);
        assert_eq!(h.series_by_key("k0000007").unwrap().values(), &[1.0, 2.0]);
        assert!(h.key_index("k0010000").is_none());
        let bytes = store.resident_bytes();
        assert_eq!(bytes, h.memory_bytes());
        assert!(bytes < 8 << 20, "{bytes} bytes for 10,000 keys");
    }

    /// The budget counts keys: two runs of many keys and a handful of points each overflow a
    /// budget that points alone would not, and the colder run is evicted.
    #[test]
    fn keys_count_against_the_memory_budget() {
        let root = tempfile::tempdir().unwrap();
        let source = Arc::new(DiskSource::new(root.path().to_owned()));
        let mut row = String::from("{\"_step\": 0");
        for k in 0..5_000 {
            row.push_str(&format!(", \"metric/{k}\": 1"));
        }
        row.push_str("}\n");
        let store = Store::new(StoreSettings {
            // 10,000 points at the 33.6 bytes a point of a long series (in plain columns; fewer
            // packed) would fit 4x over.
            memory_limit_bytes: 10_000 * 34 * 4,
            ..StoreSettings::default()
        });
        let runs: Vec<Arc<Run>> = ["r1", "r2"]
            .into_iter()
            .map(|id| {
                let key = RunKey {
                    project: "p".into(),
                    run: id.into(),
                };
                let dir = source.run_dir(&key);
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join(HISTORY_FILE), &row).unwrap();
                let meta = RunMeta {
                    info: RunInfo::default(),
                    reported_state: RunState::Running,
                };
                store.upsert(key, dir, source.clone(), meta, 0.0)
            })
            .collect();
        store.ensure_loaded(&runs[0]).unwrap();
        let one = store.resident_bytes();
        assert!(one > 5_000 * 300, "{one}");
        store.ensure_loaded(&runs[1]).unwrap();
        assert!(!runs[0].history.lock().is_loaded());
        assert_eq!(
            store.resident_bytes(),
            runs[1].history.lock().memory_bytes()
        );
    }
}
