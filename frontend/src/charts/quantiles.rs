//! Quantiles of a binned histogram, for TensorBoard-style distribution bands: the values at the
//! normal distribution's CDF at −1.5σ, −1σ, −0.5σ, 0, +0.5σ, +1σ, +1.5σ, with the minimum and
//! maximum (TensorBoard's `compressor.py` basis points 0, 668, 1587, 3085, 5000, 6915, 8413,
//! 9332, 10000), read from the counts with the values spread evenly inside each bin.

/// Cumulative probabilities of the bands: min, ±1.5σ, ±1σ, ±0.5σ, median, max.
pub const NORMAL_POINTS: [f64; 9] = [
    0.0, 0.0668, 0.1587, 0.3085, 0.5, 0.6915, 0.8413, 0.9332, 1.0,
];

/// The value below which a share `p` (0..=1) of the histogram's count lies; `p = 0` is the left
/// edge of the first non-empty bin, `p = 1` the right edge of the last. `None` for an empty or
/// malformed histogram.
pub fn quantile(bins: &[f64], counts: &[f64], p: f64) -> Option<f64> {
    if bins.len() != counts.len() + 1 || !p.is_finite() {
        return None;
    }
    let weight = |c: f64| if c.is_finite() && c > 0.0 { c } else { 0.0 };
    let total: f64 = counts.iter().copied().map(weight).sum();
    if total <= 0.0 {
        return None;
    }
    let p = p.clamp(0.0, 1.0);
    let nonempty: Vec<usize> = (0..counts.len())
        .filter(|&i| weight(counts[i]) > 0.0)
        .collect();
    let (first, last) = (*nonempty.first()?, *nonempty.last()?);
    if p <= 0.0 {
        return Some(bins[first]);
    }
    if p >= 1.0 {
        return Some(bins[last + 1]);
    }
    let target = p * total;
    let mut acc = 0.0;
    for i in first..=last {
        let c = weight(counts[i]);
        if c > 0.0 && acc + c >= target {
            let f = (target - acc) / c;
            return Some(bins[i] + f * (bins[i + 1] - bins[i]));
        }
        acc += c;
    }
    Some(bins[last + 1])
}

/// The nine band values of [`NORMAL_POINTS`], ascending.
pub fn distribution(bins: &[f64], counts: &[f64]) -> Option<[f64; 9]> {
    let mut out = [0.0; 9];
    for (o, &p) in out.iter_mut().zip(NORMAL_POINTS.iter()) {
        *o = quantile(bins, counts, p)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_uniform_histogram_are_linear() {
        let bins = [0.0, 1.0, 2.0, 3.0, 4.0];
        let counts = [10.0, 10.0, 10.0, 10.0];
        assert_eq!(quantile(&bins, &counts, 0.5), Some(2.0));
        assert_eq!(quantile(&bins, &counts, 0.25), Some(1.0));
        assert_eq!(quantile(&bins, &counts, 0.0), Some(0.0));
        assert_eq!(quantile(&bins, &counts, 1.0), Some(4.0));
        let d = distribution(&bins, &counts).unwrap();
        assert!((d[1] - 0.0668 * 4.0).abs() < 1e-9);
        assert!(d.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn empty_edge_bins_do_not_move_min_and_max() {
        let bins = [0.0, 1.0, 2.0, 3.0, 4.0];
        let counts = [0.0, 4.0, 0.0, 0.0];
        assert_eq!(quantile(&bins, &counts, 0.0), Some(1.0));
        assert_eq!(quantile(&bins, &counts, 1.0), Some(2.0));
        assert_eq!(quantile(&bins, &counts, 0.5), Some(1.5));
        assert_eq!(quantile(&bins, &[0.0; 4], 0.5), None);
        assert_eq!(quantile(&bins, &[1.0; 3], 0.5), None);
    }

    #[test]
    fn a_skewed_histogram_has_its_median_in_the_heavy_bin() {
        let bins = [0.0, 1.0, 2.0];
        let counts = [1.0, 3.0];
        // 2 of 4 below: 1 in the first bin, then a third of the second.
        let m = quantile(&bins, &counts, 0.5).unwrap();
        assert!((m - (1.0 + 1.0 / 3.0)).abs() < 1e-12);
    }
}
