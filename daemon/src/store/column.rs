//! A column of `f64` that mostly rises evenly (a series' steps and wall times), packed exactly with
//! O(1) access to any point: about 0.2 bytes a point for steps that rise by one and 2–3 for wall
//! times a few milliseconds off an even pace, instead of 8.
//!
//! Points come in blocks of [`BLOCK`]. A full block is sealed into a header and residuals: each
//! point's *key* (the integer itself when every point of the block is an integer below 2^53, else
//! the float's bits, ordered) is predicted on the line through the block's first and last keys,
//! and what the prediction misses is kept in the fewest bytes (0, 1, 2, 3 or 4) that hold every
//! miss of the block; a block that fits none keeps its keys whole (8 bytes). Decoding adds the miss
//! back to the prediction in wrapping arithmetic, so every value comes back bit for bit. The last,
//! unfinished block stays as plain `f64`s.

use super::series::ALLOC_OVERHEAD_BYTES;

/// Points per sealed block.
pub const BLOCK: usize = 128;

/// How a sealed block's keys relate to its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Domain {
    /// Every value is an integer in (-2^53, 2^53), not `-0.0`: the key is the integer.
    Int,
    /// The key is the float's bits, with negative floats' other bits flipped so keys order like
    /// values (an involution, so the same map decodes).
    Bits,
}

impl Domain {
    fn of_block(values: &[f64]) -> Domain {
        const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
        // `v as i64` truncates exactly below 2^53, so this is `fract() == 0` without a call to
        // libm's `trunc` for every point.
        let int = values.iter().all(|&v| {
            v.abs() < LIMIT && (v as i64) as f64 == v && v.to_bits() != (-0.0f64).to_bits()
        });
        if int { Domain::Int } else { Domain::Bits }
    }

    fn key(self, v: f64) -> i64 {
        match self {
            // In range and integral: the conversion is exact.
            Domain::Int => v as i64,
            Domain::Bits => flip(v.to_bits() as i64),
        }
    }

    fn value(self, key: i64) -> f64 {
        match self {
            // |key| < 2^53: exact.
            Domain::Int => key as f64,
            Domain::Bits => f64::from_bits(flip(key) as u64),
        }
    }
}

fn flip(bits: i64) -> i64 {
    if bits < 0 { bits ^ i64::MAX } else { bits }
}

/// A sealed block: its keys are `base + slope * j + miss_j` (wrapping), the misses `width` bytes
/// each from `offset` of the column's residual bytes; `width` 8 keeps the keys themselves.
#[derive(Clone, Copy, Debug)]
struct Block {
    base: i64,
    slope: i64,
    offset: u32,
    width: u8,
    domain: Domain,
}

#[derive(Clone, Debug, Default)]
pub struct PackedColumn {
    blocks: Vec<Block>,
    residuals: Vec<u8>,
    /// The unsealed points after the last block (fewer than [`BLOCK`]).
    tail: Vec<f64>,
}

impl PackedColumn {
    pub fn new() -> PackedColumn {
        PackedColumn::default()
    }

    /// The column of `values`, in order.
    pub fn from_values(values: &[f64]) -> PackedColumn {
        let mut column = PackedColumn::new();
        let mut blocks = values.chunks_exact(BLOCK);
        column.blocks.reserve(values.len() / BLOCK);
        for block in &mut blocks {
            column.seal(block);
        }
        column.tail.extend_from_slice(blocks.remainder());
        column
    }

