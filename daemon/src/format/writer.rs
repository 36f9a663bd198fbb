//! The one writer of run directories, for everything in the daemon that writes runs: remote ingest,
//! `serve --demo` and future importers. It keeps the writing rules of docs/format.md: small JSON
//! files are replaced atomically ([`write_atomic`]), `*.jsonl` and `console.log` are only appended
//! to ([`append_at`], [`Appender`]), and nothing is written outside the run's folder: every file and
//! folder is opened beneath the data directory through [`beneath`](super::beneath), so a symbolic
//! link (a run or project folder, a file, a folder of an upload) is refused, never followed.

use super::beneath::{Dir, HeldDir, report_refusal};
use super::{
    APPEND_FILES, FormatError, METADATA_FILES, UPLOAD_DIRS, is_hidden, valid_project_name,
    valid_run_id,
};
use serde_json::Value;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a refusal of the writer ends (see [`RunWriter`]'s refusals).
pub const NOT_WRITTEN_THROUGH: &str =
    "only regular files are written and no symbolic link is followed";

/// Where an append landed: `Ok(len)` when the file now holds the data at its offset (appended
/// now, earlier, or completed after a partial write); `Err(len)` when the file's length `len` does
/// not fit the offset (the writer must resume from `len`).
pub type Placed = Result<u64, u64>;

/// Temp file + fsync + rename, as docs/format.md requires for small files: a reader sees the old
/// file or the new one, never half of one. The folder of `path` is trusted; the file is written
/// as [`replace_in`] does.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    let (dir, name) = split(path)?;
    replace_in(&Dir::open_root(dir)?, name, bytes)
}

/// Replaces the file `name` of the folder `dir` with `bytes` atomically: a new temp file beside it
/// (created, never an existing one reused), fsynced, then renamed over `name` within the folder.
pub fn replace_in(dir: &Dir, name: &str, bytes: &[u8]) -> Result<(), FormatError> {
    static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);
    let tmp = format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        NEXT_TEMP.fetch_add(1, Ordering::Relaxed)
    );
    let tmp_path = dir.path().join(&tmp);
    let written = dir.create_new(&tmp).and_then(|mut f| {
        let io = |e| FormatError::io(&tmp_path, e);
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)
    });
    let renamed = written.and_then(|()| dir.rename(&tmp, name));
    if renamed.is_err() {
        // Best effort: a temp file left behind is hidden and ignored by readers.
        let _ = dir.remove_file(&tmp);
    }
    renamed
}

/// Appends `data` so that it sits at `offset` of the file at `path`, and fsyncs it: idempotent, so a
/// retried append, or one cut short by a crash, is completed rather than duplicated. The folder
/// of `path` is trusted; the file must be a regular file (it is created if missing).
pub fn append_at(path: &Path, offset: u64, data: &[u8]) -> Result<Placed, FormatError> {
    let (dir, name) = split(path)?;
    let file = Dir::open_root(dir)?.open_append(name, true)?;
    place_at(&file, &|| path.to_owned(), offset, data, true)
}

/// Makes `file` (opened to read and append) hold `data` at `offset`, as [`append_at`] describes;
/// fsyncs what it wrote when `sync`. `path` names the file in an error (made only then).
fn place_at(
    mut file: &File,
    path: &dyn Fn() -> PathBuf,
    offset: u64,
    data: &[u8],
    sync: bool,
) -> Result<Placed, FormatError> {
    let io = |e| FormatError::io(path(), e);
    let len = file.metadata().map_err(io)?.len();
    let end = offset + data.len() as u64;
    if len < offset || len > end {
        return Ok(Err(len));
    }
    // The file already holds `len - offset` bytes of this data, if it is the same data.
    let have = (len - offset) as usize;
    if have > 0 {
        let mut existing = vec![0u8; have];
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        file.read_exact(&mut existing).map_err(io)?;
        if existing != data[..have] {
            return Ok(Err(len));
        }
    }
    if have < data.len() {
        file.write_all(&data[have..]).map_err(io)?;
        if sync {
            file.sync_data().map_err(io)?;
        }
    }
    Ok(Ok(end))
}

