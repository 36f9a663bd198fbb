//! Small wrappers over browser APIs (only called in the browser, never by host tests).

use leptos::prelude::RwSignal;
use std::sync::OnceLock;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// The 2-D context of `canvas`.
pub fn context_2d(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// Sizes `canvas` to `w` × `h` device pixels, setting each only when it differs (setting either
/// clears the canvas).
pub fn size_canvas(canvas: &HtmlCanvasElement, w: u32, h: u32) {
    if canvas.width() != w {
        canvas.set_width(w);
    }
    if canvas.height() != h {
        canvas.set_height(h);
    }
}

/// Unix seconds, ticking once a second (runtimes of running runs, "5 min ago"); the app provides
/// one as context.
#[derive(Clone, Copy, Debug)]
pub struct Clock(pub RwSignal<f64>);

/// Unix seconds now.
pub fn now_secs() -> f64 {
    js_sys::Date::now() / 1000.0
}

/// The local time zone's offset from UTC in minutes at unix time `secs` (east positive).
pub fn tz_offset_min(secs: f64) -> i64 {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs * 1000.0));
    let off = d.get_timezone_offset();
    if off.is_finite() { -(off as i64) } else { 0 }
}

/// Local date and time of unix seconds.
pub fn local_datetime(secs: f64) -> String {
    crate::util::datetime(secs, tz_offset_min(secs))
}

static BASE: OnceLock<String> = OnceLock::new();

/// The path the app is mounted under, from `<base href>`: `""` for `/`, `"/prefix"` for `/prefix/`.
pub fn base_path() -> &'static str {
    BASE.get_or_init(|| {
        let base = leptos::prelude::document()
            .base_uri()
            .ok()
            .flatten()
            .unwrap_or_default();
        crate::util::base_path_of(&base)
    })
}

/// A link to an app path (`/projects/x`) under the mount point.
pub fn href(path: &str) -> String {
    format!("{}{}", base_path(), path)
}

/// Milliseconds on the page's `performance` clock (0 where unavailable).
pub fn perf_now() -> f64 {
    leptos::prelude::window()
        .performance()
        .map_or(0.0, |p| p.now())
}

/// `performance.measure(name, {start, end, detail})`, for the browser's profiler and the
/// benchmarks that read these entries (docs/frontend.md); ignored where unsupported.
pub fn measure(name: &str, start: f64, end: f64, detail: &str) {
    use wasm_bindgen::{JsCast, JsValue};
    let Some(perf) = leptos::prelude::window().performance() else {
        return;
    };
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"start".into(), &JsValue::from_f64(start));
    let _ = js_sys::Reflect::set(&opts, &"end".into(), &JsValue::from_f64(end.max(start)));
    let _ = js_sys::Reflect::set(&opts, &"detail".into(), &JsValue::from_str(detail));
    if let Ok(f) = js_sys::Reflect::get(&perf, &"measure".into())
        && let Ok(f) = f.dyn_into::<js_sys::Function>()
    {
        let _ = f.call2(&perf, &JsValue::from_str(name), &opts);
    }
}

/// `performance.mark(name)`, for timing views in the browser's profiler; ignored when unavailable.
pub fn mark(name: &str) {
    if let Some(p) = leptos::prelude::window().performance() {
        let _ = p.mark(name);
    }
}

/// Sets the tab's title: `part · Trackline`, or `Trackline` alone.
pub fn set_title(part: &str) {
    let t = if part.is_empty() {
        "Trackline".to_string()
    } else {
        format!("{part} · Trackline")
    };
    leptos::prelude::document().set_title(&t);
}

/// The page's `localStorage`, when the browser allows it (it may not: privacy settings, a
/// sandboxed frame).
fn local_storage() -> Option<web_sys::Storage> {
    leptos::prelude::window().local_storage().ok().flatten()
}

/// A value from `localStorage`; `None` when absent or when storage is unavailable.
pub fn local_get(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok().flatten()
}

/// Forgets a value in `localStorage` (nothing happens where it is unavailable).
pub fn local_remove(key: &str) {
    if let Some(s) = local_storage() {
        let _ = s.remove_item(key);
    }
}

/// Stores a value in `localStorage`; a failure (unavailable, over quota) is logged and ignored:
/// what is stored there is a convenience, never needed for the page to work.
pub fn local_set(key: &str, value: &str) {
    let res = local_storage().map(|s| s.set_item(key, value));
    if let Some(Err(e)) = res {
        leptos::logging::warn!("trackline: cannot store {key}: {e:?}");
    }
}

/// Adds a `<style id=id>` holding `css` to the document's head unless one with that id is there
/// (a feature's stylesheet, added when its view first shows).
pub fn ensure_style(id: &str, css: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if doc.get_element_by_id(id).is_some() {
        return;
    }
    let (Ok(style), Ok(Some(head))) = (doc.create_element("style"), doc.query_selector("head"))
    else {
        return;
    };
    style.set_id(id);
    style.set_text_content(Some(css));
    let _ = head.append_child(&style);
}
