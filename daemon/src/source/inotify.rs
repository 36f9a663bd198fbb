//! The data directory's watcher on Linux: inotify on the data directory, its project folders and
//! their run folders (nothing deeper: no file below a run's folder is followed), read by a thread
//! of its own. While changes keep coming it reads its queue at most every [`PACE`], so an append
//! (remote ingest writes one for every batch) only queues an event, which the kernel merges with
//! an equal one before it, instead of waking a thread for each; after a quiet spell the thread
//! waits in `read`, so the first change is seen at once. (notify's reader could not be paced: it
//! adds the watches of new folders only after its read loop, and a paced handler would leave a new
//! run's folder unwatched meanwhile.) A new folder's watch is added while its event is read, and
//! what the folder already holds is reported then, so nothing made before the watch is missed.

use super::{Change, WatchGuard};
use crate::format::{RunKey, valid_project_name, valid_run_id};
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::io::Errno;
use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

/// After a read that found changes, the reader rests this long before reading again: the shortest
/// time between two reads while changes keep coming (the ingest thread's passes are as far apart).
pub const PACE: Duration = Duration::from_millis(5);

/// What one read of the queue can take at most (events of ~32 bytes: ~2,000 of them).
const READ_BUFFER: usize = 64 << 10;

/// The events a watched folder reports: entries made, removed, renamed, written, closed after
/// writing, or touched, and the folder itself removed or moved.
fn events() -> WatchFlags {
    WatchFlags::CREATE
        | WatchFlags::DELETE
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO
        | WatchFlags::MODIFY
        | WatchFlags::CLOSE_WRITE
        | WatchFlags::ATTRIB
        | WatchFlags::DELETE_SELF
        | WatchFlags::MOVE_SELF
        | WatchFlags::ONLYDIR
}

/// Starts watching `root` (the data directory, which may itself be a symbolic link; no link below
/// it is followed) and reporting its changes on `changes` until the guard is dropped.
pub fn watch(root: PathBuf, changes: mpsc::Sender<Change>) -> std::io::Result<WatchGuard> {
    let fd = Arc::new(inotify::init(CreateFlags::CLOEXEC)?);
    let root_wd = inotify::add_watch(&*fd, &root, events())
        .map_err(|e| std::io::Error::other(format!("cannot watch {}: {e}", root.display())))?;
    let mut watches = Watches {
        fd: fd.clone(),
        root,
        by_wd: HashMap::from([(root_wd, Watched::Root)]),
    };
    watches.walk(None);
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::Builder::new()
        .name("trackline-watch".into())
        .spawn(move || read_loop(&mut watches, &changes, &stopped))?;
    Ok(WatchGuard {
        _watcher: Box::new(Stopper { fd, root_wd, stop }),
    })
}

/// Ends the reader when the guard is dropped: removing the data directory's watch queues an event
/// that wakes it, and it sees the flag.
struct Stopper {
    fd: Arc<OwnedFd>,
    root_wd: i32,
    stop: Arc<AtomicBool>,
}

impl Drop for Stopper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Fails only when the reader has ended already (the data directory went away).
        let _ = inotify::remove_watch(&*self.fd, self.root_wd);
    }
}

/// What a watch is on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Watched {
    Root,
    Project(String),
    Run(RunKey),
}

/// The watches added so far, by descriptor.
struct Watches {
    fd: Arc<OwnedFd>,
    root: PathBuf,
    by_wd: HashMap<i32, Watched>,
}

impl Watches {
    /// Adds a watch on `rel` (beneath the data directory, not through a symbolic link); `false`
    /// when it is no folder any more, or the system's watches ran out (reported; rescans remain).
    fn add(&mut self, rel: &Path, what: Watched) -> bool {
        let flags = events() | WatchFlags::DONT_FOLLOW;
        match inotify::add_watch(&*self.fd, self.root.join(rel), flags) {
            Ok(wd) => {
                self.by_wd.insert(wd, what);
                true
            }
            Err(Errno::NOENT | Errno::NOTDIR) => false,
            Err(e) => {
                tracing::warn!(
                    "cannot watch {}: {e}; its changes are seen by the periodic rescan",
                    self.root.join(rel).display()
                );
                false
            }
        }
    }

    /// Stops following a folder that moved away, and its runs' folders with a project's.
    fn forget(&mut self, gone: &Watched) {
        let fd = self.fd.clone();
        self.by_wd.retain(|wd, what| {
            let inside = match (gone, &*what) {
                (Watched::Project(p), Watched::Run(key)) => key.project == *p,
                _ => false,
            };
            let drop = what == gone || inside;
            if drop {
                let _ = inotify::remove_watch(&*fd, *wd);
            }
            !drop
        });
    }

