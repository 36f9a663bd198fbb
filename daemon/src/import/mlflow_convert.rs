//! One MLflow run ([`MlRun`]) into a run folder of format v1. Metrics become history rows keyed
//! by MLflow's step (several metrics at one step share a row, whose `_timestamp` is its latest
//! point's); a metric logged twice at one step keeps its last point. A run that logged every point
//! at step 0 and some metric more than once (MLflow's step is 0 when none is given) is stepped
//! as W&B steps a run logged without steps: one row per log call, in time order. Params become
//! config (exactly-numeric ones as numbers, see [`param_json`]), last values the summary, tags and
//! times `run.json`, and the run's artifacts are copied into `files/`. MLflow's system metrics
//! (`system/…`, logged by its system-metrics monitor) go to `system.jsonl`, one row per sample,
//! named as this format names the ones that mean the same.

use super::mlflow::{MlRun, Point, artifact_files};
use super::wandb_tree::object_of;
use anyhow::Context;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Tags prefix of MLflow's own tags.
const SYSTEM_TAG: &str = "mlflow.";
/// Key prefix of MLflow's system metrics, and of this format's (`system.jsonl`).
const SYSTEM_METRIC: &str = "system/";

/// What one run's conversion wrote.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Written {
    pub rows: u64,
    pub files: u64,
    /// Points left out: at a negative step, or followed by another at the same step and key.
    pub dropped: u64,
}

/// One history row: its step, its latest timestamp (ms) and its values by key index.
#[derive(Debug, PartialEq)]
pub struct Row {
    pub step: u64,
    pub timestamp_ms: i64,
    pub values: Vec<(u32, f64)>,
}

/// The history rows of `points` and how many points were left out (see the module comment).
pub fn rows_of(points: &[Point]) -> (Vec<Row>, u64) {
    let mut order: Vec<usize> = (0..points.len()).collect();
    let repeats_at_zero = points.iter().all(|p| p.step == 0) && {
        let mut keys: Vec<u32> = points.iter().map(|p| p.key).collect();
        keys.sort_unstable();
        keys.windows(2).any(|w| w[0] == w[1])
    };
    let mut rows: Vec<Row> = Vec::new();
    if repeats_at_zero {
        // One row per log call: a new row when the time moves on or a key comes again.
        order.sort_by_key(|&i| (points[i].timestamp_ms, i));
        for i in order {
            let p = points[i];
            let same_call = rows.last().is_some_and(|r| {
                r.timestamp_ms == p.timestamp_ms && !r.values.iter().any(|(k, _)| *k == p.key)
            });
            if !same_call {
                rows.push(Row {
                    step: rows.len() as u64,
                    timestamp_ms: p.timestamp_ms,
                    values: Vec::new(),
                });
            }
            if let Some(row) = rows.last_mut() {
                row.values.push((p.key, p.value));
            }
        }
        return (rows, 0);
    }
    let mut dropped = 0;
    // By step, then time, then the order logged: the last point of a key at a step wins.
    order.sort_by_key(|&i| (points[i].step, points[i].timestamp_ms, i));
    for i in order {
        let p = points[i];
        let Ok(step) = u64::try_from(p.step) else {
            dropped += 1;
            continue;
        };
        if rows.last().is_none_or(|r| r.step != step) {
            rows.push(Row {
                step,
                timestamp_ms: p.timestamp_ms,
                values: Vec::new(),
            });
        }
        let Some(row) = rows.last_mut() else { continue };
        row.timestamp_ms = row.timestamp_ms.max(p.timestamp_ms);
        match row.values.iter_mut().find(|(k, _)| *k == p.key) {
            Some(slot) => {
                slot.1 = p.value;
                dropped += 1;
            }
            None => row.values.push((p.key, p.value)),
        }
    }
    (rows, dropped)
}

/// A number as JSON text, non-finite values as format v1's literals.
fn number(value: f64) -> String {
    match trackline_shared::num::nonfinite_name(value) {
        Some(name) => name.to_string(),
        None => {
            serde_json::Number::from_f64(value).map_or_else(|| "null".into(), |n| n.to_string())
        }
    }
}

