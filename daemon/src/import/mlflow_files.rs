//! MLflow's file store (`mlruns/`), read as MLflow's `FileStore` reads it: an experiment is a
//! folder with a `meta.yaml` (`experiment_id`, `name`, `lifecycle_stage`); a run is a folder in it
//! with its own `meta.yaml` (`run_id`, `status` as MLflow's enum number, `start_time`/`end_time` in
//! ms, `lifecycle_stage`, `artifact_uri`, `user_id`, `run_name`), `metrics/<key>` files of lines
//! `timestamp_ms value step` (a key with `/` is a folder path), `params/<key>` and `tags/<key>`
//! holding the value as the whole file, and `artifacts/`.

use super::mlflow::{Experiment, MlRun, Point};
use super::wandb_log::Skipped;
use anyhow::{Context, bail};
use serde_yaml_ng::Value;
use std::path::{Path, PathBuf};

/// The metadata file of experiments and runs.
pub const META_FILE: &str = "meta.yaml";
/// Folders of an experiment that are not runs (MLflow's `RESERVED_EXPERIMENT_FOLDERS`).
const RESERVED: [&str; 4] = ["tags", "datasets", "traces", "models"];

/// What a `meta.yaml` describes.
#[derive(Debug, PartialEq)]
pub enum MetaKind {
    Run,
    Experiment,
    /// Something else of MLflow's (a registered model, a model version).
    Other,
    Unreadable,
}

fn read_yaml(path: &Path) -> anyhow::Result<serde_yaml_ng::Mapping> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match serde_yaml_ng::from_str::<Value>(&text) {
        Ok(Value::Mapping(map)) => Ok(map),
        Ok(_) => bail!("{} is not a YAML mapping", path.display()),
        Err(e) => bail!("{} is not valid YAML ({e})", path.display()),
    }
}

/// Whether `meta.yaml` at `path` is a run's (it has a `run_id`) or an experiment's (an
/// `experiment_id` and no `run_id`).
pub fn meta_kind(path: &Path) -> MetaKind {
    match read_yaml(path) {
        Ok(map) if map.contains_key("run_id") || map.contains_key("run_uuid") => MetaKind::Run,
        Ok(map) if map.contains_key("experiment_id") => MetaKind::Experiment,
        Ok(_) => MetaKind::Other,
        Err(_) => MetaKind::Unreadable,
    }
}

