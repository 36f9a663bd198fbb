//! Histograms over time: each logged step has its own bin edges, so the steps are re-binned onto
//! one value grid ([`rebin`], count-preserving, values spread evenly inside a bin) and drawn as a
//! step × value heatmap, as ridgelines (one filled curve per step, offset upwards), or as
//! TensorBoard-style quantile bands ([`super::quantiles`]), plus a bar chart of one step's bins.

use super::figure::{
    Align, AxisSpec, ColorScale, Figure, HoverTarget, Rendered, Rgba, Shape, Subplot, Trace,
    TraceKind, fmt_value, render,
};
use super::nice_ticks;
use super::plot::Axis;
use super::quantiles::distribution;
use super::tick_label;

/// One logged histogram: `bins` has one more edge than `counts`.
#[derive(Clone, Debug, PartialEq)]
pub struct StepHist {
    pub step: f64,
    pub bins: Vec<f64>,
    pub counts: Vec<f64>,
}

/// Grid cells per column when the steps' own bins are finer: W&B logs 64 by default, 512 at most.
pub const DEFAULT_GRID: usize = 64;
/// Most grid cells per column (drawing and the read-out stay cheap over thousands of steps).
pub const MAX_GRID: usize = 256;

/// Counts of `counts` (over edges `bins`) re-binned onto `n` equal cells over `[lo, hi]`: each
/// bin gives each cell the share of its width that falls there; a zero-width bin gives all to
/// the cell holding it. The total is kept for bins inside `[lo, hi]`.
pub fn rebin(bins: &[f64], counts: &[f64], lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    if n == 0
        || bins.len() != counts.len() + 1
        || hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater)
    {
        return out;
    }
    let cell = (hi - lo) / n as f64;
    let cell_of = |v: f64| (((v - lo) / cell).floor().max(0.0) as usize).min(n - 1);
    for (i, &c) in counts.iter().enumerate() {
        if !(c.is_finite() && c != 0.0) {
            continue;
        }
        let (a, b) = (bins[i], bins[i + 1]);
        if !(a.is_finite() && b.is_finite()) {
            continue;
        }
        let (a, b) = (a.min(b), a.max(b));
        if b <= a {
            out[cell_of(a)] += c;
            continue;
        }
        let (first, last) = (cell_of(a), cell_of(b));
        for (k, o) in out.iter_mut().enumerate().take(last + 1).skip(first) {
            let c0 = lo + k as f64 * cell;
            let c1 = c0 + cell;
            let overlap = (b.min(c1) - a.max(c0)).max(0.0);
            *o += c * overlap / (b - a);
        }
    }
    out
}

/// All steps on one grid: columns in step order.
#[derive(Clone, Debug, PartialEq)]
pub struct Heat {
    pub steps: Vec<f64>,
    /// Value range of the grid and its cell count.
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
    /// `cells[column][cell]`.
    pub cells: Vec<Vec<f64>>,
    pub max: f64,
}

/// Puts histograms (any order) on one grid over the union of their ranges, with `n` cells (or as
/// many as the finest step's bins across that range, up to 512, when `n` is 0).
pub fn build(hists: &[StepHist], n: usize) -> Option<Heat> {
    let mut sorted: Vec<&StepHist> = hists
        .iter()
        .filter(|h| h.bins.len() == h.counts.len() + 1 && h.step.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.step.total_cmp(&b.step));
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut finest = f64::INFINITY;
    for h in &sorted {
        for &e in h.bins.iter().filter(|e| e.is_finite()) {
            lo = lo.min(e);
            hi = hi.max(e);
        }
        for w in h.bins.windows(2) {
            let d = (w[1] - w[0]).abs();
            if d > 0.0 && d.is_finite() {
                finest = finest.min(d);
            }
        }
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return None;
    }
    if hi <= lo {
        lo -= 0.5;
        hi += 0.5;
    }
    let n = if n > 0 {
        n
    } else if finest.is_finite() {
        (((hi - lo) / finest).round() as usize).clamp(DEFAULT_GRID, MAX_GRID)
    } else {
        DEFAULT_GRID
    };
    let cells: Vec<Vec<f64>> = sorted
        .iter()
        .map(|h| rebin(&h.bins, &h.counts, lo, hi, n))
        .collect();
    let max = cells
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    Some(Heat {
        steps: sorted.iter().map(|h| h.step).collect(),
        lo,
        hi,
        n,
        cells,
        max,
    })
}

