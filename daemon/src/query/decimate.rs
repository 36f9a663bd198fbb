//! Exact per-pixel-column decimation of a [`Series`] for charts, and the raw-point slices that
//! WebSocket deltas carry. Pure functions, no I/O.
//!
//! A window `[x0, x1]` is cut into `width` equal columns; each non-empty column is reduced to its
//! count, non-finite count, first/last point and min/max over finite values (see
//! [`trackline_shared::Buckets`]). Column boundaries are found by (galloping) binary search on x,
//! which must be nondecreasing for exact columns, and the extremes come from
//! [`Series::range_stats`], so a query costs O(non-empty columns × (log points + 16 × levels))
//! however many points a column holds.

use crate::store::column::PackedColumn;
use crate::store::series::{RangeStats, Series};
use trackline_shared::{Buckets, XAxis};

/// The x values of a series along one axis, without allocating: `xs[i] - origin`.
///
/// Subtracting a constant keeps nondecreasing x nondecreasing, so binary search stays valid, and
/// subtracting `0.0` is exact, so step and wall-time x are the stored values themselves.
#[derive(Clone, Copy, Debug)]
pub struct XCol<'a> {
    xs: &'a PackedColumn,
    origin: f64,
}

impl XCol<'_> {
    pub fn len(&self) -> usize {
        self.xs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.xs.is_empty()
    }

    /// The x of point `index`.
    #[inline]
    pub fn get(&self, index: usize) -> f64 {
        self.xs.get(index) - self.origin
    }

    /// The first index in `lo..hi` whose x fails `pred`, given that `pred` holds for a prefix.
    ///
    /// Galloping from `lo` and then bisecting: O(log(answer - lo)) probes, all near `lo`, which
    /// matters when consecutive searches each move a short way through a long series.
    fn partition_point(&self, lo: usize, hi: usize, pred: impl Fn(f64) -> bool) -> usize {
        let holds = |i: usize| pred(self.get(i));
        let len = hi - lo;
        let mut bound = 1;
        while bound < len && holds(lo + bound) {
            bound *= 2;
        }
        // `pred` holds at `bound / 2` (or nothing is known yet when `bound == 1`) and fails at
        // `bound` unless that is past the end: bisect `[bound / 2, min(len, bound + 1))`.
        let (mut a, mut b) = (lo + bound / 2, lo + len.min(bound + 1));
        while a < b {
            let mid = a + (b - a) / 2;
            if holds(mid) {
                a = mid + 1;
            } else {
                b = mid;
            }
        }
        a
    }

    /// [`XCol::partition_point`] when the answer is probably `lo + guess` (`pred` holds at `lo`):
    /// the end of a column whose neighbour held `guess` points. Evenly spaced points take two
    /// probes instead of galloping and bisecting through the column.
    fn partition_near(
        &self,
        lo: usize,
        hi: usize,
        guess: usize,
        pred: impl Fn(f64) -> bool + Copy,
    ) -> usize {
        let at = lo + guess.max(1);
        if at >= hi {
            return self.partition_point(lo, hi, pred);
        }
        if pred(self.get(at)) {
            return self.partition_point(at, hi, pred);
        }
        if pred(self.get(at - 1)) {
            return at;
        }
        self.partition_point(lo, at - 1, pred)
    }
}

/// The x column of `series` on `axis`; `origin_secs` (the run's creation time) is subtracted for
/// [`XAxis::RelativeTime`] and ignored otherwise.
pub fn x_column(series: &Series, axis: XAxis, origin_secs: f64) -> XCol<'_> {
    match axis {
        XAxis::Step => XCol {
            xs: series.steps(),
            origin: 0.0,
        },
        XAxis::WallTime => XCol {
            xs: series.wall(),
            origin: 0.0,
        },
        XAxis::RelativeTime => XCol {
            xs: series.wall(),
            origin: origin_secs,
        },
    }
}

