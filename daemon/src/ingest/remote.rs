//! Applies batches from remote clients (`POST /api/ingest/v1/batch`) to run folders on disk, in
//! format v1 and through the format's one writer, so they flow into the store exactly like a local
//! client's files.
//!
//! Appends are idempotent by byte offset: a batch says how long it believes each file is, and a
//! retried batch, or one cut short by a crash, is completed rather than duplicated. A batch may
//! replace the small JSON files ([`METADATA_FILES`]) and append to the append-only ones
//! ([`APPEND_FILES`]).
//!
//! [`RemoteIngest`] lets many clients write at once: batches for one run take turns (their offset
//! checks must not interleave), batches for different runs run side by side, and what they append
//! is made durable together by [`GroupCommit`] before any of them is acknowledged. The files a run
//! appends to stay open between its batches ([`HeldFiles`], a few hundred runs at most, closed
//! after [`HELD_IDLE`] without a batch), and are used only while each is still the run's file.

use super::commit::{GroupCommit, Unsynced};
use crate::error::{Error, Result};
use crate::format::beneath::HeldDir;
use crate::format::writer::{FileId, Placed, RunWriter};
use crate::format::{
    APPEND_FILES, FormatError, METADATA_FILES, RUN_FILE, is_line_file, valid_project_name,
    valid_run_id,
};
use crate::store::Store;
use crate::store::history::SeriesFile;
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Series lines of at most this many bytes a batch hands to the store as it writes them; a larger
/// append (thousands of rows) is left to the ingest thread, so that parsing it does not hold up the
/// async task that wrote it.
pub const FEED_MAX_BYTES: usize = 64 << 10;

