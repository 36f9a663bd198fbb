//! REST calls under `api/` (relative to the document's base URL, so a path prefix works), returning
//! the shared wire types. Errors come back as text meant for the page, never as panics.

use serde::de::DeserializeOwned;
use std::fmt;
use trackline_shared::api::{ErrorBody, MetricKey, ProjectInfo, RunInfo, SeriesResponse, XAxis};
use trackline_shared::series_wire;

use crate::util::encode;

/// A failed request, described for people.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status, or `None` when no answer came (network down, daemon stopped).
    pub status: Option<u16>,
    /// The daemon's error code (`not_found`, ...), when it sent one.
    pub code: Option<String>,
    pub message: String,
}

/// The error of a request that got no answer (network down, daemon stopped).
pub fn unreachable(e: impl fmt::Display) -> ApiError {
    ApiError {
        status: None,
        code: None,
        message: format!("could not reach the Trackline daemon ({e})"),
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "{} (HTTP {s})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }

    /// The error for a non-2xx answer with body `body`.
    pub fn from_response(status: u16, body: &str) -> Self {
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(e) => ApiError {
                status: Some(status),
                code: Some(e.error.code),
                message: e.error.message,
            },
            Err(_) => {
                let snippet: String = body.chars().take(200).collect();
                let message = if snippet.trim().is_empty() {
                    "the daemon answered with an error".to_string()
                } else {
                    format!("the daemon answered: {}", snippet.trim())
                };
                ApiError {
                    status: Some(status),
                    code: None,
                    message,
                }
            }
        }
    }
}

pub fn projects_url() -> String {
    "api/projects".into()
}

pub fn runs_url(project: &str) -> String {
    format!("api/projects/{}/runs", encode(project))
}

pub fn run_url(project: &str, run: &str) -> String {
    format!("api/projects/{}/runs/{}", encode(project), encode(run))
}

pub fn keys_url(project: &str, run: &str) -> String {
    format!("{}/keys", run_url(project, run))
}

pub fn series_url(project: &str, runs: &[&str], key: &str, x: XAxis, width: u32) -> String {
    let runs: Vec<String> = runs.iter().map(|r| encode(r)).collect();
    format!(
        "api/projects/{}/series?runs={}&key={}&x={}&width={}",
        encode(project),
        runs.join(","),
        encode(key),
        x.as_str(),
        width.clamp(1, 16384)
    )
}

/// The series query with every option: a window (`x_min`/`x_max`) and another metric as x (`x_key`).
pub fn series_window_url(
    project: &str,
    runs: &[&str],
    key: &str,
    x: XAxis,
    x_key: Option<&str>,
    window: Option<(f64, f64)>,
    width: u32,
) -> String {
    let mut url = series_url(project, runs, key, x, width);
    if let Some(k) = x_key {
        url.push_str(&format!("&x_key={}", encode(k)));
    }
    if let Some((a, b)) = window
        && a.is_finite()
        && b.is_finite()
        && a <= b
    {
        url.push_str(&format!("&x_min={a}&x_max={b}"));
    }
    url
}

/// GETs `url`'s body as bytes; a non-2xx answer becomes the daemon's error (a 401 also hands the
/// page over to the refused-link page).
pub async fn get_bytes(url: &str) -> Result<Vec<u8>, ApiError> {
    get_bytes_accepting(url, "*/*").await
}

/// The series query's answer in its binary form (`trackline_shared::series_wire`): no JSON parse
/// on the main thread, a few copies per column instead.
pub async fn series(url: &str) -> Result<SeriesResponse, ApiError> {
    let bytes = get_bytes_accepting(url, series_wire::CONTENT_TYPE).await?;
    // The decode alone, apart from the request (`tl:panel:data-request` spans both).
    let t0 = crate::browser::perf_now();
    let decoded = series_wire::decode(&bytes);
    crate::browser::measure("tl:series:decode", t0, crate::browser::perf_now(), "");
    decoded.map_err(|e| ApiError {
        status: Some(200),
        code: None,
        message: format!("unexpected answer from {url}: {e}"),
    })
}

async fn get_bytes_accepting(url: &str, accept: &str) -> Result<Vec<u8>, ApiError> {
    let resp = gloo_net::http::Request::get(url)
        .header("Accept", accept)
        .send()
        .await
        .map_err(|e| ApiError {
            status: None,
            code: None,
            message: format!("could not reach the Trackline daemon ({e})"),
        })?;
    let status = resp.status();
    let bytes = resp.binary().await.map_err(|e| ApiError {
        status: Some(status),
        code: None,
        message: format!("could not read the answer ({e})"),
    })?;
    if !(200..300).contains(&status) {
        let error = ApiError::from_response(status, &String::from_utf8_lossy(&bytes));
        if status == 401 {
            // The daemon turned this page's link away: the app gives way to the 401 page.
            crate::share::refused(&error.message);
        }
        return Err(error);
    }
    Ok(bytes)
}

