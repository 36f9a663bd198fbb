//! The web app, embedded in the binary at build time (see `build.rs`): `index.html` for every page
//! route (deep links survive a reload), its boot script and the compiled files under `/assets/`.
//! The security headers every answer carries are added by `security::edge`.

use super::extract::PathParams;
use crate::error::Error;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

static INDEX_HTML: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/web/index.html"));
static BOOT_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/web/boot.js"));
static APP_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/web/app.js"));
static APP_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/web/app_bg.wasm"));

pub async fn index() -> Response {
    respond(INDEX_HTML, "text/html; charset=utf-8")
}

pub async fn asset(PathParams(file): PathParams<String>) -> Result<Response, Error> {
    match file.as_str() {
        "boot.js" => Ok(respond(BOOT_JS, "text/javascript; charset=utf-8")),
        "app.js" => Ok(respond(APP_JS, "text/javascript; charset=utf-8")),
        "app_bg.wasm" => Ok(respond(APP_WASM, "application/wasm")),
        _ => Err(Error::NotFound(format!("no asset '{file}'"))),
    }
}

fn respond(body: &'static [u8], content_type: &'static str) -> Response {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
        .into_response()
}
