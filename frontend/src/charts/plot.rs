//! Multi-run plot math: the shared x and y axes (linear or log, zoomed or fitted, outliers ignored or
//! not), each run's pixel columns inside the x domain, smoothing of each run's samples, grouping of
//! runs into an aggregate line and band, hover values, and CSV export. Pure Rust, host-tested; the
//! pixels are made by [`super::raster`].
//!
//! Exactness: with the x domain equal to the window the daemon decimated over and one column per
//! plot pixel, every pixel column of a run is exactly the first/min/max/last of the raw points whose
//! x falls in it; when a zoom has not been refetched yet, the held columns are re-binned into the
//! new pixels (a preview) until the decimated window arrives.

pub use super::groups::{Agg, Band, GroupFrame, group, groups_by};
use super::minmax::{max, min};
use super::{PxColumn, Rect, SeriesState, Sources, Tick, nice_ticks, tick_label};
use trackline_shared::num::display;
use trackline_shared::smooth::{EmaState, Smoothing};

/// How the x values read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum XFormat {
    /// Steps: whole-number ticks.
    #[default]
    Step,
    /// Another metric (`x_key`): plain numbers.
    Number,
    /// Unix seconds, shown as local clock time (offset in minutes east of UTC).
    WallTime(i64),
    /// Seconds since the run started, shown as a duration.
    Duration,
}

/// One axis: a domain mapped onto a pixel range (y axes grow upwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    /// First pixel (left, or top for y) and length in CSS pixels.
    pub px0: f64,
    pub len: f64,
    /// y axes: larger values are higher up (smaller pixel).
    pub flip: bool,
}

impl Axis {
    fn t(&self, v: f64) -> f64 {
        if self.log {
            if v > 0.0 {
                v.log10()
            } else {
                f64::NEG_INFINITY
            }
        } else {
            v
        }
    }

    /// Fraction of the way from `lo` to `hi` (may be outside 0..1, or -inf for v ≤ 0 on a log axis).
    pub fn frac(&self, v: f64) -> f64 {
        let (a, b) = (self.t(self.lo), self.t(self.hi));
        (self.t(v) - a) / (b - a)
    }

    pub fn to_px(&self, v: f64) -> f64 {
        let f = self.frac(v);
        if self.flip {
            self.px0 + (1.0 - f) * self.len
        } else {
            self.px0 + f * self.len
        }
    }

    /// The value at pixel `p` (inverse of [`Axis::to_px`]).
    pub fn from_px(&self, p: f64) -> f64 {
        let f = (p - self.px0) / self.len;
        let f = if self.flip { 1.0 - f } else { f };
        let (a, b) = (self.t(self.lo), self.t(self.hi));
        let t = a + f * (b - a);
        if self.log { 10f64.powf(t) } else { t }
    }

    /// Whether `v` can be placed on this axis (finite, and positive on a log axis).
    pub fn drawable(&self, v: f64) -> bool {
        v.is_finite() && (!self.log || v > 0.0)
    }
}

/// Everything the plot needs besides data: size, scales, zoom and smoothing.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub css_width: f64,
    pub css_height: f64,
    /// The x domain (zoom window, or the fitted data extent).
    pub x_domain: (f64, f64),
    /// A y zoom; `None` fits the data.
    pub y_window: Option<(f64, f64)>,
    pub x_log: bool,
    pub y_log: bool,
    pub ignore_outliers: bool,
    pub smoothing: Smoothing,
    pub x_format: XFormat,
}

/// Space around the plot area, in CSS pixels.
pub const LEFT: f64 = 56.0;
pub const RIGHT: f64 = 12.0;
pub const TOP: f64 = 8.0;
pub const BOTTOM: f64 = 22.0;

/// Pixel columns to request for a canvas `css_width` wide (one per plot pixel).
pub fn plot_width(css_width: f64) -> u32 {
    let w = (css_width - LEFT - RIGHT).floor();
    if w.is_finite() && w >= 1.0 {
        (w as u32).min(16384)
    } else {
        1
    }
}

