//! Extractors whose rejections come back in the one JSON error body (`bad_request`), in place of
//! axum's plain-text ones. The body extractors read within the daemon's body deadline
//! (`request_timeout` past it).

use super::AppState;
use crate::error::Error;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::future::Future;

/// Refuses a body whose `Content-Length` is over the limit before reading any of it.
fn check_declared_length(req: &Request) -> Result<(), Error> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > super::MAX_BODY_BYTES as u64 => Err(Error::TooLarge(format!(
            "the request body ({n} bytes) is over the limit of {} bytes",
            super::MAX_BODY_BYTES
        ))),
        _ => Ok(()),
    }
}

/// Reads a body within `state`'s body deadline, counted from the first read.
async fn within_deadline<T>(
    state: &AppState,
    read: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let deadline = state.limits.body_read_timeout;
    tokio::time::timeout(deadline, read).await.map_err(|_| {
        Error::RequestTimeout(format!(
            "the request body did not arrive within {} s",
            deadline.as_secs_f64()
        ))
    })?
}

/// A body rejection in the one error shape: `too_large` over the body limit, else `bad_request`.
fn body_rejection(status: StatusCode, text: String) -> Error {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        Error::TooLarge(text)
    } else {
        Error::BadRequest(text)
    }
}

/// `Query<T>` with a `bad_request` JSON error naming the problem.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| QueryParams(v))
            .map_err(|e| Error::BadRequest(e.body_text()))
    }
}

/// `Path<T>` with a `bad_request` JSON error.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| PathParams(v))
            .map_err(|e| Error::BadRequest(e.body_text()))
    }
}

/// `Json<T>` as a request body (which requires `Content-Type: application/json`), with a
/// `bad_request` JSON error naming what is wrong with it.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = Error;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        check_declared_length(&req)?;
        within_deadline(state, async {
            Json::<T>::from_request(req, state)
                .await
                .map(|Json(v)| JsonBody(v))
                .map_err(|e| body_rejection(e.status(), e.body_text()))
        })
        .await
    }
}

/// The raw request body, with a `too_large` JSON error over the body limit.
#[derive(Debug)]
pub struct BodyBytes(pub Bytes);

impl FromRequest<AppState> for BodyBytes {
    type Rejection = Error;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        check_declared_length(&req)?;
        within_deadline(state, async {
            Bytes::from_request(req, state)
                .await
                .map(BodyBytes)
                .map_err(|e| body_rejection(e.status(), e.body_text()))
        })
        .await
    }
}
