//! A W&B sweep config (YAML or JSON) parsed and checked as W&B's schema does
//! (wandb/sweeps `config/schema.json`): the method, the metric, every parameter's distribution
//! (given, or inferred from its keys), early termination, the program and command, the run cap.
//! A bad config is a [`SweepError::Config`] naming the dotted key.

use super::space::{Dim, Distribution, Space};
use super::{Goal, SweepError};
use serde_json::{Map, Value};

/// How the next parameters are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Grid,
    Random,
    Bayes,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Grid => "grid",
            Method::Random => "random",
            Method::Bayes => "bayes",
        }
    }
}

/// `metric:`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricConfig {
    pub name: String,
    pub goal: Goal,
    pub target: Option<f64>,
}

/// `early_terminate:`.
#[derive(Debug, Clone, PartialEq)]
pub enum EarlyTerminate {
    /// W&B's hyperband: bands from `min_iter` up, or from `max_iter` down over `s` brackets.
    Hyperband {
        min_iter: Option<u64>,
        max_iter: Option<u64>,
        s: Option<u64>,
        eta: f64,
        strict: bool,
    },
}

/// A whole sweep config.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepConfig {
    pub method: Method,
    pub metric: Option<MetricConfig>,
    pub space: Space,
    pub early_terminate: Option<EarlyTerminate>,
    pub program: Option<String>,
    pub command: Option<Vec<String>>,
    pub run_cap: Option<u64>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// The config as given (YAML converted to JSON).
    pub raw: Value,
}

/// Top-level keys W&B's schema accepts.
const TOP_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "controller",
    "description",
    "program",
    "job",
    "image_uri",
    "entity",
    "project",
    "method",
    "command",
    "name",
    "run_cap",
    "metric",
    "metrics",
    "scheduler",
    "early_terminate",
    "parameters",
];

/// Largest config accepted, in bytes of YAML or JSON.
pub const MAX_CONFIG_BYTES: usize = 256 * 1024;
/// Most leaf parameters in one sweep.
pub const MAX_PARAMETERS: usize = 256;
/// Most values of one categorical parameter.
pub const MAX_VALUES: usize = 10_000;

impl SweepConfig {
    /// Parses YAML text (JSON is YAML too).
    pub fn from_yaml(text: &str) -> Result<Self, SweepError> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(SweepError::config(
                "",
                format!("the config is over {MAX_CONFIG_BYTES} bytes"),
            ));
        }
        let value: Value = serde_yaml_ng::from_str(text)
            .map_err(|e| SweepError::config("", format!("not valid YAML: {e}")))?;
        Self::from_json(&value)
    }

    /// Checks a config given as JSON.
    pub fn from_json(raw: &Value) -> Result<Self, SweepError> {
        let Some(top) = raw.as_object() else {
            return Err(SweepError::config(
                "",
                "a sweep config is a mapping of keys",
            ));
        };
        if let Some(key) = top.keys().find(|k| !TOP_KEYS.contains(&k.as_str())) {
            return Err(SweepError::config(
                key.as_str(),
                "not a key of a W&B sweep config",
            ));
        }
        let method = match top.get("method").and_then(Value::as_str) {
            Some("grid") => Method::Grid,
            Some("random") => Method::Random,
            Some("bayes") => Method::Bayes,
            Some(other) => {
                return Err(SweepError::config(
                    "method",
                    format!("'{other}' is not one of grid, random, bayes"),
                ));
            }
            None => {
                return Err(SweepError::config(
                    "method",
                    "required: grid, random or bayes",
                ));
            }
        };
        let metric = top.get("metric").map(parse_metric).transpose()?;
        if method == Method::Bayes && metric.is_none() {
            return Err(SweepError::config(
                "metric",
                "required for bayes: the metric to optimise",
            ));
        }
        let parameters = match top.get("parameters") {
            Some(Value::Object(p)) if !p.is_empty() => p,
            Some(_) => {
                return Err(SweepError::config(
                    "parameters",
                    "a mapping of parameter names to their values or distributions",
                ));
            }
            None => return Err(SweepError::config("parameters", "required")),
        };
        let mut dims = Vec::new();
        parse_parameters(parameters, &mut Vec::new(), &mut dims)?;
        if dims.len() > MAX_PARAMETERS {
            return Err(SweepError::config(
                "parameters",
                format!("more than {MAX_PARAMETERS} parameters"),
            ));
        }
        let early_terminate = top
            .get("early_terminate")
            .map(parse_early_terminate)
            .transpose()?;
        let program = optional_string(top, "program")?;
        let command = match top.get("command") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        _ => Err(SweepError::config(
                            format!("command.{i}"),
                            "each item is a string",
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err(SweepError::config("command", "a list of strings")),
        };
        let run_cap = match top.get("run_cap") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(n) if n > 0 => Some(n),
                _ => return Err(SweepError::config("run_cap", "a whole number above 0")),
            },
        };
        let space = Space { dims };
        if method == Method::Grid {
            super::search::grid::axes(&space)?;
        }
        Ok(SweepConfig {
            method,
            metric,
            space,
            early_terminate,
            program,
            command,
            run_cap,
            name: optional_string(top, "name")?,
            description: optional_string(top, "description")?,
            raw: raw.clone(),
        })
    }
}