/// One run laid out: its pixel columns and its smoothing samples.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFrame {
    pub id: String,
    /// Columns in x order. `index` is the pixel column inside the plot; at most one column on each
    /// side lies outside the plot (index -1 or `ncols`), kept so the line enters and leaves the plot
    /// along its true path. `px` is the column's centre in CSS pixels.
    pub cols: Vec<PxColumn>,
    /// Plot column index of each entry of `cols` (signed: -1 is just left of the plot).
    pub idx: Vec<i64>,
    /// Smoothing samples in x order: one per source column (its last value), then the live points.
    pub sample_x: Vec<f64>,
    pub sample_y: Vec<f64>,
    /// Smoothed samples (empty when smoothing is off).
    pub smoothed: Vec<f64>,
    /// State of a TensorBoard EMA after the last sample (for live points drawn incrementally).
    pub ema: EmaState,
    /// Source columns taken in (for incremental appends: live points after these are new).
    pub sources: usize,
    /// [`SeriesState::version`] of the data this was laid out from.
    pub data_version: u64,
    /// The lowest and highest value the columns inside the plot reach (finite, and positive on a
    /// log y axis), found while they are laid out: fitting y then reads no column again.
    pub extent: Option<(f64, f64)>,
    /// Whether a column inside the plot holds a non-finite value (one that gets a marker).
    pub nonfinite_inside: bool,
}

impl RunFrame {
    /// The column at plot index `i`, if any.
    pub fn col_at(&self, i: i64) -> Option<&PxColumn> {
        self.idx.binary_search(&i).ok().map(|k| &self.cols[k])
    }

    /// The smoothed value of the last sample at or before x (for hover and group lines).
    pub fn smoothed_at(&self, x: f64) -> Option<f64> {
        if self.smoothed.is_empty() {
            return None;
        }
        let k = self.sample_x.partition_point(|&s| s <= x);
        k.checked_sub(1).map(|k| self.smoothed[k])
    }
}

/// A whole plot: axes, ticks and the visible runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub css_width: f64,
    pub css_height: f64,
    pub plot: Rect,
    pub ncols: i64,
    pub x: Axis,
    pub y: Axis,
    pub runs: Vec<RunFrame>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    pub x_format: XFormat,
    pub smoothing: Smoothing,
}

impl Frame {
    /// Plot column index of CSS pixel `px` (unclamped).
    pub fn col_of_px(&self, px: f64) -> i64 {
        (px - self.plot.left).floor() as i64
    }

    /// Centre of plot column `i`, in CSS pixels.
    pub fn px_of_col(&self, i: i64) -> f64 {
        self.plot.left + i as f64 + 0.5
    }

    /// The plot column an x value falls in (unclamped; `None` when it cannot be placed).
    pub fn col_of_x(&self, x: f64) -> Option<i64> {
        if !self.x.drawable(x) {
            return None;
        }
        let rel = self.x.frac(x) * self.plot.width;
        rel.is_finite()
            .then(|| rel.floor().clamp(-1e9, 1e9) as i64)
            .map(|i| {
                if x == self.x.hi {
                    i.min(self.ncols - 1)
                } else {
                    i
                }
            })
    }
}

/// The x extent of what the runs hold (decimation windows widened by live points); on a log axis
/// (`log`), of what it can place (x > 0).
pub fn data_extent<'a>(
    runs: impl IntoIterator<Item = &'a SeriesState>,
    log: bool,
) -> Option<(f64, f64)> {
    let mut ext: Option<(f64, f64)> = None;
    let mut add = |a: f64, b: f64| {
        if a.is_finite() && b.is_finite() && (!log || a > 0.0) {
            ext = Some(match ext {
                Some((x, y)) => (min(x, a), max(y, b)),
                None => (a, b),
            });
        }
    };
    for s in runs {
        if !s.buckets.is_empty()
            && let Some((a, b)) = s.window
        {
            // The points held, not the window's padding.
            let lo = s.buckets.x_first.first().copied().unwrap_or(a);
            let hi = s.buckets.x_last.last().copied().unwrap_or(b);
            add(lo, hi);
        }
        for &x in &s.tail_x {
            add(x, x);
        }
    }
    ext
}

