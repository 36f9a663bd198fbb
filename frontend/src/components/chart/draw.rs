//! Drawing a chart on its canvas: scheduling frames within a shared per-frame budget, full
//! frames (built by [`crate::charts::render`], then blitted), live points drawn into the kept
//! pixels, and the axes and non-finite markers.

use super::*;

/// Full chart draws per animation frame stop once they took this long (ms): see
/// [`ChartHandle::on_next_frame`].
pub(super) const FRAME_BUDGET_MS: f64 = 8.0;

thread_local! {
    /// (timestamp of the animation frame, ms the charts drew in it so far).
    static FRAME_SPENT: std::cell::Cell<(f64, f64)> = const { std::cell::Cell::new((-1.0, 0.0)) };
}

impl ChartHandle {
    /// Draws on the next animation frame; `full` forces a whole new frame.
    pub(super) fn redraw(self, full: bool) {
        let Some(schedule) = self.st.try_update_value(|st| {
            st.schedule.full |= full;
            if !st.schedule.visible {
                st.schedule.dirty = true;
                return false;
            }
            !std::mem::replace(&mut st.schedule.frame_pending, true)
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
    pub(super) fn on_next_frame(self) {
        let cb = Closure::once_into_js(move |ts: f64| {
            if !self.alive() {
                return;
            }
            let spent = FRAME_SPENT.with(|f| {
                let (frame, spent) = f.get();
                if frame == ts { spent } else { 0.0 }
            });
            let full = self
                .st
                .with_value(|st| st.schedule.full || st.view.frame.is_none());
            if full && spent >= FRAME_BUDGET_MS {
                self.on_next_frame();
                return;
            }
            let count = self.st.try_update_value(|st| {
                st.schedule.frame_pending = false;
                std::mem::take(&mut st.schedule.points_changed)
            });
            if count == Some(true) {
                self.update_points();
            }
            let t0 = perf_now();
            self.draw_now();
            let took = perf_now() - t0;
            FRAME_SPENT.with(|f| f.set((ts, spent + took)));
        });
        let _ = window().request_animation_frame(cb.unchecked_ref());
    }

    pub(super) fn context(&self) -> Option<(web_sys::HtmlCanvasElement, CanvasRenderingContext2d)> {
        let canvas = self.canvas.get_untracked()?;
        let ctx = browser::context_2d(&canvas)?;
        Some((canvas, ctx))
    }

    pub(super) fn draw_now(self) {
        let full = self
            .st
            .with_value(|st| st.schedule.full || st.view.frame.is_none());
        if full && self.draw_preview() {
            return;
        }
        if !full && self.draw_incremental() {
            return;
        }
        if !full && self.defer_live_frame() {
            return;
        }
        // Live points the kept pixels could not take (grouping, non-causal smoothing): only the
        // pixel columns they change are drawn again when the axes hold.
        self.draw_frame(!full);
    }

    /// Live points need a whole frame: answers whether it waits (drawn by a timer within
    /// [`LIVE_FULL_FRAME_EVERY_MS`] of the last full frame, with every point that came meanwhile).
    fn defer_live_frame(self) -> bool {
        let now = perf_now();
        let Some((wait, first)) = self.st.try_update_value(|st| {
            let wait = LIVE_FULL_FRAME_EVERY_MS - (now - st.schedule.last_full_ms);
            let first = wait > 0.0 && !std::mem::replace(&mut st.schedule.live_deferred, true);
            (wait, first)
        }) else {
            return false;
        };
        if wait <= 0.0 {
            return false;
        }
        if first {
            set_timeout(
                move || {
                    if self.alive() {
                        self.st.update_value(|st| st.schedule.live_deferred = false);
                        self.redraw(false);
                    }
                },
                Duration::from_millis(wait.ceil() as u64),
            );
        }
        true
    }

    /// The x domain to draw: the zoom, or the fitted extent (with head room for live points).
    pub(super) fn x_domain(st: &mut ChartState) -> (f64, f64) {
        if let Some(z) = st.view.zoom_x {
            return z;
        }
        let log = st.data.data_key.2;
        let ext = plot::data_extent(st.data.slots.iter().map(|s| &s.data), log);
        match (st.view.auto_x, ext) {
            (Some((a, b)), Some((lo, hi))) if hi > b || lo < a => {
                // Live points went past the edge: leave 5 % head room so the next ones fit.
                let (na, nb) = (a.min(lo), b.max(hi));
                let room = if hi > b { (nb - na) * 0.05 } else { 0.0 };
                st.view.auto_x = Some((na, nb + room));
            }
            (None, e) => st.view.auto_x = e,
            _ => {}
        }
        st.view.auto_x.unwrap_or((0.0, 1.0))
    }

    /// What a frame drawn now shows (`tz`: the browser's UTC offset, minutes).
    pub(super) fn view_of(st: &mut ChartState, settings: &ChartSettings, tz: i64) -> View {
        let (css_width, css_height) = st.view.size;
        View {
            css_width,
            css_height,
            x_domain: Self::x_domain(st),
            y_window: st.view.zoom_y,
            x_log: settings.x_log,
            y_log: settings.y_log,
            ignore_outliers: settings.ignore_outliers,
            smoothing: settings.smoothing,
            x_format: crate::charts::settings::x_format(settings, tz),
        }
    }

    /// A whole frame; with `strip_ok`, only the pixel columns that changed since the frame
    /// before when its axes hold ([`render::render_strip`]).
    pub(super) fn draw_frame(self, strip_ok: bool) {
        let Some((canvas, ctx)) = self.context() else {
            return;
        };
        let t0 = perf_now();
        self.st.update_value(|st| st.schedule.last_full_ms = t0);
        let settings = self.settings();
        let hidden = self.hidden.get_untracked();
        let highlighted = self.highlighted.get_untracked();
        let runs = self.runs.get_untracked();
        let tz = browser::tz_offset_min(js_sys::Date::now() / 1000.0);
        let dpr = window().device_pixel_ratio().clamp(1.0, 3.0);
        let mut stats = FrameStats::default();
        // When the plot's layout and rasterising (`render`) ran: the part of a frame that
        // `frontend/benches/frame.rs` measures natively.
        let mut plot_span = (0.0, 0.0);
        // `Some(x0)`: a strip from device column x0 was drawn, not a whole frame.
        let drew = self.st.try_update_value(|st| -> Option<Option<usize>> {
            let (w, h) = st.view.size;
            if w < 1.0 || h < 1.0 {
                return None;
            }
            st.view.dpr = dpr;
            st.schedule.full = false;
            let v = Self::view_of(st, &settings, tz);
            let mut slots_used = Vec::new();
            let inputs: Vec<(&str, &SeriesState)> = st
                .data
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
                settings: &settings,
                looks: &looks,
                highlighted: highlighted.as_deref(),
                dpr,
            };
            let strip = match st.view.frame.as_ref().filter(|_| strip_ok) {
                Some(prev) => {
                    render::render_strip(&input, prev, &st.view.groups, &mut st.view.raster)
                }
                None => None,
            };
            let (
                Rendered {
                    frame: f,
                    groups,
                    stats: s,
                },
                strip_x0,
            ) = match strip {
                Some((rendered, x0)) => (rendered, Some(x0)),
                None => {
                    let r0 = perf_now();
                    let rendered =
                        render::render(&input, st.view.frame.take(), &mut st.view.raster);
                    plot_span = (r0, perf_now());
                    (rendered, None)
                }
            };
            stats = s;
            for (k, r) in f.runs.iter().enumerate() {
                if let Some(&si) = slots_used.get(k) {
                    st.data.slots[si].drawn_tail = r.sample_x.len() - r.sources;
                }
            }
            st.view.frame_slots = slots_used;
            st.view.groups = groups;
            st.view.frame = Some(f);
            Some(strip_x0)
        });
        let Some(Some(strip_x0)) = drew else {
            return;
        };
        if let Some(x0) = strip_x0 {
            // The axes and everything outside the plot are as they were: only the strip goes up.
            self.st.update_value(|st| {
                st.schedule.gesture.drew_exact();
                if let Some(f) = st.view.frame.as_ref() {
                    let plot_origin = (f.plot.left, f.plot.top);
                    put_columns(
                        &ctx,
                        &st.view.raster,
                        (x0, st.view.raster.w),
                        plot_origin,
                        dpr,
                    );
                }
            });
            measure(
                "tl:panel:live-append",
                t0,
                perf_now(),
                &self.key.get_value(),
            );
            self.smoothed_last.set(stats.smoothed_last);
            self.bands.set(stats.bands);
            self.strips.update(|n| *n += 1);
            return;
        }
        // Canvas: size, plot pixels, then axes, labels and markers.
        self.st.update_value(|st| {
            let ChartView { frame, raster, .. } = &mut st.view;
            let Some(f) = frame.as_ref() else { return };
            let (cw, ch) = (
                (f.css_width * dpr).round() as u32,
                (f.css_height * dpr).round() as u32,
            );
            browser::size_canvas(&canvas, cw, ch);
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
            let color_of: std::collections::HashMap<&str, &'static str> = runs
                .iter()
                .rev()
                .map(|x| (x.id.as_str(), x.color))
                .collect();
            let colors: Vec<&'static str> = f
                .runs
                .iter()
                .map(|r| color_of.get(r.id.as_str()).copied().unwrap_or("#cf222e"))
                .collect();
            draw_markers(&ctx, f, &colors);
        });
        let t1 = perf_now();
        self.st.update_value(|st| {
            st.schedule.gesture.drew_full(t1 - t0);
        });
        let key = self.key.get_value();
        measure("tl:panel:frame", t0, t1, &key);
        measure("tl:panel:frame:plot", plot_span.0, plot_span.1, &key);
        let first = self.st.try_update_value(|st| {
            let ready = st.data.slots.iter().all(|s| s.sub.is_some()) && !st.data.slots.is_empty();
            if ready && !st.schedule.painted {
                st.schedule.painted = true;
                return st.data.first_request_ms;
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
        self.ywin.set(stats.y_window);
        self.pins_after_frame();
        self.frames.update(|n| *n += 1);
    }

    /// Draws live points appended since the last frame into the kept pixels. Returns false when a
    /// full frame is needed instead (an axis would change, grouping, non-causal smoothing, a
    /// non-finite point, a run without a frame).
    pub(super) fn draw_incremental(self) -> bool {
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
            let ChartView {
                frame,
                frame_slots,
                raster,
                dpr,
                zoom_x,
                ..
            } = &mut st.view;
            let slots = &mut st.data.slots;
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
                        x_of_min: Some(x),
                        x_of_max: Some(x),
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
            self.st.update_value(|st| {
                put_columns(&ctx, &st.view.raster, (dx0, dx1), (left, top), st.view.dpr);
                st.schedule.gesture.drew_exact();
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

    pub(super) fn on_resize(self, w: f64, h: f64) {
        let Some((changed_cols, first)) = self
            .st
            .try_update_value(|st| {
                let old = st.view.size;
                if (old.0 - w).abs() < 0.5 && (old.1 - h).abs() < 0.5 {
                    return None;
                }
                st.view.size = (w, h);
                st.schedule.full = true;
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

    pub(super) fn set_visible(self, v: bool) {
        let was = self.st.try_with_value(|st| st.schedule.visible);
        if v {
            self.forget_out_of_view();
        } else if was == Some(true) {
            self.left_view();
        }
        let (dirty, start) = self
            .st
            .try_update_value(|st| {
                st.schedule.visible = v;
                let start = v && !st.data.started;
                if start {
                    st.data.started = true;
                }
                (v && std::mem::take(&mut st.schedule.dirty), start)
            })
            .unwrap_or((false, false));
        if start {
            self.fetch();
        }
        if dirty || start {
            self.redraw(false);
        }
    }
}

pub(super) const AXIS: &str = "#afb8c1";
pub(super) const LABEL: &str = "#59636e";
pub(super) const FONT: &str = "11px system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif";

pub(super) fn draw_axes(ctx: &CanvasRenderingContext2d, f: &Frame) {
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

pub(super) const MARKER: f64 = 4.0;

/// Uploads the raster's device columns `x0..x1` (clamped to it) to the canvas, the plot's top-left
/// corner at `plot_origin` (CSS pixels): what a live append or a strip changed, not the whole plot.
fn put_columns(
    ctx: &CanvasRenderingContext2d,
    raster: &Raster,
    (x0, x1): (usize, usize),
    plot_origin: (f64, f64),
    dpr: f64,
) {
    let (x0, x1) = (x0.min(raster.w), x1.min(raster.w));
    if x1 <= x0 {
        return;
    }
    let sub = raster.columns(x0, x1);
    if let Ok(img) = ImageData::new_with_u8_clamped_array_and_sh(
        Clamped(&sub),
        (x1 - x0) as u32,
        raster.h as u32,
    ) {
        let _ = ctx.put_image_data(
            &img,
            (plot_origin.0 * dpr).round() + x0 as f64,
            (plot_origin.1 * dpr).round(),
        );
    }
}

/// Non-finite points: a triangle at the top (+Inf) or bottom (NaN, -Inf) edge in the run's colour,
/// outlined in red.
pub(super) fn draw_markers(ctx: &CanvasRenderingContext2d, f: &Frame, colors: &[&str]) {
    use crate::charts::MarkerKind;
    let (top, bot) = (f.plot.top, f.plot.bottom());
    for (r, color) in f.runs.iter().zip(colors) {
        if !r.nonfinite_inside {
            continue;
        }
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
