//! The search space as the unit cube: each parameter one coordinate in [0, 1] (log
//! distributions by their logarithm, normals by their CDF), a categorical one coordinate holding
//! its value's index (the kernel compares those as equal or not). Constants take no coordinate.

use super::normal::{cdf, quantile};
use crate::sweeps::Params;
use crate::sweeps::space::{Dim, Distribution, Space, get_path, set_path};
use serde_json::Value;

/// How one coordinate maps to a parameter.
#[derive(Debug, Clone)]
pub struct Coord {
    pub dim: Dim,
    /// Number of categories, for a categorical; None for a number.
    pub categories: Option<usize>,
}

/// The encodable parameters of a space, in its order.
#[derive(Debug, Clone)]
pub struct Encoding {
    pub coords: Vec<Coord>,
    pub constants: Vec<(Vec<String>, Value)>,
}

fn ln_bounds(dist: &Distribution) -> Option<(f64, f64)> {
    Some(match dist {
        Distribution::LogUniform { min, max } | Distribution::QLogUniform { min, max, .. } => {
            (*min, *max)
        }
        Distribution::LogUniformValues { min, max }
        | Distribution::QLogUniformValues { min, max, .. }
        | Distribution::InvLogUniformValues { min, max } => (min.ln(), max.ln()),
        Distribution::InvLogUniform { min, max } => (-max, -min),
        _ => return None,
    })
}

impl Encoding {
    pub fn new(space: &Space) -> Encoding {
        let mut coords = Vec::new();
        let mut constants = Vec::new();
        for dim in &space.dims {
            match &dim.dist {
                Distribution::Constant(v) => constants.push((dim.path.clone(), v.clone())),
                Distribution::Categorical { values, .. } => coords.push(Coord {
                    dim: dim.clone(),
                    categories: Some(values.len()),
                }),
                _ => coords.push(Coord {
                    dim: dim.clone(),
                    categories: None,
                }),
            }
        }
        Encoding { coords, constants }
    }

    pub fn len(&self) -> usize {
        self.coords.len()
    }

    pub fn is_empty(&self) -> bool {
        self.coords.is_empty()
    }

    /// Which coordinates are categorical.
    pub fn categorical(&self) -> Vec<bool> {
        self.coords.iter().map(|c| c.categories.is_some()).collect()
    }

    /// A parameter set as a point; None when a value is missing or not of its distribution.
    pub fn encode(&self, params: &Params) -> Option<Vec<f64>> {
        self.coords
            .iter()
            .map(|c| {
                let v = get_path(params, &c.dim.path)?;
                match &c.dim.dist {
                    Distribution::Categorical { values, .. } => {
                        values.iter().position(|x| x == v).map(|i| i as f64)
                    }
                    dist => Some(to_unit(dist, v.as_f64()?).clamp(0.0, 1.0)),
                }
            })
            .collect()
    }

    /// A point as a parameter set (integers, `q` multiples and categories restored).
    pub fn decode(&self, point: &[f64]) -> Params {
        let mut params = Params::new();
        for (path, value) in &self.constants {
            set_path(&mut params, path, value.clone());
        }
        for (c, &u) in self.coords.iter().zip(point) {
            let value = match &c.dim.dist {
                Distribution::Categorical { values, .. } => {
                    values[(u.round().max(0.0) as usize).min(values.len() - 1)].clone()
                }
                dist => {
                    let x = from_unit(dist, u.clamp(0.0, 1.0));
                    if c.dim.integer {
                        Value::from(x.round_ties_even() as i64)
                    } else {
                        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
                    }
                }
            };
            set_path(&mut params, &c.dim.path, value);
        }
        params
    }
}

fn to_unit(dist: &Distribution, x: f64) -> f64 {
    if let Some((lo, hi)) = ln_bounds(dist) {
        return (x.max(f64::MIN_POSITIVE).ln() - lo) / (hi - lo);
    }
    match dist {
        Distribution::IntUniform { min, max } => (x - *min as f64) / (*max - *min) as f64,
        Distribution::Uniform { min, max } | Distribution::QUniform { min, max, .. } => {
            (x - min) / (max - min)
        }
        Distribution::Normal { mu, sigma } | Distribution::QNormal { mu, sigma, .. } => {
            cdf((x - mu) / sigma)
        }
        Distribution::LogNormal { mu, sigma } | Distribution::QLogNormal { mu, sigma, .. } => {
            cdf((x.max(f64::MIN_POSITIVE).ln() - mu) / sigma)
        }
        _ => x, // beta: already in [0, 1]
    }
}

fn from_unit(dist: &Distribution, u: f64) -> f64 {
    let quantize = |x: f64, q: f64| (x / q).round_ties_even() * q;
    // Normals are kept off the CDF's ends, where the quantile runs off to infinity.
    let p = u.clamp(1e-6, 1.0 - 1e-6);
    match dist {
        Distribution::IntUniform { min, max } => *min as f64 + u * (*max - *min) as f64,
        Distribution::Uniform { min, max } => min + u * (max - min),
        Distribution::QUniform { min, max, q } => quantize(min + u * (max - min), *q),
        Distribution::LogUniform { .. }
        | Distribution::LogUniformValues { .. }
        | Distribution::InvLogUniform { .. }
        | Distribution::InvLogUniformValues { .. } => {
            let (lo, hi) = ln_bounds(dist).unwrap_or((0.0, 1.0));
            (lo + u * (hi - lo)).exp()
        }
        Distribution::QLogUniform { q, .. } | Distribution::QLogUniformValues { q, .. } => {
            let (lo, hi) = ln_bounds(dist).unwrap_or((0.0, 1.0));
            quantize((lo + u * (hi - lo)).exp(), *q)
        }
        Distribution::Normal { mu, sigma } => mu + sigma * quantile(p),
        Distribution::QNormal { mu, sigma, q } => quantize(mu + sigma * quantile(p), *q),
        Distribution::LogNormal { mu, sigma } => (mu + sigma * quantile(p)).exp(),
        Distribution::QLogNormal { mu, sigma, q } => quantize((mu + sigma * quantile(p)).exp(), *q),
        Distribution::QBeta { q, .. } => quantize(u, *q),
        _ => u,
    }
}
