//! One live line chart of one metric of one run.
//!
//! It fetches the decimated history sized to its plot width (`api/projects/{p}/series`), then
//! subscribes to the `series` topic from `total_points` and appends live points without refetching.
//! When the live tail outgrows twice the width (or the width changes, or a gap is seen) it fetches
//! the decimated history again and keeps only the live points that answer does not cover.
//!
//! The canvas carries `data-testid="chart"`, `data-key` and `data-points` (raw points represented:
//! bucket counts plus live points).

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use trackline_shared::api::{RunSeries, XAxis};
use trackline_shared::ws::{ServerMsg, SubId, Topic};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{
    CanvasRenderingContext2d, IntersectionObserver, IntersectionObserverEntry,
    IntersectionObserverInit, ResizeObserver,
};

use crate::api;
use crate::charts::{self, AppendOutcome, Layout, Readout, SeriesState};
use crate::ws;

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Loading,
    Ready,
    Failed(String),
}

/// Least time between two history refetches caused by a long live tail.
const COMPACT_EVERY_MS: f64 = 1000.0;
/// Retry a failed first fetch after this long.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// Wait for the size to settle before refetching after a resize.
const RESIZE_DEBOUNCE: Duration = Duration::from_millis(250);

#[derive(Clone, Debug, PartialEq)]
struct Hover {
    x: f64,
    y: Option<f64>,
    readout: Readout,
}

#[derive(Clone, Copy)]
struct ChartCtx {
    project: StoredValue<String>,
    run: StoredValue<String>,
    key: StoredValue<String>,
    data: StoredValue<SeriesState>,
    layout: StoredValue<Option<Layout>>,
    canvas: NodeRef<html::Canvas>,
    size: RwSignal<(f64, f64)>,
    points: RwSignal<u64>,
    phase: RwSignal<Phase>,
    latest: RwSignal<Option<Readout>>,
    /// A fetch is in flight; `refetch_after` asks for another when it lands.
    fetching: StoredValue<bool>,
    refetch_after: StoredValue<bool>,
    last_fetch_ms: StoredValue<f64>,
    sub: StoredValue<Option<SubId>>,
    frame_pending: StoredValue<bool>,
    resize_gen: StoredValue<u64>,
    /// Whether the chart is (near) the viewport; off-screen charts keep their data but skip drawing.
    visible: StoredValue<bool>,
    dirty: StoredValue<bool>,
}

impl ChartCtx {
    fn alive(&self) -> bool {
        !self.data.is_disposed()
    }

    /// Draws on the next animation frame (many updates in one frame draw once).
    fn redraw(self) {
        if !self.alive() || self.frame_pending.get_value() {
            return;
        }
        if !self.visible.get_value() {
            // Off screen: draw when it scrolls into view.
            self.dirty.set_value(true);
            return;
        }
        self.frame_pending.set_value(true);
        request_animation_frame(move || {
            if !self.alive() {
                return;
            }
            self.frame_pending.set_value(false);
            self.draw_now();
        });
    }

    fn draw_now(self) {
        let Some(canvas) = self.canvas.get_untracked() else {
            return;
        };
        let (w, h) = self.size.get_untracked();
        if w < 1.0 || h < 1.0 {
            return;
        }
        let dpr = window().device_pixel_ratio().clamp(1.0, 4.0);
        let (pw, ph) = ((w * dpr).round() as u32, (h * dpr).round() as u32);
        if canvas.width() != pw {
            canvas.set_width(pw);
        }
        if canvas.height() != ph {
            canvas.set_height(ph);
        }
        let Some(ctx) = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        else {
            return;
        };
        let layout = self.data.with_value(|d| charts::layout(d, w, h, true));
        charts::canvas::draw(&ctx, &layout, dpr);
        let latest = layout
            .columns
            .last()
            .map(|c| charts::latest_readout(c, "step"));
        self.latest.set(latest);
        self.layout.set_value(Some(layout));
    }

