//! Pointer gestures on a chart: box zoom, wheel zoom at the pointer, pan, and the hover read-out.

use super::*;

/// Wheel zoom per pixel of wheel delta.
pub(super) const WHEEL_RATE: f64 = 0.0015;

/// Pointer gesture in progress.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Drag {
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
pub(super) struct TipRow {
    pub(super) name: String,
    pub(super) color: &'static str,
    pub(super) value: String,
    pub(super) bad: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Tip {
    pub(super) x_px: f64,
    pub(super) y_px: f64,
    pub(super) title: String,
    pub(super) rows: Vec<TipRow>,
    pub(super) more: usize,
    pub(super) dots: Vec<(f64, &'static str)>,
}

impl ChartHandle {
    /// Sets the zoom (None resets) and refetches the window, debounced.
    pub(super) fn zoom(self, x: Option<(f64, f64)>, y: Option<(f64, f64)>) {
        let reset = x.is_none();
        self.st.update_value(|st| {
            st.view.zoom_x = x;
            st.view.zoom_y = y;
            if reset {
                st.view.auto_x = None;
            }
            st.schedule.full = true;
        });
        self.zoomed.set(!reset || y.is_some());
        self.redraw(true);
        self.debounced_fetch();
    }

    pub(super) fn frame_domains(self) -> Option<((f64, f64), (f64, f64))> {
        self.st.with_value(|st| {
            st.view
                .frame
                .as_ref()
                .map(|f| ((f.x.lo, f.x.hi), (f.y.lo, f.y.hi)))
        })
    }

    pub(super) fn with_frame<T>(self, f: impl FnOnce(&Frame) -> T) -> Option<T> {
        self.st.with_value(|st| st.view.frame.as_ref().map(f))
    }

    /// Zooms x by the wheel's `delta` around the data point under the pointer at CSS `(px, py)`:
    /// that point keeps its place on screen, to the sub-pixel, through any number of wheel steps.
    pub(super) fn wheel(self, px: f64, py: f64, delta: f64) {
        // Wheel events can come faster than frames, and a slow panel shows previews: zoom from
        // the view as last set, not as last laid out (`wheel_anchor` finds the frame's column
        // holding the x under the pointer in that view).
        let current = self.st.with_value(|st| st.view.zoom_x);
        let Some(Some((lo, hi))) = self.with_frame(|f| {
            let mut x = f.x;
            if let Some((a, b)) = current {
                (x.lo, x.hi) = (a, b);
            }
            let c = wheel_anchor(f, &x, px, py);
            let k = (delta * WHEEL_RATE).exp();
            if x.log {
                let (lc, la, lb) = (c.log10(), x.lo.log10(), x.hi.log10());
                Some((
                    10f64.powf(lc - (lc - la) * k),
                    10f64.powf(lc + (lb - lc) * k),
                ))
            } else {
                Some((c - (c - x.lo) * k, c + (x.hi - c) * k))
            }
        }) else {
            return;
        };
        if hi - lo > 1e-9 * (hi.abs() + lo.abs()).max(1e-300) {
            self.gesture_step();
            let y = self.st.with_value(|st| st.view.zoom_y);
            self.zoom(Some((lo, hi)), y);
        }
    }

    pub(super) fn tooltip(self, px: f64, py: f64) -> Option<Tip> {
        // A preview shows another view than the frame held: no read-out until the exact frame.
        if self.st.with_value(|st| st.schedule.gesture.showing) {
            return None;
        }
        let runs = self.runs.get_untracked();
        let fmt_settings = self.settings();
        self.st.with_value(|st| {
            let f = st.view.frame.as_ref()?;
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
            if !st.view.groups.is_empty() {
                let mut rows: Vec<(f64, TipRow)> = Vec::new();
                for g in &st.view.groups {
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
}

/// How far (CSS px) from the pointer a drawn extreme may be to anchor a wheel zoom.
const ANCHOR_REACH_PX: f64 = 24.0;

/// The x a wheel zoom keeps in place: of the columns under the pointer, the drawn extreme (a
/// column's min or max, where it really is) nearest the pointer's height; failing one, the x under
/// the pointer itself on the current x axis `x`. A one-pixel spike then stays under the pointer
/// however far one zooms in, instead of drifting by up to the zoom factor times its pixel.
///
/// `f` is the frame last laid out, which may be of another x window than `x` (wheel steps faster
/// than frames, or a preview on screen): its column under the pointer is the one holding the x
/// that `x` places there.
pub(super) fn wheel_anchor(f: &Frame, x: &plot::Axis, px: f64, py: f64) -> f64 {
    let px = px.clamp(f.plot.left, f.plot.right());
    let under = x.from_px(px);
    let Some(col) = f.col_of_x(under) else {
        return under;
    };
    if !(0..f.ncols).contains(&col) {
        return under;
    }
    let mut best: Option<(f64, f64)> = None;
    for r in &f.runs {
        let Ok(j) = r.idx.binary_search(&col) else {
            continue;
        };
        let c = &r.cols[j];
        for (v, x) in [(c.max, c.x_of_max), (c.min, c.x_of_min)] {
            let (Some(v), Some(x)) = (v, x) else { continue };
            if !(f.x.drawable(x) && f.y.drawable(v)) {
                continue;
            }
            let dist = (f.y.to_px(v) - py).abs();
            if dist <= ANCHOR_REACH_PX && best.is_none_or(|(d, _)| dist < d) {
                best = Some((dist, x));
            }
        }
    }
    best.map_or(under, |(_, x)| x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::SeriesState;
    use crate::charts::plot::{View, XFormat};
    use trackline_shared::api::RunSeries;

    /// A frame over x 0..1000 of one run, flat at 0 but for a spike to 1 at x = 600.
    fn spiky_frame() -> Frame {
        let points: Vec<(f64, f64)> = (0..=1000)
            .map(|x| (f64::from(x), if x == 600 { 1.0 } else { 0.0 }))
            .collect();
        // A bucket a point, each extreme at the point's own x.
        let mut buckets = crate::charts::tests::decimate(&points, 0.0, 1000.0, 1001);
        buckets.x_of_min = buckets.x_first.clone();
        buckets.x_of_max = buckets.x_first.clone();
        let s = SeriesState::from_history(
            Some((0.0, 1000.0)),
            1001,
            RunSeries {
                run: "r".into(),
                total_points: points.len() as u64,
                buckets,
            },
        );
        let v = View {
            css_width: 568.0,
            css_height: 330.0,
            x_domain: (0.0, 1000.0),
            y_window: Some((-0.1, 1.1)),
            x_log: false,
            y_log: false,
            ignore_outliers: false,
            smoothing: Default::default(),
            x_format: XFormat::Number,
        };
        plot::frame(&[("r", &s)], &v)
    }

    #[test]
    fn the_anchor_is_the_extreme_under_the_pointer_in_the_view_as_last_set() {
        let f = spiky_frame();
        let py = f.y.to_px(1.0);
        // Drawn as it was laid out: the pointer on the spike's column anchors at the spike.
        let at = f.x.to_px(600.0) - 0.25;
        assert!(f.x.from_px(at) < 600.0);
        assert_eq!(wheel_anchor(&f, &f.x, at, py), 600.0);
        // The view has moved on since (zoomed to 500..700, not yet drawn): the spike is where
        // that view puts it, and the pointer there anchors at it.
        let mut x = f.x;
        (x.lo, x.hi) = (500.0, 700.0);
        let near = x.to_px(600.0) - 0.25;
        assert!(x.from_px(near) < 600.0);
        assert_eq!(wheel_anchor(&f, &x, near, py), 600.0);
        // Where the old frame had the spike, the new view has flat data: no extreme near the
        // pointer's height, so the anchor is the x under the pointer.
        let under = x.from_px(at);
        assert_eq!(wheel_anchor(&f, &x, at, py), under);
    }
}