/// GETs `url` and parses its JSON answer from the body's bytes (no UTF-16 round trip through a JS
/// string, which matters for large series answers); a non-2xx answer becomes the daemon's error.
pub async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    let bytes = get_bytes(url).await?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError {
        status: Some(200),
        code: None,
        message: format!("unexpected answer from {url}: {e}"),
    })
}

/// POSTs `body` as JSON to `url` and parses the JSON answer; a non-2xx answer becomes the
/// daemon's error (a 401 also hands the page over to the refused-link page).
pub async fn post_json<B: serde::Serialize, T: DeserializeOwned>(
    url: &str,
    body: &B,
) -> Result<T, ApiError> {
    let resp = gloo_net::http::Request::post(url)
        .json(body)
        .map_err(unreachable)?
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status();
    let text = resp.text().await.map_err(unreachable)?;
    if !(200..300).contains(&status) {
        let error = ApiError::from_response(status, &text);
        if status == 401 {
            crate::share::refused(&error.message);
        }
        return Err(error);
    }
    serde_json::from_str(&text).map_err(|e| ApiError {
        status: Some(status),
        code: None,
        message: format!("unexpected answer from {url}: {e}"),
    })
}

/// GETs a JSON file a run's Python process wrote (`NaN` and `Infinity` allowed, read as the
/// strings `"NaN"` and `"Infinity"`).
pub async fn get_python_json(url: &str) -> Result<serde_json::Value, ApiError> {
    let bytes = get_bytes(url).await?;
    let bad = |message: String| ApiError {
        status: Some(200),
        code: None,
        message,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| bad(format!("{url} is not UTF-8")))?;
    trackline_shared::media_table::parse_python_json(text)
        .map_err(|e| bad(format!("{url} is not JSON: {e}")))
}

pub async fn projects() -> Result<Vec<ProjectInfo>, ApiError> {
    get_json(&projects_url()).await
}

pub async fn runs(project: &str) -> Result<Vec<RunInfo>, ApiError> {
    get_json(&runs_url(project)).await
}

pub async fn run(project: &str, run: &str) -> Result<RunInfo, ApiError> {
    get_json(&run_url(project, run)).await
}

/// Moves a run to the daemon's trash (owners only; not while it runs).
pub async fn delete_run(project: &str, run: &str) -> Result<(), ApiError> {
    let url = run_url(project, run);
    let resp = gloo_net::http::Request::delete(&url)
        .send()
        .await
        .map_err(|e| ApiError {
            status: None,
            code: None,
            message: format!("could not reach the Trackline daemon ({e})"),
        })?;
    let status = resp.status();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let error = ApiError::from_response(status, &resp.text().await.unwrap_or_default());
    if status == 401 {
        crate::share::refused(&error.message);
    }
    Err(error)
}

pub async fn keys(project: &str, run: &str) -> Result<Vec<MetricKey>, ApiError> {
    get_json(&keys_url(project, run)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_relative_and_encoded() {
        assert_eq!(runs_url("my proj"), "api/projects/my%20proj/runs");
        assert_eq!(keys_url("p", "r1"), "api/projects/p/runs/r1/keys");
        assert_eq!(
            series_url("p", &["a", "b"], "Train Loss/x", XAxis::Step, 0),
            "api/projects/p/series?runs=a,b&key=Train%20Loss%2Fx&x=step&width=1"
        );
    }

    #[test]
    fn series_window_urls() {
        assert_eq!(
            series_window_url(
                "p",
                &["a"],
                "loss",
                XAxis::WallTime,
                None,
                Some((1.5, 9.0)),
                300
            ),
            "api/projects/p/series?runs=a&key=loss&x=wall_time&width=300&x_min=1.5&x_max=9"
        );
        assert_eq!(
            series_window_url("p", &["a"], "loss", XAxis::Step, Some("ep och"), None, 2),
            "api/projects/p/series?runs=a&key=loss&x=step&width=2&x_key=ep%20och"
        );
    }

    #[test]
    fn error_bodies() {
        let e = ApiError::from_response(
            404,
            r#"{"error":{"code":"not_found","message":"no run 'x'"}}"#,
        );
        assert!(e.is_not_found());
        assert_eq!(e.code.as_deref(), Some("not_found"));
        assert_eq!(e.to_string(), "no run 'x' (HTTP 404)");
        let e = ApiError::from_response(502, "Bad gateway");
        assert_eq!(e.to_string(), "the daemon answered: Bad gateway (HTTP 502)");
    }
}
