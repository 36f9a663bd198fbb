//! The daemon's one error type. How each variant is answered over HTTP lives in `api/error.rs`.

use serde_json::{Map, Value};
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// A write without the token; the field says where the token lives, relative to the data
    /// directory (never an absolute path: the answer goes to whoever asked).
    #[error("a valid write token is required (Authorization: Bearer <token from {0}>)")]
    Unauthorized(String),
    #[error("host '{0}' is not allowed; start the daemon with --allow-host {0} to serve it")]
    ForbiddenHost(String),
    /// An absolute-form request line (or HTTP/2 `:authority`) naming another host than `Host`.
    #[error("the request line names host '{authority}' but the Host header names '{host}'")]
    HostMismatch { host: String, authority: String },
    #[error("origin '{0}' may not open a WebSocket to this daemon")]
    ForbiddenOrigin(String),
    /// The requester may not do this (`403 forbidden`), such as editing someone else's comment.
    #[error("{0}")]
    Forbidden(String),
    /// A request body over the daemon's limit.
    #[error("{0}")]
    TooLarge(String),
    /// A request body that did not arrive within the daemon's body deadline.
    #[error("{0}")]
    RequestTimeout(String),
    /// The request lost a race with the stored state (`409`): `code` names which (`offset_mismatch`,
    /// `version_conflict`), and `extra` holds the body fields the client resumes from (beside
    /// `error`).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        extra: Map<String, Value>,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Another daemon holds the data directory's lock (`lock.rs`); `holder` names it.
    #[error(
        "another trackline daemon ({holder}) is serving {}; stop it or use another --dir",
        data_dir.display()
    )]
    DataDirInUse { holder: String, data_dir: PathBuf },
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Format(#[from] crate::format::FormatError),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The I/O error inside, if this is one (a file of the daemon's or of the run format).
    pub fn io_source(&self) -> Option<&std::io::Error> {
        match self {
            Error::Io { source, .. }
            | Error::Format(crate::format::FormatError::Io { source, .. }) => Some(source),
            _ => None,
        }
    }

    /// What a client is told (an HTTP answer, a WebSocket error): the error's text with every path
    /// cut to its file name. The log keeps the whole error (`Display`).
    pub fn client_message(&self) -> String {
        use crate::format::{FormatError, RUN_FILE};
        match self {
            Error::Io { path, source } | Error::Format(FormatError::Io { path, source }) => {
                format!("{}: {source}", file_name(path))
            }
            Error::Format(FormatError::Json { path, source }) => {
                format!("{}: not valid JSON: {source}", file_name(path))
            }
            Error::Format(FormatError::Invalid { path, message }) => {
                format!("{}: {message}", file_name(path))
            }
            Error::Format(FormatError::NotARun { dir }) => {
                format!("{}: no {RUN_FILE}", file_name(dir))
            }
            Error::DataDirInUse { holder, .. } => {
                format!("another trackline daemon ({holder}) is serving this data directory")
            }
            other => other.to_string(),
        }
    }

    /// A write failed because the disk (or the user's quota) is full: the client may retry later
    /// and nothing it sent was acknowledged.
    pub fn is_storage_full(&self) -> bool {
        self.io_source().is_some_and(is_storage_full)
    }

    /// A [`Error::Conflict`] whose extra body fields are `extra`'s (a JSON object; anything else
    /// adds none).
    pub fn conflict(code: &'static str, message: impl Into<String>, extra: Value) -> Self {
        let extra = match extra {
            Value::Object(fields) => fields,
            _ => Map::new(),
        };
        Error::Conflict {
            code,
            message: message.into(),
            extra,
        }
    }
}

/// The last part of `path` (a file or folder name), never the folders above it.
fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// `ENOSPC` / `EDQUOT` (whatever the platform calls them), by kind or by raw OS error code.
pub fn is_storage_full(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    /// Linux's `ENOSPC` and `EDQUOT`, for errors whose kind was not decoded.
    #[cfg(target_os = "linux")]
    const FULL_CODES: [i32; 2] = [28, 122];
    #[cfg(not(target_os = "linux"))]
    const FULL_CODES: [i32; 0] = [];
    matches!(
        error.kind(),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded
    ) || error
        .raw_os_error()
        .is_some_and(|code| FULL_CODES.contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::FormatError;
    use std::io::ErrorKind;

    /// What WebSocket clients and HTTP answers are told names files, never the folders above.
    #[test]
    fn client_messages_name_no_folder() {
        let secret = "/home/someone/secret-data";
        let file = format!("{secret}/p/r/history.jsonl");
        let errors = [
            Error::io(&file, std::io::Error::other("boom")),
            Error::Format(FormatError::io(&file, std::io::Error::other("boom"))),
            Error::Format(FormatError::Json {
                path: file.clone().into(),
                source: serde_json::from_str::<Value>("{").unwrap_err(),
            }),
            Error::Format(FormatError::Invalid {
                path: file.clone().into(),
                message: "bad".into(),
            }),
            Error::Format(FormatError::NotARun {
                dir: format!("{secret}/p/r").into(),
            }),
            Error::DataDirInUse {
                holder: "pid 1".into(),
                data_dir: secret.into(),
            },
        ];
        for error in errors {
            let message = error.client_message();
            assert!(!message.contains(secret), "{message}");
            assert!(error.to_string().contains(secret), "the log keeps the path");
        }
        let io = Error::io(&file, std::io::Error::other("boom"));
        assert_eq!(io.client_message(), "history.jsonl: boom");
    }

    #[test]
    fn a_full_disk_is_recognised_by_kind_and_by_code_wherever_it_is_wrapped() {
        let full = || std::io::Error::from(ErrorKind::StorageFull);
        assert!(Error::io("/d/f", full()).is_storage_full());
        assert!(Error::Format(FormatError::io("/d/f", full())).is_storage_full());
        let quota = std::io::Error::from(ErrorKind::QuotaExceeded);
        assert!(Error::io("/d/f", quota).is_storage_full());
        #[cfg(target_os = "linux")]
        for code in [28, 122] {
            let raw = std::io::Error::from_raw_os_error(code);
            assert!(Error::io("/d/f", raw).is_storage_full(), "{code}");
        }
        let denied = std::io::Error::from(ErrorKind::PermissionDenied);
        assert!(!Error::io("/d/f", denied).is_storage_full());
        assert!(!Error::Internal("no space".into()).is_storage_full());
    }
}