/// The folder and name of a file path.
fn split(path: &Path) -> Result<(&Path, &str), FormatError> {
    match (path.parent(), path.file_name().and_then(|n| n.to_str())) {
        (Some(dir), Some(name)) => Ok((
            if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            },
            name,
        )),
        _ => Err(FormatError::Refused(format!(
            "{}: not a file in a folder",
            path.display()
        ))),
    }
}

/// Which file an open handle is (its device and inode on Unix), to tell whether a path still leads
/// to it and which filesystem it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    pub dev: u64,
    ino: u64,
}

impl FileId {
    fn new(dev: u64, ino: u64) -> FileId {
        FileId { dev, ino }
    }

    /// The id of an open file (one `fstat`).
    #[cfg(unix)]
    pub fn of(file: &File) -> std::io::Result<FileId> {
        use std::os::unix::fs::MetadataExt;
        let meta = file.metadata()?;
        Ok(FileId::new(meta.dev(), meta.ino()))
    }

    /// Elsewhere files have no such id; [`RunWriter::still_holds_id`] never trusts one.
    #[cfg(not(unix))]
    pub fn of(_file: &File) -> std::io::Result<FileId> {
        Ok(FileId::new(0, 0))
    }
}

/// Writes one run's folder, `<root>/<project>/<run>/`, opening everything beneath `root`.
#[derive(Debug, Clone)]
pub struct RunWriter {
    /// The data directory, held open (shared by the writers of one data directory).
    root: Arc<HeldDir>,
    /// `<project>/<run>`, beneath `root`.
    rel: String,
    dir: PathBuf,
}

impl RunWriter {
    /// A writer for run `run` of project `project` under the data directory `root`; touches nothing
    /// yet (see [`RunWriter::create_dir`]).
    pub fn new(root: &Path, project: &str, run: &str) -> Result<RunWriter, FormatError> {
        Self::beneath(Arc::new(HeldDir::new(root.to_owned())), project, run)
    }

    /// A writer for run `run` of project `project` beneath the data directory `root`, already
    /// held by the caller (and shared with its other writers); touches nothing yet.
    pub fn beneath(root: Arc<HeldDir>, project: &str, run: &str) -> Result<RunWriter, FormatError> {
        if !valid_project_name(project) || !valid_run_id(run) {
            return Err(FormatError::Refused(
                "invalid project name or run id".into(),
            ));
        }
        Ok(RunWriter {
            dir: root.path().join(project).join(run),
            rel: format!("{project}/{run}"),
            root,
        })
    }

    /// Creates the run's folder (and its project's) if they do not exist.
    pub fn create_dir(&self) -> Result<(), FormatError> {
        let made = self.root.get().and_then(|root| root.create_dirs(&self.rel));
        made.map(drop).map_err(|e| self.refusal(e))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The run's folder, opened beneath the data directory; it must exist.
    fn open_run_dir(&self) -> Result<Dir, FormatError> {
        let opened = self.root.get().and_then(|root| root.open_dir(&self.rel));
        opened
            .map_err(|e| self.refusal(e))?
            .ok_or_else(|| FormatError::io(&self.dir, std::io::ErrorKind::NotFound.into()))
    }

    /// Opens the run file `rel` (beneath `dir`, the run's folder or one in it) to append to.
    fn open_append(&self, dir: &Dir, rel: &str, read: bool) -> Result<File, FormatError> {
        dir.open_append(rel, read).map_err(|e| self.refusal(e))
    }

    /// A file or folder the writer will not write through (a symbolic link, a pipe, …) is reported
    /// once in the log with its full path, and refused with its path inside the data directory
    /// only, since the refusal may be answered to a remote client.
    fn refusal(&self, error: FormatError) -> FormatError {
        let FormatError::NotRegular { path, found } = &error else {
            return error;
        };
        report_refusal(&error);
        let inside = path.strip_prefix(self.root.path()).unwrap_or(path);
        FormatError::Refused(format!(
            "{}: {found}; {NOT_WRITTEN_THROUGH}",
            inside.display()
        ))
    }

    /// The run's folder, its project's folder and the data directory, in that order, each with a
    /// handle to `fsync` so that new names in it survive a crash. The folders are opened beneath
    /// the data directory like everything else: a linked run or project folder is refused.
    pub fn folders_to_sync(&self) -> Result<Vec<(PathBuf, File)>, FormatError> {
        let root = self.root.get()?;
        let run = self.open_run_dir()?;
        let project = Path::new(&self.rel).parent().and_then(|p| p.to_str());
        let project = root
            .open_dir(project.unwrap_or_default())
            .map_err(|e| self.refusal(e))?
            .ok_or_else(|| FormatError::io(&self.dir, std::io::ErrorKind::NotFound.into()))?;
        [&run, &project, root]
            .iter()
            .map(|dir| Ok((dir.path().to_owned(), dir.open_to_sync()?)))
            .collect()
    }

    /// Replaces one of the small JSON files (`run.json`, `config.json`, …) atomically.
    pub fn replace(&self, name: &str, value: &Value) -> Result<(), FormatError> {
        if !METADATA_FILES.contains(&name) {
            return Err(FormatError::Refused(format!(
                "'{name}' may not be replaced"
            )));
        }
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| FormatError::Invalid {
            path: self.dir.join(name),
            message: e.to_string(),
        })?;
        replace_in(&self.open_run_dir()?, name, &bytes)
    }

