//! The run-directory format v1 (docs/format.md), the daemon's bottom layer: the names of a run's
//! files and the rules for project names and run ids (here), the readers of its JSON files
//! ([`files`], on the lenient JSON of [`json`]), the parser of its JSON lines ([`line`]) and the
//! one writer ([`writer`]), all opening files through [`beneath`] (no symbolic link followed, only
//! regular files, no open that blocks).
//!
//! Nothing else in the crate spells a run file's name; this module depends on nothing else in the
//! crate.

pub mod beneath;
pub mod files;
pub mod json;
pub mod line;
pub mod trash;
pub mod writer;

use std::path::PathBuf;

/// Run metadata; its presence makes a folder a run (replaced atomically).
pub const RUN_FILE: &str = "run.json";
/// Hyperparameters (replaced atomically).
pub const CONFIG_FILE: &str = "config.json";
/// Summary values (replaced atomically).
pub const SUMMARY_FILE: &str = "summary.json";
/// Metric definitions (replaced atomically).
pub const METRICS_FILE: &str = "metrics.json";
/// Metric rows, one per step (append-only).
pub const HISTORY_FILE: &str = "history.jsonl";
/// System metric samples (append-only).
pub const SYSTEM_FILE: &str = "system.jsonl";
/// Captured stdout and stderr (append-only).
pub const CONSOLE_FILE: &str = "console.log";
/// Alerts, one per line (append-only).
pub const ALERTS_FILE: &str = "alerts.jsonl";
/// Artifact versions the run logged and used, one per line (append-only).
pub const RUN_ARTIFACTS_FILE: &str = "artifacts.jsonl";
/// Files saved with `run.save(glob)`.
pub const FILES_DIR: &str = "files";
/// Image and table files of logged media values.
pub const MEDIA_DIR: &str = "media";

/// The small JSON files, each replaced whole and atomically (in the order a fingerprint lists them).
pub const METADATA_FILES: [&str; 4] = [RUN_FILE, CONFIG_FILE, SUMMARY_FILE, METRICS_FILE];
/// The files that are only ever appended to.
pub const APPEND_FILES: [&str; 5] = [
    HISTORY_FILE,
    SYSTEM_FILE,
    CONSOLE_FILE,
    ALERTS_FILE,
    RUN_ARTIFACTS_FILE,
];
/// The folders of a run that hold whole files (uploaded in chunks by remote clients).
pub const UPLOAD_DIRS: [&str; 2] = [FILES_DIR, MEDIA_DIR];

/// Identifies a run: project name and run id (its two folder names).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct RunKey {
    pub project: String,
    pub run: String,
}

/// Why a run directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file system (or whatever holds the files) failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A JSON file that does not parse.
    #[error("{}: not valid JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// A file that parses but breaks the format (wrong shape, id, state or version).
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    /// A folder without `run.json`: not a run (yet).
    #[error("{}: no {RUN_FILE}", dir.display())]
    NotARun { dir: PathBuf },
    /// Something that is not followed or read: a symbolic link (or one on the path), a named pipe,
    /// a socket, a device or a folder where a regular file belongs. `found` says which.
    #[error("{}: {found}; only regular files are read and no symbolic link is followed", path.display())]
    NotRegular { path: PathBuf, found: &'static str },
    /// A name or path the format does not allow (a bad run id, a hidden or escaping upload path).
    #[error("{0}")]
    Refused(String),
}

impl FormatError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FormatError::Io {
            path: path.into(),
            source,
        }
    }

    fn invalid(path: impl Into<PathBuf>, message: String) -> Self {
        FormatError::Invalid {
            path: path.into(),
            message,
        }
    }
}

/// Project names as in docs/format.md: non-empty, ≤ 128 bytes, no separators or NUL, no leading dot.
pub fn valid_project_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
}

/// Run ids as in docs/format.md: `[A-Za-z0-9_-]{1,64}`.
pub fn valid_run_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Names beginning with `.` are ignored by readers (temp files live there).
pub fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// Files of JSON lines: appends to them must be whole lines.
pub fn is_line_file(name: &str) -> bool {
    name.ends_with(".jsonl")
}

/// The two append-only files a run's metric series are read from.
pub fn is_series_file(name: &str) -> bool {
    name == HISTORY_FILE || name == SYSTEM_FILE
}

/// A visible JSON file of a run folder: a change to it may change the run's metadata.
pub fn is_metadata_file(name: &str) -> bool {
    !is_hidden(name) && name.ends_with(".json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_format() {
        for ok in ["mnist", "My Project", "a.b", "ü"] {
            assert!(valid_project_name(ok), "{ok}");
        }
        let long = "x".repeat(129);
        for bad in ["", ".hidden", "a/b", "a\\b", "a\0b", long.as_str()] {
            assert!(!valid_project_name(bad), "{bad:?}");
        }
        for ok in ["k3x9q2ab", "A_b-9", &"r".repeat(64)] {
            assert!(valid_run_id(ok), "{ok}");
        }
        for bad in ["", "a.b", "a b", "../x", &"r".repeat(65)] {
            assert!(!valid_run_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn file_kinds() {
        assert!(APPEND_FILES.iter().all(|f| !is_metadata_file(f)));
        assert!(METADATA_FILES.iter().all(|f| is_metadata_file(f)));
        assert!(!is_metadata_file(".config.json"));
        assert!(is_series_file(HISTORY_FILE) && is_series_file(SYSTEM_FILE));
        assert!(!is_series_file(ALERTS_FILE));
        assert!(is_line_file(ALERTS_FILE) && !is_line_file(CONSOLE_FILE));
    }
}
