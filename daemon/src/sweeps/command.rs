//! A run's command line from the sweep's `command` (default `${env} ${interpreter} ${program}
//! ${args}`), as W&B's agent builds it (wandb `wandb_agent.py`, `sdk/launch/sweeps/utils.py`):
//! an item that is exactly `${name}` becomes that macro's words (an unknown one none);
//! `${envvar:NAME}` inside any item becomes the variable (or `NAME` when unset); values are
//! written as Python's `str()` writes them (`True`, `1e-05`, `[1, 2]`), since scripts parse
//! them as W&B's agent sends them.

use super::Params;
use serde_json::Value;
use std::collections::HashMap;

/// W&B's default command.
pub const DEFAULT_COMMAND: [&str; 4] = ["${env}", "${interpreter}", "${program}", "${args}"];

/// What the macros expand to besides the parameters.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// `${interpreter}`: W&B's agent says `python`.
    pub interpreter: String,
    /// `${program}`: the config's `program`.
    pub program: Option<String>,
    /// `${args_json_file}`: where the agent writes [`Built::args_json`].
    pub args_json_file: String,
    /// The environment `${envvar:NAME}` reads.
    pub env: HashMap<String, String>,
}

/// A command line, and the JSON of the parameters for `${args_json_file}` when it is used.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub argv: Vec<String>,
    /// Write this into `args_json_file` before starting the command.
    pub args_json: Option<String>,
}

/// Builds the command of a run with `params` (top-level keys, nested values as objects).
pub fn build(command: Option<&[String]>, params: &Params, ctx: &CommandContext) -> Built {
    let command: Vec<String> = match command {
        Some(c) if !c.is_empty() => c.to_vec(),
        _ => DEFAULT_COMMAND.iter().map(|s| s.to_string()).collect(),
    };
    let mut args = Vec::new();
    let mut no_equals = Vec::new();
    let mut no_hyphens = Vec::new();
    let mut no_booleans = Vec::new();
    let mut append_hydra = Vec::new();
    let mut override_hydra = Vec::new();
    for (key, value) in params {
        let flag = format!("{key}={}", py_str(value));
        args.push(format!("--{flag}"));
        no_equals.push(format!("--{key}"));
        no_equals.push(py_str(value));
        append_hydra.push(format!("+{flag}"));
        override_hydra.push(format!("++{flag}"));
        match value {
            Value::Bool(true) => no_booleans.push(format!("--{key}")),
            Value::Bool(false) => {}
            _ => no_booleans.push(format!("--{flag}")),
        }
        no_hyphens.push(flag);
    }
    let json = py_json(&Value::Object(params.clone()));
    let mut uses_json_file = false;
    let mut argv = Vec::new();
    for item in &command {
        let item = expand_envvars(item, &ctx.env);
        let Some(name) = item.strip_prefix("${").and_then(|s| s.strip_suffix('}')) else {
            argv.push(item);
            continue;
        };
        let words: Vec<String> = match name {
            "env" => vec!["/usr/bin/env".into()],
            "interpreter" => vec![ctx.interpreter.clone()],
            "program" => ctx.program.iter().cloned().collect(),
            "args" => args.clone(),
            "args_no_equals" => no_equals.clone(),
            "args_no_hyphens" => no_hyphens.clone(),
            "args_no_boolean_flags" => no_booleans.clone(),
            "args_append_hydra" => append_hydra.clone(),
            "args_override_hydra" => override_hydra.clone(),
            "args_json" => vec![json.clone()],
            "args_json_file" => {
                uses_json_file = true;
                vec![ctx.args_json_file.clone()]
            }
            _ => Vec::new(),
        };
        argv.extend(words);
    }
    Built {
        argv,
        args_json: uses_json_file.then_some(json),
    }
}

/// `${envvar:NAME}` (NAME of `[A-Z0-9_]`) replaced by the variable, or by `NAME` when unset.
fn expand_envvars(item: &str, env: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = item;
    while let Some(start) = rest.find("${envvar:") {
        let after = &rest[start + 9..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(after.len());
        if !after[name_len..].starts_with('}') {
            out.push_str(&rest[..start + 9]);
            rest = after;
            continue;
        }
        let name = &after[..name_len];
        out.push_str(&rest[..start]);
        out.push_str(env.get(name).map_or(name, String::as_str));
        rest = &after[name_len + 1..];
    }
    out.push_str(rest);
    out
}

/// A value as Python's `str()` writes it (strings bare at the top, quoted inside containers).
pub fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => py_float(f),
            _ => n.to_string(),
        },
        Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::from(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&Value::String(k.clone())), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `repr(float)`: the shortest digits that read back, fixed between 1e-4 and 1e16,
