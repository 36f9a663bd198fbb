//! Our own rasteriser for the plot area: an RGBA pixel buffer (device pixels) that [`super::plot`]
//! frames are drawn into, then handed to the canvas in one `putImageData`. Drawing ourselves keeps a
//! frame of 100 runs × 1,200 columns to a few milliseconds (no hundred thousand canvas path calls),
//! makes the exact-decimation rule literal (each pixel column's min–max is one vertical run of
//! pixels), and lets live points be drawn into the kept buffer without redrawing history.
//!
//! The buffer is opaque (white background, light grid), so every line is composited with plain
//! "source over" on an opaque pixel; lines are anti-aliased along their minor axis (Wu's method).

use super::PxColumn;
use super::minmax::{max, min};
use super::plot::{Axis, Frame, GroupFrame, RunFrame};
use super::stroke::Stroke;

/// A colour as `[r, g, b]`.
pub type Rgb = [u8; 3];

pub const WHITE: Rgb = [255, 255, 255];
pub const GRID: Rgb = [0xe6, 0xea, 0xef];

/// Lines steeper than this (rows per column) are drawn as one vertical fill per pixel column
/// instead of anti-aliased across x: the look of a min–max span, at the cost of a fill.
pub(crate) const STEEP: f64 = 2.0;

/// `#rrggbb` → rgb (black when malformed).
pub fn parse_hex(s: &str) -> Rgb {
    let h = s.trim_start_matches('#');
    let p = |i: usize| {
        h.get(i..i + 2)
            .and_then(|x| u8::from_str_radix(x, 16).ok())
            .unwrap_or(0)
    };
    if h.len() == 6 {
        [p(0), p(2), p(4)]
    } else {
        [0, 0, 0]
    }
}

/// `c` mixed towards white by `t` (0 = c, 1 = white): faint raw lines and dimmed runs.
pub fn lighten(c: Rgb, t: f64) -> Rgb {
    let t = t.clamp(0.0, 1.0);
    let m = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * t).round() as u8;
    [m(c[0]), m(c[1]), m(c[2])]
}

/// A device-pixel RGBA buffer, stored column-major (`x * h + y`), one `u32` a pixel (the bytes r, g,
/// b, a in memory order). Column-major because almost everything a chart draws is vertical: each
/// pixel column's min–max span is one contiguous `fill`, and 100 noisy runs' spans are most of a
/// frame's pixels. [`Raster::rgba`] turns it into the row-major bytes `putImageData` takes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Raster {
    pub w: usize,
    pub h: usize,
    px: Vec<u32>,
    /// Scratch for [`Raster::rgba`], kept between frames.
    rows: Vec<u8>,
    /// Pixel columns left of this one are never written (0 but while a strip is redrawn:
    /// [`Raster::clip_from`]).
    clip_x: i64,
}

/// Pixel `row` of `col` (if it is one) at alpha `a` (0..=255) of opaque pixel `v`, rounded as
/// [`Raster::blend`] rounds: `v` at 255, unchanged at 0.
#[inline(always)]
fn put(col: &mut [u32], row: i64, v: u32, a: u32) {
    let Some(p) = usize::try_from(row).ok().and_then(|r| col.get_mut(r)) else {
        return;
    };
    if a >= 255 {
        *p = v;
    } else if a > 0 {
        *p = over(*p, v, a);
    }
}

/// `v` rounded half up: [`f64::round`] for every `v` above -0.5 (below, a half rounds the other
/// way: only pixels left of or above the buffer, which draw nothing). `round` is a call in WASM.
#[inline(always)]
fn round_up(v: f64) -> f64 {
    (v + 0.5).floor()
}

/// `c` as an opaque pixel.
#[inline]
fn pack(c: Rgb) -> u32 {
    u32::from_le_bytes([c[0], c[1], c[2], 255])
}

