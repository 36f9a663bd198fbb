//! Line charts of decimated series: the data held per chart ([`SeriesState`]), the pixel columns
//! it turns into ([`PxColumn`], [`Sources`]), the multi-run plot math ([`plot`]) and our own
//! rasteriser ([`raster`]). Everything is plain Rust, unit-tested on the host; the canvas calls live
//! in `components/chart/`.
//!
//! Drawing rule: every pixel column is drawn as one vertical span from its minimum to its maximum,
//! and the last value of a column is joined to the first value of the next, so a spike is never
//! hidden however many points share a pixel. Non-finite values (NaN, ±Inf) are not drawn as lines;
//! they get markers at the top or bottom edge and the hover read-out names them.

pub mod custom_tables;
pub mod figure;
mod groups;
pub mod heatmap;
pub mod meshes;
mod minmax;
pub mod orbit;
pub mod pins;
pub mod plot;
pub mod plotly_traces;
pub mod preview;
pub mod quantiles;
pub mod raster;
pub mod render;
mod series;
pub mod settings;
mod stroke;
mod ticks;

pub use series::{AppendOutcome, SeriesState};
pub use ticks::{nice_ticks, tick_label};

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
    /// The x of the first point holding `min` / `max` (`None` when unknown or none): where a
    /// spike drawn in this column really is.
    pub x_of_min: Option<f64>,
    pub x_of_max: Option<f64>,
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
        if o.min.is_some_and(|m| self.min.is_none_or(|s| m < s)) {
            self.x_of_min = o.x_of_min;
        }
        if o.max.is_some_and(|m| self.max.is_none_or(|s| m > s)) {
            self.x_of_max = o.x_of_max;
        }
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
        (Some(a), Some(b)) => Some(minmax::min(a, b)),
        (a, None) => a,
        (None, b) => b,
    }
}

fn opt_max(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(minmax::max(a, b)),
        (a, None) => a,
        (None, b) => b,
    }
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

#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    /// Position in CSS pixels along its axis (x from the canvas's left, y from its top).
    pub pos: f64,
    pub label: String,
}

/// Where a chart's held points sit on the x axis: the bucket columns of the history (placed at
/// their decimation column's centre), then the live points (at their own x), in x order.
pub(crate) struct Sources<'a> {
    s: &'a SeriesState,
    /// The decimation window's start and column width, in x or in log10(x).
    t0: f64,
    w: f64,
    log: bool,
}

impl<'a> Sources<'a> {
    pub(crate) fn new(s: &'a SeriesState) -> Self {
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
        Sources { s, t0, w, log }
    }

    /// Bucket columns held (the live points follow them).
    pub(crate) fn buckets(&self) -> usize {
        self.s.buckets.len()
    }

    /// Whether the buckets' x rise with their index, so a range of x is a range of buckets
    /// (always, unless the window was degenerate and each bucket sits at its own points).
    pub(crate) fn ordered(&self) -> bool {
        self.w > 0.0
    }

    /// Where bucket `i` is placed: its column's centre; for a degenerate window, its points' own x.
    pub(crate) fn bucket_x(&self, i: usize) -> f64 {
        let b = &self.s.buckets;
        if self.w > 0.0 {
            let t = self.t0 + (f64::from(b.column[i]) + 0.5) * self.w;
            if self.log { 10f64.powf(t) } else { t }
        } else {
            (b.x_first[i] + b.x_last[i]) / 2.0
        }
    }

    /// Bucket `i` as a pixel column (not yet placed: `index` and `px` are 0).
    pub(crate) fn bucket(&self, i: usize) -> PxColumn {
        let b = &self.s.buckets;
        let count = u64::from(b.count[i]);
        let (first, last) = (b.first[i], b.last[i]);
        let mut c = PxColumn {
            index: 0,
            px: 0.0,
            x_first: b.x_first[i],
            x_last: b.x_last[i],
            first,
            last,
            min: b.min[i],
            max: b.max[i],
            x_of_min: b.x_of_min.get(i).copied().filter(|x| !x.is_nan()),
            x_of_max: b.x_of_max.get(i).copied().filter(|x| !x.is_nan()),
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
        c
    }

    /// Calls `f(x, column)` for each live point, in order.
    pub(crate) fn visit_tail(&self, mut f: impl FnMut(f64, PxColumn)) {
        for (&x, &y) in self.s.tail_x.iter().zip(&self.s.tail_y) {
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
                x_of_min: fin.then_some(x),
                x_of_max: fin.then_some(x),
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

#[cfg(test)]
mod plot_tests;
#[cfg(test)]
pub(crate) mod tests;