/// else `1e-05`/`1.5e+20`.
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("an integer exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let body = if exp >= 0 {
            let int_len = exp as usize + 1;
            let mut padded = digits.clone();
            while padded.len() < int_len {
                padded.push('0');
            }
            let (int, frac) = padded.split_at(int_len);
            format!("{int}.{}", if frac.is_empty() { "0" } else { frac })
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
    }
}

/// `json.dumps` as Python writes it (`", "` and `": "` separators, floats as `repr`).
fn py_json(value: &Value) -> String {
    match value {
        Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_none() => n.as_f64().map_or_else(
            || n.to_string(),
            |f| {
                if f.is_finite() {
                    py_float(f)
                } else {
                    "NaN".into()
                }
            },
        ),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_json).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), py_json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> CommandContext {
        CommandContext {
            interpreter: "python".into(),
            program: Some("train.py".into()),
            args_json_file: "/tmp/args.json".into(),
            env: HashMap::from([("DATA".to_string(), "/data".to_string())]),
        }
    }

    fn params() -> Params {
        json!({"lr": 1e-05, "epochs": 10, "dropout": 0.5, "wide": true, "deep": false,
               "opt": "adam", "sizes": [1, 2.5], "big": 1.5e20, "whole": 100.0})
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn the_default_command_is_wandbs() {
        let built = build(None, &params(), &ctx());
        // What wandb 0.31's agent writes for the same parameters (keys in the config's order).
        assert_eq!(
            built.argv,
            [
                "/usr/bin/env",
                "python",
                "train.py",
                "--big=1.5e+20",
                "--deep=False",
                "--dropout=0.5",
                "--epochs=10",
                "--lr=1e-05",
                "--opt=adam",
                "--sizes=[1, 2.5]",
                "--whole=100.0",
                "--wide=True"
            ]
        );
        assert_eq!(built.args_json, None);
    }

    #[test]
    fn every_macro_expands_as_wandbs_agent() {
        let p = json!({"a": 1, "flag": true, "off": false})
            .as_object()
            .unwrap()
            .clone();
        let command: Vec<String> = [
            "${env}",
            "${interpreter}",
            "${program}",
            "${args_no_equals}",
            "${args_no_hyphens}",
            "${args_no_boolean_flags}",
            "${args_json}",
            "${args_json_file}",
            "${args_append_hydra}",
            "${args_override_hydra}",
            "--data=${envvar:DATA}",
            "${envvar:MISSING}",
            "${unknown}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let built = build(Some(&command), &p, &ctx());
        assert_eq!(
            built.argv,
            [
                "/usr/bin/env",
                "python",
                "train.py",
                "--a",
                "1",
                "--flag",
                "True",
                "--off",
                "False",
                "a=1",
                "flag=True",
                "off=False",
                "--a=1",
                "--flag",
                r#"{"a": 1, "flag": true, "off": false}"#,
                "/tmp/args.json",
                "+a=1",
                "+flag=True",
                "+off=False",
                "++a=1",
                "++flag=True",
                "++off=False",
                "--data=/data",
                "MISSING"
            ]
        );
        assert_eq!(
            built.args_json.as_deref(),
            Some(r#"{"a": 1, "flag": true, "off": false}"#)
        );
    }

    #[test]
    fn floats_read_as_python_writes_them() {
        for (x, s) in [
            (0.1, "0.1"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (123456.0, "123456.0"),
            (1e16, "1e+16"),
            (1.5e-7, "1.5e-07"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
            (9999999999999998.0, "9999999999999998.0"),
            (3.0e-3, "0.003"),
        ] {
            assert_eq!(py_float(x), s);
        }
        assert_eq!(
            py_str(&json!({"k": "v", "n": null})),
            "{'k': 'v', 'n': None}"
        );
        assert_eq!(py_str(&json!("it's")), "it's");
        assert_eq!(py_str(&json!(["it's"])), r#"["it's"]"#);
    }
}
