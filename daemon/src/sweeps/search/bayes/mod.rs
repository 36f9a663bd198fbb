//! Bayesian optimisation for `method: bayes`: a Gaussian process (Matérn-5/2 kernel, one length
//! scale per dimension) over the encoded space, log expected improvement, and pending trials
//! counted as "constant liar" observations (at the best value so far) so parallel agents never
//! get the same point. The first [`STARTUP_TRIALS`] suggestions are random draws.

pub mod encode;
pub mod gp;
pub mod normal;

use crate::sweeps::sample::sample_space;
use crate::sweeps::space::Space;
use crate::sweeps::{Goal, Outcome, Params, SweepError, Trial};
use encode::Encoding;
use gp::{Gp, LengthScales};
use rand::RngExt;
use rand::rngs::StdRng;

/// Random suggestions before the process takes over.
pub const STARTUP_TRIALS: usize = 10;
/// Most observations the process is fitted on (the best and the newest are kept).
const MAX_POINTS: usize = 300;

/// How the search runs: ours, or W&B's choices (for the benchmark's baseline).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub scales: LengthScales,
    /// Random candidates the acquisition is evaluated at.
    pub candidates: usize,
    /// Refine the best candidates by a local search, and perturb the best points.
    pub refine: bool,
    /// Expected improvement in log space (ours) or plain (W&B's).
    pub log_ei: bool,
    pub startup: usize,
}

impl Options {
    /// What `method: bayes` uses.
    pub const OURS: Options = Options {
        scales: LengthScales::PerDim,
        candidates: 2048,
        refine: true,
        log_ei: true,
        startup: STARTUP_TRIALS,
    };
}

/// The next parameters to try, given every trial so far (pending ones included).
pub fn suggest(
    space: &Space,
    goal: Goal,
    trials: &[Trial],
    rng: &mut StdRng,
) -> Result<Params, SweepError> {
    suggest_with(space, goal, trials, rng, &Options::OURS)
}

/// [`suggest`] with the given options.
pub fn suggest_with(
    space: &Space,
    goal: Goal,
    trials: &[Trial],
    rng: &mut StdRng,
    options: &Options,
) -> Result<Params, SweepError> {
    let encoding = Encoding::new(space);
    let mut observed: Vec<(Vec<f64>, f64)> = Vec::new();
    let mut pending: Vec<Vec<f64>> = Vec::new();
    for t in trials {
        let Some(x) = encoding.encode(&t.params) else {
            continue;
        };
        match t.outcome {
            Outcome::Value(v) if v.is_finite() => observed.push((x, goal.as_loss(v))),
            Outcome::Pending => pending.push(x),
            _ => {}
        }
    }
    if encoding.is_empty() || trials.len() < options.startup || observed.len() < 2 {
        return Ok(fresh_random(space, trials, rng));
    }
    if observed.len() > MAX_POINTS {
        observed.sort_by(|a, b| a.1.total_cmp(&b.1));
        let newest = observed.split_off(MAX_POINTS / 3);
        let keep = newest.len().saturating_sub(MAX_POINTS - MAX_POINTS / 3);
        observed.extend(newest.into_iter().skip(keep));
    }
    // Standardise the losses.
    let n = observed.len() as f64;
    let mean = observed.iter().map(|o| o.1).sum::<f64>() / n;
    let sd = (observed.iter().map(|o| (o.1 - mean).powi(2)).sum::<f64>() / n).sqrt();
    let sd = if sd > 1e-12 { sd } else { 1.0 };
    let categorical = encoding.categorical();
    let x: Vec<Vec<f64>> = observed.iter().map(|o| o.0.clone()).collect();
    let y: Vec<f64> = observed.iter().map(|o| (o.1 - mean) / sd).collect();
    let best = y.iter().copied().fold(f64::INFINITY, f64::min);
    let hyper = Gp::fit(&x, &y, &categorical, options.scales);
    // Pending points are told the best value so far: the process is sure there, so the
    // acquisition looks elsewhere.
    let mut x_all = x.clone();
    let mut y_all = y.clone();
    for p in &pending {
        x_all.push(p.clone());
        y_all.push(best);
    }
    let Some((process, _)) = Gp::condition(&x_all, &y_all, &categorical, &hyper) else {
        return Ok(fresh_random(space, trials, rng));
    };
    let score = |p: &[f64]| -> f64 {
        let (m, s) = process.predict(p);
        let z = (best - m) / s;
        if options.log_ei {
            normal::log_h(z) + s.ln()
        } else {
            s * (normal::pdf(z) + z * normal::cdf(z))
        }
    };
    let random_point = |rng: &mut StdRng| -> Vec<f64> {
        encoding
            .coords
            .iter()
            .map(|c| match c.categories {
                Some(k) => rng.random_range(0..k) as f64,
                None => rng.random::<f64>(),
            })
            .collect()
    };
    let mut candidates: Vec<(Vec<f64>, f64)> = Vec::with_capacity(options.candidates + 100);
    for _ in 0..options.candidates {
        let p = random_point(rng);
        let s = score(&p);
        candidates.push((p, s));
    }
    if options.refine {
        // Around the best points seen.
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|a, b| y[*a].total_cmp(&y[*b]));
        for &i in order.iter().take(5) {
            for _ in 0..20 {
                let p: Vec<f64> = x[i]
                    .iter()
                    .zip(&encoding.coords)
                    .map(|(v, c)| match c.categories {
                        Some(k) if rng.random::<f64>() < 0.2 => rng.random_range(0..k) as f64,
                        Some(_) => *v,
                        None => (v + 0.05 * gaussian(rng)).clamp(0.0, 1.0),
                    })
                    .collect();
                let s = score(&p);
                candidates.push((p, s));
            }
        }
    }
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    if options.refine {
        for candidate in candidates.iter_mut().take(3) {
            local_search(candidate, &encoding, &score);
        }
        candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    for (p, _) in &candidates {
        let params = encoding.decode(p);
        if !trials.iter().any(|t| t.params == params) {
            return Ok(params);
        }
    }
    Ok(fresh_random(space, trials, rng))
}