/// Runs whose append files are kept open between batches, at most.
pub const HELD_RUNS: usize = 256;
/// A run's append files are closed once this long passes without a batch for it (noticed by a
/// later batch of any run).
pub const HELD_IDLE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct Batch {
    pub project: String,
    pub run: String,
    #[serde(default)]
    pub files: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub append: BTreeMap<String, Append>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Append {
    pub offset: u64,
    pub data: String,
}

/// What applying a batch did.
#[derive(Debug)]
pub enum Applied {
    /// Every append is now in place; the files' new lengths.
    Ok(BTreeMap<String, u64>),
    /// Some file's length did not fit its offset; the daemon's lengths, for the client to resume.
    Conflict(BTreeMap<String, u64>),
}

/// Checks a batch without touching the disk.
pub fn validate(batch: &Batch) -> Result<()> {
    if !valid_project_name(&batch.project) {
        return Err(Error::BadRequest(format!(
            "invalid project name '{}'",
            batch.project
        )));
    }
    if !valid_run_id(&batch.run) {
        return Err(Error::BadRequest(format!(
            "invalid run id '{}' (want [A-Za-z0-9_-]{{1,64}})",
            batch.run
        )));
    }
    for (name, value) in &batch.files {
        if !METADATA_FILES.contains(&name.as_str()) {
            return Err(Error::BadRequest(format!("'{name}' may not be replaced")));
        }
        if !value.is_object() {
            return Err(Error::BadRequest(format!("'{name}' must be a JSON object")));
        }
        if name == RUN_FILE && value.get("id").and_then(|v| v.as_str()) != Some(batch.run.as_str())
        {
            return Err(Error::BadRequest(format!(
                "{RUN_FILE}'s id must equal the batch's run"
            )));
        }
    }
    for (name, a) in &batch.append {
        if !APPEND_FILES.contains(&name.as_str()) {
            return Err(Error::BadRequest(format!(
                "'{name}' may not be appended to"
            )));
        }
        if is_line_file(name) && !a.data.is_empty() && !a.data.ends_with('\n') {
            return Err(Error::BadRequest(format!(
                "data for '{name}' must be whole lines"
            )));
        }
    }
    Ok(())
}

/// Writes remote batches and file chunks into the data directory: one lock per run and group
/// commit of the appends. One per daemon (the API's state holds it).
#[derive(Debug, Default)]
pub struct RemoteIngest {
    runs: RunLocks,
    commit: GroupCommit,
    /// The data directory written to, held open so that it is not resolved again for every batch.
    root: Mutex<Option<Arc<HeldDir>>>,
    held: HeldFiles,
}

impl RemoteIngest {
    /// Writes a (validated) batch under `root`: appends first, then the replaced files (so
    /// `run.json` saying "finished" never arrives before the data it finishes). The appends are
    /// durable before this returns, whatever the answer, so an acknowledged batch survives a
    /// crash, and the lengths a conflict reports are durable too. With `feed`, the series lines
    /// are also handed to that store as they are written ([`Store::feed_written`]), so that it
    /// need not read them back from the files.
    pub fn apply(&self, root: &Path, batch: &Batch, feed: Option<&Store>) -> Result<Applied> {
        let root = self.held_root(root);
        let _run = self.runs.lock(&batch.project, &batch.run);
        let key = (batch.project.clone(), batch.run.clone());
        let mut open = self.held.take(&key);
        let applied = apply_locked(root, batch, &self.commit, &mut open, feed);
        // After a failure the files are opened afresh by the next batch.
        if applied.is_ok() {
            self.held.put(key, open);
        }
        applied
    }

    /// [`RemoteIngest::apply`] for an async caller. A batch of appends only, whose run has no
    /// other batch in progress, is written on the calling task (a few small writes, to files held
    /// open) and then waits for its commit round without holding a thread; any other batch (one
    /// that replaces files, which fsyncs them, or waits for its run's turn) runs on the blocking
    /// pool. Either way the answer comes once the appends are durable.
    pub async fn apply_async(
        self: &Arc<Self>,
        root: &Arc<HeldDir>,
        batch: Batch,
        feed: Option<&Arc<Store>>,
    ) -> Result<Applied> {
        if batch.files.is_empty() {
            let held_root = root.clone();
            if let Some(_turn) = self.runs.try_lock(&batch.project, &batch.run) {
                let key = (batch.project.clone(), batch.run.clone());
                let mut open = self.held.take(&key);
                let applied = async {
                    let mut appended =
                        append_locked(held_root, &batch, &mut open, feed.map(|s| &**s))?;
                    let unsynced = std::mem::take(&mut appended.unsynced);
                    self.commit.synced(unsynced).await?;
                    finish_locked(appended, &batch)
                }
                .await;
                if applied.is_ok() {
                    self.held.put(key, open);
                }
                return applied;
            }
        }
        let (ingest, root, feed) = (self.clone(), root.path().to_owned(), feed.cloned());
        tokio::task::spawn_blocking(move || ingest.apply(&root, &batch, feed.as_deref()))
            .await
            .map_err(|e| Error::Internal(format!("task failed: {e}")))?
    }

    /// Writes a chunk of an uploaded file (`files/…` or `media/…` of a run) at `offset`, with the
    /// same idempotence as appends, fsynced before this returns. `Ok(Ok(len))` when the file
    /// holds the chunk; `Ok(Err(len))` on a conflict.
    pub fn write_file_chunk(
        &self,
        root: &Path,
        project: &str,
        run: &str,
        rel: &str,
        offset: u64,
        data: &[u8],
    ) -> Result<Placed> {
        let root = self.held_root(root);
        let _run = self.runs.lock(project, run);
        Ok(RunWriter::beneath(root, project, run)?.write_upload_chunk(rel, offset, data)?)
    }

    /// The data directory `root`, opened once and then shared by every batch written to it.
    pub fn held_root(&self, root: &Path) -> Arc<HeldDir> {
        let mut held = self.root.lock();
        match held.as_ref() {
            Some(dir) if dir.path() == root => dir.clone(),
            _ => held.insert(Arc::new(HeldDir::new(root.to_owned()))).clone(),
        }
    }

    /// Group commit rounds so far.
    pub fn commit_rounds(&self) -> u64 {
        self.commit.rounds()
    }
}

/// A run's append files held open from its earlier batches, by name.
type OpenFiles = BTreeMap<String, HeldFile>;

/// An append file held open, and which file it is (taken once, when it was opened).
#[derive(Debug, Clone)]
struct HeldFile {
    file: Arc<File>,
    id: FileId,
}

impl HeldFile {
    fn open(run: &RunWriter, name: &str) -> Result<HeldFile> {
        let file = run.open_appendable(name)?;
        let id = FileId::of(&file).map_err(|e| FormatError::io(run.dir().join(name), e))?;
        Ok(HeldFile {
            file: Arc::new(file),
            id,
        })
    }
}

fn apply_locked(
    root: Arc<HeldDir>,
    batch: &Batch,
    commit: &GroupCommit,
    open: &mut OpenFiles,
    feed: Option<&Store>,
) -> Result<Applied> {
    let mut appended = append_locked(root, batch, open, feed)?;
    // Waits for the commit round that makes these appends durable, shared with other batches.
    commit.sync(std::mem::take(&mut appended.unsynced))?;
    finish_locked(appended, batch)
}

/// A batch's appends, written but not yet durable.
struct Appended {
    run: RunWriter,
    /// The files (and new folders) to make durable before the batch is answered.
    unsynced: Vec<Unsynced>,
    lengths: BTreeMap<String, u64>,
    conflict: bool,
}

/// The first half of a batch, with its run's turn: writes its appends (to the files in `open`, or
/// opened now and added there), not yet durable, and hands the series lines to `feed`. No fsync
/// here: a few small writes.
fn append_locked(
    root: Arc<HeldDir>,
    batch: &Batch,
    open: &mut OpenFiles,
    feed: Option<&Store>,
) -> Result<Appended> {
    let run = RunWriter::beneath(root, &batch.project, &batch.run)?;
    // A held file is used only while it is still the run's file (not moved, removed or replaced).
    open.retain(|name, held| !batch.append.contains_key(name) || run.still_holds_id(name, held.id));
    // With every file it appends to in place, the run's folder exists.
    let all_held =
        !batch.append.is_empty() && batch.append.keys().all(|name| open.contains_key(name));
    let new_run = !all_held && !run.dir().is_dir();
    if !all_held {
        run.create_dir()?;
    }
    let mut unsynced = Vec::new();
    let mut lengths = BTreeMap::new();
    let mut conflict = false;
    let mut new_file = false;
    for (name, a) in &batch.append {
        if !APPEND_FILES.contains(&name.as_str()) {
            return Err(Error::BadRequest(format!(
                "'{name}' may not be appended to"
            )));
        }
        let path = run.dir().join(name);
        let held = match open.get(name) {
            Some(held) => held.clone(),
            None => {
                let held = HeldFile::open(&run, name)?;
                open.insert(name.clone(), held.clone());
                held
            }
        };
        match run.place_nosync(&held.file, name, a.offset, a.data.as_bytes())? {
            Ok(len) => {
                new_file |= a.offset == 0;
                // Fed now, right after the write: the file's change wakes the ingest thread, and
                // if it read the file first the store takes nothing here (each byte once).
                let small = a.data.len() <= FEED_MAX_BYTES;
                if let (Some(store), Some(file), true) = (feed, SeriesFile::named(name), small) {
                    let (project, run, data) = (&batch.project, &batch.run, a.data.as_bytes());
                    store.feed_written(project, run, file, a.offset, data);
                }
                unsynced.push(Unsynced::file(path, held.file).on_device(held.id.dev));
                lengths.insert(name.clone(), len)
            }
            Err(len) => {
                conflict = true;
                lengths.insert(name.clone(), len)
            }
        };
    }
    if new_file || new_run {
        // A new file's name must survive a crash as well as its data; for a new run, so must the
        // new folders' names (the run's, its project's, the data directory's entries).
        let folders = run.folders_to_sync()?;
        let wanted = if new_run { folders.len() } else { 1 };
        unsynced.extend(
            folders
                .into_iter()
                .take(wanted)
                .map(|(path, file)| Unsynced::folder(path, file)),
        );
    }
    Ok(Appended {
        run,
        unsynced,
        lengths,
        conflict,
    })
}

/// The second half of a batch, with its run's turn, once its appends are durable: the answer, and
/// the replaced files.
fn finish_locked(appended: Appended, batch: &Batch) -> Result<Applied> {
    let Appended {
        run,
        mut lengths,
        conflict,
        ..
    } = appended;
    if conflict {
        // Report every appendable file's length, so the client can resume them all.
        for name in APPEND_FILES {
            if !lengths.contains_key(name) {
                lengths.insert(name.to_owned(), run.len(name)?);
            }
        }
        return Ok(Applied::Conflict(lengths));
    }
    // run.json last: it is what makes a folder a run, and what says a run is finished.
    let mut names: Vec<&String> = batch.files.keys().collect();
    names.sort_by_key(|n| n.as_str() == RUN_FILE);
    for name in names {
        run.replace(name, &batch.files[name])?;
    }
    Ok(Applied::Ok(lengths))
}

/// The append files of recently written runs, kept open between their batches (up to
/// [`HELD_RUNS`] runs, each dropped after [`HELD_IDLE`] without a batch). A batch takes its run's
/// files out while it writes (it holds the run's turn) and puts them back when done.
#[derive(Debug, Default)]
struct HeldFiles {
    runs: Mutex<HashMap<(String, String), (Instant, OpenFiles)>>,
    /// When idle runs were last looked for (at most every [`HELD_SWEEP`], not on every batch).
    swept: Mutex<Option<Instant>>,
}

/// How often [`HeldFiles`] looks for idle runs to close.
const HELD_SWEEP: Duration = Duration::from_secs(1);

impl HeldFiles {
    fn take(&self, key: &(String, String)) -> OpenFiles {
        self.runs
            .lock()
            .remove(key)
            .map(|(_, files)| files)
            .unwrap_or_default()
    }

    fn put(&self, key: (String, String), files: OpenFiles) {
        let now = Instant::now();
        let mut runs = self.runs.lock();
        let mut swept = self.swept.lock();
        if swept.is_none_or(|at| now.duration_since(at) >= HELD_SWEEP) {
            runs.retain(|_, (used, _)| now.duration_since(*used) < HELD_IDLE);
            *swept = Some(now);
        }
        drop(swept);
        if runs.len() >= HELD_RUNS
            && let Some(oldest) = runs
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k.clone())
        {
            runs.remove(&oldest);
        }
        if !files.is_empty() {
            runs.insert(key, (now, files));
        }
    }
}

