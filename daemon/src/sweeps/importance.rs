//! Parameter importance, as W&B's sweep page shows it: a random forest regressor of the metric on
//! the parameters (our own: bootstrapped variance-reduction trees, seeded) whose mean decrease in
//! impurity ranks them, beside each numeric parameter's Pearson and Spearman correlation with the
//! metric. Parameters are encoded as numbers: log distributions by their logarithm, categoricals
//! (and anything else) by the index of their value.

use super::Params;
use super::space::{Distribution, Space, get_path};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;
use trackline_shared::sweeps::ParamImportance;

/// Trees in the forest.
const TREES: usize = 64;
/// Deepest split.
const MAX_DEPTH: usize = 8;
/// Fewest samples a split leaves on each side, at most (fewer for a handful of runs).
const MAX_MIN_LEAF: usize = 5;

/// Each parameter's importance for `observations` (parameters and the metric), most important
/// first. Constants get 0.
pub fn importance(space: &Space, observations: &[(Params, f64)]) -> Vec<ParamImportance> {
    let points: Vec<&(Params, f64)> = observations.iter().filter(|(_, y)| y.is_finite()).collect();
    let targets: Vec<f64> = points.iter().map(|(_, y)| *y).collect();
    let mut columns = Vec::with_capacity(space.dims.len());
    for dim in &space.dims {
        let (column, numeric) = encode(&dim.dist, &dim.path, &points);
        columns.push((
            dim.name(),
            column,
            numeric,
            matches!(dim.dist, Distribution::Constant(_)),
        ));
    }
    let features: Vec<&Vec<f64>> = columns.iter().map(|(_, c, _, _)| c).collect();
    let mdi = forest_importance(&features, &targets);
    let mut out: Vec<ParamImportance> = columns
        .iter()
        .zip(mdi)
        .map(
            |((name, column, numeric, constant), importance)| ParamImportance {
                name: name.clone(),
                importance: if *constant { 0.0 } else { importance },
                correlation: numeric.then(|| pearson(column, &targets)).flatten(),
                spearman: numeric
                    .then(|| pearson(&ranks(column), &ranks(&targets)))
                    .flatten(),
            },
        )
        .collect();
    out.sort_by(|a, b| {
        b.importance
            .total_cmp(&a.importance)
            .then(a.name.cmp(&b.name))
    });
    out
}

/// The column of one parameter and whether it is numeric (not categorical).
fn encode(dist: &Distribution, path: &[String], points: &[&(Params, f64)]) -> (Vec<f64>, bool) {
    let log = matches!(
        dist,
        Distribution::LogUniform { .. }
            | Distribution::LogUniformValues { .. }
            | Distribution::QLogUniform { .. }
            | Distribution::QLogUniformValues { .. }
            | Distribution::InvLogUniform { .. }
            | Distribution::InvLogUniformValues { .. }
            | Distribution::LogNormal { .. }
            | Distribution::QLogNormal { .. }
    );
    let values: Vec<Value> = points
        .iter()
        .map(|(p, _)| get_path(p, path).cloned().unwrap_or(Value::Null))
        .collect();
    let all_numbers = values.iter().all(Value::is_number);
    if all_numbers
        && !matches!(
            dist,
            Distribution::Categorical { .. } | Distribution::Constant(_)
        )
    {
        let column = values
            .iter()
            .map(|v| {
                let x = v.as_f64().unwrap_or(0.0);
                if log && x > 0.0 { x.ln() } else { x }
            })
            .collect();
        return (column, true);
    }
    let mut seen: Vec<&Value> = Vec::new();
    let column = values
        .iter()
        .map(|v| match seen.iter().position(|s| *s == v) {
            Some(i) => i as f64,
            None => {
                seen.push(v);
                (seen.len() - 1) as f64
            }
        })
        .collect();
    // Categoricals of numbers are ordered: their values correlate meaningfully.
    let numeric = all_numbers && matches!(dist, Distribution::Categorical { .. });
    if numeric {
        return (
            values.iter().map(|v| v.as_f64().unwrap_or(0.0)).collect(),
            true,
        );
    }
    (column, false)
}

/// Mean decrease in impurity of each feature over a seeded forest, normalised to sum 1.
fn forest_importance(features: &[&Vec<f64>], targets: &[f64]) -> Vec<f64> {
    let n = targets.len();
    let d = features.len();
    let mut total = vec![0.0; d];
    if n < 2 || d == 0 {
        return total;
    }
    let mut rng = StdRng::seed_from_u64(0x5EED_1A7E);
    // Every feature is tried at each split, as scikit-learn's regressor forests do.
    let tries = d;
    let min_leaf = (n / 20).clamp(1, MAX_MIN_LEAF);
    for _ in 0..TREES {
        let sample: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
        let mut tree = Tree {
            features,
            targets,
            gains: vec![0.0; d],
            tries,
            min_leaf,
            rng: &mut rng,
        };
        tree.grow(sample, 0);
        for (t, g) in total.iter_mut().zip(tree.gains) {
            *t += g;
        }
    }
    let sum: f64 = total.iter().sum();
    if sum > 0.0 {
        total.iter_mut().for_each(|t| *t /= sum);
    }
    total
}

struct Tree<'a, 'r> {
    features: &'a [&'a Vec<f64>],
    targets: &'a [f64],
    gains: Vec<f64>,
    tries: usize,
    min_leaf: usize,
    rng: &'r mut StdRng,
}

