//! The line chart: one metric of several runs on a canvas drawn by our own rasteriser
//! ([`crate::charts::raster`]), with zoom, pan, smoothing, log scales, outliers, grouping, hover,
//! a legend, and PNG/CSV export.
//!
//! Data: one series query for all runs of the chart, decimated over the x window shown into one
//! column per plot pixel (`x_min`/`x_max`/`width`), refetched (debounced) after a zoom, a pan or a
//! resize; then the `series` WebSocket topic per run from `total_points`, appended live. A zoom
//! holds while points arrive. A live point is drawn into the kept pixel buffer (no redraw of history)
//! when it changes neither axis; otherwise the frame is redrawn.
//!
//! Interaction: drag a box to zoom x (with Ctrl/Alt/⌘ held: x and y); Ctrl/Alt/⌘ + wheel zooms
//! around the pointer; Shift-drag or the middle button pans; a double click resets.
//!
//! DOM contract (tests, benchmarks): the canvas has `data-testid="chart"`, `data-key`,
//! `data-x-min`/`data-x-max` (the x domain drawn), `data-points` (raw points represented),
//! `data-runs` (runs drawn), `data-bands` (group bands drawn), `data-smoothed-last` (the last
//! smoothed value of the first run drawn, empty without smoothing), `data-frames` (full frames
//! drawn). Legend entries are `data-testid="legend-item"` with `data-run`.
//!
//! Timings go to `performance.measure` (docs/frontend.md): `tl:panel:data-request`,
//! `tl:panel:first-paint`, `tl:panel:frame`, `tl:panel:live-append`.

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
use crate::charts::plot::{self, Frame, GroupFrame, View};
use crate::charts::raster::{self, Raster, Style};
use crate::charts::render::{self, FrameInput, FrameStats, Rendered, RunLook};
use crate::charts::settings::{ChartSettings, DataKey};
use crate::charts::{AppendOutcome, SeriesState};
use crate::{browser, ws};

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
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// Full chart draws per animation frame stop once they took this long (ms): see
/// [`Ctx::on_next_frame`].
const FRAME_BUDGET_MS: f64 = 8.0;

thread_local! {
    /// (timestamp of the animation frame, ms the charts drew in it so far).
    static FRAME_SPENT: std::cell::Cell<(f64, f64)> = const { std::cell::Cell::new((-1.0, 0.0)) };
}

/// Wheel zoom per pixel of wheel delta.
const WHEEL_RATE: f64 = 0.0015;

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

#[derive(Debug, Default)]
struct St {
    slots: Vec<Slot>,
    data_key: DataKey,
    /// Bumped whenever the data is reset (axis or runs changed): older answers are dropped.
    generation: u64,
    /// Bumped only when all data is dropped (an axis change): live messages of subscriptions
    /// from before are ignored. Adding or removing runs keeps the other runs' subscriptions.
    epoch: u64,
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
    fetching: bool,
    refetch_after: bool,
    last_fetch_ms: f64,
    debounce_gen: u64,
    started: bool,
    first_request_ms: Option<f64>,
    painted: bool,
    full: bool,
    frame_pending: bool,
    visible: bool,
    dirty: bool,
}

/// Pointer gesture in progress.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Drag {
    /// Box zoom from this CSS point; `xy` when y is zoomed too.
    Box {
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        xy: bool,
    },
    /// Pan: the domains when it began and the pointer's start.
    Pan {
        px: f64,
        py: f64,
        x: (f64, f64),
        y: Option<(f64, f64)>,
    },
}