/// Python's `repr` of a finite float: the shortest digits that read back, in fixed notation for
/// decimal exponents -4 to 15 (with `.0` when whole), else as `1.5e+16`, `1e-05`.
pub fn python_repr(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .into();
    }
    let sci = format!("{:e}", value.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if value < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            let (whole, frac) = digits.split_at(point as usize);
            format!("{whole}.{frac}")
        };
        format!("{sign}{text}")
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{rest}e{exp_sign}{:02}", exp.abs())
    }
}

/// A param (MLflow keeps every param as the text `str(value)`) as config JSON: the number itself
/// when the text is exactly one (Python's `str` of that JSON number gives the text back: `64`,
/// `0.01`, `1e-05`, `-2.5`; integers within ±2^53), else the string.
pub fn param_json(text: &str) -> String {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let integer = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    if integer {
        if text
            .parse::<i64>()
            .is_ok_and(|n| n.unsigned_abs() <= 1 << 53)
        {
            return text.to_string();
        }
    } else if json_number(text)
        && let Ok(value) = text.parse::<f64>()
        && value.is_finite()
        && python_repr(value) == text
    {
        return text.to_string();
    }
    serde_json::to_string(text).unwrap_or_default()
}

/// Whether `text` follows JSON's number grammar.
fn json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let start = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && b[start] == b'0') {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Trackline's state, finish time and exit code for an MLflow status.
fn state_of(run: &MlRun) -> (&'static str, Option<f64>, Option<i64>) {
    let end = run.end_ms.map(|ms| ms as f64 / 1000.0);
    match run.status.as_str() {
        "FINISHED" => ("finished", end, Some(0)),
        // Trackline has no killed state: a killed run failed (config `_mlflow.status` says which).
        "FAILED" | "KILLED" => ("failed", end, None),
        // RUNNING, SCHEDULED: still going, or its process died; an old heartbeat shows it crashed.
        _ => ("running", None, None),
    }
}

/// Writes `run` into `out_dir` (an empty folder) as a run of `project`.
pub fn convert(run: &MlRun, project: &str, out_dir: &Path) -> anyhow::Result<Written> {
    let (system, points): (Vec<Point>, Vec<Point>) = run
        .points
        .iter()
        .partition(|p| run.keys[p.key as usize].starts_with(SYSTEM_METRIC));
    let (rows, dropped) = rows_of(&points);
    if dropped > 0 {
        tracing::warn!(
            "MLflow run {}: {dropped} points left out (a negative step, or a metric logged again \
             at the same step, which keeps its last value)",
            run.run_id
        );
    }
    let start_ms = run
        .start_ms
        .or_else(|| rows.iter().map(|r| r.timestamp_ms).min())
        .unwrap_or(0);
    let mut last: Vec<Option<f64>> = vec![None; run.keys.len()];
    let mut history = BufWriter::new(
        File::create(out_dir.join(crate::format::HISTORY_FILE)).context("creating history")?,
    );
    let mut latest_ms = start_ms;
    for row in &rows {
        latest_ms = latest_ms.max(row.timestamp_ms);
        let mut pairs = vec![
            ("_step".to_string(), row.step.to_string()),
            (
                "_timestamp".to_string(),
                number(row.timestamp_ms as f64 / 1000.0),
            ),
            (
                "_runtime".to_string(),
                number((row.timestamp_ms - start_ms).max(0) as f64 / 1000.0),
            ),
        ];
        for &(key, value) in &row.values {
            last[key as usize] = Some(value);
            pairs.push((run.keys[key as usize].clone(), number(value)));
        }
        writeln!(history, "{}", object_of(&pairs))?;
    }
    history.flush()?;
    history.get_ref().sync_all()?;
    if !system.is_empty() {
        write_system(run, &system, start_ms, out_dir)?;
    }

    let summary: Vec<(String, String)> = run
        .keys
        .iter()
        .zip(&last)
        .filter_map(|(k, v)| v.map(|v| (k.clone(), number(v))))
        .collect();
    write_small(out_dir, crate::format::SUMMARY_FILE, &object_of(&summary))?;

    let mut config: Vec<(String, String)> = run
        .params
        .iter()
        .map(|(k, v)| (k.clone(), param_json(v)))
        .collect();
    let system_tags: serde_json::Map<String, serde_json::Value> = run
        .tags
        .iter()
        .filter(|(k, _)| k.starts_with(SYSTEM_TAG))
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    let own = serde_json::json!({
        "run_id": run.run_id,
        "experiment_id": run.experiment_id,
        "experiment_name": run.experiment_name,
        "status": run.status,
        "artifact_uri": run.artifact_uri,
        "tags": system_tags,
    });
    config.push(("_mlflow".into(), own.to_string()));
    write_small(out_dir, crate::format::CONFIG_FILE, &object_of(&config))?;

    let files = match &run.artifacts {
        Some(dir) => copy_artifacts(dir, &out_dir.join(crate::format::FILES_DIR))?,
        None => {
            if let Some(uri) = &run.artifact_uri {
                tracing::info!(
                    "MLflow run {}: artifacts at {uri} are not a local folder; not copied",
                    run.run_id
                );
            }
            0
        }
    };
    // run.json last: its presence makes the folder a run.
    let end_ms = run.end_ms.unwrap_or(0);
    let run_json = run_json(run, project, start_ms, latest_ms.max(end_ms));
    write_small(
        out_dir,
        crate::format::RUN_FILE,
        &serde_json::to_string_pretty(&run_json)?,
    )?;
    Ok(Written {
        rows: rows.len() as u64,
        files,
        dropped,
    })
}

/// `system.jsonl` from MLflow's system-metric points: one row per sample (MLflow logs a sample's
/// metrics at one step), its `_timestamp` the sample's latest point's.
fn write_system(
    run: &MlRun,
    points: &[Point],
    start_ms: i64,
    out_dir: &Path,
) -> anyhow::Result<()> {
    let mut order: Vec<&Point> = points.iter().collect();
    order.sort_by_key(|p| (p.step, p.timestamp_ms));
    let mut out = BufWriter::new(
        File::create(out_dir.join(crate::format::SYSTEM_FILE)).context("creating system")?,
    );
    for sample in order.chunk_by(|a, b| a.step == b.step) {
        let time_ms = sample.iter().map(|p| p.timestamp_ms).max().unwrap_or(0);
        let mut pairs = vec![
            ("_timestamp".to_string(), number(time_ms as f64 / 1000.0)),
            (
                "_runtime".to_string(),
                number((time_ms - start_ms).max(0) as f64 / 1000.0),
            ),
        ];
        for p in sample {
            let key = system_key(&run.keys[p.key as usize]);
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, number(p.value)));
        }
        writeln!(out, "{}", object_of(&pairs))?;
    }
    out.flush()?;
    out.get_ref().sync_all()?;
    Ok(())
}