/// A YAML scalar as text (MLflow writes ids as quoted strings, older versions as numbers).
fn text(map: &serde_yaml_ng::Mapping, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn millis(map: &serde_yaml_ng::Mapping, key: &str) -> Option<i64> {
    match map.get(key)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The experiment in folder `dir`.
pub fn read_experiment(dir: &Path) -> Experiment {
    let meta = read_yaml(&dir.join(META_FILE))
        .map_err(|e| format!("{e:#}"))
        .and_then(|map| {
            let id = text(&map, "experiment_id").ok_or("its meta.yaml has no experiment_id")?;
            let name = text(&map, "name").unwrap_or_default();
            let deleted = text(&map, "lifecycle_stage").as_deref() == Some("deleted");
            Ok((id, name, deleted))
        });
    Experiment {
        dir: dir.to_path_buf(),
        meta,
    }
}

/// The run folders of an experiment folder: folders with a `meta.yaml`, sorted.
pub fn run_dirs(exp_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(exp_dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if crate::format::is_hidden(&name) || RESERVED.contains(&name.as_str()) {
            continue;
        }
        if entry.file_type()?.is_dir() && entry.path().join(META_FILE).is_file() {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// MLflow's `RunStatus` number (or name) as its name.
fn status_name(value: Option<&Value>) -> String {
    let name = match value {
        Some(Value::Number(n)) => match n.as_i64() {
            Some(1) => "RUNNING",
            Some(2) => "SCHEDULED",
            Some(3) => "FINISHED",
            Some(4) => "FAILED",
            Some(5) => "KILLED",
            _ => "RUNNING",
        },
        Some(Value::String(s)) => return s.to_ascii_uppercase(),
        // MLflow reads a missing status as RUNNING.
        _ => "RUNNING",
    };
    name.to_string()
}

/// Reads the run in folder `dir` of `experiment`.
pub fn read_run(dir: &Path, experiment: &Experiment) -> anyhow::Result<MlRun> {
    let (exp_id, exp_name, exp_deleted) = experiment.meta.clone().map_err(|why| {
        anyhow::anyhow!(
            "the experiment {} cannot be read: {why}",
            experiment.dir.display()
        )
    })?;
    let meta = read_yaml(&dir.join(META_FILE))?;
    let run_id = text(&meta, "run_id")
        .or_else(|| text(&meta, "run_uuid"))
        .context("its meta.yaml has no run_id")?;
    let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    if folder.as_deref() != Some(run_id.as_str()) {
        bail!("its meta.yaml names run {run_id}, not the folder's");
    }
    let artifact_uri = text(&meta, "artifact_uri").filter(|s| !s.is_empty());
    let own = dir.join("artifacts");
    let artifacts = if own.is_dir() {
        Some(own)
    } else {
        artifact_uri
            .as_deref()
            .and_then(|uri| super::mlflow::local_artifacts(uri, dir))
    };
    let mut run = MlRun {
        run_id,
        experiment_id: exp_id,
        experiment_name: exp_name,
        run_name: text(&meta, "run_name").filter(|s| !s.is_empty()),
        user: text(&meta, "user_id").filter(|s| !s.is_empty()),
        status: status_name(meta.get("status")),
        start_ms: millis(&meta, "start_time"),
        end_ms: millis(&meta, "end_time"),
        deleted: exp_deleted || text(&meta, "lifecycle_stage").as_deref() == Some("deleted"),
        artifact_uri,
        artifacts,
        ..MlRun::default()
    };
    run.params = read_values(&dir.join("params"))?;
    run.tags = read_values(&dir.join("tags"))?;
    let metrics = dir.join("metrics");
    for (key, path) in files_under(&metrics)? {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let index = run.key_index(&key);
        let (points, skipped) = parse_metric_file(&bytes, index, &format!("metrics/{key}"));
        run.points.extend(points);
        run.skipped.extend(skipped);
    }
    Ok(run)
}

/// The files under `dir` by their `/`-separated path (MLflow's key), sorted; none if no folder.
fn files_under(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    Ok(super::mlflow::artifact_files(dir)?
        .into_iter()
        .map(|f| (f.rel, f.path))
        .collect())
}

/// `params/` or `tags/`: each file's whole text is its value.
fn read_values(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (key, path) in files_under(dir)? {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        out.push((key, String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(out)
}

/// The points of one metric file, and its lines that do not parse. A line is MLflow's
/// `timestamp value [step [dataset_name dataset_digest]]` separated by single spaces (a missing
/// step is 0); blank lines are passed over.
pub fn parse_metric_file(bytes: &[u8], key: u32, name: &str) -> (Vec<Point>, Vec<Skipped>) {
    let mut points = Vec::new();
    let mut skipped = Vec::new();
    let mut offset = 0u64;
    for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let at = offset;
        offset += line.len() as u64 + 1;
        let text = String::from_utf8_lossy(line);
        if text.trim().is_empty() {
            continue;
        }
        match parse_metric_line(&text) {
            Ok((timestamp_ms, value, step)) => points.push(Point {
                key,
                step,
                timestamp_ms,
                value,
            }),
            Err(why) => skipped.push(Skipped {
                offset: at,
                why: format!("{name} line {} ({why})", number + 1),
            }),
        }
    }
    (points, skipped)
}

/// One line of a metric file: `(timestamp_ms, value, step)`.
pub fn parse_metric_line(line: &str) -> Result<(i64, f64, i64), String> {
    let parts: Vec<&str> = line.trim().split(' ').collect();
    if !matches!(parts.len(), 2 | 3 | 5) {
        return Err(format!("{} fields, not 2, 3 or 5", parts.len()));
    }
    let timestamp = parts[0]
        .parse::<i64>()
        .map_err(|_| format!("timestamp '{}' is not an integer", parts[0]))?;
    let value = parse_python_float(parts[1])
        .ok_or_else(|| format!("value '{}' is not a number", parts[1]))?;
    // MLflow writes the step third; its reader takes 0 for five fields, which loses the step
    // its writer wrote, so the step written is kept.
    let step = match parts.get(2) {
        Some(step) => step
            .parse::<i64>()
            .map_err(|_| format!("step '{step}' is not an integer"))?,
        None => 0,
    };
    Ok((timestamp, value, step))
}

/// A float as Python's `float()` reads MLflow's `str(value)`: decimals and `nan`, `inf`,
/// `-inf`, `infinity` in any case.
fn parse_python_float(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    let (sign, rest) = match lower.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, lower.strip_prefix('+').unwrap_or(&lower)),
    };
    match rest {
        "nan" => return Some(f64::NAN),
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        _ => {}
    }
    // Rust's parser also takes these words; anything else must start like a number.
    if !rest.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_lines_parse_as_mlflow_writes_them() {
        assert_eq!(
            parse_metric_line("1796480703706 1.0 0"),
            Ok((1796480703706, 1.0, 0))
        );
        assert_eq!(parse_metric_line("5 0.5"), Ok((5, 0.5, 0)));
        assert_eq!(parse_metric_line("5 2e-07 12\n"), Ok((5, 2e-7, 12)));
        assert_eq!(
            parse_metric_line("5 0.25 7 eval_ds 1a2b3c"),
            Ok((5, 0.25, 7))
        );
        let (_, v, _) = parse_metric_line("5 nan 1").unwrap();
        assert!(v.is_nan());
        assert_eq!(parse_metric_line("5 -inf 1"), Ok((5, f64::NEG_INFINITY, 1)));
        assert_eq!(parse_metric_line("5 inf 1"), Ok((5, f64::INFINITY, 1)));
        assert_eq!(parse_metric_line("5 1.0 -3"), Ok((5, 1.0, -3)));
        assert!(parse_metric_line("5 1.0 2 3").is_err());
        assert!(parse_metric_line("5  1.0 2").is_err());
        assert!(parse_metric_line("x 1.0 2").is_err());
        assert!(parse_metric_line("5 abc 2").is_err());
        assert!(parse_metric_line("5 1.0 2.5").is_err());
        assert!(parse_metric_line("5").is_err());
    }

    #[test]
    fn a_damaged_line_is_skipped_and_the_rest_kept() {
        let file = b"1 0.5 0\ngarbage here\n\n3 0.25 2\n4 0.1";
        let (points, skipped) = parse_metric_file(file, 7, "metrics/loss");
        assert_eq!(points.len(), 3);
        assert_eq!(points[2].value, 0.1);
        assert!(points.iter().all(|p| p.key == 7));
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].offset, 8);
        assert!(skipped[0].why.starts_with("metrics/loss line 2"));
    }

    #[test]
    fn runs_read_from_folders() {
        let dir = tempfile::tempdir().unwrap();
        let exp = dir.path().join("7");
        std::fs::create_dir_all(exp.join("r1/metrics/train")).unwrap();
        std::fs::create_dir_all(exp.join("r1/params")).unwrap();
        std::fs::create_dir_all(exp.join("r1/tags")).unwrap();
        std::fs::create_dir_all(exp.join("tags")).unwrap();
        std::fs::write(exp.join("meta.yaml"), "experiment_id: '7'\nname: exp\n").unwrap();
        std::fs::write(
            exp.join("r1/meta.yaml"),
            "run_id: r1\nstatus: 4\nstart_time: 10\nend_time: null\nlifecycle_stage: active\n",
        )
        .unwrap();
        std::fs::write(exp.join("r1/metrics/train/acc"), "1 0.5 3\n").unwrap();
        std::fs::write(exp.join("r1/params/lr"), "0.01").unwrap();
        std::fs::write(exp.join("r1/tags/mlflow.runName"), "first").unwrap();
        assert_eq!(run_dirs(&exp).unwrap(), vec![exp.join("r1")]);
        assert_eq!(meta_kind(&exp.join("meta.yaml")), MetaKind::Experiment);
        assert_eq!(meta_kind(&exp.join("r1/meta.yaml")), MetaKind::Run);
        let run = read_run(&exp.join("r1"), &read_experiment(&exp)).unwrap();
        assert_eq!(run.status, "FAILED");
        assert_eq!((run.start_ms, run.end_ms), (Some(10), None));
        assert_eq!(run.keys, ["train/acc"]);
        assert_eq!(run.points[0].step, 3);
        assert_eq!(run.params, [("lr".to_string(), "0.01".to_string())]);
        assert_eq!(run.tag("mlflow.runName"), Some("first"));
        assert_eq!(run.experiment_name, "exp");
    }
}