/// The x of the first and last point, `None` for an empty series. Across runs, the caller takes
/// the min of the firsts and the max of the lasts.
pub fn extent(series: &Series, axis: XAxis, origin_secs: f64) -> Option<(f64, f64)> {
    extent_on(series, axis, origin_secs, Scale::Linear)
}

/// [`extent`] of the points a `scale` can place: on [`Scale::Log`], from the first x above zero.
pub fn extent_on(
    series: &Series,
    axis: XAxis,
    origin_secs: f64,
    scale: Scale,
) -> Option<(f64, f64)> {
    let x = x_column(series, axis, origin_secs);
    let first = match scale {
        Scale::Linear => 0,
        Scale::Log => x.partition_point(0, x.len(), |v| v <= 0.0),
    };
    (first < x.len()).then(|| (x.get(first), x.get(x.len() - 1)))
}

/// How columns divide the window: into equal spans of x, or of log10(x) for a log x axis (so each
/// column is one pixel of a log-scaled chart, and the decimation stays exact there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scale {
    #[default]
    Linear,
    /// Needs a window with `x0 > 0`; points at x ≤ 0 lie outside it.
    Log,
}

/// How the window `[x0, x1]` maps x to a column: `floor((t(x) - t(x0)) / w)` clamped to
/// `width - 1`, with `w = (t(x1) - t(x0)) / width` and `t` the identity or log10. Nondecreasing in
/// x, which the binary searches rely on.
///
/// `t` is a type parameter, not a [`Scale`] read per call: the compiler may compute both arms of
/// a `match` on the scale to pick one without a branch, and it did so here, taking the log10 of
/// every x of a linear query (7% of a 1,000-run query).
#[derive(Clone, Copy, Debug)]
struct Columns<T> {
    t: T,
    t0: f64,
    w: f64,
    last: u32,
}

impl<T: Fn(f64) -> f64 + Copy> Columns<T> {
    /// `None` for an empty or non-finite window, zero width, or a log window not above zero.
    fn new((x0, x1): (f64, f64), width: u32, scale: Scale, t: T) -> Option<Columns<T>> {
        let valid = x0.is_finite()
            && x1.is_finite()
            && x0 <= x1
            && width > 0
            && (scale == Scale::Linear || x0 > 0.0);
        valid.then(|| Columns {
            t,
            t0: t(x0),
            w: (t(x1) - t(x0)) / f64::from(width),
            last: width - 1,
        })
    }

    /// The column of an `x` inside the window. A zero-width window (`x0 == x1`, or a span so small
    /// that `w` underflows) gives NaN for `x == x0`, which lands in column 0; an infinite `w` (the
    /// span overflowed) puts everything in column 0.
    #[inline]
    fn of(&self, x: f64) -> u32 {
        // The floor of `t`, without `f64::floor` (a call into libm on x86-64's baseline, and
        // this runs a dozen times a column): `last` is an integer, so `t >= last` is `floor(t) >=
        // last`, and below it a positive `t` truncates to its floor.
        let t = ((self.t)(x) - self.t0) / self.w;
        if t >= f64::from(self.last) {
            self.last
        } else if t > 0.0 {
            t as u32
        } else {
            0
        }
    }
}

/// Decimates the points of `series` whose x (on `axis`) lies in `window = (x0, x1)` into `width`
/// equal columns, as documented on [`Buckets`]. Returns no columns for an empty series, a window
/// with `x0 > x1` or a non-finite end, or `width == 0`.
pub fn decimate(
    series: &Series,
    axis: XAxis,
    origin_secs: f64,
    window: (f64, f64),
    width: u32,
) -> Buckets {
    decimate_on(series, axis, origin_secs, window, width, Scale::Linear)
}

/// [`decimate`] into columns equal on `scale`: with [`Scale::Log`], equal in log10(x), for a log x
/// axis; the window must then start above zero (no columns otherwise).
pub fn decimate_on(
    series: &Series,
    axis: XAxis,
    origin_secs: f64,
    window: (f64, f64),
    width: u32,
    scale: Scale,
) -> Buckets {
    let x = x_column(series, axis, origin_secs);
    match scale {
        Scale::Linear => Columns::new(window, width, scale, |x| x)
            .map_or_else(Buckets::default, |c| decimate_into(series, x, window, c)),
        Scale::Log => Columns::new(window, width, scale, f64::log10)
            .map_or_else(Buckets::default, |c| decimate_into(series, x, window, c)),
    }
}

