//! The series answer in binary: typed little-endian columns behind a small JSON header, asked for
//! with `Accept: application/vnd.trackline.series` (the web app does; scripts keep the JSON).
//!
//! It carries exactly what the JSON answer carries (every `f64` bit for bit, NaN and ±Inf
//! included) and decodes without a parser: a few `from_le_bytes` per column. Layout:
//!
//! ```text
//! "TLS2"                  magic and version
//! u32 H, H bytes          header: JSON of `{key, x, x_key, window, width, x_log,
//!                         runs: [{run, total_points, columns, same_x}]}`
//! per run, in order:      n = columns, m = columns not reduced to their first point
//!   u16 × n  column       (widths are at most 65,535 columns)        } left out when `same_x`:
//!   u32 × n  count                                                   } the run before's
//!   u32 k, k × (u32 i, u32 nonfinite)   the columns with non-finite points
//!   u32 j, j × u32 i      one-point columns sent in full (none, from the decimation)  } same_x
//!   f64 × n  x_first                                                 } same_x
//!   f64 × n  first
//!   f64 × m  x_last (not when same_x), last, min, max, x_of_min, x_of_max (each m long; NaN: no
//!            finite value)
//! ```
//!
//! A column of one point needs no last/min/max/x_of_*: they follow from its first point. Zoomed in, where
//! most columns hold one point, that halves the answer. Runs logged at the same steps (a sweep's,
//! a group's) fall into the same columns with the same counts and first and last x: a run whose
//! columns, counts, one-point columns and x are the run before's says `same_x` and sends only its
//! values, ~30% less for a panel of many such runs.

use crate::api::{Buckets, RunSeries, SeriesResponse, XAxis};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;

/// The media type of the binary answer.
pub const CONTENT_TYPE: &str = "application/vnd.trackline.series";

const MAGIC: &[u8; 4] = b"TLS2";

#[derive(Deserialize)]
struct Header {
    key: String,
    x: XAxis,
    x_key: Option<String>,
    window: Option<(f64, f64)>,
    width: u32,
    x_log: bool,
    runs: Vec<RunHeader>,
}

#[derive(Serialize, Deserialize, Debug)]
struct RunHeader {
    run: String,
    total_points: u64,
    columns: u32,
    /// Its columns, counts, one-point columns and x are those of the run before (not sent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    same_x: bool,
}

/// The one-point columns of `b` sent in full (none, from the decimation).
fn odd_columns(b: &Buckets) -> Vec<u32> {
    (0..b.len())
        .filter(|&i| b.count[i] == 1 && !is_single(b, i))
        .map(|i| i as u32)
        .collect()
}

/// Whether `b` falls into `a`'s columns with `a`'s counts, one-point columns and x, bit for bit
/// (what a `same_x` run leaves out).
fn same_x_as(a: &Buckets, a_odd: &[u32], b: &Buckets, b_odd: &[u32]) -> bool {
    let bits = |x: &[f64], y: &[f64]| {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
    };
    !b.column.is_empty()
        && a.column == b.column
        && a.count == b.count
        && a_odd == b_odd
        && bits(&a.x_first, &b.x_first)
        && bits(&a.x_last, &b.x_last)
}

/// Encodes `resp`; `None` when a column index does not fit 16 bits (a width over 65,535).
pub fn encode(resp: &SeriesResponse) -> Option<Vec<u8>> {
    let mut runs = RunsEncoder::after(None);
    for r in &resp.runs {
        runs.push(&r.run, r.total_points, &r.buckets)?;
    }
    let runs = runs.finish();
    let mut out = head(resp, std::slice::from_ref(&runs))?;
    out.extend_from_slice(&runs.body);
    Some(out)
}

/// The header of an answer whose runs are `parts`, in order: the bytes before the runs' bodies.
/// `resp` gives the rest of the header; its own runs are not read.
pub fn head(resp: &SeriesResponse, parts: &[EncodedRuns]) -> Option<Vec<u8>> {
    #[derive(Serialize)]
    struct HeaderOut<'a> {
        key: &'a str,
        x: XAxis,
        x_key: Option<&'a str>,
        window: Option<(f64, f64)>,
        width: u32,
        x_log: bool,
        runs: Vec<&'a RunHeader>,
    }
    let header = serde_json::to_vec(&HeaderOut {
        key: &resp.key,
        x: resp.x,
        x_key: resp.x_key.as_deref(),
        window: resp.window,
        width: resp.width,
        x_log: resp.x_log,
        runs: parts.iter().flat_map(|p| &p.runs).collect(),
    })
    .ok()?;
    let mut out = Vec::with_capacity(8 + header.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&u32::try_from(header.len()).ok()?.to_le_bytes());
    out.extend_from_slice(&header);
    Some(out)
}