/// Integer "source over" of opaque pixel `c` on opaque pixel `d` at alpha `a` (0..=255): each
/// channel (c·a + d·(255 − a)) / 255, rounded, with red and blue in one multiply (16-bit lanes)
/// and the division by 255 as Blinn's `(x + 128 + ((x + 128) >> 8)) >> 8`, exact for these
/// products. Anti-aliased lines blend two or three pixels a step, so this is most of their cost.
#[inline(always)]
fn over(d: u32, c: u32, a: u32) -> u32 {
    let na = 255 - a;
    let rb = (c & 0x00ff_00ff) * a + (d & 0x00ff_00ff) * na + 0x0080_0080;
    let rb = ((rb + ((rb >> 8) & 0x00ff_00ff)) >> 8) & 0x00ff_00ff;
    let g = ((c >> 8) & 0xff) * a + ((d >> 8) & 0xff) * na + 0x80;
    let g = ((g + (g >> 8)) >> 8) & 0xff;
    rb | (g << 8) | 0xff00_0000
}

impl Raster {
    pub fn new(w: usize, h: usize) -> Raster {
        Raster {
            w,
            h,
            px: vec![pack(WHITE); w * h],
            rows: Vec::new(),
            clip_x: 0,
        }
    }

    /// Clears pixel columns `x..` to white and keeps every later draw out of the columns left of
    /// `x`, until [`Raster::unclip`]: a strip redrawn on the kept pixels.
    pub fn clip_from(&mut self, x: usize) {
        let x = x.min(self.w);
        self.px[x * self.h..].fill(pack(WHITE));
        self.clip_x = x as i64;
    }

    /// Ends [`Raster::clip_from`].
    pub fn unclip(&mut self) {
        self.clip_x = 0;
    }

    /// Fills every pixel with `c`, opaque.
    pub fn clear(&mut self, c: Rgb) {
        self.px.fill(pack(c));
    }

    /// The pixel at (x, y) as rgba (tests and checks).
    pub fn get(&self, x: usize, y: usize) -> [u8; 4] {
        self.px[x * self.h + y].to_le_bytes()
    }

    /// Blends `c` at coverage `a` (0..=1) over pixel (x, y); outside pixels are ignored.
    #[inline(always)]
    pub fn blend(&mut self, x: i64, y: i64, c: Rgb, a: f64) {
        if x < self.clip_x || y < 0 || x >= self.w as i64 || y >= self.h as i64 || a <= 0.0 {
            return;
        }
        let i = x as usize * self.h + y as usize;
        if a >= 1.0 {
            self.px[i] = pack(c);
            return;
        }
        // `a` is in (0, 1): adding a half and truncating rounds it (no `round` call per pixel).
        let a = (a * 255.0 + 0.5) as u32;
        self.px[i] = over(self.px[i], pack(c), a);
    }

    /// One column of an anti-aliased flat line `thick` rows tall whose top edge is at row `y`:
    /// the rows it covers whole are `c`, the two it covers in part are blended by coverage (a
    /// column of a flat segment of [`Raster::line`], and of a [`super::stroke::Stroke`]).
    #[inline]
    pub fn wu_column(&mut self, x: i64, y: f64, c: Rgb, thick: i64) {
        let h = self.h as i64;
        if x < self.clip_x || x >= self.w as i64 || !(y > -(thick as f64) - 2.0 && y < h as f64) {
            return;
        }
        let yf = y.floor();
        let yi = yf as i64;
        // The bottom row's coverage as an alpha (adding a half and truncating rounds it); the
        // top row's is the rest.
        let a = ((y - yf) * 255.0 + 0.5) as u32;
        let v = pack(c);
        let base = x as usize * self.h;
        let col = &mut self.px[base..base + self.h];
        put(col, yi, v, 255 - a);
        for row in (yi + 1).max(0)..(yi + thick).min(h) {
            col[row as usize] = v;
        }
        put(col, yi + thick, v, a);
    }

