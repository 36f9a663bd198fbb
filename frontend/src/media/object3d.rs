//! 3-D objects (`object3D-file`, `object3D`): point clouds (`pts.json`, with lidar boxes and
//! vectors), OBJ, STL and glTF (`glb`, or `gltf` with embedded buffers) meshes in a simple
//! viewer on the canvas 2-D API: drag to orbit, wheel to zoom, Reset. Other formats get a
//! download link that says they are not drawn. Parsing and the frame are in
//! [`crate::charts::meshes`] and [`crate::charts::orbit`].

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use trackline_shared::media::{DocRef, MediaEntry, MediaValue};

use crate::api;
use crate::charts::meshes::{self, Scene3d};
use crate::charts::orbit::{Camera, FrameStats, render_scene};

use super::plotly::canvas::{paint, pointer, prepare, track_width};
use super::{entry_at, file_url};

/// The formats the viewer draws, by W&B's extension names.
fn drawn(format: &str) -> bool {
    matches!(format, "pts.json" | "obj" | "stl" | "glb" | "gltf")
}

fn format_of(doc: &DocRef) -> String {
    doc.format
        .clone()
        .unwrap_or_default()
        .trim_start_matches('.')
        .to_ascii_lowercase()
}

/// Loads and parses one object.
async fn load_scene(url: &str, format: &str) -> Result<Scene3d, String> {
    match format {
        "pts.json" => {
            meshes::parse_points(&api::get_python_json(url).await.map_err(|e| e.to_string())?)
        }
        "gltf" => meshes::parse_gltf(&api::get_json(url).await.map_err(|e| e.to_string())?),
        _ => {
            let bytes = api::get_bytes(url).await.map_err(|e| e.to_string())?;
            match format {
                "obj" => meshes::parse_obj(&String::from_utf8_lossy(&bytes)),
                "stl" => meshes::parse_stl(&bytes),
                _ => meshes::parse_glb(&bytes),
            }
        }
    }
}

