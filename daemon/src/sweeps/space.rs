//! A sweep's search space: one [`Dim`] per leaf parameter of the config's `parameters` (nested
//! parameters flattened to a path), each with its [`Distribution`] as W&B names them.

use serde_json::Value;

/// The whole space, in the config's key order (nested keys depth first).
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    pub dims: Vec<Dim>,
}

/// One leaf parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Dim {
    /// Its path in the nested config: `["optimizer", "lr"]`.
    pub path: Vec<String>,
    pub dist: Distribution,
}

impl Dim {
    /// The dotted name (`optimizer.lr`), as importance and the web app show it.
    pub fn name(&self) -> String {
        self.path.join(".")
    }
}

/// A W&B distribution (wandb/sweeps `config/schema.json`), with W&B's meaning of each bound:
/// `log_uniform`'s `min`/`max` are natural-log exponents, `log_uniform_values`' are the values
/// themselves; `q_*` round to multiples of `q`; `inv_log_uniform*` draw `1/x` of a log-uniform.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    Constant(Value),
    /// `values`, each equally likely, or with `probabilities` (`categorical_w_probabilities`).
    Categorical {
        values: Vec<Value>,
        probabilities: Option<Vec<f64>>,
    },
    IntUniform { min: i64, max: i64 },
    Uniform { min: f64, max: f64 },
    QUniform { min: f64, max: f64, q: f64 },
    LogUniform { min: f64, max: f64 },
    LogUniformValues { min: f64, max: f64 },
    QLogUniform { min: f64, max: f64, q: f64 },
    QLogUniformValues { min: f64, max: f64, q: f64 },
    InvLogUniform { min: f64, max: f64 },
    InvLogUniformValues { min: f64, max: f64 },
    Normal { mu: f64, sigma: f64 },
    QNormal { mu: f64, sigma: f64, q: f64 },
    LogNormal { mu: f64, sigma: f64 },
    QLogNormal { mu: f64, sigma: f64, q: f64 },
    Beta { a: f64, b: f64 },
    QBeta { a: f64, b: f64, q: f64 },
}
