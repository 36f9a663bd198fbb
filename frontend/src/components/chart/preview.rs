//! Previews while a heavy panel is zoomed or panned: when the panel's last full frames took longer
//! than [`PREVIEW_ABOVE_MS`] (a thousand runs), each wheel or pan step shows the last exact plot
//! image moved and stretched to the new axes ([`crate::charts::preview`]), at the cost of one image
//! copy, and the exact frame is drawn once the input has rested [`REST_MS`]. Lighter panels draw
//! every step exactly, as before.
//!
//! The threshold can be set per browser in local storage (`tl.chart.preview-above-ms`, in ms;
//! `0` previews every gesture, a large value none).

use super::*;
use crate::charts::preview;

/// Full frames slower than this (ms, two animation frames) make a panel preview its gestures.
pub(super) const PREVIEW_ABOVE_MS: f64 = 33.0;
/// The last full frames judged: all must be slow. One slow frame (the first after a smoothing
/// change, or a live round that widened the axes) does not turn a light panel's gestures into
/// previews; a thousand runs' frames are all slow.
const FRAMES_JUDGED: usize = 3;
/// The exact frame follows the last wheel or pan step by this long (ms).
pub(super) const REST_MS: f64 = 100.0;
/// Local-storage key overriding [`PREVIEW_ABOVE_MS`].
const PREVIEW_ABOVE_KEY: &str = "tl.chart.preview-above-ms";

/// A chart's gesture state for previews.
#[derive(Debug, Default)]
pub(super) struct Gesture {
    /// When the last wheel or pan step came (`performance.now()`; 0: never).
    step_ms: f64,
    /// What the last full frames cost (ms), oldest first, at most [`FRAMES_JUDGED`].
    full_frames_ms: Vec<f64>,
    /// A timer will draw the exact frame once the input rests.
    rest_pending: bool,
    /// The snapshot canvas holds the plot pixels now on screen (false after any exact drawing).
    snapshot_current: bool,
    /// A preview is on screen: the frame the chart holds is not what it shows.
    pub(super) showing: bool,
}

impl Gesture {
    /// A full frame was drawn in `ms`.
    pub(super) fn drew_full(&mut self, ms: f64) {
        if self.full_frames_ms.len() == FRAMES_JUDGED {
            self.full_frames_ms.remove(0);
        }
        self.full_frames_ms.push(ms);
        self.drew_exact();
    }

    /// Whether the panel's full frames are slow: each of the last [`FRAMES_JUDGED`] (or of all,
    /// when there were fewer) took longer than `above_ms`.
    pub(super) fn frames_slow(&self, above_ms: f64) -> bool {
        !self.full_frames_ms.is_empty() && self.full_frames_ms.iter().all(|&ms| ms > above_ms)
    }

    /// Exact pixels went on screen: the snapshot is out of date.
    pub(super) fn drew_exact(&mut self) {
        self.snapshot_current = false;
        self.showing = false;
    }
}

/// The preview threshold: the local-storage override, else [`PREVIEW_ABOVE_MS`].
fn preview_above_ms() -> f64 {
    browser::local_get(PREVIEW_ABOVE_KEY)
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .unwrap_or(PREVIEW_ABOVE_MS)
}

impl ChartHandle {
    /// A wheel or pan step: the frames until the input rests may be previews.
    pub(super) fn gesture_step(self) {
        let now = perf_now();
        self.st.update_value(|st| st.schedule.gesture.step_ms = now);
    }

