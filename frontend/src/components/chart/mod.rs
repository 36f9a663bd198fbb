//! The line chart: one metric of several runs on a canvas drawn by our own rasteriser
//! ([`crate::charts::raster`]), with zoom, pan, smoothing, log scales, outliers, grouping, hover,
//! a legend, and PNG/CSV export.
//!
//! Data: one series query for all runs of the chart, decimated over the x window shown into one
//! column per plot pixel (`x_min`/`x_max`/`width`), refetched (debounced) after a zoom, a pan or a
//! resize; then the `series` WebSocket topic per run from `total_points`, appended live. A zoom
//! holds while points arrive. A live point is drawn into the kept pixel buffer (no redraw of history)
//! when it changes neither axis; with grouping or non-causal smoothing, only the strip of pixel
//! columns it changed is drawn again ([`render::render_strip`]); otherwise the frame is redrawn.
//!
//! Interaction: drag a box to zoom x (with Ctrl/Alt/⌘ held: x and y); Ctrl/Alt/⌘ + wheel zooms
//! around the pointer; Shift-drag or the middle button pans; a double click resets.
//!
//! DOM contract (tests, benchmarks): the canvas has `data-testid="chart"`, `data-key`,
//! `data-x-min`/`data-x-max` (the x domain drawn), `data-y-min`/`data-y-max` (the y domain), `data-points` (raw points represented),
//! `data-runs` (runs drawn), `data-bands` (group bands drawn), `data-smoothed-last` (the last
//! smoothed value of the first run drawn, empty without smoothing), `data-frames` (full frames
//! drawn), `data-strips` (strips drawn for live points, [`render::render_strip`]), `data-previews`
//! (previews drawn during a slow panel's gestures, [`preview`]). Legend entries are `data-testid="legend-item"` with `data-run`.
//!
//! Timings go to `performance.measure` (docs/frontend.md): `tl:panel:data-request`,
//! `tl:panel:first-paint`, `tl:panel:frame` (of which `tl:panel:frame:plot`: layout and
//! rasterising), `tl:panel:live-append`, `tl:panel:preview`.
//!
//! Layout: this file holds the component, its state ([`ChartData`], [`ChartView`], [`Schedule`])
//! and the [`ChartHandle`] its callbacks share; [`data`] fetches and follows the series, [`draw`]
//! schedules and paints frames (built by the pure [`crate::charts::render`]), [`gesture`] turns
//! pointer input into zooms and the hover read-out, [`export`] writes PNG and CSV.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use trackline_shared::api::{RunInfo, SeriesResponse, XAxis};
use trackline_shared::num::display;
use trackline_shared::smooth::Smoothing;
use trackline_shared::ws::{ServerMsg, SubId, Topic};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{Clamped, JsCast, JsValue};
use web_sys::{
    CanvasRenderingContext2d, ImageData, IntersectionObserver, IntersectionObserverEntry,
    IntersectionObserverInit, ResizeObserver,
};

use crate::api;
use crate::browser::{measure, perf_now};
use crate::charts::plot::{self, Frame, GroupFrame, View};
use crate::charts::raster::{self, Raster, Style};
use crate::charts::render::{self, FrameInput, FrameStats, Rendered, RunLook};
use crate::charts::settings::{ChartSettings, DataKey};
use crate::charts::{AppendOutcome, SeriesState};
use crate::{browser, ws};

mod cursors;
mod data;
mod draw;
mod export;
mod gesture;
mod offscreen;
mod pins;
mod preview;

use gesture::{Drag, Tip};

/// A run as a chart needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRef {
    pub id: String,
    pub name: String,
    pub color: &'static str,
    /// Unix seconds (relative-time x of live points).
    pub created_at: f64,
    /// The run's info (config and fields for grouping).
    pub info: Arc<RunInfo>,
}

impl RunRef {
    pub fn new(info: Arc<RunInfo>) -> RunRef {
        RunRef {
            id: info.id.clone(),
            name: info.name.clone(),
            color: crate::selection::run_color(&info.id),
            created_at: info.created_at_secs,
            info,
        }
    }
}