/// A domain shifted by `d_px` pixels of an axis `len_px` long (in log space on a log axis): panning.
pub fn pan(d: (f64, f64), log: bool, d_px: f64, len_px: f64) -> (f64, f64) {
    if log && d.0 > 0.0 && d.1 > 0.0 {
        let (a, b) = (d.0.log10(), d.1.log10());
        let s = d_px / len_px * (b - a);
        return (10f64.powf(a + s), 10f64.powf(b + s));
    }
    let s = d_px / len_px * (d.1 - d.0);
    (d.0 + s, d.1 + s)
}

/// A domain that can be drawn: finite, non-empty, positive on a log axis.
pub fn fix_domain(d: (f64, f64), log: bool, integer: bool) -> (f64, f64) {
    let (mut a, mut b) = d;
    if !(a.is_finite() && b.is_finite()) {
        return if log { (1.0, 10.0) } else { (0.0, 1.0) };
    }
    if b < a {
        std::mem::swap(&mut a, &mut b);
    }
    if log {
        if b <= 0.0 {
            return (1.0, 10.0);
        }
        if a <= 0.0 {
            a = b / 1e3;
        }
        if b <= a {
            return (a / 2.0, a * 2.0);
        }
        return (a, b);
    }
    if b <= a {
        let pad = if integer {
            1.0
        } else {
            a.abs().max(1.0) * 0.05
        };
        return (a - pad, b + pad);
    }
    (a, b)
}

/// Lays out `runs` (visible ones only) in `v`.
pub fn frame(runs: &[(&str, &SeriesState)], v: &View) -> Frame {
    frame_reusing(runs, v, None)
}

/// [`frame`], taking from `prev` (the previous frame of the same chart) what does not depend on
/// the view: a run's smoothed samples, when its data and the smoothing are unchanged. Zoom and pan
/// frames then skip smoothing every run again.
pub fn frame_reusing(runs: &[(&str, &SeriesState)], v: &View, prev: Option<&Frame>) -> Frame {
    build_frame(runs, v, prev.map_or(Previous::None, Previous::Borrowed))
}

/// [`frame_reusing`], taking the previous frame itself: its smoothed samples move over instead of
/// being copied, and its runs' buffers are reused, so a frame of 1,000 runs × 1,200 columns
/// allocates nothing new and the chart never holds two frames' columns at once.
pub fn frame_recycling(runs: &[(&str, &SeriesState)], v: &View, prev: Option<Frame>) -> Frame {
    build_frame(
        runs,
        v,
        prev.map_or(Previous::None, |p| Previous::Owned(Box::new(p))),
    )
}

/// The frame before, if any, as [`build_frame`] was given it.
enum Previous<'a> {
    None,
    Borrowed(&'a Frame),
    Owned(Box<Frame>),
}

/// The plot area of a canvas of `v`'s size (CSS pixels).
pub fn plot_rect(v: &View) -> Rect {
    Rect {
        left: LEFT,
        top: TOP,
        width: (v.css_width - LEFT - RIGHT).floor().max(1.0),
        height: (v.css_height - TOP - BOTTOM).max(1.0),
    }
}

/// The x axis of `v` across `plot`.
pub fn x_axis(plot: Rect, v: &View) -> Axis {
    let integer = v.x_format == XFormat::Step;
    let (lo, hi) = fix_domain(v.x_domain, v.x_log, integer);
    Axis {
        lo,
        hi,
        log: v.x_log,
        px0: plot.left,
        len: plot.width,
        flip: false,
    }
}