/// The x extent of column `i` in steps: halfway to its neighbours (±0.5 alone).
pub fn column_span(steps: &[f64], i: usize) -> (f64, f64) {
    let s = steps[i];
    let left = if i > 0 {
        (steps[i - 1] + s) / 2.0
    } else if steps.len() > 1 {
        s - (steps[1] - s) / 2.0
    } else {
        s - 0.5
    };
    let right = if i + 1 < steps.len() {
        (s + steps[i + 1]) / 2.0
    } else if i > 0 {
        s + (s - steps[i - 1]) / 2.0
    } else {
        s + 0.5
    };
    (left, right)
}

/// Index of the column drawn for `step` (the newest at or before it; the first if before all).
pub fn column_of_step(steps: &[f64], step: Option<f64>) -> Option<usize> {
    if steps.is_empty() {
        return None;
    }
    Some(match step {
        None => steps.len() - 1,
        Some(s) => steps.partition_point(|&x| x <= s).saturating_sub(1),
    })
}

const LEFT: f64 = 64.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 30.0;

fn axes(w: f64, h: f64, x: (f64, f64), y: (f64, f64)) -> (Axis, Axis) {
    let xa = Axis {
        lo: x.0,
        hi: x.1,
        log: false,
        px0: LEFT,
        len: (w - LEFT - RIGHT).max(10.0),
        flip: false,
    };
    let ya = Axis {
        lo: y.0,
        hi: y.1,
        log: false,
        px0: TOP,
        len: (h - TOP - BOTTOM).max(10.0),
        flip: true,
    };
    (xa, ya)
}

/// Grid lines, tick labels and axis titles of a step × value plot.
fn frame(xa: &Axis, ya: &Axis, x_title: &str, y_title: &str, shapes: &mut Vec<Shape>) {
    let (left, right, top, bottom) = (xa.px0, xa.px0 + xa.len, ya.px0, ya.px0 + ya.len);
    let (yt, ys) = nice_ticks(
        ya.lo.min(ya.hi),
        ya.lo.max(ya.hi),
        (ya.len / 40.0).max(2.0) as usize,
        false,
    );
    for v in yt {
        let y = ya.to_px(v);
        shapes.push(Shape::Line {
            pts: vec![(left, y), (right, y)],
            color: Rgba::GRID,
            width: 1.0,
            dash: false,
        });
        shapes.push(Shape::Text {
            x: left - 4.0,
            y,
            text: tick_label(v, ys),
            color: Rgba::MUTED,
            align: Align::Right,
            size: 10.5,
            vertical: false,
        });
    }
    let (xt, xs) = nice_ticks(xa.lo, xa.hi, (xa.len / 70.0).max(3.0) as usize, true);
    for v in xt {
        let x = xa.to_px(v);
        shapes.push(Shape::Text {
            x,
            y: bottom + 10.0,
            text: tick_label(v, xs),
            color: Rgba::MUTED,
            align: Align::Center,
            size: 10.5,
            vertical: false,
        });
    }
    shapes.push(Shape::Line {
        pts: vec![(left, top), (left, bottom), (right, bottom)],
        color: Rgba::AXIS,
        width: 1.0,
        dash: false,
    });
    shapes.push(Shape::Text {
        x: right,
        y: bottom + 22.0,
        text: x_title.to_string(),
        color: Rgba::MUTED,
        align: Align::Right,
        size: 10.5,
        vertical: false,
    });
    shapes.push(Shape::Text {
        x: 12.0,
        y: (top + bottom) / 2.0,
        text: y_title.to_string(),
        color: Rgba::MUTED,
        align: Align::Center,
        size: 10.5,
        vertical: true,
    });
}