/// A random draw that no trial has had, when the space allows one.
fn fresh_random(space: &Space, trials: &[Trial], rng: &mut StdRng) -> Params {
    let mut params = sample_space(space, rng);
    for _ in 0..32 {
        if !trials.iter().any(|t| t.params == params) {
            break;
        }
        params = sample_space(space, rng);
    }
    params
}

/// Coordinate search with shrinking steps (categoricals: every category).
fn local_search(
    candidate: &mut (Vec<f64>, f64),
    encoding: &Encoding,
    score: &dyn Fn(&[f64]) -> f64,
) {
    let mut step = 0.1;
    while step > 1e-3 {
        let mut improved = false;
        for (i, coord) in encoding.coords.iter().enumerate() {
            let tries: Vec<f64> = match coord.categories {
                Some(k) => (0..k).map(|c| c as f64).collect(),
                None => vec![
                    (candidate.0[i] - step).max(0.0),
                    (candidate.0[i] + step).min(1.0),
                ],
            };
            for value in tries {
                if value == candidate.0[i] {
                    continue;
                }
                let mut p = candidate.0.clone();
                p[i] = value;
                let s = score(&p);
                if s > candidate.1 {
                    *candidate = (p, s);
                    improved = true;
                }
            }
        }
        if !improved {
            step /= 2.0;
        }
    }
}

fn gaussian(rng: &mut StdRng) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweeps::config::SweepConfig;
    use rand::SeedableRng;
    use serde_json::json;

    fn run(
        config: &SweepConfig,
        f: impl Fn(&Params) -> f64,
        trials_n: usize,
        seed: u64,
        bayes: bool,
    ) -> f64 {
        let mut trials: Vec<Trial> = Vec::new();
        let mut best = f64::INFINITY;
        for i in 0..trials_n {
            let mut rng = StdRng::seed_from_u64(seed * 1000 + i as u64);
            let params = if bayes {
                suggest(&config.space, Goal::Minimize, &trials, &mut rng).unwrap()
            } else {
                sample_space(&config.space, &mut rng)
            };
            let v = f(&params);
            best = best.min(v);
            trials.push(Trial {
                params,
                outcome: Outcome::Value(v),
            });
        }
        best
    }

    #[test]
    fn beats_random_search_on_a_quadratic() {
        let c = SweepConfig::from_yaml(
            "method: bayes\nmetric: {name: y}\nparameters:\n  a: {min: -5.0, max: 5.0}\n  b: {min: -5.0, max: 5.0}\n",
        )
        .unwrap();
        let f = |p: &Params| {
            (p["a"].as_f64().unwrap() - 1.3).powi(2) + (p["b"].as_f64().unwrap() + 0.7).powi(2)
        };
        let (mut ours, mut random) = (Vec::new(), Vec::new());
        for seed in 0..3 {
            ours.push(run(&c, f, 25, seed, true));
            random.push(run(&c, f, 25, seed, false));
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (o, r) = (median(&mut ours), median(&mut random));
        assert!(o < 0.05 && o < r / 5.0, "bayes {o} vs random {r}");
    }

    #[test]
    fn pending_points_are_not_suggested_again_and_types_are_kept() {
        let c = SweepConfig::from_yaml(
            "method: bayes\nmetric: {name: y}\nparameters:\n  n: {min: 1, max: 3}\n  opt: {values: [adam, sgd]}\n  \
             lr: {distribution: log_uniform_values, min: 0.001, max: 0.1}\n  nested: {parameters: {k: {value: 7}}}\n",
        )
        .unwrap();
        let mut trials = Vec::new();
        for i in 0..14 {
            let mut rng = StdRng::seed_from_u64(i);
            let p = suggest(&c.space, Goal::Minimize, &trials, &mut rng).unwrap();
            assert!(p["n"].is_i64() && p["opt"].is_string(), "{p:?}");
            let lr = p["lr"].as_f64().unwrap();
            assert!((0.001..=0.1).contains(&lr));
            assert_eq!(p["nested"], json!({"k": 7}));
            assert!(
                !trials.iter().any(|t: &Trial| t.params == p),
                "a pending point again: {p:?}"
            );
            let outcome = if i % 2 == 0 {
                Outcome::Pending
            } else {
                Outcome::Value(lr.ln().abs())
            };
            trials.push(Trial { params: p, outcome });
        }
        // Deterministic: the same trials and seed give the same answer.
        let mut a = StdRng::seed_from_u64(99);
        let mut b = StdRng::seed_from_u64(99);
        assert_eq!(
            suggest(&c.space, Goal::Minimize, &trials, &mut a).unwrap(),
            suggest(&c.space, Goal::Minimize, &trials, &mut b).unwrap()
        );
    }
}
