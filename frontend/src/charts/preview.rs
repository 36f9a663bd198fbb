//! A preview of a new view drawn from the last frame's pixels: where that frame's plot image lands
//! under the new axes, with its ticks carried along. A panel whose full frames cost more than a
//! few animation frames (a thousand runs) shows previews while a wheel zoom or a pan goes on, and
//! draws the exact frame once the input rests (`components/chart/preview.rs`).

use super::Rect;
use super::Tick;
use super::plot::{self, Axis, Frame, View};

/// How far a preview may stretch or shrink the frame it is drawn from: past this, the image says
/// too little about the view (a few pixels of it fill the plot, or it shrinks to a few pixels).
pub const MAX_STRETCH: f64 = 64.0;

/// A preview: the axes and ticks to draw, and where the previous plot image goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    /// The geometry of the view (no runs): the new axes, the previous frame's ticks moved with them.
    pub frame: Frame,
    /// Where the previous frame's plot image lands, in CSS pixels (it may reach past the plot).
    pub image: Rect,
}

/// The preview of `v` from `prev`, the frame last drawn; `None` when the image cannot stand in for
/// the view: another canvas size or scale type, or a stretch past [`MAX_STRETCH`].
///
/// x comes from the view; y from the view's y window, else the previous frame's fitted y (the fit
/// of the new x window is the exact frame's work). Both axes map linearly in their own scale (log
/// or not), so the old plot image maps onto the new plot by one scale and offset per axis.
pub fn preview(prev: &Frame, v: &View) -> Option<Preview> {
    let plot = plot::plot_rect(v);
    if plot != prev.plot
        || v.css_width != prev.css_width
        || v.css_height != prev.css_height
        || v.x_log != prev.x.log
        || v.y_log != prev.y.log
    {
        return None;
    }
    let x = plot::x_axis(plot, v);
    let mut y = prev.y;
    if let Some(w) = v.y_window {
        (y.lo, y.hi) = plot::fix_domain(w, v.y_log, false);
    }
    let (left, right) = (x.to_px(prev.x.lo), x.to_px(prev.x.hi));
    let (top, bottom) = (y.to_px(prev.y.hi), y.to_px(prev.y.lo));
    let image = Rect {
        left,
        top,
        width: right - left,
        height: bottom - top,
    };
    let stretch_ok = |len: f64, was: f64| {
        let k = len / was;
        k.is_finite() && (1.0 / MAX_STRETCH..=MAX_STRETCH).contains(&k)
    };
    if !(left.is_finite()
        && top.is_finite()
        && stretch_ok(image.width, plot.width)
        && stretch_ok(image.height, plot.height))
    {
        return None;
    }
    let frame = Frame {
        css_width: prev.css_width,
        css_height: prev.css_height,
        plot,
        ncols: prev.ncols,
        x,
        y,
        runs: Vec::new(),
        x_ticks: moved(&prev.x_ticks, &prev.x, &x),
        y_ticks: moved(&prev.y_ticks, &prev.y, &y),
        x_format: prev.x_format,
        smoothing: prev.smoothing,
    };
    Some(Preview { frame, image })
}

