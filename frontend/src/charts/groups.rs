//! Grouped lines: runs that share a config value drawn as one line (mean or median per plot
//! column) with a band (min–max or ± one standard deviation).

use super::plot::{Frame, percentile};

pub use trackline_shared::chart::{Agg, Band};

/// A group's line and band, per plot column.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupFrame {
    pub name: String,
    /// Indices into `Frame::runs`.
    pub members: Vec<usize>,
    /// Plot column indices with at least one member value.
    pub idx: Vec<i64>,
    pub center: Vec<f64>,
    /// Smoothed centre (empty when smoothing is off).
    pub smoothed: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

/// Aggregates runs per plot column: all runs share the decimation window and width, so column `i`
/// of every run covers the same x interval. Each member contributes its column's last value (or its
/// smoothed value when smoothing is on); the centre is their mean or median, the band their min–max
/// or mean ± one standard deviation. Non-finite values are left out.
pub fn group(f: &Frame, groups: &[(String, Vec<usize>)], agg: Agg, band: Band) -> Vec<GroupFrame> {
    let mut out = Vec::with_capacity(groups.len());
    let mut vals: Vec<f64> = Vec::new();
    for (name, members) in groups {
        let mut g = GroupFrame {
            name: name.clone(),
            members: members.clone(),
            idx: Vec::new(),
            center: Vec::new(),
            smoothed: Vec::new(),
            lo: Vec::new(),
            hi: Vec::new(),
        };
        // Merge the members' column indices in order.
        let mut cursor: Vec<usize> = vec![0; members.len()];
        loop {
            let next = members
                .iter()
                .zip(&cursor)
                .filter_map(|(&m, &k)| f.runs.get(m).and_then(|r| r.idx.get(k)).copied())
                .min();
            let Some(i) = next else { break };
            vals.clear();
            for (j, &m) in members.iter().enumerate() {
                let Some(r) = f.runs.get(m) else { continue };
                if r.idx.get(cursor[j]) == Some(&i) {
                    let c = &r.cols[cursor[j]];
                    let v = if f.smoothing.is_active() {
                        r.smoothed_at(c.x_last).unwrap_or(c.last)
                    } else {
                        c.last
                    };
                    if v.is_finite() {
                        vals.push(v);
                    }
                    cursor[j] += 1;
                }
            }
            if vals.is_empty() {
                continue;
            }
            let n = vals.len() as f64;
            let mean = vals.iter().sum::<f64>() / n;
            let center = match agg {
                Agg::Mean => mean,
                Agg::Median => {
                    vals.sort_by(f64::total_cmp);
                    percentile(&vals, 0.5).unwrap_or(mean)
                }
            };
            let (lo, hi) = match band {
                Band::MinMax => vals
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    }),
                Band::Std => {
                    let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                    (mean - var.sqrt(), mean + var.sqrt())
                }
                Band::None => (center, center),
            };
            g.idx.push(i);
            g.center.push(center);
            g.lo.push(lo);
            g.hi.push(hi);
        }
        out.push(g);
    }
    out
}

/// Splits runs into groups by the value of a config key (text of the value; missing → `–`), in
/// order of first appearance.
pub fn groups_by(values: impl IntoIterator<Item = Option<String>>) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        let name = v.unwrap_or_else(|| "–".to_string());
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, m)) => m.push(i),
            None => out.push((name, vec![i])),
        }
    }
    out
}
