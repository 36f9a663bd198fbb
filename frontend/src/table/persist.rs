//! Loading and saving the table's settings in the project's workspace layout
//! (`GET`/`PUT api/projects/{p}/workspace`). Saving reads the layout afresh and replaces only its
//! `table` key, so the workspace panels saved by the charts part of the page are kept.

use serde_json::{Value, json};

use super::settings::TableSettings;
use crate::api::ApiError;
use crate::util::encode;

pub fn workspace_url(project: &str) -> String {
    format!("api/projects/{}/workspace", encode(project))
}

fn unreachable(e: impl std::fmt::Display) -> ApiError {
    ApiError {
        status: None,
        code: None,
        message: format!("could not reach the Trackline daemon ({e})"),
    }
}

/// The saved layout (`Value::Null` when nothing was saved yet).
pub async fn load_layout(project: &str) -> Result<Value, ApiError> {
    let resp = gloo_net::http::Request::get(&workspace_url(project))
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status();
    let text = resp.text().await.map_err(unreachable)?;
    if !(200..300).contains(&status) {
        return Err(ApiError::from_response(status, &text));
    }
    let body: Value = serde_json::from_str(&text).map_err(|e| ApiError {
        status: Some(status),
        code: None,
        message: format!("unexpected workspace answer: {e}"),
    })?;
    Ok(body.get("layout").cloned().unwrap_or(Value::Null))
}

/// Saves `settings` as `layout.table`, keeping everything else in the layout.
pub async fn save(project: &str, settings: &TableSettings) -> Result<(), ApiError> {
    let current = load_layout(project).await?;
    let layout = settings.merge_into(current);
    let resp = gloo_net::http::Request::put(&workspace_url(project))
        .json(&json!({ "layout": layout }))
        .map_err(unreachable)?
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status();
    if !(200..300).contains(&status) {
        let text = resp.text().await.unwrap_or_default();
        return Err(ApiError::from_response(status, &text));
    }
    Ok(())
}