    pub fn len(&self) -> usize {
        self.blocks.len() * BLOCK + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a value; a block that fills is sealed (O(BLOCK) once per BLOCK points).
    pub fn push(&mut self, value: f64) {
        self.tail.push(value);
        if self.tail.len() == BLOCK {
            let tail = std::mem::take(&mut self.tail);
            self.seal(&tail);
            self.tail = tail;
            self.tail.clear();
        }
    }

    /// The value at `index`.
    ///
    /// # Panics
    /// If `index >= self.len()`, like indexing.
    #[inline]
    pub fn get(&self, index: usize) -> f64 {
        let b = index / BLOCK;
        let Some(block) = self.blocks.get(b) else {
            return self.tail[index - self.blocks.len() * BLOCK];
        };
        let j = index % BLOCK;
        let predicted = || block.base.wrapping_add(block.slope.wrapping_mul(j as i64));
        let at = block.offset as usize + usize::from(block.width) * j;
        let r = &self.residuals;
        // Fixed-size reads per width: no copy of a variable length.
        let key = match block.width {
            0 => predicted(),
            1 => predicted().wrapping_add(i64::from(r[at] as i8)),
            2 => predicted().wrapping_add(i64::from(i16::from_le_bytes([r[at], r[at + 1]]))),
            3 => {
                let raw = i32::from_le_bytes([0, r[at], r[at + 1], r[at + 2]]) >> 8;
                predicted().wrapping_add(i64::from(raw))
            }
            4 => {
                let raw = i32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
                predicted().wrapping_add(i64::from(raw))
            }
            _ => i64::from_le_bytes(r[at..at + 8].try_into().expect("8 bytes")),
        };
        block.domain.value(key)
    }

    /// The values at `range`, copied out.
    pub fn range_to_vec(&self, range: std::ops::Range<usize>) -> Vec<f64> {
        range.map(|i| self.get(i)).collect()
    }

    pub fn to_vec(&self) -> Vec<f64> {
        self.range_to_vec(0..self.len())
    }

    /// Gives back growth slack (after a history was read whole).
    pub fn shrink_to_fit(&mut self) {
        self.blocks.shrink_to_fit();
        self.residuals.shrink_to_fit();
        self.tail.shrink_to_fit();
    }

    /// Heap bytes held (capacities, with the allocator's overhead per allocation).
    pub fn memory_bytes(&self) -> usize {
        let allocations = [
            self.blocks.capacity(),
            self.residuals.capacity(),
            self.tail.capacity(),
        ]
        .into_iter()
        .filter(|&c| c > 0)
        .count();
        self.blocks.capacity() * size_of::<Block>()
            + self.residuals.capacity()
            + self.tail.capacity() * size_of::<f64>()
            + allocations * ALLOC_OVERHEAD_BYTES
    }

    /// Packs one full block of values.
    fn seal(&mut self, values: &[f64]) {
        debug_assert_eq!(values.len(), BLOCK);
        let domain = Domain::of_block(values);
        let mut keys = [0i64; BLOCK];
        for (k, &v) in keys.iter_mut().zip(values) {
            *k = domain.key(v);
        }
        let base = keys[0];
        let span = i128::from(keys[BLOCK - 1]) - i128::from(base);
        // |span| < 2^64, so the slope fits; and `base + slope * j` lies between the first and
        // the last key, so it fits an i64 too (though `slope * j` alone may not).
        let slope = (span / (BLOCK as i128 - 1)) as i64;
        let mut misses = [0i64; BLOCK];
        // The bits of every miss's magnitude together: the widest miss's top bit, which is all
        // the width needs. A miss beyond i64 keeps the keys whole.
        let (mut magnitudes, mut overflow) = (0u64, false);
        for (j, (m, &k)) in misses.iter_mut().zip(&keys).enumerate() {
            // Wrapping steps, exact: the sum is in range even where `slope * j` is not.
            let predicted = base.wrapping_add(slope.wrapping_mul(j as i64));
            let (miss, overflowed) = k.overflowing_sub(predicted);
            *m = miss;
            magnitudes |= miss.unsigned_abs();
            overflow |= overflowed;
        }
        let width: u8 = match magnitudes {
            _ if overflow => 8,
            0 => 0,
            w if w < 1 << 7 => 1,
            w if w < 1 << 15 => 2,
            w if w < 1 << 23 => 3,
            w if w < 1 << 31 => 4,
            _ => 8,
        };
        let offset = u32::try_from(self.residuals.len()).expect("a column's residuals fit u32");
        let r = &mut self.residuals;
        r.reserve(BLOCK * usize::from(width));
        // Each miss in its low bytes (two's complement), a fixed number of bytes per width.
        match width {
            0 => {}
            1 => r.extend(misses.iter().map(|&m| m as i8 as u8)),
            2 => misses
                .iter()
                .for_each(|&m| r.extend_from_slice(&(m as i16).to_le_bytes())),
            3 => misses
                .iter()
                .for_each(|&m| r.extend_from_slice(&(m as i32).to_le_bytes()[..3])),
            4 => misses
                .iter()
                .for_each(|&m| r.extend_from_slice(&(m as i32).to_le_bytes())),
            _ => keys
                .iter()
                .for_each(|k| r.extend_from_slice(&k.to_le_bytes())),
        }
        self.blocks.push(Block {
            base,
            slope,
            offset,
            width,
            domain,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    fn check(values: &[f64]) {
        let mut pushed = PackedColumn::new();
        for &v in values {
            pushed.push(v);
        }
        let bulk = PackedColumn::from_values(values);
        assert_eq!(pushed.len(), values.len());
        assert_eq!(bits(&pushed.to_vec()), bits(values));
        assert_eq!(bits(&bulk.to_vec()), bits(values));
    }

    proptest! {
        #[test]
        fn any_values_come_back_bit_for_bit(values in prop::collection::vec(any::<f64>(), 0..700)) {
            check(&values);
        }

        #[test]
        fn jittered_clocks_and_odd_steps_come_back(
            start in 0.0f64..2e9,
            jitter in prop::collection::vec(-0.05f64..0.05, 0..600),
            gaps in prop::collection::vec(0u64..1_000_000, 0..600),
        ) {
            let wall: Vec<f64> = jitter.iter().enumerate().map(|(i, j)| start + i as f64 * 0.1 + j).collect();
            check(&wall);
            let steps: Vec<f64> = gaps.iter().scan(0u64, |s, g| { *s += g; Some(*s as f64) }).collect();
            check(&steps);
        }
    }

    #[test]
    fn edge_values_and_domains_mix() {
        let mut values = vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            9_007_199_254_740_991.0,
            -9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            1e300,
            5e-324,
        ];
        values.extend((0..300).map(|i| i as f64));
        values.extend((0..300).map(|i| (i as f64) * -3.5));
        values.extend(std::iter::repeat_n(
            f64::from_bits(0x7ff8_dead_beef_0001),
            200,
        ));
        check(&values);
    }

    #[test]
    fn even_steps_and_close_timestamps_are_small() {
        let n = 100_000;
        let steps: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let mut s = PackedColumn::from_values(&steps);
        s.shrink_to_fit();
        assert!(s.memory_bytes() < n / 4, "{} bytes", s.memory_bytes());
        // A clock at 10 steps a second, each step 0–20 ms late or early (a random walk).
        let mut state = 7u64;
        let mut t = 1.7e9;
        let wall: Vec<f64> = (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                t += 0.09 + (state >> 40) as f64 / (1u64 << 24) as f64 * 0.02;
                t
            })
            .collect();
        let mut w = PackedColumn::from_values(&wall);
        w.shrink_to_fit();
        assert_eq!(bits(&w.to_vec()), bits(&wall));
        assert!(w.memory_bytes() <= n * 7 / 2, "{} bytes", w.memory_bytes());
    }
}