    /// Watches every project folder (or only `project`) and its run folders; with `changes`, what
    /// they hold is reported there (folders that appeared while the reader was not looking).
    fn walk_project(&mut self, project: &str, mut changes: Option<&mut HashSet<Change>>) {
        if !self.add(Path::new(project), Watched::Project(project.to_owned())) {
            return;
        }
        for run in subfolders(&self.root.join(project), valid_run_id) {
            let key = RunKey {
                project: project.to_owned(),
                run,
            };
            if let Some(changes) = changes.as_deref_mut() {
                changes.insert(Change::Run(key.clone()));
            }
            self.walk_run(key, changes.as_deref_mut());
        }
    }

    fn walk_run(&mut self, key: RunKey, changes: Option<&mut HashSet<Change>>) {
        let rel = Path::new(&key.project).join(&key.run);
        if !self.add(&rel, Watched::Run(key.clone())) {
            return;
        }
        let (Some(changes), Ok(entries)) = (changes, std::fs::read_dir(self.root.join(&rel)))
        else {
            return;
        };
        for name in entries.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
            changes.insert(Change::File(key.clone(), name));
        }
    }

    /// Watches every project and run folder (at the start, and after the queue overflowed).
    fn walk(&mut self, mut changes: Option<&mut HashSet<Change>>) {
        for project in subfolders(&self.root, valid_project_name) {
            self.walk_project(&project, changes.as_deref_mut());
        }
    }

    /// What one event means; `false` when the data directory's own watch ended (its folder is
    /// gone, or the guard was dropped).
    fn handle(
        &mut self,
        wd: i32,
        mask: ReadFlags,
        name: Option<&OsStr>,
        changes: &mut HashSet<Change>,
    ) -> bool {
        if mask.contains(ReadFlags::QUEUE_OVERFLOW) {
            self.walk(Some(changes));
            changes.insert(Change::Rescan);
            return true;
        }
        let Some(what) = self.by_wd.get(&wd).cloned() else {
            return true;
        };
        if mask.contains(ReadFlags::IGNORED) {
            self.by_wd.remove(&wd);
            if what == Watched::Root {
                changes.insert(Change::Rescan);
                return false;
            }
            return true;
        }
        let name = name.and_then(|n| n.to_str());
        let folder = mask.contains(ReadFlags::ISDIR);
        let arrived = folder && mask.intersects(ReadFlags::CREATE | ReadFlags::MOVED_TO);
        let left = folder && mask.contains(ReadFlags::MOVED_FROM);
        match (what, name) {
            // The data directory's entries (project folders, stray files), or a project folder
            // itself: only a full rescan sorts these out.
            (Watched::Root, name) => {
                if let Some(project) = name.filter(|p| valid_project_name(p)) {
                    if left {
                        self.forget(&Watched::Project(project.to_owned()));
                    } else if arrived {
                        self.walk_project(project, Some(changes));
                    }
                }
                changes.insert(Change::Rescan);
            }
            (Watched::Project(_), None) => {
                changes.insert(Change::Rescan);
            }
            (Watched::Project(project), Some(run)) => {
                if !valid_run_id(run) {
                    return true;
                }
                let key = RunKey {
                    project,
                    run: run.to_owned(),
                };
                if left {
                    self.forget(&Watched::Run(key.clone()));
                } else if arrived {
                    self.walk_run(key.clone(), Some(changes));
                }
                changes.insert(Change::Run(key));
            }
            (Watched::Run(key), None) => {
                changes.insert(Change::Run(key));
            }
            (Watched::Run(key), Some(file)) => {
                changes.insert(Change::File(key, file.to_owned()));
            }
        }
        true
    }
}

/// The real folders (not symbolic links) directly in `dir` whose names are `valid`.
fn subfolders(dir: &Path, valid: fn(&str) -> bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| valid(name))
        .collect()
}

