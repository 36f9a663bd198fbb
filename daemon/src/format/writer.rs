//! The one writer of run directories, for everything in the daemon that writes runs: remote ingest,
//! `serve --demo` and future importers. It keeps the writing rules of docs/format.md: small JSON
//! files are replaced atomically ([`write_atomic`]), `*.jsonl` and `console.log` are only appended
//! to ([`append_at`], [`Appender`]), and nothing is written outside the run's folder.

use super::{
    APPEND_FILES, FormatError, METADATA_FILES, UPLOAD_DIRS, is_hidden, valid_project_name,
    valid_run_id,
};
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Where an append landed: `Ok(len)` when the file now holds the data at its offset (appended
/// now, earlier, or completed after a partial write); `Err(len)` when the file's length `len` does
/// not fit the offset (the writer must resume from `len`).
pub type Placed = Result<u64, u64>;

/// Temp file + fsync + rename, as docs/format.md requires for small files: a reader sees the old
/// file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let io = |e| FormatError::io(&tmp, e);
    let mut f = File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| FormatError::io(path, e))
}

/// Appends `data` so that it sits at `offset` of the file at `path`, and fsyncs it: idempotent, so a
/// retried append, or one cut short by a crash, is completed rather than duplicated.
pub fn append_at(path: &Path, offset: u64, data: &[u8]) -> Result<Placed, FormatError> {
    let io = |e| FormatError::io(path, e);
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .map_err(io)?;
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
        file.sync_data().map_err(io)?;
    }
    Ok(Ok(end))
}

/// The length of a file; a missing file is empty.
pub fn file_len(path: &Path) -> Result<u64, FormatError> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(FormatError::io(path, e)),
    }
}

/// Writes one run's folder, `<root>/<project>/<run>/`.
#[derive(Debug, Clone)]
pub struct RunWriter {
    dir: PathBuf,
}

impl RunWriter {
    /// A writer for run `run` of project `project` under the data directory `root`; touches nothing
    /// yet (see [`RunWriter::create_dir`]).
    pub fn new(root: &Path, project: &str, run: &str) -> Result<RunWriter, FormatError> {
        if !valid_project_name(project) || !valid_run_id(run) {
            return Err(FormatError::Refused(
                "invalid project name or run id".into(),
            ));
        }
        Ok(RunWriter {
            dir: root.join(project).join(run),
        })
    }

    /// Creates the run's folder (and its project's) if they do not exist.
    pub fn create_dir(&self) -> Result<(), FormatError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| FormatError::io(&self.dir, e))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Replaces one of the small JSON files (`run.json`, `config.json`, …) atomically.
    pub fn replace(&self, name: &str, value: &Value) -> Result<(), FormatError> {
        if !METADATA_FILES.contains(&name) {
            return Err(FormatError::Refused(format!(
                "'{name}' may not be replaced"
            )));
        }
        let path = self.dir.join(name);
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| FormatError::Invalid {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomic(&path, &bytes)
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
        append_only(name)?;
        let path = self.dir.join(name);
        let io = |e| FormatError::io(&path, e);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let end = offset + data.len() as u64;
        if len < offset || len > end {
            return Ok((Err(len), file));
        }
        let have = (len - offset) as usize;
        if have > 0 {
            let mut existing = vec![0u8; have];
            file.seek(SeekFrom::Start(offset)).map_err(io)?;
            file.read_exact(&mut existing).map_err(io)?;
            if existing != data[..have] {
                return Ok((Err(len), file));
            }
        }
        if have < data.len() {
            file.write_all(&data[have..]).map_err(io)?;
        }
        Ok((Ok(end), file))
    }

    /// The length of one of the run's files (0 when it does not exist).
    pub fn len(&self, name: &str) -> Result<u64, FormatError> {
        file_len(&self.dir.join(name))
    }

    /// Opens an append-only file for a writer that appends to it line by line.
    pub fn appender(&self, name: &str) -> Result<Appender, FormatError> {
        append_only(name)?;
        let path = self.dir.join(name);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| FormatError::io(&path, e))?;
        Ok(Appender { file, path })
    }

    /// Writes a chunk of an uploaded file (`files/…` or `media/…`, `/`-separated) at `offset`, with
    /// the idempotence of [`append_at`]. Hidden or `..` parts, and a symlink that would lead the
    /// write out of the run's folder, are refused.
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
        let run_dir = &self.dir;
        let path = parts.iter().fold(run_dir.clone(), |p, part| p.join(part));
        let parent = path.parent().unwrap_or(run_dir);
        std::fs::create_dir_all(parent).map_err(|e| FormatError::io(parent, e))?;
        // A symlink inside the run folder must not lead the write elsewhere.
        let canon_run = run_dir
            .canonicalize()
            .map_err(|e| FormatError::io(run_dir, e))?;
        let canon_parent = parent
            .canonicalize()
            .map_err(|e| FormatError::io(parent, e))?;
        if !canon_parent.starts_with(&canon_run) || path.is_symlink() {
            return Err(FormatError::Refused(format!(
                "upload path '{rel}' leads outside the run"
            )));
        }
        append_at(&path, offset, data)
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
}
