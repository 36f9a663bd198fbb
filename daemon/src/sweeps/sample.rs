//! Drawing values from W&B's distributions (wandb/sweeps `params.py`), seeded so a sweep is
//! reproducible: `log_uniform` bounds are natural-log exponents, `*_values` bounds the values;
//! `q_*` round to a multiple of `q` (half to even, as numpy), integers when the [`Dim`] says so.

use super::Params;
use super::space::{Dim, Distribution, Space, set_path};
use rand::RngExt;
use rand::rngs::StdRng;
use rand_distr::Distribution as _;
use serde_json::{Number, Value};

/// One value of `dim`.
pub fn sample_dim(dim: &Dim, rng: &mut StdRng) -> Value {
    let x = sample(&dim.dist, rng);
    match (&x, dim.integer) {
        (Value::Number(n), true) => n
            .as_f64()
            .map(|f| Value::from(f.round_ties_even() as i64))
            .unwrap_or(x),
        _ => x,
    }
}

/// One value of `dist` (floats stay floats; `int_uniform` gives integers).
pub fn sample(dist: &Distribution, rng: &mut StdRng) -> Value {
    let u = |rng: &mut StdRng| rng.random::<f64>();
    let uniform = |rng: &mut StdRng, min: f64, max: f64| min + u(rng) * (max - min);
    let quantize = |x: f64, q: f64| (x / q).round_ties_even() * q;
    let normal = |rng: &mut StdRng| -> f64 { rand_distr::StandardNormal.sample(rng) };
    let number = match dist {
        Distribution::Constant(v) => return v.clone(),
        Distribution::Categorical {
            values,
            probabilities: None,
        } => return values[rng.random_range(0..values.len())].clone(),
        Distribution::Categorical {
            values,
            probabilities: Some(p),
        } => {
            let x = u(rng);
            let mut cumulative = 0.0;
            let index = p
                .iter()
                .position(|pi| {
                    cumulative += pi;
                    x < cumulative
                })
                .unwrap_or(values.len() - 1);
            return values[index].clone();
        }
        Distribution::IntUniform { min, max } => return Value::from(rng.random_range(*min..=*max)),
        Distribution::Uniform { min, max } => uniform(rng, *min, *max),
        Distribution::QUniform { min, max, q } => quantize(uniform(rng, *min, *max), *q),
        Distribution::LogUniform { min, max } => uniform(rng, *min, *max).exp(),
        Distribution::LogUniformValues { min, max } => uniform(rng, min.ln(), max.ln()).exp(),
        Distribution::QLogUniform { min, max, q } => quantize(uniform(rng, *min, *max).exp(), *q),
        Distribution::QLogUniformValues { min, max, q } => {
            quantize(uniform(rng, min.ln(), max.ln()).exp(), *q)
        }
        Distribution::InvLogUniform { min, max } => (-uniform(rng, *min, *max)).exp(),
        Distribution::InvLogUniformValues { min, max } => {
            (-uniform(rng, -max.ln(), -min.ln())).exp()
        }
        Distribution::Normal { mu, sigma } => mu + sigma * normal(rng),
        Distribution::QNormal { mu, sigma, q } => quantize(mu + sigma * normal(rng), *q),
        Distribution::LogNormal { mu, sigma } => (mu + sigma * normal(rng)).exp(),
        Distribution::QLogNormal { mu, sigma, q } => quantize((mu + sigma * normal(rng)).exp(), *q),
        Distribution::Beta { a, b } => beta(rng, *a, *b),
        Distribution::QBeta { a, b, q } => quantize(beta(rng, *a, *b), *q),
    };
    Number::from_f64(number).map_or(Value::Null, Value::Number)
}

fn beta(rng: &mut StdRng, a: f64, b: f64) -> f64 {
    // The config checked a, b > 0, so the distribution exists.
    rand_distr::Beta::new(a, b).map_or(0.5, |d| d.sample(rng))
}

/// One draw of every parameter, nested as the config's `parameters`.
pub fn sample_space(space: &Space, rng: &mut StdRng) -> Params {
    let mut params = Params::new();
    for dim in &space.dims {
        set_path(&mut params, &dim.path, sample_dim(dim, rng));
    }
    params
}

#[cfg(test)]
mod tests;
