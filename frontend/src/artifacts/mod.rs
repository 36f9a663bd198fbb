//! Artifacts (issue 11): a project's datasets and model checkpoints. The Artifacts page
//! ([`list`]: types → names → versions, and the best models by any metric, [`models`]) and one
//! version's page ([`version`]: its facts, metadata, file tree, previews [`preview`], lineage
//! [`lineage`], the diff with another version [`diff`], and the owner's alias and delete
//! actions [`actions`]); and checkpoint marks on a run's charts ([`checkpoints`]). Data comes from the artifact REST routes (docs/api.md); binary headers
//! are read with Range requests ([`headers`]), never whole files, and nothing is unpickled.

pub mod actions;
pub mod checkpoints;
pub mod csv;
pub mod diff;
pub mod headers;
pub mod json_tree;
pub mod lineage;
pub mod list;
pub mod models;
pub mod preview;
pub mod tree;
pub mod version;

use leptos::prelude::*;
use serde::Serialize;

pub use list::ArtifactsPage;
pub use version::VersionPage;

use crate::api::{ApiError, unreachable};
use crate::util::encode;

/// `/projects/{p}/artifacts`.
pub fn artifacts_path(project: &str) -> String {
    format!("/projects/{}/artifacts", encode(project))
}

/// `/projects/{p}/artifacts/{name}/{ref}` (`ref`: `v<N>` or an alias).
pub fn version_path(project: &str, name: &str, reference: &str) -> String {
    format!(
        "/projects/{}/artifacts/{}/{}",
        encode(project),
        encode(name),
        encode(reference)
    )
}

pub fn collections_url(project: &str) -> String {
    format!("api/projects/{}/artifacts", encode(project))
}

pub fn versions_url(project: &str, name: &str) -> String {
    format!("{}/{}/versions", collections_url(project), encode(name))
}

pub fn version_url(project: &str, name: &str, reference: &str) -> String {
    format!("{}/{}", versions_url(project, name), encode(reference))
}

/// A file of version `v<version>` (an immutable reference, so the browser may cache it); each
/// path segment encoded on its own.
pub fn file_url(project: &str, name: &str, version: u64, path: &str) -> String {
    let segments: Vec<String> = path.split('/').map(encode).collect();
    format!(
        "{}/files/{}",
        version_url(project, name, &format!("v{version}")),
        segments.join("/")
    )
}

pub fn zip_url(project: &str, name: &str, version: u64) -> String {
    format!("{}/zip", version_url(project, name, &format!("v{version}")))
}

pub fn alias_url(project: &str, name: &str, alias: &str) -> String {
    format!(
        "{}/{}/aliases/{}",
        collections_url(project),
        encode(name),
        encode(alias)
    )
}

pub fn run_artifacts_url(project: &str, run: &str) -> String {
    format!("{}/artifacts", crate::api::run_url(project, run))
}

/// Whether this page may change artifacts (the owner scope; without sharing, the local user).
pub fn use_owner() -> Signal<bool> {
    let sharing = use_context::<crate::share::Sharing>();
    Signal::derive(move || {
        sharing.is_some_and(|s| s.me.with(|me| me.as_ref().is_some_and(|i| i.is_owner())))
    })
}

/// The error of a non-2xx answer (a 401 hands the page to the refused-link page).
async fn check(resp: gloo_net::http::Response) -> Result<gloo_net::http::Response, ApiError> {
    let status = resp.status();
    if (200..300).contains(&status) {
        return Ok(resp);
    }
    let error = ApiError::from_response(status, &resp.text().await.unwrap_or_default());
    if status == 401 {
        crate::share::refused(&error.message);
    }
    Err(error)
}

/// Bytes `start..end` (end exclusive) of `url`. A daemon that ignored the range answers with
/// the whole body, which is cut to the range.
pub async fn get_range(url: &str, start: u64, end: u64) -> Result<Vec<u8>, ApiError> {
    if end <= start {
        return Ok(Vec::new());
    }
    let resp = gloo_net::http::Request::get(url)
        .header("Range", &format!("bytes={start}-{}", end - 1))
        .send()
        .await
        .map_err(unreachable)?;
    let resp = check(resp).await?;
    let whole = resp.status() == 200;
    let bytes = resp.binary().await.map_err(unreachable)?;
    if whole {
        let from = usize::try_from(start)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let to = usize::try_from(end).unwrap_or(usize::MAX).min(bytes.len());
        return Ok(bytes[from..to].to_vec());
    }
    Ok(bytes)
}

#[derive(Serialize)]
struct AliasBody {
    version: u64,
}

/// Points `alias` of artifact `name` at `v<version>` (owners only).
pub async fn put_alias(
    project: &str,
    name: &str,
    alias: &str,
    version: u64,
) -> Result<(), ApiError> {
    let resp = gloo_net::http::Request::put(&alias_url(project, name, alias))
        .json(&AliasBody { version })
        .map_err(unreachable)?
        .send()
        .await
        .map_err(unreachable)?;
    check(resp).await.map(drop)
}

/// Removes `alias` of artifact `name` (owners only).
pub async fn delete_alias(project: &str, name: &str, alias: &str) -> Result<(), ApiError> {
    let resp = gloo_net::http::Request::delete(&alias_url(project, name, alias))
        .send()
        .await
        .map_err(unreachable)?;
    check(resp).await.map(drop)
}

