//! [`DiskSource`]: the run directories of a data directory on the local disk, watched with notify
//! (inotify, FSEvents, …). Symlinks are followed as the operating system follows them.

use super::{Change, FileStat, OpenFile, RunSource, WatchGuard};
use crate::format::{FormatError, RUN_FILE, RunKey, valid_project_name, valid_run_id};
use notify::{RecursiveMode, Watcher};
use std::io::{Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;

/// The data directory `<root>/<project>/<run>/` on this machine.
#[derive(Debug, Clone)]
pub struct DiskSource {
    root: PathBuf,
}

impl DiskSource {
    pub fn new(root: PathBuf) -> Self {
        DiskSource { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of a run.
    pub fn run_dir(&self, run: &RunKey) -> PathBuf {
        self.root.join(&run.project).join(&run.run)
    }
}

impl RunSource for DiskSource {
    fn discover(&self) -> Vec<RunKey> {
        let mut out = Vec::new();
        for (project, pdir) in subdirs(&self.root) {
            if !valid_project_name(&project) {
                continue;
            }
            for (run, rdir) in subdirs(&pdir) {
                if valid_run_id(&run) && rdir.join(RUN_FILE).is_file() {
                    out.push(RunKey {
                        project: project.clone(),
                        run,
                    });
                }
            }
        }
        out
    }

    fn run_exists(&self, run: &RunKey) -> bool {
        self.run_dir(run).exists()
    }

    fn stat(&self, run: &RunKey, name: &str) -> Result<Option<FileStat>, FormatError> {
        let path = self.run_dir(run).join(name);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(Some(FileStat {
                len: m.len(),
                modified: m.modified().ok(),
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(FormatError::io(path, e)),
        }
    }

    fn open(&self, run: &RunKey, name: &str, offset: u64) -> Result<Option<OpenFile>, FormatError> {
        let path = self.run_dir(run).join(name);
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FormatError::io(path, e)),
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

    fn watch(&self, changes: mpsc::Sender<Change>) -> std::io::Result<WatchGuard> {
        let root = self.root.clone();
        let handler = move |ev: notify::Result<notify::Event>| match ev {
            // Opening or reading a file changes nothing, and the daemon's own reads would
            // otherwise wake it forever. A writer closing its file does count.
            Ok(ev) if is_read_only(&ev.kind) => {}
            Ok(ev) => {
                for change in ev.paths.iter().filter_map(|p| classify(&root, p)) {
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
        let mut watcher = notify::recommended_watcher(handler)
            .map_err(|e| std::io::Error::other(format!("no file watcher: {e}")))?;
        watcher
            .watch(&self.root, RecursiveMode::Recursive)
            .map_err(|e| {
                std::io::Error::other(format!("cannot watch {}: {e}", self.root.display()))
            })?;
        Ok(WatchGuard {
            _watcher: Box::new(watcher),
        })
    }
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

fn is_read_only(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    matches!(kind, notify::EventKind::Access(a) if *a != AccessKind::Close(AccessMode::Write))
}

/// Maps a changed path under `root` to what changed: the root or a project folder needs a
/// rescan; a run's folder or a file directly in it is named; deeper paths and invalid names are
/// nothing a reader follows.
fn classify(root: &Path, path: &Path) -> Option<Change> {
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
    use crate::format::HISTORY_FILE;
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
}
