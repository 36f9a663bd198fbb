//! Smoothing of a metric's points for line charts, as the tools people compare us with do it.
//!
//! Every function takes the samples in x order and returns one smoothed value per sample. A
//! non-finite sample (NaN, ±Inf) is passed through unchanged and does not enter the smoothing state,
//! exactly like TensorBoard, so a diverged step stays visible instead of poisoning the rest of the
//! line. The chart feeds these functions the points it holds: for decimated history, one sample per
//! pixel column (the column's last point, which is what TensorBoard and W&B smooth too: they smooth
//! the points they sampled), followed by the raw live points as they arrived.

use serde::{Deserialize, Serialize};

/// Which smoothing a chart applies, with its parameter.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Debug, Default)]
#[serde(tag = "kind", content = "param", rename_all = "snake_case")]
pub enum Smoothing {
    #[default]
    None,
    /// W&B's default (time-weighted EMA); the parameter is in `0..1` (0.99 at most here).
    TimeWeightedEma(f64),
    /// TensorBoard's debiased EMA; the weight is in `0..1`.
    Ema(f64),
    /// Gaussian kernel over neighbouring samples; the parameter is the standard deviation in samples.
    Gaussian(f64),
    /// Boxcar average over a window of this many samples centred on each one.
    RunningAverage(usize),
}

impl Smoothing {
    /// Whether the smoothing changes anything.
    pub fn is_active(self) -> bool {
        match self {
            Smoothing::None => false,
            Smoothing::TimeWeightedEma(w) | Smoothing::Ema(w) => w > 0.0,
            Smoothing::Gaussian(s) => s > 0.0,
            Smoothing::RunningAverage(n) => n > 1,
        }
    }

    /// Whether the smoothed value of a sample depends on earlier samples only, with the same result
    /// however many samples follow (so a live point can be smoothed from the previous state alone).
    pub fn is_causal_and_stable(self) -> bool {
        matches!(self, Smoothing::None | Smoothing::Ema(_))
    }

    /// Applies the smoothing to `ys` (taken at `xs`, ascending).
    pub fn apply(self, xs: &[f64], ys: &[f64]) -> Vec<f64> {
        match self {
            Smoothing::None => ys.to_vec(),
            Smoothing::TimeWeightedEma(p) => time_weighted_ema(xs, ys, p),
            Smoothing::Ema(w) => debiased_ema(ys, w),
            Smoothing::Gaussian(s) => gaussian(ys, s),
            Smoothing::RunningAverage(n) => running_average(ys, n),
        }
    }
}

/// TensorBoard's exponential moving average with de-biasing (its `smoothingWeight`), over the finite
/// samples:
///
/// ```text
/// last     = last * w + (1 - w) * v
/// debias   = 1 - w^(i+1)          (i counts the finite samples before this one)
/// smoothed = last / debias
/// ```
///
/// `w` is clamped to `0..=0.999`. Non-finite samples pass through.
pub fn debiased_ema(ys: &[f64], w: f64) -> Vec<f64> {
    let w = clamp_weight(w);
    let mut state = EmaState::default();
    ys.iter().map(|&v| state.push(v, w)).collect()
}

/// The running state of [`debiased_ema`], so a live point can be smoothed without the history.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EmaState {
    last: f64,
    count: i32,
}

impl EmaState {
    /// Feeds one sample and returns its smoothed value (`v` itself when not finite).
    pub fn push(&mut self, v: f64, w: f64) -> f64 {
        if !v.is_finite() {
            return v;
        }
        let w = clamp_weight(w);
        self.last = self.last * w + (1.0 - w) * v;
        self.count = self.count.saturating_add(1);
        let debias = if w == 1.0 {
            1.0
        } else {
            1.0 - w.powi(self.count)
        };
        self.last / debias
    }
}

fn clamp_weight(w: f64) -> f64 {
    if w.is_finite() {
        w.clamp(0.0, 0.999)
    } else {
        0.0
    }
}

/// The x range W&B's time-weighted EMA scales point spacing to (`VIEWPORT_SCALE`). W&B's documented
/// sample code names the constant without giving its value; 1000 makes a parameter behave like
/// TensorBoard's weight for series of about a thousand evenly spaced points.
pub const VIEWPORT_SCALE: f64 = 1000.0;

