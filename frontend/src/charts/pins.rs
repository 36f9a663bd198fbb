//! Pins on a chart, as plain geometry (host-tested): where a pin's marker (a point) or band (an
//! x-range) goes in CSS pixels, clipped to the plot; which pin a click hits; the x axis name a
//! chart's settings give pins (`_step`, `_timestamp`, `_runtime` or an x metric's key); and where
//! a click or a drag on the plot puts a new pin.

use super::Rect;
use super::plot::{Axis, Frame};
use super::settings::ChartSettings;
use trackline_shared::api::XAxis;

/// What pin geometry needs of a drawn frame: the plot box and its x scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlotGeom {
    pub plot: Rect,
    pub x: Axis,
}

impl PlotGeom {
    pub fn of(f: &Frame) -> PlotGeom {
        PlotGeom {
            plot: f.plot,
            x: f.x,
        }
    }
}

/// A pin as drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// A vertical marker at this x pixel.
    Marker { px: f64 },
    /// A shaded band between these x pixels; `open_*` when the range goes on past that edge.
    Band {
        left: f64,
        right: f64,
        open_left: bool,
        open_right: bool,
    },
}

/// Thinnest band drawn, in CSS pixels (a narrow range stays visible and clickable).
pub const MIN_BAND_PX: f64 = 3.0;

/// Where the pin at `x0` (or `x0..=x1`) goes on `g`, or `None` when it lies outside the plot's x
/// window (or cannot be placed on it, such as x ≤ 0 on a log axis).
pub fn place(x0: f64, x1: Option<f64>, g: &PlotGeom) -> Option<Shape> {
    let (left, right) = (g.plot.left, g.plot.right());
    let (lo, hi) = (g.x.lo.min(g.x.hi), g.x.lo.max(g.x.hi));
    match x1 {
        None => {
            if !g.x.drawable(x0) || x0 < lo || x0 > hi {
                return None;
            }
            Some(Shape::Marker {
                px: g.x.to_px(x0).clamp(left, right),
            })
        }
        Some(x1) => {
            if !(x0.is_finite() && x1.is_finite()) {
                return None;
            }
            let (a, b) = (x0.min(x1), x0.max(x1));
            if b < lo || a > hi || (g.x.log && b <= 0.0) {
                return None;
            }
            let (open_left, open_right) = (a < lo || (g.x.log && a <= 0.0), b > hi);
            let pa = if open_left { left } else { g.x.to_px(a) };
            let pb = if open_right { right } else { g.x.to_px(b) };
            let (mut pa, mut pb) = (pa.clamp(left, right), pb.clamp(left, right));
            if pb - pa < MIN_BAND_PX {
                let mid = (pa + pb) / 2.0;
                pa = (mid - MIN_BAND_PX / 2.0).max(left);
                pb = (pa + MIN_BAND_PX).min(right);
            }
            Some(Shape::Band {
                left: pa,
                right: pb,
                open_left,
                open_right,
            })
        }
    }
}

/// How far from a marker a click still hits it, in CSS pixels.
pub const HIT_PX: f64 = 5.0;