/// Refetch this long after the last zoom, pan or resize.
const REFETCH_DEBOUNCE: Duration = Duration::from_millis(150);
/// Least time between refetches caused by a long live tail (or by live points on an `x_key` axis).
const COMPACT_EVERY_MS: f64 = 1000.0;
/// Live points that cannot be drawn into the kept pixels (grouping, two-sided smoothing, an axis
/// that must grow) redraw the whole panel at most this often, however fast they come: a panel of
/// a hundred live runs would otherwise redraw every animation frame.
const LIVE_FULL_FRAME_EVERY_MS: f64 = 250.0;
const RETRY_AFTER: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Idle,
    Loading,
    Ready,
    Failed(String),
}

#[derive(Debug, Default)]
struct Slot {
    id: String,
    created_at: f64,
    data: SeriesState,
    sub: Option<SubId>,
    /// Live points already drawn (incremental drawing continues after them).
    drawn_tail: usize,
}

/// The data a chart holds: one slot per run, and the fetch in flight.
#[derive(Debug, Default)]
struct ChartData {
    slots: Vec<Slot>,
    data_key: DataKey,
    /// Bumped whenever the data is reset (axis or runs changed): older answers are dropped.
    generation: u64,
    /// Bumped only when all data is dropped (an axis change): live messages of subscriptions
    /// from before are ignored. Adding or removing runs keeps the other runs' subscriptions.
    epoch: u64,
    fetching: bool,
    refetch_after: bool,
    last_fetch_ms: f64,
    debounce_gen: u64,
    started: bool,
    first_request_ms: Option<f64>,
}

/// What a chart shows: zoom, the last frame and its pixels, and the canvas size.
#[derive(Debug, Default)]
struct ChartView {
    zoom_x: Option<(f64, f64)>,
    zoom_y: Option<(f64, f64)>,
    /// The fitted x domain, kept while live points fit (with head room once they arrive).
    auto_x: Option<(f64, f64)>,
    frame: Option<Frame>,
    /// Slot index of each run in `frame.runs`.
    frame_slots: Vec<usize>,
    groups: Vec<GroupFrame>,
    raster: Raster,
    size: (f64, f64),
    dpr: f64,
}

/// When a chart draws: a frame is pending, a full one is needed, it is on screen.
#[derive(Debug, Default)]
struct Schedule {
    painted: bool,
    full: bool,
    frame_pending: bool,
    visible: bool,
    dirty: bool,
    /// Live points arrived since `data-points` was last counted (counted once a frame: a sum
    /// over every run's slot, too much for each of a thousand runs' messages).
    points_changed: bool,
    /// When the last full frame was drawn (`performance.now()`).
    last_full_ms: f64,
    /// A full frame for live points waits on a timer ([`LIVE_FULL_FRAME_EVERY_MS`]).
    live_deferred: bool,
    /// Wheel and pan steps, for previews of slow panels ([`preview`]).
    gesture: preview::Gesture,
}

/// A chart's mutable state, held in one `StoredValue`.
#[derive(Debug, Default)]
struct ChartState {
    data: ChartData,
    view: ChartView,
    schedule: Schedule,
}

#[derive(Clone, Copy)]
struct ChartHandle {
    /// Unique on the page (the charts out of view are counted by it: `offscreen.rs`).
    id: u64,
    project: StoredValue<String>,
    key: StoredValue<String>,
    st: StoredValue<ChartState>,
    runs: Signal<Vec<RunRef>>,
    settings: Signal<ChartSettings>,
    hidden: RwSignal<BTreeSet<String>>,
    highlighted: RwSignal<Option<String>>,
    canvas: NodeRef<html::Canvas>,
    phase: RwSignal<Phase>,
    xwin: RwSignal<(f64, f64)>,
    ywin: RwSignal<(f64, f64)>,
    zoomed: RwSignal<bool>,
    points: RwSignal<u64>,
    drawn_runs: RwSignal<usize>,
    bands: RwSignal<usize>,
    smoothed_last: RwSignal<String>,
    frames: RwSignal<u64>,
    strips: RwSignal<u64>,
    /// Previews drawn while a slow panel was zoomed or panned ([`preview`]).
    previews: RwSignal<u64>,
    /// The plot pixels of the last exact frame, which previews move and stretch.
    snapshot: StoredValue<Option<web_sys::HtmlCanvasElement>, LocalStorage>,
    pins: pins::Pins,
}

