//! `trackline optimize`: the sweep search for any process, ask/tell in JSON lines on stdin and
//! stdout (one object a line): `{"op":"init","sweep":{…W&B sweep config…},"seed":3}` →
//! `{"ok":true}`; `{"op":"ask"}` → `{"params":{…}}` (or `{"done":true}` when a grid is
//! exhausted); `{"op":"tell","params":{…},"value":0.42}` → `{"ok":true}` (a `null` or missing
//! value is a failed trial; parameters never asked are taken as an extra observation);
//! `{"op":"close"}` → `{"ok":true}`, then the program ends. Any mistake is `{"error":"…"}` on the
//! same line, never a crash. No daemon is involved.

use super::config::SweepConfig;
use super::search::{self, Suggestion};
use super::{Outcome, Trial};
use serde_json::{Value, json};
use std::io::{BufRead, Write};

/// The state of one ask/tell session.
#[derive(Default)]
pub struct Session {
    config: Option<SweepConfig>,
    seed: u64,
    trials: Vec<Trial>,
}

/// Longest request line accepted.
const MAX_LINE: usize = 4 << 20;

impl Session {
    /// The answer to one request line, and whether the session ends.
    pub fn handle(&mut self, line: &str) -> (Value, bool) {
        if line.len() > MAX_LINE {
            return (
                json!({"error": format!("a request line is at most {MAX_LINE} bytes")}),
                false,
            );
        }
        let request: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return (json!({"error": format!("not a JSON object: {e}")}), false),
        };
        match request.get("op").and_then(Value::as_str) {
            Some("init") => {
                let Some(sweep) = request.get("sweep") else {
                    return (
                        json!({"error": "init needs `sweep`: a W&B sweep config"}),
                        false,
                    );
                };
                match SweepConfig::from_json(sweep) {
                    Ok(config) => {
                        self.seed = request.get("seed").and_then(Value::as_u64).unwrap_or(0);
                        self.config = Some(config);
                        self.trials.clear();
                        (json!({"ok": true}), false)
                    }
                    Err(e) => (json!({"error": e.to_string()}), false),
                }
            }
            Some("ask") => {
                let Some(config) = &self.config else {
                    return (json!({"error": "ask before init"}), false);
                };
                match search::suggest(config, &self.trials, self.seed) {
                    Ok(Suggestion::Next(params)) => {
                        self.trials.push(Trial {
                            params: params.clone(),
                            outcome: Outcome::Pending,
                        });
                        (json!({"params": params}), false)
                    }
                    Ok(Suggestion::Exhausted) => (json!({"done": true}), false),
                    Err(e) => (json!({"error": e.to_string()}), false),
                }
            }
            Some("tell") => {
                if self.config.is_none() {
                    return (json!({"error": "tell before init"}), false);
                }
                let Some(Value::Object(params)) = request.get("params") else {
                    return (
                        json!({"error": "tell needs `params`: the parameters asked"}),
                        false,
                    );
                };
                let outcome = match request.get("value") {
                    None | Some(Value::Null) => Outcome::Failed,
                    Some(v) => match v.as_f64().filter(|x| x.is_finite()) {
                        Some(x) => Outcome::Value(x),
                        None => {
                            return (
                                json!({"error": "`value` must be a finite number or null"}),
                                false,
                            );
                        }
                    },
                };
                match self
                    .trials
                    .iter_mut()
                    .find(|t| t.outcome == Outcome::Pending && t.params == *params)
                {
                    Some(trial) => trial.outcome = outcome,
                    None => self.trials.push(Trial {
                        params: params.clone(),
                        outcome,
                    }),
                }
                (json!({"ok": true}), false)
            }
            Some("close") => (json!({"ok": true}), true),
            Some(other) => (
                json!({"error": format!("unknown op '{other}': use init, ask, tell or close")}),
                false,
            ),
            None => (
                json!({"error": "each line needs an `op`: init, ask, tell or close"}),
                false,
            ),
        }
    }
}

/// Serves ask/tell on `input` and `output` until `close` or the end of the input.
pub fn serve(input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
    let mut session = Session::default();
    for line in input.lines() {
        let line = match line {
            Ok(line) => line,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                writeln!(
                    output,
                    "{}",
                    json!({"error": "a request line is not UTF-8"})
                )?;
                output.flush()?;
                continue;
            }
            Err(e) => return Err(e),
        };
        if line.trim().is_empty() {
            continue;
        }
        let (answer, end) = session.handle(&line);
        writeln!(output, "{answer}")?;
        output.flush()?;
        if end {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn talk(lines: &[&str]) -> Vec<Value> {
        let mut out = Vec::new();
        serve(lines.join("\n").as_bytes(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn ask_tell_over_a_grid_then_done() {
        let got = talk(&[
            r#"{"op":"ask"}"#,
            r#"{"op":"init","sweep":{"method":"grid","parameters":{"a":{"values":[1,2]}}},"seed":3}"#,
            r#"{"op":"ask"}"#,
            r#"{"op":"tell","params":{"a":1},"value":0.5}"#,
            r#"{"op":"ask"}"#,
            r#"{"op":"ask"}"#,
            r#"{"op":"tell","params":{"a":9},"value":null}"#,
            r#"{"op":"close"}"#,
            r#"{"op":"ask"}"#,
        ]);
        assert_eq!(got.len(), 8, "nothing after close: {got:?}");
        assert!(got[0]["error"].as_str().unwrap().contains("before init"));
        assert_eq!(got[1], json!({"ok": true}));
        assert_eq!(got[2], json!({"params": {"a": 1}}));
        assert_eq!(got[4], json!({"params": {"a": 2}}));
        assert_eq!(got[5], json!({"done": true}));
        assert_eq!(got[6], json!({"ok": true}));
    }

    #[test]
    fn mistakes_are_error_lines() {
        let got = talk(&[
            "not json",
            r#"{"op":"fly"}"#,
            r#"{"nothing":1}"#,
            r#"{"op":"init","sweep":{"method":"random","parameters":{"a":{"min":2,"max":1}}}}"#,
            r#"{"op":"init"}"#,
            r#"{"op":"tell","params":{"a":1},"value":1}"#,
            r#"{"op":"init","sweep":{"method":"random","parameters":{"a":{"min":0.0,"max":1.0}}}}"#,
            r#"{"op":"tell","value":1}"#,
            r#"{"op":"tell","params":{"a":0.5},"value":"high"}"#,
        ]);
        for (i, answer) in got.iter().enumerate() {
            if i == 6 {
                assert_eq!(answer, &json!({"ok": true}));
            } else {
                assert!(answer["error"].is_string(), "line {i}: {answer}");
            }
        }
        assert!(
            got[3]["error"]
                .as_str()
                .unwrap()
                .contains("parameters.a.min")
        );
    }
}