    /// A vertical run of pixels covering y0..y1 (device pixels, either order) in columns
    /// `x .. x + thick`, at least one pixel tall.
    pub fn vspan(&mut self, x: i64, y0: f64, y1: f64, c: Rgb, thick: i64) {
        if !(y0.is_finite() && y1.is_finite()) {
            return;
        }
        let (a, b) = if y0 <= y1 { (y0, y1) } else { (y1, y0) };
        let h = self.h as i64;
        let top = min(max(a.floor(), -1.0), h as f64) as i64;
        let bot = (min(b.ceil(), h as f64 + 1.0) as i64 - 1)
            .max(top)
            .min(h - 1);
        let top = top.max(0);
        if bot < top {
            return;
        }
        let v = pack(c);
        for xx in x.max(self.clip_x)..(x + thick.max(1)).min(self.w as i64) {
            let base = xx as usize * self.h;
            self.px[base + top as usize..=base + bot as usize].fill(v);
        }
    }

    /// The buffer as row-major RGBA bytes, for `putImageData`. Transposed in tiles so both sides
    /// stay in cache.
    pub fn rgba(&mut self) -> &[u8] {
        const TILE: usize = 32;
        let (w, h) = (self.w, self.h);
        self.rows.resize(w * h * 4, 0);
        for y0 in (0..h).step_by(TILE) {
            for x0 in (0..w).step_by(TILE) {
                let y1 = (y0 + TILE).min(h);
                for x in x0..(x0 + TILE).min(w) {
                    for (y, p) in (y0..y1).zip(&self.px[x * h + y0..x * h + y1]) {
                        let o = (y * w + x) * 4;
                        self.rows[o..o + 4].copy_from_slice(&p.to_le_bytes());
                    }
                }
            }
        }
        &self.rows
    }

    /// An anti-aliased line from (x0, y0) to (x1, y1) in device pixels (pixel centres at +0.5),
    /// `thick` pixels wide across its minor axis. Endpoints outside the buffer are clipped.
    pub fn line(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, c: Rgb, thick: i64) {
        if !(x0.is_finite() && y0.is_finite() && x1.is_finite() && y1.is_finite()) {
            return;
        }
        let t = thick.max(1);
        let (dx, dy) = (x1 - x0, y1 - y0);
        // Bound the work on wild coordinates: clip the walk to the buffer plus a margin.
        let (wlim, hlim) = (self.w as f64 + 2.0, self.h as f64 + 2.0);
        if dy.abs() > STEEP * dx.abs() && dx.abs() >= 1.0 {
            // Steep: per pixel column, the run of rows the segment crosses there, as one fill
            // (the shape of a min–max span; noisy data zoomed in is mostly such lines).
            let (x0, y0, x1) = if x0 <= x1 { (x0, y0, x1) } else { (x1, y1, x0) };
            let slope = dy / dx;
            let y_at = |x: f64| y0 + (x - x0) * slope;
            let xs = max(x0.floor(), -(t as f64) - 1.0) as i64;
            let xe = min(x1.floor(), wlim) as i64;
            let off = (t - 1) / 2;
            for x in xs..=xe {
                let (a, b) = (max(x as f64, x0), min((x + 1) as f64, x1));
                self.vspan(x - off, y_at(a), y_at(b), c, t);
            }
            return;
        }
        if dx.abs() >= dy.abs() {
            let (x0, y0, x1, _y1) = if x0 <= x1 {
                (x0, y0, x1, y1)
            } else {
                (x1, y1, x0, y0)
            };
            let slope = if dx == 0.0 { 0.0 } else { dy / dx };
            let xs = max(round_up(x0 - 0.5), -2.0) as i64;
            let xe = min(round_up(x1 - 0.5), wlim) as i64;
            for x in xs..=xe {
                let y = y0 + ((x as f64 + 0.5) - x0) * slope - 0.5 - (t - 1) as f64 / 2.0;
                self.wu_column(x, y, c, t);
            }
        } else {
            let (x0, y0, _x1, y1) = if y0 <= y1 {
                (x0, y0, x1, y1)
            } else {
                (x1, y1, x0, y0)
            };
            let slope = dx / dy;
            let ys = max(round_up(y0 - 0.5), -2.0) as i64;
            let ye = min(round_up(y1 - 0.5), hlim) as i64;
            for y in ys..=ye {
                let x = x0 + ((y as f64 + 0.5) - y0) * slope - 0.5 - (t - 1) as f64 / 2.0;
                if !(x > -(t as f64) - 2.0 && x < wlim) {
                    continue;
                }
                let xi = x.floor() as i64;
                let f = x - xi as f64;
                self.blend(xi, y, c, 1.0 - f);
                for k in 1..t {
                    self.blend(xi + k, y, c, 1.0);
                }
                self.blend(xi + t, y, c, f);
            }
        }
    }