impl Tree<'_, '_> {
    fn sse(&self, rows: &[usize]) -> f64 {
        let n = rows.len() as f64;
        let mean = rows.iter().map(|&i| self.targets[i]).sum::<f64>() / n;
        rows.iter().map(|&i| (self.targets[i] - mean).powi(2)).sum()
    }

    fn grow(&mut self, rows: Vec<usize>, depth: usize) {
        if rows.len() < 2 * self.min_leaf || depth >= MAX_DEPTH {
            return;
        }
        let parent = self.sse(&rows);
        if parent <= 1e-12 {
            return;
        }
        let d = self.features.len();
        let mut candidates: Vec<usize> = (0..d).collect();
        for i in 0..self.tries {
            let j = self.rng.random_range(i..d);
            candidates.swap(i, j);
        }
        let mut best: Option<(f64, usize, f64)> = None;
        for &f in &candidates[..self.tries] {
            let column = self.features[f];
            let mut order = rows.clone();
            order.sort_by(|a, b| column[*a].total_cmp(&column[*b]));
            // Running sums give each split's SSE in one pass.
            let total_sum: f64 = order.iter().map(|&i| self.targets[i]).sum();
            let total_sq: f64 = order.iter().map(|&i| self.targets[i].powi(2)).sum();
            let (mut left_sum, mut left_sq) = (0.0, 0.0);
            for k in 0..order.len() - 1 {
                let y = self.targets[order[k]];
                left_sum += y;
                left_sq += y * y;
                let (nl, nr) = ((k + 1) as f64, (order.len() - k - 1) as f64);
                if k + 1 < self.min_leaf || order.len() - k - 1 < self.min_leaf {
                    continue;
                }
                let (a, b) = (column[order[k]], column[order[k + 1]]);
                if a == b {
                    continue;
                }
                let right_sum = total_sum - left_sum;
                let right_sq = total_sq - left_sq;
                let sse =
                    (left_sq - left_sum * left_sum / nl) + (right_sq - right_sum * right_sum / nr);
                if best.is_none_or(|(s, _, _)| sse < s) {
                    best = Some((sse, f, (a + b) / 2.0));
                }
            }
        }
        let Some((sse, feature, threshold)) = best else {
            return;
        };
        self.gains[feature] += (parent - sse).max(0.0);
        let column = self.features[feature];
        let (left, right): (Vec<usize>, Vec<usize>) =
            rows.into_iter().partition(|&i| column[i] <= threshold);
        self.grow(left, depth + 1);
        self.grow(right, depth + 1);
    }
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    if x.len() < 2 {
        return None;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    let r = cov / (vx * vy).sqrt();
    r.is_finite().then_some(r)
}

/// Ranks (ties get their mean rank), for Spearman's correlation.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|a, b| x[*a].total_cmp(&x[*b]));
    let mut out = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0;
        for k in &order[i..=j] {
            out[*k] = rank;
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweeps::config::SweepConfig;
    use crate::sweeps::sample::sample_space;

    #[test]
    fn the_parameter_that_drives_the_metric_ranks_first() {
        let c = SweepConfig::from_yaml(
            "method: random\nparameters:\n  lr: {distribution: log_uniform_values, min: 0.0001, max: 0.1}\n  \
             noise: {min: 0.0, max: 1.0}\n  opt: {values: [adam, sgd]}\n  fixed: {value: 3}\n",
        )
        .unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let observations: Vec<(Params, f64)> = (0..200)
            .map(|_| {
                let p = sample_space(&c.space, &mut rng);
                let lr = p["lr"].as_f64().unwrap();
                let opt = if p["opt"] == "adam" { 0.0 } else { 0.3 };
                let y = (lr.log10() + 2.5).powi(2) + opt + 0.01 * p["noise"].as_f64().unwrap();
                (p, y)
            })
            .collect();
        let started = std::time::Instant::now();
        let got = importance(&c.space, &observations);
        eprintln!("importance of 200 runs × 4 params: {:?}", started.elapsed());
        let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names[0], "lr", "{got:?}");
        assert_eq!(names[1], "opt", "{got:?}");
        let sum: f64 = got.iter().map(|p| p.importance).sum();
        assert!((sum - 1.0).abs() < 1e-9);
        let fixed = got.iter().find(|p| p.name == "fixed").unwrap();
        assert_eq!(fixed.importance, 0.0);
        let opt = got.iter().find(|p| p.name == "opt").unwrap();
        assert_eq!((opt.correlation, opt.spearman), (None, None));
    }

    #[test]
    fn correlations_have_the_right_sign() {
        let c = SweepConfig::from_yaml("method: random\nparameters:\n  x: {min: 0.0, max: 1.0}\n")
            .unwrap();
        let obs: Vec<(Params, f64)> = (0..20)
            .map(|i| {
                let x = i as f64 / 20.0;
                (
                    serde_json::json!({"x": x}).as_object().unwrap().clone(),
                    -3.0 * x,
                )
            })
            .collect();
        let got = importance(&c.space, &obs);
        assert!((got[0].correlation.unwrap() + 1.0).abs() < 1e-9);
        assert!((got[0].spearman.unwrap() + 1.0).abs() < 1e-9);
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![1.5, 0.0, 1.5]);
    }
}