/// `ticks` placed on axis `from`, moved to where their values fall on `to`: the grid lines in the
/// previous image move with it, so its labels must too.
fn moved(ticks: &[Tick], from: &Axis, to: &Axis) -> Vec<Tick> {
    ticks
        .iter()
        .map(|t| Tick {
            pos: to.to_px(from.from_px(t.pos)),
            label: t.label.clone(),
        })
        .filter(|t| t.pos.is_finite() && t.pos >= to.px0 - 0.5 && t.pos <= to.px0 + to.len + 0.5)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::plot::XFormat;
    use trackline_shared::smooth::Smoothing;

    fn view(x: (f64, f64), x_log: bool) -> View {
        View {
            css_width: 868.0,
            css_height: 330.0,
            x_domain: x,
            y_window: None,
            x_log,
            y_log: false,
            ignore_outliers: false,
            smoothing: Smoothing::None,
            x_format: XFormat::Number,
        }
    }

    /// A frame of `v` whose y spans -1..1 (no runs: the geometry is what a preview reads).
    fn frame_of(v: &View) -> Frame {
        let mut f = plot::frame(&[], v);
        (f.y.lo, f.y.hi) = (-1.0, 1.0);
        f
    }

    /// Where x value `x` is drawn inside the previous image, carried to the preview's screen.
    fn via_image(p: &Preview, prev: &Frame, x: f64) -> f64 {
        let in_plot = (prev.x.to_px(x) - prev.plot.left) / prev.plot.width;
        p.image.left + in_plot * p.image.width
    }

    #[test]
    fn a_value_in_the_previous_image_lands_where_the_new_axis_places_it() {
        for (log, was, now) in [
            (false, (0.0, 1000.0), (250.0, 500.0)),
            (false, (0.0, 1000.0), (-500.0, 1500.0)),
            (true, (1.0, 1e5), (10.0, 1e3)),
            (true, (10.0, 1e3), (1.0, 1e6)),
        ] {
            let prev = frame_of(&view(was, log));
            let p = preview(&prev, &view(now, log)).expect("a preview");
            for k in 0..=20 {
                let t = k as f64 / 20.0;
                let x = if log {
                    10f64.powf(was.0.log10() + t * (was.1.log10() - was.0.log10()))
                } else {
                    was.0 + t * (was.1 - was.0)
                };
                let want = p.frame.x.to_px(x);
                let got = via_image(&p, &prev, x);
                assert!(
                    (got - want).abs() < 1e-6 * want.abs().max(1.0),
                    "{log} {was:?} → {now:?}: x {x} at {got}, axis says {want}"
                );
            }
            // The image's vertical placement is the previous one: y was kept.
            assert_eq!(
                (p.image.top, p.image.height),
                (prev.plot.top, prev.plot.height)
            );
        }
    }

    #[test]
    fn a_y_window_moves_the_image_vertically_and_its_ticks_move_with_it() {
        let prev = frame_of(&view((0.0, 10.0), false));
        let prev = Frame {
            y_ticks: vec![
                Tick {
                    pos: prev.y.to_px(0.0),
                    label: "0".into(),
                },
                Tick {
                    pos: prev.y.to_px(0.5),
                    label: "0.5".into(),
                },
            ],
            ..prev
        };
        let mut v = view((0.0, 10.0), false);
        v.y_window = Some((0.0, 1.0));
        let p = preview(&prev, &v).expect("a preview");
        // y = 0 was mid-plot; now it is the bottom edge, and 1 the top: the image (-1..1) is twice
        // the plot's height, its bottom half hanging below the plot.
        let plot = p.frame.plot;
        assert!((p.image.top - plot.top).abs() < 1e-9);
        assert!((p.image.height - 2.0 * plot.height).abs() < 1e-9);
        let ticks: Vec<(f64, &str)> = p
            .frame
            .y_ticks
            .iter()
            .map(|t| (t.pos, t.label.as_str()))
            .collect();
        assert_eq!(ticks.len(), 2);
        assert!((ticks[0].0 - plot.bottom()).abs() < 1e-9 && ticks[0].1 == "0");
        assert!((ticks[1].0 - (plot.top + plot.height / 2.0)).abs() < 1e-9);
    }

    #[test]
    fn ticks_that_leave_the_plot_are_dropped() {
        let v = view((0.0, 100.0), false);
        let prev = frame_of(&v);
        let prev = Frame {
            x_ticks: [0.0, 25.0, 50.0, 75.0, 100.0]
                .iter()
                .map(|&x| Tick {
                    pos: prev.x.to_px(x),
                    label: format!("{x}"),
                })
                .collect(),
            ..prev
        };
        let p = preview(&prev, &view((40.0, 80.0), false)).expect("a preview");
        let labels: Vec<&str> = p.frame.x_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["50", "75"]);
        assert!((p.frame.x_ticks[0].pos - p.frame.x.to_px(50.0)).abs() < 1e-9);
    }

    #[test]
    fn no_preview_across_a_resize_a_scale_change_or_a_far_zoom() {
        let prev = frame_of(&view((0.0, 1000.0), false));
        let mut wider = view((0.0, 500.0), false);
        wider.css_width += 10.0;
        assert_eq!(preview(&prev, &wider), None);
        assert_eq!(preview(&prev, &view((1.0, 500.0), true)), None);
        let mut y_log = view((0.0, 500.0), false);
        y_log.y_log = true;
        assert_eq!(preview(&prev, &y_log), None);
        // 1000 / 10 = 100× in: past MAX_STRETCH. 1000× out likewise.
        assert_eq!(preview(&prev, &view((0.0, 10.0), false)), None);
        assert_eq!(preview(&prev, &view((0.0, 1e6), false)), None);
        assert!(preview(&prev, &view((0.0, 20.0), false)).is_some());
    }
}
