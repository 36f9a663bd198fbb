//! Applies batches from remote clients (`POST /api/ingest/v1/batch`) to run folders on disk, in
//! format v1, so they flow into the store exactly like a local client's files.
//!
//! Appends are idempotent by byte offset: a batch says how long it believes each file is, and a
//! retried batch, or one cut short by a crash, is completed rather than duplicated.

use super::meta::{CONFIG_FILE, HISTORY_FILE, METRICS_FILE, RUN_FILE, SUMMARY_FILE};
use super::{valid_project_name, valid_run_id};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Files a batch may replace.
pub const REPLACEABLE: [&str; 4] = [RUN_FILE, CONFIG_FILE, SUMMARY_FILE, METRICS_FILE];
/// Files a batch may append to.
pub const APPENDABLE: [&str; 4] = [HISTORY_FILE, "system.jsonl", "console.log", "alerts.jsonl"];
/// Folders of a run that remote clients upload files into (`POST /api/ingest/v1/file`).
pub const UPLOAD_ROOTS: [&str; 2] = ["files", "media"];

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
        if !REPLACEABLE.contains(&name.as_str()) {
            return Err(Error::BadRequest(format!("'{name}' may not be replaced")));
        }
        if !value.is_object() {
            return Err(Error::BadRequest(format!("'{name}' must be a JSON object")));
        }
        if name == RUN_FILE && value.get("id").and_then(|v| v.as_str()) != Some(batch.run.as_str())
        {
            return Err(Error::BadRequest(
                "run.json's id must equal the batch's run".into(),
            ));
        }
    }
    for (name, a) in &batch.append {
        if !APPENDABLE.contains(&name.as_str()) {
            return Err(Error::BadRequest(format!(
                "'{name}' may not be appended to"
            )));
        }
        if name.ends_with(".jsonl") && !a.data.is_empty() && !a.data.ends_with('\n') {
            return Err(Error::BadRequest(format!(
                "data for '{name}' must be whole lines"
            )));
        }
    }
    Ok(())
}

/// Writes a (validated) batch under `root`: appends first, then the replaced files (so `run.json`
/// saying "finished" never arrives before the data it finishes). Everything is fsynced before
/// this returns, so an acknowledged batch survives a crash.
pub fn apply(root: &Path, batch: &Batch) -> Result<Applied> {
    let dir = root.join(&batch.project).join(&batch.run);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut lengths = BTreeMap::new();
    let mut conflict = false;
    for (name, a) in &batch.append {
        let path = dir.join(name);
        match append_at(&path, a.offset, a.data.as_bytes())? {
            Ok(len) => lengths.insert(name.clone(), len),
            Err(len) => {
                conflict = true;
                lengths.insert(name.clone(), len)
            }
        };
    }
    if conflict {
        // Report every appendable file's length, so the client can resume them all.
        for name in APPENDABLE {
            if !lengths.contains_key(name) {
                lengths.insert(name.to_owned(), file_len(&dir.join(name))?);
            }
        }
        return Ok(Applied::Conflict(lengths));
    }
    // run.json last: it is what makes a folder a run, and what says a run is finished.
    let mut names: Vec<&String> = batch.files.keys().collect();
    names.sort_by_key(|n| n.as_str() == RUN_FILE);
    for name in names {
        let text = serde_json::to_vec_pretty(&batch.files[name])
            .map_err(|e| Error::Internal(e.to_string()))?;
        write_atomic(&dir.join(name), &text)?;
    }
    Ok(Applied::Ok(lengths))
}

fn file_len(path: &Path) -> Result<u64> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Appends `data` so that it sits at `offset`. `Ok(Ok(len))` when the file now holds it (appended
/// now, earlier, or completed after a partial write); `Ok(Err(len))` when the file's length does
/// not fit (the client must resume from `len`).
fn append_at(path: &Path, offset: u64, data: &[u8]) -> Result<std::result::Result<u64, u64>> {
    let io = |e| Error::io(path, e);
    let mut file = std::fs::OpenOptions::new()
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

/// Writes a chunk of an uploaded file (`files/…` or `media/…` of a run) at `offset`, with the same
/// idempotence as appends. `Ok(Ok(len))` when the file holds the chunk; `Ok(Err(len))` on a conflict.
pub fn write_file_chunk(
    root: &Path,
    project: &str,
    run: &str,
    rel: &str,
    offset: u64,
    data: &[u8],
) -> Result<std::result::Result<u64, u64>> {
    if !valid_project_name(project) || !valid_run_id(run) {
        return Err(Error::BadRequest("invalid project name or run id".into()));
    }
    let parts: Vec<&str> = rel.split('/').collect();
    let safe = |p: &&str| {
        !p.is_empty() && !p.starts_with('.') && !p.contains(['\\', '\0']) && p.len() <= 255
    };
    if parts.len() < 2
        || parts.len() > 16
        || !UPLOAD_ROOTS.contains(&parts[0])
        || !parts.iter().all(safe)
    {
        return Err(Error::BadRequest(format!(
            "upload path '{rel}' must be files/… or media/… without hidden or '..' parts"
        )));
    }
    let run_dir = root.join(project).join(run);
    let path = parts.iter().fold(run_dir.clone(), |p, part| p.join(part));
    let parent = path.parent().unwrap_or(&run_dir);
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    // A symlink inside the run folder must not lead the write elsewhere.
    let canon_run = run_dir.canonicalize().map_err(|e| Error::io(&run_dir, e))?;
    let canon_parent = parent.canonicalize().map_err(|e| Error::io(parent, e))?;
    if !canon_parent.starts_with(&canon_run) || path.is_symlink() {
        return Err(Error::BadRequest(format!(
            "upload path '{rel}' leads outside the run"
        )));
    }
    append_at(&path, offset, data)
}

/// Temp file + fsync + rename, as docs/format.md requires for small files.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let io = |e| Error::io(&tmp, e);
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn file_chunks_stay_inside_the_run_and_are_idempotent() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        assert_eq!(
            write_file_chunk(r, "p", "r", "files/ckpt/a.bin", 0, b"abc").unwrap(),
            Ok(3)
        );
        assert_eq!(
            write_file_chunk(r, "p", "r", "files/ckpt/a.bin", 0, b"abc").unwrap(),
            Ok(3)
        );
        assert_eq!(
            write_file_chunk(r, "p", "r", "files/ckpt/a.bin", 3, b"de").unwrap(),
            Ok(5)
        );
        assert_eq!(
            write_file_chunk(r, "p", "r", "files/ckpt/a.bin", 9, b"x").unwrap(),
            Err(5)
        );
        assert_eq!(
            std::fs::read(r.join("p/r/files/ckpt/a.bin")).unwrap(),
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
            assert!(
                write_file_chunk(r, "p", "r", bad, 0, b"x").is_err(),
                "{bad}"
            );
        }
        std::os::unix::fs::symlink(root.path(), r.join("p/r/files/out")).unwrap();
        assert!(write_file_chunk(r, "p", "r", "files/out/x", 0, b"x").is_err());
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