/// Reads the queue until the guard is dropped, the data directory's watch ends or nobody listens:
/// each read takes what is queued (waiting when nothing is), reports its changes once each, then
/// rests for [`PACE`].
fn read_loop(watches: &mut Watches, changes: &mpsc::Sender<Change>, stop: &AtomicBool) {
    let mut buf = vec![MaybeUninit::<u8>::uninit(); READ_BUFFER];
    let mut found = HashSet::new();
    loop {
        let fd = watches.fd.clone();
        let mut reader = inotify::Reader::new(&*fd, &mut buf);
        let mut alive = true;
        loop {
            match reader.next() {
                Ok(event) => {
                    let name = event.file_name().map(|n| OsStr::from_bytes(n.to_bytes()));
                    alive &= watches.handle(event.wd(), event.events(), name, &mut found);
                }
                Err(Errno::INTR) => continue,
                Err(e) => {
                    tracing::warn!("file watcher stopped: {e}; relying on periodic rescans");
                    return;
                }
            }
            if reader.is_buffer_empty() {
                break;
            }
        }
        if stop.load(Ordering::Relaxed) {
            return;
        }
        for change in found.drain() {
            if changes.send(change).is_err() {
                return;
            }
        }
        if !alive {
            return;
        }
        std::thread::sleep(PACE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{HISTORY_FILE, RUN_FILE};
    use std::time::Instant;

    fn key(project: &str, run: &str) -> RunKey {
        RunKey {
            project: project.into(),
            run: run.into(),
        }
    }

    /// Waits until every change in `wanted` was reported (other changes may come too).
    fn expect(rx: &mpsc::Receiver<Change>, wanted: &[Change]) -> Vec<Change> {
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !wanted.iter().all(|w| seen.contains(w)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(change) => seen.push(change),
                Err(e) => panic!("missing {wanted:?} in {seen:?}: {e}"),
            }
        }
        seen
    }

    #[test]
    fn folders_made_after_the_start_are_watched_with_what_they_hold() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path().canonicalize().unwrap();
        std::fs::create_dir_all(r.join("p/old")).unwrap();
        let (tx, rx) = mpsc::channel();
        let guard = watch(r.clone(), tx).unwrap();
        // A run folder that existed at the start.
        std::fs::write(r.join("p/old").join(HISTORY_FILE), "{}\n").unwrap();
        expect(&rx, &[Change::File(key("p", "old"), HISTORY_FILE.into())]);
        // A new project with a run whose files are written at once, before any watch could be
        // added: all are reported, and later writes too.
        std::fs::create_dir_all(r.join("q/new")).unwrap();
        std::fs::write(r.join("q/new").join(RUN_FILE), "{}").unwrap();
        expect(
            &rx,
            &[
                Change::Rescan,
                Change::File(key("q", "new"), RUN_FILE.into()),
            ],
        );
        std::fs::write(r.join("q/new").join(HISTORY_FILE), "{}\n").unwrap();
        expect(&rx, &[Change::File(key("q", "new"), HISTORY_FILE.into())]);
        // A run folder renamed: the new name is followed, and the old one no more.
        std::fs::rename(r.join("q/new"), r.join("q/moved")).unwrap();
        expect(
            &rx,
            &[Change::Run(key("q", "new")), Change::Run(key("q", "moved"))],
        );
        std::fs::write(r.join("q/moved").join(HISTORY_FILE), "{}\n{}\n").unwrap();
        let seen = expect(&rx, &[Change::File(key("q", "moved"), HISTORY_FILE.into())]);
        assert!(
            !seen.contains(&Change::File(key("q", "new"), HISTORY_FILE.into())),
            "{seen:?}"
        );
        // Deeper folders and linked folders are not followed.
        std::fs::create_dir_all(r.join("q/moved/files/deep")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), r.join("q/linked")).unwrap();
        std::fs::write(outside.path().join(HISTORY_FILE), "{}\n").unwrap();
        std::fs::write(r.join("q/moved/files/deep/x"), "x").unwrap();
        std::fs::write(r.join("p/old").join(RUN_FILE), "{}").unwrap();
        let seen = expect(&rx, &[Change::File(key("p", "old"), RUN_FILE.into())]);
        assert!(
            !seen.contains(&Change::File(key("q", "linked"), HISTORY_FILE.into())),
            "{seen:?}"
        );
        // Dropping the guard ends the reader: the channel is closed once it is gone.
        drop(guard);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the reader did not end"),
            }
        }
    }

    /// Many appends while the reader rests come out as one change per file.
    #[test]
    fn a_burst_of_appends_is_reported_once_per_file() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path().canonicalize().unwrap();
        std::fs::create_dir_all(r.join("p/a")).unwrap();
        let (tx, rx) = mpsc::channel();
        let _guard = watch(r.clone(), tx).unwrap();
        let mut file = std::fs::File::create(r.join("p/a").join(HISTORY_FILE)).unwrap();
        let history = Change::File(key("p", "a"), HISTORY_FILE.into());
        expect(&rx, std::slice::from_ref(&history));
        use std::io::Write;
        for _ in 0..1_000 {
            file.write_all(b"{}\n").unwrap();
        }
        file.sync_all().unwrap();
        std::fs::write(r.join("p/a").join(RUN_FILE), "{}").unwrap();
        let seen = expect(&rx, &[Change::File(key("p", "a"), RUN_FILE.into())]);
        let reported = seen.iter().filter(|c| **c == history).count();
        assert!(reported < 1_000, "{reported} changes for 1,000 appends");
    }
}
