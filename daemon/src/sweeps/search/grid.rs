//! `method: grid`: every combination of the parameters' values once, in W&B's order (parameters
//! in the space's order, the last one changing fastest). Only constants, categoricals without
//! probabilities, `int_uniform` (every integer) and `q_uniform` (`min`, `min + q`, … below
//! `max`) can be gridded, as in W&B.

use crate::sweeps::space::{Distribution, Space, get_path, set_path};
use crate::sweeps::{Params, SweepError, Trial};
use serde_json::Value;
use std::collections::HashSet;

/// Most combinations a grid may have.
pub const MAX_GRID: u64 = 10_000_000;

/// Each parameter's values, or the config error naming the one that cannot be gridded.
pub fn axes(space: &Space) -> Result<Vec<Vec<Value>>, SweepError> {
    let mut axes = Vec::with_capacity(space.dims.len());
    let mut size: u64 = 1;
    for dim in &space.dims {
        let values = match &dim.dist {
            Distribution::Constant(v) => vec![v.clone()],
            Distribution::Categorical {
                values,
                probabilities: None,
            } => values.clone(),
            Distribution::IntUniform { min, max } => (*min..=*max).map(Value::from).collect(),
            Distribution::QUniform { min, max, q } => {
                let count = ((max - min) / q).ceil().max(0.0) as u64;
                if count > MAX_GRID {
                    return Err(too_big(&dim.name()));
                }
                (0..count)
                    .map(|i| min + i as f64 * q)
                    .filter(|x| x < max)
                    .map(|x| {
                        if dim.integer {
                            Value::from(x.round_ties_even() as i64)
                        } else {
                            Value::from(x)
                        }
                    })
                    .collect()
            }
            _ => {
                return Err(SweepError::config(
                    format!("parameters.{}", dim.name()),
                    "grid search takes only value, values (without probabilities), int_uniform \
                     or q_uniform parameters",
                ));
            }
        };
        size = size
            .checked_mul(values.len() as u64)
            .filter(|s| *s <= MAX_GRID)
            .ok_or_else(|| too_big(&dim.name()))?;
        axes.push(values);
    }
    Ok(axes)
}

fn too_big(name: &str) -> SweepError {
    SweepError::config(
        format!("parameters.{name}"),
        format!("the grid has more than {MAX_GRID} combinations"),
    )
}

/// How many combinations the grid has (None when it cannot be gridded).
pub fn size(space: &Space) -> Option<u64> {
    axes(space)
        .ok()
        .map(|a| a.iter().map(|v| v.len() as u64).product())
}

/// The first combination no trial has had yet, or None when all were handed out.
pub fn next(space: &Space, trials: &[Trial]) -> Result<Option<Params>, SweepError> {
    let axes = axes(space)?;
    let seen: HashSet<String> = trials
        .iter()
        .map(|t| {
            key(space
                .dims
                .iter()
                .map(|d| get_path(&t.params, &d.path).cloned().unwrap_or(Value::Null)))
        })
        .collect();
    let total: u64 = axes.iter().map(|v| v.len() as u64).product();
    let mut digits = vec![0usize; axes.len()];
    for _ in 0..total {
        let combo = || {
            axes.iter()
                .zip(&digits)
                .map(|(values, &i)| values[i].clone())
        };
        if !seen.contains(&key(combo())) {
            let mut params = Params::new();
            for (dim, value) in space.dims.iter().zip(combo()) {
                set_path(&mut params, &dim.path, value);
            }
            return Ok(Some(params));
        }
        for (i, values) in axes.iter().enumerate().rev() {
            digits[i] += 1;
            if digits[i] < values.len() {
                break;
            }
            digits[i] = 0;
        }
    }
    Ok(None)
}

/// A combination's identity: equal values give equal keys, and a whole float equals the integer
/// (W&B compares `1.0` and `1` as the same grid point).
fn key(values: impl Iterator<Item = Value>) -> String {
    let normal: Vec<Value> = values.map(normalise).collect();
    serde_json::to_string(&normal).unwrap_or_default()
}

fn normalise(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        Value::Object(map) => {
            let mut sorted: Vec<_> = map.into_iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(sorted.into_iter().map(|(k, v)| (k, normalise(v))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweeps::Outcome;
    use crate::sweeps::config::SweepConfig;
    use serde_json::json;

    fn config(yaml: &str) -> SweepConfig {
        SweepConfig::from_yaml(yaml).unwrap()
    }

    #[test]
    fn enumerates_every_combination_once_in_wandbs_order() {
        let c = config(
            "method: grid\nparameters:\n  b: {values: [x, y]}\n  a: {min: 1, max: 3}\n  c: {value: 7}\n",
        );
        assert_eq!(size(&c.space), Some(6));
        let mut trials = Vec::new();
        let mut got = Vec::new();
        while let Some(p) = next(&c.space, &trials).unwrap() {
            got.push(Value::Object(p.clone()));
            trials.push(Trial {
                params: p,
                outcome: Outcome::Pending,
            });
        }
        // Keys sorted (a, b, c); the last one changes fastest.
        assert_eq!(
            got,
            vec![
                json!({"a": 1, "b": "x", "c": 7}),
                json!({"a": 1, "b": "y", "c": 7}),
                json!({"a": 2, "b": "x", "c": 7}),
                json!({"a": 2, "b": "y", "c": 7}),
                json!({"a": 3, "b": "x", "c": 7}),
                json!({"a": 3, "b": "y", "c": 7}),
            ]
        );
    }

    #[test]
    fn a_whole_float_counts_as_the_integer_and_gaps_are_filled_first() {
        let c = config("method: grid\nparameters:\n  a: {values: [1, 2, 3]}\n");
        let trial = |v: Value| Trial {
            params: json!({"a": v}).as_object().unwrap().clone(),
            outcome: Outcome::Failed,
        };
        let next_a = |trials: &[Trial]| next(&c.space, trials).unwrap().map(|p| p["a"].clone());
        assert_eq!(next_a(&[trial(json!(1.0))]), Some(json!(2)));
        assert_eq!(next_a(&[trial(json!(2))]), Some(json!(1)));
        assert_eq!(
            next_a(&[trial(json!(1)), trial(json!(2)), trial(json!(3))]),
            None
        );
    }

    #[test]
    fn q_uniform_stops_below_max_and_continuous_ones_are_refused() {
        let c = config(
            "method: grid\nparameters:\n  a: {distribution: q_uniform, min: 0, max: 1, q: 0.25}\n",
        );
        assert_eq!(
            axes(&c.space).unwrap()[0],
            vec![json!(0.0), json!(0.25), json!(0.5), json!(0.75)]
        );
        let c = config(
            "method: grid\nparameters:\n  a: {distribution: q_uniform, min: 0, max: 10, q: 5}\n",
        );
        assert_eq!(axes(&c.space).unwrap()[0], vec![json!(0), json!(5)]);
        let err = SweepConfig::from_yaml("method: grid\nparameters:\n  lr: {min: 0.1, max: 1.0}\n")
            .unwrap_err();
        assert!(err.to_string().contains("parameters.lr"), "{err}");
    }
}