/// This format's name for an MLflow system metric (`system/cpu_utilization_percentage` is
/// `system/cpu_percent`); one without a counterpart keeps MLflow's name.
fn system_key(key: &str) -> String {
    let name = key.strip_prefix(SYSTEM_METRIC).unwrap_or(key);
    let mapped = match name {
        "cpu_utilization_percentage" => Some("cpu_percent".to_string()),
        "system_memory_usage_percentage" => Some("memory_percent".to_string()),
        _ => name.strip_prefix("gpu_").and_then(|rest| {
            let (index, what) = rest.split_once('_')?;
            index.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
            let ours = match what {
                "utilization_percentage" => "utilization",
                "memory_usage_percentage" => "memory_percent",
                "power_usage_watts" => "power_w",
                _ => return None,
            };
            Some(format!("gpu.{index}.{ours}"))
        }),
    };
    format!("{SYSTEM_METRIC}{}", mapped.as_deref().unwrap_or(name))
}

/// `run.json`: the name from `mlflow.runName`, W&B-style `key=value` tags from the user's tags,
/// notes from `mlflow.note.content`, the parent run as group, the source as command, git.
fn run_json(run: &MlRun, project: &str, start_ms: i64, latest_ms: i64) -> serde_json::Value {
    let tag = |k: &str| run.tag(k).filter(|v| !v.is_empty()).map(str::to_string);
    let tags: Vec<String> = run
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with(SYSTEM_TAG))
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    let name = tag("mlflow.runName")
        .or_else(|| run.run_name.clone())
        .unwrap_or_else(|| run.run_id.clone());
    let (state, finished_at, exit_code) = state_of(run);
    let commit = tag("mlflow.source.git.commit");
    let remote = tag("mlflow.source.git.repoURL");
    let git = (commit.is_some() || remote.is_some()).then(|| {
        serde_json::json!({"commit": commit, "branch": tag("mlflow.source.git.branch"),
                           "dirty": null, "remote": remote})
    });
    let command: Vec<String> = tag("mlflow.source.name").into_iter().collect();
    serde_json::json!({
        "format_version": trackline_shared::FORMAT_VERSION,
        "id": run.run_id,
        "name": name,
        "project": project,
        "group": tag("mlflow.parentRunId"),
        "tags": tags,
        "notes": tag("mlflow.note.content"),
        "job_type": null,
        "state": state,
        "created_at": start_ms as f64 / 1000.0,
        "heartbeat_at": latest_ms as f64 / 1000.0,
        "finished_at": finished_at,
        "exit_code": exit_code,
        "host": null,
        "command": command,
        "pid": null,
        "client": "mlflow (imported by trackline)",
        "user": tag("mlflow.user").or_else(|| run.user.clone()),
        "git": git,
    })
}