    /// Draws a preview for the full frame owed, when a gesture is going on and this panel's full
    /// frames are slow; answers whether it did. The full frame stays owed.
    pub(super) fn draw_preview(self) -> bool {
        let now = perf_now();
        let going_on = self.st.with_value(|st| {
            let g = &st.schedule.gesture;
            st.view.frame.is_some() && g.step_ms > 0.0 && now - g.step_ms < REST_MS
        });
        if !going_on {
            return false;
        }
        let slow = self
            .st
            .with_value(|st| st.schedule.gesture.frames_slow(preview_above_ms()));
        if !slow {
            return false;
        }
        let Some((canvas, ctx)) = self.context() else {
            return false;
        };
        let settings = self.settings();
        let tz = browser::tz_offset_min(js_sys::Date::now() / 1000.0);
        let dpr = window().device_pixel_ratio().clamp(1.0, 3.0);
        let Some(Some((p, plot_px))) = self.st.try_update_value(|st| {
            let v = Self::view_of(st, &settings, tz);
            let f = st.view.frame.as_ref()?;
            // Another canvas size is caught by `preview` (the view is sized as the canvas is).
            if dpr != st.view.dpr {
                return None;
            }
            let plot_px = (
                (f.plot.left * dpr).round(),
                (f.plot.top * dpr).round(),
                st.view.raster.w as f64,
                st.view.raster.h as f64,
            );
            Some((preview::preview(f, &v)?, plot_px))
        }) else {
            return false;
        };
        let Some(snapshot) = self.snapshot_of(&canvas, plot_px) else {
            return false;
        };
        // The plot: white, then the snapshot where the previous frame's image lands.
        let (x0, y0, w, h) = plot_px;
        let plot = p.frame.plot;
        let (kx, ky) = (w / plot.width, h / plot.height);
        let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
        ctx.clear_rect(
            0.0,
            0.0,
            f64::from(canvas.width()),
            f64::from(canvas.height()),
        );
        ctx.set_fill_style_str("#ffffff");
        ctx.fill_rect(x0, y0, w, h);
        ctx.save();
        ctx.begin_path();
        ctx.rect(x0, y0, w, h);
        ctx.clip();
        let _ = ctx.draw_image_with_html_canvas_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
            &snapshot,
            0.0,
            0.0,
            w,
            h,
            x0 + (p.image.left - plot.left) * kx,
            y0 + (p.image.top - plot.top) * ky,
            p.image.width * kx,
            p.image.height * ky,
        );
        ctx.restore();
        let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
        draw::draw_axes(&ctx, &p.frame);
        self.st
            .update_value(|st| st.schedule.gesture.showing = true);
        measure("tl:panel:preview", now, perf_now(), &self.key.get_value());
        self.previews.update(|n| *n += 1);
        self.rest_then_draw();
        true
    }

    /// The canvas holding the plot pixels on screen (device rect `plot_px` of `canvas`), copied
    /// from it on the first preview after exact drawing.
    fn snapshot_of(
        self,
        canvas: &web_sys::HtmlCanvasElement,
        (x0, y0, w, h): (f64, f64, f64, f64),
    ) -> Option<web_sys::HtmlCanvasElement> {
        let snapshot = match self.snapshot.get_value() {
            Some(s) => s,
            None => {
                let s = document()
                    .create_element("canvas")
                    .ok()?
                    .dyn_into::<web_sys::HtmlCanvasElement>()
                    .ok()?;
                self.snapshot.set_value(Some(s.clone()));
                s
            }
        };
        if self
            .st
            .with_value(|st| st.schedule.gesture.snapshot_current)
        {
            return Some(snapshot);
        }
        browser::size_canvas(&snapshot, w as u32, h as u32);
        let sctx = browser::context_2d(&snapshot)?;
        sctx.clear_rect(0.0, 0.0, w, h);
        sctx.draw_image_with_html_canvas_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
            canvas, x0, y0, w, h, 0.0, 0.0, w, h,
        )
        .ok()?;
        self.st
            .update_value(|st| st.schedule.gesture.snapshot_current = true);
        Some(snapshot)
    }

    /// Lets go of the previews' copy of the plot pixels (the chart left the view).
    pub(super) fn drop_snapshot(self) {
        if !self.snapshot.is_disposed() {
            self.snapshot.set_value(None);
        }
        self.st.try_update_value(|st| {
            st.schedule.gesture.snapshot_current = false;
            st.schedule.gesture.showing = false;
        });
    }

    /// Draws the exact frame once no wheel or pan step came for [`REST_MS`].
    fn rest_then_draw(self) {
        let first = self
            .st
            .try_update_value(|st| !std::mem::replace(&mut st.schedule.gesture.rest_pending, true));
        if first == Some(true) {
            self.wait_for_rest(REST_MS);
        }
    }

    fn wait_for_rest(self, ms: f64) {
        set_timeout(
            move || {
                if !self.alive() {
                    return;
                }
                let left = self
                    .st
                    .with_value(|st| st.schedule.gesture.step_ms + REST_MS - perf_now());
                if left > 0.5 {
                    self.wait_for_rest(left);
                    return;
                }
                self.st
                    .update_value(|st| st.schedule.gesture.rest_pending = false);
                self.redraw(true);
            },
            Duration::from_millis(ms.ceil().max(1.0) as u64),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panel_previews_once_its_last_full_frames_were_all_slow() {
        let mut g = Gesture::default();
        assert!(!g.frames_slow(PREVIEW_ABOVE_MS), "no frame yet");
        // A thousand runs: the first frame is slow, and so is every one after.
        g.drew_full(120.0);
        assert!(g.frames_slow(PREVIEW_ABOVE_MS));
        // A light panel: one slow frame among fast ones (a smoothing change) is not enough.
        let mut g = Gesture::default();
        for ms in [12.0, 10.0, 38.0] {
            g.drew_full(ms);
        }
        assert!(!g.frames_slow(PREVIEW_ABOVE_MS));
        g.drew_full(40.0);
        assert!(
            !g.frames_slow(PREVIEW_ABOVE_MS),
            "10 ms is still among the last three"
        );
        g.drew_full(45.0);
        assert!(
            g.frames_slow(PREVIEW_ABOVE_MS),
            "three slow frames in a row"
        );
        g.drew_full(11.0);
        assert!(!g.frames_slow(PREVIEW_ABOVE_MS));
        // A threshold below zero previews every gesture once a frame was drawn.
        assert!(g.frames_slow(-1.0));
    }
}
