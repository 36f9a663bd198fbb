//! How an [`Error`] is answered over HTTP: a status, and the one JSON error body
//! (`{"error": {"code", "message"}}`, plus a conflict's extra fields). No answer names an absolute
//! path: a file is named by its file name, and the full error goes to the daemon's log.

use crate::error::Error;
use crate::format::FormatError;
use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use trackline_shared::{ErrorBody, ErrorDetail};

/// Seconds a client waits before retrying a write refused for a full disk.
pub const STORAGE_FULL_RETRY_AFTER_SECS: u64 = 5;

fn status_and_code(error: &Error) -> (StatusCode, &'static str) {
    if error.is_storage_full() {
        return (StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage");
    }
    match error {
        Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
        Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
        Error::ForbiddenHost(_) | Error::HostMismatch { .. } => {
            (StatusCode::FORBIDDEN, "forbidden_host")
        }
        Error::ForbiddenOrigin(_) => (StatusCode::FORBIDDEN, "forbidden_origin"),
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        Error::Conflict { code, .. } => (StatusCode::CONFLICT, code),
        Error::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        Error::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
        Error::Io { .. } | Error::Db(_) | Error::Internal(_) | Error::DataDirInUse { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
        // A failing disk is the daemon's problem; a name, path or file the format refuses is
        // the request's.
        Error::Format(FormatError::Io { .. }) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        Error::Format(_) => (StatusCode::BAD_REQUEST, "bad_request"),
    }
}

/// The code of an error answer that only has a status (a layer's refusal).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        StatusCode::INSUFFICIENT_STORAGE => "insufficient_storage",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
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
    /// Internal details (and paths) are logged here, once, and not sent.
    fn into_response(self) -> Response {
        let (status, code) = status_and_code(&self);
        if status == StatusCode::INSUFFICIENT_STORAGE {
            tracing::error!(error = %self, "a write failed: the disk is full");
            let mut response = error_response(
                status,
                code,
                "the daemon's disk is full; retry later".to_owned(),
            );
            response.headers_mut().insert(
                RETRY_AFTER,
                HeaderValue::from(STORAGE_FULL_RETRY_AFTER_SECS),
            );
            return response;
        }
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
            return error_response(
                status,
                code,
                "internal error; see the daemon's log".to_owned(),
            );
        }
        let message = self.client_message();
        if let Error::Format(_) = self {
            tracing::warn!(error = %self, "request refused");
        }
        let extra = match self {
            Error::Conflict { extra, .. } => extra,
            _ => Map::new(),
        };
        with_fields(status, code, message, extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;
    use std::io::ErrorKind;

    const SECRET: &str = "/home/someone/secret-data";

    /// Status, `Retry-After` and the JSON body of an error's answer.
    async fn answer(error: Error) -> (StatusCode, Option<String>, Value) {
        let response = error.into_response();
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, retry_after, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_full_disk_is_507_with_retry_after_and_no_path() {
        let path = format!("{SECRET}/p/r/history.jsonl");
        let full = || std::io::Error::from(ErrorKind::StorageFull);
        #[cfg(target_os = "linux")]
        let raw = std::io::Error::from_raw_os_error(122);
        #[cfg(not(target_os = "linux"))]
        let raw = std::io::Error::from(ErrorKind::QuotaExceeded);
        for error in [
            Error::io(&path, full()),
            Error::Format(FormatError::io(&path, full())),
            Error::Format(FormatError::io(&path, raw)),
        ] {
            let (status, retry_after, body) = answer(error).await;
            assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
            assert_eq!(retry_after.as_deref(), Some("5"));
            assert_eq!(body["error"]["code"], "insufficient_storage");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains("disk is full"), "{message}");
            assert!(!message.contains(SECRET), "{message}");
        }
        let (status, retry_after, _) = answer(Error::io(
            &path,
            std::io::Error::from(ErrorKind::PermissionDenied),
        ))
        .await;
        assert_eq!(
            (status, retry_after),
            (StatusCode::INTERNAL_SERVER_ERROR, None)
        );
    }

    /// Every error that can carry a path answers without the absolute path.
    #[tokio::test]
    async fn no_answer_names_an_absolute_path() {
        let file = format!("{SECRET}/p/r/run.json");
        let json_error = serde_json::from_str::<Value>("{").unwrap_err();
        let errors = [
            Error::io(&file, std::io::Error::other("boom")),
            Error::Format(FormatError::io(&file, std::io::Error::other("boom"))),
            Error::Format(FormatError::Json {
                path: file.clone().into(),
                source: json_error,
            }),
            Error::Format(FormatError::Invalid {
                path: file.clone().into(),
                message: "bad state".into(),
            }),
            Error::Format(FormatError::NotARun {
                dir: format!("{SECRET}/p/r").into(),
            }),
            Error::DataDirInUse {
                holder: "pid 1".into(),
                data_dir: SECRET.into(),
            },
            Error::Unauthorized("<data dir>/.trackline/api_key".into()),
        ];
        for error in errors {
            let what = format!("{error:?}");
            let (status, _, body) = answer(error).await;
            let message = body["error"]["message"].as_str().unwrap();
            assert!(!message.contains(SECRET), "{what}: {message}");
            assert!(!message.contains("/home"), "{what}: {message}");
            if status == StatusCode::BAD_REQUEST {
                assert!(
                    message.starts_with("run.json: ") || message.starts_with("r: "),
                    "{message}"
                );
            }
        }
    }

    #[test]
    fn layer_statuses_have_codes() {
        assert_eq!(code_for_status(StatusCode::PAYLOAD_TOO_LARGE), "too_large");
        assert_eq!(
            code_for_status(StatusCode::METHOD_NOT_ALLOWED),
            "bad_request"
        );
        assert_eq!(
            code_for_status(StatusCode::TOO_MANY_REQUESTS),
            "rate_limited"
        );
        assert_eq!(code_for_status(StatusCode::BAD_GATEWAY), "internal");
    }
}
