//! The daemon's one error type, and its mapping to HTTP responses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::path::PathBuf;
use trackline_shared::{ErrorBody, ErrorDetail};

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

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::ForbiddenHost(_) => (StatusCode::FORBIDDEN, "forbidden_host"),
            Error::ForbiddenOrigin(_) => (StatusCode::FORBIDDEN, "forbidden_origin"),
            Error::Io { .. } | Error::Db(_) | Error::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
            // A failing disk is the daemon's problem; a name, path or file the format refuses is
            // the request's.
            Error::Format(e) => match e {
                crate::format::FormatError::Io { .. } => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "internal")
                }
                _ => (StatusCode::BAD_REQUEST, "bad_request"),
            },
        }
    }
}

/// A JSON error response with a stable code; internal details are logged here, once, and not sent.
pub fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message,
        },
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
            "internal error; see the daemon's log".to_owned()
        } else {
            self.to_string()
        };
        error_response(status, code, message)
    }
}