#[derive(Clone, Debug, PartialEq)]
struct TipRow {
    name: String,
    color: &'static str,
    value: String,
    bad: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct Tip {
    x_px: f64,
    y_px: f64,
    title: String,
    rows: Vec<TipRow>,
    more: usize,
    dots: Vec<(f64, &'static str)>,
}

#[derive(Clone, Copy)]
struct Ctx {
    project: StoredValue<String>,
    key: StoredValue<String>,
    st: StoredValue<St>,
    runs: Signal<Vec<RunRef>>,
    settings: Signal<ChartSettings>,
    hidden: RwSignal<BTreeSet<String>>,
    highlighted: RwSignal<Option<String>>,
    canvas: NodeRef<html::Canvas>,
    phase: RwSignal<Phase>,
    xwin: RwSignal<(f64, f64)>,
    zoomed: RwSignal<bool>,
    points: RwSignal<u64>,
    drawn_runs: RwSignal<usize>,
    bands: RwSignal<usize>,
    smoothed_last: RwSignal<String>,
    frames: RwSignal<u64>,
}

fn perf_now() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// `performance.measure(name, {start, end, detail})`; ignored where unsupported.
fn measure(name: &str, start: f64, end: f64, detail: &str) {
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

impl Ctx {
    fn alive(&self) -> bool {
        !self.st.is_disposed()
    }

    fn settings(&self) -> ChartSettings {
        self.settings.get_untracked()
    }

    /// Makes the slots match the runs and the data settings; refetches when they changed.
    fn sync_runs(self, runs: &[RunRef], data_key: DataKey) {
        let mut unsub = Vec::new();
        let changed = self.st.try_update_value(|st| {
            let reset = st.data_key != data_key;
            let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
            let same = !reset
                && st.slots.len() == ids.len()
                && st.slots.iter().zip(&ids).all(|(s, id)| s.id == *id);
            if same {
                return false;
            }
            let mut old: Vec<Slot> = std::mem::take(&mut st.slots);
            for r in runs {
                let slot = match old.iter().position(|s| s.id == r.id) {
                    Some(i) if !reset => old.swap_remove(i),
                    _ => Slot {
                        id: r.id.clone(),
                        created_at: r.created_at,
                        ..Default::default()
                    },
                };
                st.slots.push(slot);
            }
            // Subscriptions of dropped slots (and of all, on an axis change) end.
            unsub.extend(old.into_iter().filter_map(|s| s.sub));
            if reset {
                for s in &mut st.slots {
                    unsub.extend(s.sub.take());
                    s.data = SeriesState::default();
                    s.drawn_tail = 0;
                }
                st.data_key = data_key.clone();
                st.epoch += 1;
                st.zoom_x = None;
                st.zoom_y = None;
                st.auto_x = None;
            }
            st.generation += 1;
            st.full = true;
            true
        });
        for id in unsub {
            ws::unsubscribe(id);
        }
        if changed == Some(true) {
            self.fetch();
            self.redraw(true);
        }
    }

    fn fetch(self) {
        if !self.alive() {
            return;
        }
        let Some(go) = self.st.try_update_value(|st| {
            if !st.started || st.size.0 < 1.0 {
                return None;
            }
            if st.fetching {
                st.refetch_after = true;
                return None;
            }
            if st.slots.is_empty() {
                return None;
            }
            st.fetching = true;
            st.last_fetch_ms = js_sys::Date::now();
            let ids: Vec<String> = st.slots.iter().map(|s| s.id.clone()).collect();
            Some((ids, st.zoom_x, plot::plot_width(st.size.0), st.generation))
        }) else {
            return;
        };
        let Some((ids, window, width, generation)) = go else {
            return;
        };
        if self.phase.get_untracked() != Phase::Ready {
            self.phase.set(Phase::Loading);
        }
        let settings = self.settings();
        let (project, key) = (self.project.get_value(), self.key.get_value());
        let t0 = perf_now();
        self.st.update_value(|st| {
            st.first_request_ms.get_or_insert(t0);
        });
        spawn_local(async move {
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let mut url = api::series_window_url(
                &project,
                &refs,
                &key,
                settings.x,
                settings.x_key.as_deref(),
                window,
                width,
            );
            if settings.x_log {
                // Columns equal in log10(x): exact per pixel on the log axis too.
                url.push_str("&x_log=true");
            }
            let res = api::get_json::<SeriesResponse>(&url).await;
            if !self.alive() {
                return;
            }
            measure("tl:panel:data-request", t0, perf_now(), &key);
            let again = self
                .st
                .try_update_value(|st| {
                    st.fetching = false;
                    std::mem::take(&mut st.refetch_after)
                })
                .unwrap_or(false);
            match res {
                Ok(resp) => self.apply(resp, generation),
                Err(e) => {
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
            if again {
                self.fetch();
            }
        });
    }

    fn apply(self, resp: SeriesResponse, generation: u64) {
        let mut subscribe = Vec::new();
        let ok = self.st.try_update_value(|st| {
            if st.generation != generation {
                // The runs or the axis changed meanwhile: a newer fetch is on its way.
                return false;
            }
            for rs in resp.runs {
                let Some((i, slot)) = st
                    .slots
                    .iter_mut()
                    .enumerate()
                    .find(|(_, s)| s.id == rs.run)
                else {
                    continue;
                };
                if slot.sub.is_none() {
                    slot.data = SeriesState::from_history(resp.window, resp.width, rs);
                    subscribe.push(i);
                } else {
                    slot.data.replace_history(resp.window, resp.width, rs);
                }
                slot.data.log = resp.x_log;
                slot.drawn_tail = 0;
            }
            if st.zoom_x.is_none() {
                st.auto_x = plot::data_extent(st.slots.iter().map(|s| &s.data), resp.x_log);
            }
            st.full = true;
            true
        });
        if ok != Some(true) {
            return;
        }
        self.phase.set(Phase::Ready);
        self.update_points();
        for i in subscribe {
            self.subscribe(i);
        }
        self.redraw(true);
    }

    fn subscribe(self, i: usize) {
        let Some((run, from)) = self
            .st
            .with_value(|st| st.slots.get(i).map(|s| (s.id.clone(), s.data.held())))
        else {
            return;
        };
        let topic = Topic::Series {
            project: self.project.get_value(),
            run: run.clone(),
            key: self.key.get_value(),
            from,
        };
        let (generation, epoch) = self.st.with_value(|st| (st.generation, st.epoch));
        let id = ws::subscribe(topic, move |msg| self.on_msg(&run, epoch, msg));
        // Record the subscription on the slot of that run (slots may have moved).
        let stored = self.st.try_update_value(|st| {
            if st.generation != generation {
                return false;
            }
            match st.slots.get_mut(i) {
                Some(s) if s.sub.is_none() => {
                    s.sub = Some(id);
                    true
                }
                _ => false,
            }
        });
        if stored != Some(true) {
            ws::unsubscribe(id);
        }
    }

    fn on_msg(self, run: &str, epoch: u64, msg: ServerMsg) {
        if !self.alive() {
            return;
        }
        let ServerMsg::Points {
            start,
            step,
            wall_time,
            value,
            ..
        } = msg
        else {
            if let ServerMsg::Error { message, .. } = msg {
                leptos::logging::warn!("trackline: series {}: {message}", self.key.get_value());
            }
            return;
        };
        let settings = self.settings();
        if settings.x_key.is_some() {
            // x comes from another metric: the daemon joins; refetch now and then.
            let due = self.st.with_value(|st| {
                !st.fetching && js_sys::Date::now() - st.last_fetch_ms > COMPACT_EVERY_MS
            });
            if due {
                self.fetch();
            }
            return;
        }
        let mut refetch = false;
        let appended = self.st.try_update_value(|st| {
            if st.epoch != epoch {
                return false;
            }
            let Some(slot) = st.slots.iter_mut().find(|s| s.id == run) else {
                return false;
            };
            let xs: Vec<f64> = match settings.x {
                XAxis::Step => step,
                XAxis::WallTime => wall_time,
                XAxis::RelativeTime => wall_time.iter().map(|w| w - slot.created_at).collect(),
            };
            match slot.data.append(start, &xs, &value) {
                AppendOutcome::Appended(n) if n > 0 => {
                    if slot.data.wants_compaction()
                        && js_sys::Date::now() - st.last_fetch_ms > COMPACT_EVERY_MS
                    {
                        refetch = true;
                    }
                    true
                }
                AppendOutcome::Gap => {
                    refetch = true;
                    false
                }
                _ => false,
            }
        });
        if appended == Some(true) {
            self.update_points();
            self.redraw(false);
        }
        if refetch {
            self.fetch();
        }
    }

    fn update_points(self) {
        let n = self
            .st
            .with_value(|st| st.slots.iter().map(|s| s.data.points()).sum::<u64>());
        self.points.set(n);
    }

    /// Draws on the next animation frame; `full` forces a whole new frame.
    fn redraw(self, full: bool) {
        let Some(schedule) = self.st.try_update_value(|st| {
            st.full |= full;
            if !st.visible {
                st.dirty = true;
                return false;
            }
            !std::mem::replace(&mut st.frame_pending, true)
        }) else {
            return;
        };
        if schedule {
            self.on_next_frame();
        }
    }

    /// Draws at the next animation frame, or a later one when the charts of the page already
    /// spent [`FRAME_BUDGET_MS`] of this one: panels scrolled into view together then draw over a
    /// few frames instead of stalling one (the first draw of a frame always goes ahead).
    fn on_next_frame(self) {
        let cb = Closure::once_into_js(move |ts: f64| {
            if !self.alive() {
                return;
            }
            let spent = FRAME_SPENT.with(|f| {
                let (frame, spent) = f.get();
                if frame == ts { spent } else { 0.0 }
            });
            let full = self.st.with_value(|st| st.full || st.frame.is_none());
            if full && spent >= FRAME_BUDGET_MS {
                self.on_next_frame();
                return;
            }
            self.st.update_value(|st| st.frame_pending = false);
            let t0 = perf_now();
            self.draw_now();
            let took = perf_now() - t0;
            FRAME_SPENT.with(|f| f.set((ts, spent + took)));
        });
        let _ = window().request_animation_frame(cb.unchecked_ref());
    }

    fn context(&self) -> Option<(web_sys::HtmlCanvasElement, CanvasRenderingContext2d)> {
        let canvas = self.canvas.get_untracked()?;
        let ctx = canvas
            .get_context("2d")
            .ok()
            .flatten()?
            .dyn_into::<CanvasRenderingContext2d>()
            .ok()?;
        Some((canvas, ctx))
    }

    fn draw_now(self) {
        let full = self.st.with_value(|st| st.full || st.frame.is_none());
        if !full && self.draw_incremental() {
            return;
        }
        self.draw_full();
    }

    /// The x domain to draw: the zoom, or the fitted extent (with head room for live points).
    fn x_domain(st: &mut St) -> (f64, f64) {
        if let Some(z) = st.zoom_x {
            return z;
        }
        let log = st.data_key.2;
        let ext = plot::data_extent(st.slots.iter().map(|s| &s.data), log);
        match (st.auto_x, ext) {
            (Some((a, b)), Some((lo, hi))) if hi > b || lo < a => {
                // Live points went past the edge: leave 5 % head room so the next ones fit.
                let (na, nb) = (a.min(lo), b.max(hi));
                let room = if hi > b { (nb - na) * 0.05 } else { 0.0 };
                st.auto_x = Some((na, nb + room));
            }
            (None, e) => st.auto_x = e,
            _ => {}
        }
        st.auto_x.unwrap_or((0.0, 1.0))
    }

    fn draw_full(self) {
        let Some((canvas, ctx)) = self.context() else {
            return;
        };
        let t0 = perf_now();
        let settings = self.settings();
        let hidden = self.hidden.get_untracked();
        let highlighted = self.highlighted.get_untracked();
        let runs = self.runs.get_untracked();
        let tz = browser::tz_offset_min(js_sys::Date::now() / 1000.0);
        let dpr = window().device_pixel_ratio().clamp(1.0, 3.0);
        let mut stats = FrameStats::default();
        let drew = self.st.try_update_value(|st| {
            let (w, h) = st.size;
            if w < 1.0 || h < 1.0 {
                return false;
            }
            st.dpr = dpr;
            st.full = false;
            let x_domain = Self::x_domain(st);
            let v = View {
                css_width: w,
                css_height: h,
                x_domain,
                y_window: st.zoom_y,
                x_log: settings.x_log,
                y_log: settings.y_log,
                ignore_outliers: settings.ignore_outliers,
                smoothing: settings.smoothing,
                x_format: settings.x_format(tz),
            };
            let mut slots_used = Vec::new();
            let inputs: Vec<(&str, &SeriesState)> = st
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| !hidden.contains(&s.id))
                .map(|(i, s)| {
                    slots_used.push(i);
                    (s.id.as_str(), &s.data)
                })
                .collect();
            let groups_of: Vec<Option<String>> = runs
                .iter()
                .map(|r| {
                    settings
                        .group_by
                        .as_ref()
                        .map(|gk| crate::charts::settings::group_value(&r.info, gk))
                })
                .collect();
            let looks: Vec<RunLook> = runs
                .iter()
                .zip(&groups_of)
                .map(|(r, g)| RunLook {
                    id: &r.id,
                    color: raster::parse_hex(r.color),
                    group: g.as_deref(),
                })
                .collect();
            let input = FrameInput {
                series: &inputs,
                view: &v,
                previous: st.frame.as_ref(),
                settings: &settings,
                looks: &looks,
                highlighted: highlighted.as_deref(),
                dpr,
            };
            let Rendered {
                frame: f,
                groups,
                stats: s,
            } = render::render(&input, &mut st.raster);
            stats = s;
            for (k, r) in f.runs.iter().enumerate() {
                if let Some(&si) = slots_used.get(k) {
                    st.slots[si].drawn_tail = r.sample_x.len() - r.sources;
                }
            }
            st.frame_slots = slots_used;
            st.groups = groups;
            st.frame = Some(f);
            true
        });
        if drew != Some(true) {
            return;
        }
        // Canvas: size, plot pixels, then axes, labels and markers.
        self.st.update_value(|st| {
            let St { frame, raster, .. } = st;
            let Some(f) = frame.as_ref() else { return };
            let (cw, ch) = (
                (f.css_width * dpr).round() as u32,
                (f.css_height * dpr).round() as u32,
            );
            if canvas.width() != cw {
                canvas.set_width(cw);
            }
            if canvas.height() != ch {
                canvas.set_height(ch);
            }
            let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
            ctx.clear_rect(0.0, 0.0, f64::from(cw), f64::from(ch));
            let (rw, rh) = (raster.w as u32, raster.h as u32);
            if let Ok(img) =
                ImageData::new_with_u8_clamped_array_and_sh(Clamped(raster.rgba()), rw, rh)
            {
                let _ = ctx.put_image_data(
                    &img,
                    (f.plot.left * dpr).round(),
                    (f.plot.top * dpr).round(),
                );
            }
            let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
            draw_axes(&ctx, f);
            let colors: Vec<&'static str> = f
                .runs
                .iter()
                .map(|r| {
                    runs.iter()
                        .find(|x| x.id == r.id)
                        .map_or("#cf222e", |x| x.color)
                })
                .collect();
            draw_markers(&ctx, f, &colors);
        });
        let t1 = perf_now();
        let key = self.key.get_value();
        measure("tl:panel:frame", t0, t1, &key);
        let first = self.st.try_update_value(|st| {
            let ready = st.slots.iter().all(|s| s.sub.is_some()) && !st.slots.is_empty();
            if ready && !st.painted {
                st.painted = true;
                return st.first_request_ms;
            }
            None
        });
        if let Some(Some(t)) = first {
            measure("tl:panel:first-paint", t, t1, &key);
        }
        self.drawn_runs.set(stats.runs);
        self.bands.set(stats.bands);
        self.smoothed_last.set(stats.smoothed_last);
        self.xwin.set(stats.x_window);
        self.frames.update(|n| *n += 1);
    }

    /// Draws live points appended since the last frame into the kept pixels. Returns false when a
    /// full frame is needed instead (an axis would change, grouping, non-causal smoothing, a
    /// non-finite point, a run without a frame).
    fn draw_incremental(self) -> bool {
        let Some((_, ctx)) = self.context() else {
            return false;
        };
        let t0 = perf_now();
        let settings = self.settings();
        if settings.group_by.is_some() || !settings.smoothing.is_causal_and_stable() {
            return false;
        }
        let highlighted = self.highlighted.get_untracked();
        let runs = self.runs.get_untracked();
        let done = self.st.try_update_value(|st| {
            let St {
                frame,
                slots,
                frame_slots,
                raster,
                dpr,
                zoom_x,
                ..
            } = st;
            let f = frame.as_mut()?;
            let dpr = *dpr;
            let zoomed = zoom_x.is_some();
            // Check first: every new point must fit the axes as they are (points outside a zoom
            // window are held but not drawn).
            for (k, &si) in frame_slots.iter().enumerate() {
                let s = &slots[si];
                let r = &f.runs[k];
                let new = s.data.tail_len().saturating_sub(s.drawn_tail);
                if new == 0 {
                    continue;
                }
                if r.sample_x.len() - r.sources != s.drawn_tail {
                    return None;
                }
                for j in s.drawn_tail..s.data.tail_len() {
                    let (x, y) = (s.data.tail_x[j], s.data.tail_y[j]);
                    if !f.x.drawable(x) {
                        return None;
                    }
                    if x < f.x.lo || x > f.x.hi {
                        if zoomed {
                            continue;
                        }
                        return None;
                    }
                    if !(f.y.drawable(y) && y >= f.y.lo && y <= f.y.hi) {
                        return None;
                    }
                }
            }
            let (mut dx0, mut dx1) = (usize::MAX, 0usize);
            let smoothing = settings.smoothing;
            for (k, &si) in frame_slots.iter().enumerate() {
                let s = &mut slots[si];
                let new = s.data.tail_len().saturating_sub(s.drawn_tail);
                if new == 0 {
                    continue;
                }
                let color = runs
                    .iter()
                    .find(|x| x.id == s.id)
                    .map_or([0, 0, 0], |x| raster::parse_hex(x.color));
                let dim = highlighted.as_ref().is_some_and(|h| *h != s.id);
                let style = Style::new(color, smoothing.is_active(), dim, dpr);
                let first_sample = f.runs[k].sample_x.len();
                let mut first_col = f.runs[k].cols.len();
                for j in s.drawn_tail..s.data.tail_len() {
                    let (x, y) = (s.data.tail_x[j], s.data.tail_y[j]);
                    if x < f.x.lo || x > f.x.hi {
                        continue;
                    }
                    let Some(i) = f.col_of_x(x) else { continue };
                    let col = crate::charts::PxColumn {
                        index: i.max(0) as u32,
                        px: f.px_of_col(i),
                        x_first: x,
                        x_last: x,
                        first: y,
                        last: y,
                        min: Some(y),
                        max: Some(y),
                        count: 1,
                        nonfinite: 0,
                        has_nan: false,
                        has_pos_inf: false,
                        has_neg_inf: false,
                    };
                    let r = &mut f.runs[k];
                    match r.idx.last() {
                        Some(&li) if li == i => {
                            if let Some(c) = r.cols.last_mut() {
                                c.merge(&col);
                            }
                            first_col = first_col.min(r.cols.len() - 1);
                        }
                        _ => {
                            r.cols.push(col);
                            r.idx.push(i);
                        }
                    }
                    r.sample_x.push(x);
                    r.sample_y.push(y);
                    if let Smoothing::Ema(w) = smoothing {
                        let v = r.ema.push(y, w);
                        r.smoothed.push(v);
                    }
                    let px = ((f.px_of_col(i) - f.plot.left) * dpr) as usize;
                    dx0 = dx0.min(px.saturating_sub(2 + dpr as usize));
                    dx1 = dx1.max(px + 2 + dpr as usize);
                }
                let r = &f.runs[k];
                if first_col < r.cols.len() {
                    // Widen the dirty range to the join from the previous column.
                    if first_col > 0 {
                        let p = ((r.cols[first_col - 1].px - f.plot.left) * dpr) as usize;
                        dx0 = dx0.min(p.saturating_sub(1));
                    }
                    raster::draw_raw(raster, f, r, first_col, &style);
                }
                if smoothing.is_active() && first_sample < r.smoothed.len() {
                    if first_sample > 0 {
                        let p = f.x.to_px(r.sample_x[first_sample - 1]);
                        dx0 = dx0.min((((p - f.plot.left) * dpr).max(0.0)) as usize);
                    }
                    raster::draw_smoothed(raster, f, r, first_sample, &style);
                }
                s.drawn_tail = s.data.tail_len();
            }
            Some((dx0, dx1, f.plot.left, f.plot.top))
        });
        let Some(Some((dx0, dx1, left, top))) = done else {
            return false;
        };
        if dx0 < dx1 {
            self.st.with_value(|st| {
                let (x0, x1) = (dx0.min(st.raster.w), dx1.min(st.raster.w));
                if x1 <= x0 {
                    return;
                }
                let sub = st.raster.columns(x0, x1);
                let dpr = st.dpr;
                if let Ok(img) = ImageData::new_with_u8_clamped_array_and_sh(
                    Clamped(&sub),
                    (x1 - x0) as u32,
                    st.raster.h as u32,
                ) {
                    let _ = ctx.put_image_data(
                        &img,
                        (left * dpr).round() + x0 as f64,
                        (top * dpr).round(),
                    );
                }
            });
        }
        measure(
            "tl:panel:live-append",
            t0,
            perf_now(),
            &self.key.get_value(),
        );
        true
    }

    fn on_resize(self, w: f64, h: f64) {
        let Some((changed_cols, first)) = self
            .st
            .try_update_value(|st| {
                let old = st.size;
                if (old.0 - w).abs() < 0.5 && (old.1 - h).abs() < 0.5 {
                    return None;
                }
                st.size = (w, h);
                st.full = true;
                Some((plot::plot_width(old.0) != plot::plot_width(w), old.0 < 1.0))
            })
            .flatten()
        else {
            return;
        };
        if first {
            self.fetch();
        } else if changed_cols {
            self.debounced_fetch();
        }
        self.redraw(true);
    }

    fn debounced_fetch(self) {
        let generation = self.st.try_update_value(|st| {
            st.debounce_gen += 1;
            st.debounce_gen
        });
        let Some(generation) = generation else { return };
        set_timeout(
            move || {
                if self.alive() && self.st.with_value(|st| st.debounce_gen) == generation {
                    self.fetch();
                }
            },
            REFETCH_DEBOUNCE,
        );
    }

    fn set_visible(self, v: bool) {
        let (dirty, start) = self
            .st
            .try_update_value(|st| {
                st.visible = v;
                let start = v && !st.started;
                if start {
                    st.started = true;
                }
                (v && std::mem::take(&mut st.dirty), start)
            })
            .unwrap_or((false, false));
        if start {
            self.fetch();
        }
        if dirty || start {
            self.redraw(false);
        }
    }

    /// Sets the zoom (None resets) and refetches the window, debounced.
    fn zoom(self, x: Option<(f64, f64)>, y: Option<(f64, f64)>) {
        let reset = x.is_none();
        self.st.update_value(|st| {
            st.zoom_x = x;
            st.zoom_y = y;
            if reset {
                st.auto_x = None;
            }
            st.full = true;
        });
        self.zoomed.set(!reset || y.is_some());
        self.redraw(true);
        self.debounced_fetch();
    }

    fn frame_domains(self) -> Option<((f64, f64), (f64, f64))> {
        self.st.with_value(|st| {
            st.frame
                .as_ref()
                .map(|f| ((f.x.lo, f.x.hi), (f.y.lo, f.y.hi)))
        })
    }

    fn with_frame<T>(self, f: impl FnOnce(&Frame) -> T) -> Option<T> {
        self.st.with_value(|st| st.frame.as_ref().map(f))
    }

    fn wheel(self, px: f64, delta: f64) {
        let Some(Some((lo, hi))) = self.with_frame(|f| {
            let c = f.x.from_px(px.clamp(f.plot.left, f.plot.right()));
            let k = (delta * WHEEL_RATE).exp();
            if f.x.log {
                let (lc, la, lb) = (c.log10(), f.x.lo.log10(), f.x.hi.log10());
                Some((
                    10f64.powf(lc - (lc - la) * k),
                    10f64.powf(lc + (lb - lc) * k),
                ))
            } else {
                Some((c - (c - f.x.lo) * k, c + (f.x.hi - c) * k))
            }
        }) else {
            return;
        };
        if hi - lo > 1e-9 * (hi.abs() + lo.abs()).max(1e-300) {
            let y = self.st.with_value(|st| st.zoom_y);
            self.zoom(Some((lo, hi)), y);
        }
    }

    fn tooltip(self, px: f64, py: f64) -> Option<Tip> {
        let runs = self.runs.get_untracked();
        let fmt_settings = self.settings();
        self.st.with_value(|st| {
            let f = st.frame.as_ref()?;
            if px < f.plot.left || px > f.plot.right() || py < f.plot.top || py > f.plot.bottom() {
                return None;
            }
            let col = f.col_of_px(px).clamp(0, f.ncols - 1);
            let x_px = f.px_of_col(col);
            let x_val = f.x.from_px(x_px);
            let title = format!(
                "{} {}",
                fmt_settings.x_name(),
                plot::format_x(x_val, f.x_format)
            );
            let find = |id: &str| runs.iter().find(|r| r.id == id);
            if !st.groups.is_empty() {
                let mut rows: Vec<(f64, TipRow)> = Vec::new();
                for g in &st.groups {
                    let Ok(k) = g.idx.binary_search(&col) else {
                        continue;
                    };
                    let v = if g.smoothed.is_empty() {
                        g.center[k]
                    } else {
                        g.smoothed[k]
                    };
                    rows.push((
                        v,
                        TipRow {
                            name: format!("{} ({} runs)", g.name, g.members.len()),
                            color: crate::selection::run_color(&g.name),
                            value: format!(
                                "{} [{} … {}]",
                                display(v),
                                display(g.lo[k]),
                                display(g.hi[k])
                            ),
                            bad: false,
                        },
                    ));
                }
                rows.sort_by(|a, b| b.0.total_cmp(&a.0));
                return Some(Tip {
                    x_px,
                    y_px: py,
                    title,
                    rows: rows.into_iter().map(|r| r.1).collect(),
                    more: 0,
                    dots: Vec::new(),
                });
            }
            let hov = plot::hover(f, px, 40);
            // The x of the data under the pointer, rather than the pixel's.
            let title = match hov.first() {
                Some(h) => format!(
                    "{} {}",
                    fmt_settings.x_name(),
                    plot::format_x(h.x, f.x_format)
                ),
                None => title,
            };
            const MAX_ROWS: usize = 30;
            let mut rows = Vec::new();
            let mut dots = Vec::new();
            for h in &hov {
                let r = &f.runs[h.run];
                let Some(info) = find(&r.id) else { continue };
                if let Some(y) = h.y_px {
                    dots.push((y, info.color));
                }
                if rows.len() < MAX_ROWS {
                    let value = match h.smoothed {
                        Some(s) => format!("{} (raw {})", display(s), display(h.value)),
                        None => display(h.value),
                    };
                    rows.push(TipRow {
                        name: info.name.clone(),
                        color: info.color,
                        value,
                        bad: !h.value.is_finite(),
                    });
                }
            }
            Some(Tip {
                x_px,
                y_px: py,
                title,
                more: hov.len().saturating_sub(rows.len()),
                rows,
                dots,
            })
        })
    }

    fn export_png(self) {
        let Some(canvas) = self.canvas.get_untracked() else {
            return;
        };
        if let Ok(url) = canvas.to_data_url() {
            download(&url, &format!("{}.png", file_stem(&self.key.get_value())));
        }
    }

    fn export_csv(self) {
        let settings = self.settings();
        let text = self.st.with_value(|st| {
            let refs: Vec<(&str, &SeriesState)> =
                st.slots.iter().map(|s| (s.id.as_str(), &s.data)).collect();
            plot::csv(&settings.x_name(), &refs)
        });
        let parts = js_sys::Array::of1(&JsValue::from_str(&text));
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type("text/csv");
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
            return;
        };
        if let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) {
            download(&url, &format!("{}.csv", file_stem(&self.key.get_value())));
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    }
}

/// A file name from a metric key (`train/loss` → `train_loss`).
fn file_stem(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn download(url: &str, name: &str) {
    let doc = document();
    if let Ok(a) = doc.create_element("a")
        && let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>()
    {
        a.set_href(url);
        a.set_download(name);
        if let Some(body) = doc.body() {
            let _ = body.append_child(&a);
            a.click();
            let _ = body.remove_child(&a);
        }
    }
}

const AXIS: &str = "#afb8c1";
const LABEL: &str = "#59636e";
const FONT: &str = "11px system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif";

fn draw_axes(ctx: &CanvasRenderingContext2d, f: &Frame) {
    let p = f.plot;
    ctx.begin_path();
    ctx.move_to(p.left - 0.5, p.top);
    ctx.line_to(p.left - 0.5, p.bottom() + 0.5);
    ctx.line_to(p.right(), p.bottom() + 0.5);
    ctx.set_line_width(1.0);
    ctx.set_stroke_style_str(AXIS);
    ctx.stroke();
    ctx.set_font(FONT);
    ctx.set_fill_style_str(LABEL);
    ctx.set_text_align("right");
    ctx.set_text_baseline("middle");
    for t in &f.y_ticks {
        if t.pos >= p.top - 1.0 && t.pos <= p.bottom() + 1.0 {
            let _ = ctx.fill_text(&t.label, p.left - 6.0, t.pos);
        }
    }
    ctx.set_text_align("center");
    ctx.set_text_baseline("top");
    let mut last_right = f64::NEG_INFINITY;
    for t in &f.x_ticks {
        // Skip labels that would overlap the previous one.
        let w = ctx.measure_text(&t.label).map_or(40.0, |m| m.width());
        if t.pos - w / 2.0 < last_right + 6.0 {
            continue;
        }
        last_right = t.pos + w / 2.0;
        let _ = ctx.fill_text(&t.label, t.pos, p.bottom() + 5.0);
    }
}

const MARKER: f64 = 4.0;

/// Non-finite points: a triangle at the top (+Inf) or bottom (NaN, -Inf) edge in the run's colour,
/// outlined in red.
fn draw_markers(ctx: &CanvasRenderingContext2d, f: &Frame, colors: &[&str]) {
    use crate::charts::MarkerKind;
    let (top, bot) = (f.plot.top, f.plot.bottom());
    for (r, color) in f.runs.iter().zip(colors) {
        let mut any = false;
        ctx.begin_path();
        for (c, &i) in r.cols.iter().zip(&r.idx) {
            if c.nonfinite == 0 || i < 0 || i >= f.ncols {
                continue;
            }
            let x = c.px;
            let mut kinds = Vec::new();
            if c.has_pos_inf {
                kinds.push(MarkerKind::PosInf);
            }
            if c.has_neg_inf {
                kinds.push(MarkerKind::NegInf);
            }
            if c.has_nan || c.unknown_nonfinite() > 0 {
                kinds.push(MarkerKind::NaN);
            }
            for k in kinds {
                any = true;
                match k {
                    MarkerKind::PosInf => {
                        ctx.move_to(x, top);
                        ctx.line_to(x + MARKER, top + MARKER * 1.6);
                        ctx.line_to(x - MARKER, top + MARKER * 1.6);
                    }
                    MarkerKind::NegInf => {
                        ctx.move_to(x, bot);
                        ctx.line_to(x + MARKER, bot - MARKER * 1.6);
                        ctx.line_to(x - MARKER, bot - MARKER * 1.6);
                    }
                    MarkerKind::NaN => {
                        ctx.move_to(x, bot - MARKER * 1.6);
                        ctx.line_to(x + MARKER, bot);
                        ctx.line_to(x - MARKER, bot);
                    }
                }
                ctx.close_path();
            }
        }
        if any {
            ctx.set_fill_style_str(color);
            ctx.fill();
            ctx.set_stroke_style_str("#cf222e");
            ctx.set_line_width(1.0);
            ctx.stroke();
        }
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
    let c = Ctx {
        project: StoredValue::new(project),
        key: StoredValue::new(key.clone()),
        st: StoredValue::new(St {
            dpr: 1.0,
            ..Default::default()
        }),
        runs,
        settings,
        hidden,
        highlighted,
        canvas: NodeRef::new(),
        phase: RwSignal::new(Phase::Idle),
        xwin: RwSignal::new((0.0, 0.0)),
        zoomed: RwSignal::new(false),
        points: RwSignal::new(0),
        drawn_runs: RwSignal::new(0),
        bands: RwSignal::new(0),
        smoothed_last: RwSignal::new(String::new()),
        frames: RwSignal::new(0),
    };
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
            c.st.try_with_value(|st| st.slots.iter().filter_map(|s| s.sub).collect())
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
        let zoomed_y = c.st.with_value(|st| st.zoom_y);
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
                    c.st.update_value(|st| {
                        st.zoom_x = Some(nx);
                        st.zoom_y = ny;
                        st.full = true;
                    });
                    c.zoomed.set(true);
                    c.redraw(true);
                }
            }
            None => tip.set(c.tooltip(x, y)),
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
            Drag::Box { x0, y0, x1, y1, xy } => {
                if (x1 - x0).abs() < 4.0 && !(xy && (y1 - y0).abs() >= 4.0) {
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
                        c.st.with_value(|st| st.zoom_y)
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
        c.wheel(f64::from(ev.offset_x()), ev.delta_y() * unit);
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
            let w = c.st.with_value(|st| st.size.0);
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
                    data-points=move || c.points.get().to_string()
                    data-runs=move || c.drawn_runs.get().to_string()
                    data-bands=move || c.bands.get().to_string()
                    data-smoothed-last=move || c.smoothed_last.get()
                    data-frames=move || c.frames.get().to_string()
                    data-zoomed=move || c.zoomed.get().to_string()
                    on:pointerdown=on_down
                    on:pointermove=on_move
                    on:pointerup=on_up
                    on:pointercancel=move |_| drag.set(None)
                    on:pointerleave=move |_| tip.set(None)
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
                {message}
            </div>
            <div class="lc-legend" data-testid="legend">{legend}</div>
        </div>
    }
}