/// The column under canvas x `px` of a heatmap or quantile plot `w` CSS pixels wide.
pub fn column_at(steps: &[f64], w: f64, px: f64) -> Option<usize> {
    if steps.is_empty() {
        return None;
    }
    let (xa, _) = axes(w, 100.0, step_extent(steps), (0.0, 1.0));
    if px < xa.px0 || px > xa.px0 + xa.len {
        return None;
    }
    let s = xa.from_px(px);
    (0..steps.len())
        .find(|&i| {
            let (a, b) = column_span(steps, i);
            s >= a && s < b
        })
        .or(Some(steps.len() - 1))
}

/// The left and bottom axis lines, drawn again over what covers the plot.
fn axis_line(xa: &Axis, ya: &Axis, shapes: &mut Vec<Shape>) {
    shapes.push(Shape::Line {
        pts: vec![
            (xa.px0, ya.px0),
            (xa.px0, ya.px0 + ya.len),
            (xa.px0 + xa.len, ya.px0 + ya.len),
        ],
        color: Rgba::AXIS,
        width: 1.0,
        dash: false,
    });
}

fn step_extent(steps: &[f64]) -> (f64, f64) {
    let n = steps.len();
    if n == 0 {
        return (0.0, 1.0);
    }
    (column_span(steps, 0).0, column_span(steps, n - 1).1)
}

/// A dashed line at the selected column.
fn mark_selected(xa: &Axis, ya: &Axis, x: f64, shapes: &mut Vec<Shape>) {
    let px = xa.to_px(x);
    shapes.push(Shape::Line {
        pts: vec![(px, ya.px0), (px, ya.px0 + ya.len)],
        color: Rgba([207, 34, 46, 255]),
        width: 1.5,
        dash: true,
    });
}

/// The step × value heatmap: colour is the count (viridis of count / largest count; empty cells
/// stay white); `selected` is a column index. With more steps than plot pixels, every
/// `stride`-th step is drawn across the span of the steps it stands for. The read-out comes from
/// [`heatmap_hover`] (no per-cell targets: a long history has hundreds of thousands of cells).
pub fn render_heatmap(heat: &Heat, w: f64, h: f64, selected: Option<usize>) -> Rendered {
    let mut out = Rendered::default();
    out.shapes.push(Shape::Rect {
        x: 0.0,
        y: 0.0,
        w,
        h,
        color: Rgba::WHITE,
    });
    let (xa, ya) = axes(w, h, step_extent(&heat.steps), (heat.lo, heat.hi));
    // Grid and labels first: the cells cover the grid lines inside the plot.
    frame(&xa, &ya, "step", "value", &mut out.shapes);
    let scale = ColorScale::viridis();
    let cell = (heat.hi - heat.lo) / heat.n as f64;
    let ncols = heat.cells.len();
    let stride = ncols.div_ceil(xa.len.max(1.0) as usize).max(1);
    for i in (0..ncols).step_by(stride) {
        let last = (i + stride - 1).min(ncols - 1);
        let (s0, s1) = (
            column_span(&heat.steps, i).0,
            column_span(&heat.steps, last).1,
        );
        let (x0, x1) = (xa.to_px(s0), xa.to_px(s1));
        for (k, &c) in heat.cells[i].iter().enumerate() {
            if c <= 0.0 {
                continue;
            }
            let (v0, v1) = (heat.lo + k as f64 * cell, heat.lo + (k + 1) as f64 * cell);
            let (y0, y1) = (ya.to_px(v1), ya.to_px(v0));
            out.shapes.push(Shape::Rect {
                x: x0,
                y: y0,
                w: (x1 - x0).max(1.0) + 0.5,
                h: (y1 - y0) + 0.5,
                color: scale.at(c / heat.max.max(f64::MIN_POSITIVE)),
            });
        }
    }
    axis_line(&xa, &ya, &mut out.shapes);
    if let Some(i) = selected.filter(|&i| i < heat.steps.len()) {
        mark_selected(&xa, &ya, heat.steps[i], &mut out.shapes);
    }
    out
}

