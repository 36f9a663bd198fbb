//! In-memory storage of one metric of one run: the points in compact columns, plus a
//! level-of-detail pyramid of per-block min/max so that the exact extremes of any index range cost
//! O(16 × levels) instead of O(points). Decimation for charts (`query::decimate`) is built on it.
//!
//! # Columns
//!
//! Values are plain `f64`s (kept exact, NaN and ±Inf included). Steps and wall times are
//! [`PackedColumn`]s: exact, O(1) to read, about 0.2 bytes a point for steps that rise by one and
//! 2–3 bytes for timestamps close together. A typical series costs under 12 bytes a point.
//!
//! # The pyramid
//!
//! Level `i` cuts the index order into blocks of `16^(i+1)` points (16, 256, 4096, …; a level
//! exists once the series has `16^i` points). A block holds the min and max over the *finite*
//! values in it (`+inf`/`-inf` when there are none) and the number of non-finite ones (NaN, ±Inf).
//! Level 0, the one with a block per 16 points, keeps only *where* in its block the min and max
//! are (4 bits each) and that count (2 bytes a block); the levels above keep the values.
//!
//! Appending is amortised O(1): a point updates the last block of level 0 in place, and only
//! when a block of level `i` completes is it folded into the last block of level `i + 1`
//! (creating that block or level when needed). So the last block of a level summarises exactly the
//! *completed* blocks of the level below inside it; every other block is complete and exact, and
//! [`Series::range_stats`] only ever reads complete blocks.

use super::column::PackedColumn;

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

/// A level-0 block: where in it its min and max are (low and high 4 bits of `at`) and how many of
/// its points are not finite; when all are, `at` means nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Extremes {
    at: u8,
    nonfinite: u8,
}

impl Extremes {
    fn min_at(self) -> usize {
        usize::from(self.at & 0x0f)
    }

    fn max_at(self) -> usize {
        usize::from(self.at >> 4)
    }

    fn set(&mut self, min_at: usize, max_at: usize) {
        self.at = (min_at as u8 & 0x0f) | ((max_at as u8) << 4);
    }

    /// The extremes of `block`, the values of one level-0 block.
    fn of(block: &[f64]) -> Extremes {
        let mut e = Extremes::default();
        for (i, &v) in block.iter().enumerate() {
            e.add(block, i, v);
        }
        e
    }

    /// Takes in `value`, point `i` of `block` (whose points before `i` are in already).
    fn add(&mut self, block: &[f64], i: usize, value: f64) {
        if !value.is_finite() {
            self.nonfinite += 1;
        } else if usize::from(self.nonfinite) == i {
            // The block's first finite value.
            self.set(i, i);
        } else {
            let (lo, hi) = (self.min_at(), self.max_at());
            let lo = if value < block[lo] { i } else { lo };
            let hi = if value > block[hi] { i } else { hi };
            self.set(lo, hi);
        }
    }
}

/// One metric of one run, in append order. Steps are strictly increasing (the caller guarantees
/// it); wall times are expected to be nondecreasing.
#[derive(Clone, Debug, Default)]
pub struct Series {
    steps: PackedColumn,
    /// Unix seconds.
    wall_secs: PackedColumn,
    /// Raw values, NaN and ±Inf included.
    values: Vec<f64>,
    /// Level 0 of the pyramid: a block per 16 points.
    level0: Vec<Extremes>,
    /// `upper[i]` is level `i + 1`, with blocks of `16^(i+2)` points; see the module docs.
    upper: Vec<Vec<RangeStats>>,
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

