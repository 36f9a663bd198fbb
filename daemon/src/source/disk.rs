//! [`DiskSource`]: the run directories of a data directory on the local disk, watched with inotify
//! on Linux ([`super::inotify`]) and with notify elsewhere (FSEvents, …). Every file is opened beneath the data directory through
//! [`beneath`](crate::format::beneath): a symbolic link anywhere below it (a project or run folder,
//! a file) is not followed, and a named pipe, socket or device is not opened for reading; such a
//! file counts as missing and is reported once in the log. The data directory itself may be a link;
//! it is opened once ([`HeldDir`]) and every path is resolved from that handle.

use super::{Change, FileStat, OpenFile, RunSource, WatchGuard};
use crate::format::beneath::{Dir, HeldDir, report_refusal};
use crate::format::{FormatError, RUN_FILE, RunKey, valid_project_name, valid_run_id};
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

/// The data directory `<root>/<project>/<run>/` on this machine.
#[derive(Debug, Clone)]
pub struct DiskSource {
    /// The data directory, held open once it exists (clones share the handle).
    root: Arc<HeldDir>,
}

impl DiskSource {
    pub fn new(root: PathBuf) -> Self {
        DiskSource {
            root: Arc::new(HeldDir::new(root)),
        }
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The folder of a run.
    pub fn run_dir(&self, run: &RunKey) -> PathBuf {
        self.root().join(&run.project).join(&run.run)
    }

    fn open_root(&self) -> Result<&Dir, FormatError> {
        self.root.get()
    }
}

/// `<project>/<run>/<name>`, the path of a run's file beneath the data directory.
fn beneath(run: &RunKey, name: &str) -> String {
    format!("{}/{}/{name}", run.project, run.run)
}

/// A refused file (a symlink, a pipe, …) is reported once and then counts as missing.
fn skip_refused<T>(result: Result<Option<T>, FormatError>) -> Result<Option<T>, FormatError> {
    match result {
        Err(e @ FormatError::NotRegular { .. }) => {
            report_refusal(&e);
            Ok(None)
        }
        other => other,
    }
}

impl RunSource for DiskSource {
    fn discover(&self) -> Vec<RunKey> {
        let Ok(root) = self.open_root() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for project in subdirs(self.root(), valid_project_name) {
            for run in subdirs(&self.root().join(&project), valid_run_id) {
                let key = RunKey {
                    project: project.clone(),
                    run,
                };
                if matches!(
                    skip_refused(root.stat(&beneath(&key, RUN_FILE))),
                    Ok(Some(_))
                ) {
                    out.push(key);
                }
            }
        }
        out
    }

    fn run_exists(&self, run: &RunKey) -> bool {
        let Ok(root) = self.open_root() else {
            return false;
        };
        let rel = format!("{}/{}", run.project, run.run);
        matches!(skip_refused(root.open_dir(&rel)), Ok(Some(_)))
    }

    fn stat(&self, run: &RunKey, name: &str) -> Result<Option<FileStat>, FormatError> {
        let meta = skip_refused(self.open_root()?.stat(&beneath(run, name)))?;
        Ok(meta.map(|m| FileStat {
            len: m.len(),
            modified: m.modified().ok(),
        }))
    }

    fn open(&self, run: &RunKey, name: &str, offset: u64) -> Result<Option<OpenFile>, FormatError> {
        let path = self.run_dir(run).join(name);
        let Some(mut file) = skip_refused(self.open_root()?.open_read(&beneath(run, name)))? else {
            return Ok(None);
        };
        let len = file
            .metadata()
            .map_err(|e| FormatError::io(&path, e))?
            .len();
        if len > offset {
            file.seek(SeekFrom::Start(offset))
                .map_err(|e| FormatError::io(&path, e))?;
        }
        Ok(Some(OpenFile {
            len,
            reader: Box::new(file),
            path,
        }))
    }

    /// On Linux, [`super::inotify`]: a reader of its own that reads its queue at most every few
    /// milliseconds while changes keep coming; elsewhere notify.
    #[cfg(target_os = "linux")]
    fn watch(&self, changes: mpsc::Sender<Change>) -> std::io::Result<WatchGuard> {
        super::inotify::watch(self.root().to_owned(), changes)
    }