/// Which runs have a batch being written: a run's batches take turns, other runs do not wait.
/// A run is in the set only while one of its batches is written, so the set is no larger than
/// the number of batches in progress (bounded by the blocking threads that write them).
#[derive(Debug, Default)]
struct RunLocks {
    busy: Mutex<HashSet<(String, String)>>,
    freed: Condvar,
}

/// Holds one run's turn until dropped.
struct RunGuard<'a> {
    locks: &'a RunLocks,
    key: (String, String),
}

impl RunLocks {
    /// The run's turn if no other batch of it is in progress.
    fn try_lock(&self, project: &str, run: &str) -> Option<RunGuard<'_>> {
        let key = (project.to_owned(), run.to_owned());
        let mut busy = self.busy.lock();
        if busy.contains(&key) {
            return None;
        }
        busy.insert(key.clone());
        Some(RunGuard { locks: self, key })
    }

    fn lock(&self, project: &str, run: &str) -> RunGuard<'_> {
        let key = (project.to_owned(), run.to_owned());
        let mut busy = self.busy.lock();
        while busy.contains(&key) {
            self.freed.wait(&mut busy);
        }
        busy.insert(key.clone());
        RunGuard { locks: self, key }
    }
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.locks.busy.lock().remove(&self.key);
        self.locks.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{CONSOLE_FILE, HISTORY_FILE, RunKey, SYSTEM_FILE};
    use std::io::Write;

    fn batch(offset: u64, data: &str) -> Batch {
        let mut b = Batch {
            project: "p".into(),
            run: "r".into(),
            ..Batch::default()
        };
        b.append.insert(
            HISTORY_FILE.into(),
            Append {
                offset,
                data: data.into(),
            },
        );
        b
    }

    fn history(root: &Path) -> String {
        std::fs::read_to_string(root.join("p/r").join(HISTORY_FILE)).unwrap()
    }

    #[test]
    fn appends_are_idempotent_by_offset() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let ingest = RemoteIngest::default();
        let apply = |r, b: &Batch| ingest.apply(r, b, None);
        assert!(
            matches!(apply(r, &batch(0, "a\n")).unwrap(), Applied::Ok(l) if l[HISTORY_FILE] == 2)
        );
        // A retry of the same batch writes nothing.
        assert!(
            matches!(apply(r, &batch(0, "a\n")).unwrap(), Applied::Ok(l) if l[HISTORY_FILE] == 2)
        );
        assert!(
            matches!(apply(r, &batch(2, "b\nc\n")).unwrap(), Applied::Ok(l) if l[HISTORY_FILE] == 6)
        );
        assert_eq!(history(r), "a\nb\nc\n");
        // A gap or different data is a conflict that reports the daemon's length.
        assert!(
            matches!(apply(r, &batch(10, "x\n")).unwrap(), Applied::Conflict(l) if l[HISTORY_FILE] == 6)
        );
        assert!(
            matches!(apply(r, &batch(2, "X\nY\n")).unwrap(), Applied::Conflict(l) if l[HISTORY_FILE] == 6)
        );
        // A batch cut short by a crash is completed, not duplicated.
        std::fs::OpenOptions::new()
            .append(true)
            .open(r.join("p/r").join(HISTORY_FILE))
            .unwrap()
            .write_all(b"d")
            .unwrap();
        assert!(
            matches!(apply(r, &batch(6, "d\ne\n")).unwrap(), Applied::Ok(l) if l[HISTORY_FILE] == 10)
        );
        assert_eq!(history(r), "a\nb\nc\nd\ne\n");
    }

    #[test]
    fn a_batch_that_fails_half_way_is_completed_by_its_retry() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let ingest = RemoteIngest::default();
        let mut b = batch(0, "a\nb\n");
        b.append.insert(
            CONSOLE_FILE.into(),
            Append {
                offset: 0,
                data: "out\n".into(),
            },
        );
        // console.log is written first (names in order), then history.jsonl fails: a folder in
        // its place stands for a disk that filled up between the two.
        let run_dir = r.join("p/r");
        std::fs::create_dir_all(run_dir.join(HISTORY_FILE)).unwrap();
        assert!(ingest.apply(r, &b, None).is_err());
        assert_eq!(
            std::fs::read_to_string(run_dir.join(CONSOLE_FILE)).unwrap(),
            "out\n"
        );
        // Space comes back; and say the console write itself had been cut short.
        std::fs::remove_dir(run_dir.join(HISTORY_FILE)).unwrap();
        std::fs::write(run_dir.join(CONSOLE_FILE), "ou").unwrap();
        let applied = ingest.apply(r, &b, None).unwrap();
        assert!(
            matches!(&applied, Applied::Ok(l) if l[HISTORY_FILE] == 4 && l[CONSOLE_FILE] == 4),
            "{applied:?}"
        );
        assert_eq!(history(r), "a\nb\n");
        assert_eq!(
            std::fs::read_to_string(run_dir.join(CONSOLE_FILE)).unwrap(),
            "out\n"
        );
        assert!(ingest.commit_rounds() >= 1);
    }

    #[test]
    fn held_files_are_written_only_while_they_are_the_runs_files() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let ingest = RemoteIngest::default();
        let ok = |b: &Batch, want: u64| {
            let applied = ingest.apply(r, b, None).unwrap();
            assert!(
                matches!(&applied, Applied::Ok(l) if l[HISTORY_FILE] == want),
                "{applied:?}"
            );
        };
        ok(&batch(0, "a\n"), 2);
        ok(&batch(2, "b\n"), 4);
        assert_eq!(ingest.held.runs.lock().len(), 1);
        // history.jsonl replaced (same bytes, a new file): the next batch lands in the new one.
        let path = r.join("p/r").join(HISTORY_FILE);
        let old = File::open(&path).unwrap();
        std::fs::write(r.join("p/r/new"), "a\nb\n").unwrap();
        std::fs::rename(r.join("p/r/new"), &path).unwrap();
        ok(&batch(4, "c\n"), 6);
        assert_eq!(history(r), "a\nb\nc\n");
        assert_eq!(
            old.metadata().unwrap().len(),
            4,
            "wrote to the replaced file"
        );
        // The run's folder removed: a batch past offset 0 is a conflict, as for a new run.
        std::fs::remove_dir_all(r.join("p/r")).unwrap();
        let applied = ingest.apply(r, &batch(6, "d\n"), None).unwrap();
        assert!(
            matches!(&applied, Applied::Conflict(l) if l[HISTORY_FILE] == 0),
            "{applied:?}"
        );
        ok(&batch(0, "a\n"), 2);
        assert_eq!(history(r), "a\n");
    }

    #[tokio::test]
    async fn async_batches_keep_the_offset_rules() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path().to_owned();
        let ingest = Arc::new(RemoteIngest::default());
        let apply = |b: Batch| {
            let ingest = ingest.clone();
            let r = r.clone();
            async move { ingest.apply_async(&ingest.held_root(&r), b, None).await }
        };
        assert!(
            matches!(apply(batch(0, "a\n")).await.unwrap(), Applied::Ok(l) if l[HISTORY_FILE] == 2)
        );
        assert!(
            matches!(apply(batch(0, "a\n")).await.unwrap(), Applied::Ok(l) if l[HISTORY_FILE] == 2)
        );
        assert!(
            matches!(apply(batch(0, "X\n")).await.unwrap(), Applied::Conflict(l) if l[HISTORY_FILE] == 2)
        );
        // A batch that replaces files, and one whose run is busy, go through the blocking pool.
        let mut with_file = batch(2, "b\n");
        with_file
            .files
            .insert(RUN_FILE.into(), serde_json::json!({"id": "r"}));
        assert!(matches!(apply(with_file).await.unwrap(), Applied::Ok(l) if l[HISTORY_FILE] == 4));
        assert!(r.join("p/r").join(RUN_FILE).is_file());
        let turn = ingest.runs.lock("p", "r");
        let waiting = tokio::spawn(apply(batch(4, "c\n")));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "went ahead of the run's turn");
        drop(turn);
        assert!(matches!(waiting.await.unwrap().unwrap(), Applied::Ok(l) if l[HISTORY_FILE] == 6));
        assert_eq!(history(&r), "a\nb\nc\n");
        assert!(ingest.commit_rounds() >= 3);
    }

    /// Rows a remote batch wrote reach the store without being read back from disk, and every
    /// byte of the file is still taken once, whoever wrote it and whichever way it came.
    #[tokio::test]
    async fn applied_rows_feed_the_store_each_byte_once() {
        use crate::source::disk::DiskSource;
        use crate::store::{Event, RunMeta, StoreSettings};
        let root = tempfile::tempdir().unwrap();
        let r = root.path().to_owned();
        let ingest = Arc::new(RemoteIngest::default());
        let store = Arc::new(Store::new(StoreSettings::default()));
        let row = |step: u64| format!("{{\"_step\": {step}, \"a\": {step}}}\n");
        let offset = std::cell::Cell::new(0);
        let send = async |step: u64, store: &Arc<Store>| {
            let b = batch(offset.get(), &row(step));
            let applied = ingest
                .apply_async(&ingest.held_root(&r), b, Some(store))
                .await;
            assert!(matches!(applied.unwrap(), Applied::Ok(_)));
            offset.set(offset.get() + row(step).len() as u64);
        };
        // Not in the store yet: nothing to feed (the ingest thread finds the run on disk).
        send(0, &store).await;
        let key = RunKey {
            project: "p".into(),
            run: "r".into(),
        };
        let source = Arc::new(DiskSource::new(r.clone()));
        let run = store.upsert(
            key.clone(),
            source.run_dir(&key),
            source,
            RunMeta {
                info: trackline_shared::RunInfo::default(),
                reported_state: trackline_shared::RunState::Running,
            },
            1.0,
        );
        store.sync_history(&run).unwrap();
        let rows = || run.history.lock().rows_if_loaded().unwrap();
        assert_eq!(rows(), 1);
        let mut events = store.subscribe();
        send(1, &store).await;
        assert_eq!(rows(), 2, "fed straight from the batch");
        assert!(matches!(
            events.try_recv(),
            Ok(Event::Points { grown, .. }) if grown.iter().all(|&(_, len)| len == 2)
        ));
        // The ingest thread, woken by the write, finds nothing new in the file.
        store.sync_history(&run).unwrap();
        assert_eq!(rows(), 2);
        // Another writer appends a row the store has not read: the next batch is not fed (the
        // store is behind it), and the file then gives both, once.
        let path = r.join("p/r").join(HISTORY_FILE);
        let mut other = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        other.write_all(row(2).as_bytes()).unwrap();
        offset.set(offset.get() + row(2).len() as u64);
        send(3, &store).await;
        assert_eq!(rows(), 2, "fed past bytes it had not read");
        store.sync_history(&run).unwrap();
        assert_eq!(rows(), 4);
        send(4, &store).await;
        assert_eq!(rows(), 5);
        let steps = |key: &str| {
            let h = run.history.lock();
            h.series_by_key(key).map(|s| s.steps().to_vec())
        };
        assert_eq!(steps("a").unwrap(), [0.0, 1.0, 2.0, 3.0, 4.0]);
        // Thousands of rows at once are left to the ingest thread.
        let many: String = (5..5_000).map(row).collect();
        assert!(many.len() > FEED_MAX_BYTES);
        let b = batch(offset.get(), &many);
        let root = ingest.held_root(&r);
        let applied = ingest.apply_async(&root, b, Some(&store)).await;
        assert!(matches!(applied.unwrap(), Applied::Ok(_)));
        assert_eq!(rows(), 5, "parsed on the request's task");
        store.sync_history(&run).unwrap();
        assert_eq!(rows(), 5_000);
        // A change seen in one series file reads that file only.
        std::fs::write(r.join("p/r").join(SYSTEM_FILE), "{\"system/cpu\": 5}\n").unwrap();
        store.sync_series(&run, &[SeriesFile::History]).unwrap();
        assert_eq!(steps("system/cpu"), None);
        store.sync_series(&run, &[SeriesFile::System]).unwrap();
        assert_eq!(steps("system/cpu").unwrap(), [0.0]);
    }

    #[test]
    fn held_files_of_idle_or_surplus_runs_are_closed() {
        let held = HeldFiles::default();
        let file = || {
            let mut files = OpenFiles::new();
            let file = tempfile::tempfile().unwrap();
            let id = FileId::of(&file).unwrap();
            let file = Arc::new(file);
            files.insert(HISTORY_FILE.into(), HeldFile { file, id });
            files
        };
        for i in 0..HELD_RUNS + 10 {
            held.put(("p".into(), format!("r{i}")), file());
        }
        assert_eq!(held.runs.lock().len(), HELD_RUNS);
        assert!(
            held.take(&("p".into(), "r0".into())).is_empty(),
            "the oldest went first"
        );
        assert_eq!(
            held.take(&("p".into(), format!("r{}", HELD_RUNS + 9)))
                .len(),
            1
        );
        for (used, _) in held.runs.lock().values_mut() {
            *used -= HELD_IDLE;
        }
        *held.swept.lock() = Some(Instant::now() - HELD_SWEEP);
        held.put(("p".into(), "fresh".into()), file());
        assert_eq!(held.runs.lock().len(), 1, "idle runs are closed");
    }

    #[test]
    fn runs_take_turns_only_with_themselves() {
        let locks = Arc::new(RunLocks::default());
        let held = locks.lock("p", "a");
        // Another run goes ahead at once.
        let other = locks.clone();
        std::thread::spawn(move || drop(other.lock("p", "b")))
            .join()
            .unwrap();
        // The same run waits for its turn.
        let (tx, rx) = std::sync::mpsc::channel();
        let same = locks.clone();
        let waiter = std::thread::spawn(move || {
            let _turn = same.lock("p", "a");
            tx.send(()).unwrap();
        });
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        drop(held);
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
        waiter.join().unwrap();
        // No entry outlives its batch.
        assert!(locks.busy.lock().is_empty());
    }

    #[test]
    fn file_chunks_need_valid_names_and_paths() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let ingest = RemoteIngest::default();
        let write_file_chunk = |r, p, run, rel, o, d| ingest.write_file_chunk(r, p, run, rel, o, d);
        assert_eq!(
            write_file_chunk(r, "p", "r", "media/a.png", 0, b"abc").unwrap(),
            Ok(3)
        );
        for (project, run, rel) in [
            ("p", "../r", "files/a"),
            (".p", "r", "files/a"),
            ("p", "r", "files/../run.json"),
        ] {
            let err = write_file_chunk(r, project, run, rel, 0, b"x").unwrap_err();
            assert!(
                matches!(err, Error::Format(FormatError::Refused(_))),
                "{project}/{run}/{rel}: {err}"
            );
        }
    }

    #[test]
    fn validation_refuses_bad_names_and_partial_lines() {
        let ok = batch(0, "a\n");
        assert!(validate(&ok).is_ok());
        for bad in [
            Batch {
                project: "../x".into(),
                ..ok.clone()
            },
            Batch {
                run: "a/b".into(),
                ..ok.clone()
            },
            batch(0, "no newline"),
        ] {
            assert!(validate(&bad).is_err());
        }
        let mut b = ok.clone();
        b.files
            .insert("../../etc/passwd".into(), serde_json::json!({}));
        assert!(validate(&b).is_err());
        let mut b = ok.clone();
        b.append.insert(
            "other.txt".into(),
            Append {
                offset: 0,
                data: String::new(),
            },
        );
        assert!(validate(&b).is_err());
        let mut b = ok;
        b.files
            .insert(RUN_FILE.into(), serde_json::json!({"id": "other"}));
        assert!(validate(&b).is_err());
    }
}