/// Copies every regular file under `from` to the same path under `to`; answers how many.
fn copy_artifacts(from: &Path, to: &Path) -> anyhow::Result<u64> {
    let mut copied = 0;
    for file in artifact_files(from)? {
        let target = to.join(&file.rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("making {}", parent.display()))?;
        }
        std::fs::copy(&file.path, &target)
            .with_context(|| format!("copying {} to {}", file.path.display(), target.display()))?;
        copied += 1;
    }
    Ok(copied)
}

fn write_small(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    let path = dir.join(name);
    let mut file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(key: u32, step: i64, timestamp_ms: i64, value: f64) -> Point {
        Point {
            key,
            step,
            timestamp_ms,
            value,
        }
    }

    #[test]
    fn python_repr_matches_python() {
        for (v, text) in [
            (0.01, "0.01"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e300, "1.5e+300"),
            (123456.789, "123456.789"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-0.0, "-0.0"),
            (5e-324, "5e-324"),
        ] {
            assert_eq!(python_repr(v), text, "{v:e}");
        }
    }

    #[test]
    fn exactly_numeric_params_become_numbers() {
        for number in [
            "64",
            "0",
            "-3",
            "0.01",
            "1.0",
            "1e-05",
            "-2.5",
            "9007199254740992",
        ] {
            assert_eq!(param_json(number), number);
        }
        for text in [
            "007",
            "-0",
            "1E5",
            "0.10",
            "1e5",
            "nan",
            "inf",
            "True",
            "None",
            "[1, 2]",
            "",
            " 1",
            "1.",
            ".5",
            "+1",
            "9007199254740993",
            "adam",
        ] {
            assert_eq!(
                param_json(text),
                serde_json::to_string(text).unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn metrics_at_one_step_share_a_row() {
        let points = [
            p(0, 0, 10, 1.0),
            p(1, 0, 11, 2.0),
            p(0, 5, 20, 3.0),
            p(0, 2, 15, 4.0),
            p(0, 5, 21, 5.0),
            p(1, -1, 9, 6.0),
        ];
        let (rows, dropped) = rows_of(&points);
        assert_eq!(dropped, 2);
        let steps: Vec<u64> = rows.iter().map(|r| r.step).collect();
        assert_eq!(steps, [0, 2, 5]);
        assert_eq!(rows[0].values, [(0, 1.0), (1, 2.0)]);
        assert_eq!(rows[0].timestamp_ms, 11);
        assert_eq!(rows[2].values, [(0, 5.0)]);
    }

    #[test]
    fn a_run_logged_without_steps_gets_one_row_per_call() {
        // log_metrics({"a", "b"}) twice, then log_metric("a") twice in one millisecond.
        let points = [
            p(0, 0, 10, 1.0),
            p(1, 0, 10, 2.0),
            p(0, 0, 12, 3.0),
            p(1, 0, 12, 4.0),
            p(0, 0, 13, 5.0),
            p(0, 0, 13, 6.0),
        ];
        let (rows, dropped) = rows_of(&points);
        assert_eq!(dropped, 0);
        let shape: Vec<(u64, usize)> = rows.iter().map(|r| (r.step, r.values.len())).collect();
        assert_eq!(shape, [(0, 2), (1, 2), (2, 1), (3, 1)]);
        assert_eq!(rows[3].values, [(0, 6.0)]);
        // Each metric once at step 0 stays one row.
        let (rows, _) = rows_of(&[p(0, 0, 1, 1.0), p(1, 0, 2, 2.0)]);
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn system_metrics_go_to_system_jsonl_one_row_per_sample() {
        let dir = tempfile::tempdir().unwrap();
        let run = MlRun {
            run_id: "sys".into(),
            start_ms: Some(1000),
            keys: vec![
                "loss".into(),
                "system/cpu_utilization_percentage".into(),
                "system/gpu_0_utilization_percentage".into(),
                "system/disk_usage_megabytes".into(),
            ],
            points: vec![
                p(0, 0, 1500, 0.9),
                p(1, 0, 11000, 12.5),
                p(2, 0, 11001, 97.0),
                p(3, 0, 11001, 512.0),
                p(1, 1, 21000, 30.0),
                p(0, 1, 2500, 0.8),
            ],
            ..MlRun::default()
        };
        convert(&run, "exp", dir.path()).unwrap();
        let history = std::fs::read_to_string(dir.path().join("history.jsonl")).unwrap();
        assert_eq!(history.lines().count(), 2);
        assert!(!history.contains("system/"), "{history}");
        let system = std::fs::read_to_string(dir.path().join("system.jsonl")).unwrap();
        let lines: Vec<&str> = system.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"_timestamp": 11.001, "_runtime": 10.001, "system/cpu_percent": 12.5, "system/gpu.0.utilization": 97.0, "system/disk_usage_megabytes": 512.0}"#,
                r#"{"_timestamp": 21.0, "_runtime": 20.0, "system/cpu_percent": 30.0}"#,
            ]
        );
        let summary = std::fs::read_to_string(dir.path().join("summary.json")).unwrap();
        assert_eq!(summary.trim(), r#"{"loss": 0.8}"#);
    }

    #[test]
    fn a_run_converts_to_format_v1() {
        let dir = tempfile::tempdir().unwrap();
        let artifacts = dir.path().join("artifacts");
        std::fs::create_dir_all(artifacts.join("sub")).unwrap();
        std::fs::write(artifacts.join("sub/a.txt"), "hello").unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let run = MlRun {
            run_id: "abc".into(),
            status: "KILLED".into(),
            start_ms: Some(1000),
            end_ms: Some(5000),
            keys: vec!["loss".into(), "nested/acc".into()],
            points: vec![
                p(0, 0, 1500, f64::NAN),
                p(1, 1, 2000, 0.5),
                p(0, 1, 2000, f64::NEG_INFINITY),
            ],
            params: vec![("lr".into(), "0.01".into()), ("opt".into(), "adam".into())],
            tags: vec![
                ("mlflow.runName".into(), "first".into()),
                ("mlflow.note.content".into(), "a note".into()),
                ("mlflow.source.git.commit".into(), "abc123".into()),
                ("team".into(), "vision".into()),
            ],
            artifacts: Some(artifacts),
            ..MlRun::default()
        };
        let written = convert(&run, "exp", &out).unwrap();
        assert_eq!((written.rows, written.files), (2, 1));
        let history = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
        let lines: Vec<&str> = history.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"_step": 0, "_timestamp": 1.5, "_runtime": 0.5, "loss": NaN}"#
        );
        assert!(lines[1].contains(r#""loss": -Infinity"#));
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        assert_eq!(summary.trim(), r#"{"loss": -Infinity, "nested/acc": 0.5}"#);
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("config.json")).unwrap()).unwrap();
        assert_eq!(config["lr"], 0.01);
        assert_eq!(config["opt"], "adam");
        assert_eq!(config["_mlflow"]["status"], "KILLED");
        let run_json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
        assert_eq!(run_json["name"], "first");
        assert_eq!(run_json["notes"], "a note");
        assert_eq!(run_json["tags"], serde_json::json!(["team=vision"]));
        assert_eq!(run_json["state"], "failed");
        assert_eq!(run_json["finished_at"], 5.0);
        assert_eq!(run_json["git"]["commit"], "abc123");
        assert_eq!(
            std::fs::read_to_string(out.join("files/sub/a.txt")).unwrap(),
            "hello"
        );
    }
}
