//! Where run data is read from: the narrow [`RunSource`] trait that ingest and the store read
//! through, so that neither touches a file system itself (TensorBoard's RustBoard does the same with
//! its `Logdir` trait). [`disk::DiskSource`] reads a data directory on the local disk; an object
//! store can sit behind the same five methods later.

pub mod disk;
#[cfg(target_os = "linux")]
pub mod inotify;

use crate::format::{FormatError, RunKey};
use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::SystemTime;

/// A source of run directories in format v1 (docs/format.md), addressed by run and file name.
pub trait RunSource: fmt::Debug + Send + Sync {
    /// Every run: each `<project>/<run>/` with valid names that holds a `run.json`. Runs whose
    /// folder or `run.json` is not a real folder or regular file (a symbolic link, a pipe, …) are
    /// left out.
    fn discover(&self) -> Vec<RunKey>;

    /// Whether the run's folder exists (with or without a `run.json`); a symbolic link is no folder.
    fn run_exists(&self, run: &RunKey) -> bool;

    /// Length and modification time of one of a run's files; `Ok(None)` when it does not exist or
    /// is not a regular file (a symbolic link, pipe, socket or device is not followed, and is
    /// reported once).
    fn stat(&self, run: &RunKey, name: &str) -> Result<Option<FileStat>, FormatError>;

    /// Opens one of a run's files to read from byte `offset`; `Ok(None)` when it does not exist or
    /// is not a regular file (as for [`RunSource::stat`]). Opening never blocks.
    fn open(&self, run: &RunKey, name: &str, offset: u64) -> Result<Option<OpenFile>, FormatError>;

    /// Starts reporting changes on `changes` until the returned guard is dropped.
    fn watch(&self, changes: mpsc::Sender<Change>) -> std::io::Result<WatchGuard>;
}

/// What [`RunSource::stat`] tells about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub len: u64,
    pub modified: Option<SystemTime>,
}

/// A file opened by [`RunSource::open`]: its length when opened, and a reader at the offset asked
/// for (when that is inside the file).
pub struct OpenFile {
    pub len: u64,
    pub reader: Box<dyn Read + Send>,
    /// Where the file is, to name it in errors.
    pub path: PathBuf,
}

impl OpenFile {
    /// Reads until `buf` is full or the file ends; returns the bytes read.
    pub fn read_up_to(&mut self, buf: &mut [u8]) -> Result<usize, FormatError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => return Err(FormatError::io(&self.path, e)),
            }
        }
        Ok(filled)
    }
}

impl fmt::Debug for OpenFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenFile")
            .field("len", &self.len)
            .field("path", &self.path)
            .finish()
    }
}

/// What changed in a source, as precisely as the source can tell.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Change {
    /// Something only a full rescan can sort out (the root or a project folder, lost events).
    Rescan,
    /// A run's folder itself (made, removed, renamed).
    Run(RunKey),
    /// A file directly inside a run's folder.
    File(RunKey, String),
}

/// Keeps a [`RunSource::watch`] going; dropping it stops the changes.
pub struct WatchGuard {
    _watcher: Box<dyn Send>,
}

impl fmt::Debug for WatchGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WatchGuard")
    }
}

/// Reads the whole of one of a run's (small) files; `Ok(None)` when it does not exist.
pub fn read_whole(
    source: &dyn RunSource,
    run: &RunKey,
    name: &str,
) -> Result<Option<Vec<u8>>, FormatError> {
    let Some(mut file) = source.open(run, name, 0)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.reader
        .read_to_end(&mut bytes)
        .map_err(|e| FormatError::io(&file.path, e))?;
    Ok(Some(bytes))
}