fn optional_string(top: &Map<String, Value>, key: &str) -> Result<Option<String>, SweepError> {
    match top.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(SweepError::config(key, "a string")),
    }
}

fn parse_metric(value: &Value) -> Result<MetricConfig, SweepError> {
    let Some(m) = value.as_object() else {
        return Err(SweepError::config(
            "metric",
            "a mapping with name, goal, target",
        ));
    };
    const KEYS: &[&str] = &["name", "goal", "target", "impute", "impute_while_running"];
    if let Some(key) = m.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(SweepError::config(
            format!("metric.{key}"),
            "not a key of metric",
        ));
    }
    let name = match m.get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(SweepError::config(
                "metric.name",
                "required: the logged key",
            ));
        }
    };
    // W&B lets an unknown goal fall back to the default, minimize.
    let goal = match m.get("goal").and_then(Value::as_str) {
        Some("maximize") => Goal::Maximize,
        _ => Goal::Minimize,
    };
    let target = match m.get("target") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .ok_or_else(|| SweepError::config("metric.target", "a number"))?,
        ),
    };
    Ok(MetricConfig { name, goal, target })
}

fn parse_early_terminate(value: &Value) -> Result<EarlyTerminate, SweepError> {
    let Some(e) = value.as_object() else {
        return Err(SweepError::config(
            "early_terminate",
            "a mapping with type: hyperband",
        ));
    };
    const KEYS: &[&str] = &["type", "min_iter", "max_iter", "s", "eta", "strict"];
    if let Some(key) = e.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(SweepError::config(
            format!("early_terminate.{key}"),
            "not a key of early_terminate",
        ));
    }
    if e.get("type").and_then(Value::as_str) != Some("hyperband") {
        return Err(SweepError::config(
            "early_terminate.type",
            "must be hyperband",
        ));
    }
    let count = |key: &str, min: u64| -> Result<Option<u64>, SweepError> {
        match e.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_u64().or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            }) {
                Some(n) if n >= min => Ok(Some(n)),
                _ => Err(SweepError::config(
                    format!("early_terminate.{key}"),
                    format!("a whole number of at least {min}"),
                )),
            },
        }
    };
    let min_iter = count("min_iter", 1)?;
    let max_iter = count("max_iter", 1)?;
    let s = count("s", 1)?;
    if min_iter.is_none() && (max_iter.is_none() || s.is_none()) {
        return Err(SweepError::config(
            "early_terminate",
            "hyperband needs min_iter, or max_iter and s",
        ));
    }
    let eta = match e.get("eta") {
        None | Some(Value::Null) => 3.0,
        Some(v) => match v.as_f64() {
            Some(x) if x > 1.0 => x,
            _ => {
                return Err(SweepError::config(
                    "early_terminate.eta",
                    "a number above 1",
                ));
            }
        },
    };
    let strict = match e.get("strict") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(SweepError::config(
                "early_terminate.strict",
                "true or false",
            ));
        }
    };
    Ok(EarlyTerminate::Hyperband {
        min_iter,
        max_iter,
        s,
        eta,
        strict,
    })
}

/// Walks `parameters` in W&B's order (keys sorted at each level, nested ones depth first).
fn parse_parameters(
    params: &Map<String, Value>,
    path: &mut Vec<String>,
    dims: &mut Vec<Dim>,
) -> Result<(), SweepError> {
    let mut keys: Vec<&String> = params.keys().collect();
    keys.sort();
    for key in keys {
        path.push(key.clone());
        let dotted = format!("parameters.{}", path.join("."));
        let Some(spec) = params[key].as_object() else {
            return Err(SweepError::config(
                dotted,
                "a mapping such as {value: …}, {values: […]} or {min: …, max: …}",
            ));
        };
        if spec.contains_key("parameters") {
            if spec.len() != 1 {
                return Err(SweepError::config(
                    dotted,
                    "a nested parameter holds only `parameters`",
                ));
            }
            match spec.get("parameters") {
                Some(Value::Object(inner)) if !inner.is_empty() => {
                    parse_parameters(inner, path, dims)?
                }
                _ => {
                    return Err(SweepError::config(
                        format!("{dotted}.parameters"),
                        "a mapping of nested parameters",
                    ));
                }
            }
        } else {
            let dist = parse_distribution(spec, &dotted)?;
            // W&B makes a q_ distribution's values integers when q is written as one.
            let whole_q = spec.get("q").is_some_and(|q| q.is_i64() || q.is_u64());
            let integer = matches!(dist, Distribution::IntUniform { .. })
                || (whole_q
                    && matches!(
                        dist,
                        Distribution::QUniform { .. }
                            | Distribution::QLogUniform { .. }
                            | Distribution::QLogUniformValues { .. }
                            | Distribution::QNormal { .. }
                            | Distribution::QLogNormal { .. }
                            | Distribution::QBeta { .. }
                    ));
            dims.push(Dim {
                path: path.clone(),
                dist,
                integer,
            });
        }
        path.pop();
    }
    Ok(())
}