/// W&B's time-weighted EMA ("TWEMA", its default), from W&B's documentation ("Smooth line plots",
/// <https://docs.wandb.ai/guides/app/features/panels/line-plot/smoothing/>):
///
/// ```text
/// smoothingWeight = min(sqrt(param), 0.999)
/// lastY = 0; debiasWeight = 0
/// for each point i:
///   changeInX = (x[i] - x[i-1]) / rangeOfX * VIEWPORT_SCALE     (0 for the first point)
///   adj = smoothingWeight ^ changeInX
///   lastY = lastY * adj + y[i]
///   debiasWeight = debiasWeight * adj + 1
///   smoothed[i] = lastY / debiasWeight
/// ```
///
/// `rangeOfX` is the x extent of the samples. Accounting for the x spacing makes lines with
/// different point densities smooth alike. Non-finite samples pass through and do not enter the
/// state (their x still counts as elapsed distance for the next finite sample).
pub fn time_weighted_ema(xs: &[f64], ys: &[f64], param: f64) -> Vec<f64> {
    let n = xs.len().min(ys.len());
    let param = if param.is_finite() {
        param.max(0.0)
    } else {
        0.0
    };
    let weight = param.sqrt().min(0.999);
    let finite_x = xs[..n].iter().copied().filter(|x| x.is_finite());
    let (lo, hi) = finite_x.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let range = if hi > lo { hi - lo } else { 1.0 };
    let mut last_y = 0.0;
    let mut debias = 0.0;
    let mut prev_x: Option<f64> = None;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (x, y) = (xs[i], ys[i]);
        if !y.is_finite() {
            out.push(y);
            continue;
        }
        let dx = match prev_x {
            Some(p) if x.is_finite() => (x - p) / range * VIEWPORT_SCALE,
            _ => 0.0,
        };
        let adj = weight.powf(dx.max(0.0));
        last_y = last_y * adj + y;
        debias = debias * adj + 1.0;
        out.push(last_y / debias);
        if x.is_finite() {
            prev_x = Some(x);
        }
    }
    out
}