    #[cfg(not(target_os = "linux"))]
    fn watch(&self, changes: mpsc::Sender<Change>) -> std::io::Result<WatchGuard> {
        watch_with_notify(self.root(), changes)
    }
}

/// Reports changes under `root` from notify's watcher (every platform but Linux).
#[cfg(not(target_os = "linux"))]
fn watch_with_notify(root: &Path, changes: mpsc::Sender<Change>) -> std::io::Result<WatchGuard> {
    let prefix = root.to_owned();
    let handler = move |ev: notify::Result<notify::Event>| match ev {
        // Opening or reading a file changes nothing, and the daemon's own reads would
        // otherwise wake it forever. A writer closing its file does count.
        Ok(ev) if is_read_only(&ev.kind) => {}
        Ok(ev) => {
            for change in ev.paths.iter().filter_map(|p| classify(&prefix, p)) {
                let _ = changes.send(change);
            }
            if ev.need_rescan() {
                let _ = changes.send(Change::Rescan);
            }
        }
        Err(e) => {
            tracing::debug!("watch error: {e}");
            let _ = changes.send(Change::Rescan);
        }
    };
    // A linked folder is not followed here either: watching through a link to `/` would
    // spend the system's watches on the whole disk.
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher = notify::RecommendedWatcher::new(handler, config)
        .map_err(|e| std::io::Error::other(format!("no file watcher: {e}")))?;
    watcher
        .watch(root, RecursiveMode::Recursive)
        .map_err(|e| std::io::Error::other(format!("cannot watch {}: {e}", root.display())))?;
    Ok(WatchGuard {
        _watcher: Box::new(watcher),
    })
}

/// The names of the real folders in `dir` that are `valid`; a symbolic link with a valid name is
/// reported (once) and left out.
fn subdirs(dir: &Path, valid: fn(&str) -> bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.filter_map(|e| e.ok()) {
        let (Ok(kind), Ok(name)) = (entry.file_type(), entry.file_name().into_string()) else {
            continue;
        };
        if !valid(&name) {
            continue;
        }
        if kind.is_symlink() {
            report_refusal(&FormatError::NotRegular {
                path: entry.path(),
                found: "a symbolic link",
            });
        } else if kind.is_dir() {
            out.push(name);
        }
    }
    out
}

#[cfg(not(target_os = "linux"))]
fn is_read_only(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    matches!(kind, notify::EventKind::Access(a) if *a != AccessKind::Close(AccessMode::Write))
}

/// Maps a changed path under `root` to what changed: the root or a project folder needs a
/// rescan; a run's folder or a file directly in it is named; deeper paths and invalid names are
/// nothing a reader follows.
#[cfg(any(not(target_os = "linux"), test))]
fn classify(root: &Path, path: &Path) -> Option<Change> {
    use std::path::Component;
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    match parts.as_slice() {
        [] | [_] => Some(Change::Rescan),
        [project, run, rest @ ..] => {
            if !valid_project_name(project) || !valid_run_id(run) {
                return None;
            }
            let key = RunKey {
                project: (*project).to_owned(),
                run: (*run).to_owned(),
            };
            match rest {
                [] => Some(Change::Run(key)),
                [file] => Some(Change::File(key, (*file).to_owned())),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::beneath::make_fifo;
    use crate::format::{CONFIG_FILE, HISTORY_FILE};
    use crate::store::{Store, StoreSettings};
    use std::os::unix::fs::symlink;
    use std::sync::Arc;
    use std::time::Duration;

    fn key(project: &str, run: &str) -> RunKey {
        RunKey {
            project: project.into(),
            run: run.into(),
        }
    }

    #[test]
    fn discovers_run_folders_with_a_run_file_and_valid_names() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        for dir in ["p/a", "p/b", "p/bad.id", ".hidden/c", "q/d", "q/e"] {
            std::fs::create_dir_all(r.join(dir)).unwrap();
        }
        for run in ["p/a", "p/bad.id", ".hidden/c", "q/d"] {
            std::fs::write(r.join(run).join(RUN_FILE), "{}").unwrap();
        }
        // A run.json that is a folder does not make a run; a file where a project would be is skipped.
        std::fs::create_dir_all(r.join("q/e").join(RUN_FILE)).unwrap();
        std::fs::write(r.join("loose.txt"), "x").unwrap();
        let source = DiskSource::new(r.to_owned());
        let mut found = source.discover();
        found.sort();
        assert_eq!(found, vec![key("p", "a"), key("q", "d")]);
        assert!(source.run_exists(&key("p", "b")));
        assert!(!source.run_exists(&key("p", "zz")));
        assert!(DiskSource::new(r.join("missing")).discover().is_empty());
    }

    #[test]
    fn reads_from_an_offset_and_stats() {
        let root = tempfile::tempdir().unwrap();
        let source = DiskSource::new(root.path().to_owned());
        let run = key("p", "a");
        std::fs::create_dir_all(source.run_dir(&run)).unwrap();
        assert!(source.open(&run, HISTORY_FILE, 0).unwrap().is_none());
        assert!(source.stat(&run, HISTORY_FILE).unwrap().is_none());
        std::fs::write(
            source.run_dir(&run).join(HISTORY_FILE),
            b"line one\nline tw",
        )
        .unwrap();
        let stat = source.stat(&run, HISTORY_FILE).unwrap().unwrap();
        assert_eq!(stat.len, 16);
        assert!(stat.modified.is_some());
        let mut file = source.open(&run, HISTORY_FILE, 9).unwrap().unwrap();
        assert_eq!(file.len, 16);
        let mut buf = [0u8; 32];
        let got = file.read_up_to(&mut buf).unwrap();
        assert_eq!(&buf[..got], b"line tw");
        // At or past the end there is nothing to read: the length says so.
        assert_eq!(
            source.open(&run, HISTORY_FILE, 16).unwrap().unwrap().len,
            16
        );
        let whole = super::super::read_whole(&source, &run, HISTORY_FILE)
            .unwrap()
            .unwrap();
        assert_eq!(whole, b"line one\nline tw");
    }

    #[test]
    fn changed_paths_name_the_run_and_file() {
        let root = Path::new("/data");
        let at = |rel: &str| classify(root, &root.join(rel));
        assert_eq!(at(""), Some(Change::Rescan));
        assert_eq!(at("p"), Some(Change::Rescan));
        assert_eq!(at("p/a"), Some(Change::Run(key("p", "a"))));
        assert_eq!(
            at("p/a/history.jsonl"),
            Some(Change::File(key("p", "a"), HISTORY_FILE.into()))
        );
        assert_eq!(at("p/a/files/x.bin"), None);
        assert_eq!(at("p/bad.id/run.json"), None);
        assert_eq!(at(".p/a/run.json"), None);
        assert_eq!(classify(root, Path::new("/elsewhere/p/a")), None);
    }

    #[test]
    fn watch_reports_a_written_file() {
        let root = tempfile::tempdir().unwrap();
        let source = DiskSource::new(root.path().canonicalize().unwrap());
        let run = key("p", "a");
        std::fs::create_dir_all(source.run_dir(&run)).unwrap();
        let (tx, rx) = mpsc::channel();
        let _guard = source.watch(tx).unwrap();
        std::fs::write(source.run_dir(&run).join(HISTORY_FILE), b"{}\n").unwrap();
        let wanted = Change::File(run, HISTORY_FILE.into());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(change) if change == wanted => break,
                Ok(_) => {}
                Err(e) => panic!("no change reported: {e}"),
            }
        }
    }

    #[test]
    fn watch_does_not_follow_a_linked_folder() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(outside.path().join("r")).unwrap();
        let source = DiskSource::new(root.path().canonicalize().unwrap());
        let run = key("p", "a");
        std::fs::create_dir_all(source.run_dir(&run)).unwrap();
        symlink(outside.path(), source.root().join("lp")).unwrap();
        let (tx, rx) = mpsc::channel();
        let _guard = source.watch(tx).unwrap();
        // Outside (through the link) first, then inside: events arrive in order.
        std::fs::write(outside.path().join("r").join(HISTORY_FILE), b"{}\n").unwrap();
        std::fs::write(source.run_dir(&run).join(HISTORY_FILE), b"{}\n").unwrap();
        let wanted = Change::File(run, HISTORY_FILE.into());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(change) if change == wanted => break,
                Ok(Change::File(k, _) | Change::Run(k)) => {
                    assert_ne!(k.project, "lp", "watched through the link")
                }
                Ok(Change::Rescan) => {}
                Err(e) => panic!("no change reported: {e}"),
            }
        }
    }

    /// A data directory with a pipe or a symbolic link in the place of each kind of run file and
    /// folder, beside a regular run.
    fn hostile_data_dir(root: &Path, outside: &Path) {
        let run_file =
            |id: &str| format!(r#"{{"id": "{id}", "created_at": 1, "state": "finished"}}"#);
        for run in ["ok", "cfgpipe", "runpipe", "histpipe", "linkcfg"] {
            std::fs::create_dir_all(root.join("p").join(run)).unwrap();
            if run != "runpipe" {
                std::fs::write(root.join("p").join(run).join(RUN_FILE), run_file(run)).unwrap();
            }
        }
        std::fs::write(root.join("p/ok").join(CONFIG_FILE), r#"{"lr": 1}"#).unwrap();
        std::fs::write(
            root.join("p/ok").join(HISTORY_FILE),
            "{\"_step\": 0, \"x\": 1}\n",
        )
        .unwrap();
        make_fifo(&root.join("p/cfgpipe").join(CONFIG_FILE));
        make_fifo(&root.join("p/runpipe").join(RUN_FILE));
        make_fifo(&root.join("p/histpipe").join(HISTORY_FILE));
        // Outside the data directory: a config, a run folder and a project folder to link to.
        std::fs::write(outside.join("config.json"), r#"{"secret": 1}"#).unwrap();
        std::fs::create_dir_all(outside.join("linkrun")).unwrap();
        std::fs::write(outside.join("linkrun").join(RUN_FILE), run_file("linkrun")).unwrap();
        std::fs::create_dir_all(outside.join("r")).unwrap();
        std::fs::write(outside.join("r").join(RUN_FILE), run_file("r")).unwrap();
        symlink(
            outside.join("config.json"),
            root.join("p/linkcfg").join(CONFIG_FILE),
        )
        .unwrap();
        symlink(outside.join("linkrun"), root.join("p/linkrun")).unwrap();
        symlink(outside, root.join("lp")).unwrap();
    }

    #[test]
    fn pipes_and_links_are_skipped_and_a_scan_never_blocks() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        hostile_data_dir(root.path(), outside.path());
        let store = Arc::new(Store::new(StoreSettings::default()));
        let index = crate::db::Db::open_in(state.path()).unwrap().run_index();
        let mut ingest = crate::ingest::Ingest::new(root.path().to_owned(), store.clone(), index);
        let (tx, rx) = mpsc::channel();
        let scanned = store.clone();
        std::thread::spawn(move || {
            ingest.scan(true).unwrap();
            // Loading the histories reads history.jsonl, the pipe among them.
            for run in ["ok", "histpipe"] {
                let run = scanned.get("p", run).unwrap();
                scanned.ensure_loaded(&run).unwrap();
            }
            ingest.scan(false).unwrap();
            tx.send(()).unwrap();
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("the scan blocked on a pipe (or failed)");
        let mut runs: Vec<String> = store
            .project_runs("p")
            .iter()
            .map(|r| r.key.run.clone())
            .collect();
        runs.sort();
        assert_eq!(runs, ["cfgpipe", "histpipe", "linkcfg", "ok"]);
        assert!(store.get("lp", "r").is_none());
        let config = |run: &str| store.get("p", run).unwrap().info().config;
        assert_eq!(config("ok")["lr"], 1);
        assert!(config("cfgpipe").is_empty());
        assert!(config("linkcfg").is_empty(), "read a config through a link");
        assert_eq!(store.get("p", "ok").unwrap().info().history_rows, Some(1));
        assert_eq!(
            store.get("p", "histpipe").unwrap().info().history_rows,
            Some(0)
        );
    }

    #[test]
    fn a_linked_run_folder_or_file_is_missing_to_every_method() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        hostile_data_dir(root.path(), outside.path());
        let source = DiskSource::new(root.path().to_owned());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut found = source.discover();
            found.sort();
            assert_eq!(
                found,
                ["cfgpipe", "histpipe", "linkcfg", "ok"].map(|r| key("p", r))
            );
            for run in [key("p", "linkrun"), key("lp", "r")] {
                assert!(!source.run_exists(&run));
                assert!(source.stat(&run, RUN_FILE).unwrap().is_none());
                assert!(source.open(&run, RUN_FILE, 0).unwrap().is_none());
            }
            for (run, name) in [
                ("linkcfg", CONFIG_FILE),
                ("cfgpipe", CONFIG_FILE),
                ("runpipe", RUN_FILE),
            ] {
                assert!(
                    source.stat(&key("p", run), name).unwrap().is_none(),
                    "{run}"
                );
                assert!(
                    source.open(&key("p", run), name, 0).unwrap().is_none(),
                    "{run}"
                );
            }
            assert!(source.run_exists(&key("p", "runpipe")));
            assert!(source.stat(&key("p", "ok"), CONFIG_FILE).unwrap().is_some());
            tx.send(()).unwrap();
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("blocked on a pipe (or failed)");
    }
}
