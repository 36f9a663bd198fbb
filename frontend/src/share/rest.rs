//! The share REST calls (`api/me`, `api/share/links`), relative to the page's base like every
//! call in [`crate::api`]; a `401` among them turns the page away like any other.

use crate::api::{ApiError, get_json};
use crate::util::encode;
use trackline_shared::share::{CreatedShareLink, Identity, NewShareLink, ShareLinkInfo};

pub async fn me() -> Result<Identity, ApiError> {
    get_json("api/me").await
}

pub async fn links() -> Result<Vec<ShareLinkInfo>, ApiError> {
    get_json("api/share/links").await
}

pub async fn create(body: &NewShareLink) -> Result<CreatedShareLink, ApiError> {
    let request = gloo_net::http::Request::post("api/share/links")
        .json(body)
        .map_err(|e| unreachable_daemon(&e))?;
    let resp = request.send().await.map_err(|e| unreachable_daemon(&e))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status != 201 {
        return Err(refusal(status, &text));
    }
    serde_json::from_str(&text).map_err(|e| ApiError {
        status: Some(status),
        code: None,
        message: format!("unexpected answer to a new link: {e}"),
    })
}

pub async fn revoke(id: &str) -> Result<(), ApiError> {
    let url = format!("api/share/links/{}", encode(id));
    let resp = gloo_net::http::Request::delete(&url)
        .send()
        .await
        .map_err(|e| unreachable_daemon(&e))?;
    let status = resp.status();
    if (200..300).contains(&status) {
        return Ok(());
    }
    Err(refusal(status, &resp.text().await.unwrap_or_default()))
}

fn refusal(status: u16, body: &str) -> ApiError {
    let error = ApiError::from_response(status, body);
    if status == 401 {
        super::refused(&error.message);
    }
    error
}

fn unreachable_daemon(e: &gloo_net::Error) -> ApiError {
    ApiError {
        status: None,
        code: None,
        message: format!("could not reach the Trackline daemon ({e})"),
    }
}