        let block = index / FANOUT;
        let start = block * FANOUT;
        if block == self.level0.len() {
            self.level0.push(Extremes::default());
        }
        self.level0[block].add(&self.values[start..], index - start, value);
        if index % FANOUT != FANOUT - 1 {
            return;
        }
        // A level-0 block completed: fold it into the levels above. `unit` is the index of the
        // item just completed at the granularity of the level below, and `stats` its summary.
        let mut unit = block;
        let mut stats = self.level0_stats(block);
        for level in 0.. {
            if level == self.upper.len() {
                self.upper.push(Vec::new());
            }
            let blocks = &mut self.upper[level];
            let b = unit / FANOUT;
            if b == blocks.len() {
                blocks.push(stats);
            } else {
                blocks[b] = blocks[b].merge(stats);
            }
            if unit % FANOUT != FANOUT - 1 {
                break;
            }
            unit = b;
            stats = blocks[b];
        }
    }

    /// The series of these columns (of equal length), its pyramid built in one pass per level:
    /// the same series as pushing the points one by one, in a fraction of the time.
    ///
    /// # Panics
    /// If the columns differ in length.
    pub fn from_columns(steps: &[f64], wall_secs: &[f64], values: Vec<f64>) -> Series {
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
        let mut s = Series {
            steps: PackedColumn::from_values(steps),
            wall_secs: PackedColumn::from_values(wall_secs),
            level0: values.chunks(FANOUT).map(Extremes::of).collect(),
            values,
            upper: Vec::new(),
        };
        // Level `i` exists from `16^i` points on and covers only the completed blocks below.
        let mut block_points = FANOUT;
        while n >= block_points {
            let complete = n / block_points;
            let level = match s.upper.last() {
                None => (0..complete)
                    .map(|b| s.level0_stats(b))
                    .collect::<Vec<_>>()
                    .chunks(FANOUT)
                    .map(merged)
                    .collect(),
                Some(below) => below[..complete].chunks(FANOUT).map(merged).collect(),
            };
            s.upper.push(level);
            block_points *= FANOUT;
        }
        s
    }

    /// The summary of level-0 block `b`.
    fn level0_stats(&self, b: usize) -> RangeStats {
        let e = self.level0[b];
        let start = b * FANOUT;
        let len = FANOUT.min(self.values.len() - start);
        let nonfinite = u32::from(e.nonfinite);
        if usize::from(e.nonfinite) >= len {
            return RangeStats {
                nonfinite,
                ..RangeStats::EMPTY
            };
        }
        RangeStats {
            min: self.values[start + e.min_at()],
            max: self.values[start + e.max_at()],
            nonfinite,
        }
    }

    /// The summary of item `i` of pyramid level `k`, where level 0 is the points themselves and
    /// level `k > 0` is the blocks of `16^k` points.
    fn item(&self, k: usize, i: usize) -> RangeStats {
        match k {
            0 => RangeStats::of(self.values[i]),
            1 => self.level0_stats(i),
            _ => self.upper[k - 2][i],
        }
    }

    /// Levels of blocks held (level 0 and those above).
    fn block_levels(&self) -> usize {
        usize::from(!self.level0.is_empty()) + self.upper.len()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn steps(&self) -> &PackedColumn {
        &self.steps
    }

    /// Wall-clock times, unix seconds.
    pub fn wall(&self) -> &PackedColumn {
        &self.wall_secs
    }

    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Gives back the growth slack of every column (after a history was read whole).
    pub fn shrink_to_fit(&mut self) {
        self.steps.shrink_to_fit();
        self.wall_secs.shrink_to_fit();
        self.values.shrink_to_fit();
        self.level0.shrink_to_fit();
    }

    /// Heap bytes held: capacities (not just lengths), plus what the allocator adds to each
    /// allocation, plus the `Series` itself.
    pub fn memory_bytes(&self) -> usize {
        let blocks: usize = self.upper.iter().map(Vec::capacity).sum();
        let allocations = [
            self.values.capacity(),
            self.level0.capacity(),
            self.upper.capacity(),
        ]
        .into_iter()
        .chain(self.upper.iter().map(Vec::capacity))
        .filter(|&cap| cap > 0)
        .count();
        size_of::<Series>()
            + self.steps.memory_bytes()
            + self.wall_secs.memory_bytes()
            + self.values.capacity() * size_of::<f64>()
            + self.level0.capacity() * size_of::<Extremes>()
            + blocks * size_of::<RangeStats>()
            + self.upper.capacity() * size_of::<Vec<RangeStats>>()
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
        let (mut lo, mut hi) = (lo, hi);
        // Invariant: `lo..hi` are complete items of level `k`, since `hi * 16^k` never exceeds
        // the number of points.
        for k in 0..=self.block_levels() {
            if lo == hi {
                break;
            }
            (lo, hi) = fold_edges(lo, hi, &mut acc, |i| self.item(k, i));
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
        self.first_holding(lo, hi, max, if max { stats.max } else { stats.min })
    }

    /// [`Series::first_extreme`] when the range's extreme is known already: `target`, its finite
    /// max (`max = true`) or min, as [`Series::range_stats`] gave it (the decimation has it).
    pub fn first_holding(&self, lo: usize, hi: usize, max: bool, target: f64) -> Option<usize> {
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
        // The same pieces `range_stats` reads: per level a left and a right edge, around the
        // aligned middle handed to the level above (on the stack: this runs twice a column of
        // every decimation). A level holds 16 times the one below, so a `usize` of points never
        // needs more than `MAX_LEVELS`.
        const MAX_LEVELS: usize = usize::BITS as usize / 4 + 2;
        let mut left = [(0, 0, 0); MAX_LEVELS];
        let mut right = [(0, 0, 0); MAX_LEVELS];
        let mut levels = 0;
        let (mut l, mut h) = (lo, hi);
        for k in 0..=self.block_levels() {
            if l == h {
                break;
            }
            let inner_lo = l.next_multiple_of(FANOUT).min(h);
            let inner_hi = (h / FANOUT * FANOUT).max(inner_lo);
            left[levels] = (k, l, inner_lo);
            right[levels] = (k, inner_hi, h);
            levels += 1;
            (l, h) = (inner_lo / FANOUT, inner_hi / FANOUT);
        }
        let pieces = left[..levels].iter().chain(right[..levels].iter().rev());
        for &(k, from, to) in pieces {
            let range = from..to;
            if let Some(i) = range.clone().find(|&i| holds(self.item(k, i))) {
                // Descend: the first child holding the extreme, down to a point.
                let (mut k, mut i) = (k, i);
                while k > 0 {
                    let children = i * FANOUT..(i + 1) * FANOUT;
                    i = children
                        .clone()
                        .find(|&c| holds(self.item(k - 1, c)))
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
fn fold_edges(
    lo: usize,
    hi: usize,
    acc: &mut RangeStats,
    item: impl Fn(usize) -> RangeStats,
) -> (usize, usize) {
    let inner_lo = lo.next_multiple_of(FANOUT).min(hi);
    let inner_hi = (hi / FANOUT * FANOUT).max(inner_lo);
    for i in (lo..inner_lo).chain(inner_hi..hi) {
        *acc = acc.merge(item(i));
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

    /// Every level of the pyramid as summaries (level 0 read back from where its extremes are).
    fn all_levels(s: &Series) -> Vec<Vec<RangeStats>> {
        let mut out = Vec::new();
        if !s.level0.is_empty() {
            out.push((0..s.level0.len()).map(|b| s.level0_stats(b)).collect());
        }
        out.extend(s.upper.iter().cloned());
        out
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
            prop_assert_eq!(&all_levels(&s), &bulk_levels(&values));
            let built = Series::from_columns(
                &s.steps().to_vec(),
                &s.wall().to_vec(),
                s.values().to_vec(),
            );
            prop_assert_eq!(&built.level0, &s.level0);
            prop_assert_eq!(&built.upper, &s.upper);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(s.values()), bits(&values));
            prop_assert_eq!(s.steps().len(), values.len());
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
        assert_eq!(s.block_levels(), 5);
        assert_eq!(all_levels(&s), bulk_levels(&values));
        let built = Series::from_columns(&s.steps.to_vec(), &s.wall_secs.to_vec(), values.clone());
        assert_eq!((&built.level0, &built.upper), (&s.level0, &s.upper));
        for _ in 0..200 {
            let (a, b) = (next() as usize % 140_001, next() as usize % 140_001);
            let (lo, hi) = (a.min(b), a.max(b));
            assert_eq!(s.range_stats(lo, hi), naive(&values[lo..hi]), "{lo}..{hi}");
        }
    }

    #[test]
    fn levels_grow_with_powers_of_16() {
        let mut s = Series::new();
        assert!(s.is_empty() && s.block_levels() == 0);
        s.push(0.0, 0.0, 1.0);
        assert_eq!(s.block_levels(), 1);
        for i in 1..256 {
            s.push(f64::from(i), 0.0, 1.0);
        }
        assert_eq!((s.len(), s.block_levels()), (256, 3));
        assert!(s.memory_bytes() >= 256 * size_of::<f64>());
    }

    #[test]
    fn empty_stats_have_no_finite_extremes() {
        assert_eq!(RangeStats::EMPTY.finite_min(), None);
        assert_eq!(RangeStats::of(f64::NAN).finite_max(), None);
        assert_eq!(RangeStats::of(f64::NAN).nonfinite, 1);
        assert_eq!(RangeStats::of(2.0).finite_min(), Some(2.0));
    }
}
