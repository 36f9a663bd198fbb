//! How an [`Error`] is answered over HTTP: a status, and the one JSON error body
//! (`{"error": {"code", "message"}}`, plus a conflict's extra fields).

use crate::error::Error;
use crate::format::FormatError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use trackline_shared::{ErrorBody, ErrorDetail};

fn status_and_code(error: &Error) -> (StatusCode, &'static str) {
    match error {
        Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
        Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
        Error::ForbiddenHost(_) => (StatusCode::FORBIDDEN, "forbidden_host"),
        Error::ForbiddenOrigin(_) => (StatusCode::FORBIDDEN, "forbidden_origin"),
        Error::Conflict { code, .. } => (StatusCode::CONFLICT, code),
        Error::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        Error::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
        Error::Io { .. } | Error::Db(_) | Error::Internal(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
        // A failing disk is the daemon's problem; a name, path or file the format refuses is
        // the request's.
        Error::Format(FormatError::Io { .. }) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        Error::Format(_) => (StatusCode::BAD_REQUEST, "bad_request"),
    }
}

/// A JSON error response with a stable code.
pub fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    with_fields(status, code, message, Map::new())
}

/// The error body with `extra` fields beside `error`.
fn with_fields(
    status: StatusCode,
    code: &str,
    message: String,
    extra: Map<String, Value>,
) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message,
        },
    };
    if extra.is_empty() {
        return (status, Json(body)).into_response();
    }
    let mut fields = extra;
    match serde_json::to_value(body.error) {
        Ok(error) => {
            fields.insert("error".to_owned(), error);
        }
        Err(e) => tracing::error!("cannot encode an error body: {e}"),
    }
    (status, Json(Value::Object(fields))).into_response()
}

impl IntoResponse for Error {
    /// Internal details are logged here, once, and not sent.
    fn into_response(self) -> Response {
        let (status, code) = status_and_code(&self);
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
            return error_response(
                status,
                code,
                "internal error; see the daemon's log".to_owned(),
            );
        }
        let message = self.to_string();
        let extra = match self {
            Error::Conflict { extra, .. } => extra,
            _ => Map::new(),
        };
        with_fields(status, code, message, extra)
    }
}
