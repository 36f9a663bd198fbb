//! Readers for a run's small JSON files (`run.json`, `config.json`, `summary.json`).
//!
//! These files may contain the `NaN`/`Infinity`/`-Infinity` literals Python writes; they are turned
//! into the strings of `trackline_shared::num` so serde_json can hold them and the UI can show them.

use crate::error::{Error, Result};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::Path;
use trackline_shared::FORMAT_VERSION;

pub const RUN_FILE: &str = "run.json";
pub const CONFIG_FILE: &str = "config.json";
pub const SUMMARY_FILE: &str = "summary.json";
pub const METRICS_FILE: &str = "metrics.json";
pub const HISTORY_FILE: &str = "history.jsonl";
pub const SYSTEM_FILE: &str = "system.jsonl";

/// `run.json` as written by clients (docs/format.md).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct RunFile {
    #[serde(default = "one")]
    pub format_version: u32,
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub job_type: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub created_at: f64,
    #[serde(default)]
    pub heartbeat_at: Option<f64>,
    #[serde(default)]
    pub finished_at: Option<f64>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub python: Option<String>,
    #[serde(default)]
    pub git: Option<Value>,
}

fn one() -> u32 {
    1
}

/// Reads and checks `run.json`. `Ok(None)` when the file does not exist (not a run yet).
pub fn read_run_file(dir: &Path) -> Result<Option<RunFile>> {
    let path = dir.join(RUN_FILE);
    let Some(text) = read_optional(&path)? else {
        return Ok(None);
    };
    let value = parse_lenient(&text)
        .map_err(|e| Error::BadRequest(format!("{}: not valid JSON: {e}", path.display())))?;
    let run: RunFile = serde_json::from_value(value)
        .map_err(|e| Error::BadRequest(format!("{}: {e}", path.display())))?;
    if run.format_version > FORMAT_VERSION {
        return Err(Error::BadRequest(format!(
            "{}: format version {} is newer than this daemon's ({FORMAT_VERSION}); upgrade trackline",
            path.display(),
            run.format_version
        )));
    }
    Ok(Some(run))
}

/// Reads `config.json` or `summary.json`; a missing file is an empty object.
pub fn read_object(path: &Path) -> Result<Map<String, Value>> {
    let Some(text) = read_optional(path)? else {
        return Ok(Map::new());
    };
    match parse_lenient(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::BadRequest(format!(
            "{}: expected a JSON object",
            path.display()
        ))),
        Err(e) => Err(Error::BadRequest(format!(
            "{}: not valid JSON: {e}",
            path.display()
        ))),
    }
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Parses JSON that may contain bare `NaN`, `Infinity` and `-Infinity`, turning them into strings.
pub fn parse_lenient(text: &str) -> serde_json::Result<Value> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return serde_json::from_str(text);
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    let mut in_string = false;
    let mut last = 0;
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        let lit = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|lit| b[i..].starts_with(lit.as_bytes()));
        if let Some(lit) = lit {
            out.push_str(&text[last..i]);
            out.push('"');
            out.push_str(lit);
            out.push('"');
            i += lit.len();
            last = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[last..]);
    serde_json::from_str(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_json_keeps_nonfinite_as_strings() {
        let v =
            parse_lenient(r#"{"a": NaN, "b": [-Infinity, Infinity], "s": "NaN Infinity", "c": 1}"#)
                .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": "NaN", "b": ["-Infinity", "Infinity"], "s": "NaN Infinity", "c": 1})
        );
        assert!(parse_lenient("{\"a\": NaNx}").is_err());
    }

    #[test]
    fn run_file_round_trip_and_version_check() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_run_file(dir.path()).unwrap().is_none());
        std::fs::write(
            dir.path().join(RUN_FILE),
            r#"{"format_version": 1, "id": "abc", "created_at": 5}"#,
        )
        .unwrap();
        assert_eq!(read_run_file(dir.path()).unwrap().unwrap().id, "abc");
        std::fs::write(
            dir.path().join(RUN_FILE),
            r#"{"format_version": 99, "id": "abc"}"#,
        )
        .unwrap();
        let err = read_run_file(dir.path()).unwrap_err().to_string();
        assert!(err.contains("newer"), "{err}");
        std::fs::write(dir.path().join(RUN_FILE), "{garbage").unwrap();
        assert!(read_run_file(dir.path()).is_err());
    }
}
