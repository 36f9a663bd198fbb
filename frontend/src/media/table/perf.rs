//! Timing the table view for the browser's profiler and the benchmark
//! (`tests/benches/media_table.rs` reads these `performance.measure` entries).

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

pub fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// `performance.measure(name, {start, end, detail})`; ignored where unsupported.
pub fn measure(name: &str, start: f64, end: f64, detail: &str) {
    let Some(perf) = window().performance() else {
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
