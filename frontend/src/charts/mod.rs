//! Line charts of decimated series: the data held per chart ([`SeriesState`]), the pure layout
//! math that turns it into pixel columns, a path, markers and axis ticks ([`layout`]), and the
//! canvas replay of that layout ([`canvas`]). Everything except `canvas` is plain Rust, unit-tested on
//! the host.
//!
//! Drawing rule: every pixel column is drawn as one vertical span from its minimum to its maximum,
//! and the last value of a column is joined to the first value of the next, so a spike is never
//! hidden however many points share a pixel. Non-finite values (NaN, ±Inf) are not drawn as lines;
//! they get markers at the top or bottom edge and the hover read-out names them.

pub mod canvas;
pub mod plot;
pub mod raster;
mod series;
pub mod settings;
mod ticks;

pub use series::{AppendOutcome, SeriesState};
pub use ticks::{nice_ticks, tick_label};

/// Space around the plot area, in CSS pixels (y labels on the left, x labels below).
pub const MARGIN_LEFT: f64 = 56.0;
pub const MARGIN_RIGHT: f64 = 10.0;
pub const MARGIN_TOP: f64 = 6.0;
pub const MARGIN_BOTTOM: f64 = 22.0;

/// The pixel columns to ask the daemon for, for a canvas `css_width` wide: one per plot pixel.
pub fn plot_columns(css_width: f64) -> u32 {
    let w = (css_width - MARGIN_LEFT - MARGIN_RIGHT).floor();
    if w.is_finite() && w >= 1.0 {
        (w as u32).min(16384)
    } else {
        1
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.left + self.width
    }
    pub fn bottom(&self) -> f64 {
        self.top + self.height
    }
}

/// One pixel column of the plot with everything known about the points that fall in it.
#[derive(Clone, Debug, PartialEq)]
pub struct PxColumn {
    /// Index of the column inside the plot (0 = leftmost).
    pub index: u32,
    /// Centre of the column in CSS pixels from the canvas's left edge.
    pub px: f64,
    pub x_first: f64,
    pub x_last: f64,
    /// Raw first and last values (may be non-finite).
    pub first: f64,
    pub last: f64,
    /// Extremes over the finite values; `None` when the column has only non-finite ones.
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub count: u64,
    pub nonfinite: u64,
    /// Which non-finite kinds are known to be present (from raw points, or a bucket's first/last).
    pub has_nan: bool,
    pub has_pos_inf: bool,
    pub has_neg_inf: bool,
}

impl PxColumn {
    /// Non-finite points whose kind is not known (inside a bucket, neither its first nor last).
    pub fn unknown_nonfinite(&self) -> u64 {
        let known =
            u64::from(self.has_nan) + u64::from(self.has_pos_inf) + u64::from(self.has_neg_inf);
        self.nonfinite.saturating_sub(known)
    }

    pub(crate) fn merge(&mut self, o: &PxColumn) {
        self.x_last = o.x_last;
        self.last = o.last;
        self.min = opt_min(self.min, o.min);
        self.max = opt_max(self.max, o.max);
        self.count += o.count;
        self.nonfinite += o.nonfinite;
        self.has_nan |= o.has_nan;
        self.has_pos_inf |= o.has_pos_inf;
        self.has_neg_inf |= o.has_neg_inf;
    }
}

