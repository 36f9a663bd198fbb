//! A sweep's search space: one [`Dim`] per leaf parameter of the config's `parameters` (nested
//! parameters flattened to a path), each with its [`Distribution`] as W&B names them, and the
//! helpers that read and write a parameter in a nested [`Params`] object.

use super::Params;
use serde_json::{Map, Value};

/// The whole space, in W&B's order: keys sorted at each level, nested ones depth first.
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
    /// Its values are whole numbers (JSON integers): `int_uniform`, or a `q_*` distribution whose
    /// `q` is written as a whole number (W&B's rule).
    pub integer: bool,
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
    IntUniform {
        min: i64,
        max: i64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    QUniform {
        min: f64,
        max: f64,
        q: f64,
    },
    LogUniform {
        min: f64,
        max: f64,
    },
    LogUniformValues {
        min: f64,
        max: f64,
    },
    QLogUniform {
        min: f64,
        max: f64,
        q: f64,
    },
    QLogUniformValues {
        min: f64,
        max: f64,
        q: f64,
    },
    InvLogUniform {
        min: f64,
        max: f64,
    },
    InvLogUniformValues {
        min: f64,
        max: f64,
    },
    Normal {
        mu: f64,
        sigma: f64,
    },
    QNormal {
        mu: f64,
        sigma: f64,
        q: f64,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    QLogNormal {
        mu: f64,
        sigma: f64,
        q: f64,
    },
    Beta {
        a: f64,
        b: f64,
    },
    QBeta {
        a: f64,
        b: f64,
        q: f64,
    },
}

/// Sets the parameter at `path` in nested `params`, making the objects on the way.
pub fn set_path(params: &mut Params, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = params;
    for key in parents {
        let entry = node
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        node = entry.as_object_mut().expect("made an object above");
    }
    node.insert(last.clone(), value);
}

/// The parameter at `path` in nested `params`.
pub fn get_path<'a>(params: &'a Params, path: &[String]) -> Option<&'a Value> {
    let (last, parents) = path.split_last()?;
    let mut node = params;
    for key in parents {
        node = node.get(key)?.as_object()?;
    }
    node.get(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_nest_and_read_back() {
        let mut p = Params::new();
        let path = vec!["optimizer".to_string(), "lr".to_string()];
        set_path(&mut p, &path, json!(0.1));
        set_path(&mut p, &["epochs".to_string()], json!(3));
        assert_eq!(
            Value::Object(p.clone()),
            json!({"optimizer": {"lr": 0.1}, "epochs": 3})
        );
        assert_eq!(get_path(&p, &path), Some(&json!(0.1)));
        assert_eq!(get_path(&p, &["nope".to_string()]), None);
    }
}