    /// A translucent vertical band in columns `x .. x + w` from y0 to y1 (group ranges).
    pub fn band(&mut self, x: i64, w: i64, y0: f64, y1: f64, c: Rgb, a: f64) {
        if !(y0.is_finite() && y1.is_finite()) {
            return;
        }
        let (lo, hi) = if y0 <= y1 { (y0, y1) } else { (y1, y0) };
        let top = lo.round().max(0.0) as i64;
        let bot = (hi.round() as i64).min(self.h as i64);
        for xx in x..x + w.max(1) {
            for y in top..bot.max(top + 1) {
                self.blend(xx, y, c, a);
            }
        }
    }

    /// Light horizontal and vertical grid lines at the frame's ticks.
    pub fn grid(&mut self, f: &Frame, dpr: f64) {
        let (ox, oy) = (f.plot.left, f.plot.top);
        for t in &f.y_ticks {
            let y = ((t.pos - oy) * dpr).floor() as i64;
            for x in 0..self.w as i64 {
                self.blend(x, y, GRID, 1.0);
            }
        }
        for t in &f.x_ticks {
            let x = ((t.pos - ox) * dpr).floor() as i64;
            for y in 0..self.h as i64 {
                self.blend(x, y, GRID, 1.0);
            }
        }
    }

    /// Columns `x0 .. x1` (device pixels) as a compact row-major RGBA sub-image: for uploading only
    /// what an incremental draw touched.
    pub fn columns(&self, x0: usize, x1: usize) -> Vec<u8> {
        let (x0, x1) = (x0.min(self.w), x1.min(self.w).max(x0.min(self.w)));
        let mut out = Vec::with_capacity((x1 - x0) * self.h * 4);
        for y in 0..self.h {
            for x in x0..x1 {
                out.extend_from_slice(&self.px[x * self.h + y].to_le_bytes());
            }
        }
        out
    }
}

/// Device pixels across a thin line (raw columns, joins) at `dpr` device pixels per CSS pixel.
pub fn thin_px(dpr: f64) -> i64 {
    dpr.round().max(1.0) as i64
}

/// Device pixels across a thick line (smoothed and group lines) at `dpr`.
pub fn thick_px(dpr: f64) -> i64 {
    (dpr * 1.6).round().max(2.0) as i64
}

/// How a run is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    pub color: Rgb,
    /// Raw line colour (the faint one when smoothing is on).
    pub raw: Rgb,
    pub draw_raw: bool,
    pub draw_smoothed: bool,
    /// Device pixels per CSS pixel.
    pub dpr: f64,
}

impl Style {
    pub fn new(color: Rgb, smoothing: bool, dimmed: bool, dpr: f64) -> Style {
        let base = if dimmed { lighten(color, 0.8) } else { color };
        Style {
            color: base,
            raw: if smoothing { lighten(base, 0.7) } else { base },
            draw_raw: true,
            draw_smoothed: smoothing,
            dpr,
        }
    }

    fn thin(&self) -> i64 {
        thin_px(self.dpr)
    }

    fn thick(&self) -> i64 {
        thick_px(self.dpr)
    }
}

/// Device-pixel coordinates of a CSS point relative to the plot's top-left.
#[inline]
fn dev(f: &Frame, dpr: f64, px: f64, py: f64) -> (f64, f64) {
    ((px - f.plot.left) * dpr, (py - f.plot.top) * dpr)
}