    /// Replaces one of the small JSON files with `text` as given (already checked to be JSON;
    /// kept byte for byte, so `NaN` and `Infinity` literals stay numbers).
    pub fn replace_text(&self, name: &str, text: &[u8]) -> Result<(), FormatError> {
        if !METADATA_FILES.contains(&name) {
            return Err(FormatError::Refused(format!(
                "'{name}' may not be replaced"
            )));
        }
        replace_in(&self.open_run_dir()?, name, text)
    }

    /// Reads one of the run's files whole (opened beneath the data directory); `Ok(None)`
    /// when it does not exist.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, FormatError> {
        self.open_run_dir()?.read(name)
    }

    /// Appends to an append-only file so that `data` sits at `offset` (see [`append_at`]).
    pub fn append_at(&self, name: &str, offset: u64, data: &[u8]) -> Result<Placed, FormatError> {
        let (placed, file) = self.append_at_nosync(name, offset, data)?;
        if placed.is_ok() {
            file.sync_data()
                .map_err(|e| FormatError::io(self.dir.join(name), e))?;
        }
        Ok(placed)
    }

    /// [`RunWriter::append_at`] without the fsync: the data is written but not yet durable. The
    /// caller makes it durable with `sync_data` on the returned file (remote ingest does so for
    /// many batches at once, in `ingest::commit`), also when nothing was written now, since a retry
    /// may find data that was never synced.
    pub fn append_at_nosync(
        &self,
        name: &str,
        offset: u64,
        data: &[u8],
    ) -> Result<(Placed, File), FormatError> {
        let file = self.open_appendable(name)?;
        let placed = self.place_nosync(&file, name, offset, data)?;
        Ok((placed, file))
    }

    /// Opens an append-only file to read and append, for a caller that keeps it open across
    /// [`RunWriter::place_nosync`] calls while [`RunWriter::still_holds`] says it is in place.
    pub fn open_appendable(&self, name: &str) -> Result<File, FormatError> {
        append_only(name)?;
        self.open_append(&self.open_run_dir()?, name, true)
    }

    /// Whether `file`, opened by [`RunWriter::open_appendable`], is still the run's file `name`:
    /// the same file is found there now, beneath the data directory with no symbolic link on the
    /// way. When not (the file or a folder was moved, removed or replaced), it must be reopened.
    pub fn still_holds(&self, name: &str, file: &File) -> bool {
        FileId::of(file).is_ok_and(|held| self.still_holds_id(name, held))
    }

    /// [`RunWriter::still_holds`] for a file known by its [`FileId`] (taken once when it was
    /// opened, so checking it again costs no call on the held handle).
    #[cfg(unix)]
    pub fn still_holds_id(&self, name: &str, held: FileId) -> bool {
        use std::os::unix::fs::MetadataExt;
        let there = self
            .root
            .get()
            .and_then(|root| root.stat(&format!("{}/{name}", self.rel)));
        match there {
            Ok(Some(there)) => FileId::new(there.dev(), there.ino()) == held,
            _ => false,
        }
    }

    /// Elsewhere a held file is never trusted: it is reopened for every append.
    #[cfg(not(unix))]
    pub fn still_holds_id(&self, _name: &str, _held: FileId) -> bool {
        false
    }

    /// [`RunWriter::append_at_nosync`] into `file`, the run's file `name` opened by
    /// [`RunWriter::open_appendable`].
    pub fn place_nosync(
        &self,
        file: &File,
        name: &str,
        offset: u64,
        data: &[u8],
    ) -> Result<Placed, FormatError> {
        append_only(name)?;
        place_at(file, &|| self.dir.join(name), offset, data, false)
    }

    /// The length of one of the run's files (0 when it does not exist).
    pub fn len(&self, name: &str) -> Result<u64, FormatError> {
        let opened = self.root.get().and_then(|root| root.open_dir(&self.rel));
        let Some(dir) = opened.map_err(|e| self.refusal(e))? else {
            return Ok(0);
        };
        let stat = dir.stat(name).map_err(|e| self.refusal(e))?;
        Ok(stat.map_or(0, |m| m.len()))
    }

    /// Opens an append-only file for a writer that appends to it line by line.
    pub fn appender(&self, name: &str) -> Result<Appender, FormatError> {
        append_only(name)?;
        let file = self.open_append(&self.open_run_dir()?, name, false)?;
        Ok(Appender {
            file,
            path: self.dir.join(name),
        })
    }

    /// Writes a chunk of an uploaded file (`files/…` or `media/…`, `/`-separated) at `offset`, with
    /// the idempotence of [`append_at`]. Hidden or `..` parts are refused, and so is a symbolic link
    /// anywhere on the way (the run's or project's folder, a folder of the upload, the file): its
    /// folders are made one by one beneath the data directory, none through a link.
    pub fn write_upload_chunk(
        &self,
        rel: &str,
        offset: u64,
        data: &[u8],
    ) -> Result<Placed, FormatError> {
        let parts: Vec<&str> = rel.split('/').collect();
        let safe = |p: &&str| {
            !p.is_empty() && !is_hidden(p) && !p.contains(['\\', '\0']) && p.len() <= 255
        };
        if parts.len() < 2
            || parts.len() > 16
            || !UPLOAD_DIRS.contains(&parts[0])
            || !parts.iter().all(safe)
        {
            return Err(FormatError::Refused(format!(
                "upload path '{rel}' must be files/… or media/… without hidden or '..' parts"
            )));
        }
        let (name, folders) = parts.split_last().expect("two parts or more");
        let folder = format!("{}/{}", self.rel, folders.join("/"));
        let made = self.root.get().and_then(|root| root.create_dirs(&folder));
        let dir = made.map_err(|e| self.refusal(e))?;
        let file = self.open_append(&dir, name, true)?;
        place_at(&file, &|| self.dir.join(rel), offset, data, true)
    }
}

