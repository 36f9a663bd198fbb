//! A Gaussian process on the unit cube: Matérn-5/2 kernel with one length scale per coordinate
//! (or one shared, W&B's isotropic choice), categorical coordinates compared as equal or not,
//! outputs standardised. Hyperparameters maximise the log marginal likelihood plus weak log-normal
//! priors, by Nelder–Mead in log space; the linear algebra is a plain Cholesky (n is a few
//! hundred at most).

/// How the kernel's length scales are shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthScales {
    /// One per coordinate (automatic relevance determination).
    PerDim,
    /// One for all (W&B's sweeps use an isotropic Matérn).
    Shared,
}

/// A fitted process, conditioned on its points.
#[derive(Debug, Clone)]
pub struct Gp {
    x: Vec<Vec<f64>>,
    categorical: Vec<bool>,
    inv_ls2: Vec<f64>,
    signal: f64,
    chol: Vec<f64>,
    alpha: Vec<f64>,
}

/// The hyperparameters, in log space: length scales, signal variance, noise variance.
#[derive(Debug, Clone)]
pub struct Hyper {
    pub log_ls: Vec<f64>,
    pub log_signal: f64,
    pub log_noise: f64,
}

const LS_BOUNDS: (f64, f64) = (-4.6, 3.0); // 0.01 … 20
const SIGNAL_BOUNDS: (f64, f64) = (-3.0, 3.0);
const NOISE_BOUNDS: (f64, f64) = (-13.8, 0.0); // 1e-6 … 1

fn matern52(r2: f64, signal: f64) -> f64 {
    let r = (5.0 * r2).sqrt();
    signal * (1.0 + r + 5.0 * r2 / 3.0) * (-r).exp()
}

fn scaled_dist2(a: &[f64], b: &[f64], categorical: &[bool], inv_ls2: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        let d = if categorical[i] {
            if (a[i] - b[i]).abs() > 0.5 { 1.0 } else { 0.0 }
        } else {
            a[i] - b[i]
        };
        s += d * d * inv_ls2[i];
    }
    s
}

/// Lower Cholesky factor of the n×n matrix `a` (row-major), or None if not positive definite.
fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves L z = b in place.
fn forward(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// Solves Lᵀ z = b in place.
fn backward(l: &[f64], n: usize, b: &mut [f64]) {
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

impl Hyper {
    fn start(dims: usize, shared: LengthScales) -> Hyper {
        Hyper {
            log_ls: vec![
                (0.5f64).ln();
                if shared == LengthScales::Shared {
                    1
                } else {
                    dims
                }
            ],
            log_signal: 0.0,
            log_noise: (1e-3f64).ln(),
        }
    }

    fn to_vec(&self) -> Vec<f64> {
        let mut v = self.log_ls.clone();
        v.push(self.log_signal);
        v.push(self.log_noise);
        v
    }

    fn from_vec(v: &[f64]) -> Hyper {
        let n = v.len() - 2;
        Hyper {
            log_ls: v[..n]
                .iter()
                .map(|x| x.clamp(LS_BOUNDS.0, LS_BOUNDS.1))
                .collect(),
            log_signal: v[n].clamp(SIGNAL_BOUNDS.0, SIGNAL_BOUNDS.1),
            log_noise: v[n + 1].clamp(NOISE_BOUNDS.0, NOISE_BOUNDS.1),
        }
    }

    fn inv_ls2(&self, dims: usize) -> Vec<f64> {
        (0..dims)
            .map(|i| {
                let l = self.log_ls[i.min(self.log_ls.len() - 1)];
                (-2.0 * l).exp()
            })
            .collect()
    }

    fn log_prior(&self) -> f64 {
        let n = |x: f64, mu: f64, s: f64| -0.5 * ((x - mu) / s).powi(2);
        self.log_ls
            .iter()
            .map(|l| n(*l, (0.5f64).ln(), 1.0))
            .sum::<f64>()
            + n(self.log_signal, 0.0, 1.0)
            + n(self.log_noise, (1e-3f64).ln(), 2.0)
    }
}

impl Gp {
    /// Conditions on `x`, `y` (standardised outputs) with hyperparameters `h`; None if the
    /// kernel matrix is singular even with jitter.
    pub fn condition(
        x: &[Vec<f64>],
        y: &[f64],
        categorical: &[bool],
        h: &Hyper,
    ) -> Option<(Gp, f64)> {
        let n = x.len();
        let dims = categorical.len();
        let inv_ls2 = h.inv_ls2(dims);
        let signal = h.log_signal.exp();
        let noise = h.log_noise.exp();
        let mut k = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let v = matern52(scaled_dist2(&x[i], &x[j], categorical, &inv_ls2), signal);
                k[i * n + j] = v;
                k[j * n + i] = v;
            }
        }
        let mut jitter = noise + 1e-9;
        let chol = loop {
            let mut a = k.clone();
            for i in 0..n {
                a[i * n + i] += jitter;
            }
            if let Some(l) = cholesky(&a, n) {
                break l;
            }
            jitter *= 10.0;
            if jitter > 1.0 {
                return None;
            }
        };
        let mut alpha = y.to_vec();
        forward(&chol, n, &mut alpha);
        let fit = -0.5 * alpha.iter().map(|a| a * a).sum::<f64>()
            - (0..n).map(|i| chol[i * n + i].ln()).sum::<f64>();
        backward(&chol, n, &mut alpha);
        Some((
            Gp {
                x: x.to_vec(),
                categorical: categorical.to_vec(),
                inv_ls2,
                signal,
                chol,
                alpha,
            },
            fit,
        ))
    }

    /// Fits the hyperparameters to `x`, `y` (standardised).
    pub fn fit(x: &[Vec<f64>], y: &[f64], categorical: &[bool], scales: LengthScales) -> Hyper {
        let start = Hyper::start(categorical.len(), scales);
        let objective = |v: &[f64]| -> f64 {
            let h = Hyper::from_vec(v);
            match Gp::condition(x, y, categorical, &h) {
                Some((_, log_ml)) => -(log_ml + h.log_prior()),
                None => f64::INFINITY,
            }
        };
        let dims = start.to_vec().len();
        let best = nelder_mead(&objective, &start.to_vec(), 0.7, 25 * (dims + 1));
        Hyper::from_vec(&best)
    }

    /// Mean and standard deviation at `p` (standardised units).
    pub fn predict(&self, p: &[f64]) -> (f64, f64) {
        let n = self.x.len();
        let mut kstar: Vec<f64> = self
            .x
            .iter()
            .map(|xi| {
                matern52(
                    scaled_dist2(xi, p, &self.categorical, &self.inv_ls2),
                    self.signal,
                )
            })
            .collect();
        let mean = kstar.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        forward(&self.chol, n, &mut kstar);
        let var = self.signal - kstar.iter().map(|v| v * v).sum::<f64>();
        (mean, var.max(1e-12).sqrt())
    }
}