/// Deletes `v<version>` (owners only); `force` also removes the user aliases naming it.
pub async fn delete_version(
    project: &str,
    name: &str,
    version: u64,
    force: bool,
) -> Result<(), ApiError> {
    let mut url = version_url(project, name, &format!("v{version}"));
    if force {
        url.push_str("?force=1");
    }
    let resp = gloo_net::http::Request::delete(&url)
        .send()
        .await
        .map_err(unreachable)?;
    check(resp).await.map(drop)
}

const STYLE_ID: &str = "artifacts-style";

/// The artifact pages' CSS (a fixed text, nothing user-written), on the page's colour variables.
const CSS: &str = "
.af-types { display: flex; flex-direction: column; gap: 14px; }
.af-type-head { display: flex; align-items: baseline; gap: 8px; margin: 0 0 6px; }
.af-alias { display: inline-block; padding: 0 6px; margin: 0 4px 2px 0; border-radius: 9px;
  background: var(--accent-soft, #e8eefc); color: var(--accent, #2f5fd0); font-size: 12px; }
.af-alias.latest { background: #e6f4ea; color: #1e7b34; }
.af-alias button { border: 0; background: none; cursor: pointer; color: inherit; padding: 0 0 0 3px; }
.af-versions td { padding-left: 18px; }
.af-facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
.af-facts dt { color: var(--muted, #666); }
.af-facts dd { margin: 0; overflow-wrap: anywhere; }
.af-cols { display: grid; grid-template-columns: minmax(260px, 1fr) 2fr; gap: 14px; align-items: start; }
.af-tree { font-size: 13px; }
.af-tree-row { display: flex; gap: 8px; padding: 2px 6px; cursor: pointer; border-radius: 4px; }
.af-tree-row:hover, .af-tree-row.selected { background: var(--hover, #f1f3f7); }
.af-tree-row .af-tree-name { flex: 1; overflow-wrap: anywhere; }
.af-tree-row.folder { cursor: default; font-weight: 600; }
.af-preview pre { max-height: 520px; overflow: auto; font-size: 12px; white-space: pre-wrap;
  overflow-wrap: anywhere; margin: 0; }
.af-preview img { max-width: 100%; max-height: 520px; image-rendering: auto; }
.af-preview iframe { width: 100%; height: 480px; border: 1px solid var(--border, #ddd); }
.af-csv { max-height: 520px; overflow: auto; }
.af-json-tree { font: 12px/1.5 ui-monospace, monospace; }
.af-json-tree details { margin-left: 14px; }
.af-json-tree .af-json-leaf { margin-left: 14px; }
.af-json-key { color: var(--muted, #555); }
.af-lineage svg { max-width: 100%; }
.af-lineage .af-node rect { fill: #fff; stroke: #9aa5b8; rx: 6; }
.af-lineage .af-node.version rect { fill: #eef3ff; stroke: #2f5fd0; }
.af-lineage .af-node { cursor: pointer; }
.af-lineage text { font-size: 12px; fill: #223; }
.af-lineage path { fill: none; stroke: #9aa5b8; stroke-width: 1.5; }
.af-diff .added td { background: #e9f7ee; }
.af-diff .removed td { background: #fcebec; }
.af-diff .changed td { background: #fff6e0; }
.af-actions { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.af-actions input { padding: 3px 6px; }
.ckpt-marker { position: absolute; pointer-events: none; z-index: 2; margin-left: -1px;
  border-left: 2px dashed rgba(47, 95, 208, .55); }
.ckpt-head { position: absolute; bottom: -5px; left: -6px; width: 10px; height: 10px;
  background: #2f5fd0; border: 1px solid #fff; transform: rotate(45deg); pointer-events: auto; }
";

/// Adds the artifact pages' stylesheet to the document unless it is there.
pub fn ensure_style() {
    crate::browser::ensure_style(STYLE_ID, CSS);
}

/// An alias as a pill (text only).
#[component]
pub fn AliasPill(#[prop(into)] alias: String) -> impl IntoView {
    let class = if alias == trackline_shared::artifacts::LATEST {
        "af-alias latest"
    } else {
        "af-alias"
    };
    view! { <span class=class data-testid="artifact-alias" data-alias=alias.clone()>{alias.clone()}</span> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_relative_and_encoded() {
        assert_eq!(artifacts_path("my p"), "/projects/my%20p/artifacts");
        assert_eq!(
            version_path("p", "mnist", "v3"),
            "/projects/p/artifacts/mnist/v3"
        );
        assert_eq!(collections_url("p"), "api/projects/p/artifacts");
        assert_eq!(
            version_url("p", "m", "best"),
            "api/projects/p/artifacts/m/versions/best"
        );
        assert_eq!(
            file_url("p", "m", 2, "a dir/b#.txt"),
            "api/projects/p/artifacts/m/versions/v2/files/a%20dir/b%23.txt"
        );
        assert_eq!(
            zip_url("p", "m", 0),
            "api/projects/p/artifacts/m/versions/v0/zip"
        );
        assert_eq!(
            alias_url("p", "m", "prod"),
            "api/projects/p/artifacts/m/aliases/prod"
        );
        assert_eq!(
            run_artifacts_url("p", "r1"),
            "api/projects/p/runs/r1/artifacts"
        );
    }
}