fn build_frame(runs: &[(&str, &SeriesState)], v: &View, mut prev: Previous<'_>) -> Frame {
    let plot = plot_rect(v);
    let ncols = plot.width as i64;
    let x = x_axis(plot, v);
    let mut f = Frame {
        css_width: v.css_width,
        css_height: v.css_height,
        plot,
        ncols,
        x,
        y: Axis {
            lo: 0.0,
            hi: 1.0,
            log: v.y_log,
            px0: plot.top,
            len: plot.height,
            flip: true,
        },
        runs: Vec::with_capacity(runs.len()),
        x_ticks: Vec::new(),
        y_ticks: Vec::new(),
        x_format: v.x_format,
        smoothing: v.smoothing,
    };
    if let Previous::Owned(p) = &mut prev
        && !(v.smoothing.is_active() && p.smoothing == v.smoothing)
    {
        // Nothing smoothed before holds under this smoothing.
        for r in &mut p.runs {
            r.smoothed.clear();
        }
    }
    for (k, (id, s)) in runs.iter().enumerate() {
        let prev_runs: &mut [RunFrame] = match &mut prev {
            Previous::None => &mut [],
            Previous::Borrowed(p) => {
                let p: &Frame = p;
                let reuse = smoothed_of(p, k, id, s, v).map(|r| (r.smoothed.clone(), r.ema));
                f.runs
                    .push(lay_out_run(&f, id, s, reuse, Buffers::default(), false));
                continue;
            }
            Previous::Owned(p) => &mut p.runs,
        };
        let reuse = same_run(prev_runs, k, id, s)
            .and_then(|j| prev_runs.get_mut(j))
            .filter(|r| !r.smoothed.is_empty())
            .map(|r| (std::mem::take(&mut r.smoothed), r.ema));
        let bufs = prev_runs.get_mut(k).map(Buffers::take).unwrap_or_default();
        f.runs.push(lay_out_run(&f, id, s, reuse, bufs, false));
    }
    let (ya, yb) = match v.y_window {
        Some(w) => fix_domain(w, v.y_log, false),
        None => fit_y(&f, v.ignore_outliers),
    };
    f.y.lo = ya;
    f.y.hi = yb;
    f.x_ticks = x_ticks(&f);
    f.y_ticks = y_ticks(&f);
    f
}

/// Where in `runs` (a frame before) run `id` was laid out from the same data `s`: at `k` (the same
/// place), else anywhere.
fn same_run(runs: &[RunFrame], k: usize, id: &str, s: &SeriesState) -> Option<usize> {
    let same = |r: &RunFrame| r.id == id && r.data_version == s.version && s.version != 0;
    runs.get(k)
        .filter(|r| same(r))
        .map(|_| k)
        .or_else(|| runs.iter().position(same))
}

/// The run of `p` (at `k`, else anywhere) whose smoothed samples a frame of `v` can take over
/// for run `id`'s data `s`.
fn smoothed_of<'p>(
    p: &'p Frame,
    k: usize,
    id: &str,
    s: &SeriesState,
    v: &View,
) -> Option<&'p RunFrame> {
    if !(v.smoothing.is_active() && p.smoothing == v.smoothing) {
        return None;
    }
    same_run(&p.runs, k, id, s).map(|j| &p.runs[j])
}

/// A run frame's vectors, emptied, for the next frame to fill without allocating.
#[derive(Default)]
pub(crate) struct Buffers {
    cols: Vec<PxColumn>,
    idx: Vec<i64>,
    sample_x: Vec<f64>,
    sample_y: Vec<f64>,
}

impl Buffers {
    fn take(r: &mut RunFrame) -> Buffers {
        let mut b = Buffers {
            cols: std::mem::take(&mut r.cols),
            idx: std::mem::take(&mut r.idx),
            sample_x: std::mem::take(&mut r.sample_x),
            sample_y: std::mem::take(&mut r.sample_y),
        };
        b.cols.clear();
        b.idx.clear();
        b.sample_x.clear();
        b.sample_y.clear();
        b
    }
}