impl ChartHandle {
    fn alive(&self) -> bool {
        !self.st.is_disposed()
    }

    fn settings(&self) -> ChartSettings {
        self.settings.get_untracked()
    }
}

type Observer = (ResizeObserver, Closure<dyn FnMut(js_sys::Array)>);
type Watcher = (IntersectionObserver, Closure<dyn FnMut(js_sys::Array)>);

/// A live multi-run line chart of `key`. `runs` are drawn unless in `hidden`; `highlighted` is drawn
/// on top with the others dimmed. The legend writes both.
#[component]
pub fn LineChart(
    #[prop(into)] project: String,
    #[prop(into)] key: String,
    #[prop(into)] runs: Signal<Vec<RunRef>>,
    #[prop(into)] settings: Signal<ChartSettings>,
    hidden: RwSignal<BTreeSet<String>>,
    highlighted: RwSignal<Option<String>>,
    /// Height of the plot area's box in CSS pixels.
    #[prop(default = 220.0)]
    height: f64,
    /// Extra controls shown in the chart's header (the panel's settings toggle).
    #[prop(optional)]
    header: Option<ChildrenFn>,
) -> impl IntoView {
    let body_ref = NodeRef::<html::Div>::new();
    thread_local! {
        static NEXT_CHART_ID: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }
    let c = ChartHandle {
        id: NEXT_CHART_ID.with(|n| {
            n.set(n.get() + 1);
            n.get()
        }),
        project: StoredValue::new(project),
        key: StoredValue::new(key.clone()),
        st: StoredValue::new(ChartState {
            view: ChartView {
                dpr: 1.0,
                ..Default::default()
            },
            ..Default::default()
        }),
        runs,
        settings,
        hidden,
        highlighted,
        canvas: NodeRef::new(),
        phase: RwSignal::new(Phase::Idle),
        xwin: RwSignal::new((0.0, 0.0)),
        ywin: RwSignal::new((0.0, 0.0)),
        zoomed: RwSignal::new(false),
        points: RwSignal::new(0),
        drawn_runs: RwSignal::new(0),
        bands: RwSignal::new(0),
        smoothed_last: RwSignal::new(String::new()),
        frames: RwSignal::new(0),
        strips: RwSignal::new(0),
        previews: RwSignal::new(0),
        snapshot: StoredValue::new_local(None),
        pins: pins::Pins::new(key.clone(), runs, settings, hidden),
    };
    c.watch_pins();
    // The WASM memory, for benchmarks that add its size to the JS heap's.
    let _ = js_sys::Reflect::set(
        &window(),
        &JsValue::from_str("__trackline_wasm_memory"),
        &wasm_bindgen::memory(),
    );
    let drag = RwSignal::new(None::<Drag>);
    let tip = RwSignal::new(None::<Tip>);

    // Runs and data settings decide the data held.
    Effect::new(move |_| {
        let list = runs.get();
        let dk = settings.with(ChartSettings::data_key);
        c.sync_runs(&list, dk);
    });
    // Drawing settings, hidden and highlighted runs redraw.
    Effect::new(move |prev: Option<()>| {
        settings.track();
        hidden.track();
        highlighted.track();
        if prev.is_some() {
            c.redraw(true);
        }
    });

    let observer: StoredValue<Option<Observer>, LocalStorage> = StoredValue::new_local(None);
    let watcher: StoredValue<Option<Watcher>, LocalStorage> = StoredValue::new_local(None);
    Effect::new(move |_| {
        let Some(el) = body_ref.get() else { return };
        if observer.with_value(Option::is_some) {
            return;
        }
        let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let Some(entry) = entries.iter().last() else {
                return;
            };
            let Ok(entry) = entry.dyn_into::<IntersectionObserverEntry>() else {
                return;
            };
            if c.alive() {
                c.set_visible(entry.is_intersecting());
            }
        });
        let init = IntersectionObserverInit::new();
        init.set_root_margin("200px 0px");
        match IntersectionObserver::new_with_options(cb.as_ref().unchecked_ref(), &init) {
            Ok(io) => {
                io.observe(&el);
                watcher.set_value(Some((io, cb)));
            }
            Err(_) => c.set_visible(true),
        }
        let target = el.clone();
        let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |_entries: js_sys::Array| {
            if c.alive() {
                let r = target.get_bounding_client_rect();
                c.on_resize(r.width(), r.height());
            }
        });
        match ResizeObserver::new(cb.as_ref().unchecked_ref()) {
            Ok(ro) => {
                ro.observe(&el);
                observer.set_value(Some((ro, cb)));
            }
            Err(_) => {
                let r = el.get_bounding_client_rect();
                c.on_resize(r.width(), r.height());
            }
        }
    });
    on_cleanup(move || {
        c.forget_out_of_view();
        observer.with_value(|o| {
            if let Some((ro, _)) = o {
                ro.disconnect();
            }
        });
        watcher.with_value(|o| {
            if let Some((io, _)) = o {
                io.disconnect();
            }
        });
        let subs: Vec<SubId> =
            c.st.try_with_value(|st| st.data.slots.iter().filter_map(|s| s.sub).collect())
                .unwrap_or_default();
        for id in subs {
            ws::unsubscribe(id);
        }
    });

    let on_down = move |ev: web_sys::PointerEvent| {
        let (x, y) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
        let Some((xd, _)) = c.frame_domains() else {
            return;
        };
        let pan = ev.button() == 1 || (ev.button() == 0 && ev.shift_key());
        if ev.button() != 0 && !pan {
            return;
        }
        ev.prevent_default();
        if let Some(canvas) = c.canvas.get_untracked() {
            let _ = canvas.set_pointer_capture(ev.pointer_id());
        }
        tip.set(None);
        let zoomed_y = c.st.with_value(|st| st.view.zoom_y);
        drag.set(Some(if pan {
            Drag::Pan {
                px: x,
                py: y,
                x: xd,
                y: zoomed_y,
            }
        } else {
            let xy = ev.ctrl_key() || ev.alt_key() || ev.meta_key();
            Drag::Box {
                x0: x,
                y0: y,
                x1: x,
                y1: y,
                xy,
            }
        }));
    };
    let on_move = move |ev: web_sys::PointerEvent| {
        let (x, y) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
        match drag.get_untracked() {
            Some(Drag::Box { x0, y0, xy, .. }) => {
                drag.set(Some(Drag::Box {
                    x0,
                    y0,
                    x1: x,
                    y1: y,
                    xy: xy || ev.ctrl_key() || ev.alt_key() || ev.meta_key(),
                }));
            }
            Some(Drag::Pan {
                px,
                py,
                x: xd,
                y: yd,
            }) => {
                // Relative to the domains at the start of the pan.
                let shifted = c.with_frame(|f| {
                    let nx = plot::pan(xd, f.x.log, -(x - px), f.plot.width);
                    let ny = yd.map(|d| plot::pan(d, f.y.log, y - py, f.plot.height));
                    (nx, ny)
                });
                if let Some((nx, ny)) = shifted {
                    c.gesture_step();
                    c.st.update_value(|st| {
                        st.view.zoom_x = Some(nx);
                        st.view.zoom_y = ny;
                        st.schedule.full = true;
                    });
                    c.zoomed.set(true);
                    c.redraw(true);
                }
            }
            None => {
                tip.set(c.tooltip(x, y));
                c.share_cursor(x, y);
            }
        }
    };
    let on_up = move |ev: web_sys::PointerEvent| {
        let Some(d) = drag.get_untracked() else {
            return;
        };
        drag.set(None);
        if let Some(canvas) = c.canvas.get_untracked() {
            let _ = canvas.release_pointer_capture(ev.pointer_id());
        }
        match d {
            Drag::Box { x0, y0, x1, .. } if c.pins.mode.get_untracked() => {
                c.pin_gesture(x0, y0, x1);
            }
            Drag::Box { x0, y0, x1, y1, xy } => {
                if (x1 - x0).abs() < 4.0 && !(xy && (y1 - y0).abs() >= 4.0) {
                    c.pin_click(x0, y0);
                    return;
                }
                let z = c.with_frame(|f| {
                    let (a, b) = (x0.min(x1).max(f.plot.left), x0.max(x1).min(f.plot.right()));
                    let nx = if (x1 - x0).abs() >= 4.0 {
                        (f.x.from_px(a), f.x.from_px(b))
                    } else {
                        (f.x.lo, f.x.hi)
                    };
                    let ny = if xy && (y1 - y0).abs() >= 4.0 {
                        let (t, btm) =
                            (y0.min(y1).max(f.plot.top), y0.max(y1).min(f.plot.bottom()));
                        Some((f.y.from_px(btm), f.y.from_px(t)))
                    } else {
                        c.st.with_value(|st| st.view.zoom_y)
                    };
                    (nx, ny)
                });
                if let Some((nx, ny)) = z
                    && nx.1 > nx.0
                {
                    c.zoom(Some(nx), ny);
                }
            }
            Drag::Pan { .. } => c.debounced_fetch(),
        }
    };
    let on_wheel = move |ev: web_sys::WheelEvent| {
        if !(ev.ctrl_key() || ev.alt_key() || ev.meta_key()) {
            return;
        }
        ev.prevent_default();
        let unit = match ev.delta_mode() {
            1 => 16.0,
            2 => 400.0,
            _ => 1.0,
        };
        // The pointer to the sub-pixel where the browser gives it (web-sys's offset_x is whole).
        let Some(cv) = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let r = cv.get_bounding_client_rect();
        let coord = |name: &str, whole: i32| {
            js_sys::Reflect::get(&ev, &JsValue::from_str(name))
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::from(whole))
        };
        c.wheel(
            coord("clientX", ev.client_x()) - r.left(),
            coord("clientY", ev.client_y()) - r.top(),
            ev.delta_y() * unit,
        );
    };

    let zoom_box = move || {
        drag.get().and_then(|d| match d {
            Drag::Box { x0, y0, x1, y1, xy } if (x1 - x0).abs() >= 2.0 || (xy && (y1 - y0).abs() >= 2.0) => {
                let (top, h) = if xy {
                    (y0.min(y1), (y1 - y0).abs())
                } else {
                    c.with_frame(|f| (f.plot.top, f.plot.height)).unwrap_or((0.0, 0.0))
                };
                Some(view! {
                    <div
                        class="lc-zoombox"
                        data-testid="zoom-box"
                        style=format!("left:{}px;width:{}px;top:{top}px;height:{h}px", x0.min(x1), (x1 - x0).abs())
                    ></div>
                })
            }
            _ => None,
        })
    };
    let tooltip = move || {
        tip.get().map(|t| {
            let plot_h = c.with_frame(|f| (f.plot.top, f.plot.height)).unwrap_or((0.0, 0.0));
            let w = c.st.with_value(|st| st.view.size.0);
            // Left of the crosshair only where a tooltip fits there.
            let side = if t.x_px > 360.0 && t.x_px > w * 0.5 {
                "right"
            } else {
                "left"
            };
            let pos = if side == "left" {
                format!("left:{}px;top:{}px", t.x_px + 14.0, (t.y_px - 10.0).max(0.0))
            } else {
                format!("right:{}px;top:{}px", w - t.x_px + 14.0, (t.y_px - 10.0).max(0.0))
            };
            let dots = t
                .dots
                .iter()
                .map(|(y, color)| {
                    view! { <div class="lc-dot" style=format!("left:{}px;top:{y}px;background:{color}", t.x_px)></div> }
                })
                .collect_view();
            let more = (t.more > 0).then(|| view! { <div class="lc-tip-more">{format!("… and {} more", t.more)}</div> });
            view! {
                <div class="lc-crosshair" style=format!("left:{}px;top:{}px;height:{}px", t.x_px, plot_h.0, plot_h.1)></div>
                {dots}
                <div class="lc-tip" data-testid="chart-tooltip" style=pos>
                    <div class="lc-tip-title">{t.title.clone()}</div>
                    {t
                        .rows
                        .iter()
                        .map(|r| {
                            view! {
                                <div class="lc-tip-row" data-testid="tooltip-row">
                                    <span class="lc-swatch" style=format!("background:{}", r.color)></span>
                                    <span class="lc-tip-name">{r.name.clone()}</span>
                                    <span class="lc-tip-val" class:bad=r.bad>{r.value.clone()}</span>
                                </div>
                            }
                        })
                        .collect_view()}
                    {more}
                </div>
            }
        })
    };
    let message = move || match c.phase.get() {
        Phase::Idle | Phase::Loading => {
            Some(view! { <div class="chart-msg">"loading…"</div> }.into_any())
        }
        Phase::Failed(e) => Some(view! { <div class="chart-msg error-msg">{e}</div> }.into_any()),
        Phase::Ready if c.points.get() == 0 => {
            Some(view! { <div class="chart-msg">"no points yet"</div> }.into_any())
        }
        Phase::Ready => None,
    };

    let legend = move || {
        let list = runs.get();
        let hid = hidden.get();
        let hi = highlighted.get();
        list.into_iter()
            .map(|r| {
                let id = r.id.clone();
                let id2 = r.id.clone();
                let id3 = r.id.clone();
                let off = hid.contains(&r.id);
                let on = hi.as_deref() == Some(r.id.as_str());
                view! {
                    <button
                        class="lc-legend-item"
                        class:off=off
                        class:on=on
                        data-testid="legend-item"
                        data-run=r.id.clone()
                        title=format!("{} ({}): click to hide or show", r.name, r.id)
                        on:click=move |_| {
                            hidden.update(|h| {
                                if !h.remove(&id) {
                                    h.insert(id.clone());
                                }
                            })
                        }
                        on:mouseenter=move |_| highlighted.set(Some(id2.clone()))
                        on:mouseleave=move |_| {
                            if highlighted.get_untracked().as_deref() == Some(id3.as_str()) {
                                highlighted.set(None)
                            }
                        }
                    >
                        <span class="lc-swatch" style=format!("background:{}", r.color)></span>
                        {r.name.clone()}
                    </button>
                }
            })
            .collect_view()
    };

    let fmt = |v: f64| format!("{v}");
    view! {
        <div class="lc">
            <div class="lc-head">
                <span class="chart-title" title=key.clone()>{key.clone()}</span>
                <span class="spacer"></span>
                <Show when=move || c.zoomed.get()>
                    <button class="lc-btn" data-testid="reset-zoom" title="Reset zoom (double click)" on:click=move |_| c.zoom(None, None)>"reset zoom"</button>
                </Show>
                {c.pin_button()}
                <button class="lc-btn" data-testid="export-png" title="Download this chart as PNG" on:click=move |_| c.export_png()>"PNG"</button>
                <button class="lc-btn" data-testid="export-csv" title="Download the points held as CSV" on:click=move |_| c.export_csv()>"CSV"</button>
                {header.clone().map(|h| h())}
            </div>
            <div class="lc-body" node_ref=body_ref style=format!("height:{height}px")>
                <canvas
                    node_ref=c.canvas
                    data-testid="chart"
                    data-key=key.clone()
                    data-x-min=move || fmt(c.xwin.get().0)
                    data-x-max=move || fmt(c.xwin.get().1)
                    data-y-min=move || fmt(c.ywin.get().0)
                    data-y-max=move || fmt(c.ywin.get().1)
                    data-points=move || c.points.get().to_string()
                    data-runs=move || c.drawn_runs.get().to_string()
                    data-bands=move || c.bands.get().to_string()
                    data-smoothed-last=move || c.smoothed_last.get()
                    data-frames=move || c.frames.get().to_string()
                    data-strips=move || c.strips.get().to_string()
                    data-previews=move || c.previews.get().to_string()
                    data-zoomed=move || c.zoomed.get().to_string()
                    on:pointerdown=on_down
                    on:pointermove=on_move
                    on:pointerup=on_up
                    on:pointercancel=move |_| drag.set(None)
                    on:pointerleave=move |_| {
                        tip.set(None);
                        crate::presence::set_cursor(None);
                    }
                    on:dblclick=move |_| c.zoom(None, None)
                    on:wheel=on_wheel
                    on:contextmenu=move |ev: web_sys::MouseEvent| {
                        if drag.get_untracked().is_some() {
                            ev.prevent_default();
                        }
                    }
                ></canvas>
                {zoom_box}
                {tooltip}
                {c.pins_view()}
                {c.checkpoints_view()}
                {cursors::peer_cursors(c)}
                {message}
            </div>
            <div class="lc-legend" data-testid="legend">{legend}</div>
        </div>
    }
}
