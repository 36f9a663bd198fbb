//! Extractors whose rejections come back in the one JSON error body (`bad_request`), in place of
//! axum's plain-text ones.

use crate::error::Error;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

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

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;
    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| JsonBody(v))
            .map_err(|e| body_rejection(e.status(), e.body_text()))
    }
}

/// The raw request body, with a `too_large` JSON error over the body limit.
#[derive(Debug)]
pub struct BodyBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for BodyBytes {
    type Rejection = Error;
    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        Bytes::from_request(req, state)
            .await
            .map(BodyBytes)
            .map_err(|e| body_rejection(e.status(), e.body_text()))
    }
}
