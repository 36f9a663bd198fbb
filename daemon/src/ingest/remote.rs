//! Applies batches from remote clients (`POST /api/ingest/v1/batch`) to run folders on disk, in
//! format v1 and through the format's one writer, so they flow into the store exactly like a local
//! client's files.
//!
//! Appends are idempotent by byte offset: a batch says how long it believes each file is, and a
//! retried batch, or one cut short by a crash, is completed rather than duplicated. A batch may
//! replace the small JSON files ([`METADATA_FILES`]) and append to the append-only ones
//! ([`APPEND_FILES`]).

use crate::error::{Error, Result};
use crate::format::writer::{Placed, RunWriter};
use crate::format::{
    APPEND_FILES, METADATA_FILES, RUN_FILE, is_line_file, valid_project_name, valid_run_id,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

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

/// Writes a (validated) batch under `root`: appends first, then the replaced files (so `run.json`
/// saying "finished" never arrives before the data it finishes). Everything is fsynced before
/// this returns, so an acknowledged batch survives a crash.
pub fn apply(root: &Path, batch: &Batch) -> Result<Applied> {
    let run = RunWriter::new(root, &batch.project, &batch.run)?;
    run.create_dir()?;
    let mut lengths = BTreeMap::new();
    let mut conflict = false;
    for (name, a) in &batch.append {
        match run.append_at(name, a.offset, a.data.as_bytes())? {
            Ok(len) => lengths.insert(name.clone(), len),
            Err(len) => {
                conflict = true;
                lengths.insert(name.clone(), len)
            }
        };
    }
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

/// Writes a chunk of an uploaded file (`files/…` or `media/…` of a run) at `offset`, with the same
/// idempotence as appends. `Ok(Ok(len))` when the file holds the chunk; `Ok(Err(len))` on a conflict.
pub fn write_file_chunk(
    root: &Path,
    project: &str,
    run: &str,
    rel: &str,
    offset: u64,
    data: &[u8],
) -> Result<Placed> {
    Ok(RunWriter::new(root, project, run)?.write_upload_chunk(rel, offset, data)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::HISTORY_FILE;
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
    fn file_chunks_need_valid_names_and_paths() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
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
                matches!(err, Error::Format(crate::format::FormatError::Refused(_))),
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