/// Runs' bodies encoded by one [`RunsEncoder`], and their entries of the header.
#[derive(Debug)]
pub struct EncodedRuns {
    runs: Vec<RunHeader>,
    pub body: Vec<u8>,
}

/// Encodes an answer's runs one after the other. Several encoders can each take a contiguous
/// slice of one answer's runs (on threads of their own, each run encoded as soon as it is
/// decimated): told the run before its slice, an encoder writes exactly the bytes one encoder over
/// all the runs would, and [`head`] then writes the header of all their parts.
///
/// `B` is a run's buckets, owned or borrowed: the encoder keeps the last run's (a run says
/// `same_x` when it shares the run before's columns and x).
pub struct RunsEncoder<B> {
    before: Option<(B, Vec<u32>)>,
    runs: Vec<RunHeader>,
    body: Vec<u8>,
}

impl<B: Borrow<Buckets>> RunsEncoder<B> {
    /// An encoder whose first run comes after the run `before` in the answer (`None`: first).
    pub fn after(before: Option<B>) -> RunsEncoder<B> {
        RunsEncoder {
            before: before.map(|b| {
                let odd = odd_columns(b.borrow());
                (b, odd)
            }),
            runs: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Appends run `run`'s body; `None` when a column index does not fit 16 bits.
    pub fn push(&mut self, run: &str, total_points: u64, buckets: B) -> Option<()> {
        let b = buckets.borrow();
        let odd = odd_columns(b);
        let shared = self
            .before
            .as_ref()
            .is_some_and(|(a, a_odd)| same_x_as(a.borrow(), a_odd, b, &odd));
        let out = &mut self.body;
        out.reserve(b.len() * 78 + 8);
        for &c in &b.column {
            let c = u16::try_from(c).ok()?;
            if !shared {
                out.extend_from_slice(&c.to_le_bytes());
            }
        }
        if !shared {
            for &c in &b.count {
                out.extend_from_slice(&c.to_le_bytes());
            }
        }
        let nonfinite: Vec<(u32, u32)> = (0..b.len())
            .filter(|&i| b.nonfinite[i] != 0)
            .map(|i| (i as u32, b.nonfinite[i]))
            .collect();
        out.extend_from_slice(&(nonfinite.len() as u32).to_le_bytes());
        for (i, n) in nonfinite {
            out.extend_from_slice(&i.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
        }
        if !shared {
            out.extend_from_slice(&(odd.len() as u32).to_le_bytes());
            for i in &odd {
                out.extend_from_slice(&i.to_le_bytes());
            }
            put_f64s(out, b.x_first.iter().copied());
        }
        put_f64s(out, b.first.iter().copied());
        let multi = |i: &usize| !is_single(b, *i);
        if !shared {
            put_f64s(out, (0..b.len()).filter(multi).map(|i| b.x_last[i]));
        }
        put_f64s(out, (0..b.len()).filter(multi).map(|i| b.last[i]));
        put_f64s(
            out,
            (0..b.len())
                .filter(multi)
                .map(|i| b.min[i].unwrap_or(f64::NAN)),
        );
        put_f64s(
            out,
            (0..b.len())
                .filter(multi)
                .map(|i| b.max[i].unwrap_or(f64::NAN)),
        );
        let x_of = |v: &[f64], i: usize| v.get(i).copied().unwrap_or(f64::NAN);
        put_f64s(
            out,
            (0..b.len()).filter(multi).map(|i| x_of(&b.x_of_min, i)),
        );
        put_f64s(
            out,
            (0..b.len()).filter(multi).map(|i| x_of(&b.x_of_max, i)),
        );
        self.runs.push(RunHeader {
            run: run.to_string(),
            total_points,
            columns: b.len() as u32,
            same_x: shared,
        });
        self.before = Some((buckets, odd));
        Some(())
    }

    /// The runs encoded.
    pub fn finish(self) -> EncodedRuns {
        EncodedRuns {
            runs: self.runs,
            body: self.body,
        }
    }
}

/// Whether column `i` is a single point whose last/min/max follow from its first (always so for a
/// one-point column of the decimation; checked, so an odd column is sent in full).
fn is_single(b: &Buckets, i: usize) -> bool {
    let first = b.first[i];
    let extreme = first.is_finite().then_some(first);
    let at = if first.is_finite() {
        b.x_first[i]
    } else {
        f64::NAN
    };
    let x_of = |v: &[f64]| v.get(i).map_or(f64::NAN, |x| *x).to_bits();
    b.count[i] == 1
        && x_of(&b.x_of_min) == at.to_bits()
        && x_of(&b.x_of_max) == at.to_bits()
        && b.x_last[i].to_bits() == b.x_first[i].to_bits()
        && b.last[i].to_bits() == first.to_bits()
        && b.min[i].map(f64::to_bits) == extreme.map(f64::to_bits)
        && b.max[i].map(f64::to_bits) == extreme.map(f64::to_bits)
}

fn put_f64s(out: &mut Vec<u8>, values: impl Iterator<Item = f64>) {
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Decodes an answer written by [`encode`]; the error says what is wrong with the bytes.
pub fn decode(bytes: &[u8]) -> Result<SeriesResponse, String> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != MAGIC {
        return Err("not a binary series answer (no TLS2 magic)".into());
    }
    let len = r.u32()? as usize;
    let header: Header =
        serde_json::from_slice(r.take(len)?).map_err(|e| format!("series header: {e}"))?;
    let mut runs: Vec<RunSeries> = Vec::with_capacity(header.runs.len());
    // The run before's single-point flags and x_last of its other columns (for `same_x`).
    let mut before: Option<(Vec<bool>, Vec<f64>)> = None;
    for h in header.runs {
        let n = h.columns as usize;
        let prev = match (h.same_x, runs.last(), &before) {
            (false, _, _) => None,
            (true, Some(p), Some(shared)) if p.buckets.len() == n => Some((&p.buckets, shared)),
            (true, ..) => return Err("series body: same_x without a run before like it".into()),
        };
        let (column, count) = match prev {
            Some((p, _)) => (p.column.clone(), p.count.clone()),
            None => (
                r.array(n, 2, |c| u32::from(u16::from_le_bytes([c[0], c[1]])))?,
                r.array(n, 4, le_u32)?,
            ),
        };
        let mut nonfinite = vec![0; n];
        let k = r.u32()? as usize;
        for pair in r.array(k, 8, |c| (le_u32(&c[..4]), le_u32(&c[4..])))? {
            *nonfinite
                .get_mut(pair.0 as usize)
                .ok_or("series body: a non-finite entry names a missing column")? = pair.1;
        }
        let (single, x_first) = match prev {
            Some((p, (single, _))) => (single.clone(), p.x_first.clone()),
            None => {
                let mut single: Vec<bool> = count.iter().map(|&c| c == 1).collect();
                let j = r.u32()? as usize;
                for i in r.array(j, 4, le_u32)? {
                    *single
                        .get_mut(i as usize)
                        .ok_or("series body: a full column names a missing column")? = false;
                }
                (single, r.array(n, 8, le_f64)?)
            }
        };
        let first = r.array(n, 8, le_f64)?;
        let m = single.iter().filter(|s| !**s).count();
        let x_last_m = match prev {
            Some((_, (_, x_last_m))) => x_last_m.clone(),
            None => r.array(m, 8, le_f64)?,
        };
        let last_m = r.array(m, 8, le_f64)?;
        let (min_m, max_m) = (r.array(m, 8, le_f64)?, r.array(m, 8, le_f64)?);
        let (x_of_min_m, x_of_max_m) = (r.array(m, 8, le_f64)?, r.array(m, 8, le_f64)?);
        let mut b = Buckets {
            column,
            count,
            nonfinite,
            x_first,
            first,
            x_last: Vec::with_capacity(n),
            last: Vec::with_capacity(n),
            min: Vec::with_capacity(n),
            max: Vec::with_capacity(n),
            x_of_min: Vec::with_capacity(n),
            x_of_max: Vec::with_capacity(n),
        };
        let mut j = 0;
        for (i, &one) in single.iter().enumerate() {
            if one {
                let v = b.first[i];
                let extreme = v.is_finite().then_some(v);
                b.x_last.push(b.x_first[i]);
                b.last.push(v);
                b.min.push(extreme);
                b.max.push(extreme);
                let at = if v.is_finite() {
                    b.x_first[i]
                } else {
                    f64::NAN
                };
                b.x_of_min.push(at);
                b.x_of_max.push(at);
            } else {
                b.x_last.push(x_last_m[j]);
                b.last.push(last_m[j]);
                b.min.push(Some(min_m[j]).filter(|v| !v.is_nan()));
                b.max.push(Some(max_m[j]).filter(|v| !v.is_nan()));
                b.x_of_min.push(x_of_min_m[j]);
                b.x_of_max.push(x_of_max_m[j]);
                j += 1;
            }
        }
        before = Some((single, x_last_m));
        runs.push(RunSeries {
            run: h.run,
            total_points: h.total_points,
            buckets: b,
        });
    }
    if r.at != bytes.len() {
        return Err(format!(
            "series body: {} bytes left over",
            bytes.len() - r.at
        ));
    }
    Ok(SeriesResponse {
        key: header.key,
        x: header.x,
        x_key: header.x_key,
        window: header.window,
        width: header.width,
        x_log: header.x_log,
        runs,
    })
}

fn le_u32(c: &[u8]) -> u32 {
    u32::from_le_bytes([c[0], c[1], c[2], c[3]])
}

fn le_f64(c: &[u8]) -> f64 {
    let mut a = [0; 8];
    a.copy_from_slice(&c[..8]);
    f64::from_le_bytes(a)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or("series body ends early")?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.take(4).map(le_u32)
    }

    fn array<T>(
        &mut self,
        n: usize,
        size: usize,
        f: impl Fn(&[u8]) -> T,
    ) -> Result<Vec<T>, String> {
        let bytes = self.take(n.checked_mul(size).ok_or("series body: bad length")?)?;
        Ok(bytes.chunks_exact(size).map(f).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// column, count, nonfinite, x_first, x_last, first, last, min, max.
    type Column = (u32, u32, u32, f64, f64, f64, f64, Option<f64>, Option<f64>);

    fn buckets(points: &[Column]) -> Buckets {
        let mut b = Buckets::default();
        for &(c, n, nf, xf, xl, f, l, lo, hi) in points {
            b.column.push(c);
            b.count.push(n);
            b.nonfinite.push(nf);
            b.x_first.push(xf);
            b.x_last.push(xl);
            b.first.push(f);
            b.last.push(l);
            b.min.push(lo);
            b.max.push(hi);
            // The extremes at the first point where it holds them, else at the last.
            let at = |e: Option<f64>| match e {
                None => f64::NAN,
                Some(e) if e == f => xf,
                Some(_) => xl,
            };
            b.x_of_min.push(at(lo));
            b.x_of_max.push(at(hi));
        }
        b
    }

    fn answer() -> SeriesResponse {
        SeriesResponse {
            key: "train/loss ü".into(),
            x: XAxis::Step,
            x_key: Some("epoch".into()),
            window: Some((0.0, 1e6)),
            width: 1207,
            x_log: false,
            runs: vec![
                RunSeries {
                    run: "a".into(),
                    total_points: 100_000,
                    buckets: buckets(&[
                        (0, 1, 0, 0.0, 0.0, 0.5, 0.5, Some(0.5), Some(0.5)),
                        (1, 1, 1, 3.0, 3.0, f64::NAN, f64::NAN, None, None),
                        (
                            2,
                            83,
                            2,
                            4.0,
                            86.0,
                            f64::INFINITY,
                            -0.0,
                            Some(-1e-300),
                            Some(7.25),
                        ),
                        (
                            3,
                            1,
                            1,
                            90.0,
                            90.0,
                            f64::NEG_INFINITY,
                            f64::NEG_INFINITY,
                            None,
                            None,
                        ),
                        (1206, 2, 2, 99.0, 99.5, f64::NAN, f64::INFINITY, None, None),
                        // A one-point column the decimation would not make: sent in full.
                        (1205, 1, 0, 98.0, 98.0, 1.0, 2.0, Some(1.0), Some(2.0)),
                    ]),
                },
                RunSeries {
                    run: "empty".into(),
                    total_points: 0,
                    buckets: Buckets::default(),
                },
            ],
        }
    }

    fn bits(r: &SeriesResponse) -> String {
        // NaN != NaN: compare the JSON of every f64's bits.
        let b = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let o = |v: &[Option<f64>]| v.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
        let runs: Vec<_> = r
            .runs
            .iter()
            .map(|s| {
                let k = &s.buckets;
                format!(
                    "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                    s.run,
                    s.total_points,
                    k.column,
                    k.count,
                    k.nonfinite,
                    b(&k.x_first),
                    b(&k.x_last),
                    b(&k.first),
                    b(&k.last),
                    o(&k.min),
                    o(&k.max),
                    b(&k.x_of_min),
                    b(&k.x_of_max)
                )
            })
            .collect();
        format!(
            "{} {:?} {:?} {:?} {} {} {runs:?}",
            r.key, r.x, r.x_key, r.window, r.width, r.x_log
        )
    }

    #[test]
    fn round_trips_every_bit() {
        let a = answer();
        let bytes = encode(&a).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(bits(&a), bits(&back));
        // Run "a": 6 columns, 4 with non-finite points, 3 single points (the odd one is sent in
        // full, named in its own list): 6 × (2 + 4 + 8 + 8) + 4 + 4 × 8 + 4 + 4 + 3 × 6 × 8 bytes;
        // run "empty": its two 4-byte counts.
        let header = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(bytes.len() - 8 - header, 6 * 22 + 4 + 32 + 8 + 144 + 8);
    }

    /// `a`'s columns with other values (same steps: same columns, counts and x).
    fn same_steps(a: &Buckets, shift: f64) -> Buckets {
        let mut b = a.clone();
        for v in b.first.iter_mut().chain(b.last.iter_mut()) {
            *v += shift;
        }
        for v in b.min.iter_mut().chain(b.max.iter_mut()) {
            *v = v.map(|v| v + shift);
        }
        b
    }

    #[test]
    fn runs_at_the_same_steps_send_their_x_once() {
        let mut a = answer();
        let first = a.runs[0].buckets.clone();
        let mut moved = same_steps(&first, 2.0);
        moved.x_last[2] = 87.0; // another x: sent in full
        for (run, buckets) in [
            ("b", same_steps(&first, 1.0)),
            ("c", moved.clone()),
            ("d", same_steps(&moved, 3.0)),
            ("e", same_steps(&moved, 4.0)),
        ] {
            a.runs.push(RunSeries {
                run: run.into(),
                total_points: 100_000,
                buckets,
            });
        }
        let bytes = encode(&a).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(bits(&a), bits(&back));
        let len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        let header: Header = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
        let flags: Vec<bool> = header.runs.iter().map(|r| r.same_x).collect();
        // "b" after "empty" is not shared; "e" after "d" after "c" is.
        assert_eq!(flags, [false, false, false, false, true, true]);
        // A shared run leaves out its columns, counts, odd list, x_first and x_last (6 columns,
        // 3 of them with more than one point): 6 × (2 + 4 + 8) + 4 + 4 + 3 × 8 bytes each.
        let full = encode(&SeriesResponse {
            runs: vec![a.runs[4].clone()],
            ..answer()
        })
        .unwrap();
        let alone = full.len() - 8 - u32::from_le_bytes(full[4..8].try_into().unwrap()) as usize;
        let body = bytes.len() - 8 - len;
        let sizes_without_sharing = alone * 4 + (6 * 22 + 4 + 32 + 8 + 144) + 8;
        assert_eq!(sizes_without_sharing - body, 2 * (6 * 14 + 4 + 4 + 3 * 8));
    }

    #[test]
    fn runs_encoded_in_slices_are_the_bytes_of_one_encoding() {
        let mut a = answer();
        let first = a.runs[0].buckets.clone();
        for (i, run) in ["b", "c", "d", "e", "f"].into_iter().enumerate() {
            a.runs.push(RunSeries {
                run: run.into(),
                total_points: 100_000,
                buckets: same_steps(&first, i as f64),
            });
        }
        let whole = encode(&a).unwrap();
        // Every way of cutting the runs into slices, each encoded after the run before it.
        for cut in 0..=a.runs.len() {
            for cut2 in cut..=a.runs.len() {
                let parts: Vec<EncodedRuns> = [0..cut, cut..cut2, cut2..a.runs.len()]
                    .into_iter()
                    .map(|slice| {
                        let before = slice.start.checked_sub(1).map(|i| &a.runs[i].buckets);
                        let mut runs = RunsEncoder::after(before);
                        for r in &a.runs[slice] {
                            runs.push(&r.run, r.total_points, &r.buckets).unwrap();
                        }
                        runs.finish()
                    })
                    .collect();
                let mut bytes = head(&a, &parts).unwrap();
                for part in &parts {
                    bytes.extend_from_slice(&part.body);
                }
                assert!(bytes == whole, "cut at {cut} and {cut2}");
            }
        }
    }

    #[test]
    fn refuses_damaged_bytes() {
        let bytes = encode(&answer()).unwrap();
        assert!(
            decode(&bytes[..bytes.len() - 1])
                .unwrap_err()
                .contains("ends early")
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).unwrap_err().contains("left over"));
        assert!(decode(b"{\"key\":1}").unwrap_err().contains("magic"));
        let mut bad = bytes;
        bad[8] = b'[';
        assert!(decode(&bad).unwrap_err().contains("header"));
    }

    #[test]
    fn widths_past_sixteen_bits_are_not_encoded() {
        let mut a = answer();
        a.runs[0].buckets.column[0] = 70_000;
        assert!(encode(&a).is_none());
    }
}