/// Columns of one run inside the frame's x domain (plus one neighbour on each side).
pub fn run_frame(f: &Frame, id: &str, s: &SeriesState) -> RunFrame {
    lay_out_run(f, id, s, None, Buffers::default(), false)
}

/// Lays out one run into `bufs`, taking over `reuse` (the smoothed samples and EMA state of the
/// same data under the same smoothing) when it still fits; `visit_all` visits every bucket
/// instead of [`buckets_to_visit`]'s (the tests' reference).
pub(crate) fn lay_out_run(
    f: &Frame,
    id: &str,
    s: &SeriesState,
    reuse: Option<(Vec<f64>, EmaState)>,
    bufs: Buffers,
    visit_all: bool,
) -> RunFrame {
    let src = Sources::new(s);
    let nsrc = src.buckets();
    let total = nsrc + s.tail_x.len();
    let Buffers {
        mut cols,
        mut idx,
        mut sample_x,
        mut sample_y,
    } = bufs;
    // Smoothing samples: each bucket's last point (at its own x), then the live points.
    sample_x.reserve(total);
    sample_x.extend_from_slice(&s.buckets.x_last[..nsrc]);
    sample_x.extend_from_slice(&s.tail_x);
    sample_y.reserve(total);
    sample_y.extend_from_slice(&s.buckets.last[..nsrc]);
    sample_y.extend_from_slice(&s.tail_y);
    let (range, last) = if visit_all {
        (0..nsrc, None)
    } else {
        buckets_to_visit(f, &src)
    };
    cols.reserve(range.len().min(f.ncols as usize + 2) + 1);
    idx.reserve(cols.capacity());
    let mut left: Option<(i64, PxColumn)> = None;
    let mut place = |xc: f64, mut c: PxColumn| {
        let Some(i) = f.col_of_x(xc) else { return };
        if i < 0 {
            // Keep only the nearest column left of the plot.
            match &mut left {
                Some((li, lc)) if *li == -1 => lc.merge(&c),
                _ => {
                    c.index = 0;
                    left = Some((-1, c));
                }
            }
            return;
        }
        if let Some((_, lc)) = left.take() {
            let mut lc = lc;
            lc.px = f.px_of_col(-1);
            cols.push(lc);
            idx.push(-1);
        }
        // Everything right of the plot merges into one column just beyond its edge.
        let i = i.min(f.ncols);
        match (idx.last(), cols.last_mut()) {
            (Some(&li), Some(prev)) if li == i => prev.merge(&c),
            _ => {
                c.index = i.clamp(0, u32::MAX as i64) as u32;
                c.px = f.px_of_col(i);
                cols.push(c);
                idx.push(i);
            }
        }
    };
    for i in range.chain(last) {
        place(src.bucket_x(i), src.bucket(i));
    }
    src.visit_tail(&mut place);
    if let Some((_, mut lc)) = left
        && cols.is_empty()
    {
        lc.px = f.px_of_col(-1);
        cols.push(lc);
        idx.push(-1);
    }
    let (smoothed, ema) = match reuse {
        Some((smoothed, ema)) if smoothed.len() == sample_x.len() => (smoothed, ema),
        _ => smooth_samples(f.smoothing, &sample_x, &sample_y),
    };
    let (extent, nonfinite_inside) = inside_summary(f, &cols, &idx);
    RunFrame {
        id: id.to_string(),
        data_version: s.version,
        cols,
        idx,
        sample_x,
        sample_y,
        smoothed,
        ema,
        sources: nsrc,
        extent,
        nonfinite_inside,
    }
}

/// What the columns inside the plot hold, read once while they are still in cache:
/// [`RunFrame::extent`] and [`RunFrame::nonfinite_inside`].
fn inside_summary(f: &Frame, cols: &[PxColumn], idx: &[i64]) -> (Option<(f64, f64)>, bool) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut nonfinite = false;
    for (c, &i) in cols.iter().zip(idx) {
        if i < 0 || i >= f.ncols {
            continue;
        }
        nonfinite |= c.nonfinite > 0;
        for v in [c.min, c.max].into_iter().flatten() {
            if f.y.drawable(v) {
                lo = min(lo, v);
                hi = max(hi, v);
            }
        }
    }
    ((lo <= hi).then_some((lo, hi)), nonfinite)
}

