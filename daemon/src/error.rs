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
    #[error("a valid write token is required (Authorization: Bearer <token from {0}>)")]
    Unauthorized(String),
    #[error("host '{0}' is not allowed; start the daemon with --allow-host {0} to serve it")]
    ForbiddenHost(String),
    #[error("origin '{0}' may not open a WebSocket to this daemon")]
    ForbiddenOrigin(String),
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