/// The keys each distribution allows besides `distribution`.
fn allowed_keys(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "constant" => &["value"],
        "categorical" => &["values"],
        "categorical_w_probabilities" => &["values", "probabilities"],
        "int_uniform"
        | "uniform"
        | "log_uniform"
        | "log_uniform_values"
        | "inv_log_uniform"
        | "inv_log_uniform_values" => &["min", "max"],
        "q_uniform" | "q_log_uniform" | "q_log_uniform_values" => &["min", "max", "q"],
        "normal" | "log_normal" => &["mu", "sigma"],
        "q_normal" | "q_log_normal" => &["mu", "sigma", "q"],
        "beta" => &["a", "b"],
        "q_beta" => &["a", "b", "q"],
        _ => return None,
    })
}

fn parse_distribution(spec: &Map<String, Value>, dotted: &str) -> Result<Distribution, SweepError> {
    let given = match spec.get("distribution") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(SweepError::config(
                format!("{dotted}.distribution"),
                "a distribution name",
            ));
        }
    };
    let is_int = |k: &str| spec.get(k).is_some_and(|v| v.is_i64() || v.is_u64());
    let name = match given {
        Some(name) => name,
        None if spec.contains_key("value") => "constant",
        None if spec.contains_key("probabilities") => "categorical_w_probabilities",
        None if spec.contains_key("values") => "categorical",
        None if spec.contains_key("min") || spec.contains_key("max") => {
            if is_int("min") && is_int("max") {
                "int_uniform"
            } else {
                "uniform"
            }
        }
        None => {
            return Err(SweepError::config(
                dotted,
                "give value, values, min and max, or a distribution",
            ));
        }
    };
    let Some(allowed) = allowed_keys(name) else {
        return Err(SweepError::config(
            format!("{dotted}.distribution"),
            format!("'{name}' is not a W&B distribution"),
        ));
    };
    if let Some(key) = spec
        .keys()
        .find(|k| *k != "distribution" && !allowed.contains(&k.as_str()))
    {
        return Err(SweepError::config(
            format!("{dotted}.{key}"),
            format!("not a key of the {name} distribution"),
        ));
    }
    let num = |key: &str, default: Option<f64>| -> Result<f64, SweepError> {
        match spec.get(key) {
            None => {
                default.ok_or_else(|| SweepError::config(format!("{dotted}.{key}"), "required"))
            }
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| SweepError::config(format!("{dotted}.{key}"), "a finite number")),
        }
    };
    let bounds = || -> Result<(f64, f64), SweepError> {
        let (min, max) = (num("min", None)?, num("max", None)?);
        if min >= max {
            return Err(SweepError::config(
                format!("{dotted}.min"),
                format!("min {min} is not less than max {max}"),
            ));
        }
        Ok((min, max))
    };
    let positive_bounds = || -> Result<(f64, f64), SweepError> {
        let (min, max) = bounds()?;
        if min <= 0.0 {
            return Err(SweepError::config(
                format!("{dotted}.min"),
                "must be above 0 for a distribution over values' logarithms",
            ));
        }
        Ok((min, max))
    };
    let q = || -> Result<f64, SweepError> {
        let q = num("q", Some(1.0))?;
        if q <= 0.0 {
            return Err(SweepError::config(format!("{dotted}.q"), "must be above 0"));
        }
        Ok(q)
    };
    let sigma = || -> Result<f64, SweepError> {
        let sigma = num("sigma", Some(1.0))?;
        if sigma <= 0.0 {
            return Err(SweepError::config(
                format!("{dotted}.sigma"),
                "must be above 0",
            ));
        }
        Ok(sigma)
    };
    let shape = |key: &str| -> Result<f64, SweepError> {
        let x = num(key, Some(1.0))?;
        if x <= 0.0 {
            return Err(SweepError::config(
                format!("{dotted}.{key}"),
                "must be above 0",
            ));
        }
        Ok(x)
    };
    let values = || -> Result<Vec<Value>, SweepError> {
        match spec.get("values") {
            Some(Value::Array(v)) if !v.is_empty() && v.len() <= MAX_VALUES => Ok(v.clone()),
            Some(Value::Array(v)) if v.is_empty() => Err(SweepError::config(
                format!("{dotted}.values"),
                "needs at least one value",
            )),
            Some(Value::Array(_)) => Err(SweepError::config(
                format!("{dotted}.values"),
                format!("more than {MAX_VALUES} values"),
            )),
            _ => Err(SweepError::config(
                format!("{dotted}.values"),
                "a list of values",
            )),
        }
    };
    Ok(match name {
        "constant" => Distribution::Constant(
            spec.get("value")
                .cloned()
                .ok_or_else(|| SweepError::config(format!("{dotted}.value"), "required"))?,
        ),
        "categorical" => Distribution::Categorical {
            values: values()?,
            probabilities: None,
        },
        "categorical_w_probabilities" => {
            let values = values()?;
            let probabilities: Vec<f64> = match spec.get("probabilities") {
                Some(Value::Array(p)) => p
                    .iter()
                    .map(|x| x.as_f64().filter(|x| x.is_finite() && *x >= 0.0))
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        SweepError::config(
                            format!("{dotted}.probabilities"),
                            "numbers of at least 0",
                        )
                    })?,
                _ => {
                    return Err(SweepError::config(
                        format!("{dotted}.probabilities"),
                        "a list of numbers, one per value",
                    ));
                }
            };
            if probabilities.len() != values.len() {
                return Err(SweepError::config(
                    format!("{dotted}.probabilities"),
                    format!(
                        "{} probabilities for {} values",
                        probabilities.len(),
                        values.len()
                    ),
                ));
            }
            if (probabilities.iter().sum::<f64>() - 1.0).abs() > 1e-8 {
                return Err(SweepError::config(
                    format!("{dotted}.probabilities"),
                    "do not sum to 1",
                ));
            }
            Distribution::Categorical {
                values,
                probabilities: Some(probabilities),
            }
        }
        "int_uniform" => {
            let int = |key: &str| -> Result<i64, SweepError> {
                spec.get(key).and_then(Value::as_i64).ok_or_else(|| {
                    SweepError::config(format!("{dotted}.{key}"), "a whole number for int_uniform")
                })
            };
            let (min, max) = (int("min")?, int("max")?);
            if min >= max {
                return Err(SweepError::config(
                    format!("{dotted}.min"),
                    format!("min {min} is not less than max {max}"),
                ));
            }
            Distribution::IntUniform { min, max }
        }
        "uniform" => {
            let (min, max) = bounds()?;
            Distribution::Uniform { min, max }
        }
        "q_uniform" => {
            let (min, max) = bounds()?;
            Distribution::QUniform { min, max, q: q()? }
        }
        "log_uniform" => {
            let (min, max) = bounds()?;
            Distribution::LogUniform { min, max }
        }
        "log_uniform_values" => {
            let (min, max) = positive_bounds()?;
            Distribution::LogUniformValues { min, max }
        }
        "q_log_uniform" => {
            let (min, max) = bounds()?;
            Distribution::QLogUniform { min, max, q: q()? }
        }
        "q_log_uniform_values" => {
            let (min, max) = positive_bounds()?;
            Distribution::QLogUniformValues { min, max, q: q()? }
        }
        "inv_log_uniform" => {
            let (min, max) = bounds()?;
            Distribution::InvLogUniform { min, max }
        }
        "inv_log_uniform_values" => {
            let (min, max) = positive_bounds()?;
            Distribution::InvLogUniformValues { min, max }
        }
        "normal" => Distribution::Normal {
            mu: num("mu", Some(0.0))?,
            sigma: sigma()?,
        },
        "q_normal" => Distribution::QNormal {
            mu: num("mu", Some(0.0))?,
            sigma: sigma()?,
            q: q()?,
        },
        "log_normal" => Distribution::LogNormal {
            mu: num("mu", Some(0.0))?,
            sigma: sigma()?,
        },
        "q_log_normal" => Distribution::QLogNormal {
            mu: num("mu", Some(0.0))?,
            sigma: sigma()?,
            q: q()?,
        },
        "beta" => Distribution::Beta {
            a: shape("a")?,
            b: shape("b")?,
        },
        _ => Distribution::QBeta {
            a: shape("a")?,
            b: shape("b")?,
            q: q()?,
        },
    })
}

#[cfg(test)]
mod tests;