    fn fetch(self) {
        if !self.alive() {
            return;
        }
        if self.fetching.get_value() {
            self.refetch_after.set_value(true);
            return;
        }
        self.fetching.set_value(true);
        self.last_fetch_ms.set_value(js_sys::Date::now());
        let width = charts::plot_columns(self.size.get_untracked().0);
        let (project, run, key) = (
            self.project.get_value(),
            self.run.get_value(),
            self.key.get_value(),
        );
        spawn_local(async move {
            let res = api::series(&project, &[run.as_str()], &key, XAxis::Step, width).await;
            if !self.alive() {
                return;
            }
            self.fetching.set_value(false);
            match res {
                Ok(resp) => {
                    let rs = resp
                        .runs
                        .into_iter()
                        .find(|r| r.run == run)
                        .unwrap_or(RunSeries {
                            run: run.clone(),
                            total_points: 0,
                            buckets: Default::default(),
                        });
                    let first = self.sub.get_value().is_none();
                    self.data.update_value(|d| {
                        if first {
                            *d = SeriesState::from_history(resp.window, resp.width, rs);
                        } else {
                            d.replace_history(resp.window, resp.width, rs);
                        }
                    });
                    self.phase.set(Phase::Ready);
                    self.points.set(self.data.with_value(SeriesState::points));
                    self.redraw();
                    if first {
                        self.subscribe();
                    }
                }
                Err(e) => {
                    // Keep drawing what we have; say so only when there is nothing.
                    if self.phase.get_untracked() != Phase::Ready {
                        self.phase.set(Phase::Failed(e.to_string()));
                        set_timeout(
                            move || {
                                if self.alive()
                                    && matches!(self.phase.get_untracked(), Phase::Failed(_))
                                {
                                    self.fetch();
                                }
                            },
                            RETRY_AFTER,
                        );
                    } else {
                        leptos::logging::warn!("trackline: refetching {key}: {e}");
                    }
                }
            }
            if self.refetch_after.get_value() {
                self.refetch_after.set_value(false);
                self.fetch();
            }
        });
    }

    fn subscribe(self) {
        let from = self.data.with_value(SeriesState::held);
        let topic = Topic::Series {
            project: self.project.get_value(),
            run: self.run.get_value(),
            key: self.key.get_value(),
            from,
        };
        let id = ws::subscribe(topic, move |msg| self.on_msg(msg));
        self.sub.set_value(Some(id));
    }

    fn on_msg(self, msg: ServerMsg) {
        if !self.alive() {
            return;
        }
        match msg {
            ServerMsg::Points {
                start, step, value, ..
            } => {
                let out = self
                    .data
                    .try_update_value(|d| d.append(start, &step, &value));
                match out {
                    Some(AppendOutcome::Appended(n)) if n > 0 => {
                        self.points.set(self.data.with_value(SeriesState::points));
                        self.redraw();
                        let compact = self.data.with_value(SeriesState::wants_compaction);
                        if compact
                            && !self.fetching.get_value()
                            && js_sys::Date::now() - self.last_fetch_ms.get_value()
                                > COMPACT_EVERY_MS
                        {
                            self.fetch();
                        }
                    }
                    Some(AppendOutcome::Gap) => self.fetch(),
                    _ => {}
                }
            }
            ServerMsg::Error { message, .. } => {
                leptos::logging::warn!("trackline: series {}: {message}", self.key.get_value());
            }
            _ => {}
        }
    }

    fn on_resize(self, w: f64, h: f64) {
        let old = self.size.get_untracked();
        if (old.0 - w).abs() < 0.5 && (old.1 - h).abs() < 0.5 {
            return;
        }
        self.size.set((w, h));
        if w < 1.0 {
            return;
        }
        if self.sub.get_value().is_none()
            && !self.fetching.get_value()
            && self.phase.get_untracked() == Phase::Loading
        {
            // First real size: fetch the history at this width.
            self.fetch();
            return;
        }
        self.redraw();
        let cols = charts::plot_columns(w);
        if cols != self.data.with_value(|d| d.width) {
            let generation = self.resize_gen.get_value() + 1;
            self.resize_gen.set_value(generation);
            set_timeout(
                move || {
                    if self.alive() && self.resize_gen.get_value() == generation {
                        self.fetch();
                    }
                },
                RESIZE_DEBOUNCE,
            );
        }
    }

    /// The column nearest to `px`: its x, the y of its last value (when finite), its read-out.
    fn hover(self, px: f64) -> Option<Hover> {
        self.layout.with_value(|l| {
            let l = l.as_ref()?;
            let c = l.nearest(px)?;
            let y = c.last.is_finite().then(|| l.y_to_px(c.last));
            Some(Hover {
                x: c.px,
                y,
                readout: charts::readout(c, "step"),
            })
        })
    }
}