/// A key's 3-D objects at the chosen step (the newest when none is chosen); several objects
/// logged together are shown one at a time.
#[component]
pub fn Object3dView(
    #[prop(into)] project: String,
    #[prop(into)] run: String,
    #[prop(into)] entries: Signal<Vec<MediaEntry>>,
    #[prop(into)] step: Signal<Option<f64>>,
) -> impl IntoView {
    let index = RwSignal::new(0usize);
    let docs = Memo::new(move |_| {
        entries.with(|e| {
            let entry = entry_at(e, step.get())?;
            match MediaValue::parse(&entry.value)? {
                MediaValue::Object3d(d) => Some((entry.step, d)),
                _ => None,
            }
        })
    });
    let doc = Memo::new(move |_| {
        docs.with(|d| {
            let (_, list) = d.as_ref()?;
            list.get(index.get().min(list.len().saturating_sub(1)))
                .cloned()
        })
    });
    let ids = StoredValue::new((project, run));
    let url_of = move |path: &str| ids.with_value(|(p, r)| file_url(p, r, path));
    let scene = RwSignal::new(None::<(String, Result<Scene3d, String>)>);
    let camera = RwSignal::new(Camera::default());
    {
        Effect::new(move |_| {
            let Some(d) = doc.get() else {
                scene.set(None);
                return;
            };
            let format = format_of(&d);
            let path = d.file.path.clone();
            if !drawn(&format)
                || scene.with_untracked(|s| s.as_ref().is_some_and(|(p, _)| *p == path))
            {
                return;
            }
            let url = url_of(&path);
            spawn_local(async move {
                let result = load_scene(&url, &format).await;
                if doc.try_with_untracked(|d| d.as_ref().map(|d| d.file.path == path))
                    == Some(Some(true))
                {
                    scene.try_set(Some((path, result)));
                }
            });
        });
    }
    let body = NodeRef::<html::Div>::new();
    let canvas = NodeRef::<html::Canvas>::new();
    let width = RwSignal::new(0.0);
    track_width(body, width);
    let stats = RwSignal::new(FrameStats::default());
    let height = 360.0;
    Effect::new(move |_| {
        let w = width.get();
        let cam = camera.get();
        let Some(c) = canvas.get() else { return };
        if w < 10.0 {
            return;
        }
        let drawn = scene.with(|s| match s {
            Some((_, Ok(scene))) => Some(render_scene(scene, cam, w, height)),
            _ => None,
        });
        let Some((frame, st)) = drawn else { return };
        if let Some(ctx) = prepare(&c, w, height) {
            paint(&ctx, &frame);
        }
        stats.set(st);
    });
    let drag = StoredValue::new(None::<(f64, f64)>);
    let on_down = move |ev: web_sys::PointerEvent| {
        drag.set_value(Some(pointer(&ev)));
        if let Some(c) = canvas.get_untracked() {
            let _ = c.set_pointer_capture(ev.pointer_id());
        }
    };
    let on_move = move |ev: web_sys::PointerEvent| {
        let Some((x0, y0)) = drag.get_value() else {
            return;
        };
        let (x, y) = pointer(&ev);
        drag.set_value(Some((x, y)));
        camera.update(|c| *c = c.dragged(x - x0, y - y0));
    };
    let on_up = move |_: web_sys::PointerEvent| drag.set_value(None);
    let on_wheel = move |ev: web_sys::WheelEvent| {
        ev.prevent_default();
        camera.update(|c| *c = c.wheeled(ev.delta_y()));
    };
    let status = move || {
        let d = doc.get()?;
        let format = format_of(&d);
        if !drawn(&format) {
            return None;
        }
        scene.with(|s| match s {
            None => Some("Loading…".to_string()),
            Some((_, Err(e))) => Some(e.clone()),
            Some(_) => None,
        })
    };
    let not_drawn = move || {
        let d = doc.get()?;
        let format = format_of(&d);
        (!drawn(&format)).then(|| {
            let label = if format.is_empty() {
                "this".to_string()
            } else {
                format
            };
            (label, url_of(&d.file.path))
        })
    };
    let count = move || docs.with(|d| d.as_ref().map_or(0, |(_, l)| l.len()));
    let caption = move || doc.with(|d| d.as_ref().and_then(|d| d.caption.clone()));
    let show_canvas =
        move || scene.with(|s| matches!(s, Some((_, Ok(_))))) && not_drawn().is_none();
    view! {
        <div
            class="media-object3d"
            style="min-width:0;overflow:hidden"
            data-testid="object3d-view"
            data-points=move || stats.get().points.to_string()
            data-triangles=move || stats.get().triangles.to_string()
            data-camera=move || {
                let c = camera.get();
                format!("{:.3},{:.3},{:.3}", c.yaw, c.pitch, c.zoom)
            }
        >
            <div class="chart-head" style="gap:6px">
                <button data-testid="object3d-reset" on:click=move |_| camera.set(Camera::default())>
                    "Reset"
                </button>
                <Show when=move || { count() > 1 }>
                    <button on:click=move |_| index.update(|i| *i = i.saturating_sub(1))>"‹"</button>
                    <span class="chart-readout" style="margin-left:0">
                        {move || format!("{} of {}", index.get().min(count().saturating_sub(1)) + 1, count())}
                    </span>
                    <button on:click=move |_| index.update(|i| *i = (*i + 1).min(count().saturating_sub(1)))>"›"</button>
                </Show>
                <span class="chart-readout">
                    {move || {
                        let s = stats.get();
                        if s.triangles > 0 {
                            format!("{} triangles", s.triangles)
                        } else {
                            format!("{} points", s.points)
                        }
                    }}
                </span>
            </div>
            {move || caption().map(|c| view! { <div class="media-caption">{c}</div> })}
            {move || status().map(|s| view! { <div class="chart-readout" style="margin-left:0">{s}</div> })}
            {move || not_drawn().map(|(format, href)| view! {
                <div data-testid="object3d-not-drawn">
                    {format!("The {format} format is not drawn here: ")}
                    <a href=href download="">"download the file"</a>
                </div>
            })}
            <div node_ref=body style=move || format!(
                "position:relative;height:{height}px;{}",
                if show_canvas() { "" } else { "display:none" }
            )>
                <canvas
                    node_ref=canvas
                    data-testid="object3d-canvas"
                    title="Drag to orbit, wheel to zoom"
                    style="display:block;width:100%;height:100%;cursor:grab;touch-action:none"
                    on:pointerdown=on_down
                    on:pointermove=on_move
                    on:pointerup=on_up
                    on:pointercancel=on_up
                    on:wheel=on_wheel
                ></canvas>
            </div>
        </div>
    }
}