/// The buckets a frame of `f` lays out: those placed inside the plot, the nearest one on each side
/// (the line enters and leaves the plot along its true path), and the last one (the column beyond
/// the right edge ends with its value). The buckets skipped would only merge into the columns
/// outside the plot, which draw nothing, so a zoomed-in frame of 1,000 runs visits a fraction of
/// what they hold. Unordered buckets (a degenerate window) are all visited.
fn buckets_to_visit(f: &Frame, src: &Sources<'_>) -> (std::ops::Range<usize>, Option<usize>) {
    let n = src.buckets();
    if !src.ordered() {
        return (0..n, None);
    }
    let col = |i: usize| f.col_of_x(src.bucket_x(i));
    // The first bucket for which `past` holds, `past` being false then true along the buckets.
    let first = |past: &dyn Fn(usize) -> bool| {
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if past(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    };
    let inside = first(&|i| col(i).is_some_and(|c| c >= 0));
    let beyond = first(&|i| col(i).is_some_and(|c| c >= f.ncols));
    let start = if inside > 0 && col(inside - 1).is_some() {
        inside - 1
    } else {
        inside
    };
    let end = (beyond + 1).min(n);
    (start..end, (n > end).then(|| n - 1))
}

fn smooth_samples(s: Smoothing, xs: &[f64], ys: &[f64]) -> (Vec<f64>, EmaState) {
    if !s.is_active() {
        return (Vec::new(), EmaState::default());
    }
    let mut ema = EmaState::default();
    if let Smoothing::Ema(w) = s {
        let out: Vec<f64> = ys.iter().map(|&v| ema.push(v, w)).collect();
        return (out, ema);
    }
    (s.apply(xs, ys), ema)
}

/// Percentile `p` (0..=1) of sorted values, linearly interpolated.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    let a = sorted[i];
    let b = sorted[(i + 1).min(sorted.len() - 1)];
    Some(a + (b - a) * frac)
}

/// The y range of the data inside the plot, padded 5 %. With `ignore_outliers`, the range spans the
/// 5th to 95th percentile of the columns' values (each column's first, min, max and last), widened
/// by a quarter of that span on each side but never beyond the true extremes — W&B's "ignore
/// outliers" idea: a few spikes do not flatten the rest of the line.
pub fn fit_y(f: &Frame, ignore_outliers: bool) -> (f64, f64) {
    let log = f.y.log;
    let ok = |v: f64| v.is_finite() && (!log || v > 0.0);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut all: Vec<f64> = Vec::new();
    for r in &f.runs {
        if let Some((a, b)) = r.extent {
            lo = min(lo, a);
            hi = max(hi, b);
        }
        if ignore_outliers {
            for (c, &i) in r.cols.iter().zip(&r.idx) {
                if i < 0 || i >= f.ncols {
                    continue;
                }
                for v in [c.first, c.last].into_iter().chain(c.min).chain(c.max) {
                    if ok(v) {
                        all.push(if log { v.log10() } else { v });
                    }
                }
            }
        }
        if !ignore_outliers {
            // Only the smoothed line inside the x domain (what is seen decides the fit).
            for (&x, &v) in r.sample_x.iter().zip(&r.smoothed) {
                if ok(v) && x >= f.x.lo && x <= f.x.hi {
                    lo = min(lo, v);
                    hi = max(hi, v);
                }
            }
        }
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return if log { (1.0, 10.0) } else { (0.0, 1.0) };
    }
    if ignore_outliers && all.len() >= 4 {
        all.sort_by(f64::total_cmp);
        let p5 = percentile(&all, 0.05).unwrap_or(lo);
        let p95 = percentile(&all, 0.95).unwrap_or(hi);
        let span = (p95 - p5).max(0.0);
        let (tlo, thi) = if log {
            (lo.log10(), hi.log10())
        } else {
            (lo, hi)
        };
        let a = (p5 - span * 0.25).max(tlo);
        let b = (p95 + span * 0.25).min(thi);
        if b > a {
            return if log {
                (10f64.powf(a), 10f64.powf(b))
            } else {
                (a, b)
            };
        }
    }
    pad(lo, hi, log)
}