fn opt_min(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

fn opt_max(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// A path command in CSS pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Seg {
    Move(f64, f64),
    Line(f64, f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    /// NaN, or a non-finite value of unknown kind: a triangle on the bottom edge pointing up.
    NaN,
    /// +Inf: a triangle on the top edge pointing up.
    PosInf,
    /// -Inf: a triangle on the bottom edge pointing down.
    NegInf,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub kind: MarkerKind,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    /// Position in CSS pixels along its axis (x from the canvas's left, y from its top).
    pub pos: f64,
    pub label: String,
}

/// Everything needed to draw one chart, in CSS pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub css_width: f64,
    pub css_height: f64,
    pub plot: Rect,
    pub x_domain: (f64, f64),
    pub y_domain: (f64, f64),
    /// Non-empty columns, left to right.
    pub columns: Vec<PxColumn>,
    pub path: Vec<Seg>,
    pub markers: Vec<Marker>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    /// Whether the x axis counts whole steps (ticks are integers).
    pub integer_x: bool,
}

impl Layout {
    /// The column nearest to the CSS pixel `px` (e.g. under the mouse).
    pub fn nearest(&self, px: f64) -> Option<&PxColumn> {
        if self.columns.is_empty() {
            return None;
        }
        let i = self.columns.partition_point(|c| c.px < px);
        let cands = [i.checked_sub(1), (i < self.columns.len()).then_some(i)];
        cands
            .into_iter()
            .flatten()
            .map(|j| &self.columns[j])
            .min_by(|a, b| (a.px - px).abs().total_cmp(&(b.px - px).abs()))
    }

    pub fn y_to_px(&self, y: f64) -> f64 {
        let (lo, hi) = self.y_domain;
        self.plot.top + (hi - y) / (hi - lo) * self.plot.height
    }
}

/// Source columns (buckets, then live points) in x order, before merging into pixels.
pub(crate) fn source_columns(s: &SeriesState) -> Vec<(f64, PxColumn)> {
    let mut out = Vec::with_capacity(s.buckets.len() + s.tail_x.len());
    visit_sources(s, |x, c| out.push((x, c)));
    out
}

/// Calls `f(x, column)` for every source column (buckets, then live points) in x order, without
/// collecting them (the per-frame path for many runs).
pub(crate) fn visit_sources(s: &SeriesState, mut f: impl FnMut(f64, PxColumn)) {
    let b = &s.buckets;
    let (x0, x1) = s.window.unwrap_or((0.0, 0.0));
    // Columns are equal in x, or in log10(x) when the history was decimated for a log axis.
    let log = s.log && x0 > 0.0;
    let (t0, t1) = if log {
        (x0.log10(), x1.log10())
    } else {
        (x0, x1)
    };
    let w = if s.width > 0 {
        (t1 - t0) / f64::from(s.width)
    } else {
        0.0
    };
    for i in 0..b.len() {
        let col = b.column[i];
        let count = u64::from(b.count[i]);
        let first = b.first[i];
        let last = b.last[i];
        // The column's centre on the x axis; for a degenerate window, the points' own x.
        let x = if w > 0.0 {
            let t = t0 + (f64::from(col) + 0.5) * w;
            if log { 10f64.powf(t) } else { t }
        } else {
            (b.x_first[i] + b.x_last[i]) / 2.0
        };
        let mut c = PxColumn {
            index: 0,
            px: 0.0,
            x_first: b.x_first[i],
            x_last: b.x_last[i],
            first,
            last,
            min: b.min[i],
            max: b.max[i],
            count,
            nonfinite: u64::from(b.nonfinite[i]),
            has_nan: false,
            has_pos_inf: false,
            has_neg_inf: false,
        };
        note_kind(&mut c, first);
        if count > 1 {
            note_kind(&mut c, last);
        }
        f(x, c);
    }
    for (&x, &y) in s.tail_x.iter().zip(&s.tail_y) {
        let fin = y.is_finite();
        let mut c = PxColumn {
            index: 0,
            px: 0.0,
            x_first: x,
            x_last: x,
            first: y,
            last: y,
            min: fin.then_some(y),
            max: fin.then_some(y),
            count: 1,
            nonfinite: u64::from(!fin),
            has_nan: false,
            has_pos_inf: false,
            has_neg_inf: false,
        };
        note_kind(&mut c, y);
        f(x, c);
    }
}

fn note_kind(c: &mut PxColumn, v: f64) {
    if v.is_nan() {
        c.has_nan = true;
    } else if v == f64::INFINITY {
        c.has_pos_inf = true;
    } else if v == f64::NEG_INFINITY {
        c.has_neg_inf = true;
    }
}

/// Lays out `s` on a canvas of `css_width` × `css_height` CSS pixels. `integer_x` makes x ticks
/// whole numbers (the step axis).
pub fn layout(s: &SeriesState, css_width: f64, css_height: f64, integer_x: bool) -> Layout {
    let plot = Rect {
        left: MARGIN_LEFT,
        top: MARGIN_TOP,
        width: (css_width - MARGIN_LEFT - MARGIN_RIGHT).max(1.0),
        height: (css_height - MARGIN_TOP - MARGIN_BOTTOM).max(1.0),
    };
    let src = source_columns(s);

    // x domain: the fetched window, widened by live points beyond it.
    let mut xa = f64::INFINITY;
    let mut xb = f64::NEG_INFINITY;
    if let Some((x0, x1)) = s.window {
        xa = x0;
        xb = x1;
    }
    for &x in &s.tail_x {
        if x.is_finite() {
            xa = xa.min(x);
            xb = xb.max(x);
        }
    }
    if !(xa.is_finite() && xb.is_finite()) {
        xa = 0.0;
        xb = 1.0;
    }
    if xb <= xa {
        let pad = if integer_x {
            1.0
        } else {
            xa.abs().max(1.0) * 0.05
        };
        xa -= pad;
        xb += pad;
    }

    // Merge sources into pixel columns.
    let ncols = plot.width.floor().max(1.0) as u32;
    let mut columns: Vec<PxColumn> = Vec::with_capacity(src.len().min(ncols as usize + 1));
    for (x, mut c) in src {
        let rel = (x - xa) / (xb - xa) * plot.width;
        let idx = if rel.is_finite() {
            rel.floor().clamp(0.0, f64::from(ncols - 1)) as u32
        } else {
            0
        };
        match columns.last_mut() {
            Some(prev) if prev.index == idx => prev.merge(&c),
            _ => {
                c.index = idx;
                c.px = plot.left + f64::from(idx) + 0.5;
                columns.push(c);
            }
        }
    }

    // y domain over finite extremes, padded a little.
    let mut ya = f64::INFINITY;
    let mut yb = f64::NEG_INFINITY;
    for c in &columns {
        if let Some(m) = c.min {
            ya = ya.min(m);
        }
        if let Some(m) = c.max {
            yb = yb.max(m);
        }
    }
    if !(ya.is_finite() && yb.is_finite()) {
        ya = 0.0;
        yb = 1.0;
    } else if yb <= ya {
        let pad = if ya == 0.0 { 1.0 } else { ya.abs() * 0.1 };
        ya -= pad;
        yb += pad;
    } else {
        let pad = (yb - ya) * 0.05;
        ya -= pad;
        yb += pad;
    }

    let mut l = Layout {
        css_width,
        css_height,
        plot,
        x_domain: (xa, xb),
        y_domain: (ya, yb),
        columns,
        path: Vec::new(),
        markers: Vec::new(),
        x_ticks: Vec::new(),
        y_ticks: Vec::new(),
        integer_x,
    };
    l.path = build_path(&l);
    l.markers = build_markers(&l);
    l.x_ticks = x_ticks(&l);
    l.y_ticks = y_ticks(&l);
    l
}

/// One path for the whole series: per column a join from the previous column's last value to this
/// column's first, then the min..max span (at least one pixel tall, so lone points show).
fn build_path(l: &Layout) -> Vec<Seg> {
    let mut path = Vec::with_capacity(l.columns.len() * 4);
    let mut prev: Option<&PxColumn> = None;
    for c in &l.columns {
        if let Some(p) = prev
            && p.last.is_finite()
            && c.first.is_finite()
        {
            path.push(Seg::Move(p.px, l.y_to_px(p.last)));
            path.push(Seg::Line(c.px, l.y_to_px(c.first)));
        }
        if let (Some(lo), Some(hi)) = (c.min, c.max) {
            let (mut top, mut bot) = (l.y_to_px(hi), l.y_to_px(lo));
            if bot - top < 1.0 {
                let mid = (top + bot) / 2.0;
                top = mid - 0.5;
                bot = mid + 0.5;
            }
            path.push(Seg::Move(c.px, top));
            path.push(Seg::Line(c.px, bot));
        }
        prev = Some(c);
    }
    path
}

fn build_markers(l: &Layout) -> Vec<Marker> {
    let mut out = Vec::new();
    for c in l.columns.iter().filter(|c| c.nonfinite > 0) {
        if c.has_pos_inf {
            out.push(Marker {
                x: c.px,
                kind: MarkerKind::PosInf,
            });
        }
        if c.has_neg_inf {
            out.push(Marker {
                x: c.px,
                kind: MarkerKind::NegInf,
            });
        }
        if c.has_nan || c.unknown_nonfinite() > 0 {
            out.push(Marker {
                x: c.px,
                kind: MarkerKind::NaN,
            });
        }
    }
    out
}

fn x_ticks(l: &Layout) -> Vec<Tick> {
    let (a, b) = l.x_domain;
    let target = (l.plot.width / 90.0).clamp(2.0, 10.0) as usize;
    let (ticks, step) = nice_ticks(a, b, target, l.integer_x);
    ticks
        .into_iter()
        .map(|v| Tick {
            pos: l.plot.left + (v - a) / (b - a) * l.plot.width,
            label: tick_label(v, step),
        })
        .collect()
}

fn y_ticks(l: &Layout) -> Vec<Tick> {
    let (a, b) = l.y_domain;
    let target = (l.plot.height / 40.0).clamp(2.0, 8.0) as usize;
    let (ticks, step) = nice_ticks(a, b, target, false);
    ticks
        .into_iter()
        .map(|v| Tick {
            pos: l.y_to_px(v),
            label: tick_label(v, step),
        })
        .collect()
}

/// The hover read-out of one column, as text for people.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Readout {
    /// `step 120` or `step 120–180` for a column that covers several steps.
    pub x: String,
    /// The value (`0.231`, `NaN`, `+Inf`); the last one for a column of several points.
    pub value: String,
    /// Whether `value` itself names a non-finite value (shown in red).
    pub value_bad: bool,
    /// For a column of several points: `min … max · N pts`; empty otherwise.
    pub detail: String,
    /// Non-finite values in the column besides `value`, e.g. `2 non-finite (+Inf, NaN)`; empty if none.
    pub bad: String,
}

