//! The web app, embedded in the binary at build time (see `build.rs`): `index.html` for every page
//! route (deep links survive a reload), its boot script and the compiled files under `/assets/`.
//! The page's `<base href="/">` names the base path it is served under (`base_path.rs`), so every
//! URL it uses (assets, API, WebSocket, links) resolves under that prefix.
//! The security headers every answer carries are added by `security::edge`.

use super::AppState;
use super::base_path::BasePath;
use super::extract::PathParams;
use crate::error::Error;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;

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

pub async fn asset(PathParams(file): PathParams<String>) -> Result<Response, Error> {
    match file.as_str() {
        "boot.js" => Ok(respond(BOOT_JS, "text/javascript; charset=utf-8")),
        "app.js" => Ok(respond(APP_JS, "text/javascript; charset=utf-8")),
        "app_bg.wasm" => Ok(respond(APP_WASM, "application/wasm")),
        _ => Err(Error::NotFound(format!("no asset '{file}'"))),
    }
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
