//! The web app, embedded in the binary at build time (see `build.rs`): `index.html` for every page
//! route (deep links survive a reload), its boot script and the compiled files under `/assets/`.
//! The page's `<base href="/">` names the base path it is served under (`base_path.rs`), so every
//! URL it uses (assets, API, WebSocket, links) resolves under that prefix.
//! The security headers every answer carries are added by `security::edge`.
//!
//! The assets carry a strong `ETag` (a hash of their bytes) and `Cache-Control: no-cache`: a
//! browser revalidates its copy on every load and gets a 304 until the binary's web app changes.
//! Without a validator it fetched the 12 MB of WASM again on each visit, and could not keep the
//! code it had compiled from it (Chrome keeps compiled WASM beside the cached response).

use super::AppState;
use super::base_path::BasePath;
use super::extract::PathParams;
use crate::error::Error;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::sync::OnceLock;

static INDEX_HTML: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/web/index.html"));
static BOOT_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/web/boot.js"));
static APP_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/web/app.js"));
static APP_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/web/app_bg.wasm"));

/// The `<base>` element of the page's template (`index.html` at the workspace root).
const TEMPLATE_BASE: &str = r#"<base href="/">"#;

pub async fn index(State(s): State<AppState>) -> Response {
    respond(
        page_under(INDEX_HTML, &s.base_path),
        "text/html; charset=utf-8",
    )
}

pub async fn asset(
    PathParams(file): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    static BOOT_TAG: OnceLock<String> = OnceLock::new();
    static APP_TAG: OnceLock<String> = OnceLock::new();
    static WASM_TAG: OnceLock<String> = OnceLock::new();
    let (body, content_type, tag) = match file.as_str() {
        "boot.js" => (BOOT_JS, "text/javascript; charset=utf-8", &BOOT_TAG),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8", &APP_TAG),
        "app_bg.wasm" => (APP_WASM, "application/wasm", &WASM_TAG),
        _ => return Err(Error::NotFound(format!("no asset '{file}'"))),
    };
    let tag = etag_of(tag, &file, body).await?;
    if matches_tag(&headers, tag) {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(ETAG, tag), (CACHE_CONTROL, "no-cache")],
        )
            .into_response());
    }
    let mut res = respond(body, content_type);
    if let Ok(v) = tag.parse() {
        res.headers_mut().insert(ETAG, v);
    }
    Ok(res)
}

/// The quoted `ETag` of asset `name` (`body`), hashed once (off the async threads: the WASM is
/// 12 MB). The name is hashed too, so two assets never share a tag.
async fn etag_of(
    slot: &'static OnceLock<String>,
    name: &str,
    body: &'static [u8],
) -> Result<&'static str, Error> {
    if let Some(tag) = slot.get() {
        return Ok(tag);
    }
    let name = name.to_string();
    let tag = tokio::task::spawn_blocking(move || {
        let digest = Sha256::new()
            .chain_update(name.as_bytes())
            .chain_update([0])
            .chain_update(body)
            .finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("\"{hex}\"")
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing an asset: {e}")))?;
    Ok(slot.get_or_init(|| tag))
}

/// Whether the request's `If-None-Match` names `tag` (or `*`). Weak tags compare by their
/// opaque part, as RFC 9110 has `If-None-Match` compare.
fn matches_tag(headers: &HeaderMap, tag: &str) -> bool {
    headers.get_all(IF_NONE_MATCH).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)
        })
    })
}

/// The page with its `<base href>` naming `base` (`/a/b/`). A page without the template's
/// `<base>` (the placeholder of a build without the web app) is served as it is.
fn page_under(html: &'static [u8], base: &BasePath) -> Cow<'static, [u8]> {
    if base.is_root() {
        return Cow::Borrowed(html);
    }
    match std::str::from_utf8(html) {
        Ok(text) if text.contains(TEMPLATE_BASE) => {
            let injected = format!(r#"<base href="{}">"#, base.dir());
            Cow::Owned(text.replacen(TEMPLATE_BASE, &injected, 1).into_bytes())
        }
        _ => Cow::Borrowed(html),
    }
}

fn respond(body: impl Into<Cow<'static, [u8]>>, content_type: &'static str) -> Response {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body.into(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_gets_the_base_path_as_its_base_href() {
        let template = include_bytes!("../../../index.html");
        let base = BasePath::parse("/a/b").unwrap();
        let page = String::from_utf8(page_under(template, &base).into_owned()).unwrap();
        assert!(page.contains(r#"<base href="/a/b/">"#), "{page}");
        assert!(!page.contains(TEMPLATE_BASE));
        assert_eq!(page.matches("<base ").count(), 1);
        // Every other URL the template names is relative to the base (or a data: URL).
        let rest = page.replacen(r#"<base href="/a/b/">"#, "", 1);
        for attr in [r#"src="/"#, r#"href="/"#, "url(/"] {
            assert!(!rest.contains(attr), "an absolute {attr}… in the page");
        }
        assert_eq!(&*page_under(template, &BasePath::default()), template);
    }
}
