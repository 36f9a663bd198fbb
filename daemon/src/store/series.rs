//! In-memory storage of one metric of one run: the raw points in columns, plus a level-of-detail
//! pyramid of per-block min/max so that the exact extremes of any index range cost
//! O(16 × levels) instead of O(points). Decimation for charts (`query::decimate`) is built on it.
//!
//! # The pyramid
//!
//! `levels[i]` cuts the index order into blocks of `16^(i+1)` points (16, 256, 4096, …; a level
//! exists once the series has `16^i` points). A block holds the min and max over the *finite*
//! values in it (`+inf`/`-inf` when there are none) and the number of non-finite ones (NaN, ±Inf).
//!
//! Appending is amortised O(1): a point updates the last block of `levels[0]` in place, and only
//! when a block of `levels[i]` completes is it folded into the last block of `levels[i + 1]`
//! (creating that block or level when needed). So the last block of a level summarises exactly the
//! *completed* blocks of the level below inside it; every other block is complete and exact, and
//! [`Series::range_stats`] only ever reads complete blocks. The pyramid costs 24 bytes per 16
//! points (1.6 bytes a point) next to the 24 bytes a point of the raw columns.

/// Points per block at level 0, and blocks of level `k` per block of level `k + 1`.
const FANOUT: usize = 16;

/// What the allocator adds to each heap allocation (header and rounding), for
/// [`Series::memory_bytes`].
pub const ALLOC_OVERHEAD_BYTES: usize = 16;

/// Exact summary of a range of values: min and max over the finite ones and how many are not
/// finite. The empty summary has `min = +inf`, `max = -inf` (no finite value) and `nonfinite = 0`.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct RangeStats {
    pub min: f64,
    pub max: f64,
    pub nonfinite: u32,
}

impl RangeStats {
    /// The summary of no values.
    pub const EMPTY: RangeStats = RangeStats {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        nonfinite: 0,
    };

    /// The summary of the single value `value`.
    pub fn of(value: f64) -> RangeStats {
        if value.is_finite() {
            RangeStats {
                min: value,
                max: value,
                nonfinite: 0,
            }
        } else {
            RangeStats {
                nonfinite: 1,
                ..RangeStats::EMPTY
            }
        }
    }

    /// The summary of both ranges together.
    pub fn merge(self, other: RangeStats) -> RangeStats {
        RangeStats {
            min: self.min.min(other.min),
            max: self.max.max(other.max),
            nonfinite: self.nonfinite.saturating_add(other.nonfinite),
        }
    }

    /// The smallest finite value, `None` when the range has no finite value.
    pub fn finite_min(&self) -> Option<f64> {
        self.min.is_finite().then_some(self.min)
    }

    /// The largest finite value, `None` when the range has no finite value.
    pub fn finite_max(&self) -> Option<f64> {
        self.max.is_finite().then_some(self.max)
    }
}

/// One metric of one run, in append order. Steps are strictly increasing (the caller guarantees
/// it); wall times are expected to be nondecreasing.
#[derive(Clone, Debug, Default)]
pub struct Series {
    steps: Vec<f64>,
    /// Unix seconds.
    wall_secs: Vec<f64>,
    /// Raw values, NaN and ±Inf included.
    values: Vec<f64>,
    /// `levels[i]` has blocks of `16^(i+1)` points; see the module docs.
    levels: Vec<Vec<RangeStats>>,
}

impl Series {
    pub fn new() -> Series {
        Series::default()
    }

    /// Appends a point; amortised O(1).
    pub fn push(&mut self, step: f64, wall_secs: f64, value: f64) {
        let index = self.values.len();
        self.steps.push(step);
        self.wall_secs.push(wall_secs);
        self.values.push(value);

        // `unit` is the index, at the granularity of the level below, of the item just completed
        // (at level 0: the point itself), and `stats` its summary.
        let mut unit = index;
        let mut stats = RangeStats::of(value);
        for level in 0.. {
            if level == self.levels.len() {
                self.levels.push(Vec::new());
            }
            let blocks = &mut self.levels[level];
            let block = unit / FANOUT;
            if block == blocks.len() {
                blocks.push(stats);
            } else {
                blocks[block] = blocks[block].merge(stats);
            }
            if unit % FANOUT != FANOUT - 1 {
                break;
            }
            // The block just completed: fold it into the level above.
            unit = block;
            stats = blocks[block];
        }
    }