/// Minimises `f` from `x0` with a simplex of size `step`, at most `evals` evaluations.
pub fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], step: f64, evals: usize) -> Vec<f64> {
    let n = x0.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    simplex.push((x0.to_vec(), f(x0)));
    for i in 0..n {
        let mut x = x0.to_vec();
        x[i] += step;
        let fx = f(&x);
        simplex.push((x, fx));
    }
    let mut used = n + 1;
    while used < evals {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        if (simplex[n].1 - simplex[0].1).abs() < 1e-7 {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|(x, _)| x[j]).sum::<f64>() / n as f64)
            .collect();
        let towards = |t: f64| -> Vec<f64> {
            (0..n)
                .map(|j| centroid[j] + t * (simplex[n].0[j] - centroid[j]))
                .collect()
        };
        let reflected = towards(-1.0);
        let fr = f(&reflected);
        used += 1;
        if fr < simplex[0].1 {
            let expanded = towards(-2.0);
            let fe = f(&expanded);
            used += 1;
            simplex[n] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let contracted = towards(0.5);
            let fc = f(&contracted);
            used += 1;
            if fc < simplex[n].1 {
                simplex[n] = (contracted, fc);
            } else {
                let best = simplex[0].0.clone();
                for (x, fx) in simplex.iter_mut().skip(1) {
                    for j in 0..n {
                        x[j] = best[j] + 0.5 * (x[j] - best[j]);
                    }
                    *fx = f(x);
                    used += 1;
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex.swap_remove(0).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_its_points_and_is_unsure_far_away() {
        let x: Vec<Vec<f64>> = (0..8).map(|i| vec![i as f64 / 7.0]).collect();
        let y: Vec<f64> = x.iter().map(|p| (6.0 * p[0]).sin()).collect();
        let h = Gp::fit(&x, &y, &[false], LengthScales::PerDim);
        let (gp, _) = Gp::condition(&x, &y, &[false], &h).unwrap();
        for (p, want) in x.iter().zip(&y) {
            let (m, s) = gp.predict(p);
            assert!((m - want).abs() < 0.05 && s < 0.2, "{m} vs {want}, sd {s}");
        }
        let (m, _) = gp.predict(&[0.5 / 7.0]);
        assert!((m - (6.0f64 * 0.5 / 7.0).sin()).abs() < 0.1);
        let minimum = nelder_mead(
            &|v| (v[0] - 1.0).powi(2) + (v[1] + 2.0).powi(2),
            &[0.0, 0.0],
            0.5,
            400,
        );
        assert!((minimum[0] - 1.0).abs() < 1e-3 && (minimum[1] + 2.0).abs() < 1e-3);
    }
}