/// Gaussian kernel smoothing over samples: each finite sample becomes the weighted mean of the finite
/// samples within 3σ (by index), with weights `exp(-d² / 2σ²)`.
pub fn gaussian(ys: &[f64], sigma: f64) -> Vec<f64> {
    if !(sigma.is_finite() && sigma > 0.0) {
        return ys.to_vec();
    }
    let reach = (3.0 * sigma).ceil() as usize;
    let weights: Vec<f64> = (0..=reach)
        .map(|d| (-((d * d) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let n = ys.len();
    (0..n)
        .map(|i| {
            if !ys[i].is_finite() {
                return ys[i];
            }
            let (mut num, mut den) = (0.0, 0.0);
            for j in i.saturating_sub(reach)..(i + reach + 1).min(n) {
                let v = ys[j];
                if v.is_finite() {
                    let w = weights[i.abs_diff(j)];
                    num += w * v;
                    den += w;
                }
            }
            num / den
        })
        .collect()
}

/// Boxcar (running) average: each finite sample becomes the mean of the finite samples in a window of
/// `window` samples centred on it (`window / 2` on each side), shrunk at the ends.
pub fn running_average(ys: &[f64], window: usize) -> Vec<f64> {
    if window <= 1 {
        return ys.to_vec();
    }
    let half = window / 2;
    let n = ys.len();
    // Prefix sums over finite values make this O(n) for any window.
    let mut sum = Vec::with_capacity(n + 1);
    let mut cnt = Vec::with_capacity(n + 1);
    sum.push(0.0);
    cnt.push(0u32);
    for &v in ys {
        let f = v.is_finite();
        sum.push(sum.last().copied().unwrap_or(0.0) + if f { v } else { 0.0 });
        cnt.push(cnt.last().copied().unwrap_or(0) + u32::from(f));
    }
    (0..n)
        .map(|i| {
            if !ys[i].is_finite() {
                return ys[i];
            }
            let (a, b) = (i.saturating_sub(half), (i + half + 1).min(n));
            (sum[b] - sum[a]) / f64::from(cnt[b] - cnt[a])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-12 * y.abs().max(1.0),
                "{a:?} vs {b:?}"
            );
        }
    }

    /// TensorBoard's formula written out literally, as the reference.
    fn tensorboard_reference(ys: &[f64], w: f64) -> Vec<f64> {
        let mut last = 0.0;
        let mut i = 0;
        let mut out = Vec::new();
        for &v in ys {
            if !v.is_finite() {
                out.push(v);
                continue;
            }
            last = last * w + (1.0 - w) * v;
            let debias = 1.0 - w.powi(i + 1);
            out.push(last / debias);
            i += 1;
        }
        out
    }

    #[test]
    fn ema_matches_tensorboard() {
        let ys = [1.0, 3.0, 2.0, 8.0, -1.0, 0.5, 4.0];
        for w in [0.0, 0.3, 0.6, 0.9, 0.99] {
            close(&debiased_ema(&ys, w), &tensorboard_reference(&ys, w));
        }
        // Hand-computed: w = 0.5 → last 0.5, debias 0.5 → 1; last 1.75, debias 0.75 → 2.3333….
        close(&debiased_ema(&[1.0, 3.0], 0.5), &[1.0, 1.75 / 0.75]);
        // The first smoothed value is the first sample (debiasing removes the pull towards zero).
        assert_eq!(debiased_ema(&[5.0, 6.0], 0.9)[0], 5.0);
    }

    #[test]
    fn ema_passes_non_finite_through_and_continues() {
        let out = debiased_ema(&[1.0, f64::NAN, 3.0, f64::INFINITY], 0.5);
        assert_eq!(out[0], 1.0);
        assert!(out[1].is_nan());
        close(&out[2..3], &[1.75 / 0.75]);
        assert_eq!(out[3], f64::INFINITY);
    }

    #[test]
    fn ema_state_continues_a_series() {
        let ys = [2.0, 4.0, 1.0, 7.0, 3.0];
        let all = debiased_ema(&ys, 0.7);
        let mut st = EmaState::default();
        let streamed: Vec<f64> = ys.iter().map(|&v| st.push(v, 0.7)).collect();
        close(&streamed, &all);
    }

    /// W&B's documented TWEMA sample code, transcribed.
    fn wandb_reference(xs: &[f64], ys: &[f64], param: f64) -> Vec<f64> {
        let smoothing_weight = param.sqrt().min(0.999);
        let mut last_y = 0.0;
        let mut debias_weight = 0.0;
        let range_of_x = xs[xs.len() - 1] - xs[0];
        (0..ys.len())
            .map(|index| {
                let prev_x = if index > 0 { index - 1 } else { 0 };
                let change_in_x = (xs[index] - xs[prev_x]) / range_of_x * VIEWPORT_SCALE;
                let adj = smoothing_weight.powf(change_in_x);
                last_y = last_y * adj + ys[index];
                debias_weight = debias_weight * adj + 1.0;
                last_y / debias_weight
            })
            .collect()
    }

    #[test]
    fn twema_matches_wandb() {
        let xs: Vec<f64> = (0..50).map(|i| f64::from(i) * 3.0).collect();
        let ys: Vec<f64> = (0..50).map(|i| (f64::from(i) * 0.7).sin() * 5.0).collect();
        for p in [0.0, 0.2, 0.6, 0.9, 0.99] {
            close(
                &time_weighted_ema(&xs, &ys, p),
                &wandb_reference(&xs, &ys, p),
            );
        }
        // Uneven spacing: a long gap forgets more of the past.
        let xs = [0.0, 1.0, 2.0, 1000.0];
        let ys = [0.0, 0.0, 0.0, 10.0];
        let out = time_weighted_ema(&xs, &ys, 0.9);
        close(&out, &wandb_reference(&xs, &ys, 0.9));
        assert!(out[3] > 9.99, "{out:?}");
    }

    #[test]
    fn twema_is_density_independent() {
        // The same curve sampled at two densities smooths to (nearly) the same values at shared x.
        let f = |x: f64| (x * 0.01).sin() + if (x as i64) % 20 < 10 { 0.3 } else { -0.3 };
        let coarse_x: Vec<f64> = (0..200).map(|i| f64::from(i) * 10.0).collect();
        let fine_x: Vec<f64> = (0..2000).map(f64::from).collect();
        let c = time_weighted_ema(
            &coarse_x,
            &coarse_x.iter().map(|&x| f(x)).collect::<Vec<_>>(),
            0.8,
        );
        let fi = time_weighted_ema(
            &fine_x,
            &fine_x.iter().map(|&x| f(x)).collect::<Vec<_>>(),
            0.8,
        );
        let d = (c[150] - fi[1500]).abs();
        assert!(d < 0.2, "coarse {} fine {}", c[150], fi[1500]);
    }

    #[test]
    fn gaussian_and_running_average() {
        let ys = [0.0, 0.0, 9.0, 0.0, 0.0];
        close(&running_average(&ys, 3), &[0.0, 3.0, 3.0, 3.0, 0.0]);
        close(&running_average(&ys, 1), &ys);
        // Window 5 at the ends shrinks: index 0 averages 0..=2.
        close(&running_average(&ys, 5)[..1], &[3.0]);
        let g = gaussian(&ys, 1.0);
        let w1 = (-0.5f64).exp();
        let w2 = (-2.0f64).exp();
        close(&g[2..3], &[9.0 / (1.0 + 2.0 * w1 + 2.0 * w2)]);
        assert!(g[1] > 0.0 && g[1] < g[2]);
        let sum: f64 = g.iter().sum();
        assert!(sum > 0.0);
        // Non-finite pass through and are left out of neighbours' means.
        let r = running_average(&[1.0, f64::NAN, 3.0], 3);
        assert_eq!(r[0], 1.0);
        assert!(r[1].is_nan());
        assert_eq!(r[2], 3.0);
        let g = gaussian(&[1.0, f64::NEG_INFINITY, 1.0], 2.0);
        assert_eq!(g, vec![1.0, f64::NEG_INFINITY, 1.0]);
    }

    #[test]
    fn settings_round_trip_as_json() {
        let s = Smoothing::Ema(0.6);
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(j, r#"{"kind":"ema","param":0.6}"#);
        assert_eq!(serde_json::from_str::<Smoothing>(&j).unwrap(), s);
        assert_eq!(
            serde_json::from_str::<Smoothing>(r#"{"kind":"none"}"#).unwrap(),
            Smoothing::None
        );
        assert!(!Smoothing::Ema(0.0).is_active() && Smoothing::RunningAverage(5).is_active());
    }
}