/// [`decimate_on`] with the window's columns known valid.
fn decimate_into<T: Fn(f64) -> f64 + Copy>(
    series: &Series,
    x: XCol<'_>,
    window: (f64, f64),
    columns: Columns<T>,
) -> Buckets {
    let (x0, x1) = window;
    let start = x.partition_point(0, x.len(), |v| v < x0);
    let end = x.partition_point(start, x.len(), |v| v <= x1);
    let values = series.values();
    let mut out = Buckets::with_capacity(end.saturating_sub(start).min(columns.last as usize + 1));

    let mut lo = start;
    // Points in the column before: where the next column probably ends.
    let mut guess = 1;
    while lo < end {
        // Every index whose column is at most `column` comes before `hi`; the predicate uses the
        // very mapping that defines the column, so each point lands in exactly one of them. (If x
        // ever decreases, e.g. a wall clock stepped back, the searches still end and every point
        // is still counted once, but not necessarily in its own column.)
        let column = columns.of(x.get(lo));
        let hi = x
            .partition_near(lo, end, guess, |v| columns.of(v) <= column)
            .max(lo + 1);
        guess = hi - lo;
        let (stats, at_min, at_max) = if hi - lo <= SCAN_POINTS {
            scan(&values[lo..hi])
        } else {
            let stats = series.range_stats(lo, hi);
            // Where the extremes are: the first point when it holds one, else a search of the
            // pyramid.
            let at = |extreme: Option<f64>, max: bool| match extreme {
                None => None,
                Some(v) if values[lo] == v => Some(0),
                Some(v) => series.first_holding(lo, hi, max, v).map(|i| i - lo),
            };
            (
                stats,
                at(stats.finite_min(), false),
                at(stats.finite_max(), true),
            )
        };
        out.column.push(column);
        out.count.push(u32::try_from(hi - lo).unwrap_or(u32::MAX));
        out.nonfinite.push(stats.nonfinite);
        out.x_first.push(x.get(lo));
        out.x_last.push(x.get(hi - 1));
        out.first.push(values[lo]);
        out.last.push(values[hi - 1]);
        out.min.push(stats.finite_min());
        out.max.push(stats.finite_max());
        out.x_of_min
            .push(at_min.map_or(f64::NAN, |k| x.get(lo + k)));
        out.x_of_max
            .push(at_max.map_or(f64::NAN, |k| x.get(lo + k)));
        lo = hi;
    }
    out
}

/// Columns of at most this many points (a zoomed-in window's) are reduced by one pass over their
/// values: cheaper than the pyramid's blocks and two searches for where the extremes are. Above
/// it the pyramid is faster (one pass over a zoomed-out column of a 100k-point run, ~80 points,
/// was slower).
const SCAN_POINTS: usize = 32;

/// The summary of `values` and where its first min and first max are (`None` with no finite
/// value), in one pass.
fn scan(values: &[f64]) -> (RangeStats, Option<usize>, Option<usize>) {
    let mut stats = RangeStats::EMPTY;
    let (mut at_min, mut at_max) = (None, None);
    for (i, &v) in values.iter().enumerate() {
        if !v.is_finite() {
            stats.nonfinite += 1;
            continue;
        }
        // Strictly below and above: the first of equal extremes stays.
        if v < stats.min {
            stats.min = v;
            at_min = Some(i);
        }
        if v > stats.max {
            stats.max = v;
            at_max = Some(i);
        }
    }
    (stats, at_min, at_max)
}