/// A ResizeObserver and the callback it calls (which must live as long as it).
type Observer = (ResizeObserver, Closure<dyn FnMut(js_sys::Array)>);
/// An IntersectionObserver and its callback.
type Watcher = (IntersectionObserver, Closure<dyn FnMut(js_sys::Array)>);

#[component]
pub fn Chart(project: String, run: String, key: String) -> impl IntoView {
    let body_ref = NodeRef::<html::Div>::new();
    let c = ChartCtx {
        project: StoredValue::new(project),
        run: StoredValue::new(run),
        key: StoredValue::new(key.clone()),
        data: StoredValue::new(SeriesState::default()),
        layout: StoredValue::new(None),
        canvas: NodeRef::new(),
        size: RwSignal::new((0.0, 0.0)),
        points: RwSignal::new(0),
        phase: RwSignal::new(Phase::Loading),
        latest: RwSignal::new(None),
        fetching: StoredValue::new(false),
        refetch_after: StoredValue::new(false),
        last_fetch_ms: StoredValue::new(0.0),
        sub: StoredValue::new(None),
        frame_pending: StoredValue::new(false),
        resize_gen: StoredValue::new(0),
        visible: StoredValue::new(true),
        dirty: StoredValue::new(false),
    };
    let hover = RwSignal::new(None::<Hover>);

    // Size tracking: a ResizeObserver on the chart body, disconnected with the view.
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
            if !c.alive() {
                return;
            }
            let now = entry.is_intersecting();
            c.visible.set_value(now);
            if now && c.dirty.get_value() {
                c.dirty.set_value(false);
                c.redraw();
            }
        });
        let init = IntersectionObserverInit::new();
        init.set_root_margin("200px 0px");
        if let Ok(io) = IntersectionObserver::new_with_options(cb.as_ref().unchecked_ref(), &init) {
            io.observe(&el);
            watcher.set_value(Some((io, cb)));
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
                // No ResizeObserver: measure once.
                let r = el.get_bounding_client_rect();
                c.on_resize(r.width(), r.height());
            }
        }
    });
    on_cleanup(move || {
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
        if let Some(id) = c.sub.get_value() {
            ws::unsubscribe(id);
        }
    });

    let on_move = move |ev: web_sys::MouseEvent| {
        hover.set(c.hover(f64::from(ev.offset_x())));
    };
    let readout = move || {
        let r = hover.get().map(|h| h.readout).or_else(|| c.latest.get())?;
        let detail = (!r.detail.is_empty())
            .then(|| view! { " " <span class="detail">{r.detail.clone()}</span> });
        let bad =
            (!r.bad.is_empty()).then(|| view! { " · " <span class="bad">{r.bad.clone()}</span> });
        Some(view! {
            {r.x}
            " · "
            <span class:bad=r.value_bad data-testid="chart-value">{r.value}</span>
            {detail}
            {bad}
        })
    };
    let crosshair = move || {
        hover.get().map(|h| {
            let dot = h.y.map(|y| view! { <div class="chart-dot" style=format!("left:{}px;top:{y}px", h.x)></div> });
            view! {
                <div class="chart-crosshair" style=format!("left:{}px", h.x)></div>
                {dot}
            }
        })
    };
    let message = move || match c.phase.get() {
        Phase::Loading => Some(view! { <div class="chart-msg">"loading…"</div> }.into_any()),
        Phase::Failed(e) => Some(view! { <div class="chart-msg error-msg">{e}</div> }.into_any()),
        Phase::Ready if c.points.get() == 0 => {
            Some(view! { <div class="chart-msg">"no points yet"</div> }.into_any())
        }
        Phase::Ready => None,
    };

    view! {
        <div class="chart-card">
            <div class="chart-head">
                <span class="chart-title" title=key.clone()>{key.clone()}</span>
                <span class="chart-readout">{readout}</span>
            </div>
            <div class="chart-body" node_ref=body_ref>
                <canvas
                    node_ref=c.canvas
                    data-testid="chart"
                    data-key=key
                    data-points=move || c.points.get().to_string()
                    on:mousemove=on_move
                    on:mouseleave=move |_| hover.set(None)
                ></canvas>
                {crosshair}
                {message}
            </div>
        </div>
    }
}