fn pad(lo: f64, hi: f64, log: bool) -> (f64, f64) {
    if log {
        let (a, b) = (lo.log10(), hi.log10());
        let p = if b > a { (b - a) * 0.05 } else { 0.5 };
        return (10f64.powf(a - p), 10f64.powf(b + p));
    }
    if hi <= lo {
        let p = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - p, hi + p);
    }
    let p = (hi - lo) * 0.05;
    (lo - p, hi + p)
}

fn x_ticks(f: &Frame) -> Vec<Tick> {
    let target = (f.plot.width / 100.0).clamp(2.0, 10.0) as usize;
    axis_ticks(&f.x, target, f.x_format)
}

fn y_ticks(f: &Frame) -> Vec<Tick> {
    let target = (f.plot.height / 40.0).clamp(2.0, 8.0) as usize;
    axis_ticks(&f.y, target, XFormat::Number)
}

/// Ticks of an axis: powers of ten on a log axis (with 2 and 5 between when few), nice numbers
/// otherwise; labels in the axis's format.
pub fn axis_ticks(a: &Axis, target: usize, fmt: XFormat) -> Vec<Tick> {
    let mk = |v: f64, step: f64| Tick {
        pos: a.to_px(v),
        label: format_tick(v, step, fmt),
    };
    if a.log {
        let (e0, e1) = (a.lo.log10().ceil() as i32, a.hi.log10().floor() as i32);
        let mut vals: Vec<f64> = (e0..=e1).map(|e| 10f64.powi(e)).collect();
        if vals.len() < 3 {
            let mut more = Vec::new();
            for e in (e0 - 1)..=(e1 + 1) {
                for m in [1.0, 2.0, 5.0] {
                    let v = m * 10f64.powi(e);
                    if v >= a.lo && v <= a.hi {
                        more.push(v);
                    }
                }
            }
            vals = more;
        }
        let stride = vals.len().div_ceil(target.max(1) * 2).max(1);
        return vals
            .into_iter()
            .step_by(stride)
            .map(|v| mk(v, v / 10.0))
            .collect();
    }
    let (vals, step) = match fmt {
        XFormat::WallTime(_) | XFormat::Duration => time_ticks(a.lo, a.hi, target),
        _ => nice_ticks(a.lo, a.hi, target, fmt == XFormat::Step),
    };
    vals.into_iter().map(|v| mk(v, step)).collect()
}

/// Ticks at whole seconds, minutes, hours or days for time axes.
fn time_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    const STEPS: [f64; 16] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        21600.0, 86400.0,
    ];
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return (Vec::new(), 1.0);
    }
    let raw = (hi - lo) / target.max(1) as f64;
    match STEPS.iter().find(|&&s| s >= raw) {
        Some(&step) => {
            let mut out = Vec::new();
            let mut k = (lo / step).ceil();
            while k * step <= hi && out.len() < 64 {
                out.push(k * step);
                k += 1.0;
            }
            (out, step)
        }
        None => {
            let (days, step) = nice_ticks(lo / 86400.0, hi / 86400.0, target, true);
            (
                days.into_iter().map(|d| d * 86400.0).collect(),
                step * 86400.0,
            )
        }
    }
}