fn append_only(name: &str) -> Result<(), FormatError> {
    if APPEND_FILES.contains(&name) {
        Ok(())
    } else {
        Err(FormatError::Refused(format!(
            "'{name}' may not be appended to"
        )))
    }
}

/// An append-only file held open by its one writer; every write lands at the end.
#[derive(Debug)]
pub struct Appender {
    file: File,
    path: PathBuf,
}

impl Appender {
    /// Appends bytes (whole lines, for a `*.jsonl` file).
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), FormatError> {
        self.file
            .write_all(bytes)
            .map_err(|e| FormatError::io(&self.path, e))
    }

    /// Flushes what was appended to the disk.
    pub fn sync(&self) -> Result<(), FormatError> {
        self.file
            .sync_all()
            .map_err(|e| FormatError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CONSOLE_FILE, HISTORY_FILE, RUN_FILE};
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn atomic_replace_leaves_the_new_file_and_no_temp() {
        let root = tempfile::tempdir().unwrap();
        let w = RunWriter::new(root.path(), "p", "r").unwrap();
        w.create_dir().unwrap();
        w.replace(RUN_FILE, &serde_json::json!({"id": "r", "n": 1}))
            .unwrap();
        w.replace(RUN_FILE, &serde_json::json!({"id": "r", "n": 2}))
            .unwrap();
        let text = std::fs::read_to_string(w.dir().join(RUN_FILE)).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            serde_json::json!({"id": "r", "n": 2})
        );
        assert_eq!(names(w.dir()), vec![RUN_FILE.to_owned()]);
        // Only the small JSON files are replaced.
        let refused = w.replace(HISTORY_FILE, &serde_json::json!({}));
        assert!(matches!(refused, Err(FormatError::Refused(_))));
        assert!(RunWriter::new(root.path(), "p", "../r").is_err());
        assert!(RunWriter::new(root.path(), ".p", "r").is_err());
    }

    #[test]
    fn appends_are_idempotent_by_offset() {
        let root = tempfile::tempdir().unwrap();
        let w = RunWriter::new(root.path(), "p", "r").unwrap();
        w.create_dir().unwrap();
        assert_eq!(w.len(HISTORY_FILE).unwrap(), 0);
        assert_eq!(w.append_at(HISTORY_FILE, 0, b"a\n").unwrap(), Ok(2));
        // A retry writes nothing; a prefix already there is completed.
        assert_eq!(w.append_at(HISTORY_FILE, 0, b"a\n").unwrap(), Ok(2));
        assert_eq!(w.append_at(HISTORY_FILE, 0, b"a\nb\n").unwrap(), Ok(4));
        // A gap or different data is a conflict with the file's length.
        assert_eq!(w.append_at(HISTORY_FILE, 9, b"x\n").unwrap(), Err(4));
        assert_eq!(w.append_at(HISTORY_FILE, 2, b"X\n").unwrap(), Err(4));
        assert_eq!(w.len(HISTORY_FILE).unwrap(), 4);
        assert!(w.append_at(RUN_FILE, 0, b"{}").is_err());
        let mut console = w.appender(CONSOLE_FILE).unwrap();
        console.append(b"one\n").unwrap();
        console.append(b"two\n").unwrap();
        console.sync().unwrap();
        drop(console);
        // A second appender adds at the end, never over what is there.
        w.appender(CONSOLE_FILE)
            .unwrap()
            .append(b"three\n")
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(w.dir().join(CONSOLE_FILE)).unwrap(),
            "one\ntwo\nthree\n"
        );
        assert_eq!(
            std::fs::read_to_string(w.dir().join(HISTORY_FILE)).unwrap(),
            "a\nb\n"
        );
        assert!(w.appender(RUN_FILE).is_err());
    }

    #[test]
    fn a_held_file_is_trusted_only_while_it_is_the_runs_file() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let w = RunWriter::new(root.path(), "p", "r").unwrap();
        w.create_dir().unwrap();
        let held = w.open_appendable(HISTORY_FILE).unwrap();
        assert_eq!(
            w.place_nosync(&held, HISTORY_FILE, 0, b"a\n").unwrap(),
            Ok(2)
        );
        assert!(w.still_holds(HISTORY_FILE, &held));
        // Replaced by another file, moved away with its folder, or a link put in its place.
        let path = w.dir().join(HISTORY_FILE);
        std::fs::write(w.dir().join("new"), "a\n").unwrap();
        std::fs::rename(w.dir().join("new"), &path).unwrap();
        assert!(!w.still_holds(HISTORY_FILE, &held));
        let held = w.open_appendable(HISTORY_FILE).unwrap();
        assert!(w.still_holds(HISTORY_FILE, &held));
        let moved = outside.path().join("r");
        std::fs::rename(w.dir(), &moved).unwrap();
        assert!(!w.still_holds(HISTORY_FILE, &held));
        std::os::unix::fs::symlink(&moved, w.dir()).unwrap();
        assert!(!w.still_holds(HISTORY_FILE, &held), "found through a link");
        assert!(w.open_appendable(HISTORY_FILE).is_err());
        assert!(w.open_appendable(RUN_FILE).is_err());
    }

    #[test]
    fn upload_chunks_stay_inside_the_run_and_are_idempotent() {
        let root = tempfile::tempdir().unwrap();
        let w = RunWriter::new(root.path(), "p", "r").unwrap();
        // A refused path creates nothing.
        assert!(w.write_upload_chunk("files/../x", 0, b"x").is_err());
        assert!(!root.path().join("p").exists());
        assert_eq!(
            w.write_upload_chunk("files/ckpt/a.bin", 0, b"abc").unwrap(),
            Ok(3)
        );
        assert_eq!(
            w.write_upload_chunk("files/ckpt/a.bin", 0, b"abc").unwrap(),
            Ok(3)
        );
        assert_eq!(
            w.write_upload_chunk("files/ckpt/a.bin", 3, b"de").unwrap(),
            Ok(5)
        );
        assert_eq!(
            w.write_upload_chunk("files/ckpt/a.bin", 9, b"x").unwrap(),
            Err(5)
        );
        assert_eq!(
            std::fs::read(w.dir().join("files/ckpt/a.bin")).unwrap(),
            b"abcde"
        );
        for bad in [
            "history.jsonl",
            "files/../run.json",
            "files/.hidden",
            "other/x",
            "files//x",
            "files",
        ] {
            assert!(w.write_upload_chunk(bad, 0, b"x").is_err(), "{bad}");
        }
        std::os::unix::fs::symlink(root.path(), w.dir().join("files/out")).unwrap();
        assert!(w.write_upload_chunk("files/out/x", 0, b"x").is_err());
    }

    /// Refused as a link or pipe is, with no absolute path in the message.
    fn is_refused<T: std::fmt::Debug>(result: Result<T, FormatError>) -> bool {
        matches!(result, Err(FormatError::Refused(m)) if m.ends_with(NOT_WRITTEN_THROUGH) && !m.starts_with('/'))
    }

    #[test]
    fn nothing_is_written_through_a_symbolic_link() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let r = root.path();
        // A linked project folder, a linked run folder, a linked upload folder and linked files.
        std::os::unix::fs::symlink(outside.path(), r.join("lp")).unwrap();
        std::fs::create_dir_all(r.join("p/real")).unwrap();
        std::os::unix::fs::symlink(outside.path(), r.join("p/lr")).unwrap();
        std::os::unix::fs::symlink(outside.path(), r.join("p/real/media")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("h"), r.join("p/real/history.jsonl"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path().join("c"), r.join("p/real/console.log")).unwrap();
        for (project, run) in [("lp", "r"), ("p", "lr")] {
            let w = RunWriter::new(r, project, run).unwrap();
            assert!(is_refused(w.create_dir()), "{project}/{run}");
            assert!(is_refused(w.write_upload_chunk("files/a/b.bin", 0, b"x")));
            assert!(is_refused(w.append_at(HISTORY_FILE, 0, b"{}\n")));
            assert!(is_refused(
                w.replace(RUN_FILE, &serde_json::json!({"id": run}))
            ));
            assert!(is_refused(w.appender(CONSOLE_FILE)));
        }
        let w = RunWriter::new(r, "p", "real").unwrap();
        let folders: Vec<PathBuf> = w
            .folders_to_sync()
            .unwrap()
            .into_iter()
            .map(|(p, f)| {
                f.sync_all().unwrap();
                p
            })
            .collect();
        assert_eq!(folders, [w.dir(), &r.join("p"), r]);
        assert!(is_refused(
            RunWriter::new(r, "p", "lr").unwrap().folders_to_sync()
        ));
        assert!(is_refused(
            RunWriter::new(r, "lp", "r").unwrap().folders_to_sync()
        ));
        assert!(is_refused(w.write_upload_chunk("media/x.png", 0, b"x")));
        assert!(is_refused(w.write_upload_chunk(
            "media/deep/x.png",
            0,
            b"x"
        )));
        assert!(is_refused(w.append_at(HISTORY_FILE, 0, b"{}\n")));
        assert!(is_refused(w.appender(CONSOLE_FILE)));
        // A linked run.json is replaced by a real file, never written through.
        std::os::unix::fs::symlink(outside.path().join("run"), w.dir().join(RUN_FILE)).unwrap();
        w.replace(RUN_FILE, &serde_json::json!({"id": "real"}))
            .unwrap();
        assert!(!w.dir().join(RUN_FILE).is_symlink());
        let written: Vec<_> = std::fs::read_dir(outside.path()).unwrap().collect();
        assert!(
            written.is_empty(),
            "written outside the data directory: {written:?}"
        );
    }

    #[test]
    fn a_named_pipe_is_refused_without_blocking() {
        let root = tempfile::tempdir().unwrap();
        let w = RunWriter::new(root.path(), "p", "r").unwrap();
        w.create_dir().unwrap();
        super::super::beneath::make_fifo(&w.dir().join(HISTORY_FILE));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let refused = is_refused(w.append_at(HISTORY_FILE, 0, b"{}\n"))
                && is_refused(w.appender(HISTORY_FILE))
                && is_refused(w.len(HISTORY_FILE));
            tx.send(refused).unwrap();
        });
        let refused = rx.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(refused, Ok(true), "blocked on the pipe, or wrote to it");
    }
}