/// Copies of at most `max` points from offset `from` on, as `(steps, wall times in unix seconds,
/// values)`; empty when `from` is at or past the end.
pub fn points_since(series: &Series, from: usize, max: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let lo = from.min(series.len());
    let hi = lo.saturating_add(max).min(series.len());
    (
        series.steps().range_to_vec(lo..hi),
        series.wall().range_to_vec(lo..hi),
        series.values()[lo..hi].to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One column as computed the slow way, straight from the definition on `Buckets`.
    #[derive(Debug, PartialEq)]
    struct Column {
        column: u32,
        count: u32,
        nonfinite: u32,
        x_first: f64,
        x_last: f64,
        /// Compared by bits so that NaN equals NaN.
        first: u64,
        last: u64,
        min: Option<f64>,
        max: Option<f64>,
        /// x of the first point holding min / max, by bits (NaN when none).
        x_of_min: u64,
        x_of_max: u64,
    }

    /// O(n): visits every point, with the column formula written out independently.
    fn naive(xs: &[f64], values: &[f64], (x0, x1): (f64, f64), width: u32) -> Vec<Column> {
        let mut out: Vec<Column> = Vec::new();
        if !(x0 <= x1 && width > 0) {
            return out;
        }
        let w = (x1 - x0) / f64::from(width);
        for (&x, &v) in xs.iter().zip(values) {
            if !(x0 <= x && x <= x1) {
                continue;
            }
            let raw = ((x - x0) / w).floor();
            let column = if raw.is_nan() {
                0
            } else {
                raw.clamp(0.0, f64::from(width - 1)) as u32
            };
            if out.last().is_none_or(|c| c.column != column) {
                assert!(out.last().is_none_or(|c| c.column < column));
                out.push(Column {
                    column,
                    count: 0,
                    nonfinite: 0,
                    x_first: x,
                    x_last: x,
                    first: v.to_bits(),
                    last: v.to_bits(),
                    min: None,
                    max: None,
                    x_of_min: f64::NAN.to_bits(),
                    x_of_max: f64::NAN.to_bits(),
                });
            }
            let c = out.last_mut().expect("pushed above");
            c.count += 1;
            c.x_last = x;
            c.last = v.to_bits();
            if v.is_finite() {
                if c.min.is_none_or(|m| v < m) {
                    c.x_of_min = x.to_bits();
                }
                if c.max.is_none_or(|m| v > m) {
                    c.x_of_max = x.to_bits();
                }
                c.min = Some(c.min.map_or(v, |m| m.min(v)));
                c.max = Some(c.max.map_or(v, |m| m.max(v)));
            } else {
                c.nonfinite += 1;
            }
        }
        out
    }

    fn columns(b: &Buckets) -> Vec<Column> {
        (0..b.len())
            .map(|i| Column {
                column: b.column[i],
                count: b.count[i],
                nonfinite: b.nonfinite[i],
                x_first: b.x_first[i],
                x_last: b.x_last[i],
                first: b.first[i].to_bits(),
                last: b.last[i].to_bits(),
                min: b.min[i],
                max: b.max[i],
                x_of_min: b.x_of_min[i].to_bits(),
                x_of_max: b.x_of_max[i].to_bits(),
            })
            .collect()
    }

    /// About one in eight not finite, the rest finite in [-1e3, 1.1e3].
    fn value_from(bits: u16) -> f64 {
        match bits % 8 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            _ => f64::from(bits) / 30.0 - 1e3,
        }
    }

    /// Strictly increasing steps with random gaps, nondecreasing wall times with repeats, values
    /// with NaN and ±Inf; each point from one random `u64` so that thousands are cheap to generate.
    fn series() -> impl Strategy<Value = Series> {
        prop::collection::vec(any::<u64>(), 0..4000).prop_map(|points| {
            let mut s = Series::new();
            let (mut step, mut wall) = (-100.0, 1.7e9);
            for bits in points {
                let [v0, v1, s0, s1, w0, w1, _, _] = bits.to_le_bytes();
                step += f64::from(1 + u16::from_le_bytes([s0, s1]) % 49) * 0.37;
                wall += f64::from(u16::from_le_bytes([w0, w1]) % 3) * 0.5;
                s.push(step, wall, value_from(u16::from_le_bytes([v0, v1])));
            }
            s
        })
    }

    fn axis() -> impl Strategy<Value = XAxis> {
        prop_oneof![
            Just(XAxis::Step),
            Just(XAxis::WallTime),
            Just(XAxis::RelativeTime),
        ]
    }

    /// A window chosen relative to the series' extent: inside, around, degenerate or disjoint.
    fn window_in((first, last): (f64, f64), a: f64, b: f64) -> (f64, f64) {
        let span = (last - first).max(1.0);
        let (x0, x1) = (first + a * span, first + b * span);
        (x0.min(x1), x0.max(x1))
    }

    proptest! {
        #[test]
        fn decimate_matches_naive(
            s in series(),
            axis in axis(),
            a in -0.2..1.2f64,
            b in -0.2..1.2f64,
            exact_ends in any::<bool>(),
            degenerate in any::<bool>(),
            width in prop_oneof![1..8u32, 1..2000u32],
        ) {
            let origin = 1.7e9 - 12.5;
            let x = x_column(&s, axis, origin);
            let xs: Vec<f64> = (0..x.len()).map(|i| x.get(i)).collect();
            let ext = extent(&s, axis, origin).unwrap_or((0.0, 10.0));
            let mut window = window_in(ext, a, b);
            if exact_ends && !xs.is_empty() {
                // Ends exactly on points, where off-by-one errors live.
                let pick = |t: f64| xs[((t.clamp(0.0, 1.0)) * (xs.len() - 1) as f64) as usize];
                window = (pick(a.min(b)), pick(a.max(b)));
            }
            if degenerate {
                window.1 = window.0;
            }
            let got = decimate(&s, axis, origin, window, width);
            let want = naive(&xs, s.values(), window, width);
            prop_assert_eq!(got.points(), want.iter().map(|c| u64::from(c.count)).sum::<u64>());
            prop_assert_eq!(columns(&got), want);
        }

        /// On a log scale, columns are equal in log10(x): each point's column is the naive
        /// `floor((log10 x - log10 x0) / w)`, and x ≤ 0 never enters a window (which starts > 0).
        #[test]
        fn log_columns_match_naive(
            xs in prop::collection::vec(0.0..1e6f64, 0..400),
            x0 in prop_oneof![1e-3..1.0f64, 1.0..1e5f64],
            decades in 0.01..8.0f64,
            width in prop_oneof![1..8u32, 1..2000u32],
        ) {
            let mut xs = xs;
            xs.sort_by(f64::total_cmp);
            let mut s = Series::new();
            for (i, &x) in xs.iter().enumerate() {
                s.push(x, 0.0, (i % 7) as f64 - 3.0);
            }
            let x1 = x0 * 10f64.powf(decades);
            let got = decimate_on(&s, XAxis::Step, 0.0, (x0, x1), width, Scale::Log);
            let w = (x1.log10() - x0.log10()) / f64::from(width);
            let mut want: Vec<(u32, u32, f64, f64)> = Vec::new();
            for (i, &x) in xs.iter().enumerate() {
                if !(x0 <= x && x <= x1) {
                    continue;
                }
                let c = ((x.log10() - x0.log10()) / w).floor().clamp(0.0, f64::from(width - 1)) as u32;
                let v = s.values()[i];
                match want.last_mut() {
                    Some(last) if last.0 == c => {
                        last.1 += 1;
                        last.2 = last.2.min(v);
                        last.3 = last.3.max(v);
                    }
                    _ => want.push((c, 1, v, v)),
                }
            }
            let got: Vec<(u32, u32, f64, f64)> = (0..got.len())
                .map(|i| (got.column[i], got.count[i], got.min[i].unwrap(), got.max[i].unwrap()))
                .collect();
            prop_assert_eq!(got, want);
            // A log window must start above zero.
            prop_assert!(decimate_on(&s, XAxis::Step, 0.0, (0.0, x1), width, Scale::Log).is_empty());
        }

        /// Points on and one ulp either side of every computed column boundary `x0 + c * w`,
        /// where a boundary search that disagrees with the column formula would misplace them.
        #[test]
        fn boundary_points_land_by_the_formula(
            x0 in -1e6..1e6f64,
            span in prop_oneof![1e-9..1e-3f64, 1e-3..1e6f64],
            width in 1..3000u32,
        ) {
            let window = (x0, x0 + span);
            let w = span / f64::from(width);
            let mut xs: Vec<f64> = (0..=width)
                .map(|c| x0 + f64::from(c) * w)
                .flat_map(|x| [x.next_down(), x, x.next_up()])
                .collect();
            xs.sort_by(f64::total_cmp);
            xs.dedup();
            let mut s = Series::new();
            for (i, &x) in xs.iter().enumerate() {
                s.push(x, 0.0, i as f64);
            }
            let got = decimate(&s, XAxis::Step, 0.0, window, width);
            prop_assert_eq!(columns(&got), naive(&xs, s.values(), window, width));
        }

        /// Out-of-order x only makes columns inexact: no hang, no panic, no point counted twice.
        #[test]
        fn unordered_x_is_harmless(
            walls in prop::collection::vec(-50.0..50.0f64, 0..500),
            a in -60.0..60.0f64,
            b in -60.0..60.0f64,
            width in 1..100u32,
        ) {
            let mut s = Series::new();
            for (i, &wall) in walls.iter().enumerate() {
                s.push(i as f64, wall, wall);
            }
            let got = decimate(&s, XAxis::WallTime, 0.0, (a.min(b), a.max(b)), width);
            prop_assert!(got.points() <= s.len() as u64);
            prop_assert!(got.column.iter().all(|&c| c < width));
            prop_assert!(got.count.iter().all(|&c| c > 0));
        }

        #[test]
        fn points_since_slices(s in series(), from in 0..5000usize, max in 0..5000usize) {
            let (steps, wall, values) = points_since(&s, from, max);
            let lo = from.min(s.len());
            let hi = (lo + max).min(s.len());
            prop_assert_eq!(steps, s.steps().range_to_vec(lo..hi));
            prop_assert_eq!(wall, s.wall().range_to_vec(lo..hi));
            prop_assert_eq!(values.len(), hi - lo);
        }
    }

    #[test]
    fn one_step_spike_survives_every_zoom() {
        const N: usize = 1_000_000;
        const SPIKE: usize = 654_321;
        let mut s = Series::new();
        for i in 0..N {
            let v = if i == SPIKE {
                1e9
            } else {
                (i as f64 * 0.001).sin()
            };
            s.push(i as f64, 1.7e9 + i as f64 * 0.1, v);
        }
        let spike_x = SPIKE as f64;
        let windows = [
            (0.0, (N - 1) as f64),
            (600_000.0, 700_000.0),
            (spike_x - 5_000.0, spike_x + 7_000.0),
            (spike_x - 3.0, spike_x + 2.0),
            (spike_x, spike_x),
            (spike_x - 1_000.0, spike_x),
            (spike_x, spike_x + 1_000.0),
        ];
        for window in windows {
            let b = decimate(&s, XAxis::Step, 0.0, window, 1200);
            let hits: Vec<usize> = (0..b.len()).filter(|&i| b.max[i] == Some(1e9)).collect();
            assert_eq!(hits.len(), 1, "{window:?}");
            let (x_first, x_last) = (b.x_first[hits[0]], b.x_last[hits[0]]);
            assert!(x_first <= spike_x && spike_x <= x_last, "{window:?}");
            assert_eq!(
                b.points(),
                naive_count(&s.steps().to_vec(), window),
                "{window:?}"
            );
        }
    }

    fn naive_count(xs: &[f64], (x0, x1): (f64, f64)) -> u64 {
        xs.iter().filter(|&&x| x0 <= x && x <= x1).count() as u64
    }

    #[test]
    fn axes_and_extent() {
        let mut s = Series::new();
        assert_eq!(extent(&s, XAxis::Step, 0.0), None);
        s.push(3.0, 100.0, 1.0);
        s.push(5.0, 104.0, f64::NAN);
        assert_eq!(extent(&s, XAxis::Step, 90.0), Some((3.0, 5.0)));
        assert_eq!(extent(&s, XAxis::WallTime, 90.0), Some((100.0, 104.0)));
        assert_eq!(extent(&s, XAxis::RelativeTime, 90.0), Some((10.0, 14.0)));
    }

    #[test]
    fn column_edges_follow_the_formula() {
        // Window [0, 10] in 4 columns of 2.5: 2.5 opens column 1, 10 (closed end) is in column 3.
        let mut s = Series::new();
        let xs = [0.0, 2.4, 2.5, 7.5, 9.9, 10.0, 10.5];
        for (i, x) in xs.into_iter().enumerate() {
            s.push(x, 0.0, i as f64);
        }
        let b = decimate(&s, XAxis::Step, 0.0, (0.0, 10.0), 4);
        assert_eq!(b.column, [0, 1, 3]);
        assert_eq!(b.count, [2, 1, 3]);
        assert_eq!((b.first[2], b.last[2]), (3.0, 5.0));
        assert_eq!(b.min, [Some(0.0), Some(2.0), Some(3.0)]);
        assert_eq!(b.max, [Some(1.0), Some(2.0), Some(5.0)]);
        // Nothing for invalid requests.
        assert!(decimate(&s, XAxis::Step, 0.0, (10.0, 0.0), 4).is_empty());
        assert!(decimate(&s, XAxis::Step, 0.0, (0.0, 10.0), 0).is_empty());
        assert!(decimate(&s, XAxis::Step, 0.0, (0.0, f64::NAN), 4).is_empty());
    }

    #[test]
    fn only_nonfinite_column_has_no_extremes() {
        let mut s = Series::new();
        s.push(0.0, 0.0, f64::NAN);
        s.push(1.0, 0.0, f64::INFINITY);
        let b = decimate(&s, XAxis::Step, 0.0, (0.0, 1.0), 1);
        assert_eq!((b.count[0], b.nonfinite[0]), (2, 2));
        assert_eq!((b.min[0], b.max[0]), (None, None));
        assert!(b.first[0].is_nan() && b.last[0] == f64::INFINITY);
    }

    /// One run of the 1,000-run chart: 100,000 points decimated into 1,207 columns.
    /// `cargo test --release -p trackline --lib decimate_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "a timing probe, not a test"]
    #[allow(
        clippy::print_stdout,
        reason = "a timing probe reports on its standard output"
    )]
    fn decimate_timing() {
        let n = 100_000u32;
        let steps: Vec<f64> = (0..n).map(f64::from).collect();
        let wall: Vec<f64> = (0..n).map(|i| 1.7e9 + f64::from(i) * 0.013).collect();
        let values: Vec<f64> = (0..n)
            .map(|i| {
                2.0 / (1.0 + f64::from(i) / 5e3)
                    + f64::from(i.wrapping_mul(2_654_435_761) % 1000) / 1e4
            })
            .collect();
        let s = Series::from_columns(&steps, &wall, values);
        for (axis, window) in [
            (XAxis::Step, (0.0, 99_999.0)),
            (XAxis::Step, (20_000.0, 31_000.0)),
            (XAxis::WallTime, (1.7e9, 1.7e9 + 1_300.0)),
        ] {
            let t = std::time::Instant::now();
            let reps = 300;
            let mut columns = 0;
            for _ in 0..reps {
                columns += decimate(&s, axis, 0.0, window, 1207).len();
            }
            let ns = t.elapsed().as_secs_f64() * 1e9;
            println!(
                "{axis:?} {window:?}: {:.0} µs a run, {:.0} ns a column",
                ns / f64::from(reps) / 1e3,
                ns / columns as f64
            );
        }
    }
}