/// The index of the shape a click at (`px`, `py`) hits: the nearest marker within [`HIT_PX`],
/// else the narrowest band under the pointer; nothing outside the plot box.
pub fn hit(shapes: &[Shape], px: f64, py: f64, g: &PlotGeom) -> Option<usize> {
    let p = g.plot;
    if py < p.top || py > p.bottom() || px < p.left - HIT_PX || px > p.right() + HIT_PX {
        return None;
    }
    let marker = shapes
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Shape::Marker { px: m } => Some((i, (m - px).abs())),
            Shape::Band { .. } => None,
        })
        .filter(|&(_, d)| d <= HIT_PX)
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((i, _)) = marker {
        return Some(i);
    }
    shapes
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match *s {
            Shape::Band { left, right, .. } if px >= left && px <= right => Some((i, right - left)),
            _ => None,
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The pins' name for a chart's x axis.
pub fn axis_of(settings: &ChartSettings) -> String {
    if let Some(k) = &settings.x_key {
        return k.clone();
    }
    match settings.x {
        XAxis::Step => "_step".into(),
        XAxis::WallTime => "_timestamp".into(),
        XAxis::RelativeTime => "_runtime".into(),
    }
}

/// An x axis name for people: `step`, `time`, `wall time`, or the metric's key.
pub fn axis_label(x_axis: &str) -> &str {
    match x_axis {
        "_step" => "step",
        "_runtime" => "time (s)",
        "_timestamp" => "wall time",
        k => k,
    }
}

/// A number for a pin's label and form: integers without a decimal point, others to six
/// significant digits.
pub fn format_x(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The x range a gesture on the plot asks for: a click (less than 4 px of travel) is a point at
/// `x0`, snapped to `snap` (the nearest drawn point's x) when there is one, and to a whole number
/// on the step axis; a drag is the range between both ends, clipped to the plot. `None` outside
/// the plot.
pub fn gesture_x(
    px0: f64,
    px1: f64,
    g: &PlotGeom,
    snap: Option<f64>,
    step_axis: bool,
) -> Option<(f64, Option<f64>)> {
    let (left, right) = (g.plot.left, g.plot.right());
    if (px1 - px0).abs() < 4.0 {
        if px0 < left - HIT_PX || px0 > right + HIT_PX {
            return None;
        }
        let x = snap.unwrap_or_else(|| g.x.from_px(px0.clamp(left, right)));
        return Some((if step_axis { x.round() } else { x }, None));
    }
    let (a, b) = (px0.min(px1).max(left), px0.max(px1).min(right));
    if b <= a {
        return None;
    }
    let (xa, xb) = (g.x.from_px(a), g.x.from_px(b));
    if step_axis {
        Some((xa.floor(), Some(xb.ceil())))
    } else {
        Some((xa, Some(xb)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(lo: f64, hi: f64, log: bool) -> PlotGeom {
        PlotGeom {
            plot: Rect {
                left: 40.0,
                top: 10.0,
                width: 200.0,
                height: 100.0,
            },
            x: Axis {
                lo,
                hi,
                log,
                px0: 40.0,
                len: 200.0,
                flip: false,
            },
        }
    }

    #[test]
    fn markers_and_bands_are_placed_and_clipped() {
        let g = geom(0.0, 2000.0, false);
        assert_eq!(place(1200.0, None, &g), Some(Shape::Marker { px: 160.0 }));
        assert_eq!(place(2000.0, None, &g), Some(Shape::Marker { px: 240.0 }));
        assert_eq!(place(2001.0, None, &g), None);
        assert_eq!(place(-1.0, None, &g), None);
        assert_eq!(place(f64::NAN, None, &g), None);
        assert_eq!(
            place(500.0, Some(1000.0), &g),
            Some(Shape::Band {
                left: 90.0,
                right: 140.0,
                open_left: false,
                open_right: false
            })
        );
        // Reversed ends, and a range running past both edges.
        assert_eq!(
            place(1000.0, Some(500.0), &g),
            place(500.0, Some(1000.0), &g)
        );
        assert_eq!(
            place(-100.0, Some(5000.0), &g),
            Some(Shape::Band {
                left: 40.0,
                right: 240.0,
                open_left: true,
                open_right: true
            })
        );
        assert_eq!(place(3000.0, Some(4000.0), &g), None);
        // A tiny range stays visible.
        let Some(Shape::Band { left, right, .. }) = place(1000.0, Some(1000.1), &g) else {
            panic!()
        };
        assert!((right - left - MIN_BAND_PX).abs() < 1e-9);
        // Log axis: x ≤ 0 cannot be placed; a band from 0 is open on the left.
        let lg = geom(1.0, 1000.0, true);
        assert_eq!(place(0.0, None, &lg), None);
        let Some(Shape::Marker { px }) = place(10.0, None, &lg) else {
            panic!()
        };
        assert!((px - (40.0 + 200.0 / 3.0)).abs() < 1e-9, "{px}");
        assert!(matches!(
            place(0.0, Some(10.0), &lg),
            Some(Shape::Band {
                open_left: true,
                ..
            })
        ));
    }

    #[test]
    fn clicks_hit_the_nearest_marker_then_the_narrowest_band() {
        let g = geom(0.0, 2000.0, false);
        let shapes = [
            Shape::Band {
                left: 50.0,
                right: 200.0,
                open_left: false,
                open_right: false,
            },
            Shape::Marker { px: 160.0 },
            Shape::Marker { px: 166.0 },
            Shape::Band {
                left: 100.0,
                right: 120.0,
                open_left: false,
                open_right: false,
            },
        ];
        assert_eq!(hit(&shapes, 162.0, 50.0, &g), Some(1));
        assert_eq!(hit(&shapes, 164.0, 50.0, &g), Some(2));
        assert_eq!(hit(&shapes, 110.0, 50.0, &g), Some(3));
        assert_eq!(hit(&shapes, 60.0, 50.0, &g), Some(0));
        assert_eq!(hit(&shapes, 220.0, 50.0, &g), None);
        assert_eq!(hit(&shapes, 162.0, 5.0, &g), None, "above the plot");
        assert_eq!(hit(&[], 162.0, 50.0, &g), None);
    }

    #[test]
    fn gestures_become_pins() {
        let g = geom(0.0, 2000.0, false);
        assert_eq!(
            gesture_x(160.0, 161.0, &g, None, true),
            Some((1200.0, None))
        );
        assert_eq!(
            gesture_x(160.4, 160.4, &g, Some(1199.0), true),
            Some((1199.0, None))
        );
        assert_eq!(
            gesture_x(160.0, 160.0, &g, None, false),
            Some((1200.0, None))
        );
        assert_eq!(
            gesture_x(140.0, 90.0, &g, None, true),
            Some((500.0, Some(1000.0)))
        );
        assert_eq!(
            gesture_x(0.0, 90.0, &g, None, true),
            Some((0.0, Some(500.0))),
            "clipped to the plot"
        );
        assert_eq!(gesture_x(5.0, 5.0, &g, None, true), None);
    }

    #[test]
    fn axis_names() {
        let mut s = ChartSettings::default();
        assert_eq!(axis_of(&s), "_step");
        s.x = XAxis::WallTime;
        assert_eq!(axis_of(&s), "_timestamp");
        s.x = XAxis::RelativeTime;
        assert_eq!(axis_of(&s), "_runtime");
        s.x_key = Some("epoch".into());
        assert_eq!(axis_of(&s), "epoch");
        assert_eq!(axis_label("_step"), "step");
        assert_eq!(axis_label("epoch"), "epoch");
        assert_eq!(format_x(1200.0), "1200");
        assert_eq!(format_x(0.25), "0.25");
        assert_eq!(format_x(1.0 / 3.0), "0.333333");
    }
}