/// A frame's map from data to device pixels along one axis (as [`dev`] of [`Axis::to_px`]): on a
/// linear axis one multiply and one add a value instead of a division (a smoothed line places
/// every sample).
#[derive(Clone, Copy, Debug)]
struct DevMap<'f> {
    axis: &'f Axis,
    /// Device pixels at the axis's `lo` and per unit, or `None` on a log axis.
    linear: Option<(f64, f64)>,
    /// The plot edge device pixels count from (CSS) and device pixels per CSS pixel.
    edge: f64,
    dpr: f64,
}

impl<'f> DevMap<'f> {
    fn x(f: &'f Frame, dpr: f64) -> DevMap<'f> {
        DevMap::new(&f.x, f.plot.left, dpr)
    }

    fn y(f: &'f Frame, dpr: f64) -> DevMap<'f> {
        DevMap::new(&f.y, f.plot.top, dpr)
    }

    fn new(axis: &'f Axis, edge: f64, dpr: f64) -> DevMap<'f> {
        let linear = (!axis.log).then(|| {
            let per = axis.len / (axis.hi - axis.lo) * dpr;
            if axis.flip {
                ((axis.px0 + axis.len - edge) * dpr, -per)
            } else {
                ((axis.px0 - edge) * dpr, per)
            }
        });
        DevMap {
            axis,
            linear,
            edge,
            dpr,
        }
    }

    #[inline(always)]
    fn at(&self, v: f64) -> f64 {
        match self.linear {
            Some((origin, per)) => origin + (v - self.axis.lo) * per,
            None => (self.axis.to_px(v) - self.edge) * self.dpr,
        }
    }
}

/// Draws one run's raw columns `from..` (index into `run.cols`): for each, the join from the
/// previous column's last value to its first value, then its min–max span.
///
/// Joins between neighbouring pixel columns are vertical: half at each column, from its own value
/// to the midpoint. Both halves are folded into their column's span, so each column costs one
/// `fill` however noisy the data; joins across gaps are anti-aliased lines.
pub fn draw_raw(r: &mut Raster, f: &Frame, run: &RunFrame, from: usize, s: &Style) {
    let (dpr, thin) = (s.dpr, s.thin());
    // `round_ties_even` is one instruction in WASM (`f64.nearest`); `round` is a call. Column
    // centres at the usual device-pixel ratios never fall on a tie.
    let x_of =
        |c: &PxColumn| ((c.px - f.plot.left) * dpr - (thin as f64) / 2.0).round_ties_even() as i64;
    let y_of = |v: f64| (f.y.to_px(v) - f.plot.top) * dpr;
    // The join from `p` to `c`: `Some(midpoint)` when they are neighbours (the vertical case),
    // `None` after drawing it as a line, or when either end cannot be placed.
    let join = |r: &mut Raster, p: &PxColumn, c: &PxColumn| -> Option<(f64, f64, f64)> {
        if !(f.y.drawable(p.last) && f.y.drawable(c.first)) {
            return None;
        }
        let (ax, ay) = dev(f, dpr, p.px, f.y.to_px(p.last));
        let (bx, by) = dev(f, dpr, c.px, f.y.to_px(c.first));
        if (bx - ax).abs() <= thin as f64 + 0.01 {
            Some((ay, (ay + by) / 2.0, by))
        } else {
            r.line(ax, ay, bx, by, s.raw, thin);
            None
        }
    };
    let n = run.cols.len();
    // The vertical half-join carried from the previous column into this one: (mid, end).
    let mut carried: Option<(f64, f64)> = None;
    if from > 0 && from < n {
        let (p, c) = (&run.cols[from - 1], &run.cols[from]);
        if let Some((ay, mid, by)) = join(r, p, c) {
            // The previous column is already drawn: add its half of the join on its own.
            r.vspan(x_of(p), ay, mid, s.raw, thin);
            carried = Some((mid, by));
        }
    }
    for k in from..n {
        let c = &run.cols[k];
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut take = |y: f64| {
            if y.is_finite() {
                lo = min(lo, y);
                hi = max(hi, y);
            }
        };
        if let Some((mid, end)) = carried.take() {
            take(mid);
            take(end);
        }
        if let (Some(a), Some(b)) = (c.min, c.max)
            && let (Some(a), Some(b)) = (clamp_log(f, a), clamp_log(f, b))
        {
            take(y_of(a));
            take(y_of(b));
        }
        if let Some(nx) = run.cols.get(k + 1)
            && let Some((ay, mid, by)) = join(r, c, nx)
        {
            take(ay);
            take(mid);
            carried = Some((mid, by));
        }
        if lo <= hi {
            r.vspan(x_of(c), lo, hi, s.raw, thin);
        }
    }
}

/// On a log axis, values ≤ 0 cannot be placed: a span reaching them is cut at the axis bottom.
fn clamp_log(f: &Frame, v: f64) -> Option<f64> {
    if f.y.drawable(v) {
        Some(v)
    } else if f.y.log && v.is_finite() {
        Some(f.y.lo * 1e-3)
    } else {
        None
    }
}

/// Draws a run's smoothed line through its samples `from..` (joined to the sample before `from`).
pub fn draw_smoothed(r: &mut Raster, f: &Frame, run: &RunFrame, from: usize, s: &Style) {
    draw_smoothed_samples(r, f, run, from, s, true);
}

/// [`draw_smoothed`]; `skip_outside` false walks every sample (the tests' reference).
fn draw_smoothed_samples(
    r: &mut Raster,
    f: &Frame,
    run: &RunFrame,
    from: usize,
    s: &Style,
    skip_outside: bool,
) {
    let (xa, xb) = (f.x.lo, f.x.hi);
    // Zoomed in, most samples lie outside the x domain: with samples in x order, start at the
    // last one left of it and stop at the first one right of it.
    let xs = &run.sample_x[..run.smoothed.len().min(run.sample_x.len())];
    let (seen_from, seen_to) = if skip_outside && xs.is_sorted() {
        let first_inside = xs.partition_point(|&x| x < xa);
        let first_beyond = xs.partition_point(|&x| x <= xb);
        (
            first_inside.saturating_sub(1),
            (first_beyond + 1).min(xs.len()),
        )
    } else {
        (0, xs.len())
    };
    let start = from.saturating_sub(1).max(seen_from);
    let (dev_x, dev_y) = (DevMap::x(f, s.dpr), DevMap::y(f, s.dpr));
    let mut line = Stroke::new(s.color, s.thick());
    for k in start..seen_to {
        let (x, y) = (run.sample_x[k], run.smoothed[k]);
        if !(f.x.drawable(x) && f.y.drawable(y)) {
            line.lift(r);
            continue;
        }
        // Segments wholly outside the x domain are not drawn (the pen moves on).
        if k > start && (x < xa && run.sample_x[k - 1] < xa || x > xb && run.sample_x[k - 1] > xb) {
            line.lift(r);
        }
        line.to(r, dev_x.at(x), dev_y.at(y));
    }
    line.finish(r);
}

/// Draws a group's band and centre line from its column `from` on (the band of the column before,
/// which reaches it, and the line joining them included).
pub fn draw_group(
    r: &mut Raster,
    f: &Frame,
    g: &GroupFrame,
    from: usize,
    style: (Rgb, bool),
    dpr: f64,
) {
    let (color, band) = style;
    let (thick, w) = (thick_px(dpr), thin_px(dpr));
    let start = from.saturating_sub(1);
    if band {
        for k in start..g.idx.len() {
            let i = g.idx[k];
            if i < 0 || i >= f.ncols {
                continue;
            }
            let (Some(lo), Some(hi)) = (clamp_log(f, g.lo[k]), clamp_log(f, g.hi[k])) else {
                continue;
            };
            let x = ((f.px_of_col(i) - 0.5 - f.plot.left) * dpr).round() as i64;
            // The band runs on to the next column with data (sparse data leaves no stripes).
            let span = match g.idx.get(k + 1) {
                Some(&n) if n > i => ((n - i) as f64 * dpr).round() as i64,
                _ => w,
            };
            let (_, y0) = dev(f, dpr, 0.0, f.y.to_px(hi));
            let (_, y1) = dev(f, dpr, 0.0, f.y.to_px(lo));
            r.band(x, span.max(w), y0, y1, color, 0.22);
        }
    }
    let line = if g.smoothed.is_empty() {
        &g.center
    } else {
        &g.smoothed
    };
    let mut stroke = Stroke::new(color, thick);
    for (k, &v) in line.iter().enumerate().take(g.idx.len()).skip(start) {
        if !f.y.drawable(v) {
            stroke.lift(r);
            continue;
        }
        let (px, py) = dev(f, dpr, f.px_of_col(g.idx[k]), f.y.to_px(v));
        stroke.to(r, px, py);
    }
    stroke.finish(r);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::SeriesState;
    use crate::charts::plot::{View, XFormat, frame};
    use trackline_shared::api::RunSeries;
    use trackline_shared::smooth::Smoothing;

    #[test]
    fn a_zoomed_smoothed_line_drawn_from_the_samples_in_view_equals_one_drawn_from_all() {
        let pts: Vec<(f64, f64)> = (0..5_000)
            .map(|i| {
                (
                    f64::from(i),
                    (f64::from(i) * 0.013).sin() + f64::from(i % 11) / 10.0,
                )
            })
            .collect();
        let state = SeriesState::from_history(
            Some((0.0, 4_999.0)),
            400,
            RunSeries {
                run: "r".into(),
                total_points: 5_000,
                buckets: crate::charts::tests::decimate(&pts, 0.0, 4_999.0, 400),
            },
        );
        for domain in [
            (0.0, 4_999.0),
            (1_000.0, 1_400.0),
            (4_990.0, 6_000.0),
            (-50.0, 30.0),
        ] {
            let v = View {
                css_width: 300.0 + plot_margin(),
                css_height: 200.0,
                x_domain: domain,
                y_window: None,
                x_log: false,
                y_log: false,
                ignore_outliers: false,
                smoothing: Smoothing::Ema(0.8),
                x_format: XFormat::Step,
            };
            let f = frame(&[("r", &state)], &v);
            let style = Style::new([200, 0, 0], true, false, 1.0);
            let (w, h) = (f.plot.width as usize, f.plot.height as usize);
            let (mut seen, mut all) = (Raster::new(w, h), Raster::new(w, h));
            draw_smoothed_samples(&mut seen, &f, &f.runs[0], 0, &style, true);
            draw_smoothed_samples(&mut all, &f, &f.runs[0], 0, &style, false);
            assert!(seen.px.iter().any(|&p| p != pack(WHITE)), "{domain:?}");
            assert_eq!(seen, all, "{domain:?}");
        }
    }

    fn plot_margin() -> f64 {
        crate::charts::plot::LEFT + crate::charts::plot::RIGHT
    }

    #[test]
    fn over_equals_blending_each_channel_with_rounding() {
        let reference = |c: [u8; 3], d: [u8; 3], a: u32| {
            let mix =
                |k: usize| ((u32::from(c[k]) * a + u32::from(d[k]) * (255 - a) + 127) / 255) as u8;
            u32::from_le_bytes([mix(0), mix(1), mix(2), 255])
        };
        let px = |v: [u8; 3]| u32::from_le_bytes([v[0], v[1], v[2], 255]);
        for a in 0..=255u32 {
            for cv in 0..=255u8 {
                for dv in 0..=255u8 {
                    // Every channel value in every lane, with the other lanes' values varying.
                    let c = [cv, 255 - cv, cv ^ 0x5a];
                    let d = [dv ^ 0xa5, dv, 255 - dv];
                    assert_eq!(over(px(d), px(c), a), reference(c, d, a), "{c:?} {d:?} {a}");
                }
            }
        }
    }
}