/// What the heatmap's read-out says at canvas point `(px, py)` of a `w` × `h` canvas: the step,
/// the cell's value range and its (re-binned) count.
pub fn heatmap_hover(heat: &Heat, w: f64, h: f64, px: f64, py: f64) -> Option<String> {
    let i = column_at(&heat.steps, w, px)?;
    let (_, ya) = axes(w, h, step_extent(&heat.steps), (heat.lo, heat.hi));
    if py < ya.px0 || py > ya.px0 + ya.len {
        return None;
    }
    let cell = (heat.hi - heat.lo) / heat.n as f64;
    let k = (((ya.from_px(py) - heat.lo) / cell).floor().max(0.0) as usize).min(heat.n - 1);
    let (v0, v1) = (heat.lo + k as f64 * cell, heat.lo + (k + 1) as f64 * cell);
    let c = heat.cells[i][k];
    Some(format!(
        "step {}, [{}, {}): {}",
        fmt_value(heat.steps[i]),
        fmt_value(v0),
        fmt_value(v1),
        fmt_value((c * 1000.0).round() / 1000.0)
    ))
}

/// At most this many ridges are drawn; longer histories are sampled evenly (the selected step
/// always among them).
pub const MAX_RIDGES: usize = 40;

/// Which columns the ridgeline draws: all when few, else an even sample with `selected`.
pub fn ridge_columns(n: usize, selected: Option<usize>) -> Vec<usize> {
    if n <= MAX_RIDGES {
        return (0..n).collect();
    }
    let mut cols: Vec<usize> = (0..MAX_RIDGES)
        .map(|k| k * (n - 1) / (MAX_RIDGES - 1))
        .collect();
    if let Some(s) = selected.filter(|&s| s < n) {
        cols.push(s);
    }
    cols.sort_unstable();
    cols.dedup();
    cols
}

/// Ridgelines: x is the value, each step a filled curve of its re-binned counts, the oldest at
/// the top and the newest in front at the bottom (TensorBoard's offset view).
pub fn render_ridgeline(heat: &Heat, w: f64, h: f64, selected: Option<usize>) -> Rendered {
    let mut out = Rendered::default();
    out.shapes.push(Shape::Rect {
        x: 0.0,
        y: 0.0,
        w,
        h,
        color: Rgba::WHITE,
    });
    let cols = ridge_columns(heat.steps.len(), selected);
    let (xa, _) = axes(w, h, (heat.lo, heat.hi), (0.0, 1.0));
    let (top, bottom) = (TOP + 4.0, h - BOTTOM);
    let n = cols.len().max(1) as f64;
    let spacing = ((bottom - top) * 0.7) / n.max(1.0);
    let ridge_h = ((bottom - top) - spacing * (n - 1.0)).max(spacing * 2.0);
    let cell = (heat.hi - heat.lo) / heat.n as f64;
    let base = ColorScale::viridis();
    for (r, &i) in cols.iter().enumerate() {
        let baseline = bottom - (n - 1.0 - r as f64) * spacing;
        let col = &heat.cells[i];
        let mut pts = vec![(xa.to_px(heat.lo), baseline)];
        for (k, &c) in col.iter().enumerate() {
            let x = xa.to_px(heat.lo + (k as f64 + 0.5) * cell);
            pts.push((x, baseline - ridge_h * c / heat.max.max(f64::MIN_POSITIVE)));
        }
        pts.push((xa.to_px(heat.hi), baseline));
        let chosen = Some(i) == selected;
        let color = if chosen {
            Rgba([207, 34, 46, 255])
        } else {
            base.at(r as f64 / n)
        };
        out.shapes.push(Shape::Fill {
            pts: pts.clone(),
            color: Rgba::WHITE.with_alpha(0.85),
        });
        out.shapes.push(Shape::Fill {
            pts: pts.clone(),
            color: color.with_alpha(0.25),
        });
        out.shapes.push(Shape::Line {
            pts,
            color,
            width: if chosen { 2.0 } else { 1.0 },
            dash: false,
        });
        out.hover.push(HoverTarget {
            x: xa.px0,
            y: baseline - spacing,
            w: xa.len,
            h: spacing,
            text: format!("step {}", fmt_value(heat.steps[i])),
        });
        if r == 0 || r + 1 == cols.len() || chosen {
            out.shapes.push(Shape::Text {
                x: w - 4.0,
                y: baseline - 5.0,
                text: format!("step {}", fmt_value(heat.steps[i])),
                color: Rgba::MUTED,
                align: Align::Right,
                size: 10.0,
                vertical: false,
            });
        }
    }
    let (xt, xs) = nice_ticks(heat.lo, heat.hi, (xa.len / 70.0).max(3.0) as usize, false);
    for v in xt {
        out.shapes.push(Shape::Text {
            x: xa.to_px(v),
            y: bottom + 10.0,
            text: tick_label(v, xs),
            color: Rgba::MUTED,
            align: Align::Center,
            size: 10.5,
            vertical: false,
        });
    }
    out
}