/// The read-out of the column under the pointer.
pub fn readout(c: &PxColumn, x_name: &str) -> Readout {
    use trackline_shared::num::display;
    let x = if c.x_first == c.x_last || c.count == 1 {
        format!("{x_name} {}", display(c.x_first))
    } else {
        format!("{x_name} {}–{}", display(c.x_first), display(c.x_last))
    };
    let detail = if c.count > 1 {
        match (c.min, c.max) {
            (Some(lo), Some(hi)) if lo != hi => {
                format!("{} … {} · {} pts", display(lo), display(hi), c.count)
            }
            _ => format!("{} pts", c.count),
        }
    } else {
        String::new()
    };
    let value_bad = !c.last.is_finite();
    // Non-finite points other than the one `value` already names.
    let others = c.nonfinite - u64::from(value_bad);
    let bad = if others == 0 {
        String::new()
    } else {
        let mut kinds = Vec::new();
        if c.has_nan {
            kinds.push("NaN");
        }
        if c.has_pos_inf {
            kinds.push("+Inf");
        }
        if c.has_neg_inf {
            kinds.push("-Inf");
        }
        if kinds.is_empty() || value_bad {
            format!("{} non-finite", c.nonfinite)
        } else {
            format!("{} non-finite ({})", c.nonfinite, kinds.join(", "))
        }
    };
    Readout {
        x,
        value: display(c.last),
        value_bad,
        detail,
        bad,
    }
}

/// The read-out of the newest point (shown while the pointer is elsewhere).
pub fn latest_readout(c: &PxColumn, x_name: &str) -> Readout {
    use trackline_shared::num::display;
    Readout {
        x: format!("{x_name} {}", display(c.x_last)),
        value: display(c.last),
        value_bad: !c.last.is_finite(),
        detail: String::new(),
        bad: String::new(),
    }
}

#[cfg(test)]
mod plot_tests;
#[cfg(test)]
mod tests;