    /// The series of these columns (of equal length), its pyramid built in one pass per level:
    /// the same series as pushing the points one by one, in a fraction of the time.
    ///
    /// # Panics
    /// If the columns differ in length.
    pub fn from_columns(steps: Vec<f64>, wall_secs: Vec<f64>, values: Vec<f64>) -> Series {
        assert!(
            steps.len() == values.len() && wall_secs.len() == values.len(),
            "columns of {}, {} and {} points",
            steps.len(),
            wall_secs.len(),
            values.len()
        );
        let merged = |items: &[RangeStats]| {
            items
                .iter()
                .fold(RangeStats::EMPTY, |acc, &item| acc.merge(item))
        };
        let n = values.len();
        let mut levels: Vec<Vec<RangeStats>> = Vec::new();
        if n > 0 {
            levels.push(
                values
                    .chunks(FANOUT)
                    .map(|block| {
                        block
                            .iter()
                            .fold(RangeStats::EMPTY, |acc, &v| acc.merge(RangeStats::of(v)))
                    })
                    .collect(),
            );
        }
        // `levels[i]` exists from `16^i` points on and covers only the completed blocks below.
        let mut block_points = FANOUT;
        while n >= block_points {
            let below = &levels[levels.len() - 1];
            let complete = n / block_points;
            let level = below[..complete].chunks(FANOUT).map(merged).collect();
            levels.push(level);
            block_points *= FANOUT;
        }
        Series {
            steps,
            wall_secs,
            values,
            levels,
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn steps(&self) -> &[f64] {
        &self.steps
    }

    /// Wall-clock times, unix seconds.
    pub fn wall(&self) -> &[f64] {
        &self.wall_secs
    }

    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Heap bytes held: capacities (not just lengths), plus what the allocator adds to each
    /// allocation, plus the `Series` itself.
    pub fn memory_bytes(&self) -> usize {
        let f64s = self.steps.capacity() + self.wall_secs.capacity() + self.values.capacity();
        let blocks: usize = self.levels.iter().map(Vec::capacity).sum();
        let allocations = [
            self.steps.capacity(),
            self.wall_secs.capacity(),
            self.values.capacity(),
            self.levels.capacity(),
        ]
        .into_iter()
        .chain(self.levels.iter().map(Vec::capacity))
        .filter(|&cap| cap > 0)
        .count();
        size_of::<Series>()
            + f64s * size_of::<f64>()
            + blocks * size_of::<RangeStats>()
            + self.levels.capacity() * size_of::<Vec<RangeStats>>()
            + allocations * ALLOC_OVERHEAD_BYTES
    }

    /// Exact summary of the values at indices `lo..hi`, from at most 15 items at each end of each
    /// level plus the coarsest aligned blocks in between: O(16 × levels).
    ///
    /// # Panics
    /// If `lo > hi` or `hi > self.len()`, like slicing.
    pub fn range_stats(&self, lo: usize, hi: usize) -> RangeStats {
        assert!(
            lo <= hi && hi <= self.len(),
            "range {lo}..{hi} out of bounds for a series of {} points",
            self.len()
        );
        let mut acc = RangeStats::EMPTY;
        let (mut lo, mut hi) = fold_edges(&self.values, lo, hi, &mut acc, RangeStats::of);
        // Invariant: `lo..hi` are complete blocks of `levels[i]`, since `hi * 16^(i+1)` never
        // exceeds the number of points.
        for blocks in &self.levels {
            if lo == hi {
                break;
            }
            (lo, hi) = fold_edges(blocks, lo, hi, &mut acc, |b| b);
        }
        debug_assert_eq!(lo, hi, "a range outlived the pyramid");
        acc
    }
}

impl Series {
    /// Index of the first point of `lo..hi` holding the range's finite max (`max = true`) or min;
    /// `None` when the range has no finite value. O(16 × levels), like [`Series::range_stats`]: the
    /// range's blocks are visited in index order and the first holding the extreme is descended.
    pub fn first_extreme(&self, lo: usize, hi: usize, max: bool) -> Option<usize> {
        let stats = self.range_stats(lo, hi);
        let target = if max { stats.max } else { stats.min };
        if !target.is_finite() {
            return None;
        }
        let holds = |s: RangeStats| {
            if max {
                s.max == target
            } else {
                s.min == target
            }
        };
        // Level 0 is the raw values, level `k > 0` the blocks of `levels[k - 1]`.
        let item = |k: usize, i: usize| match k {
            0 => RangeStats::of(self.values[i]),
            _ => self.levels[k - 1][i],
        };
        // The same pieces `range_stats` reads: per level a left and a right edge, around the
        // aligned middle handed to the level above.
        let (mut left, mut right) = (Vec::new(), Vec::new());
        let (mut l, mut h) = (lo, hi);
        for k in 0..=self.levels.len() {
            if l == h {
                break;
            }
            let inner_lo = l.next_multiple_of(FANOUT).min(h);
            let inner_hi = (h / FANOUT * FANOUT).max(inner_lo);
            left.push((k, l..inner_lo));
            right.push((k, inner_hi..h));
            (l, h) = (inner_lo / FANOUT, inner_hi / FANOUT);
        }
        let pieces = left.into_iter().chain(right.into_iter().rev());
        for (k, range) in pieces {
            if let Some(i) = range.clone().find(|&i| holds(item(k, i))) {
                // Descend: the first child holding the extreme, down to a point.
                let (mut k, mut i) = (k, i);
                while k > 0 {
                    let children = i * FANOUT..(i + 1) * FANOUT;
                    i = children
                        .clone()
                        .find(|&c| holds(item(k - 1, c)))
                        .unwrap_or(children.start);
                    k -= 1;
                }
                return Some(i);
            }
        }
        None
    }
}

/// Folds into `acc` the items of `lo..hi` that lie outside the `FANOUT`-aligned middle of the range
/// and returns that middle in units of `FANOUT` items (the indices at the level above).
fn fold_edges<T: Copy>(
    items: &[T],
    lo: usize,
    hi: usize,
    acc: &mut RangeStats,
    stats: impl Fn(T) -> RangeStats,
) -> (usize, usize) {
    let inner_lo = lo.next_multiple_of(FANOUT).min(hi);
    let inner_hi = (hi / FANOUT * FANOUT).max(inner_lo);
    for &item in items[lo..inner_lo].iter().chain(&items[inner_hi..hi]) {
        *acc = acc.merge(stats(item));
    }
    (inner_lo / FANOUT, inner_hi / FANOUT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(values: &[f64]) -> RangeStats {
        let mut s = RangeStats::EMPTY;
        for &v in values {
            if v.is_finite() {
                s.min = s.min.min(v);
                s.max = s.max.max(v);
            } else {
                s.nonfinite += 1;
            }
        }
        s
    }

    /// The pyramid as the module docs define it, computed from scratch: `levels[i]` exists from
    /// `16^i` points on, and its last block covers only completed blocks of `levels[i - 1]`, so
    /// the level as a whole covers the first `len / 16^i * 16^i` points.
    fn bulk_levels(values: &[f64]) -> Vec<Vec<RangeStats>> {
        let mut levels = Vec::new();
        let mut below = 1; // 16^i: points per block of the level below.
        while values.len() >= below {
            let covered = values.len() / below * below;
            let block = below * FANOUT;
            levels.push(values[..covered].chunks(block).map(naive).collect());
            below = block;
        }
        levels
    }

    /// A value from 16 random bits, cheap to generate thousands of: about one in eight not finite,
    /// some signed zeros, the rest finite in [-1e6, 1.1e6].
    fn value_from(bits: u16) -> f64 {
        match bits % 16 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => 0.0,
            4 => -0.0,
            _ => f64::from(bits) * 31.5 - 1e6,
        }
    }

    fn values(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(any::<u16>().prop_map(value_from), 0..max_len)
    }

    fn series_of(values: &[f64]) -> Series {
        let mut s = Series::new();
        for (i, &v) in values.iter().enumerate() {
            s.push(i as f64, 1.7e9 + i as f64, v);
        }
        s
    }

    proptest! {
        #[test]
        fn range_stats_matches_naive(
            values in values(5000),
            a in any::<prop::sample::Index>(),
            b in any::<prop::sample::Index>(),
        ) {
            let s = series_of(&values);
            let (a, b) = (a.index(values.len() + 1), b.index(values.len() + 1));
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert_eq!(s.range_stats(lo, hi), naive(&values[lo..hi]));
            prop_assert_eq!(s.range_stats(0, values.len()), naive(&values));
        }

        #[test]
        fn first_extreme_matches_naive(
            values in values(5000),
            a in any::<prop::sample::Index>(),
            b in any::<prop::sample::Index>(),
        ) {
            let s = series_of(&values);
            let (a, b) = (a.index(values.len() + 1), b.index(values.len() + 1));
            let (lo, hi) = (a.min(b), a.max(b));
            let st = naive(&values[lo..hi]);
            let want = |t: f64| (lo..hi).find(|&i| values[i] == t && t.is_finite());
            prop_assert_eq!(s.first_extreme(lo, hi, true), want(st.max));
            prop_assert_eq!(s.first_extreme(lo, hi, false), want(st.min));
        }

        #[test]
        fn incremental_pyramid_equals_bulk(values in values(5000)) {
            let s = series_of(&values);
            prop_assert_eq!(&s.levels, &bulk_levels(&values));
            let built = Series::from_columns(
                s.steps().to_vec(),
                s.wall().to_vec(),
                s.values().to_vec(),
            );
            prop_assert_eq!(&built.levels, &s.levels);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(s.values()), bits(&values));
        }
    }

    #[test]
    fn every_range_of_a_small_series_is_exact() {
        // Crosses two level boundaries (16 and 256) with a nonfinite point on the way.
        let values: Vec<f64> = (0..300)
            .map(|i| match i {
                100 => f64::NAN,
                _ => ((i * 37) % 101) as f64 - 50.0,
            })
            .collect();
        let s = series_of(&values);
        for lo in 0..=values.len() {
            for hi in lo..=values.len() {
                assert_eq!(s.range_stats(lo, hi), naive(&values[lo..hi]), "{lo}..{hi}");
            }
        }
    }

    /// Reaches `levels[3]` (blocks of 65536), which the random series are too short for.
    #[test]
    fn long_series_pyramid_and_ranges_are_exact() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state >> 32
        };
        let values: Vec<f64> = (0..140_000).map(|_| value_from(next() as u16)).collect();
        let s = series_of(&values);
        assert_eq!(s.levels.len(), 5);
        assert_eq!(s.levels, bulk_levels(&values));
        let built = Series::from_columns(s.steps.clone(), s.wall_secs.clone(), values.clone());
        assert_eq!(built.levels, s.levels);
        for _ in 0..200 {
            let (a, b) = (next() as usize % 140_001, next() as usize % 140_001);
            let (lo, hi) = (a.min(b), a.max(b));
            assert_eq!(s.range_stats(lo, hi), naive(&values[lo..hi]), "{lo}..{hi}");
        }
    }

    #[test]
    fn levels_grow_with_powers_of_16() {
        let mut s = Series::new();
        assert!(s.is_empty() && s.levels.is_empty());
        s.push(0.0, 0.0, 1.0);
        assert_eq!(s.levels.len(), 1);
        for i in 1..256 {
            s.push(f64::from(i), 0.0, 1.0);
        }
        assert_eq!((s.len(), s.levels.len()), (256, 3));
        assert!(s.memory_bytes() >= 256 * 3 * size_of::<f64>());
    }

    #[test]
    fn empty_stats_have_no_finite_extremes() {
        assert_eq!(RangeStats::EMPTY.finite_min(), None);
        assert_eq!(RangeStats::of(f64::NAN).finite_max(), None);
        assert_eq!(RangeStats::of(f64::NAN).nonfinite, 1);
        assert_eq!(RangeStats::of(2.0).finite_min(), Some(2.0));
    }
}