/// Quantile bands over steps: x = step, y = value, shaded between the symmetric pairs of
/// [`super::quantiles::NORMAL_POINTS`] (min–max lightest), the median as a line. Steps are
/// taken from their own bins, not the grid.
pub fn render_quantiles(hists: &[StepHist], w: f64, h: f64, selected: Option<usize>) -> Rendered {
    let mut out = Rendered::default();
    out.shapes.push(Shape::Rect {
        x: 0.0,
        y: 0.0,
        w,
        h,
        color: Rgba::WHITE,
    });
    let rows: Vec<(f64, [f64; 9])> = hists
        .iter()
        .filter_map(|hh| Some((hh.step, distribution(&hh.bins, &hh.counts)?)))
        .collect();
    if rows.is_empty() {
        return out;
    }
    let steps: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let lo = rows.iter().map(|r| r.1[0]).fold(f64::INFINITY, f64::min);
    let hi = rows
        .iter()
        .map(|r| r.1[8])
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let (xa, ya) = axes(w, h, step_extent(&steps), (lo, hi));
    // Grid and labels first: the bands cover the grid lines inside the plot.
    frame(&xa, &ya, "step", "value", &mut out.shapes);
    let accent = Rgba([31, 111, 235, 255]);
    for (band, alpha) in [(0usize, 0.12), (1, 0.2), (2, 0.28), (3, 0.36)] {
        let mut pts: Vec<(f64, f64)> = rows
            .iter()
            .map(|(s, q)| (xa.to_px(*s), ya.to_px(q[band])))
            .collect();
        pts.extend(
            rows.iter()
                .rev()
                .map(|(s, q)| (xa.to_px(*s), ya.to_px(q[8 - band]))),
        );
        if rows.len() == 1 {
            let (s, q) = rows[0];
            let x = xa.to_px(s);
            out.shapes.push(Shape::Rect {
                x: x - 3.0,
                y: ya.to_px(q[8 - band]),
                w: 6.0,
                h: ya.to_px(q[band]) - ya.to_px(q[8 - band]),
                color: accent.with_alpha(alpha),
            });
        } else {
            out.shapes.push(Shape::Fill {
                pts,
                color: accent.with_alpha(alpha),
            });
        }
    }
    out.shapes.push(Shape::Line {
        pts: rows
            .iter()
            .map(|(s, q)| (xa.to_px(*s), ya.to_px(q[4])))
            .collect(),
        color: accent,
        width: 1.5,
        dash: false,
    });
    for (i, (s, q)) in rows.iter().enumerate() {
        let (x0, x1) = column_span(&steps, i);
        let (p0, p1) = (xa.to_px(x0), xa.to_px(x1));
        out.hover.push(HoverTarget {
            x: p0,
            y: ya.px0,
            w: p1 - p0,
            h: ya.len,
            text: format!(
                "step {}: min {}, −1σ {}, median {}, +1σ {}, max {}",
                fmt_value(*s),
                fmt_value(q[0]),
                fmt_value(q[2]),
                fmt_value(q[4]),
                fmt_value(q[6]),
                fmt_value(q[8])
            ),
        });
    }
    axis_line(&xa, &ya, &mut out.shapes);
    if let Some(i) = selected.filter(|&i| i < steps.len()) {
        mark_selected(&xa, &ya, steps[i], &mut out.shapes);
    }
    out
}