/// A tick label in an axis format.
pub fn format_tick(v: f64, step: f64, fmt: XFormat) -> String {
    match fmt {
        XFormat::WallTime(off) => {
            let full = crate::util::datetime(v, off);
            // `YYYY-MM-DD HH:MM:SS`: the date for day steps, the time otherwise.
            if step >= 86400.0 {
                full[5..10].to_string()
            } else if step >= 60.0 {
                full[11..16].to_string()
            } else {
                full[11..19].to_string()
            }
        }
        XFormat::Duration => crate::util::duration(v),
        _ => tick_label(v, step),
    }
}

/// An x value for people, in an axis format (tooltips).
pub fn format_x(v: f64, fmt: XFormat) -> String {
    match fmt {
        XFormat::WallTime(off) => crate::util::datetime(v, off),
        XFormat::Duration => crate::util::duration(v),
        _ => display(v),
    }
}

/// One line of the hover tooltip.
#[derive(Clone, Debug, PartialEq)]
pub struct HoverRow {
    /// Index into `Frame::runs`.
    pub run: usize,
    pub x: f64,
    /// The raw value (last point of the column).
    pub value: f64,
    pub smoothed: Option<f64>,
    /// y pixel of the value drawn (smoothed when smoothing is on), if drawable.
    pub y_px: Option<f64>,
}

/// Every run's value at the plot column nearest to CSS pixel `px` (searching at most `reach`
/// columns away), sorted by value, largest first; non-finite values last.
pub fn hover(f: &Frame, px: f64, reach: i64) -> Vec<HoverRow> {
    let target = f.col_of_px(px).clamp(0, f.ncols - 1);
    let mut rows = Vec::new();
    for (ri, r) in f.runs.iter().enumerate() {
        let k = r.idx.partition_point(|&i| i < target);
        let best = [k.checked_sub(1), (k < r.idx.len()).then_some(k)]
            .into_iter()
            .flatten()
            .filter(|&j| r.idx[j] >= 0 && r.idx[j] < f.ncols)
            .min_by_key(|&j| (r.idx[j] - target).abs());
        let Some(j) = best else { continue };
        if (r.idx[j] - target).abs() > reach {
            continue;
        }
        let c = &r.cols[j];
        let smoothed = r.smoothed_at(c.x_last);
        let shown = smoothed.unwrap_or(c.last);
        rows.push(HoverRow {
            run: ri,
            x: c.x_last,
            value: c.last,
            smoothed,
            y_px: f.y.drawable(shown).then(|| f.y.to_px(shown)),
        });
    }
    rows.sort_by(|a, b| {
        let va = a.smoothed.unwrap_or(a.value);
        let vb = b.smoothed.unwrap_or(b.value);
        match (va.is_finite(), vb.is_finite()) {
            (true, true) => vb.total_cmp(&va),
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            (false, false) => std::cmp::Ordering::Equal,
        }
    });
    rows
}

/// The points a panel holds, as CSV: `run,x,value,min,max,count` — one row per decimated column
/// (its last point, with the column's min, max and point count) and one per live point. Non-finite
/// values are written `NaN`, `Infinity`, `-Infinity`.
pub fn csv(x_name: &str, runs: &[(&str, &SeriesState)]) -> String {
    let num = |v: f64| match trackline_shared::num::nonfinite_name(v) {
        Some(n) => n.to_string(),
        None => format!("{v}"),
    };
    let opt = |v: Option<f64>| v.map(num).unwrap_or_default();
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = format!("run,{},value,min,max,count\n", quote(x_name));
    for (id, s) in runs {
        let b = &s.buckets;
        let id = quote(id);
        for i in 0..b.len() {
            out.push_str(&format!(
                "{id},{},{},{},{},{}\n",
                num(b.x_last[i]),
                num(b.last[i]),
                opt(b.min[i]),
                opt(b.max[i]),
                b.count[i]
            ));
        }
        for (&x, &y) in s.tail_x.iter().zip(&s.tail_y) {
            let m = y.is_finite().then_some(y);
            out.push_str(&format!(
                "{id},{},{},{},{},1\n",
                num(x),
                num(y),
                opt(m),
                opt(m)
            ));
        }
    }
    out
}
