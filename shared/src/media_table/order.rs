//! Sorting a table's rows by a column as the runs table sorts runs ([`crate::columns::sort`]):
//! numbers numerically, text in natural order (`img 2` before `img 10`, case ignored), booleans
//! as 0/1, stable, NaN and nulls last in both directions. Done on integer keys: each text gets a
//! rank once (its natural-order key compared bytewise), and a sort is one sort of
//! `(class, key, position)` triples.

use std::cmp::Ordering;

use super::{Cell, Column, Texts};

/// A byte string whose bytewise order is [`crate::columns::natural_cmp`]'s order: characters
/// lowercased, each run of digits as `0`, its length without leading zeros (4 bytes) and those
/// digits. (`0` stands for the run's first digit: any other character compares with it as with
/// any digit, since no character lies between `0` and `9` but digits.)
pub fn natural_key(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 8);
    push_natural_key(s, &mut out);
    out
}

/// Appends [`natural_key`]`(s)` to `out`.
fn push_natural_key(s: &str, out: &mut Vec<u8>) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &b[start..i];
            let trimmed = &digits[digits.iter().take_while(|&&d| d == b'0').count()..];
            out.push(b'0');
            out.extend_from_slice(&(trimmed.len() as u32).to_be_bytes());
            out.extend_from_slice(trimmed);
        } else if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            i += 1;
        } else {
            let ch = s[i..].chars().next().unwrap_or('\u{FFFD}');
            let mut buf = [0u8; 4];
            for l in ch.to_lowercase() {
                out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
            }
            i += ch.len_utf8();
        }
    }
}

/// Each text's rank in natural order; texts that compare equal share a rank. The keys go into
/// one buffer (no allocation per text).
pub(super) fn text_ranks(texts: &Texts) -> Vec<u32> {
    let mut buf: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::with_capacity(texts.len());
    for t in texts.iter() {
        push_natural_key(t, &mut buf);
        ends.push(buf.len());
    }
    let key = |id: u32| {
        let i = id as usize;
        let start = if i == 0 { 0 } else { ends[i - 1] };
        &buf[start..ends[i]]
    };
    let mut ids: Vec<u32> = (0..texts.len() as u32).collect();
    ids.sort_unstable_by(|&a, &b| key(a).cmp(key(b)));
    let mut ranks = vec![0u32; texts.len()];
    let mut rank = 0u32;
    for (n, &id) in ids.iter().enumerate() {
        if n > 0 && key(ids[n - 1]) != key(id) {
            rank += 1;
        }
        ranks[id as usize] = rank;
    }
    ranks
}

/// An `f64` as a `u64` in the same order as [`f64::total_cmp`].
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

/// The class and key a cell sorts by: numbers (and booleans) first, then text, then other
/// values (lists, objects, media) in their order, then NaN, then null and missing. Only the keys
/// of numbers and text are reversed by a descending sort.
fn sort_key(c: &Column, ranks: &[u32], cell: Cell, desc: bool) -> (u8, u64) {
    let flip = |k: u64| if desc { !k } else { k };
    match cell {
        Cell::Num(x) if x.is_nan() => (3, 0),
        Cell::Num(x) => (0, flip(ordered_bits(x))),
        Cell::Bool(b) => (0, flip(ordered_bits(f64::from(u8::from(b))))),
        Cell::Text(i) if c.text(i).is_empty() => (4, 0),
        Cell::Text(i) => (1, flip(u64::from(ranks[i as usize]))),
        Cell::Json(_) => (2, 0),
        Cell::Null | Cell::Missing => (4, 0),
    }
}

/// Sorts `order` (row indices) by column `c`, stably.
pub(super) fn sort(c: &Column, order: &mut [u32], desc: bool) {
    let ranks = if c.texts.is_empty() {
        &[][..]
    } else {
        c.text_ranks()
    };
    let mut keyed: Vec<(u8, u64, u32)> = order
        .iter()
        .enumerate()
        .map(|(pos, &row)| {
            let (class, key) = sort_key(c, ranks, c.cell(row as usize), desc);
            (class, key, pos as u32)
        })
        .collect();
    keyed.sort_unstable();
    let before = order.to_vec();
    for (slot, (_, _, pos)) in order.iter_mut().zip(keyed) {
        *slot = before[pos as usize];
    }
}

/// Orders two cells of column `c` as [`sort`] does (ties equal).
pub(super) fn compare_cells(c: &Column, a: Cell, b: Cell) -> Ordering {
    let ranks = if c.texts.is_empty() {
        &[][..]
    } else {
        c.text_ranks()
    };
    sort_key(c, ranks, a, false).cmp(&sort_key(c, ranks, b, false))
}