/// One step's own bins as a bar chart (the slice under the pointer or at the selected step).
pub fn slice_figure(hist: &StepHist) -> Figure {
    let centres: Vec<f64> = hist.bins.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    let width = hist
        .bins
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min);
    Figure {
        title: None,
        subplots: vec![Subplot {
            x: AxisSpec {
                title: Some(format!("value at step {}", fmt_value(hist.step))),
                ..AxisSpec::default()
            },
            y: AxisSpec {
                title: Some("count".into()),
                ..AxisSpec::default()
            },
        }],
        traces: vec![Trace {
            name: format!("step {}", fmt_value(hist.step)),
            color: Rgba([31, 111, 235, 255]),
            subplot: 0,
            legend: false,
            kind: TraceKind::Bar {
                pos: centres,
                len: hist.counts.clone(),
                base: Vec::new(),
                horizontal: false,
                width: width.is_finite().then_some(width),
                colors: Vec::new(),
            },
        }],
        ..Figure::default()
    }
}

/// The slice drawn for a canvas.
pub fn render_slice(hist: &StepHist, w: f64, h: f64) -> Rendered {
    render(&slice_figure(hist), w, h)
}

/// The grid's cells as JSON (`[[...], ...]`, one list per step, counts rounded to 1e-6), for the
/// panel's `data-cells` attribute that tests read.
pub fn cells_json(heat: &Heat) -> String {
    let rounded: Vec<Vec<f64>> = heat
        .cells
        .iter()
        .map(|c| c.iter().map(|v| (v * 1e6).round() / 1e6).collect())
        .collect();
    serde_json::to_string(&rounded).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(step: f64, bins: Vec<f64>, counts: Vec<f64>) -> StepHist {
        StepHist { step, bins, counts }
    }

    #[test]
    fn rebinning_keeps_the_total_and_splits_by_overlap() {
        let bins = [0.0, 1.0, 3.0];
        let counts = [4.0, 10.0];
        let out = rebin(&bins, &counts, 0.0, 4.0, 4);
        assert_eq!(out, vec![4.0, 5.0, 5.0, 0.0]);
        let total: f64 = rebin(&[-1.3, 0.1, 0.7, 2.9], &[3.0, 7.0, 11.0], -2.0, 3.0, 37)
            .iter()
            .sum();
        assert!((total - 21.0).abs() < 1e-9);
        // A zero-width bin lands whole in its cell.
        assert_eq!(
            rebin(&[1.5, 1.5], &[2.0], 0.0, 4.0, 4),
            vec![0.0, 2.0, 0.0, 0.0]
        );
    }

    #[test]
    fn steps_with_their_own_edges_share_one_grid() {
        let hists = vec![
            hist(10.0, vec![2.0, 3.0, 4.0], vec![1.0, 1.0]),
            hist(0.0, vec![0.0, 1.0, 2.0], vec![2.0, 6.0]),
        ];
        let heat = build(&hists, 4).unwrap();
        assert_eq!(heat.steps, vec![0.0, 10.0]);
        assert_eq!((heat.lo, heat.hi, heat.n), (0.0, 4.0, 4));
        assert_eq!(
            heat.cells,
            vec![vec![2.0, 6.0, 0.0, 0.0], vec![0.0, 0.0, 1.0, 1.0]]
        );
        assert_eq!(heat.max, 6.0);
        // Finest bins decide the grid when none is asked for (at least the default).
        assert_eq!(build(&hists, 0).unwrap().n, DEFAULT_GRID);
        assert_eq!(cells_json(&heat), "[[2.0,6.0,0.0,0.0],[0.0,0.0,1.0,1.0]]");
    }

    #[test]
    fn the_heatmap_hovers_cells_and_marks_the_selected_step() {
        let hists = vec![
            hist(0.0, vec![0.0, 1.0, 2.0], vec![2.0, 6.0]),
            hist(1.0, vec![0.0, 1.0, 2.0], vec![5.0, 0.0]),
        ];
        let heat = build(&hists, 2).unwrap();
        let r = render_heatmap(&heat, 400.0, 200.0, column_of_step(&heat.steps, Some(1.0)));
        // Three non-empty cells are drawn, each a colour of the scale.
        let cells = r
            .shapes
            .iter()
            .filter(|s| matches!(s, Shape::Rect { w, .. } if *w < 400.0))
            .count();
        assert_eq!(cells, 3);
        // The upper half of the first column is the cell [1, 2) of step 0.
        assert_eq!(
            heatmap_hover(&heat, 400.0, 200.0, LEFT + 5.0, TOP + 5.0).as_deref(),
            Some("step 0, [1, 2): 6")
        );
        assert_eq!(
            heatmap_hover(
                &heat,
                400.0,
                200.0,
                400.0 - RIGHT - 5.0,
                200.0 - BOTTOM - 5.0
            )
            .as_deref(),
            Some("step 1, [0, 1): 5")
        );
        assert_eq!(heatmap_hover(&heat, 400.0, 200.0, 2.0, 50.0), None);
        // Thousands of steps on a narrow canvas: one drawn column per pixel at most.
        let long: Vec<StepHist> = (0..5000)
            .map(|s| hist(f64::from(s), vec![0.0, 1.0, 2.0], vec![1.0, 1.0]))
            .collect();
        let big = build(&long, 2).unwrap();
        let drawn = render_heatmap(&big, 400.0, 200.0, None)
            .shapes
            .iter()
            .filter(|s| matches!(s, Shape::Rect { w, .. } if *w < 400.0))
            .count();
        assert!(drawn <= 2 * 322, "{drawn} cells drawn");
        assert!(
            r.shapes
                .iter()
                .any(|s| matches!(s, Shape::Line { dash: true, .. }))
        );
        assert_eq!(column_of_step(&heat.steps, None), Some(1));
        assert_eq!(column_at(&heat.steps, 400.0, LEFT + 1.0), Some(0));
        assert_eq!(column_at(&heat.steps, 400.0, 400.0 - RIGHT - 1.0), Some(1));
        assert_eq!(column_at(&heat.steps, 400.0, 2.0), None);
        assert_eq!(column_of_step(&heat.steps, Some(0.5)), Some(0));
        assert_eq!(column_of_step(&heat.steps, Some(-3.0)), Some(0));
    }

    #[test]
    fn ridges_sample_long_histories_and_keep_the_selected_step() {
        assert_eq!(ridge_columns(3, None), vec![0, 1, 2]);
        let cols = ridge_columns(1000, Some(501));
        assert!(cols.len() <= MAX_RIDGES + 1);
        assert!(cols.contains(&501) && cols.contains(&0) && cols.contains(&999));
        let heat = build(&[hist(0.0, vec![0.0, 1.0], vec![1.0])], 4).unwrap();
        let r = render_ridgeline(&heat, 300.0, 200.0, Some(0));
        assert!(r.hover.iter().any(|t| t.text == "step 0"));
        let q = render_quantiles(
            &[
                hist(0.0, vec![0.0, 2.0], vec![4.0]),
                hist(5.0, vec![0.0, 4.0], vec![4.0]),
            ],
            300.0,
            200.0,
            None,
        );
        assert!(
            q.hover
                .iter()
                .any(|t| t.text.starts_with("step 5: min 0,") && t.text.contains("median 2"))
        );
    }

    #[test]
    fn the_slice_is_one_bar_per_bin() {
        let f = slice_figure(&hist(3.0, vec![0.0, 0.5, 1.0], vec![1.0, 2.0]));
        let TraceKind::Bar {
            pos, len, width, ..
        } = &f.traces[0].kind
        else {
            panic!()
        };
        assert_eq!(pos, &vec![0.25, 0.75]);
        assert_eq!(len, &vec![1.0, 2.0]);
        assert_eq!(*width, Some(0.5));
    }
}
